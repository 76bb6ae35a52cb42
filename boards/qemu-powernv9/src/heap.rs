//! The firmware heap, and the fixed memory map of the firmware:
//!
//! | range (physical)          | use                                          |
//! |---------------------------|----------------------------------------------|
//! | 0 .. 16 MiB               | image, vectors, stacks (linker/powernv.ld)   |
//! | 16 .. 17 MiB              | QEMU's device tree                           |
//! | 32 .. 256 MiB             | heap: TCE tables, RTT/PEST/PELT-V, ...       |
//! | 256 MiB (one page)        | sentinel page of the PAPR isolation check    |
//! | 512 .. 768 MiB            | DMA target pages of the scenarios (ram.rs)   |
//! | 768 MiB .. 1 GiB          | what QEMU's loader put there: papr-guest's   |
//! |                           | partition RAM, or linux-guest's bundle       |
//! | 1 GiB .. 1.5 GiB          | linux-guest's partition RAM (QEMU -m 2G)     |
//! | 1.5 GiB (one page)        | linux-guest's isolation sentinel page        |

use linked_list_allocator::LockedHeap;

/// Heap: 32 MiB .. 256 MiB (clear of the image and of QEMU's device tree at
/// 16 MiB). TCE tables, RTTs and other PHB tables come from here.
pub const HEAP_BASE: u64 = 0x0200_0000;
/// End of the heap (exclusive).
pub const HEAP_END: u64 = 0x1000_0000;
/// RAM the firmware needs in all (heap plus the scenario pages above it).
pub const RAM_NEEDED: u64 = 0x4000_0000;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// Hands the heap range to the allocator. Called once, before any allocation.
pub fn init() {
    // SAFETY: HEAP_BASE..HEAP_END is RAM (QEMU powernv has at least 1 GiB at
    // 0; checked against the device tree right after), used by nothing else:
    // the image and its stacks end below 16 MiB and the device tree occupies
    // 16..17 MiB. `init` runs once, before the first allocation.
    unsafe {
        HEAP.lock()
            .init(HEAP_BASE as *mut u8, (HEAP_END - HEAP_BASE) as usize);
    }
}

/// Bytes of the heap in use now.
pub fn used() -> usize {
    HEAP.lock().used()
}
