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

/// The guest block, 768 MiB .. 1 GiB: where QEMU's loader puts a guest
/// image (`pnv_contract::GUEST_LOAD_ADDR`), used as a partition's RAM
/// (guest, papr-guest) or as the staging area of a Linux guest's bundle.
pub fn guest_block() -> PhysRange {
    SCENARIO_MEMORY[2]
}

/// Host RAM of the Linux guest partition: 1 GiB .. 1.5 GiB (present when
/// QEMU runs with `-m 2G`, the Linux scenarios' machine arguments).
pub const LINUX_GUEST_RAM: u64 = 0x4000_0000;
/// Size of the Linux guest's RAM.
pub const LINUX_GUEST_RAM_SIZE: u64 = 0x2000_0000;

/// The Linux guest's RAM and the host page just past it (its isolation
/// sentinel), if the machine has memory there: `memory_bytes` is the RAM
/// the device tree reports.
pub fn linux_guest_memory(memory_bytes: u64) -> Option<(PhysRange, PhysRange)> {
    let sentinel = LINUX_GUEST_RAM + LINUX_GUEST_RAM_SIZE;
    if memory_bytes < sentinel + 0x1000 {
        return None;
    }
    // SAFETY: 1 GiB .. 1.5 GiB + 4 KiB is RAM (the device tree reports at
    // least that much, checked above), above everything the firmware itself
    // uses (image, device tree, heap, scenario memory all end at
    // RAM_NEEDED = 1 GiB), so no Rust object covers it; it is used only
    // through these ranges (and by the guest and its passed-through device).
    Some(unsafe {
        (
            PhysRange::new(LINUX_GUEST_RAM, LINUX_GUEST_RAM_SIZE),
            PhysRange::new(sentinel, 0x1000),
        )
    })
}

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

/// Bytes of the heap in use now.
pub fn used() -> usize {
    HEAP.lock().used()
}
