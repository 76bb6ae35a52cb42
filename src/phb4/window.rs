//! DMA windows: each PE has two TVE slots, selected by PCI address bit 59.
//! Slot 0 starts at 0 and serves 32-bit DMA; slot 1 starts at
//! [`SLOT1_START`].
//!
//! A window is a TCE table (translated) or a bypass range programmed into a
//! TVE. Every argument is checked before any register is written; the
//! logic is the one every generation shares ([`crate::phb::ioda`]).

use super::regs::M32_PCI_START;
use super::tve::{self, DecodedTve, PageSize};
use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use crate::phb::{PhbCapabilities, SLOT1_START};

impl<I: RegisterIo> Phb4<I> {
    /// Capabilities shared by every PE of this PHB.
    pub fn capabilities(&self) -> PhbCapabilities {
        PhbCapabilities {
            num_pes: self.num_pes,
            page_shifts: PageSize::mask(),
            max_levels: tve::MAX_LEVELS,
            slot_starts: [0, SLOT1_START],
            window32_size: self.config().map_or(M32_PCI_START, |c| c.m32_pci_start),
        }
    }

    /// What `slot` of `pe` currently is.
    pub fn window(&self, pe: u64, slot: u32) -> Result<DecodedTve, Phb4Error> {
        Ok(tve::decode(self.tve(pe, slot)?))
    }

    crate::phb::ioda::ioda_dma_methods!();
}
