//! The conformance suite: one case per rule of DESIGN §8, in the order
//! TCE hypercalls, DMA through the default window, dynamic DMA windows
//! (with DMA through a created window). Each case's LoPAPR expectation is
//! written next to its call.

#![deny(unsafe_code)]
// A case's failure detail is a 128-byte stack string (there is no
// allocator); returning it by value is the point, not an accident.
#![allow(clippy::result_large_err)]

mod ddw;
mod dma;
mod tce;

use crate::detail;
use crate::devtree::Platform;
use crate::edu::{Edu, EduError};
use crate::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, hcall};
use crate::problem_state::NoProcessTable;
use crate::report::Report;
use crate::work::{self, Region};

/// H_SUCCESS.
const OK: i64 = crate::hcall::HStatus::Success.code();
/// H_FUNCTION.
const H_FUNCTION: i64 = crate::hcall::HStatus::Function.code();
/// H_PARAMETER.
const H_PARAMETER: i64 = crate::hcall::HStatus::Parameter.code();
/// H_P4.
const H_P4: i64 = crate::hcall::HStatus::P4.code();
/// RTAS: parameter error (DDW calls).
const RTAS_PARAMETER: i64 = -3;

/// Page size of the default DMA window (LoPAPR: 4 KiB).
const DEFAULT_PAGE: u64 = 0x1000;
/// TCE permission bits.
const TCE_R: u64 = 0x1;
const TCE_W: u64 = 0x2;
const TCE_RW: u64 = TCE_R | TCE_W;
/// Most entries one H_PUT_TCE_INDIRECT / H_STUFF_TCE may name.
const MAX_TCES: u64 = 512;
/// A LIOBN that no device tree gives the guest (checked against the real ones).
const BAD_LIOBN: u32 = 0x7fff_5a5a;

/// The state of a run: what the tree said, the verdicts, and the `edu`.
pub struct Suite<'p> {
    p: &'p Platform,
    report: Report,
    edu: Option<Result<Edu, EduError>>,
}

/// Runs every case; returns the counts.
pub fn run(p: &Platform) -> Report {
    let mut s = Suite {
        p,
        report: Report::default(),
        edu: None,
    };
    tce::run(&mut s);
    dma::default_window(&mut s);
    dma::outside_partition(&mut s);
    ddw::run(&mut s);
    problem_state(&mut s);
    s.report
}

/// A hypercall from problem state (MSR[PR] = 1) gets H_PRIVILEGE (LoPAPR:
/// hypercalls are for privileged software), whatever it asks: here an
/// H_GET_TCE that is valid from supervisor state (H_SUCCESS there). Last,
/// because it leaves the guest's process table registered.
fn problem_state(s: &mut Suite) {
    const H_PRIVILEGE: i64 = crate::hcall::HStatus::Privilege.code();
    let (liobn, ioba) = (u64::from(s.p.phb.liobn), s.p.phb.window_start);
    let name = "problem_state_h_privilege";
    let supervisor = hcall(H_GET_TCE, &[liobn, ioba]).status;
    if supervisor != OK {
        let why = detail!("H_GET_TCE from supervisor state returned {supervisor}");
        s.report.blocked(name, H_PRIVILEGE, why);
        return;
    }
    match crate::problem_state::hcall_from_problem_state(H_GET_TCE, liobn, ioba) {
        Ok(st) => {
            s.report.check(name, H_PRIVILEGE, st, Ok(()));
        }
        Err(NoProcessTable(st)) => {
            let why = detail!(
                "H_REGISTER_PROC_TBL (radix) returned {st}: no relocation for problem state"
            );
            s.report.skip(name, H_PRIVILEGE, why);
        }
    }
}

impl Suite<'_> {
    /// The `edu`, set up on first use; `None` when the tree has none.
    fn edu(&mut self) -> Option<Result<&Edu, EduError>> {
        let node = self.p.edu?;
        if self.edu.is_none() {
            self.edu = Some(Edu::setup(self.p, node));
        }
        self.edu.as_ref().map(|r| r.as_ref().map_err(|e| *e))
    }

    /// A LIOBN no window has (differs from the default one).
    fn bad_liobn(&self) -> u32 {
        if self.p.phb.liobn == BAD_LIOBN {
            BAD_LIOBN ^ 1
        } else {
            BAD_LIOBN
        }
    }

    /// The first page-aligned logical address past the partition's RAM.
    fn outside_ram(&self) -> u64 {
        self.p.ram_end.div_ceil(DEFAULT_PAGE) * DEFAULT_PAGE
    }
}

/// H_PUT_TCE; returns the status.
fn put(liobn: u32, ioba: u64, tce: u64) -> i64 {
    hcall(H_PUT_TCE, &[u64::from(liobn), ioba, tce]).status
}

/// H_GET_TCE; returns the status and the TCE.
fn get(liobn: u32, ioba: u64) -> (i64, u64) {
    let a = hcall(H_GET_TCE, &[u64::from(liobn), ioba]);
    (a.status, a.out[0])
}

/// H_STUFF_TCE; returns the status.
fn stuff(liobn: u32, ioba: u64, tce: u64, count: u64) -> i64 {
    hcall(H_STUFF_TCE, &[u64::from(liobn), ioba, tce, count]).status
}

/// H_PUT_TCE_INDIRECT with the list at guest real `list`; returns the status.
fn indirect(liobn: u32, ioba: u64, list: u64, count: u64) -> i64 {
    hcall(H_PUT_TCE_INDIRECT, &[u64::from(liobn), ioba, list, count]).status
}

/// Writes `tces` into the work area's TCE list page; returns its address.
fn tce_list(tces: &[u64]) -> u64 {
    for i in 0..MAX_TCES {
        let v = tces.get(i as usize).copied().unwrap_or(0);
        work::write64(Region::TceList, i * 8, v);
    }
    Region::TceList.addr(0)
}

/// How many of `n` entries from `ioba` (page `page`) read back with R or W
/// set, or the first failing H_GET_TCE status.
fn valid_entries(liobn: u32, ioba: u64, page: u64, n: u64) -> Result<u64, i64> {
    let mut valid = 0;
    for i in 0..n {
        let (st, v) = get(liobn, ioba + i * page);
        if st != OK {
            return Err(st);
        }
        valid += u64::from(v & TCE_RW != 0);
    }
    Ok(valid)
}
