//! Guest partitions: a real guest context (MSR[HV] = 0) whose real addresses
//! are translated by a partition-scoped radix tree to a non-identity host
//! block, and whose `sc 1` hypercalls and hypervisor interrupts trap to the
//! hypervisor, which serves them and lets the guest go on.

pub mod bundle;
pub mod console;
pub mod devtree;
pub mod linux_dt;
pub mod memory;
pub mod passthrough;
pub mod pci_device;
pub mod pseries;
pub mod radix;
pub mod switch;
pub mod vcpu;
pub mod xics;

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use pnv_rt::spr::Msr;
use pnv_rt::spr::{self, Spr};
use radix::{PartitionTable, RadixError};
pub use switch::GuestRegs;

const SPR_LPCR: u16 = Spr::Lpcr.number();
const SPR_LPIDR: u16 = Spr::Lpidr.number();
const SPR_PTCR: u16 = Spr::Ptcr.number();
/// LPCR: host radix (also: the guest's own translation is radix).
const LPCR_HR: u64 = 1 << 20;
/// LPCR: hypervisor decrementer interrupt enable (kept off).
const LPCR_HDICE: u64 = 1;
/// LPCR bits that start cleared for a guest (the guest sets some through
/// hypercalls, see vcpu.rs): interrupt little-endian, alternate interrupt
/// location, use process table, guest tlbie, large decrementer.
const LPCR_GUEST_CLEARED: u64 = vcpu::LPCR_ILE
    | vcpu::LPCR_AIL
    | vcpu::LPCR_UPRT
    | vcpu::LPCR_GTSE
    | vcpu::LPCR_LD
    | LPCR_HDICE;
/// HFSCR (SPR 190): the facilities a guest may use without a hypervisor
/// facility unavailable interrupt. All of them: the guest owns its
/// facility state, which the hypervisor saves where it uses it itself
/// (FP/VEC/VSX, see switch.rs) and otherwise leaves alone.
const SPR_HFSCR: u16 = 190;
const HFSCR_ALL: u64 = u64::MAX;

/// MSR bits of a guest: 64-bit, machine check enable, recoverable, FP,
/// vector and VSX available; HV, PR, IR, DR and EE off (real mode).
pub const GUEST_MSR: u64 = Msr::SF
    .union(Msr::ME)
    .union(Msr::RI)
    .union(Msr::FP)
    .union(Msr::VEC)
    .union(Msr::VSX)
    .bits();

/// What a trap handler wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapAction {
    /// Return to the guest at `regs.pc`.
    Resume,
    /// Leave the guest; `run` returns this code (non-zero).
    Exit(u64),
    /// Leave the guest: it took an interrupt the hypervisor cannot serve;
    /// `run` returns [`GuestExit::Fault`].
    Fault,
}

/// Handles the guest's hypercalls and the interrupts it takes to the
/// hypervisor.
pub trait TrapHandler {
    /// A `sc 1` from the guest: `regs` holds every guest register (r3 is the
    /// opcode); change them to return results.
    fn hypercall(&mut self, regs: &mut GuestRegs) -> TrapAction;

    /// Any other interrupt the guest took to the hypervisor (`vector`
    /// 0x980, 0xe00..0xea0 or 0xf80); `regs.pc` is where it was taken.
    fn exception(&mut self, regs: &mut GuestRegs, vector: u64) -> TrapAction {
        vcpu::default_exception(regs, vector)
    }
}

/// How a guest run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestExit {
    /// A handler asked to leave with this code.
    Exited(u64),
    /// The guest was still running when its time limit
    /// ([`Guest::set_time_limit`]) passed.
    OutOfTime {
        /// Guest address it was running at.
        pc: u64,
    },
    /// The guest took an exception the hypervisor does not handle.
    Fault {
        /// Vector of the exception.
        vector: u64,
        /// Guest address of the faulting instruction.
        pc: u64,
    },
}

/// A guest partition: LPID, memory map and registers.
pub struct Guest {
    lpid: u32,
    table: PartitionTable,
    regs: GuestRegs,
    time_limit: Option<u64>,
}

