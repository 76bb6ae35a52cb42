//! Window and level sizes of a TCE table.
//!
//! The window's entries (`window_shift - page_shift` address bits) are split
//! evenly across the levels, rounding up, and each level holds at least 512
//! entries (4 KiB). All levels have the same size, since one TVE field (`tts`)
//! describes them all. Like Linux, a geometry whose levels together address 55
//! bits or more is refused.
//!
//! The PHB indexes every level with bits of the IOVA itself (not of the offset
//! into the window), dropping the bits above the levels' reach. The table does
//! the same, so it needs the bus offset to be a multiple of the window size:
//! then the window's pages occupy one contiguous run of indices.

#![deny(unsafe_code)]

use super::TceError;
use crate::page_alloc::MIN_BLOCK_SHIFT;

/// IOMMU page shifts the table supports (4K, 64K, 2M, 16M, 256M, 1G).
pub const PAGE_SHIFTS: [u32; 6] = [12, 16, 21, 24, 28, 30];

/// Most levels a TVE can describe.
pub const MAX_LEVELS: u32 = 5;

/// Levels may not address this many bits or more (page offset included).
pub const ADDRESS_BITS_LIMIT: u32 = 55;

/// Largest TVE table-size field (5 bits): a level of at most 2^39 entries.
pub const MAX_TTS: u32 = 31;

/// The validated shape of a TCE table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    bus_offset: u64,
    window_shift: u32,
    page_shift: u32,
    levels: u32,
    level_shift: u32,
}

impl Geometry {
    /// Checks and computes the geometry of a window of `window_size` bytes at
    /// `bus_offset`, in pages of `1 << page_shift` bytes, through `levels` levels.
    pub const fn new(
        bus_offset: u64,
        window_size: u64,
        page_shift: u32,
        levels: u32,
    ) -> Result<Geometry, TceError> {
        if !matches!(page_shift, 12 | 16 | 21 | 24 | 28 | 30) {
            return Err(TceError::UnsupportedPageShift(page_shift));
        }
        if levels == 0 || levels > MAX_LEVELS {
            return Err(TceError::UnsupportedLevels(levels));
        }
        if !window_size.is_power_of_two() || window_size < (1 << page_shift) {
            return Err(TceError::BadWindowSize);
        }
        let window_shift = window_size.trailing_zeros();
        if bus_offset & (window_size - 1) != 0 || bus_offset.checked_add(window_size - 1).is_none()
        {
            return Err(TceError::BadBusOffset);
        }
        let total_entry_bits = window_shift - page_shift;
        let mut entry_bits = total_entry_bits.div_ceil(levels);
        if entry_bits + 3 < MIN_BLOCK_SHIFT {
            entry_bits = MIN_BLOCK_SHIFT - 3;
        }
        if entry_bits * levels + page_shift >= ADDRESS_BITS_LIMIT {
            return Err(TceError::AddressWidth);
        }
        if entry_bits + 3 - 11 > MAX_TTS {
            return Err(TceError::LevelTooLarge);
        }
        Ok(Geometry {
            bus_offset,
            window_shift,
            page_shift,
            levels,
            level_shift: entry_bits + 3,
        })
    }

    /// First IOVA of the window.
    pub const fn bus_offset(&self) -> u64 {
        self.bus_offset
    }

    /// log2 of the window size.
    pub const fn window_shift(&self) -> u32 {
        self.window_shift
    }

    /// Window size in bytes.
    pub const fn window_size(&self) -> u64 {
        1 << self.window_shift
    }

    /// Last IOVA of the window (inclusive; the window may end at `u64::MAX`).
    pub const fn window_last(&self) -> u64 {
        self.bus_offset + (self.window_size() - 1)
    }

    /// log2 of the IOMMU page size.
    pub const fn page_shift(&self) -> u32 {
        self.page_shift
    }

    /// IOMMU page size in bytes.
    pub const fn page_size(&self) -> u64 {
        1 << self.page_shift
    }

    /// Number of levels.
    pub const fn levels(&self) -> u32 {
        self.levels
    }

    /// log2 of the size in bytes of every level.
    pub const fn level_shift(&self) -> u32 {
        self.level_shift
    }

    /// Size in bytes of every level.
    pub const fn level_bytes(&self) -> u64 {
        1 << self.level_shift
    }

    /// log2 of the entries per level.
    pub const fn entry_bits(&self) -> u32 {
        self.level_shift - 3
    }

    /// The TVE table-size field: a level holds `2^(tts + 8)` entries.
    pub const fn tts(&self) -> u32 {
        self.level_shift - 11
    }

    /// Number of pages in the window.
    pub const fn window_pages(&self) -> u64 {
        1 << (self.window_shift - self.page_shift)
    }

    /// log2 of the pages one entry at `depth` (0 = top) covers.
    pub(crate) const fn span_bits(&self, depth: u32) -> u32 {
        self.entry_bits() * (self.levels - 1 - depth)
    }

