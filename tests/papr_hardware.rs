//! What the hypercalls leave in the hardware table and the kills they send,
//! on the path real guests take (one RAM region, so one unit): a refused
//! H_PUT_TCE_INDIRECT leaves the table memory byte-for-byte as it was;
//! replacing a writable TCE marks its page dirty whatever call replaces it;
//! and every kill names the PE whose window changed, with the exact range.

mod papr_common;

use papr_common::*;
use pnv_iommu::iopt::{InvalidationOp, IovaRange, Perm};
use pnv_iommu::papr::{HStatus, PartitionConfig, RamRegion};
use pnv_iommu::tce::Tce;

const R: u64 = 1;
const W: u64 = 2;
const RW: u64 = 3;
const PAGE: u64 = 0x1000;
/// Where each test writes its TCE lists (logical).
const LIST: u64 = 0x1000;
/// Shadow chunk: 512 entries.
const CHUNK_ENTRIES: u64 = 512;

/// A partition with one 16 MiB RAM region (one unit) and PE 1.
fn single_region() -> (
    Hv,
    std::sync::Arc<pnv_iommu::papr::fake::RecordingPhb>,
    Guest,
) {
    let mut hv = Hv::new(pnv_iommu::page_alloc::GlobalPages);
    let phb = std::sync::Arc::new(pnv_iommu::papr::fake::RecordingPhb::logging());
    let ram = [RamRegion {
        logical: 0,
        host: 0x4_0000_0000,
        size: 16 * MIB,
    }];
    let g = add_guest(&mut hv, &phb, &ram, PartitionConfig::default(), 1);
    (hv, phb, g)
}

/// Everything a refused call must leave as it was.
#[derive(Debug, PartialEq)]
struct State {
    table: Vec<(u64, Vec<u8>)>,
    guest: Vec<u64>,
    mapped: Vec<u64>,
    dirty: Vec<u64>,
}

fn state(hv: &Hv, g: &Guest, liobn: u32, from: u64, n: u64) -> State {
    State {
        table: hv
            .inspect_table(g.p, liobn, |t| {
                t.memory_image()
                    .regions()
                    .map(|(a, b)| (a, b.to_vec()))
                    .collect()
            })
            .unwrap(),
        guest: hv.read_tces(g.p, liobn as u64, from, n).unwrap(),
        mapped: hv.mapped_regions(g.p).iter().map(|r| r.mapped).collect(),
        dirty: hv.dirty_pages(g.p),
    }
}

