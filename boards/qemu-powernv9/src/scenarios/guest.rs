//! The guest-context scenario: a real guest (MSR[HV] = 0) runs in a
//! partition whose real addresses map to a non-identity host block, issues
//! `sc 1` hypercalls that trap to the hypervisor, and faults when it touches
//! memory outside its partition.

use super::Checks;
use crate::guest::{Guest, GuestExit, GuestRegs, TrapAction, TrapHandler};
use alloc::format;
use alloc::string::String;
use pnv_iommu::topology::Topology;

/// Host block backing guest real 0..GUEST_RAM (768 MiB, 2 MiB aligned).
const GUEST_HOST_BASE: u64 = pnv_contract::GUEST_LOAD_ADDR;
const GUEST_RAM: u64 = 0x0040_0000;
/// Where the test program is copied (guest real).
const GUEST_ENTRY: u64 = 0x100;
/// Guest address the program stores a marker to.
const MARKER_ADDR: u64 = 0x2000;
const MARKER: u64 = 0x5a5a_0000_1234_5678;
/// pnv-iommu's private hypercall that ends a guest run (r4 = code).
pub const H_PNV_GUEST_EXIT: u64 = 0xf3f0;
/// PAPR H_PUT_TERM_CHAR.
const H_PUT_TERM_CHAR: u64 = 0x58;

core::arch::global_asm!(
    r#"
.section .rodata.guest_smoke, "a"
.balign 4
.globl guest_smoke_start
guest_smoke_start:
    li 3, 0x58            /* H_PUT_TERM_CHAR "hi" */
    li 4, 0
    li 5, 2
    lis 6, 0x6869
    sldi 6, 6, 32
    sc 1
    li 9, 0x2000          /* marker at guest real 0x2000 */
    lis 10, 0x5a5a
    sldi 10, 10, 32
    oris 10, 10, 0x1234
    ori 10, 10, 0x5678
    std 10, 0(9)
    cmpdi 31, 0           /* r31 != 0: touch memory outside the partition */
    beq 1f
    ld 11, 0(31)
1:  li 3, 0
    ori 3, 3, 0xf3f0      /* H_PNV_GUEST_EXIT 42 */
    li 4, 42
    sc 1
2:  b 2b
.globl guest_smoke_end
guest_smoke_end:
"#
);

unsafe extern "C" {
    static guest_smoke_start: u8;
    static guest_smoke_end: u8;
}

/// Records what the guest asked for.
struct SmokeHandler {
    output: String,
    calls: u32,
}

impl TrapHandler for SmokeHandler {
    fn hypercall(&mut self, regs: &mut GuestRegs) -> TrapAction {
        self.calls += 1;
        match regs.gpr[3] {
            H_PUT_TERM_CHAR => {
                let len = regs.gpr[5].min(16) as usize;
                let bytes = [regs.gpr[6].to_be_bytes(), regs.gpr[7].to_be_bytes()].concat();
                self.output
                    .push_str(&String::from_utf8_lossy(&bytes[..len]));
                regs.gpr[3] = 0;
                TrapAction::Resume
            }
            H_PNV_GUEST_EXIT => TrapAction::Exit(regs.gpr[4]),
            _ => {
                regs.gpr[3] = (-2i64) as u64; // H_FUNCTION
                TrapAction::Resume
            }
        }
    }
}

fn load_program() -> Result<(), String> {
    // Both symbols delimit the blob in .rodata defined above.
    let (start, end) = (
        core::ptr::addr_of!(guest_smoke_start) as usize,
        core::ptr::addr_of!(guest_smoke_end) as usize,
    );
    let len = end - start;
    // SAFETY: GUEST_HOST_BASE..+GUEST_RAM is RAM above the heap that only the
    // guest scenarios use; the source is the blob in .rodata.
    unsafe {
        core::ptr::write_bytes(GUEST_HOST_BASE as *mut u8, 0, GUEST_RAM as usize);
        core::ptr::copy_nonoverlapping(
            start as *const u8,
            (GUEST_HOST_BASE + GUEST_ENTRY) as *mut u8,
            len,
        );
    }
    Ok(())
}

fn read_host(addr: u64) -> u64 {
    // SAFETY: reads RAM inside the guest's host block or the firmware's own
    // low memory; no Rust reference aliases it.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

fn run_once(outside: u64) -> Result<(GuestExit, SmokeHandler), String> {
    load_program()?;
    let mut guest = Guest::new(1, GUEST_ENTRY).map_err(|e| format!("{:?}", e))?;
    guest
        .map(0, GUEST_HOST_BASE, GUEST_RAM)
        .map_err(|e| format!("{:?}", e))?;
    guest.regs_mut().gpr[31] = outside;
    let mut handler = SmokeHandler {
        output: String::new(),
        calls: 0,
    };
    let exit = guest.run(&mut handler);
    Ok((exit, handler))
}

/// Runs the checks.
pub fn run(_: &Topology, checks: &mut Checks) {
    let before_identity = read_host(MARKER_ADDR);
    match run_once(0) {
        Ok((exit, handler)) => {
            checks.check(
                "guest_exit_hypercall",
                if exit == GuestExit::Exited(42) {
                    Ok(())
                } else {
                    Err(format!("{:?}", exit))
                },
            );
            checks.check(
                "guest_put_term_char_traps",
                if handler.output == "hi" && handler.calls == 2 {
                    Ok(())
                } else {
                    Err(format!(
                        "output {:?} after {} calls",
                        handler.output, handler.calls
                    ))
                },
            );
            let landed = read_host(GUEST_HOST_BASE + MARKER_ADDR);
            checks.check(
                "guest_memory_is_translated",
                if landed == MARKER && read_host(MARKER_ADDR) == before_identity {
                    Ok(())
                } else {
                    Err(format!(
                        "host block {:#x}, identity {:#x}",
                        landed,
                        read_host(MARKER_ADDR)
                    ))
                },
            );
        }
        Err(e) => checks.check("guest_exit_hypercall", Err(e)),
    }
    // Guest real 0x1000_0000 is outside its 4 MiB: the partition-scoped walk
    // finds no entry and the hypervisor gets a data storage interrupt.
    match run_once(0x1000_0000) {
        Ok((GuestExit::Fault { vector: 0xe00, .. }, _)) => {
            checks.check("guest_outside_partition_faults", Ok(()))
        }
        Ok((exit, _)) => checks.check("guest_outside_partition_faults", Err(format!("{:?}", exit))),
        Err(e) => checks.check("guest_outside_partition_faults", Err(e)),
    }
}
