//! Partitionable endpoints: the RID translation table (RTT) in memory and
//! the EEH freeze state.
//!
//! The RTT holds one big-endian u16 PE number per RID (`bus << 8 | devfn`);
//! RIDs nobody mapped hold the reserved PE (`num_pes - 1`). The PHB caches
//! RTT entries, so every change ends with an `RTC_INVALIDATE`.
//!
//! QEMU models no EEH freeze; firmware keeps each PE's freeze state itself
//! and makes a DMA freeze real by invalidating the PE's TVEs until cleared.

pub use crate::phb::pe::{BusCompare, FreezeState, RidMatch};

use super::regs::*;
use super::{Phb4, Phb4Error, RTT_SIZE};
use crate::mmio::RegisterIo;

impl<I: RegisterIo> Phb4<I> {
    pub(crate) fn rtt_reset(&mut self) -> Result<(), Phb4Error> {
        let reserved = self.reserved_pe() as u16;
        let rtt = &mut self.brought_up_mut()?.rtt;
        for off in (0..RTT_SIZE).step_by(2) {
            rtt.write_be16(off, reserved);
        }
        Ok(())
    }

    /// The PE the RTT gives `rid` (`None` if attached: the owner's RTT).
    pub fn rtt_entry(&self, rid: u16) -> Option<u16> {
        let rtt = &self.owned.as_ref()?.rtt;
        Some(rtt.read_be16(2 * rid as u64))
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
        let pe = self.check_pe(pe)?;
        let value = if map { pe } else { self.reserved_pe() } as u16;
        let mask = rule.mask();
        let rtt = &mut self.brought_up_mut()?.rtt;
        let mut count = 0;
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

    /// The freeze state of `pe`. Freeze state is kept by the firmware that
    /// brought the PHB up: [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_state(&self, pe: u64) -> Result<FreezeState, Phb4Error> {
        let pe = self.check_pe(pe)?;
        self.brought_up()?;
        Ok(self.freeze[pe as usize])
    }

    /// Freezes MMIO and/or DMA of `pe` (what hardware does on an error; used
    /// by tests and error injection). A DMA freeze invalidates the PE's TVEs.
    /// [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), Phb4Error> {
        let pe = self.check_pe(pe)?;
        self.brought_up()?;
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
    /// [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), Phb4Error> {
        let pe = self.check_pe(pe)?;
        self.brought_up()?;
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

    /// Writes both hardware TVEs of `pe` from firmware's state and kills the
    /// PE's TCE cache.
    fn write_pe_tves(&mut self, pe: u32) -> Result<(), Phb4Error> {
        for w in [2 * pe, 2 * pe + 1] {
            // TVT index of slot 0 and 1 of `pe` (checked by the caller).
            self.ioda_write(IodaTable::Tvt, w, self.tve_hw_value(w));
        }
        self.kill_pe(pe as u64)?;
        Ok(())
    }
}
