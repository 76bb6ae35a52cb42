//! The platform hypercalls and RTAS calls a Linux pseries guest makes, as
//! DESIGN.md §13 counted them for a console-only boot:
//!
//! - `H_REGISTER_PROC_TBL` (radix only): the guest's process table goes into
//!   its partition-table entry; LPCR[UPRT] and, if asked, LPCR[GTSE];
//! - `H_SET_MODE`: little-endian interrupts (LPCR[ILE]); AIL is refused
//!   with `H_P2` (with a radix host it would also relocate the hypervisor's
//!   own interrupt entry), other resources too;
//! - `H_REGISTER_VPA` (checked, kept), `H_CEDE` (waits, at most 10 ms, for
//!   a device interrupt or the guest's decrementer, then returns with
//!   MSR[EE] set so the interrupt is taken at once),
//!   `H_PUT_TERM_CHAR`/`H_GET_TERM_CHAR` (no input);
//! - XICS presentation (guest/xics.rs): `H_CPPR`, `H_XIRR`, `H_EOI`, `H_IPI`;
//! - `H_RTAS`: `power-off` and `ibm,os-term` end the guest;
//! - a passed-through device ([`PlatformDevice`], guest/pci_device.rs) adds
//!   its hypercalls (TCE) and RTAS calls (config, DDW, MSI, XICS sources);
//! - anything else: `H_FUNCTION`, counted.
//!
//! Every call is counted; [`Census::print`] reports them.

use super::console::GuestConsole;
use super::linux_dt::{VTY_REG, rtas_token};
use super::memory::GuestRam;
use super::passthrough::{RTAS_PARAMETER, RTAS_SUCCESS};
use super::vcpu::{self, LPCR_GTSE, LPCR_ILE, LPCR_UPRT};
use super::xics::Xics;
use super::{GuestRegs, TrapAction};
use crate::println;
use pnv_iommu::papr::HStatus;
use pnv_rt::spr::Msr;

/// Hypercall opcodes (PAPR).
pub mod opcode {
    /// Read console input.
    pub const H_GET_TERM_CHAR: u64 = 0x54;
    /// Write console output.
    pub const H_PUT_TERM_CHAR: u64 = 0x58;
    /// XICS: set the current processor priority.
    pub const H_CPPR: u64 = 0x68;
    /// Register the virtual processor area (and DTL, SLB shadow).
    pub const H_REGISTER_VPA: u64 = 0xdc;
    /// Give up the processor until an interrupt.
    pub const H_CEDE: u64 = 0xe0;
    /// Set a processor mode (endianness of interrupts, AIL, ...).
    pub const H_SET_MODE: u64 = 0x31c;
    /// Register the radix process table.
    pub const H_REGISTER_PROC_TBL: u64 = 0x37c;
    /// XICS: end of interrupt.
    pub const H_EOI: u64 = 0x64;
    /// XICS: accept the pending interrupt.
    pub const H_XIRR: u64 = 0x74;
    /// XICS: inter-processor interrupt (set a server's MFRR).
    pub const H_IPI: u64 = 0x6c;
    /// Call RTAS (r4 = argument buffer).
    pub const H_RTAS: u64 = 0xf000;
}
use opcode::*;

/// Longest H_CEDE waits in the hypervisor (timebase ticks: 10 ms at
/// 512 MHz); the guest's next decrementer usually comes first.
const CEDE_MAX_TICKS: u64 = 5_120_000;

/// `H_UNSUPPORTED_FLAG`: a flag value the hypervisor does not support.
const H_UNSUPPORTED_FLAG: u64 = -256i64 as u64;

/// H_SET_MODE resources.
const SET_MODE_ADDR_TRANS: u64 = 3;
const SET_MODE_LE: u64 = 4;

/// H_REGISTER_PROC_TBL flags: operation (bits 0x18), type (0x06), GTSE.
const PROC_TABLE_OP: u64 = 0x18;
const PROC_TABLE_OP_NOP: u64 = 0x00;
const PROC_TABLE_OP_DEREG: u64 = 0x10;
const PROC_TABLE_OP_NEW: u64 = 0x18;
const PROC_TABLE_TYPE: u64 = 0x06;
const PROC_TABLE_RADIX: u64 = 0x04;
const PROC_TABLE_GTSE: u64 = 0x01;

