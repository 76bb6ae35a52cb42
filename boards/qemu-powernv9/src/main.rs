//! pnv-iommu firmware for QEMU `powernv9` (POWER9, PHB4).
//!
//! Boots at 0x10, reads the device tree, prints the machine's topology, runs
//! the scenario named in the boot arguments (see `cargo xtask run --scenario`)
//! and reports `PNV-RESULT: PASS` or `PNV-RESULT: FAIL ...` on the console.
#![no_std]
#![no_main]

extern crate alloc;

mod console;
mod exception;
mod guest;
mod heap;
mod io;
mod scenarios;
mod start;

use core::panic::PanicInfo;
use pnv_iommu::topology::Topology;

/// Rust entry, called by `enter_rust` (pnv-rt) with the device tree address.
#[unsafe(no_mangle)]
extern "C" fn rust_main(fdt_addr: u64) -> ! {
    heap::init();
    let topology = match device_tree(fdt_addr).map(Topology::from_fdt) {
        Some(Ok(t)) => t,
        // No console yet: the runner's timeout reports this boot as failed.
        _ => console::finish(false, format_args!("no device tree")),
    };
    if let Some(uart) = topology.uart {
        console::init(uart.base);
    }
    println!("PNV: pnv-iommu firmware, board qemu-powernv9");
    print_topology(&topology);
    if topology.memory_bytes() < heap::RAM_NEEDED {
        console::finish(
            false,
            format_args!("needs {} MiB of RAM", heap::RAM_NEEDED >> 20),
        );
    }
    let name = match pnv_rt::boot_args::args() {
        "" => "boot",
        s => s,
    };
    println!("PNV: scenario {}", name);
    let passed = scenarios::run(name, &topology);
    console::finish(passed, format_args!("scenario {}", name))
}

/// The device tree blob QEMU placed at `addr`, if its header is sane.
fn device_tree(addr: u64) -> Option<&'static [u8]> {
    // SAFETY: QEMU passes the address of its device tree in r3; it lies in
    // RAM that nothing else uses (16..17 MiB, below the heap), is at least
    // 8 bytes, and is never written. `blob_at` reads the header first and
    // bounds the length by FDT_MAX.
    unsafe { pnv_rt::fdt::blob_at(addr) }
}

fn print_topology(t: &Topology) {
    println!("PNV: model {}", t.model);
    for m in &t.memory {
        println!(
            "PNV: memory {:#x}..{:#x} ({} MiB)",
            m.base,
            m.base + m.size,
            m.size >> 20
        );
    }
    println!("PNV: cpus {} cores, {} threads", t.cores.len(), t.threads());
    for c in &t.chips {
        println!("PNV: chip {} xscom {:#x}", c.chip_id, c.xscom_base);
    }
    for (chip, pec, stack) in t.phb_stacks() {
        println!(
            "PNV: phb chip {} index {} pec {} stack {} (nest {:#x} pci {:#x})",
            chip.chip_id, stack.phb_index, pec.index, stack.stack, pec.nest_base, pec.pci_base
        );
    }
    println!("PNV: phb stacks {}", t.phb_stacks().count());
    match t.uart {
        Some(u) => println!("PNV: uart 16550 at {:#x}, clock {} Hz", u.base, u.clock_hz),
        None => println!("PNV: uart none"),
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    println!("PNV: PANIC {}", info);
    console::finish(false, format_args!("panic"))
}
