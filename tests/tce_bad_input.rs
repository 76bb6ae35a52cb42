//! Bad input returns a typed error and leaves the table byte-for-byte
//! unchanged (every level's memory is snapshotted before and after).

use pnv_iommu::iopt::{Gather, IoPageTable, Perm, RW};
use pnv_iommu::page_alloc::CountingPages;
use pnv_iommu::tce::reference::MemoryImage;
use pnv_iommu::tce::{Geometry, PHYS_LIMIT, Tce, TceError, TceTable};
use proptest::prelude::*;

const P64K: u64 = 1 << 16;

/// A populated 3-level table of 64K pages whose window ends at `u64::MAX`.
fn top_window_table(pages: &CountingPages) -> (TceTable<&CountingPages>, u64) {
    let window = 1u64 << 40;
    let bus = 0u64.wrapping_sub(window);
    let t = TceTable::new(Geometry::new(bus, window, 16, 3).unwrap(), pages).unwrap();
    t.map_range(bus, 0x100_0000, 64 * P64K, RW).unwrap();
    t.map_range(u64::MAX - (P64K - 1), 0x200_0000, P64K, Perm::READ)
        .unwrap();
    (t, bus)
}

fn state(t: &TceTable<&CountingPages>) -> (MemoryImage, u64) {
    (t.memory_image(), t.bytes_held())
}

#[test]
fn bad_calls_are_refused_and_change_nothing() {
    let pages = CountingPages::new();
    let (t, bus) = top_window_table(&pages);
    let before = state(&t);
    let allocs = pages.stats().allocs;
    let top = u64::MAX - (P64K - 1);
    let mut gather = Gather::new();
    let cases: Vec<(&str, Result<(), TceError>, TceError)> = vec![
        ("zero size", t.map_range(bus, 0, 0, RW), TceError::ZeroSize),
        (
            "misaligned iova",
            t.map_range(bus + 0x1000, 0, P64K, RW),
            TceError::MisalignedIova,
        ),
        (
            "misaligned phys",
            t.map_range(bus, 0x1000, P64K, RW),
            TceError::MisalignedPhys,
        ),
        (
            "misaligned size",
            t.map_range(bus, 0, P64K + 1, RW),
            TceError::MisalignedSize,
        ),
        (
            "below window",
            t.map_range(bus - P64K, 0, P64K, RW),
            TceError::OutsideWindow,
        ),
        (
            "iova overflow",
            t.map_range(top, 0, 2 * P64K, RW),
            TceError::Overflow,
        ),
        (
            "size near max",
            t.map_range(bus, 0, u64::MAX - (P64K - 1), RW),
            TceError::Overflow,
        ),
        (
            "phys overflow",
            t.map_range(bus, top, 2 * P64K, RW),
            TceError::Overflow,
        ),
        (
            "phys too large",
            t.map_range(bus, PHYS_LIMIT - P64K, 2 * P64K, RW),
            TceError::PhysTooLarge,
        ),
        (
            "no permission",
            t.map_range(bus, 0, P64K, Perm::empty()),
            TceError::NoPermission,
        ),
        ("clear zero", t.clear_range(bus, 0), TceError::ZeroSize),
        (
            "clear misaligned",
            t.clear_range(bus + 8, P64K),
            TceError::MisalignedIova,
        ),
        (
            "clear overflow",
            t.clear_range(top, 2 * P64K),
            TceError::Overflow,
        ),
        (
            "clear below",
            t.clear_range(0, P64K),
            TceError::OutsideWindow,
        ),
        (
            "unmap size u64::MAX",
            t.unmap(bus, u64::MAX, &mut gather),
            TceError::MisalignedSize,
        ),
        (
            "map via trait",
            t.map(top, 0, 2 * P64K, RW, &mut gather),
            TceError::Overflow,
        ),
        (
            "exchange misaligned iova",
            t.exchange(bus + 1, Tce::NONE).map(drop),
            TceError::MisalignedIova,
        ),
        (
            "exchange below",
            t.exchange(0, Tce::NONE).map(drop),
            TceError::OutsideWindow,
        ),
        (
            "exchange misaligned phys",
            t.exchange(bus, Tce::new(0x8000, RW)).map(drop),
            TceError::MisalignedPhys,
        ),
        (
            "exchange phys too large",
            t.exchange(bus, Tce::new(PHYS_LIMIT, RW)).map(drop),
            TceError::PhysTooLarge,
        ),
        (
            "get misaligned",
            t.get(top + 1).map(drop),
            TceError::MisalignedIova,
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, Err(want), "{name}");
        assert!(state(&t) == before, "{name} changed the table");
    }
    assert!(gather.is_empty(), "a refused call gathers nothing");
    assert_eq!(
        pages.stats().allocs,
        allocs,
        "a refused call allocates nothing"
    );
    // The last page of the address space still works.
    assert_eq!(t.iova_to_phys(u64::MAX), Some(0x200_0000 + P64K - 1));
}

