//! `cargo xtask conformance`: runs the `papr-guest` conformance suite on a
//! PAPR hypervisor (ours, as the guest of the powernv9 firmware; QEMU's own
//! `pseries`), parses its `CASE` lines and writes `docs/CONFORMANCE.md`.
//!
//! The guest prints, per case,
//! `CASE <name> expected=<s> observed=<s|none> verdict=<pass|fail|skip>[ detail=<text>]`
//! (our hypervisor echoes guest lines with a `GUEST| ` prefix), then
//! `SUITE done cases=...` and its verdict. On QEMU the suite's own verdict is
//! FAIL, because QEMU departs from LoPAPR; `cargo xtask test` judges that run
//! case by case against [`QEMU_7_2`], what QEMU 7.2 was measured to do.

mod document;
mod known;

pub use known::{SUITE_CASES, judge_qemu};

use crate::boards;
use crate::image;
use crate::qemu::{self, RunOptions, Verdict};
use document::{recover, render};

/// Which hypervisor(s) to judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// pnv-iommu's hypervisor: papr-guest as the guest of qemu-powernv9.
    Ours,
    /// QEMU's own PAPR implementation: papr-guest as `-bios` of `pseries`.
    QemuPseries,
    /// Both.
    All,
}

/// A case's verdict as the guest printed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseVerdict {
    /// The hypervisor did what LoPAPR says.
    Pass,
    /// It did not (or a prerequisite failed).
    Fail,
    /// Nothing to run the case on.
    Skip,
}

/// One parsed `CASE` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseLine {
    /// Case name.
    pub name: String,
    /// LoPAPR status the case expects.
    pub expected: i64,
    /// Status the hypervisor returned (`None`: the call was not made).
    pub observed: Option<i64>,
    /// The guest's verdict.
    pub verdict: CaseVerdict,
    /// Free text after `detail=`.
    pub detail: Option<String>,
}

/// Parses a console line as a `CASE` line (with or without `GUEST| `).
pub fn parse_case(line: &str) -> Option<CaseLine> {
    let line = line.strip_prefix("GUEST| ").unwrap_or(line);
    let rest = line.strip_prefix("CASE ")?;
    let (head, detail) = match rest.split_once(" detail=") {
        Some((h, d)) => (h, Some(d.to_string())),
        None => (rest, None),
    };
    let mut words = head.split_whitespace();
    let name = words.next()?.to_string();
    let (mut expected, mut observed, mut verdict) = (None, None, None);
    for w in words {
        let (key, value) = w.split_once('=')?;
        match key {
            "expected" => expected = value.parse().ok(),
            "observed" => {
                observed = match value {
                    "none" => Some(None),
                    v => Some(Some(v.parse().ok()?)),
                }
            }
            "verdict" => {
                verdict = match value {
                    "pass" => Some(CaseVerdict::Pass),
                    "fail" => Some(CaseVerdict::Fail),
                    "skip" => Some(CaseVerdict::Skip),
                    _ => None,
                }
            }
            _ => return None,
        }
    }
    Some(CaseLine {
        name,
        expected: expected?,
        observed: observed?,
        verdict: verdict?,
        detail,
    })
}

/// The result of one run of the suite on one hypervisor.
pub struct SuiteRun {
    /// Hypervisor name, as the table's column heading.
    pub hypervisor: &'static str,
    /// Every `CASE` line, in order.
    pub cases: Vec<CaseLine>,
    /// Whether the guest printed `SUITE done` (it ran to the end).
    pub completed: bool,
    /// How the run ended (for ours, the hypervisor's verdict).
    pub verdict: Verdict,
    /// The verdict as text (kept in the generated document).
    pub verdict_text: String,
    /// Recovered from the document of an earlier invocation, not run now.
    pub earlier: bool,
    /// The last console lines, for diagnosis.
    pub tail: Vec<String>,
}

