//! PCI enumeration behind a root port, the same on every PHB generation:
//! the root port gets bus numbers 0 → 1..1 and a non-prefetchable memory
//! window covering the whole M32 window (the prefetchable window is closed;
//! every memory BAR goes in the M32 window, below 4 GiB). Each function on
//! bus 1 has its memory BARs sized and assigned naturally aligned from the
//! bottom of the M32 window; then COMMAND.MEM and COMMAND.MASTER are set on
//! the function and on the root port. I/O BARs are left unassigned.
//!
//! A generation provides config space and its M32 window through
//! [`PciHost`] (PHB3, PHB4 and PHB5 implement it).

use super::PhbError;
use super::pci::{Bdf, PciBar, PciFunction};
use crate::mmio::Width;
use alloc::vec::Vec;

/// Standard configuration header offsets used by the driver.
pub mod offsets {
    /// Vendor ID (u16).
    pub const VENDOR_ID: u16 = 0x00;
    /// Device ID (u16).
    pub const DEVICE_ID: u16 = 0x02;
    /// Command (u16).
    pub const COMMAND: u16 = 0x04;
    /// Header type (u8).
    pub const HEADER_TYPE: u16 = 0x0e;
    /// First BAR (u32).
    pub const BAR0: u16 = 0x10;
    /// Bridge: primary/secondary/subordinate bus numbers (u32).
    pub const BUS_NUMBERS: u16 = 0x18;
    /// Bridge: memory base/limit (u32).
    pub const MEMORY_BASE: u16 = 0x20;
    /// Bridge: prefetchable memory base/limit (u32).
    pub const PREF_MEMORY_BASE: u16 = 0x24;
    /// Bridge: prefetchable base upper 32 bits.
    pub const PREF_BASE_UPPER: u16 = 0x28;
    /// Bridge: prefetchable limit upper 32 bits.
    pub const PREF_LIMIT_UPPER: u16 = 0x2c;
}

/// COMMAND register: memory space enable.
pub const COMMAND_MEMORY: u16 = 0x2;
/// COMMAND register: bus master (DMA) enable.
pub const COMMAND_MASTER: u16 = 0x4;

/// Secondary bus of the root port.
pub const DEVICE_BUS: u8 = 1;

/// Where a PHB's 32-bit MMIO window sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct M32Window {
    /// CPU address of the window.
    pub cpu_base: u64,
    /// PCI address the window starts at.
    pub pci_start: u64,
    /// Bytes.
    pub size: u64,
}

/// What enumeration needs from a PHB, whatever its generation: config
/// space access and the M32 window BARs are placed in.
pub trait PciHost {
    /// Reads `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    fn config_read(&self, bdf: Bdf, offset: u16, width: Width) -> Result<u32, PhbError>;
    /// Writes `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    fn config_write(&self, bdf: Bdf, offset: u16, width: Width, value: u32)
    -> Result<(), PhbError>;
    /// The 32-bit MMIO window ([`PhbError::Unsupported`] when the PHB
    /// was attached: its owner placed the devices).
    fn m32_window(&self) -> Result<M32Window, PhbError>;
}

fn read32(h: &impl PciHost, bdf: Bdf, off: u16) -> Result<u32, PhbError> {
    h.config_read(bdf, off, Width::W32)
}

fn write32(h: &impl PciHost, bdf: Bdf, off: u16, v: u32) -> Result<(), PhbError> {
    h.config_write(bdf, off, Width::W32, v)
}

fn read16(h: &impl PciHost, bdf: Bdf, off: u16) -> Result<u16, PhbError> {
    h.config_read(bdf, off, Width::W16).map(|v| v as u16)
}

/// Sets bits in the COMMAND register of `bdf`.
pub fn enable_command(h: &impl PciHost, bdf: Bdf, bits: u16) -> Result<(), PhbError> {
    let cmd = read16(h, bdf, offsets::COMMAND)?;
    h.config_write(bdf, offsets::COMMAND, Width::W16, (cmd | bits) as u32)
}

/// Sets the root port's bus numbers (primary 0, secondary and subordinate
/// 1) and its memory window (the whole M32 window).
pub fn setup_root_port(h: &impl PciHost) -> Result<(), PhbError> {
    let rp = Bdf::ROOT_PORT;
    let m32 = h.m32_window()?;
    write32(h, rp, offsets::BUS_NUMBERS, 0x0001_0100)?;
    let base = m32.pci_start;
    let limit = base + m32.size - 1;
    let window = ((base >> 16) as u32 & 0xfff0) | (limit as u32 & 0xfff0_0000);
    write32(h, rp, offsets::MEMORY_BASE, window)?;
    // Closed prefetchable window: base above limit.
    write32(h, rp, offsets::PREF_MEMORY_BASE, 0x0000_fff0)?;
    write32(h, rp, offsets::PREF_BASE_UPPER, 0)?;
    write32(h, rp, offsets::PREF_LIMIT_UPPER, 0)?;
    Ok(())
}

