//! A format-agnostic I/O page-table interface, with invalidation kept apart.
//!
//! A table format (the TCE table today) implements [`IoPageTable`]: `map`,
//! `unmap` and `iova_to_phys`. Changing a table does not touch the hardware's
//! translation caches; instead each call records the IOVA range it changed in
//! a [`Gather`]. When a batch is done the caller flushes the gather once through
//! an [`Invalidate`] implementation (the PHB driver's TCE kill), which ends with
//! one `sync`. Mapping 1 GiB is therefore one `map` call and one flush, never
//! one invalidation per entry.
//!
//! `RecordingInvalidator` (host only) records the operations for tests.

#![deny(unsafe_code)]

bitflags::bitflags! {
    /// Access a device may make through a mapping. The bit values are the TCE
    /// permission bits (read 1, write 2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct Perm: u64 {
        /// Device reads from memory (DMA to the device).
        const READ = 0x1;
        /// Device writes to memory (DMA from the device).
        const WRITE = 0x2;
    }
}

/// Perm for both directions.
pub const RW: Perm = Perm::READ.union(Perm::WRITE);

/// A range of I/O virtual addresses, `[start, start + size)`, `size > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IovaRange {
    /// First address.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// log2 of the IOMMU page size of the table that changed.
    pub page_shift: u32,
}

impl IovaRange {
    /// Number of IOMMU pages the range covers (rounded up).
    #[inline]
    pub fn pages(&self) -> u64 {
        let mask = (1u64 << self.page_shift) - 1;
        let first = self.start >> self.page_shift;
        let last = self.start.saturating_add(self.size - 1) | mask;
        (last >> self.page_shift) - first + 1
    }
}

/// A table that translates I/O virtual addresses (the device's DMA addresses).
///
/// Every changing call adds what it changed to `gather`; nothing is
/// invalidated until the caller flushes the gather.
pub trait IoPageTable {
    /// Why a call was refused; a refused call leaves the table unchanged.
    type Error;

    /// The table's IOMMU page size in bytes; `iova`, `phys` and `size` must be
    /// multiples of it.
    fn page_size(&self) -> u64;

    /// Maps `[iova, iova + size)` to `[phys, phys + size)` with `perm`,
    /// replacing whatever was mapped there.
    fn map(
        &self,
        iova: u64,
        phys: u64,
        size: u64,
        perm: Perm,
        gather: &mut Gather,
    ) -> Result<(), Self::Error>;

    /// Removes every mapping in `[iova, iova + size)` (unmapped pages included
    /// in the range are fine).
    fn unmap(&self, iova: u64, size: u64, gather: &mut Gather) -> Result<(), Self::Error>;

    /// The physical address `iova` translates to, if it is mapped.
    fn iova_to_phys(&self, iova: u64) -> Option<u64>;
}

/// Translation-cache invalidation, implemented by the PHB driver (TCE kill).
///
/// The `invalidate_*` calls may be posted; [`sync`](Self::sync) waits until all
/// earlier ones have taken effect.
pub trait Invalidate {
    /// Why the hardware did not complete (for example a bounded wait timed out).
    type Error;

    /// Drops every cached translation of every PE.
    fn invalidate_all(&self) -> Result<(), Self::Error>;
    /// Drops every cached translation of PE `pe`.
    fn invalidate_pe(&self, pe: u16) -> Result<(), Self::Error>;
    /// Drops the cached translations of PE `pe` for `range`.
    fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), Self::Error>;
    /// Waits until every earlier invalidation has completed.
    fn sync(&self) -> Result<(), Self::Error>;
}

/// The IOVA ranges changed since the last flush, merged into one span.
///
/// Small spans are invalidated by range; a span of more than
/// [`Gather::RANGE_LIMIT_PAGES`] pages is invalidated for the whole PE, which is
/// cheaper than a kill per page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gather {
    /// `(first, last)` byte addresses (inclusive) and the smallest page shift.
    span: Option<(u64, u64, u32)>,
}

impl Gather {
    /// Largest span, in pages, flushed by range rather than per PE.
    pub const RANGE_LIMIT_PAGES: u64 = 64;

    /// An empty gather.
    pub const fn new() -> Self {
        Self { span: None }
    }

    /// Whether nothing has been gathered since the last flush.
    pub const fn is_empty(&self) -> bool {
        self.span.is_none()
    }

    /// Records that `[start, start + size)` changed in a table of `1 << page_shift`
    /// byte pages. `size == 0` records nothing; a range running past `u64::MAX`
    /// is clipped there.
    #[inline]
    pub fn add(&mut self, start: u64, size: u64, page_shift: u32) {
        if size == 0 {
            return;
        }
        let last = start.saturating_add(size - 1);
        self.span = Some(match self.span {
            None => (start, last, page_shift),
            Some((s, l, p)) => (s.min(start), l.max(last), p.min(page_shift)),
        });
    }