/// H_REGISTER_VPA: the subfunction is in bits 16..18 of r4.
const VPA_FUNC_SHIFT: u64 = 63 - 18;
const VPA_REGISTER: u64 = 1;
/// Smallest VPA Linux and PAPR use (its size is the big-endian u16 at 4).
const VPA_MIN_SIZE: u16 = 640;

/// How the guest ended, as `Guest::run` returns it (`GuestExit::Exited`).
pub mod exit {
    /// RTAS `power-off`.
    pub const POWER_OFF: u64 = 1;
    /// RTAS `ibm,os-term` (a panic).
    pub const OS_TERM: u64 = 2;
}

/// Calls served, by kind.
#[derive(Default, Debug)]
pub struct Census {
    /// H_REGISTER_PROC_TBL that registered a radix table.
    pub proc_tbl: u64,
    /// H_SET_MODE: little-endian interrupts set, refused (AIL and others).
    pub set_mode_le: u64,
    /// H_SET_MODE refused.
    pub set_mode_refused: u64,
    /// H_REGISTER_VPA.
    pub register_vpa: u64,
    /// H_CEDE.
    pub cede: u64,
    /// H_PUT_TERM_CHAR.
    pub put_term_char: u64,
    /// H_GET_TERM_CHAR.
    pub get_term_char: u64,
    /// H_CPPR.
    pub cppr: u64,
    /// H_XIRR.
    pub xirr: u64,
    /// H_EOI.
    pub eoi: u64,
    /// H_IPI.
    pub ipi: u64,
    /// RTAS calls.
    pub rtas: u64,
    /// Calls answered H_FUNCTION, and the first few of their opcodes.
    pub unsupported: u64,
    /// Opcodes of the first unsupported calls.
    pub unsupported_first: [u64; 8],
    /// Hypercalls from problem state (H_PRIVILEGE).
    pub privileged: u64,
}

impl Census {
    /// Prints one line per kind.
    pub fn print(&self) {
        println!(
            "PNV: census H_REGISTER_PROC_TBL {} H_SET_MODE le {} refused {} H_REGISTER_VPA {} H_CEDE {}",
            self.proc_tbl, self.set_mode_le, self.set_mode_refused, self.register_vpa, self.cede
        );
        println!(
            "PNV: census H_PUT_TERM_CHAR {} H_GET_TERM_CHAR {} H_CPPR {} H_XIRR {} H_EOI {} H_IPI {} RTAS {} H_FUNCTION {} {:x?} H_PRIVILEGE {}",
            self.put_term_char,
            self.get_term_char,
            self.cppr,
            self.xirr,
            self.eoi,
            self.ipi,
            self.rtas,
            self.unsupported,
            &self.unsupported_first[..(self.unsupported as usize).min(8)],
            self.privileged
        );
    }
}

/// What a passed-through device adds to the platform: its hypercalls (the
/// TCE calls) and RTAS calls (PCI config, DDW, MSI and XICS sources).
pub trait PlatformDevice {
    /// Serves hypercall `regs.gpr[3]` if it is one of the device's; returns
    /// false (nothing changed) if not.
    fn hypercall(&mut self, regs: &mut GuestRegs) -> bool;
    /// Serves RTAS `token` if it is one of the device's, writing `rets`;
    /// returns false if not.
    fn rtas(&mut self, token: u32, args: &[u32], rets: &mut [u32], xics: &mut Xics) -> bool;
    /// Called on every trap: moves MSIs that arrived into `xics`.
    fn poll(&mut self, xics: &mut Xics);
}

/// The pseries platform a Linux guest sees.
pub struct Pseries<'a> {
    ram: GuestRam,
    /// The guest's console.
    pub console: GuestConsole,
    /// Calls served.
    pub census: Census,
    /// Guest real address of the registered VPA.
    pub vpa: Option<u64>,
    /// The interrupt controller.
    pub xics: Xics,
    /// A passed-through device, if any.
    pub device: Option<&'a mut dyn PlatformDevice>,
    /// External interrupts injected.
    pub injected: u64,
}

