//! `H_STUFF_TCE` over whole 512-entry shadow chunks records one value per
//! chunk; every other call on those entries must still see, settle and
//! replace each entry exactly as if it had been stored one by one: guest
//! values, hardware entries, map counts and the dirty log.

mod papr_common;

use std::sync::Arc;

use papr_common::*;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{HStatus, Hypervisor, PartitionConfig, PartitionId, RamRegion};

const HOST: u64 = 0x40_0000_0000;
const RAM: u64 = 16 << 20;
const CHUNK: u64 = 512;

#[test]
fn stuffed_chunks_read_settle_and_replace_entry_by_entry() {
    let (hv, p, liobn, mem) = partition(HOST);
    let base = (4 * CHUNK) << 12; // a chunk boundary
    let mapped = |hv: &Hypervisor<RecordingPhb, GlobalPages>| hv.mapped_regions(p)[0].mapped;

    // Two whole chunks (a call each: 512 at most) and a bit.
    let stuff = |hv: &Hypervisor<RecordingPhb, GlobalPages>, tce, tail| {
        for k in 0..2 {
            hv.h_stuff_tce(p, liobn, base + ((k * CHUNK) << 12), tce, CHUNK)
                .unwrap();
        }
        hv.h_stuff_tce(p, liobn, base + ((2 * CHUNK) << 12), tce, tail)
            .unwrap();
    };
    // Writable: one value.
    let a = 0x10_0000 | 3;
    stuff(&hv, a, 10);
    assert_eq!(mapped(&hv), 2 * CHUNK + 10);
    // Replaced by another value: the old page is dirty once, counts stay.
    let b = 0x20_0000 | 1;
    stuff(&hv, b, 0);
    assert_eq!(hv.take_dirty_pages(p).unwrap(), vec![0x10_0000]);
    assert_eq!(mapped(&hv), 2 * CHUNK + 10);
    for i in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK - 1] {
        let ioba = base + (i << 12);
        assert_eq!(hv.h_get_tce(p, liobn, ioba).unwrap(), b, "entry {i}");
        assert_eq!(
            hv.hardware_tce(p, liobn, ioba).unwrap().raw(),
            (HOST + 0x20_0000) | 1
        );
    }
    assert_eq!(
        hv.read_tces(p, liobn, base + ((2 * CHUNK - 2) << 12), 3)
            .unwrap(),
        vec![b, b, a]
    );
    // One entry inside a stuffed chunk; its neighbours keep the value.
    hv.h_put_tce(p, liobn, base + (7 << 12), 0x30_0000 | 2)
        .unwrap();
    assert_eq!(
        hv.read_tces(p, liobn, base + (6 << 12), 3).unwrap(),
        vec![b, 0x30_0000 | 2, b]
    );
    // A list over the second chunk, then a clear of everything.
    let list: Vec<u64> = (0..CHUNK).map(|i| (0x40_0000 + (i << 12)) | 2).collect();
    assert!(mem.write_be_u64s(HOST + 0x8000, &list));
    hv.h_put_tce_indirect(p, liobn, base + (CHUNK << 12), 0x8000, CHUNK)
        .unwrap();
    assert_eq!(
        hv.h_get_tce(p, liobn, base + ((CHUNK + 5) << 12)).unwrap(),
        list[5]
    );
    assert!(
        hv.take_dirty_pages(p).unwrap().is_empty(),
        "b was read-only"
    );
    stuff(&hv, 0, 10);
    assert_eq!(mapped(&hv), 0);
    let dirty = hv.take_dirty_pages(p).unwrap();
    // The put (W), the list (W, 512 pages) and `a` (W) in the last 10.
    assert_eq!(dirty.len(), 1 + CHUNK as usize + 1);
    assert!(dirty.contains(&0x30_0000) && dirty.contains(&0x10_0000));
    assert!(
        hv.read_tces(p, liobn, base, 2 * CHUNK + 10)
            .unwrap()
            .iter()
            .all(|&v| v == 0)
    );
}

/// `H_PUT_TCE_INDIRECT` lists of consecutive pages (or one page repeated)
/// are recorded in the shadow as progressions, and the next list over the
/// same entries settles them without reading them. Mixed with lists over
/// other ranges, irregular lists, STUFF and PUT, every entry must read,
/// translate, count and mark dirty exactly as if stored one by one (a
/// model array of guest values is the judge).
#[test]
fn listed_runs_read_settle_and_replace_entry_by_entry() {
    // RAM whose host copy is aligned to its size (hardware entries by
    // mask) and RAM whose host copy is not (by offset).
    for host in [HOST, HOST + 0x3000] {
        listed_runs(host);
    }
}

