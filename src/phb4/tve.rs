//! IODA3 (PHB4) translation validation entries: the page sizes PHB4
//! supports, the bypass TVE's mode bits and the decoder. The translated
//! TVE, the bypass range rules and address fields, which PHB3 shares, are
//! [`crate::phb::tve`].
//!
//! Bypass TVE (untranslated range, PHB4 "non-translate 50-bit" mode): the
//! shared address fields ([`crate::phb::tve::bypass_range_fields`]) plus
//! bit 12 and the NON_TRANSLATE_50 bit (IBM bit 56 = bit 7).

use super::regs::ppc_bit;
pub use crate::phb::WINDOW_SELECT_SHIFT;
pub use crate::phb::tve::{
    BYPASS_ALIGN, BYPASS_LIMIT, BypassTve, DecodedTve, MAX_LEVELS, MIN_LEVEL_BYTES, TranslatedTve,
    TveError,
};
use crate::phb::tve::{bypass_range_fields, decode_bypass_range, decode_translated};

/// Bit set in every bypass TVE besides the address fields (IBM bit 51).
pub const IODA3_TVT_BYPASS_VALID: u64 = ppc_bit(51);
/// Untranslated, 50-bit bypass mode (IBM bit 56).
pub const IODA3_TVT_NON_TRANSLATE_50: u64 = ppc_bit(56);

/// IOMMU page sizes PHB4 supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum PageSize {
    /// 4 KiB.
    Size4K = 12,
    /// 64 KiB.
    Size64K = 16,
    /// 2 MiB.
    Size2M = 21,
    /// 1 GiB.
    Size1G = 30,
}

impl PageSize {
    /// Every supported size, smallest first.
    pub const ALL: [PageSize; 4] = [
        PageSize::Size4K,
        PageSize::Size64K,
        PageSize::Size2M,
        PageSize::Size1G,
    ];

    /// The size of `1 << shift` bytes, if PHB4 supports it.
    pub const fn from_shift(shift: u32) -> Option<PageSize> {
        match shift {
            12 => Some(PageSize::Size4K),
            16 => Some(PageSize::Size64K),
            21 => Some(PageSize::Size2M),
            30 => Some(PageSize::Size1G),
            _ => None,
        }
    }

    /// Every supported size as a mask, bit `s` for pages of `1 << s` bytes.
    pub const fn mask() -> u64 {
        1 << 12 | 1 << 16 | 1 << 21 | 1 << 30
    }

    /// The size for a byte count, if PHB4 supports it.
    pub const fn from_bytes(bytes: u64) -> Option<PageSize> {
        match bytes {
            0x1000 => Some(PageSize::Size4K),
            0x1_0000 => Some(PageSize::Size64K),
            0x20_0000 => Some(PageSize::Size2M),
            0x4000_0000 => Some(PageSize::Size1G),
            _ => None,
        }
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

/// The page sizes a PHB4 PE offers to DDW (`ibm,query-pe-dma-window`):
/// 4K, 64K and 2M; 1G pages have no mask bit.
pub const PHB4_DDW_PAGES: u32 = crate::papr::ddw_page_mask(PageSize::mask());

/// Raw bypass TVE for `[start, end)`, addresses already stripped of bit 59.
pub const fn encode_bypass(start: u64, end: u64) -> u64 {
    bypass_range_fields(start, end) | IODA3_TVT_BYPASS_VALID | IODA3_TVT_NON_TRANSLATE_50
}

/// A checked bypass range ([`crate::phb::tve::BypassTve`]) as IODA3 encodes it.
impl BypassTve {
    /// The IODA3 TVE value.
    pub const fn encode(&self) -> u64 {
        let (start, end) = self.range();
        encode_bypass(start, end)
    }
}

/// Decodes an IODA3 TVE.
pub const fn decode(tve: u64) -> DecodedTve {
    if tve & IODA3_TVT_NON_TRANSLATE_50 != 0 {
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
    fn bypass_tve_exact_values() {
        // Window 0: [0, 1 GiB).
        let b = BypassTve::new(0, 0, 1 << 30).unwrap();
        assert_eq!(b.encode(), 0x0000_0000_0040_1080);
        // Window 1: [1<<59 | 16 MiB, +2^49): start bit 24 -> 40; end
        // 0x2_0000_0100_0000 -> bits 47..24 = 0x100_0001 & 0xffffff = 1, bits 49..48 = 2.
        let b = BypassTve::new(1, (1 << 59) | (1 << 24), 1 << 49).unwrap();
        assert_eq!(b.encode(), 0x0000_0100_0001_1280);
        assert_eq!(
            decode(b.encode()),
            DecodedTve::Bypass {
                start: 1 << 24,
                end: (1 << 49) + (1 << 24)
            }
        );
        // The largest window: end = 2^50 - 16 MiB.
        let b = BypassTve::new(0, 0, BYPASS_LIMIT - BYPASS_ALIGN).unwrap();
        assert_eq!(b.encode(), 0x0000_00FF_FFFF_1380);
    }

    #[test]
    fn bypass_rejects_bad_fields() {
        assert_eq!(
            BypassTve::new(0, 1 << 59, 1 << 24),
            Err(TveError::WindowParity)
        );
        assert_eq!(BypassTve::new(1, 0, 1 << 24), Err(TveError::WindowParity));
        assert_eq!(
            BypassTve::new(0, 1 << 20, 1 << 24),
            Err(TveError::BypassAlignment)
        );
        assert_eq!(
            BypassTve::new(0, 0, (1 << 24) + 4096),
            Err(TveError::BypassAlignment)
        );
        assert_eq!(BypassTve::new(0, 0, 0), Err(TveError::BypassAlignment));
        assert_eq!(
            BypassTve::new(0, 0, BYPASS_LIMIT),
            Err(TveError::BypassRange)
        );
        assert_eq!(
            BypassTve::new(0, 1 << 24, !0xff_ffff),
            Err(TveError::BypassRange)
        );
        assert_eq!(decode(0), DecodedTve::Invalid);
        let t = TranslatedTve::new(0x20_0000, 2, 0x20_0000, 0x20_0000).unwrap();
        assert_eq!(decode(t.encode()), DecodedTve::Translated(t));
        assert_eq!(PageSize::from_shift(21), Some(PageSize::Size2M));
        assert_eq!(PageSize::from_shift(24), None);
        let mask = PageSize::ALL.iter().fold(0, |m, p| m | 1 << p.shift());
        assert_eq!(PageSize::mask(), mask);
        use crate::papr::{DDW_PAGE_2M, DDW_PAGE_4K, DDW_PAGE_64K};
        assert_eq!(PHB4_DDW_PAGES, DDW_PAGE_4K | DDW_PAGE_64K | DDW_PAGE_2M);
    }
}
