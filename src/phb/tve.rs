//! The translated TVE: the TVT entry that points a DMA window at a TCE
//! table. IODA2 (PHB3) and IODA3 (PHB4, PHB5) share its layout and the
//! table walk it describes (DESIGN §6, §12):
//!
//! | bits (LSB 0) | field |
//! |---|---|
//! | 63..16 | `table_addr >> 12` |
//! | 15..13 | `levels - 1` |
//! | 12..8  | `tts`, one level holds `2^(tts+8)` TCEs = `2^(tts+11)` bytes; 0 = invalid |
//! | 4..0   | `page_shift - 11` (0 = untranslated) |
//!
//! Which page sizes a PHB accepts is its capability
//! ([`PhbCapabilities::supports_page`](super::PhbCapabilities::supports_page));
//! this module checks only what the format can express.
//!
//! A bypass TVE (an untranslated range) has the same range rules and
//! address fields on both: start address bits 47..24 in 63..40 and 49..48
//! in 11..10, end address (exclusive) bits 47..24 in 39..16 and 49..48 in
//! 9..8. The mode bits that make it a bypass differ and live with each
//! generation (`phb3::tve`, `phb4::tve`).

use super::WINDOW_SELECT_SHIFT;
use crate::tce::Geometry;

/// Most levels a table walk supports.
pub const MAX_LEVELS: u32 = 5;
/// Smallest level size (bytes).
pub const MIN_LEVEL_BYTES: u64 = 0x1000;
/// Smallest IOMMU page shift (4 KiB pages).
pub const MIN_PAGE_SHIFT: u32 = 12;
/// Largest IOMMU page shift the 5-bit field can hold (`31 + 11`).
pub const MAX_PAGE_SHIFT: u32 = 42;
/// Bit position of the table address field (address >> 12).
pub const TABLE_ADDR_SHIFT: u32 = 16;
/// Bit position of the levels - 1 field.
pub const LEVELS_SHIFT: u32 = 13;
/// Bit position of the table-size (`tts`) field.
pub const TTS_SHIFT: u32 = 8;
/// Mask of the page-size field (bits 4..0).
pub const PAGE_SIZE_MASK: u64 = 0x1f;

/// Why TVE arguments were rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TveError {
    /// Levels outside 1..=5.
    Levels,
    /// Level size not a power of two, below 4 KiB, or too big to encode.
    LevelSize,
    /// Page size not a power of two the format can hold, or not one the PHB
    /// supports.
    PageSize,
    /// Table address not aligned to the level size, or too high to encode.
    TableAddress,
    /// Bypass start or size not aligned as the PHB needs, or size 0.
    BypassAlignment,
    /// Bypass end beyond what the PHB can bypass, or the range overflows.
    BypassRange,
    /// A window start's slot-select bit (59) disagrees with the slot.
    WindowParity,
}

/// Raw translated TVE from already-checked fields (each truncated to its
/// width).
pub const fn encode_translated(table_addr: u64, levels: u32, tts: u32, page_shift: u32) -> u64 {
    ((table_addr >> 12) << TABLE_ADDR_SHIFT)
        | ((levels.wrapping_sub(1) as u64 & 0x7) << LEVELS_SHIFT)
        | ((tts as u64 & 0x1f) << TTS_SHIFT)
        | (page_shift.wrapping_sub(11) as u64 & PAGE_SIZE_MASK)
}

/// The TVE for a table of `geometry` whose top level is at `top_phys`
/// ([`Geometry`] guarantees the fields fit).
pub const fn for_table(top_phys: u64, geometry: &Geometry) -> u64 {
    encode_translated(
        top_phys,
        geometry.levels(),
        geometry.tts(),
        geometry.page_shift(),
    )
}

/// A TCE table as one TVE describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TranslatedTve {
    /// Physical address of the top level (aligned to `level_bytes`).
    pub table_addr: u64,
    /// Number of levels, 1..=5.
    pub levels: u32,
    /// Bytes per level (a power of two, at least 4 KiB).
    pub level_bytes: u64,
    /// log2 of the IOMMU page size.
    pub page_shift: u32,
}

