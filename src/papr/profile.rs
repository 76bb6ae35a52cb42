//! Where the time of one `H_PUT_TCE`, or of one `H_STUFF_TCE`, goes (host
//! benchmarks only).
//!
//! Each stage of the call is timed alone, in a loop, on the same state the
//! call works on: the same partition lock, validation, shadow, table,
//! settling and kill code, called the way [`Hypervisor::h_put_tce`] and
//! [`Hypervisor::h_stuff_tce`] call it on their common paths
//! (`Window::put_one`, `Window::put_same`), with the same two alternating
//! values.
//! Stages timed alone overlap less than in the call (a CPU runs the end of
//! one stage beside the start of the next), so their sum is an upper bound
//! of the call's time, not an exact split.
//!
//! The stages leave the window's table and shadow out of step with each
//! other; profile a window used for nothing else.

use core::hint::black_box;
use std::time::Instant;

use super::hcall::{HResult, HStatus};
use super::partition::{Partition, Shared};
use super::prereg::{Cursor, Deltas, Units};
use super::settle::{settle_one_unit_old, settle_one_unit_repeated};
use super::shadow::{BatchOld, Progression};
use super::tce_calls::{Target, find_window_mut};
use super::validate::{validate, validate_in_unit};
use super::{Hypervisor, PartitionId, WindowProgrammer};
use crate::iopt::Gather;
use crate::page_alloc::PageAllocator;
use core::sync::atomic::Ordering;

/// ns per call of each stage of `H_PUT_TCE`, timed alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct PutStages {
    /// Partition lock, taken and released, and the LIOBN lookup.
    pub lock: f64,
    /// Validation of the guest TCE (permissions, alignment, unit lookup).
    pub validate: f64,
    /// The guest-value shadow: find the entry, keep the old value, store the
    /// new one.
    pub shadow: f64,
    /// The hardware table: walk to the leaf and store the entry.
    pub table: f64,
    /// Settling the old entry (map count, dirty log).
    pub settle: f64,
    /// The invalidation: a range kill and a sync on the PHB.
    pub kill: f64,
}

/// ns per call of each stage of `H_STUFF_TCE`, timed alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct StuffStages {
    /// Partition lock, taken and released, and the LIOBN lookup.
    pub lock: f64,
    /// Validation of the guest TCE and the check that the partition may
    /// hold more table memory.
    pub validate: f64,
    /// The hardware table: walk to the leaf and store every entry.
    pub table: f64,
    /// The guest-value shadow: find the chunk, record the new value.
    pub shadow: f64,
    /// Settling the old entries (map count, dirty log), which held one
    /// value.
    pub settle: f64,
    /// The invalidation: a range kill and a sync on the PHB.
    pub kill: f64,
}

