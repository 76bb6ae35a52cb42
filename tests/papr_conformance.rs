//! Conformance of the TCE hypercalls and DDW RTAS calls to DESIGN §8: one
//! test per rule, named after it.

mod papr_common;

use papr_common::*;
use pnv_iommu::iopt::Perm;
use pnv_iommu::papr::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE};
use pnv_iommu::papr::{
    DDW_PAGE_4K, DDW_PAGE_16M, DDW_PAGE_64K, DDW_WINDOW_START, DdwCall, HStatus, PartitionConfig,
    PreregError, RamRegion, RtasStatus,
};
use pnv_iommu::tce::Tce;

const R: u64 = 1;
const W: u64 = 2;
const RW: u64 = 3;

fn cfg() -> PartitionConfig {
    PartitionConfig::default()
}

/// Snapshot of the whole window: the table's memory and the guest values.
fn snapshot(hv: &Hv, g: &Guest, liobn: u32) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
    let image = hv
        .inspect_table(g.p, liobn, |t| {
            t.memory_image()
                .regions()
                .map(|(a, b)| (a, b.to_vec()))
                .collect()
        })
        .unwrap();
    let info = hv
        .liobns(g.p)
        .into_iter()
        .find(|w| w.liobn == liobn)
        .unwrap();
    let n = (info.window_size >> info.page_shift).min(4096);
    let guest = hv.read_tces(g.p, liobn as u64, info.bus_offset, n).unwrap();
    (image, guest)
}

#[test]
fn unknown_liobn_is_h_parameter() {
    let (hv, _phb, g) = one_guest(cfg());
    let bad = [g.liobn as u64 + 100, (1 << 32) | g.liobn as u64];
    for liobn in bad {
        assert_eq!(
            hv.h_put_tce(g.p, liobn, 0, 0x1000 | RW),
            Err(HStatus::Parameter)
        );
        assert_eq!(hv.h_get_tce(g.p, liobn, 0), Err(HStatus::Parameter));
        assert_eq!(hv.h_stuff_tce(g.p, liobn, 0, 0, 4), Err(HStatus::Parameter));
        assert_eq!(
            hv.h_put_tce_indirect(g.p, liobn, 0, 0x1000, 1),
            Err(HStatus::Parameter)
        );
    }
}

#[test]
fn liobn_of_another_partition_is_unknown() {
    let (mut hv, phb, g) = one_guest(cfg());
    let other = add_guest(
        &mut hv,
        &phb,
        &[RamRegion {
            logical: 0,
            host: 0x5_0000_0000,
            size: 4 * MIB,
        }],
        cfg(),
        2,
    );
    assert_eq!(
        hv.h_put_tce(other.p, g.liobn as u64, 0, 0x1000 | RW),
        Err(HStatus::Parameter)
    );
    assert_eq!(
        hv.h_get_tce(g.p, other.liobn as u64, 0),
        Err(HStatus::Parameter)
    );
}

#[test]
fn misaligned_ioba_is_h_parameter() {
    let (hv, phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    for ioba in [0x800, 0x1001, 0xfff] {
        assert_eq!(
            hv.h_put_tce(g.p, l, ioba, 0x1000 | RW),
            Err(HStatus::Parameter)
        );
        assert_eq!(hv.h_get_tce(g.p, l, ioba), Err(HStatus::Parameter));
        assert_eq!(
            hv.h_stuff_tce(g.p, l, ioba, 0x1000 | R, 2),
            Err(HStatus::Parameter)
        );
        g.write_list(0x2000, &[0x1000 | R]);
        assert_eq!(
            hv.h_put_tce_indirect(g.p, l, ioba, 0x2000, 1),
            Err(HStatus::Parameter)
        );
        // count 0 with a misaligned IOBA is still refused.
        assert_eq!(hv.h_stuff_tce(g.p, l, ioba, 0, 0), Err(HStatus::Parameter));
    }
    // In a 64K-page DDW window, 4K alignment is not enough.
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 30).unwrap();
    assert_eq!(
        hv.h_put_tce(g.p, w.liobn as u64, w.start + 0x1000, 0x10000 | RW),
        Err(HStatus::Parameter)
    );
    assert_eq!(phb.kills().kills(), 0);
}

