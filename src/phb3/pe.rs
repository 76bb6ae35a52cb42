//! PHB3 partitionable endpoints: the RTT in memory and the EEH freeze state.
//!
//! Same rules as PHB4 ([`crate::phb4::pe`]): one big-endian u16 PE per RID,
//! unmapped RIDs on the reserved PE (255), an `RTC_INVALIDATE` after every
//! change. PHB3 has one more reason to keep every entry below 256: an RTE
//! of 256 or more makes the PHB fail the requester's DMA.

use super::Phb3;
use super::regs::*;
use crate::mmio::RegisterIo;
use crate::phb::PhbError;
use crate::phb::pe::{FreezeState, RidMatch};
use crate::phb4::RTT_SIZE;

impl<I: RegisterIo> Phb3<I> {
    pub(crate) fn rtt_reset(&mut self) -> Result<(), PhbError> {
        let reserved = self.reserved_pe() as u16;
        let rtt = &mut self.tables_mut()?.rtt;
        for off in (0..RTT_SIZE).step_by(2) {
            rtt.write_be16(off, reserved);
        }
        Ok(())
    }

    /// The PE the RTT gives `rid` (`None` when attached).
    pub fn rtt_entry(&self, rid: u16) -> Option<u16> {
        Some(self.tables().ok()?.rtt.read_be16(2 * rid as u64))
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
        let pe = self.check_pe(pe)?;
        let value = if map { pe } else { self.reserved_pe() } as u16;
        let mask = rule.mask();
        let mut count = 0;
        let rtt = &mut self.tables_mut()?.rtt;
        for r in 0..=u16::MAX {
            if r & mask == rid & mask {
                rtt.write_be16(2 * r as u64, value);
                count += 1;
            }
        }
        self.io.barrier();
        self.io
            .write_be64(self.reg(PHB_RTC_INVALIDATE), PHB_RTC_INVALIDATE_ALL);
        Ok(count)
    }

    /// The freeze state of `pe`.
    pub fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        Ok(self.freeze[self.check_pe(pe)? as usize])
    }

    /// Freezes MMIO and/or DMA of `pe`; a DMA freeze invalidates its TVEs.
    /// [`PhbError::Unsupported`] on an attached PHB.
    pub fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        let pe = self.check_pe(pe)?;
        self.tables()?;
        let st = &mut self.freeze[pe as usize];
        st.mmio |= mmio;
        let newly_dma = dma && !st.dma;
        st.dma |= dma;
        if newly_dma {
            self.write_pe_tves(pe)?;
        }
        Ok(())
    }

    /// Clears the MMIO and/or DMA freeze of `pe`; a DMA thaw restores its TVEs.
    /// [`PhbError::Unsupported`] on an attached PHB.
    pub fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        let pe = self.check_pe(pe)?;
        self.tables()?;
        let st = &mut self.freeze[pe as usize];
        if mmio {
            st.mmio = false;
        }
        let thaw = dma && st.dma;
        if dma {
            st.dma = false;
        }
        if thaw {
            self.write_pe_tves(pe)?;
        }
        Ok(())
    }

    fn write_pe_tves(&mut self, pe: u32) -> Result<(), PhbError> {
        for w in [2 * pe, 2 * pe + 1] {
            self.ioda_write(Ioda2Table::Tvt, w, self.tve_hw_value(w));
        }
        self.kill_pe(pe as u64)
    }
}
