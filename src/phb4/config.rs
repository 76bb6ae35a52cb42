//! PCI configuration space behind a PHB4.
//!
//! - The root port (bus 0, devfn 0) is memory mapped at `regs + 0x1000`,
//!   0x800 bytes, 4-byte little-endian accesses only; narrower accesses are
//!   done as read-modify-write of the containing dword.
//! - Every other function is reached through `CONFIG_ADDRESS`, as on every
//!   generation ([`crate::phb::config`]).

pub use crate::phb::pci::Bdf;

use super::regs::*;
use super::{Phb4, Phb4Error};
use crate::mmio::{RegisterIo, Width};
use crate::phb::config;

pub use crate::phb::enumerate::{COMMAND_MASTER, COMMAND_MEMORY, offsets};

impl<I: RegisterIo> Phb4<I> {
    fn check_cfg(bdf: Bdf, offset: u16, width: Width) -> Result<(), Phb4Error> {
        config::check_access(bdf, offset, width)?;
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
        Ok(config::indirect_read(
            &self.io,
            self.regs_base,
            bdf,
            offset,
            width,
        ))
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
        config::indirect_write(&self.io, self.regs_base, bdf, offset, width, value);
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
