//! `H_PUT_TCE_INDIRECT` has a path of its own for a list of consecutive
//! pages (or one page repeated) that guest memory lends in place: checked
//! where it lies, the hardware entries computed from the progression. It
//! must do exactly what the batch path does with a copy of the list: here
//! two twin partitions get the same calls, one with guest memory that
//! lends lists (the common path when it applies), the other with memory
//! that lends none (always the batch path), and after every call the
//! statuses, the guest values, the hardware entries, the map counts, the
//! dirty log and the kills must agree.
//!
//! The lists cover what the common path decides alone and what it must
//! leave to the batch path: runs with each permission, of 4 KiB and 64 KiB
//! pages, one page repeated; runs whose first or last page lies outside
//! RAM, or with a reserved bit; runs with one entry changed (first, middle
//! or last), with a clear, descending, or with a step of two pages; over
//! RAM aligned to its size (entries by exclusive-or) and not (by offset);
//! entries first written in a fresh chunk and then replaced; IOBAs
//! misaligned or past the window.

mod papr_common;

use std::sync::Arc;

use papr_common::*;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{HStatus, PartitionConfig, RamRegion};

const RAM: u64 = 16 * MIB;
const LIST: u64 = 0x1000;

/// The list of call `i`: `n` entries of pages of `page` bytes, in RAM at
/// logical address `base`.
fn list(i: u64, n: u64, page: u64, base: u64) -> Vec<u64> {
    // Guest TCE of page `k` of RAM with permissions `perm`.
    let tce = |k: u64, page: u64, perm: u64| (base + k * page) | perm;
    let pages = RAM / page;
    let perm = i % 3 + 1;
    // A start that leaves room for the run, most of the time.
    let start = (i * 7919) % pages.saturating_sub(n).max(1);
    let run = |k0: u64| (0..n).map(|k| tce(k0 + k, page, perm)).collect::<Vec<_>>();
    let mut l = run(start);
    let at = [0, n / 2, n - 1][(i % 3) as usize] as usize;
    match i % 16 {
        0..=5 => {}
        6 => l = vec![tce(start, page, perm); n as usize],
        // Ends outside RAM: the last page, then just past it.
        // (A run longer than RAM starts at page 0.)
        7 => l = run(pages.saturating_sub(n)),
        8 => l = run((pages + 1).saturating_sub(n)),
        9 => l[0] |= 0x800,                           // a reserved bit
        10 => l[at] = tce(start + 3 * n, page, perm), // one entry elsewhere
        11 => l[at] = 0,                              // a clear
        12 => l.reverse(),
        13 => l = (0..n).map(|k| tce(start + 2 * k, page, perm)).collect(),
        14 => l[at] ^= 3 ^ perm, // other permissions
        _ => {
            l = (0..n)
                .map(|k| tce(start, page, perm) + k * 0x1000)
                .collect()
        }
    }
    l
}

/// The IOBA (from the window's start) of call `i` setting `n` entries: a
/// few places, so entries are replaced, whole chunks for 512; some
/// misaligned or running past the window's last page.
fn ioba(i: u64, n: u64, page: u64, window: u64) -> u64 {
    match i % 19 {
        17 => page / 2,
        18 => window - (i % 3) * page,
        _ if n == 512 => (i % 3) * 512 * page,
        // A new place every 700 calls, the last across a chunk boundary.
        _ => ((i * 31) % 64 + (i / 700) * 230) * page,
    }
}

struct Case {
    /// Logical address of RAM.
    logical: u64,
    /// Host address of RAM in each twin (its alignment picks how entries
    /// follow from values).
    hosts: [u64; 2],
    /// A dynamic window of pages of `1 << page_shift` bytes, else the
    /// default window (4 KiB pages).
    page_shift: Option<u32>,
    config: PartitionConfig,
}

