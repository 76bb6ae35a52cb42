//! PHB5 (POWER10 PCIe host bridge): the PHB4 driver ([`crate::phb4::Phb4`])
//! with POWER10's address map, PEC/stack layout and version, and the
//! POWER10 kill sync step ([`Phb4Family::Phb5`], see
//! [`crate::phb4::kill`]). QEMU's `pnv-phb5` is a PHB4 with no overrides,
//! so the registers, TVE format, walk, bypass and kill word are PHB4's
//! (`DESIGN.md` §12); only the facts below are POWER10's own.
//!
//! Layout: two PECs of three stacks each; PEC0 (nest block `0x3011800`)
//! holds PHB0–2, PEC1 (`0x2011800`) PHB3–5. PHB0 and PHB3 have 512 PEs,
//! the others 256 (the driver reads it from `PHB4_EEH_CAP`). Stack
//! registers sit at `nest + 0x40 * (stack + 1)` with POWER9's offsets and
//! BAR encoding ([`crate::phb4::regs`]). The physical map is POWER9's with
//! the chip number at bit 44.

use crate::phb4::regs::{M32_PCI_START, P9_M32_BASE, P9_M32_SIZE, P9_REGS_BASE, P9_REGS_SIZE};
use crate::phb4::{Phb4Config, Phb4Family};
use crate::topology::{Chip, Pec, PhbStack};

/// Physical address of chip 0's XSCOM window on POWER10.
pub const P10_XSCOM_BASE: u64 = 0x0006_03fc_0000_0000;
/// Bit where the chip number enters XSCOM and PHB addresses on POWER10.
pub const P10_CHIP_SHIFT: u32 = 44;
/// PHBs per POWER10 chip.
pub const P10_NUM_PHBS: u32 = 6;
/// Stacks (PHBs) per POWER10 PEC.
pub const P10_STACKS_PER_PEC: u32 = 3;

/// XSCOM base of POWER10 chip `chip`.
pub const fn p10_xscom_base(chip: u32) -> u64 {
    P10_XSCOM_BASE + ((chip as u64) << P10_CHIP_SHIFT)
}

/// PCBA of PEC `pec`'s nest register block.
pub const fn p10_pec_nest_base(pec: u32) -> u32 {
    0x0301_1800 - 0x0100_0000 * pec
}

/// PCBA of PEC `pec`'s PCI register block.
pub const fn p10_pec_pci_base(pec: u32) -> u32 {
    0x0801_0800 + 0x0100_0000 * pec
}

/// (PEC, stack) of PHB `index`.
pub const fn p10_phb_location(index: u32) -> Option<(u32, u32)> {
    if index < P10_NUM_PHBS {
        Some((index / P10_STACKS_PER_PEC, index % P10_STACKS_PER_PEC))
    } else {
        None
    }
}

/// PEs of PHB `index` (what its `PHB4_EEH_CAP` reports on QEMU).
pub const fn p10_num_pes(index: u32) -> u32 {
    if index.is_multiple_of(P10_STACKS_PER_PEC) {
        512
    } else {
        256
    }
}

/// The configuration of PHB `index` of POWER10 chip `chip`: skiboot's map
/// (POWER9's offsets, chip at bit 44): registers at `0x6_00C3_C000_0000 +
/// index * 1 MiB`, a 2 GiB M32 window at `0x6_00C0_0000_0000 + index * 2 GiB`.
pub const fn p10(chip: u32, index: u32) -> Option<Phb4Config> {
    let Some((pec, stack)) = p10_phb_location(index) else {
        return None;
    };
    let chip_base = (chip as u64) << P10_CHIP_SHIFT;
    Some(Phb4Config {
        chip_id: chip,
        index,
        xscom_base: p10_xscom_base(chip),
        pec_nest_base: p10_pec_nest_base(pec),
        stack,
        regs_base: P9_REGS_BASE + chip_base + index as u64 * P9_REGS_SIZE,
        m32_cpu_base: P9_M32_BASE + chip_base + index as u64 * P9_M32_SIZE,
        m32_size: P9_M32_SIZE,
        m32_pci_start: M32_PCI_START,
        msi32: false,
        family: Phb4Family::Phb5,
    })
}

/// The configuration of a stack the device tree describes: the XSCOM base
/// and nest block from the tree, the addresses from [`p10`].
pub fn for_stack(chip: &Chip, pec: &Pec, stack: &PhbStack) -> Option<Phb4Config> {
    let by_index = p10(chip.chip_id, stack.phb_index)?;
    Some(Phb4Config {
        xscom_base: chip.xscom_base,
        pec_nest_base: pec.nest_base,
        stack: stack.stack,
        ..by_index
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    #[test]
    fn layout_matches_the_device_tree() {
        let t =
            Topology::from_fdt(include_bytes!("../../tests/fixtures/qemu-powernv10.dtb")).unwrap();
        for (chip, pec, stack) in t.phb_stacks() {
            assert_eq!(p10_pec_nest_base(pec.index), pec.nest_base);
            assert_eq!(p10_pec_pci_base(pec.index), pec.pci_base);
            assert_eq!(
                p10_phb_location(stack.phb_index),
                Some((pec.index, stack.stack))
            );
            assert_eq!(
                for_stack(chip, pec, stack),
                p10(chip.chip_id, stack.phb_index)
            );
        }
        assert_eq!(p10_phb_location(6), None);
    }

    #[test]
    fn address_map() {
        let c = p10(0, 4).unwrap();
        assert_eq!(c.pec_nest_base, 0x0201_1800);
        assert_eq!(c.stack, 1);
        assert_eq!(c.regs_base, 0x0006_00c3_c040_0000);
        assert_eq!(c.m32_cpu_base, 0x0006_00c2_0000_0000);
        assert_eq!(c.family, Phb4Family::Phb5);
        let c = p10(1, 0).unwrap();
        assert_eq!(c.xscom_base, 0x0006_13fc_0000_0000);
        assert_eq!(c.regs_base, 0x0006_10c3_c000_0000);
        assert_eq!(
            (p10_num_pes(0), p10_num_pes(3), p10_num_pes(5)),
            (512, 512, 256)
        );
    }
}
