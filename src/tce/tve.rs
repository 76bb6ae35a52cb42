//! The IODA3 (PHB4) TVT entry that points a DMA window at a TCE table.
//!
//! Fields (bit 63 is the most significant):
//! - 63..16: top level address >> 12;
//! - 15..13: levels - 1;
//! - 12..8: `tts`, a level holds `2^(tts + 8)` entries (0 = invalid TVE);
//! - 4..0: IOMMU page shift - 11 (0 = untranslated bypass).

#![deny(unsafe_code)]

use super::Geometry;

/// Bit position of the table address field (address >> 12).
pub const TABLE_ADDR_SHIFT: u32 = 16;
/// Bit position of the levels - 1 field.
pub const LEVELS_SHIFT: u32 = 13;
/// Bit position of the table-size field.
pub const TTS_SHIFT: u32 = 8;
/// Mask of the page-size field (bits 4..0).
pub const PAGE_SIZE_MASK: u64 = 0x1f;

/// Encodes a translating TVE for a table whose top level is at `top_phys`
/// (4 KiB aligned), with `levels` levels of `2^(tts + 8)` entries each and
/// pages of `1 << page_shift` bytes. Field values are truncated to their
/// widths; [`Geometry`] guarantees they fit.
pub const fn encode(top_phys: u64, levels: u32, tts: u32, page_shift: u32) -> u64 {
    ((top_phys >> 12) << TABLE_ADDR_SHIFT)
        | (((levels.wrapping_sub(1)) as u64 & 0x7) << LEVELS_SHIFT)
        | ((tts as u64 & 0x1f) << TTS_SHIFT)
        | (page_shift.wrapping_sub(11) as u64 & PAGE_SIZE_MASK)
}

/// Encodes the TVE for a table of `geometry` whose top level is at `top_phys`.
pub const fn for_table(top_phys: u64, geometry: &Geometry) -> u64 {
    encode(
        top_phys,
        geometry.levels(),
        geometry.tts(),
        geometry.page_shift(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_values() {
        // One level of 4 MiB (2^19 entries, tts 11), 4K pages, table at 0x1_0040_0000.
        assert_eq!(encode(0x1_0040_0000, 1, 11, 12), 0x0000_0010_0400_0b01);
        // Three levels of 4 KiB (tts 1), 64K pages, table at 0x2000_0000.
        assert_eq!(encode(0x2000_0000, 3, 1, 16), 0x0000_0002_0000_4105);
        // Five levels, 1G pages, tts 31, top-of-range address.
        assert_eq!(
            encode(0x0fff_ffff_ffff_f000, 5, 31, 30),
            0xffff_ffff_ffff_9f13
        );
        // 2M pages, two levels of 8 KiB (tts 2).
        assert_eq!(encode(0x8000, 2, 2, 21), 0x0000_0000_0008_220a);
    }

    #[test]
    fn from_geometry() {
        let g = Geometry::new(1 << 59, 1 << 40, 16, 3).unwrap();
        assert_eq!(for_table(0x4000_0000, &g), 0x0000_0004_0000_4105);
        let g = Geometry::new(0, 1 << 31, 12, 1).unwrap();
        assert_eq!(for_table(0x80_0000, &g), 0x0000_0000_0800_0b01);
    }
}
