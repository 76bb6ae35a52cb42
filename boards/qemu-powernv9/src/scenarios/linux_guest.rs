//! The `linux-guest` scenario: Debian's ppc64el Linux boots as a guest
//! partition of this hypervisor (console only) and reaches its initramfs
//! /init, which prints its verdict and powers off through RTAS.
//!
//! `cargo xtask` hands the kernel, the initramfs and the command line over
//! as one bundle (guest/bundle.rs) that QEMU's loader puts in the staging
//! area. The hypervisor copies the parts into the partition's RAM, builds
//! the device tree (guest/linux_dt.rs) and enters the kernel the way
//! DESIGN.md §13 says: big-endian real mode at the kernel's first byte,
//! r3 = device tree, r4 = kernel base, r5 = 0 (no Open Firmware).
//!
//! Guest real memory map (512 MiB at host 1 GiB; QEMU runs with -m 2G):
//!
//! | guest real              | content                                   |
//! |-------------------------|-------------------------------------------|
//! | 0x0040_0000             | kernel image (the kernel moves itself to 0)|
//! | 0x1800_0000             | initramfs                                 |
//! | 0x1f00_0000 (4 KiB)     | RTAS stub (in the device tree reserve map)|
//! | 0x1f01_0000             | device tree                               |
//!
//! The verdict: the guest's /init printed its `PNV-RESULT: PASS` (seen in
//! the console stream as it arrives), the guest ended by RTAS power-off,
//! it ran as a radix, little-endian-interrupt partition (its
//! H_REGISTER_PROC_TBL and H_SET_MODE reached us), and the host page just
//! past its RAM is untouched.

use super::Checks;
use crate::guest::bundle::{Bundle, BundleError};
use crate::guest::linux_dt::{LinuxPci, LinuxTopology, RTAS_STUB, TIMEBASE_HZ};
use crate::guest::memory::GuestRam;
use crate::guest::pseries::{Census, PlatformDevice, Pseries, exit};
use crate::guest::{GUEST_MSR, Guest, GuestExit, GuestRegs, TrapAction, TrapHandler, vcpu};
use crate::println;
use alloc::format;
use alloc::string::String;
use pnv_iommu::topology::Topology;

/// The partition's RAM: host 1 GiB .. 1.5 GiB (heap.rs's memory map).
const HOST_BASE: u64 = crate::heap::LINUX_GUEST_RAM;
const RAM: u64 = crate::heap::LINUX_GUEST_RAM_SIZE;
/// Guest real addresses (see the table above).
const KERNEL: u64 = 0x0040_0000;
const INITRD: u64 = 0x1800_0000;
const RTAS: u64 = 0x1f00_0000;
const RTAS_SIZE: u64 = 0x1000;
const FDT: u64 = 0x1f01_0000;
/// The page a passed-through device's MSIs land in, and the page after it
/// (both reserved in the device tree; linux_nvme.rs).
pub(super) const MSI_PAGE: u64 = 0x1f00_1000;
/// Guest RAM size and its host block, for the PAPR layer's RAM map.
pub(super) const GUEST_RAM: (u64, u64) = (HOST_BASE, RAM);
const LPID: u32 = 1;
/// Longest the guest may run (timebase ticks: 10 s less than `cargo xtask`
/// waits for a Linux run in all, 80 s at 512 MHz; a console boot takes
/// 7-12 s, an NVMe run 20-30 s).
const TIME_LIMIT: u64 = (pnv_contract::LINUX_GUEST_SECS - 10) * TIMEBASE_HZ as u64;
/// Fill of the host page past the partition (isolation check).
const SENTINEL: u8 = 0xa5;

/// What the verdict needs from the console, picked out as lines arrive.
#[derive(Default)]
pub(super) struct InitVerdict {
    /// A line from the initramfs /init (`initramfs: ...`).
    pub init_reached: bool,
    /// /init printed `PNV-RESULT: PASS`.
    pub pass: bool,
    /// /init printed `PNV-RESULT: FAIL`.
    pub fail: bool,
    /// ... because the disk's sha256 did not match.
    pub sha_failed: bool,
}

impl InitVerdict {
    fn line(&mut self, line: &str) {
        if line.starts_with("initramfs: ") {
            self.init_reached = true;
        } else if line.starts_with("PNV-RESULT: PASS") {
            self.pass = true;
        } else if let Some(why) = line.strip_prefix("PNV-RESULT: FAIL") {
            self.fail = true;
            self.sha_failed |= why.trim_start().starts_with("disk sha256 mismatch");
        }
    }
}

/// The hypervisor's answer to the Linux guest.
struct LinuxHandler<'a> {
    platform: Pseries<'a>,
    verdict: InitVerdict,
    /// Interrupts other than hypercalls, by kind: reflected into the guest
    /// as program interrupts, and resumed without action.
    reflected: u64,
    resumed: u64,
}

