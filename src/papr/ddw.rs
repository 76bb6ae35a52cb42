//! PEs and dynamic DMA windows: attach, and the four DDW RTAS calls.
//!
//! A PE assigned to a partition has two TVE slots, so at most two windows.
//! Slot 0 (bus address 0) holds the default window (4 KiB pages, below
//! 4 GiB) created when the PE is attached, under a LIOBN that stays the PE's
//! default for its life. `ibm,create-pe-dma-window` takes a free slot:
//! slot 1 (bus address [`DDW_WINDOW_START`]) if free, else slot 0. So once
//! the default window is removed, a window is available again even if a
//! dynamic one exists (LoPAPR; Linux removes the default window to get a
//! second large one), and a PE may then hold two dynamic windows. A create
//! with no free slot is refused (-3).
//!
//! - Removing the last dynamic window while the default is gone recreates
//!   the default (empty), so the PE never stays without a window after
//!   using DDW. The new default is made before anything is torn down: if
//!   there is no memory for it, the call fails (-1) and nothing changed.
//! - Removing the default window is allowed (to give its resources to a
//!   dynamic window); the PE then has only what it creates.
//! - Reset removes both and recreates the boot-time default, empty (made
//!   before anything is torn down, like the default a remove brings back).
//!
//! `ibm,query-pe-dma-window` has two forms, told apart by the caller's
//! output count: 5 outputs (status, windows available, largest block,
//! page sizes, migration capable) and, as `ibm,ddw-extensions` advertises
//! ([`ddw_extensions`]), the extended form with 6 (the largest block in two
//! cells). Every output of either form is written; any other count is -3.
//!
//! A window is torn down in this order: clear its TVE, kill the PE's TCE
//! cache, release the references its entries hold, free the table. If the
//! TVE cannot be cleared the window stays (-1), because the PHB may still
//! read the table. If the kill fails the window goes (-1) and the PE owes a
//! kill: no region can be unregistered until one completes.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use super::liobn::{MAX_DEFAULT_LIOBN, PartitionAccounting, PeState, Window};
use super::partition::{Partition, Shared};
use super::phb::{WindowProgrammer, WindowTable};
use super::prereg::Units;
use super::{Hypervisor, PartitionId, PeConfig, SetupError};
use crate::page_alloc::PageAllocator;
use crate::tce::Geometry;

/// Page-size mask bit for 4 KiB pages (query output, create input).
pub const DDW_PAGE_4K: u32 = 0x01;
/// 64 KiB pages.
pub const DDW_PAGE_64K: u32 = 0x02;
/// 16 MiB pages.
pub const DDW_PAGE_16M: u32 = 0x04;
/// 32 MiB pages.
pub const DDW_PAGE_32M: u32 = 0x08;
/// 64 MiB pages.
pub const DDW_PAGE_64M: u32 = 0x10;
/// 128 MiB pages.
pub const DDW_PAGE_128M: u32 = 0x20;
/// 256 MiB pages.
pub const DDW_PAGE_256M: u32 = 0x40;
/// 16 GiB pages.
pub const DDW_PAGE_16G: u32 = 0x80;
/// 2 MiB pages.
pub const DDW_PAGE_2M: u32 = 0x100;

/// Bus address of the dynamic window (TVE slot 1).
pub const DDW_WINDOW_START: u64 = crate::phb::SLOT1_START;

/// Largest default window: it must lie below 4 GiB.
pub const MAX_DEFAULT_WINDOW: u64 = 1 << 32;

/// The mask bit for pages of `1 << page_shift` bytes, if there is one.
pub const fn page_mask_bit(page_shift: u32) -> Option<u32> {
    Some(match page_shift {
        12 => DDW_PAGE_4K,
        16 => DDW_PAGE_64K,
        21 => DDW_PAGE_2M,
        24 => DDW_PAGE_16M,
        25 => DDW_PAGE_32M,
        26 => DDW_PAGE_64M,
        27 => DDW_PAGE_128M,
        28 => DDW_PAGE_256M,
        34 => DDW_PAGE_16G,
        _ => return None,
    })
}

