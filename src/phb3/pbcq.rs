//! The PHB3's PBCQ (its PowerBus common queue) through POWER8 XSCOM.
//!
//! QEMU presets the PBCQ BARs and masks (skiboot relies on the same values
//! from hostboot); firmware reads them back, checks them, and then writes
//! BAR_EN. Moving a BAR while it is enabled is not supported (QEMU does not
//! remap it), so the driver never writes a BAR, only the enable.

use super::regs::*;
use crate::mmio::RegisterIo;
use crate::phb::PhbError;

/// Reads POWER8 XSCOM register `pcba` (one 8-byte load).
pub fn xscom_read(io: &impl RegisterIo, xscom_base: u64, pcba: u32) -> u64 {
    io.read_be64(p8_xscom_addr(xscom_base, pcba))
}

/// Writes POWER8 XSCOM register `pcba` (one 8-byte store).
pub fn xscom_write(io: &impl RegisterIo, xscom_base: u64, pcba: u32, value: u64) {
    io.write_be64(p8_xscom_addr(xscom_base, pcba), value);
}

/// The BAR_EN value the driver writes: both MMIO windows and the registers
/// (interrupt source BARs stay with whoever owns interrupts).
pub const BAR_EN_VALUE: u64 =
    PBCQ_NEST_BAR_EN_MMIO0 | PBCQ_NEST_BAR_EN_MMIO1 | PBCQ_NEST_BAR_EN_PHB;

/// Reads the five BAR and mask registers (five XSCOM loads, in register
/// order) and checks them: each window a power of two, naturally aligned,
/// below 2^50; the register BAR 4 KiB aligned. All-ones or zero reads mean
/// nobody set the BARs up ([`PhbError::Broken`]).
pub fn read_bars(
    io: &impl RegisterIo,
    xscom_base: u64,
    nest_base: u32,
) -> Result<PbcqBars, PhbError> {
    let rd = |reg| xscom_read(io, xscom_base, nest_base + reg);
    let bar0 = rd(PBCQ_NEST_MMIO_BAR0);
    let bar1 = rd(PBCQ_NEST_MMIO_BAR1);
    let phb = rd(PBCQ_NEST_PHB_BAR);
    let mask0 = rd(PBCQ_NEST_MMIO_MASK0);
    let mask1 = rd(PBCQ_NEST_MMIO_MASK1);
    let window = |bar: u64, mask: u64| -> Result<Window, PhbError> {
        let w = Window {
            base: pbcq_bar_addr(bar),
            size: pbcq_mask_size(mask),
        };
        let sane = bar != u64::MAX
            && mask != 0
            && w.size.is_power_of_two()
            && w.base.is_multiple_of(w.size)
            && w.base != 0
            && w.base.checked_add(w.size).is_some_and(|e| e <= 1 << 50);
        if sane { Ok(w) } else { Err(PhbError::Broken) }
    };
    let bars = PbcqBars {
        mmio0: window(bar0, mask0)?,
        mmio1: window(bar1, mask1)?,
        regs: pbcq_bar_addr(phb),
    };
    if phb == u64::MAX || bars.regs == 0 || !bars.regs.is_multiple_of(PHB3_REGS_SIZE) {
        return Err(PhbError::Broken);
    }
    Ok(bars)
}

/// Turns the windows and the register BAR on (one XSCOM store).
pub fn enable_bars(io: &impl RegisterIo, xscom_base: u64, nest_base: u32) {
    io.barrier();
    xscom_write(io, xscom_base, nest_base + PBCQ_NEST_BAR_EN, BAR_EN_VALUE);
}

/// Whether BAR_EN already has the windows and registers on (a PHB another
/// firmware brought up).
pub fn bars_enabled(io: &impl RegisterIo, xscom_base: u64, nest_base: u32) -> bool {
    let en = xscom_read(io, xscom_base, nest_base + PBCQ_NEST_BAR_EN);
    en != u64::MAX && en & BAR_EN_VALUE == BAR_EN_VALUE
}