impl SuiteRun {
    fn from_lines(hypervisor: &'static str, lines: &[String], verdict: Verdict) -> SuiteRun {
        let strip = |l: &String| l.strip_prefix("GUEST| ").unwrap_or(l).to_string();
        SuiteRun {
            hypervisor,
            cases: lines.iter().filter_map(|l| parse_case(l)).collect(),
            completed: lines.iter().any(|l| strip(l).starts_with("SUITE done")),
            verdict_text: verdict.to_string(),
            verdict,
            earlier: false,
            tail: lines.iter().rev().take(25).rev().cloned().collect(),
        }
    }

    /// The case named `name`, if the run reported it.
    pub fn case(&self, name: &str) -> Option<&CaseLine> {
        self.cases.iter().find(|c| c.name == name)
    }
}

/// Column heading of our hypervisor.
pub const OURS: &str = "ours";
/// Column heading of QEMU's PAPR implementation.
pub const QEMU: &str = "QEMU 7.2 pseries";

/// QEMU device for the DMA cases on pseries.
pub const PSERIES_DEVICES: &[&str] = &["-device", "edu,dma_mask=0xffffffffffffffff"];

/// Seconds either run may take (edu transfers take ~100 ms each).
const TIMEOUT_SECS: u64 = 120;

/// The guest program's board (a guest image, run by QEMU as pseries `-bios`).
fn guest_board() -> Result<&'static boards::Board, String> {
    let board = boards::find("papr-guest")?;
    if !board.guest {
        return Err("board papr-guest is not marked as a guest image".into());
    }
    Ok(board)
}

/// Runs the suite as QEMU pseries' boot firmware.
pub fn run_pseries(echo: bool) -> Result<SuiteRun, String> {
    let board = guest_board()?;
    let fw = image::build(board)?;
    let opts = RunOptions {
        timeout_secs: TIMEOUT_SECS,
        gdb: false,
        echo,
        extra: vec![],
    };
    let outcome = qemu::run(board, &fw, &fw.image, PSERIES_DEVICES, &opts)?;
    Ok(SuiteRun::from_lines(QEMU, &outcome.lines, outcome.verdict))
}

/// Runs the suite as the guest of our hypervisor: the powernv9 firmware's
/// `papr-guest` scenario, with the guest image placed at host 0x30000000
/// (guest real 0) by QEMU's loader and an edu on PHB0 passed through.
pub fn run_ours(echo: bool) -> Result<SuiteRun, String> {
    let scenario = crate::scenarios::find("qemu-powernv9", "papr-guest")
        .ok_or("the qemu-powernv9 board has no papr-guest scenario")?;
    let board = boards::find(scenario.board)?;
    let opts = RunOptions {
        timeout_secs: TIMEOUT_SECS,
        gdb: false,
        echo,
        extra: vec![],
    };
    let outcome = crate::scenarios::run(board, scenario.name, &opts)?;
    Ok(SuiteRun::from_lines(
        "ours",
        &outcome.lines,
        outcome.verdict,
    ))
}