#[test]
fn ioba_range_outside_window_is_h_parameter() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    let last = DEFAULT_WINDOW - 0x1000;
    assert_eq!(
        hv.h_put_tce(g.p, l, DEFAULT_WINDOW, 0x1000 | RW),
        Err(HStatus::Parameter)
    );
    assert_eq!(
        hv.h_get_tce(g.p, l, DEFAULT_WINDOW),
        Err(HStatus::Parameter)
    );
    // Starts inside, runs past the end.
    assert_eq!(
        hv.h_stuff_tce(g.p, l, last, 0x1000 | R, 2),
        Err(HStatus::Parameter)
    );
    assert_eq!(hv.h_stuff_tce(g.p, l, last, 0x1000 | R, 1), Ok(()));
    // The dynamic window starts at 1 << 59: bus 0 is not in it.
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 24).unwrap();
    assert_eq!(
        hv.h_put_tce(g.p, w.liobn as u64, 0, 0x1000 | RW),
        Err(HStatus::Parameter)
    );
}

#[test]
fn ioba_plus_count_overflow_near_u64_max_is_h_parameter() {
    let (hv, _phb, g) = one_guest(cfg());
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    g.write_list(0, &[0x1000 | R; 512]);
    for l in [g.liobn as u64, w.liobn as u64] {
        for ioba in [!0xfff, (u64::MAX - 0x1000 * 100 + 1) & !0xfff] {
            assert_eq!(
                hv.h_stuff_tce(g.p, l, ioba, 0x1000 | R, 512),
                Err(HStatus::Parameter)
            );
            assert_eq!(
                hv.h_put_tce_indirect(g.p, l, ioba, 0, 512),
                Err(HStatus::Parameter)
            );
            assert_eq!(
                hv.h_put_tce(g.p, l, ioba, 0x1000 | R),
                Err(HStatus::Parameter)
            );
            assert_eq!(hv.h_get_tce(g.p, l, ioba), Err(HStatus::Parameter));
        }
    }
}

#[test]
fn count_zero_succeeds_and_changes_nothing() {
    let (hv, phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    let before = snapshot(&hv, &g, g.liobn);
    assert_eq!(hv.h_stuff_tce(g.p, l, 0x4000, 0x1000 | RW, 0), Ok(()));
    assert_eq!(hv.h_put_tce_indirect(g.p, l, 0x4000, 0x3000, 0), Ok(()));
    assert_eq!(snapshot(&hv, &g, g.liobn), before);
    assert_eq!(phb.kills().kills() + phb.kills().sync, 0);
}

#[test]
fn indirect_count_513_is_h_parameter() {
    let (hv, phb, g) = one_guest(cfg());
    g.write_list(0x1000, &[0x8000 | R; 513]);
    let before = snapshot(&hv, &g, g.liobn);
    assert_eq!(
        hv.h_put_tce_indirect(g.p, g.liobn as u64, 0, 0x1000, 513),
        Err(HStatus::Parameter)
    );
    assert_eq!(snapshot(&hv, &g, g.liobn), before);
    assert_eq!(phb.kills().kills(), 0);
    assert_eq!(
        hv.h_put_tce_indirect(g.p, g.liobn as u64, 0, 0x1000, 512),
        Ok(())
    );
}

#[test]
fn stuff_count_513_is_h_p4() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    assert_eq!(hv.h_stuff_tce(g.p, l, 0, 0x1000 | R, 513), Err(HStatus::P4));
    assert_eq!(
        hv.h_stuff_tce(g.p, l, 0, 0x1000 | R, u64::MAX),
        Err(HStatus::P4)
    );
    assert_eq!(hv.h_stuff_tce(g.p, l, 0, 0x1000 | R, 512), Ok(()));
    let regs = hcall(&hv, g.p, &[H_STUFF_TCE, l, 0, 0, 513], false);
    assert_eq!(regs[0] as i64, -57);
}

