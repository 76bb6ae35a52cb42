//! The hypervisor memory a guest can make the TCE layer allocate is bounded
//! and its exhaustion is an error, not an abort: shadow chunks come from a
//! fallible allocation made before anything is written, and each partition
//! has a TCE-memory limit.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{
    HStatus, Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
};
use pnv_iommu::tce::Tce;

/// Fails the shadow's chunk allocations (4096 bytes, 8-byte aligned; TCE
/// levels are aligned to their size) made by a thread that armed it. The
/// switch is per thread: the test harness runs the other tests of this
/// binary on other threads, and they must never see a failing allocator.
struct ChunkFailing;

thread_local! {
    /// Armed on this thread only. A `const`-initialised `Cell<bool>` has no
    /// destructor and needs no lazy initialisation, so reading it from
    /// inside the allocator allocates nothing.
    static FAIL_CHUNKS: Cell<bool> = const { Cell::new(false) };
    /// Every allocation of this thread fails while set.
    static FAIL_ALL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every allocation of this thread failing.
fn with_no_memory<R>(f: impl FnOnce() -> R) -> R {
    FAIL_ALL.with(|c| c.set(true));
    let r = f();
    FAIL_ALL.with(|c| c.set(false));
    r
}

/// Runs `f` with this thread's chunk allocations failing.
fn with_failing_chunks<R>(f: impl FnOnce() -> R) -> R {
    FAIL_CHUNKS.with(|c| c.set(true));
    let r = f();
    FAIL_CHUNKS.with(|c| c.set(false));
    r
}

// SAFETY: forwards to the system allocator, or returns null (allowed) for
// the layouts the test wants to fail.
unsafe impl GlobalAlloc for ChunkFailing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let armed = FAIL_CHUNKS.try_with(Cell::get).unwrap_or(false);
        if FAIL_ALL.try_with(Cell::get).unwrap_or(false) {
            return std::ptr::null_mut();
        }
        if armed && layout.size() == 4096 && layout.align() == 8 {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: ChunkFailing = ChunkFailing;

const HOST: u64 = 0x10_0000_0000;
const RAM: u64 = 1 << 24;
const BUID: u64 = 0x800;
const CONFIG: u32 = 0x100;

fn guest(limit: u64) -> (Hypervisor<RecordingPhb, GlobalPages>, PartitionId, u64) {
    let mut hv = Hypervisor::new(GlobalPages);
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(HOST, RAM as usize);
    let p = hv
        .add_partition(
            &[RamRegion {
                logical: 0,
                host: HOST,
                size: RAM,
            }],
            mem,
            PartitionConfig {
                tce_memory_limit: limit,
                ..PartitionConfig::default()
            },
        )
        .unwrap();
    let cfg = PeConfig {
        buid: BUID,
        config_addr: CONFIG,
        pe: 1,
        default_window_size: 1 << 30,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    };
    let liobn = hv.attach_pe(p, Arc::new(RecordingPhb::new()), cfg).unwrap() as u64;
    (hv, p, liobn)
}

#[test]
fn a_failed_shadow_allocation_refuses_the_call_and_changes_nothing() {
    let (hv, p, liobn) = guest(u64::MAX);
    let ioba = 0x2000_0000; // a fresh shadow chunk
    let r = with_failing_chunks(|| hv.h_put_tce(p, liobn, ioba, 0x1000 | 3));
    assert_eq!(r, Err(HStatus::NotEnoughResources));
    assert_eq!(hv.hardware_tce(p, liobn, ioba), Ok(Tce::NONE));
    assert_eq!(hv.h_get_tce(p, liobn, ioba), Ok(0));
    assert_eq!(hv.h_put_tce(p, liobn, ioba, 0x1000 | 3), Ok(()));
    assert_eq!(hv.h_get_tce(p, liobn, ioba), Ok(0x1000 | 3));
}

#[test]
fn a_guest_cannot_grow_tce_memory_past_its_limit() {
    let (hv, p, _) = guest(64 << 10);
    // A 1 TiB dynamic window: every 2 MiB of IOBA is a new 4 KiB shadow chunk
    // (even for values without permission) and new table levels.
    let w = hv.ddw_create(p, CONFIG, BUID, 12, 40).unwrap();
    let liobn = w.liobn as u64;
    let mut refused_at = None;
    for i in 0..1000u64 {
        match hv.h_stuff_tce(p, liobn, w.start + (i << 21), 0x4, 1) {
            Ok(()) => {}
            Err(HStatus::NotEnoughResources) => {
                refused_at = Some(i);
                break;
            }
            Err(e) => panic!("call {i}: {e:?}"),
        }
    }
    let i = refused_at.expect("never refused: the limit does not hold");
    assert!(
        i < 64,
        "refused only after {i} calls of ~8 KiB each under a 64 KiB limit"
    );
    // Clearing still works at the limit (it allocates nothing).
    assert_eq!(hv.h_stuff_tce(p, liobn, w.start, 0, 1), Ok(()));
    // Removing the window gives its memory back.
    hv.ddw_remove(p, w.liobn).unwrap();
    let w = hv.ddw_create(p, CONFIG, BUID, 12, 40).unwrap();
    assert_eq!(hv.h_put_tce(p, w.liobn as u64, w.start, 0x1000 | 3), Ok(()));
}

#[test]
fn a_window_create_without_memory_is_refused_and_changes_nothing() {
    use pnv_iommu::papr::RtasStatus;
    let (hv, p, liobn) = guest(u64::MAX);
    let before = hv.liobns(p);
    // A window's batch scratch (two 4 KiB arrays) cannot be allocated.
    let r = with_failing_chunks(|| hv.ddw_create(p, CONFIG, BUID, 12, 30));
    assert_eq!(r, Err(RtasStatus::HardwareError));
    assert_eq!(hv.liobns(p), before);
    assert_eq!(hv.ddw_query(p, CONFIG, BUID).unwrap().windows_available, 1);
    // With memory again it works.
    let w = hv.ddw_create(p, CONFIG, BUID, 12, 30).unwrap();
    assert_eq!(hv.h_put_tce(p, w.liobn as u64, w.start, 0x1000 | 3), Ok(()));
    // Removing the last dynamic window with the default gone must make a
    // new default window: without memory for it, the remove is refused and
    // the dynamic window stays as it was.
    hv.ddw_remove(p, liobn as u32).unwrap();
    let r = with_failing_chunks(|| hv.ddw_remove(p, w.liobn));
    assert_eq!(r, Err(RtasStatus::HardwareError));
    assert_eq!(hv.h_get_tce(p, w.liobn as u64, w.start), Ok(0x1000 | 3));
    assert_eq!(hv.liobns(p).len(), 1);
    hv.ddw_remove(p, w.liobn).unwrap();
    assert_eq!(hv.liobns(p)[0].liobn as u64, liobn);
    // Reset makes a new default window too: without memory, nothing changes.
    let w = hv.ddw_create(p, CONFIG, BUID, 12, 30).unwrap();
    assert_eq!(hv.h_put_tce(p, w.liobn as u64, w.start, 0x2000 | 1), Ok(()));
    let before = hv.liobns(p);
    let r = with_failing_chunks(|| hv.ddw_reset(p, CONFIG, BUID));
    assert_eq!(r, Err(RtasStatus::HardwareError));
    assert_eq!(hv.liobns(p), before);
    assert_eq!(hv.h_get_tce(p, w.liobn as u64, w.start), Ok(0x2000 | 1));
    assert_eq!(hv.ddw_reset(p, CONFIG, BUID), Ok(()));
    assert_eq!(hv.liobns(p).len(), 1);
}

#[test]
fn registering_a_region_without_memory_is_refused_and_changes_nothing() {
    use pnv_iommu::papr::PreregError;
    let mut hv: Hypervisor<RecordingPhb, GlobalPages> = Hypervisor::new(GlobalPages);
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(HOST, RAM as usize);
    let ram = [RamRegion {
        logical: 0,
        host: HOST,
        size: RAM,
    }];
    let config = PartitionConfig {
        prereg: true,
        pin_limit: u64::MAX,
        ..PartitionConfig::default()
    };
    let p = hv.add_partition(&ram, mem, config).unwrap();
    let r = with_no_memory(|| hv.prereg_register(p, 0x10_0000, 0x1000));
    assert_eq!(r, Err(PreregError::NotEnoughResources));
    assert_eq!(hv.pinned_bytes(p), 0);
    assert!(hv.mapped_regions(p).is_empty());
    assert_eq!(hv.prereg_register(p, 0x10_0000, 0x1000), Ok(()));
    assert_eq!(hv.pinned_bytes(p), 0x1000);
}

#[test]
fn tce_memory_is_charged_per_window_and_given_back_with_it() {
    let (hv, p, liobn) = guest(u64::MAX);
    let report = || hv.tce_memory(p).unwrap();
    assert_eq!(report().charged, 0);
    // Entries far apart: new shadow chunks and table levels in each window.
    let w1 = hv.ddw_create(p, CONFIG, BUID, 12, 40).unwrap();
    hv.ddw_remove(p, liobn as u32).unwrap();
    let w2 = hv.ddw_create(p, CONFIG, BUID, 12, 40).unwrap();
    for (w, k) in [(w1, 3u64), (w2, 5)] {
        for i in 0..k {
            let ioba = w.start + (i << 30);
            assert_eq!(hv.h_put_tce(p, w.liobn as u64, ioba, 0x1000 | 3), Ok(()));
        }
    }
    let both = report();
    assert!(both.charged > 0);
    assert_eq!(both.charged, both.windows);
    // Removing one window gives back exactly what it held.
    hv.ddw_remove(p, w1.liobn).unwrap();
    let one = report();
    assert_eq!(one.charged, one.windows);
    assert!(one.charged > 0 && one.charged < both.charged);
    hv.ddw_remove(p, w2.liobn).unwrap();
    let none = report();
    assert_eq!(
        (none.charged, none.windows),
        (0, 0),
        "the default window is back, empty"
    );
}