    /// Index at `depth` of the entry for page number `pfn` (`iova >> page_shift`).
    #[inline(always)]
    pub(crate) const fn index(&self, pfn: u64, depth: u32) -> usize {
        ((pfn >> self.span_bits(depth)) & ((1 << self.entry_bits()) - 1)) as usize
    }

    /// Checks that `[iova, iova + size)` is a non-empty run of whole pages
    /// inside the window; returns the first and last page numbers.
    pub const fn check_range(&self, iova: u64, size: u64) -> Result<(u64, u64), TceError> {
        let mask = self.page_size() - 1;
        if size == 0 {
            return Err(TceError::ZeroSize);
        }
        if iova & mask != 0 {
            return Err(TceError::MisalignedIova);
        }
        if size & mask != 0 {
            return Err(TceError::MisalignedSize);
        }
        let Some(last) = iova.checked_add(size - 1) else {
            return Err(TceError::Overflow);
        };
        if iova < self.bus_offset || last > self.window_last() {
            return Err(TceError::OutsideWindow);
        }
        Ok((iova >> self.page_shift, last >> self.page_shift))
    }

    /// [`check_range`](Self::check_range) of `count` pages from `iova`
    /// (`count` 0 counts as 1), in page units: the index of `iova`'s page
    /// from the window's start, if `iova` is page aligned and the pages lie
    /// inside the window. A handful of instructions: the hypercalls check
    /// every call with it.
    #[inline]
    pub const fn window_index(&self, iova: u64, count: u64) -> Option<u64> {
        if iova & (self.page_size() - 1) != 0 || iova < self.bus_offset {
            return None;
        }
        let index = (iova - self.bus_offset) >> self.page_shift;
        let pages = self.window_pages();
        let count = if count == 0 { 1 } else { count };
        if index >= pages || count > pages - index {
            return None;
        }
        Some(index)
    }

    /// Checks that `iova` lies inside the window; returns its page number.
    pub const fn check_iova(&self, iova: u64) -> Result<u64, TceError> {
        if iova < self.bus_offset || iova > self.window_last() {
            return Err(TceError::OutsideWindow);
        }
        Ok(iova >> self.page_shift)
    }

