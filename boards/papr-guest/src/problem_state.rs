//! Problem state (MSR[PR] = 1) for the H_PRIVILEGE case.
//!
//! `rfid` to problem state also turns on instruction and data relocation
//! (Power ISA 3.0), so the guest first gives itself a radix process table
//! (registered with H_REGISTER_PROC_TBL) whose process 0 maps effective
//! 0..1 GiB to guest real 0..1 GiB with one 1 GiB leaf, readable, writable
//! and executable from problem state. That covers the image, so the stub
//! runs where it was linked. It then `rfid`s to the stub, which issues
//! `sc 1` (the hypercall under test) and `sc 0`; the system-call vector
//! (0xc00, start.rs) sees SRR1[PR] = 1 and comes back here with the
//! hypercall's r3, restoring the caller's registers. Supervisor `sc 0` is
//! never issued, so it still reaches the failure handler.

use crate::hcall::hcall;

/// H_REGISTER_PROC_TBL.
const H_REGISTER_PROC_TBL: u64 = 0x37c;
/// Its flags: register a new table (0x18), radix (0x04).
const PROC_TBL_NEW_RADIX: u64 = 0x18 | 0x04;

/// Valid, and leaf, bits of a radix directory / page table entry.
const RADIX_VALID: u64 = 1 << 63;
const RADIX_LEAF: u64 = 1 << 62;
/// Leaf: referenced and changed (set, so nothing needs updating them).
const PTE_R: u64 = 1 << 8;
const PTE_C: u64 = 1 << 7;
/// Leaf: read, read/write, execute, for problem and privileged state.
const PTE_RWX: u64 = 0x7;
/// Process-table entry doubleword 0: radix tree size 52 bits (RTS = 21,
/// split over bits 1:2 and 56:58), root of 2^13 entries.
const PRTE_RTS_52: u64 = (0b10 << 61) | (0b101 << 5);
const ROOT_BITS: u64 = 13;
/// Level-1 directory: 2^9 entries, each 1 GiB.
const LEVEL1_BITS: u64 = 9;

/// MSR bits of the stub: problem state, instruction and data relocation.
const MSR_PR: u64 = 1 << 14;
const MSR_IR: u64 = 1 << 5;
const MSR_DR: u64 = 1 << 4;
/// SPR number of the decrementer.
const SPR_DEC: u16 = 22;

/// Root directory (64 KiB, aligned to its size as the ISA requires).
#[repr(C, align(65536))]
struct Root([u64; 1 << ROOT_BITS]);
/// Level-1 directory (4 KiB).
#[repr(C, align(4096))]
struct Level1([u64; 1 << LEVEL1_BITS]);
/// Process table of the smallest size (4 KiB, 256 entries).
#[repr(C, align(4096))]
struct ProcessTable([u64; 512]);

static mut ROOT: Root = Root([0; 1 << ROOT_BITS]);
static mut LEVEL1: Level1 = Level1([0; 1 << LEVEL1_BITS]);
static mut PROCESS_TABLE: ProcessTable = ProcessTable([0; 512]);

unsafe extern "C" {
    /// Enters problem state at `stub` with `msr`, r3..r5 = `opcode`,
    /// `liobn`, `ioba`; returns the stub's r3 when it issues `sc 0`.
    fn problem_state_hcall(opcode: u64, liobn: u64, ioba: u64, stub: u64, msr: u64) -> u64;
    /// `sc 1`, then `sc 0` (problem state).
    fn problem_state_stub();
}

/// Why the hypercall could not be made from problem state.
#[derive(Clone, Copy, Debug)]
pub struct NoProcessTable(pub i64);

