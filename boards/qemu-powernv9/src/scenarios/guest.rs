//! The guest-context scenario: a real guest (MSR[HV] = 0) runs in a
//! partition whose real addresses map to a non-identity host block, issues
//! `sc 1` hypercalls that trap to the hypervisor, and faults when it touches
//! memory outside its partition; a guest that floods its console leaves the
//! hypervisor's heap as it was. `guest-hcall-fault`: a fault inside the
//! hypervisor's own hypercall handler is reported as the hypervisor's.

use super::Checks;
use crate::guest::console::GuestConsole;
use crate::guest::memory::GuestRam;
use crate::guest::{Guest, GuestExit, GuestRegs, TrapAction, TrapHandler};
use crate::{heap, println};
use alloc::format;
use alloc::string::String;
use pnv_iommu::papr::HStatus;
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
use crate::guest::pseries::opcode::H_PUT_TERM_CHAR;

/// Time limit of the spinning guest: 0.1 s of QEMU's 512 MHz timebase.
const SPIN_LIMIT: u64 = 51_200_000;
/// pnv-iommu's private hypercall on which the test handler itself faults
/// (the `guest-hcall-fault` scenario).
const H_PNV_TEST_FAULT: u64 = 0xf3f1;
/// Hypercalls of 16 empty lines the flood run makes: 4.8M lines, more than
/// an unbounded line store survives in the 224 MiB heap (24 bytes a line,
/// doubled on growth).
const FLOOD_CALLS: u64 = 300_000;
/// Growth of the heap between the guest's first hypercall and its exit that
/// the flood run tolerates (the console keeps nothing: expect 0).
const FLOOD_HEAP_SLACK: usize = 4 << 10;

core::arch::global_asm!(
    r#"
.section .rodata.guest_smoke, "a"
.balign 4
.globl guest_smoke_start
guest_smoke_start:
    li 3, 0x58            /* H_PUT_TERM_CHAR "hi\n" */
    li 4, 0
    li 5, 3
    lis 6, 0x6869
    ori 6, 6, 0x0a00
    sldi 6, 6, 32
    sc 1
    cmpdi 29, 0           /* r29 != 0: r29 calls of 16 newlines, then "end\n" */
    beq 3f
    lis 6, 0x0a0a
    ori 6, 6, 0x0a0a
    sldi 7, 6, 32
    or 6, 6, 7
    mr 7, 6
    mtctr 29
4:  li 3, 0x58
    li 4, 0
    li 5, 16
    sc 1
    bdnz 4b
    li 3, 0x58
    li 4, 0
    li 5, 4
    lis 6, 0x656e
    ori 6, 6, 0x640a
    sldi 6, 6, 32
    sc 1
3:  cmpdi 27, 0           /* r27 != 0: an illegal instruction (0xe40) */
    beq 8f
    .long 0
8:  cmpdi 28, 0           /* r28 != 0: spin forever (time limit test) */
    beq 6f
7:  b 7b
6:  li 9, 0x2000          /* marker at guest real 0x2000 */
    lis 10, 0x5a5a
    sldi 10, 10, 32
    oris 10, 10, 0x1234
    ori 10, 10, 0x5678
    std 10, 0(9)
    cmpdi 30, 0           /* r30 != 0: the hypercall whose handler faults */
    beq 5f
    li 3, 0
    ori 3, 3, 0xf3f1
    sc 1
5:  cmpdi 31, 0           /* r31 != 0: touch memory outside the partition */
    beq 1f
    ld 11, 0(31)
1:  li 3, 0
    ori 3, 3, 0xf3f0      /* H_PNV_GUEST_EXIT 42 */
    li 4, 42
    sc 1
2:  b 2b
.globl guest_smoke_end
guest_smoke_end:

/* The guest's own program-interrupt vector (copied to guest real 0x700):
   exits with 43 + SRR1[44] (the illegal-instruction bit). */
.balign 4
.globl guest_program_vector_start
guest_program_vector_start:
    mfspr 9, 27
    rldicl 4, 9, 45, 63
    addi 4, 4, 43
    li 3, 0
    ori 3, 3, 0xf3f0      /* H_PNV_GUEST_EXIT */
    sc 1
.globl guest_program_vector_end
guest_program_vector_end:
"#
);

unsafe extern "C" {
    static guest_smoke_start: u8;
    static guest_smoke_end: u8;
    static guest_program_vector_start: u8;
    static guest_program_vector_end: u8;
}

/// Guest real address of the program-interrupt vector.
const PROGRAM_VECTOR: u64 = 0x700;

/// Counts the guest's console lines by kind; keeps no line.
#[derive(Default)]
struct LineCounts {
    hi: u64,
    end: u64,
    empty: u64,
    other: u64,
}

