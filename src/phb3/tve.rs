//! PHB3 TVEs. The translated form is the IODA2/IODA3 layout
//! ([`crate::phb::tve`]) with PHB3's page sizes; the bypass form is
//! PHB3's own (`DESIGN.md` §12).
//!
//! QEMU's PHB3 does not check the IOMMU page size, and ignores a bypass
//! TVE's range fields: the firmware checks both (as skiboot does), so a
//! caller gets the same answer on the model as on hardware.

use crate::phb::regs::ppc_bit;
use crate::phb::tve::{
    BypassTve, DecodedTve, bypass_range_fields, decode_bypass_range, decode_translated,
};

/// Set in every PHB3 bypass TVE (IBM bit 51); with the page-size field 0
/// it makes the window untranslated.
pub const IODA2_TVT_NON_TRANSLATE: u64 = ppc_bit(51);
/// The page-size field of a TVE (0 = untranslated).
const PAGE_SIZE_FIELD: u64 = 0x1f;

/// IOMMU page sizes PHB3 supports (skiboot's list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Phb3PageSize {
    /// 4 KiB.
    Size4K = 12,
    /// 64 KiB.
    Size64K = 16,
    /// 16 MiB.
    Size16M = 24,
    /// 256 MiB.
    Size256M = 28,
}

impl Phb3PageSize {
    /// Every supported size, smallest first.
    pub const ALL: [Phb3PageSize; 4] = [
        Phb3PageSize::Size4K,
        Phb3PageSize::Size64K,
        Phb3PageSize::Size16M,
        Phb3PageSize::Size256M,
    ];

    /// The size of `1 << shift` bytes, if PHB3 supports it.
    pub const fn from_shift(shift: u32) -> Option<Phb3PageSize> {
        match shift {
            12 => Some(Phb3PageSize::Size4K),
            16 => Some(Phb3PageSize::Size64K),
            24 => Some(Phb3PageSize::Size16M),
            28 => Some(Phb3PageSize::Size256M),
            _ => None,
        }
    }

    /// The supported sizes as a mask with bit `shift` set for each.
    pub const fn mask() -> u64 {
        (1 << 12) | (1 << 16) | (1 << 24) | (1 << 28)
    }

    /// log2 of the size.
    pub const fn shift(self) -> u32 {
        self as u32
    }

    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        1 << self.shift()
    }
}

/// The PHB3 TVE of a checked bypass range: the shared range fields (which
/// QEMU ignores but hardware honours) with [`IODA2_TVT_NON_TRANSLATE`],
/// without PHB4's 50-bit non-translate mode bit. The range rules (16 MiB
/// granules, end below 2^50, slot parity) are the shared ones
/// ([`BypassTve::new`]), as skiboot's PHB3 code has them.
pub const fn encode_bypass(range: &BypassTve) -> u64 {
    let (start, end) = range.range();
    bypass_range_fields(start, end) | IODA2_TVT_NON_TRANSLATE
}

/// Decodes a PHB3 TVE.
pub const fn decode(tve: u64) -> DecodedTve {
    if tve & PAGE_SIZE_FIELD == 0 && tve & IODA2_TVT_NON_TRANSLATE != 0 {
        let (start, end) = decode_bypass_range(tve);
        return DecodedTve::Bypass { start, end };
    }
    match decode_translated(tve) {
        Some(t) => DecodedTve::Translated(t),
        None => DecodedTve::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        for p in Phb3PageSize::ALL {
            assert_eq!(Phb3PageSize::from_shift(p.shift()), Some(p));
            assert_ne!(Phb3PageSize::mask() & (1 << p.shift()), 0);
        }
        assert_eq!(Phb3PageSize::from_shift(21), None); // PHB4's 2M
        assert_eq!(Phb3PageSize::from_shift(30), None); // PHB4's 1G
        assert_eq!(Phb3PageSize::Size16M.bytes(), 0x100_0000);
    }

    #[test]
    fn bypass_value_and_decode() {
        // [0, 1 GiB): end bits 47..24 = 0x40 at 39..16, IBM bit 51 = 0x1000.
        let b = BypassTve::new(0, 0, 1 << 30).unwrap();
        assert_eq!(encode_bypass(&b), 0x0000_0000_0040_1000);
        assert_eq!(
            decode(encode_bypass(&b)),
            DecodedTve::Bypass {
                start: 0,
                end: 1 << 30
            }
        );
        let b = BypassTve::new(1, 1 << 59, 1 << 30).unwrap();
        assert_eq!(encode_bypass(&b) & PAGE_SIZE_FIELD, 0);
        assert_eq!(decode(0), DecodedTve::Invalid);
    }
}
