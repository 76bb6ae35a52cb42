//! PCI function addresses and what enumerating the bus behind a root port
//! finds (the same on every PHB generation).

use alloc::vec::Vec;

/// A PCI function address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bdf {
    /// Bus number.
    pub bus: u8,
    /// Device (bits 7..3) and function (bits 2..0).
    pub devfn: u8,
}

impl Bdf {
    /// The root port.
    pub const ROOT_PORT: Bdf = Bdf { bus: 0, devfn: 0 };

    /// Bus, device (0..32), function (0..8).
    pub const fn new(bus: u8, dev: u8, func: u8) -> Bdf {
        Bdf {
            bus,
            devfn: (dev & 0x1f) << 3 | (func & 7),
        }
    }

    /// The 16-bit requester ID (`bus << 8 | devfn`).
    pub const fn rid(self) -> u16 {
        (self.bus as u16) << 8 | self.devfn as u16
    }

    /// From a requester ID.
    pub const fn from_rid(rid: u16) -> Bdf {
        Bdf {
            bus: (rid >> 8) as u8,
            devfn: rid as u8,
        }
    }
}

/// One assigned memory BAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciBar {
    /// BAR number (0..6; a 64-bit BAR uses this and the next).
    pub index: u8,
    /// PCI bus address.
    pub pci_addr: u64,
    /// CPU physical address (through the M32 window).
    pub cpu_addr: u64,
    /// Size in bytes.
    pub size: u64,
    /// 64-bit BAR.
    pub is64: bool,
}

/// A function found behind the root port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciFunction {
    /// Its address.
    pub bdf: Bdf,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Assigned memory BARs.
    pub bars: Vec<PciBar>,
}
