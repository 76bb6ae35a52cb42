//! PCI configuration space behind a PHB3.
//!
//! Every function, the root port included (bus 0, devfn 0), is reached
//! through `CONFIG_ADDRESS` ([`crate::phb::config`]); PHB3 has no
//! memory-mapped root-port config space (its register window is only
//! 4 KiB).

use super::M32_PCI_START;
use super::Phb3;
use crate::mmio::{RegisterIo, Width};
use crate::phb::PhbError;
use crate::phb::config;
use crate::phb::enumerate::M32Window;
use crate::phb::ioda::IodaDma;
use crate::phb::pci::Bdf;
use crate::phb::pci::PciFunction;

impl<I: RegisterIo> Phb3<I> {
    /// Reads `width` (1, 2 or 4 bytes) at `offset` of `bdf`'s config space.
    pub fn config_read(&self, bdf: Bdf, offset: u16, width: Width) -> Result<u32, PhbError> {
        config::check_access(bdf, offset, width)?;
        Ok(config::indirect_read(
            &self.io,
            self.regs_base(),
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
    ) -> Result<(), PhbError> {
        config::check_access(bdf, offset, width)?;
        config::indirect_write(&self.io, self.regs_base(), bdf, offset, width, value);
        Ok(())
    }

    /// The M32 window BARs are placed in ([`PhbError::Unsupported`] when
    /// attached: its owner placed the devices).
    pub fn m32_window(&self) -> Result<M32Window, PhbError> {
        self.check_owned()?;
        Ok(M32Window {
            cpu_base: self.m32.base,
            pci_start: M32_PCI_START,
            size: self.m32.size,
        })
    }

    /// Finds every function behind the root port, assigns its memory BARs
    /// in the M32 window and enables memory and bus mastering
    /// ([`crate::phb::enumerate::enumerate`]); [`PhbError::Unsupported`]
    /// on an attached PHB (its owner placed the devices).
    pub fn enumerate(&mut self) -> Result<alloc::vec::Vec<PciFunction>, PhbError> {
        crate::phb::enumerate::enumerate(self)
    }
}

crate::phb::enumerate::impl_pci_host!(Phb3);