impl<'a> Pseries<'a> {
    /// The platform of a guest whose RAM is `ram`.
    pub fn new(ram: GuestRam) -> Self {
        Pseries {
            ram,
            console: GuestConsole::new(VTY_REG as u64),
            census: Census::default(),
            vpa: None,
            xics: Xics::new(),
            device: None,
            injected: 0,
        }
    }

    /// Serves one hypercall; `on_line` sees each complete console line.
    /// Then presents a pending device interrupt if the guest can take it.
    pub fn hypercall(&mut self, regs: &mut GuestRegs, on_line: &mut dyn FnMut(&str)) -> TrapAction {
        let action = self.serve(regs, on_line);
        if action == TrapAction::Resume {
            self.deliver(regs);
        }
        action
    }

    /// Moves arrived MSIs into the XICS and, if one is presentable and the
    /// guest has MSR[EE] = 1, makes it take an external interrupt (0x500)
    /// when it resumes.
    pub fn deliver(&mut self, regs: &mut GuestRegs) {
        if let Some(d) = self.device.as_deref_mut() {
            d.poll(&mut self.xics);
        }
        if regs.msr & Msr::EE.bits() != 0 && self.xics.presentable() {
            self.injected += 1;
            vcpu::reflect(regs, vcpu::VECTOR_EXTERNAL, 0);
        }
    }

    fn serve(&mut self, regs: &mut GuestRegs, on_line: &mut dyn FnMut(&str)) -> TrapAction {
        if regs.msr & Msr::PR.bits() != 0 {
            self.census.privileged += 1;
            regs.gpr[3] = HStatus::Privilege.to_reg();
            return TrapAction::Resume;
        }
        let status = match regs.gpr[3] {
            H_PUT_TERM_CHAR => {
                self.census.put_term_char += 1;
                self.console.put_term_char(regs, on_line)
            }
            H_GET_TERM_CHAR => {
                self.census.get_term_char += 1;
                if regs.gpr[4] != 0 && regs.gpr[4] != VTY_REG as u64 {
                    return {
                        regs.gpr[3] = HStatus::Parameter.to_reg();
                        TrapAction::Resume
                    };
                }
                regs.gpr[4] = 0; // no input
                regs.gpr[5] = 0;
                regs.gpr[6] = 0;
                HStatus::Success.to_reg()
            }
            H_CEDE => {
                self.census.cede += 1;
                regs.msr |= Msr::EE.bits();
                self.idle();
                HStatus::Success.to_reg()
            }
            H_CPPR => {
                self.census.cppr += 1;
                self.xics.set_cppr(regs.gpr[4] as u8);
                HStatus::Success.to_reg()
            }
            H_XIRR => {
                self.census.xirr += 1;
                if let Some(d) = self.device.as_deref_mut() {
                    d.poll(&mut self.xics);
                }
                regs.gpr[4] = self.xics.xirr() as u64;
                HStatus::Success.to_reg()
            }
            H_IPI => {
                self.census.ipi += 1;
                match self.xics.ipi(regs.gpr[4], regs.gpr[5] as u8) {
                    Ok(()) => HStatus::Success.to_reg(),
                    Err(_) => HStatus::Parameter.to_reg(),
                }
            }
            H_EOI => {
                self.census.eoi += 1;
                self.xics.eoi(regs.gpr[4] as u32);
                HStatus::Success.to_reg()
            }
            H_SET_MODE => self.set_mode(regs),
            H_REGISTER_PROC_TBL => self.register_proc_tbl(regs),
            H_REGISTER_VPA => self.register_vpa(regs),
            H_RTAS => {
                self.census.rtas += 1;
                return self.rtas(regs);
            }
            op => {
                if let Some(d) = self.device.as_deref_mut()
                    && d.hypercall(regs)
                {
                    return TrapAction::Resume;
                }
                let n = self.census.unsupported as usize;
                if n < self.census.unsupported_first.len() {
                    self.census.unsupported_first[n] = op;
                }
                self.census.unsupported += 1;
                HStatus::Function.to_reg()
            }
        };
        regs.gpr[3] = status;
        TrapAction::Resume
    }

