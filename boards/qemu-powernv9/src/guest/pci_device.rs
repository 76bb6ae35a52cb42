//! A PCI function passed through to a Linux guest: its TCE hypercalls and
//! DDW RTAS calls go to `pnv_iommu::papr` over the real PHB; its config
//! space is reached through RTAS with the BARs fixed; its MSI-X vectors are
//! set up by `ibm,change-msi` to land as ordinary translated DMA in a page of
//! the guest's RAM that the hypervisor reserved (device tree reserve map)
//! and polls, through a TCE in the last page of the default window, which
//! the guest is not told about. Each MSI found there raises the matching
//! source of the emulated XICS.
//!
//! The MSI page is guest memory, so a guest can only fake its own
//! interrupts; every DMA, MSIs included, goes through the partition's TCEs
//! and stays inside its memory.

use super::GuestRegs;
use super::memory::GuestRam;
use super::passthrough::{ConfigAccess, PhbPort, RTAS_PARAMETER, RTAS_SUCCESS, rtas_pci_config};
use super::pseries::PlatformDevice;
use super::xics::{IRQ_BASE, SOURCES, Xics, XicsError};
use crate::guest::linux_dt::rtas_token;
use pnv_iommu::mmio::{Endian, RegisterIo, Width};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE};
use pnv_iommu::papr::{DdwCall, HCALL_REGS, Hypervisor, PartitionId};
use pnv_iommu::phb4::config::Bdf;

/// TCE read and write permission.
const TCE_RW: u64 = 3;

/// `ibm,change-msi` functions (LoPAPR).
const CHANGE_MSI_QUERY: u32 = 0;
const CHANGE_MSI_FN: u32 = 3;
const CHANGE_MSIX_FN: u32 = 4;

/// Calls served for the device.
#[derive(Default, Debug)]
pub struct DeviceCensus {
    /// H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT.
    pub put_tce: u64,
    /// H_GET_TCE.
    pub get_tce: u64,
    /// H_STUFF_TCE.
    pub stuff_tce: u64,
    /// H_PUT_TCE_INDIRECT.
    pub put_tce_indirect: u64,
    /// RTAS `ibm,read-pci-config`, `ibm,write-pci-config`.
    pub read_config: u64,
    /// Config writes.
    pub write_config: u64,
    /// Config writes refused (BARs, ROM, MSI address/data, another
    /// function).
    pub write_config_refused: u64,
    /// `ibm,change-msi`.
    pub change_msi: u64,
    /// `ibm,query-interrupt-source-number`.
    pub query_irq: u64,
    /// `ibm,set-xive`, `ibm,get-xive`, `ibm,int-on`, `ibm,int-off`.
    pub xive: u64,
    /// DDW query, create, remove, reset.
    pub ddw: [u64; 4],
    /// MSIs seen in the MSI page.
    pub msis: u64,
}

impl DeviceCensus {
    /// Prints the counts.
    pub fn print(&self) {
        crate::println!(
            "PNV: census H_PUT_TCE {} H_GET_TCE {} H_STUFF_TCE {} H_PUT_TCE_INDIRECT {}",
            self.put_tce,
            self.get_tce,
            self.stuff_tce,
            self.put_tce_indirect
        );
        crate::println!(
            "PNV: census RTAS read-pci-config {} write-pci-config {} (refused {}) change-msi {} query-interrupt-source-number {} xive {} query/create/remove/reset-pe-dma-window {:?} MSIs {}",
            self.read_config,
            self.write_config,
            self.write_config_refused,
            self.change_msi,
            self.query_irq,
            self.xive,
            self.ddw,
            self.msis
        );
    }
}

/// One passed-through function.
pub struct PassedFunction<'a> {
    /// The PAPR layer serving the TCE and DDW calls.
    pub hv: &'a Hypervisor<PhbPort, GlobalPages>,
    /// The real PHB.
    pub phb: &'a PhbPort,
    /// The guest's partition in the PAPR layer.
    pub partition: PartitionId,
    /// The guest's RAM (the MSI page is in it).
    pub ram: GuestRam,
    /// The function.
    pub bdf: Bdf,
    /// BUID of the logical PHB.
    pub buid: u64,
    /// Host address of the MSI-X table, and its number of entries.
    pub msix_table: (u64, u32),
    /// Guest real address of the MSI page, and the IOVA that maps it.
    pub msi_page: (u64, u64),
    /// LIOBN of the default window (which holds the MSI page's TCE).
    pub liobn: u32,
    /// Config offset of the function's MSI capability, if it has one: the
    /// guest may not write its address and data registers (the hypervisor
    /// owns where MSIs go).
    pub msi_cap: Option<u16>,
    /// Vectors enabled by `ibm,change-msi`.
    pub vectors: u32,
    /// Calls served.
    pub census: DeviceCensus,
    /// Negative control: the hypervisor programs a wrong host page for one
    /// guest TCE (see [`WrongPage`]).
    pub wrong_page: Option<WrongPage>,
}