/// The DDW page mask for a PHB's page sizes (bit `s` of `page_shifts` set
/// for pages of `1 << s` bytes): the sizes that have a mask bit.
pub const fn ddw_page_mask(page_shifts: u64) -> u32 {
    let mut mask = 0;
    let mut s = 0;
    while s < 64 {
        if page_shifts & (1 << s) != 0
            && let Some(bit) = page_mask_bit(s)
        {
            mask |= bit;
        }
        s += 1;
    }
    mask
}

/// An RTAS status, as returned in the first output cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum RtasStatus {
    /// Success.
    Success = 0,
    /// Hardware error (the PHB refused, or no memory for a table).
    HardwareError = -1,
    /// Busy; try again.
    Busy = -2,
    /// Parameter error: unknown PE or LIOBN, unsupported page size, window
    /// too large, or no window slot left.
    ParameterError = -3,
}

impl RtasStatus {
    /// The value placed in the status cell.
    pub const fn to_cell(self) -> u32 {
        self as i32 as u32
    }
}

/// Outputs of `ibm,query-pe-dma-window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DdwQuery {
    /// Windows that can still be created (0, 1 or 2).
    pub windows_available: u32,
    /// Largest window that can be created, in 4 KiB TCEs (the 5-output form
    /// clips it to `u32::MAX`).
    pub largest_block: u64,
    /// Page-size mask (`DDW_PAGE_*`).
    pub page_sizes: u32,
    /// Whether the windows survive partition migration (always 0 here).
    pub migration_capable: u32,
}

/// `ibm,ddw-extensions` index 2 (query output size): 1 means
/// `ibm,query-pe-dma-window` also takes the 6-output extended form.
pub const DDW_EXT_QUERY_OUT_EXTENDED: u32 = 1;

/// The `ibm,ddw-extensions` property of a PHB whose
/// `ibm,reset-pe-dma-window` token is `reset_token`: two extensions, the
/// reset call and the extended query output.
pub const fn ddw_extensions(reset_token: u32) -> [u32; 3] {
    [2, reset_token, DDW_EXT_QUERY_OUT_EXTENDED]
}

/// Outputs of `ibm,create-pe-dma-window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DdwWindow {
    /// The new window's LIOBN.
    pub liobn: u32,
    /// Its first bus address.
    pub start: u64,
}

/// The DDW RTAS calls, for [`Hypervisor::rtas_ddw`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdwCall {
    /// `ibm,query-pe-dma-window`: in config_addr, BUID hi, BUID lo; out
    /// status, windows available, largest block, page sizes, migration
    /// capable (5 outputs), or the same with the largest block as hi, lo
    /// (6 outputs, the extended form).
    Query,
    /// `ibm,create-pe-dma-window`: in config_addr, BUID hi, BUID lo, page
    /// shift, window shift; out status, LIOBN, start hi, start lo.
    Create,
    /// `ibm,remove-pe-dma-window`: in LIOBN; out status.
    Remove,
    /// `ibm,reset-pe-dma-window`: in config_addr, BUID hi, BUID lo; out status.
    Reset,
}

/// Levels for a window: 4 KiB levels (9 bits each), as few as will do.
fn geometry(bus: u64, window_shift: u32, page_shift: u32) -> Option<Geometry> {
    let bits = window_shift.checked_sub(page_shift)?;
    let levels = bits.div_ceil(9).clamp(1, 5);
    let size = 1u64.checked_shl(window_shift)?;
    Geometry::new(bus, size, page_shift, levels).ok()
}