#[test]
fn tce_naming_memory_outside_the_partition_is_h_parameter() {
    let (hv, phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    let outside = [
        4 * MIB,           // just past region 0
        16 * MIB - 0x1000, // just below region 1
        20 * MIB,          // just past region 1
        0x1_0000_0000,     // the host address of region 0
        1 << 56,           // beyond any address
        !0xfff,            // top of the address space
    ];
    for la in outside {
        for perm in [R, W, RW] {
            assert_eq!(
                hv.h_put_tce(g.p, l, 0, la | perm),
                Err(HStatus::Parameter),
                "{la:#x}"
            );
            assert_eq!(
                hv.h_stuff_tce(g.p, l, 0, la | perm, 3),
                Err(HStatus::Parameter)
            );
        }
    }
    // A 64K IOMMU page that starts inside RAM but ends outside it.
    let mut hv2 = Hv::new(pnv_iommu::page_alloc::GlobalPages);
    let g2 = add_guest(
        &mut hv2,
        &phb,
        &[RamRegion {
            logical: 0,
            host: 0x7_0000_0000,
            size: 0x18000,
        }],
        cfg(),
        9,
    );
    let w = hv2.ddw_create(g2.p, g2.config_addr, BUID, 16, 24).unwrap();
    assert_eq!(hv2.h_put_tce(g2.p, w.liobn as u64, w.start, RW), Ok(()));
    assert_eq!(
        hv2.h_put_tce(g2.p, w.liobn as u64, w.start, 0x10000 | RW),
        Err(HStatus::Parameter)
    );
    assert_eq!(
        hv.mapped_regions(g.p).iter().map(|r| r.mapped).sum::<u64>(),
        0
    );
}

#[test]
fn tce_not_page_aligned_or_with_reserved_bits_is_h_parameter() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    for tce in [0x1800 | RW, 0x1004 | R, 0x1ff8 | W] {
        assert_eq!(hv.h_put_tce(g.p, l, 0, tce), Err(HStatus::Parameter));
    }
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 30).unwrap();
    assert_eq!(
        hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x11000 | RW),
        Err(HStatus::Parameter)
    );
    assert_eq!(
        hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x10000 | RW),
        Ok(())
    );
}

#[test]
fn tce_without_permission_clears() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    hv.h_stuff_tce(g.p, l, 0, 0x5000 | RW, 4).unwrap();
    // Address bits without R/W are a clear, even outside RAM.
    hv.h_put_tce(g.p, l, 0x1000, 0xdead_0000_0000).unwrap();
    assert_eq!(hv.hardware_tce(g.p, l, 0x1000).unwrap(), Tce::NONE);
    assert_eq!(hv.h_get_tce(g.p, l, 0x1000), Ok(0xdead_0000_0000));
    hv.h_stuff_tce(g.p, l, 0, 0, 4).unwrap();
    for i in 0..4 {
        assert_eq!(hv.hardware_tce(g.p, l, i * 0x1000).unwrap(), Tce::NONE);
    }
    assert_eq!(
        hv.mapped_regions(g.p).iter().map(|r| r.mapped).sum::<u64>(),
        0
    );
}

#[test]
fn indirect_list_not_4k_aligned_is_h_parameter() {
    let (hv, _phb, g) = one_guest(cfg());
    g.write_list(0x2008, &[0x1000 | R; 4]);
    for list in [0x2008, 0x2800, 0x2001] {
        assert_eq!(
            hv.h_put_tce_indirect(g.p, g.liobn as u64, 0, list, 4),
            Err(HStatus::Parameter)
        );
    }
}

#[test]
fn indirect_list_outside_the_partition_is_h_parameter() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    for list in [4 * MIB, 8 * MIB, 0x1_0000_0000, !0xfff] {
        assert_eq!(
            hv.h_put_tce_indirect(g.p, l, 0, list, 1),
            Err(HStatus::Parameter)
        );
    }
    // The last page of region 0 holds a full list; there is no next page.
    g.write_list(4 * MIB - 0x1000, &[0x1000 | R; 512]);
    assert_eq!(
        hv.h_put_tce_indirect(g.p, l, 0, 4 * MIB - 0x1000, 512),
        Ok(())
    );
}

