//! A host-side model of how the PHB translates a DMA address (DESIGN §6).
//!
//! It is written from the hardware description only and shares no code with
//! the table: it decodes a raw IODA3 TVE itself, forms each entry address by
//! OR-ing the index into the level base, and reads big-endian entries out of a
//! [`MemoryImage`]. Tests compare its answers with a simple model of what was
//! mapped; a table that lays out its levels wrongly (misaligned levels,
//! wrong index bits, wrong byte order) disagrees with it.
//!
//! The first level is indexed by the address bits starting at
//! `(tts + 8) * (levels - 1) + page_shift`; each further level by the next
//! `tts + 8` bits below. Bits above `(tts + 8) * levels + page_shift` (the
//! window) take no part, bit 59 included.

#![deny(unsafe_code)]

use crate::iopt::Perm;
use std::collections::BTreeMap;

/// Bytes of memory at known physical addresses (a copy of a table's levels).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryImage {
    regions: BTreeMap<u64, Vec<u8>>,
}

impl MemoryImage {
    /// Adds `bytes` at physical address `phys`.
    pub fn insert(&mut self, phys: u64, bytes: Vec<u8>) {
        self.regions.insert(phys, bytes);
    }

    /// The regions: start address and bytes.
    pub fn regions(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.regions.iter().map(|(&a, b)| (a, b.as_slice()))
    }

    /// Total bytes in the image.
    pub fn total_bytes(&self) -> u64 {
        self.regions.values().map(|b| b.len() as u64).sum()
    }

    /// The big-endian `u64` at `addr`, if all 8 bytes are in one region.
    pub fn read_be64(&self, addr: u64) -> Option<u64> {
        let (&start, bytes) = self.regions.range(..=addr).next_back()?;
        let offset = usize::try_from(addr - start).ok()?;
        let word = bytes.get(offset..offset.checked_add(8)?)?;
        Some(u64::from_be_bytes(word.try_into().ok()?))
    }
}

/// The result of a successful translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Physical address the DMA address reaches.
    pub phys: u64,
    /// What the device may do there (never empty).
    pub perm: Perm,
}

/// Why the PHB would refuse a DMA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkFault {
    /// The TVE's table-size field is 0.
    InvalidTve,
    /// The TVE is a bypass (untranslated) window, which this walker does not model.
    Bypass,
    /// The TVE's levels field is above 4 (more than 5 levels).
    BadLevels,
    /// An entry address outside the memory image (the PHB would read garbage).
    NoMemory(u64),
    /// An indirect entry without R or W, at this entry address.
    InvalidIndirect(u64),
    /// The final TCE has neither R nor W.
    NotMapped,
}

/// Translates DMA address `addr` through the table described by `tve`,
/// reading entries from `mem`.
pub fn translate(tve: u64, addr: u64, mem: &MemoryImage) -> Result<Translation, WalkFault> {
    let page_field = tve & 0x1f;
    let tts = (tve >> 8) & 0x1f;
    let levels_field = (tve >> 13) & 0x7;
    let mut base = (tve >> 16) << 12;
    if tts == 0 {
        return Err(WalkFault::InvalidTve);
    }
    if page_field == 0 {
        return Err(WalkFault::Bypass);
    }
    if levels_field > 4 {
        return Err(WalkFault::BadLevels);
    }
    let page_shift = page_field + 11;
    let bits_per_level = tts + 8;
    let mut shift = bits_per_level * levels_field + page_shift;
    let index_mask = (1u64 << bits_per_level) - 1;
    let mut levels_below = levels_field;
    loop {
        let entry_addr = base | (((addr >> shift) & index_mask) << 3);
        let entry = mem
            .read_be64(entry_addr)
            .ok_or(WalkFault::NoMemory(entry_addr))?;
        if levels_below == 0 {
            let perm = Perm::from_bits_truncate(entry & 0x3);
            if perm.is_empty() {
                return Err(WalkFault::NotMapped);
            }
            let page_mask = (1u64 << page_shift) - 1;
            return Ok(Translation {
                phys: (entry & !page_mask) | (addr & page_mask),
                perm,
            });
        }
        if entry & 0x3 == 0 {
            return Err(WalkFault::InvalidIndirect(entry_addr));
        }
        base = entry & !0xfff;
        shift -= bits_per_level;
        levels_below -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(vals: &[(usize, u64)], len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        for &(idx, v) in vals {
            bytes[idx * 8..idx * 8 + 8].copy_from_slice(&v.to_be_bytes());
        }
        bytes
    }

    /// A hand-built two-level table of 512-entry levels, 4K pages.
    #[test]
    fn hand_built_two_levels() {
        let mut mem = MemoryImage::default();
        // Top at 0x10000: entry 3 -> leaf at 0x20000.
        mem.insert(0x10000, words(&[(3, 0x20003)], 4096));
        // Leaf: entry 5 -> page 0xabc000, read only; entry 6 has no permission.
        mem.insert(0x20000, words(&[(5, 0xabc001), (6, 0xdef000)], 4096));
        // TVE: table 0x10000, 2 levels (field 1), tts 1, 4K pages (field 1).
        let tve = (0x10000u64 >> 12) << 16 | 1 << 13 | 1 << 8 | 1;
        let addr = (3 << 21) | (5 << 12) | 0x123;
        let t = translate(tve, addr, &mem).unwrap();
        assert_eq!(
            t,
            Translation {
                phys: 0xabc123,
                perm: Perm::READ
            }
        );
        // Bits above the window (bit 59, bit 40) are dropped.
        assert_eq!(translate(tve, addr | 1 << 59 | 1 << 40, &mem), Ok(t));
        assert_eq!(
            translate(tve, (3 << 21) | (6 << 12), &mem),
            Err(WalkFault::NotMapped)
        );
        assert_eq!(
            translate(tve, 4 << 21, &mem),
            Err(WalkFault::InvalidIndirect(0x10020))
        );
        assert_eq!(
            translate(tve & !0x1f00, addr, &mem),
            Err(WalkFault::InvalidTve)
        );
        assert_eq!(translate(tve & !0x1f, addr, &mem), Err(WalkFault::Bypass));
        assert_eq!(
            translate(tve | 7 << 13, addr, &mem),
            Err(WalkFault::BadLevels)
        );
    }

    #[test]
    fn or_indexing_reads_outside_a_misaligned_level() {
        // A level at 0x10800 (not 4 KiB aligned): index 0x100 is OR-ed into the
        // base and lands inside the level's first half, not at base + 0x800.
        let mut mem = MemoryImage::default();
        mem.insert(0x10000, vec![0; 0x2000]);
        let tve = (0x10800u64 >> 12) << 16 | 1 << 8 | 1;
        // (0x10800 >> 12) << 12 = 0x10000: the TVE cannot even hold the low bits.
        assert_eq!(translate(tve, 0x100 << 12, &mem), Err(WalkFault::NotMapped));
        assert_eq!(mem.read_be64(0x11ff9), None);
        assert_eq!(mem.read_be64(0x12000), None);
    }
}