#[test]
fn a_refused_indirect_leaves_the_hardware_table_unchanged_on_one_region() {
    let (hv, phb, g) = single_region();
    let l = g.liobn as u64;
    // Within one shadow chunk, and across a chunk boundary (the batch is
    // then two shadow runs).
    for first in [0x100, CHUNK_ENTRIES - 8] {
        let ioba = first * PAGE;
        let n = 24u64;
        // Old values: writable progression over the first half, scattered
        // read-only entries after it.
        for i in 0..n {
            let v = if i < n / 2 {
                (0x20_0000 + i * PAGE) | RW
            } else if i % 3 == 0 {
                (0x40_0000 + i * 7 * PAGE) | R
            } else {
                0
            };
            hv.h_put_tce(g.p, l, ioba + i * PAGE, v).unwrap();
        }
        let progression: Vec<u64> = (0..n).map(|i| (0x80_0000 + i * PAGE) | RW).collect();
        let irregular: Vec<u64> = (0..n)
            .map(|i| match i % 4 {
                0 => 0,
                1 => (0x90_0000 + (n - i) * PAGE) | R,
                2 => (0xa0_0000 + i * 3 * PAGE) | W,
                _ => 0xb0_0000 | RW,
            })
            .collect();
        let bad_values = [
            (16 * MIB) | RW,         // just past the RAM
            !0xfff | R,              // far outside
            (0x80_0000 + 0x800) | R, // not page aligned
            (16 * MIB - PAGE) | R,   // fine: the last page (control)
        ];
        for list in [&progression, &irregular] {
            for k in [0, 5, n as usize - 1] {
                for (b, &bad) in bad_values.iter().enumerate() {
                    let mut tces = list.clone();
                    tces[k] = bad;
                    g.write_list(LIST, &tces);
                    phb.take_log();
                    let before = state(&hv, &g, g.liobn, ioba, n);
                    let r = hv.h_put_tce_indirect(g.p, l, ioba, LIST, n);
                    if b == bad_values.len() - 1 {
                        assert_eq!(r, Ok(()), "control, entry {k}");
                        continue;
                    }
                    assert_eq!(r, Err(HStatus::Parameter), "bad {bad:#x} at {k}");
                    assert_eq!(
                        state(&hv, &g, g.liobn, ioba, n),
                        before,
                        "bad {bad:#x} at entry {k} of {first:#x}: something changed"
                    );
                    assert!(phb.take_log().is_empty(), "a refused batch killed");
                }
            }
        }
        // A good list lands in the hardware table with host addresses.
        for list in [&progression, &irregular] {
            g.write_list(LIST, list);
            hv.h_put_tce_indirect(g.p, l, ioba, LIST, n).unwrap();
            for (i, &v) in list.iter().enumerate() {
                let want = if v & RW == 0 {
                    Tce::NONE
                } else {
                    Tce::new(g.host(v & !0xfff), Perm::from_bits_truncate(v & RW))
                };
                let at = ioba + i as u64 * PAGE;
                assert_eq!(hv.hardware_tce(g.p, l, at), Ok(want), "entry {i}");
                assert_eq!(hv.h_get_tce(g.p, l, at), Ok(v));
            }
        }
        let valid = irregular.iter().filter(|v| *v & RW != 0).count() as u64;
        assert_eq!(hv.mapped_regions(g.p)[0].mapped, valid);
        hv.h_stuff_tce(g.p, l, ioba, 0, n).unwrap();
        assert_eq!(hv.mapped_regions(g.p)[0].mapped, 0);
    }
}

#[test]
fn replacing_a_writable_tce_marks_its_page_dirty_on_every_call() {
    let (hv, _phb, g) = single_region();
    let l = g.liobn as u64;
    hv.take_dirty_pages(g.p).unwrap();
    // H_PUT_TCE over a writable entry, without a clear between.
    hv.h_put_tce(g.p, l, 0, 0x5000 | W).unwrap();
    hv.h_put_tce(g.p, l, 0, 0x6000 | R).unwrap();
    assert_eq!(hv.take_dirty_pages(g.p).unwrap(), [0x5000]);
    hv.h_put_tce(g.p, l, 0, 0x7000 | R).unwrap();
    assert_eq!(
        hv.take_dirty_pages(g.p).unwrap(),
        [] as [u64; 0],
        "read-only old"
    );
    // H_STUFF_TCE replacing a stuffed writable page (one page repeated).
    hv.h_stuff_tce(g.p, l, 0x10_0000, 0x8000 | RW, 8).unwrap();
    hv.h_stuff_tce(g.p, l, 0x10_0000, 0x9000 | R, 8).unwrap();
    assert_eq!(hv.take_dirty_pages(g.p).unwrap(), [0x8000]);
    // H_PUT_TCE_INDIRECT replacing a progression of writable pages.
    let ioba = 0x20_0000;
    let prog: Vec<u64> = (0..16).map(|i| (0x30_0000 + i * PAGE) | W).collect();
    g.write_list(LIST, &prog);
    hv.h_put_tce_indirect(g.p, l, ioba, LIST, 16).unwrap();
    let fresh: Vec<u64> = (0..16).map(|i| (0x50_0000 + i * PAGE) | R).collect();
    g.write_list(LIST, &fresh);
    hv.h_put_tce_indirect(g.p, l, ioba, LIST, 16).unwrap();
    let want: Vec<u64> = (0..16).map(|i| 0x30_0000 + i * PAGE).collect();
    assert_eq!(hv.take_dirty_pages(g.p).unwrap(), want);
    // ... and scattered old values, only the writable ones dirty.
    let scattered = [
        0x61_0000 | W,
        0x62_3000 | R,
        0,
        0x60_5000 | RW,
        0x61_0000 | W,
    ];
    g.write_list(LIST, &scattered);
    hv.h_put_tce_indirect(g.p, l, ioba, LIST, 5).unwrap();
    hv.take_dirty_pages(g.p).unwrap();
    g.write_list(LIST, &[0x70_0000 | R; 5]);
    hv.h_put_tce_indirect(g.p, l, ioba, LIST, 5).unwrap();
    assert_eq!(hv.take_dirty_pages(g.p).unwrap(), [0x60_5000, 0x61_0000]);
    // A 64 KiB-page window: the whole old page is dirty.
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 30).unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x10_0000 | W)
        .unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x20_0000 | R)
        .unwrap();
    let want: Vec<u64> = (0..16).map(|i| 0x10_0000 + i * PAGE).collect();
    assert_eq!(hv.take_dirty_pages(g.p).unwrap(), want);
}

