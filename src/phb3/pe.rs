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
use crate::phb::ioda::{DmaTables, IodaDma, PeDmaState};
use crate::phb::pe::FreezeState;
use crate::phb::tve::BypassTve;

impl<I: RegisterIo> Phb3<I> {
    /// The freeze state of `pe` (on an attached PHB3 too: never frozen).
    pub fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        self.pe_freeze_state(pe)
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
    fn dma_tables(&self) -> Option<&DmaTables> {
        self.owned.as_ref()
    }
    fn dma_tables_mut(&mut self) -> Option<&mut DmaTables> {
        self.owned.as_mut()
    }
    type Io = I;
    fn registers(&self) -> (&I, u64) {
        (&self.io, self.bars.regs)
    }
    fn tvt_select(&self, w: u32) -> u64 {
        ioda2_addr(Ioda2Table::Tvt, w, false)
    }
    fn kill_pe_tces(&self, pe: u64) -> Result<(), PhbError> {
        self.kill_pe(pe)
    }
    fn supports_page(&self, page_shift: u32) -> bool {
        Phb3PageSize::from_shift(page_shift).is_some()
    }
    fn bypass_tve(&self, range: &BypassTve) -> u64 {
        tve::encode_bypass(range)
    }
}
