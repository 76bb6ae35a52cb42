//! The PAPR hypervisor interface, host side: partitions, LIOBNs, the TCE
//! hypercalls and the dynamic DMA window (DDW) RTAS calls (DESIGN §8).
//!
//! A [`Hypervisor`] holds partitions. Each partition has RAM (regions mapping
//! logical to host physical addresses), optionally pre-registered regions,
//! a dirty log, and PEs assigned to it. Each PE has up to two windows, each
//! a LIOBN backed by a real [`TceTable`](crate::tce::TceTable) that is
//! programmed into the PE's TVE through a [`WindowProgrammer`] (the PHB). The
//! hardware table holds host addresses; the guest's own TCE values are kept
//! beside it for `H_GET_TCE`.
//!
//! A guest can make a device reach only memory it owns: every TCE with R or W
//! is checked to name a whole IOMMU page inside one unit of the partition's
//! memory (a RAM region, or a pre-registered region when pre-registration is
//! on) before anything is written, and the hardware entry is computed from
//! that unit's host address.
//!
//! - [`hcall`]: status codes, opcodes, the register-level entry.
//! - `tce_calls`: the typed TCE hypercalls.
//! - `liobn`: windows and the batch that writes them under one lock.
//! - `validate`: which host page each guest TCE may map.
//! - `settle`: map counts and the dirty log for replaced entries.
//! - `shadow`: the guest-visible TCE values.
//! - `partition`: RAM regions and guest memory access.
//! - `prereg`: pre-registration, pinning limit and map counts.
//! - `dirty`: the dirty log.
//! - `ddw`: PE attach and the DDW RTAS calls.
//! - `phb`: the trait the PHB driver implements.
//! - `fake` (host only): a recording PHB and a guest memory for tests.
//! - `profile` (host only): where the time of one `H_PUT_TCE` goes.
//! - `lock`: the partition lock, a fair ticket lock.

#![deny(unsafe_code)]

mod ddw;
mod dirty;
#[cfg(any(test, feature = "std"))]
pub mod fake;
pub mod hcall;
mod liobn;
mod lock;
mod partition;
mod phb;
mod prereg;
#[cfg(any(test, feature = "std"))]
pub mod profile;
mod settle;
mod shadow;
mod tce_calls;
mod validate;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::AtomicU32;

/// The page sizes a PHB4 PE offers to DDW (its home is the PHB4 driver).
pub use crate::phb4::tve::PHB4_DDW_PAGES;
pub use ddw::{
    DDW_EXT_QUERY_OUT_EXTENDED, DDW_PAGE_2M, DDW_PAGE_4K, DDW_PAGE_16G, DDW_PAGE_16M, DDW_PAGE_32M,
    DDW_PAGE_64K, DDW_PAGE_64M, DDW_PAGE_128M, DDW_PAGE_256M, DDW_WINDOW_START, DdwCall, DdwQuery,
    DdwWindow, MAX_DEFAULT_WINDOW, RtasStatus, ddw_extensions, ddw_page_mask, page_mask_bit,
};
pub use hcall::{HCALL_REGS, HResult, HStatus, MAX_TCES_PER_CALL};
pub use partition::{
    DEFAULT_TCE_MEMORY_LIMIT, GuestMemory, PartitionConfig, PartitionId, RAM_GRANULE, RamMap,
    RamRegion,
};
pub use phb::{LockedPhb, WindowProgrammer, WindowTable};
pub use prereg::{MappedRegion, PreregError};

use crate::page_alloc::PageAllocator;
use crate::tce::Tce;
use partition::Partition;
use tce_calls::find_window;

/// A PE to assign to a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeConfig {
    /// BUID of the PHB as the guest's device tree names it.
    pub buid: u64,
    /// Configuration address the guest uses for the PE in DDW calls.
    pub config_addr: u32,
    /// PE number on the PHB.
    pub pe: u16,
    /// Size of the default window (a power of two, at most 4 GiB).
    pub default_window_size: u64,
    /// Page sizes offered to DDW (`DDW_PAGE_*`; must include 4K).
    pub page_sizes: u32,
    /// Largest dynamic window, log2 bytes.
    pub max_window_shift: u32,
}

/// Why setting up a partition or PE failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetupError {
    /// No RAM regions.
    NoRam,
    /// A region is empty, not 4 KiB aligned, overflows, or lies above the
    /// TCE address limit.
    BadRegion,
    /// Regions overlap (logical or host), also across partitions.
    Overlap,
    /// No such partition.
    UnknownPartition,
    /// The default window size or page sizes are not usable.
    BadWindow,
    /// The PE (or its BUID and config address) is already assigned.
    PeInUse,
    /// Out of memory or LIOBNs.
    NoMemory,
    /// The PHB refused to program the window.
    Hardware,
}