/// A deliberate fault for the negative control: the `nth` H_PUT_TCE that
/// maps a page (R or W set) gets guest real page `sink` (a page the guest
/// was told to leave alone) instead of the page the guest named. The TCE is
/// still validated and stays inside the partition; only the data goes
/// astray.
#[derive(Clone, Copy, Debug)]
pub struct WrongPage {
    /// Which mapping H_PUT_TCE (1 = the first).
    pub nth: u64,
    /// Guest real address of the page the device then reaches.
    pub sink: u64,
    /// Mapping H_PUT_TCE calls seen so far.
    pub seen: u64,
    /// The guest page the wrong TCE should have named (0 until done).
    pub replaced: u64,
}

impl PassedFunction<'_> {
    fn config(&mut self, args: &[u32], rets: &mut [u32], write: bool) {
        let msi_cap = self.msi_cap;
        // The MSI capability's address and data: the hypervisor decides
        // where MSIs go.
        let msi_owned =
            move |reg: u16| msi_cap.is_some_and(|cap| reg >= cap + 4 && reg < cap + 0x10);
        let access = rtas_pci_config(self.phb, self.bdf, self.buid, args, rets, write, &msi_owned);
        match (write, access) {
            (true, ConfigAccess::Refused) => self.census.write_config_refused += 1,
            (true, _) => self.census.write_config += 1,
            (false, _) => self.census.read_config += 1,
        }
    }

    /// Maps the MSI page at its IOVA (the last page of the default window):
    /// a TCE set through the PAPR layer as the partition's own, so it is
    /// validated like any other. Linux clears its whole default window at
    /// boot, so this is done each time MSIs are set up. Returns the status.
    pub fn map_msi_page(&self) -> u64 {
        let (page, iova) = self.msi_page;
        let mut r = [0u64; HCALL_REGS];
        r[..4].copy_from_slice(&[H_PUT_TCE, self.liobn as u64, iova, page | TCE_RW]);
        self.hv.hcall(self.partition, &mut r, false);
        r[0]
    }

    /// Writes MSI-X entries `0..n` (address = the MSI page's IOVA + 4 i,
    /// data = i + 1) and clears the rest.
    fn program_msix(&mut self, n: u32) {
        if n > 0 && self.map_msi_page() != 0 {
            crate::println!("PNV: mapping the MSI page failed");
        }
        let (table, entries) = self.msix_table;
        let io = crate::io::io();
        for i in 0..entries.min(SOURCES as u32) {
            let entry = table + 16 * i as u64;
            let (addr, data) = if i < n {
                (self.msi_page.1 + 4 * i as u64, i + 1)
            } else {
                (0, 0)
            };
            io.write(entry, Width::W32, Endian::Little, addr & 0xffff_ffff);
            io.write(entry + 4, Width::W32, Endian::Little, addr >> 32);
            io.write(entry + 8, Width::W32, Endian::Little, data as u64);
        }
        self.vectors = n;
    }

    fn change_msi(&mut self, args: &[u32], rets: &mut [u32]) {
        self.census.change_msi += 1;
        if args.len() < 5 || rets.len() < 2 || !self.is_mine(args) {
            rets[0] = RTAS_PARAMETER;
            return;
        }
        let (function, num) = (args[3], args[4]);
        let max = self.msix_table.1.min(SOURCES as u32);
        match function {
            CHANGE_MSI_QUERY => rets[1] = self.vectors,
            CHANGE_MSIX_FN if num <= max => {
                self.program_msix(num);
                rets[1] = num;
            }
            // No MSI capability: only turning it off is accepted.
            CHANGE_MSI_FN | 1 | 5 if num == 0 => {
                self.program_msix(0);
                rets[1] = 0;
            }
            _ => {
                rets[0] = RTAS_PARAMETER;
                return;
            }
        }
        if rets.len() > 2 {
            rets[2] = 0; // sequence number: done
        }
        rets[0] = RTAS_SUCCESS;
    }

    /// The call names this function (config address and BUID).
    fn is_mine(&self, args: &[u32]) -> bool {
        let cfg = args[0];
        let buid = (args[1] as u64) << 32 | args[2] as u64;
        buid == self.buid && (cfg >> 16) as u8 == self.bdf.bus && (cfg >> 8) as u8 == self.bdf.devfn
    }

    fn xive(&mut self, token: u32, args: &[u32], rets: &mut [u32], xics: &mut Xics) {
        self.census.xive += 1;
        let Some(&irq) = args.first() else {
            rets[0] = RTAS_PARAMETER;
            return;
        };
        let result: Result<(), XicsError> = match token {
            rtas_token::SET_XIVE if args.len() >= 3 => {
                xics.set_xive(irq, args[1], args[2].min(0xff) as u8)
            }
            rtas_token::GET_XIVE if rets.len() >= 3 => xics.get_xive(irq).map(|(server, p)| {
                rets[1] = server;
                rets[2] = p as u32;
            }),
            rtas_token::INT_ON => xics.int_on(irq),
            rtas_token::INT_OFF => xics.int_off(irq),
            _ => Err(XicsError::NoSource),
        };
        rets[0] = if result.is_ok() {
            RTAS_SUCCESS
        } else {
            RTAS_PARAMETER
        };
    }
}

