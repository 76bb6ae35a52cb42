//! IODA2 TVEs: the translated form is the IODA3 layout (one home:
//! [`crate::phb4::tve::encode_translated`]), with PHB3's own page sizes;
//! the bypass form differs (`DESIGN.md` §12).
//!
//! QEMU's PHB3 does not check the IOMMU page size, and ignores a bypass
//! TVE's range fields: the firmware checks both (as skiboot does) so a
//! caller gets the same answer on the model and on hardware.

use crate::phb4::regs::ppc_bit;
use crate::phb4::tve::{self as ioda3, BypassTve, TveError};

/// Set in every PHB3 bypass TVE (IBM bit 51); with page-size field 0 it
/// makes the window untranslated.
pub const IODA2_TVT_NON_TRANSLATE: u64 = ppc_bit(51);

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

    /// The size for a byte count, if PHB3 supports it.
    pub const fn from_bytes(bytes: u64) -> Option<Phb3PageSize> {
        match bytes {
            0x1000 => Some(Phb3PageSize::Size4K),
            0x1_0000 => Some(Phb3PageSize::Size64K),
            0x100_0000 => Some(Phb3PageSize::Size16M),
            0x1000_0000 => Some(Phb3PageSize::Size256M),
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

/// A TCE table as a PHB3 TVE describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Phb3TranslatedTve {
    /// Physical address of the top level (aligned to `level_bytes`).
    pub table_addr: u64,
    /// Number of levels, 1..=5.
    pub levels: u32,
    /// Bytes per level (a power of two, at least 4 KiB).
    pub level_bytes: u64,
    /// IOMMU page size.
    pub page: Phb3PageSize,
}

impl Phb3TranslatedTve {
    /// Checks the OPAL-style arguments (`level_bytes` = one level's bytes,
    /// `page_bytes` = IOMMU page size in bytes).
    pub fn new(
        table_addr: u64,
        levels: u64,
        level_bytes: u64,
        page_bytes: u64,
    ) -> Result<Phb3TranslatedTve, TveError> {
        ioda3::check_table(table_addr, levels, level_bytes)?;
        let page = Phb3PageSize::from_bytes(page_bytes).ok_or(TveError::PageSize)?;
        Ok(Phb3TranslatedTve {
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
        ioda3::encode_translated(self.table_addr, self.levels, self.tts(), self.page.shift())
    }
}

/// The PHB3 TVE of a checked bypass range: the IODA3 range fields (which
/// QEMU ignores but hardware honours) with [`IODA2_TVT_NON_TRANSLATE`] and
/// without PHB4's 50-bit non-translate mode bit. The range rules (16 MiB
/// granules, end below 2^50, window parity) are PHB4's.
pub const fn encode_bypass(range: &BypassTve) -> u64 {
    (range.encode() & !ioda3::IODA3_TVT_NON_TRANSLATE_50) | IODA2_TVT_NON_TRANSLATE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translated_values_and_page_sizes() {
        let t = Phb3TranslatedTve::new(0x1000_0000, 1, 0x1000, 0x1000).unwrap();
        assert_eq!(t.encode(), 0x0000_0001_0000_0101);
        // 16M pages: psize 24 - 11 = 13.
        let t = Phb3TranslatedTve::new(0x20_0000, 2, 0x1_0000, 0x100_0000).unwrap();
        assert_eq!(t.encode(), 0x0000_0000_0200_250d);
        // 256M pages: psize 17.
        let t = Phb3TranslatedTve::new(0, 1, 0x1000, 0x1000_0000).unwrap();
        assert_eq!(t.encode() & 0x1f, 17);
        // PHB4's 2M and 1G are not PHB3 sizes.
        for bad in [0x20_0000, 0x4000_0000, 0x2000] {
            assert_eq!(
                Phb3TranslatedTve::new(0, 1, 0x1000, bad),
                Err(TveError::PageSize)
            );
        }
        assert_eq!(
            Phb3TranslatedTve::new(0x1000, 1, 0x2000, 0x1000),
            Err(TveError::TableAddress)
        );
        assert_eq!(
            Phb3TranslatedTve::new(0, 6, 0x1000, 0x1000),
            Err(TveError::Levels)
        );
    }

    #[test]
    fn bypass_value() {
        // [0, 1 GiB): end bits 47..24 = 0x40 at 39..16, IBM bit 51 = 0x1000.
        let b = BypassTve::new(0, 0, 1 << 30).unwrap();
        assert_eq!(encode_bypass(&b), 0x0000_0000_0040_1000);
        let b = BypassTve::new(1, 1 << 59, 1 << 30).unwrap();
        assert_eq!(
            encode_bypass(&b) & 0x1f,
            0,
            "page-size field 0: untranslated"
        );
    }
}
