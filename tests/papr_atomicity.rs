//! All-or-nothing batches under allocation failure: a batch that needs new
//! table levels and cannot get them returns `H_HARDWARE` and leaves the table
//! memory byte-for-byte as it was (no entry valid, not even one written and
//! cleared again), the guest values, map counts and dirty log untouched, and
//! no level leaked. Failure is injected at every allocation the batch makes.
#![cfg(feature = "std")]

use std::sync::Arc;

use pnv_iommu::page_alloc::CountingPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{
    HStatus, Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
};
use pnv_iommu::tce::reference::MemoryImage;

type Hv = Hypervisor<RecordingPhb, &'static CountingPages>;

const MIB: u64 = 1 << 20;
const HOST: u64 = 0x3_0000_0000;
const RW: u64 = 3;
const LIST: u64 = 0x1000;

struct Setup {
    hv: Hv,
    pages: &'static CountingPages,
    p: PartitionId,
    mem: Arc<FakeGuestMemory>,
    default_liobn: u32,
    dynamic_liobn: u32,
}

fn setup() -> Setup {
    let pages: &'static CountingPages = Box::leak(Box::new(CountingPages::new()));
    let mut hv = Hv::new(pages);
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(HOST, (64 * MIB) as usize);
    let ram = [RamRegion {
        logical: 0,
        host: HOST,
        size: 64 * MIB,
    }];
    let p = hv
        .add_partition(&ram, mem.clone(), PartitionConfig::default())
        .unwrap();
    let cfg = PeConfig {
        buid: 0x800_0000,
        config_addr: 0x100,
        pe: 1,
        default_window_size: 256 * MIB,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 48,
    };
    let default_liobn = hv.attach_pe(p, Arc::new(RecordingPhb::new()), cfg).unwrap();
    // A 2^39-byte window of 4K pages: three levels, so a batch can need
    // middle levels and leaves.
    let w = hv.ddw_create(p, 0x100, 0x800_0000, 12, 39).unwrap();
    Setup {
        hv,
        pages,
        p,
        mem,
        default_liobn,
        dynamic_liobn: w.liobn,
    }
}

/// Everything a failed batch must leave alone.
fn state(s: &Setup, liobn: u32, ioba: u64) -> (MemoryImage, Vec<u64>, u64, Vec<u64>, u64) {
    let image =
        s.hv.inspect_table(s.p, liobn, |t| t.memory_image())
            .unwrap();
    let guest = s.hv.read_tces(s.p, liobn as u64, ioba, 1024).unwrap();
    let mapped = s.hv.mapped_regions(s.p).iter().map(|r| r.mapped).sum();
    (
        image,
        guest,
        mapped,
        s.hv.dirty_pages(s.p),
        s.pages.stats().live_blocks,
    )
}

/// Runs `call` with failure injected after 0, 1, ... allocations until it
/// succeeds; every failure must change nothing. Returns the failures seen.
fn fail_at_each_allocation(
    s: &Setup,
    liobn: u32,
    ioba: u64,
    call: impl Fn() -> Result<(), HStatus>,
) -> u64 {
    let before = state(s, liobn, ioba);
    for budget in 0.. {
        s.pages.fail_after(Some(budget));
        let r = call();
        s.pages.fail_after(None);
        match r {
            Ok(()) => return budget,
            Err(e) => {
                assert_eq!(e, HStatus::Hardware, "budget {budget}");
                assert!(
                    state(s, liobn, ioba) == before,
                    "budget {budget}: state changed"
                );
            }
        }
    }
    unreachable!()
}

#[test]
fn indirect_that_cannot_allocate_changes_nothing() {
    let s = setup();
    let tces: Vec<u64> = (0..512u64).map(|i| (4 * MIB + i * 0x1000) | RW).collect();
    assert!(s.mem.write_be_u64s(HOST + LIST, &tces));
    for (liobn, ioba, far, levels) in [
        // Default window (two levels): 512 pages across two missing leaves.
        (s.default_liobn, 2 * MIB - 100 * 0x1000, 64 * MIB, 2),
        // Dynamic window (three levels): across two missing middle levels
        // and their leaves.
        (
            s.dynamic_liobn,
            (1 << 59) + (1 << 30) - 100 * 0x1000,
            8 << 30,
            4,
        ),
    ] {
        let liobn64 = liobn as u64;
        // A valid entry elsewhere, so the table is not empty.
        s.hv.h_put_tce(s.p, liobn64, ioba + far, (8 * MIB) | RW)
            .unwrap();
        let failures = fail_at_each_allocation(&s, liobn, ioba, || {
            s.hv.h_put_tce_indirect(s.p, liobn64, ioba, LIST, 512)
        });
        assert_eq!(failures, levels, "allocations the batch needed");
        assert_eq!(
            s.hv.h_get_tce(s.p, liobn64, ioba + 511 * 0x1000),
            Ok(tces[511])
        );
    }
}

#[test]
fn stuff_that_cannot_allocate_changes_nothing() {
    let s = setup();
    let liobn = s.dynamic_liobn;
    let ioba = (1 << 59) + (3 << 30) - 7 * 0x1000;
    let failures = fail_at_each_allocation(&s, liobn, ioba, || {
        s.hv.h_stuff_tce(s.p, liobn as u64, ioba, (4 * MIB) | RW, 512)
    });
    // Pages 786425..=786936 cross a leaf and a middle-level boundary: two
    // middle levels and two leaves.
    assert_eq!(failures, 4, "allocations the batch needed");
    // Clearing under missing levels never allocates, so never fails.
    s.pages.fail_after(Some(0));
    assert_eq!(
        s.hv.h_stuff_tce(s.p, liobn as u64, (1 << 59) + (5 << 30), 0, 512),
        Ok(())
    );
    s.pages.fail_after(None);
}