impl PlatformDevice for PassedFunction<'_> {
    fn hypercall(&mut self, regs: &mut GuestRegs) -> bool {
        let counter = match regs.gpr[3] {
            H_PUT_TCE => &mut self.census.put_tce,
            H_GET_TCE => &mut self.census.get_tce,
            H_STUFF_TCE => &mut self.census.stuff_tce,
            H_PUT_TCE_INDIRECT => &mut self.census.put_tce_indirect,
            _ => return false,
        };
        *counter += 1;
        let mut r = [0u64; HCALL_REGS];
        r.copy_from_slice(&regs.gpr[3..3 + HCALL_REGS]);
        if let Some(w) = self.wrong_page.as_mut()
            && r[0] == H_PUT_TCE
            && r[3] & TCE_RW != 0
        {
            w.seen += 1;
            if w.seen == w.nth {
                w.replaced = r[3] & !0xfff;
                r[3] = w.sink | (r[3] & TCE_RW);
                crate::println!(
                    "PNV: negative control: TCE at IOBA {:#x} programmed with page {:#x} instead of {:#x}",
                    r[2],
                    w.sink,
                    w.replaced
                );
            }
        }
        self.hv.hcall(self.partition, &mut r, false);
        regs.gpr[3..3 + HCALL_REGS].copy_from_slice(&r);
        true
    }

    fn rtas(&mut self, token: u32, args: &[u32], rets: &mut [u32], xics: &mut Xics) -> bool {
        use rtas_token::*;
        let ddw = |call: DdwCall, i: usize, me: &mut Self, rets: &mut [u32]| {
            me.census.ddw[i] += 1;
            me.hv.rtas_ddw(me.partition, call, args, rets);
        };
        match token {
            READ_PCI_CONFIG => self.config(args, rets, false),
            WRITE_PCI_CONFIG => self.config(args, rets, true),
            QUERY_PE_DMA_WINDOW => ddw(DdwCall::Query, 0, self, rets),
            CREATE_PE_DMA_WINDOW => ddw(DdwCall::Create, 1, self, rets),
            REMOVE_PE_DMA_WINDOW => ddw(DdwCall::Remove, 2, self, rets),
            RESET_PE_DMA_WINDOW => ddw(DdwCall::Reset, 3, self, rets),
            CHANGE_MSI => self.change_msi(args, rets),
            QUERY_INTERRUPT_SOURCE_NUMBER => {
                self.census.query_irq += 1;
                if args.len() < 4
                    || rets.len() < 2
                    || !self.is_mine(args)
                    || args[3] >= self.vectors
                {
                    rets[0] = RTAS_PARAMETER;
                } else {
                    rets[0] = RTAS_SUCCESS;
                    rets[1] = IRQ_BASE + args[3];
                    if rets.len() > 2 {
                        rets[2] = 0; // edge (message signalled)
                    }
                }
            }
            SET_XIVE | GET_XIVE | INT_ON | INT_OFF => self.xive(token, args, rets, xics),
            _ => return false,
        }
        true
    }

    fn poll(&mut self, xics: &mut Xics) {
        let page = self.msi_page.0;
        for i in 0..self.vectors.min(SOURCES as u32) {
            let slot = page + 4 * i as u64;
            if self.ram.read_be_u32(slot).is_some_and(|v| v != 0) {
                self.ram.write_be_u32(slot, 0);
                self.census.msis += 1;
                xics.trigger(i as usize);
            }
        }
    }
}
