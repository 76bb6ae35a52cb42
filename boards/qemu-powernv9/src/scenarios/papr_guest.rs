//! The PAPR scenario: a real guest partition (the `papr-guest` program,
//! placed in guest RAM by QEMU's loader) whose PCI device (edu) is passed
//! through. The guest's `sc 1` hypercalls reach this hypervisor: the TCE
//! hypercalls and the DDW RTAS calls are served by `pnv_iommu::papr` over
//! the real PHB4, so the guest's TCEs decide where the device's DMA lands.
//!
//! The hypervisor also serves what a PAPR guest needs around them: the
//! console (H_PUT_TERM_CHAR), device MMIO from real mode
//! (H_LOGICAL_CI_LOAD/STORE, only inside the passed-through BAR) and RTAS
//! (H_RTAS: PCI config of the passed-through function, DDW). Every guest
//! console line is echoed as `GUEST| <line>`, and each `CASE` line the guest
//! prints becomes a `TEST papr_<case>` line for the runner.

use super::Checks;
use super::platform;
use super::ram;
use crate::guest::devtree::{GuestTopology, PassedDevice, rtas_token};
use crate::guest::{GUEST_MSR, Guest, GuestExit, GuestRegs, TrapAction, TrapHandler};
use crate::println;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::mmio::{CacheInhibited, Endian, RegisterIo, Width};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE};
use pnv_iommu::papr::{
    DdwCall, GuestMemory, HCALL_REGS, HStatus, Hypervisor, PHB4_DDW_PAGES, PartitionConfig,
    PartitionId, PeConfig, RamRegion, WindowProgrammer, WindowTable,
};
use pnv_iommu::phb4::config::Bdf;
use pnv_iommu::phb4::tve::TranslatedTve;
use pnv_iommu::phb4::{Phb4, Phb4Error};
use pnv_iommu::topology::Topology;

/// Guest RAM: guest real 0..256 MiB backed by host 768 MiB..1 GiB, where
/// `cargo xtask` has QEMU's loader put the guest image.
const GUEST_HOST_BASE: u64 = pnv_contract::GUEST_LOAD_ADDR;
const GUEST_RAM: u64 = 0x1000_0000;
/// Guest real address of the guest's device tree.
const GUEST_FDT: u64 = 0x0f00_0000;
/// Entry point of the guest image (the PAPR boot-firmware convention).
const GUEST_ENTRY: u64 = 0x100;
const LPID: u32 = 1;
/// The guest's PE on PHB0.
const PE: u16 = 7;
/// BUID of the guest's logical PHB.
const BUID: u64 = 0x0800_0000_2000_0000;
/// Size of the default DMA window.
const DEFAULT_WINDOW: u64 = 1 << 30;

const H_PUT_TERM_CHAR: u64 = 0x58;
const H_LOGICAL_CI_LOAD: u64 = 0x3c;
const H_LOGICAL_CI_STORE: u64 = 0x40;
const H_RTAS: u64 = 0xf000;
use super::guest::H_PNV_GUEST_EXIT;

/// The PHB as the PAPR layer sees it: one PE's TVEs and TCE kills.
struct PhbPort(spin::Mutex<Phb4<CacheInhibited>>);

impl Invalidate for PhbPort {
    type Error = Phb4Error;
    fn invalidate_all(&self) -> Result<(), Phb4Error> {
        self.0.lock().invalidate_all()
    }
    fn invalidate_pe(&self, pe: u16) -> Result<(), Phb4Error> {
        self.0.lock().invalidate_pe(pe)
    }
    fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), Phb4Error> {
        self.0.lock().invalidate_range(pe, range)
    }
    fn sync(&self) -> Result<(), Phb4Error> {
        self.0.lock().sync()
    }
}

impl WindowProgrammer for PhbPort {
    fn set_window(&self, pe: u16, n: u32, t: &WindowTable) -> Result<(), Phb4Error> {
        let desc = TranslatedTve::new(
            t.top_phys,
            t.levels as u64,
            t.level_bytes,
            1 << t.page_shift,
        )?;
        self.0.lock().map_translated(pe as u64, n, &desc)
    }
    fn clear_window(&self, pe: u16, n: u32) -> Result<(), Phb4Error> {
        self.0.lock().unmap_window(pe as u64, n)
    }
}

/// Guest memory, read by the PAPR layer at host addresses (real mode).
struct HostMemory;

