//! Partition-scoped radix translation (Power ISA 3.0 Book III §6.7): the
//! partition table and the tree that maps a guest's real addresses to host
//! real addresses, with 2 MiB leaves.
//!
//! Layout: partition table of 4 KiB (PATS = 0, 256 LPIDs); a 52-bit tree
//! (RTS = 21) whose root has 2^13 entries (RPDS = 13), then two levels of 2^9
//! entries; leaves sit in the third level and map 2 MiB each.

use alloc::alloc::{Layout, alloc_zeroed};
use alloc::vec::Vec;

/// Bytes one leaf maps.
pub const LEAF_SIZE: u64 = 2 << 20;

/// Valid bit of a directory or leaf entry.
const R_VALID: u64 = 1 << 63;
/// Leaf bit.
const R_LEAF: u64 = 1 << 62;
/// Reference and change bits, preset so the walker never writes back.
const R_REF: u64 = 1 << 8;
const R_CHG: u64 = 1 << 7;
/// Encoded access authority: read, read/write, execute.
const R_EAA_RWX: u64 = 0x7;
/// Attribute field (bits 58:59): non-idempotent I/O (cache-inhibited,
/// guarded), for device registers.
const R_ATT_IO: u64 = 0x20;
/// Encoded access authority: read and write, no execute.
const R_EAA_RW: u64 = 0x6;
/// Real page number bits of a leaf.
const R_RPN_MASK: u64 = 0x01ff_ffff_ffff_f000;
/// Partition-table entry: host radix.
const PATE_HR: u64 = 1 << 63;
/// Radix tree size 52 bits: RTS = 21 = 0b10_101, split into RTS1 (bits 1..2)
/// and RTS2 (bits 56..58).
const PATE_RTS_52: u64 = (0b10 << 61) | (0b101 << 5);
const ROOT_BITS: u64 = 13;
const LEVEL_BITS: u64 = 9;

/// Why a guest memory map cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RadixError {
    /// Guest or host address, or size, is not 2 MiB aligned.
    Misaligned,
    /// The heap could not provide a table.
    NoMemory,
    /// The LPID does not fit the 4 KiB partition table or is 0 (the host).
    BadLpid,
}

/// A partition table with one guest's tree.
pub struct PartitionTable {
    table: u64,
    root: u64,
    levels: Vec<u64>,
}

fn zeroed(bytes: usize) -> Result<u64, RadixError> {
    let layout = Layout::from_size_align(bytes, bytes).map_err(|_| RadixError::NoMemory)?;
    // SAFETY: `layout` has a non-zero size. The block is never freed: the
    // guest's translation lives as long as the firmware.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        Err(RadixError::NoMemory)
    } else {
        Ok(p as u64)
    }
}

/// Reads the table entry at `addr`.
///
/// # Safety
///
/// `addr` is an 8-byte aligned entry inside a table this module allocated
/// (`zeroed`) and still owns.
unsafe fn read(addr: u64) -> u64 {
    // SAFETY: the caller's contract: an aligned entry of a live table.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Writes the table entry at `addr`.
///
/// # Safety
///
/// As for [`read`]; the entry is not in use by a running guest's walk in a
/// way the change would break (the callers only fill empty entries or set
/// up a partition before it runs).
unsafe fn write(addr: u64, value: u64) {
    // SAFETY: the caller's contract: an aligned entry of a live table.
    unsafe { core::ptr::write_volatile(addr as *mut u64, value) }
}

impl PartitionTable {
    /// An empty partition table.
    pub fn new() -> Result<Self, RadixError> {
        Ok(PartitionTable {
            table: zeroed(4096)?,
            root: zeroed(8 << ROOT_BITS)?,
            levels: Vec::new(),
        })
    }

    /// The value for the PTCR register.
    pub fn ptcr(&self) -> u64 {
        self.table // PATS = 0: 4 KiB
    }

    /// Host address of `lpid`'s partition-table entry (16 bytes: the tree,
    /// then the guest's process table).
    pub fn entry(&self, lpid: u32) -> u64 {
        self.table + 16 * (lpid as u64 & 0xff)
    }

    /// Points `lpid`'s entry at this table's tree.
    pub fn install(&mut self, lpid: u32) -> Result<(), RadixError> {
        if lpid == 0 || lpid >= 256 {
            return Err(RadixError::BadLpid);
        }
        let entry = self.table + 16 * lpid as u64;
        // SAFETY: `entry` and `entry + 8` lie in the 4 KiB partition table
        // this value allocated (lpid < 256, 16 bytes an entry).
        unsafe {
            write(entry, PATE_HR | PATE_RTS_52 | self.root | ROOT_BITS);
            write(entry + 8, 0); // no process table until the guest registers one
        }
        Ok(())
    }

    /// Maps guest real `[guest, guest + size)` to host `[host, host + size)`.
    pub fn map(&mut self, guest: u64, host: u64, size: u64) -> Result<(), RadixError> {
        self.map_with(guest, host, size, R_EAA_RWX)
    }

    /// Maps guest real `[guest, guest + size)` to host device registers
    /// `[host, host + size)`: cache-inhibited and guarded, no execute.
    pub fn map_io(&mut self, guest: u64, host: u64, size: u64) -> Result<(), RadixError> {
        self.map_with(guest, host, size, R_ATT_IO | R_EAA_RW)
    }

    fn map_with(&mut self, guest: u64, host: u64, size: u64, attrs: u64) -> Result<(), RadixError> {
        if !(guest | host | size).is_multiple_of(LEAF_SIZE) || guest >= 1 << 52 {
            return Err(RadixError::Misaligned);
        }
        let mut off = 0;
        while off < size {
            self.map_leaf(guest + off, host + off, attrs)?;
            off += LEAF_SIZE;
        }
        Ok(())
    }

    fn map_leaf(&mut self, guest: u64, host: u64, attrs: u64) -> Result<(), RadixError> {
        let i0 = (guest >> (52 - ROOT_BITS)) & ((1 << ROOT_BITS) - 1);
        let i1 = (guest >> 30) & ((1 << LEVEL_BITS) - 1);
        let i2 = (guest >> 21) & ((1 << LEVEL_BITS) - 1);
        // SAFETY: i0 < 2^13 indexes the root (8 << 13 bytes); i1 and i2 <
        // 2^9 index a level (8 << 9 bytes); all were allocated by this value.
        unsafe {
            let l1 = self.next_level(self.root + 8 * i0)?;
            let l2 = self.next_level(l1 + 8 * i1)?;
            write(
                l2 + 8 * i2,
                R_VALID | R_LEAF | (host & R_RPN_MASK) | R_REF | R_CHG | attrs,
            );
        }
        Ok(())
    }

    /// The level a directory entry points to, allocated if it is empty.
    ///
    /// # Safety
    ///
    /// `entry` is an aligned entry of a directory (root or level) of this
    /// table.
    unsafe fn next_level(&mut self, entry: u64) -> Result<u64, RadixError> {
        // SAFETY: the caller's contract.
        let pde = unsafe { read(entry) };
        if pde & R_VALID != 0 {
            return Ok(pde & 0x0fff_ffff_ffff_ff00);
        }
        let level = zeroed(8 << LEVEL_BITS)?;
        self.levels.push(level);
        // SAFETY: the caller's contract.
        unsafe { write(entry, R_VALID | level | LEVEL_BITS) };
        Ok(level)
    }
}
