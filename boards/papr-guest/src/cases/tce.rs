//! TCE hypercalls on the default window: H_PUT_TCE, H_GET_TCE, H_STUFF_TCE,
//! H_PUT_TCE_INDIRECT, their argument checks, and an unknown opcode.
//!
//! Each case uses its own 64 KiB slot of the window, starting 1 MiB in, and
//! clears what it wrote, so one case's outcome does not leak into another.

use super::*;
use crate::detail;
use crate::hcall::H_UNDEFINED;
use crate::report::Extra;

/// Bytes of the default window the cases need from its start.
const NEEDED: u64 = 0x40_0000;

/// Guest real address of target page `i`.
fn target(i: u64) -> u64 {
    Region::Targets.addr(i * DEFAULT_PAGE)
}

/// `Ok` when the TCE read back is `want`.
fn same(got: u64, want: u64) -> Extra {
    if got == want {
        Ok(())
    } else {
        Err(detail!("H_GET_TCE read {got:#x}, put {want:#x}"))
    }
}

/// `Ok` when none of `n` entries from `ioba` is valid (nothing written).
fn none_valid(liobn: u32, ioba: u64, n: u64) -> (i64, Extra) {
    match valid_entries(liobn, ioba, DEFAULT_PAGE, n) {
        Ok(0) => (OK, Ok(())),
        Ok(k) => (OK, Err(detail!("{k} of {n} entries written"))),
        Err(st) => (st, Err(detail!("H_GET_TCE failed"))),
    }
}

