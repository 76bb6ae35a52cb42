//! PHB3 register map (POWER8, IODA2): PHB registers, IODA2 table numbers,
//! the PBCQ nest registers reached through XSCOM, the POWER8 XSCOM address
//! formula and the BAR values QEMU presets (`DESIGN.md` §12).
//!
//! IBM bit numbering as in [`crate::phb::regs`]: `ppc_bit(0)` is the most
//! significant bit. Registers PHB3 shares with PHB4 at the same offset and
//! with the same fields (CONFIG_ADDRESS, RTT_BAR, IODA_ADDR table select)
//! are re-exported from there, and TCE_KILL's ALL/PE/ONE bits from
//! [`crate::phb4::regs::TceKill`], so each fact has one home; what differs
//! is defined here.

pub use crate::phb::regs::{
    PHB_CONFIG_ADDRESS, PHB_CONFIG_DATA, PHB_IODA_AD_AUTOINC, PHB_IODA_AD_TSEL, PHB_IODA_ADDR,
    PHB_IODA_DATA0, PHB_M32_START_ADDR, PHB_PELTV_BAR, PHB_PELTV_BAR_ENABLE, PHB_PEST_BAR,
    PHB_PEST_BAR_ENABLE, PHB_RTC_INVALIDATE, PHB_RTC_INVALIDATE_ALL, PHB_RTT_BAR,
    PHB_RTT_BAR_ENABLE, PHB_TCE_KILL, PHB_VERSION, config_address, ppc_bit, ppc_bitmask, ppc_field,
};
pub use crate::phb4::regs::TceKill;

// ---------------------------------------------------------------------------
// PHB3 register space (offsets from the PHB's 4 KiB register BAR).
// ---------------------------------------------------------------------------

/// Size of the PHB3 register window: there is nothing at `regs + 0x1000`
/// (the root port is reached through CONFIG_ADDRESS, unlike PHB4).
pub const PHB3_REGS_SIZE: u64 = 0x1000;
/// PHB3 configuration register.
pub const PHB_PHB3_CONFIG: u64 = 0x160;
/// PHB3_CONFIG: TCEs are 64-bit (always set by skiboot).
pub const PHB_PHB3C_64B_TCE_EN: u64 = ppc_bit(2);
/// PHB3_CONFIG: 32-bit MSI enable (takes PCI 0xFFFF0000.. from DMA).
pub const PHB_PHB3C_32BIT_MSI_EN: u64 = ppc_bit(8);
/// PHB3_CONFIG: 64-bit MSI enable (PCI addresses with `addr >> 60 == 1`).
pub const PHB_PHB3C_64BIT_MSI_EN: u64 = ppc_bit(14);
/// PHB3_CONFIG: the M32 window decodes. Every write of PHB3_CONFIG must
/// keep it, or the window disappears.
pub const PHB_PHB3C_M32_EN: u64 = ppc_bit(16);
/// CPU address of the M32 window (inside an enabled PBCQ MMIO BAR).
pub const PHB_M32_BASE_ADDR: u64 = 0x190;
/// Address mask of the M32 window.
pub const PHB_M32_BASE_MASK: u64 = 0x198;
/// DMA read sync: always reads complete.
pub const PHB_DMARD_SYNC: u64 = 0x200;
/// DMARD_SYNC: start.
pub const PHB_DMARD_SYNC_START: u64 = ppc_bit(0);
/// DMARD_SYNC: complete.
pub const PHB_DMARD_SYNC_COMPLETE: u64 = ppc_bit(1);
/// TCE_KILL: PE number field (8 bits on PHB3).
pub const PHB3_TCE_KILL_PENUM: u64 = 0xff;
/// IODA_ADDR: table index (9 bits on PHB3).
pub const PHB3_IODA_AD_TADR: u64 = ppc_bitmask(55, 63);
/// What `PHB_VERSION` reads on QEMU's PHB3 (Venice DD2.0).
pub const PHB3_VERSION: u64 = 0x0000_00a3_0000_0005;
/// PEs per PHB3 (there is no capability register to read it from: the EEH
/// capability register reads 0).
pub const PHB3_NUM_PES: u32 = 256;
/// TVT entries (two per PE).
pub const PHB3_TVT_ENTRIES: u32 = 2 * PHB3_NUM_PES;
/// M64 BAR table entries.
pub const PHB3_M64BT_ENTRIES: u32 = 16;

