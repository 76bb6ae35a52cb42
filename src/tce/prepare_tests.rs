//! Unit tests of level preparation ([`TceTable::prepare_levels`]) and of the
//! batched stores built on it: levels without leaf entries, all-or-nothing
//! allocation, and racing preparations.

use std::sync::Barrier;
use std::thread;

use super::reference::{WalkFault, translate};
use super::*;
use crate::iopt::RW;
use crate::page_alloc::CountingPages;

fn table(pages: &CountingPages, levels: u32) -> TceTable<&CountingPages> {
    // 4 KiB pages, 4 KiB levels: 9 index bits per level.
    let window = 1u64 << (12 + 9 * levels);
    TceTable::new(Geometry::new(0, window, 12, levels).unwrap(), pages).unwrap()
}

/// Whether every entry of every leaf level is zero.
fn leaves_empty<A: crate::page_alloc::PageAllocator>(t: &TceTable<A>) -> bool {
    let mut empty = true;
    t.tree.for_each_level(|_, depth, words| {
        if depth + 1 == t.geometry().levels() {
            empty &= words
                .iter()
                .all(|w| w.load(core::sync::atomic::Ordering::Relaxed) == 0);
        }
    });
    empty
}

#[test]
fn preparation_installs_levels_and_writes_no_leaf_entry() {
    let pages = CountingPages::new();
    let t = table(&pages, 4);
    // Pages 500..=1600 span leaves 0..=3 under one middle path.
    t.prepare_levels(500, 1600).unwrap();
    assert_eq!(t.bytes_held(), (1 + 1 + 1 + 4) * 4096);
    assert_eq!(pages.stats().live_blocks, 7);
    assert!(leaves_empty(&t));
    let mut runs = Vec::new();
    t.for_each_leaf_run(500, 1600, |pfn, e| runs.push((pfn, e.map(|e| e.len()))));
    assert_eq!(
        runs,
        [
            (500, Some(12)),
            (512, Some(512)),
            (1024, Some(512)),
            (1536, Some(65))
        ]
    );
    // The device walks to the leaves and finds nothing mapped.
    let image = t.memory_image();
    assert_eq!(
        translate(t.tve(), 700 << 12, &image),
        Err(WalkFault::NotMapped)
    );
    // Preparing again allocates nothing.
    t.prepare_levels(500, 1600).unwrap();
    assert_eq!(pages.stats().allocs, 7);
    // A run under a missing leaf is reported as missing.
    let mut missing = Vec::new();
    t.for_each_leaf_run(1 << 20, (1 << 20) + 3, |pfn, e| {
        missing.push((pfn, e.is_none()))
    });
    assert_eq!(missing, [(1 << 20, true)]);
}

#[test]
fn failure_at_every_allocation_leaves_the_table_unchanged() {
    for levels in 2..=4 {
        let pages = CountingPages::new();
        let t = table(&pages, levels);
        // Something mapped already, so the image is not trivially empty.
        t.map_range(0x3000, 0x7000, 0x1000, RW).unwrap();
        let (first, last) = (511u64, 511 + 2 * 512);
        let before = t.memory_image();
        let live = pages.stats().live_blocks;
        // Count what a successful preparation allocates, on a twin table.
        let twin_pages = CountingPages::new();
        let twin = table(&twin_pages, levels);
        twin.map_range(0x3000, 0x7000, 0x1000, RW).unwrap();
        let base = twin_pages.stats().allocs;
        twin.prepare_levels(first, last).unwrap();
        let needed = twin_pages.stats().allocs - base;
        assert!(needed >= 2, "levels {levels}");
        let tces: Vec<Tce> = (0..=last - first)
            .map(|i| Tce::new(0x100_0000 + (i << 12), RW))
            .collect();
        for budget in 0..needed {
            pages.fail_after(Some(budget));
            assert_eq!(t.prepare_levels(first, last), Err(TceError::NoMemory));
            assert_eq!(t.store_run(first << 12, &tces), Err(TceError::NoMemory));
            assert_eq!(
                t.fill_run(first << 12, Tce::new(0x5000, RW), tces.len() as u64),
                Err(TceError::NoMemory)
            );
            assert_eq!(t.exchange(last << 12, tces[0]), Err(TceError::NoMemory));
            assert_eq!(t.memory_image(), before, "levels {levels} budget {budget}");
            assert_eq!(pages.stats().live_blocks, live, "no leak");
        }
        pages.fail_after(Some(needed));
        t.store_run(first << 12, &tces).unwrap();
        pages.fail_after(None);
        assert_eq!(t.get(last << 12), Ok(tces[tces.len() - 1]));
    }
}

#[test]
fn racing_preparations_install_each_level_once() {
    const THREADS: u64 = 4;
    let pages = CountingPages::new();
    for round in 0..20u64 {
        let t = table(&pages, 4);
        let barrier = Barrier::new(THREADS as usize);
        // Overlapping ranges under the same missing middle levels: every
        // thread prepares leaves round*4 .. round*4 + 2 + id / 2.
        let leaf = |n: u64| n << 9;
        thread::scope(|s| {
            for id in 0..THREADS {
                let (t, barrier) = (&t, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let first = leaf(round * 4) + id;
                    let last = leaf(round * 4 + 2 + id / 2) + 7;
                    t.prepare_levels(first, last).unwrap();
                });
            }
        });
        // Top, two middles, leaves round*4 ..= round*4 + 3; losers freed
        // their blocks.
        assert_eq!(t.bytes_held(), (1 + 2 + 4) * 4096, "round {round}");
        assert_eq!(pages.stats().live_bytes, t.bytes_held());
        assert!(leaves_empty(&t));
        drop(t);
        assert_eq!(pages.stats().live_blocks, 0);
    }
}