/// `cargo xtask conformance`: runs the suite on `target`, writes
/// docs/CONFORMANCE.md, and succeeds when every judged run is as expected
/// (ours: every case passes; QEMU: every case matches [`QEMU_7_2`]).
pub fn command(target: Target) -> Result<bool, String> {
    crate::setup::ensure_all()?;
    let mut runs: Vec<SuiteRun> = Vec::new();
    let mut ok = true;
    if matches!(target, Target::Ours | Target::All) {
        println!("xtask: conformance on ours (papr-guest under qemu-powernv9)");
        let run = run_ours(false)?;
        let failed: Vec<&CaseLine> = run
            .cases
            .iter()
            .filter(|c| c.verdict != CaseVerdict::Pass)
            .collect();
        let missing: Vec<&&str> = SUITE_CASES
            .iter()
            .filter(|n| run.case(n).is_none())
            .collect();
        for c in &failed {
            println!("xtask: ours {} ... FAILED {:?}", c.name, c);
        }
        for n in &missing {
            println!("xtask: ours {n} ... not reported");
        }
        let pass = run.completed && run.verdict.passed() && failed.is_empty() && missing.is_empty();
        println!(
            "xtask: ours: {} cases, {} not passing, {} missing, {}",
            run.cases.len(),
            failed.len(),
            missing.len(),
            run.verdict
        );
        if !pass {
            for l in &run.tail {
                println!("    | {l}");
            }
        }
        ok &= pass;
        runs.push(run);
    }
    if matches!(target, Target::QemuPseries | Target::All) {
        println!("xtask: conformance on QEMU pseries (papr-guest as -bios)");
        let run = run_pseries(false)?;
        let judged = judge_qemu(&run);
        let bad: Vec<_> = judged.iter().filter(|(_, ok, _)| !ok).collect();
        for (name, _, detail) in &bad {
            println!("xtask: {name} ... FAILED {detail}");
        }
        println!(
            "xtask: QEMU pseries: {} cases, {} as known, {} not",
            run.cases.len(),
            judged.len() - bad.len(),
            bad.len()
        );
        if !bad.is_empty() {
            for l in &run.tail {
                println!("    | {l}");
            }
        }
        ok &= bad.is_empty();
        runs.push(run);
    }
    let path = crate::workspace_root().join("docs/CONFORMANCE.md");
    // A hypervisor not run now keeps the column of the last run that did,
    // recovered from the raw CASE lines the document carries.
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    for name in [OURS, QEMU] {
        if !runs.iter().any(|r| r.hypervisor == name) {
            runs.extend(recover(&previous, name));
        }
    }
    std::fs::write(&path, render(&runs, target)).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("xtask: wrote {}", image::shown(&path));
    Ok(ok)
}
#[cfg(test)]
mod tests {
    use super::known::QEMU_7_2;
    use super::*;

    #[test]
    fn parses_case_lines_with_and_without_the_guest_prefix() {
        let c = parse_case("CASE put_tce_ok expected=0 observed=0 verdict=pass").unwrap();
        assert_eq!(c.name, "put_tce_ok");
        assert_eq!(
            (c.expected, c.observed, c.verdict),
            (0, Some(0), CaseVerdict::Pass)
        );
        let c = parse_case(
            "GUEST| CASE indirect_atomic expected=0 observed=0 verdict=fail detail=4 of 4 entries written",
        )
        .unwrap();
        assert_eq!(c.verdict, CaseVerdict::Fail);
        assert_eq!(c.detail.as_deref(), Some("4 of 4 entries written"));
        let c = parse_case("CASE x expected=-57 observed=none verdict=skip detail=no edu").unwrap();
        assert_eq!((c.expected, c.observed), (-57, None));
        assert!(parse_case("TEST foo ... ok").is_none());
        assert!(parse_case("CASE x expected=0 observed=zero verdict=pass").is_none());
        assert!(parse_case("CASE x expected=0 verdict=pass").is_none());
    }

    #[test]
    fn a_run_kept_in_the_document_is_recovered() {
        let lines: Vec<String> = [
            "GUEST| CASE put_tce_ok expected=0 observed=0 verdict=pass",
            "GUEST| CASE indirect_atomic expected=0 observed=0 verdict=fail detail=2 of 4 -- written",
            "GUEST| SUITE done cases=2 passed=1 failed=1 skipped=0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let run = SuiteRun::from_lines(OURS, &lines, Verdict::Pass);
        assert!(run.completed);
        let doc = render(&[run], Target::Ours);
        let back = recover(&doc, OURS).unwrap();
        assert!(back.completed && back.earlier);
        assert_eq!(back.cases.len(), 2);
        assert_eq!(back.cases[1].detail.as_deref(), Some("2 of 4 - - written"));
        assert!(recover(&doc, QEMU).is_none());
        assert!(doc.contains("| `put_tce_ok` | 0 | 0 pass | not run |"));
    }

    #[test]
    fn known_table_names_only_suite_cases() {
        for k in QEMU_7_2 {
            assert!(SUITE_CASES.contains(&k.case), "{}", k.case);
        }
    }
}
