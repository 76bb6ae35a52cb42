//! QEMU's `edu` PCI device as a DMA master, reached from real mode through
//! H_LOGICAL_CI_LOAD/STORE; its BAR0 is taken from the device tree or
//! assigned here through RTAS config writes inside the PHB's 32-bit window.
//!
//! The register map, probe and DMA (with its bounded wait and QEMU 7.2's
//! rule that a transfer must not end at the end of the device buffer) are
//! `pnv_rt::edu`, the driver the firmware uses too; here it runs on
//! [`CiIo`], and a refused hypercall is reported as [`EduError::Ci`].

#![deny(unsafe_code)]

use crate::devtree::{EduNode, Platform};
use crate::hcall::CiIo;
use crate::rtas::{self, PhbAddr, RtasError};
use pnv_rt::edu as device;

/// PCI configuration registers and bits used.
const PCI_COMMAND: u32 = 0x04;
const PCI_COMMAND_MEM: u32 = 0x2;
const PCI_COMMAND_MASTER: u32 = 0x4;
const PCI_BAR0: u32 = 0x10;

/// Why the `edu` could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EduError {
    /// A config-space RTAS call failed (hcall error or missing token).
    Rtas(RtasError),
    /// A config-space RTAS call returned this non-zero status.
    RtasStatus(i32),
    /// BAR0 is not a 32-bit memory BAR or does not fit the PHB's window.
    NoRoomForBar,
    /// H_LOGICAL_CI_LOAD/STORE returned this status.
    Ci(i64),
    /// The device itself: not an `edu`, dead, a transfer timed out or did
    /// not fit its buffer.
    Device(device::EduError),
}

impl From<RtasError> for EduError {
    fn from(e: RtasError) -> Self {
        EduError::Rtas(e)
    }
}

impl From<device::EduError> for EduError {
    fn from(e: device::EduError) -> Self {
        EduError::Device(e)
    }
}

/// An `edu` whose BAR0 is at guest real `base`, with MEM and MASTER on.
pub struct Edu {
    dev: device::Edu<CiIo>,
}

impl Edu {
    /// Finds BAR0 (assigning it if the tree did not), enables memory and
    /// bus mastering, and checks identification and liveness.
    pub fn setup(p: &Platform, node: EduNode) -> Result<Edu, EduError> {
        let dev = PhbAddr {
            config: node.config_addr,
            buid: p.phb.buid,
        };
        let base = match node.bar0 {
            Some(b) => b,
            None => assign_bar0(p, dev)?,
        };
        let (s, cmd) = rtas::read_config(p.read_pci_config, dev, PCI_COMMAND, 2)?;
        check(s)?;
        check(rtas::write_config(
            p.write_pci_config,
            dev,
            PCI_COMMAND,
            2,
            cmd | PCI_COMMAND_MEM | PCI_COMMAND_MASTER,
        )?)?;
        let dev = checked(device::Edu::probe(CiIo, base, p.timebase_hz))?;
        Ok(Edu { dev })
    }

    /// Copies `len` bytes from bus address `iova` into the device buffer at
    /// `offset` (RAM → device) and waits for completion.
    pub fn dma_from_ram(&self, iova: u64, offset: u64, len: u64) -> Result<(), EduError> {
        checked(self.dev.dma_from_ram(iova, offset, len))
    }

    /// Copies `len` bytes from the device buffer at `offset` to bus address
    /// `iova` (device → RAM) and waits for completion.
    pub fn dma_to_ram(&self, offset: u64, iova: u64, len: u64) -> Result<(), EduError> {
        checked(self.dev.dma_to_ram(offset, iova, len))
    }
}

/// The driver's result, unless a hypercall was refused during the operation:
/// that refusal comes first (the driver saw only zeros after it).
fn checked<T>(r: Result<T, device::EduError>) -> Result<T, EduError> {
    match CiIo::take_refusal() {
        Some(e) => Err(EduError::Ci(e.0)),
        None => r.map_err(EduError::from),
    }
}

fn check(status: i32) -> Result<(), EduError> {
    match status {
        0 => Ok(()),
        s => Err(EduError::RtasStatus(s)),
    }
}

/// Sizes BAR0 and places it at the first suitably aligned address of the
/// PHB's 32-bit window; returns its CPU address.
fn assign_bar0(p: &Platform, dev: PhbAddr) -> Result<u64, EduError> {
    let w = p.phb.mmio32.ok_or(EduError::NoRoomForBar)?;
    check(rtas::write_config(
        p.write_pci_config,
        dev,
        PCI_BAR0,
        4,
        0xffff_ffff,
    )?)?;
    let (s, probe) = rtas::read_config(p.read_pci_config, dev, PCI_BAR0, 4)?;
    check(s)?;
    // Bit 0 = I/O, bits 2..1 = type (0: 32-bit memory).
    if probe & 0x7 != 0 || probe & !0xf == 0 {
        return Err(EduError::NoRoomForBar);
    }
    let size = u64::from(!(probe & !0xf)) + 1;
    let pci = w
        .pci
        .checked_add(size - 1)
        .map(|a| a & !(size - 1))
        .filter(|&a| a + size <= w.pci + w.size && a + size <= 1 << 32)
        .ok_or(EduError::NoRoomForBar)?;
    check(rtas::write_config(
        p.write_pci_config,
        dev,
        PCI_BAR0,
        4,
        pci as u32,
    )?)?;
    Ok(w.cpu + (pci - w.pci))
}
