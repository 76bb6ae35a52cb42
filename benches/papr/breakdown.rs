//! `H_PUT_TCE`: the whole call, ns per call (replacing a valid entry by
//! another, and a Linux guest's map then unmap of a page), and each of its
//! stages timed alone (`pnv_iommu::papr::profile`) on a partition of its own;
//! likewise the stages of the sweep's `H_STUFF_TCE` of 512 entries.

use pnv_iommu::papr::profile::{PutStages, StuffStages};

use super::peers::{PeerTable, store_floor};
use super::{BASE, Guest, Hv, RW, WINDOW_ENTRIES, add_guest, report, time};

/// Calls made per timing: about a millisecond, so that most timings run
/// without the OS taking the CPU away on a busy machine.
const PUTS: u64 = 20_000;
/// Timings of the whole call (the best is kept).
const REPS: usize = 40;
/// Entries of the profiled `H_STUFF_TCE` (the sweep's largest batch).
const STUFF_ENTRIES: u64 = 512;
/// Stage runs per timing of the `H_STUFF_TCE` stages (about a millisecond
/// for its table stage, as for `PUTS`).
const STUFFS: u64 = 10_000;

/// Times `H_PUT_TCE` and its stages (interleaved repetitions, best kept);
/// returns the number of calls made on `g`.
pub fn run(hv: &mut Hv, g: &Guest) -> u64 {
    let solo = add_guest(hv, 7);
    let hv = &*hv;
    let (mut best, mut best_map_unmap) = (f64::INFINITY, f64::INFINITY);
    let mut stages = [f64::INFINITY; 6];
    let mut stuff_stages = [f64::INFINITY; 6];
    let (mut best_stuff, mut best_floor) = (f64::INFINITY, f64::INFINITY);
    let floor_table = PeerTable::new(WINDOW_ENTRIES);
    for rep in 0..REPS {
        best = best.min(time(|| {
            for i in 0..PUTS {
                let ioba = (i & 511) << 12;
                let page = ((i & 1) + 2) << 12;
                hv.h_put_tce(g.p, g.liobn, ioba, page | RW).unwrap();
            }
        }));
        // What a Linux guest does: map a page, then unmap it. Every call
        // changes the map count, and every unmap marks the page dirty.
        best_map_unmap = best_map_unmap.min(time(|| {
            for i in 0..PUTS {
                let ioba = ((i >> 1) & 511) << 12;
                let tce = if i & 1 == 0 { (4 << 12) | RW } else { 0 };
                hv.h_put_tce(g.p, g.liobn, ioba, tce).unwrap();
            }
        }));
        if rep % (REPS / super::REPS) != 0 {
            continue;
        }
        let s: PutStages = hv
            .profile_h_put_tce(solo.p, solo.liobn, 0x5000, [0x2000 | RW, 0x3000 | RW], PUTS)
            .unwrap();
        let s = [s.lock, s.validate, s.shadow, s.table, s.settle, s.kill];
        for (b, v) in stages.iter_mut().zip(s) {
            *b = b.min(v);
        }
        // The sweep's STUFF (the same entries, the same two values), and
        // the floor, each timed alone as its stages are.
        let tces = [0x10_0000 | RW, 0x10_1000 | RW];
        best_stuff = best_stuff.min(time(|| {
            for i in 0..STUFFS {
                let tce = tces[(i & 1) as usize];
                hv.h_stuff_tce(solo.p, solo.liobn, BASE, tce, STUFF_ENTRIES)
                    .unwrap();
            }
        }));
        best_floor = best_floor.min(time(|| {
            for i in 0..STUFFS {
                let tce = (solo.host + tces[(i & 1) as usize]) | RW;
                store_floor(&floor_table, BASE, tce, STUFF_ENTRIES as usize);
            }
        }));
        let s: StuffStages = hv
            .profile_h_stuff_tce(solo.p, solo.liobn, BASE, tces, STUFF_ENTRIES, STUFFS)
            .unwrap();
        let s = [s.lock, s.validate, s.table, s.shadow, s.settle, s.kill];
        for (b, v) in stuff_stages.iter_mut().zip(s) {
            *b = b.min(v);
        }
    }
    report("papr_h_put_tce", best / PUTS as f64, "ns/call");
    report(
        "papr_h_put_tce_map_unmap",
        best_map_unmap / PUTS as f64,
        "ns/call",
    );
    report_stages(
        "papr_h_put_tce_stage_",
        ["lock", "validate", "shadow", "table", "settle", "kill"],
        stages,
    );
    report(
        "papr_h_stuff_tce_512_alone",
        best_stuff / STUFFS as f64,
        "ns/call",
    );
    report(
        "papr_floor_512_alone",
        best_floor / STUFFS as f64,
        "ns/call",
    );
    report_stages(
        "papr_h_stuff_tce_512_stage_",
        ["lock", "validate", "table", "shadow", "settle", "kill"],
        stuff_stages,
    );
    2 * REPS as u64 * PUTS
}

/// Reports stage `names[i]` (after `prefix`) as `ns[i]` ns.
fn report_stages(prefix: &str, names: [&str; 6], ns: [f64; 6]) {
    for (name, v) in names.iter().zip(ns) {
        report(&format!("{prefix}{name}"), v, "ns");
    }
}
