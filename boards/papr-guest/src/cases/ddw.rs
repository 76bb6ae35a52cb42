//! Dynamic DMA windows through RTAS: query, create, a third window refused,
//! DMA through the created window, remove (unknown LIOBN, the created
//! window, the default window) and reset (default restored, created gone).
//!
//! RTAS statuses (LoPAPR): 0 success, -1 hardware error, -2 busy, -3
//! parameter error (also: no window left, window too large).

use super::*;
use crate::detail;
use crate::rtas::{self, DdwWindow, PhbAddr};

/// The page-size bits of the query's mask and their shifts, preferred first.
const PAGE_CHOICES: [(u32, u32); 2] = [(0x02, 16), (0x01, 12)];

/// Every DDW case in order, with its LoPAPR status.
const DDW_CASES: [(&str, i64); 15] = [
    ("ddw_query", OK),
    ("ddw_create", OK),
    ("ddw_created_window_put_tce", OK),
    ("ddw_created_window_misaligned_tce", H_PARAMETER),
    ("ddw_create_beyond_two_windows", RTAS_PARAMETER),
    ("dma_created_window_edu", OK),
    ("ddw_remove_unknown_liobn", RTAS_PARAMETER),
    ("ddw_remove", OK),
    ("ddw_removed_window_gone", H_PARAMETER),
    ("ddw_remove_default", OK),
    ("ddw_default_window_gone", H_PARAMETER),
    ("ddw_create_after_remove_default", OK),
    ("ddw_reset", OK),
    ("ddw_reset_default_restored", OK),
    ("ddw_reset_dynamic_removed", OK),
];

/// Every DDW case from `from` on fails because `why`.
fn block_rest(s: &mut Suite, from: &str, why: &str) {
    let at = DDW_CASES.iter().position(|(c, _)| *c == from).unwrap_or(0);
    for (c, expected) in &DDW_CASES[at..] {
        s.report.blocked(c, *expected, detail!("{why}"));
    }
}

/// log2 of the smallest power of two >= `x` (x > 0).
fn log2_ceil(x: u64) -> u32 {
    64 - (x - 1).leading_zeros()
}

