//! Unit tests of [`TceTable`]: lazy levels, entry operations, the reference
//! walker's view of the table, and the map/flush batch.

use super::reference::{WalkFault, translate};
use super::*;
use crate::iopt::{Gather, InvalidationOp, IoPageTable, Perm, RW, RecordingInvalidator};
use crate::page_alloc::CountingPages;

const GIB: u64 = 1 << 30;

fn table(
    pages: &CountingPages,
    bus: u64,
    window: u64,
    ps: u32,
    levels: u32,
) -> TceTable<&CountingPages> {
    TceTable::new(Geometry::new(bus, window, ps, levels).unwrap(), pages).unwrap()
}

#[test]
fn only_top_level_after_creation() {
    let pages = CountingPages::new();
    let t = table(&pages, 1 << 59, 1 << 40, 16, 3);
    assert_eq!(t.bytes_held(), 4096);
    assert_eq!(pages.stats().live_blocks, 1);
    assert_eq!(t.top_phys() % 4096, 0);
    drop(t);
    assert_eq!(pages.stats().live_blocks, 0);
}

#[test]
fn lookups_and_clears_never_allocate() {
    let pages = CountingPages::new();
    let t = table(&pages, 0, 1 << 40, 12, 4);
    assert_eq!(t.get(0x1234_5000), Ok(Tce::NONE));
    assert_eq!(t.exchange(0x1234_5000, Tce::NONE), Ok(Tce::NONE));
    t.clear_range(0, 1 << 40).unwrap();
    assert_eq!(t.iova_to_phys(0x1234_5678), None);
    assert_eq!(pages.stats().allocs, 1);
}

#[test]
fn first_map_allocates_the_path_once() {
    let pages = CountingPages::new();
    let t = table(&pages, 0, 1 << 40, 12, 4);
    t.exchange(0x1234_5000, Tce::new(0x9000, RW)).unwrap();
    assert_eq!(t.bytes_held(), 4 * 4096);
    // A neighbour under the same leaf needs nothing new.
    t.exchange(0x1234_6000, Tce::new(0xa000, Perm::READ))
        .unwrap();
    assert_eq!(pages.stats().allocs, 4);
    assert_eq!(t.get(0x1234_5000), Ok(Tce::new(0x9000, RW)));
    assert_eq!(t.iova_to_phys(0x1234_6abc), Some(0xaabc));
}

#[test]
fn exchange_returns_the_old_entry_without_clearing_first() {
    let pages = CountingPages::new();
    let t = table(&pages, GIB, GIB, 16, 2);
    let a = Tce::new(0x10_0000, RW);
    let b = Tce::new(0x20_0000, Perm::WRITE);
    assert_eq!(t.exchange(GIB, a), Ok(Tce::NONE));
    assert_eq!(t.exchange(GIB, b), Ok(a));
    assert_eq!(t.exchange(GIB, Tce::NONE), Ok(b));
    assert_eq!(t.get(GIB), Ok(Tce::NONE));
}

#[test]
fn entries_are_big_endian_and_levels_aligned() {
    let pages = CountingPages::new();
    let t = table(&pages, 0, 1 << 31, 12, 1);
    t.exchange(0x3000, Tce::new(0x0001_0203_0405_6000, RW))
        .unwrap();
    let image = t.memory_image();
    let (base, bytes) = image.regions().next().unwrap();
    assert_eq!(base, t.top_phys());
    assert_eq!(base % (4 << 20), 0, "a 4 MiB level is aligned to 4 MiB");
    assert_eq!(&bytes[24..32], &[0, 1, 2, 3, 4, 5, 0x60, 0x03]);
}

#[test]
fn reference_walker_agrees_on_every_level_count() {
    for (ps, levels, window) in [
        (12, 1, 1u64 << 30),
        (12, 2, 1 << 33),
        (16, 3, 1 << 40),
        (12, 4, 1 << 48),
        (30, 2, 1 << 48),
    ] {
        let pages = CountingPages::new();
        let bus = 1 << 59;
        let t = table(&pages, bus, window, ps, levels);
        let page = 1u64 << ps;
        let iova = bus + window / 2 + 3 * page;
        t.map_range(iova, 7 << ps, 2 * page, Perm::WRITE).unwrap();
        let image = t.memory_image();
        let tr = translate(t.tve(), iova + page + 5, &image).unwrap();
        assert_eq!(
            (tr.phys, tr.perm),
            ((8 << ps) + 5, Perm::WRITE),
            "ps {ps} levels {levels}"
        );
        let unmapped = translate(t.tve(), iova + 2 * page, &image);
        assert_eq!(unmapped, Err(WalkFault::NotMapped));
        if levels > 1 {
            assert!(matches!(
                translate(t.tve(), bus, &image),
                Err(WalkFault::InvalidIndirect(_))
            ));
        }
    }
}

