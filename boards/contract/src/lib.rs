//! What `cargo xtask` (on the host) and the firmware boards (on the target)
//! agree on, in one place each:
//!
//! - [`boot_args`]: where the boot-argument block sits in an image and how
//!   it starts;
//! - [`GUEST_LOAD_ADDR`]: where QEMU's loader puts a guest image;
//! - [`linux_bundle`]: how a Linux guest's kernel, initramfs and command
//!   line reach the hypervisor;
//! - [`SCENARIOS`]: every scenario, with the board that runs it, the QEMU
//!   machine arguments, devices and guest image it needs, how long it may
//!   take and how `cargo xtask test` judges it. A board maps each [`ScenarioId`] of its own to the code that
//!   runs it (an exhaustive `match`, so a new scenario cannot be forgotten);
//!   names exist only here.
//!
//! Adding a scenario: one [`Scenario`] row here and a [`ScenarioId`]
//! variant; the compiler then asks the board for its implementation.
#![no_std]

/// Host physical address where QEMU's loader puts a guest image (the
/// firmware maps it at guest real 0 of its partition).
pub const GUEST_LOAD_ADDR: u64 = 0x3000_0000;

/// The boot-argument block at [`OFFSET`](boot_args::OFFSET) of each board's
/// image: [`MAGIC`](boot_args::MAGIC), then a NUL-terminated string that
/// `cargo xtask` writes into the raw image (QEMU's powernv accepts no
/// command line without a kernel).
///
/// A Rust board places the block with [`boot_args_block!`], whose assembly
/// spells the same three facts (assembly needs literals; the test below
/// holds them to these constants).
pub mod boot_args {
    /// Offset of the block in the image (and its load address).
    pub const OFFSET: usize = 0x20;
    /// Size of the block: 8 bytes of magic, then the string (0xd8 bytes).
    pub const SIZE: usize = 0xe0;
    /// The first 8 bytes of the block.
    pub const MAGIC: &[u8; 8] = b"PNVARGS\0";

    /// Assembly for the boot-argument block, to splice into a board's
    /// `.head` section (placed at address 0): the global symbol `boot_args`
    /// at [`OFFSET`], [`MAGIC`], then room for the string up to [`SIZE`].
    #[macro_export]
    macro_rules! boot_args_block {
        () => {
            concat!(
                "    . = 0x20\n",
                ".globl boot_args\n",
                "boot_args:\n",
                "    .ascii \"PNVARGS\\0\"\n",
                "    .space 0xd8\n",
            )
        };
    }
}

/// The bundle that hands a Linux guest's boot files to the qemu-powernv9
/// hypervisor: one file `cargo xtask` writes and QEMU's loader puts at
/// [`GUEST_LOAD_ADDR`] (the staging area), which the hypervisor checks and
/// copies into the guest's RAM. All numbers are big-endian u64, offsets
/// from the bundle's start:
///
/// | offset | field                                          |
/// |--------|------------------------------------------------|
/// | 0      | [`MAGIC`](linux_bundle::MAGIC)                 |
/// | 8      | [`VERSION`](linux_bundle::VERSION)             |
/// | 16, 24 | kernel: offset, length (the flat image of the  |
/// |        | kernel ELF's loadable segments from address 0) |
/// | 32, 40 | initrd: offset, length                         |
/// | 48, 56 | kernel command line: offset, length (UTF-8)    |
pub mod linux_bundle {
    /// First 8 bytes of a bundle.
    pub const MAGIC: [u8; 8] = *b"PNVLINUX";
    /// The format version.
    pub const VERSION: u64 = 1;
    /// Header word (8 bytes each) holding the kernel's offset; its length
    /// is the next word.
    pub const KERNEL: usize = 2;
    /// Header word holding the initrd's offset (length next).
    pub const INITRD: usize = 4;
    /// Header word holding the command line's offset (length next).
    pub const CMDLINE: usize = 6;
    /// Bytes of header before the first part.
    pub const HEADER: usize = 0x1000;
    /// Alignment of each part's offset (xtask's choice; the hypervisor
    /// accepts any offset inside the bundle).
    pub const PART_ALIGN: usize = 0x1_0000;
}

