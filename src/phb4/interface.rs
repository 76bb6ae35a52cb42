//! PHB4 as the generation-neutral [`Phb`]: every call is the driver's own
//! method of the same name; `set_pe`, freeze, the DMA-state reset and
//! enumeration need the tables a bring-up owns and return
//! [`PhbError::Unsupported`] on an attached PHB.

use super::Phb4;
use super::enumerate::PciFunction;
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;
use crate::phb::pe::{FreezeState, RidMatch};
use crate::phb::tve::TranslatedTve;
use crate::phb::{DmaWindow, KillScope, Phb, PhbCapabilities, PhbError};
use alloc::vec::Vec;

impl<I: RegisterIo> Phb for Phb4<I> {
    fn capabilities(&self) -> PhbCapabilities {
        Phb4::capabilities(self)
    }

    fn regs_base(&self) -> u64 {
        Phb4::regs_base(self)
    }

    fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), PhbError> {
        Phb4::set_window(self, pe, slot, window)
    }

    fn tve(&self, pe: u64, slot: u32) -> Result<u64, PhbError> {
        Phb4::tve(self, pe, slot)
    }

    fn slot_is_shared(&self, pe: u64, slot: u32) -> Result<bool, PhbError> {
        self.window_is_shared(pe, slot)
    }

    fn set_shared_slot(
        &mut self,
        pe: u64,
        slot: u32,
        table: Option<&TranslatedTve>,
    ) -> Result<(), PhbError> {
        self.set_shared_table(pe, slot, table)
    }

    fn kill(&self, scope: KillScope) -> Result<(), PhbError> {
        self.tce_kill(scope)
    }

    fn set_pe(&mut self, pe: u64, rid: u16, rule: RidMatch, map: bool) -> Result<u32, PhbError> {
        Phb4::set_pe(self, pe, rid, rule, map)
    }

    fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        Phb4::freeze_state(self, pe)
    }

    fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        Phb4::freeze_set(self, pe, mmio, dma)
    }

    fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        Phb4::freeze_clear(self, pe, mmio, dma)
    }

    fn reset_dma_state(&mut self) -> Result<(), PhbError> {
        self.ioda_purge()
    }

    fn enumerate(&mut self) -> Result<Vec<PciFunction>, PhbError> {
        Phb4::enumerate(self)
    }
}