fn listed_runs(host: u64) {
    const PAGES: u64 = 3 * CHUNK;
    let (hv, p, liobn, mem) = partition(host);
    let base = (4 * CHUNK) << 12; // a chunk boundary
    let list_la = 0x8000;
    let mut model = vec![0u64; PAGES as usize];
    let mut dirty = std::collections::BTreeSet::new();
    let mut next = xorshift(0x5eed_0f11_5751);
    let mut rand = move |below: u64| next() % below;
    // A page the guest may map (within its 16 MiB, past the list).
    let page = |rand: &mut dyn FnMut(u64) -> u64| (0x10_0000 + (rand(3000) << 12)) | (1 + rand(3));
    for round in 0..600 {
        let (first, count) = match rand(5) {
            0 | 1 => (100, 60),
            2 => (CHUNK, CHUNK),
            3 => (90 + rand(40), 1 + rand(100)),
            _ => {
                let first = rand(PAGES);
                (first, 1 + rand((PAGES - first).min(512)))
            }
        };
        let ioba = base + (first << 12);
        let new: Vec<u64> = match rand(7) {
            // STUFF and PUT: one value.
            0 => {
                let v = if rand(3) == 0 { 0 } else { page(&mut rand) };
                hv.h_stuff_tce(p, liobn, ioba, v, count).unwrap();
                vec![v; count as usize]
            }
            1 => {
                let v = page(&mut rand);
                hv.h_put_tce(p, liobn, ioba, v).unwrap();
                vec![v]
            }
            // Lists: consecutive pages, one page repeated, irregular (with
            // one permission, or mixed; now and then with a clear).
            k => {
                let head = page(&mut rand);
                let mut list: Vec<u64> = (0..count)
                    .map(|i| match k {
                        2 | 3 => head + (i << 12),
                        4 => head,
                        5 => (page(&mut rand) & !3) | (head & 3),
                        _ => page(&mut rand),
                    })
                    .collect();
                if rand(8) == 0 {
                    let i = rand(count) as usize;
                    list[i] = 0;
                }
                assert!(mem.write_be_u64s(host + list_la, &list));
                hv.h_put_tce_indirect(p, liobn, ioba, list_la, count)
                    .unwrap();
                list
            }
        };
        for (i, &v) in new.iter().enumerate() {
            let old = std::mem::replace(&mut model[first as usize + i], v);
            if old & 2 != 0 {
                dirty.insert(old & !0xfff);
            }
        }
        // Guest values, hardware entries and map counts, every entry.
        let guest = hv.read_tces(p, liobn, base, PAGES).unwrap();
        assert_eq!(guest, model, "round {round}");
        let valid = model.iter().filter(|&&v| v & 3 != 0).count() as u64;
        assert_eq!(hv.mapped_regions(p)[0].mapped, valid, "round {round}");
        for _ in 0..16 {
            let i = rand(PAGES);
            let v = model[i as usize];
            let hw = hv.hardware_tce(p, liobn, base + (i << 12)).unwrap().raw();
            let want = if v & 3 == 0 { 0 } else { host + v };
            assert_eq!(hw & !0xffc, want & !0xffc, "round {round} entry {i}");
        }
        if rand(4) == 0 {
            let got = hv.take_dirty_pages(p).unwrap();
            assert_eq!(
                got,
                dirty.iter().copied().collect::<Vec<_>>(),
                "round {round}"
            );
            dirty.clear();
        }
    }
}

/// A hypervisor with one partition of `RAM` bytes at host address `host`
/// and one PE: the partition, its default LIOBN and its guest memory.
fn partition(host: u64) -> (Hv, PartitionId, u64, Arc<FakeGuestMemory>) {
    let mut hv = Hv::new(GlobalPages);
    let ram = [RamRegion {
        logical: 0,
        host,
        size: RAM,
    }];
    let phb = Arc::new(RecordingPhb::new());
    let g = add_guest(&mut hv, &phb, &ram, PartitionConfig::default(), 1);
    (hv, g.p, u64::from(g.liobn), g.mem)
}

/// The bench's breakdown of `H_STUFF_TCE` times every stage of the common
/// path in a partition of one unit, after making the real call (so a
/// refused call, here an unknown LIOBN or a count over 512, times nothing),
/// and refuses entries the common path does not take.
#[test]
fn the_stuff_profile_times_each_stage_after_the_real_call() {
    let (hv, p, liobn, _) = partition(HOST);
    let tces = [0x10_0000 | 3, 0x11_0000 | 3];
    let base = (4 * CHUNK) << 12;
    let s = hv
        .profile_h_stuff_tce(p, liobn, base, tces, CHUNK, 50)
        .unwrap();
    for (name, ns) in [
        ("lock", s.lock),
        ("validate", s.validate),
        ("table", s.table),
        ("shadow", s.shadow),
        ("settle", s.settle),
        ("kill", s.kill),
    ] {
        assert!(ns > 0.0 && ns.is_finite(), "{name}: {ns}");
    }
    // The real call ran: the entries hold a valid TCE (the stages store one
    // of the two values again and again).
    let got = hv.h_get_tce(p, liobn, base).unwrap();
    assert!(tces.contains(&got), "{got:#x}");
    assert!(
        hv.profile_h_stuff_tce(p, liobn + 1, base, tces, CHUNK, 50)
            .is_err()
    );
    assert!(
        hv.profile_h_stuff_tce(p, liobn, base, tces, CHUNK + 1, 50)
            .is_err()
    );
    // Entries over two chunks (and two leaf levels): not the common path.
    let across = base + (1 << 12);
    assert_eq!(
        hv.profile_h_stuff_tce(p, liobn, across, tces, CHUNK, 50)
            .unwrap_err(),
        HStatus::Parameter
    );
}