impl GuestMemory for HostMemory {
    fn read_be_u64s(&self, host: u64, out: &mut [u64]) -> bool {
        let Some(end) = (out.len() as u64)
            .checked_mul(8)
            .and_then(|n| host.checked_add(n))
        else {
            return false;
        };
        if host < GUEST_HOST_BASE || end > GUEST_HOST_BASE + GUEST_RAM || !host.is_multiple_of(8) {
            return false;
        }
        for (i, v) in out.iter_mut().enumerate() {
            // SAFETY: inside the guest's host block (checked above), which no
            // Rust reference covers while the guest is stopped in a trap.
            *v = u64::from_be(unsafe {
                core::ptr::read_volatile((host + 8 * i as u64) as *const u64)
            });
        }
        true
    }
}

/// The hypervisor's answer to one guest.
struct PaprHandler<'a> {
    hv: &'a Hypervisor<PhbPort, GlobalPages>,
    phb: &'a PhbPort,
    partition: PartitionId,
    device: Bdf,
    bar0: (u64, u64),
    line: Vec<u8>,
    lines: Vec<String>,
}

/// Host address of guest real `[la, la + len)`, if it lies in guest RAM.
fn guest_to_host(la: u64, len: u64) -> Option<u64> {
    let end = la.checked_add(len)?;
    (end <= GUEST_RAM).then_some(GUEST_HOST_BASE + la)
}

fn read_u32(host: u64) -> u32 {
    // SAFETY: callers pass addresses inside the guest's host block.
    u32::from_be(unsafe { core::ptr::read_volatile(host as *const u32) })
}

fn write_u32(host: u64, v: u32) {
    // SAFETY: callers pass addresses inside the guest's host block.
    unsafe { core::ptr::write_volatile(host as *mut u32, v.to_be()) }
}

const RTAS_PARAMETER: u32 = -3i32 as u32;
const RTAS_HARDWARE: u32 = -1i32 as u32;