/// IODA2 on-chip tables, by their table-select number (those the driver
/// writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Ioda2Table {
    /// PE state table A (not stored by QEMU).
    PestA = 7,
    /// PE state table B (not stored by QEMU).
    PestB = 8,
    /// Translation validation table.
    Tvt = 9,
    /// M64 BAR table.
    M64bt = 16,
    /// M32 domain table (PE of each M32 segment).
    M32dt = 17,
    /// PE error vector.
    Peev = 20,
}

/// `IODA_ADDR` value selecting `table` entry `index` (9-bit index).
pub const fn ioda2_addr(table: Ioda2Table, index: u32, autoinc: bool) -> u64 {
    let inc = if autoinc { PHB_IODA_AD_AUTOINC } else { 0 };
    inc | ppc_field(PHB_IODA_AD_TSEL, table as u64) | ppc_field(PHB3_IODA_AD_TADR, index as u64)
}

/// The `PHB3_CONFIG` value the driver keeps: 64-bit TCEs, 64-bit MSIs,
/// the M32 window on, and 32-bit MSIs if asked.
pub const fn phb3_config(msi32: bool) -> u64 {
    let msi = if msi32 { PHB_PHB3C_32BIT_MSI_EN } else { 0 };
    PHB_PHB3C_64B_TCE_EN | PHB_PHB3C_64BIT_MSI_EN | PHB_PHB3C_M32_EN | msi
}

/// `M32_BASE_MASK` for a window of `size` bytes (a power of two).
pub const fn m32_base_mask(size: u64) -> u64 {
    !(size - 1)
}

// ---------------------------------------------------------------------------
// PBCQ nest registers (XSCOM), relative to the PBCQ's nest block.
// ---------------------------------------------------------------------------

/// MMIO BAR 0 (the 64-bit window).
pub const PBCQ_NEST_MMIO_BAR0: u32 = 0x40;
/// MMIO BAR 1 (the M32 window lives here).
pub const PBCQ_NEST_MMIO_BAR1: u32 = 0x41;
/// PHB register BAR.
pub const PBCQ_NEST_PHB_BAR: u32 = 0x42;
/// MMIO BAR 0 mask.
pub const PBCQ_NEST_MMIO_MASK0: u32 = 0x43;
/// MMIO BAR 1 mask.
pub const PBCQ_NEST_MMIO_MASK1: u32 = 0x44;
/// BAR enables.
pub const PBCQ_NEST_BAR_EN: u32 = 0x45;
/// BAR_EN: MMIO BAR 0.
pub const PBCQ_NEST_BAR_EN_MMIO0: u64 = ppc_bit(0);
/// BAR_EN: MMIO BAR 1.
pub const PBCQ_NEST_BAR_EN_MMIO1: u64 = ppc_bit(1);
/// BAR_EN: PHB register BAR.
pub const PBCQ_NEST_BAR_EN_PHB: u64 = ppc_bit(2);
/// Address bits of a PBCQ BAR or mask sit this many bits higher.
pub const PBCQ_BAR_SHIFT: u32 = 14;
/// Physical addresses are 50 bits.
pub const PHYS_ADDR_MASK: u64 = (1 << 50) - 1;

/// The physical address a PBCQ BAR register holds.
pub const fn pbcq_bar_addr(reg: u64) -> u64 {
    reg >> PBCQ_BAR_SHIFT
}

/// The window size a PBCQ mask register describes.
pub const fn pbcq_mask_size(reg: u64) -> u64 {
    (!reg >> PBCQ_BAR_SHIFT) + 1
}

/// The PBCQ BAR register value for `addr`.
pub const fn pbcq_bar(addr: u64) -> u64 {
    addr << PBCQ_BAR_SHIFT
}

/// The PBCQ mask register value for a window of `size` bytes.
pub const fn pbcq_mask(size: u64) -> u64 {
    (!(size - 1) & PHYS_ADDR_MASK) << PBCQ_BAR_SHIFT
}

// ---------------------------------------------------------------------------
// POWER8 XSCOM and physical map.
// ---------------------------------------------------------------------------

