//! Partitionable endpoints: the RID translation table (RTT) in memory and
//! the EEH freeze state.
//!
//! The RTT holds one big-endian u16 PE number per RID (`bus << 8 | devfn`);
//! RIDs nobody mapped hold the reserved PE (`num_pes - 1`). The PHB caches
//! RTT entries, so every change ends with an `RTC_INVALIDATE`.
//!
//! QEMU models no EEH freeze; firmware keeps each PE's freeze state itself
//! and makes a DMA freeze real by invalidating the PE's TVEs until cleared.

use super::regs::*;
use super::{Phb4, Phb4Error, RTT_SIZE};
use crate::mmio::RegisterIo;

/// How much of the bus number must match (`OpalPciBusCompare`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BusCompare {
    /// Any bus.
    Any = 0,
    /// Top 2 bits (reserved in OPAL; accepted as the pattern continues).
    Bits2 = 1,
    /// Top 3 bits.
    Bits3 = 2,
    /// Top 4 bits.
    Bits4 = 3,
    /// Top 5 bits.
    Bits5 = 4,
    /// Top 6 bits.
    Bits6 = 5,
    /// Top 7 bits.
    Bits7 = 6,
    /// The whole bus number.
    All = 7,
}

impl BusCompare {
    /// From the OPAL argument (0..=7).
    pub const fn from_raw(v: u8) -> Option<BusCompare> {
        Some(match v {
            0 => BusCompare::Any,
            1 => BusCompare::Bits2,
            2 => BusCompare::Bits3,
            3 => BusCompare::Bits4,
            4 => BusCompare::Bits5,
            5 => BusCompare::Bits6,
            6 => BusCompare::Bits7,
            7 => BusCompare::All,
            _ => return None,
        })
    }
}

/// Which RIDs `set_pe` touches: those equal to the given RID under this mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RidMatch {
    /// Bus bits that must match.
    pub bus: BusCompare,
    /// Device number must match.
    pub device: bool,
    /// Function number must match.
    pub function: bool,
}

impl RidMatch {
    /// Exactly one RID.
    pub const EXACT: RidMatch = RidMatch {
        bus: BusCompare::All,
        device: true,
        function: true,
    };

    /// The RID bits compared.
    pub const fn mask(self) -> u16 {
        let b = self.bus as u16;
        let mut mask = if b == 0 {
            0
        } else {
            ((1u16 << (b + 1)) - 1) << (15 - b)
        };
        if self.device {
            mask |= 0xf8;
        }
        if self.function {
            mask |= 0x7;
        }
        mask
    }
}

/// A PE's EEH freeze state as firmware keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreezeState {
    /// MMIO to the PE is stopped.
    pub mmio: bool,
    /// DMA from the PE is stopped (its TVEs are invalid in hardware).
    pub dma: bool,
}

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
            self.ioda_write(IodaTable::Tvt, w, self.tve_hw_value(w));
        }
        self.kill_pe(pe as u64)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_masks() {
        assert_eq!(RidMatch::EXACT.mask(), 0xffff);
        let any = RidMatch {
            bus: BusCompare::Any,
            device: false,
            function: false,
        };
        assert_eq!(any.mask(), 0);
        let bus3 = RidMatch {
            bus: BusCompare::Bits3,
            device: false,
            function: false,
        };
        assert_eq!(bus3.mask(), 0xe000);
        let bus_dev = RidMatch {
            bus: BusCompare::All,
            device: true,
            function: false,
        };
        assert_eq!(bus_dev.mask(), 0xfff8);
        assert_eq!(BusCompare::from_raw(8), None);
    }
}