impl PaprHandler<'_> {
    fn console(&mut self, regs: &GuestRegs) -> u64 {
        let len = regs.gpr[5];
        if len > 16 {
            return HStatus::Parameter.to_reg();
        }
        let bytes = [regs.gpr[6].to_be_bytes(), regs.gpr[7].to_be_bytes()].concat();
        for &b in &bytes[..len as usize] {
            match b {
                b'\n' => {
                    let line = String::from_utf8_lossy(&self.line).into_owned();
                    println!("GUEST| {}", line);
                    self.lines.push(line);
                    self.line.clear();
                }
                b'\r' => {}
                _ if self.line.len() < 512 => self.line.push(b),
                _ => {}
            }
        }
        0
    }

    /// H_LOGICAL_CI_LOAD/STORE, only inside the passed-through BAR0.
    fn ci(&self, regs: &mut GuestRegs, store: bool) -> u64 {
        let (size, addr) = (regs.gpr[4], regs.gpr[5]);
        let width = match size {
            1 => Width::W8,
            2 => Width::W16,
            4 => Width::W32,
            8 => Width::W64,
            _ => return HStatus::Parameter.to_reg(),
        };
        let (base, len) = self.bar0;
        let inside = addr % size == 0
            && addr >= base
            && addr.checked_add(size).is_some_and(|e| e <= base + len);
        if !inside {
            return HStatus::Parameter.to_reg();
        }
        let io = platform::io();
        if store {
            io.write(addr, width, Endian::Big, regs.gpr[6]);
        } else {
            regs.gpr[4] = io.read(addr, width, Endian::Big);
        }
        0
    }

    /// H_RTAS: r4 = guest real address of the argument buffer.
    fn rtas(&mut self, regs: &GuestRegs) -> u64 {
        let la = regs.gpr[4];
        let Some(head) = guest_to_host(la, 12).filter(|h| h % 4 == 0) else {
            return HStatus::Parameter.to_reg();
        };
        let (token, nargs, nret) = (read_u32(head), read_u32(head + 4), read_u32(head + 8));
        if nargs > 16 || nret > 16 || nret == 0 {
            return HStatus::Parameter.to_reg();
        }
        let Some(buf) = guest_to_host(la, 12 + 4 * (nargs + nret) as u64) else {
            return HStatus::Parameter.to_reg();
        };
        let args: Vec<u32> = (0..nargs as u64)
            .map(|i| read_u32(buf + 12 + 4 * i))
            .collect();
        let mut rets = alloc::vec![0u32; nret as usize];
        match token {
            rtas_token::READ_PCI_CONFIG => self.pci_config(&args, &mut rets, false),
            rtas_token::WRITE_PCI_CONFIG => self.pci_config(&args, &mut rets, true),
            rtas_token::QUERY_PE_DMA_WINDOW => {
                self.hv
                    .rtas_ddw(self.partition, DdwCall::Query, &args, &mut rets)
            }
            rtas_token::CREATE_PE_DMA_WINDOW => {
                self.hv
                    .rtas_ddw(self.partition, DdwCall::Create, &args, &mut rets)
            }
            rtas_token::REMOVE_PE_DMA_WINDOW => {
                self.hv
                    .rtas_ddw(self.partition, DdwCall::Remove, &args, &mut rets)
            }
            rtas_token::RESET_PE_DMA_WINDOW => {
                self.hv
                    .rtas_ddw(self.partition, DdwCall::Reset, &args, &mut rets)
            }
            _ => rets[0] = RTAS_PARAMETER,
        }
        let out = buf + 12 + 4 * nargs as u64;
        for (i, r) in rets.iter().enumerate() {
            write_u32(out + 4 * i as u64, *r);
        }
        0
    }

    /// `ibm,read-pci-config` / `ibm,write-pci-config` for the passed-through
    /// function only; its BARs and expansion ROM stay where the hypervisor
    /// put them.
    fn pci_config(&self, args: &[u32], rets: &mut [u32], write: bool) {
        let want = if write { 5 } else { 4 };
        if args.len() != want || rets.len() < if write { 1 } else { 2 } {
            rets[0] = RTAS_PARAMETER;
            return;
        }
        let (cfg, buid, size) = (args[0], (args[1] as u64) << 32 | args[2] as u64, args[3]);
        let bdf = Bdf {
            bus: (cfg >> 16) as u8,
            devfn: (cfg >> 8) as u8,
        };
        let reg = (cfg & 0xff) as u16 | ((cfg >> 16) & 0xf00) as u16;
        let width = match size {
            1 => Width::W8,
            2 => Width::W16,
            4 => Width::W32,
            _ => return rets[0] = RTAS_PARAMETER,
        };
        let movable = (0x10..0x28).contains(&reg) || (0x30..0x34).contains(&reg);
        if buid != BUID
            || bdf != self.device
            || !(reg as u32).is_multiple_of(size)
            || (write && movable)
        {
            rets[0] = RTAS_PARAMETER;
            return;
        }
        let phb = self.phb.0.lock();
        let result = if write {
            phb.config_write(bdf, reg, width, args[4])
        } else {
            phb.config_read(bdf, reg, width).map(|v| rets[1] = v)
        };
        rets[0] = if result.is_ok() { 0 } else { RTAS_HARDWARE };
    }
}

impl TrapHandler for PaprHandler<'_> {
    fn hypercall(&mut self, regs: &mut GuestRegs) -> TrapAction {
        let problem_state = regs.msr & (1 << 14) != 0;
        let opcode = regs.gpr[3];
        if problem_state {
            regs.gpr[3] = HStatus::Privilege.to_reg();
            return TrapAction::Resume;
        }
        regs.gpr[3] = match opcode {
            H_PUT_TERM_CHAR => self.console(regs),
            H_LOGICAL_CI_LOAD => self.ci(regs, false),
            H_LOGICAL_CI_STORE => self.ci(regs, true),
            H_RTAS => self.rtas(regs),
            H_PNV_GUEST_EXIT => return TrapAction::Exit(1 + regs.gpr[4].min(1)),
            H_PUT_TCE | H_GET_TCE | H_STUFF_TCE | H_PUT_TCE_INDIRECT => {
                let mut r = [0u64; HCALL_REGS];
                r.copy_from_slice(&regs.gpr[3..3 + HCALL_REGS]);
                self.hv.hcall(self.partition, &mut r, false);
                regs.gpr[3..3 + HCALL_REGS].copy_from_slice(&r);
                return TrapAction::Resume;
            }
            _ => HStatus::Function.to_reg(),
        };
        TrapAction::Resume
    }
}

fn write_guest(la: u64, bytes: &[u8]) -> Result<(), String> {
    let host = guest_to_host(la, bytes.len() as u64).ok_or("outside guest RAM")?;
    // SAFETY: inside the guest's host block; the guest is not running.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), host as *mut u8, bytes.len()) };
    Ok(())
}

/// Runs the scenario.
pub fn run(_: &Topology, checks: &mut Checks) {
    if let Err(e) = run_guest(checks) {
        checks.check("papr_guest_setup", Err(e));
    }
}

