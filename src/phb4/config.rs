//! PCI configuration space behind a PHB4.
//!
//! - The root port (bus 0, devfn 0) is memory mapped at `regs + 0x1000`,
//!   0x800 bytes, 4-byte little-endian accesses only; narrower accesses are
//!   done as read-modify-write of the containing dword.
//! - Every other function is reached indirectly: `CONFIG_ADDRESS` selects
//!   bus/devfn/dword, then `CONFIG_DATA + (offset & 3)` is accessed with a
//!   1-, 2- or 4-byte little-endian access. An 8-byte access to CONFIG_DATA
//!   is never issued (it aborts QEMU).

pub use crate::phb::pci::Bdf;

use super::regs::*;
use super::{Phb4, Phb4Error};
use crate::mmio::{Endian, RegisterIo, Width};

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

impl<I: RegisterIo> Phb4<I> {
    fn check_cfg(bdf: Bdf, offset: u16, width: Width) -> Result<(), Phb4Error> {
        let bytes = width.bytes() as u16;
        if width == Width::W64 || !offset.is_multiple_of(bytes) || offset >= 0x1000 {
            return Err(Phb4Error::Parameter);
        }
        if bdf.bus == 0 && bdf.devfn != 0 {
            return Err(Phb4Error::NoDevice);
        }
        if bdf == Bdf::ROOT_PORT && offset as u64 >= PHB_RC_CONFIG_SIZE {
            return Err(Phb4Error::Parameter);
        }
        Ok(())
    }

    /// Reads `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    pub fn config_read(&self, bdf: Bdf, offset: u16, width: Width) -> Result<u32, Phb4Error> {
        Self::check_cfg(bdf, offset, width)?;
        if bdf == Bdf::ROOT_PORT {
            let dword = self
                .io
                .read_le32(self.reg(PHB_RC_CONFIG_BASE + (offset & !3) as u64));
            let shift = (offset & 3) * 8;
            return Ok((dword >> shift) & width.mask() as u32);
        }
        self.io.write_be64(
            self.reg(PHB_CONFIG_ADDRESS),
            config_address(bdf.bus, bdf.devfn, offset),
        );
        let data = self.reg(PHB_CONFIG_DATA + (offset & 3) as u64);
        Ok(self.io.read(data, width, Endian::Little) as u32)
    }

    /// Writes `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    pub fn config_write(
        &self,
        bdf: Bdf,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), Phb4Error> {
        Self::check_cfg(bdf, offset, width)?;
        let value = value & width.mask() as u32;
        if bdf == Bdf::ROOT_PORT {
            let addr = self.reg(PHB_RC_CONFIG_BASE + (offset & !3) as u64);
            let dword = if width == Width::W32 {
                value
            } else {
                let shift = (offset & 3) * 8;
                let mask = (width.mask() as u32) << shift;
                (self.io.read_le32(addr) & !mask) | (value << shift)
            };
            self.io.write_le32(addr, dword);
            return Ok(());
        }
        self.io.write_be64(
            self.reg(PHB_CONFIG_ADDRESS),
            config_address(bdf.bus, bdf.devfn, offset),
        );
        let data = self.reg(PHB_CONFIG_DATA + (offset & 3) as u64);
        self.io.write(data, width, Endian::Little, value as u64);
        Ok(())
    }

    /// 16-bit config read.
    pub fn config_read16(&self, bdf: Bdf, offset: u16) -> Result<u16, Phb4Error> {
        self.config_read(bdf, offset, Width::W16).map(|v| v as u16)
    }

    /// 32-bit config read.
    pub fn config_read32(&self, bdf: Bdf, offset: u16) -> Result<u32, Phb4Error> {
        self.config_read(bdf, offset, Width::W32)
    }

    /// 16-bit config write.
    pub fn config_write16(&self, bdf: Bdf, offset: u16, value: u16) -> Result<(), Phb4Error> {
        self.config_write(bdf, offset, Width::W16, value as u32)
    }

    /// 32-bit config write.
    pub fn config_write32(&self, bdf: Bdf, offset: u16, value: u32) -> Result<(), Phb4Error> {
        self.config_write(bdf, offset, Width::W32, value)
    }

    /// Sets bits in the COMMAND register of `bdf`.
    pub fn enable_command(&self, bdf: Bdf, bits: u16) -> Result<(), Phb4Error> {
        let cmd = self.config_read16(bdf, offsets::COMMAND)?;
        self.config_write16(bdf, offsets::COMMAND, cmd | bits)
    }
}
