//! The PAPR scenario: a real guest partition (the `papr-guest` program,
//! placed in guest RAM by QEMU's loader) whose PCI device (edu) is passed
//! through. The guest's `sc 1` hypercalls reach this hypervisor: the TCE
//! hypercalls and the DDW RTAS calls are served by `pnv_iommu::papr` over
//! the real PHB4, so the guest's TCEs decide where the device's DMA lands.
//!
//! The hypervisor also serves what a PAPR guest needs around them: the
//! console (H_PUT_TERM_CHAR), device MMIO from real mode
//! (H_LOGICAL_CI_LOAD/STORE, only inside the passed-through BAR), RTAS
//! (H_RTAS: PCI config of the passed-through function, DDW) and a radix
//! process table (H_REGISTER_PROC_TBL, for the guest's problem-state case).
//! Any hypercall from problem state gets H_PRIVILEGE. Guest console
//! lines are echoed as `GUEST| <line>` (guest/console.rs bounds both the
//! echo and what is kept), and each `CASE` line the guest prints becomes a
//! `TEST papr_<case>` line for the runner as it arrives.

use super::Checks;
use super::platform;
use super::ram;
use crate::guest::console::GuestConsole;
use crate::guest::devtree::{GuestTopology, PassedDevice, rtas_token};
use crate::guest::memory::GuestRam;
use crate::guest::passthrough::{HostMemory, PhbPort, RTAS_PARAMETER, rtas_pci_config};
use crate::guest::{GUEST_MSR, Guest, GuestExit, GuestRegs, TrapAction, TrapHandler};
use crate::println;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use pnv_iommu::mmio::{Endian, RegisterIo, Width};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE};
use pnv_iommu::papr::{
    DdwCall, HCALL_REGS, HStatus, Hypervisor, LockedPhb, PartitionConfig, PartitionId, PeConfig,
    RamRegion,
};
use pnv_iommu::phb4::config::Bdf;
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
const BUID: u64 = crate::guest::devtree::LOGICAL_PHB_BUID;
/// Size of the default DMA window.
const DEFAULT_WINDOW: u64 = 1 << 30;

const H_LOGICAL_CI_LOAD: u64 = 0x3c;
const H_LOGICAL_CI_STORE: u64 = 0x40;
use super::guest::H_PNV_GUEST_EXIT;
use crate::guest::pseries::opcode::{H_PUT_TERM_CHAR, H_REGISTER_PROC_TBL, H_RTAS};
use crate::guest::pseries::register_process_table;

/// The hypervisor's answer to one guest.
struct PaprHandler<'a> {
    hv: &'a Hypervisor<PhbPort, GlobalPages>,
    phb: &'a PhbPort,
    ram: GuestRam,
    partition: PartitionId,
    device: Bdf,
    bar0: (u64, u64),
    console: GuestConsole,
    suite: SuiteVerdict<'a>,
}

/// What the verdict needs from the guest's console, picked out line by
/// line as the lines arrive (nothing else of the output is kept).
struct SuiteVerdict<'a> {
    checks: &'a mut Checks,
    /// `CASE` lines seen (each reported as a check at once).
    cases: u64,
    /// The guest printed its own `PNV-RESULT: PASS`.
    reported_pass: bool,
}

impl SuiteVerdict<'_> {
    fn line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("CASE ") {
            let name = rest.split_whitespace().next().unwrap_or("?");
            self.cases = self.cases.saturating_add(1);
            let verdict = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("verdict="));
            self.checks.check(
                &format!("papr_{}", name),
                if verdict == Some("pass") {
                    Ok(())
                } else {
                    Err(String::from(rest))
                },
            );
        } else if line.starts_with("PNV-RESULT: PASS") {
            self.reported_pass = true;
        }
    }
}

