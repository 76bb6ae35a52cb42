//! The hypercall ABI: opcodes, status codes, and the register-level entry.
//!
//! A guest issues `sc 1` with the opcode in r3 and arguments in r4..; the
//! hypervisor answers with a status in r3 and outputs in r4.. (DESIGN §8).
//! [`Hypervisor::hcall`] takes those registers as an array (`regs[0]` is r3)
//! and calls the typed API in `tce_calls`.

use super::{Hypervisor, PartitionId, WindowProgrammer};
use crate::page_alloc::PageAllocator;

/// `H_GET_TCE` (r4 LIOBN, r5 IOBA; returns the TCE in r4).
pub const H_GET_TCE: u64 = 0x1C;
/// `H_PUT_TCE` (r4 LIOBN, r5 IOBA, r6 TCE).
pub const H_PUT_TCE: u64 = 0x20;
/// `H_STUFF_TCE` (r4 LIOBN, r5 IOBA, r6 TCE, r7 count).
pub const H_STUFF_TCE: u64 = 0x138;
/// `H_PUT_TCE_INDIRECT` (r4 LIOBN, r5 IOBA, r6 logical address of the list, r7 count).
pub const H_PUT_TCE_INDIRECT: u64 = 0x13C;

/// Registers the entry takes and returns: r3 (`regs[0]`) to r10.
pub const HCALL_REGS: usize = 8;

/// Most TCEs one `H_PUT_TCE_INDIRECT` or `H_STUFF_TCE` may name.
pub const MAX_TCES_PER_CALL: u64 = 512;

/// A hypercall status, as returned in r3 (sign-extended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum HStatus {
    /// The call succeeded.
    Success = 0,
    /// The resource is busy; try again.
    Busy = 1,
    /// Only part of the request was done.
    Partial = 5,
    /// A hardware (or hypervisor resource) failure; see the call for what changed.
    Hardware = -1,
    /// The opcode is not implemented.
    Function = -2,
    /// The caller is not privileged (problem state).
    Privilege = -3,
    /// A parameter is invalid.
    Parameter = -4,
    /// A resource is in use (for example a region that is still mapped).
    Resource = -16,
    /// Not enough resources (for example the pinning limit).
    NotEnoughResources = -44,
    /// The resource was rescinded.
    Rescinded = -46,
    /// Parameter 2 is invalid.
    P2 = -55,
    /// Parameter 3 is invalid.
    P3 = -56,
    /// Parameter 4 is invalid.
    P4 = -57,
}

impl HStatus {
    /// The value placed in r3.
    pub const fn to_reg(self) -> u64 {
        self as i64 as u64
    }

    /// The status a register value holds, if it is one of ours.
    pub const fn from_reg(reg: u64) -> Option<HStatus> {
        Some(match reg as i64 {
            0 => HStatus::Success,
            1 => HStatus::Busy,
            5 => HStatus::Partial,
            -1 => HStatus::Hardware,
            -2 => HStatus::Function,
            -3 => HStatus::Privilege,
            -4 => HStatus::Parameter,
            -16 => HStatus::Resource,
            -44 => HStatus::NotEnoughResources,
            -46 => HStatus::Rescinded,
            -55 => HStatus::P2,
            -56 => HStatus::P3,
            -57 => HStatus::P4,
            _ => return None,
        })
    }
}

/// Result of a typed hypercall: `Err` never holds [`HStatus::Success`].
pub type HResult<T> = Result<T, HStatus>;

impl<P: WindowProgrammer, A: PageAllocator + Clone> Hypervisor<P, A> {
    /// The register-level entry for `sc 1` from `partition`.
    ///
    /// `regs[0]` is r3 (opcode in, status out), `regs[1..]` are r4.. (arguments
    /// in, outputs out). `msr_pr` is the caller's `MSR[PR]`: a call from problem
    /// state gets `H_PRIVILEGE`; an unknown opcode gets `H_FUNCTION`. Output
    /// registers are written only on success.
    pub fn hcall(&self, partition: PartitionId, regs: &mut [u64; HCALL_REGS], msr_pr: bool) {
        let status = if msr_pr {
            HStatus::Privilege
        } else {
            self.dispatch(partition, regs)
        };
        regs[0] = status.to_reg();
    }

    fn dispatch(&self, p: PartitionId, regs: &mut [u64; HCALL_REGS]) -> HStatus {
        let (liobn, ioba, a6, a7) = (regs[1], regs[2], regs[3], regs[4]);
        let result = match regs[0] {
            H_PUT_TCE => self.h_put_tce(p, liobn, ioba, a6),
            H_GET_TCE => self.h_get_tce(p, liobn, ioba).map(|tce| regs[1] = tce),
            H_STUFF_TCE => self.h_stuff_tce(p, liobn, ioba, a6, a7),
            H_PUT_TCE_INDIRECT => self.h_put_tce_indirect(p, liobn, ioba, a6, a7),
            _ => Err(HStatus::Function),
        };
        match result {
            Ok(()) => HStatus::Success,
            Err(status) => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_values_are_the_wire_values() {
        assert_eq!(HStatus::Success.to_reg(), 0);
        assert_eq!(HStatus::Hardware.to_reg(), u64::MAX);
        assert_eq!(HStatus::Parameter.to_reg() as i64, -4);
        assert_eq!(HStatus::NotEnoughResources as i64, -44);
        assert_eq!(HStatus::P2 as i64, -55);
        assert_eq!(HStatus::P4 as i64, -57);
        for s in [
            HStatus::Success,
            HStatus::Busy,
            HStatus::Partial,
            HStatus::Hardware,
            HStatus::Function,
            HStatus::Privilege,
            HStatus::Parameter,
            HStatus::Resource,
            HStatus::NotEnoughResources,
            HStatus::Rescinded,
            HStatus::P2,
            HStatus::P3,
            HStatus::P4,
        ] {
            assert_eq!(HStatus::from_reg(s.to_reg()), Some(s));
        }
        assert_eq!(HStatus::from_reg(7), None);
    }
}
