//! The boot scenario: the firmware's own start-up works.

use super::Checks;
use alloc::format;
use alloc::vec::Vec;
use pnv_iommu::topology::Topology;

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

/// Brings up every PHB the device tree lists, with the driver of its chip's
/// generation, and checks the PE and TVE counts against QEMU's model:
/// PHB3 (POWER8) 256 PEs; PHB4 (POWER9) and PHB5 (POWER10) 512 on PHB0
/// and PHB3, 256 on the others; and each PHB's version register.
fn every_phb_up(t: &Topology) -> Result<(), alloc::string::String> {
    use pnv_iommu::phb3::regs::PHB3_VERSION;
    use pnv_iommu::phb3::{Phb3, Phb3Config};
    use pnv_iommu::phb4::dmamem::GlobalHeap;
    use pnv_iommu::phb4::{Phb4, Phb4Config};
    use pnv_iommu::topology::ChipGeneration;
    let mut up = 0;
    for (chip, pec, stack) in t.phb_stacks() {
        let index = stack.phb_index;
        let (kind, pes, tves, want_pes, version, want_version) = match chip.generation {
            ChipGeneration::Power8 => {
                let cfg = Phb3Config::for_pbcq(chip, pec, stack);
                let phb = Phb3::init(super::platform::io(), cfg, &mut GlobalHeap)
                    .map_err(|e| format!("PHB{}: {:?}", index, e))?;
                let version = phb.read_version();
                (
                    "PHB3",
                    phb.num_pes(),
                    phb.tvt_size(),
                    256,
                    version,
                    PHB3_VERSION,
                )
            }
            ChipGeneration::Power9 | ChipGeneration::Power10 => {
                let cfg = Phb4Config::for_stack(chip, pec, stack)
                    .ok_or_else(|| format!("no address map for PHB{}", index))?;
                let phb = Phb4::init(super::platform::io(), cfg, &mut GlobalHeap)
                    .map_err(|e| format!("PHB{}: {:?}", index, e))?;
                let want = if matches!(index, 0 | 3) { 512 } else { 256 };
                let kind = match phb.family() {
                    pnv_iommu::phb4::Phb4Family::Phb4 => "PHB4",
                    pnv_iommu::phb4::Phb4Family::Phb5 => "PHB5",
                };
                let version = phb.read_version();
                (
                    kind,
                    phb.num_pes(),
                    phb.tvt_size(),
                    want,
                    version,
                    phb.family().version(),
                )
            }
        };
        crate::println!(
            "PNV: {} {} up: {} PEs, {} TVEs, version {:#x}",
            kind,
            index,
            pes,
            tves,
            version
        );
        if pes != want_pes || tves != 2 * want_pes || version != want_version {
            return Err(format!(
                "{}{}: {} PEs, {} TVEs, version {:#x}; want {} PEs, version {:#x}",
                kind, index, pes, tves, version, want_pes, want_version
            ));
        }
        up += 1;
    }
    if up == 0 {
        Err("no PHB in the device tree".into())
    } else {
        Ok(())
    }
}