/// Physical address of chip 0's XSCOM window on POWER8.
pub const P8_XSCOM_BASE: u64 = 0x0003_fc00_0000_0000;
/// Distance between the XSCOM windows of consecutive chips.
pub const P8_XSCOM_CHIP_STRIDE: u64 = 0x8_0000_0000;
/// PHBs per POWER8 chip (as QEMU models it).
pub const P8_NUM_PHBS: u32 = 3;

/// CPU address of XSCOM register `pcba` in the POWER8 window at
/// `xscom_base`: the low four PCBA bits select the 8-byte register, the
/// rest move up by 4 (not `pcba << 3` as on POWER9).
pub const fn p8_xscom_addr(xscom_base: u64, pcba: u32) -> u64 {
    let pcba = pcba as u64;
    xscom_base | ((pcba & !0xf) << 4) | ((pcba & 0xf) << 3)
}

/// XSCOM base of POWER8 chip `chip`.
pub const fn p8_xscom_base(chip: u32) -> u64 {
    P8_XSCOM_BASE + chip as u64 * P8_XSCOM_CHIP_STRIDE
}

/// PCBA of PBCQ `index`'s nest register block.
pub const fn p8_pbcq_nest_base(index: u32) -> u32 {
    0x0201_2000 + 0x400 * index
}

/// The BARs QEMU presets (and skiboot assumes) for PHB `index` of chip
/// `chip`: (MMIO0 base, size), (MMIO1 base, size), register base.
pub const fn p8_preset_bars(chip: u32, index: u32) -> PbcqBars {
    let c = chip as u64;
    let n = index as u64;
    PbcqBars {
        mmio0: Window {
            base: 0x0003_d000_0000_0000 + 0x40_0000_0000 * c + 0x10_0000_0000 * n,
            size: 0x10_0000_0000,
        },
        mmio1: Window {
            base: 0x0003_ff80_0000_0000 + 0x2_0000_0000 * c + 0x8000_0000 * n,
            size: 0x8000_0000,
        },
        regs: 0x0003_fffe_4000_0000 + 0x40_0000 * c + 0x10_0000 * n,
    }
}

/// A CPU address window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First byte.
    pub base: u64,
    /// Bytes (a power of two).
    pub size: u64,
}

/// What a PBCQ's BARs say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PbcqBars {
    /// MMIO BAR 0 (64-bit window).
    pub mmio0: Window,
    /// MMIO BAR 1 (holds the M32 window).
    pub mmio1: Window,
    /// PHB register base.
    pub regs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p8_xscom_formula_matches_design() {
        // DESIGN §12: PHB0 BAR_EN pcba 0x2012045 -> 0x0003fc0020120428.
        let pcba = p8_pbcq_nest_base(0) + PBCQ_NEST_BAR_EN;
        assert_eq!(pcba, 0x0201_2045);
        assert_eq!(p8_xscom_addr(P8_XSCOM_BASE, pcba), 0x0003_fc00_2012_0428);
        assert_eq!(p8_xscom_base(1), 0x0003_fc08_0000_0000);
    }

    #[test]
    fn pbcq_bar_encoding_round_trips_qemu_presets() {
        // QEMU's preset MMIO1 mask for a 2 GiB window.
        assert_eq!(pbcq_mask(0x8000_0000), 0x3_ffff_8000_0000 << 14);
        assert_eq!(pbcq_mask_size(pbcq_mask(0x8000_0000)), 0x8000_0000);
        assert_eq!(pbcq_mask_size(0x3_fff0_0000_0000 << 14), 0x10_0000_0000);
        let b = p8_preset_bars(0, 2);
        assert_eq!(b.mmio1.base, 0x0003_ff81_0000_0000);
        assert_eq!(b.regs, 0x0003_fffe_4020_0000);
        assert_eq!(pbcq_bar_addr(pbcq_bar(b.regs)), b.regs);
    }

    #[test]
    fn ioda2_and_config_words() {
        assert_eq!(
            ioda2_addr(Ioda2Table::Tvt, 511, true),
            0x8009_0000_0000_01ff
        );
        assert_eq!(
            ioda2_addr(Ioda2Table::M32dt, 3, false),
            0x0011_0000_0000_0003
        );
        assert_eq!(phb3_config(false), 0x2002_8000_0000_0000);
        assert_eq!(m32_base_mask(0x8000_0000), 0xffff_ffff_8000_0000);
    }
}
