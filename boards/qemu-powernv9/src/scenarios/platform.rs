//! Platform set-up shared by the scenarios: a PHB of the machine's
//! generation brought up, with the edu device found behind its root port.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use pnv_iommu::mmio::CacheInhibited;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb::Phb;
use pnv_iommu::phb::enumerate::PciHost;
use pnv_iommu::phb::pci::{PciBar, PciFunction};
use pnv_iommu::phb3::{Phb3, Phb3Config};
use pnv_iommu::phb4::{Phb4, Phb4Config};
use pnv_iommu::topology::{ChipGeneration, Topology};
use pnv_rt::edu::{EDU_DEVICE, EDU_VENDOR};

/// What the scenarios need from a PHB of any generation: the PHB interface,
/// and config space (the PAPR guest's RTAS config calls).
pub trait PlatformPhb: Phb + PciHost + Send {}

impl<P: Phb + PciHost + Send> PlatformPhb for P {}

/// A PHB of any generation, as the scenarios drive it.
pub type AnyPhb = Box<dyn PlatformPhb>;

/// Register access for the scenarios (the board's one accessor).
pub fn io() -> CacheInhibited {
    crate::io::io()
}

/// Brings PHB `index` of chip `chip` up with the driver of the chip's
/// generation, placed as the device tree says: PHB3 on POWER8, PHB4 on
/// POWER9, PHB5 (the PHB4 driver) on POWER10.
pub fn bring_up(t: &Topology, chip: u32, index: u32) -> Result<AnyPhb, String> {
    let (c, pec, stack) = t
        .phb_stacks()
        .find(|(c, _, stack)| c.chip_id == chip && stack.phb_index == index)
        .ok_or_else(|| format!("no PHB{} on chip {}", index, chip))?;
    let phb: AnyPhb = match c.generation {
        ChipGeneration::Power8 => {
            let cfg = Phb3Config::for_pbcq(c, pec, stack);
            Box::new(
                Phb3::init(io(), cfg, &GlobalPages)
                    .map_err(|e| format!("chip {} PHB3 {} init: {:?}", chip, index, e))?,
            )
        }
        ChipGeneration::Power9 | ChipGeneration::Power10 => {
            let cfg = Phb4Config::for_stack(c, pec, stack)
                .ok_or_else(|| format!("no address map for chip {} PHB{}", chip, index))?;
            Box::new(
                Phb4::init(io(), cfg, &GlobalPages)
                    .map_err(|e| format!("chip {} PHB{} init: {:?}", chip, index, e))?,
            )
        }
    };
    Ok(phb)
}

/// A second driver for PHB `index` of chip `chip`, which `owner` brought up:
/// attached as another firmware's PHB would be (no register written, no
/// table owned), with the driver of the chip's generation.
pub fn attach(
    t: &Topology,
    chip: u32,
    index: u32,
    owner: &dyn PlatformPhb,
) -> Result<AnyPhb, String> {
    use pnv_iommu::phb4::{AttachedPhb4, Phb4Family};
    let (c, pec, stack) = t
        .phb_stacks()
        .find(|(c, _, stack)| c.chip_id == chip && stack.phb_index == index)
        .ok_or_else(|| format!("no PHB{} on chip {}", index, chip))?;
    let err = |e| format!("attach chip {} PHB{}: {:?}", chip, index, e);
    let family = match c.generation {
        ChipGeneration::Power8 => {
            let cfg = Phb3Config::for_pbcq(c, pec, stack);
            return Ok(Box::new(Phb3::attach(io(), cfg).map_err(err)?));
        }
        ChipGeneration::Power9 => Phb4Family::Phb4,
        ChipGeneration::Power10 => Phb4Family::Phb5,
    };
    let desc = AttachedPhb4 {
        chip_id: chip,
        index,
        regs_base: owner.regs_base(),
        num_pes: owner.capabilities().num_pes,
    };
    Ok(Box::new(
        Phb4::attach_family(io(), desc, family).map_err(err)?,
    ))
}

/// [`bring_up_with_edu_on`] chip 0.
pub fn bring_up_with_edu(
    t: &Topology,
    index: u32,
) -> Result<(AnyPhb, PciFunction, PciBar), String> {
    bring_up_with_edu_on(t, 0, index)
}

/// Brings PHB `index` of chip `chip` up ([`bring_up`]), enumerates it and
/// returns the edu function with its BAR0.
pub fn bring_up_with_edu_on(
    t: &Topology,
    chip: u32,
    index: u32,
) -> Result<(AnyPhb, PciFunction, PciBar), String> {
    let mut phb = bring_up(t, chip, index)?;
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
