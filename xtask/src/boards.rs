//! The boards xtask knows: one firmware (a Rust crate or a C program under
//! `boards/`) and QEMU machine each.

/// How a board's firmware is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A cargo package of the workspace, built for the firmware target.
    Rust,
    /// C and assembly sources in `boards/<name>/` (`*.c`, `*.S`), compiled
    /// with clang and linked by rust-lld against the bare-metal build of
    /// `libpnv_iommu_capi.a` (see `image::build_c`).
    C,
}

/// The CPU a firmware is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpu {
    /// `.cargo/config.toml`'s `target-cpu` (pwr9; runs on POWER9 and POWER10).
    Default,
    /// pwr8: no POWER9-only instruction may reach a POWER8.
    Power8,
}

/// One board: a firmware under `boards/` and how QEMU runs it.
pub struct Board {
    /// Name used on the command line.
    pub name: &'static str,
    /// For a Rust board, the cargo package (one firmware serves several
    /// machines: `qemu-powernv9` is the PowerNV firmware for POWER8, 9 and 10).
    pub package: &'static str,
    /// How it is built.
    pub kind: Kind,
    /// CPU it is compiled for.
    pub cpu: Cpu,
    /// Scenario `cargo xtask run --board NAME` runs when none is given.
    pub default_scenario: &'static str,
    /// QEMU machine type.
    pub machine: &'static str,
    /// QEMU system emulator.
    pub qemu: &'static str,
    /// A guest program (PAPR partition), not a PowerNV firmware: it runs as
    /// QEMU pseries' `-bios`, or as the guest of a firmware board.
    pub guest: bool,
}

/// The default board.
pub const DEFAULT: &str = "qemu-powernv9";

/// Every board.
pub const BOARDS: &[Board] = &[
    Board {
        name: "qemu-powernv9",
        package: "qemu-powernv9",
        kind: Kind::Rust,
        cpu: Cpu::Default,
        default_scenario: "boot",
        machine: "powernv9",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
    Board {
        name: "qemu-powernv8",
        package: "qemu-powernv9",
        kind: Kind::Rust,
        cpu: Cpu::Power8,
        default_scenario: "boot",
        machine: "powernv8",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
    Board {
        name: "qemu-powernv10",
        package: "qemu-powernv9",
        kind: Kind::Rust,
        cpu: Cpu::Default,
        default_scenario: "boot",
        machine: "powernv10",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
    Board {
        name: "papr-guest",
        package: "papr-guest",
        kind: Kind::Rust,
        cpu: Cpu::Default,
        default_scenario: "boot",
        machine: "pseries",
        qemu: "qemu-system-ppc64",
        guest: true,
    },
    Board {
        name: "c-firmware",
        package: "c-firmware",
        kind: Kind::C,
        cpu: Cpu::Default,
        default_scenario: "dma",
        machine: "powernv9",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
];

/// The firmware board of QEMU machine `machine` (`powernv8`, `powernv9`,
/// `powernv10`); the error lists the known machines.
pub fn for_machine(machine: &str) -> Result<&'static Board, String> {
    let firmware = |b: &&Board| !b.guest && b.kind == Kind::Rust;
    BOARDS
        .iter()
        .filter(firmware)
        .find(|b| b.machine == machine)
        .ok_or_else(|| {
            let names: Vec<&str> = BOARDS.iter().filter(firmware).map(|b| b.machine).collect();
            format!(
                "unknown machine `{machine}`; machines: {}",
                names.join(", ")
            )
        })
}

/// Looks a board up by name; the error lists the known boards.
pub fn find(name: &str) -> Result<&'static Board, String> {
    BOARDS.iter().find(|b| b.name == name).ok_or_else(|| {
        let names: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board `{name}`; boards: {}", names.join(", "))
    })
}
