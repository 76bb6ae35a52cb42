//! Entry at 0x100, boot arguments at 0x20, exception vectors at 0x200..0x1000.
//!
//! QEMU pseries (`-bios`) and the pnv-iommu hypervisor load the raw image at
//! guest real 0 and start it at 0x100 in big-endian supervisor real mode with
//! r3 = device tree. Start-up turns on SF (QEMU pseries starts `-bios` in
//! 32-bit mode) and branches to `pnv_rt`'s `enter_rust`, which turns on ME
//! and FP/VEC/VSX (the compiler may use vector registers; `mtmsrd` of those
//! bits is allowed in supervisor state), sets the TOC and stack, clears BSS
//! and calls `rust_main(fdt)`.
//!
//! The guest's own interrupts arrive at guest real 0x200..0xfe0. Each vector
//! saves r3 in SPRG1, puts its offset in r3 and branches to `pnv_rt`'s
//! `exception_common`, which calls `rust_exception(vector)`; that prints the
//! state and reports failure. (`sc 1` goes to the hypervisor, not here; a
//! `sc 0` from problem state returns to `problem_state.rs`.)

use pnv_rt::{boot_args_block, exception_vectors};

core::arch::global_asm!(
    r#"
.section .head, "ax"
.globl _start
_start:
    b boot

    /* Boot arguments: magic, then a NUL-terminated string patched by xtask. */
"#,
    boot_args_block!(),
    r#"
    /* Entry (pseries starts firmware at 0x100). */
    . = 0x100
    b boot

    /* Exception vectors, one stub every 0x20 bytes. */
"#,
    exception_vectors!("0x200", "0xc00", "273"),
    r#"
    /* System call: from problem state it is the H_PRIVILEGE case's stub
       coming back (problem_state.rs); otherwise unexpected. */
    . = 0xc00
    b system_call_vector
"#,
    exception_vectors!("0xc20", "0x1000", "273"),
    r#"
.section .text.boot, "ax"
system_call_vector:
    mtspr 273, 3
    mfsrr1 3
    andi. 3, 3, 0x4000    /* SRR1[PR] */
    beq 1f
    mfspr 3, 273
    b problem_state_return
1:  li 3, 0xc00
    b exception_common

boot:
    /* MSR: add SF (pseries may start firmware in 32-bit mode, where
       record forms set CR0 from the low word only); enter_rust adds ME,
       FP, VEC and VSX. */
    mfmsr 5
    li 6, 1
    rldicr 6, 6, 63, 0    /* SF = 1 << 63 */
    or 5, 5, 6
    mtmsrd 5
    isync
    b enter_rust          /* r3 = device tree */
"#
);