/// QEMU arguments of a two-chip machine (DESIGN §12): one thread per chip;
/// chip 1 gets memory only with at least 2 GiB (the same on powernv8, 9
/// and 10).
pub const TWO_CHIPS: &[&str] = &["-smp", "2,sockets=2,cores=1,threads=1", "-m", "2G"];

/// QEMU's `edu` device on PCI bus `$bus` (string literal), DMA to all of memory.
macro_rules! edu_on {
    ($bus:literal) => {
        &[
            "-device",
            concat!("edu,bus=", $bus, ",addr=0x0,dma_mask=0xffffffffffffffff"),
        ]
    };
}

/// QEMU machine arguments of a Linux guest scenario: the partition's RAM
/// lies at 1 GiB .. 1.5 GiB of the host (the firmware's heap.rs).
pub const LINUX_GUEST_MACHINE: &[&str] = &["-m", "2G"];

/// Seconds `cargo xtask` waits for a scenario's verdict.
pub const SCENARIO_SECS: u64 = 60;
/// Seconds `cargo xtask` waits for a Linux guest scenario's verdict (issue
/// 14's bound); the hypervisor stops the guest 10 s before.
pub const LINUX_GUEST_SECS: u64 = 90;

/// The `-drive` id of a Linux NVMe scenario's disk (a literal, for
/// `concat!`); `cargo xtask` adds the drive with the run's disk image.
macro_rules! nvme_drive_id {
    () => {
        "nvme0"
    };
}

/// The `-drive` id the NVMe device of a [`GuestImage::LinuxNvme`] scenario
/// reads; `cargo xtask` gives it the run's disk image.
pub const NVME_DRIVE_ID: &str = nvme_drive_id!();

/// QEMU's NVMe controller on PCI bus `$bus`, reading drive [`NVME_DRIVE_ID`].
macro_rules! nvme_on {
    ($bus:literal) => {
        &[
            "-device",
            concat!(
                "nvme,bus=",
                $bus,
                ",addr=0x0,drive=",
                nvme_drive_id!(),
                ",serial=pnv-iommu"
            ),
        ]
    };
}

/// What QEMU's loader puts at [`GUEST_LOAD_ADDR`] for a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestImage {
    /// Nothing.
    None,
    /// The flat image of a guest board (e.g. `papr-guest`).
    Board(&'static str),
    /// A console-only Debian Linux guest: a [`linux_bundle`] whose
    /// initramfs /init prints its verdict and powers off.
    LinuxConsole,
    /// A Debian Linux guest whose /init checks an NVMe disk (the
    /// scenario's NVMe device, passed through by the hypervisor); `cmdline`
    /// is added to the kernel command line.
    LinuxNvme {
        /// Kernel command-line words beyond the console.
        cmdline: &'static str,
    },
}