impl LineCounts {
    fn line(&mut self, line: &str) {
        let n = match line {
            "hi" => &mut self.hi,
            "end" => &mut self.end,
            "" => &mut self.empty,
            _ => &mut self.other,
        };
        *n += 1;
    }
}

/// What the guest asked for.
struct SmokeHandler {
    console: GuestConsole,
    lines: LineCounts,
    calls: u64,
    /// Heap in use at the first hypercall and at the exit hypercall.
    heap_used: (usize, usize),
}

impl TrapHandler for SmokeHandler {
    fn hypercall(&mut self, regs: &mut GuestRegs) -> TrapAction {
        self.calls += 1;
        if self.calls == 1 {
            self.heap_used.0 = heap::used();
        }
        match regs.gpr[3] {
            H_PUT_TERM_CHAR => {
                let lines = &mut self.lines;
                regs.gpr[3] = self.console.put_term_char(regs, &mut |l| lines.line(l));
                TrapAction::Resume
            }
            H_PNV_GUEST_EXIT => {
                self.heap_used.1 = heap::used();
                TrapAction::Exit(regs.gpr[4])
            }
            H_PNV_TEST_FAULT => {
                // SAFETY: `trap` raises a program interrupt in hypervisor
                // state; the exception path reports it as the hypervisor's
                // failure and ends the run, so control never comes back.
                unsafe { core::arch::asm!("trap", options(nostack)) };
                TrapAction::Exit(1)
            }
            _ => {
                regs.gpr[3] = HStatus::Function.to_reg();
                TrapAction::Resume
            }
        }
    }
}

/// The guest's RAM: the start of the guest block (heap.rs's memory map),
/// which only the guest scenarios use, one guest at a time.
fn guest_ram() -> GuestRam {
    let block = heap::guest_block();
    debug_assert_eq!(block.base(), GUEST_HOST_BASE);
    GuestRam::new(
        block
            .sub(0, GUEST_RAM)
            .expect("the guest block holds the guest's RAM"),
    )
}

fn load_program(ram: &GuestRam) -> Result<(), String> {
    // SAFETY: each pair of symbols delimits a blob in .rodata defined above,
    // which lives as long as the firmware.
    let (program, vector) = unsafe {
        let start = core::ptr::addr_of!(guest_smoke_start);
        let end = core::ptr::addr_of!(guest_smoke_end);
        let v_start = core::ptr::addr_of!(guest_program_vector_start);
        let v_end = core::ptr::addr_of!(guest_program_vector_end);
        (
            core::slice::from_raw_parts(start, end as usize - start as usize),
            core::slice::from_raw_parts(v_start, v_end as usize - v_start as usize),
        )
    };
    if GUEST_ENTRY + program.len() as u64 <= PROGRAM_VECTOR
        && ram.fill(0, GUEST_RAM, 0)
        && ram.write_bytes(GUEST_ENTRY, program)
        && ram.write_bytes(PROGRAM_VECTOR, vector)
    {
        Ok(())
    } else {
        Err("guest program does not fit".into())
    }
}

/// The hypervisor's own word at `MARKER_ADDR` (inside its image, below
/// 16 MiB): the address a guest store would reach if its real addresses
/// were not translated.
fn identity_marker() -> u64 {
    heap::image_read_only(MARKER_ADDR, 8)
        .expect("MARKER_ADDR lies in the image")
        .read_be64(0)
}

/// How one run of the program is set up (its r29, r30, r31).
#[derive(Default)]
struct Run {
    illegal_instruction: bool,
    spin_forever: bool,
    flood_calls: u64,
    faulting_hcall: bool,
    outside: u64,
}

fn run_once(how: Run) -> Result<(GuestExit, SmokeHandler), String> {
    let ram = guest_ram();
    load_program(&ram)?;
    let mut guest = Guest::new(1, GUEST_ENTRY).map_err(|e| format!("{:?}", e))?;
    guest
        .map(0, GUEST_HOST_BASE, GUEST_RAM)
        .map_err(|e| format!("{:?}", e))?;
    let regs = guest.regs_mut();
    regs.gpr[27] = how.illegal_instruction as u64;
    regs.gpr[28] = how.spin_forever as u64;
    regs.gpr[29] = how.flood_calls;
    regs.gpr[30] = how.faulting_hcall as u64;
    regs.gpr[31] = how.outside;
    if how.spin_forever {
        guest.set_time_limit(SPIN_LIMIT);
    }
    let mut handler = SmokeHandler {
        console: GuestConsole::new(0),
        lines: LineCounts::default(),
        calls: 0,
        heap_used: (0, 0),
    };
    let exit = guest.run(&mut handler);
    Ok((exit, handler))
}