    /// The gathered span, if any.
    #[inline]
    pub fn range(&self) -> Option<IovaRange> {
        self.span.map(|(first, last, page_shift)| IovaRange {
            start: first,
            // `last - first + 1` overflows only for the whole address space;
            // clip that one case.
            size: (last - first).saturating_add(1),
            page_shift,
        })
    }

    /// Invalidates the gathered span for each PE in `pes`, then syncs once,
    /// and empties the gather. Does nothing when empty.
    #[inline]
    pub fn flush<I: Invalidate + ?Sized>(&mut self, inv: &I, pes: &[u16]) -> Result<(), I::Error> {
        let Some(range) = self.range() else {
            return Ok(());
        };
        for &pe in pes {
            if range.pages() > Self::RANGE_LIMIT_PAGES {
                inv.invalidate_pe(pe)?;
            } else {
                inv.invalidate_range(pe, range)?;
            }
        }
        inv.sync()?;
        self.span = None;
        Ok(())
    }
}

#[cfg(any(test, feature = "std"))]
pub use recording::{InvalidationOp, RecordingInvalidator};

#[cfg(any(test, feature = "std"))]
mod recording {
    use super::{Invalidate, IovaRange};
    use core::convert::Infallible;
    use std::sync::Mutex;

    /// One call made on a [`RecordingInvalidator`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum InvalidationOp {
        /// `invalidate_all`.
        All,
        /// `invalidate_pe(pe)`.
        Pe(u16),
        /// `invalidate_range(pe, range)`.
        Range(u16, IovaRange),
        /// `sync`.
        Sync,
    }

    /// An [`Invalidate`] that only records the calls, in order.
    #[derive(Debug, Default)]
    pub struct RecordingInvalidator {
        ops: Mutex<Vec<InvalidationOp>>,
    }

    impl RecordingInvalidator {
        /// A new, empty recorder.
        pub fn new() -> Self {
            Self::default()
        }

        /// Takes the calls recorded so far.
        pub fn take(&self) -> Vec<InvalidationOp> {
            core::mem::take(&mut *self.ops.lock().unwrap_or_else(|e| e.into_inner()))
        }

        fn push(&self, op: InvalidationOp) -> Result<(), Infallible> {
            self.ops.lock().unwrap_or_else(|e| e.into_inner()).push(op);
            Ok(())
        }
    }

    impl Invalidate for RecordingInvalidator {
        type Error = Infallible;

        fn invalidate_all(&self) -> Result<(), Infallible> {
            self.push(InvalidationOp::All)
        }
        fn invalidate_pe(&self, pe: u16) -> Result<(), Infallible> {
            self.push(InvalidationOp::Pe(pe))
        }
        fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), Infallible> {
            self.push(InvalidationOp::Range(pe, range))
        }
        fn sync(&self) -> Result<(), Infallible> {
            self.push(InvalidationOp::Sync)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_gather_flushes_nothing() {
        let inv = RecordingInvalidator::new();
        let mut g = Gather::new();
        g.add(0x1000, 0, 12);
        assert!(g.is_empty());
        g.flush(&inv, &[1]).unwrap();
        assert!(inv.take().is_empty());
    }

    #[test]
    fn small_span_is_one_range_then_sync() {
        let inv = RecordingInvalidator::new();
        let mut g = Gather::new();
        g.add(0x3000, 0x1000, 12);
        g.add(0x1000, 0x1000, 12);
        let range = IovaRange {
            start: 0x1000,
            size: 0x3000,
            page_shift: 12,
        };
        assert_eq!(g.range(), Some(range));
        assert_eq!(range.pages(), 3);
        g.flush(&inv, &[4, 5]).unwrap();
        assert_eq!(
            inv.take(),
            [
                InvalidationOp::Range(4, range),
                InvalidationOp::Range(5, range),
                InvalidationOp::Sync
            ]
        );
        assert!(g.is_empty());
    }

    #[test]
    fn large_span_is_per_pe() {
        let inv = RecordingInvalidator::new();
        let mut g = Gather::new();
        g.add(0, 65 << 16, 16);
        g.flush(&inv, &[7]).unwrap();
        assert_eq!(inv.take(), [InvalidationOp::Pe(7), InvalidationOp::Sync]);
    }

    #[test]
    fn span_clipped_at_top_of_address_space() {
        let mut g = Gather::new();
        g.add(u64::MAX - 0xfff, 0x2000, 12);
        g.add(0, 0x1000, 12);
        let r = g.range().unwrap();
        assert_eq!((r.start, r.size), (0, u64::MAX));
        assert_eq!(r.pages(), 1 << 52);
    }
}
