//! Pre-registration and map counts: the memory a TCE may name.
//!
//! A TCE may name a page only inside a *unit*. Without pre-registration the
//! units are the partition's RAM regions, fixed for its life. With it, the
//! units are the regions the partition registered: each is pinned once and
//! accounted against the partition's limit, so the hypercalls need not pin
//! page by page; memory outside every registered region cannot be mapped.
//!
//! Every unit counts the valid TCEs that name a page inside it. A unit that
//! is still mapped cannot be unregistered, so no device can keep reaching
//! memory the partition gave up. Counts change once per unit per batch (a
//! [`Deltas`] accumulator), not once per entry.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::hcall::HStatus;
use super::partition::{PartitionConfig, RAM_GRANULE, RamMap, RamRegion};

/// Why a pre-registration call was refused. The discriminants are the
/// hypercall status values a caller reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum PreregError {
    /// The partition was not created with pre-registration (`H_FUNCTION`).
    Disabled = -2,
    /// Misaligned, empty, outside one RAM region, overlapping a registered
    /// region, or (unregister) not exactly a registered region (`H_PARAMETER`).
    Parameter = -4,
    /// The region still has valid TCEs naming it (`H_RESOURCE`).
    InUse = -16,
    /// A TCE kill that failed earlier still does not complete, so the PHB
    /// may still translate to the region (`H_HARDWARE`).
    Hardware = -1,
    /// Registering would pin more than the partition's limit
    /// (`H_NOT_ENOUGH_RESOURCES`).
    NotEnoughResources = -44,
}

impl From<PreregError> for HStatus {
    fn from(e: PreregError) -> HStatus {
        match e {
            PreregError::Disabled => HStatus::Function,
            PreregError::Parameter => HStatus::Parameter,
            PreregError::InUse => HStatus::Resource,
            PreregError::Hardware => HStatus::Hardware,
            PreregError::NotEnoughResources => HStatus::NotEnoughResources,
        }
    }
}

/// A run of logical memory TCEs may name, with its map count.
#[derive(Debug)]
pub(crate) struct Unit {
    pub(crate) logical: u64,
    pub(crate) size: u64,
    pub(crate) host: u64,
    /// Index of the RAM region holding the unit, and the unit's offset in it.
    pub(crate) ram: usize,
    pub(crate) ram_offset: u64,
    /// Valid TCEs naming a page in this unit. Atomic so that a batch can
    /// change it through the shared units it reads; every writer holds the
    /// partition lock.
    pub(crate) mapped: AtomicU64,
}

impl Unit {
    /// Host address of logical `la` if `[la, la + len)` lies inside this
    /// unit (`len >= 1`), without overflow.
    #[inline(always)]
    pub(crate) fn host_of(&self, la: u64, len: u64) -> Option<u64> {
        let region = RamRegion {
            logical: self.logical,
            host: self.host,
            size: self.size,
        };
        region.translate(la, len)
    }
}

/// The units of one partition, sorted by logical address.
#[derive(Debug)]
pub(crate) struct Units {
    list: Vec<Unit>,
    pinned: u64,
    limit: u64,
    prereg: bool,
}

/// A registered region as reported to callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappedRegion {
    /// First logical address.
    pub logical: u64,
    /// Size in bytes.
    pub size: u64,
    /// Valid TCEs that name a page in the region.
    pub mapped: u64,
}

impl Units {
    pub(crate) fn new(ram: &RamMap, config: PartitionConfig) -> Units {
        let list = if config.prereg {
            Vec::new()
        } else {
            ram.regions()
                .iter()
                .enumerate()
                .map(|(i, r)| Unit {
                    logical: r.logical,
                    size: r.size,
                    host: r.host,
                    ram: i,
                    ram_offset: 0,
                    mapped: AtomicU64::new(0),
                })
                .collect()
        };
        Units {
            list,
            pinned: 0,
            limit: config.pin_limit,
            prereg: config.prereg,
        }
    }