impl TranslatedTve {
    /// Checks the OPAL-style arguments (`level_bytes` = one level's bytes,
    /// `page_bytes` = IOMMU page size in bytes) against the format.
    pub fn new(
        table_addr: u64,
        levels: u64,
        level_bytes: u64,
        page_bytes: u64,
    ) -> Result<TranslatedTve, TveError> {
        if !(1..=MAX_LEVELS as u64).contains(&levels) {
            return Err(TveError::Levels);
        }
        if !level_bytes.is_power_of_two() || level_bytes < MIN_LEVEL_BYTES {
            return Err(TveError::LevelSize);
        }
        if level_bytes.trailing_zeros() - 11 > 31 {
            return Err(TveError::LevelSize);
        }
        let page_shift = page_bytes.trailing_zeros();
        if !page_bytes.is_power_of_two() || !(MIN_PAGE_SHIFT..=MAX_PAGE_SHIFT).contains(&page_shift)
        {
            return Err(TveError::PageSize);
        }
        // Each level is reached by OR-ing the index into the base, so the
        // base must be aligned to the level size; the field holds 48 bits.
        if table_addr & (level_bytes - 1) != 0 || table_addr >> 60 != 0 {
            return Err(TveError::TableAddress);
        }
        Ok(TranslatedTve {
            table_addr,
            levels: levels as u32,
            level_bytes,
            page_shift,
        })
    }

    /// The `tts` field.
    pub const fn tts(&self) -> u32 {
        self.level_bytes.trailing_zeros() - 11
    }

    /// The TVE value.
    pub const fn encode(&self) -> u64 {
        encode_translated(self.table_addr, self.levels, self.tts(), self.page_shift)
    }

    /// log2 of the bytes of PCI space the table covers.
    pub const fn window_shift(&self) -> u32 {
        (self.tts() + 8) * self.levels + self.page_shift
    }

    /// Bytes of PCI space covered (`None` if 2^64 or more).
    pub const fn window_bytes(&self) -> Option<u64> {
        1u64.checked_shl(self.window_shift())
    }
}

/// The fields of a translated TVE value, if it is one (tts and page-size
/// fields non-zero).
pub const fn decode_translated(tve: u64) -> Option<TranslatedTve> {
    let tts = ((tve >> TTS_SHIFT) & 0x1f) as u32;
    let psize = (tve & PAGE_SIZE_MASK) as u32;
    if tts == 0 || psize == 0 {
        return None;
    }
    Some(TranslatedTve {
        table_addr: (tve >> TABLE_ADDR_SHIFT) << 12,
        levels: ((tve >> LEVELS_SHIFT) & 7) as u32 + 1,
        level_bytes: 1 << (tts + 11),
        page_shift: psize + 11,
    })
}

/// Bypass windows are 16 MiB granular.
pub const BYPASS_ALIGN: u64 = 1 << 24;
/// Bypass windows end below 2^50.
pub const BYPASS_LIMIT: u64 = 1 << 50;

/// The address fields of a bypass TVE for `[start, end)` (bit 59 already
/// stripped), without a generation's mode bits.
pub const fn bypass_range_fields(start: u64, end: u64) -> u64 {
    (((start >> 24) & 0xff_ffff) << 40)
        | (((start >> 48) & 0x3) << 10)
        | (((end >> 24) & 0xff_ffff) << 16)
        | (((end >> 48) & 0x3) << 8)
}

