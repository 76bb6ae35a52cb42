//! RID→PE rules (`set_pe`) and EEH freeze state, as OPAL names them on
//! every PHB generation.

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
