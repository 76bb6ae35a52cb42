//! PCI configuration space behind a PHB3.
//!
//! Every function, the root port included (bus 0, devfn 0), is reached
//! through `CONFIG_ADDRESS` then a 1-, 2- or 4-byte little-endian access at
//! `CONFIG_DATA + (offset & 3)`; PHB3 has no memory-mapped root-port
//! config space (its register window is only 4 KiB). An 8-byte access to
//! CONFIG_DATA is never issued.

use super::M32_PCI_START;
use super::Phb3;
use super::regs::*;
use crate::mmio::{Endian, RegisterIo, Width};
use crate::phb::PhbError;
use crate::phb::enumerate::{M32Window, PciHost};
use crate::phb::ioda::IodaDma;
use crate::phb::pci::Bdf;
use crate::phb::pci::PciFunction;

impl<I: RegisterIo> Phb3<I> {
    fn check_cfg(bdf: Bdf, offset: u16, width: Width) -> Result<(), PhbError> {
        let bytes = width.bytes() as u16;
        if width == Width::W64 || !offset.is_multiple_of(bytes) || offset >= 0x1000 {
            return Err(PhbError::Parameter);
        }
        if bdf.bus == 0 && bdf.devfn != 0 {
            return Err(PhbError::NoDevice);
        }
        Ok(())
    }

    fn select(&self, bdf: Bdf, offset: u16) -> u64 {
        self.io.write_be64(
            self.reg(PHB_CONFIG_ADDRESS),
            config_address(bdf.bus, bdf.devfn, offset),
        );
        self.reg(PHB_CONFIG_DATA + (offset & 3) as u64)
    }

    /// Reads `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    pub fn config_read(&self, bdf: Bdf, offset: u16, width: Width) -> Result<u32, PhbError> {
        Self::check_cfg(bdf, offset, width)?;
        let data = self.select(bdf, offset);
        Ok(self.io.read(data, width, Endian::Little) as u32)
    }

    /// Writes `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    pub fn config_write(
        &self,
        bdf: Bdf,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), PhbError> {
        Self::check_cfg(bdf, offset, width)?;
        let data = self.select(bdf, offset);
        self.io.write(
            data,
            width,
            Endian::Little,
            (value & width.mask() as u32) as u64,
        );
        Ok(())
    }

    /// Finds every function behind the root port, assigns its memory BARs
    /// in the M32 window and enables memory and bus mastering
    /// ([`crate::phb::enumerate::enumerate`]); [`PhbError::Unsupported`]
    /// on an attached PHB (its owner placed the devices).
    pub fn enumerate(&mut self) -> Result<alloc::vec::Vec<PciFunction>, PhbError> {
        crate::phb::enumerate::enumerate(self)
    }
}

impl<I: RegisterIo> PciHost for Phb3<I> {
    fn config_read(&self, bdf: Bdf, offset: u16, width: Width) -> Result<u32, PhbError> {
        Phb3::config_read(self, bdf, offset, width)
    }
    fn config_write(
        &self,
        bdf: Bdf,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), PhbError> {
        Phb3::config_write(self, bdf, offset, width, value)
    }
    fn m32_window(&self) -> Result<M32Window, PhbError> {
        self.check_owned()?;
        Ok(M32Window {
            cpu_base: self.m32.base,
            pci_start: M32_PCI_START,
            size: self.m32.size,
        })
    }
}