/// Issues hypercall `opcode` (r4 = `liobn`, r5 = `ioba`) from problem state
/// and returns its r3, or the H_REGISTER_PROC_TBL status that refused the
/// process table the guest needs to get there. The table stays registered.
pub fn hcall_from_problem_state(opcode: u64, liobn: u64, ioba: u64) -> Result<i64, NoProcessTable> {
    let root = &raw mut ROOT as u64;
    let level1 = &raw mut LEVEL1 as u64;
    let prtb = &raw mut PROCESS_TABLE as u64;
    // SAFETY: the three tables are this module's statics, used only here
    // and by the MMU after registration; the image runs at guest real =
    // link address (linker/papr-guest.ld), so their addresses are the real
    // addresses the tree names. Volatile stores keep them ordered before
    // `ptesync`, which orders them before the MMU's walk.
    unsafe {
        core::ptr::write_volatile(
            level1 as *mut u64,
            RADIX_VALID | RADIX_LEAF | PTE_R | PTE_C | PTE_RWX,
        );
        core::ptr::write_volatile(root as *mut u64, RADIX_VALID | level1 | LEVEL1_BITS);
        core::ptr::write_volatile(prtb as *mut u64, PRTE_RTS_52 | root | ROOT_BITS);
        core::arch::asm!("ptesync", options(nostack));
    }
    let st = hcall(H_REGISTER_PROC_TBL, &[PROC_TBL_NEW_RADIX, prtb, 0, 0]).status;
    if st != 0 {
        return Err(NoProcessTable(st));
    }
    let msr: u64;
    // SAFETY: reading the MSR has no effect; the decrementer is set to its
    // largest positive value so that no decrementer interrupt comes while
    // the stub runs (problem state may force MSR[EE] = 1; the guest uses no
    // timer otherwise).
    unsafe {
        core::arch::asm!("mfmsr {0}", out(reg) msr, options(nomem, nostack));
        core::arch::asm!("mtspr {spr}, {0}", in(reg) 0x7fff_ffffu64, spr = const SPR_DEC, options(nostack));
    }
    let stub = problem_state_stub as *const () as usize as u64;
    // SAFETY: the stub runs under the tree set up above (identity for the
    // image), issues only `sc 1` and `sc 0`, and `sc 0` from problem state
    // returns through `problem_state_return`, which restores every
    // non-volatile register `problem_state_hcall` saved (the stub and the
    // vector touch no floating-point or vector register).
    let r3 =
        unsafe { problem_state_hcall(opcode, liobn, ioba, stub, msr | MSR_PR | MSR_IR | MSR_DR) };
    Ok(r3 as i64)
}

core::arch::global_asm!(
    r#"
.section .bss.problem_state, "aw", @nobits
.balign 8
problem_state_frame:
    .space 8 * 24

.section .text.problem_state, "ax"
.globl problem_state_hcall
problem_state_hcall:
    /* r3..r5 hypercall, r6 stub, r7 its MSR. Save LR, r1, r2, r13, CR
       and r14..r31, then rfid to the stub. */
"#,
    pnv_rt::load_address!("8", "problem_state_frame"),
    r#"
    mflr 0
    std 0, 0(8)
    std 1, 8(8)
    std 2, 16(8)
    std 13, 24(8)
    mfcr 0
    std 0, 32(8)
    .irp n, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    std \n, (40 + 8 * (\n - 14))(8)
    .endr
    mtsrr0 6
    mtsrr1 7
    rfid

.globl problem_state_stub
problem_state_stub:
    sc 1
    sc 0
    b .

/* From the system-call vector with SRR1[PR] = 1: r3 = the stub's r3.
   Back in supervisor real mode; turn FP/VEC/VSX on again as
   exception_common does, then return from problem_state_hcall. */
.globl problem_state_return
problem_state_return:
    mfmsr 0
    ori 0, 0, 0x2000
    oris 0, 0, 0x0280
    mtmsrd 0
    isync
"#,
    pnv_rt::load_address!("8", "problem_state_frame"),
    r#"
    ld 0, 0(8)
    mtlr 0
    ld 1, 8(8)
    ld 2, 16(8)
    ld 13, 24(8)
    ld 0, 32(8)
    mtcr 0
    .irp n, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    ld \n, (40 + 8 * (\n - 14))(8)
    .endr
    blr
"#
);