/// Every scenario, by identity (the boot argument is its [`Scenario::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioId {
    /// Start-up, topology, every PHB stack brought up.
    Boot,
    /// The same on a two-chip machine (every stack of both chips).
    BootTwoChips,
    /// DMA checks on chip 0 PHB0.
    DmaPhb0,
    /// DMA checks on chip 0 PHB3.
    DmaPhb3,
    /// DMA checks on chip 1 PHB0 of a two-chip machine.
    DmaChip1Phb0,
    /// DMA checks on PHB0 through a driver attached after another brought
    /// the PHB up.
    DmaAttachedPhb0,
    /// A guest partition: traps, translation, isolation, time limit,
    /// bounded console.
    Guest,
    /// A fault inside the hypervisor's own hypercall handler: reported as
    /// the hypervisor's failure.
    GuestHcallFault,
    /// Debian's Linux boots as a guest partition to its initramfs /init.
    LinuxGuest,
    /// Negative control: no initramfs placed, so Linux panics before /init
    /// (and the case passes only then).
    LinuxGuestNoInitrd,
    /// Linux as a guest with the host's NVMe passed through: DDW.
    LinuxNvme,
    /// The same with `disable_ddw` (the default window).
    LinuxNvmeNoDdw,
    /// The same with `disable_ddw multitce=off` (H_PUT_TCE only).
    LinuxNvmeSingleTce,
    /// Negative control: one guest TCE programmed with a wrong host page;
    /// the guest's disk check must fail.
    LinuxNvmeWrongPages,
    /// The PAPR conformance guest as a partition of our hypervisor.
    PaprGuest,
    /// An exception on purpose (program check).
    Trap,
    /// An exception on purpose (illegal instruction).
    IllegalInstruction,
    /// The C firmware's DMA through the C ABI.
    CDma,
    /// Start-up and every PHB3 brought up on a powernv8.
    BootPowernv8,
    /// DMA checks on PHB3 0 of a powernv8.
    DmaPowernv8Phb0,
    /// DMA checks on PHB3 2 of a powernv8.
    DmaPowernv8Phb2,
    /// Start-up and every PHB5 brought up on a powernv10.
    BootPowernv10,
    /// DMA checks on PHB5 0 of a powernv10.
    DmaPowernv10Phb0,
    /// DMA checks on PHB5 4 of a powernv10.
    DmaPowernv10Phb4,
    /// The PAPR conformance guest as a partition of our hypervisor, on a
    /// PHB5 of a powernv10.
    PaprGuestPowernv10,
    /// Every PHB3 of both chips of a two-chip powernv8.
    BootTwoChipsPowernv8,
    /// DMA checks on chip 1 PHB3 0 of a two-chip powernv8.
    DmaChip1Phb0Powernv8,
    /// Every PHB5 of both chips of a two-chip powernv10.
    BootTwoChipsPowernv10,
    /// DMA checks on chip 1 PHB5 0 of a two-chip powernv10.
    DmaChip1Phb0Powernv10,
    /// DMA checks on PHB3 0 of a powernv8 through an attached driver.
    DmaAttachedPhb0Powernv8,
    /// DMA checks on PHB5 0 of a powernv10 through an attached driver.
    DmaAttachedPhb0Powernv10,
    /// An exception on purpose on a powernv8 (the vectors and the LPC
    /// console report it).
    TrapPowernv8,
}

/// How `cargo xtask test` judges a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// One scenario of a firmware board.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// Its identity.
    pub id: ScenarioId,
    /// Board that runs it.
    pub board: &'static str,
    /// Scenario name (the firmware's boot argument).
    pub name: &'static str,
    /// QEMU machine arguments beyond the board's machine type (CPUs,
    /// sockets, memory).
    pub machine_args: &'static [&'static str],
    /// QEMU device arguments it needs.
    pub devices: &'static [&'static str],
    /// The guest image QEMU loads at [`GUEST_LOAD_ADDR`].
    pub guest: GuestImage,
    /// Seconds `cargo xtask` waits for its verdict.
    pub timeout_secs: u64,
    /// How `cargo xtask test` judges it.
    pub expect: Expect,
}

/// The board every `qemu-powernv9` scenario runs on.
const POWERNV9: &str = "qemu-powernv9";
/// The same firmware, built for POWER8, on `powernv8` (PHB3).
const POWERNV8: &str = "qemu-powernv8";
/// The same firmware on `powernv10` (PHB5).
const POWERNV10: &str = "qemu-powernv10";

