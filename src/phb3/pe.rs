//! PHB3 partitionable endpoints: the RTT in memory and the EEH freeze state.
//!
//! The rules and the logic are every generation's ([`crate::phb::ioda`]):
//! one big-endian u16 PE per RID, unmapped RIDs on the reserved PE (255),
//! an `RTC_INVALIDATE` after every change. PHB3 has one more reason to keep
//! every entry below 256: an RTE of 256 or more makes the PHB fail the
//! requester's DMA.

use super::Phb3;
use super::regs::*;
use super::tve::{self, Phb3PageSize};
use crate::mmio::RegisterIo;
use crate::phb::PhbError;
use crate::phb::dmamem::DmaRegion;
use crate::phb::ioda::{IodaDma, PeDmaState};
use crate::phb::pe::{FreezeState, RidMatch};
use crate::phb4::tve::BypassTve;

impl<I: RegisterIo> Phb3<I> {
    /// The PE the RTT gives `rid` (`None` when attached).
    pub fn rtt_entry(&self, rid: u16) -> Option<u16> {
        self.rtt_pe(rid)
    }

    /// Maps every RID that equals `rid` under `rule` to `pe` (or, with
    /// `map == false`, back to the reserved PE), then invalidates the RID
    /// cache. Returns the number of RTT entries written.
    /// [`PhbError::Unsupported`] on an attached PHB (its RTT is the owner's).
    pub fn set_pe(
        &mut self,
        pe: u64,
        rid: u16,
        rule: RidMatch,
        map: bool,
    ) -> Result<u32, PhbError> {
        self.map_rids(pe, rid, rule, map)
    }

    /// The freeze state of `pe` (on an attached PHB3 too: never frozen).
    pub fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        self.pe_freeze_state(pe)
    }

    /// Freezes MMIO and/or DMA of `pe`; a DMA freeze invalidates its TVEs.
    /// [`PhbError::Unsupported`] on an attached PHB.
    pub fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        self.freeze_pe(pe, mmio, dma)
    }

    /// Clears the MMIO and/or DMA freeze of `pe`; a DMA thaw restores its TVEs.
    /// [`PhbError::Unsupported`] on an attached PHB.
    pub fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        self.thaw_pe(pe, mmio, dma)
    }
}

/// PHB3's steps under the DMA logic every generation shares.
impl<I: RegisterIo> IodaDma for Phb3<I> {
    fn pe_dma(&self) -> &PeDmaState {
        &self.pes
    }
    fn pe_dma_mut(&mut self) -> &mut PeDmaState {
        &mut self.pes
    }
    fn rtt(&self) -> Option<&DmaRegion> {
        self.owned.as_ref().map(|t| &t.rtt)
    }
    fn rtt_mut(&mut self) -> Option<&mut DmaRegion> {
        self.owned.as_mut().map(|t| &mut t.rtt)
    }
    fn write_tvt_entry(&self, w: u32, value: u64) {
        self.ioda_write(Ioda2Table::Tvt, w, value);
    }
    fn kill_pe_tces(&self, pe: u64) -> Result<(), PhbError> {
        self.kill_pe(pe)
    }
    fn invalidate_rid_cache(&self) {
        self.io.barrier();
        self.io
            .write_be64(self.reg(PHB_RTC_INVALIDATE), PHB_RTC_INVALIDATE_ALL);
    }
    fn supports_page(&self, page_shift: u32) -> bool {
        Phb3PageSize::from_shift(page_shift).is_some()
    }
    fn bypass_tve(&self, range: &BypassTve) -> u64 {
        tve::encode_bypass(range)
    }
}