impl PaprHandler<'_> {
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
        let ram = self.ram;
        let word = |i: u64| la.checked_add(4 * i).and_then(|a| ram.read_be_u32(a));
        let (Some(token), Some(nargs), Some(nret)) = (word(0), word(1), word(2)) else {
            return HStatus::Parameter.to_reg();
        };
        if nargs > 16 || nret > 16 || nret == 0 {
            return HStatus::Parameter.to_reg();
        }
        let total = 3 + (nargs + nret) as u64;
        if ram.host_range(la, 4 * total).is_none() {
            return HStatus::Parameter.to_reg();
        }
        // In range and aligned (checked above): every read succeeds.
        let args: Vec<u32> = (0..nargs as u64)
            .map(|i| word(3 + i).unwrap_or(0))
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
        let out = la + 12 + 4 * nargs as u64;
        for (i, r) in rets.iter().enumerate() {
            ram.write_be_u32(out + 4 * i as u64, *r);
        }
        0
    }

    /// `ibm,read-pci-config` / `ibm,write-pci-config` for the passed-through
    /// function only; its BARs and expansion ROM stay where the hypervisor
    /// put them.
    fn pci_config(&self, args: &[u32], rets: &mut [u32], write: bool) {
        rtas_pci_config(self.phb, self.device, BUID, args, rets, write, &|_| false);
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
            H_PUT_TERM_CHAR => {
                let suite = &mut self.suite;
                self.console
                    .put_term_char(regs, &mut |line| suite.line(line))
            }
            H_LOGICAL_CI_LOAD => self.ci(regs, false),
            H_LOGICAL_CI_STORE => self.ci(regs, true),
            H_RTAS => self.rtas(regs),
            // The problem-state case relocates through its own radix tree.
            H_REGISTER_PROC_TBL => register_process_table(&self.ram, regs).0,
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

/// Runs the scenario.
pub fn run(t: &Topology, checks: &mut Checks) {
    if let Err(e) = run_guest(t, checks) {
        checks.check("papr_guest_setup", Err(e));
    }
}

fn run_guest(t: &Topology, checks: &mut Checks) -> Result<(), String> {
    // A page of hypervisor memory the guest tries to reach: its isolation
    // case names the first logical page past its RAM, which a hypervisor that
    // forgot to translate would pass to the device as this host page.
    let sentinel = GUEST_RAM;
    ram::fill(sentinel, 0x1000, 0x99);
    // The guest block (heap.rs's memory map), all of it this partition's.
    let guest_ram = GuestRam::new(crate::heap::guest_block());
    debug_assert_eq!(
        (guest_ram.host_base(), guest_ram.size()),
        (GUEST_HOST_BASE, GUEST_RAM)
    );

    let (phb, edu, bar0) = platform::bring_up_with_edu(t, 0)?;
    let mut phb = phb;
    phb.set_pe(
        PE as u64,
        edu.bdf.rid(),
        pnv_iommu::phb::pe::RidMatch::EXACT,
        true,
    )
    .map_err(|e| format!("set_pe: {:?}", e))?;
    let page_sizes = phb.capabilities().ddw_page_mask();
    let port = Arc::new(LockedPhb::new(phb));
    let mut hv: Hypervisor<PhbPort, GlobalPages> = Hypervisor::new(GlobalPages);
    let ram_map = [RamRegion {
        logical: 0,
        host: GUEST_HOST_BASE,
        size: GUEST_RAM,
    }];
    let partition = hv
        .add_partition(
            &ram_map,
            Arc::new(HostMemory(guest_ram)),
            PartitionConfig::default(),
        )
        .map_err(|e| format!("partition: {:?}", e))?;
    let config_addr = (edu.bdf.bus as u32) << 16 | (edu.bdf.devfn as u32) << 8;
    let pe_cfg = PeConfig {
        buid: BUID,
        config_addr,
        pe: PE,
        default_window_size: DEFAULT_WINDOW,
        page_sizes,
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
    if !guest_ram.write_bytes(GUEST_FDT, &blob) {
        return Err(format!("device tree of {} bytes does not fit", blob.len()));
    }
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
        ram: guest_ram,
        partition,
        device: edu.bdf,
        bar0: (bar0.cpu_addr, bar0.size),
        console: GuestConsole::new(0),
        suite: SuiteVerdict {
            checks,
            cases: 0,
            reported_pass: false,
        },
    };
    let exit = guest.run(&mut handler);
    println!(
        "PNV: guest console: {} lines, {} bytes",
        handler.console.lines(),
        handler.console.bytes()
    );
    let SuiteVerdict {
        checks,
        cases,
        reported_pass,
    } = handler.suite;
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