impl TrapHandler for LinuxHandler<'_> {
    fn hypercall(&mut self, regs: &mut GuestRegs) -> TrapAction {
        let verdict = &mut self.verdict;
        self.platform.hypercall(regs, &mut |l| verdict.line(l))
    }

    fn exception(&mut self, regs: &mut GuestRegs, vector: u64) -> TrapAction {
        let pc = regs.pc;
        let action = vcpu::default_exception(regs, vector);
        if action == TrapAction::Resume && regs.pc == pc {
            self.platform.deliver(regs);
            if regs.pc != pc {
                self.resumed += 1;
                return action;
            }
        }
        match action {
            TrapAction::Resume if regs.pc != pc => {
                self.reflected += 1;
                if self.reflected <= 8 {
                    println!(
                        "PNV: guest interrupt {:#x} at {:#x} reflected as a program interrupt",
                        vector, pc
                    );
                }
            }
            TrapAction::Resume => self.resumed += 1,
            _ => println!(
                "PNV: guest interrupt {:#x} ({}) at {:#x} ends the guest: HDAR {:#x} HDSISR {:#x}",
                vector,
                pnv_rt::exception::vector_name(vector),
                pc,
                pnv_rt::spr::read(pnv_rt::spr::Spr::Hdar),
                pnv_rt::spr::read(pnv_rt::spr::Spr::Hdsisr)
            ),
        }
        action
    }
}

/// Runs the scenario.
pub fn run(topology: &Topology, checks: &mut Checks) {
    match boot_with(topology, false, None) {
        Ok(outcome) => report(checks, &outcome),
        Err(e) => checks.check("linux_guest_setup", Err(e)),
    }
}

/// The negative control `linux-guest-no-initrd`: the same boot, but the
/// hypervisor places no initramfs (and the device tree names none). Linux
/// must then stop before any /init line (it panics, unable to mount a
/// root, and calls `ibm,os-term`): the /init verdict comes from the
/// initramfs this hypervisor placed, and it can fail.
pub fn run_no_initrd(topology: &Topology, checks: &mut Checks) {
    match boot_with(topology, true, None) {
        Ok(o) => checks.check(
            "linux_guest_without_initrd_stops_before_init",
            match o.exit {
                GuestExit::Exited(exit::OS_TERM) if !o.verdict.init_reached && !o.verdict.pass => {
                    Ok(())
                }
                other => Err(format!(
                    "{:?}, /init reached {}",
                    other, o.verdict.init_reached
                )),
            },
        ),
        Err(e) => checks.check("linux_guest_setup", Err(e)),
    }
}

/// A device passed through to the guest (see linux_nvme.rs).
pub(super) struct Attached<'a> {
    /// What the device tree says about it.
    pub pci: LinuxPci,
    /// Its registers: guest real, host, size (2 MiB multiples).
    pub io: (u64, u64, u64),
    /// Its hypercalls, RTAS calls and interrupts.
    pub device: &'a mut dyn PlatformDevice,
}

/// How a Linux guest run ended, for the scenario's checks.
pub(super) struct Outcome {
    pub exit: GuestExit,
    pub verdict: InitVerdict,
    pub census: Census,
    pub injected: u64,
    /// The host page past the partition still holds its fill.
    pub memory_untouched: bool,
}

fn bundle_error(e: BundleError) -> String {
    format!(
        "bundle at {:#x}: {:?} (run through `cargo xtask run --scenario linux-guest`)",
        pnv_contract::GUEST_LOAD_ADDR,
        e
    )
}

