//! Memory the PHB reads by DMA (RTT, PELTV, PEST): blocks from the crate's
//! one allocator for device-read memory,
//! [`crate::page_alloc::PageAllocator`] (the TCE levels come
//! from it too), and the one place where the driver dereferences them.
//!
//! The firmware runs in real mode, so a block's physical address is also the
//! address the CPU uses; host tests run on ordinary heap memory whose address
//! the fake PHB never dereferences. [`DmaRegion`] is the only type that turns
//! such an address into a pointer; every access is a volatile one through
//! the `volatile` crate (the PHB reads this memory behind the compiler's
//! back), bounds- and alignment-checked.

use crate::page_alloc::{AllocError, PageAllocator};
use alloc::boxed::Box;
use core::ptr::NonNull;
use volatile::VolatilePtr;

/// The allocator a region gives its block back to.
type Owner = Box<dyn PageAllocator + Send>;

/// A naturally aligned block owned by the driver and shared with the PHB;
/// returned to its allocator when dropped.
pub struct DmaRegion {
    addr: u64,
    size_shift: u32,
    owner: Owner,
}

impl core::fmt::Debug for DmaRegion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DmaRegion({:#x}+{:#x})", self.addr, self.size())
    }
}

impl DmaRegion {
    /// A zeroed block of `1 << size_shift` bytes, aligned to its size, from
    /// `pages`.
    pub fn alloc<A>(pages: &A, size_shift: u32) -> Result<DmaRegion, AllocError>
    where
        A: PageAllocator + Clone + Send + 'static,
    {
        let addr = pages.alloc_zeroed(size_shift)?;
        Ok(DmaRegion {
            addr,
            size_shift,
            owner: Box::new(pages.clone()),
        })
    }

    /// Physical (and CPU) address of the first byte.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        1 << self.size_shift
    }

    /// A volatile pointer to the `T` at `offset`, checked to lie inside the
    /// block and to be aligned for `T`.
    fn at<T: Copy>(&self, offset: u64) -> VolatilePtr<'_, T> {
        let end = offset.checked_add(core::mem::size_of::<T>() as u64);
        assert!(
            end.is_some_and(|e| e <= self.size())
                && offset.is_multiple_of(core::mem::align_of::<T>() as u64),
            "DmaRegion access out of bounds"
        );
        let ptr = (self.addr + offset) as usize as *mut T;
        // SAFETY:
        // - the block is `[addr, addr + size)`, readable and writable at the
        //   CPU address `addr` and owned by this region alone until it is
        //   dropped (`PageAllocator`'s contract, which `alloc` relied on);
        // - the check above keeps `[offset, offset + size_of::<T>())` inside
        //   it and aligned for `T` (the block itself is aligned to its size,
        //   at least 4 KiB), so `ptr` is non-null and valid for `T`;
        // - the pointer borrows `self`, so it cannot outlive the block.
        unsafe { VolatilePtr::new(NonNull::new_unchecked(ptr)) }
    }

    /// Reads the big-endian u16 at `offset`.
    pub fn read_be16(&self, offset: u64) -> u16 {
        u16::from_be(self.at::<u16>(offset).read())
    }

    /// Writes the big-endian u16 at `offset`.
    pub fn write_be16(&mut self, offset: u64, value: u16) {
        self.at::<u16>(offset).write(value.to_be())
    }

    /// Reads the big-endian u64 at `offset`.
    pub fn read_be64(&self, offset: u64) -> u64 {
        u64::from_be(self.at::<u64>(offset).read())
    }

    /// Writes the big-endian u64 at `offset`.
    pub fn write_be64(&mut self, offset: u64, value: u64) {
        self.at::<u64>(offset).write(value.to_be())
    }

    /// Sets every byte to zero.
    pub fn zero(&mut self) {
        for off in (0..self.size()).step_by(8) {
            self.write_be64(off, 0);
        }
    }
}

impl Drop for DmaRegion {
    fn drop(&mut self) {
        // SAFETY: `addr` came from `alloc_zeroed(size_shift)` on this
        // allocator (a clone of it, `PageAllocator` blocks belong to the
        // allocator, not the handle), is freed once (here), and no pointer
        // into it outlives `self` (`at` borrows `self`).
        unsafe { self.owner.free(self.addr, self.size_shift) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page_alloc::GlobalPages;

    #[test]
    fn big_endian_accesses_inside_the_block() {
        let mut r = DmaRegion::alloc(&GlobalPages, 12).unwrap();
        assert_eq!(r.size(), 4096);
        assert_eq!(r.addr() % 4096, 0);
        assert_eq!(r.read_be64(0), 0);
        r.write_be16(2, 0x1234);
        assert_eq!(r.read_be64(0), 0x0000_1234_0000_0000);
        r.write_be64(4088, u64::MAX);
        assert_eq!(r.read_be16(4094), 0xffff);
        r.zero();
        assert_eq!(r.read_be64(4088), 0);
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn an_access_past_the_end_panics() {
        let r = DmaRegion::alloc(&GlobalPages, 12).unwrap();
        r.read_be64(4092);
    }
}
