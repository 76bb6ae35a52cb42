//! The Linux-on-skiboot cases of `cargo xtask test`: a stock Debian kernel
//! on skiboot with pnv-iommu routed in, its disk DMA through the windows
//! our library wrote, judged from the console (the /init verdict, dmesg
//! lines and the shim's counters from skiboot's msglog).

use crate::initramfs::InitConfig;
use crate::linux::{self, Device, LinuxRun};
use crate::qemu::Verdict;
use crate::skiboot::{self, Variant};

/// Tag of the shim's lines in skiboot's log (`boards/skiboot`).
pub const TAG: &str = "PNV-IOMMU:";

/// /init's report: the kernel's DMA-window lines, the shim's attach lines
/// and its last counters line from skiboot's msglog.
pub fn skiboot_report(init: &mut InitConfig) {
    init.report.extend([
        "dmesg | grep -E 'Setting up window|bypass|nvme|timeout' | sed 's/^/dmesg: /' || true"
            .to_string(),
        format!(
            "grep -a '{TAG}' /sys/firmware/opal/msglog | grep -a -v counters | \
             sed 's/^/msglog: /' || true"
        ),
        "print_counters".to_string(),
    ]);
    init.functions.push(format!(
        "print_counters() {{\n    grep -a '{TAG} counters' /sys/firmware/opal/msglog | tail -n 1 | \
         sed 's/^/msglog: /'\n}}"
    ));
}

/// What the shim counted, per routed call kind: OPAL calls, answered by the
/// library, library answers with an error, answered by skiboot's own code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// OPAL calls of the token.
    pub opal: u64,
    /// Answered by pnv-iommu.
    pub library: u64,
    /// Answered by pnv-iommu with a non-zero OPAL code.
    pub library_err: u64,
    /// Answered by skiboot's own phb_ops entry.
    pub skiboot: u64,
}

/// One counters line of the shim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// `OPAL_PCI_MAP_PE_DMA_WINDOW`.
    pub map: Counts,
    /// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL`.
    pub real: Counts,
    /// `OPAL_PCI_TCE_KILL`.
    pub kill: Counts,
    /// Callbacks from the library into skiboot.
    pub hooks: u64,
    /// Callbacks that arrived with r13-r16 other than skiboot's.
    pub regs_changed: u64,
    /// Callbacks that saw r13-r16 wrong inside the hook.
    pub regs_bad: u64,
    /// TVT entries read back after a successful window call.
    pub tvt_checked: u64,
    /// ... that differed from skiboot's `tve_cache[]`.
    pub tvt_mismatch: u64,
}

impl Counters {
    /// Parses `... counters map a/b/c/d real a/b/c/d kill a/b/c/d (...)
    /// hooks h regs-changed x regs-bad y`.
    pub fn parse(line: &str) -> Option<Counters> {
        let rest = line.split(&format!("{TAG} counters ")).nth(1)?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let after = |key: &str| -> Option<&str> {
            let i = words.iter().position(|w| *w == key)?;
            words.get(i + 1).copied()
        };
        let counts = |key: &str| -> Option<Counts> {
            let n: Vec<u64> = after(key)?
                .split('/')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            match n[..] {
                [opal, library, library_err, skiboot] => Some(Counts {
                    opal,
                    library,
                    library_err,
                    skiboot,
                }),
                _ => None,
            }
        };
        Some(Counters {
            map: counts("map")?,
            real: counts("real")?,
            kill: counts("kill")?,
            hooks: after("hooks")?.parse().ok()?,
            regs_changed: after("regs-changed")?.parse().ok()?,
            regs_bad: after("regs-bad")?.parse().ok()?,
            tvt_checked: after("tvt-checked")?.parse().ok()?,
            tvt_mismatch: after("tvt-mismatch")?.parse().ok()?,
        })
    }

    /// Every counters line in `lines`, in order.
    pub fn all_in(lines: &[String]) -> Vec<Counters> {
        lines.iter().filter_map(|l| Counters::parse(l)).collect()
    }
}

/// How a case is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// /init verified the disk; counters as the mode needs.
    Verified,
    /// The negative control: /init must report the disk unusable.
    DiskFails,
}

/// One Linux boot of the test run.
struct Case {
    name: &'static str,
    device: Device,
    bypass: bool,
    variant: Variant,
    /// After the first verification: remove the disk's PCI device, rescan,
    /// verify again (one boot serves both checks).
    rescan: bool,
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        name: "nvme-nobypass",
        device: Device::Nvme,
        bypass: false,
        variant: Variant::Normal,
        rescan: true,
        expect: Expect::Verified,
    },
    Case {
        name: "nvme-bypass",
        device: Device::Nvme,
        bypass: true,
        variant: Variant::Normal,
        rescan: false,
        expect: Expect::Verified,
    },
    Case {
        name: "virtio-pcie1-nobypass",
        device: Device::Virtio,
        bypass: false,
        variant: Variant::Normal,
        rescan: false,
        expect: Expect::Verified,
    },
    Case {
        name: "negative-wrong-tve",
        device: Device::Nvme,
        bypass: false,
        variant: Variant::WrongTve,
        rescan: false,
        expect: Expect::DiskFails,
    },
];