#[test]
fn indirect_invalid_entry_in_the_middle_writes_nothing() {
    let (hv, phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    // Some entries already there, to see they are not touched either.
    hv.h_stuff_tce(g.p, l, 0, 0x7000 | RW, 512).unwrap();
    let kills = phb.kills();
    let before = snapshot(&hv, &g, g.liobn);
    let dirty_before = hv.dirty_pages(g.p);
    for bad in [(4 * MIB) | R, 0x1800 | R, 0x1_0000_0000 | W, 0x2004 | R] {
        let mut list: Vec<u64> = (0..512).map(|i| (0x10_0000 + i * 0x1000) | RW).collect();
        list[257] = bad;
        g.write_list(0x8000, &list);
        assert_eq!(
            hv.h_put_tce_indirect(g.p, l, 0, 0x8000, 512),
            Err(HStatus::Parameter)
        );
        assert_eq!(snapshot(&hv, &g, g.liobn), before);
    }
    assert_eq!(phb.kills(), kills);
    assert_eq!(hv.dirty_pages(g.p), dirty_before);
}

#[test]
fn indirect_writes_the_list_and_reads_it_through_the_logical_map() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    // The list lives in region 1 (logical 16 MiB, host elsewhere); entries
    // name pages in both regions.
    let list: Vec<u64> = (0..300u64)
        .map(|i| {
            if i % 2 == 0 {
                (i * 0x1000) | R
            } else {
                (16 * MIB + i * 0x1000) | RW
            }
        })
        .collect();
    g.write_list(16 * MIB + 0x3000, &list);
    hv.h_put_tce_indirect(g.p, l, 0x40_0000, 16 * MIB + 0x3000, 300)
        .unwrap();
    for (i, &tce) in list.iter().enumerate() {
        let ioba = 0x40_0000 + i as u64 * 0x1000;
        assert_eq!(hv.h_get_tce(g.p, l, ioba), Ok(tce));
        let hw = hv.hardware_tce(g.p, l, ioba).unwrap();
        assert_eq!(hw.phys(), g.host(tce & !0xfff));
        assert_eq!(hw.perm().bits(), tce & 3);
    }
}

#[test]
fn get_tce_returns_the_guest_value_while_hardware_holds_the_host_address() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    let tce = (16 * MIB + 0x5000) | W;
    hv.h_put_tce(g.p, l, 0x9000, tce).unwrap();
    assert_eq!(hv.h_get_tce(g.p, l, 0x9000), Ok(tce));
    let hw = hv.hardware_tce(g.p, l, 0x9000).unwrap();
    assert_eq!(hw, Tce::new(0x2_0040_5000, Perm::WRITE));
    // The reference walker agrees, through the TVE programmed in the PHB.
    let (tve, t) = hv
        .inspect_table(g.p, g.liobn, |t| (t.tve(), t.memory_image()))
        .unwrap();
    let walked = pnv_iommu::tce::reference::translate(tve, 0x9123, &t).unwrap();
    assert_eq!(walked.phys, 0x2_0040_5123);
    // At register level, r4 gets the guest value.
    let regs = hcall(&hv, g.p, &[H_GET_TCE, l, 0x9000], false);
    assert_eq!((regs[0], regs[1]), (0, tce));
}

#[test]
fn one_invalidation_per_call() {
    let (hv, phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    let list: Vec<u64> = (0..512).map(|i| (i * 0x1000) | RW).collect();
    g.write_list(0x20_0000, &list);
    let calls: [&dyn Fn() -> Result<(), HStatus>; 4] = [
        &|| hv.h_put_tce(g.p, l, 0, 0x1000 | R),
        &|| hv.h_stuff_tce(g.p, l, 0x10_0000, 0x1000 | R, 512),
        &|| hv.h_put_tce_indirect(g.p, l, 0x20_0000, 0x20_0000, 512),
        &|| hv.h_put_tce_indirect(g.p, l, 0x20_0000, 0x20_0000, 3),
    ];
    for call in calls {
        let before = phb.kills();
        call().unwrap();
        let after = phb.kills();
        assert_eq!(after.kills() - before.kills(), 1);
        assert_eq!(after.sync - before.sync, 1);
    }
}

#[test]
fn replacing_a_valid_tce_needs_no_clear_and_releases_the_old_reference() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    hv.h_put_tce(g.p, l, 0, 0x1000 | RW).unwrap();
    hv.h_put_tce(g.p, l, 0, (16 * MIB) | R).unwrap();
    let counts: Vec<u64> = hv.mapped_regions(g.p).iter().map(|r| r.mapped).collect();
    assert_eq!(counts, [0, 1]);
    assert_eq!(
        hv.hardware_tce(g.p, l, 0).unwrap(),
        Tce::new(0x2_0040_0000, Perm::READ)
    );
    hv.h_stuff_tce(g.p, l, 0, 0x3000 | R, 10).unwrap();
    let counts: Vec<u64> = hv.mapped_regions(g.p).iter().map(|r| r.mapped).collect();
    assert_eq!(counts, [10, 0]);
    hv.h_stuff_tce(g.p, l, 0x4000, 0, 3).unwrap();
    assert_eq!(hv.mapped_regions(g.p)[0].mapped, 7);
}

