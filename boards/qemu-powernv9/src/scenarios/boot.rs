//! The boot scenario: the firmware's own start-up works.

use super::Checks;
use alloc::format;
use alloc::vec::Vec;
use pnv_iommu::topology::Topology;

/// Checks what start-up promised: heap, FP/vector state, device tree.
pub fn run(t: &Topology, checks: &mut Checks) {
    checks.check("boot_heap_aligned_alloc", heap_aligned_alloc());
    checks.check("boot_fp_enabled", fp_enabled());
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
