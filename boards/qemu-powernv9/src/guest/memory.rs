//! A guest's RAM as the hypervisor reaches it: guest real (logical)
//! addresses `[0, size)` backed by one host block, every access
//! bounds-checked against it.
//!
//! The only obligation is taken once, by the `unsafe` constructor: the host
//! block is RAM given to this guest and nothing else. Every accessor is
//! then safe: an address outside the guest's RAM (or a length that wraps) is
//! refused, never dereferenced.

/// One guest's RAM: logical 0.. `size`, at host `host`.
#[derive(Clone, Copy, Debug)]
pub struct GuestRam {
    host: u64,
    size: u64,
}

impl GuestRam {
    /// The guest RAM `[0, size)` backed by host `[host, host + size)`.
    ///
    /// # Safety
    ///
    /// `[host, host + size)` is RAM (the hypervisor runs in real mode, so a
    /// host address is a physical one) that belongs to this guest only: no
    /// Rust reference, allocator or device the hypervisor drives covers it,
    /// and it stays so for as long as the returned value (or a copy) is
    /// used. The guest itself may change it at any time it runs; accesses
    /// are volatile.
    pub const unsafe fn new(host: u64, size: u64) -> Self {
        GuestRam { host, size }
    }

    /// Host address of the block.
    pub fn host_base(&self) -> u64 {
        self.host
    }

    /// Host address of logical `[la, la + len)`, if it lies in the RAM.
    pub fn host_range(&self, la: u64, len: u64) -> Option<u64> {
        let end = la.checked_add(len)?;
        (end <= self.size).then_some(self.host + la)
    }

    /// The byte at logical `la`.
    pub fn read_u8(&self, la: u64) -> Option<u8> {
        let host = self.host_range(la, 1)?;
        // SAFETY: as in `read_be_u32`.
        Some(unsafe { core::ptr::read_volatile(host as *const u8) })
    }

    /// The big-endian word at logical `la` (4-byte aligned, inside the RAM).
    pub fn read_be_u32(&self, la: u64) -> Option<u32> {
        let host = self.host_range(la, 4).filter(|h| h % 4 == 0)?;
        // SAFETY: inside this guest's block (checked above; `new`'s contract
        // makes the whole block readable and unaliased), aligned.
        Some(u32::from_be(unsafe {
            core::ptr::read_volatile(host as *const u32)
        }))
    }

    /// Writes the big-endian word `v` at logical `la`; false if `la` is not
    /// 4-byte aligned or not inside the RAM (nothing written).
    pub fn write_be_u32(&self, la: u64, v: u32) -> bool {
        let Some(host) = self.host_range(la, 4).filter(|h| h % 4 == 0) else {
            return false;
        };
        // SAFETY: as in `read_be_u32`.
        unsafe { core::ptr::write_volatile(host as *mut u32, v.to_be()) };
        true
    }

    /// The 64-bit word at logical `la`, in memory (big-endian) order.
    pub fn read_be_u64(&self, la: u64) -> Option<u64> {
        let host = self.host_range(la, 8).filter(|h| h % 8 == 0)?;
        // SAFETY: as in `read_be_u32`.
        Some(u64::from_be(unsafe {
            core::ptr::read_volatile(host as *const u64)
        }))
    }

    /// Copies `bytes` to logical `la`; false (nothing written) if the range
    /// is not inside the RAM.
    pub fn write_bytes(&self, la: u64, bytes: &[u8]) -> bool {
        let Some(host) = self.host_range(la, bytes.len() as u64) else {
            return false;
        };
        // SAFETY: the destination lies inside this guest's block (checked
        // above), which no Rust reference covers (`new`); the source is a
        // Rust slice, so it cannot overlap it.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), host as *mut u8, bytes.len()) };
        true
    }

    /// Fills logical `[la, la + len)` with `byte`; false if outside the RAM.
    pub fn fill(&self, la: u64, len: u64, byte: u8) -> bool {
        let Some(host) = self.host_range(la, len) else {
            return false;
        };
        // SAFETY: inside this guest's block (checked above).
        unsafe { core::ptr::write_bytes(host as *mut u8, byte, len as usize) };
        true
    }
}
