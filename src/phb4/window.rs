//! DMA windows: each PE has two TVE slots, selected by PCI address bit 59.
//! Slot 0 starts at 0 and serves 32-bit DMA; slot 1 starts at
//! [`SLOT1_START`].
//!
//! A window is a TCE table (translated) or a bypass range programmed into a
//! TVE. Every argument is checked before any register is written.

use super::regs::{IodaTable, M32_PCI_START};
use super::tve::{self, BypassTve, DecodedTve, PageSize, TranslatedTve};
use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use crate::phb::{DmaWindow, PhbCapabilities, SLOT1_START, SLOTS_PER_PE};

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

    /// The TVE value hardware should hold for TVT index `w` (0 while the
    /// PE's DMA is frozen).
    pub(crate) fn tve_hw_value(&self, w: u32) -> u64 {
        if self.freeze[(w / SLOTS_PER_PE) as usize].dma {
            0
        } else {
            self.tves.tve(w)
        }
    }

    /// What `slot` of `pe` currently is.
    pub fn window(&self, pe: u64, slot: u32) -> Result<DecodedTve, Phb4Error> {
        Ok(tve::decode(self.tve(pe, slot)?))
    }

    /// The TVE value firmware holds for `slot` of `pe`.
    pub fn tve(&self, pe: u64, slot: u32) -> Result<u64, Phb4Error> {
        Ok(self.tves.tve(self.tves.index(pe, slot)?))
    }

    /// Writes TVE `w`; if a valid TVE is replaced, kills the PE's TCE cache.
    pub(crate) fn write_tve(&mut self, w: u32, value: u64, shared: bool) -> Result<(), Phb4Error> {
        let old = self.tves.set(w, value, shared);
        self.ioda_write(IodaTable::Tvt, w, self.tve_hw_value(w));
        if old != 0 {
            self.kill_pe((w / SLOTS_PER_PE) as u64)?;
        }
        Ok(())
    }

    /// The TVE value for `window` in `slot`, checked against what PHB4
    /// supports; nothing is written.
    pub(crate) fn encode_window(&self, slot: u32, window: &DmaWindow) -> Result<u64, Phb4Error> {
        Ok(match *window {
            DmaWindow::Off => 0,
            DmaWindow::Translated(t) => {
                if PageSize::from_shift(t.page_shift).is_none() {
                    return Err(tve::TveError::PageSize.into());
                }
                t.encode()
            }
            DmaWindow::Bypass { pci_start, size } => {
                BypassTve::new(slot, pci_start, size)?.encode()
            }
        })
    }

    /// Sets `slot` of `pe` to `window`; a slot held by a shared table is
    /// refused. Kills the PE's TCE cache if a valid TVE is replaced.
    pub fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), Phb4Error> {
        let w = self.tves.index(pe, slot)?;
        let value = self.encode_window(slot, window)?;
        if self.tves.is_shared(w) {
            return Err(Phb4Error::WindowShared);
        }
        self.write_tve(w, value, false)
    }

    /// Sets `slot` of `pe` to the TCE table `table`.
    pub fn map_translated(
        &mut self,
        pe: u64,
        slot: u32,
        table: &TranslatedTve,
    ) -> Result<(), Phb4Error> {
        self.set_window(pe, slot, &DmaWindow::Translated(*table))
    }

    /// Sets `slot` of `pe` to an untranslated range.
    pub fn map_bypass(&mut self, pe: u64, slot: u32, range: &BypassTve) -> Result<(), Phb4Error> {
        let window = DmaWindow::Bypass {
            pci_start: range.pci_start,
            size: range.size,
        };
        self.set_window(pe, slot, &window)
    }

    /// Disables `slot` of `pe` (TVE = 0) and kills the PE's TCE cache if the
    /// window was valid.
    pub fn unmap_window(&mut self, pe: u64, slot: u32) -> Result<(), Phb4Error> {
        self.set_window(pe, slot, &DmaWindow::Off)
    }

    /// Whether `slot` of `pe` is held by a shared table.
    pub fn window_is_shared(&self, pe: u64, slot: u32) -> Result<bool, Phb4Error> {
        Ok(self.tves.is_shared(self.tves.index(pe, slot)?))
    }
}
