//! Partitions: a guest's RAM (logical → host physical) and what hangs off it.
//!
//! A partition's RAM is one or more [`RamRegion`]s, each mapping a run of
//! logical addresses (what the guest calls physical) to a run of host
//! physical addresses. Regions are 4 KiB aligned, do not overlap in either
//! space, and are kept sorted by logical address, so a lookup is a compare
//! against the last region hit and otherwise a binary search.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::dirty::DirtyLog;
use super::liobn::{PeState, TceMemory};
use super::lock::PartitionLock;
use super::prereg::Units;
use super::{SetupError, WindowProgrammer};
use crate::page_alloc::PageAllocator;
use crate::tce::PHYS_LIMIT;

/// Granule of RAM regions, pre-registration and the dirty log: 4 KiB.
pub const RAM_GRANULE: u64 = 1 << 12;

/// One run of a partition's RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RamRegion {
    /// First logical address (as the guest sees it).
    pub logical: u64,
    /// First host physical address.
    pub host: u64,
    /// Size in bytes (a non-zero multiple of 4 KiB).
    pub size: u64,
}

impl RamRegion {
    /// Host address of logical `la` if `[la, la + len)` lies inside this
    /// region (`len >= 1`). No arithmetic here can overflow.
    #[inline]
    pub fn translate(&self, la: u64, len: u64) -> Option<u64> {
        let off = la.wrapping_sub(self.logical);
        (la >= self.logical && off < self.size && self.size - off >= len).then(|| self.host + off)
    }
}

/// Reads guest memory at host physical addresses (the firmware reads it in
/// real mode; host tests keep it in a `Vec`).
pub trait GuestMemory: Send + Sync {
    /// Fills `out` with the big-endian `u64`s at host address `host`, or
    /// returns `false` (and leaves `out` unspecified) if that memory cannot
    /// be read.
    fn read_be_u64s(&self, host: u64, out: &mut [u64]) -> bool;

    /// Fills `out` with the `u64`s at host address `host` as they lie in
    /// memory, big-endian: `u64::from_be(out[i])` is the value (on the
    /// big-endian target, the value itself). `false` as for
    /// [`read_be_u64s`](Self::read_be_u64s). For a caller that does only
    /// bitwise work on most values: on a little-endian host it saves a byte
    /// swap per value. By default the values are read and swapped back.
    fn copy_be_u64s(&self, host: u64, out: &mut [u64]) -> bool {
        if !self.read_be_u64s(host, out) {
            return false;
        }
        for v in out.iter_mut() {
            *v = v.to_be();
        }
        true
    }

    /// Calls `f` on the `count` `u64`s at host address `host` where they
    /// lie, big-endian (`u64::from_be(u64::from_ne_bytes(w))` is a value),
    /// if this memory lends them; `true` if it did. A caller that reads
    /// each value once can check a list there instead of copying it first.
    ///
    /// Lend only memory that nothing writes while `f` runs (memory this
    /// implementation locks, say); guest RAM that the partition's other
    /// CPUs or its devices may write meanwhile must not be lent. By default
    /// nothing is lent (`false`): the caller copies instead.
    fn lend_be_u64s(&self, host: u64, count: usize, f: &mut dyn FnMut(&[[u8; 8]])) -> bool {
        let _ = (host, count, f);
        false
    }
}

/// How a partition is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionConfig {
    /// With pre-registration on, a TCE may name only memory inside a region
    /// the partition registered (and pinned) beforehand.
    pub prereg: bool,
    /// Most bytes the partition may have pre-registered (pinned) at once.
    pub pin_limit: u64,
    /// Most bytes of hypervisor memory the partition's TCE tables (indirect
    /// levels) and guest-value shadows may hold; a call that would store a
    /// TCE past it gets `H_NOT_ENOUGH_RESOURCES` (it may overshoot by what
    /// one call allocates). Bounds what a guest can make the hypervisor
    /// allocate.
    pub tce_memory_limit: u64,
}

/// Default [`PartitionConfig::tce_memory_limit`]: 64 MiB, enough for 8 GiB
/// of densely mapped 4K pages (8 bytes of table and 8 of shadow per page).
pub const DEFAULT_TCE_MEMORY_LIMIT: u64 = 64 << 20;

impl Default for PartitionConfig {
    fn default() -> Self {
        PartitionConfig {
            prereg: false,
            pin_limit: u64::MAX,
            tce_memory_limit: DEFAULT_TCE_MEMORY_LIMIT,
        }
    }
}

/// Identifies a partition of a [`Hypervisor`](super::Hypervisor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionId(pub(crate) u32);

impl PartitionId {
    /// The index the partition was created with (0, 1, ...).
    pub const fn index(self) -> u32 {
        self.0
    }
}

/// A partition's RAM regions, sorted by logical address.
#[derive(Clone, Debug, Default)]
pub struct RamMap {
    regions: Vec<RamRegion>,
}

impl RamMap {
    /// Checks `regions` (aligned, non-empty, no overflow, host below the TCE
    /// address limit, no overlap in either space) and sorts them.
    pub fn new(regions: &[RamRegion]) -> Result<RamMap, SetupError> {
        if regions.is_empty() {
            return Err(SetupError::NoRam);
        }
        let mut sorted: Vec<RamRegion> = regions.to_vec();
        for r in &sorted {
            if r.size == 0 || (r.logical | r.host | r.size) & (RAM_GRANULE - 1) != 0 {
                return Err(SetupError::BadRegion);
            }
            let host_end = r.host.checked_add(r.size).ok_or(SetupError::BadRegion)?;
            r.logical.checked_add(r.size).ok_or(SetupError::BadRegion)?;
            if host_end > PHYS_LIMIT {
                return Err(SetupError::BadRegion);
            }
        }
        sorted.sort_unstable_by_key(|r| r.logical);
        for pair in sorted.windows(2) {
            if pair[0].logical + pair[0].size > pair[1].logical {
                return Err(SetupError::Overlap);
            }
        }
        let map = RamMap { regions: sorted };
        if map.host_overlaps(&map.regions, true) {
            return Err(SetupError::Overlap);
        }
        Ok(map)
    }

