//! IODA3 translation validation entries (TVEs): pure encoders, decoders and
//! the argument checks that make a TVE valid.
//!
//! Translated TVE (a TCE table):
//!
//! | bits (LSB 0) | field |
//! |---|---|
//! | 63..16 | `table_addr >> 12` |
//! | 15..13 | `levels - 1` |
//! | 12..8  | `tts`, one level holds `2^(tts+8)` TCEs = `2^(tts+11)` bytes; 0 = invalid |
//! | 4..0   | `page_shift - 11` (0 = untranslated) |
//!
//! Bypass TVE (untranslated range, PHB4 "non-translate 50-bit" mode):
//! start address bits 47..24 in 63..40 and 49..48 in 11..10, end address
//! (exclusive) bits 47..24 in 39..16 and 49..48 in 9..8, plus bit 12 and
//! the NON_TRANSLATE_50 bit (IBM bit 56 = bit 7).

use super::regs::ppc_bit;

/// Bit set in every bypass TVE besides the address fields (IBM bit 51).
pub const IODA3_TVT_BYPASS_VALID: u64 = ppc_bit(51);
/// Untranslated, 50-bit bypass mode (IBM bit 56).
pub const IODA3_TVT_NON_TRANSLATE_50: u64 = ppc_bit(56);
/// Bypass windows are 16 MiB granular.
pub const BYPASS_ALIGN: u64 = 1 << 24;
/// Bypass windows end below 2^50.
pub const BYPASS_LIMIT: u64 = 1 << 50;
/// Bit of the PCI address that selects one of the PE's two TVEs.
pub const WINDOW_SELECT_SHIFT: u32 = 59;
/// Most levels a PHB4 table walk supports.
pub const MAX_LEVELS: u32 = 5;
/// Smallest level size (bytes).
pub const MIN_LEVEL_BYTES: u64 = 0x1000;

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

/// Why TVE arguments were rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TveError {
    /// Levels outside 1..=5.
    Levels,
    /// Level size not a power of two, below 4 KiB, or too big to encode.
    LevelSize,
    /// Page size not one of 4K/64K/2M/1G.
    PageSize,
    /// Table address not aligned to the level size, or too high to encode.
    TableAddress,
    /// Bypass start or size not 16 MiB aligned, or size 0.
    BypassAlignment,
    /// Bypass end at or above 2^50, or the range overflows.
    BypassRange,
    /// Bypass start's window-select bit (59) disagrees with the window number.
    WindowParity,
}

/// Raw translated TVE from already-checked fields.
pub const fn encode_translated(table_addr: u64, levels: u32, tts: u32, page_shift: u32) -> u64 {
    ((table_addr >> 12) << 16)
        | (((levels - 1) as u64 & 0x7) << 13)
        | ((tts as u64 & 0x1f) << 8)
        | ((page_shift - 11) as u64 & 0x1f)
}

/// Raw bypass TVE for `[start, end)`, addresses already stripped of bit 59.
pub const fn encode_bypass(start: u64, end: u64) -> u64 {
    (((start >> 24) & 0xff_ffff) << 40)
        | (((start >> 48) & 0x3) << 10)
        | (((end >> 24) & 0xff_ffff) << 16)
        | (((end >> 48) & 0x3) << 8)
        | IODA3_TVT_BYPASS_VALID
        | IODA3_TVT_NON_TRANSLATE_50
}

/// Checks the table fields every IODA2/IODA3 translated TVE shares (the
/// page size is the generation's own check): levels 1..=5, a power-of-two
/// level of at least 4 KiB that the `tts` field can encode, and a top level
/// aligned to its size (each level is reached by OR-ing the index into the
/// base) whose address fits the 48-bit field. PHB3 and PHB4 both use it.
pub fn check_table(table_addr: u64, levels: u64, level_bytes: u64) -> Result<(), TveError> {
    if !(1..=MAX_LEVELS as u64).contains(&levels) {
        return Err(TveError::Levels);
    }
    if !level_bytes.is_power_of_two() || level_bytes < MIN_LEVEL_BYTES {
        return Err(TveError::LevelSize);
    }
    if level_bytes.trailing_zeros() - 11 > 31 {
        return Err(TveError::LevelSize);
    }
    if table_addr & (level_bytes - 1) != 0 || table_addr >> 60 != 0 {
        return Err(TveError::TableAddress);
    }
    Ok(())
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
    /// IOMMU page size.
    pub page: PageSize,
}

