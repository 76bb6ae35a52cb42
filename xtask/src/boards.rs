//! The boards xtask knows: one firmware crate and QEMU machine each.

/// One board: a firmware crate under `boards/` and how QEMU runs it.
pub struct Board {
    /// Name used on the command line and as the cargo package name.
    pub name: &'static str,
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
        machine: "powernv9",
        qemu: "qemu-system-ppc64",
        guest: false,
    },
    Board {
        name: "papr-guest",
        machine: "pseries",
        qemu: "qemu-system-ppc64",
        guest: true,
    },
];

/// Looks a board up by name; the error lists the known boards.
pub fn find(name: &str) -> Result<&'static Board, String> {
    BOARDS.iter().find(|b| b.name == name).ok_or_else(|| {
        let names: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board `{name}`; boards: {}", names.join(", "))
    })
}