#[test]
fn map_of_a_run_crosses_leaf_levels() {
    let pages = CountingPages::new();
    // 27 entry bits: three levels of 512 entries.
    let t = table(&pages, 0, 1 << 39, 12, 3);
    // 1000 pages starting 10 pages before a leaf boundary.
    let iova = (512 - 10) << 12;
    t.map_range(iova, 0x4000_0000, 1000 << 12, Perm::READ)
        .unwrap();
    for i in [0u64, 9, 10, 511, 512, 999] {
        assert_eq!(
            t.iova_to_phys(iova + (i << 12)),
            Some(0x4000_0000 + (i << 12))
        );
    }
    assert_eq!(t.iova_to_phys(iova + (1000 << 12)), None);
    // top + one middle + three leaves (pages 502..1501 span leaves 0, 1 and 2).
    assert_eq!(t.bytes_held(), 5 * 4096);
    t.clear_range(iova + (5 << 12), 990 << 12).unwrap();
    assert_eq!(
        t.iova_to_phys(iova + (4 << 12)),
        Some(0x4000_0000 + (4 << 12))
    );
    assert_eq!(t.iova_to_phys(iova + (5 << 12)), None);
    assert_eq!(
        t.iova_to_phys(iova + (995 << 12)),
        Some(0x4000_0000 + (995 << 12))
    );
    assert_eq!(t.bytes_held(), 5 * 4096, "clearing frees nothing");
}

#[test]
fn one_gib_of_64k_pages_is_one_call_and_one_flush() {
    let pages = CountingPages::new();
    let t = table(&pages, 1 << 59, 1 << 40, 16, 3);
    let inv = RecordingInvalidator::new();
    let mut gather = Gather::new();
    t.map(1 << 59, 0x8000_0000, GIB, RW, &mut gather).unwrap();
    gather.flush(&inv, &[2]).unwrap();
    assert_eq!(inv.take(), [InvalidationOp::Pe(2), InvalidationOp::Sync]);
    assert_eq!(
        t.iova_to_phys((1 << 59) + GIB - 1),
        Some(0x8000_0000 + GIB - 1)
    );
    // 16384 entries in 32 leaves, one middle level, the top.
    assert_eq!(t.bytes_held(), 34 * 4096);
    t.unmap(1 << 59, GIB, &mut gather).unwrap();
    assert_eq!(gather.range().map(|r| r.size), Some(GIB));
    assert_eq!(t.iova_to_phys(1 << 59), None);
}

#[test]
fn allocation_failure_changes_nothing_and_leaks_nothing() {
    let pages = CountingPages::new();
    let t = table(&pages, 0, 1 << 40, 12, 4);
    let before = t.memory_image();
    pages.fail_after(Some(2));
    assert_eq!(
        t.exchange(0x5000, Tce::new(0x1000, RW)),
        Err(TceError::NoMemory)
    );
    assert_eq!(
        t.map_range(0x5000, 0x1000, 0x2000, RW),
        Err(TceError::NoMemory)
    );
    assert_eq!(t.memory_image(), before);
    assert_eq!(pages.stats().live_blocks, 1);
    pages.fail_after(None);
    t.map_range(0x5000, 0x1000, 0x2000, RW).unwrap();
}

#[test]
fn bad_entries_are_refused() {
    let pages = CountingPages::new();
    let t = table(&pages, 0, GIB, 16, 1);
    assert_eq!(
        t.exchange(0x1_0000, Tce::new(0x1000, RW)),
        Err(TceError::MisalignedPhys)
    );
    assert_eq!(
        t.exchange(0x1_0000, Tce::new(PHYS_LIMIT, RW)),
        Err(TceError::PhysTooLarge)
    );
    assert_eq!(
        t.exchange(0x1_8000, Tce::new(0x1_0000, RW)),
        Err(TceError::MisalignedIova)
    );
    assert_eq!(
        t.exchange(GIB, Tce::new(0x1_0000, RW)),
        Err(TceError::OutsideWindow)
    );
    assert_eq!(t.get(GIB), Err(TceError::OutsideWindow));
    assert_eq!(
        t.map_range(0, 0x1_0000, 0x1_0000, Perm::empty()),
        Err(TceError::NoPermission)
    );
}
