//! Platform set-up shared by the scenarios: a PHB of the machine's
//! generation brought up, with the edu device found behind its root port.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use pnv_iommu::mmio::CacheInhibited;
use pnv_iommu::phb::Phb;
use pnv_iommu::phb::pci::{PciBar, PciFunction};
use pnv_iommu::phb3::{Phb3, Phb3Config};
use pnv_iommu::phb4::dmamem::GlobalHeap;
use pnv_iommu::phb4::enumerate::PciHost;
use pnv_iommu::phb4::{Phb4, Phb4Config};
use pnv_iommu::topology::{ChipGeneration, Topology};
use pnv_rt::edu::{EDU_DEVICE, EDU_VENDOR};

/// What the scenarios need from a PHB of any generation: the PHB interface,
/// and config space (the PAPR guest's RTAS config calls).
pub trait PlatformPhb: Phb + PciHost + Send {}

impl<P: Phb + PciHost + Send> PlatformPhb for P {}

/// A PHB of any generation, as the scenarios drive it.
pub type AnyPhb = Box<dyn PlatformPhb>;

/// Register access for the scenarios.
pub fn io() -> CacheInhibited {
    // SAFETY: the firmware runs in hypervisor real mode; this accessor is
    // used only on PHB, XSCOM and device registers the driver programs.
    unsafe { CacheInhibited::new() }
}

/// Brings PHB `index` of chip 0 up with the driver of the chip's
/// generation, placed as the device tree says: PHB3 on POWER8, PHB4 on
/// POWER9, PHB5 (the PHB4 driver) on POWER10.
pub fn bring_up(t: &Topology, index: u32) -> Result<AnyPhb, String> {
    let (chip, pec, stack) = t
        .phb_stacks()
        .find(|(chip, _, stack)| chip.chip_id == 0 && stack.phb_index == index)
        .ok_or_else(|| format!("no PHB{} on chip 0", index))?;
    let phb: AnyPhb = match chip.generation {
        ChipGeneration::Power8 => {
            let cfg = Phb3Config::for_pbcq(chip, pec, stack);
            Box::new(
                Phb3::init(io(), cfg, &mut GlobalHeap)
                    .map_err(|e| format!("PHB3 {} init: {:?}", index, e))?,
            )
        }
        ChipGeneration::Power9 | ChipGeneration::Power10 => {
            let cfg = Phb4Config::for_stack(chip, pec, stack)
                .ok_or_else(|| format!("no address map for PHB{}", index))?;
            Box::new(
                Phb4::init(io(), cfg, &mut GlobalHeap)
                    .map_err(|e| format!("PHB{} init: {:?}", index, e))?,
            )
        }
    };
    Ok(phb)
}

/// Brings PHB `index` of chip 0 up ([`bring_up`]), enumerates it and
/// returns the edu function with its BAR0.
pub fn bring_up_with_edu(
    t: &Topology,
    index: u32,
) -> Result<(AnyPhb, PciFunction, PciBar), String> {
    let mut phb = bring_up(t, index)?;
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