pub(super) fn run(s: &mut Suite) {
    let l = s.p.phb.liobn;
    let p = DEFAULT_PAGE;
    let ws = s.p.phb.window_start;
    if s.p.phb.window_size < NEEDED {
        let size = s.p.phb.window_size;
        let why = detail!("window {size:#x} < {NEEDED:#x}");
        s.report.blocked("default_window_size", OK, why);
        return;
    }
    let slot = |k: u64| ws + 0x10_0000 + k * 0x1_0000;
    let top = !(p - 1); // the last page below 2^64
    let outside = s.outside_ram();
    let end = ws.checked_add(s.p.phb.window_size);
    let bad = s.bad_liobn();
    let r = &mut s.report;

    // H_PUT_TCE of a valid TCE into the window: H_SUCCESS.
    let a = slot(0);
    let put_ok = r.check("put_tce_ok", OK, put(l, a, target(0) | TCE_RW), Ok(()));

    // H_GET_TCE returns the guest-visible TCE in r4.
    if put_ok {
        let (st, v) = get(l, a);
        r.check("get_tce_readback", OK, st, same(v, target(0) | TCE_RW));
        // Replacing a valid TCE needs no prior clear.
        let st = put(l, a, target(1) | TCE_R);
        let (_, v) = get(l, a);
        r.check("put_tce_replace_valid", OK, st, same(v, target(1) | TCE_R));
    } else {
        r.blocked("get_tce_readback", OK, detail!("needs put_tce_ok"));
        r.blocked("put_tce_replace_valid", OK, detail!("needs put_tce_ok"));
    }

    // A TCE without R or W clears the entry, whatever address it names.
    let st = put(l, a, 0);
    let (_, v) = get(l, a);
    let extra = if v & TCE_RW == 0 {
        Ok(())
    } else {
        Err(detail!("entry still valid: {v:#x}"))
    };
    r.check("put_tce_clear_no_permission", OK, st, extra);
    r.check(
        "put_tce_clear_ignores_address",
        OK,
        put(l, a, outside),
        Ok(()),
    );
    put(l, a, 0);

    // IOBA not aligned to the window's page size: H_PARAMETER.
    let b = slot(1);
    let st = put(l, b + p / 2, target(2) | TCE_RW);
    let (_, v) = get(l, b);
    let extra = if st == OK && v & TCE_RW != 0 {
        Err(detail!("wrote the entry at the masked IOBA {b:#x}"))
    } else {
        Ok(())
    };
    r.check("put_tce_misaligned_ioba", H_PARAMETER, st, extra);
    put(l, b, 0);

    // IOBA range outside the window: H_PARAMETER.
    match end {
        Some(e) => {
            r.check(
                "put_tce_ioba_outside_window",
                H_PARAMETER,
                put(l, e, target(0) | TCE_RW),
                Ok(()),
            );
            r.check(
                "get_tce_ioba_outside_window",
                H_PARAMETER,
                get(l, e).0,
                Ok(()),
            );
        }
        None => {
            r.skip(
                "put_tce_ioba_outside_window",
                H_PARAMETER,
                detail!("window ends at 2^64"),
            );
            r.skip(
                "get_tce_ioba_outside_window",
                H_PARAMETER,
                detail!("window ends at 2^64"),
            );
        }
    }

    // ioba + count * page wraps past 2^64: H_PARAMETER, not a wrapped range.
    let list = tce_list(&[0, 0]);
    r.check(
        "put_tce_ioba_count_overflow",
        H_PARAMETER,
        indirect(l, top, list, 2),
        Ok(()),
    );
    r.check(
        "stuff_tce_ioba_count_overflow",
        H_PARAMETER,
        stuff(l, top, 0, 2),
        Ok(()),
    );

    // A TCE naming a logical address beyond the partition's RAM: H_PARAMETER.
    let c = slot(2);
    let st = put(l, c, outside | TCE_RW);
    r.check("put_tce_outside_partition", H_PARAMETER, st, Ok(()));
    put(l, c, 0);

    // Unknown LIOBN: H_PARAMETER, for every TCE hypercall.
    r.check(
        "unknown_liobn",
        H_PARAMETER,
        put(bad, slot(0), target(0) | TCE_RW),
        Ok(()),
    );
    r.check(
        "get_tce_unknown_liobn",
        H_PARAMETER,
        get(bad, slot(0)).0,
        Ok(()),
    );
    r.check(
        "stuff_tce_unknown_liobn",
        H_PARAMETER,
        stuff(bad, slot(0), 0, 1),
        Ok(()),
    );
    let list = tce_list(&[0]);
    r.check(
        "indirect_unknown_liobn",
        H_PARAMETER,
        indirect(bad, slot(0), list, 1),
        Ok(()),
    );

    // H_STUFF_TCE with count 0: LoPAPR is silent; KVM answers H_SUCCESS and
    // writes nothing.
    let d = slot(3);
    let st = stuff(l, d, target(0) | TCE_RW, 0);
    let (_, extra) = none_valid(l, d, 1);
    r.check("stuff_tce_count_0", OK, st, extra);
    stuff(l, d, 0, 1);

    // H_STUFF_TCE with count > 512: H_P4 (LoPAPR).
    let e = slot(4);
    r.check(
        "stuff_tce_count_513",
        H_P4,
        stuff(l, e, 0, MAX_TCES + 1),
        Ok(()),
    );
    // LoPAPR: H_P4 only for an otherwise valid call; an unknown LIOBN or
    // an IOBA outside the window is H_PARAMETER whatever the count.
    r.check(
        "stuff_tce_count_513_unknown_liobn",
        H_PARAMETER,
        stuff(bad, e, 0, MAX_TCES + 1),
        Ok(()),
    );
    match end {
        Some(end) => {
            r.check(
                "stuff_tce_count_513_ioba_outside_window",
                H_PARAMETER,
                stuff(l, end, 0, MAX_TCES + 1),
                Ok(()),
            );
        }
        None => r.skip(
            "stuff_tce_count_513_ioba_outside_window",
            H_PARAMETER,
            detail!("the window reaches the top of the address space"),
        ),
    };

    // H_STUFF_TCE of a valid TCE over 4 entries: each reads back.
    let f = slot(5);
    let st = stuff(l, f, target(0) | TCE_RW, 4);
    let extra = (0..4).try_for_each(|i| same(get(l, f + i * p).1, target(0) | TCE_RW));
    r.check("stuff_tce_ok", OK, st, extra);
    stuff(l, f, 0, 4);

    // H_STUFF_TCE validates its TCE like H_PUT_TCE.
    let g = slot(6);
    let st = stuff(l, g, outside | TCE_RW, 2);
    let (_, extra) = none_valid(l, g, 2);
    r.check("stuff_tce_outside_partition", H_PARAMETER, st, extra);
    stuff(l, g, 0, 2);

    // H_PUT_TCE_INDIRECT of 8 valid TCEs: each reads back.
    let h = slot(7);
    let tces: [u64; 8] = core::array::from_fn(|i| target(i as u64) | TCE_RW);
    let list = tce_list(&tces);
    let st = indirect(l, h, list, 8);
    let extra = (0..8).try_for_each(|i| same(get(l, h + i as u64 * p).1, tces[i]));
    r.check("indirect_ok", OK, st, extra);
    stuff(l, h, 0, 8);

    // More than 512 entries: H_PARAMETER.
    let list = tce_list(&[]);
    r.check(
        "indirect_count_513",
        H_PARAMETER,
        indirect(l, slot(8), list, MAX_TCES + 1),
        Ok(()),
    );
    stuff(l, slot(8), 0, MAX_TCES);

    // The list must be 4 KiB aligned: H_PARAMETER.
    let list = tce_list(&[target(0) | TCE_RW, target(0) | TCE_RW]);
    let i = slot(9);
    let st = indirect(l, i, list + 8, 1);
    let (_, extra) = none_valid(l, i, 1);
    r.check("indirect_list_misaligned", H_PARAMETER, st, extra);
    put(l, i, 0);

    // The list must lie in the partition's RAM: H_PARAMETER.
    let j = slot(10);
    let st = indirect(l, j, outside, 1);
    let (_, extra) = none_valid(l, j, 1);
    r.check("indirect_list_outside_partition", H_PARAMETER, st, extra);
    put(l, j, 0);

    // One bad entry in the middle: H_PARAMETER and nothing written (all
    // entries are validated before any is written).
    let k = slot(11);
    stuff(l, k, 0, 4);
    let list = tce_list(&[
        target(0) | TCE_RW,
        target(1) | TCE_RW,
        outside | TCE_RW,
        target(3) | TCE_RW,
    ]);
    let st = indirect(l, k, list, 4);
    r.check("indirect_bad_entry_in_middle", H_PARAMETER, st, Ok(()));
    let (st, extra) = none_valid(l, k, 4);
    r.check("indirect_atomic", OK, st, extra);
    stuff(l, k, 0, 4);

    // A batch that runs past the window's end: H_PARAMETER, nothing written.
    match end {
        Some(e) => {
            let m = e - 2 * p;
            stuff(l, m, 0, 2);
            let list = tce_list(&[target(0) | TCE_RW; 4]);
            let st = indirect(l, m, list, 4);
            r.check("indirect_past_window_end", H_PARAMETER, st, Ok(()));
            let (st, extra) = none_valid(l, m, 2);
            r.check("indirect_past_window_atomic", OK, st, extra);
            stuff(l, m, 0, 2);
        }
        None => {
            r.skip(
                "indirect_past_window_end",
                H_PARAMETER,
                detail!("window ends at 2^64"),
            );
            r.skip(
                "indirect_past_window_atomic",
                OK,
                detail!("window ends at 2^64"),
            );
        }
    }

    // An opcode no hypervisor defines: H_FUNCTION.
    let st = crate::hcall::hcall(H_UNDEFINED, &[]).status;
    r.check("hcall_unknown_opcode", H_FUNCTION, st, Ok(()));
}
