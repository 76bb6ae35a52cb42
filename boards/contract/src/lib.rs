//! What `cargo xtask` (on the host) and the firmware boards (on the target)
//! agree on, in one place each:
//!
//! - [`boot_args`]: where the boot-argument block sits in an image and how
//!   it starts;
//! - [`GUEST_LOAD_ADDR`]: where QEMU's loader puts a guest image;
//! - [`SCENARIOS`]: every scenario, with the board that runs it, the QEMU
//!   machine arguments and devices it needs, and how `cargo xtask test`
//!   judges it. A board maps each [`ScenarioId`] of its own to the code that
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

/// QEMU arguments of a two-chip POWER9 machine (DESIGN §12): one thread per
/// chip; chip 1 gets memory only with at least 2 GiB.
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
    /// A guest partition: traps, translation, isolation.
    Guest,
    /// The PAPR conformance guest as a partition of our hypervisor.
    PaprGuest,
    /// An exception on purpose (program check).
    Trap,
    /// An exception on purpose (illegal instruction).
    IllegalInstruction,
    /// The C firmware's DMA through the C ABI.
    CDma,
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
    /// A guest board whose image QEMU loads at [`GUEST_LOAD_ADDR`].
    pub guest: Option<&'static str>,
    /// How `cargo xtask test` judges it.
    pub expect: Expect,
}

/// The board every `qemu-powernv9` scenario runs on.
const POWERNV9: &str = "qemu-powernv9";

/// Every scenario.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: ScenarioId::Boot,
        board: POWERNV9,
        name: "boot",
        machine_args: &[],
        devices: &[],
        guest: None,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::BootTwoChips,
        board: POWERNV9,
        name: "boot-2chip",
        machine_args: TWO_CHIPS,
        devices: &[],
        guest: None,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::DmaPhb0,
        board: POWERNV9,
        name: "dma-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: None,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaPhb3,
        board: POWERNV9,
        name: "dma-phb3",
        machine_args: &[],
        devices: edu_on!("pcie.3"),
        guest: None,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaChip1Phb0,
        board: POWERNV9,
        name: "dma-chip1-phb0",
        machine_args: TWO_CHIPS,
        // Chip 1's PHB n is bus pcie.(6 + n).
        devices: edu_on!("pcie.6"),
        guest: None,
        expect: Expect::Pass { min_checks: 8 },
    },
    Scenario {
        id: ScenarioId::DmaAttachedPhb0,
        board: POWERNV9,
        name: "dma-attached-phb0",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: None,
        expect: Expect::Pass { min_checks: 6 },
    },
    Scenario {
        id: ScenarioId::Guest,
        board: POWERNV9,
        name: "guest",
        machine_args: &[],
        devices: &[],
        guest: None,
        expect: Expect::Pass { min_checks: 4 },
    },
    Scenario {
        id: ScenarioId::PaprGuest,
        board: POWERNV9,
        name: "papr-guest",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: Some("papr-guest"),
        expect: Expect::Elsewhere,
    },
    Scenario {
        id: ScenarioId::CDma,
        board: "c-firmware",
        name: "dma",
        machine_args: &[],
        devices: edu_on!("pcie.0"),
        guest: None,
        expect: Expect::Pass { min_checks: 19 },
    },
    Scenario {
        id: ScenarioId::Trap,
        board: POWERNV9,
        name: "trap",
        machine_args: &[],
        devices: &[],
        guest: None,
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
        guest: None,
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
