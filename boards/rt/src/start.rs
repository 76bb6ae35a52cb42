//! Start-up and exception entry in assembly, shared by the boards.
//!
//! Each board keeps its own `.head` section (entry point and exception
//! vectors at fixed offsets, and its own MSR set-up, which differs between
//! hypervisor and supervisor state), and splices in these fragments:
//!
//! - [`load_address!`]: the five instructions that put a 64-bit symbol
//!   address in a register (static relocation model, no TOC needed).
//! - [`exception_vectors!`]: a run of vector stubs that save r3 in a scratch
//!   SPR, put their own offset in r3 and branch to `exception_common`.
//!
//! and branches to the two routines defined here:
//!
//! - `enter_rust` (r3 = device tree; MSR already 64-bit): turns on MSR ME
//!   (a machine check is reported, not a checkstop) and FP/VEC/VSX (the
//!   compiler may use vector registers), sets the TOC (r2) and the boot
//!   stack (r1, `__boot_stack_top`),
//!   clears BSS (`__bss_start..__bss_end`, 8-byte aligned by the linker
//!   script), terminates the back chain and calls `rust_main(fdt)`, which
//!   never returns.
//! - `exception_common` (r3 = vector offset): turns FP/VEC/VSX back on (an
//!   interrupt clears them; the Rust handler may use them), switches to the
//!   exception stack (`__exception_stack_top`), sets the TOC again (the fault
//!   may have clobbered it) and calls `rust_exception(vector)`, which never
//!   returns.
//!
//! The board provides `rust_main`, `rust_exception` and the linker-script
//! symbols.

/// Assembly that loads the 64-bit address of symbol `sym` into register
/// `reg` (both string literals, e.g. `load_address!("2", ".TOC.")`), for
/// `global_asm!`. Needs no TOC, so it works before r2 is set.
#[macro_export]
macro_rules! load_address {
    ($reg:literal, $sym:literal) => {
        concat!(
            "    lis ",
            $reg,
            ", ",
            $sym,
            "@highest\n",
            "    ori ",
            $reg,
            ", ",
            $reg,
            ", ",
            $sym,
            "@higher\n",
            "    rldicr ",
            $reg,
            ", ",
            $reg,
            ", 32, 31\n",
            "    oris ",
            $reg,
            ", ",
            $reg,
            ", ",
            $sym,
            "@h\n",
            "    ori ",
            $reg,
            ", ",
            $reg,
            ", ",
            $sym,
            "@l\n",
        )
    };
}

/// Assembly for exception vector stubs every 0x20 bytes from `first` up to
/// (not including) `end`, in a section placed at address 0: each saves r3 in
/// SPR `scratch_spr`, puts its own offset in r3 and branches to
/// `exception_common`. All three are string literals, e.g.
/// `exception_vectors!("0x200", "0x1000", "273")`.
#[macro_export]
macro_rules! exception_vectors {
    ($first:literal, $end:literal, $scratch_spr:literal) => {
        concat!(
            "    .set vec, ",
            $first,
            "\n",
            "    .rept (",
            $end,
            " - ",
            $first,
            ") / 0x20\n",
            "    . = vec\n",
            "    mtspr ",
            $scratch_spr,
            ", 3\n",
            "    li 3, vec\n",
            "    b exception_common\n",
            "    .set vec, vec + 0x20\n",
            "    .endr\n",
        )
    };
}

/// Assembly that sets the exception stack (r1, with a terminated back
/// chain) and the TOC (r2), for code that enters Rust from an interrupt.
#[macro_export]
macro_rules! exception_stack_and_toc {
    () => {
        concat!(
            $crate::load_address!("1", "__exception_stack_top"),
            "    li 0, 0\n",
            "    stdu 0, -256(1)\n",
            $crate::load_address!("2", ".TOC."),
        )
    };
}

#[cfg(target_arch = "powerpc64")]
core::arch::global_asm!(
    r#"
.section .text.enter_rust, "ax"
.globl enter_rust
enter_rust:
    mr 31, 3              /* keep the device tree address */
    /* MSR: add ME, FP, VEC, VSX (both hypervisor and supervisor state may
       set them with mtmsrd). */
    mfmsr 5
    ori 5, 5, 0x3000      /* ME | FP */
    oris 5, 5, 0x0280     /* VEC | VSX */
    mtmsrd 5
    isync
    /* TOC pointer (r2, the linker's .TOC.) and boot stack (r1). */
"#,
    load_address!("2", ".TOC."),
    load_address!("1", "__boot_stack_top"),
    "    /* Clear BSS (8-byte aligned both ends by the linker script). */",
    load_address!("6", "__bss_start"),
    load_address!("7", "__bss_end"),
    r#"
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

.section .text.exception_common, "ax"
.globl exception_common
exception_common:
    /* Interrupts clear MSR[FP|VEC|VSX]; the Rust handler may use them. */
    mfmsr 1               /* r1 is reloaded below; r3 holds the vector */
    ori 1, 1, 0x2000
    oris 1, 1, 0x0280
    mtmsrd 1
    isync
"#,
    exception_stack_and_toc!(),
    r#"
    bl rust_exception
    nop
1:  b 1b
"#
);

#[cfg(test)]
mod tests {
    #[test]
    fn load_address_is_the_five_instruction_sequence() {
        assert_eq!(
            load_address!("2", ".TOC."),
            "    lis 2, .TOC.@highest\n    ori 2, 2, .TOC.@higher\n    \
             rldicr 2, 2, 32, 31\n    oris 2, 2, .TOC.@h\n    ori 2, 2, .TOC.@l\n"
        );
    }

    #[test]
    fn vector_stubs_cover_the_range_every_0x20() {
        let asm = exception_vectors!("0x200", "0x1000", "273");
        assert!(asm.contains(".set vec, 0x200\n"));
        assert!(asm.contains(".rept (0x1000 - 0x200) / 0x20\n"));
        assert!(asm.contains("mtspr 273, 3\n"));
        assert!(asm.contains("b exception_common\n"));
    }
}