/// Timebase value past which the running guest is stopped (0: no limit).
static DEADLINE: AtomicU64 = AtomicU64::new(0);
/// HDEC (SPR 310) slice while a guest has a time limit: the hypervisor
/// regains control at least this often (0.25 s at QEMU's 512 MHz timebase).
const SPR_HDEC: u16 = 310;
const HDEC_SLICE: u64 = 0x0800_0000;

/// Host address of the running guest's partition-table entry (0: none).
static ACTIVE_PATE: AtomicU64 = AtomicU64::new(0);

/// Why a guest cannot be built.
pub type GuestError = RadixError;

static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The handler of the running guest (a `*mut &mut dyn TrapHandler`).
static HANDLER: AtomicPtr<&'static mut dyn TrapHandler> = AtomicPtr::new(core::ptr::null_mut());
/// Exception details recorded by `abort_from_exception`.
static FAULT: spin::Mutex<(u64, u64)> = spin::Mutex::new((0, 0));
/// `guest_enter` return value meaning "faulted".
const EXIT_FAULT: u64 = u64::MAX;
/// `guest_enter` return value meaning "out of time".
const EXIT_OUT_OF_TIME: u64 = u64::MAX - 1;

fn mtspr<const SPR: u16>(value: u64) {
    // SAFETY: writes an SPR the caller names; the callers below write only
    // LPCR (HR, and bits that act in guest state only: none changes
    // hypervisor real-mode accesses; HDICE's interrupt is taken only in
    // guest state, the hypervisor runs with MSR[EE] = 0), HDEC, HFSCR,
    // LPIDR and PTCR, which affect only the guest.
    unsafe {
        core::arch::asm!("mtspr {spr}, {0}", in(reg) value, spr = const SPR, options(nostack))
    };
}

impl Guest {
    /// A guest with LPID `lpid` that starts at guest real `entry`.
    pub fn new(lpid: u32, entry: u64) -> Result<Self, GuestError> {
        let mut table = PartitionTable::new()?;
        table.install(lpid)?;
        Ok(Guest {
            lpid,
            table,
            regs: GuestRegs::new(entry, GUEST_MSR),
            time_limit: None,
        })
    }

    /// Stops the guest (`run` returns [`GuestExit::OutOfTime`]) once it has
    /// run for `ticks` of the timebase: the hypervisor decrementer brings
    /// control back every [`HDEC_SLICE`] ticks to check.
    pub fn set_time_limit(&mut self, ticks: u64) {
        self.time_limit = Some(ticks);
    }

    /// Gives the guest `[guest, guest + size)` backed by host memory at `host`.
    pub fn map(&mut self, guest: u64, host: u64, size: u64) -> Result<(), GuestError> {
        self.table.map(guest, host, size)
    }

    /// Gives the guest the device registers at host `[host, host + size)`
    /// at guest real `guest`, cache-inhibited.
    pub fn map_io(&mut self, guest: u64, host: u64, size: u64) -> Result<(), GuestError> {
        self.table.map_io(guest, host, size)
    }

    /// The guest's registers (set arguments before [`run`](Self::run)).
    pub fn regs_mut(&mut self) -> &mut GuestRegs {
        &mut self.regs
    }

