//! Property tests: random sequences of map / unmap / exchange / clear on TCE
//! tables of every page size and level count, checked against a simple model
//! through the independent reference walker (which reads the table's memory as
//! the PHB would, given only the raw TVE).

use std::collections::{BTreeMap, BTreeSet};

use pnv_iommu::iopt::{Gather, IoPageTable, Perm};
use pnv_iommu::page_alloc::CountingPages;
use pnv_iommu::tce::geometry::PAGE_SHIFTS;
use pnv_iommu::tce::reference::{WalkFault, translate};
use pnv_iommu::tce::{Geometry, Tce, TceError, TceTable};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[derive(Clone, Copy, Debug)]
enum Op {
    Map {
        page: u64,
        n: u64,
        phys_page: u64,
        perm: u8,
    },
    Unmap {
        page: u64,
        n: u64,
    },
    Exchange {
        page: u64,
        phys_page: u64,
        perm: u8,
    },
    Clear {
        page: u64,
        n: u64,
    },
}

/// A page number: half the time anywhere, half the time near a hot spot so
/// that operations share levels.
fn page() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), (0u64..2048).prop_map(|p| p | 1 << 63)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (page(), 1u64..24, 0u64..1 << 20, 1u8..4).prop_map(|(page, n, phys_page, perm)| Op::Map {
            page,
            n,
            phys_page,
            perm
        }),
        (page(), 1u64..24).prop_map(|(page, n)| Op::Unmap { page, n }),
        (page(), 0u64..1 << 20, 0u8..4).prop_map(|(page, phys_page, perm)| Op::Exchange {
            page,
            phys_page,
            perm
        }),
        (page(), 1u64..24).prop_map(|(page, n)| Op::Clear { page, n }),
    ]
}

/// Independent statement of the geometry rule (DESIGN §6).
fn expected_entry_bits(window_bits: u32, ps: u32, levels: u32) -> Option<u32> {
    let per_level = (window_bits - ps).div_ceil(levels).max(9);
    (per_level * levels + ps < 55 && per_level + 3 - 11 <= 31).then_some(per_level)
}

#[derive(Debug)]
struct Case {
    window_entry_bits: u32,
    bus_choice: u8,
    ops: Vec<Op>,
}

fn case(levels: u32) -> impl Strategy<Value = Case> {
    let max_bits = if levels == 1 { 12 } else { levels * 10 };
    (0..=max_bits, 0u8..4, prop::collection::vec(op(), 1..40)).prop_map(
        |(window_entry_bits, bus_choice, ops)| Case {
            window_entry_bits,
            bus_choice,
            ops,
        },
    )
}