    /// Bytes pinned by registration.
    pub(crate) fn pinned(&self) -> u64 {
        self.pinned
    }

    /// The only unit, if there is exactly one (the common case, with a fast path).
    #[inline]
    pub(crate) fn single(&self) -> Option<&Unit> {
        match self.list.as_slice() {
            [u] => Some(u),
            _ => None,
        }
    }

    pub(crate) fn report(&self) -> Vec<MappedRegion> {
        self.list
            .iter()
            .map(|u| MappedRegion {
                logical: u.logical,
                size: u.size,
                mapped: u.mapped.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Registers (pins) `[logical, logical + size)`.
    pub(crate) fn register(
        &mut self,
        ram: &RamMap,
        logical: u64,
        size: u64,
    ) -> Result<(), PreregError> {
        if !self.prereg {
            return Err(PreregError::Disabled);
        }
        if size == 0 || (logical | size) & (RAM_GRANULE - 1) != 0 {
            return Err(PreregError::Parameter);
        }
        let r = ram.find(logical, size).ok_or(PreregError::Parameter)?;
        let region = ram.regions()[r];
        let end = logical + size; // cannot overflow: inside a checked region
        let at = self.list.partition_point(|u| u.logical < logical);
        let overlaps_prev = at > 0 && {
            let p = &self.list[at - 1];
            p.logical + p.size > logical
        };
        let overlaps_next = self.list.get(at).is_some_and(|n| n.logical < end);
        if overlaps_prev || overlaps_next {
            return Err(PreregError::Parameter);
        }
        let pinned = self
            .pinned
            .checked_add(size)
            .filter(|&p| p <= self.limit)
            .ok_or(PreregError::NotEnoughResources)?;
        let ram_offset = logical - region.logical;
        // Room first: no memory is an error that changes nothing.
        self.list
            .try_reserve(1)
            .map_err(|_| PreregError::NotEnoughResources)?;
        self.list.insert(
            at,
            Unit {
                logical,
                size,
                host: region.host + ram_offset,
                ram: r,
                ram_offset,
                mapped: AtomicU64::new(0),
            },
        );
        self.pinned = pinned;
        Ok(())
    }

    /// Unregisters (unpins) the region registered as exactly `[logical, logical + size)`.
    pub(crate) fn unregister(&mut self, logical: u64, size: u64) -> Result<(), PreregError> {
        if !self.prereg {
            return Err(PreregError::Disabled);
        }
        let at = self
            .list
            .iter()
            .position(|u| u.logical == logical && u.size == size)
            .ok_or(PreregError::Parameter)?;
        if self.list[at].mapped.load(Ordering::Acquire) != 0 {
            return Err(PreregError::InUse);
        }
        self.list.remove(at);
        self.pinned -= size;
        Ok(())
    }
}

/// Finds units, trying the last one hit first (the common case: a batch
/// naming pages of one region).
pub(crate) struct Cursor<'u> {
    units: &'u [Unit],
    last: usize,
}

impl<'u> Cursor<'u> {
    pub(crate) fn new(units: &'u Units) -> Cursor<'u> {
        Cursor {
            units: &units.list,
            last: 0,
        }
    }

    /// The unit holding `[la, la + len)` entirely (`len >= 1`), with the host
    /// address of `la`.
    #[inline]
    pub(crate) fn find(&mut self, la: u64, len: u64) -> Option<(usize, u64)> {
        if let Some(host) = self.units.get(self.last).and_then(|u| u.host_of(la, len)) {
            return Some((self.last, host));
        }
        self.find_slow(la, len)
    }

    #[cold]
    fn find_slow(&mut self, la: u64, len: u64) -> Option<(usize, u64)> {
        let i = self
            .units
            .partition_point(|u| u.logical <= la)
            .checked_sub(1)?;
        let host = self.units[i].host_of(la, len)?;
        self.last = i;
        Some((i, host))
    }

    /// The unit at index `i`.
    #[inline]
    pub(crate) fn unit(&self, i: usize) -> &'u Unit {
        &self.units[i]
    }
}

/// Map-count changes gathered over a batch and applied once per run of
/// entries in the same unit.
pub(crate) struct Deltas<'u> {
    units: &'u [Unit],
    current: usize,
    delta: i64,
}

impl<'u> Deltas<'u> {
    pub(crate) fn new(units: &'u Units) -> Deltas<'u> {
        Deltas {
            units: &units.list,
            current: 0,
            delta: 0,
        }
    }

    /// Adds `d` to the count of unit `i`.
    #[inline]
    pub(crate) fn add(&mut self, i: usize, d: i64) {
        if i != self.current {
            self.flush();
            self.current = i;
        }
        self.delta += d;
    }

    fn flush(&mut self) {
        if self.delta != 0
            && let Some(u) = self.units.get(self.current)
        {
            // Two's complement: adding a negative delta as u64 subtracts it.
            // Every writer of the counts holds the partition lock (which
            // also orders them for its readers): a load and a store, no
            // atomic read-modify-write on a hypercall's path.
            let mapped = u.mapped.load(Ordering::Relaxed);
            u.mapped
                .store(mapped.wrapping_add(self.delta as u64), Ordering::Relaxed);
        }
        self.delta = 0;
    }
}

impl Drop for Deltas<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram() -> RamMap {
        RamMap::new(&[
            RamRegion {
                logical: 0,
                host: 0x1000_0000,
                size: 0x10_0000,
            },
            RamRegion {
                logical: 0x10_0000,
                host: 0x3000_0000,
                size: 0x10_0000,
            },
        ])
        .unwrap()
    }

