//! Batched stores into a TCE table, for callers that serialise their writers.
//!
//! [`TceTable::exchange`] is one atomic swap and one walk per entry, which is
//! right for a single entry and for writers that race on the same entry. A
//! hypercall that writes up to 512 entries under its own lock needs neither:
//! it keeps its own record of the old entries, so it can walk to each leaf
//! level once and fill it with plain atomic stores (no read-modify-write).
//!
//! Every method here is all-or-nothing like the rest of the table: every
//! argument is checked, and every level the batch needs is allocated and
//! installed (empty) by [`TceTable::prepare_levels`], before the first leaf
//! entry changes. No entry of a refused batch ever becomes valid, not even
//! for a moment. Levels are reached only through the table's own level code.

#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering, fence};

use super::page_run::BePageRun;
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
        self.run_range(iova, tces.len() as u64)?;
        // One pass folding every entry's bad bits: any misalignment or
        // address bit at or above PHYS_LIMIT shows up in the fold.
        let offset_bits = (self.geometry().page_size() - 1) & !Perm::all().bits();
        let mut bad = 0u64;
        for t in tces {
            bad |= t.raw() & (offset_bits | !(super::PHYS_LIMIT - 1));
        }
        if bad & offset_bits != 0 {
            return Err(TceError::MisalignedPhys);
        }
        if bad != 0 {
            return Err(TceError::PhysTooLarge);
        }
        self.store_checked_run(iova, tces)
    }

    /// [`store_run`](Self::store_run) for entries the caller has already
    /// checked: each is [`Tce::NONE`]-like (no permission) or names a page
    /// aligned to the table's page size below [`PHYS_LIMIT`](super::PHYS_LIMIT).
    /// The entries are not checked again (debug builds assert it); the range
    /// and level allocation still are, before anything changes.
    pub(crate) fn store_checked_run(&self, iova: u64, tces: &[Tce]) -> Result<(), TceError> {
        if tces.is_empty() {
            return Ok(());
        }
        debug_assert!(tces.iter().all(|t| self.check_entry(*t).is_ok()));
        let (first, last) = self.run_range(iova, tces.len() as u64)?;
        if let Some(entries) = self.one_leaf_run(first, last) {
            for (entry, tce) in entries.iter().zip(tces) {
                entry.store(tce.raw().to_be(), Ordering::Relaxed);
            }
            fence(Ordering::Release);
            return Ok(());
        }
        // Only leaves holding a valid new entry need to exist; a missing leaf
        // already reads as NONE everywhere.
        let lo = tces.iter().position(|t| t.is_valid());
        let hi = tces.iter().rposition(|t| t.is_valid());
        if let (Some(lo), Some(hi)) = (lo, hi) {
            self.prepare_levels(first + lo as u64, first + hi as u64)?;
        }
        self.for_each_leaf_run(first, last, |pfn, entries| {
            if let Some(entries) = entries {
                let src = &tces[(pfn - first) as usize..][..entries.len()];
                for (entry, tce) in entries.iter().zip(src) {
                    entry.store(tce.raw().to_be(), Ordering::Relaxed);
                }
            }
        });
        fence(Ordering::Release);
        Ok(())
    }

    /// Stores `src[i] + delta` (wrapping) as the entry of page
    /// `iova + i * page_size`, for entries the caller has already checked:
    /// each has a permission and names a page aligned to the table's page
    /// size below [`PHYS_LIMIT`](super::PHYS_LIMIT). Otherwise as
    /// [`store_checked_run`](Self::store_checked_run): the range and level
    /// allocation are checked before anything changes.
    pub(crate) fn store_checked_offset_run(
        &self,
        iova: u64,
        src: &[u64],
        delta: u64,
    ) -> Result<(), TceError> {
        debug_assert!(src.iter().all(|&g| {
            let t = Tce::from_raw(g.wrapping_add(delta));
            t.is_valid() && self.check_entry(t).is_ok()
        }));
        self.store_valid_run(iova, src, |g| g.wrapping_add(delta).to_be())
    }

    /// [`store_checked_offset_run`](Self::store_checked_offset_run) for
    /// values kept big-endian (as a guest lists them) and entries that are
    /// a bitwise function of them: stores `src[i] ^ key`, both big-endian,
    /// as the entry of page `iova + i * page_size`. On the big-endian target
    /// that is the value itself; on a little-endian host no byte is swapped
    /// either (`^` commutes with the swap).
    pub(crate) fn store_checked_be_xor_run(
        &self,
        iova: u64,
        src: &[u64],
        key: u64,
    ) -> Result<(), TceError> {
        debug_assert!(src.iter().all(|&g| {
            let t = Tce::from_raw(u64::from_be(g ^ key));
            t.is_valid() && self.check_entry(t).is_ok()
        }));
        self.store_valid_run(iova, src, |g| g ^ key)
    }

    /// Stores `entry(src[i])` (already big-endian) as the entry of page
    /// `iova + i * page_size`; every entry is valid, so every leaf of the
    /// range is prepared first.
    #[inline(always)]
    fn store_valid_run(
        &self,
        iova: u64,
        src: &[u64],
        entry: impl Fn(u64) -> u64 + Copy,
    ) -> Result<(), TceError> {
        if src.is_empty() {
            return Ok(());
        }
        let (first, last) = self.run_range(iova, src.len() as u64)?;
        if let Some(entries) = self.one_leaf_run(first, last) {
            store_each(entries, src, entry);
            fence(Ordering::Release);
            return Ok(());
        }
        // Every entry is valid: every leaf of the range must exist.
        self.prepare_levels(first, last)?;
        self.for_each_leaf_run(first, last, |pfn, entries| {
            if let Some(entries) = entries {
                store_each(
                    entries,
                    &src[(pfn - first) as usize..][..entries.len()],
                    entry,
                );
            }
        });
        fence(Ordering::Release);
        Ok(())
    }

    /// Stores the same entry `tce` for `count` pages from `iova`.
    ///
    /// Same contract as [`store_run`](Self::store_run); `count == 0` does
    /// nothing, and an invalid `tce` never allocates a level.
    pub fn fill_run(&self, iova: u64, tce: Tce, count: u64) -> Result<(), TceError> {
        if count == 0 {
            return Ok(());
        }
        if count == 1 {
            return self.store_one(iova, tce);
        }
        let (first, last) = self.run_range(iova, count)?;
        self.check_entry(tce)?;
        let raw = tce.raw().to_be();
        if let Some(entries) = self.one_leaf_run(first, last) {
            store_same(entries, raw);
            fence(Ordering::Release);
            return Ok(());
        }
        if tce.is_valid() {
            self.prepare_levels(first, last)?;
        }
        self.for_each_leaf_run(first, last, |_, entries| {
            store_same(entries.unwrap_or(&[]), raw);
        });
        fence(Ordering::Release);
        Ok(())
    }

    /// Stores `tce`, which the caller has already checked (as for
    /// [`store_checked_run`](Self::store_checked_run)), as the entries of
    /// pages `first..first + count` (page numbers inside the window), if they
    /// lie in one leaf level that exists: then `true`. Else `false`, having
    /// stored nothing (and allocated nothing).
    #[inline]
    pub(crate) fn fill_existing_leaf(&self, first: u64, count: u64, tce: Tce) -> bool {
        debug_assert!(self.check_entry(tce).is_ok());
        self.store_progression_existing(first, count, tce.raw(), 0)
    }

    /// Stores the progression `head + i * step` (raw entries, each checked
    /// by the caller as for [`store_checked_run`](Self::store_checked_run);
    /// with `step` 0 the one entry may be a clear) as the entries of
    /// pages `first..first + count` (page numbers inside the window), if
    /// they lie in one leaf level that exists and the progression is one
    /// entry repeated (`step` 0) or consecutive pages of 4 KiB or 64 KiB
    /// (`step` the page): then `true`. Else `false`, having stored nothing
    /// (and allocated nothing). What a listed run becomes: no list to read.
    #[inline(always)]
    pub(crate) fn store_progression_existing(
        &self,
        first: u64,
        count: u64,
        head: u64,
        step: u64,
    ) -> bool {
        self.progression_existing(first, count, head, step)
            .map(ExistingRun::store)
            .is_some()
    }

    /// Where [`store_progression_existing`](Self::store_progression_existing)
    /// would store, if it would: found and checked, nothing stored yet, so
    /// that a caller can do its own bookkeeping between the last check and
    /// the stores ([`ExistingRun::store`], which cannot fail).
    #[inline(always)]
    pub(crate) fn progression_existing(
        &self,
        first: u64,
        count: u64,
        head: u64,
        step: u64,
    ) -> Option<ExistingRun<'_>> {
        debug_assert!([0, count.saturating_sub(1)].iter().all(|&i| {
            let t = Tce::from_raw(head.wrapping_add(step.wrapping_mul(i)));
            (step == 0 || t.is_valid()) && self.check_entry(t).is_ok()
        }));
        let page = self.geometry().page_size();
        let run = match step {
            0 => None,
            _ if step == page => Some(BePageRun::new(head, page)?),
            _ => return None,
        };
        // No entry (`count == 0`) is no run either.
        let last = (first + count).checked_sub(1).filter(|_| count > 0)?;
        let entries = self.one_leaf_run(first, last)?;
        Some(ExistingRun { entries, run, head })
    }

    /// [`fill_run`](Self::fill_run) of one page (`H_PUT_TCE`): one walk.
    fn store_one(&self, iova: u64, tce: Tce) -> Result<(), TceError> {
        let g = self.geometry();
        let (pfn, _) = g.check_range(iova, g.page_size())?;
        self.check_entry(tce)?;
        let entry = match self.one_leaf_run(pfn, pfn) {
            Some(entry) => entry,
            None if !tce.is_valid() => return Ok(()),
            None => {
                self.prepare_levels(pfn, pfn)?;
                // Levels are never removed, so the leaf is there now.
                self.one_leaf_run(pfn, pfn).ok_or(TceError::NoMemory)?
            }
        };
        store_same(entry, tce.raw().to_be());
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
}