impl TranslatedTve {
    /// Checks the OPAL-style arguments (`table_size` = one level's bytes,
    /// `page_bytes` = IOMMU page size in bytes).
    pub fn new(
        table_addr: u64,
        levels: u64,
        level_bytes: u64,
        page_bytes: u64,
    ) -> Result<TranslatedTve, TveError> {
        check_table(table_addr, levels, level_bytes)?;
        let page = PageSize::from_bytes(page_bytes).ok_or(TveError::PageSize)?;
        Ok(TranslatedTve {
            table_addr,
            levels: levels as u32,
            level_bytes,
            page,
        })
    }

    /// The `tts` field.
    pub const fn tts(&self) -> u32 {
        self.level_bytes.trailing_zeros() - 11
    }

    /// The TVE value.
    pub const fn encode(&self) -> u64 {
        encode_translated(self.table_addr, self.levels, self.tts(), self.page.shift())
    }

    /// log2 of the bytes of PCI space the table covers.
    pub const fn window_shift(&self) -> u32 {
        (self.tts() + 8) * self.levels + self.page.shift()
    }

    /// Bytes of PCI space covered (`None` if 2^64 or more).
    pub const fn window_bytes(&self) -> Option<u64> {
        1u64.checked_shl(self.window_shift())
    }
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
    /// Checks the arguments of `map_pe_dma_window_real` for window `window_no`
    /// (0 or 1) of a PE.
    pub fn new(window_no: u32, pci_start: u64, size: u64) -> Result<BypassTve, TveError> {
        if (pci_start >> WINDOW_SELECT_SHIFT) != (window_no & 1) as u64 {
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
    /// A TCE table (raw fields).
    Translated {
        /// Top-level table address.
        table_addr: u64,
        /// Levels.
        levels: u32,
        /// Bytes per level.
        level_bytes: u64,
        /// log2 of the IOMMU page size.
        page_shift: u32,
    },
    /// A bypass range `[start, end)` (bit 59 stripped).
    Bypass {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
}

/// Decodes a TVE.
pub const fn decode(tve: u64) -> DecodedTve {
    if tve & IODA3_TVT_NON_TRANSLATE_50 != 0 {
        let start = ((tve >> 40) & 0xff_ffff) << 24 | ((tve >> 10) & 3) << 48;
        let end = ((tve >> 16) & 0xff_ffff) << 24 | ((tve >> 8) & 3) << 48;
        return DecodedTve::Bypass { start, end };
    }
    let tts = ((tve >> 8) & 0x1f) as u32;
    let psize = (tve & 0x1f) as u32;
    if tts == 0 || psize == 0 {
        return DecodedTve::Invalid;
    }
    DecodedTve::Translated {
        table_addr: (tve >> 16) << 12,
        levels: ((tve >> 13) & 7) as u32 + 1,
        level_bytes: 1 << (tts + 11),
        page_shift: psize + 11,
    }
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
        assert_eq!(
            decode(t.encode()),
            DecodedTve::Translated {
                table_addr: 0x20_0000,
                levels: 2,
                level_bytes: 0x20_0000,
                page_shift: 21
            }
        );
    }

    #[test]
    fn translated_rejects_bad_fields() {
        assert_eq!(
            TranslatedTve::new(0, 0, 0x1000, 0x1000),
            Err(TveError::Levels)
        );
        assert_eq!(
            TranslatedTve::new(0, 6, 0x1000, 0x1000),
            Err(TveError::Levels)
        );
        assert_eq!(
            TranslatedTve::new(0, 1, 0x800, 0x1000),
            Err(TveError::LevelSize)
        );
        assert_eq!(
            TranslatedTve::new(0, 1, 0x3000, 0x1000),
            Err(TveError::LevelSize)
        );
        assert_eq!(
            TranslatedTve::new(0, 1, 1 << 43, 0x1000),
            Err(TveError::LevelSize)
        );
        assert_eq!(
            TranslatedTve::new(0, 1, 0x1000, 0x2000),
            Err(TveError::PageSize)
        );
        assert_eq!(
            TranslatedTve::new(0, 1, 0x1000, 1 << 24),
            Err(TveError::PageSize)
        );
        assert_eq!(
            TranslatedTve::new(0x1000, 1, 0x2000, 0x1000),
            Err(TveError::TableAddress)
        );
        assert_eq!(
            TranslatedTve::new(1 << 60, 1, 0x1000, 0x1000),
            Err(TveError::TableAddress)
        );
    }

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
    }
}