/// Every scenario.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: ScenarioId::Boot,
        board: POWERNV9,
        name: "boot",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::BootTwoChips,
        board: POWERNV9,
        name: "boot-2chip",
        machine_args: TWO_CHIPS,
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::DmaPhb0,
        board: POWERNV9,
        name: "dma-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaPhb3,
        board: POWERNV9,
        name: "dma-phb3",
        machine_args: &[],
        devices: edu_on!("pcie.3"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaChip1Phb0,
        board: POWERNV9,
        name: "dma-chip1-phb0",
        machine_args: TWO_CHIPS,
        // Chip 1's PHB n is bus pcie.(6 + n).
        devices: edu_on!("pcie.6"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaAttachedPhb0,
        board: POWERNV9,
        name: "dma-attached-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::Guest,
        board: POWERNV9,
        name: "guest",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 7 },
    },
    Scenario {
        id: ScenarioId::GuestHcallFault,
        board: POWERNV9,
        name: "guest-hcall-fault",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Fail {
            reason: "hypervisor fault while serving a guest: exception 0x700 program",
        },
    },
    Scenario {
        id: ScenarioId::LinuxGuest,
        board: POWERNV9,
        name: "linux-guest",
        machine_args: LINUX_GUEST_MACHINE,
        devices: &[],
        guest: GuestImage::LinuxConsole,
        timeout_secs: LINUX_GUEST_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::LinuxGuestNoInitrd,
        board: POWERNV9,
        name: "linux-guest-no-initrd",
        machine_args: LINUX_GUEST_MACHINE,
        devices: &[],
        guest: GuestImage::LinuxConsole,
        timeout_secs: LINUX_GUEST_SECS,
        expect: Expect::Pass { min_checks: 1 },
    },
    Scenario {
        id: ScenarioId::LinuxNvme,
        board: POWERNV9,
        name: "linux-nvme",
        machine_args: LINUX_GUEST_MACHINE,
        devices: nvme_on!("pcie.0"),
        guest: GuestImage::LinuxNvme { cmdline: "" },
        timeout_secs: LINUX_GUEST_SECS,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::LinuxNvmeNoDdw,
        board: POWERNV9,
        name: "linux-nvme-noddw",
        machine_args: LINUX_GUEST_MACHINE,
        devices: nvme_on!("pcie.0"),
        guest: GuestImage::LinuxNvme {
            cmdline: "disable_ddw",
        },
        timeout_secs: LINUX_GUEST_SECS,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::LinuxNvmeSingleTce,
        board: POWERNV9,
        name: "linux-nvme-single-tce",
        machine_args: LINUX_GUEST_MACHINE,
        devices: nvme_on!("pcie.0"),
        guest: GuestImage::LinuxNvme {
            cmdline: "disable_ddw multitce=off",
        },
        timeout_secs: LINUX_GUEST_SECS,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::LinuxNvmeWrongPages,
        board: POWERNV9,
        name: "linux-nvme-wrong-pages",
        machine_args: LINUX_GUEST_MACHINE,
        devices: nvme_on!("pcie.0"),
        guest: GuestImage::LinuxNvme {
            cmdline: "disable_ddw multitce=off",
        },
        timeout_secs: LINUX_GUEST_SECS,
        expect: Expect::Pass { min_checks: 2 },
    },
    Scenario {
        id: ScenarioId::PaprGuest,
        board: POWERNV9,
        name: "papr-guest",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::Board("papr-guest"),
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Elsewhere,
    },
    Scenario {
        id: ScenarioId::BootPowernv8,
        board: POWERNV8,
        name: "boot",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::DmaPowernv8Phb0,
        board: POWERNV8,
        name: "dma-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaPowernv8Phb2,
        board: POWERNV8,
        name: "dma-phb2",
        machine_args: &[],
        devices: edu_on!("pcie.2"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::BootPowernv10,
        board: POWERNV10,
        name: "boot",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::DmaPowernv10Phb0,
        board: POWERNV10,
        name: "dma-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaPowernv10Phb4,
        board: POWERNV10,
        name: "dma-phb4",
        machine_args: &[],
        devices: edu_on!("pcie.4"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::PaprGuestPowernv10,
        board: POWERNV10,
        name: "papr-guest",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::Board("papr-guest"),
        timeout_secs: SCENARIO_SECS,
        // The conformance suite judges the powernv9 run case by case; here
        // the same guest on a PHB5 must pass every case it runs.
        expect: Expect::Pass { min_checks: 47 },
    },
    Scenario {
        id: ScenarioId::BootTwoChipsPowernv8,
        board: POWERNV8,
        name: "boot-2chip",
        machine_args: TWO_CHIPS,
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::DmaChip1Phb0Powernv8,
        board: POWERNV8,
        name: "dma-chip1-phb0",
        machine_args: TWO_CHIPS,
        // A POWER8 chip has 3 PHBs: chip 1's PHB n is bus pcie.(3 + n).
        devices: edu_on!("pcie.3"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::BootTwoChipsPowernv10,
        board: POWERNV10,
        name: "boot-2chip",
        machine_args: TWO_CHIPS,
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::DmaChip1Phb0Powernv10,
        board: POWERNV10,
        name: "dma-chip1-phb0",
        machine_args: TWO_CHIPS,
        // Chip 1's PHB n is bus pcie.(6 + n).
        devices: edu_on!("pcie.6"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaAttachedPhb0Powernv8,
        board: POWERNV8,
        name: "dma-attached-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::DmaAttachedPhb0Powernv10,
        board: POWERNV10,
        name: "dma-attached-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::TrapPowernv8,
        board: POWERNV8,
        name: "trap",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Fail {
            reason: "exception 0x700 program",
        },
    },
    Scenario {
        id: ScenarioId::CDma,
        board: "c-firmware",
        name: "dma",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Pass { min_checks: 19 },
    },
    Scenario {
        id: ScenarioId::Trap,
        board: POWERNV9,
        name: "trap",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Fail {
            reason: "exception 0x700 program",
        },
    },
    Scenario {
        id: ScenarioId::IllegalInstruction,
        board: POWERNV9,
        name: "illegal-instruction",
        machine_args: &[],
        devices: &[],
        guest: GuestImage::None,
        timeout_secs: SCENARIO_SECS,
        expect: Expect::Fail {
            reason: "exception 0xe40 hypervisor emulation assistance",
        },
    },
];

/// The scenario `name` of `board`, if there is one.
pub fn find(board: &str, name: &str) -> Option<&'static Scenario> {
    SCENARIOS
        .iter()
        .find(|s| s.board == board && s.name == name)
}

/// The scenarios of `board`.
pub fn of_board(board: &str) -> impl Iterator<Item = &'static Scenario> {
    SCENARIOS.iter().filter(move |s| s.board == board)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_asm_spells_the_constants() {
        let asm = boot_args_block!();
        assert_eq!(boot_args::OFFSET, 0x20);
        assert!(asm.starts_with("    . = 0x20\n"));
        assert!(asm.contains(".ascii \"PNVARGS\\0\""));
        assert_eq!(boot_args::MAGIC, b"PNVARGS\0");
        assert!(asm.contains(".space 0xd8"));
        assert_eq!(boot_args::SIZE - boot_args::MAGIC.len(), 0xd8);
    }

    #[test]
    fn every_scenario_is_named_once_per_board_and_has_its_own_id() {
        for (i, a) in SCENARIOS.iter().enumerate() {
            for b in &SCENARIOS[i + 1..] {
                assert!(
                    !(a.board == b.board && a.name == b.name),
                    "{} twice",
                    a.name
                );
                assert_ne!(a.id, b.id, "{:?} twice", a.id);
            }
            assert_eq!(find(a.board, a.name).map(|s| s.id), Some(a.id));
        }
        assert!(find("qemu-powernv9", "no-such").is_none());
        assert_eq!(of_board("c-firmware").count(), 1);
    }
}