/// The entries of a leaf level that [`TceTable::progression_existing`]
/// found for a progression, and the progression: stored by
/// [`store`](Self::store).
pub(crate) struct ExistingRun<'t> {
    entries: &'t [AtomicU64],
    /// Consecutive pages; `None`: `head` repeated.
    run: Option<BePageRun>,
    head: u64,
}

impl ExistingRun<'_> {
    /// Stores the progression, each entry with one 8-byte store, ordered
    /// before the kill that follows.
    #[inline(always)]
    pub(crate) fn store(self) {
        match self.run {
            Some(run) => run.store(self.entries),
            None => store_same(self.entries, self.head.to_be()),
        }
        fence(Ordering::Release);
    }
}

/// Stores `raw` into every entry, eight stores per loop turn (a loop of one
/// store is bound by its own branch, not by the stores).
#[inline(always)]
fn store_same(entries: &[AtomicU64], raw: u64) {
    let (entries8, rest) = entries.as_chunks::<8>();
    for e in entries8 {
        for e in e {
            e.store(raw, Ordering::Relaxed);
        }
    }
    for e in rest {
        e.store(raw, Ordering::Relaxed);
    }
}

/// Stores `entry(src[i])` (big-endian) into `entries[i]`, for `i` below
/// the shorter length.
///
/// Sixteen stores per loop turn, each entry and each source word reached
/// through a pointer of its own. With one index for both (what the compiler
/// makes of a zip of the two slices) every store is addressed base plus
/// index, which Intel cores issue as two micro-operations, and the pass,
/// bound by issuing them, took about 1.25x as long on the bench's host.
#[inline(always)]
pub(crate) fn store_each(entries: &[AtomicU64], src: &[u64], entry: impl Fn(u64) -> u64) {
    let n = entries.len().min(src.len());
    let (entries16, entries_rest) = entries[..n].as_chunks::<16>();
    let (src16, src_rest) = src[..n].as_chunks::<16>();
    let mut src16 = src16.iter();
    for e in entries16 {
        let Some(g) = src16.next() else { break };
        for (e, &g) in e.iter().zip(g) {
            e.store(entry(g), Ordering::Relaxed);
        }
    }
    for (e, &g) in entries_rest.iter().zip(src_rest) {
        e.store(entry(g), Ordering::Relaxed);
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

    /// A progression is stored entry by entry as `head + i * step`: one
    /// value, or consecutive pages of 4 KiB or 64 KiB from the page table
    /// (also across a 512-page block); only into a leaf level that is
    /// there, and no other step (nor consecutive pages of other sizes).
    #[test]
    fn progressions_are_stored_as_they_run() {
        for page_shift in [12u32, 16, 21] {
            let page = 1u64 << page_shift;
            // 512 entries per level.
            let g = Geometry::new(0, page << 18, page_shift, 2).unwrap();
            let t = TceTable::new(g, GlobalPages).unwrap();
            // The first two leaf levels exist.
            t.fill_run(0, Tce::new(page, RW), 1024).unwrap();
            for step in [0, page, 2 * page] {
                let stored = step == 0 || (step == page && page_shift < 21);
                for (first, count, head) in [
                    (0, 512, 0x4000_0000 | 3),
                    (512, 100, (509 * page) | 1), // across a 512-page block
                    (700, 1, (7 * page) | 2),
                    (520, 300, 0x7_0000_0000 | 3),
                ] {
                    let before: Vec<u64> = (0..count)
                        .map(|i| t.entry(first + i).unwrap().load(Ordering::Relaxed))
                        .collect();
                    assert_eq!(
                        t.store_progression_existing(first, count, head, step),
                        stored
                    );
                    for i in 0..count {
                        let raw = t.entry(first + i).unwrap().load(Ordering::Relaxed);
                        let expected = if stored {
                            (head + i * step).to_be()
                        } else {
                            before[i as usize]
                        };
                        assert_eq!(raw, expected, "page {page:#x} step {step:#x} entry {i}");
                    }
                }
                // Over two leaf levels, or in a missing one: nothing stored.
                let before = t.entry(511).unwrap().load(Ordering::Relaxed);
                assert!(!t.store_progression_existing(511, 2, page | 3, step));
                assert_eq!(t.entry(511).unwrap().load(Ordering::Relaxed), before);
                assert!(!t.store_progression_existing(1024, 1, page | 3, step));
                assert!(!t.store_progression_existing(5, 0, page | 3, step));
            }
            assert!(!t.fill_existing_leaf(5, 0, Tce::new(page, RW)));
        }
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

    #[test]
    fn xored_big_endian_run_matches_store_run() {
        for levels in 1..=3 {
            let a = table(levels);
            let b = table(levels);
            // Guest values in [1 MiB, 2 MiB) with flags, host base 1 GiB:
            // the entry is the value's offset in 1 MiB in the host base, so
            // the value xor (1 MiB xor 1 GiB).
            let values: Vec<u64> = (0..700u64)
                .map(|i| (0x10_0000 + (i * 0x5000) % 0x10_0000) | (1 + i % 3))
                .collect();
            let be: Vec<u64> = values.iter().map(|v| v.to_be()).collect();
            let tces: Vec<Tce> = values
                .iter()
                .map(|&v| Tce::from_raw(0x4000_0000 + (v - 0x10_0000)))
                .collect();
            let iova = 0x20_0000 - 100 * 0x1000;
            a.store_checked_be_xor_run(iova, &be, 0x4010_0000u64.to_be())
                .unwrap();
            b.store_run(iova, &tces).unwrap();
            for i in 0..800u64 {
                let at = iova + (i << 12);
                assert_eq!(
                    a.get(at).unwrap(),
                    b.get(at).unwrap(),
                    "levels {levels} page {i}"
                );
            }
        }
    }
}
