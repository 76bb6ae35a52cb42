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

/// One board: a firmware under `boards/` and how QEMU runs it.
pub struct Board {
    /// Name used on the command line (and, for a Rust board, the cargo
    /// package name).
    pub name: &'static str,
    /// How it is built.
    pub kind: Kind,
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
        kind: Kind::Rust,
        default_scenario: "boot",
        machine: "powernv9",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
    Board {
        name: "papr-guest",
        kind: Kind::Rust,
        default_scenario: "boot",
        machine: "pseries",
        qemu: "qemu-system-ppc64",
        guest: true,
    },
    Board {
        name: "c-firmware",
        kind: Kind::C,
        default_scenario: "dma",
        machine: "powernv9",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
];

/// Looks a board up by name; the error lists the known boards.
pub fn find(name: &str) -> Result<&'static Board, String> {
    BOARDS.iter().find(|b| b.name == name).ok_or_else(|| {
        let names: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board `{name}`; boards: {}", names.join(", "))
    })
}