    #[test]
    fn register_rules() {
        let cfg = PartitionConfig {
            prereg: true,
            pin_limit: 0x3000,
            ..PartitionConfig::default()
        };
        let ram = ram();
        let mut u = Units::new(&ram, cfg);
        assert!(u.list.is_empty());
        assert_eq!(u.register(&ram, 0x800, 0x1000), Err(PreregError::Parameter));
        assert_eq!(u.register(&ram, 0, 0), Err(PreregError::Parameter));
        // Straddles the two RAM regions (contiguous logically, not in host).
        assert_eq!(
            u.register(&ram, 0xf_f000, 0x2000),
            Err(PreregError::Parameter)
        );
        u.register(&ram, 0x10_1000, 0x2000).unwrap();
        assert_eq!(u.list[0].host, 0x3000_1000);
        assert_eq!(u.list[0].ram, 1);
        assert_eq!(
            u.register(&ram, 0x10_2000, 0x1000),
            Err(PreregError::Parameter)
        );
        assert_eq!(
            u.register(&ram, 0x4000, 0x2000),
            Err(PreregError::NotEnoughResources)
        );
        u.register(&ram, 0x4000, 0x1000).unwrap();
        assert_eq!(u.pinned(), 0x3000);
        let mut c = Cursor::new(&u);
        assert_eq!(c.find(0x4000, 0x1000), Some((0, 0x1000_4000)));
        assert_eq!(c.find(0x10_2000, 0x1000), Some((1, 0x3000_2000)));
        assert_eq!(c.find(0x10_2000, 0x2000), None);
        assert_eq!(c.find(0x5000, 1), None);
        {
            let mut d = Deltas::new(&u);
            d.add(1, 1);
            d.add(1, 1);
        }
        assert_eq!(u.unregister(0x10_1000, 0x2000), Err(PreregError::InUse));
        {
            let mut d = Deltas::new(&u);
            d.add(1, -2);
        }
        assert_eq!(u.unregister(0x10_1000, 0x1000), Err(PreregError::Parameter));
        u.unregister(0x10_1000, 0x2000).unwrap();
        assert_eq!(u.pinned(), 0x1000);
    }
}
