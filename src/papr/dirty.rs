//! The per-partition dirty log: logical pages a device may have written.
//!
//! When a TCE that had write permission is replaced or cleared, the device may
//! have written its page since it was mapped, so the page is marked here (for
//! migration or checkpointing, which read and clear the log). One bit per
//! 4 KiB of each RAM region; a larger IOMMU page marks every 4 KiB inside it.
//! Marking tests the bit before setting it, so re-marking a dirty page is a
//! plain load, not a read-modify-write.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::partition::{RAM_GRANULE, RamMap};

/// Bitmaps, one per RAM region, in the RAM map's order.
pub(crate) struct DirtyLog {
    maps: Vec<Bitmap>,
}

struct Bitmap {
    logical: u64,
    pages: u64,
    words: Vec<AtomicU64>,
}

impl DirtyLog {
    pub(crate) fn new(ram: &RamMap) -> DirtyLog {
        let maps = ram
            .regions()
            .iter()
            .map(|r| {
                let pages = r.size / RAM_GRANULE;
                Bitmap {
                    logical: r.logical,
                    pages,
                    words: (0..pages.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
                }
            })
            .collect();
        DirtyLog { maps }
    }

    /// Marks the 4 KiB page at offset `offset` of RAM region `ram` (what
    /// replacing one writable 4 KiB TCE does): [`mark`](Self::mark) of one
    /// page, one bit of one word. Out of range: ignored.
    #[inline]
    pub(crate) fn mark_page(&self, ram: usize, offset: u64) {
        let bit = offset / RAM_GRANULE;
        let word = self
            .maps
            .get(ram)
            .filter(|map| bit < map.pages)
            .and_then(|map| map.words.get(usize::try_from(bit / 64).ok()?));
        if let Some(word) = word {
            mark_word(word, 1 << (bit % 64));
        }
    }

    /// Marks `bytes` (a multiple of 4 KiB; at least one page is marked) from
    /// offset `offset` of RAM region `ram`, a word at a time. Out-of-range
    /// marks are ignored (callers pass ranges validated against the region).
    #[inline]
    pub(crate) fn mark(&self, ram: usize, offset: u64, bytes: u64) {
        let Some(map) = self.maps.get(ram) else {
            return;
        };
        let first = offset / RAM_GRANULE;
        let end = first
            .saturating_add((bytes / RAM_GRANULE).max(1))
            .min(map.pages);
        if first >= end {
            return;
        }
        // Bits `first..end`: a partial first and last word, whole words
        // between (a plain load each once they are dirty).
        let (fw, lw) = (first / 64, (end - 1) / 64);
        let head = u64::MAX << (first % 64);
        let tail = u64::MAX >> (63 - (end - 1) % 64);
        let Some(words) = map.words.get(fw as usize..=lw as usize) else {
            return;
        };
        match words {
            [] => {}
            [only] => mark_word(only, head & tail),
            [start, middle @ .., last] => {
                mark_word(start, head);
                for word in middle {
                    mark_word(word, u64::MAX);
                }
                mark_word(last, tail);
            }
        }
    }

    /// The bitmap words of RAM region `ram` (bit `i` = its `i`th 4 KiB page),
    /// for callers that mark many pages of one region.
    pub(crate) fn words(&self, ram: usize) -> &[AtomicU64] {
        self.maps.get(ram).map_or(&[], |m| &m.words)
    }

    /// Logical addresses of the dirty 4 KiB pages, ascending; with `clear`,
    /// the log is emptied as it is read (each word atomically).
    pub(crate) fn pages(&self, clear: bool) -> Vec<u64> {
        let mut out = Vec::new();
        for map in &self.maps {
            for (w, word) in map.words.iter().enumerate() {
                let bits = if clear {
                    word.swap(0, Ordering::Relaxed)
                } else {
                    word.load(Ordering::Relaxed)
                };
                let mut rest = bits;
                while rest != 0 {
                    let b = rest.trailing_zeros() as u64;
                    rest &= rest - 1;
                    out.push(map.logical + (w as u64 * 64 + b) * RAM_GRANULE);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// Sets the bits of `mask` in `word`; a plain load when they are all set.
///
/// Every writer of the log holds the partition lock (hypercalls mark, a
/// host operation takes and clears), so a load and a store make the change
/// whole: no atomic read-modify-write on a hypercall's path.
#[inline]
pub(crate) fn mark_word(word: &AtomicU64, mask: u64) {
    let old = word.load(Ordering::Relaxed);
    if old & mask != mask {
        word.store(old | mask, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::papr::RamRegion;

    #[test]
    fn mark_read_clear() {
        let ram = RamMap::new(&[
            RamRegion {
                logical: 0x100_0000,
                host: 0,
                size: 0x10_0000,
            },
            RamRegion {
                logical: 0,
                host: 0x100_0000,
                size: 0x1000 * 70,
            },
        ])
        .unwrap();
        let log = DirtyLog::new(&ram);
        log.mark(0, 0x1000 * 65, 0x1000);
        log.mark(1, 0x1_0000, 0x2_0000); // a 128K page: 32 bits
        log.mark(0, 0x1000 * 65, 0x1000);
        log.mark(0, 0x1000 * 70, 0x1000); // past the end: ignored
        let pages = log.pages(false);
        assert_eq!(pages.len(), 33);
        assert_eq!(pages[0], 0x41000);
        assert_eq!(pages[1], 0x101_0000);
        assert_eq!(log.pages(true), pages);
        // A run across words: bits 60..=130 of region 1.
        log.mark(1, 60 * 0x1000, 71 * 0x1000);
        let pages = log.pages(true);
        assert_eq!(pages.len(), 71);
        assert_eq!(pages[0], 0x100_0000 + 60 * 0x1000);
        assert_eq!(pages[70], 0x100_0000 + 130 * 0x1000);
        // Clamped at the end of the region (256 pages).
        log.mark(1, 250 * 0x1000, 20 * 0x1000);
        assert_eq!(log.pages(true).len(), 6);
        assert!(log.pages(false).is_empty());
    }

    /// One page marked by `mark_page` is what `mark` of that page marks, in
    /// every region, at every page, and past the end (nothing).
    #[test]
    fn a_page_marks_what_a_one_page_range_marks() {
        let ram = RamMap::new(&[
            RamRegion {
                logical: 0,
                host: 0x100_0000,
                size: 0x1000 * 70,
            },
            RamRegion {
                logical: 0x100_0000,
                host: 0,
                size: 0x1000 * 129,
            },
        ])
        .unwrap();
        let (one, range) = (DirtyLog::new(&ram), DirtyLog::new(&ram));
        for (r, pages) in [(0, 70u64), (1, 129)] {
            for p in 0..pages + 70 {
                one.mark_page(r, p * 0x1000);
                range.mark(r, p * 0x1000, 0x1000);
                assert_eq!(one.pages(true), range.pages(true), "region {r} page {p}");
            }
        }
        one.mark_page(2, 0);
        assert!(one.pages(false).is_empty(), "no region 2");
    }

    /// Ranges of every length at every offset, against one bit at a time.
    #[test]
    fn ranges_mark_exactly_their_pages() {
        let ram = RamMap::new(&[RamRegion {
            logical: 0,
            host: 0,
            size: 0x1000 * 300,
        }])
        .unwrap();
        let log = DirtyLog::new(&ram);
        for first in 0..300u64 {
            for pages in [0u64, 1, 2, 63, 64, 65, 127, 128, 129, 200, 400] {
                log.mark(0, first * 0x1000, pages * 0x1000);
                let end = (first + pages.max(1)).min(300);
                let want: Vec<u64> = (first..end).map(|p| p * 0x1000).collect();
                assert_eq!(log.pages(true), want, "first {first} pages {pages}");
            }
        }
        // Past the end, or overflowing: nothing.
        log.mark(0, 300 * 0x1000, 0x1000);
        log.mark(0, u64::MAX - 0xfff, u64::MAX);
        assert!(log.pages(true).is_empty());
    }
}