#[test]
fn dirty_log_marks_pages_whose_old_tce_had_write() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    hv.h_put_tce(g.p, l, 0, 0x1000 | R).unwrap();
    hv.h_put_tce(g.p, l, 0x1000, 0x2000 | W).unwrap();
    hv.h_put_tce(g.p, l, 0x2000, (16 * MIB + 0x3000) | RW)
        .unwrap();
    assert!(hv.dirty_pages(g.p).is_empty());
    hv.h_stuff_tce(g.p, l, 0, 0, 3).unwrap(); // clear all three
    assert_eq!(hv.dirty_pages(g.p), [0x2000, 16 * MIB + 0x3000]);
    assert_eq!(
        hv.take_dirty_pages(g.p).unwrap(),
        [0x2000, 16 * MIB + 0x3000]
    );
    assert!(hv.dirty_pages(g.p).is_empty());
    // Replacing (not clearing) a writable entry marks it too.
    hv.h_put_tce(g.p, l, 0, 0x9000 | W).unwrap();
    hv.h_put_tce(g.p, l, 0, 0xa000 | R).unwrap();
    assert_eq!(hv.take_dirty_pages(g.p).unwrap(), [0x9000]);
    // A 64K page marks every 4K page in it.
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 24).unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x10000 | W)
        .unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0).unwrap();
    assert_eq!(
        hv.take_dirty_pages(g.p).unwrap(),
        (0..16).map(|i| 0x10000 + i * 0x1000).collect::<Vec<_>>()
    );
}

#[test]
fn prereg_only_registered_memory_can_be_mapped() {
    let (hv, _phb, g) = one_guest(PartitionConfig {
        prereg: true,
        pin_limit: 2 * MIB,
        ..PartitionConfig::default()
    });
    let l = g.liobn as u64;
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0x1000 | R), Err(HStatus::Parameter));
    hv.prereg_register(g.p, 0x10_0000, 0x10_0000).unwrap();
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0x1000 | R), Err(HStatus::Parameter));
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0x10_0000 | R), Ok(()));
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0x1f_f000 | R), Ok(()));
    assert_eq!(
        hv.h_put_tce(g.p, l, 0, 0x20_0000 | R),
        Err(HStatus::Parameter)
    );
    g.write_list(0, &[0x10_0000 | R, 0x20_0000 | R]);
    assert_eq!(
        hv.h_put_tce_indirect(g.p, l, 0x1000, 0, 2),
        Err(HStatus::Parameter)
    );
}

#[test]
fn prereg_beyond_the_pin_limit_is_not_enough_resources() {
    let (hv, _phb, g) = one_guest(PartitionConfig {
        prereg: true,
        pin_limit: 2 * MIB,
        ..PartitionConfig::default()
    });
    hv.prereg_register(g.p, 0, MIB).unwrap();
    assert_eq!(
        hv.prereg_register(g.p, 16 * MIB, MIB + 0x1000),
        Err(PreregError::NotEnoughResources)
    );
    assert_eq!(PreregError::NotEnoughResources as i64, -44);
    hv.prereg_register(g.p, 16 * MIB, MIB).unwrap();
    assert_eq!(hv.pinned_bytes(g.p), 2 * MIB);
    // Overlap, misalignment, outside RAM: parameter errors.
    assert_eq!(
        hv.prereg_register(g.p, 0x8000, 0x1000),
        Err(PreregError::Parameter)
    );
    assert_eq!(
        hv.prereg_register(g.p, 2 * MIB + 1, 0x1000),
        Err(PreregError::Parameter)
    );
    assert_eq!(
        hv.prereg_register(g.p, 8 * MIB, 0x1000),
        Err(PreregError::Parameter)
    );
}

