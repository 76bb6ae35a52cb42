//! Reporting of unexpected exceptions: which vector, the save/restore
//! registers and the fault address, then a failure verdict for the runner.

use crate::console::finish;
use crate::println;

/// Reads a special-purpose register.
macro_rules! mfspr {
    ($spr:literal) => {{
        let value: u64;
        // SAFETY: reading an SPR has no side effect on memory; the firmware
        // runs in hypervisor state where these SPRs are readable.
        unsafe { core::arch::asm!(concat!("mfspr {0}, ", $spr), out(reg) value, options(nomem, nostack)) };
        value
    }};
}

fn name(vector: u64) -> &'static str {
    match vector {
        0x100 => "system reset",
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
        0x980 => "hypervisor decrementer",
        0xc00 => "system call",
        0xd00 => "trace",
        0xe00 => "hypervisor data storage",
        0xe20 => "hypervisor instruction storage",
        0xe40 => "hypervisor emulation assistance",
        0xe60 => "hypervisor maintenance",
        0xf20 => "vector unavailable",
        0xf40 => "VSX unavailable",
        0xf60 => "facility unavailable",
        0xf80 => "hypervisor facility unavailable",
        _ => "unknown",
    }
}

/// Called by `exception_common` (start.rs) on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn rust_exception(vector: u64) -> ! {
    // A fault inside a guest ends the guest, not the firmware. Hypervisor
    // interrupts (0xe00 and up, except 0xf00/0xf20..) report HSRR0.
    let pc = if (0xe00..0xf00).contains(&vector) {
        mfspr!("314")
    } else {
        mfspr!("26")
    };
    crate::guest::abort_from_exception(vector, pc);
    println!();
    println!("PNV: EXCEPTION vector {:#x} ({})", vector, name(vector));
    // SPR numbers: SRR0 26, SRR1 27, HSRR0 314, HSRR1 315, DAR 19, DSISR 18,
    // HDAR 307, HDSISR 306.
    println!(
        "PNV:   SRR0  {:#018x}  SRR1  {:#018x}",
        mfspr!("26"),
        mfspr!("27")
    );
    println!(
        "PNV:   HSRR0 {:#018x}  HSRR1 {:#018x}",
        mfspr!("314"),
        mfspr!("315")
    );
    println!(
        "PNV:   DAR   {:#018x}  DSISR {:#010x}",
        mfspr!("19"),
        mfspr!("18")
    );
    println!(
        "PNV:   HDAR  {:#018x}  HDSISR {:#010x}",
        mfspr!("307"),
        mfspr!("306")
    );
    finish(
        false,
        format_args!("exception {:#x} {}", vector, name(vector)),
    )
}
