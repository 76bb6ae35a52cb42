//! Memory the PHB reads by DMA (RTT, PELTV, PEST): where it comes from and the
//! one place where the driver dereferences it.
//!
//! The firmware runs in real mode, so a table's physical address is also the
//! address the CPU uses; host tests run on ordinary heap memory whose address
//! the fake PHB never dereferences. [`DmaRegion`] is the only type that turns
//! an address into a pointer, and its constructor carries the contract.

use core::alloc::Layout;

/// A block of memory owned by the driver and shared with the PHB.
pub struct DmaRegion {
    addr: u64,
    size: u64,
    align: u64,
    release: Option<unsafe fn(u64, u64, u64)>,
}

impl core::fmt::Debug for DmaRegion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DmaRegion({:#x}+{:#x})", self.addr, self.size)
    }
}

// SAFETY: the region is exclusively owned (constructor contract) and all
// accesses go through `&self`/`&mut self` methods using volatile accesses;
// nothing ties it to a thread.
unsafe impl Send for DmaRegion {}

impl DmaRegion {
    /// Wraps `size` bytes at `addr`, aligned to `align`.
    ///
    /// # Safety
    /// - `[addr, addr + size)` is memory, readable and writable at the CPU
    ///   address `addr`, and no other Rust object refers to it until the
    ///   region is dropped;
    /// - `addr` is a multiple of `align` and `size` is a multiple of 8;
    /// - `release`, if given, may be called once with `(addr, size, align)`
    ///   when the region is dropped, and returns the memory to its owner.
    pub unsafe fn new(
        addr: u64,
        size: u64,
        align: u64,
        release: Option<unsafe fn(u64, u64, u64)>,
    ) -> DmaRegion {
        DmaRegion {
            addr,
            size,
            align,
            release,
        }
    }

    /// Physical (and CPU) address of the first byte.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn ptr<T>(&self, offset: u64) -> *mut T {
        let end = offset.checked_add(core::mem::size_of::<T>() as u64);
        assert!(
            end.is_some_and(|e| e <= self.size)
                && offset.is_multiple_of(core::mem::align_of::<T>() as u64),
            "DmaRegion access out of bounds"
        );
        (self.addr + offset) as usize as *mut T
    }

    /// Reads the big-endian u16 at `offset`.
    pub fn read_be16(&self, offset: u64) -> u16 {
        // SAFETY: `ptr` checked the bounds and alignment; the memory is valid
        // and owned by this region (constructor contract).
        u16::from_be(unsafe { self.ptr::<u16>(offset).read_volatile() })
    }

    /// Writes the big-endian u16 at `offset`.
    pub fn write_be16(&mut self, offset: u64, value: u16) {
        // SAFETY: as for `read_be16`.
        unsafe { self.ptr::<u16>(offset).write_volatile(value.to_be()) }
    }

    /// Reads the big-endian u64 at `offset`.
    pub fn read_be64(&self, offset: u64) -> u64 {
        // SAFETY: as for `read_be16`.
        u64::from_be(unsafe { self.ptr::<u64>(offset).read_volatile() })
    }

    /// Writes the big-endian u64 at `offset`.
    pub fn write_be64(&mut self, offset: u64, value: u64) {
        // SAFETY: as for `read_be16`.
        unsafe { self.ptr::<u64>(offset).write_volatile(value.to_be()) }
    }

    /// Sets every byte to zero.
    pub fn zero(&mut self) {
        for off in (0..self.size).step_by(8) {
            self.write_be64(off, 0);
        }
    }
}

impl Drop for DmaRegion {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: the constructor's contract allows exactly this call.
            unsafe { release(self.addr, self.size, self.align) }
        }
    }
}

/// Where the driver gets memory for the tables the PHB reads.
///
/// Plug in the firmware heap here (or use [`GlobalHeap`], which asks the
/// global allocator). Returned memory must be zeroed.
pub trait PhbMemory {
    /// `size` zeroed bytes aligned to `align` (both powers of two), or `None`.
    fn alloc_zeroed(&mut self, size: u64, align: u64) -> Option<DmaRegion>;
}

/// Memory from the global allocator (the firmware heap on target), identity
/// mapped; freed when the region is dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalHeap;

unsafe fn global_release(addr: u64, size: u64, align: u64) {
    // Layout was valid when allocated with the same values.
    if let Ok(layout) = Layout::from_size_align(size as usize, align as usize) {
        // SAFETY: `addr` came from `alloc_zeroed` with this layout and is
        // released once (DmaRegion's drop).
        unsafe { alloc::alloc::dealloc(addr as usize as *mut u8, layout) }
    }
}

impl PhbMemory for GlobalHeap {
    fn alloc_zeroed(&mut self, size: u64, align: u64) -> Option<DmaRegion> {
        let layout =
            Layout::from_size_align(usize::try_from(size).ok()?, usize::try_from(align).ok()?)
                .ok()?;
        if layout.size() == 0 || !size.is_multiple_of(8) {
            return None;
        }
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: freshly allocated, zeroed, exclusively owned, aligned as
        // asked; `global_release` frees it with the same layout.
        Some(unsafe { DmaRegion::new(ptr as usize as u64, size, align, Some(global_release)) })
    }
}
