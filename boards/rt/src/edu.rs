//! Driver for QEMU's `edu` PCI device: a real DMA master used to prove that
//! device DMA lands exactly where the TCEs say.
//!
//! BAR0 registers (QEMU's `docs/specs/edu.rst`): identification at 0x00,
//! liveness 0x04, DMA source 0x80, destination 0x88, count 0x90, command
//! 0x98 (bit 0 start, bit 1 device→RAM). The device's own 4 KiB buffer sits
//! at device address 0x40000. A transfer completes about 100 ms (virtual
//! time) after it is started; the start bit clears then. QEMU's edu uses
//! native endianness, so on `qemu-system-ppc64` its registers are
//! big-endian.
//!
//! The driver reaches BAR0 through a [`RegisterIo`]: the firmware's
//! cache-inhibited accessor, or the guest's H_LOGICAL_CI_LOAD/STORE one.
#![deny(unsafe_code)]

use crate::spr::timebase;
use pnv_iommu::mmio::{Endian, RegisterIo, Width};

/// PCI vendor id of `edu`.
pub const EDU_VENDOR: u16 = 0x1234;
/// PCI device id of `edu`.
pub const EDU_DEVICE: u16 = 0x11e8;
/// Device address of the DMA buffer.
pub const EDU_BUFFER: u64 = 0x40000;
/// Size of the DMA buffer.
pub const EDU_BUFFER_SIZE: u64 = 0x1000;

const REG_IDENT: u64 = 0x00;
const REG_LIVENESS: u64 = 0x04;
const REG_DMA_SRC: u64 = 0x80;
const REG_DMA_DST: u64 = 0x88;
const REG_DMA_COUNT: u64 = 0x90;
const REG_DMA_CMD: u64 = 0x98;
const DMA_CMD_START: u64 = 0x1;
const DMA_CMD_TO_RAM: u64 = 0x2;
/// Identification register: 0xRRrr00ed with major 1, minor 0.
const IDENT_VALUE: u32 = 0x0100_00ed;
/// Written to the liveness register, which reads back its inverse.
const LIVENESS_PROBE: u32 = 0x1234_5678;
/// Seconds to wait for one transfer (edu takes ~100 ms of virtual time).
const DMA_TIMEOUT_SECS: u64 = 2;

/// Why an `edu` operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EduError {
    /// The identification register did not read as `edu`.
    NotEdu(u32),
    /// The liveness register did not invert what was written.
    Dead,
    /// A transfer did not complete in time.
    Timeout,
    /// The transfer does not fit the device buffer.
    OutOfBuffer,
}

/// An `edu` device whose BAR0 is at `base`, as `io` addresses it.
pub struct Edu<I: RegisterIo> {
    io: I,
    base: u64,
    timeout_ticks: u64,
}

impl<I: RegisterIo> Edu<I> {
    /// Checks identification and liveness at `base`. `timebase_hz` is the
    /// timebase frequency, which bounds the wait for each transfer.
    pub fn probe(io: I, base: u64, timebase_hz: u64) -> Result<Self, EduError> {
        let edu = Edu {
            io,
            base,
            timeout_ticks: timebase_hz.saturating_mul(DMA_TIMEOUT_SECS),
        };
        let ident = edu.read32(REG_IDENT);
        if ident != IDENT_VALUE {
            return Err(EduError::NotEdu(ident));
        }
        edu.write32(REG_LIVENESS, LIVENESS_PROBE);
        if edu.read32(REG_LIVENESS) != !LIVENESS_PROBE {
            return Err(EduError::Dead);
        }
        Ok(edu)
    }

    /// The register accessor.
    pub fn io(&self) -> &I {
        &self.io
    }

    fn read32(&self, reg: u64) -> u32 {
        self.io.read(self.base + reg, Width::W32, Endian::Big) as u32
    }

    fn write32(&self, reg: u64, value: u32) {
        self.io
            .write(self.base + reg, Width::W32, Endian::Big, value as u64)
    }

    fn read64(&self, reg: u64) -> u64 {
        self.io.read(self.base + reg, Width::W64, Endian::Big)
    }

    fn write64(&self, reg: u64, value: u64) {
        self.io
            .write(self.base + reg, Width::W64, Endian::Big, value)
    }

    /// Copies `len` bytes from bus address `iova` into the device buffer at
    /// `offset` (RAM → device), and waits for completion.
    pub fn dma_from_ram(&self, iova: u64, offset: u64, len: u64) -> Result<(), EduError> {
        self.transfer(iova, buffer_addr(offset, len)?, len, 0)
    }

    /// Copies `len` bytes from the device buffer at `offset` to bus address
    /// `iova` (device → RAM), and waits for completion.
    pub fn dma_to_ram(&self, offset: u64, iova: u64, len: u64) -> Result<(), EduError> {
        self.transfer(buffer_addr(offset, len)?, iova, len, DMA_CMD_TO_RAM)
    }

    fn transfer(&self, src: u64, dst: u64, len: u64, direction: u64) -> Result<(), EduError> {
        self.write64(REG_DMA_SRC, src);
        self.write64(REG_DMA_DST, dst);
        self.write64(REG_DMA_COUNT, len);
        self.write64(REG_DMA_CMD, DMA_CMD_START | direction);
        let start = timebase();
        while self.read64(REG_DMA_CMD) & DMA_CMD_START != 0 {
            if timebase().wrapping_sub(start) > self.timeout_ticks {
                return Err(EduError::Timeout);
            }
        }
        Ok(())
    }
}

/// The device address of `[offset, offset + len)` in the buffer. QEMU 7.2's
/// edu rejects (with a fatal hardware error) a transfer that ends exactly at
/// the end of its buffer, so the last byte is never used.
fn buffer_addr(offset: u64, len: u64) -> Result<u64, EduError> {
    match offset.checked_add(len) {
        Some(end) if len > 0 && end < EDU_BUFFER_SIZE => Ok(EDU_BUFFER + offset),
        _ => Err(EduError::OutOfBuffer),
    }
}

#[cfg(test)]
mod tests;
