//! Running a firmware image under QEMU and reading its verdict.
//!
//! QEMU 7.2's powernv machine has no exit device, so the firmware prints
//! `PNV-RESULT: PASS` or `PNV-RESULT: FAIL <why>` and the runner ends QEMU.

use crate::boards::Board;
use crate::image::{Firmware, shown};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How to run QEMU.
pub struct RunOptions {
    /// Seconds to wait for the verdict (ignored with `gdb`).
    pub timeout_secs: u64,
    /// Wait for a debugger on :1234.
    pub gdb: bool,
    /// Print the console as it arrives.
    pub echo: bool,
    /// Extra QEMU arguments from the user.
    pub extra: Vec<String>,
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The firmware reported success.
    Pass,
    /// The firmware reported failure, with its reason.
    Fail(String),
    /// No verdict within the time limit.
    Timeout(u64),
    /// QEMU exited before a verdict (its exit code and stderr).
    Exited(Option<i32>, String),
}

impl Verdict {
    /// True only for a reported success.
    pub fn passed(&self) -> bool {
        *self == Verdict::Pass
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Verdict::Pass => write!(f, "firmware reported PASS"),
            Verdict::Fail(why) => write!(f, "firmware reported FAIL: {why}"),
            Verdict::Timeout(s) => write!(f, "no verdict within {s} s (timeout)"),
            Verdict::Exited(code, err) => {
                write!(f, "QEMU exited ({code:?}) before a verdict: {err}")
            }
        }
    }
}

/// The console lines and the verdict of one run.
pub struct Outcome {
    /// Console lines, without line endings.
    pub lines: Vec<String>,
    /// How the run ended.
    pub verdict: Verdict,
}

/// Prefix of the verdict line.
const RESULT: &str = "PNV-RESULT: ";

/// The QEMU command line for `board` with `image`.
pub fn command_line(
    board: &Board,
    image: &Path,
    devices: &[&str],
    opts: &RunOptions,
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "-M".into(),
        board.machine.into(),
        "-display".into(),
        "none".into(),
        "-monitor".into(),
        "none".into(),
        "-serial".into(),
        "stdio".into(),
        "-bios".into(),
        image.display().to_string(),
    ];
    args.extend(devices.iter().map(|s| s.to_string()));
    if opts.gdb {
        args.extend(["-s".into(), "-S".into()]);
    }
    args.extend(opts.extra.iter().cloned());
    args
}

/// Boots `image` on `board` and waits for the verdict.
pub fn run(
    board: &Board,
    fw: &Firmware,
    image: &Path,
    devices: &[&str],
    opts: &RunOptions,
) -> Result<Outcome, String> {
    let args = command_line(board, image, devices, opts);
    if opts.gdb {
        println!("xtask: QEMU is halted, waiting for gdb on localhost:1234. Attach with:");
        println!(
            "    gdb-multiarch -ex 'set architecture powerpc:common64' -ex 'set endian big' \
             -ex 'target remote localhost:1234' {}",
            shown(&fw.elf)
        );
    }
    run_command(board.qemu, &args, opts)
}

/// Runs `qemu` with exactly `args` (the caller's whole command line; `opts`
/// gives the timeout, echo and gdb wait, `opts.extra` is not added) and
/// waits for the `PNV-RESULT:` verdict line, then ends QEMU.
pub fn run_command(qemu: &str, args: &[String], opts: &RunOptions) -> Result<Outcome, String> {
    if opts.echo {
        println!("xtask: {} {}", qemu, args.join(" "));
    }
    let mut child = Command::new(qemu)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {qemu}: {e}"))?;

    let (tx, rx) = mpsc::channel::<Option<String>>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if tx.send(Some(text)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let deadline = (!opts.gdb).then(|| Instant::now() + Duration::from_secs(opts.timeout_secs));
    let mut lines = Vec::new();
    let verdict = loop {
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) => left,
                None => break Verdict::Timeout(opts.timeout_secs),
            },
            None => Duration::from_secs(3600),
        };
        match rx.recv_timeout(wait) {
            Ok(Some(line)) => {
                if opts.echo {
                    println!("{line}");
                }
                // Only a line that starts with the verdict counts, so a guest's
                // echoed lines (`GUEST| PNV-RESULT: ...`) do not end the run.
                let verdict =
                    line.strip_prefix(RESULT)
                        .map(|rest| match rest.strip_prefix("FAIL") {
                            Some(why) => Verdict::Fail(why.trim().to_string()),
                            None if rest.trim() == "PASS" => Verdict::Pass,
                            None => Verdict::Fail(format!("unreadable verdict `{rest}`")),
                        });
                lines.push(line);
                if let Some(v) = verdict {
                    break v;
                }
            }
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().ok();
                let err = err_reader.join().unwrap_or_default();
                return Ok(Outcome {
                    lines,
                    verdict: Verdict::Exited(status.and_then(|s| s.code()), err.trim().to_string()),
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    Ok(Outcome { lines, verdict })
}
