//! The TCE table: entry operations and the [`IoPageTable`] implementation.
//!
//! Every operation checks all of its input before it changes anything, and
//! allocates every level it will need before it writes the first entry, so a
//! refused operation leaves the table exactly as it was. A run of pages is
//! written by walking to each leaf level once and filling its entries in a
//! tight loop.

#![deny(unsafe_code)]

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering, fence};

use super::level::{Node, Spares, Tree};
use super::{Geometry, Tce, TceError};
use crate::iopt::{Gather, IoPageTable, Perm};
use crate::page_alloc::PageAllocator;
use crate::phb::tve;

/// A TCE table for one DMA window, with its levels allocated from `A`.
///
/// Shared use from several CPUs is safe (`&self` methods); dropping the table
/// frees every level, so it must be unset from every TVE first.
pub struct TceTable<A: PageAllocator> {
    geometry: Geometry,
    pub(super) tree: Tree<A>,
}

impl<A: PageAllocator> fmt::Debug for TceTable<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TceTable")
            .field("geometry", &self.geometry)
            .field("top", &format_args!("{:#x}", self.tree.top_phys()))
            .field("bytes_held", &self.bytes_held())
            .finish()
    }
}

impl<A: PageAllocator> TceTable<A> {
    /// Creates a table of `geometry`, allocating only its top level.
    pub fn new(geometry: Geometry, alloc: A) -> Result<Self, TceError> {
        let tree = Tree::new(alloc, geometry.levels(), geometry.level_shift())?;
        Ok(TceTable { geometry, tree })
    }

    /// The table's geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// Physical address of the top level (what the TVE points at).
    pub fn top_phys(&self) -> u64 {
        self.tree.top_phys()
    }

    /// The IODA3 TVE that makes the PHB walk this table.
    pub fn tve(&self) -> u64 {
        tve::for_table(self.tree.top_phys(), &self.geometry)
    }

    /// Bytes of level memory the table holds.
    pub fn bytes_held(&self) -> u64 {
        self.tree.bytes_held()
    }

    /// The entry for the page at `iova` (page aligned, inside the window).
    /// Never allocates: a page under a missing level reads as [`Tce::NONE`].
    pub fn get(&self, iova: u64) -> Result<Tce, TceError> {
        let (pfn, _) = self.geometry.check_range(iova, self.geometry.page_size())?;
        Ok(match self.leaf_for(pfn) {
            Some(entries) => Tce::from_raw(u64::from_be(
                entries[self.leaf_index(pfn)].load(Ordering::Acquire),
            )),
            None => Tce::NONE,
        })
    }

    /// Stores `new` as the entry for the page at `iova` and returns the entry
    /// it replaced. Replacing a valid entry needs no clear first. An invalid
    /// `new` (no permission) never allocates a level.
    pub fn exchange(&self, iova: u64, new: Tce) -> Result<Tce, TceError> {
        let (pfn, _) = self.geometry.check_range(iova, self.geometry.page_size())?;
        self.check_entry(new)?;
        let entries = match self.leaf_for(pfn) {
            Some(entries) => entries,
            None if !new.is_valid() => return Ok(Tce::NONE),
            None => {
                self.prepare_levels(pfn, pfn)?;
                // Levels are never removed, so the leaf is there now.
                self.leaf_for(pfn).ok_or(TceError::NoMemory)?
            }
        };
        let old = entries[self.leaf_index(pfn)].swap(new.raw().to_be(), Ordering::AcqRel);
        Ok(Tce::from_raw(u64::from_be(old)))
    }

    /// Maps the pages `[iova, iova + size)` to `[phys, phys + size)` with
    /// `perm`, replacing existing entries.
    pub fn map_range(&self, iova: u64, phys: u64, size: u64, perm: Perm) -> Result<(), TceError> {
        let (first, last) = self.geometry.check_range(iova, size)?;
        self.geometry.check_phys(phys, size)?;
        if perm.is_empty() {
            return Err(TceError::NoPermission);
        }
        let mut spares = self
            .tree
            .spares(self.missing(Some(self.tree.top()), 0, first, last))?;
        let mut next = Tce::new(phys, perm).raw();
        self.fill(self.tree.top(), 0, first, last, &mut next, &mut spares)?;
        fence(Ordering::Release);
        Ok(())
    }

    /// Clears the entries of the pages `[iova, iova + size)`. Never allocates;
    /// missing levels are skipped.
    pub fn clear_range(&self, iova: u64, size: u64) -> Result<(), TceError> {
        let (first, last) = self.geometry.check_range(iova, size)?;
        self.clear(self.tree.top(), 0, first, last);
        fence(Ordering::Release);
        Ok(())
    }

