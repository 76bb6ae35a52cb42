//! Several CPUs (std threads) on one table: level installation races, no lost
//! exchange, no leaked or double-freed level (the counting allocator panics on
//! a double free and counts live blocks).

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::thread;

use pnv_iommu::iopt::{Perm, RW};
use pnv_iommu::page_alloc::CountingPages;
use pnv_iommu::tce::{Geometry, Tce, TceTable};

const THREADS: u64 = 4;
const PAGE: u64 = 1 << 12;

fn four_level_table(pages: &CountingPages) -> TceTable<&CountingPages> {
    TceTable::new(Geometry::new(0, 1 << 48, 12, 4).unwrap(), pages).unwrap()
}

#[test]
fn racing_maps_install_each_level_once() {
    let pages = CountingPages::new();
    for round in 0..20u64 {
        let t = four_level_table(&pages);
        let barrier = Barrier::new(THREADS as usize);
        // Every thread maps its own page under the same (missing) path.
        thread::scope(|s| {
            for id in 0..THREADS {
                let (t, barrier) = (&t, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let iova = (round << 30) + id * PAGE;
                    t.map_range(iova, (id + 1) << 20, PAGE, RW).unwrap();
                });
            }
        });
        // One path: top, two middles, one leaf; losers freed their blocks.
        assert_eq!(t.bytes_held(), 4 * 4096, "round {round}");
        assert_eq!(pages.stats().live_bytes, t.bytes_held());
        for id in 0..THREADS {
            assert_eq!(
                t.get((round << 30) + id * PAGE),
                Ok(Tce::new((id + 1) << 20, RW))
            );
        }
        drop(t);
        assert_eq!(pages.stats().live_blocks, 0);
    }
}

#[test]
fn no_exchange_is_lost() {
    const ENTRIES: u64 = 8;
    const ROUNDS: u64 = 2000;
    let pages = CountingPages::new();
    let t = four_level_table(&pages);
    // Overlapping: every thread exchanges the same few entries (under several leaves).
    let iova = |e: u64| e * (PAGE << 8);
    let returned = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|id| {
                let t = &t;
                s.spawn(move || {
                    let mut seen = Vec::new();
                    for r in 0..ROUNDS {
                        let e = (r * 7 + id) % ENTRIES;
                        let value = Tce::new(((id << 32) | (r + 1)) << 12, Perm::READ);
                        seen.push((e, t.exchange(iova(e), value).unwrap()));
                    }
                    seen
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    // Per entry: the values written = the values returned (minus the first
    // NONE) + the final value. A lost update would be written and never seen.
    let mut written: BTreeMap<u64, Vec<Tce>> = BTreeMap::new();
    for id in 0..THREADS {
        for r in 0..ROUNDS {
            let e = (r * 7 + id) % ENTRIES;
            written
                .entry(e)
                .or_default()
                .push(Tce::new(((id << 32) | (r + 1)) << 12, Perm::READ));
        }
    }
    for (e, mut writes) in written {
        let mut seen: Vec<Tce> = returned
            .iter()
            .filter(|(x, _)| *x == e)
            .map(|&(_, v)| v)
            .collect();
        assert_eq!(
            seen.iter().filter(|v| **v == Tce::NONE).count(),
            1,
            "entry {e}"
        );
        seen.retain(|v| *v != Tce::NONE);
        seen.push(t.get(iova(e)).unwrap());
        seen.sort_by_key(|v| v.raw());
        writes.sort_by_key(|v| v.raw());
        assert_eq!(seen, writes, "entry {e}");
    }
    drop(t);
    assert_eq!(pages.stats().live_blocks, 0);
}

#[test]
fn disjoint_and_overlapping_maps_and_clears() {
    let pages = CountingPages::new();
    let t = four_level_table(&pages);
    let region = 4096 * PAGE; // 8 leaves per thread
    // The phys of a page depends only on its IOVA, so any interleaving of maps
    // leaves either that value or (after a clear) nothing.
    let phys_of = |iova: u64| iova + (1 << 40);
    thread::scope(|s| {
        for id in 0..THREADS {
            let t = &t;
            s.spawn(move || {
                // Disjoint: this thread's own region.
                let own = (1 << 36) + id * region;
                t.map_range(own, phys_of(own), region, RW).unwrap();
                // Overlapping: a shared region, mapped and partly cleared by all.
                for r in 0..50u64 {
                    let start = ((r * 37 + id * 101) % 900) * PAGE;
                    t.map_range(start, phys_of(start), 100 * PAGE, RW).unwrap();
                    if r % 3 == id % 3 {
                        t.clear_range(start + 10 * PAGE, 20 * PAGE).unwrap();
                    }
                }
            });
        }
    });
    for id in 0..THREADS {
        let own = (1 << 36) + id * region;
        for p in (0..region).step_by(PAGE as usize * 97) {
            assert_eq!(t.get(own + p), Ok(Tce::new(phys_of(own + p), RW)));
        }
    }
    for p in 0..1000 {
        let tce = t.get(p * PAGE).unwrap();
        assert!(
            tce == Tce::NONE || tce == Tce::new(phys_of(p * PAGE), RW),
            "page {p}: {tce:?}"
        );
    }
    assert_eq!(pages.stats().live_bytes, t.bytes_held());
    assert_eq!(t.memory_image().total_bytes(), t.bytes_held());
    drop(t);
    let stats = pages.stats();
    assert_eq!(stats.live_blocks, 0);
    assert_eq!(stats.allocs, stats.frees);
}
