//! Page allocation for memory the PHB reads (TCE levels, the PHB4 RTT, PELT-V and PEST).
//!
//! A [`PageAllocator`] hands out zeroed blocks of `1 << size_shift` bytes,
//! naturally aligned to their size, named by their physical address. The
//! firmware runs in hypervisor real mode, where a physical address is also the
//! address the CPU uses; on the host the heap address stands in for the physical
//! address. Either way, "phys == address" is the contract that lets the TCE
//! code reach the memory it programs into the hardware.
//!
//! [`GlobalPages`] takes blocks from the global heap (`alloc`), which serves the
//! firmware pool on target and the std heap on the host. `CountingPages`
//! (host only) wraps it with the book-keeping tests need: live blocks, double
//! free detection and injected allocation failure.

use core::alloc::Layout;

/// The smallest block a [`PageAllocator`] must support: 4 KiB.
pub const MIN_BLOCK_SHIFT: u32 = 12;

/// The allocator could not provide the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AllocError {
    /// Out of memory (or an injected failure in tests).
    NoMemory,
    /// The block size is not supported (below 4 KiB or too large for the address space).
    BadSize,
}

/// A source of zeroed, naturally aligned physical blocks.
///
/// # Safety
///
/// Implementors promise that a successful [`alloc_zeroed`](Self::alloc_zeroed)
/// returns the address `phys` of a block of `1 << size_shift` bytes that:
/// - is readable and writable by the CPU at address `phys` (real mode on
///   target, the heap pointer on the host), and holds only zero bytes;
/// - is aligned to `1 << size_shift`;
/// - belongs to the caller alone until it is passed back to
///   [`free`](Self::free) (no other allocation overlaps it).
///
/// The TCE table relies on these promises to treat the block as an array of
/// `AtomicU64` without further checks.
pub unsafe trait PageAllocator {
    /// Allocates a zeroed block of `1 << size_shift` bytes aligned to its size.
    fn alloc_zeroed(&self, size_shift: u32) -> Result<u64, AllocError>;

    /// Returns a block to the allocator.
    ///
    /// # Safety
    ///
    /// `phys` must have been returned by `alloc_zeroed(size_shift)` on this
    /// allocator with the same `size_shift`, must not have been freed since, and
    /// no reference into the block may be used after this call.
    unsafe fn free(&self, phys: u64, size_shift: u32);
}

// SAFETY: forwards to `A`, which upholds the contract.
unsafe impl<A: PageAllocator + ?Sized> PageAllocator for &A {
    fn alloc_zeroed(&self, size_shift: u32) -> Result<u64, AllocError> {
        (**self).alloc_zeroed(size_shift)
    }

    unsafe fn free(&self, phys: u64, size_shift: u32) {
        // SAFETY: the caller's promise is passed on unchanged.
        unsafe { (**self).free(phys, size_shift) }
    }
}

/// Blocks from the global heap (`alloc::alloc`), addressed by their pointer value.
///
/// Correct wherever the heap is identity mapped: the firmware in real mode, and
/// the host (where "phys" is simply the heap address).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalPages;

impl GlobalPages {
    fn layout(size_shift: u32) -> Result<Layout, AllocError> {
        if !(MIN_BLOCK_SHIFT..usize::BITS - 1).contains(&size_shift) {
            return Err(AllocError::BadSize);
        }
        let size = 1usize << size_shift;
        Layout::from_size_align(size, size).map_err(|_| AllocError::BadSize)
    }
}

// SAFETY: blocks come from `alloc_zeroed` with a layout whose alignment equals
// its size; the global allocator returns exclusive, zeroed memory, and the heap
// is identity mapped (see the type's documentation), so the pointer value is
// the block's physical address.
unsafe impl PageAllocator for GlobalPages {
    fn alloc_zeroed(&self, size_shift: u32) -> Result<u64, AllocError> {
        let layout = Self::layout(size_shift)?;
        // SAFETY: `layout` has a non-zero size (at least 4 KiB).
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            Err(AllocError::NoMemory)
        } else {
            Ok(ptr as usize as u64)
        }
    }

    unsafe fn free(&self, phys: u64, size_shift: u32) {
        let Ok(layout) = Self::layout(size_shift) else {
            return;
        };
        // SAFETY: per the caller's promise, `phys` came from `alloc_zeroed` with
        // this same layout and has not been freed.
        unsafe { alloc::alloc::dealloc(phys as usize as *mut u8, layout) }
    }
}