/// Runs the checks.
pub fn run(_: &Topology, checks: &mut Checks) {
    let before_identity = identity_marker();
    match run_once(Run::default()) {
        Ok((exit, handler)) => {
            checks.check(
                "guest_exit_hypercall",
                if exit == GuestExit::Exited(42) {
                    Ok(())
                } else {
                    Err(format!("{:?}", exit))
                },
            );
            let l = &handler.lines;
            checks.check(
                "guest_put_term_char_traps",
                if l.hi == 1 && l.end + l.empty + l.other == 0 && handler.calls == 2 {
                    Ok(())
                } else {
                    Err(format!(
                        "{} lines after {} calls",
                        handler.console.lines(),
                        handler.calls
                    ))
                },
            );
            let landed = guest_ram().read_be_u64(MARKER_ADDR);
            checks.check(
                "guest_memory_is_translated",
                if landed == Some(MARKER) && identity_marker() == before_identity {
                    Ok(())
                } else {
                    Err(format!(
                        "host block {:x?}, identity {:#x}",
                        landed,
                        identity_marker()
                    ))
                },
            );
        }
        Err(e) => checks.check("guest_exit_hypercall", Err(e)),
    }
    // Guest real 0x1000_0000 is outside its 4 MiB: the partition-scoped walk
    // finds no entry and the hypervisor gets a data storage interrupt.
    let outside = Run {
        outside: 0x1000_0000,
        ..Run::default()
    };
    match run_once(outside) {
        Ok((GuestExit::Fault { vector: 0xe00, .. }, _)) => {
            checks.check("guest_outside_partition_faults", Ok(()))
        }
        Ok((exit, _)) => checks.check("guest_outside_partition_faults", Err(format!("{:?}", exit))),
        Err(e) => checks.check("guest_outside_partition_faults", Err(e)),
    }
    flood(checks);
    // A guest that never traps is stopped by its time limit (the hypervisor
    // decrementer), at the loop it spins in.
    let spin = Run {
        spin_forever: true,
        ..Run::default()
    };
    let result = match run_once(spin) {
        Ok((GuestExit::OutOfTime { pc }, _)) if pc > GUEST_ENTRY && pc < GUEST_ENTRY + 0x200 => {
            Ok(())
        }
        Ok((exit, _)) => Err(format!("{:?}", exit)),
        Err(e) => Err(e),
    };
    checks.check("guest_time_limit_stops_a_spinning_guest", result);
    // An instruction the hypervisor does not emulate (0xe40 to the
    // hypervisor) becomes a program interrupt in the guest, which goes on
    // at its own vector (which exits with 44: SRR1 says illegal).
    let illegal = Run {
        illegal_instruction: true,
        ..Run::default()
    };
    let result = match run_once(illegal) {
        Ok((GuestExit::Exited(44), _)) => Ok(()),
        Ok((exit, _)) => Err(format!("{:?}", exit)),
        Err(e) => Err(e),
    };
    checks.check(
        "guest_emulation_assist_reflected_as_program_interrupt",
        result,
    );
}

/// A guest that floods its console: the hypervisor keeps no line, so its
/// heap does not grow, and it still sees the line after the flood and the
/// exit.
fn flood(checks: &mut Checks) {
    let how = Run {
        flood_calls: FLOOD_CALLS,
        ..Run::default()
    };
    let result = run_once(how).and_then(|(exit, handler)| {
        let grown = handler.heap_used.1.saturating_sub(handler.heap_used.0);
        let l = &handler.lines;
        println!(
            "PNV: flood: {} lines, {} bytes, heap grew {} bytes",
            handler.console.lines(),
            handler.console.bytes(),
            grown
        );
        let ok = exit == GuestExit::Exited(42)
            && l.empty == FLOOD_CALLS * 16
            && l.hi == 1
            && l.end == 1
            && l.other == 0
            && grown <= FLOOD_HEAP_SLACK;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{:?}; lines empty {} hi {} end {} other {}; heap grew {} bytes",
                exit, l.empty, l.hi, l.end, l.other, grown
            ))
        }
    });
    checks.check("guest_console_flood_bounded", result);
}

/// The `guest-hcall-fault` scenario: the handler of a guest's hypercall
/// faults. That is the hypervisor's failure, reported as such (the run ends
/// with `hypervisor fault while serving a guest`); it must not be taken for
/// a guest fault and resume the hypervisor over its live handler frames.
pub fn hcall_fault(_: &Topology, checks: &mut Checks) {
    let how = Run {
        faulting_hcall: true,
        ..Run::default()
    };
    let result = match run_once(how) {
        Ok((exit, _)) => Err(format!(
            "the hypervisor's own fault ended only the guest: {:?}",
            exit
        )),
        Err(e) => Err(e),
    };
    checks.check("guest_hcall_fault_is_the_hypervisors", result);
}