pub(super) fn run(s: &mut Suite) {
    let Some(t) = s.p.phb.ddw else {
        block_rest(s, "ddw_query", "no ibm,ddw-applicable on the PHB");
        return;
    };
    let pe = PhbAddr {
        config: s
            .p
            .edu
            .map(|e| e.config_addr)
            .or(s.p.phb.first_device)
            .unwrap_or(0),
        buid: s.p.phb.buid,
    };
    let l = s.p.phb.liobn;
    let target = Region::Targets.addr(0);

    // Query: success, a window available, some page size supported.
    let q = match rtas::ddw_query(t.query, pe, t.query_out_ext == 1) {
        Ok(q) => q,
        Err(e) => return block_rest(s, "ddw_query", rtas_failure(e)),
    };
    let choice = PAGE_CHOICES.iter().find(|(bit, _)| q.page_mask & bit != 0);
    let note = detail!(
        "available {} largest_block {:#x} page_mask {:#x}",
        q.available,
        q.largest_block,
        q.page_mask
    );
    let ok = q.available >= 1 && choice.is_some();
    if !s
        .report
        .check_noted("ddw_query", OK, i64::from(q.status), ok, note)
    {
        return block_rest(s, "ddw_create", "needs ddw_query");
    }
    let Some(&(_, page_shift)) = choice else {
        return block_rest(s, "ddw_create", "no usable page size");
    };

    // Create: a window covering the partition's RAM, within the largest block.
    let mut window_shift = log2_ceil(s.p.ram_end).max(page_shift);
    while window_shift > page_shift && (1u64 << (window_shift - page_shift)) > q.largest_block {
        window_shift -= 1;
    }
    let page = 1u64 << page_shift;
    let w = match rtas::ddw_create(t.create, pe, page_shift, window_shift) {
        Ok(w) => w,
        Err(e) => return block_rest(s, "ddw_create", rtas_failure(e)),
    };
    let ok = w.liobn != l && w.start % page == 0;
    let note = detail!(
        "liobn {:#x} start {:#x} page_shift {page_shift} window_shift {window_shift}",
        w.liobn,
        w.start
    );
    if !s
        .report
        .check_noted("ddw_create", OK, i64::from(w.status), ok, note)
    {
        return block_rest(s, "ddw_created_window_put_tce", "needs ddw_create");
    }

    // The created window takes TCEs of its page size.
    let st = put(w.liobn, w.start, target | TCE_RW);
    let (_, v) = get(w.liobn, w.start);
    let extra = if v == target | TCE_RW {
        Ok(())
    } else {
        Err(detail!("H_GET_TCE read {v:#x}"))
    };
    s.report.check("ddw_created_window_put_tce", OK, st, extra);
    put(w.liobn, w.start, 0);

    // A TCE not aligned to the window's page size names no page: H_PARAMETER.
    if page > DEFAULT_PAGE {
        let st = put(w.liobn, w.start + page, (target + DEFAULT_PAGE) | TCE_RW);
        s.report
            .check("ddw_created_window_misaligned_tce", H_PARAMETER, st, Ok(()));
        put(w.liobn, w.start + page, 0);
    } else {
        s.report.skip(
            "ddw_created_window_misaligned_tce",
            H_PARAMETER,
            detail!("4 KiB pages only"),
        );
    }

    // A third window (default + created = 2, the most per PE): -3.
    match rtas::ddw_create(t.create, pe, page_shift, window_shift) {
        Ok(extra_w) => {
            s.report.check(
                "ddw_create_beyond_two_windows",
                RTAS_PARAMETER,
                i64::from(extra_w.status),
                Ok(()),
            );
            if extra_w.status == 0 {
                let _ = rtas::ddw_remove(t.remove, extra_w.liobn);
            }
        }
        Err(e) => s.report.blocked(
            "ddw_create_beyond_two_windows",
            RTAS_PARAMETER,
            detail!("{}", rtas_failure(e)),
        ),
    }

    // DMA through the created window.
    super::dma::through_window(s, "dma_created_window_edu", w.liobn, w.start, page, 0xa5);

    // Remove: an unknown LIOBN is a parameter error.
    match rtas::ddw_remove(t.remove, s.bad_liobn()) {
        Ok(st) => {
            s.report.check(
                "ddw_remove_unknown_liobn",
                RTAS_PARAMETER,
                i64::from(st),
                Ok(()),
            );
        }
        Err(e) => s.report.blocked(
            "ddw_remove_unknown_liobn",
            RTAS_PARAMETER,
            detail!("{}", rtas_failure(e)),
        ),
    };

    // Remove the created window; its LIOBN is then unknown to H_PUT_TCE.
    let removed = remove(s, t.remove, "ddw_remove", w.liobn);
    gone(
        s,
        "ddw_removed_window_gone",
        removed,
        &w,
        "needs ddw_remove",
    );

    // The default window can be removed too.
    let default = DdwWindow {
        status: 0,
        liobn: l,
        start: s.p.phb.window_start,
    };
    let removed = remove(s, t.remove, "ddw_remove_default", l);
    gone(
        s,
        "ddw_default_window_gone",
        removed,
        &default,
        "needs ddw_remove_default",
    );

    // With the default gone, a new window may be created.
    let w2 = rtas::ddw_create(t.create, pe, page_shift, window_shift).ok();
    let created = match w2 {
        Some(w2) => s.report.check(
            "ddw_create_after_remove_default",
            OK,
            i64::from(w2.status),
            Ok(()),
        ),
        None => {
            s.report.blocked(
                "ddw_create_after_remove_default",
                OK,
                detail!("H_RTAS failed"),
            );
            false
        }
    };

    // Reset: the boot-time default window is back, created windows are gone.
    let Some(reset) = t.reset else {
        s.report.blocked(
            "ddw_reset",
            OK,
            detail!("no reset token in ibm,ddw-extensions"),
        );
        s.report
            .blocked("ddw_reset_default_restored", OK, detail!("needs ddw_reset"));
        s.report
            .blocked("ddw_reset_dynamic_removed", OK, detail!("needs ddw_reset"));
        return;
    };
    let reset_ok = match rtas::ddw_reset(reset, pe) {
        Ok(st) => s.report.check("ddw_reset", OK, i64::from(st), Ok(())),
        Err(e) => {
            s.report
                .blocked("ddw_reset", OK, detail!("{}", rtas_failure(e)));
            false
        }
    };
    if reset_ok {
        let st = put(l, s.p.phb.window_start, target | TCE_RW);
        let (_, v) = get(l, s.p.phb.window_start);
        let extra = if v == target | TCE_RW {
            Ok(())
        } else {
            Err(detail!("H_GET_TCE read {v:#x}"))
        };
        s.report.check("ddw_reset_default_restored", OK, st, extra);
        put(l, s.p.phb.window_start, 0);
    } else {
        s.report
            .blocked("ddw_reset_default_restored", OK, detail!("needs ddw_reset"));
    }
    // After the reset the windows available are those of boot time, and a
    // created window's LIOBN (if it is not the default's, which the
    // hypervisor may reuse) no longer takes TCEs.
    if !reset_ok {
        s.report
            .blocked("ddw_reset_dynamic_removed", OK, detail!("needs ddw_reset"));
        return;
    }
    let q2 = match rtas::ddw_query(t.query, pe, t.query_out_ext == 1) {
        Ok(q2) => q2,
        Err(e) => {
            let why = detail!("{}", rtas_failure(e));
            s.report.blocked("ddw_reset_dynamic_removed", OK, why);
            return;
        }
    };
    let stale = match w2 {
        Some(w2) if created && w2.status == 0 && w2.liobn != l => {
            Some(put(w2.liobn, w2.start, target | TCE_RW))
        }
        _ => None,
    };
    let ok = q2.available == q.available && stale.is_none_or(|st| st == H_PARAMETER);
    let note = detail!(
        "available {} (boot {}), H_PUT_TCE on the created LIOBN {:?}",
        q2.available,
        q.available,
        stale
    );
    s.report.check_noted(
        "ddw_reset_dynamic_removed",
        OK,
        i64::from(q2.status),
        ok,
        note,
    );
}

/// `ibm,remove-pe-dma-window` of `liobn` as case `name`; returns its verdict.
fn remove(s: &mut Suite, token: u32, name: &str, liobn: u32) -> bool {
    match rtas::ddw_remove(token, liobn) {
        Ok(st) => s.report.check(name, OK, i64::from(st), Ok(())),
        Err(e) => {
            s.report.blocked(name, OK, detail!("{}", rtas_failure(e)));
            false
        }
    }
}

/// After a removal, H_PUT_TCE on the removed window's LIOBN: H_PARAMETER.
fn gone(s: &mut Suite, name: &str, removed: bool, w: &DdwWindow, needs: &str) {
    if removed {
        let st = put(w.liobn, w.start, Region::Targets.addr(0) | TCE_RW);
        s.report.check(name, H_PARAMETER, st, Ok(()));
        put(w.liobn, w.start, 0);
    } else {
        s.report.blocked(name, H_PARAMETER, detail!("{needs}"));
    }
}

/// A short description of an RTAS failure.
fn rtas_failure(e: rtas::RtasError) -> &'static str {
    match e {
        rtas::RtasError::Hcall(_) => "H_RTAS failed",
        rtas::RtasError::NoToken => "no RTAS token",
    }
}
