//! TCE tables: the in-memory translation tables a PHB walks for DMA.
//!
//! A [`TceTable`] translates one DMA window: `1 << window_shift` bytes starting
//! at a bus offset, in IOMMU pages of `1 << page_shift` bytes, through 1 to 5
//! levels of equal size (DESIGN §6). Each level is at least 4 KiB and aligned to
//! its own size, because the PHB forms an entry address by OR-ing the index into
//! the level base. Entries are big-endian `u64`s: a leaf entry (a TCE) is the
//! page address with read (1) and write (2) permission bits; an indirect entry
//! is the next level's address with both bits set.
//!
//! Only the top level exists after creation; the map that first needs an
//! indirect level allocates it, and concurrent maps race to install it with a
//! compare-exchange (the loser frees its block). A change first allocates
//! every level it needs and installs them empty (`TceTable::prepare_levels`),
//! then writes leaf entries, so a change that cannot get its memory changes
//! nothing. Lookups and clears never allocate. Levels live until the table is
//! dropped.
//!
//! - [`geometry`]: window and level sizes, validated as the hardware needs them.
//! - the TVT entry that points a PHB at a table is [`crate::phb::tve`].
//! - `level` (private): the only code that turns a level's address into memory.
//! - `table`: [`TceTable`] itself, and its [`IoPageTable`](crate::iopt::IoPageTable) impl.
//! - `batch`: runs of entries stored under the caller's lock (the hypercalls).
//! - `page_run`: runs of consecutive pages as big-endian words (checked as
//!   listed, or stored), without a byte swap.
//! - [`reference`](mod@reference) (host only): an independent model of the PHB's walk.

mod batch;
pub mod geometry;
mod level;
pub(crate) mod page_run;
#[cfg(any(test, feature = "std"))]
pub mod reference;
mod table;

pub use geometry::Geometry;
pub use table::TceTable;

use crate::iopt::Perm;
use crate::page_alloc::AllocError;

/// Why a TCE table operation was refused. A refused operation changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TceError {
    /// The IOMMU page shift is not one of 12, 16, 21, 24, 28, 30.
    UnsupportedPageShift(u32),
    /// The level count is not 1..=5.
    UnsupportedLevels(u32),
    /// The window size is not a power of two at least one IOMMU page.
    BadWindowSize,
    /// The bus offset is not a multiple of the window size, or the window runs
    /// past the end of the address space.
    BadBusOffset,
    /// The levels would address too many bits: `(level_shift - 3) * levels +
    /// page_shift >= 55`.
    AddressWidth,
    /// One level would exceed the largest size a TVE can describe (2^39 entries).
    LevelTooLarge,
    /// An IOVA is not a multiple of the IOMMU page size.
    MisalignedIova,
    /// A physical address is not a multiple of the IOMMU page size.
    MisalignedPhys,
    /// A size is not a multiple of the IOMMU page size.
    MisalignedSize,
    /// A size of zero.
    ZeroSize,
    /// The IOVA range is not inside the window.
    OutsideWindow,
    /// An address plus size runs past `u64::MAX`.
    Overflow,
    /// A physical address at or above [`PHYS_LIMIT`].
    PhysTooLarge,
    /// A map with no permission (use unmap or clear instead).
    NoPermission,
    /// A level could not be allocated.
    NoMemory,
}

impl From<AllocError> for TceError {
    fn from(_: AllocError) -> Self {
        TceError::NoMemory
    }
}

/// Physical addresses a TCE may name are below this limit (56 address bits).
pub const PHYS_LIMIT: u64 = 1 << 56;

/// One table entry as the hardware sees it, in CPU byte order.
///
/// A leaf entry is `page address | perm`; an entry without permission bits is
/// invalid (the device faults on it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tce(u64);

impl Tce {
    /// The invalid (cleared) entry.
    pub const NONE: Tce = Tce(0);

    /// An entry naming the page at `phys` with `perm`. `phys` must be aligned
    /// to the table's page size; the table checks that when it stores it.
    pub const fn new(phys: u64, perm: Perm) -> Tce {
        Tce(phys | perm.bits())
    }

    /// The entry from its raw value.
    pub const fn from_raw(raw: u64) -> Tce {
        Tce(raw)
    }

    /// The raw value (CPU byte order).
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The permission bits.
    pub const fn perm(self) -> Perm {
        Perm::from_bits_truncate(self.0)
    }

    /// The page address (the entry with its low 12 flag bits cleared).
    pub const fn phys(self) -> u64 {
        self.0 & !0xfff
    }

    /// Whether the device may use the entry (read or write is set).
    pub const fn is_valid(self) -> bool {
        self.0 & Perm::all().bits() != 0
    }
}

#[cfg(test)]
mod prepare_tests;
#[cfg(test)]
mod table_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iopt::RW;

    #[test]
    fn tce_bits() {
        let t = Tce::new(0x1234_5000, RW);
        assert_eq!(t.raw(), 0x1234_5003);
        assert_eq!(t.phys(), 0x1234_5000);
        assert_eq!(t.perm(), RW);
        assert!(t.is_valid());
        assert!(!Tce::NONE.is_valid());
        assert_eq!(Tce::new(0x2000, Perm::WRITE).raw(), 0x2002);
        assert!(!Tce::from_raw(0x5000).is_valid());
    }
}