impl<P: WindowProgrammer, A: PageAllocator + Clone> Hypervisor<P, A> {
    /// Assigns PE `cfg.pe` of `phb` to partition `p` and creates its default
    /// window (bus 0, 4 KiB pages, `cfg.default_window_size` bytes), whose
    /// LIOBN is returned.
    pub fn attach_pe(&self, p: PartitionId, phb: Arc<P>, cfg: PeConfig) -> Result<u32, SetupError> {
        let part = self
            .partitions
            .get(p.0 as usize)
            .ok_or(SetupError::UnknownPartition)?;
        if cfg.default_window_size > MAX_DEFAULT_WINDOW || cfg.page_sizes & DDW_PAGE_4K == 0 {
            return Err(SetupError::BadWindow);
        }
        // Offer only page sizes the PHB has (where it says).
        if let Some(caps) = phb.capabilities()
            && cfg.page_sizes & !caps.ddw_page_mask() != 0
        {
            return Err(SetupError::BadWindow);
        }
        let shift = cfg.default_window_size.trailing_zeros();
        if !cfg.default_window_size.is_power_of_two() || geometry(0, shift, 12).is_none() {
            return Err(SetupError::BadWindow);
        }
        // One owner per PE, and (BUID, config address) names one PE; checked
        // and assigned under one lock.
        let _attaching = self.attach.lock();
        for other in &self.partitions {
            for pe in other.shared.lock().pes.iter() {
                if (Arc::ptr_eq(&pe.phb, &phb) && pe.cfg.pe == cfg.pe)
                    || (pe.cfg.buid == cfg.buid && pe.cfg.config_addr == cfg.config_addr)
                {
                    return Err(SetupError::PeInUse);
                }
            }
        }
        let liobn = self.new_default_liobn().ok_or(SetupError::NoMemory)?;
        let mut shared = part.shared.lock();
        let mut state = PeState {
            cfg,
            phb,
            default_liobn: liobn,
            windows: [None, None],
            kill_owed: AtomicBool::new(false),
            next_generation: 0,
        };
        self.install_default(&mut state).map_err(|e| match e {
            RtasStatus::HardwareError => SetupError::Hardware,
            _ => SetupError::BadWindow,
        })?;
        shared.pes.push(state);
        Ok(liobn)
    }

    /// `ibm,query-pe-dma-window`.
    pub fn ddw_query(
        &self,
        p: PartitionId,
        config_addr: u32,
        buid: u64,
    ) -> Result<DdwQuery, RtasStatus> {
        let part = self.part_rtas(p)?;
        let shared = part.shared.lock();
        let pe = find_pe(&shared.pes, config_addr, buid)?;
        let free = pe.windows.iter().filter(|w| w.is_none()).count() as u32;
        let largest = 1u64 << pe.cfg.max_window_shift.saturating_sub(12).min(63);
        Ok(DdwQuery {
            windows_available: free,
            largest_block: if free > 0 { largest } else { 0 },
            page_sizes: pe.cfg.page_sizes,
            migration_capable: 0,
        })
    }

    /// `ibm,create-pe-dma-window`: a window of `1 << window_shift` bytes in
    /// pages of `1 << page_shift` bytes, in TVE 1 at [`DDW_WINDOW_START`] if
    /// free, else in TVE 0 at bus address 0.
    pub fn ddw_create(
        &self,
        p: PartitionId,
        config_addr: u32,
        buid: u64,
        page_shift: u32,
        window_shift: u32,
    ) -> Result<DdwWindow, RtasStatus> {
        let part = self.part_rtas(p)?;
        let mut shared = part.shared.lock();
        let pe = find_pe_mut(&mut shared.pes, config_addr, buid)?;
        let supported = page_mask_bit(page_shift).is_some_and(|b| pe.cfg.page_sizes & b != 0);
        let slot = [1, 0].into_iter().find(|&n| pe.windows[n].is_none());
        let (true, Some(slot)) = (supported && window_shift <= pe.cfg.max_window_shift, slot)
        else {
            return Err(RtasStatus::ParameterError);
        };
        let start = slot_start(slot);
        let g = geometry(start, window_shift, page_shift).ok_or(RtasStatus::ParameterError)?;
        let liobn = pe.new_dynamic_liobn();
        let window = self.new_window(liobn, slot, g)?;
        program(pe, window)?;
        Ok(DdwWindow { liobn, start })
    }