/// The `[start, end)` a bypass TVE's address fields hold.
pub const fn decode_bypass_range(tve: u64) -> (u64, u64) {
    let start = ((tve >> 40) & 0xff_ffff) << 24 | ((tve >> 10) & 3) << 48;
    let end = ((tve >> 16) & 0xff_ffff) << 24 | ((tve >> 8) & 3) << 48;
    (start, end)
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

    /// The range `[start, end)` with the slot-select bit 59 stripped.
    pub const fn range(&self) -> (u64, u64) {
        let start = self.pci_start & ((1 << WINDOW_SELECT_SHIFT) - 1);
        (start, start + self.size)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translated_tve_exact_values() {
        // 1 level of 4 KiB at 0x1000_0000, 4K pages: tts 1, psize 1.
        let t = TranslatedTve::new(0x1000_0000, 1, 0x1000, 0x1000).unwrap();
        assert_eq!(t.encode(), 0x0000_0001_0000_0101);
        assert_eq!(t.window_bytes(), Some(2 << 20)); // 512 TCEs x 4K
        // 3 levels of 64 KiB at 0x2345_0000, 64K pages: tts 5, psize 5.
        let t = TranslatedTve::new(0x2345_0000, 3, 0x1_0000, 0x1_0000).unwrap();
        assert_eq!(t.encode(), 0x0000_0002_3450_4505);
        // 5 levels of 4 KiB, 1G pages: levels-1 = 4, psize 19 (0x13).
        let t = TranslatedTve::new(0x4000_0000, 5, 0x1000, 0x4000_0000).unwrap();
        assert_eq!(t.encode(), 0x0000_0004_0000_8113);
        // 2M pages: psize 10.
        let t = TranslatedTve::new(0x20_0000, 2, 0x20_0000, 0x20_0000).unwrap();
        assert_eq!(t.encode(), 0x0000_0000_0200_2a0a);
        assert_eq!(decode_translated(t.encode()), Some(t));
        // 256M pages (PHB3): psize 17.
        let t = TranslatedTve::new(0x1000, 1, 0x1000, 1 << 28).unwrap();
        assert_eq!(t.encode(), 0x0000_0000_0001_0111);
        assert_eq!(decode_translated(0), None);
    }

    #[test]
    fn raw_encoder_pinned_values() {
        // One level of 4 MiB (2^19 entries, tts 11), 4K pages, table at 0x1_0040_0000.
        assert_eq!(
            encode_translated(0x1_0040_0000, 1, 11, 12),
            0x0000_0010_0400_0b01
        );
        // Three levels of 4 KiB (tts 1), 64K pages, table at 0x2000_0000.
        assert_eq!(
            encode_translated(0x2000_0000, 3, 1, 16),
            0x0000_0002_0000_4105
        );
        // Five levels, 1G pages, tts 31, top-of-range address.
        assert_eq!(
            encode_translated(0x0fff_ffff_ffff_f000, 5, 31, 30),
            0xffff_ffff_ffff_9f13
        );
        // 2M pages, two levels of 8 KiB (tts 2).
        assert_eq!(encode_translated(0x8000, 2, 2, 21), 0x0000_0000_0008_220a);
    }

    #[test]
    fn from_geometry() {
        let g = Geometry::new(1 << 59, 1 << 40, 16, 3).unwrap();
        assert_eq!(for_table(0x4000_0000, &g), 0x0000_0004_0000_4105);
        let g = Geometry::new(0, 1 << 31, 12, 1).unwrap();
        assert_eq!(for_table(0x80_0000, &g), 0x0000_0000_0800_0b01);
    }

    #[test]
    fn translated_rejects_what_the_format_cannot_hold() {
        let bad = |a, l, lb, p| TranslatedTve::new(a, l, lb, p).unwrap_err();
        assert_eq!(bad(0, 0, 0x1000, 0x1000), TveError::Levels);
        assert_eq!(bad(0, 6, 0x1000, 0x1000), TveError::Levels);
        assert_eq!(bad(0, 1, 0x800, 0x1000), TveError::LevelSize);
        assert_eq!(bad(0, 1, 0x3000, 0x1000), TveError::LevelSize);
        assert_eq!(bad(0, 1, 1 << 43, 0x1000), TveError::LevelSize);
        assert_eq!(bad(0, 1, 0x1000, 0x800), TveError::PageSize);
        assert_eq!(bad(0, 1, 0x1000, 0x3000), TveError::PageSize);
        assert_eq!(bad(0, 1, 0x1000, 1 << 43), TveError::PageSize);
        assert_eq!(bad(0x1000, 1, 0x2000, 0x1000), TveError::TableAddress);
        assert_eq!(bad(1 << 60, 1, 0x1000, 0x1000), TveError::TableAddress);
    }
}
