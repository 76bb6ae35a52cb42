//! `cargo xtask test`: every host test, then every QEMU scenario, then one
//! summary line `N passed, N failed`.

use crate::boards;
use crate::qemu::{RunOptions, Verdict};
use crate::scenarios::{Expect, SCENARIOS};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    fn record(&mut self, name: &str, ok: bool, detail: &str) {
        if ok {
            self.passed += 1;
            println!("xtask: {name} ... ok");
        } else {
            self.failed += 1;
            println!("xtask: {name} ... FAILED {detail}");
        }
    }
}

/// One part of the test run.
type Phase = fn(&mut Tally) -> Result<(), String>;

/// Runs everything; Ok(true) when nothing failed.
pub fn run_all() -> Result<bool, String> {
    crate::setup::ensure_all()?;
    let mut tally = Tally::default();
    // A phase that cannot run (a build or runner error) is a failure of that
    // phase; the others still run and the summary line is still printed.
    let phases: [(&str, Phase); 6] = [
        ("host tests", host_tests),
        ("fuzz", fuzz_calls),
        ("qemu scenarios", qemu_cases),
        ("conformance on QEMU pseries", conformance_pseries),
        ("conformance on ours", conformance_ours),
        ("linux on skiboot", linux_on_skiboot),
    ];
    for (name, phase) in phases {
        if let Err(e) = phase(&mut tally) {
            tally.record(name, false, &format!("could not run: {e}"));
        }
    }
    runner_exit_code(&mut tally);
    power9_image_on_power8(&mut tally);
    println!();
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(tally.failed == 0)
}

/// `cargo test` of every host crate, counting its own summary lines.
fn host_tests(tally: &mut Tally) -> Result<(), String> {
    println!("xtask: host tests");
    let mut child = Command::new(env!("CARGO"))
        .args([
            "test",
            "--no-fail-fast",
            "--workspace",
            "--exclude",
            "qemu-powernv9",
            "--exclude",
            "papr-guest",
            "--features",
            "pnv-iommu/std",
        ])
        .current_dir(crate::workspace_root())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| e.to_string())?;
    let watchdog = Watchdog::start(child.id(), HOST_TEST_TIMEOUT);
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some((p, f)) = parse_test_result(&line) {
            passed += p;
            failed += f;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if watchdog.finish() {
        tally.record(
            "host tests finished in time",
            false,
            &format!("killed after {} s", HOST_TEST_TIMEOUT.as_secs()),
        );
    }
    tally.passed += passed;
    tally.failed += failed;
    if !status.success() && failed == 0 {
        // A build failure or a crashed test binary: count it.
        tally.record(
            "host tests (cargo test exit status)",
            false,
            &status.to_string(),
        );
    }
    Ok(())
}

/// The deep fuzz driver, [`crate::fuzz::TEST_CALLS`] calls.
fn fuzz_calls(tally: &mut Tally) -> Result<(), String> {
    use crate::fuzz;
    let r = fuzz::run(fuzz::TEST_CALLS, fuzz::TEST_SEED)?;
    let name = format!("fuzz {} calls (seed {})", fuzz::TEST_CALLS, fuzz::TEST_SEED);
    tally.record(&name, r.passed, &r.summary);
    Ok(())
}

/// Longest the host tests may take; a hung test must not hang CI.
const HOST_TEST_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Kills a process group that is still running at its deadline.
struct Watchdog {
    done: mpsc::Sender<()>,
    fired: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    /// Watches process group `pgid` (a child spawned with `process_group(0)`).
    fn start(pgid: u32, limit: Duration) -> Watchdog {
        let (done, finished) = mpsc::channel::<()>();
        let fired = std::thread::spawn(move || match finished.recv_timeout(limit) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // The whole group: cargo and the test binaries it started.
                let _ = Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{pgid}")])
                    .status();
                true
            }
            _ => false,
        });
        Watchdog { done, fired }
    }

    /// Stops watching; true if the deadline had passed and the group was killed.
    fn finish(self) -> bool {
        let _ = self.done.send(());
        self.fired.join().unwrap_or(false)
    }
}