/// Places the bundle's kernel and initramfs (none if `no_initrd`), builds
/// the device tree (with `attached`'s logical PHB), runs the guest and
/// returns how it ended.
pub(super) fn boot_with(
    topology: &Topology,
    no_initrd: bool,
    attached: Option<Attached>,
) -> Result<Outcome, String> {
    let (ram, guard) =
        crate::heap::linux_guest_memory(topology.memory_bytes()).ok_or_else(|| {
            format!(
                "needs {} MiB of host RAM (QEMU -m 2G)",
                (HOST_BASE + RAM + 0x1000) >> 20
            )
        })?;
    let (ram, guard) = (GuestRam::new(ram), GuestRam::new(guard));
    guard.fill(0, 0x1000, SENTINEL);
    // The staging area: the guest block, where QEMU's loader put the bundle.
    let bundle = Bundle::at(crate::heap::guest_block()).map_err(bundle_error)?;
    let (kernel, initrd) = (
        bundle.kernel().map_err(bundle_error)?,
        bundle.initrd().map_err(bundle_error)?,
    );
    let cmdline = bundle.cmdline().map_err(bundle_error)?;
    if kernel.len() > INITRD - KERNEL || initrd.len() > RTAS - INITRD {
        return Err(format!(
            "kernel ({} bytes) or initrd ({} bytes) too large for the memory map",
            kernel.len(),
            initrd.len()
        ));
    }
    let initrd_len = if no_initrd { 0 } else { initrd.len() };
    if !(bundle.copy_to(kernel, &ram, KERNEL)
        && (no_initrd || bundle.copy_to(initrd, &ram, INITRD)))
    {
        return Err("copying the kernel and initrd into guest RAM failed".into());
    }
    let mut stub = [0u8; 4 * RTAS_STUB.len()];
    for (i, w) in RTAS_STUB.iter().enumerate() {
        stub[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    let topo = LinuxTopology {
        ram_size: RAM,
        bootargs: &cmdline,
        initrd: (INITRD, INITRD + initrd_len),
        rtas: (RTAS, RTAS_SIZE),
        reserved: attached.as_ref().map(|_| (MSI_PAGE, 0x2000)),
        pci: attached.as_ref().map(|a| a.pci),
    };
    let fdt = topo.build().map_err(|e| format!("device tree: {:?}", e))?;
    if !(ram.write_bytes(RTAS, &stub) && ram.write_bytes(FDT, &fdt)) {
        return Err("RTAS stub or device tree does not fit".into());
    }
    println!(
        "PNV: linux guest: kernel {} bytes at {:#x}, initrd {} bytes at {:#x}, device tree {} bytes at {:#x}, cmdline {:?}",
        kernel.len(),
        KERNEL,
        initrd_len,
        INITRD,
        fdt.len(),
        FDT,
        cmdline
    );

    let mut guest = Guest::new(LPID, KERNEL).map_err(|e| format!("{:?}", e))?;
    guest
        .map(0, HOST_BASE, RAM)
        .map_err(|e| format!("{:?}", e))?;
    guest.set_time_limit(TIME_LIMIT);
    let mut platform = Pseries::new(ram);
    if let Some(a) = attached {
        let (g, h, size) = a.io;
        guest
            .map_io(g, h, size)
            .map_err(|e| format!("device registers: {:?}", e))?;
        platform.device = Some(a.device);
    }
    let regs = guest.regs_mut();
    regs.msr = GUEST_MSR; // big-endian real mode
    regs.gpr[3] = FDT;
    regs.gpr[4] = KERNEL;
    regs.gpr[5] = 0;
    let mut handler = LinuxHandler {
        platform,
        verdict: InitVerdict::default(),
        reflected: 0,
        resumed: 0,
    };
    let start = pnv_rt::spr::timebase();
    let exit_state = guest.run(&mut handler);
    let ms = (pnv_rt::spr::timebase() - start) / (TIMEBASE_HZ as u64 / 1000);
    println!(
        "PNV: linux guest ended {:?} after {} ms; console {} lines; interrupts reflected {}, resumed {}",
        exit_state,
        ms,
        handler.platform.console.lines(),
        handler.reflected,
        handler.resumed
    );
    handler.platform.census.print();
    Ok(Outcome {
        exit: exit_state,
        verdict: handler.verdict,
        census: core::mem::take(&mut handler.platform.census),
        injected: handler.platform.injected,
        memory_untouched: (0..0x1000).all(|i| guard.read_u8(i) == Some(SENTINEL)),
    })
}

/// The checks of a console boot: /init reached and passed, power-off, a
/// radix LE partition, isolation.
pub(super) fn report(checks: &mut Checks, o: &Outcome) {
    let v = &o.verdict;
    checks.check(
        "linux_guest_reached_init",
        if v.init_reached && v.pass && !v.fail {
            Ok(())
        } else {
            Err(format!(
                "/init reached {}, its verdict pass {} fail {}",
                v.init_reached, v.pass, v.fail
            ))
        },
    );
    checks.check(
        "linux_guest_powered_off",
        match o.exit {
            GuestExit::Exited(exit::POWER_OFF) => Ok(()),
            GuestExit::Exited(exit::OS_TERM) => Err("the guest called ibm,os-term (panic)".into()),
            other => Err(format!("{:?}", other)),
        },
    );
    let c = &o.census;
    checks.check(
        "linux_guest_radix_le_partition",
        if c.proc_tbl >= 1 && c.set_mode_le >= 1 {
            Ok(())
        } else {
            Err(format!("{:?}", c))
        },
    );
    checks.check(
        "linux_guest_host_memory_untouched",
        if o.memory_untouched {
            Ok(())
        } else {
            Err(format!("host page {:#x} changed", HOST_BASE + RAM))
        },
    );
}
