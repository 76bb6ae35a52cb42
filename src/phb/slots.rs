//! The TVE value firmware wants in every slot of every PE: the source of
//! truth a generation writes its TVT from (the hardware TVT differs only
//! while a PE is DMA-frozen), and which slots a shared table holds.
//!
//! Slot `slot` of PE `pe` is TVT index `pe * 2 + slot` on every generation
//! (the TVT select bit is PCI address bit 59).

use super::{PhbError, SLOTS_PER_PE};
use alloc::vec;
use alloc::vec::Vec;

/// A slot's TVT index and what firmware holds for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TveSlots {
    tve: Vec<u64>,
    shared: Vec<bool>,
}

impl TveSlots {
    /// Every slot of `num_pes` PEs invalid and unshared.
    pub fn new(num_pes: u32) -> TveSlots {
        let n = (SLOTS_PER_PE * num_pes) as usize;
        TveSlots {
            tve: vec![0; n],
            shared: vec![false; n],
        }
    }

    /// Number of PEs.
    pub fn num_pes(&self) -> u32 {
        self.tve.len() as u32 / SLOTS_PER_PE
    }

    /// Number of TVT entries (two per PE).
    pub fn len(&self) -> u32 {
        self.tve.len() as u32
    }

    /// Whether there are no slots (never, for a PHB with PEs).
    pub fn is_empty(&self) -> bool {
        self.tve.is_empty()
    }

    /// The TVT index of `slot` of `pe`: [`PhbError::PeRange`] for a PE at or
    /// above the PE count, [`PhbError::WindowId`] for a slot other than 0, 1.
    pub fn index(&self, pe: u64, slot: u32) -> Result<u32, PhbError> {
        if pe >= self.num_pes() as u64 {
            return Err(PhbError::PeRange);
        }
        if slot >= SLOTS_PER_PE {
            return Err(PhbError::WindowId);
        }
        Ok(pe as u32 * SLOTS_PER_PE + slot)
    }

    /// The TVE firmware holds at TVT index `w`.
    pub fn tve(&self, w: u32) -> u64 {
        self.tve[w as usize]
    }

    /// Whether TVT index `w` is held by a shared table.
    pub fn is_shared(&self, w: u32) -> bool {
        self.shared[w as usize]
    }

    /// Records `tve` at index `w` (held by a shared table if `shared`);
    /// returns the TVE it replaces.
    pub fn set(&mut self, w: u32, tve: u64, shared: bool) -> u64 {
        self.shared[w as usize] = shared;
        core::mem::replace(&mut self.tve[w as usize], tve)
    }

    /// Every slot invalid and unshared.
    pub fn clear(&mut self) {
        self.tve.iter_mut().for_each(|t| *t = 0);
        self.shared.iter_mut().for_each(|s| *s = false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_checks_pe_and_slot() {
        let s = TveSlots::new(256);
        assert_eq!(s.len(), 512);
        assert_eq!(s.index(3, 1), Ok(7));
        assert_eq!(s.index(255, 0), Ok(510));
        assert_eq!(s.index(256, 0), Err(PhbError::PeRange));
        assert_eq!(s.index(u64::MAX, 0), Err(PhbError::PeRange));
        assert_eq!(s.index(0, 2), Err(PhbError::WindowId));
    }

    #[test]
    fn set_returns_the_old_value_and_clear_resets() {
        let mut s = TveSlots::new(2);
        assert_eq!(s.set(3, 0x55, true), 0);
        assert!(s.is_shared(3));
        assert_eq!(s.set(3, 0x66, false), 0x55);
        assert!(!s.is_shared(3));
        s.clear();
        assert_eq!(s.tve(3), 0);
    }
}
