//! Entering a guest and trapping back: the register-level context switch.
//!
//! `guest_enter(ctx)` saves the hypervisor's non-volatile state in
//! `host_context`, points HSPRG0 at `ctx` and `hrfid`s into the guest with
//! `ctx.pc`/`ctx.msr`. An interrupt the guest takes to the hypervisor (its
//! `sc 1` at 0xc00, and the hypervisor interrupts at 0x980, 0xe00..0xea0,
//! 0xf80) arrives at a [`guest_trap_vector!`] stub (start.rs), which saves
//! r13 in HSPRG1 and r3 in `ctx` (r13 = HSPRG0 = `ctx`) and branches to
//! `guest_trap_srr`/`guest_trap_hsrr` with the vector in r3. If the saved
//! MSR has HV = 1 the interrupt hit the hypervisor itself: it goes to
//! `exception_common` (a failure report, never a resume). Otherwise every
//! guest register is saved in `ctx` and `rust_guest_trap(ctx, vector)` runs
//! on the exception stack. That returns 0 to resume the guest (at `ctx.pc`
//! with `ctx.msr`) or any other value to leave it, in which case
//! `guest_enter` returns that value. `guest_abort(code)` leaves the guest from
//! any other exception handler.
//!
//! Layout of [`GuestRegs`] (offsets used below): gpr 0, pc 256, msr 264,
//! cr 272, lr 280, ctr 288, xer 296, fpscr 304, vsr 320 (64 x 16 bytes).
//! Layout of `host_context`: r1 0, r2 8, r13..r31 16..168, lr 168, cr 176,
//! fpscr 184, vsr 192.

use pnv_rt::{exception_stack_and_toc, load_address};

/// A guest's registers while it is not running.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
pub struct GuestRegs {
    /// General-purpose registers r0..r31.
    pub gpr: [u64; 32],
    /// Next instruction (SRR0 of the trap, HSRR0 on entry).
    pub pc: u64,
    /// Machine state (HV must be 0).
    pub msr: u64,
    /// Condition register.
    pub cr: u64,
    /// Link register.
    pub lr: u64,
    /// Count register.
    pub ctr: u64,
    /// Fixed-point exception register.
    pub xer: u64,
    /// Floating-point status and control register.
    pub fpscr: u64,
    _pad: u64,
    /// Vector-scalar registers vs0..vs63.
    pub vsr: [u128; 64],
}

impl GuestRegs {
    /// A guest about to start at `pc` with machine state `msr`.
    pub const fn new(pc: u64, msr: u64) -> Self {
        GuestRegs {
            gpr: [0; 32],
            pc,
            msr,
            cr: 0,
            lr: 0,
            ctr: 0,
            xer: 0,
            fpscr: 0,
            _pad: 0,
            vsr: [0; 64],
        }
    }
}

const _: () = {
    assert!(core::mem::offset_of!(GuestRegs, pc) == 256);
    assert!(core::mem::offset_of!(GuestRegs, fpscr) == 304);
    assert!(core::mem::offset_of!(GuestRegs, vsr) == 320);
};

/// Assembly for one exception vector through which a guest reaches the
/// hypervisor, for `global_asm!` in the board's `.head` section: at
/// `vector`, save r13 in HSPRG1, point r13 at the running guest context
/// (HSPRG0), save r3 there, put the vector in r3 and branch to `entry`
/// (`guest_trap_srr` or `guest_trap_hsrr`, whichever pair of save/restore
/// registers the interrupt uses). Five instructions: fits the 0x20 slot.
#[macro_export]
macro_rules! guest_trap_vector {
    ($vector:literal, $entry:literal) => {
        concat!(
            "    . = ",
            $vector,
            "\n",
            "    mtspr 305, 13\n",
            "    mfspr 13, 304\n",
            "    std 3, 24(13)\n",
            "    li 3, ",
            $vector,
            "\n",
            "    b ",
            $entry,
            "\n",
        )
    };
}

unsafe extern "C" {
    /// Runs the guest described by `ctx` until a trap handler asks to leave;
    /// returns the handler's value.
    pub fn guest_enter(ctx: *mut GuestRegs) -> u64;
    /// Leaves the running guest from an exception handler: `guest_enter`
    /// returns `code`.
    pub fn guest_abort(code: u64) -> !;
}

