//! The firmware scenarios and the one pipeline that runs a board: build →
//! boot arguments → QEMU arguments (the scenario's machine arguments,
//! devices and guest image) → run.
//!
//! The scenario table itself ([`pnv_contract::SCENARIOS`]: name, board,
//! machine arguments, devices, guest image, expected verdict) is shared
//! with the firmware, which maps each scenario to its code; adding a
//! scenario touches that table (and the board's implementation) only.
//! `cargo xtask run --scenario NAME` adds what a scenario needs by itself;
//! `cargo xtask test` runs them all.

use crate::boards::{self, Board};
use crate::image;
use crate::qemu::{self, Outcome, RunOptions};
pub use pnv_contract::{Expect, GUEST_LOAD_ADDR, GuestImage, SCENARIOS, Scenario, find};

/// The QEMU arguments `s` needs (machine arguments, devices, the guest
/// image loader, a Linux NVMe run's disk), building its guest image first
/// if it has one.
pub fn qemu_args(s: &Scenario) -> Result<Vec<String>, String> {
    let mut args: Vec<String> = s
        .machine_args
        .iter()
        .chain(s.devices)
        .map(|d| d.to_string())
        .collect();
    let file = match s.guest {
        GuestImage::None => return Ok(args),
        GuestImage::Board(guest) => image::build(boards::find(guest)?)?.image,
        GuestImage::LinuxConsole => crate::guest_bundle::console_only()?,
        GuestImage::LinuxNvme { cmdline } => {
            let (bundle, disk) = crate::guest_bundle::nvme(s.name, cmdline)?;
            args.push("-drive".into());
            args.push(format!(
                "if=none,id={},file={},format=raw",
                pnv_contract::NVME_DRIVE_ID,
                disk.display()
            ));
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

/// Builds `board`, writes `scenario` into its boot arguments, adds what
/// the scenario needs from QEMU (nothing for a name the table lacks: the
/// firmware then reports it unknown) and runs it.
pub fn run(board: &Board, scenario: &str, opts: &RunOptions) -> Result<Outcome, String> {
    let fw = image::build(board)?;
    let img = image::with_args(&fw, scenario)?;
    let args = match find(board.name, scenario) {
        Some(s) => qemu_args(s)?,
        None => Vec::new(),
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    qemu::run(board, &fw, &img, &args, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_names_a_known_firmware_board() {
        for s in SCENARIOS {
            let b = boards::find(s.board).unwrap();
            assert!(!b.guest, "{} runs on a guest board", s.name);
            if let GuestImage::Board(g) = s.guest {
                assert!(boards::find(g).unwrap().guest, "{g} is not a guest image");
            }
        }
        for b in boards::BOARDS.iter().filter(|b| !b.guest) {
            assert!(
                find(b.name, b.default_scenario).is_some(),
                "{}'s default scenario is not in the table",
                b.name
            );
        }
    }

    #[test]
    fn a_two_chip_scenario_asks_qemu_for_two_sockets() {
        let s = find("qemu-powernv9", "dma-chip1-phb0").unwrap();
        let args = qemu_args(s).unwrap();
        assert_eq!(
            args,
            [
                "-smp",
                "2,sockets=2,cores=1,threads=1",
                "-m",
                "2G",
                "-device",
                "edu,bus=pcie.6,addr=0x0,dma_mask=0xffffffffffffffff"
            ]
        );
    }
}