#[cfg(any(test, feature = "std"))]
pub use counting::{CountingPages, PageStats};

#[cfg(any(test, feature = "std"))]
mod counting {
    use super::{AllocError, GlobalPages, PageAllocator};
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Counters of a [`CountingPages`].
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct PageStats {
        /// Successful allocations so far.
        pub allocs: u64,
        /// Frees so far.
        pub frees: u64,
        /// Blocks allocated and not yet freed.
        pub live_blocks: u64,
        /// Bytes allocated and not yet freed.
        pub live_bytes: u64,
    }

    #[derive(Default)]
    struct State {
        stats: PageStats,
        live: BTreeMap<u64, u32>,
        /// Allocations still allowed before failures are injected.
        budget: Option<u64>,
    }

    /// A host allocator that counts blocks, catches double or mismatched
    /// frees (it panics), and can be told to fail.
    #[derive(Default)]
    pub struct CountingPages {
        state: Mutex<State>,
    }

    impl CountingPages {
        /// A new allocator with no failures injected.
        pub fn new() -> Self {
            Self::default()
        }

        /// After `n` more successful allocations every allocation fails;
        /// `None` removes the limit.
        pub fn fail_after(&self, n: Option<u64>) {
            self.lock().budget = n;
        }

        /// Current counters.
        pub fn stats(&self) -> PageStats {
            self.lock().stats
        }

        /// Physical addresses and size shifts of the live blocks.
        pub fn live(&self) -> Vec<(u64, u32)> {
            self.lock().live.iter().map(|(&p, &s)| (p, s)).collect()
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    // SAFETY: every block comes from `GlobalPages`, which upholds the contract;
    // this wrapper only counts.
    unsafe impl PageAllocator for CountingPages {
        fn alloc_zeroed(&self, size_shift: u32) -> Result<u64, AllocError> {
            let mut state = self.lock();
            if let Some(budget) = state.budget.as_mut() {
                if *budget == 0 {
                    return Err(AllocError::NoMemory);
                }
                *budget -= 1;
            }
            let phys = GlobalPages.alloc_zeroed(size_shift)?;
            state.stats.allocs += 1;
            state.stats.live_blocks += 1;
            state.stats.live_bytes += 1 << size_shift;
            state.live.insert(phys, size_shift);
            Ok(phys)
        }

        unsafe fn free(&self, phys: u64, size_shift: u32) {
            let mut state = self.lock();
            match state.live.remove(&phys) {
                Some(shift) if shift == size_shift => {}
                Some(shift) => panic!("block {phys:#x} freed with shift {size_shift}, not {shift}"),
                None => panic!("double free or foreign free of block {phys:#x}"),
            }
            state.stats.frees += 1;
            state.stats.live_blocks -= 1;
            state.stats.live_bytes -= 1 << size_shift;
            drop(state);
            // SAFETY: the block was live in our map (so it came from
            // `GlobalPages` with this shift and was not freed), and the caller
            // promises no reference into it remains.
            unsafe { GlobalPages.free(phys, size_shift) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_zeroed_and_aligned() {
        let pages = CountingPages::new();
        for shift in [12, 13, 16, 21] {
            let phys = pages.alloc_zeroed(shift).unwrap();
            assert_eq!(phys % (1 << shift), 0);
            // SAFETY: test only; the block is live.
            unsafe { pages.free(phys, shift) };
        }
        assert_eq!(pages.stats().live_blocks, 0);
        assert_eq!(pages.stats().allocs, 4);
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert_eq!(GlobalPages.alloc_zeroed(11), Err(AllocError::BadSize));
        assert_eq!(GlobalPages.alloc_zeroed(64), Err(AllocError::BadSize));
    }

    #[test]
    fn injected_failure() {
        let pages = CountingPages::new();
        pages.fail_after(Some(1));
        let a = pages.alloc_zeroed(12).unwrap();
        assert_eq!(pages.alloc_zeroed(12), Err(AllocError::NoMemory));
        pages.fail_after(None);
        // SAFETY: test only; the block is live.
        unsafe { pages.free(a, 12) };
        assert_eq!(pages.stats().live_bytes, 0);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_is_caught() {
        let pages = CountingPages::new();
        let a = pages.alloc_zeroed(12).unwrap();
        // SAFETY: test only; the first free is valid, the second is the bug
        // under test and is caught before reaching the heap.
        unsafe {
            pages.free(a, 12);
            pages.free(a, 12);
        }
    }
}