    /// `ibm,remove-pe-dma-window`.
    pub fn ddw_remove(&self, p: PartitionId, liobn: u32) -> Result<(), RtasStatus> {
        let part = self.part_rtas(p)?;
        let mut shared = part.shared.lock();
        let Shared { pes, units } = &mut *shared;
        let (pe, slot) = pes
            .iter_mut()
            .find_map(|pe| {
                let slot = pe
                    .windows
                    .iter()
                    .position(|w| w.as_ref().is_some_and(|w| w.liobn == liobn))?;
                Some((pe, slot))
            })
            .ok_or(RtasStatus::ParameterError)?;
        // Removing the last dynamic window with the default gone brings the
        // default back: made first, so that no memory means no change.
        let last = pe.windows.iter().flatten().count() == 1;
        let default = if last && liobn != pe.default_liobn {
            Some(self.new_default_window(pe)?)
        } else {
            None
        };
        teardown(part, units, pe, slot)?;
        match default {
            Some(window) => program(pe, window),
            None => Ok(()),
        }
    }

    /// `ibm,reset-pe-dma-window`: back to the boot-time default window.
    pub fn ddw_reset(&self, p: PartitionId, config_addr: u32, buid: u64) -> Result<(), RtasStatus> {
        let part = self.part_rtas(p)?;
        let mut shared = part.shared.lock();
        let Shared { pes, units } = &mut *shared;
        let pe = find_pe_mut(pes, config_addr, buid)?;
        // The new default first: no memory for it means no change.
        let default = self.new_default_window(pe)?;
        for slot in [1, 0] {
            if pe.windows[slot].is_some() {
                teardown(part, units, pe, slot)?;
            }
        }
        program(pe, default)
    }

    /// The DDW calls at the RTAS argument-buffer level: `args` are the input
    /// cells, `rets` the output cells (`rets[0]` the status). Wrong cell
    /// counts give -3 (when there is a status cell to hold it).
    pub fn rtas_ddw(&self, p: PartitionId, call: DdwCall, args: &[u32], rets: &mut [u32]) {
        let (nargs, nret) = match call {
            // Either query form; the count picks the layout below.
            DdwCall::Query if rets.len() == 6 => (3, 6),
            DdwCall::Query => (3, 5),
            DdwCall::Create => (5, 4),
            DdwCall::Remove => (1, 1),
            DdwCall::Reset => (3, 1),
        };
        if args.len() != nargs || rets.len() != nret {
            if let Some(status) = rets.first_mut() {
                *status = RtasStatus::ParameterError.to_cell();
            }
            return;
        }
        let buid = || ((args[1] as u64) << 32) | args[2] as u64;
        let status = match call {
            DdwCall::Query => self.ddw_query(p, args[0], buid()).map(|q| {
                let (block, avail) = (q.largest_block, q.windows_available);
                let (pages, migration) = (q.page_sizes, q.migration_capable);
                if nret == 6 {
                    let (hi, lo) = ((block >> 32) as u32, block as u32);
                    rets[1..].copy_from_slice(&[avail, hi, lo, pages, migration]);
                } else {
                    let block = block.min(u32::MAX as u64) as u32;
                    rets[1..].copy_from_slice(&[avail, block, pages, migration]);
                }
            }),
            DdwCall::Create => self
                .ddw_create(p, args[0], buid(), args[3], args[4])
                .map(|w| {
                    rets[1] = w.liobn;
                    rets[2] = (w.start >> 32) as u32;
                    rets[3] = w.start as u32;
                }),
            DdwCall::Remove => self.ddw_remove(p, args[0]),
            DdwCall::Reset => self.ddw_reset(p, args[0], buid()),
        };
        rets[0] = match status {
            Ok(()) => RtasStatus::Success,
            Err(s) => s,
        }
        .to_cell();
    }

    fn part_rtas(&self, p: PartitionId) -> Result<&Partition<P, A>, RtasStatus> {
        self.partitions
            .get(p.0 as usize)
            .ok_or(RtasStatus::ParameterError)
    }

