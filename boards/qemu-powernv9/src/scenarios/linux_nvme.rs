//! The `linux-nvme*` scenarios: Debian's Linux as a guest partition with
//! the NVMe on the host's `pcie.0` passed through. Its /init reads the disk
//! with O_DIRECT, checks its sha256 and writes and reads back a pattern;
//! every DMA goes through TCEs the guest set with our hypercalls (served by
//! `pnv_iommu::papr` over the real PHB4), and its MSIs reach it through the
//! emulated XICS (guest/pci_device.rs).
//!
//! Three DMA paths, chosen by the kernel command line xtask puts in the
//! bundle: `linux-nvme` (DDW: Linux queries, creates a window at 2^59 and
//! maps all RAM with H_PUT_TCE_INDIRECT), `linux-nvme-noddw`
//! (`disable_ddw`: the default window, INDIRECT/STUFF/PUT during I/O),
//! `linux-nvme-single-tce` (`disable_ddw multitce=off`: H_PUT_TCE only).
//! Each checks that its path's calls were served, and at the end that every
//! valid hardware TCE of the partition names its own memory.

use super::Checks;
use super::linux_guest::{Attached, GUEST_RAM, MSI_PAGE, boot_with, report};
use super::platform;
use crate::guest::linux_dt::LinuxPci;
use crate::guest::memory::GuestRam;
use crate::guest::passthrough::{HostMemory, PhbPort};
use crate::guest::pci_device::{PassedFunction, WrongPage};
use crate::guest::xics::SOURCES;
use crate::println;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use platform::AnyPhb;
use pnv_iommu::mmio::Width;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::{Hypervisor, LockedPhb, PartitionConfig, PeConfig, RamRegion};
use pnv_iommu::phb::Phb;
use pnv_iommu::phb4::config::Bdf;
use pnv_iommu::topology::Topology;

/// QEMU's NVMe controller.
const NVME_VENDOR: u16 = 0x1b36;
const NVME_DEVICE: u16 = 0x0010;
/// Mass storage, NVM, NVMe.
const NVME_CLASS: u32 = 0x01_08_02;
/// The guest's PE on PHB0.
const PE: u16 = 9;
/// Its logical PHB's BUID.
const BUID: u64 = crate::guest::devtree::LOGICAL_PHB_BUID;
/// The default window (the guest is told one page less: the last page maps
/// the MSI page).
const DEFAULT_WINDOW: u64 = 1 << 30;
const MSI_IOVA: u64 = DEFAULT_WINDOW - 0x1000;
/// Leaf size of the partition-scoped tree (device registers are mapped by
/// whole leaves).
const LEAF: u64 = 2 << 20;
/// PCI capability ID of MSI-X.
const CAP_MSIX: u32 = 0x11;

/// Which DMA path the kernel takes (set by the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Ddw,
    NoDdw,
    SingleTce,
    /// Negative control: H_PUT_TCE only, one of them programmed with a
    /// wrong host page (see [`WRONG_NTH`]).
    WrongPages,
}

/// The negative control's wrong TCE: the 1000th page Linux maps (with
/// `multitce=off`, one H_PUT_TCE each) — by then the controller is up and
/// /init's dd is reading the disk (20 MiB, 5120 pages) — goes to
/// [`SINK_PAGE`] instead.
const WRONG_NTH: u64 = 1000;
/// A reserved guest page next to the MSI page (both in the device tree's
/// reserve map): the wrong TCE's data lands there.
const SINK_PAGE: u64 = MSI_PAGE + 0x1000;

/// `linux-nvme`: DDW on.
pub fn run(t: &Topology, checks: &mut Checks) {
    run_path(t, checks, Path::Ddw)
}

/// `linux-nvme-noddw`: `disable_ddw`.
pub fn run_no_ddw(t: &Topology, checks: &mut Checks) {
    run_path(t, checks, Path::NoDdw)
}

/// `linux-nvme-single-tce`: `disable_ddw multitce=off`.
pub fn run_single_tce(t: &Topology, checks: &mut Checks) {
    run_path(t, checks, Path::SingleTce)
}

/// `linux-nvme-wrong-pages` (negative control): as `linux-nvme-single-tce`,
/// but the hypervisor programs a wrong host page for one guest TCE; the
/// guest's sha256 check must fail (and only then does the case pass).
pub fn run_wrong_pages(t: &Topology, checks: &mut Checks) {
    run_path(t, checks, Path::WrongPages)
}

