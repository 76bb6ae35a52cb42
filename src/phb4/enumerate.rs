//! Finding the device behind the root port and giving it MMIO space.
//!
//! The root port gets bus numbers 0 → 1..1 and a non-prefetchable memory
//! window covering the whole M32 window (the prefetchable window is closed;
//! every memory BAR goes in the M32 window, below 4 GiB). Each function on
//! bus 1 has its memory BARs sized and assigned naturally aligned from the
//! bottom of the M32 window; then COMMAND.MEM and COMMAND.MASTER are set on
//! the function and on the root port. I/O BARs are left unassigned.

use super::config::{Bdf, COMMAND_MASTER, COMMAND_MEMORY, offsets};
use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use alloc::vec::Vec;

/// One assigned memory BAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciBar {
    /// BAR number (0..6; a 64-bit BAR uses this and the next).
    pub index: u8,
    /// PCI bus address.
    pub pci_addr: u64,
    /// CPU physical address (through the M32 window).
    pub cpu_addr: u64,
    /// Size in bytes.
    pub size: u64,
    /// 64-bit BAR.
    pub is64: bool,
}

/// A function found behind the root port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciFunction {
    /// Its address.
    pub bdf: Bdf,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Assigned memory BARs.
    pub bars: Vec<PciBar>,
}

/// Secondary bus of the root port.
pub const DEVICE_BUS: u8 = 1;

impl<I: RegisterIo> Phb4<I> {
    /// Sets the root port's bus numbers (primary 0, secondary and
    /// subordinate 1) and its memory window (the whole M32 window).
    pub fn setup_root_port(&self) -> Result<(), Phb4Error> {
        let cfg = self.brought_up()?.cfg;
        let rp = Bdf::ROOT_PORT;
        self.config_write32(rp, offsets::BUS_NUMBERS, 0x0001_0100)?;
        let base = cfg.m32_pci_start;
        let limit = base + cfg.m32_size - 1;
        let window = ((base >> 16) as u32 & 0xfff0) | (limit as u32 & 0xfff0_0000);
        self.config_write32(rp, offsets::MEMORY_BASE, window)?;
        // Closed prefetchable window: base above limit.
        self.config_write32(rp, offsets::PREF_MEMORY_BASE, 0x0000_fff0)?;
        self.config_write32(rp, offsets::PREF_BASE_UPPER, 0)?;
        self.config_write32(rp, offsets::PREF_LIMIT_UPPER, 0)?;
        Ok(())
    }

    /// Finds every function on bus 1, assigns its memory BARs inside the M32
    /// window and enables memory decoding and bus mastering on it and on the
    /// root port.
    pub fn enumerate(&mut self) -> Result<Vec<PciFunction>, Phb4Error> {
        self.setup_root_port()?;
        let mut next = self.brought_up()?.cfg.m32_pci_start;
        let mut found = Vec::new();
        for dev in 0..32u8 {
            for func in 0..8u8 {
                let bdf = Bdf::new(DEVICE_BUS, dev, func);
                let vendor = self.config_read16(bdf, offsets::VENDOR_ID)?;
                if vendor == 0xffff || vendor == 0 {
                    if func == 0 {
                        break;
                    }
                    continue;
                }
                let device = self.config_read16(bdf, offsets::DEVICE_ID)?;
                let header =
                    self.config_read(bdf, offsets::HEADER_TYPE, crate::mmio::Width::W8)? as u8;
                let bars = if header & 0x7f == 0 {
                    self.assign_bars(bdf, &mut next)?
                } else {
                    Vec::new()
                };
                self.enable_command(bdf, COMMAND_MEMORY | COMMAND_MASTER)?;
                found.push(PciFunction {
                    bdf,
                    vendor,
                    device,
                    bars,
                });
                if func == 0 && header & 0x80 == 0 {
                    break;
                }
            }
        }
        self.enable_command(Bdf::ROOT_PORT, COMMAND_MEMORY | COMMAND_MASTER)?;
        Ok(found)
    }

    fn assign_bars(&self, bdf: Bdf, next: &mut u64) -> Result<Vec<PciBar>, Phb4Error> {
        let mut bars = Vec::new();
        let mut i = 0u8;
        while i < 6 {
            let off = offsets::BAR0 + 4 * i as u16;
            let orig = self.config_read32(bdf, off)?;
            if orig & 1 != 0 {
                i += 1; // I/O BAR: no I/O space behind a PHB4
                continue;
            }
            let is64 = (orig >> 1) & 3 == 2 && i < 5;
            self.config_write32(bdf, off, 0xffff_ffff)?;
            let lo = self.config_read32(bdf, off)? & !0xf;
            let mut mask = lo as u64 | 0xffff_ffff_0000_0000;
            if is64 {
                self.config_write32(bdf, off + 4, 0xffff_ffff)?;
                let hi = self.config_read32(bdf, off + 4)? as u64;
                mask = (hi << 32) | lo as u64;
            }
            let size = (!mask).wrapping_add(1);
            if lo == 0 && (!is64 || mask == 0) || size == 0 {
                // Unimplemented BAR.
                self.config_write32(bdf, off, orig)?;
                i += if is64 { 2 } else { 1 };
                continue;
            }
            let addr = next
                .checked_next_multiple_of(size)
                .ok_or(Phb4Error::NoMmioSpace)?;
            let end = addr.checked_add(size).ok_or(Phb4Error::NoMmioSpace)?;
            let cfg = self.brought_up()?.cfg;
            if end > cfg.m32_pci_start + cfg.m32_size {
                return Err(Phb4Error::NoMmioSpace);
            }
            *next = end;
            self.config_write32(bdf, off, addr as u32)?;
            if is64 {
                self.config_write32(bdf, off + 4, (addr >> 32) as u32)?;
            }
            let cpu_addr = cfg.m32_cpu_base + (addr - cfg.m32_pci_start);
            bars.push(PciBar {
                index: i,
                pci_addr: addr,
                cpu_addr,
                size,
                is64,
            });
            i += if is64 { 2 } else { 1 };
        }
        Ok(bars)
    }
}