    /// H_CEDE: waits until a device interrupt is presentable, the guest's
    /// decrementer expires (its interrupt is taken on return, MSR[EE] = 1),
    /// or [`CEDE_MAX_TICKS`] pass.
    fn idle(&mut self) {
        let start = pnv_rt::spr::timebase();
        loop {
            if let Some(d) = self.device.as_deref_mut() {
                d.poll(&mut self.xics);
            }
            if self.xics.presentable()
                || vcpu::decrementer() <= 0
                || pnv_rt::spr::timebase().wrapping_sub(start) > CEDE_MAX_TICKS
            {
                return;
            }
            core::hint::spin_loop();
        }
    }

    /// H_SET_MODE(mflags r4, resource r5, value1 r6, value2 r7).
    fn set_mode(&mut self, regs: &GuestRegs) -> u64 {
        let (mflags, resource, v1, v2) = (regs.gpr[4], regs.gpr[5], regs.gpr[6], regs.gpr[7]);
        if resource != SET_MODE_LE {
            // AIL (3) included: see the module documentation.
            let _ = SET_MODE_ADDR_TRANS;
            self.census.set_mode_refused += 1;
            return HStatus::P2.to_reg();
        }
        if v1 != 0 {
            return HStatus::P3.to_reg();
        }
        if v2 != 0 {
            return HStatus::P4.to_reg();
        }
        match mflags {
            0 => vcpu::set_lpcr(LPCR_ILE, 0),
            1 => vcpu::set_lpcr(LPCR_ILE, LPCR_ILE),
            _ => return H_UNSUPPORTED_FLAG,
        }
        self.census.set_mode_le += 1;
        HStatus::Success.to_reg()
    }

    /// H_REGISTER_PROC_TBL, counted when it registers a radix table.
    fn register_proc_tbl(&mut self, regs: &GuestRegs) -> u64 {
        let (status, registered) = register_process_table(&self.ram, regs);
        if registered {
            self.census.proc_tbl += 1;
        }
        status
    }

    /// H_REGISTER_VPA(flags r4, processor r5, address r6).
    fn register_vpa(&mut self, regs: &GuestRegs) -> u64 {
        self.census.register_vpa += 1;
        let (flags, cpu, addr) = (regs.gpr[4], regs.gpr[5], regs.gpr[6]);
        if cpu != 0 {
            return HStatus::Parameter.to_reg();
        }
        match (flags >> VPA_FUNC_SHIFT) & 7 {
            VPA_REGISTER => {
                // The size is the big-endian u16 at offset 4; the area must
                // not cross a 4 KiB page.
                let size = self
                    .ram
                    .read_be_u32(addr & !3)
                    .zip(self.ram.read_be_u32((addr & !3) + 4))
                    .map(|(_, w)| (w >> 16) as u16);
                match size {
                    Some(s)
                        if addr % 8 == 0
                            && s >= VPA_MIN_SIZE
                            && (addr % 4096) + s as u64 <= 4096 =>
                    {
                        self.vpa = Some(addr);
                        HStatus::Success.to_reg()
                    }
                    _ => HStatus::Parameter.to_reg(),
                }
            }
            // Register DTL or SLB shadow, deregister any: accepted (nothing
            // here reads them).
            2 | 3 | 5 | 6 | 7 => HStatus::Success.to_reg(),
            _ => HStatus::Parameter.to_reg(),
        }
    }

