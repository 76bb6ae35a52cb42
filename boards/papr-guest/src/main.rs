//! PAPR hypercall conformance suite as a guest program.
//!
//! Boots at 0x100 as QEMU pseries firmware (`-bios`) or as the guest of the
//! pnv-iommu hypervisor, reads its device tree (r3), runs one case per rule
//! of DESIGN §8 with real `sc 1` hypercalls and RTAS calls (through
//! H_RTAS), prints `CASE <name> expected=<s> observed=<s> verdict=<v>` per
//! case, then `PNV-RESULT: PASS|FAIL ...` and calls H_PNV_GUEST_EXIT.
//! It never asks which hypervisor it runs on.
#![no_std]
#![no_main]

mod cases;
mod console;
mod devtree;
mod edu;
mod exception;
mod hcall;
mod problem_state;
mod report;
mod rtas;
mod start;
mod work;

use core::panic::PanicInfo;

/// The guest has no heap; it links `alloc` only through `pnv-iommu`.
#[global_allocator]
static HEAP: pnv_rt::no_heap::NoHeap = pnv_rt::no_heap::NoHeap;

/// Rust entry, called by `enter_rust` (pnv-rt) with the device tree address.
#[unsafe(no_mangle)]
extern "C" fn rust_main(fdt_addr: u64) -> ! {
    println!("GUEST: papr-guest conformance suite");
    let p = match devtree::parse(fdt_addr) {
        Ok(p) => p,
        Err(e) => console::finish(false, format_args!("device tree at {fdt_addr:#x}: {e:?}")),
    };
    println!(
        "GUEST: ram end {:#x}, phb buid {:#x}, liobn {:#x}, window {:#x}+{:#x}",
        p.ram_end, p.phb.buid, p.phb.liobn, p.phb.window_start, p.phb.window_size
    );
    match p.phb.ddw {
        Some(t) => println!(
            "GUEST: ddw tokens query {:#x} create {:#x} remove {:#x} reset {:?}",
            t.query, t.create, t.remove, t.reset
        ),
        None => println!("GUEST: no ddw"),
    }
    match p.edu {
        Some(e) => println!(
            "GUEST: edu config {:#x}, bar0 {:?}, mmio32 {:x?}",
            e.config_addr, e.bar0, p.phb.mmio32
        ),
        None => println!("GUEST: no edu"),
    }
    let r = cases::run(&p);
    println!(
        "SUITE done cases={} passed={} failed={} skipped={}",
        r.passed + r.failed + r.skipped,
        r.passed,
        r.failed,
        r.skipped
    );
    console::finish(r.failed == 0, format_args!("{} cases failed", r.failed))
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    println!("GUEST: PANIC {}", info);
    console::finish(false, format_args!("panic"))
}