/// NVMe timeouts of the negative control (seconds): the disk's first
/// command fails fast instead of after the default 60 s.
const SHORT_NVME_TIMEOUTS: &str = "admin_timeout=2 io_timeout=2 max_retries=0";

/// Runs every case (or those named in `only`); `record(name, ok, detail)`
/// receives each check. A case that cannot run (a build or QEMU error) is
/// recorded as a failure and the others still run.
pub fn run(only: &[String], record: &mut dyn FnMut(&str, bool, &str)) -> Result<(), String> {
    let mut fp_checked = false;
    for case in CASES {
        if !only.is_empty() && !only.iter().any(|n| n == case.name) {
            continue;
        }
        if case.variant == Variant::Normal && !fp_checked {
            fp_checked = true;
            if let Err(e) = fp_check(record) {
                record(
                    "skiboot image FP/VMX/VSX check",
                    false,
                    &format!("could not run: {e}"),
                );
            }
        }
        if let Err(e) = run_case(case, record) {
            record(
                &format!("linux {}", case.name),
                false,
                &format!("could not run: {e}"),
            );
        }
    }
    Ok(())
}

/// Boots one case and records its checks.
fn run_case(case: &Case, record: &mut dyn FnMut(&str, bool, &str)) -> Result<(), String> {
    let fw = skiboot::build(case.variant)?;
    let run = LinuxRun {
        name: case.name.to_string(),
        device: case.device,
        bypass: case.bypass,
        firmware: Some(fw.lid),
        init: match (case.rescan, case.expect) {
            (true, _) => init_rescan,
            (false, Expect::DiskFails) => init_negative,
            (false, Expect::Verified) => skiboot_report,
        },
        qemu_args: vec![],
        timeout_secs: 180,
        echo: false,
    };
    println!("xtask: linux on skiboot: {}", case.name);
    let started = std::time::Instant::now();
    let outcome = linux::boot(&run)?;
    println!(
        "xtask: {} ran {:.1} s ({})",
        case.name,
        started.elapsed().as_secs_f64(),
        outcome.verdict
    );
    let checks = judge(case, &outcome.verdict, &outcome.lines);
    let all_ok = checks.iter().all(|(_, ok, _)| *ok);
    for (check, ok, detail) in checks {
        record(&format!("linux {} {check}", case.name), ok, &detail);
    }
    if !all_ok {
        for line in outcome.lines.iter().rev().take(25).rev() {
            println!("    | {line}");
        }
    }
    Ok(())
}

/// `cargo xtask linux --cases`: the cases alone, with a summary line.
pub fn run_standalone(only: &[String]) -> Result<bool, String> {
    if let Some(bad) = only
        .iter()
        .find(|n| !CASES.iter().any(|c| c.name == n.as_str()))
    {
        let names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        return Err(format!("unknown case `{bad}`; cases: {}", names.join(", ")));
    }
    let (mut passed, mut failed) = (0, 0);
    run(only, &mut |name, ok, detail| {
        if ok {
            passed += 1;
            println!("xtask: {name} ... ok");
        } else {
            failed += 1;
            println!("xtask: {name} ... FAILED {detail}");
        }
    })?;
    println!("\n{passed} passed, {failed} failed");
    Ok(failed == 0)
}

/// The disassembly proof (`fpcheck`) on our skiboot, and its negative
/// control: the same image with the library built for POWER9's vector
/// units must be caught.
fn fp_check(record: &mut dyn FnMut(&str, bool, &str)) -> Result<(), String> {
    for variant in [Variant::Normal, Variant::Pwr9Vector] {
        let fw = skiboot::build(variant)?;
        let r = crate::fpcheck::check(&fw.elf, &fw.library, skiboot::CROSS)?;
        let detail = format!(
            "{} functions reachable ({} of the library; indirect branches: {}), {} with \
             FP/VMX/VSX {:?}; {} such library functions in the image",
            r.reachable,
            r.reachable_library,
            r.indirect,
            r.offending.len(),
            r.offending.iter().take(3).collect::<Vec<_>>(),
            r.image_offending
        );
        println!("xtask: fpcheck ({variant:?}): {detail}");
        if variant == Variant::Normal {
            record(
                "skiboot image: routed calls reach no FP/VMX/VSX instruction",
                r.offending.is_empty() && r.image_offending > 0,
                &detail,
            );
        } else {
            record(
                "skiboot image, library built for pwr9: the check finds VSX in the routed calls",
                !r.offending.is_empty(),
                &detail,
            );
        }
    }
    Ok(())
}

fn init_rescan(init: &mut InitConfig) {
    skiboot_report(init);
    init.after_verify.extend([
        "print_counters".to_string(),
        "remove_and_rescan".to_string(),
        "verify_again".to_string(),
        "write_read_back".to_string(),
        "say 'verified again after remove and rescan'".to_string(),
    ]);
}

