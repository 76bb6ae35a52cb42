//! `cargo xtask fuzz`: builds the deep fuzz driver (`fuzz/`, crate
//! `pnv-fuzz`) with the `fuzz` profile (optimised, overflow checks and
//! debug assertions on) and runs it, streaming its report.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Calls `cargo xtask test` runs.
pub const TEST_CALLS: u64 = 1_000_000;
/// Seed `cargo xtask test` uses (a run that fails there is reproducible).
pub const TEST_SEED: u64 = 1;

/// What a run reported.
pub struct Report {
    /// The driver exited 0 (no failure).
    pub passed: bool,
    /// Its summary line.
    pub summary: String,
}

/// Builds and runs the driver for `calls` calls from `seed`.
pub fn run(calls: u64, seed: u64) -> Result<Report, String> {
    let root = crate::workspace_root();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--profile", "fuzz", "-p", "pnv-fuzz"])
        .current_dir(&root)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("building pnv-fuzz failed: {status}"));
    }
    println!("xtask: fuzz {calls} calls from seed {seed}");
    let mut child = Command::new(root.join("target/fuzz/pnv-fuzz"))
        .args(["--calls", &calls.to_string(), "--seed", &seed.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut summary = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if line.starts_with("pnv-fuzz: ") && line.contains(" calls in ") {
            summary = line;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok(Report {
        passed: status.success() && !summary.is_empty(),
        summary,
    })
}

/// A seed for a run not given one: from the clock, printed so it can be
/// repeated.
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}
