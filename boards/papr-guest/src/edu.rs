//! QEMU's `edu` PCI device as a DMA master, reached from real mode through
//! H_LOGICAL_CI_LOAD/STORE; its BAR0 is taken from the device tree or
//! assigned here through RTAS config writes inside the PHB's 32-bit window.
//!
//! Registers (BAR0, big-endian on ppc64): identification 0x00, liveness
//! 0x04, DMA source 0x80, destination 0x88, count 0x90, command 0x98 (bit 0
//! start, bit 1 device→RAM). The device buffer is at device address 0x40000,
//! 4 KiB; QEMU 7.2 aborts on a transfer that ends exactly at its end, so
//! `offset + len` stays below 4096.

#![deny(unsafe_code)]

use crate::devtree::{EduNode, Platform};
use crate::hcall::{CiError, CiIo, timebase};
use crate::rtas::{self, PhbAddr, RtasError};

/// Device address of the DMA buffer.
const EDU_BUFFER: u64 = 0x40000;
/// Size of the DMA buffer.
const EDU_BUFFER_SIZE: u64 = 0x1000;
const REG_IDENT: u64 = 0x00;
const REG_LIVENESS: u64 = 0x04;
const REG_DMA_SRC: u64 = 0x80;
const REG_DMA_DST: u64 = 0x88;
const REG_DMA_COUNT: u64 = 0x90;
const REG_DMA_CMD: u64 = 0x98;
const DMA_CMD_START: u64 = 0x1;
const DMA_CMD_TO_RAM: u64 = 0x2;
/// Identification register: major 1, minor 0.
const IDENT_VALUE: u32 = 0x0100_00ed;
/// PCI configuration registers and bits used.
const PCI_COMMAND: u32 = 0x04;
const PCI_COMMAND_MEM: u32 = 0x2;
const PCI_COMMAND_MASTER: u32 = 0x4;
const PCI_BAR0: u32 = 0x10;
/// Seconds to wait for one transfer (edu takes ~100 ms of virtual time).
const DMA_TIMEOUT_SECS: u64 = 2;

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
    /// The identification register read this instead of `edu`'s.
    NotEdu(u32),
    /// The liveness register did not invert what was written.
    Dead,
    /// A transfer did not complete in time.
    Timeout,
    /// The transfer does not fit the device buffer.
    OutOfBuffer,
}

impl From<RtasError> for EduError {
    fn from(e: RtasError) -> Self {
        EduError::Rtas(e)
    }
}

impl From<CiError> for EduError {
    fn from(e: CiError) -> Self {
        EduError::Ci(e.0)
    }
}

/// An `edu` whose BAR0 is at guest real `base`, with MEM and MASTER on.
pub struct Edu {
    base: u64,
    timeout_ticks: u64,
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
        let edu = Edu {
            base,
            timeout_ticks: p.timebase_hz.saturating_mul(DMA_TIMEOUT_SECS),
        };
        let ident = edu.load(4, REG_IDENT)? as u32;
        if ident != IDENT_VALUE {
            return Err(EduError::NotEdu(ident));
        }
        edu.store(4, REG_LIVENESS, 0x1234_5678)?;
        if edu.load(4, REG_LIVENESS)? as u32 != !0x1234_5678u32 {
            return Err(EduError::Dead);
        }
        Ok(edu)
    }

    fn load(&self, size: u64, reg: u64) -> Result<u64, EduError> {
        Ok(CiIo.load(size, self.base + reg)?)
    }

    fn store(&self, size: u64, reg: u64, value: u64) -> Result<(), EduError> {
        Ok(CiIo.store(size, self.base + reg, value)?)
    }

    /// Copies `len` bytes from bus address `iova` into the device buffer at
    /// `offset` (RAM → device) and waits for completion.
    pub fn dma_from_ram(&self, iova: u64, offset: u64, len: u64) -> Result<(), EduError> {
        self.transfer(iova, buffer_addr(offset, len)?, len, 0)
    }

    /// Copies `len` bytes from the device buffer at `offset` to bus address
    /// `iova` (device → RAM) and waits for completion.
    pub fn dma_to_ram(&self, offset: u64, iova: u64, len: u64) -> Result<(), EduError> {
        self.transfer(buffer_addr(offset, len)?, iova, len, DMA_CMD_TO_RAM)
    }

    fn transfer(&self, src: u64, dst: u64, len: u64, direction: u64) -> Result<(), EduError> {
        self.store(8, REG_DMA_SRC, src)?;
        self.store(8, REG_DMA_DST, dst)?;
        self.store(8, REG_DMA_COUNT, len)?;
        self.store(8, REG_DMA_CMD, DMA_CMD_START | direction)?;
        let start = timebase();
        while self.load(8, REG_DMA_CMD)? & DMA_CMD_START != 0 {
            if timebase().wrapping_sub(start) > self.timeout_ticks {
                return Err(EduError::Timeout);
            }
        }
        Ok(())
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

/// The device address of `[offset, offset + len)` in the buffer; the last
/// byte is never used (see the module comment).
fn buffer_addr(offset: u64, len: u64) -> Result<u64, EduError> {
    match offset.checked_add(len) {
        Some(end) if len > 0 && end < EDU_BUFFER_SIZE => Ok(EDU_BUFFER + offset),
        _ => Err(EduError::OutOfBuffer),
    }
}
