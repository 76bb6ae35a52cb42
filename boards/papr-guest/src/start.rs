//! Entry at 0x100, boot arguments at 0x20, exception vectors at 0x200..0x1000.
//!
//! QEMU pseries (`-bios`) and the pnv-iommu hypervisor load the raw image at
//! guest real 0 and start it at 0x100 in big-endian supervisor real mode with
//! r3 = device tree. Start-up turns on FP/VEC/VSX (the compiler may use vector
//! registers; `mtmsrd` of those bits is allowed in supervisor state), SF
//! (QEMU pseries starts `-bios` in 32-bit mode) and ME,
//! sets the TOC and stack, clears BSS and calls `rust_main(fdt)`.
//!
//! The guest's own interrupts arrive at guest real 0x200..0xfe0. Each vector
//! saves r3 in SPRG1, puts its offset in r3 and branches to
//! `exception_common`, which calls `rust_exception(vector)`; that prints the
//! state and reports failure. (`sc 1` goes to the hypervisor, not here.)

core::arch::global_asm!(
    r#"
.section .head, "ax"
.globl _start
_start:
    b boot

    /* Boot arguments: magic, then a NUL-terminated string patched by xtask. */
    . = 0x20
.globl boot_args
boot_args:
    .ascii "PNVARGS\0"
    .space 0xd8

    /* Entry (pseries starts firmware at 0x100). */
    . = 0x100
    b boot

    /* Exception vectors, one stub every 0x20 bytes. */
    .set vec, 0x200
    .rept (0x1000 - 0x200) / 0x20
    . = vec
    mtspr 273, 3          /* SPRG1 = r3 */
    li 3, vec
    b exception_common
    .set vec, vec + 0x20
    .endr

.section .text.boot, "ax"
boot:
    mr 31, 3              /* keep the device tree address */

    /* MSR: add SF (pseries may start firmware in 32-bit mode, where
       record forms set CR0 from the low word only), ME, FP, VEC, VSX. */
    mfmsr 5
    li 6, 1
    rldicr 6, 6, 63, 0    /* SF = 1 << 63 */
    or 5, 5, 6
    ori 5, 5, 0x3000      /* ME | FP */
    oris 5, 5, 0x0280     /* VEC | VSX */
    mtmsrd 5
    isync

    /* TOC pointer (r2, the linker's .TOC.) and boot stack (r1). */
    lis 2, .TOC.@highest
    ori 2, 2, .TOC.@higher
    rldicr 2, 2, 32, 31
    oris 2, 2, .TOC.@h
    ori 2, 2, .TOC.@l

    lis 1, __boot_stack_top@highest
    ori 1, 1, __boot_stack_top@higher
    rldicr 1, 1, 32, 31
    oris 1, 1, __boot_stack_top@h
    ori 1, 1, __boot_stack_top@l

    /* Clear BSS (8-byte aligned both ends by the linker script). */
    lis 6, __bss_start@highest
    ori 6, 6, __bss_start@higher
    rldicr 6, 6, 32, 31
    oris 6, 6, __bss_start@h
    ori 6, 6, __bss_start@l
    lis 7, __bss_end@highest
    ori 7, 7, __bss_end@higher
    rldicr 7, 7, 32, 31
    oris 7, 7, __bss_end@h
    ori 7, 7, __bss_end@l
    li 8, 0
1:  cmpld 6, 7
    bge 2f
    std 8, 0(6)
    addi 6, 6, 8
    b 1b
2:
    li 0, 0
    stdu 0, -256(1)       /* terminate the back chain */
    mr 3, 31
    bl rust_main
    nop
3:  b 3b

exception_common:
    /* Interrupts clear MSR[FP|VEC|VSX]; the Rust handler may use them. */
    mfmsr 1               /* r1 is reloaded below; r3 holds the vector */
    ori 1, 1, 0x2000
    oris 1, 1, 0x0280
    mtmsrd 1
    lis 1, __exception_stack_top@highest
    ori 1, 1, __exception_stack_top@higher
    rldicr 1, 1, 32, 31
    oris 1, 1, __exception_stack_top@h
    ori 1, 1, __exception_stack_top@l
    li 0, 0
    stdu 0, -256(1)
    lis 2, .TOC.@highest
    ori 2, 2, .TOC.@higher
    rldicr 2, 2, 32, 31
    oris 2, 2, .TOC.@h
    ori 2, 2, .TOC.@l
    bl rust_exception
    nop
4:  b 4b
"#
);
