//! PCI enumeration behind a PHB4's root port: the generation-neutral walk
//! ([`crate::phb::enumerate`]) over the PHB4's config space and M32 window.

pub use crate::phb::enumerate::{
    DEVICE_BUS, M32Window, PciHost, enable_command, enumerate, setup_root_port,
};
pub use crate::phb::pci::{PciBar, PciFunction};

use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use alloc::vec::Vec;

crate::phb::enumerate::impl_pci_host!(Phb4);

impl<I: RegisterIo> Phb4<I> {
    /// The M32 window BARs are placed in ([`Phb4Error::Unsupported`] when
    /// attached: its owner placed the devices).
    pub fn m32_window(&self) -> Result<M32Window, Phb4Error> {
        let cfg = self.brought_up()?.cfg;
        Ok(M32Window {
            cpu_base: cfg.m32_cpu_base,
            pci_start: cfg.m32_pci_start,
            size: cfg.m32_size,
        })
    }

    /// Sets the root port's bus numbers (primary 0, secondary and
    /// subordinate 1) and its memory window (the whole M32 window).
    pub fn setup_root_port(&self) -> Result<(), Phb4Error> {
        setup_root_port(self)
    }

    /// Finds every function on bus 1, assigns its memory BARs inside the M32
    /// window and enables memory decoding and bus mastering on it and on the
    /// root port.
    pub fn enumerate(&mut self) -> Result<Vec<PciFunction>, Phb4Error> {
        enumerate(self)
    }
}
