//! A Linux guest's boot files as `cargo xtask` hands them over: one
//! "bundle" (layout: [`pnv_contract::linux_bundle`]; written by
//! xtask/src/guest_bundle.rs) that QEMU's loader puts in host RAM outside
//! every partition (the staging area), which the hypervisor checks and
//! copies into the guest's RAM where it chooses.

use super::memory::GuestRam;
use alloc::string::String;
use pnv_rt::phys::PhysRange;

use pnv_contract::linux_bundle::{CMDLINE, INITRD, KERNEL, MAGIC, VERSION};

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

/// A bundle in the staging area.
pub struct Bundle {
    staging: PhysRange,
}

/// A checked part of a bundle: offset in the staging area and length.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    offset: u64,
    len: u64,
}

impl Part {
    /// Bytes.
    pub fn len(&self) -> u64 {
        self.len
    }
}

impl Bundle {
    /// The bundle QEMU's loader put in `staging` (a block of the memory map
    /// that nothing else uses while the returned value lives: no heap, no
    /// partition, no device DMA).
    pub fn at(staging: PhysRange) -> Result<Bundle, BundleError> {
        let b = Bundle { staging };
        let mut magic = [0u8; 8];
        if staging.len() < 8 {
            return Err(BundleError::NoBundle);
        }
        staging.read_bytes(0, &mut magic);
        if magic != MAGIC {
            return Err(BundleError::NoBundle);
        }
        match b.word(1) {
            Some(VERSION) => Ok(b),
            v => Err(BundleError::Version(v.unwrap_or(0))),
        }
    }

    /// Header word `i` (big-endian).
    fn word(&self, i: u64) -> Option<u64> {
        Some(self.staging.sub(8 * i, 8)?.read_be64(0))
    }

    /// The part whose offset is header word `i` (its length is the next).
    fn part(&self, i: usize) -> Result<Part, BundleError> {
        let (off, len) = (self.word(i as u64), self.word(i as u64 + 1));
        let (Some(offset), Some(len)) = (off, len) else {
            return Err(BundleError::OutOfBounds);
        };
        if len == 0 || self.staging.sub(offset, len).is_none() {
            return Err(BundleError::OutOfBounds);
        }
        Ok(Part { offset, len })
    }

    /// The kernel image.
    pub fn kernel(&self) -> Result<Part, BundleError> {
        self.part(KERNEL)
    }

    /// The initrd.
    pub fn initrd(&self) -> Result<Part, BundleError> {
        self.part(INITRD)
    }

    /// The kernel command line.
    pub fn cmdline(&self) -> Result<String, BundleError> {
        let p = self.part(CMDLINE)?;
        if p.len > MAX_CMDLINE {
            return Err(BundleError::BadCmdline);
        }
        let mut bytes = alloc::vec![0u8; p.len as usize];
        self.staging.read_bytes(p.offset, &mut bytes);
        String::from_utf8(bytes).map_err(|_| BundleError::BadCmdline)
    }

    /// Copies `part` to guest real `la` of `ram`; false if it does not fit
    /// (nothing copied).
    pub fn copy_to(&self, part: Part, ram: &GuestRam, la: u64) -> bool {
        ram.copy_from(la, &self.staging, part.offset, part.len)
    }
}