#[test]
fn unsupported_geometry_is_refused() {
    let g = 1u64 << 30;
    assert_eq!(
        Geometry::new(0, g, 13, 1),
        Err(TceError::UnsupportedPageShift(13))
    );
    assert_eq!(
        Geometry::new(0, g, 64, 1),
        Err(TceError::UnsupportedPageShift(64))
    );
    assert_eq!(
        Geometry::new(0, g, 12, 0),
        Err(TceError::UnsupportedLevels(0))
    );
    assert_eq!(
        Geometry::new(0, g, 12, 6),
        Err(TceError::UnsupportedLevels(6))
    );
    assert_eq!(Geometry::new(0, g + 1, 12, 1), Err(TceError::BadWindowSize));
    assert_eq!(Geometry::new(0, 0x800, 12, 1), Err(TceError::BadWindowSize));
    assert_eq!(Geometry::new(0x1000, g, 12, 1), Err(TceError::BadBusOffset));
    assert_eq!(Geometry::new(0, g, 16, 5), Err(TceError::AddressWidth));
}

#[test]
fn allocation_failure_midway_changes_nothing() {
    let pages = CountingPages::new();
    let t = TceTable::new(Geometry::new(0, 1 << 48, 12, 4).unwrap(), &pages).unwrap();
    t.map_range(0, 0, 16 << 12, RW).unwrap();
    let before = state(&t);
    let live = pages.stats().live_blocks;
    // 1024 pages at 1 TiB need two new middle levels and two new leaves (4).
    for budget in 0..4 {
        pages.fail_after(Some(budget));
        let r = t.map_range(1 << 40, 0, 1024 << 12, RW);
        assert_eq!(r, Err(TceError::NoMemory), "budget {budget}");
        assert!(state(&t) == before);
        assert_eq!(pages.stats().live_blocks, live, "spares freed");
    }
    pages.fail_after(None);
    t.map_range(1 << 40, 0, 1024 << 12, RW).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary (often absurd) arguments: either the call is valid by an
    /// independent statement of the rules and succeeds, or it fails and the
    /// table is unchanged.
    #[test]
    fn arbitrary_arguments(iova in any::<u64>(), phys in any::<u64>(), size in any::<u64>(), shift in 0u32..4) {
        let pages = CountingPages::new();
        let (t, bus) = top_window_table(&pages);
        // Make the values more often near interesting edges.
        let iova = match shift { 0 => iova, 1 => bus.wrapping_add(iova & 0xff_ffff_0000), _ => u64::MAX - (iova & 0xfffff) };
        let size = if shift == 3 { size & 0xf_ffff } else { size };
        let before = state(&t);
        let mask = P64K - 1;
        let valid = size != 0
            && iova & mask == 0 && phys & mask == 0 && size & mask == 0
            && iova >= bus && iova.checked_add(size - 1).is_some()
            && phys.checked_add(size - 1).is_some_and(|l| l < PHYS_LIMIT);
        match t.map_range(iova, phys, size, RW) {
            Ok(()) => prop_assert!(valid),
            Err(e) => {
                prop_assert!(!valid || e == TceError::NoMemory, "{:?} refused", e);
                prop_assert!(state(&t) == before);
            }
        }
    }
}
