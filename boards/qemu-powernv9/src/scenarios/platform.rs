//! Platform set-up shared by the scenarios: a PHB brought up with the edu
//! device found behind its root port.

use alloc::format;
use alloc::string::String;
use pnv_iommu::mmio::CacheInhibited;
use pnv_iommu::phb4::dmamem::GlobalHeap;
use pnv_iommu::phb4::enumerate::{PciBar, PciFunction};
use pnv_iommu::phb4::{Phb4, Phb4Config};
use pnv_iommu::topology::Topology;
use pnv_rt::edu::{EDU_DEVICE, EDU_VENDOR};

/// Register access for the scenarios.
pub fn io() -> CacheInhibited {
    // SAFETY: the firmware runs in hypervisor real mode; this accessor is
    // used only on PHB, XSCOM and device registers the driver programs.
    unsafe { CacheInhibited::new() }
}

/// The configuration of PHB `index` of chip 0 as the device tree places it
/// (a PHB4 on POWER9, a PHB5 on POWER10).
pub fn phb4_config(t: &Topology, index: u32) -> Result<Phb4Config, String> {
    t.phb_stacks()
        .find(|(chip, _, stack)| chip.chip_id == 0 && stack.phb_index == index)
        .and_then(|(chip, pec, stack)| Phb4Config::for_stack(chip, pec, stack))
        .ok_or_else(|| format!("no PHB4/PHB5 {} on chip 0", index))
}

/// Brings PHB `index` of chip 0 up, enumerates it and returns the edu
/// function with its BAR0.
pub fn bring_up_with_edu(
    t: &Topology,
    index: u32,
) -> Result<(Phb4<CacheInhibited>, PciFunction, PciBar), String> {
    let cfg = phb4_config(t, index)?;
    let mut phb = Phb4::init(io(), cfg, &mut GlobalHeap)
        .map_err(|e| format!("PHB{} init: {:?}", index, e))?;
    let functions = phb.enumerate().map_err(|e| format!("enumerate: {:?}", e))?;
    let edu = functions
        .into_iter()
        .find(|f| f.vendor == EDU_VENDOR && f.device == EDU_DEVICE)
        .ok_or_else(|| format!("no edu behind PHB{}", index))?;
    let bar0 = *edu
        .bars
        .iter()
        .find(|b| b.index == 0)
        .ok_or("edu has no BAR0")?;
    crate::println!(
        "PNV: PHB{} edu at {:02x}:{:02x}.{} BAR0 pci {:#x} cpu {:#x} size {:#x}",
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
