//! Entry at 0x10, boot arguments at 0x20, exception vectors at 0x100..0x1000.
//!
//! QEMU starts every thread at 0x10 in big-endian hypervisor real mode with
//! MSR[ME] off and r3 = device tree. The boot thread points HSPRG0 at the
//! idle guest context and branches to `pnv_rt`'s `enter_rust`, which turns
//! on FP/VEC/VSX (the compiler may use vector registers) and ME (so a
//! machine check is reported, not a checkstop), clears BSS, sets the stack
//! and TOC, and calls `rust_main(fdt)`. Other threads park. The boot thread
//! is PIR 0 (POWER9, POWER10) or PIR 8 (POWER8, told apart by the PVR).
//!
//! Each vector saves r3 in HSPRG1, puts its own offset in r3 and branches to
//! `pnv_rt`'s `exception_common`, which switches to the exception stack and
//! calls `rust_exception(vector)`; that reports the failure and never
//! returns. The vectors a guest reaches the hypervisor through (0xc00
//! system call, 0x980 hypervisor decrementer, 0xe00..0xea0, 0xf80) go to
//! guest/switch.rs instead, which saves the guest's state and lets the guest
//! go on (or, when the interrupt was taken in the hypervisor itself, passes
//! it to `exception_common`).

use crate::guest_trap_vector;
use pnv_rt::{boot_args_block, exception_vectors, load_address};

core::arch::global_asm!(
    r#"
.section .head, "ax"
.globl _start
_start:
    b boot
    . = 0x10
    b boot

    /* Boot arguments: magic, then a NUL-terminated string patched by xtask. */
"#,
    boot_args_block!(),
    "    /* Exception vectors: one stub every 0x20 bytes from 0x100 to 0xfe0;",
    "       the interrupts a guest takes to the hypervisor save its state. */",
    exception_vectors!("0x100", "0x980", "305"),
    guest_trap_vector!("0x980", "guest_trap_hsrr"),
    exception_vectors!("0x9a0", "0xc00", "305"),
    guest_trap_vector!("0xc00", "guest_trap_srr"),
    exception_vectors!("0xc20", "0xe00", "305"),
    guest_trap_vector!("0xe00", "guest_trap_hsrr"),
    guest_trap_vector!("0xe20", "guest_trap_hsrr"),
    guest_trap_vector!("0xe40", "guest_trap_hsrr"),
    guest_trap_vector!("0xe60", "guest_trap_hsrr"),
    guest_trap_vector!("0xe80", "guest_trap_hsrr"),
    guest_trap_vector!("0xea0", "guest_trap_hsrr"),
    exception_vectors!("0xec0", "0xf80", "305"),
    guest_trap_vector!("0xf80", "guest_trap_hsrr"),
    exception_vectors!("0xfa0", "0x1000", "305"),
    r#"
.section .text.boot, "ax"
boot:
    /* Park every thread but the boot thread: PIR 0, or PIR 8 on a POWER8
       (PVR version 0x004d), whose first core QEMU numbers 8. */
    mfspr 4, 1023
    mfpvr 5
    srwi 5, 5, 16
    li 6, 0
    cmpwi 5, 0x004d
    bne 1f
    li 6, 8
1:  cmpd 4, 6
    bne park

    /* HSPRG0 always names a guest context; none runs yet. */
"#,
    load_address!("4", "idle_guest_context"),
    r#"
    mtspr 304, 4
    b enter_rust          /* r3 = device tree; MSR keeps SF|HV */

park:
    or 1, 1, 1            /* low thread priority */
    b park
"#
);
