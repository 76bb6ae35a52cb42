//! `cargo xtask`: the host-side runner of pnv-iommu.
//!
//! Builds a board's firmware, turns the ELF into the raw image QEMU loads at
//! physical 0, runs it under QEMU and reads the verdict from the console;
//! runs every test (host and QEMU); runs the benchmarks. It installs what it
//! needs (the firmware target; QEMU and clang when running as root).

mod bench;
mod boards;
mod conformance;
pub mod debian;
mod fpcheck;
mod fuzz;
mod guest_bundle;
mod image;
pub mod initramfs;
mod linux;
mod linux_cases;
mod qemu;
mod scenarios;
mod setup;
mod skiboot;
mod test;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, run and test the pnv-iommu firmware"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a board's firmware and write its raw image.
    Build {
        /// Board to build.
        #[arg(long, default_value = boards::DEFAULT)]
        board: String,
    },
    /// Build and boot a board under QEMU, streaming the console.
    ///
    /// Exits 0 when the firmware reports success, non-zero on a reported
    /// failure, an exception, a QEMU error or a timeout.
    Run {
        /// Board to run.
        #[arg(long, default_value = boards::DEFAULT)]
        board: String,
        /// QEMU machine to run (`powernv8`, `powernv9`, `powernv10`): runs
        /// the firmware board of that machine instead of `--board`.
        #[arg(long)]
        machine: Option<String>,
        /// Chips of the QEMU machine (1 or 2); `2` adds the two-chip
        /// machine arguments (`-smp 2,sockets=2,... -m 2G`) unless the
        /// scenario already asks for its own.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=2))]
        chips: Option<u32>,
        /// Scenario the firmware runs (default: the board's, `boot` for
        /// qemu-powernv9, `dma` for c-firmware). The QEMU machine arguments,
        /// devices (and guest image) a known scenario needs are added
        /// automatically.
        #[arg(long)]
        scenario: Option<String>,
        /// Seconds to wait for the verdict (default: the scenario's, 60, or
        /// 90 for a Linux guest).
        #[arg(long)]
        timeout: Option<u64>,
        /// Start QEMU halted with a gdb server on :1234 and print the gdb command.
        #[arg(long)]
        gdb: bool,
        /// Extra QEMU arguments (after `--`).
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Boot a stock Debian ppc64el kernel on skiboot under QEMU powernv9
    /// and check its disk DMA from the initramfs.
    Linux {
        /// The disk's PCI device.
        #[arg(long, value_enum, default_value = "nvme")]
        device: linux::Device,
        /// Let Linux use the 64-bit bypass window (the kernel's default).
        #[arg(long, overrides_with = "nobypass")]
        bypass: bool,
        /// Boot with `iommu=nobypass` (the default here).
        #[arg(long, overrides_with = "bypass")]
        nobypass: bool,
        /// Seconds to wait for the verdict.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Run the named Linux cases of `cargo xtask test` (every device
        /// and mode, remove+rescan, the negative control) instead of one
        /// boot.
        #[arg(long, conflicts_with_all = ["device", "bypass", "nobypass", "qemu_args"])]
        cases: bool,
        /// With `--cases`: run only the named case(s).
        #[arg(long = "case", requires = "cases")]
        only: Vec<String>,
        /// Extra QEMU arguments (after `--`).
        #[arg(last = true)]
        qemu_args: Vec<String>,
    },
    /// Run every test: host tests of every crate, then every QEMU scenario.
    Test,
    /// Run the benchmarks and write docs/PERFORMANCE.md.
    Bench,
    /// Run the deep fuzz driver (PAPR calls, DDW, pre-registration, dirty
    /// log, host operations beside them) with overflow checks on; prints
    /// calls/s, the share that changed state, peak valid TCEs and any
    /// failure with its seed.
    Fuzz {
        /// Calls to run.
        #[arg(long, default_value_t = fuzz::TEST_CALLS)]
        calls: u64,
        /// First episode seed (default: from the clock, printed).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run the papr-guest hypercall conformance suite on PAPR hypervisors
    /// and write docs/CONFORMANCE.md.
    Conformance {
        /// Hypervisor(s) to judge.
        #[arg(long, value_enum, default_value = "all")]
        target: conformance::Target,
    },
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { board } => boards::find(&board).and_then(|b| {
            setup::ensure_target()?;
            let fw = image::build(b)?;
            println!("{}", fw.image.display());
            Ok(true)
        }),
        Command::Run {
            board,
            machine,
            chips,
            scenario,
            timeout,
            gdb,
            mut qemu_args,
        } => match machine {
            Some(m) => boards::for_machine(&m),
            None => boards::find(&board),
        }
        .and_then(|b| {
            setup::ensure_all()?;
            let scenario = scenario.unwrap_or_else(|| b.default_scenario.to_string());
            let own_machine_args =
                scenarios::find(b.name, &scenario).is_some_and(|s| !s.machine_args.is_empty());
            if chips == Some(2) && !own_machine_args {
                let two: Vec<String> = pnv_contract::TWO_CHIPS
                    .iter()
                    .map(|a| a.to_string())
                    .collect();
                qemu_args.splice(0..0, two);
            }
            let opts = qemu::RunOptions {
                timeout_secs: timeout.unwrap_or_else(|| {
                    scenarios::find(b.name, &scenario)
                        .map_or(pnv_contract::SCENARIO_SECS, |s| s.timeout_secs)
                }),
                gdb,
                echo: true,
                extra: qemu_args,
            };
            let outcome = scenarios::run(b, &scenario, &opts)?;
            println!("xtask: {}", outcome.verdict);
            Ok(outcome.verdict.passed())
        }),
        Command::Linux {
            device,
            bypass,
            nobypass: _,
            timeout,
            cases,
            only,
            qemu_args,
        } => setup::ensure_qemu("qemu-system-ppc64").and_then(|()| {
            if cases {
                return linux_cases::run_standalone(&only);
            }
            let fw = skiboot::build(skiboot::Variant::Normal)?;
            let run = linux::LinuxRun {
                name: "cli".into(),
                device,
                bypass,
                firmware: Some(fw.lid),
                init: linux_cases::skiboot_report,
                qemu_args,
                timeout_secs: timeout,
                echo: true,
            };
            let outcome = linux::boot(&run)?;
            println!("xtask: {}", outcome.verdict);
            Ok(outcome.verdict.passed())
        }),
        Command::Test => test::run_all(),
        Command::Bench => bench::run(),
        Command::Fuzz { calls, seed } => {
            fuzz::run(calls, seed.unwrap_or_else(fuzz::fresh_seed)).map(|r| r.passed)
        }
        Command::Conformance { target } => conformance::command(target),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::from(2)
        }
    }
}
