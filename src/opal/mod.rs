//! OPAL-style firmware calls for DMA windows, PEs, TCE kill and EEH freeze,
//! over a set of PHBs of any generation (each behind the PHB interface,
//! [`crate::phb::Phb`], brought up by this library or attached after
//! another firmware's bring-up), with OPAL's return codes. A call a PHB
//! cannot serve returns [`OpalCode::Unsupported`].
//!
//! Every call checks all of its arguments (PHB id, PE, window id, levels,
//! level size, page size, alignment, ranges) before it touches a register;
//! bad input returns its code and writes nothing. The same calls are
//! exported to C by the `pnv-iommu-capi` crate.

#![deny(unsafe_code)]

mod calls;

pub use calls::{FreezeStatus, OpalPhbs, split_window_id, window_id};

/// OPAL return codes (the value on the wire is the discriminant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum OpalCode {
    /// Success.
    Success = 0,
    /// An argument is invalid.
    Parameter = -1,
    /// Try again later.
    Busy = -2,
    /// Partly done.
    Partial = -3,
    /// Constrained.
    Constrained = -4,
    /// Closed.
    Closed = -5,
    /// The hardware failed (fenced PHB, timed-out kill).
    Hardware = -6,
    /// Not supported.
    Unsupported = -7,
    /// Not permitted.
    Permission = -8,
    /// Out of memory.
    NoMem = -9,
    /// Out of a resource.
    Resource = -10,
    /// Firmware bug.
    InternalError = -11,
    /// The hardware is frozen.
    HardwareFrozen = -13,
    /// The object is in the wrong state for the call.
    WrongState = -14,
}

impl OpalCode {
    /// The value returned to callers.
    pub const fn code(self) -> i64 {
        self as i64
    }
}

/// OPAL call tokens.
pub mod token {
    /// `OPAL_PCI_EEH_FREEZE_STATUS`.
    pub const EEH_FREEZE_STATUS: u64 = 23;
    /// `OPAL_PCI_EEH_FREEZE_CLEAR`.
    pub const EEH_FREEZE_CLEAR: u64 = 26;
    /// `OPAL_PCI_SET_PE`.
    pub const SET_PE: u64 = 31;
    /// `OPAL_PCI_MAP_PE_DMA_WINDOW`.
    pub const MAP_PE_DMA_WINDOW: u64 = 44;
    /// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL`.
    pub const MAP_PE_DMA_WINDOW_REAL: u64 = 45;
    /// `OPAL_PCI_RESET`.
    pub const PCI_RESET: u64 = 49;
    /// `OPAL_PCI_EEH_FREEZE_SET`.
    pub const EEH_FREEZE_SET: u64 = 97;
    /// `OPAL_PCI_TCE_KILL`.
    pub const TCE_KILL: u64 = 126;
}

/// `tce_kill` kinds.
pub mod kill_type {
    /// Kill a range of pages of one PE.
    pub const PAGES: u32 = 0;
    /// Kill one PE.
    pub const PE: u32 = 1;
    /// Kill everything.
    pub const ALL: u32 = 2;
}

/// EEH freeze states returned by `eeh_freeze_status`.
pub mod freeze_state {
    /// Not frozen.
    pub const NOT_FROZEN: u8 = 0;
    /// MMIO frozen.
    pub const MMIO_FREEZE: u8 = 1;
    /// DMA frozen.
    pub const DMA_FREEZE: u8 = 2;
    /// MMIO and DMA frozen.
    pub const MMIO_DMA_FREEZE: u8 = 3;
}

/// `eeh_freeze_clear` / `eeh_freeze_set` options.
pub mod freeze_action {
    /// MMIO only.
    pub const MMIO: u64 = 1;
    /// DMA only.
    pub const DMA: u64 = 2;
    /// Both.
    pub const ALL: u64 = 3;
}

/// PCI error types returned by `eeh_freeze_status`.
pub mod pci_error_type {
    /// No error.
    pub const NO_ERROR: u16 = 0;
    /// A PE is frozen.
    pub const PE_ERROR: u16 = 3;
}

/// `set_pe` actions.
pub mod pe_action {
    /// Return the RIDs to the reserved PE.
    pub const UNMAP: u8 = 0;
    /// Map the RIDs to the PE.
    pub const MAP: u8 = 1;
}

/// `pci_reset` scope resetting the IODA tables.
pub const RESET_PCI_IODA_TABLE: u8 = 6;
/// `pci_reset` assert state: deassert.
pub const DEASSERT_RESET: u8 = 0;
/// `pci_reset` assert state: assert.
pub const ASSERT_RESET: u8 = 1;