    /// Runs the guest until `handler` asks to leave or the guest faults.
    pub fn run(&mut self, handler: &mut dyn TrapHandler) -> GuestExit {
        let host_lpcr = spr::read(Spr::Lpcr);
        let hdice = match self.time_limit {
            Some(ticks) => {
                DEADLINE.store(
                    spr::timebase().saturating_add(ticks).max(1),
                    Ordering::SeqCst,
                );
                mtspr::<SPR_HDEC>(HDEC_SLICE);
                LPCR_HDICE
            }
            None => {
                DEADLINE.store(0, Ordering::SeqCst);
                0
            }
        };
        mtspr::<SPR_LPCR>(((host_lpcr | LPCR_HR) & !LPCR_GUEST_CLEARED) | hdice);
        mtspr::<SPR_HFSCR>(HFSCR_ALL);
        mtspr::<SPR_PTCR>(self.table.ptcr());
        mtspr::<SPR_LPIDR>(self.lpid as u64);
        // SAFETY: `ptesync` orders the table stores before the guest's first
        // access; `tlbiel` (RB = 0) drops cached translations. QEMU's TCG
        // flushes its whole TLB on any `tlbiel`; real hardware would need a
        // loop over the TLB sets with IS = 2 for this LPID, which matters only
        // when one LPID's tables change between guest runs (they do not here:
        // each boot builds one partition).
        unsafe {
            core::arch::asm!("ptesync", "tlbiel {0}", "ptesync", in(reg) 0u64, options(nostack))
        };
        // SAFETY (lifetime): the pointer is published only for the duration of
        // `guest_enter`, during which `handler` is borrowed mutably here and
        // used only by `rust_guest_trap` on this (the only) thread.
        let mut h: &mut dyn TrapHandler = handler;
        let erased: *mut &'static mut dyn TrapHandler =
            (&mut h as *mut &mut dyn TrapHandler).cast();
        HANDLER.store(erased, Ordering::SeqCst);
        ACTIVE_PATE.store(self.table.entry(self.lpid), Ordering::SeqCst);
        ACTIVE.store(true, Ordering::SeqCst);
        // SAFETY: `self.regs` is a valid context with HV = 0 in its MSR; the
        // partition table and LPID set above translate the guest's real
        // addresses into the host block the caller gave it; the hypervisor's
        // state is restored by `guest_abort` before this returns.
        let code = unsafe { switch::guest_enter(&mut self.regs) };
        ACTIVE.store(false, Ordering::SeqCst);
        ACTIVE_PATE.store(0, Ordering::SeqCst);
        HANDLER.store(core::ptr::null_mut(), Ordering::SeqCst);
        mtspr::<SPR_LPCR>(host_lpcr);
        if code == EXIT_OUT_OF_TIME {
            GuestExit::OutOfTime { pc: self.regs.pc }
        } else if code == EXIT_FAULT {
            let (vector, pc) = *FAULT.lock();
            GuestExit::Fault { vector, pc }
        } else {
            GuestExit::Exited(code)
        }
    }
}

/// Called from switch.rs (`guest_trap_common`) with the saved guest
/// registers, for an interrupt the guest took to the hypervisor.
#[unsafe(no_mangle)]
extern "C" fn rust_guest_trap(regs: *mut GuestRegs, vector: u64) -> u64 {
    let handler = HANDLER.load(Ordering::SeqCst);
    if !ACTIVE.load(Ordering::SeqCst) || handler.is_null() {
        crate::console::finish(
            false,
            format_args!("exception {:#x} in guest state with no guest", vector),
        );
    }
    // SAFETY: `regs` is the context `Guest::run` passed to `guest_enter`, not
    // otherwise borrowed while the guest runs; `handler` was published by
    // `Guest::run`, which is blocked in `guest_enter` on this thread.
    let (regs, handler) = unsafe { (&mut *regs, &mut *handler) };
    let deadline = DEADLINE.load(Ordering::SeqCst);
    if vector == 0x980 && deadline != 0 {
        if spr::timebase() >= deadline {
            return EXIT_OUT_OF_TIME;
        }
        mtspr::<SPR_HDEC>(HDEC_SLICE);
    }
    let action = if vector == 0xc00 {
        handler.hypercall(regs)
    } else {
        handler.exception(regs, vector)
    };
    match action {
        TrapAction::Resume => 0,
        TrapAction::Exit(code) => code.clamp(1, EXIT_OUT_OF_TIME - 1),
        TrapAction::Fault => {
            *FAULT.lock() = (vector, regs.pc);
            EXIT_FAULT
        }
    }
}

/// True while a guest runs or the hypervisor serves one of its traps.
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// From the generic exception path, for an exception taken in guest state
/// (MSR[HV] = 0 saved): if a guest is active, leave it and make `Guest::run`
/// report the fault; otherwise return. Never call it for an exception taken
/// in hypervisor state: that would unwind over the handler's live frames.
pub fn abort_from_exception(vector: u64, pc: u64) {
    if ACTIVE.load(Ordering::SeqCst) {
        *FAULT.lock() = (vector, pc);
        // SAFETY: a guest is running, so `host_context` holds the state saved
        // by `guest_enter`, to which this returns.
        unsafe { switch::guest_abort(EXIT_FAULT) }
    }
}
