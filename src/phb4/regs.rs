//! PHB4 register map: offsets and bit fields, named as in the PHB4 workbook
//! and skiboot's `phb4-regs.h`, plus the PEC XSCOM nest registers and the
//! POWER9 physical address map that firmware chooses for each PHB.
//!
//! IBM numbers bits from the most significant end: `PPC_BIT(0)` is `1 << 63`.
//! [`ppc_bit`] and [`ppc_field`] convert, so every constant below can be read
//! against the hardware documentation.
//!
//! Multi-bit fields have small `const fn` encoders/decoders; the driver never
//! shifts by hand. The registers PHB3 shares with PHB4 (same offset, same
//! fields) and the IBM bit helpers are [`crate::phb::regs`]'s, re-exported
//! here.

pub use crate::phb::regs::{
    PHB_CA_BUS, PHB_CA_DEVFN, PHB_CA_ENABLE, PHB_CA_REG, PHB_CONFIG_ADDRESS, PHB_CONFIG_DATA,
    PHB_IODA_AD_AUTOINC, PHB_IODA_AD_TSEL, PHB_IODA_ADDR, PHB_IODA_DATA0, PHB_M32_START_ADDR,
    PHB_PELTV_BAR, PHB_PELTV_BAR_ENABLE, PHB_PEST_BAR, PHB_PEST_BAR_ENABLE, PHB_RTC_INVALIDATE,
    PHB_RTC_INVALIDATE_ALL, PHB_RTT_BAR, PHB_RTT_BAR_ENABLE, PHB_TCE_KILL, PHB_VERSION,
    config_address, ppc_bit, ppc_bitmask, ppc_field, ppc_get_field,
};

// ---------------------------------------------------------------------------
// PHB4 register space (offsets from the PHB's register BAR).
// ---------------------------------------------------------------------------

/// PHB4 configuration register.
pub const PHB_PHB4_CONFIG: u64 = 0x160;
bitflags::bitflags! {
    /// `PHB4_CONFIG` flag bits the driver sets.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Phb4ConfigFlags: u64 {
        /// 32-bit MSI enable (takes PCI 0xFFFF0000..0xFFFFFFFF from DMA).
        const MSI32 = ppc_bit(8);
        /// 64-bit MSI enable (PCI addresses with `addr >> 60 == 1`).
        const MSI64 = ppc_bit(14);
    }
}
/// DMA read/write sync.
pub const PHB_DMA_READ_WRITE_SYNC: u64 = 0x200;
/// DMA_READ_WRITE_SYNC: start a read sync.
pub const PHB_DMA_READ_SYNC_START: u64 = ppc_bit(0);
/// DMA_READ_WRITE_SYNC: read sync complete.
pub const PHB_DMA_READ_SYNC_COMPLETE: u64 = ppc_bit(1);
/// DMA_READ_WRITE_SYNC: write sync complete.
pub const PHB_DMA_WRITE_SYNC_COMPLETE: u64 = ppc_bit(3);
/// DMA_READ_WRITE_SYNC bits a PHB5 sync start writes back as read.
pub const PHB_DMA_SYNC_KEEP_PHB5: u64 = PHB_DMA_READ_SYNC_COMPLETE | PHB_DMA_WRITE_SYNC_COMPLETE;
bitflags::bitflags! {
    /// `TCE_KILL` flag bits; the PE number ([`PHB_TCE_KILL_PENUM`]) and a
    /// page's address and size override share the word.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct TceKill: u64 {
        /// Kill all.
        const ALL = ppc_bit(0);
        /// Kill one PE.
        const PE = ppc_bit(1);
        /// Kill one page.
        const ONE = ppc_bit(2);
        /// Page size select (the address field carries a size override).
        const PSEL = ppc_bit(3);
        /// The bits that stay set while a kill is queued.
        const BUSY = Self::ALL.bits() | Self::PE.bits() | Self::ONE.bits();
    }
}
/// TCE_KILL: 64K page size override (with PSEL).
pub const PHB_TCE_KILL_64K: u64 = 0x1000;
/// TCE_KILL: 2M page size override (with PSEL).
pub const PHB_TCE_KILL_2M: u64 = 0x2000;
/// TCE_KILL: 1G page size override (with PSEL).
pub const PHB_TCE_KILL_1G: u64 = 0x3000;
/// TCE_KILL: PE number.
pub const PHB_TCE_KILL_PENUM: u64 = ppc_bitmask(55, 63);
/// IODA_ADDR: table index.
pub const PHB_IODA_AD_TADR: u64 = ppc_bitmask(54, 63);
/// EEH capabilities (number of PEs in the top bits).
pub const PHB_PHB4_EEH_CAP: u64 = 0x268;
/// `PHB_VERSION` of a PHB4 (POWER9) as QEMU models it.
pub const PHB4_VERSION: u64 = 0x0000_00a4_0000_0002;
/// `PHB_VERSION` of a PHB5 (POWER10) as QEMU models it.
pub const PHB5_VERSION: u64 = 0x0000_00a5_0000_0001;
/// PHB control register.
pub const PHB_CTRLR: u64 = 0x810;
/// CTRLR: TVT address select (0 = two TVEs per PE, selected by PCI bit 59).
pub const PHB_CTRLR_TVT_ADDR_SEL: u64 = ppc_bitmask(17, 19);
/// DMA queue control; carries the TCE kill status.
pub const PHB_Q_DMA_R: u64 = 0x888;
/// Q_DMA_R: a TCE kill is still being processed.
pub const PHB_Q_DMA_R_TCE_KILL_STATUS: u64 = ppc_bit(7);
/// Root complex (root port) configuration space, 4-byte LE accesses.
pub const PHB_RC_CONFIG_BASE: u64 = 0x1000;
/// Size of the root port's configuration space window.
pub const PHB_RC_CONFIG_SIZE: u64 = 0x800;

