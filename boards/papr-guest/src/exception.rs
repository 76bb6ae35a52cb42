//! The guest's own interrupts: print which vector and the save/restore
//! registers, then report failure. None is expected during a run.

use crate::console::finish;
use crate::println;

/// Reads a supervisor special-purpose register.
macro_rules! mfspr {
    ($spr:literal) => {{
        let value: u64;
        // SAFETY: reading an SPR has no side effect on memory; these SPRs
        // (SRR0/1, DAR, DSISR) are readable in supervisor state.
        unsafe { core::arch::asm!(concat!("mfspr {0}, ", $spr), out(reg) value, options(nomem, nostack)) };
        value
    }};
}

fn name(vector: u64) -> &'static str {
    match vector {
        0x200 => "machine check",
        0x300 => "data storage",
        0x380 => "data segment",
        0x400 => "instruction storage",
        0x480 => "instruction segment",
        0x500 => "external",
        0x600 => "alignment",
        0x700 => "program",
        0x800 => "floating-point unavailable",
        0x900 => "decrementer",
        0xc00 => "system call",
        0xd00 => "trace",
        0xf00 => "performance monitor",
        0xf20 => "vector unavailable",
        0xf40 => "VSX unavailable",
        0xf60 => "facility unavailable",
        _ => "unknown",
    }
}

/// Called by `exception_common` (start.rs) on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn rust_exception(vector: u64) -> ! {
    println!();
    println!("GUEST: EXCEPTION vector {:#x} ({})", vector, name(vector));
    // SPR numbers: SRR0 26, SRR1 27, DAR 19, DSISR 18.
    println!(
        "GUEST:   SRR0 {:#018x}  SRR1 {:#018x}",
        mfspr!("26"),
        mfspr!("27")
    );
    println!(
        "GUEST:   DAR  {:#018x}  DSISR {:#010x}",
        mfspr!("19"),
        mfspr!("18")
    );
    finish(
        false,
        format_args!("exception {:#x} {}", vector, name(vector)),
    )
}
