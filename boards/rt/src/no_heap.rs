//! The allocator of an image without a heap.
//!
//! `pnv-iommu` is `no_std` with `alloc` (its TCE tables live on the
//! firmware's heap), so every image that links it, through this crate or
//! directly, links `alloc` and must name a global allocator even if it never
//! allocates. Such an image (the PAPR guest) declares
//! `#[global_allocator] static HEAP: NoHeap = NoHeap;`: every allocation
//! fails, and `alloc`'s error handler then panics, so an allocation that
//! crept in is reported as a failure instead of corrupting memory.
#![deny(unsafe_op_in_unsafe_fn)]

use core::alloc::{GlobalAlloc, Layout};

/// A global allocator that has no memory: every allocation fails.
#[derive(Clone, Copy, Debug)]
pub struct NoHeap;

// SAFETY: `alloc` always reports failure (null), which the `GlobalAlloc`
// contract allows; no block is ever handed out, so `dealloc` is never given
// one of ours and has nothing to free.
unsafe impl GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allocation_fails() {
        let layout = Layout::from_size_align(16, 8).unwrap();
        // SAFETY: `layout` has a non-zero size, as `alloc` requires.
        let p = unsafe { NoHeap.alloc(layout) };
        assert!(p.is_null());
    }
}