/// A window as reported by [`Hypervisor::liobns`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiobnInfo {
    /// The LIOBN.
    pub liobn: u32,
    /// PE number.
    pub pe: u16,
    /// TVE slot (0 default, 1 dynamic).
    pub n: u32,
    /// First bus address.
    pub bus_offset: u64,
    /// Size in bytes.
    pub window_size: u64,
    /// log2 of the IOMMU page size.
    pub page_shift: u32,
}

/// A partition's TCE-memory accounting, from [`Hypervisor::tce_memory`].
#[cfg(any(test, feature = "std"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TceMemoryReport {
    /// Bytes charged to the partition.
    pub charged: u64,
    /// Bytes its windows hold beyond their top levels (what should be charged).
    pub windows: u64,
    /// The partition's limit.
    pub limit: u64,
}

/// The hypervisor's TCE state for all partitions.
pub struct Hypervisor<P: WindowProgrammer, A: PageAllocator + Clone> {
    partitions: Vec<Partition<P, A>>,
    alloc: A,
    next_liobn: AtomicU32,
    /// Serializes PE assignment, so the one-owner-per-PE check and the
    /// assignment are one step.
    attach: spin::Mutex<()>,
}

impl<P: WindowProgrammer, A: PageAllocator + Clone> Hypervisor<P, A> {
    /// A hypervisor whose TCE tables come from `alloc`.
    pub fn new(alloc: A) -> Self {
        Hypervisor {
            partitions: Vec::new(),
            alloc,
            next_liobn: AtomicU32::new(1),
            attach: spin::Mutex::new(()),
        }
    }

    /// Adds a partition with RAM `ram`, read through `memory`.
    pub fn add_partition(
        &mut self,
        ram: &[RamRegion],
        memory: Arc<dyn GuestMemory>,
        config: PartitionConfig,
    ) -> Result<PartitionId, SetupError> {
        let map = RamMap::new(ram)?;
        if self
            .partitions
            .iter()
            .any(|p| p.ram.host_overlaps(map.regions(), false))
        {
            return Err(SetupError::Overlap);
        }
        let id = u32::try_from(self.partitions.len()).map_err(|_| SetupError::NoMemory)?;
        self.partitions.push(Partition::new(map, memory, config));
        Ok(PartitionId(id))
    }

    pub(crate) fn part(&self, p: PartitionId) -> HResult<&Partition<P, A>> {
        self.partitions.get(p.0 as usize).ok_or(HStatus::Hardware)
    }

    /// The partition's RAM.
    pub fn ram(&self, p: PartitionId) -> Option<&RamMap> {
        self.partitions.get(p.0 as usize).map(|part| &part.ram)
    }

    /// Pre-registers (pins) `[logical, logical + size)` of partition `p`.
    pub fn prereg_register(
        &self,
        p: PartitionId,
        logical: u64,
        size: u64,
    ) -> Result<(), PreregError> {
        let part = self.part(p).map_err(|_| PreregError::Parameter)?;
        part.shared.lock().units.register(&part.ram, logical, size)
    }

    /// Unregisters the region registered as `[logical, logical + size)`;
    /// refused while any TCE names a page in it, and while a PE of the
    /// partition owes a TCE kill (an earlier one failed) that still does not
    /// complete when retried.
    pub fn prereg_unregister(
        &self,
        p: PartitionId,
        logical: u64,
        size: u64,
    ) -> Result<(), PreregError> {
        let part = self.part(p).map_err(|_| PreregError::Parameter)?;
        let mut shared = part.shared.lock();
        let partition::Shared { pes, units } = &mut *shared;
        settle_owed_kills(pes).map_err(|()| PreregError::Hardware)?;
        units.unregister(logical, size)
    }

    /// The regions TCEs may name (the pre-registered ones, or the RAM regions
    /// without pre-registration), with their map counts.
    pub fn mapped_regions(&self, p: PartitionId) -> Vec<MappedRegion> {
        self.part(p)
            .map(|part| part.shared.lock().units.report())
            .unwrap_or_default()
    }

    /// Bytes partition `p` has pinned by pre-registration.
    pub fn pinned_bytes(&self, p: PartitionId) -> u64 {
        self.part(p)
            .map_or(0, |part| part.shared.lock().units.pinned())
    }

    /// Whether partition `p` was created with pre-registration.
    pub fn prereg_enabled(&self, p: PartitionId) -> bool {
        self.part(p).is_ok_and(|part| part.config.prereg)
    }

    /// Logical addresses of the 4 KiB pages in `p`'s dirty log.
    pub fn dirty_pages(&self, p: PartitionId) -> Vec<u64> {
        self.part(p)
            .map(|part| part.dirty.pages(false))
            .unwrap_or_default()
    }

