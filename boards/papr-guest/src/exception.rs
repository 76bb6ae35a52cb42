//! The guest's own interrupts: print which vector and the save/restore
//! registers, then report failure. None is expected during a run.

use crate::console::finish;
use crate::println;
use pnv_rt::exception::vector_name;
use pnv_rt::spr::{self, Spr};

/// Called by `exception_common` (pnv-rt's start-up) on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn rust_exception(vector: u64) -> ! {
    println!();
    println!(
        "GUEST: EXCEPTION vector {:#x} ({})",
        vector,
        vector_name(vector)
    );
    // Supervisor SPRs only: the hypervisor's are not readable here.
    println!(
        "GUEST:   SRR0 {:#018x}  SRR1 {:#018x}",
        spr::read(Spr::Srr0),
        spr::read(Spr::Srr1)
    );
    println!(
        "GUEST:   DAR  {:#018x}  DSISR {:#010x}",
        spr::read(Spr::Dar),
        spr::read(Spr::Dsisr)
    );
    finish(
        false,
        format_args!("exception {:#x} {}", vector, vector_name(vector)),
    )
}