/// Number of PEs reported by `PHB4_EEH_CAP`.
pub const fn eeh_cap_num_pes(cap: u64) -> u32 {
    (cap >> 52) as u32
}

/// `IODA_ADDR` value selecting `table` entry `index`.
pub const fn ioda_addr(table: IodaTable, index: u32, autoinc: bool) -> u64 {
    let inc = if autoinc { PHB_IODA_AD_AUTOINC } else { 0 };
    inc | ppc_field(PHB_IODA_AD_TSEL, table as u64) | ppc_field(PHB_IODA_AD_TADR, index as u64)
}

/// IODA3 on-chip tables, by their table-select number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum IodaTable {
    /// LSI interrupt state.
    List = 1,
    /// MSI interrupt state.
    Mist = 2,
    /// RID CAM.
    Rcam = 5,
    /// MSI remap table.
    Mrt = 6,
    /// PE state table A.
    PestA = 7,
    /// PE state table B.
    PestB = 8,
    /// Translation validation table (TVEs).
    Tvt = 9,
    /// TCE CAM.
    Tcam = 10,
    /// TCE data RAM.
    Tdr = 11,
    /// Memory BAR table (MMIO windows).
    Mbt = 16,
    /// MMIO domain table.
    Mdt = 17,
    /// PE error vector.
    Peev = 20,
}

/// MBT entry word 0: enable.
pub const IODA3_MBT0_ENABLE: u64 = ppc_bit(0);
/// MBT entry word 0: window type M32 (else M64).
pub const IODA3_MBT0_TYPE_M32: u64 = ppc_bit(1);
/// MBT entry word 0: CPU base address field.
pub const IODA3_MBT0_BASE_ADDR: u64 = ppc_bitmask(8, 51);
/// MBT entry word 1: enable.
pub const IODA3_MBT1_ENABLE: u64 = ppc_bit(0);
/// MBT entry word 1: address mask field.
pub const IODA3_MBT1_MASK: u64 = ppc_bitmask(8, 51);

