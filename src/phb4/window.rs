//! DMA windows: each PE has two TVE slots, selected by PCI address bit 59.
//! Slot 0 starts at 0 and serves 32-bit DMA; slot 1 starts at
//! [`SLOT1_START`].
//!
//! A window is a TCE table (translated) or a bypass range programmed into a
//! TVE. Every argument is checked before any register is written; the
//! logic is the one every generation shares ([`crate::phb::ioda`]).

use super::regs::M32_PCI_START;
use super::tve::{self, BypassTve, DecodedTve, PageSize, TranslatedTve};
use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;
use crate::phb::{DmaWindow, PhbCapabilities, SLOT1_START};

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

    /// The TVE value firmware holds for `slot` of `pe`.
    pub fn tve(&self, pe: u64, slot: u32) -> Result<u64, Phb4Error> {
        self.slot_tve(pe, slot)
    }

    /// Sets `slot` of `pe` to `window`; a slot held by a shared table is
    /// refused. Kills the PE's TCE cache if a valid TVE is replaced.
    pub fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), Phb4Error> {
        self.set_slot(pe, slot, window)
    }

    /// Sets `slot` of `pe` to the TCE table `table`.
    pub fn map_translated(
        &mut self,
        pe: u64,
        slot: u32,
        table: &TranslatedTve,
    ) -> Result<(), Phb4Error> {
        self.set_slot(pe, slot, &DmaWindow::Translated(*table))
    }

    /// Sets `slot` of `pe` to an untranslated range.
    pub fn map_bypass(&mut self, pe: u64, slot: u32, range: &BypassTve) -> Result<(), Phb4Error> {
        self.set_slot(pe, slot, &DmaWindow::from(*range))
    }

    /// Disables `slot` of `pe` (TVE = 0) and kills the PE's TCE cache if the
    /// window was valid.
    pub fn unmap_window(&mut self, pe: u64, slot: u32) -> Result<(), Phb4Error> {
        self.set_slot(pe, slot, &DmaWindow::Off)
    }

    /// Whether `slot` of `pe` is held by a shared table.
    pub fn window_is_shared(&self, pe: u64, slot: u32) -> Result<bool, Phb4Error> {
        self.slot_shared(pe, slot)
    }
}
