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
const DDW_CASES: [(&str, i64); 19] = [
    ("ddw_query", OK),
    ("ddw_query_every_output", OK),
    ("ddw_query_6_outputs", OK),
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
    ("ddw_available_after_remove_default", OK),
    ("ddw_second_dynamic_window", OK),
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
    query_forms(s, t.query, pe, t.query_out_ext == 1);
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

    // LoPAPR: with the default removed a window is available again even
    // though a dynamic one exists, and a second dynamic window can be made.
    match w2.filter(|_| created) {
        Some(w2) => second_dynamic(s, t, pe, &w2, page_shift, window_shift),
        None => {
            let why = "needs ddw_create_after_remove_default";
            s.report
                .blocked("ddw_available_after_remove_default", OK, detail!("{why}"));
            s.report
                .blocked("ddw_second_dynamic_window", OK, detail!("{why}"));
        }
    }

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

/// The two query forms: the 5-output one writes every output; the
/// 6-output one is the extended form, valid only when advertised
/// (`extended`), and then also writes every output, else it is refused
/// (-3) rather than filled with the 5-output layout.
fn query_forms(s: &mut Suite, token: u32, pe: PhbAddr, extended: bool) {
    use rtas::UNWRITTEN;
    let five = match rtas::ddw_query_cells::<5>(token, pe) {
        Ok(r) => r,
        Err(e) => {
            let why = rtas_failure(e);
            s.report
                .blocked("ddw_query_every_output", OK, detail!("{why}"));
            s.report
                .blocked("ddw_query_6_outputs", OK, detail!("{why}"));
            return;
        }
    };
    let unwritten = five.iter().filter(|&&c| c == UNWRITTEN).count();
    let note = detail!("{five:x?}");
    s.report.check_noted(
        "ddw_query_every_output",
        OK,
        i64::from(five[0] as i32),
        unwritten == 0,
        note,
    );
    let six = match rtas::ddw_query_cells::<6>(token, pe) {
        Ok(r) => r,
        Err(e) => {
            let expected = if extended { OK } else { RTAS_PARAMETER };
            let why = rtas_failure(e);
            s.report
                .blocked("ddw_query_6_outputs", expected, detail!("{why}"));
            return;
        }
    };
    let status = i64::from(six[0] as i32);
    let note = detail!("advertised {extended} {six:x?}");
    if extended {
        // Same answer as the 5-output form, the largest block in two cells.
        let block = u64::from(six[2]) << 32 | u64::from(six[3]);
        let same = six[1] == five[1]
            && six[4] == five[3]
            && six[5] == five[4]
            // A block beyond 32 bits is what the extended form is for
            // (the 5-output form cannot hold it).
            && (block == u64::from(five[2]) || block > u64::from(u32::MAX));
        let written = six.iter().all(|&c| c != UNWRITTEN);
        s.report
            .check_noted("ddw_query_6_outputs", OK, status, same && written, note);
    } else {
        s.report
            .check_noted("ddw_query_6_outputs", RTAS_PARAMETER, status, true, note);
    }
}

/// With the default window removed and dynamic window `w2` in place: a
/// window is available, and a second dynamic window works beside `w2`.
fn second_dynamic(
    s: &mut Suite,
    t: crate::devtree::DdwTokens,
    pe: PhbAddr,
    w2: &DdwWindow,
    page_shift: u32,
    window_shift: u32,
) {
    let target = Region::Targets.addr(0);
    match rtas::ddw_query(t.query, pe, t.query_out_ext == 1) {
        Ok(q) => {
            let note = detail!("available {}", q.available);
            s.report.check_noted(
                "ddw_available_after_remove_default",
                OK,
                i64::from(q.status),
                q.available >= 1,
                note,
            );
        }
        Err(e) => s.report.blocked(
            "ddw_available_after_remove_default",
            OK,
            detail!("{}", rtas_failure(e)),
        ),
    }
    let w3 = match rtas::ddw_create(t.create, pe, page_shift, window_shift) {
        Ok(w3) => w3,
        Err(e) => {
            let why = rtas_failure(e);
            s.report
                .blocked("ddw_second_dynamic_window", OK, detail!("{why}"));
            return;
        }
    };
    // Both windows take TCEs, each its own (the same page, told apart by
    // the permissions).
    let put2 = put(w2.liobn, w2.start, target | TCE_RW);
    let put3 = put(w3.liobn, w3.start, target | TCE_R);
    let (g2, g3) = (get(w2.liobn, w2.start).1, get(w3.liobn, w3.start).1);
    let ok = w3.status != 0
        || (w3.liobn != w2.liobn
            && put2 == OK
            && put3 == OK
            && g2 == target | TCE_RW
            && g3 == target | TCE_R);
    let note = detail!(
        "liobn {:#x} start {:#x}; puts {put2} {put3}, reads {g2:#x} {g3:#x}",
        w3.liobn,
        w3.start
    );
    s.report.check_noted(
        "ddw_second_dynamic_window",
        OK,
        i64::from(w3.status),
        ok,
        note,
    );
    put(w2.liobn, w2.start, 0);
    if w3.status == 0 {
        put(w3.liobn, w3.start, 0);
    }
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