/// First MBT word of an M32 window at CPU address `cpu_base`.
pub const fn mbt0_m32(cpu_base: u64) -> u64 {
    IODA3_MBT0_ENABLE | IODA3_MBT0_TYPE_M32 | (cpu_base & IODA3_MBT0_BASE_ADDR)
}

/// Second MBT word of a window of `size` bytes (a power of two).
pub const fn mbt1_mask(size: u64) -> u64 {
    IODA3_MBT1_ENABLE | (!(size - 1) & IODA3_MBT1_MASK)
}

// ---------------------------------------------------------------------------
// PEC stack nest registers (XSCOM), relative to the stack's register block.
// ---------------------------------------------------------------------------

/// MMIO BAR 0 (64-bit window).
pub const PEC_NEST_STK_MMIO_BAR0: u32 = 0x0e;
/// MMIO BAR 0 mask.
pub const PEC_NEST_STK_MMIO_BAR0_MASK: u32 = 0x0f;
/// MMIO BAR 1 (32-bit window).
pub const PEC_NEST_STK_MMIO_BAR1: u32 = 0x10;
/// MMIO BAR 1 mask.
pub const PEC_NEST_STK_MMIO_BAR1_MASK: u32 = 0x11;
/// PHB register space BAR.
pub const PEC_NEST_STK_PHB_REGS_BAR: u32 = 0x12;
/// Interrupt (ESB) BAR.
pub const PEC_NEST_STK_INT_BAR: u32 = 0x13;
/// BAR enables.
pub const PEC_NEST_STK_BAR_EN: u32 = 0x14;
bitflags::bitflags! {
    /// `BAR_EN` bits of a PEC stack.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct PecBarEnable: u64 {
        /// MMIO BAR 0.
        const MMIO0 = ppc_bit(0);
        /// MMIO BAR 1.
        const MMIO1 = ppc_bit(1);
        /// PHB register BAR.
        const PHB = ppc_bit(2);
        /// Interrupt BAR.
        const INT = ppc_bit(3);
    }
}

/// Physical address of the XSCOM MMIO window of chip 0 on POWER9 (chip c:
/// [`p9_chip_addr`]).
pub const P9_XSCOM_BASE: u64 = 0x0006_03FC_0000_0000;

/// XSCOM address (PCBA) of the nest register block of a P9 PEC.
pub const fn p9_pec_nest_base(pec: u32) -> u32 {
    0x0401_0c00 + 0x400 * pec
}

/// PCBA of nest register `reg` of `stack` in the PEC whose block is at `nest_base`.
pub const fn pec_stack_nest_reg(nest_base: u32, stack: u32, reg: u32) -> u32 {
    nest_base + 0x40 * (stack + 1) + reg
}

/// A BAR register value for the physical address `addr` (address bits sit 8 higher).
pub const fn pec_bar(addr: u64) -> u64 {
    addr << 8
}

/// A BAR mask register value for a window of `size` bytes (a power of two).
pub const fn pec_bar_mask(size: u64) -> u64 {
    !(size - 1) << 8
}

// ---------------------------------------------------------------------------
// POWER9 physical map, as skiboot lays it out: chip 0's addresses below;
// chip c's are chip 0's plus `c << P9_CHIP_SHIFT` (DESIGN §12).
// ---------------------------------------------------------------------------

/// Chip c's XSCOM window, PHB registers and MMIO windows are chip 0's plus
/// `c << P9_CHIP_SHIFT`.
pub const P9_CHIP_SHIFT: u32 = 42;
/// Chip ids the map can place: `chip << P9_CHIP_SHIFT` must stay in bits
/// 42..48, below the map's fixed prefix (bits 49 and 50 of `0x6_...`).
pub const P9_MAX_CHIPS: u32 = 128;