fn run_path(t: &Topology, checks: &mut Checks, path: Path) {
    if let Err(e) = nvme_guest(t, checks, path) {
        checks.check("linux_nvme_setup", Err(e));
    }
}

/// PCI capability ID of MSI.
const CAP_MSI: u32 = 0x05;

/// The config offset of capability `id` of `bdf`, if it has it.
fn find_cap(phb: &AnyPhb, bdf: Bdf, id: u32) -> Option<u16> {
    let read = |off: u16| phb.config_read(bdf, off, Width::W32).ok();
    let mut cap = read(0x34)? & 0xfc;
    for _ in 0..48 {
        if cap == 0 {
            return None;
        }
        let head = read(cap as u16)?;
        if head & 0xff == id {
            return Some(cap as u16);
        }
        cap = (head >> 8) & 0xfc;
    }
    None
}

/// The MSI-X table of `bdf`: BAR-relative offset and entries.
fn msix_table(phb: &AnyPhb, bdf: Bdf) -> Result<(u64, u32), String> {
    let cap = find_cap(phb, bdf, CAP_MSIX).ok_or("no MSI-X capability")?;
    let read = |off: u16| {
        phb.config_read(bdf, off, Width::W32)
            .map_err(|e| format!("config read {:#x}: {:?}", off, e))
    };
    let entries = ((read(cap)? >> 16) & 0x7ff) + 1;
    let table = read(cap + 4)?;
    if table & 7 != 0 {
        return Err(format!("MSI-X table in BAR{}, not BAR0", table & 7));
    }
    Ok(((table & !7) as u64, entries))
}

