//! Batched stores into a TCE table, for callers that serialise their writers.
//!
//! [`TceTable::exchange`] is one atomic swap and one walk per entry, which is
//! right for a single entry and for writers that race on the same entry. A
//! hypercall that writes up to 512 entries under its own lock needs neither:
//! it keeps its own record of the old entries, so it can walk to each leaf
//! level once and fill it with plain atomic stores (no read-modify-write).
//!
//! Both methods here are all-or-nothing like the rest of the table: every
//! argument is checked, and every leaf level the batch needs exists, before
//! the first entry changes.
//!
//! Levels are reached by reading the table's own indirect entries, as the PHB
//! does (DESIGN §6). That relies on the invariants `tce/mod.rs` states and
//! `level.rs` keeps: the top level is at [`TceTable::top_phys`], every level is
//! `1 << level_shift` bytes from the table's [`PageAllocator`], an indirect
//! entry is `next level | R | W` (big-endian), and levels are only ever added
//! (with a compare-exchange) and freed when the table is dropped.

use core::sync::atomic::{AtomicU64, Ordering, fence};

use super::{Tce, TceError, TceTable};
use crate::iopt::Perm;
use crate::page_alloc::PageAllocator;

impl<A: PageAllocator> TceTable<A> {
    /// Stores `tces[i]` as the entry of page `iova + i * page_size`.
    ///
    /// The old entries are not returned: use this only when every writer of
    /// the range is serialised by the caller and the caller keeps its own
    /// record of what it stored (a concurrent [`exchange`](Self::exchange) on
    /// the same entries could lose its old value). Fails without changing
    /// anything if the range is outside the window, an entry is misaligned or
    /// too large, or a level cannot be allocated. `tces` may be empty.
    pub fn store_run(&self, iova: u64, tces: &[Tce]) -> Result<(), TceError> {
        if tces.is_empty() {
            return Ok(());
        }
        let (first, last) = self.run_range(iova, tces.len() as u64)?;
        // One pass folding every entry's bad bits: any misalignment or
        // address bit at or above PHYS_LIMIT shows up in the fold.
        let flags = Perm::all().bits();
        let offset_bits = (self.geometry().page_size() - 1) & !flags;
        let mut bad = 0u64;
        for t in tces {
            bad |= t.raw() & offset_bits;
            bad |= t.raw() & !(super::PHYS_LIMIT - 1);
        }
        if bad & offset_bits != 0 {
            return Err(TceError::MisalignedPhys);
        }
        if bad != 0 {
            return Err(TceError::PhysTooLarge);
        }
        self.ensure_leaves(first, last, |pfn| tces[(pfn - first) as usize])?;
        self.for_each_leaf_run(first, last, |pfn, entries| {
            let src = &tces[(pfn - first) as usize..][..entries.len()];
            for (entry, tce) in entries.iter().zip(src) {
                entry.store(tce.raw().to_be(), Ordering::Relaxed);
            }
        });
        fence(Ordering::Release);
        Ok(())
    }

    /// Stores the same entry `tce` for `count` pages from `iova`.
    ///
    /// Same contract as [`store_run`](Self::store_run); `count == 0` does
    /// nothing.
    pub fn fill_run(&self, iova: u64, tce: Tce, count: u64) -> Result<(), TceError> {
        if count == 0 {
            return Ok(());
        }
        let (first, last) = self.run_range(iova, count)?;
        let flags = Perm::all().bits();
        if tce.raw() & (self.geometry().page_size() - 1) & !flags != 0 {
            return Err(TceError::MisalignedPhys);
        }
        if tce.raw() & !flags >= super::PHYS_LIMIT {
            return Err(TceError::PhysTooLarge);
        }
        self.ensure_leaves(first, last, |_| tce)?;
        let raw = tce.raw().to_be();
        self.for_each_leaf_run(first, last, |_, entries| {
            for entry in entries {
                entry.store(raw, Ordering::Relaxed);
            }
        });
        fence(Ordering::Release);
        Ok(())
    }

    /// First and last page numbers of `count` pages from `iova`, checked
    /// against the window without overflow.
    fn run_range(&self, iova: u64, count: u64) -> Result<(u64, u64), TceError> {
        let size = count
            .checked_mul(self.geometry().page_size())
            .ok_or(TceError::Overflow)?;
        self.geometry().check_range(iova, size)
    }

    /// Makes sure the leaf level of every page in `first..=last` whose new
    /// entry (`new(pfn)`) is valid exists. A missing leaf is installed by an
    /// `exchange` of the first valid entry under it (the value the batch is
    /// about to store there anyway), which is cleared again at once: if a
    /// later allocation fails, only empty levels are left behind, so a failed
    /// call changes no entry. Clearing never allocates, so it cannot fail.
    fn ensure_leaves(
        &self,
        first: u64,
        last: u64,
        new: impl Fn(u64) -> Tce,
    ) -> Result<(), TceError> {
        let shift = self.geometry().page_shift();
        let leaf_pages = 1u64 << self.geometry().entry_bits();
        let mut pfn = first;
        loop {
            let leaf_last = (pfn | (leaf_pages - 1)).min(last);
            if self.leaf_words(pfn).is_none()
                && let Some(v) = (pfn..=leaf_last).find(|&p| new(p).is_valid())
            {
                let installed = self.exchange(v << shift, new(v));
                let _ = self.exchange(v << shift, Tce::NONE);
                installed?;
            }
            if leaf_last == last {
                return Ok(());
            }
            pfn = leaf_last + 1;
        }
    }

