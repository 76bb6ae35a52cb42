//! A Linux guest's boot files as `cargo xtask` hands them over: one
//! "bundle" that QEMU's loader puts in host RAM outside every partition
//! (the staging area), which the hypervisor checks and copies into the
//! guest's RAM where it chooses. The layout (all numbers big-endian u64,
//! offsets from the bundle's start; written by xtask/src/guest_bundle.rs):
//!
//! | offset | field                                          |
//! |--------|------------------------------------------------|
//! | 0      | magic `PNVLINUX`                               |
//! | 8      | format version (1)                             |
//! | 16, 24 | kernel: offset, length (the flat image of the  |
//! |        | kernel ELF's loadable segments from address 0) |
//! | 32, 40 | initrd: offset, length                         |
//! | 48, 56 | kernel command line: offset, length (UTF-8)    |

use super::memory::GuestRam;

/// First 8 bytes of a bundle.
pub const MAGIC: &[u8; 8] = b"PNVLINUX";
/// The format this hypervisor reads.
pub const VERSION: u64 = 1;
/// Longest command line accepted.
pub const MAX_CMDLINE: u64 = 1024;

/// Why a bundle is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// No magic at the staging address: nothing was loaded there.
    NoBundle,
    /// A version this hypervisor does not read.
    Version(u64),
    /// A part lies (partly) outside the staging area, or is empty.
    OutOfBounds,
    /// The command line is too long or not UTF-8.
    BadCmdline,
}

/// A bundle in the staging area: host `[base, base + size)`.
pub struct Bundle {
    base: u64,
    size: u64,
}

/// A checked part of a bundle: host address and length.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    host: u64,
    len: u64,
}

impl Part {
    /// Bytes.
    pub fn len(&self) -> u64 {
        self.len
    }
}

impl Bundle {
    /// The bundle in host `[base, base + size)`.
    ///
    /// # Safety
    ///
    /// The range is RAM that QEMU's loader wrote (or left zero) and that
    /// nothing else uses while the returned value lives: no heap, no
    /// partition, no device DMA.
    pub unsafe fn at(base: u64, size: u64) -> Result<Bundle, BundleError> {
        let b = Bundle { base, size };
        if b.bytes(0, 8) != Some(&MAGIC[..]) {
            return Err(BundleError::NoBundle);
        }
        match b.word(1) {
            Some(VERSION) => Ok(b),
            v => Err(BundleError::Version(v.unwrap_or(0))),
        }
    }

    /// `len` bytes at offset `off`, if inside the staging area.
    fn bytes(&self, off: u64, len: u64) -> Option<&[u8]> {
        let end = off.checked_add(len)?;
        if end > self.size {
            return None;
        }
        // SAFETY: inside the staging area (checked), which `at`'s contract
        // makes readable and unaliased for as long as `self` lives.
        Some(unsafe { core::slice::from_raw_parts((self.base + off) as *const u8, len as usize) })
    }

    /// Header word `i` (big-endian).
    fn word(&self, i: u64) -> Option<u64> {
        let b = self.bytes(8 * i, 8)?;
        Some(u64::from_be_bytes(b.try_into().ok()?))
    }

    fn part(&self, i: u64) -> Result<Part, BundleError> {
        let (off, len) = (self.word(i), self.word(i + 1));
        let (Some(off), Some(len)) = (off, len) else {
            return Err(BundleError::OutOfBounds);
        };
        if len == 0 || self.bytes(off, len).is_none() {
            return Err(BundleError::OutOfBounds);
        }
        Ok(Part {
            host: self.base + off,
            len,
        })
    }

    /// The kernel image.
    pub fn kernel(&self) -> Result<Part, BundleError> {
        self.part(2)
    }

    /// The initrd.
    pub fn initrd(&self) -> Result<Part, BundleError> {
        self.part(4)
    }

    /// The kernel command line.
    pub fn cmdline(&self) -> Result<&str, BundleError> {
        let p = self.part(6)?;
        if p.len > MAX_CMDLINE {
            return Err(BundleError::BadCmdline);
        }
        let bytes = self
            .bytes(p.host - self.base, p.len)
            .ok_or(BundleError::OutOfBounds)?;
        core::str::from_utf8(bytes).map_err(|_| BundleError::BadCmdline)
    }

    /// Copies `part` to guest real `la` of `ram`; false if it does not fit
    /// (nothing copied).
    pub fn copy_to(&self, part: Part, ram: &GuestRam, la: u64) -> bool {
        match self.bytes(part.host - self.base, part.len) {
            Some(bytes) => ram.write_bytes(la, bytes),
            None => false,
        }
    }
}