    /// The regions, sorted by logical address.
    pub fn regions(&self) -> &[RamRegion] {
        &self.regions
    }

    /// Index of the region holding `[la, la + len)` entirely (`len >= 1`).
    pub fn find(&self, la: u64, len: u64) -> Option<usize> {
        self.find_host(la, len).map(|(i, _)| i)
    }

    /// Host address of `[la, la + len)` if it lies inside one region.
    pub fn translate(&self, la: u64, len: u64) -> Option<u64> {
        self.find_host(la, len).map(|(_, host)| host)
    }

    /// The region holding `[la, la + len)` entirely, and the host address.
    #[inline]
    fn find_host(&self, la: u64, len: u64) -> Option<(usize, u64)> {
        let i = self
            .regions
            .partition_point(|r| r.logical <= la)
            .checked_sub(1)?;
        self.regions[i].translate(la, len).map(|host| (i, host))
    }

    /// Whether `host` lies in this partition's host memory.
    pub fn contains_host(&self, host: u64) -> bool {
        self.regions
            .iter()
            .any(|r| host >= r.host && host - r.host < r.size)
    }

    /// Whether the host ranges of `others` overlap ours (`same`: compare a
    /// map with itself, skipping each region against itself).
    pub(crate) fn host_overlaps(&self, others: &[RamRegion], same: bool) -> bool {
        self.regions.iter().enumerate().any(|(i, a)| {
            others.iter().enumerate().any(|(j, b)| {
                !(same && i == j) && a.host < b.host + b.size && b.host < a.host + a.size
            })
        })
    }
}

/// One partition: RAM, pre-registered regions, dirty log and its PEs.
///
/// Aligned to a cache-line pair, so that partitions used from different
/// CPUs share no cache line (their locks and counters sit side by side in
/// the hypervisor's list).
#[repr(align(128))]
pub(crate) struct Partition<P: WindowProgrammer, A: PageAllocator + Clone> {
    pub(crate) ram: RamMap,
    pub(crate) memory: Arc<dyn GuestMemory>,
    pub(crate) config: PartitionConfig,
    /// The PEs (with their windows) and the units, under one lock: a
    /// hypercall takes it once (one atomic read-modify-write) and holds it
    /// across its TCE kill; host operations take it too and get in after at
    /// most the calls queued before them.
    pub(crate) shared: PartitionLock<Shared<P, A>>,
    pub(crate) dirty: DirtyLog,
    /// Memory held by the partition's TCE tables and shadows.
    pub(crate) tce_memory: TceMemory,
}

/// What the partition lock guards.
pub(crate) struct Shared<P: WindowProgrammer, A: PageAllocator + Clone> {
    /// The PEs assigned to the partition, with their windows.
    pub(crate) pes: Vec<PeState<P, A>>,
    /// The memory TCEs may name, with map counts.
    pub(crate) units: Units,
}

impl<P: WindowProgrammer, A: PageAllocator + Clone> Partition<P, A> {
    pub(crate) fn new(
        ram: RamMap,
        memory: Arc<dyn GuestMemory>,
        config: PartitionConfig,
    ) -> Partition<P, A> {
        let units = Units::new(&ram, config);
        let dirty = DirtyLog::new(&ram);
        Partition {
            ram,
            memory,
            config,
            shared: PartitionLock::new(Shared {
                pes: Vec::new(),
                units,
            }),
            dirty,
            tce_memory: TceMemory::new(config.tce_memory_limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: fn(u64, u64, u64) -> RamRegion = |logical, host, size| RamRegion {
        logical,
        host,
        size,
    };

    #[test]
    fn checks_and_lookups() {
        assert_eq!(RamMap::new(&[]).unwrap_err(), SetupError::NoRam);
        assert_eq!(
            RamMap::new(&[R(0x800, 0, 0x1000)]).unwrap_err(),
            SetupError::BadRegion
        );
        assert_eq!(
            RamMap::new(&[R(u64::MAX - 0xfff, 0, 0x2000)]).unwrap_err(),
            SetupError::BadRegion
        );
        assert_eq!(
            RamMap::new(&[R(0, 0x10000, 0x2000), R(0x1000, 0x40000, 0x1000)]).unwrap_err(),
            SetupError::Overlap
        );
        assert_eq!(
            RamMap::new(&[R(0, 0x10000, 0x2000), R(0x8000, 0x11000, 0x1000)]).unwrap_err(),
            SetupError::Overlap
        );
        let m = RamMap::new(&[
            R(0x10_0000, 0x900_0000, 0x10_0000),
            R(0, 0x500_0000, 0x2000),
        ])
        .unwrap();
        assert_eq!(m.regions()[0].logical, 0);
        assert_eq!(m.translate(0x1000, 0x1000), Some(0x500_1000));
        assert_eq!(m.translate(0x1000, 0x2000), None);
        assert_eq!(m.translate(0x2000, 1), None);
        assert_eq!(m.translate(0x1f_f000, 0x1000), Some(0x90f_f000));
        assert_eq!(m.translate(u64::MAX, 1), None);
        assert!(m.contains_host(0x500_1fff));
        assert!(!m.contains_host(0x500_2000));
    }
}