/// `addr` (a chip-0 address of the map) moved to chip `chip`.
pub const fn p9_chip_addr(chip: u32, addr: u64) -> u64 {
    addr + ((chip as u64) << P9_CHIP_SHIFT)
}

/// Number of PHBs on a POWER9 chip.
pub const P9_NUM_PHBS: u32 = 6;
/// CPU address of PHB0's 32-bit MMIO window; PHB n is `n * P9_M32_SIZE` above.
pub const P9_M32_BASE: u64 = 0x0006_00C0_0000_0000;
/// Size of each PHB's 32-bit MMIO window (2 GiB).
pub const P9_M32_SIZE: u64 = 0x8000_0000;
/// CPU address of PHB0's registers; PHB n is `n * P9_REGS_SIZE` above.
pub const P9_REGS_BASE: u64 = 0x0006_00C3_C000_0000;
/// Size of each PHB's register space (1 MiB).
pub const P9_REGS_SIZE: u64 = 0x10_0000;
/// PCI address where the 32-bit MMIO window starts (the top 2 GiB below 4 GiB).
pub const M32_PCI_START: u64 = 0x8000_0000;

/// (PEC, stack) of PHB `index` on POWER9: PEC0 has one stack, PEC1 two, PEC2 three.
pub const fn p9_phb_location(index: u32) -> Option<(u32, u32)> {
    match index {
        0 => Some((0, 0)),
        1 | 2 => Some((1, index - 1)),
        3..=5 => Some((2, index - 3)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibm_bit_numbering() {
        assert_eq!(ppc_bit(0), 0x8000_0000_0000_0000);
        assert_eq!(ppc_bit(63), 1);
        assert_eq!(PHB_TCE_KILL_PENUM, 0x1ff);
        assert_eq!(PHB_IODA_AD_TSEL, 0x001f_0000_0000_0000);
        assert_eq!(PHB_CTRLR_TVT_ADDR_SEL, 0x0000_7000_0000_0000);
        assert_eq!(
            ppc_get_field(PHB_IODA_AD_TSEL, ioda_addr(IodaTable::Tvt, 3, true)),
            9
        );
    }

    #[test]
    fn encoders_match_design_values() {
        assert_eq!(ioda_addr(IodaTable::Tvt, 5, false), 0x0009_0000_0000_0005);
        assert_eq!(ioda_addr(IodaTable::Mbt, 0, true), 0x8010_0000_0000_0000);
        assert_eq!(
            config_address(1, 0x08, 0x10),
            (1 << 63) | (1 << 52) | (8 << 44) | (0x10 << 32)
        );
        assert_eq!(mbt0_m32(P9_M32_BASE), 0xC006_00C0_0000_0000);
        assert_eq!(mbt1_mask(P9_M32_SIZE), 0x80FF_FFFF_8000_0000);
        assert_eq!(pec_bar(P9_M32_BASE), 0x0600_C000_0000_0000);
        assert_eq!(pec_bar_mask(P9_M32_SIZE), 0xFFFF_FF80_0000_0000);
        assert_eq!(pec_bar(P9_REGS_BASE), 0x0600_C3C0_0000_0000);
        assert_eq!(
            (PecBarEnable::MMIO1 | PecBarEnable::PHB).bits(),
            0x6000_0000_0000_0000
        );
        assert_eq!(eeh_cap_num_pes(0x2000_0000_0000_0000), 512);
    }

    #[test]
    fn p9_stack_layout() {
        assert_eq!(p9_phb_location(0), Some((0, 0)));
        assert_eq!(p9_phb_location(2), Some((1, 1)));
        assert_eq!(p9_phb_location(5), Some((2, 2)));
        assert_eq!(p9_phb_location(6), None);
        assert_eq!(
            pec_stack_nest_reg(p9_pec_nest_base(0), 0, PEC_NEST_STK_BAR_EN),
            0x0401_0c54
        );
    }
}
