//! PEC stack BARs through XSCOM.
//!
//! XSCOM registers are reached by MMIO at `xscom_base + (pcba << 3)`, with
//! 8-byte big-endian accesses only. Each PHB stack's nest registers decide
//! where the PHB's MMIO windows and registers appear in the CPU's physical
//! space; they must be set before the PHB registers can be touched.

use super::Phb4Config;
use super::regs::*;
use crate::mmio::RegisterIo;

/// CPU address of XSCOM register `pcba` in the window at `xscom_base`.
pub const fn xscom_addr(xscom_base: u64, pcba: u32) -> u64 {
    xscom_base + ((pcba as u64) << 3)
}

/// Writes XSCOM register `pcba` (one 8-byte store).
pub fn xscom_write(io: &impl RegisterIo, xscom_base: u64, pcba: u32, value: u64) {
    io.write_be64(xscom_addr(xscom_base, pcba), value);
}

/// Reads XSCOM register `pcba` (one 8-byte load).
pub fn xscom_read(io: &impl RegisterIo, xscom_base: u64, pcba: u32) -> u64 {
    io.read_be64(xscom_addr(xscom_base, pcba))
}

/// Programs the PHB's stack BARs: MMIO BAR 1 (the 32-bit window) and its
/// mask, the PHB register BAR, then BAR_EN (MMIO1 | PHB). Exactly four
/// XSCOM writes, in that order.
pub fn program_pec_bars(io: &impl RegisterIo, cfg: &Phb4Config) {
    let reg = |r| pec_stack_nest_reg(cfg.pec_nest_base, cfg.stack, r);
    xscom_write(
        io,
        cfg.xscom_base,
        reg(PEC_NEST_STK_MMIO_BAR1),
        pec_bar(cfg.m32_cpu_base),
    );
    xscom_write(
        io,
        cfg.xscom_base,
        reg(PEC_NEST_STK_MMIO_BAR1_MASK),
        pec_bar_mask(cfg.m32_size),
    );
    xscom_write(
        io,
        cfg.xscom_base,
        reg(PEC_NEST_STK_PHB_REGS_BAR),
        pec_bar(cfg.regs_base),
    );
    io.barrier();
    xscom_write(
        io,
        cfg.xscom_base,
        reg(PEC_NEST_STK_BAR_EN),
        (PecBarEnable::MMIO1 | PecBarEnable::PHB).bits(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmio::fake::RecordingIo;

    #[test]
    fn phb0_bars_match_design() {
        let io = RecordingIo::new();
        program_pec_bars(&io, &Phb4Config::p9(0, 0).unwrap());
        // PEC0 nest base 0x4010c00, stack 0 block at +0x40.
        let x = |r: u64| 0x0006_03FC_0000_0000 + ((0x4010c40 + r) << 3);
        assert_eq!(
            io.writes(),
            [
                (x(0x10), 0x0600_C000_0000_0000),
                (x(0x11), 0xFFFF_FF80_0000_0000),
                (x(0x12), 0x0600_C3C0_0000_0000),
                (x(0x14), 0x6000_0000_0000_0000),
            ]
        );
        assert!(io.log().iter().all(|a| a.width == crate::mmio::Width::W64));
    }

    #[test]
    fn phb4_uses_pec2_stack1() {
        let io = RecordingIo::new();
        program_pec_bars(&io, &Phb4Config::p9(0, 4).unwrap());
        // PEC2 nest base 0x4011400, stack 1 block at +0x80.
        let x = |r: u64| 0x0006_03FC_0000_0000 + ((0x4011480 + r) << 3);
        assert_eq!(
            io.writes(),
            [
                (x(0x10), 0x0600_C200_0000_0000),
                (x(0x11), 0xFFFF_FF80_0000_0000),
                (x(0x12), 0x0600_C3C0_4000_0000),
                (x(0x14), 0x6000_0000_0000_0000),
            ]
        );
    }
}
