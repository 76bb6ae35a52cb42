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
//! returns. Vector 0xc00 (system call) saves the guest's state instead
//! (guest/switch.rs).

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
    "    /* Exception vectors: one stub every 0x20 bytes from 0x100 to 0xfe0,",
    "       except 0xc00 (system call), which saves the guest's state first. */",
    exception_vectors!("0x100", "0xc00", "305"),
    r#"
    . = 0xc00
    mtspr 305, 13         /* HSPRG1 = r13 */
    mfspr 13, 304         /* r13 = current guest context (HSPRG0) */
    b guest_syscall
"#,
    exception_vectors!("0xc20", "0x1000", "305"),
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
