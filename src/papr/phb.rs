//! What the hypervisor needs from a PHB: set and clear a PE's TVEs, and kill
//! cached TCEs.
//!
//! [`LockedPhb`] implements [`WindowProgrammer`] over any PHB generation's
//! [`Phb`] (a translated [`DmaWindow`] from the fields of [`WindowTable`],
//! [`DmaWindow::Off`] to clear, [`Phb::kill`] for the invalidations).
//! Host tests use [`RecordingPhb`](super::fake::RecordingPhb).

use crate::iopt::{Invalidate, IovaRange};
use crate::page_alloc::PageAllocator;
use crate::phb::tve::{TranslatedTve, TveError};
use crate::phb::{DmaWindow, KillScope, Phb, PhbCapabilities, PhbError};
use crate::tce::TceTable;

/// A TCE table as a TVE describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowTable {
    /// Physical address of the top level (aligned to `level_bytes`).
    pub top_phys: u64,
    /// Number of levels, 1..=5.
    pub levels: u32,
    /// Bytes per level (a power of two, at least 4 KiB).
    pub level_bytes: u64,
    /// log2 of the IOMMU page size.
    pub page_shift: u32,
    /// First bus address of the window.
    pub bus_offset: u64,
    /// Window size in bytes.
    pub window_size: u64,
    /// The IODA3 TVE encoding of all of the above.
    pub tve: u64,
}

impl WindowTable {
    /// The description of `table`.
    pub fn of<A: PageAllocator>(table: &TceTable<A>) -> WindowTable {
        let g = table.geometry();
        WindowTable {
            top_phys: table.top_phys(),
            levels: g.levels(),
            level_bytes: g.level_bytes(),
            page_shift: g.page_shift(),
            bus_offset: g.bus_offset(),
            window_size: g.window_size(),
            tve: table.tve(),
        }
    }
}

/// Programs the DMA windows of PEs on one PHB, and invalidates its TCE cache.
///
/// Calls come from several CPUs at once (`&self`); an implementation over a
/// `&mut` driver takes its own lock. The hypervisor never frees a table until
/// [`clear_window`](Self::clear_window) for it has returned `Ok`.
pub trait WindowProgrammer: Invalidate + Send + Sync {
    /// Points TVE slot `slot` (0 or 1) of `pe` at `table`.
    fn set_window(&self, pe: u16, slot: u32, table: &WindowTable) -> Result<(), Self::Error>;

    /// Disables TVE slot `slot` of `pe`; afterwards the PHB no longer reads the table
    /// that was there (the implementation kills the PE's TCE cache if needed).
    fn clear_window(&self, pe: u16, slot: u32) -> Result<(), Self::Error>;

    /// What the PHB's PEs can have, if the implementation knows (a PE's
    /// DDW page sizes must be among them); `None` skips that check.
    fn capabilities(&self) -> Option<PhbCapabilities> {
        None
    }
}

/// A PHB of any generation as the hypervisor's [`WindowProgrammer`]: the
/// [`Phb`] behind a lock (hypercalls come from several CPUs), slot `slot`
/// of a PE set to the table a [`WindowTable`] describes, kills through
/// [`Phb::kill`].
pub struct LockedPhb<P: Phb>(spin::Mutex<P>);

impl<P: Phb> LockedPhb<P> {
    /// Wraps `phb`.
    pub fn new(phb: P) -> LockedPhb<P> {
        LockedPhb(spin::Mutex::new(phb))
    }

    /// The PHB, locked (for calls outside the hypervisor's, e.g. `set_pe`).
    pub fn lock(&self) -> spin::MutexGuard<'_, P> {
        self.0.lock()
    }
}

impl<P: Phb> core::fmt::Debug for LockedPhb<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LockedPhb").finish_non_exhaustive()
    }
}

/// Every [`Phb::kill`] has waited for its DMA read sync before it returns,
/// so [`sync`](Invalidate::sync) has nothing left to wait for: a gather
/// flush waits once per kill, not twice.
impl<P: Phb> Invalidate for LockedPhb<P> {
    type Error = PhbError;

    fn invalidate_all(&self) -> Result<(), PhbError> {
        self.0.lock().kill(KillScope::All)
    }

    fn invalidate_pe(&self, pe: u16) -> Result<(), PhbError> {
        self.0.lock().kill(KillScope::Pe(pe as u64))
    }

    fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), PhbError> {
        self.0.lock().kill(KillScope::pages_of(pe as u64, range)?)
    }

    fn sync(&self) -> Result<(), PhbError> {
        Ok(())
    }
}

impl<P: Phb + Send> WindowProgrammer for LockedPhb<P> {
    fn set_window(&self, pe: u16, slot: u32, table: &WindowTable) -> Result<(), PhbError> {
        let t = TranslatedTve::new(
            table.top_phys,
            table.levels as u64,
            table.level_bytes,
            1u64.checked_shl(table.page_shift)
                .ok_or(PhbError::Tve(TveError::PageSize))?,
        )?;
        self.0
            .lock()
            .set_window(pe as u64, slot, &DmaWindow::Translated(t))
    }

    fn clear_window(&self, pe: u16, slot: u32) -> Result<(), PhbError> {
        self.0.lock().set_window(pe as u64, slot, &DmaWindow::Off)
    }

    fn capabilities(&self) -> Option<PhbCapabilities> {
        Some(self.0.lock().capabilities())
    }
}