fn nvme_guest(t: &Topology, checks: &mut Checks, path: Path) -> Result<(), String> {
    let mut phb = platform::bring_up(t, 0, 0)?;
    let functions = phb.enumerate().map_err(|e| format!("enumerate: {:?}", e))?;
    let nvme = functions
        .into_iter()
        .find(|f| f.vendor == NVME_VENDOR && f.device == NVME_DEVICE)
        .ok_or("no NVMe behind PHB0")?;
    let bar0 = *nvme
        .bars
        .iter()
        .find(|b| b.index == 0)
        .ok_or("NVMe has no BAR0")?;
    let (table_off, entries) = msix_table(&phb, nvme.bdf)?;
    let msi_cap = find_cap(&phb, nvme.bdf, CAP_MSI);
    println!(
        "PNV: PHB0 NVMe at {:02x}:{:02x}.{} BAR0 pci {:#x} cpu {:#x} size {:#x}; MSI-X table at +{:#x}, {} entries",
        nvme.bdf.bus,
        nvme.bdf.devfn >> 3,
        nvme.bdf.devfn & 7,
        bar0.pci_addr,
        bar0.cpu_addr,
        bar0.size,
        table_off,
        entries
    );
    phb.set_pe(
        PE as u64,
        nvme.bdf.rid(),
        pnv_iommu::phb::pe::RidMatch::EXACT,
        true,
    )
    .map_err(|e| format!("set_pe: {:?}", e))?;
    let page_sizes = phb.capabilities().ddw_page_mask();
    let port: Arc<PhbPort> = Arc::new(LockedPhb::new(phb));
    let (host_base, ram_size) = GUEST_RAM;
    let (ram, _) = crate::heap::linux_guest_memory(t.memory_bytes())
        .ok_or("needs the Linux guest's RAM (QEMU -m 2G)")?;
    let ram = GuestRam::new(ram);
    let mut hv: Hypervisor<PhbPort, GlobalPages> = Hypervisor::new(GlobalPages);
    let partition = hv
        .add_partition(
            &[RamRegion {
                logical: 0,
                host: host_base,
                size: ram_size,
            }],
            Arc::new(HostMemory(ram)),
            PartitionConfig::default(),
        )
        .map_err(|e| format!("partition: {:?}", e))?;
    let config_addr = (nvme.bdf.bus as u32) << 16 | (nvme.bdf.devfn as u32) << 8;
    let liobn = hv
        .attach_pe(
            partition,
            port.clone(),
            PeConfig {
                buid: BUID,
                config_addr,
                pe: PE,
                default_window_size: DEFAULT_WINDOW,
                page_sizes,
                max_window_shift: 40,
            },
        )
        .map_err(|e| format!("attach_pe: {:?}", e))?;
    let mut device = PassedFunction {
        hv: &hv,
        phb: &port,
        partition,
        ram,
        bdf: nvme.bdf,
        buid: BUID,
        msix_table: (bar0.cpu_addr + table_off, entries),
        msi_page: (MSI_PAGE, MSI_IOVA),
        liobn,
        msi_cap,
        vectors: 0,
        census: Default::default(),
        wrong_page: (path == Path::WrongPages).then_some(WrongPage {
            nth: WRONG_NTH,
            sink: SINK_PAGE,
            seen: 0,
            replaced: 0,
        }),
    };
    // The MSI page: the last page of the default window maps it.
    let status = device.map_msi_page();
    if status != 0 {
        return Err(format!("MSI page TCE: status {:#x}", status));
    }
    let io_base = bar0.cpu_addr & !(LEAF - 1);
    let io_end = (bar0.cpu_addr + bar0.size).next_multiple_of(LEAF);
    let attached = Attached {
        pci: LinuxPci {
            buid: BUID,
            mmio32: (
                bar0.pci_addr & !0x7fff_ffff,
                bar0.cpu_addr - (bar0.pci_addr & 0x7fff_ffff),
                0x8000_0000,
            ),
            liobn,
            window: (0, MSI_IOVA),
            bus: nvme.bdf.bus,
            devfn: nvme.bdf.devfn,
            ids: (nvme.vendor, nvme.device),
            class: NVME_CLASS,
            bar0: (bar0.pci_addr, bar0.size, bar0.is64),
            msix: entries.min(SOURCES as u32),
        },
        io: (io_base, io_base, io_end - io_base),
        device: &mut device,
    };
    let outcome = boot_with(t, false, Some(attached))?;
    device.census.print();
    println!("PNV: external interrupts injected {}", outcome.injected);
    if path == Path::WrongPages {
        let v = &outcome.verdict;
        checks.check(
            "linux_nvme_wrong_page_fails_sha256",
            if v.init_reached && v.sha_failed && !v.pass {
                Ok(())
            } else {
                Err(format!(
                    "/init reached {}, sha256 failed {}, pass {}",
                    v.init_reached, v.sha_failed, v.pass
                ))
            },
        );
        checks.check(
            "linux_nvme_tces_inside_partition",
            isolation(&hv, partition, host_base, ram_size),
        );
        return Ok(());
    }
    report(checks, &outcome);
    let c = &device.census;
    let (ok, what) = match path {
        Path::Ddw => (
            c.ddw[0] > 0 && c.ddw[1] > 0 && c.put_tce_indirect > 0,
            "DDW query and create, H_PUT_TCE_INDIRECT",
        ),
        Path::NoDdw => (
            c.ddw[1] == 0 && c.put_tce_indirect > 0 && c.stuff_tce > 0,
            "no DDW create; H_PUT_TCE_INDIRECT and H_STUFF_TCE",
        ),
        Path::SingleTce | Path::WrongPages => (
            c.ddw[1] == 0 && c.put_tce_indirect == 0 && c.put_tce > 0,
            "H_PUT_TCE only",
        ),
    };
    checks.check(
        "linux_nvme_dma_path_served",
        if ok && c.msis > 0 {
            Ok(())
        } else {
            Err(format!("want {}, and MSIs; got {:?}", what, c))
        },
    );
    checks.check(
        "linux_nvme_tces_inside_partition",
        isolation(&hv, partition, host_base, ram_size),
    );
    Ok(())
}

/// Every valid hardware TCE of every window of the partition names a page
/// of its RAM (checked over each window's first 2^20 entries, which cover
/// the guest's whole RAM at any offered page size).
fn isolation(
    hv: &Hypervisor<PhbPort, GlobalPages>,
    p: pnv_iommu::papr::PartitionId,
    host: u64,
    size: u64,
) -> Result<(), String> {
    let mut valid = 0u64;
    for w in hv.liobns(p) {
        let entries = (w.window_size >> w.page_shift).min(1 << 20);
        for i in 0..entries {
            let iova = w.bus_offset + (i << w.page_shift);
            let Ok(tce) = hv.hardware_tce(p, w.liobn as u64, iova) else {
                continue;
            };
            if !tce.is_valid() {
                continue;
            }
            valid += 1;
            let end = tce.phys() + (1 << w.page_shift);
            if tce.phys() < host || end > host + size {
                return Err(format!(
                    "LIOBN {:#x} IOVA {:#x} maps host {:#x}, outside the partition",
                    w.liobn,
                    iova,
                    tce.phys()
                ));
            }
        }
    }
    println!(
        "PNV: isolation: {} valid hardware TCEs, all inside the partition",
        valid
    );
    if valid == 0 {
        return Err(String::from("no valid TCE at all"));
    }
    Ok(())
}