/// Finds every function on bus 1 of `h`, assigns its memory BARs inside the
/// M32 window and enables memory decoding and bus mastering on it and on
/// the root port.
pub fn enumerate(h: &impl PciHost) -> Result<Vec<PciFunction>, PhbError> {
    setup_root_port(h)?;
    let mut next = h.m32_window()?.pci_start;
    let mut found = Vec::new();
    for dev in 0..32u8 {
        for func in 0..8u8 {
            let bdf = Bdf::new(DEVICE_BUS, dev, func);
            let vendor = read16(h, bdf, offsets::VENDOR_ID)?;
            if vendor == 0xffff || vendor == 0 {
                if func == 0 {
                    break;
                }
                continue;
            }
            let device = read16(h, bdf, offsets::DEVICE_ID)?;
            let header = h.config_read(bdf, offsets::HEADER_TYPE, Width::W8)? as u8;
            let bars = if header & 0x7f == 0 {
                assign_bars(h, bdf, &mut next)?
            } else {
                Vec::new()
            };
            enable_command(h, bdf, COMMAND_MEMORY | COMMAND_MASTER)?;
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
    enable_command(h, Bdf::ROOT_PORT, COMMAND_MEMORY | COMMAND_MASTER)?;
    Ok(found)
}

fn assign_bars(h: &impl PciHost, bdf: Bdf, next: &mut u64) -> Result<Vec<PciBar>, PhbError> {
    let m32 = h.m32_window()?;
    let mut bars = Vec::new();
    let mut i = 0u8;
    while i < 6 {
        let off = offsets::BAR0 + 4 * i as u16;
        let orig = read32(h, bdf, off)?;
        if orig & 1 != 0 {
            i += 1; // I/O BAR: no I/O space behind a PHB
            continue;
        }
        let is64 = (orig >> 1) & 3 == 2 && i < 5;
        write32(h, bdf, off, 0xffff_ffff)?;
        let lo = read32(h, bdf, off)? & !0xf;
        let mut mask = lo as u64 | 0xffff_ffff_0000_0000;
        if is64 {
            write32(h, bdf, off + 4, 0xffff_ffff)?;
            let hi = read32(h, bdf, off + 4)? as u64;
            mask = (hi << 32) | lo as u64;
        }
        let size = (!mask).wrapping_add(1);
        if lo == 0 && (!is64 || mask == 0) || size == 0 {
            // Unimplemented BAR.
            write32(h, bdf, off, orig)?;
            i += if is64 { 2 } else { 1 };
            continue;
        }
        let addr = next
            .checked_next_multiple_of(size)
            .ok_or(PhbError::NoMmioSpace)?;
        let end = addr.checked_add(size).ok_or(PhbError::NoMmioSpace)?;
        if end > m32.pci_start + m32.size {
            return Err(PhbError::NoMmioSpace);
        }
        *next = end;
        write32(h, bdf, off, addr as u32)?;
        if is64 {
            write32(h, bdf, off + 4, (addr >> 32) as u32)?;
        }
        let cpu_addr = m32.cpu_base + (addr - m32.pci_start);
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

/// [`PciHost`] for a generation's driver `$driver<I>` whose own
/// `config_read`, `config_write` and `m32_window` methods serve it.
macro_rules! impl_pci_host {
    ($driver:ident) => {
        impl<I: $crate::mmio::RegisterIo> $crate::phb::enumerate::PciHost for $driver<I> {
            fn config_read(
                &self,
                bdf: $crate::phb::pci::Bdf,
                offset: u16,
                width: $crate::mmio::Width,
            ) -> Result<u32, $crate::phb::PhbError> {
                Self::config_read(self, bdf, offset, width)
            }
            fn config_write(
                &self,
                bdf: $crate::phb::pci::Bdf,
                offset: u16,
                width: $crate::mmio::Width,
                value: u32,
            ) -> Result<(), $crate::phb::PhbError> {
                Self::config_write(self, bdf, offset, width, value)
            }
            fn m32_window(
                &self,
            ) -> Result<$crate::phb::enumerate::M32Window, $crate::phb::PhbError> {
                Self::m32_window(self)
            }
        }
    };
}
pub(crate) use impl_pci_host;