fn run_guest(checks: &mut Checks) -> Result<(), String> {
    // A page of hypervisor memory the guest tries to reach: its isolation
    // case names the first logical page past its RAM, which a hypervisor that
    // forgot to translate would pass to the device as this host page.
    let sentinel = GUEST_RAM;
    ram::fill(sentinel, 0x1000, 0x99);

    let (phb, edu, bar0) = platform::bring_up_with_edu(0)?;
    let mut phb = phb;
    phb.set_pe(
        PE as u64,
        edu.bdf.rid(),
        pnv_iommu::phb4::pe::RidMatch::EXACT,
        true,
    )
    .map_err(|e| format!("set_pe: {:?}", e))?;
    let port = Arc::new(PhbPort(spin::Mutex::new(phb)));
    let mut hv: Hypervisor<PhbPort, GlobalPages> = Hypervisor::new(GlobalPages);
    let ram_map = [RamRegion {
        logical: 0,
        host: GUEST_HOST_BASE,
        size: GUEST_RAM,
    }];
    let partition = hv
        .add_partition(&ram_map, Arc::new(HostMemory), PartitionConfig::default())
        .map_err(|e| format!("partition: {:?}", e))?;
    let config_addr = (edu.bdf.bus as u32) << 16 | (edu.bdf.devfn as u32) << 8;
    let pe_cfg = PeConfig {
        buid: BUID,
        config_addr,
        pe: PE,
        default_window_size: DEFAULT_WINDOW,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    };
    let liobn = hv
        .attach_pe(partition, port.clone(), pe_cfg)
        .map_err(|e| format!("attach_pe: {:?}", e))?;
    let topo = GuestTopology {
        ram_size: GUEST_RAM,
        buid: BUID,
        mmio32: (
            bar0.pci_addr & !0x7fff_ffff,
            bar0.cpu_addr - (bar0.pci_addr & 0x7fff_ffff),
            0x8000_0000,
        ),
        liobn,
        window: (0, DEFAULT_WINDOW),
        device: PassedDevice {
            bus: edu.bdf.bus,
            devfn: edu.bdf.devfn,
            vendor: edu.vendor,
            device: edu.device,
            bar0: (bar0.pci_addr, bar0.size),
        },
    };
    let blob = topo.build().map_err(|e| format!("device tree: {:?}", e))?;
    write_guest(GUEST_FDT, &blob)?;
    println!(
        "PNV: guest LIOBN {:#x}, device tree {} bytes at guest {:#x}",
        liobn,
        blob.len(),
        GUEST_FDT
    );

    let mut guest = Guest::new(LPID, GUEST_ENTRY).map_err(|e| format!("{:?}", e))?;
    guest
        .map(0, GUEST_HOST_BASE, GUEST_RAM)
        .map_err(|e| format!("{:?}", e))?;
    let regs = guest.regs_mut();
    regs.gpr[3] = GUEST_FDT;
    regs.msr = GUEST_MSR;
    let mut handler = PaprHandler {
        hv: &hv,
        phb: &port,
        partition,
        device: edu.bdf,
        bar0: (bar0.cpu_addr, bar0.size),
        line: Vec::new(),
        lines: Vec::new(),
    };
    let exit = guest.run(&mut handler);
    let lines = core::mem::take(&mut handler.lines);
    let mut cases = 0;
    for line in &lines {
        if let Some(rest) = line.strip_prefix("CASE ") {
            let name = rest.split_whitespace().next().unwrap_or("?");
            cases += 1;
            let verdict = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("verdict="));
            checks.check(
                &format!("papr_{}", name),
                if verdict == Some("pass") {
                    Ok(())
                } else {
                    Err(String::from(rest))
                },
            );
        }
    }
    let reported_pass = lines.iter().any(|l| l.starts_with("PNV-RESULT: PASS"));
    checks.check(
        "papr_guest_completed",
        match exit {
            GuestExit::Exited(1) if reported_pass && cases > 0 => Ok(()),
            other => Err(format!(
                "{:?}, {} cases, guest verdict pass: {}",
                other, cases, reported_pass
            )),
        },
    );
    checks.check(
        "papr_hypervisor_memory_untouched",
        match ram::mismatch(sentinel, 0x1000, 0x99, 0) {
            None => Ok(()),
            Some(off) => Err(format!(
                "hypervisor page {:#x} changed at {:#x}",
                sentinel, off
            )),
        },
    );
    Ok(())
}