#[test]
fn every_kill_names_the_pe_of_the_window_and_the_exact_range() {
    let (hv, phb, g) = single_region();
    // A second PE of the same partition on the same PHB.
    let l2 = hv.attach_pe(g.p, phb.clone(), pe_config(0x200, 2)).unwrap();
    let w = hv.ddw_create(g.p, 0x200, BUID, 16, 32).unwrap();
    phb.take_log();
    let range = |start: u64, pages: u64, shift: u32| IovaRange {
        start,
        size: pages << shift,
        page_shift: shift,
    };
    // (PE, first IOVA, pages, page shift) of the kill each call must send.
    type Case<'a> = (u16, u64, u64, u32, &'a dyn Fn() -> Result<(), HStatus>);
    let cases: [Case; 7] = [
        (1, 0x3000, 1, 12, &|| {
            hv.h_put_tce(g.p, g.liobn as u64, 0x3000, 0x5000 | R)
        }),
        (2, 0x7000, 1, 12, &|| {
            hv.h_put_tce(g.p, l2 as u64, 0x7000, 0x5000 | R)
        }),
        (2, 0x7000, 1, 12, &|| {
            hv.h_put_tce(g.p, l2 as u64, 0x7000, 0)
        }),
        (2, 0x9000, 9, 12, &|| {
            hv.h_stuff_tce(g.p, l2 as u64, 0x9000, 0x6000 | RW, 9)
        }),
        (1, 0x4_0000, 64, 12, &|| {
            hv.h_stuff_tce(g.p, g.liobn as u64, 0x4_0000, 0, 64)
        }),
        (2, w.start + 0x3_0000, 3, 16, &|| {
            hv.h_stuff_tce(g.p, w.liobn as u64, w.start + 0x3_0000, 0x10_0000 | R, 3)
        }),
        (2, w.start, 2, 16, &|| {
            g.write_list(LIST, &[0x20_0000 | R, 0x30_0000 | W]);
            hv.h_put_tce_indirect(g.p, w.liobn as u64, w.start, LIST, 2)
        }),
    ];
    for (i, (pe, start, pages, shift, call)) in cases.iter().enumerate() {
        assert_eq!(call(), Ok(()), "case {i}");
        assert_eq!(
            phb.take_log(),
            [
                InvalidationOp::Range(*pe, range(*start, *pages, *shift)),
                InvalidationOp::Sync
            ],
            "case {i}"
        );
    }
    // More than 64 pages: one kill of the whole PE (the right one).
    hv.h_stuff_tce(g.p, l2 as u64, 0x10_0000, 0, 65).unwrap();
    assert_eq!(
        phb.take_log(),
        [InvalidationOp::Pe(2), InvalidationOp::Sync]
    );
    // A count of 0 kills nothing.
    hv.h_stuff_tce(g.p, g.liobn as u64, 0, 0, 0).unwrap();
    assert!(phb.take_log().is_empty());
    // Removing the dynamic window of PE 2 kills PE 2.
    hv.ddw_remove(g.p, w.liobn).unwrap();
    assert_eq!(
        phb.take_log(),
        [InvalidationOp::Pe(2), InvalidationOp::Sync]
    );
}
