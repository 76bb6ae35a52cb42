//! Review findings 4 and 6 of issue 12: pre-registered memory stays pinned,
//! and the dirty log is not cleared, until a TCE kill has completed; LIOBNs are allocated so that no guest
//! can use them up while a removed window's LIOBN stays unknown.

mod papr_common;

use std::sync::atomic::Ordering;

use papr_common::*;
use pnv_iommu::iopt::InvalidationOp;
use pnv_iommu::papr::{HStatus, PartitionConfig, PreregError, RamRegion, RtasStatus};

const W: u64 = 2;

fn prereg() -> PartitionConfig {
    PartitionConfig {
        prereg: true,
        pin_limit: u64::MAX,
        ..PartitionConfig::default()
    }
}

#[test]
fn a_region_stays_pinned_after_a_failed_kill_until_a_kill_completes() {
    let (hv, phb, g) = one_guest(prereg());
    let l = g.liobn as u64;
    hv.prereg_register(g.p, 0x10_0000, 0x1000).unwrap();
    hv.h_put_tce(g.p, l, 0, 0x10_0000 | W).unwrap();
    phb.take_log();
    // The clear's kill fails: the PHB may still translate to the region.
    phb.fail_kill.store(true, Ordering::SeqCst);
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0), Err(HStatus::Hardware));
    assert_eq!(hv.h_get_tce(g.p, l, 0), Ok(0));
    assert_eq!(
        hv.prereg_unregister(g.p, 0x10_0000, 0x1000),
        Err(PreregError::Hardware),
        "unpinned while the failed kill may leave the translation cached"
    );
    assert_eq!(PreregError::Hardware as i64, -1);
    assert_eq!(HStatus::from(PreregError::Hardware), HStatus::Hardware);
    // The unregister retried a kill of the whole PE (and it failed too).
    let log = phb.take_log();
    assert!(log.contains(&InvalidationOp::Pe(g.pe)), "{log:?}");
    // Once a kill completes, the region can go.
    phb.fail_kill.store(false, Ordering::SeqCst);
    assert_eq!(hv.prereg_unregister(g.p, 0x10_0000, 0x1000), Ok(()));
    assert_eq!(
        phb.take_log(),
        [InvalidationOp::Pe(g.pe), InvalidationOp::Sync],
        "the owed kill, then nothing more"
    );
    // Nothing is owed any more: the next unregister kills nothing.
    hv.prereg_register(g.p, 0x20_0000, 0x1000).unwrap();
    assert_eq!(hv.prereg_unregister(g.p, 0x20_0000, 0x1000), Ok(()));
    assert!(phb.take_log().is_empty());
}

#[test]
fn a_region_stays_pinned_after_a_window_teardown_whose_kill_failed() {
    let (hv, phb, g) = one_guest(prereg());
    hv.prereg_register(g.p, 0x10_0000, 0x1000).unwrap();
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    hv.h_put_tce(g.p, w.liobn as u64, w.start, 0x10_0000 | W)
        .unwrap();
    phb.fail_kill.store(true, Ordering::SeqCst);
    assert_eq!(hv.ddw_remove(g.p, w.liobn), Err(RtasStatus::HardwareError));
    assert!(hv.liobns(g.p).iter().all(|i| i.liobn != w.liobn));
    assert_eq!(
        hv.prereg_unregister(g.p, 0x10_0000, 0x1000),
        Err(PreregError::Hardware)
    );
    phb.fail_kill.store(false, Ordering::SeqCst);
    assert_eq!(hv.prereg_unregister(g.p, 0x10_0000, 0x1000), Ok(()));
}

#[test]
fn a_completed_kill_of_the_whole_pe_pays_an_owed_kill() {
    let (hv, phb, g) = one_guest(prereg());
    let l = g.liobn as u64;
    hv.prereg_register(g.p, 0x10_0000, 0x1000).unwrap();
    hv.h_put_tce(g.p, l, 0, 0x10_0000 | W).unwrap();
    phb.fail_kill.store(true, Ordering::SeqCst);
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0), Err(HStatus::Hardware));
    phb.fail_kill.store(false, Ordering::SeqCst);
    // Removing a window kills the whole PE: the owed kill is paid.
    let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    hv.ddw_remove(g.p, w.liobn).unwrap();
    phb.take_log();
    phb.fail_kill.store(true, Ordering::SeqCst);
    assert_eq!(hv.prereg_unregister(g.p, 0x10_0000, 0x1000), Ok(()));
    assert!(phb.take_log().is_empty(), "nothing was owed any more");
}

#[test]
fn dirty_pages_are_not_taken_while_a_failed_kill_is_owed() {
    let (hv, phb, g) = one_guest(PartitionConfig::default());
    let l = g.liobn as u64;
    hv.h_put_tce(g.p, l, 0, 0x5000 | W).unwrap();
    phb.take_log();
    // The clear's kill fails: the device may still write 0x5000 through the
    // cached translation, after the page would have been reported clean.
    phb.fail_kill.store(true, Ordering::SeqCst);
    assert_eq!(hv.h_put_tce(g.p, l, 0, 0), Err(HStatus::Hardware));
    assert_eq!(
        hv.take_dirty_pages(g.p),
        Err(HStatus::Hardware),
        "dirty log cleared while the failed kill may leave the translation cached"
    );
    // Refused, it retried a kill of the whole PE and left the log untouched.
    let log = phb.take_log();
    assert!(log.contains(&InvalidationOp::Pe(g.pe)), "{log:?}");
    assert_eq!(hv.dirty_pages(g.p), [0x5000], "the log is untouched");
    assert_eq!(hv.take_dirty_pages(g.p), Err(HStatus::Hardware));
    // Once a kill completes, the next take pays the owed kill and clears.
    phb.fail_kill.store(false, Ordering::SeqCst);
    phb.take_log();
    assert_eq!(hv.take_dirty_pages(g.p), Ok(vec![0x5000]));
    assert_eq!(
        phb.take_log(),
        [InvalidationOp::Pe(g.pe), InvalidationOp::Sync],
        "the owed kill, then nothing more"
    );
    assert!(hv.dirty_pages(g.p).is_empty());
    // Nothing is owed any more: the next take kills nothing.
    assert_eq!(hv.take_dirty_pages(g.p), Ok(vec![]));
    assert!(phb.take_log().is_empty());
    // An unknown partition (the second of another hypervisor) is a
    // parameter error.
    let unknown = two_guests().2.p;
    assert_eq!(hv.take_dirty_pages(unknown), Err(HStatus::Parameter));
}

