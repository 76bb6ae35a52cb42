//! Entry at 0x10, boot arguments at 0x20, exception vectors at 0x100..0x1000.
//!
//! QEMU starts every thread at 0x10 in big-endian hypervisor real mode with
//! MSR[ME] off and r3 = device tree. The boot thread turns on FP/VEC/VSX (the
//! compiler may use vector registers) and ME (so a machine check is reported,
//! not a checkstop), clears BSS, sets the stack and TOC, and calls
//! `rust_main(fdt)`. Other threads park.
//!
//! Each vector saves r3 in HSPRG1, puts its own offset in r3 and branches to
//! `exception_common`, which switches to the exception stack and calls
//! `rust_exception(vector)`; that reports the failure and never returns.

core::arch::global_asm!(
    r#"
.section .head, "ax"
.globl _start
_start:
    b boot
    . = 0x10
    b boot

    /* Boot arguments: magic, then a NUL-terminated string patched by xtask. */
    . = 0x20
.globl boot_args
boot_args:
    .ascii "PNVARGS\0"
    .space 0xd8

    /* Exception vectors: one stub every 0x20 bytes from 0x100 to 0xfe0,
       except 0xc00 (system call), which saves the guest's state first. */
    .set vec, 0x100
    .rept (0xc00 - 0x100) / 0x20
    . = vec
    mtspr 305, 3          /* HSPRG1 = r3 */
    li 3, vec
    b exception_common
    .set vec, vec + 0x20
    .endr

    . = 0xc00
    mtspr 305, 13         /* HSPRG1 = r13 */
    mfspr 13, 304         /* r13 = current guest context (HSPRG0) */
    b guest_syscall

    .set vec, 0xc20
    .rept (0x1000 - 0xc20) / 0x20
    . = vec
    mtspr 305, 3
    li 3, vec
    b exception_common
    .set vec, vec + 0x20
    .endr

.section .text.boot, "ax"
boot:
    /* Park every thread but PIR 0. */
    mfspr 4, 1023
    cmpdi 4, 0
    bne park

    mr 31, 3              /* keep the device tree address */

    /* HSPRG0 always names a guest context; none runs yet. */
    lis 4, idle_guest_context@highest
    ori 4, 4, idle_guest_context@higher
    rldicr 4, 4, 32, 31
    oris 4, 4, idle_guest_context@h
    ori 4, 4, idle_guest_context@l
    mtspr 304, 4

    /* MSR: keep SF|HV, add ME, FP, VEC, VSX. */
    mfmsr 5
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
park:
    or 1, 1, 1            /* low thread priority */
    b park

exception_common:
    /* Interrupts clear MSR[FP|VEC|VSX]; the Rust handler may use them. */
    mfmsr 1               /* r1 is reloaded below; r3 holds the vector */
    ori 1, 1, 0x2000
    oris 1, 1, 0x0280
    mtmsrd 1
    /* Exception stack; TOC again (the fault may have clobbered it). */
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
3:  b 3b
"#
);

unsafe extern "C" {
    /// The boot-argument block at 0x20: "PNVARGS\0" then a NUL-terminated
    /// string that `cargo xtask` writes into the image.
    static boot_args: [u8; 0xe0];
}

/// The boot-argument string (empty when none was given).
pub fn args() -> &'static str {
    // SAFETY: `boot_args` is a 0xe0-byte block in the image's .head section,
    // defined in the assembly above; nothing writes it at run time.
    let block: &'static [u8; 0xe0] = unsafe { &*core::ptr::addr_of!(boot_args) };
    let text = &block[8..];
    let len = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    core::str::from_utf8(&text[..len]).unwrap_or("")
}
