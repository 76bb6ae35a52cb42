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
        if t.phb_stacks().count() > 0 && t.uart.is_some() && t.threads() > 0 {
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

/// Brings up every PHB stack the device tree lists, on every chip, and
/// checks the PE count each reports: 512 on the big PHBs (index 0 and 3),
/// 256 on the others.
fn every_phb_up(t: &Topology) -> Result<(), alloc::string::String> {
    use pnv_iommu::page_alloc::GlobalPages;
    use pnv_iommu::phb4::{Phb4, Phb4Config};
    let mut up = 0;
    for (chip, pec, stack) in t.phb_stacks() {
        let what = format!("chip {} PHB{}", chip.chip_id, stack.phb_index);
        let cfg = Phb4Config::for_stack(chip, pec, stack)
            .ok_or_else(|| format!("no address map for {}", what))?;
        let phb = Phb4::init(super::platform::io(), cfg, &GlobalPages)
            .map_err(|e| format!("{}: {:?}", what, e))?;
        let want = if matches!(stack.phb_index, 0 | 3) {
            512
        } else {
            256
        };
        crate::println!(
            "PNV: {} up: {} PEs, {} TVEs, registers at {:#x}",
            what,
            phb.num_pes(),
            phb.tvt_size(),
            cfg.regs_base
        );
        if phb.num_pes() != want || phb.tvt_size() != 2 * want {
            return Err(format!(
                "{}: {} PEs, {} TVEs",
                what,
                phb.num_pes(),
                phb.tvt_size()
            ));
        }
        up += 1;
    }
    // Every chip has six PHB stacks.
    let want = 6 * t.chips.len();
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
