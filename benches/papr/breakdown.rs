//! `H_PUT_TCE`: the whole call, ns per call.

use super::{Guest, Hv, RW, report, time};

/// Calls made per timing.
const PUTS: u64 = 200_000;

/// Times `H_PUT_TCE` (interleaved repetitions, best kept); returns the
/// number of calls made.
pub fn run(hv: &mut Hv, g: &Guest) -> u64 {
    let hv = &*hv;
    let mut best = f64::INFINITY;
    for _ in 0..super::REPS {
        best = best.min(time(|| {
            for i in 0..PUTS {
                let ioba = (i & 511) << 12;
                let page = ((i & 1) + 2) << 12;
                hv.h_put_tce(g.p, g.liobn, ioba, page | RW).unwrap();
            }
        }));
    }
    report("papr_h_put_tce", best / PUTS as f64, "ns/call");
    super::REPS as u64 * PUTS
}
