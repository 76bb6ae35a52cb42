//! Platform set-up shared by the scenarios: a PHB brought up with the edu
//! device found behind its root port.

use alloc::format;
use alloc::string::String;
use pnv_iommu::mmio::CacheInhibited;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb4::enumerate::{PciBar, PciFunction};
use pnv_iommu::phb4::{Phb4, Phb4Config};
use pnv_rt::edu::{EDU_DEVICE, EDU_VENDOR};

/// Register access for the scenarios (the board's one accessor).
pub fn io() -> CacheInhibited {
    crate::io::io()
}

/// [`bring_up_with_edu_on`] chip 0.
pub fn bring_up_with_edu(
    index: u32,
) -> Result<(Phb4<CacheInhibited>, PciFunction, PciBar), String> {
    bring_up_with_edu_on(0, index)
}

/// Brings PHB `index` of chip `chip` up, enumerates it and returns the edu
/// function with its BAR0.
pub fn bring_up_with_edu_on(
    chip: u32,
    index: u32,
) -> Result<(Phb4<CacheInhibited>, PciFunction, PciBar), String> {
    let cfg = Phb4Config::p9(chip, index).ok_or("no such PHB")?;
    let mut phb = Phb4::init(io(), cfg, &GlobalPages)
        .map_err(|e| format!("chip {} PHB{} init: {:?}", chip, index, e))?;
    let functions = phb.enumerate().map_err(|e| format!("enumerate: {:?}", e))?;
    let edu = functions
        .into_iter()
        .find(|f| f.vendor == EDU_VENDOR && f.device == EDU_DEVICE)
        .ok_or_else(|| format!("no edu behind chip {} PHB{}", chip, index))?;
    let bar0 = *edu
        .bars
        .iter()
        .find(|b| b.index == 0)
        .ok_or("edu has no BAR0")?;
    crate::println!(
        "PNV: chip {} PHB{} edu at {:02x}:{:02x}.{} BAR0 pci {:#x} cpu {:#x} size {:#x}",
        chip,
        index,
        edu.bdf.bus,
        edu.bdf.devfn >> 3,
        edu.bdf.devfn & 7,
        bar0.pci_addr,
        bar0.cpu_addr,
        bar0.size
    );
    Ok((phb, edu, bar0))
}