#[test]
fn prereg_unregistering_a_mapped_region_is_refused() {
    let (hv, _phb, g) = one_guest(PartitionConfig {
        prereg: true,
        pin_limit: u64::MAX,
        ..PartitionConfig::default()
    });
    let l = g.liobn as u64;
    hv.prereg_register(g.p, 0, MIB).unwrap();
    hv.h_stuff_tce(g.p, l, 0, 0x4000 | RW, 3).unwrap();
    assert_eq!(hv.prereg_unregister(g.p, 0, MIB), Err(PreregError::InUse));
    hv.h_stuff_tce(g.p, l, 0, 0, 2).unwrap();
    assert_eq!(hv.prereg_unregister(g.p, 0, MIB), Err(PreregError::InUse));
    hv.h_put_tce(g.p, l, 0x2000, 0).unwrap();
    assert_eq!(
        hv.prereg_unregister(g.p, 0, 0x1000),
        Err(PreregError::Parameter)
    );
    assert_eq!(hv.prereg_unregister(g.p, 0, MIB), Ok(()));
    assert_eq!(hv.pinned_bytes(g.p), 0);
    // Removing a window releases its references, so the region can go.
    hv.prereg_register(g.p, 0, MIB).unwrap();
    hv.h_put_tce(g.p, l, 0, 0x4000 | R).unwrap();
    hv.ddw_remove(g.p, g.liobn).unwrap();
    assert_eq!(hv.prereg_unregister(g.p, 0, MIB), Ok(()));
    // Without pre-registration the calls are refused.
    let (hv, _phb, g) = one_guest(cfg());
    assert_eq!(hv.prereg_register(g.p, 0, MIB), Err(PreregError::Disabled));
}

#[test]
fn problem_state_is_h_privilege() {
    let (hv, phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    for op in [
        H_PUT_TCE,
        H_GET_TCE,
        H_STUFF_TCE,
        H_PUT_TCE_INDIRECT,
        0x1234,
    ] {
        let regs = hcall(&hv, g.p, &[op, l, 0, 0x1000 | RW, 1], true);
        assert_eq!(regs[0] as i64, -3);
        assert_eq!(regs[1], l);
    }
    assert_eq!(hv.h_get_tce(g.p, l, 0), Ok(0));
    assert_eq!(phb.kills().kills(), 0);
}

#[test]
fn unknown_opcode_is_h_function() {
    let (hv, _phb, g) = one_guest(cfg());
    for op in [0, 0x4, 0x1D, 0x21, 0x140, u64::MAX] {
        let regs = hcall(&hv, g.p, &[op, g.liobn as u64, 0, 0x1000 | RW], false);
        assert_eq!(regs[0] as i64, -2, "{op:#x}");
    }
}

#[test]
fn register_level_put_stuff_indirect() {
    let (hv, _phb, g) = one_guest(cfg());
    let l = g.liobn as u64;
    let regs = hcall(&hv, g.p, &[H_PUT_TCE, l, 0x3000, 0x6000 | RW], false);
    assert_eq!(regs[0], 0);
    assert_eq!(hv.h_get_tce(g.p, l, 0x3000), Ok(0x6000 | RW));
    assert_eq!(
        hcall(&hv, g.p, &[H_STUFF_TCE, l, 0x10000, 0x7000 | R, 5], false)[0],
        0
    );
    assert_eq!(hv.h_get_tce(g.p, l, 0x14000), Ok(0x7000 | R));
    g.write_list(0x5000, &[0x8000 | W, 0x9000 | R]);
    assert_eq!(
        hcall(
            &hv,
            g.p,
            &[H_PUT_TCE_INDIRECT, l, 0x20000, 0x5000, 2],
            false
        )[0],
        0
    );
    assert_eq!(hv.h_get_tce(g.p, l, 0x21000), Ok(0x9000 | R));
    assert_eq!(
        hcall(&hv, g.p, &[H_PUT_TCE, l, 0x3001, 0], false)[0] as i64,
        -4
    );
}

#[test]
fn window_is_programmed_into_the_pe_tve() {
    let (hv, phb, g) = one_guest(cfg());
    let tve = hv.inspect_table(g.p, g.liobn, |t| t.tve()).unwrap();
    let w0 = phb.window(g.pe, 0).unwrap();
    assert_eq!(w0.tve, tve);
    assert_eq!(
        (w0.bus_offset, w0.window_size, w0.page_shift),
        (0, DEFAULT_WINDOW, 12)
    );
    assert!(phb.window(g.pe, 1).is_none());
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 32).unwrap();
    let w1 = phb.window(g.pe, 1).unwrap();
    assert_eq!(w1.tve, hv.inspect_table(g.p, w.liobn, |t| t.tve()).unwrap());
    assert_eq!((w1.bus_offset, w1.page_shift), (DDW_WINDOW_START, 16));
}

