//! `H_PUT_TCE`: the whole call, ns per call (replacing a valid entry by
//! another, and a Linux guest's map then unmap of a page), and each of its
//! stages timed alone (`pnv_iommu::papr::profile`) on a partition of its own;
//! likewise the stages of the sweep's `H_STUFF_TCE` of 512 entries. The
//! repetitions are taken one at a time, spread over the round.

use std::sync::atomic::Ordering;

use pnv_iommu::papr::profile::{PutStages, StuffStages};

use super::peers::{PeerTable, store_floor};
use super::{BASE, Guest, Hv, RW, WINDOW_ENTRIES, add_guest, report, time};

/// Calls made per timing: about a millisecond, so that most timings run
/// without the OS taking the CPU away on a busy machine.
const PUTS: u64 = 20_000;
/// Repetitions of the whole call's timings (the best is kept).
const REPS: usize = 40;
/// Entries of the profiled `H_STUFF_TCE` (the sweep's largest batch).
const STUFF_ENTRIES: u64 = 512;
/// Stage runs per timing of the `H_STUFF_TCE` stages (about a millisecond
/// for its table stage, as for `PUTS`).
const STUFFS: u64 = 10_000;

/// The breakdown's timings, each the best of its repetitions so far. The
/// caller spreads the repetitions over the round ([`rep`](Self::rep)): this
/// machine runs whole seconds at about half speed, and repetitions taken
/// back to back (a fifth of a second in all) often all fell in one such
/// spell; spread over the seconds of the two-partition measure, some find
/// the machine at full speed.
pub struct Breakdown {
    /// The partition of the whole call's timings; its PHB counts its kills.
    whole: Guest,
    /// The partition of the stages' timings, and of `H_STUFF_TCE` alone.
    solo: Guest,
    floor_table: PeerTable,
    reps: usize,
    put: f64,
    map_unmap: f64,
    put_stages: [f64; 6],
    stuff: f64,
    floor: f64,
    stuff_stages: [f64; 6],
}

impl Breakdown {
    /// A breakdown with no repetition yet, on two partitions of its own
    /// (numbers 7 and 8) added to `hv`.
    pub fn new(hv: &mut Hv) -> Breakdown {
        Breakdown {
            whole: add_guest(hv, 8),
            solo: add_guest(hv, 7),
            floor_table: PeerTable::new(WINDOW_ENTRIES),
            reps: 0,
            put: f64::INFINITY,
            map_unmap: f64::INFINITY,
            put_stages: [f64::INFINITY; 6],
            stuff: f64::INFINITY,
            floor: f64::INFINITY,
            stuff_stages: [f64::INFINITY; 6],
        }
    }

    /// Whether repetitions remain to be taken.
    pub fn wants_more(&self) -> bool {
        self.reps < REPS
    }

    /// Takes one repetition: the whole call both ways, and every few
    /// repetitions the stages, `H_STUFF_TCE` alone and the floor alone.
    pub fn rep(&mut self, hv: &Hv) {
        let (g, solo) = (&self.whole, &self.solo);
        self.put = self.put.min(time(|| {
            for i in 0..PUTS {
                let ioba = (i & 511) << 12;
                let page = ((i & 1) + 2) << 12;
                hv.h_put_tce(g.p, g.liobn, ioba, page | RW).unwrap();
            }
        }));
        // What a Linux guest does: map a page, then unmap it. Every call
        // changes the map count, and every unmap marks the page dirty.
        self.map_unmap = self.map_unmap.min(time(|| {
            for i in 0..PUTS {
                let ioba = ((i >> 1) & 511) << 12;
                let tce = if i & 1 == 0 { (4 << 12) | RW } else { 0 };
                hv.h_put_tce(g.p, g.liobn, ioba, tce).unwrap();
            }
        }));
        let rep = self.reps;
        self.reps += 1;
        if !rep.is_multiple_of(REPS / super::REPS) {
            return;
        }
        let s: PutStages = hv
            .profile_h_put_tce(solo.p, solo.liobn, 0x5000, [0x2000 | RW, 0x3000 | RW], PUTS)
            .unwrap();
        let s = [s.lock, s.validate, s.shadow, s.table, s.settle, s.kill];
        for (b, v) in self.put_stages.iter_mut().zip(s) {
            *b = b.min(v);
        }
        // The sweep's STUFF (the same entries, the same two values), and
        // the floor, each timed alone as its stages are.
        let tces = [0x10_0000 | RW, 0x10_1000 | RW];
        self.stuff = self.stuff.min(time(|| {
            for i in 0..STUFFS {
                let tce = tces[(i & 1) as usize];
                hv.h_stuff_tce(solo.p, solo.liobn, BASE, tce, STUFF_ENTRIES)
                    .unwrap();
            }
        }));
        let floor_table = &self.floor_table;
        self.floor = self.floor.min(time(|| {
            for i in 0..STUFFS {
                let tce = (solo.host + tces[(i & 1) as usize]) | RW;
                store_floor(floor_table, BASE, tce, STUFF_ENTRIES as usize);
            }
        }));
        let s: StuffStages = hv
            .profile_h_stuff_tce(solo.p, solo.liobn, BASE, tces, STUFF_ENTRIES, STUFFS)
            .unwrap();
        let s = [s.lock, s.validate, s.table, s.shadow, s.settle, s.kill];
        for (b, v) in self.stuff_stages.iter_mut().zip(s) {
            *b = b.min(v);
        }
    }

    /// Takes the repetitions still wanted, reports the figures, and returns
    /// the whole call's calls and the kills they made.
    pub fn finish(mut self, hv: &Hv) -> (u64, u64) {
        while self.wants_more() {
            self.rep(hv);
        }
        // Each whole call's best timing, over the calls it made.
        for (name, best, calls) in [
            ("papr_h_put_tce", self.put, PUTS),
            ("papr_h_put_tce_map_unmap", self.map_unmap, PUTS),
            ("papr_h_stuff_tce_512_alone", self.stuff, STUFFS),
            ("papr_floor_512_alone", self.floor, STUFFS),
        ] {
            report(name, best / calls as f64, "ns/call");
        }
        report_stages(
            "papr_h_put_tce_stage_",
            ["lock", "validate", "shadow", "table", "settle", "kill"],
            self.put_stages,
        );
        report_stages(
            "papr_h_stuff_tce_512_stage_",
            ["lock", "validate", "table", "shadow", "settle", "kill"],
            self.stuff_stages,
        );
        let calls = 2 * self.reps as u64 * PUTS;
        (calls, self.whole.phb.kills.load(Ordering::Relaxed))
    }
}

/// Reports stage `names[i]` (after `prefix`) as `ns[i]` ns.
fn report_stages(prefix: &str, names: [&str; 6], ns: [f64; 6]) {
    for (name, v) in names.iter().zip(ns) {
        report(&format!("{prefix}{name}"), v, "ns");
    }
}