    /// H_RTAS: r4 = guest real address of the argument buffer (token,
    /// nargs, nret, args, rets; big-endian words).
    fn rtas(&mut self, regs: &mut GuestRegs) -> TrapAction {
        let la = regs.gpr[4];
        let ram = self.ram;
        let word = |i: u64| la.checked_add(4 * i).and_then(|a| ram.read_be_u32(a));
        let (Some(token), Some(nargs), Some(nret)) = (word(0), word(1), word(2)) else {
            regs.gpr[3] = HStatus::Parameter.to_reg();
            return TrapAction::Resume;
        };
        if nargs > 16
            || nret > 16
            || nret == 0
            || ram
                .host_range(la, 4 * (3 + (nargs + nret) as u64))
                .is_none()
        {
            regs.gpr[3] = HStatus::Parameter.to_reg();
            return TrapAction::Resume;
        }
        let ret0 = la + 12 + 4 * nargs as u64;
        regs.gpr[3] = HStatus::Success.to_reg();
        match token {
            rtas_token::POWER_OFF => {
                ram.write_be_u32(ret0, RTAS_SUCCESS);
                println!("PNV: guest called RTAS power-off");
                TrapAction::Exit(exit::POWER_OFF)
            }
            rtas_token::OS_TERM => {
                let msg = word(3).unwrap_or(0) as u64;
                self.print_guest_string(msg);
                ram.write_be_u32(ret0, RTAS_SUCCESS);
                TrapAction::Exit(exit::OS_TERM)
            }
            _ => {
                let mut args = [0u32; 16];
                for (i, a) in args.iter_mut().enumerate().take(nargs as usize) {
                    *a = word(3 + i as u64).unwrap_or(0);
                }
                let mut rets = [0u32; 16];
                rets[0] = RTAS_PARAMETER;
                if let Some(d) = self.device.as_deref_mut() {
                    d.rtas(
                        token,
                        &args[..nargs as usize],
                        &mut rets[..nret as usize],
                        &mut self.xics,
                    );
                }
                for (i, r) in rets.iter().enumerate().take(nret as usize) {
                    ram.write_be_u32(ret0 + 4 * i as u64, *r);
                }
                TrapAction::Resume
            }
        }
    }

    /// Prints the NUL-terminated string at guest real `la` (at most 256
    /// bytes), as `ibm,os-term` passes it.
    fn print_guest_string(&self, la: u64) {
        let mut buf = [0u8; 256];
        let mut len = 0;
        while len < buf.len() {
            match la.checked_add(len as u64).and_then(|a| self.ram.read_u8(a)) {
                Some(0) | None => break,
                Some(b) => buf[len] = b,
            }
            len += 1;
        }
        let text = core::str::from_utf8(&buf[..len]).unwrap_or("<not UTF-8>");
        println!("PNV: guest called ibm,os-term: {}", text);
    }
}

/// H_REGISTER_PROC_TBL(flags r4, base r5, page size r6, size r7) for the
/// running guest whose RAM is `ram`: its status, and whether a radix process
/// table was registered. Radix only (a hash table gets H_PARAMETER).
pub fn register_process_table(ram: &GuestRam, regs: &GuestRegs) -> (u64, bool) {
    let (flags, base, page_size, size) = (regs.gpr[4], regs.gpr[5], regs.gpr[6], regs.gpr[7]);
    if flags & !(PROC_TABLE_OP | PROC_TABLE_TYPE | PROC_TABLE_GTSE) != 0 {
        return (HStatus::Parameter.to_reg(), false);
    }
    match flags & PROC_TABLE_OP {
        PROC_TABLE_OP_NOP => (HStatus::Success.to_reg(), false),
        PROC_TABLE_OP_DEREG => {
            if vcpu::set_process_table(0, 0).is_err() {
                return (HStatus::Hardware.to_reg(), false);
            }
            vcpu::set_lpcr(LPCR_UPRT | LPCR_GTSE, 0);
            (HStatus::Success.to_reg(), false)
        }
        PROC_TABLE_OP_NEW if flags & PROC_TABLE_TYPE == PROC_TABLE_RADIX => {
            if page_size != 0 {
                return (HStatus::P3.to_reg(), false);
            }
            if ram.host_range(base, 1u64 << (12 + size.min(24))).is_none() {
                return (HStatus::P2.to_reg(), false);
            }
            if vcpu::set_process_table(base, size).is_err() {
                return (HStatus::Parameter.to_reg(), false);
            }
            let gtse = if flags & PROC_TABLE_GTSE != 0 {
                LPCR_GTSE
            } else {
                0
            };
            vcpu::set_lpcr(LPCR_UPRT | LPCR_GTSE, LPCR_UPRT | gtse);
            (HStatus::Success.to_reg(), true)
        }
        // A hash page table, or the reserved operation: not offered.
        _ => (HStatus::Parameter.to_reg(), false),
    }
}