#[test]
fn ddw_query_reports_windows_and_page_sizes() {
    let (hv, _phb, g) = one_guest(cfg());
    let q = hv.ddw_query(g.p, g.config_addr, BUID).unwrap();
    assert_eq!(q.windows_available, 1);
    assert_eq!(q.page_sizes, 0x103);
    assert_eq!(q.largest_block, 1 << 28);
    hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    assert_eq!(
        hv.ddw_query(g.p, g.config_addr, BUID)
            .unwrap()
            .windows_available,
        0
    );
    assert_eq!(
        hv.ddw_query(g.p, g.config_addr + 1, BUID),
        Err(RtasStatus::ParameterError)
    );
    assert_eq!(
        hv.ddw_query(g.p, g.config_addr, BUID + 1),
        Err(RtasStatus::ParameterError)
    );
    // RTAS cells: every output written, in both forms.
    let b = [g.config_addr, (BUID >> 32) as u32, BUID as u32];
    let mut rets = [0xdead_beef_u32; 5];
    hv.rtas_ddw(g.p, DdwCall::Query, &b, &mut rets);
    assert_eq!(rets, [0, 0, 0, 0x103, 0]);
    let mut rets = [0xdead_beef_u32; 6];
    hv.rtas_ddw(g.p, DdwCall::Query, &b, &mut rets);
    assert_eq!(rets, [0, 0, 0, 0, 0x103, 0]);
}

#[test]
fn ddw_create_beyond_two_windows_is_parameter_error() {
    let (hv, phb, g) = one_guest(cfg());
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 30).unwrap();
    assert_eq!(w.start, 1 << 59);
    assert_eq!(hv.liobns(g.p).len(), 2);
    assert_eq!(
        hv.ddw_create(g.p, g.config_addr, BUID, 12, 30),
        Err(RtasStatus::ParameterError)
    );
    // With the default removed a second dynamic window fits (in TVE 0),
    // and then a third does not.
    hv.ddw_remove(g.p, g.liobn).unwrap();
    let w2 = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    assert_eq!(w2.start, 0);
    assert_eq!(
        hv.ddw_create(g.p, g.config_addr, BUID, 12, 30),
        Err(RtasStatus::ParameterError)
    );
    assert_eq!(phb.windows_set(), 2);
    let mut rets = [0u32; 4];
    let args = [g.config_addr, (BUID >> 32) as u32, BUID as u32, 12, 30];
    hv.rtas_ddw(g.p, DdwCall::Create, &args, &mut rets);
    assert_eq!(rets[0] as i32, -3);
}

#[test]
fn ddw_create_bad_page_size_or_too_large_is_parameter_error() {
    let (hv, _phb, g) = one_guest(cfg());
    for (page, win) in [(24, 34), (13, 30), (30, 40), (12, 41), (16, 15), (12, 70)] {
        assert_eq!(
            hv.ddw_create(g.p, g.config_addr, BUID, page, win),
            Err(RtasStatus::ParameterError),
            "{page} {win}"
        );
    }
    assert_eq!(DDW_PAGE_4K | DDW_PAGE_64K, 3);
    assert_eq!(DDW_PAGE_16M, 4);
    let mut rets = [0u32; 4];
    let args = [g.config_addr, (BUID >> 32) as u32, BUID as u32, 21, 34];
    hv.rtas_ddw(g.p, DdwCall::Create, &args, &mut rets);
    assert_eq!(rets[0], 0);
    assert_eq!((rets[2], rets[3]), (0x0800_0000, 0));
    assert!(
        hv.liobns(g.p)
            .iter()
            .any(|w| w.liobn == rets[1] && w.page_shift == 21)
    );
    // Wrong cell counts.
    hv.rtas_ddw(g.p, DdwCall::Create, &args[..4], &mut rets);
    assert_eq!(rets[0] as i32, -3);
}

