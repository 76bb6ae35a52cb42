//! The running guest's processor state that lives outside its registers:
//! the LPCR bits a guest chooses through hypercalls, its process table,
//! and interrupts the hypervisor reflects into it. Called from trap
//! handlers only (while `Guest::run` is in progress); each function says
//! what it does when no guest runs.
//!
//! Bits and layouts: Power ISA 3.0 Book III (LPCR §2.2, partition table
//! entry §5.7.6, interrupt MSR and SRR1 §6.5).

use super::{ACTIVE_PATE, GuestRegs, TrapAction};
use core::sync::atomic::Ordering;
use pnv_rt::spr::{self, Msr, Spr};

/// LPCR[ILE]: interrupts to the guest are taken little-endian.
pub const LPCR_ILE: u64 = 1 << 25;
/// LPCR[AIL]: alternate interrupt location (never given to a guest).
pub const LPCR_AIL: u64 = 3 << 23;
/// LPCR[UPRT]: the guest uses a process table.
pub const LPCR_UPRT: u64 = 1 << 22;
/// LPCR[GTSE]: the guest may use `tlbie`/`tlbsync` itself.
pub const LPCR_GTSE: u64 = 1 << 10;
/// LPCR[LD]: large decrementer (off: the guest's device tree gives no
/// `ibm,dec-bits`, so it assumes 32 bits).
pub const LPCR_LD: u64 = 1 << 17;

/// SRR1 bits an interrupt sets itself (33:36 and 42:47); the rest is
/// copied from the MSR.
const SRR1_INTERRUPT_BITS: u64 = 0x783f_0000;
/// SRR1 of a program interrupt: illegal instruction (bit 44).
pub const SRR1_PROGRAM_ILLEGAL: u64 = 1 << 19;
/// Vector of the program interrupt.
pub const VECTOR_PROGRAM: u64 = 0x700;
/// Vector of the external interrupt.
pub const VECTOR_EXTERNAL: u64 = 0x500;

/// Partition-table entry doubleword 1: guest radix.
const PATE1_GR: u64 = 1 << 63;
/// Process table base (bits 4:51) and size (bits 59:63, 2^(12+PRTS)).
const PATE1_PRTB: u64 = 0x0fff_ffff_ffff_f000;
const PATE1_PRTS: u64 = 0x1f;

const SPR_LPCR: u16 = Spr::Lpcr.number();
const SPR_SRR0: u16 = Spr::Srr0.number();
const SPR_SRR1: u16 = Spr::Srr1.number();

fn mtspr<const SPR: u16>(value: u64) {
    // SAFETY: the callers write LPCR bits that act in guest state only
    // (ILE, UPRT, GTSE), or SRR0/SRR1, which the hypervisor does not use
    // (its own interrupts are fatal) and which hold the guest's values
    // until it resumes.
    unsafe {
        core::arch::asm!("mtspr {spr}, {0}", in(reg) value, spr = const SPR, options(nostack))
    };
}

/// Sets the LPCR bits in `mask` to `value` for the running guest (kept
/// until `Guest::run` returns; the hypervisor's own LPCR is restored then).
/// Only [`LPCR_ILE`], [`LPCR_UPRT`] and [`LPCR_GTSE`] may change; other
/// bits of `mask` are ignored.
pub fn set_lpcr(mask: u64, value: u64) {
    let mask = mask & (LPCR_ILE | LPCR_UPRT | LPCR_GTSE);
    mtspr::<SPR_LPCR>((spr::read(Spr::Lpcr) & !mask) | (value & mask));
}

/// True if interrupts to the guest are taken little-endian.
pub fn interrupts_little_endian() -> bool {
    spr::read(Spr::Lpcr) & LPCR_ILE != 0
}

/// Why a process table cannot be registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessTableError {
    /// No guest is running.
    NoGuest,
    /// Base not aligned to the table's size, or the size field too large.
    BadTable,
}