    /// Checks that `[phys, phys + size)` is page aligned and below
    /// [`PHYS_LIMIT`](super::PHYS_LIMIT).
    pub const fn check_phys(&self, phys: u64, size: u64) -> Result<(), TceError> {
        if size == 0 {
            return Err(TceError::ZeroSize);
        }
        if phys & (self.page_size() - 1) != 0 {
            return Err(TceError::MisalignedPhys);
        }
        let Some(last) = phys.checked_add(size - 1) else {
            return Err(TceError::Overflow);
        };
        if last >= super::PHYS_LIMIT {
            return Err(TceError::PhysTooLarge);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn linux_like_split() {
        // 2 GiB of 4K pages in one level: 2^19 entries, 4 MiB.
        let g = Geometry::new(0, 2 * GIB, 12, 1).unwrap();
        assert_eq!(
            (g.level_shift(), g.tts(), g.window_pages()),
            (22, 11, 1 << 19)
        );
        // 1 TiB of 64K pages in 3 levels: 24 bits -> 8 per level -> raised to 9 (4 KiB).
        let g = Geometry::new(1 << 59, 1 << 40, 16, 3).unwrap();
        assert_eq!((g.level_shift(), g.entry_bits(), g.tts()), (12, 9, 1));
        // 64 TiB of 64K pages in 3 levels: 30 bits -> 10 per level (8 KiB).
        let g = Geometry::new(0, 1 << 46, 16, 3).unwrap();
        assert_eq!(g.level_shift(), 13);
        // Uneven split rounds up: 4 GiB of 4K in 2 levels: 20 bits -> 10 + 10.
        let g = Geometry::new(0, 4 * GIB, 12, 2).unwrap();
        assert_eq!(g.level_shift(), 13);
        // 7 bits over 2 levels: rounds to 4, raised to 9.
        let g = Geometry::new(0, 1 << 19, 12, 2).unwrap();
        assert_eq!(g.level_shift(), 12);
    }

    #[test]
    fn address_width_rule() {
        // 9 * 4 + 12 = 48: allowed.
        assert!(Geometry::new(0, 1 << 20, 12, 4).is_ok());
        // 9 * 5 + 12 = 57: every 5-level geometry with 4 KiB levels is refused.
        for ps in PAGE_SHIFTS {
            assert_eq!(
                Geometry::new(0, 1 << 31, ps, 5),
                Err(TceError::AddressWidth)
            );
        }
        // 1G pages: 2 levels (48) fine, 3 levels (57) refused.
        assert!(Geometry::new(0, 1 << 40, 30, 2).is_ok());
        assert_eq!(
            Geometry::new(0, 1 << 40, 30, 3),
            Err(TceError::AddressWidth)
        );
        // One level of 64K pages: 38 + 16 = 54 ok, 39 + 16 = 55 refused.
        assert!(Geometry::new(0, 1 << 54, 16, 1).is_ok());
        assert_eq!(
            Geometry::new(0, 1 << 55, 16, 1),
            Err(TceError::AddressWidth)
        );
        // Two levels of 4K pages: 21 * 2 + 12 = 54 ok; 22 * 2 + 12 refused.
        assert!(Geometry::new(0, 1 << 54, 12, 2).is_ok());
        assert_eq!(
            Geometry::new(0, 1 << 55, 12, 2),
            Err(TceError::AddressWidth)
        );
        // One level of 2^40 entries passes the width rule but not the 5-bit tts.
        assert_eq!(
            Geometry::new(0, 1 << 52, 12, 1),
            Err(TceError::LevelTooLarge)
        );
    }

    #[test]
    fn bad_parameters() {
        assert_eq!(
            Geometry::new(0, GIB, 13, 1),
            Err(TceError::UnsupportedPageShift(13))
        );
        assert_eq!(
            Geometry::new(0, GIB, 12, 0),
            Err(TceError::UnsupportedLevels(0))
        );
        assert_eq!(
            Geometry::new(0, GIB, 12, 6),
            Err(TceError::UnsupportedLevels(6))
        );
        assert_eq!(
            Geometry::new(0, 3 * GIB, 12, 1),
            Err(TceError::BadWindowSize)
        );
        assert_eq!(Geometry::new(0, 0, 12, 1), Err(TceError::BadWindowSize));
        assert_eq!(
            Geometry::new(0, 1 << 15, 16, 1),
            Err(TceError::BadWindowSize)
        );
        assert_eq!(
            Geometry::new(GIB / 2, GIB, 12, 1),
            Err(TceError::BadBusOffset)
        );
        // The last window of the address space is fine; its end is u64::MAX.
        let g = Geometry::new(u64::MAX - (GIB - 1), GIB, 12, 2).unwrap();
        assert_eq!(g.window_last(), u64::MAX);
    }

    #[test]
    fn ranges() {
        let g = Geometry::new(GIB, GIB, 16, 2).unwrap();
        assert_eq!(
            g.check_range(GIB, 0x20000),
            Ok((GIB >> 16, (GIB >> 16) + 1))
        );
        assert_eq!(g.check_range(GIB, 0), Err(TceError::ZeroSize));
        assert_eq!(
            g.check_range(GIB + 0x1000, 0x10000),
            Err(TceError::MisalignedIova)
        );
        assert_eq!(g.check_range(GIB, 0x18000), Err(TceError::MisalignedSize));
        assert_eq!(g.check_range(0, 0x10000), Err(TceError::OutsideWindow));
        assert_eq!(
            g.check_range(2 * GIB - 0x10000, 0x20000),
            Err(TceError::OutsideWindow)
        );
        assert_eq!(
            g.check_range(GIB, u64::MAX - 0xffff),
            Err(TceError::Overflow)
        );
        assert_eq!(g.check_phys(0x10000, 0x10000), Ok(()));
        assert_eq!(
            g.check_phys(0x11000, 0x10000),
            Err(TceError::MisalignedPhys)
        );
        assert_eq!(
            g.check_phys(u64::MAX - 0xffff, 0x20000),
            Err(TceError::Overflow)
        );
        assert_eq!(g.check_phys(1 << 56, 0x10000), Err(TceError::PhysTooLarge));
    }

    #[test]
    fn indices_use_iova_bits() {
        // 2 levels of 512 entries, 4K pages: top index = pfn bits 9..18.
        let g = Geometry::new(1 << 59, 1 << 30, 12, 2).unwrap();
        let pfn = ((1u64 << 59) + 0x1234_5000) >> 12;
        assert_eq!(g.index(pfn, 0), (0x12345 >> 9) & 511);
        assert_eq!(g.index(pfn, 1), 0x12345 & 511);
    }

    /// `window_index` says what `check_range` says of `count` pages (at
    /// least one), for addresses and counts around every edge.
    #[test]
    fn window_index_agrees_with_check_range() {
        let g = Geometry::new(0x8_0000_0000, 1 << 30, 12, 2).unwrap();
        let page = g.page_size();
        let (start, end) = (g.bus_offset(), g.window_last() + 1);
        let iovas = [
            0,
            1,
            start - page,
            start - 1,
            start,
            start + 1,
            start + page,
            end - page,
            end - page + 1,
            end - 1,
            end,
            end + page,
            u64::MAX - page + 1,
            u64::MAX,
        ];
        let pages = g.window_pages();
        let counts = [
            0,
            1,
            2,
            3,
            pages - 1,
            pages,
            pages + 1,
            u64::MAX / page,
            u64::MAX / page + 1,
            u64::MAX,
        ];
        for &iova in &iovas {
            for &count in &counts {
                let size = count.max(1).checked_mul(page);
                let expected = size
                    .and_then(|size| g.check_range(iova, size).ok())
                    .map(|(first, _)| first - (start >> g.page_shift()));
                assert_eq!(
                    g.window_index(iova, count),
                    expected,
                    "iova {iova:#x} count {count}"
                );
            }
        }
        assert_eq!(g.window_index(start + 3 * page, 5), Some(3));
        assert_eq!(g.window_index(end - page, 1), Some(pages - 1));
    }
}
