//! The firmware scenarios: what each needs from QEMU (devices, a guest image)
//! and what it must end with. `cargo xtask run --scenario NAME` adds a
//! scenario's devices by itself; `cargo xtask test` runs them all.

use crate::{boards, image};

/// Host physical address where QEMU's loader puts a guest image (the
/// firmware maps it at guest real 0 of its partition).
pub const GUEST_LOAD_ADDR: u64 = 0x3000_0000;

/// What a run must end with.
pub enum Expect {
    /// `PNV-RESULT: PASS`, with at least this many `TEST ... ok` lines.
    Pass {
        /// Fewest passing checks.
        min_checks: usize,
    },
    /// `PNV-RESULT: FAIL` whose reason contains this text.
    Fail {
        /// Text the failure reason must contain.
        reason: &'static str,
    },
    /// Judged elsewhere (the conformance suite judges `papr-guest`).
    Elsewhere,
}

/// What QEMU's loader puts at [`GUEST_LOAD_ADDR`] for a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestImage {
    /// Nothing.
    None,
    /// The flat image of a guest board (e.g. `papr-guest`).
    Board(&'static str),
    /// A console-only Debian Linux guest: kernel, initramfs and command
    /// line in one bundle (guest_bundle.rs); QEMU gets 2 GiB of RAM.
    LinuxConsole,
    /// A Debian Linux guest whose /init checks an NVMe disk, which QEMU
    /// puts on `pcie.0` (the hypervisor passes it through); the text is
    /// added to the kernel command line.
    LinuxNvme(&'static str),
}

/// One scenario of a firmware board.
pub struct Scenario {
    /// Board that runs it.
    pub board: &'static str,
    /// Scenario name (the firmware's boot argument).
    pub name: &'static str,
    /// QEMU device arguments it needs.
    pub devices: &'static [&'static str],
    /// The guest image QEMU loads at [`GUEST_LOAD_ADDR`], if any.
    pub guest: GuestImage,
    /// How `cargo xtask test` judges it.
    pub expect: Expect,
}

const EDU_PHB0: &[&str] = &[
    "-device",
    "edu,bus=pcie.0,addr=0x0,dma_mask=0xffffffffffffffff",
];
const EDU_PHB3: &[&str] = &[
    "-device",
    "edu,bus=pcie.3,addr=0x0,dma_mask=0xffffffffffffffff",
];

/// Every scenario.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        board: "qemu-powernv9",
        name: "boot",
        devices: &[],
        guest: GuestImage::None,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "dma-phb0",
        devices: EDU_PHB0,
        guest: GuestImage::None,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "dma-phb3",
        devices: EDU_PHB3,
        guest: GuestImage::None,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "guest",
        devices: &[],
        guest: GuestImage::None,
        expect: Expect::Pass { min_checks: 7 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "guest-hcall-fault",
        devices: &[],
        guest: GuestImage::None,
        expect: Expect::Fail {
            reason: "hypervisor fault while serving a guest: exception 0x700 program",
        },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "linux-guest",
        devices: &[],
        guest: GuestImage::LinuxConsole,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "linux-guest-no-initrd",
        devices: &[],
        guest: GuestImage::LinuxConsole,
        expect: Expect::Pass { min_checks: 1 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "linux-nvme",
        devices: &[],
        guest: GuestImage::LinuxNvme(""),
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "linux-nvme-noddw",
        devices: &[],
        guest: GuestImage::LinuxNvme("disable_ddw"),
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "linux-nvme-single-tce",
        devices: &[],
        guest: GuestImage::LinuxNvme("disable_ddw multitce=off"),
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "linux-nvme-wrong-pages",
        devices: &[],
        guest: GuestImage::LinuxNvme("disable_ddw multitce=off"),
        expect: Expect::Pass { min_checks: 2 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "papr-guest",
        devices: EDU_PHB0,
        guest: GuestImage::Board("papr-guest"),
        expect: Expect::Elsewhere,
    },
    Scenario {
        board: "c-firmware",
        name: "dma",
        devices: EDU_PHB0,
        guest: GuestImage::None,
        expect: Expect::Pass { min_checks: 19 },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "trap",
        devices: &[],
        guest: GuestImage::None,
        expect: Expect::Fail {
            reason: "exception 0x700 program",
        },
    },
    Scenario {
        board: "qemu-powernv9",
        name: "illegal-instruction",
        devices: &[],
        guest: GuestImage::None,
        expect: Expect::Fail {
            reason: "exception 0xe40 hypervisor emulation assistance",
        },
    },
];

/// The scenario `name` of `board`, if xtask knows it.
pub fn find(board: &str, name: &str) -> Option<&'static Scenario> {
    SCENARIOS
        .iter()
        .find(|s| s.board == board && s.name == name)
}

/// Seconds a run of `s` may take: 90 for a Linux guest (issue 14's bound),
/// 60 for the others.
pub fn timeout_secs(s: &Scenario) -> u64 {
    match s.guest {
        GuestImage::LinuxConsole | GuestImage::LinuxNvme(_) => 90,
        GuestImage::None | GuestImage::Board(_) => 60,
    }
}

/// The QEMU arguments `s` needs, building its guest image first if it has one.
pub fn qemu_devices(s: &Scenario) -> Result<Vec<String>, String> {
    let mut args: Vec<String> = s.devices.iter().map(|d| d.to_string()).collect();
    let file = match s.guest {
        GuestImage::None => return Ok(args),
        GuestImage::Board(guest) => image::build(boards::find(guest)?)?.image,
        GuestImage::LinuxConsole => {
            args.extend(["-m".into(), "2G".into()]);
            crate::guest_bundle::console_only()?
        }
        GuestImage::LinuxNvme(extra) => {
            let (bundle, disk) = crate::guest_bundle::nvme(s.name, extra)?;
            args.extend([
                "-m".into(),
                "2G".into(),
                "-drive".into(),
                format!("if=none,id=d0,file={},format=raw", disk.display()),
                "-device".into(),
                "nvme,bus=pcie.0,addr=0x0,drive=d0,serial=pnv-iommu".into(),
            ]);
            bundle
        }
    };
    args.push("-device".into());
    args.push(format!(
        "loader,file={},addr={:#x},force-raw=on",
        file.display(),
        GUEST_LOAD_ADDR
    ));
    Ok(args)
}
