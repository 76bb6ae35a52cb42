//! PEs and dynamic DMA windows: attach, and the four DDW RTAS calls.
//!
//! A PE assigned to a partition has two TVE slots. Slot 0 holds the default
//! window (bus address 0, 4 KiB pages, below 4 GiB) created when the PE is
//! attached, under a LIOBN that stays the PE's default for its life. Slot 1
//! holds the one dynamic window, at `1 << 59`, created by
//! `ibm,create-pe-dma-window`. So a PE has at most two windows, and a create
//! while slot 1 is in use is refused (-3), whatever happened to slot 0.
//!
//! - Removing the dynamic window while the default is gone recreates the
//!   default (empty), so the PE never stays without a window after using DDW.
//! - Removing the default window is allowed (to give its resources to a
//!   dynamic window); the PE then has only what it creates.
//! - Reset removes both and recreates the boot-time default, empty.
//!
//! A window is torn down in this order: clear its TVE, kill the PE's TCE
//! cache, release the references its entries hold, free the table. If the
//! TVE cannot be cleared the window stays (-1), because the PHB may still
//! read the table.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::liobn::{Ctx, PeState, Window};
use super::partition::Partition;
use super::phb::{WindowProgrammer, WindowTable};
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
    /// Windows that can still be created (0 or 1).
    pub windows_available: u32,
    /// Largest window that can be created, in 4 KiB TCEs (clipped to `u32::MAX`).
    pub largest_block: u32,
    /// Page-size mask (`DDW_PAGE_*`).
    pub page_sizes: u32,
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
    /// status, windows available, largest block, page sizes.
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
            for pe in other.pes.read().iter() {
                if (Arc::ptr_eq(&pe.phb, &phb) && pe.cfg.pe == cfg.pe)
                    || (pe.cfg.buid == cfg.buid && pe.cfg.config_addr == cfg.config_addr)
                {
                    return Err(SetupError::PeInUse);
                }
            }
        }
        let liobn = self.new_liobn().ok_or(SetupError::NoMemory)?;
        let mut pes = part.pes.write();
        let mut state = PeState {
            cfg,
            phb,
            default_liobn: liobn,
            windows: [None, None],
        };
        self.install_default(&mut state).map_err(|e| match e {
            RtasStatus::HardwareError => SetupError::Hardware,
            _ => SetupError::BadWindow,
        })?;
        pes.push(state);
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
        let pes = part.pes.read();
        let pe = find_pe(&pes, config_addr, buid)?;
        let free = pe.windows[1].is_none();
        let largest = 1u64 << pe.cfg.max_window_shift.saturating_sub(12).min(63);
        Ok(DdwQuery {
            windows_available: free as u32,
            largest_block: if free {
                largest.min(u32::MAX as u64) as u32
            } else {
                0
            },
            page_sizes: pe.cfg.page_sizes,
        })
    }

    /// `ibm,create-pe-dma-window`: a window of `1 << window_shift` bytes in
    /// pages of `1 << page_shift` bytes at [`DDW_WINDOW_START`], in TVE 1.
    pub fn ddw_create(
        &self,
        p: PartitionId,
        config_addr: u32,
        buid: u64,
        page_shift: u32,
        window_shift: u32,
    ) -> Result<DdwWindow, RtasStatus> {
        let part = self.part_rtas(p)?;
        let mut pes = part.pes.write();
        let pe = find_pe_mut(&mut pes, config_addr, buid)?;
        let supported = page_mask_bit(page_shift).is_some_and(|b| pe.cfg.page_sizes & b != 0);
        if !supported || window_shift > pe.cfg.max_window_shift || pe.windows[1].is_some() {
            return Err(RtasStatus::ParameterError);
        }
        let g = geometry(DDW_WINDOW_START, window_shift, page_shift)
            .ok_or(RtasStatus::ParameterError)?;
        let liobn = self.new_liobn().ok_or(RtasStatus::HardwareError)?;
        self.install(pe, 1, liobn, g)?;
        Ok(DdwWindow {
            liobn,
            start: DDW_WINDOW_START,
        })
    }

    /// `ibm,remove-pe-dma-window`.
    pub fn ddw_remove(&self, p: PartitionId, liobn: u32) -> Result<(), RtasStatus> {
        let part = self.part_rtas(p)?;
        let mut pes = part.pes.write();
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
        teardown(part, pe, slot)?;
        if slot == 1 && pe.windows[0].is_none() {
            self.install_default(pe)?;
        }
        Ok(())
    }

    /// `ibm,reset-pe-dma-window`: back to the boot-time default window.
    pub fn ddw_reset(&self, p: PartitionId, config_addr: u32, buid: u64) -> Result<(), RtasStatus> {
        let part = self.part_rtas(p)?;
        let mut pes = part.pes.write();
        let pe = find_pe_mut(&mut pes, config_addr, buid)?;
        for slot in [1, 0] {
            if pe.windows[slot].is_some() {
                teardown(part, pe, slot)?;
            }
        }
        self.install_default(pe)
    }

    /// The DDW calls at the RTAS argument-buffer level: `args` are the input
    /// cells, `rets` the output cells (`rets[0]` the status). Wrong cell
    /// counts give -3 (when there is a status cell to hold it).
    pub fn rtas_ddw(&self, p: PartitionId, call: DdwCall, args: &[u32], rets: &mut [u32]) {
        let (nargs, nret) = match call {
            DdwCall::Query => (3, 4),
            DdwCall::Create => (5, 4),
            DdwCall::Remove => (1, 1),
            DdwCall::Reset => (3, 1),
        };
        if args.len() != nargs || rets.len() < nret {
            if let Some(status) = rets.first_mut() {
                *status = RtasStatus::ParameterError.to_cell();
            }
            return;
        }
        let buid = || ((args[1] as u64) << 32) | args[2] as u64;
        let status = match call {
            DdwCall::Query => self.ddw_query(p, args[0], buid()).map(|q| {
                rets[1] = q.windows_available;
                rets[2] = q.largest_block;
                rets[3] = q.page_sizes;
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

    fn new_liobn(&self) -> Option<u32> {
        self.next_liobn
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_add(1))
            .ok()
    }

    /// Recreates the default window (empty) in slot 0 under the PE's default LIOBN.
    fn install_default(&self, pe: &mut PeState<P, A>) -> Result<(), RtasStatus> {
        let shift = pe.cfg.default_window_size.trailing_zeros();
        let g = geometry(0, shift, 12).ok_or(RtasStatus::ParameterError)?;
        self.install(pe, 0, pe.default_liobn, g)
    }

    /// Creates a window of geometry `g` and programs it into TVE `n` of the PE.
    fn install(
        &self,
        pe: &mut PeState<P, A>,
        n: u32,
        liobn: u32,
        g: Geometry,
    ) -> Result<(), RtasStatus> {
        let window =
            Window::new(liobn, n, g, self.alloc.clone()).map_err(|_| RtasStatus::HardwareError)?;
        let desc = WindowTable::of(&window.state.lock().table);
        pe.phb
            .set_window(pe.cfg.pe, n, &desc)
            .map_err(|_| RtasStatus::HardwareError)?;
        pe.windows[n as usize] = Some(window);
        Ok(())
    }
}

/// Tears down the window in `slot` (see the module documentation for the order).
fn teardown<P: WindowProgrammer, A: PageAllocator + Clone>(
    part: &Partition<P, A>,
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
    let units = part.units.read();
    window.release_all(&Ctx {
        units: &units,
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
