//! PHB3 as the generation-neutral [`Phb`]: every call is the driver's own
//! method of the same name. On an attached PHB3, `set_pe`, freeze, the
//! DMA-state reset and enumeration return [`PhbError::Unsupported`] (the
//! owner's tables), as on an attached PHB4. OPAL's `tce_kill` is not served
//! on PHB3 ([`Phb::opal_tce_kill`] is false): skiboot has no PHB3 kill call
//! either (the OS writes the register itself); the driver's kill still
//! serves every other caller (window changes, the hypervisor).

use super::Phb3;
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;
use crate::phb::pci::PciFunction;
use crate::phb::pe::{FreezeState, RidMatch};
use crate::phb::tve::TranslatedTve;
use crate::phb::{DmaWindow, KillScope, Phb, PhbCapabilities, PhbError};
use alloc::vec::Vec;

impl<I: RegisterIo> Phb for Phb3<I> {
    fn capabilities(&self) -> PhbCapabilities {
        Phb3::capabilities(self)
    }

    fn regs_base(&self) -> u64 {
        Phb3::regs_base(self)
    }

    fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), PhbError> {
        Phb3::set_window(self, pe, slot, window)
    }

    fn tve(&self, pe: u64, slot: u32) -> Result<u64, PhbError> {
        Phb3::tve(self, pe, slot)
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

    fn opal_tce_kill(&self) -> bool {
        false
    }

    fn set_pe(&mut self, pe: u64, rid: u16, rule: RidMatch, map: bool) -> Result<u32, PhbError> {
        Phb3::set_pe(self, pe, rid, rule, map)
    }

    fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        Phb3::freeze_state(self, pe)
    }

    fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        Phb3::freeze_set(self, pe, mmio, dma)
    }

    fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        Phb3::freeze_clear(self, pe, mmio, dma)
    }

    fn reset_dma_state(&mut self) -> Result<(), PhbError> {
        self.ioda_purge()
    }

    fn enumerate(&mut self) -> Result<Vec<PciFunction>, PhbError> {
        Phb3::enumerate(self)
    }
}
