//! The TCE hypercalls, typed: `H_PUT_TCE`, `H_GET_TCE`, `H_STUFF_TCE`,
//! `H_PUT_TCE_INDIRECT` (DESIGN §8).
//!
//! Each call reads top to bottom: argument checks that need no lock, the
//! partition lock (`lock`: one atomic read-modify-write) to find the LIOBN
//! among the PEs and keep every region registered until the call's kill has
//! completed, then the window's batch ([`Window::put`](super::liobn::Window)),
//! then exactly one TCE-cache invalidation (a range or PE kill and a sync)
//! for the batch, and only then the lock is let go.
//!
//! Status rules: unknown LIOBN, misaligned IOBA, a range outside the window
//! or overflowing, a TCE naming memory the partition may not map, a list not
//! 4 KiB aligned or not inside the partition's RAM: `H_PARAMETER`.
//! `H_PUT_TCE_INDIRECT` with more than 512 entries: `H_PARAMETER`;
//! `H_STUFF_TCE` with more than 512: `H_P4`, once the LIOBN and the IOBA
//! have passed their checks (else `H_PARAMETER`). A count of 0 checks the LIOBN
//! and IOBA, changes nothing, and invalidates nothing. A table level that
//! cannot be allocated, or a PHB that does not complete the kill:
//! `H_HARDWARE` (in the first case nothing changed; in the second the PE
//! owes a kill and no region can be unregistered until one completes).

use super::hcall::{HResult, HStatus, MAX_TCES_PER_CALL};
use super::liobn::{PartitionAccounting, PeState, Source, Window};
use super::partition::Shared;
use super::{Hypervisor, PartitionId, WindowProgrammer};
use crate::iopt::Gather;
use crate::page_alloc::PageAllocator;
use core::sync::atomic::{AtomicBool, Ordering};

/// Finds the window of `liobn` among a partition's PEs.
pub(crate) fn find_window<P: WindowProgrammer, A: PageAllocator>(
    pes: &[PeState<P, A>],
    liobn: u64,
) -> HResult<(&PeState<P, A>, &Window<A>)> {
    let liobn = u32::try_from(liobn).map_err(|_| HStatus::Parameter)?;
    pes.iter()
        .find_map(|pe| pe.window(liobn).map(|w| (pe, w)))
        .ok_or(HStatus::Parameter)
}

/// The window of `liobn` among a partition's PEs, to change it, and what
/// its kill needs of its PE.
pub(crate) struct Target<'a, P, A: PageAllocator> {
    pub(crate) phb: &'a P,
    pub(crate) pe: u16,
    pub(crate) kill_owed: &'a AtomicBool,
    pub(crate) window: &'a mut Window<A>,
}

/// [`find_window`] for a call that changes the window.
#[inline]
pub(crate) fn find_window_mut<P: WindowProgrammer, A: PageAllocator>(
    pes: &mut [PeState<P, A>],
    liobn: u64,
) -> HResult<Target<'_, P, A>> {
    let liobn = u32::try_from(liobn).map_err(|_| HStatus::Parameter)?;
    pes.iter_mut()
        .find_map(|pe| {
            let PeState {
                cfg,
                phb,
                windows,
                kill_owed,
                ..
            } = pe;
            let window = windows.iter_mut().flatten().find(|w| w.liobn == liobn)?;
            Some(Target {
                phb: &**phb,
                pe: cfg.pe,
                kill_owed,
                window,
            })
        })
        .ok_or(HStatus::Parameter)
}

impl<P: WindowProgrammer, A: PageAllocator + Clone> Hypervisor<P, A> {
    /// `H_PUT_TCE`: sets the entry at `ioba` of `liobn` to the guest TCE `tce`
    /// (a TCE without R or W clears it).
    pub fn h_put_tce(&self, p: PartitionId, liobn: u64, ioba: u64, tce: u64) -> HResult<()> {
        self.put(p, liobn, ioba, Source::Value { tce, count: 1 })
    }

    /// `H_GET_TCE`: the guest TCE last stored at `ioba` of `liobn`.
    pub fn h_get_tce(&self, p: PartitionId, liobn: u64, ioba: u64) -> HResult<u64> {
        let part = self.part(p)?;
        let shared = part.shared.lock();
        let (_, window) = find_window(&shared.pes, liobn)?;
        window.get(ioba)
    }

    /// `H_STUFF_TCE`: sets `count` entries from `ioba` to the same guest TCE.
    pub fn h_stuff_tce(
        &self,
        p: PartitionId,
        liobn: u64,
        ioba: u64,
        tce: u64,
        count: u64,
    ) -> HResult<()> {
        if count > MAX_TCES_PER_CALL {
            // LoPAPR: an unknown or foreign LIOBN, or an IOBA misaligned or
            // outside the window, is H_PARAMETER whatever the count.
            let part = self.part(p)?;
            let shared = part.shared.lock();
            let (_, window) = find_window(&shared.pes, liobn)?;
            window.check(ioba, 1)?;
            return Err(HStatus::P4);
        }
        self.put(p, liobn, ioba, Source::Value { tce, count })
    }

    /// `H_PUT_TCE_INDIRECT`: sets `count` entries from `ioba` to the guest
    /// TCEs listed (big-endian) at logical address `list`, all or none.
    pub fn h_put_tce_indirect(
        &self,
        p: PartitionId,
        liobn: u64,
        ioba: u64,
        list: u64,
        count: u64,
    ) -> HResult<()> {
        if count > MAX_TCES_PER_CALL {
            return Err(HStatus::Parameter);
        }
        if list & 0xfff != 0 {
            return Err(HStatus::Parameter);
        }
        let part = self.part(p)?;
        // count <= 512, so the list is at most 4 KiB: one aligned page, in
        // one RAM region (regions are 4 KiB aligned).
        let host = part
            .ram
            .translate(list, (count * 8).max(1))
            .ok_or(HStatus::Parameter)?;
        let memory = &*part.memory;
        let src = Source::List {
            memory,
            host,
            count,
        };
        self.put(p, liobn, ioba, src)
    }

    /// The common path of the setting calls: find the window, run the batch
    /// under its lock, then invalidate once.
    fn put(&self, p: PartitionId, liobn: u64, ioba: u64, src: Source<'_>) -> HResult<()> {
        let part = self.part(p)?;
        let mut shared = part.shared.lock();
        let Shared { pes, units } = &mut *shared;
        let target = find_window_mut(pes, liobn)?;
        let ctx = PartitionAccounting {
            units,
            dirty: &part.dirty,
            memory: &part.tce_memory,
        };
        let window = target.window;
        let bytes = window.put(ioba, src, &ctx)?;
        if bytes == 0 {
            return Ok(());
        }
        // The kill runs while the partition is still locked: until it has
        // completed the PHB may still use a replaced translation, so a region
        // whose map count this batch dropped to 0 must not be unregistered
        // and a dirty-log reader must not clear the pages this batch marked,
        // before then. Both take the partition lock.
        let mut gather = Gather::new();
        gather.add(ioba, bytes, window.geometry.page_shift());
        let flushed = gather.flush(target.phb, &[target.pe]);
        if flushed.is_err() {
            // The batch released its references to the replaced pages, but
            // the PHB may still translate to them: fence unregistration
            // until a kill of this PE completes (before the partition lock is let go).
            target.kill_owed.store(true, Ordering::Release);
        }
        drop(shared);
        flushed.map_err(|_| HStatus::Hardware)
    }
}
