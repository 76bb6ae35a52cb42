//! Reporting of unexpected exceptions: which vector, the save/restore
//! registers and the fault address, then a failure verdict for the runner.
//!
//! An exception taken in a guest (MSR[HV] = 0 in the saved MSR) ends that
//! guest: `Guest::run` returns the fault and the firmware goes on. Any other
//! exception is the hypervisor's own failure, also while a guest is active
//! (for example inside its hypercall handler): it is reported as such and
//! the run ends, never resuming over the hypervisor's live frames.

use crate::console::finish;
use crate::println;
use pnv_rt::exception::{saved_in_hsrr, vector_name};
use pnv_rt::spr::{self, Msr, Spr};

/// Called by `exception_common` (pnv-rt's start-up) on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn rust_exception(vector: u64) -> ! {
    let (pc, msr) = if saved_in_hsrr(vector) {
        (spr::read(Spr::Hsrr0), spr::read(Spr::Hsrr1))
    } else {
        (spr::read(Spr::Srr0), spr::read(Spr::Srr1))
    };
    if !Msr::from_bits_retain(msr).contains(Msr::HV) {
        // Taken in a guest: leave it (does not return) if one is running.
        crate::guest::abort_from_exception(vector, pc);
    }
    let in_guest_call = crate::guest::is_active();
    println!();
    println!(
        "PNV: EXCEPTION vector {:#x} ({})",
        vector,
        vector_name(vector)
    );
    println!(
        "PNV:   SRR0  {:#018x}  SRR1  {:#018x}",
        spr::read(Spr::Srr0),
        spr::read(Spr::Srr1)
    );
    println!(
        "PNV:   HSRR0 {:#018x}  HSRR1 {:#018x}",
        spr::read(Spr::Hsrr0),
        spr::read(Spr::Hsrr1)
    );
    println!(
        "PNV:   DAR   {:#018x}  DSISR {:#010x}",
        spr::read(Spr::Dar),
        spr::read(Spr::Dsisr)
    );
    println!(
        "PNV:   HDAR  {:#018x}  HDSISR {:#010x}",
        spr::read(Spr::Hdar),
        spr::read(Spr::Hdsisr)
    );
    if in_guest_call {
        finish(
            false,
            format_args!(
                "hypervisor fault while serving a guest: exception {:#x} {} at {:#x}",
                vector,
                vector_name(vector),
                pc
            ),
        )
    }
    finish(
        false,
        format_args!("exception {:#x} {}", vector, vector_name(vector)),
    )
}