    /// A default LIOBN for a newly attached PE (see `liobn` for the scheme).
    fn new_default_liobn(&self) -> Option<u32> {
        self.next_liobn
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                (l <= MAX_DEFAULT_LIOBN).then_some(l + 1)
            })
            .ok()
    }

    /// Recreates the default window (empty) in slot 0 under the PE's default LIOBN.
    fn install_default(&self, pe: &mut PeState<P, A>) -> Result<(), RtasStatus> {
        let window = self.new_default_window(pe)?;
        program(pe, window)
    }

    /// A new, empty default window for `pe` (not yet programmed).
    fn new_default_window(&self, pe: &PeState<P, A>) -> Result<Window<A>, RtasStatus> {
        let shift = pe.cfg.default_window_size.trailing_zeros();
        let g = geometry(0, shift, 12).ok_or(RtasStatus::ParameterError)?;
        self.new_window(pe.default_liobn, 0, g)
    }

    /// A new, empty window of geometry `g` for TVE slot `slot`; -1 if there
    /// is no memory for it.
    fn new_window(&self, liobn: u32, slot: usize, g: Geometry) -> Result<Window<A>, RtasStatus> {
        Window::new(liobn, slot as u32, g, self.alloc.clone())
            .map_err(|_| RtasStatus::HardwareError)
    }
}

/// First bus address of a window in TVE slot `slot`.
const fn slot_start(slot: usize) -> u64 {
    if slot == 1 { DDW_WINDOW_START } else { 0 }
}

/// Programs `window` into its TVE of the PE and keeps it there.
fn program<P: WindowProgrammer, A: PageAllocator>(
    pe: &mut PeState<P, A>,
    window: Window<A>,
) -> Result<(), RtasStatus> {
    let desc = WindowTable::of(&window.state.table);
    pe.phb
        .set_window(pe.cfg.pe, window.n, &desc)
        .map_err(|_| RtasStatus::HardwareError)?;
    let slot = window.n as usize;
    pe.windows[slot] = Some(window);
    Ok(())
}

/// Tears down the window in `slot` (see the module documentation for the order).
fn teardown<P: WindowProgrammer, A: PageAllocator + Clone>(
    part: &Partition<P, A>,
    units: &Units,
    pe: &mut PeState<P, A>,
    slot: usize,
) -> Result<(), RtasStatus> {
    let Some(window) = pe.windows[slot].take() else {
        return Ok(());
    };
    if pe.phb.clear_window(pe.cfg.pe, window.n).is_err() {
        pe.windows[slot] = Some(window);
        return Err(RtasStatus::HardwareError);
    }
    // The TVE no longer points at the table; drop what the cache holds too.
    // A failure here cannot be undone (the TVE is cleared), so the window
    // goes anyway and the error is reported.
    let killed = pe
        .phb
        .invalidate_pe(pe.cfg.pe)
        .and_then(|()| pe.phb.sync())
        .is_ok();
    // The references are released below; until a kill of the PE completes
    // no region may be unregistered. A completed kill of the whole PE also
    // pays any kill owed from before.
    pe.kill_owed.store(!killed, Ordering::Release);
    window.release_all(&PartitionAccounting {
        units,
        dirty: &part.dirty,
        memory: &part.tce_memory,
    });
    drop(window);
    if killed {
        Ok(())
    } else {
        Err(RtasStatus::HardwareError)
    }
}

fn find_pe<P: WindowProgrammer, A: PageAllocator>(
    pes: &[PeState<P, A>],
    config_addr: u32,
    buid: u64,
) -> Result<&PeState<P, A>, RtasStatus> {
    pes.iter()
        .find(|pe| pe.cfg.config_addr == config_addr && pe.cfg.buid == buid)
        .ok_or(RtasStatus::ParameterError)
}

fn find_pe_mut<P: WindowProgrammer, A: PageAllocator>(
    pes: &mut [PeState<P, A>],
    config_addr: u32,
    buid: u64,
) -> Result<&mut PeState<P, A>, RtasStatus> {
    pes.iter_mut()
        .find(|pe| pe.cfg.config_addr == config_addr && pe.cfg.buid == buid)
        .ok_or(RtasStatus::ParameterError)
}
