//! What the hypervisor needs from a PHB: set and clear a PE's TVEs, and kill
//! cached TCEs.
//!
//! The firmware implements [`WindowProgrammer`] over the PHB4 driver (TVE `n`
//! of a PE is OPAL window id `pe * 2 + n`; `map_translated` with the fields of
//! [`WindowTable`]; `unmap_window`; the driver's [`Invalidate`] for kills).
//! Host tests use [`RecordingPhb`](super::fake::RecordingPhb).

use crate::iopt::Invalidate;
use crate::page_alloc::PageAllocator;
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
    /// Points TVE `n` (0 or 1) of `pe` at `table`.
    fn set_window(&self, pe: u16, n: u32, table: &WindowTable) -> Result<(), Self::Error>;

    /// Disables TVE `n` of `pe`; afterwards the PHB no longer reads the table
    /// that was there (the implementation kills the PE's TCE cache if needed).
    fn clear_window(&self, pe: u16, n: u32) -> Result<(), Self::Error>;
}