    /// Calls `f(pfn, entries)` for each run of pages in `first..=last` that
    /// shares one existing leaf level, with that leaf's entries for the run.
    /// Runs whose leaf is missing are skipped (the caller made sure none of
    /// their entries is valid, and a missing leaf already reads as NONE).
    fn for_each_leaf_run(&self, first: u64, last: u64, mut f: impl FnMut(u64, &[AtomicU64])) {
        let leaf_pages = 1u64 << self.geometry().entry_bits();
        let levels = self.geometry().levels();
        let mut pfn = first;
        loop {
            let leaf_last = (pfn | (leaf_pages - 1)).min(last);
            if let Some(words) = self.leaf_words(pfn) {
                let start = self.geometry().index(pfn, levels - 1);
                let end = start + (leaf_last - pfn) as usize;
                f(pfn, &words[start..=end]);
            }
            if leaf_last == last {
                return;
            }
            pfn = leaf_last + 1;
        }
    }

    /// The entries of the leaf level holding page `pfn`, if it exists.
    fn leaf_words(&self, pfn: u64) -> Option<&[AtomicU64]> {
        let g = self.geometry();
        let mut phys = self.top_phys();
        for depth in 0..g.levels() - 1 {
            let words = self.level_at(phys);
            let raw = u64::from_be(words[g.index(pfn, depth)].load(Ordering::Acquire));
            if raw & Perm::all().bits() == 0 {
                return None;
            }
            phys = raw & !0xfff;
        }
        Some(self.level_at(phys))
    }

    /// The entries of the level at `phys`, which must be the top level or an
    /// address read from one of this table's valid indirect entries.
    fn level_at(&self, phys: u64) -> &[AtomicU64] {
        let len = 1usize << self.geometry().entry_bits();
        // SAFETY: `phys` is the table's top level or was read from a valid
        // indirect entry of this table (`leaf_words` is the only caller), so:
        // - it is a block of `1 << level_shift` bytes the table allocated
        //   from its `PageAllocator`, whose contract makes it CPU-addressable
        //   at `phys`, aligned to its size (so to 8) and owned by the table;
        // - indirect entries are written only by the table's level code,
        //   once, from 0 to `level | R | W`, and levels are freed only when
        //   the table is dropped, which cannot happen while `&self` lives,
        //   so the block outlives the returned borrow;
        // - every CPU access to level memory is through `AtomicU64`, so this
        //   view conflicts with no non-atomic access.
        #[allow(unsafe_code)]
        unsafe {
            core::slice::from_raw_parts(phys as usize as *const AtomicU64, len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iopt::RW;
    use crate::page_alloc::GlobalPages;
    use crate::tce::Geometry;

    fn table(levels: u32) -> TceTable<GlobalPages> {
        TceTable::new(Geometry::new(0, 1 << 30, 12, levels).unwrap(), GlobalPages).unwrap()
    }

    #[test]
    fn store_run_matches_exchange() {
        for levels in 1..=3 {
            let a = table(levels);
            let b = table(levels);
            let tces: Vec<Tce> = (0..700u64)
                .map(|i| {
                    if i % 7 == 3 {
                        Tce::NONE
                    } else {
                        Tce::new(0x1000_0000 + i * 0x3000, RW)
                    }
                })
                .collect();
            // 700 pages from 100 below a 2 MiB (512-entry leaf) boundary.
            let iova = 0x20_0000 - 100 * 0x1000;
            a.store_run(iova, &tces).unwrap();
            for (i, t) in tces.iter().enumerate() {
                b.exchange(iova + ((i as u64) << 12), *t).unwrap();
            }
            for i in 0..800u64 {
                let at = iova + (i << 12);
                assert_eq!(a.get(at).unwrap(), b.get(at).unwrap());
            }
        }
    }

    #[test]
    fn fill_run_and_refusals_change_nothing() {
        let t = table(2);
        t.fill_run(0x20_0000, Tce::new(0x5000, RW), 600).unwrap();
        assert_eq!(
            t.get(0x20_0000 + 599 * 0x1000).unwrap(),
            Tce::new(0x5000, RW)
        );
        let before = t.memory_image();
        assert_eq!(
            t.fill_run(0x1000, Tce::new(0x5800, RW), 3),
            Err(TceError::MisalignedPhys)
        );
        assert_eq!(
            t.store_run(0x1000, &[Tce::NONE, Tce::new(1 << 56, RW)]),
            Err(TceError::PhysTooLarge)
        );
        assert_eq!(
            t.fill_run((1 << 30) - 0x1000, Tce::new(0x5000, RW), 2),
            Err(TceError::OutsideWindow)
        );
        assert_eq!(
            t.fill_run(0, Tce::new(0x5000, RW), u64::MAX),
            Err(TceError::Overflow)
        );
        assert_eq!(t.memory_image(), before);
        // Clearing under a missing leaf allocates nothing.
        let held = t.bytes_held();
        t.fill_run(0x3000_0000, Tce::NONE, 512).unwrap();
        assert_eq!(t.bytes_held(), held);
    }
}
