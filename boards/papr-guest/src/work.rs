//! The work area: guest memory shared with the hypervisor (RTAS argument
//! buffer, TCE lists) and with the device (DMA buffers, TCE targets).
//!
//! It is a 1 MiB NOLOAD section of the image (linker/papr-guest.ld), 64 KiB
//! aligned, that no Rust object lives in. The guest runs in real mode with
//! the image at guest real 0, so a pointer into it is its guest real
//! address. Every access is volatile, because the hypervisor and the device
//! read and write it behind the compiler's back.

/// Base page size of the work area's layout.
pub const PAGE: u64 = 0x1000;

/// The regions of the work area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// RTAS argument buffer (one page).
    Rtas,
    /// A TCE list for H_PUT_TCE_INDIRECT (one page, 512 entries).
    TceList,
    /// Pages TCEs point at in the hypercall cases (64 KiB).
    Targets,
    /// DMA source buffer (64 KiB, 64 KiB aligned).
    DmaSrc,
    /// DMA destination buffer (64 KiB, 64 KiB aligned).
    DmaDst,
}

impl Region {
    const fn offset(self) -> u64 {
        match self {
            Region::Rtas => 0,
            Region::TceList => PAGE,
            Region::Targets => 0x1_0000,
            Region::DmaSrc => 0x2_0000,
            Region::DmaDst => 0x3_0000,
        }
    }

    /// Size of the region in bytes.
    pub const fn size(self) -> u64 {
        match self {
            Region::Rtas | Region::TceList => PAGE,
            Region::Targets | Region::DmaSrc | Region::DmaDst => 0x1_0000,
        }
    }

    /// Guest real address of byte `off` of the region.
    pub fn addr(self, off: u64) -> u64 {
        work_start() + self.offset() + off
    }
}

unsafe extern "C" {
    /// Start of the work area (linker script).
    static __work_start: u8;
}

fn work_start() -> u64 {
    core::ptr::addr_of!(__work_start) as u64
}

/// The pointer to `width` bytes at `off` in `r`; a range past the region is
/// a bug in the suite, not a hypervisor answer, and panics.
fn ptr(r: Region, off: u64, width: u64) -> *mut u8 {
    assert!(
        off.is_multiple_of(width) && off.checked_add(width).is_some_and(|e| e <= r.size()),
        "work area access out of range"
    );
    r.addr(off) as *mut u8
}

/// Writes a big-endian u64 at `off` in `r`.
pub fn write64(r: Region, off: u64, v: u64) {
    // SAFETY: `ptr` bounds the access to the work area, which no Rust object
    // occupies; it is 8-byte aligned (checked) and mapped (guest RAM, real
    // mode). The target is big-endian, so a native store is big-endian.
    unsafe { core::ptr::write_volatile(ptr(r, off, 8).cast::<u64>(), v) }
}

/// Writes a big-endian u32 at `off` in `r`.
pub fn write32(r: Region, off: u64, v: u32) {
    // SAFETY: as in `write64`, for a 4-byte aligned access.
    unsafe { core::ptr::write_volatile(ptr(r, off, 4).cast::<u32>(), v) }
}

/// Reads a big-endian u32 at `off` in `r`.
pub fn read32(r: Region, off: u64) -> u32 {
    // SAFETY: as in `write32`.
    unsafe { core::ptr::read_volatile(ptr(r, off, 4).cast::<u32>()) }
}

/// Writes byte `off` of `r`.
pub fn write8(r: Region, off: u64, v: u8) {
    // SAFETY: as in `write64`, for one byte.
    unsafe { core::ptr::write_volatile(ptr(r, off, 1), v) }
}

/// Reads byte `off` of `r`.
pub fn read8(r: Region, off: u64) -> u8 {
    // SAFETY: as in `write8`.
    unsafe { core::ptr::read_volatile(ptr(r, off, 1)) }
}

/// Fills `len` bytes of `r` from `off` with `f(i)`.
pub fn fill(r: Region, off: u64, len: u64, f: impl Fn(u64) -> u8) {
    for i in 0..len {
        write8(r, off + i, f(i));
    }
}

/// The first index in `0..len` where `r` at `off + i` differs from `f(i)`.
pub fn mismatch(r: Region, off: u64, len: u64, f: impl Fn(u64) -> u8) -> Option<u64> {
    (0..len).find(|&i| read8(r, off + i) != f(i))
}