/// ns per iteration of `f` run `iters` times.
fn per(iters: u64, mut f: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for i in 0..iters {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

impl<P: WindowProgrammer, A: PageAllocator + Clone> Hypervisor<P, A> {
    /// Times each stage of `H_PUT_TCE` on entry `ioba` of `liobn`, `iters`
    /// times, with the guest TCEs `tces` alternating (valid ones naming the
    /// partition's memory).
    pub fn profile_h_put_tce(
        &self,
        p: PartitionId,
        liobn: u64,
        ioba: u64,
        tces: [u64; 2],
        iters: u64,
    ) -> HResult<PutStages> {
        // The real call first, so every level and chunk exists.
        for tce in tces {
            self.h_put_tce(p, liobn, ioba, tce)?;
        }
        let lock = lock_stage(self, p, liobn, iters)?;
        self.with_locked_window(p, liobn, |part, target, units| {
            let mut stages = PutStages {
                lock,
                ..PutStages::default()
            };
            let window = target.window;
            let g = window.geometry;
            let page = g.page_size();
            let index = (ioba - g.bus_offset()) >> g.page_shift();
            // As the call checks it: against the one unit, or by lookup.
            stages.validate = per(iters, |i| {
                let tce = black_box(tces[(i & 1) as usize]);
                let _ = black_box(match units.single() {
                    Some(unit) => validate_in_unit(tce, page, unit).map(|(hw, _)| hw),
                    None => validate(tce, page, &mut Cursor::new(units)).map(|(hw, _)| hw),
                });
            });
            let hw = tces.map(|t| validate(t, page, &mut Cursor::new(units)).map(|v| v.0));
            let hw = [hw[0]?, hw[1]?];
            let st = &mut window.state;
            // The common path's steps (`Window::put_one`).
            stages.shadow = per(iters, |i| {
                if let Some(guest) = st.shadow.entry_mut(index) {
                    black_box(core::mem::replace(guest, tces[(i & 1) as usize]));
                }
            });
            stages.table = per(iters, |i| {
                if let Some(entry) = st.table.entry(ioba >> g.page_shift()) {
                    entry.store(hw[(i & 1) as usize].raw().to_be(), Ordering::Relaxed);
                }
            });
            if let Some(unit) = units.single() {
                stages.settle = per(iters, |i| {
                    let old = tces[(i & 1) as usize];
                    let released = settle_one_unit_repeated(old, 1, unit, &part.dirty, page);
                    if released != 1 {
                        Deltas::new(units).add(0, 1 - released as i64);
                    }
                });
            }
            stages.kill = kill_stage(target.phb, target.pe, ioba, page, g.page_shift(), iters);
            Ok(stages)
        })
    }

    /// Times each stage of `H_STUFF_TCE` of `count` entries from `ioba` of
    /// `liobn` (entries of one leaf level and one shadow chunk), `iters`
    /// times, with the guest TCEs `tces` alternating (valid ones naming the
    /// partition's memory). Entries over two leaf levels or two shadow
    /// chunks, which the common path does not take, are `H_PARAMETER`
    /// (nothing timed); so is any call the hypervisor refuses. In a
    /// partition of more than one unit the common path does not apply
    /// either: only the lock is timed, the other stages stay 0.
    pub fn profile_h_stuff_tce(
        &self,
        p: PartitionId,
        liobn: u64,
        ioba: u64,
        tces: [u64; 2],
        count: u64,
        iters: u64,
    ) -> HResult<StuffStages> {
        // The real call first, so every level and chunk exists.
        for tce in tces {
            self.h_stuff_tce(p, liobn, ioba, tce, count)?;
        }
        let lock = lock_stage(self, p, liobn, iters)?;
        self.with_locked_window(p, liobn, |part, target, units| {
            let mut stages = StuffStages {
                lock,
                ..StuffStages::default()
            };
            let window = target.window;
            let g = window.geometry;
            let page = g.page_size();
            let first = window.check(ioba, count)?;
            let Some(unit) = units.single() else {
                return Ok(stages);
            };
            let memory = &part.tce_memory;
            stages.validate = per(iters, |i| {
                let tce = black_box(tces[(i & 1) as usize]);
                let _ = black_box(validate_in_unit(tce, page, unit).and_then(|v| {
                    memory.admit()?;
                    Ok(v)
                }));
            });
            let hw = tces.map(|t| validate_in_unit(t, page, unit).map(|v| v.0));
            let hw = [hw[0]?, hw[1]?];
            let st = &mut window.state;
            let pfn = ioba >> g.page_shift();
            // Both stores only where the common path would store.
            if st.shadow.locate(first, count).is_none()
                || !st.table.fill_existing_leaf(pfn, count, hw[1])
            {
                return Err(HStatus::Parameter);
            }
            stages.table = per(iters, |i| {
                black_box(
                    st.table
                        .fill_existing_leaf(pfn, count, hw[(i & 1) as usize]),
                );
            });
            stages.shadow = per(iters, |i| {
                if let Some(located) = st.shadow.locate(first, count) {
                    black_box(
                        st.shadow
                            .fill_at(located, tces[(i & 1) as usize], |_| count),
                    );
                }
            });
            stages.settle = per(iters, |i| {
                let old = Progression {
                    head: tces[(i & 1) as usize],
                    step: 0,
                };
                let released =
                    settle_one_unit_old(BatchOld::Progression(old), count, unit, &part.dirty, page);
                if released != count {
                    Deltas::new(units).add(0, count as i64 - released as i64);
                }
            });
            stages.kill = kill_stage(
                target.phb,
                target.pe,
                ioba,
                count * page,
                g.page_shift(),
                iters,
            );
            Ok(stages)
        })
    }

    /// Runs `f` with partition `p` locked, on the window of `liobn` (as the
    /// calls find it) and the partition's memory units: the state each
    /// stage is timed on.
    fn with_locked_window<R>(
        &self,
        p: PartitionId,
        liobn: u64,
        f: impl FnOnce(&Partition<P, A>, Target<'_, P, A>, &Units) -> HResult<R>,
    ) -> HResult<R> {
        let part = self.part(p)?;
        let mut shared = part.shared.lock();
        let Shared { pes, units } = &mut *shared;
        let target = find_window_mut(pes, liobn)?;
        f(part, target, units)
    }
}

/// ns per partition lock taken and let go, with the LIOBN's window found.
fn lock_stage<P: WindowProgrammer, A: PageAllocator + Clone>(
    hv: &Hypervisor<P, A>,
    p: PartitionId,
    liobn: u64,
    iters: u64,
) -> HResult<f64> {
    let part = hv.part(p)?;
    Ok(per(iters, |_| {
        let mut shared = part.shared.lock();
        black_box(find_window_mut(&mut shared.pes, liobn).is_ok());
    }))
}

/// ns per invalidation of `bytes` from `ioba` of PE `pe`, as the calls
/// gather and flush it.
fn kill_stage<P: WindowProgrammer>(
    phb: &P,
    pe: u16,
    ioba: u64,
    bytes: u64,
    page_shift: u32,
    iters: u64,
) -> f64 {
    per(iters, |_| {
        let mut gather = Gather::new();
        gather.add(ioba, bytes, page_shift);
        let _ = black_box(gather.flush(phb, &[pe]));
    })
}