fn init_negative(init: &mut InitConfig) {
    skiboot_report(init);
    init.module_params
        .insert("nvme_core".into(), SHORT_NVME_TIMEOUTS.into());
    init.disk_wait_secs = 10;
}

/// The checks of one case: (check name, passed, detail).
fn judge(case: &Case, verdict: &Verdict, lines: &[String]) -> Vec<(String, bool, String)> {
    let mut checks = Vec::new();
    let mut check =
        |name: &str, ok: bool, detail: String| checks.push((name.to_string(), ok, detail));
    let counters = Counters::all_in(lines);
    let last = counters.last().copied();
    let c = last.unwrap_or_default();
    let has = |text: &str| lines.iter().any(|l| l.contains(text));
    match case.expect {
        Expect::Verified => {
            check(
                "disk verified (sha256, pattern read back)",
                verdict.passed(),
                verdict.to_string(),
            );
        }
        Expect::DiskFails => {
            // /init's verdict, and the device's DMA timing out in the
            // kernel (not merely a slow boot).
            let ok = matches!(verdict, Verdict::Fail(why)
                if why.contains("did not appear") || why.contains("sha256 mismatch")
                    || why.contains("did not read back"))
                && lines
                    .iter()
                    .any(|l| l.contains("nvme nvme0:") && l.contains("timeout"));
            check(
                "disk fails to verify with a wrong TVE table address",
                ok,
                verdict.to_string(),
            );
        }
    }
    check(
        "counters printed",
        last.is_some(),
        format!("{} counters lines", counters.len()),
    );
    check(
        "0 calls answered by skiboot's TVE code",
        c.map.skiboot + c.real.skiboot + c.kill.skiboot == 0
            && c.map.opal == c.map.library
            && c.real.opal == c.real.library
            && c.kill.opal == c.kill.library,
        format!("{c:?}"),
    );
    check(
        "map_pe_dma_window served by pnv-iommu",
        c.map.library > 0 && c.map.library_err == 0,
        format!("{:?}", c.map),
    );
    check(
        "library callbacks saw skiboot's r13-r16 (hook self-test: restored, check catches)",
        c.hooks > 0
            && c.regs_bad == 0
            && lines.iter().any(|l| {
                l.contains(
                    "hook self-test: r14/r15 clobbered before a hook restored, \
                            a direct check caught: ok",
                )
            }),
        format!(
            "hooks {} regs-changed {} regs-bad {}",
            c.hooks, c.regs_changed, c.regs_bad
        ),
    );
    check(
        "skiboot's tve_cache equals the TVT read back after each window call",
        c.tvt_checked >= c.map.library + c.real.library - c.map.library_err - c.real.library_err
            && c.tvt_checked > 0
            && c.tvt_mismatch == 0,
        format!(
            "tvt-checked {} tvt-mismatch {}",
            c.tvt_checked, c.tvt_mismatch
        ),
    );
    if case.expect == Expect::DiskFails {
        return checks;
    }
    check(
        "tce_kill served by pnv-iommu",
        c.kill.library > 0 && c.kill.library_err == 0,
        format!("{:?}", c.kill),
    );
    if case.bypass {
        check(
            "map_pe_dma_window_real (64-bit bypass) served by pnv-iommu",
            c.real.library > 0 && c.real.library_err == 0 && has("Enabling 64-bit DMA bypass"),
            format!("{:?}", c.real),
        );
    } else {
        check(
            "no bypass window enabled (iommu=nobypass)",
            c.real.library_err == 0
                && has("Setting up window#0")
                && !has("Enabling 64-bit DMA bypass"),
            format!("{:?}", c.real),
        );
    }
    if case.rescan {
        let before = counters.first().copied().unwrap_or_default();
        check(
            "remove+rescan: windows set up again through our calls, disk verified again",
            verdict.passed()
                && counters.len() >= 2
                && c.map.library > before.map.library
                && has("verified again after remove and rescan"),
            format!("map before {:?} after {:?}", before.map, c.map),
        );
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_line_parses() {
        let line = "msglog: [    9.1,7] PNV-IOMMU: counters map 3/3/0/0 real 0/0/0/0 \
                    kill 95/95/0/0 (opal/library/library-errors/skiboot) hooks 12 \
                    regs-changed 0 regs-bad 0 tvt-checked 4 tvt-mismatch 0";
        let c = Counters::parse(line).unwrap();
        assert_eq!(
            c.map,
            Counts {
                opal: 3,
                library: 3,
                library_err: 0,
                skiboot: 0
            }
        );
        assert_eq!(c.kill.opal, 95);
        assert_eq!(c.hooks, 12);
        assert_eq!((c.tvt_checked, c.tvt_mismatch), (4, 0));
        assert_eq!(Counters::parse("PNV-IOMMU: counters map 3/3 real"), None);
    }
}