/// Points the running guest's partition-table entry at a radix process
/// table at guest real `base` of 2^(12 + `size_field`) bytes (`base` 0 and
/// `size_field` 0: none), and flushes the guest's cached translations.
/// The table is read through the partition-scoped tree, so a `base` outside
/// the guest's RAM only makes the guest's own translations fault.
pub fn set_process_table(base: u64, size_field: u64) -> Result<(), ProcessTableError> {
    let entry = ACTIVE_PATE.load(Ordering::SeqCst);
    if entry == 0 {
        return Err(ProcessTableError::NoGuest);
    }
    // PRTS up to 24 (a 64 GiB table) is what the ISA allows for radix.
    if size_field > 24 || base & !PATE1_PRTB != 0 || base & ((1 << (12 + size_field)) - 1) != 0 {
        return Err(ProcessTableError::BadTable);
    }
    let dw1 = if base == 0 && size_field == 0 {
        0
    } else {
        PATE1_GR | base | (size_field & PATE1_PRTS)
    };
    // SAFETY: `entry` is the running guest's partition-table entry, in the
    // table its `Guest` owns (published by `Guest::run` for the duration of
    // the run, which is in progress: this is called from its trap handler);
    // doubleword 1 is the process-table word. `ptesync` orders the store
    // before the guest's next walk; `tlbiel` drops cached translations
    // (QEMU flushes its whole TLB on it; see `Guest::run`).
    unsafe {
        core::ptr::write_volatile((entry + 8) as *mut u64, dw1);
        core::arch::asm!("ptesync", "tlbiel {0}", "ptesync", in(reg) 0u64, options(nostack));
    }
    Ok(())
}

/// The guest's decrementer (32 bits: LPCR[LD] is off for guests), signed.
pub fn decrementer() -> i32 {
    let dec: u64;
    // SAFETY: reading DEC (SPR 22) has no side effect.
    unsafe { core::arch::asm!("mfspr {0}, 22", out(reg) dec, options(nomem, nostack)) };
    dec as u32 as i32
}

/// Makes the guest take interrupt `vector` next, as the processor would:
/// SRR0 = where it was, SRR1 = its MSR with `srr1_bits` in the
/// interrupt-specific bits, and the interrupt MSR (64-bit, machine check
/// kept, little-endian as LPCR[ILE] says, everything else off). The guest
/// gets no alternate interrupt location (AIL is refused).
pub fn reflect(regs: &mut GuestRegs, vector: u64, srr1_bits: u64) {
    mtspr::<SPR_SRR0>(regs.pc);
    mtspr::<SPR_SRR1>((regs.msr & !SRR1_INTERRUPT_BITS) | (srr1_bits & SRR1_INTERRUPT_BITS));
    let mut msr = Msr::SF | (Msr::from_bits_retain(regs.msr) & Msr::ME);
    msr.set(Msr::LE, interrupts_little_endian());
    regs.msr = msr.bits();
    regs.pc = vector;
}

/// What the hypervisor does with an interrupt a guest took to it, unless a
/// handler does better:
/// - hypervisor decrementer (0x980), maintenance (0xe60): nothing to do;
///   the guest goes on.
/// - emulation assistance (0xe40: an instruction the hypervisor does not
///   emulate) and facility unavailable (0xf80): a program interrupt
///   (illegal instruction) in the guest, as KVM does; the guest's kernel
///   decides.
/// - storage interrupts (0xe00, 0xe20: an address outside the partition),
///   doorbells and virtualization interrupts: the guest ends with a fault.
pub fn default_exception(regs: &mut GuestRegs, vector: u64) -> TrapAction {
    match vector {
        0x980 | 0xe60 => TrapAction::Resume,
        0xe40 | 0xf80 => {
            reflect(regs, VECTOR_PROGRAM, SRR1_PROGRAM_ILLEGAL);
            TrapAction::Resume
        }
        _ => TrapAction::Fault,
    }
}