    /// Reads and clears `p`'s dirty log.
    ///
    /// A page is cleared only after every TCE kill that followed its marking
    /// has completed, so a device write through a replaced translation cannot
    /// land after the page was reported. This waits for hypercalls in flight
    /// (their kill completes inside the call), and first retries the kill a
    /// PE owes because an earlier one failed.
    ///
    /// Errors, with the dirty log left untouched: `H_PARAMETER` for an
    /// unknown partition; `H_HARDWARE` while an owed kill still does not
    /// complete (the device may still write through a cached translation).
    /// A later call retries the kill and, once it completes, returns the
    /// pages.
    pub fn take_dirty_pages(&self, p: PartitionId) -> HResult<Vec<u64>> {
        let part = self.part(p).map_err(|_| HStatus::Parameter)?;
        let shared = part.shared.lock();
        settle_owed_kills(&shared.pes).map_err(|()| HStatus::Hardware)?;
        Ok(part.dirty.pages(true))
    }

    /// The windows of partition `p`.
    pub fn liobns(&self, p: PartitionId) -> Vec<LiobnInfo> {
        let Ok(part) = self.part(p) else {
            return Vec::new();
        };
        let shared = part.shared.lock();
        shared
            .pes
            .iter()
            .flat_map(|pe| {
                pe.windows.iter().flatten().map(|w| LiobnInfo {
                    liobn: w.liobn,
                    pe: pe.cfg.pe,
                    n: w.n,
                    bus_offset: w.geometry.bus_offset(),
                    window_size: w.geometry.window_size(),
                    page_shift: w.geometry.page_shift(),
                })
            })
            .collect()
    }

    /// The guest TCEs of `count` entries from `ioba`, read atomically with
    /// respect to the hypercalls (under the partition lock).
    pub fn read_tces(
        &self,
        p: PartitionId,
        liobn: u64,
        ioba: u64,
        count: u64,
    ) -> HResult<Vec<u64>> {
        let part = self.part(p)?;
        let shared = part.shared.lock();
        let (_, w) = find_window(&shared.pes, liobn)?;
        let page = w.geometry.page_size();
        let size = count.checked_mul(page).ok_or(HStatus::Parameter)?;
        w.geometry
            .check_range(ioba, size)
            .map_err(|_| HStatus::Parameter)?;
        let first = (ioba - w.geometry.bus_offset()) >> w.geometry.page_shift();
        let st = &w.state;
        Ok((first..first + count).map(|i| st.shadow.get(i)).collect())
    }

    /// The hardware entry (host address) at `ioba` of `liobn`.
    pub fn hardware_tce(&self, p: PartitionId, liobn: u64, ioba: u64) -> HResult<Tce> {
        let part = self.part(p)?;
        let shared = part.shared.lock();
        let (_, w) = find_window(&shared.pes, liobn)?;
        let st = &w.state;
        st.table.get(ioba).map_err(|_| HStatus::Parameter)
    }

    /// Partition `p`'s TCE-memory accounting (host tests and the fuzzer):
    /// the bytes charged to it, and what its windows hold beyond their
    /// top levels, counted now under the partition lock. The two are equal
    /// whenever no batch is in flight.
    #[cfg(any(test, feature = "std"))]
    pub fn tce_memory(&self, p: PartitionId) -> Option<TceMemoryReport> {
        let part = self.part(p).ok()?;
        let shared = part.shared.lock();
        let windows = shared
            .pes
            .iter()
            .flat_map(|pe| pe.windows.iter().flatten())
            .map(|w| w.charged_bytes())
            .sum();
        Some(TceMemoryReport {
            charged: part.tce_memory.held(),
            windows,
            limit: part.config.tce_memory_limit,
        })
    }

    /// Runs `f` on the table behind `liobn` under the partition lock (host
    /// tests: memory images, the reference walker).
    #[cfg(any(test, feature = "std"))]
    pub fn inspect_table<R>(
        &self,
        p: PartitionId,
        liobn: u32,
        f: impl FnOnce(&crate::tce::TceTable<A>) -> R,
    ) -> Option<R> {
        let part = self.part(p).ok()?;
        let shared = part.shared.lock();
        let (_, w) = find_window(&shared.pes, liobn as u64).ok()?;
        let st = &w.state;
        Some(f(&st.table))
    }
}

/// Retries the kill each of `pes` owes (an earlier one failed); `Err` while
/// one still does not complete. The caller holds the partition lock: no
/// batch is in flight, so no kill can become owed meanwhile, and
/// once this returns `Ok` the PHB caches no translation a released
/// reference or a dirty-log mark still depends on.
fn settle_owed_kills<P: WindowProgrammer, A: PageAllocator>(
    pes: &[liobn::PeState<P, A>],
) -> Result<(), ()> {
    pes.iter().try_for_each(liobn::PeState::settle_owed_kill)
}
