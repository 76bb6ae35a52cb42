//! The boot scenario: the firmware's own start-up works.

use super::Checks;
use alloc::format;
use alloc::vec::Vec;
use pnv_iommu::topology::Topology;

/// The boot scenario on a two-chip machine: the same checks, and the device
/// tree must show both chips (a run without `-smp 2,sockets=2` fails).
pub fn run_two_chips(t: &Topology, checks: &mut Checks) {
    let ids: Vec<u32> = t.chips.iter().map(|c| c.chip_id).collect();
    checks.check(
        "boot_two_chips",
        if ids == [0, 1] {
            Ok(())
        } else {
            Err(format!("chips {:?}, want [0, 1]", ids))
        },
    );
    run(t, checks);
}

/// Checks what start-up promised: heap, FP/vector state, device tree.
pub fn run(t: &Topology, checks: &mut Checks) {
    checks.check("boot_heap_aligned_alloc", heap_aligned_alloc());
    checks.check("boot_fp_enabled", fp_enabled());
    checks.check("boot_every_phb_up", every_phb_up(t));
    checks.check(
        "boot_topology",
        if t.phb_stacks().count() > 0
            && (t.uart.is_some() || t.lpc_uart.is_some())
            && t.threads() > 0
        {
            Ok(())
        } else {
            Err(format!("incomplete topology: {:?}", t))
        },
    );
}

fn heap_aligned_alloc() -> Result<(), alloc::string::String> {
    let layout = core::alloc::Layout::from_size_align(1 << 16, 1 << 16).unwrap();
    let v: Vec<u8> = Vec::with_capacity(1 << 20);
    // SAFETY: `layout` has non-zero size; the block is freed with the same layout.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if p.is_null() {
        return Err("64 KiB-aligned allocation failed".into());
    }
    let aligned = (p as usize).is_multiple_of(1 << 16);
    // SAFETY: `p` came from `alloc_zeroed` with `layout` and is not used after.
    unsafe { alloc::alloc::dealloc(p, layout) };
    drop(v);
    if aligned {
        Ok(())
    } else {
        Err(format!("{:p} not 64 KiB aligned", p))
    }
}

fn fp_enabled() -> Result<(), alloc::string::String> {
    // Floating-point arithmetic the compiler cannot fold: takes the FP
    // unavailable exception if MSR[FP] were off.
    let x = core::hint::black_box(1.5f64);
    let y = x * core::hint::black_box(4.0f64);
    if y == 6.0 {
        Ok(())
    } else {
        Err(format!("1.5 * 4.0 = {}", y))
    }
}

/// Brings up every PHB the device tree lists, on every chip, with the
/// driver of its chip's generation, and checks each against QEMU's model:
/// PE and TVE counts (PHB3 256 PEs; PHB4 and PHB5 512 on PHB0 and PHB3,
/// 256 on the others), the version register, and the number of PHBs per
/// chip (3 on POWER8, 6 on POWER9 and POWER10).
fn every_phb_up(t: &Topology) -> Result<(), alloc::string::String> {
    use pnv_iommu::page_alloc::GlobalPages;
    use pnv_iommu::phb3::regs::{P8_NUM_PHBS, PHB3_VERSION};
    use pnv_iommu::phb3::{Phb3, Phb3Config};
    use pnv_iommu::phb4::regs::P9_NUM_PHBS;
    use pnv_iommu::phb4::{Phb4, Phb4Config, Phb4Family};
    use pnv_iommu::phb5::P10_NUM_PHBS;
    use pnv_iommu::topology::ChipGeneration;
    let mut up = 0;
    for (chip, pec, stack) in t.phb_stacks() {
        let index = stack.phb_index;
        let what = format!("chip {} PHB{}", chip.chip_id, index);
        let (kind, pes, tves, want_pes, version, want_version) = match chip.generation {
            ChipGeneration::Power8 => {
                let cfg = Phb3Config::for_pbcq(chip, pec, stack);
                let phb = Phb3::init(super::platform::io(), cfg, &GlobalPages)
                    .map_err(|e| format!("{}: {:?}", what, e))?;
                let version = phb.read_version();
                let (pes, tves) = (phb.num_pes(), phb.tvt_size());
                ("PHB3", pes, tves, 256, version, PHB3_VERSION)
            }
            ChipGeneration::Power9 | ChipGeneration::Power10 => {
                let cfg = Phb4Config::for_stack(chip, pec, stack)
                    .ok_or_else(|| format!("no address map for {}", what))?;
                let phb = Phb4::init(super::platform::io(), cfg, &GlobalPages)
                    .map_err(|e| format!("{}: {:?}", what, e))?;
                let want = if matches!(index, 0 | 3) { 512 } else { 256 };
                let kind = match phb.family() {
                    Phb4Family::Phb4 => "PHB4",
                    Phb4Family::Phb5 => "PHB5",
                };
                let version = phb.read_version();
                let (pes, tves) = (phb.num_pes(), phb.tvt_size());
                (kind, pes, tves, want, version, phb.family().version())
            }
        };
        crate::println!(
            "PNV: {} ({}) up: {} PEs, {} TVEs, version {:#x}",
            what,
            kind,
            pes,
            tves,
            version
        );
        if pes != want_pes || tves != 2 * want_pes || version != want_version {
            return Err(format!(
                "{} ({}): {} PEs, {} TVEs, version {:#x}; want {} PEs, version {:#x}",
                what, kind, pes, tves, version, want_pes, want_version
            ));
        }
        up += 1;
    }
    let want: u32 = t
        .chips
        .iter()
        .map(|c| match c.generation {
            ChipGeneration::Power8 => P8_NUM_PHBS,
            ChipGeneration::Power9 => P9_NUM_PHBS,
            ChipGeneration::Power10 => P10_NUM_PHBS,
        })
        .sum();
    if up == 0 || up != want {
        Err(format!(
            "{} PHBs up, want {} ({} chips)",
            up,
            want,
            t.chips.len()
        ))
    } else {
        crate::println!("PNV: {} PHBs up on {} chips", up, t.chips.len());
        Ok(())
    }
}