fn twins(case: Case) {
    let mut hv = Hv::new(GlobalPages);
    let ram = |host| {
        [RamRegion {
            logical: case.logical,
            host,
            size: RAM,
        }]
    };
    let phbs = [
        Arc::new(RecordingPhb::logging()),
        Arc::new(RecordingPhb::logging()),
    ];
    let [host_a, host_b] = case.hosts;
    let a = add_guest(&mut hv, &phbs[0], &ram(host_a), case.config, 1);
    let copying = FakeGuestMemory::copying();
    let b = add_guest_in(&mut hv, &phbs[1], &ram(host_b), case.config, 2, copying);
    // The window: its LIOBN, first bus address, page and size.
    let window = |g: &Guest| match case.page_shift {
        None => (g.liobn, 0, 0x1000, DEFAULT_WINDOW),
        Some(shift) => {
            let w = hv.ddw_create(g.p, g.config_addr, BUID, shift, 32).unwrap();
            (w.liobn, w.start, 1 << shift, 1 << 32)
        }
    };
    let (wa, wb) = (window(&a), window(&b));
    let (start, page, size) = (wa.1, wa.2, wa.3);
    assert_eq!((wb.1, wb.2, wb.3), (start, page, size));
    for phb in &phbs {
        phb.take_log();
    }
    let (mut replaced, mut refused) = (0, 0);
    for i in 0..4000u64 {
        let n = [1, 2, 7, 64, 512, 300][(i % 6) as usize];
        let (off, l) = (ioba(i, n, page, size), list(i, n, page, case.logical));
        // The entries to compare: the call's, or the first if none can be.
        let probe = if off % page != 0 || off + n * page > size {
            0
        } else {
            off
        };
        if i % 500 == 0 {
            assert_eq!(hv.take_dirty_pages(a.p), hv.take_dirty_pages(b.p));
        }
        let before = hv
            .read_tces(a.p, u64::from(wa.0), start + probe, n)
            .unwrap();
        a.write_list(case.logical + LIST, &l);
        b.write_list(case.logical + LIST, &l);
        let list_la = case.logical + LIST;
        let status_a = hv.h_put_tce_indirect(a.p, u64::from(wa.0), start + off, list_la, n);
        let status_b = hv.h_put_tce_indirect(b.p, u64::from(wb.0), start + off, list_la, n);
        let at = (start + probe, n, page);
        let sa = seen(&hv, &a, wa.0, &phbs[0], status_a, at);
        let sb = seen(&hv, &b, wb.0, &phbs[1], status_b, at);
        assert_eq!(sa, sb, "call {i}: {n} entries at {off:#x}: {l:x?}");
        let was_there = before.iter().any(|&o| o != 0);
        replaced += u64::from(was_there && probe == off && status_a.is_ok());
        refused += u64::from(status_a == Err(HStatus::NotEnoughResources));
    }
    // Not vacuous: many calls replaced entries that were there (where the
    // common path applies) or, at the limit, were refused.
    if case.config.tce_memory_limit == 1 {
        assert!(refused > 1000, "only {refused} calls refused at the limit");
    } else {
        assert!(replaced > 1000, "only {replaced} calls replaced entries");
        assert_eq!(refused, 0);
    }
}

/// RAM aligned to its size: each entry is the value exclusive-or a key.
#[test]
fn lent_runs_do_what_copied_lists_do() {
    twins(Case {
        logical: 0,
        hosts: [0x4_0000_0000, 0x8_0000_0000],
        page_shift: None,
        config: PartitionConfig::default(),
    });
}

/// RAM not aligned to its size: each entry is the value plus an offset.
#[test]
fn lent_runs_do_what_copied_lists_do_over_unaligned_ram() {
    twins(Case {
        logical: 0,
        hosts: [0x4_0030_0000, 0x8_0050_0000],
        page_shift: None,
        config: PartitionConfig::default(),
    });
}

/// Pages of 64 KiB, in a dynamic window.
#[test]
fn lent_runs_of_64k_pages_do_what_copied_lists_do() {
    twins(Case {
        logical: 0,
        hosts: [0x4_0000_0000, 0x8_0010_0000],
        page_shift: Some(16),
        config: PartitionConfig::default(),
    });
}

/// At the TCE-memory limit a lent run is refused where a copied one is.
#[test]
fn at_the_memory_limit_lent_runs_are_refused_as_copied_lists_are() {
    twins(Case {
        logical: 0,
        hosts: [0x4_0000_0000, 0x8_0000_0000],
        page_shift: None,
        config: PartitionConfig {
            tce_memory_limit: 1,
            ..PartitionConfig::default()
        },
    });
}

/// RAM at a logical address other than 0, aligned to its size: the key
/// changes bits the values have.
#[test]
fn lent_runs_do_what_copied_lists_do_for_ram_not_at_logical_0() {
    twins(Case {
        logical: RAM,
        hosts: [0x4_0000_0000, 0x8_0000_0000],
        page_shift: None,
        config: PartitionConfig::default(),
    });
}