#[test]
fn ddw_remove_of_an_unknown_liobn_is_parameter_error() {
    let (hv, _phb, g) = one_guest(cfg());
    assert_eq!(
        hv.ddw_remove(g.p, g.liobn + 77),
        Err(RtasStatus::ParameterError)
    );
    let mut rets = [0u32; 1];
    hv.rtas_ddw(g.p, DdwCall::Remove, &[g.liobn + 77], &mut rets);
    assert_eq!(rets[0] as i32, -3);
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    hv.ddw_remove(g.p, w.liobn).unwrap();
    assert_eq!(hv.ddw_remove(g.p, w.liobn), Err(RtasStatus::ParameterError));
    assert_eq!(
        hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x1000 | R),
        Err(HStatus::Parameter)
    );
}

#[test]
fn ddw_removing_the_last_dynamic_window_restores_the_default() {
    let (hv, phb, g) = one_guest(cfg());
    hv.h_put_tce(g.p, g.liobn as u64, 0, 0x1000 | RW).unwrap();
    hv.ddw_remove(g.p, g.liobn).unwrap();
    assert!(hv.liobns(g.p).is_empty());
    assert!(phb.window(g.pe, 0).is_none());
    assert_eq!(hv.mapped_regions(g.p)[0].mapped, 0);
    assert_eq!(hv.dirty_pages(g.p), [0x1000]); // removed while writable
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 32).unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x10000 | R)
        .unwrap();
    hv.ddw_remove(g.p, w.liobn).unwrap();
    let windows = hv.liobns(g.p);
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].liobn, g.liobn);
    assert_eq!((windows[0].bus_offset, windows[0].page_shift), (0, 12));
    assert!(phb.window(g.pe, 0).is_some());
    assert!(phb.window(g.pe, 1).is_none());
    assert_eq!(hv.h_get_tce(g.p, g.liobn as u64, 0), Ok(0));
    assert_eq!(
        hv.mapped_regions(g.p).iter().map(|r| r.mapped).sum::<u64>(),
        0
    );
}

#[test]
fn ddw_remove_is_refused_while_the_phb_cannot_clear_the_tve() {
    let (hv, phb, g) = one_guest(cfg());
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x1000 | R)
        .unwrap();
    phb.fail_clear
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(hv.ddw_remove(g.p, w.liobn), Err(RtasStatus::HardwareError));
    assert_eq!(hv.h_get_tce(g.p, w.liobn as u64, w.start), Ok(0x1000 | R));
    phb.fail_clear
        .store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(hv.ddw_remove(g.p, w.liobn), Ok(()));
}

#[test]
fn ddw_reset_restores_the_boot_time_default_window() {
    let (hv, phb, g) = one_guest(cfg());
    hv.h_stuff_tce(g.p, g.liobn as u64, 0, 0x1000 | R, 8)
        .unwrap();
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 16, 32).unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x10000 | W)
        .unwrap();
    let mut rets = [7u32; 1];
    let b = [g.config_addr, (BUID >> 32) as u32, BUID as u32];
    hv.rtas_ddw(g.p, DdwCall::Reset, &b, &mut rets);
    assert_eq!(rets[0], 0);
    let windows = hv.liobns(g.p);
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (
            windows[0].liobn,
            windows[0].bus_offset,
            windows[0].window_size,
            windows[0].page_shift
        ),
        (g.liobn, 0, DEFAULT_WINDOW, 12)
    );
    const { assert!(DEFAULT_WINDOW <= 1 << 32) };
    assert_eq!(hv.h_get_tce(g.p, g.liobn as u64, 0), Ok(0));
    assert!(phb.window(g.pe, 1).is_none());
    assert_eq!(
        phb.window(g.pe, 0).unwrap().tve,
        hv.inspect_table(g.p, g.liobn, |t| t.tve()).unwrap()
    );
    assert_eq!(
        hv.mapped_regions(g.p).iter().map(|r| r.mapped).sum::<u64>(),
        0
    );
    // Reset after the default was removed brings it back too.
    hv.ddw_remove(g.p, g.liobn).unwrap();
    assert_eq!(hv.ddw_reset(g.p, g.config_addr, BUID), Ok(()));
    assert_eq!(hv.liobns(g.p).len(), 1);
    assert_eq!(
        hv.ddw_reset(g.p, g.config_addr + 1, BUID),
        Err(RtasStatus::ParameterError)
    );
}