    /// A copy of every level's memory, for the reference walker and for
    /// before/after comparisons.
    #[cfg(any(test, feature = "std"))]
    pub fn memory_image(&self) -> super::reference::MemoryImage {
        let mut image = super::reference::MemoryImage::default();
        self.tree.for_each_level(|phys, _depth, words| {
            // Each word already holds the big-endian value; its native bytes
            // are the bytes in memory.
            let bytes = words
                .iter()
                .flat_map(|w| w.load(Ordering::Acquire).to_ne_bytes());
            image.insert(phys, bytes.collect());
        });
        image
    }

    /// Allocates every level that pages `first..=last` (page numbers, as
    /// [`Geometry::check_range`] returns them) need, without writing any leaf
    /// entry: afterwards every leaf level of the range exists.
    ///
    /// All or nothing: the levels are allocated before the first one is
    /// installed, so on failure ([`TceError::NoMemory`]) the table is exactly
    /// as it was. A level is installed with a compare-exchange of its
    /// (indirect) entry; a CPU that loses the race keeps its block and frees it.
    /// A new level is empty, so the device sees nothing new through it.
    pub(crate) fn prepare_levels(&self, first: u64, last: u64) -> Result<(), TceError> {
        let mut present = true;
        self.for_each_leaf_run(first, last, |_, entries| present &= entries.is_some());
        if present {
            return Ok(());
        }
        let need = self.missing(Some(self.tree.top()), 0, first, last);
        let mut spares = self.tree.spares(need)?;
        self.install(self.tree.top(), 0, first, last, &mut spares)
    }

    /// Calls `f(pfn, entries)` for each run of pages in `first..=last` that
    /// shares one leaf level, in order: `pfn` is the run's first page and
    /// `entries` the leaf's entries for the run (`None`: the leaf level does
    /// not exist, so every page of the run reads as [`Tce::NONE`]). Entries
    /// hold big-endian values. Never allocates.
    #[inline]
    pub(crate) fn for_each_leaf_run(
        &self,
        first: u64,
        last: u64,
        mut f: impl FnMut(u64, Option<&[AtomicU64]>),
    ) {
        let leaf_pages = 1u64 << self.geometry.entry_bits();
        let mut pfn = first;
        loop {
            let run_last = (pfn | (leaf_pages - 1)).min(last);
            let entries = self.leaf_for(pfn).map(|entries| {
                let start = self.leaf_index(pfn);
                &entries[start..=start + (run_last - pfn) as usize]
            });
            f(pfn, entries);
            if run_last == last {
                return;
            }
            pfn = run_last + 1;
        }
    }

    /// Rejects entries whose address is not page aligned or too large.
    pub(super) fn check_entry(&self, tce: Tce) -> Result<(), TceError> {
        let flags = Perm::all().bits();
        if tce.raw() & (self.geometry.page_size() - 1) & !flags != 0 {
            return Err(TceError::MisalignedPhys);
        }
        if tce.raw() & !flags >= super::PHYS_LIMIT {
            return Err(TceError::PhysTooLarge);
        }
        Ok(())
    }

    #[inline]
    fn leaf_index(&self, pfn: u64) -> usize {
        self.geometry.index(pfn, self.geometry.levels() - 1)
    }

    /// The entry of page `pfn` (bus address >> page shift, inside the
    /// window), if its leaf level exists.
    #[inline]
    pub(crate) fn entry(&self, pfn: u64) -> Option<&AtomicU64> {
        self.leaf_for(pfn)?.get(self.leaf_index(pfn))
    }

    /// The entries of pages `first..=last` if they lie in one leaf level
    /// that exists (the common case of a batch: one walk for all of it).
    #[inline(always)]
    pub(crate) fn one_leaf_run(&self, first: u64, last: u64) -> Option<&[AtomicU64]> {
        let bits = self.geometry.entry_bits();
        if first >> bits != last >> bits {
            return None;
        }
        let entries = self.leaf_for(first)?;
        let start = self.leaf_index(first);
        entries.get(start..=start + (last - first) as usize)
    }

    /// The leaf level holding page `pfn`, if it exists.
    #[inline(always)]
    fn leaf_for(&self, pfn: u64) -> Option<&[AtomicU64]> {
        self.tree.leaf(|depth| self.geometry.index(pfn, depth))
    }

    /// Number of levels that a change to pages `first..=last` would have to
    /// allocate under `node` at `depth` (`None`: `node` itself is missing).
    fn missing(&self, node: Option<Node<'_>>, depth: u32, first: u64, last: u64) -> usize {
        let levels = self.geometry.levels();
        match node {
            // Nothing below a missing level exists: count the levels at each
            // depth whose span meets the range.
            None => (depth..levels)
                .map(|d| {
                    let bits = self.geometry.span_bits(d - 1);
                    ((last >> bits) - (first >> bits) + 1) as usize
                })
                .sum(),
            Some(Node::Leaf(_)) => 0,
            Some(Node::Indirect(ind)) => {
                let mut sum = 0;
                let mut spans = ChildSpans::new(&self.geometry, depth, first, last);
                while let Some((idx, lo, hi)) = spans.next() {
                    sum += self.missing(ind.child(idx), depth + 1, lo, hi);
                }
                sum
            }
        }
    }