/// Parses libtest's `test result: ok. 3 passed; 0 failed; ...`.
fn parse_test_result(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let number_before = |word: &str| -> Option<usize> {
        let at = rest.find(word)?;
        rest[..at]
            .trim_end()
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    Some((number_before(" passed")?, number_before(" failed")?))
}

fn qemu_cases(tally: &mut Tally) -> Result<(), String> {
    for case in SCENARIOS {
        if matches!(case.expect, Expect::Elsewhere) {
            continue;
        }
        if let Err(e) = qemu_case(tally, case) {
            let name = format!("qemu {} {} verdict", case.board, case.name);
            tally.record(&name, false, &format!("could not run: {e}"));
        }
    }
    Ok(())
}

/// Builds and runs one scenario and records its checks and verdict.
fn qemu_case(tally: &mut Tally, case: &crate::scenarios::Scenario) -> Result<(), String> {
    let board = boards::find(case.board)?;
    let opts = RunOptions {
        timeout_secs: case.timeout_secs,
        gdb: false,
        echo: false,
        extra: vec![],
    };
    println!("xtask: qemu {} scenario {}", case.board, case.name);
    let outcome = crate::scenarios::run(board, case.name, &opts)?;
    let mut checks = 0;
    for line in &outcome.lines {
        if let Some(rest) = line.strip_prefix("TEST ") {
            let (name, result) = rest.split_once(" ... ").unwrap_or((rest, "?"));
            let ok = result == "ok";
            checks += usize::from(ok);
            tally.record(&format!("qemu {} {}", case.name, name), ok, result);
        }
    }
    let name = format!("qemu {} {} verdict", case.board, case.name);
    match (&case.expect, &outcome.verdict) {
        (Expect::Pass { min_checks }, Verdict::Pass) if checks >= *min_checks => {
            tally.record(&name, true, "")
        }
        (Expect::Fail { reason }, Verdict::Fail(why)) if why.contains(reason) => {
            tally.record(&name, true, "")
        }
        (_, v) => {
            for line in outcome.lines.iter().rev().take(20).rev() {
                println!("    | {line}");
            }
            tally.record(&name, false, &format!("({v}; {checks} checks passed)"))
        }
    }
    Ok(())
}

/// The papr-guest suite on QEMU pseries: it runs to completion and each
/// case is what QEMU 7.2 is known to do (see conformance.rs); each case
/// counts as a test.
fn conformance_pseries(tally: &mut Tally) -> Result<(), String> {
    println!("xtask: qemu pseries papr-guest conformance suite");
    let run = crate::conformance::run_pseries(false)?;
    let judged = crate::conformance::judge_qemu(&run);
    if judged.iter().any(|(_, ok, _)| !ok) {
        for line in &run.tail {
            println!("    | {line}");
        }
    }
    for (name, ok, detail) in judged {
        tally.record(&name, ok, &detail);
    }
    Ok(())
}

/// The suite as the guest of our hypervisor: every case must pass (LoPAPR),
/// and the hypervisor's own verdict (guest completed, its memory untouched
/// by the guest's isolation attempt) must be PASS.
fn conformance_ours(tally: &mut Tally) -> Result<(), String> {
    use crate::conformance::CaseVerdict;
    println!("xtask: qemu powernv9 papr-guest conformance suite (ours)");
    let run = crate::conformance::run_ours(false)?;
    let mut all_ok = true;
    for c in &run.cases {
        let ok = c.verdict == CaseVerdict::Pass;
        all_ok &= ok;
        tally.record(&format!("ours {}", c.name), ok, &format!("{c:?}"));
    }
    for name in crate::conformance::SUITE_CASES {
        if !run.cases.iter().any(|c| c.name == *name) {
            all_ok = false;
            tally.record(&format!("ours {name}"), false, "not reported");
        }
    }
    let ok = run.completed && !run.cases.is_empty() && run.verdict.passed();
    all_ok &= ok;
    tally.record(
        "ours suite completed, hypervisor verdict PASS",
        ok,
        &run.verdict_text,
    );
    if !all_ok {
        for line in &run.tail {
            println!("    | {line}");
        }
    }
    Ok(())
}

/// Debian's kernel on skiboot with pnv-iommu routed in (linux_cases.rs).
fn linux_on_skiboot(tally: &mut Tally) -> Result<(), String> {
    crate::linux_cases::run(&[], &mut |name, ok, detail| tally.record(name, ok, detail))
}

/// Negative control of the POWER8 build: the firmware built for the
/// configured CPU (pwr9) must not reach a verdict on `powernv8` (a POWER9-only
/// instruction stops it before its console is up), while the `qemu-powernv8`
/// board's pwr8 build passes its scenarios. If the pwr9 image passed, the
/// separate build would prove nothing.
fn power9_image_on_power8(tally: &mut Tally) {
    let name = "qemu-powernv9's pwr9 image does not boot on powernv8";
    let result = boards::find("qemu-powernv9").and_then(|p9| {
        let on_power8 = boards::Board {
            machine: boards::for_machine("powernv8")?.machine,
            ..*p9
        };
        let opts = RunOptions {
            timeout_secs: 15,
            gdb: false,
            echo: false,
            extra: vec![],
        };
        crate::scenarios::run(&on_power8, "boot", &opts)
    });
    match result {
        Ok(outcome) => tally.record(
            name,
            !outcome.verdict.passed(),
            &format!("{}", outcome.verdict),
        ),
        Err(e) => tally.record(name, false, &format!("could not run: {e}")),
    }
}

/// `cargo xtask run` itself must exit non-zero when the firmware takes an
/// exception, and zero when it boots.
fn runner_exit_code(tally: &mut Tally) {
    let me = std::env::current_exe().expect("own path");
    for (scenario, want_success) in [("trap", false), ("boot", true)] {
        let status = Command::new(&me)
            .args(["run", "--scenario", scenario, "--timeout", "60"])
            .stdout(Stdio::null())
            .status();
        // 1 is the firmware's failure verdict; 2 would be a runner error.
        let want = if want_success { 0 } else { 1 };
        let ok = matches!(&status, Ok(s) if s.code() == Some(want));
        tally.record(
            &format!(
                "xtask run --scenario {scenario} exits {}",
                if want_success { "0" } else { "non-zero" }
            ),
            ok,
            &format!("{status:?}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::parse_test_result;

    #[test]
    fn parses_libtest_summary() {
        assert_eq!(
            parse_test_result("test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured"),
            Some((12, 0))
        );
        assert_eq!(
            parse_test_result("test result: FAILED. 3 passed; 2 failed;"),
            Some((3, 2))
        );
        assert_eq!(parse_test_result("running 3 tests"), None);
    }

    #[test]
    fn watchdog_kills_a_hung_process_group_and_spares_a_finished_one() {
        use super::Watchdog;
        use std::os::unix::process::CommandExt;
        use std::process::Command;
        use std::time::{Duration, Instant};
        let mut hung = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let start = Instant::now();
        let dog = Watchdog::start(hung.id(), Duration::from_millis(200));
        let status = hung.wait().unwrap();
        assert!(dog.finish());
        assert!(!status.success());
        assert!(start.elapsed() < Duration::from_secs(10));

        let mut quick = Command::new("true").process_group(0).spawn().unwrap();
        let dog = Watchdog::start(quick.id(), Duration::from_secs(30));
        assert!(quick.wait().unwrap().success());
        assert!(!dog.finish());
    }
}