/// Creates and removes a small dynamic window `n` times; the LIOBNs given.
fn cycle(hv: &Hv, g: &Guest, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| {
            let w = hv.ddw_create(g.p, g.config_addr, BUID, 12, 21).unwrap();
            hv.ddw_remove(g.p, w.liobn).unwrap();
            w.liobn
        })
        .collect()
}

fn two_guests() -> (Hv, Guest, Guest) {
    let (mut hv, phb, a) = one_guest(PartitionConfig::default());
    let b = add_guest(
        &mut hv,
        &phb,
        &[RamRegion {
            logical: 0,
            host: 0x5_0000_0000,
            size: 4 * MIB,
        }],
        PartitionConfig::default(),
        2,
    );
    (hv, a, b)
}

#[test]
fn one_guests_window_cycles_do_not_advance_anothers_liobns() {
    let (hv, a, b) = two_guests();
    let quiet = cycle(&hv, &b, 3);
    let (hv, a2, b2) = two_guests();
    assert_eq!((a2.liobn, b2.liobn), (a.liobn, b.liobn));
    cycle(&hv, &a2, 5000);
    let after_noise = cycle(&hv, &b2, 3);
    assert_eq!(
        after_noise, quiet,
        "another guest's create/remove cycles changed this guest's LIOBNs"
    );
    // LIOBNs are unique across partitions.
    assert!(quiet.iter().all(|l| *l != a.liobn && *l != b.liobn));
    let w = hv.ddw_create(a2.p, a2.config_addr, BUID, 12, 21).unwrap();
    let v = hv.ddw_create(b2.p, b2.config_addr, BUID, 12, 21).unwrap();
    assert_ne!(w.liobn, v.liobn);
}

#[test]
fn a_guest_cannot_use_up_liobns_and_a_stale_one_stays_unknown() {
    let (hv, a, _b) = two_guests();
    let l = a.liobn as u64;
    let first = hv.ddw_create(a.p, a.config_addr, BUID, 12, 21).unwrap();
    hv.ddw_remove(a.p, first.liobn).unwrap();
    let stale = first.liobn as u64;
    let check_stale = |why: &str| {
        assert_eq!(
            hv.h_put_tce(a.p, stale, first.start, 0),
            Err(HStatus::Parameter),
            "{why}"
        );
        assert_eq!(
            hv.h_get_tce(a.p, stale, first.start),
            Err(HStatus::Parameter)
        );
        assert_eq!(
            hv.h_stuff_tce(a.p, stale, first.start, 0, 1),
            Err(HStatus::Parameter)
        );
        assert_eq!(
            hv.h_put_tce_indirect(a.p, stale, first.start, 0x1000, 1),
            Err(HStatus::Parameter)
        );
        assert_eq!(
            hv.ddw_remove(a.p, first.liobn),
            Err(RtasStatus::ParameterError)
        );
    };
    check_stale("right after the remove");
    let live = hv.ddw_create(a.p, a.config_addr, BUID, 12, 21).unwrap();
    assert_ne!(live.liobn, first.liobn);
    check_stale("with a new window in the same slot");
    hv.ddw_remove(a.p, live.liobn).unwrap();
    // However many cycles a guest runs, creating a window keeps working:
    // the LIOBNs it gets come from a bounded set of its own PE.
    let given = cycle(&hv, &a, 40_000);
    let distinct: std::collections::BTreeSet<u32> = given.iter().copied().collect();
    assert!(distinct.len() <= 1 << 15, "{} LIOBNs", distinct.len());
    assert!(distinct.len() >= 1 << 14, "stale LIOBNs recur too soon");
    assert_eq!(hv.h_get_tce(a.p, l, 0), Ok(0), "the default still works");
}

#[test]
fn dynamic_liobns_follow_the_documented_scheme() {
    // DYNAMIC_LIOBN (bit 31) | the PE's default LIOBN << 15 | generation.
    let (hv, a, b) = two_guests();
    for g in [&a, &b] {
        let base = 1 << 31 | g.liobn << 15;
        let first = hv.ddw_create(g.p, g.config_addr, BUID, 12, 21).unwrap();
        assert_eq!(first.liobn, base, "first dynamic window of PE {}", g.pe);
        hv.ddw_remove(g.p, first.liobn).unwrap();
        let second = hv.ddw_create(g.p, g.config_addr, BUID, 12, 21).unwrap();
        assert_eq!(second.liobn, base + 1);
        assert!(
            hv.liobns(g.p)
                .iter()
                .all(|w| w.liobn == g.liobn || w.liobn == base + 1)
        );
    }
    assert_ne!(a.liobn, b.liobn);
}