    /// Installs, from `spares`, every missing level under `node` (at `depth`)
    /// on the way to pages `first..=last`. Writes only indirect entries.
    fn install<'t>(
        &'t self,
        node: Node<'t>,
        depth: u32,
        first: u64,
        last: u64,
        spares: &mut Spares<'t, A>,
    ) -> Result<(), TceError> {
        if let Node::Indirect(ind) = node {
            let mut spans = ChildSpans::new(&self.geometry, depth, first, last);
            while let Some((idx, lo, hi)) = spans.next() {
                let child = ind.child_or_install(idx, spares)?;
                self.install(child, depth + 1, lo, hi, spares)?;
            }
        }
        Ok(())
    }

    /// Writes consecutive TCEs, starting at `*next`, into pages `first..=last`.
    fn fill<'t>(
        &'t self,
        node: Node<'t>,
        depth: u32,
        first: u64,
        last: u64,
        next: &mut u64,
        spares: &mut Spares<'t, A>,
    ) -> Result<(), TceError> {
        match node {
            Node::Leaf(leaf) => {
                let start = self.geometry.index(first, depth);
                let end = start + (last - first) as usize;
                let step = self.geometry.page_size();
                let mut value = *next;
                for entry in &leaf.entries[start..=end] {
                    entry.store(value.to_be(), Ordering::Relaxed);
                    value += step;
                }
                *next = value;
            }
            Node::Indirect(ind) => {
                let mut spans = ChildSpans::new(&self.geometry, depth, first, last);
                while let Some((idx, lo, hi)) = spans.next() {
                    let child = ind.child_or_install(idx, spares)?;
                    self.fill(child, depth + 1, lo, hi, next, spares)?;
                }
            }
        }
        Ok(())
    }

    /// Clears pages `first..=last` under `node`, skipping missing levels.
    fn clear(&self, node: Node<'_>, depth: u32, first: u64, last: u64) {
        match node {
            Node::Leaf(leaf) => {
                let start = self.geometry.index(first, depth);
                let end = start + (last - first) as usize;
                for entry in &leaf.entries[start..=end] {
                    entry.store(0, Ordering::Relaxed);
                }
            }
            Node::Indirect(ind) => {
                let mut spans = ChildSpans::new(&self.geometry, depth, first, last);
                while let Some((idx, lo, hi)) = spans.next() {
                    if let Some(child) = ind.child(idx) {
                        self.clear(child, depth + 1, lo, hi);
                    }
                }
            }
        }
    }
}

/// The entries of a level at `depth` that pages `first..=last` pass through,
/// each with the sub-range of pages under it.
struct ChildSpans<'g> {
    geometry: &'g Geometry,
    depth: u32,
    next: Option<u64>,
    last: u64,
}

impl<'g> ChildSpans<'g> {
    fn new(geometry: &'g Geometry, depth: u32, first: u64, last: u64) -> Self {
        ChildSpans {
            geometry,
            depth,
            next: Some(first),
            last,
        }
    }

    fn next(&mut self) -> Option<(usize, u64, u64)> {
        let lo = self.next?;
        let span_mask = (1u64 << self.geometry.span_bits(self.depth)) - 1;
        let hi = (lo | span_mask).min(self.last);
        self.next = if hi == self.last { None } else { Some(hi + 1) };
        Some((self.geometry.index(lo, self.depth), lo, hi))
    }
}

impl<A: PageAllocator> IoPageTable for TceTable<A> {
    type Error = TceError;

    fn page_size(&self) -> u64 {
        self.geometry.page_size()
    }

    fn map(
        &self,
        iova: u64,
        phys: u64,
        size: u64,
        perm: Perm,
        gather: &mut Gather,
    ) -> Result<(), TceError> {
        self.map_range(iova, phys, size, perm)?;
        gather.add(iova, size, self.geometry.page_shift());
        Ok(())
    }

    fn unmap(&self, iova: u64, size: u64, gather: &mut Gather) -> Result<(), TceError> {
        self.clear_range(iova, size)?;
        gather.add(iova, size, self.geometry.page_shift());
        Ok(())
    }

    fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        let pfn = self.geometry.check_iova(iova).ok()?;
        let entries = self.leaf_for(pfn)?;
        let tce = Tce::from_raw(u64::from_be(
            entries[self.leaf_index(pfn)].load(Ordering::Acquire),
        ));
        let page_mask = self.geometry.page_size() - 1;
        tce.is_valid()
            .then(|| (tce.raw() & !page_mask) | (iova & page_mask))
    }
}
