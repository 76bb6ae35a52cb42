//! IODA3 (PHB4) translation validation entries: the page sizes PHB4
//! supports, the bypass TVE and the decoder. The translated TVE, which
//! PHB3 shares, is [`crate::phb::tve`].
//!
//! Bypass TVE (untranslated range, PHB4 "non-translate 50-bit" mode):
//! start address bits 47..24 in 63..40 and 49..48 in 11..10, end address
//! (exclusive) bits 47..24 in 39..16 and 49..48 in 9..8, plus bit 12 and
//! the NON_TRANSLATE_50 bit (IBM bit 56 = bit 7).

use super::regs::ppc_bit;
pub use crate::phb::WINDOW_SELECT_SHIFT;
use crate::phb::tve::decode_translated;
pub use crate::phb::tve::{MAX_LEVELS, MIN_LEVEL_BYTES, TranslatedTve, TveError};

/// Bit set in every bypass TVE besides the address fields (IBM bit 51).
pub const IODA3_TVT_BYPASS_VALID: u64 = ppc_bit(51);
/// Untranslated, 50-bit bypass mode (IBM bit 56).
pub const IODA3_TVT_NON_TRANSLATE_50: u64 = ppc_bit(56);
/// Bypass windows are 16 MiB granular.
pub const BYPASS_ALIGN: u64 = 1 << 24;
/// Bypass windows end below 2^50.
pub const BYPASS_LIMIT: u64 = 1 << 50;

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
    (((start >> 24) & 0xff_ffff) << 40)
        | (((start >> 48) & 0x3) << 10)
        | (((end >> 24) & 0xff_ffff) << 16)
        | (((end >> 48) & 0x3) << 8)
        | IODA3_TVT_BYPASS_VALID
        | IODA3_TVT_NON_TRANSLATE_50
}

/// An untranslated (bypass) range of PCI space mapped 1:1 onto memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BypassTve {
    /// PCI start address, including the window-select bit 59.
    pub pci_start: u64,
    /// Size in bytes.
    pub size: u64,
}

impl BypassTve {
    /// Checks the arguments of `map_pe_dma_window_real` for `slot` (0 or 1)
    /// of a PE.
    pub fn new(slot: u32, pci_start: u64, size: u64) -> Result<BypassTve, TveError> {
        if (pci_start >> WINDOW_SELECT_SHIFT) != (slot & 1) as u64 {
            return Err(TveError::WindowParity);
        }
        let start = pci_start & ((1 << WINDOW_SELECT_SHIFT) - 1);
        if size == 0 || !start.is_multiple_of(BYPASS_ALIGN) || !size.is_multiple_of(BYPASS_ALIGN) {
            return Err(TveError::BypassAlignment);
        }
        match start.checked_add(size) {
            Some(end) if end < BYPASS_LIMIT => Ok(BypassTve { pci_start, size }),
            _ => Err(TveError::BypassRange),
        }
    }

    /// The TVE value.
    pub const fn encode(&self) -> u64 {
        let start = self.pci_start & ((1 << WINDOW_SELECT_SHIFT) - 1);
        encode_bypass(start, start + self.size)
    }
}

/// What a TVE value says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodedTve {
    /// tts = 0 and not bypass: no DMA through this window.
    Invalid,
    /// A TCE table.
    Translated(TranslatedTve),
    /// A bypass range `[start, end)` (bit 59 stripped).
    Bypass {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
}

/// Decodes an IODA3 TVE.
pub const fn decode(tve: u64) -> DecodedTve {
    if tve & IODA3_TVT_NON_TRANSLATE_50 != 0 {
        let start = ((tve >> 40) & 0xff_ffff) << 24 | ((tve >> 10) & 3) << 48;
        let end = ((tve >> 16) & 0xff_ffff) << 24 | ((tve >> 8) & 3) << 48;
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
