//! The firmware heap, and the fixed memory map of the firmware:
//!
//! | range (physical)          | use                                          |
//! |---------------------------|----------------------------------------------|
//! | 0 .. 16 MiB               | image, vectors, stacks (linker/powernv.ld)   |
//! | 16 .. 17 MiB              | QEMU's device tree                           |
//! | 32 .. 256 MiB             | heap: TCE tables, RTT/PEST/PELT-V, ...       |
//! | 256 MiB (one page)        | sentinel page of the PAPR isolation check    |
//! | 512 .. 768 MiB            | DMA target pages of the scenarios (ram.rs)   |
//! | 768 MiB .. 1 GiB          | guest partition RAM (loaded by QEMU)         |

use linked_list_allocator::LockedHeap;
use pnv_rt::phys::PhysRange;

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

/// Memory the scenarios reach by physical address, which no Rust object
/// covers (the heap ends below it): the sentinel page of the PAPR isolation
/// check, the DMA target pool, and the guest partition's block.
const SCENARIO_MEMORY: [PhysRange; 3] = [
    // SAFETY (all three): RAM (the firmware needs 1 GiB, checked against
    // the device tree at boot) outside the image, the device tree and the
    // heap (see the table above), used only through these ranges (and by
    // devices and guests).
    unsafe { PhysRange::new(HEAP_END, 0x1000) },
    unsafe { PhysRange::new(DMA_POOL_BASE, DMA_POOL_END - DMA_POOL_BASE) },
    unsafe {
        PhysRange::new(
            pnv_contract::GUEST_LOAD_ADDR,
            RAM_NEEDED - pnv_contract::GUEST_LOAD_ADDR,
        )
    },
];

/// DMA target pool of the scenarios: 512..768 MiB.
pub const DMA_POOL_BASE: u64 = 0x2000_0000;
/// End of the DMA target pool (exclusive).
pub const DMA_POOL_END: u64 = 0x3000_0000;

/// `[addr, addr + len)` of the scenario memory (sentinel page, DMA pool,
/// guest block), if it lies inside one of them.
pub fn scenario_memory(addr: u64, len: u64) -> Option<PhysRange> {
    SCENARIO_MEMORY.iter().find_map(|r| r.at(addr, len))
}

/// `[addr, addr + len)` of the image (below 16 MiB), read-only: a DMA that
/// escaped its window would land here, so scenarios read it to prove none
/// did.
pub fn image_read_only(addr: u64, len: u64) -> Option<PhysRange> {
    // SAFETY: the image's memory (0..16 MiB) is RAM; the range is never
    // written through, and the bytes a scenario reads are not written by
    // Rust while it reads them (it reads text or unused memory).
    let image = unsafe { PhysRange::new_read_only(0, 0x0100_0000) };
    image.at(addr, len)
}