fn run_case(ps: u32, levels: u32, c: &Case) -> Result<(), TestCaseError> {
    let window_bits = ps + c.window_entry_bits;
    if window_bits > 63 {
        return Ok(());
    }
    let window = 1u64 << window_bits;
    let bus = match c.bus_choice {
        0 => 0,
        1 => window.saturating_mul(5).min(u64::MAX - (window - 1)) & !(window - 1),
        2 if window_bits <= 59 => 1 << 59,
        _ => (u64::MAX - (window - 1)) & !(window - 1),
    };
    let geometry = Geometry::new(bus, window, ps, levels);
    let Some(bits) = expected_entry_bits(window_bits, ps, levels) else {
        prop_assert_eq!(geometry, Err(TceError::AddressWidth));
        return Ok(());
    };
    let geometry = geometry.unwrap();
    prop_assert_eq!(geometry.entry_bits(), bits);

    let pages = CountingPages::new();
    let table = TceTable::new(geometry, &pages).unwrap();
    let wpages = geometry.window_pages();
    let page_size = 1u64 << ps;
    let iova_of = |p: u64| bus + (p % wpages) * page_size;
    let run = |p: u64, n: u64| n.min(wpages - p % wpages);
    let mut model: BTreeMap<u64, (u64, Perm)> = BTreeMap::new();
    let mut touched = BTreeSet::new();
    let mut gather = Gather::new();

    for op in &c.ops {
        match *op {
            Op::Map {
                page,
                n,
                phys_page,
                perm,
            } => {
                let n = run(page, n);
                let perm = Perm::from_bits_truncate(perm.into());
                table
                    .map(
                        iova_of(page),
                        phys_page << ps,
                        n * page_size,
                        perm,
                        &mut gather,
                    )
                    .unwrap();
                for i in 0..n {
                    let p = page % wpages + i;
                    model.insert(p, ((phys_page + i) << ps, perm));
                    touched.insert(p);
                }
            }
            Op::Unmap { page, n } | Op::Clear { page, n } => {
                let n = run(page, n);
                if matches!(op, Op::Unmap { .. }) {
                    table
                        .unmap(iova_of(page), n * page_size, &mut gather)
                        .unwrap();
                } else {
                    table.clear_range(iova_of(page), n * page_size).unwrap();
                }
                for i in 0..n {
                    model.remove(&(page % wpages + i));
                    touched.insert(page % wpages + i);
                }
            }
            Op::Exchange {
                page,
                phys_page,
                perm,
            } => {
                let perm = Perm::from_bits_truncate(perm.into());
                let new = if perm.is_empty() {
                    Tce::NONE
                } else {
                    Tce::new(phys_page << ps, perm)
                };
                let old = table.exchange(iova_of(page), new).unwrap();
                let p = page % wpages;
                let expected_old = model.get(&p).map_or(Tce::NONE, |&(a, pm)| Tce::new(a, pm));
                prop_assert_eq!(old, expected_old);
                if perm.is_empty() {
                    model.remove(&p);
                } else {
                    model.insert(p, (phys_page << ps, perm));
                }
                touched.insert(p);
            }
        }
    }

    // The PHB's view of every touched page equals the model.
    let image = table.memory_image();
    let tve = table.tve();
    for &p in &touched {
        let iova = bus + p * page_size;
        for offset in [0, page_size - 1, page_size / 3] {
            let walked = translate(tve, iova + offset, &image);
            match model.get(&p) {
                Some(&(phys, perm)) => {
                    let t = walked.map_err(|e| TestCaseError::fail(format!("page {p}: {e:?}")))?;
                    prop_assert_eq!((t.phys, t.perm), (phys + offset, perm));
                    prop_assert_eq!(table.iova_to_phys(iova + offset), Some(phys + offset));
                }
                None => {
                    prop_assert!(
                        matches!(
                            walked,
                            Err(WalkFault::NotMapped | WalkFault::InvalidIndirect(_))
                        ),
                        "page {} should be unmapped, walker says {:?}",
                        p,
                        walked
                    );
                    prop_assert_eq!(table.iova_to_phys(iova + offset), None);
                }
            }
        }
        let expected = model.get(&p).map_or(Tce::NONE, |&(a, pm)| Tce::new(a, pm));
        prop_assert_eq!(table.get(iova), Ok(expected));
    }

    // Every level is a whole level, aligned to its size; nothing leaked.
    let level_bytes = geometry.level_bytes();
    for (base, bytes) in image.regions() {
        prop_assert_eq!(bytes.len() as u64, level_bytes);
        prop_assert_eq!(base % level_bytes, 0, "level at {:#x} misaligned", base);
    }
    prop_assert_eq!(image.total_bytes(), table.bytes_held());
    prop_assert_eq!(pages.stats().live_bytes, table.bytes_held());
    drop(table);
    prop_assert_eq!(pages.stats().live_blocks, 0);
    Ok(())
}

#[test]
fn random_operations_match_the_model_for_every_page_size_and_level_count() {
    let cases = std::env::var("TCE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    for ps in PAGE_SHIFTS {
        for levels in 1..=5 {
            let mut runner = TestRunner::new(Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            });
            runner
                .run(&case(levels), |c| run_case(ps, levels, &c))
                .unwrap_or_else(|e| panic!("page shift {ps}, {levels} levels: {e}"));
        }
    }
}

#[test]
fn five_levels_are_always_refused_by_the_width_rule() {
    // (level_shift - 3) * 5 + page_shift >= 9 * 5 + 12 = 57 for every geometry.
    for ps in PAGE_SHIFTS {
        for window_bits in ps..64 {
            assert_eq!(
                Geometry::new(0, 1 << window_bits, ps, 5),
                Err(TceError::AddressWidth)
            );
        }
    }
}
