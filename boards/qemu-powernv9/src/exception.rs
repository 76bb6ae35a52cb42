//! Reporting of unexpected exceptions: which vector, the save/restore
//! registers and the fault address, then a failure verdict for the runner.

use crate::console::finish;
use crate::println;
use pnv_rt::exception::vector_name;
use pnv_rt::spr::{self, Spr};

/// Called by `exception_common` (pnv-rt's start-up) on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn rust_exception(vector: u64) -> ! {
    // A fault inside a guest ends the guest, not the firmware. Hypervisor
    // interrupts (0xe00 and up, except 0xf00/0xf20..) report HSRR0.
    let pc = if (0xe00..0xf00).contains(&vector) {
        spr::read(Spr::Hsrr0)
    } else {
        spr::read(Spr::Srr0)
    };
    crate::guest::abort_from_exception(vector, pc);
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
    finish(
        false,
        format_args!("exception {:#x} {}", vector, vector_name(vector)),
    )
}
