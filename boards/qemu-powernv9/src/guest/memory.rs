//! A guest's RAM as the hypervisor reaches it: guest real (logical)
//! addresses `[0, size)` backed by one host block, every access
//! bounds-checked against it.
//!
//! The block is a [`PhysRange`] of the board's memory map (heap.rs), where
//! the one obligation (RAM that no Rust object covers) is argued; every
//! accessor here is safe: an address outside the guest's RAM (or a length
//! that wraps) is refused, never dereferenced.

use pnv_rt::phys::PhysRange;

/// One guest's RAM: logical 0.. its size, at the host block `range`.
#[derive(Clone, Copy, Debug)]
pub struct GuestRam {
    range: PhysRange,
}

impl GuestRam {
    /// The guest RAM `[0, range.len())` backed by `range` (a block of the
    /// memory map set aside for this guest; the guest may change it at any
    /// time it runs, and every access is volatile or a bulk copy).
    pub const fn new(range: PhysRange) -> Self {
        GuestRam { range }
    }

    /// Host address of the block.
    pub fn host_base(&self) -> u64 {
        self.range.base()
    }

    /// Size of the RAM in bytes.
    pub fn size(&self) -> u64 {
        self.range.len()
    }

    /// Host address of logical `[la, la + len)`, if it lies in the RAM.
    pub fn host_range(&self, la: u64, len: u64) -> Option<u64> {
        self.range.sub(la, len).map(|r| r.base())
    }

    /// Logical `[la, la + len)` if it lies in the RAM and `la` is a
    /// multiple of `align`.
    fn span(&self, la: u64, len: u64, align: u64) -> Option<PhysRange> {
        self.range.sub(la, len).filter(|_| la.is_multiple_of(align))
    }

    /// The byte at logical `la`.
    pub fn read_u8(&self, la: u64) -> Option<u8> {
        Some(self.span(la, 1, 1)?.read_u8(0))
    }

    /// The big-endian word at logical `la` (4-byte aligned, inside the RAM).
    pub fn read_be_u32(&self, la: u64) -> Option<u32> {
        Some(self.span(la, 4, 4)?.read_be32(0))
    }

    /// Writes the big-endian word `v` at logical `la`; false if `la` is not
    /// 4-byte aligned or not inside the RAM (nothing written).
    pub fn write_be_u32(&self, la: u64, v: u32) -> bool {
        self.span(la, 4, 4).map(|r| r.write_be32(0, v)).is_some()
    }

    /// The 64-bit word at logical `la`, in memory (big-endian) order.
    pub fn read_be_u64(&self, la: u64) -> Option<u64> {
        Some(self.span(la, 8, 8)?.read_be64(0))
    }

    /// Copies `bytes` to logical `la`; false (nothing written) if the range
    /// is not inside the RAM.
    pub fn write_bytes(&self, la: u64, bytes: &[u8]) -> bool {
        self.span(la, bytes.len() as u64, 1)
            .map(|r| r.write_bytes(0, bytes))
            .is_some()
    }

    /// Fills logical `[la, la + len)` with `byte`; false if outside the RAM.
    pub fn fill(&self, la: u64, len: u64, byte: u8) -> bool {
        self.span(la, len, 1)
            .map(|r| r.fill(0, len, byte))
            .is_some()
    }

    /// Copies `len` bytes at offset `offset` of `src` to logical `la`;
    /// false (nothing copied) if either span is outside its range.
    pub fn copy_from(&self, la: u64, src: &PhysRange, offset: u64, len: u64) -> bool {
        match (self.span(la, len, 1), src.sub(offset, len)) {
            (Some(dst), Some(src)) => {
                src.copy_to(0, &dst, 0, len);
                true
            }
            _ => false,
        }
    }
}