core::arch::global_asm!(
    r#"
.section .bss.guest_context, "aw", @nobits
.balign 16
.globl idle_guest_context
idle_guest_context:
    .space 1344
.balign 16
host_context:
    .space 1216

.section .text.guest_switch, "ax"

/* r3 = guest context. */
.globl guest_enter
guest_enter:
"#,
    load_address!("4", "host_context"),
    r#"
    std 1, 0(4)
    std 2, 8(4)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    std \n, (16 + (\n - 13) * 8)(4)
    .endr
    mflr 0
    std 0, 168(4)
    mfcr 0
    std 0, 176(4)
    mffs 0
    stfd 0, 184(4)
    addi 5, 4, 192
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    li 0, \n * 16
    stxvd2x \n, 5, 0
    .endr
    mtspr 304, 3
    mr 13, 3
    b guest_resume

/* r13 = guest context: load the guest's registers and enter it. */
guest_resume:
    lfd 0, 304(13)
    mtfsf 0xff, 0
    addi 5, 13, 320
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    li 0, \n * 16
    lxvd2x \n, 5, 0
    .endr
    ld 0, 256(13)
    mtspr 314, 0          /* HSRR0 */
    ld 0, 264(13)
    mtspr 315, 0          /* HSRR1 */
    ld 0, 272(13)
    mtcr 0
    ld 0, 280(13)
    mtlr 0
    ld 0, 288(13)
    mtctr 0
    ld 0, 296(13)
    mtxer 0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld \n, (\n * 8)(13)
    .endr
    ld 13, 104(13)
    hrfid

/* From a guest_trap_vector stub: r3 = vector, r13 = guest context (guest r3
   saved in it), guest r13 in HSPRG1. Interrupted PC/MSR in HSRR0/1 or
   SRR0/1. */
.globl guest_trap_hsrr
guest_trap_hsrr:
    std 4, 32(13)
    mfspr 4, 314
    std 4, 256(13)
    mfspr 4, 315
    std 4, 264(13)
    b guest_trap_common
.globl guest_trap_srr
guest_trap_srr:
    std 4, 32(13)
    mfspr 4, 26
    std 4, 256(13)
    mfspr 4, 27
    std 4, 264(13)
/* r4 = interrupted MSR. */
guest_trap_common:
    std 5, 40(13)
    mfcr 5
    std 5, 272(13)
    rldicl. 4, 4, 4, 63   /* MSR[HV] */
    bne hypervisor_trap
    .irp n, 0,1,2,6,7,8,9,10,11,12,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    std \n, (\n * 8)(13)
    .endr
    mfspr 0, 305
    std 0, 104(13)
    mflr 0
    std 0, 280(13)
    mfctr 0
    std 0, 288(13)
    mfxer 0
    std 0, 296(13)
    /* The interrupt cleared MSR[FP|VEC|VSX]: turn them on to save them. */
    mfmsr 0
    ori 0, 0, 0x2000
    oris 0, 0, 0x0280
    mtmsrd 0
    isync
    addi 5, 13, 320
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    li 0, \n * 16
    stxvd2x \n, 5, 0
    .endr
    mffs 0
    stfd 0, 304(13)
    mr 14, 3              /* vector (r14 is saved in ctx) */
    /* Hypervisor exception stack and TOC. */
"#,
    exception_stack_and_toc!(),
    r#"
    mr 3, 13
    mr 4, 14
    bl rust_guest_trap
    nop
    cmpdi 3, 0
    bne guest_abort
    mfspr 13, 304
    b guest_resume

/* The interrupt was taken in the hypervisor (r3 = vector): report it. */
hypervisor_trap:
    b exception_common

/* r3 = value for guest_enter to return: restore the hypervisor's state. */
.globl guest_abort
guest_abort:
"#,
    load_address!("4", "host_context"),
    r#"
    mfmsr 0
    ori 0, 0, 0x2000
    oris 0, 0, 0x0280
    mtmsrd 0
    addi 5, 4, 192
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    li 0, \n * 16
    lxvd2x \n, 5, 0
    .endr
    lfd 0, 184(4)
    mtfsf 0xff, 0
    ld 0, 168(4)
    mtlr 0
    ld 0, 176(4)
    mtcr 0
    ld 1, 0(4)
    ld 2, 8(4)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld \n, (16 + (\n - 13) * 8)(4)
    .endr
"#,
    load_address!("5", "idle_guest_context"),
    r#"
    mtspr 304, 5
    blr
"#
);
