//! Partitionable endpoints: the RID translation table (RTT) in memory and
//! the EEH freeze state, with the logic every generation shares
//! ([`crate::phb::ioda`]).

pub use crate::phb::pe::{BusCompare, FreezeState, RidMatch};

use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;

impl<I: RegisterIo> Phb4<I> {
    /// The PE the RTT gives `rid` (`None` if attached: the owner's RTT).
    pub fn rtt_entry(&self, rid: u16) -> Option<u16> {
        self.rtt_pe(rid)
    }

    /// Maps every RID that equals `rid` under `rule` to `pe` (or, with
    /// `map == false`, back to the reserved PE), then invalidates the RID
    /// cache. Returns the number of RTT entries written.
    /// [`Phb4Error::Unsupported`] on an attached PHB (its RTT is the owner's).
    pub fn set_pe(
        &mut self,
        pe: u64,
        rid: u16,
        rule: RidMatch,
        map: bool,
    ) -> Result<u32, Phb4Error> {
        self.map_rids(pe, rid, rule, map)
    }

    /// The freeze state of `pe`. Freeze state is kept by the firmware that
    /// brought the PHB up: [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_state(&self, pe: u64) -> Result<FreezeState, Phb4Error> {
        let state = self.pe_freeze_state(pe)?;
        self.check_owned()?;
        Ok(state)
    }

    /// Freezes MMIO and/or DMA of `pe` (what hardware does on an error; used
    /// by tests and error injection). A DMA freeze invalidates the PE's TVEs.
    /// [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), Phb4Error> {
        self.freeze_pe(pe, mmio, dma)
    }

    /// Clears the MMIO and/or DMA freeze of `pe`; a DMA thaw restores its TVEs.
    /// [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), Phb4Error> {
        self.thaw_pe(pe, mmio, dma)
    }
}
