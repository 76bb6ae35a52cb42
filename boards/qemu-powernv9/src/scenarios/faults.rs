//! Scenarios that deliberately take an exception, to prove the runner
//! reports it as a failure (the test suite expects these runs to fail).

use super::Checks;
use pnv_iommu::topology::Topology;

/// Executes `trap`: a program interrupt at 0x700.
pub fn trap(_: &Topology, _: &mut Checks) {
    // SAFETY: `trap` transfers control to the program-interrupt vector, which
    // reports the exception and never returns here.
    unsafe { core::arch::asm!("trap", options(nostack)) };
}

/// Executes an all-zero word, which is no instruction: QEMU raises the
/// hypervisor emulation assistance interrupt (0xe40, HSRR0/HSRR1).
pub fn illegal_instruction(_: &Topology, _: &mut Checks) {
    // SAFETY: the invalid instruction transfers control to the 0xe40 vector,
    // which reports the exception and never returns here.
    unsafe { core::arch::asm!(".long 0", options(nostack)) };
}
