//! `cargo xtask bench`: runs the benchmark targets [`ROUNDS`] times and
//! writes docs/PERFORMANCE.md (and the SVG it embeds) from the
//! `BENCH <name> <value> <unit>` lines they print.
//!
//! Each round is one run of every benchmark, in which ours and the peers'
//! strategies take turns (benches/papr). Absolute figures move with the
//! machine's load; a ratio of two figures of one round much less, so the
//! comparisons are computed per round and judged on their median.

mod plot;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// Whole benchmark runs.
const ROUNDS: usize = 5;

/// A bound a figure or ratio must keep.
#[derive(Clone, Copy)]
enum Limit {
    AtMost(f64),
    AtLeast(f64),
}

impl Limit {
    fn met(self, v: f64) -> bool {
        match self {
            Limit::AtMost(l) => v <= l,
            Limit::AtLeast(l) => v >= l,
        }
    }
    fn show(self) -> String {
        match self {
            Limit::AtMost(l) => format!("<= {l}"),
            Limit::AtLeast(l) => format!(">= {l}"),
        }
    }
}

/// A target for a figure (by name, or a prefix ending in `*`).
struct Target {
    name: &'static str,
    limit: Limit,
    why: &'static str,
}

const TARGETS: &[Target] = &[
    Target {
        name: "tce_map_dense_*",
        limit: Limit::AtMost(3.0),
        why: "dense map <= 3 ns per TCE",
    },
    Target {
        name: "tce_bytes_per_page_*",
        limit: Limit::AtMost(8.1),
        why: "<= 8.1 table bytes per mapped page (dense 1 GiB); with more than one level \
              the smallest (4 KiB) upper level alone adds 0.25",
    },
    Target {
        name: "papr_h_put_tce",
        limit: Limit::AtMost(30.0),
        why: "a single H_PUT_TCE <= 30 ns per call",
    },
    Target {
        name: "papr_h_put_tce_map_unmap",
        limit: Limit::AtMost(30.0),
        why: "the same for what a Linux guest does: map a page, then unmap it \
              (every call changes the map count; every unmap marks a dirty page)",
    },
    Target {
        name: "papr_invalidations_per_call",
        limit: Limit::AtMost(1.0),
        why: "one invalidation per call",
    },
];

fn target_for(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| match t.name.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == t.name,
    })
}

/// A comparison computed in each round: `num / den` (or the figure `num`
/// itself, already a ratio, when `den` is empty).
struct Ratio {
    label: &'static str,
    num: &'static str,
    den: &'static str,
    limit: Option<Limit>,
}

const RATIOS: &[Ratio] = &[
    Ratio {
        label: "INDIRECT(512) / emulator loop",
        num: "sweep_ours_indirect_512",
        den: "sweep_emulator_512",
        limit: Some(Limit::AtMost(1.5)),
    },
    Ratio {
        label: "INDIRECT(512) / emulator loop, scattered pages",
        num: "scattered_ours_indirect_512",
        den: "scattered_emulator_512",
        limit: Some(Limit::AtMost(1.5)),
    },
    Ratio {
        label: "INDIRECT(512) / emulator loop, list copied (memory that lends none)",
        num: "copied_ours_indirect_512",
        den: "copied_emulator_512",
        limit: Some(Limit::AtMost(1.5)),
    },
    Ratio {
        label: "two-pass exchange / INDIRECT(512)",
        num: "sweep_two_pass_512",
        den: "sweep_ours_indirect_512",
        limit: None,
    },
    Ratio {
        label: "least all-or-nothing INDIRECT(512) / emulator loop",
        num: "sweep_least_indirect_512",
        den: "sweep_emulator_512",
        limit: None,
    },
    Ratio {
        label: "STUFF(512) / store floor",
        num: "sweep_ours_stuff_512",
        den: "sweep_floor_512",
        limit: Some(Limit::AtMost(1.2)),
    },
    Ratio {
        label: "store floor under a lock / store floor",
        num: "sweep_locked_floor_512",
        den: "sweep_floor_512",
        limit: None,
    },
    Ratio {
        label: "least locked STUFF(512) / store floor",
        num: "sweep_least_stuff_512",
        den: "sweep_floor_512",
        limit: None,
    },
    Ratio {
        label: "two partitions / one, calls per second",
        num: "papr_two_partitions_speedup",
        den: "",
        limit: Some(Limit::AtLeast(1.8)),
    },
    Ratio {
        label: "two partitions / one, calls per CPU second",
        num: "papr_two_partitions_speedup_cpu",
        den: "",
        limit: None,
    },
    Ratio {
        label: "control: two threads on one partition / one, calls per CPU second",
        num: "papr_one_partition_two_threads_speedup_cpu",
        den: "",
        limit: None,
    },
    Ratio {
        label: "the machine: two threads sharing nothing / one, calls per second",
        num: "papr_two_threads_sharing_nothing_speedup",
        den: "",
        limit: None,
    },
    Ratio {
        label: "two partitions' speedup / the machine's, set by set",
        num: "papr_two_partitions_of_sharing_nothing",
        den: "",
        limit: None,
    },
];

/// The strategies of the sweep, as the bench names them, with their legends.
const STRATEGIES: &[(&str, &str)] = &[
    ("ours_indirect", "ours: H_PUT_TCE_INDIRECT"),
    ("ours_stuff", "ours: H_STUFF_TCE"),
    ("emulator", "emulator loop (QEMU)"),
    ("two_pass", "two-pass exchange (KVM)"),
    ("floor", "store floor"),
    ("locked_floor", "store floor under a lock"),
    ("least_indirect", "least all-or-nothing INDIRECT"),
    ("least_stuff", "least locked STUFF"),
];

/// One round's figures: name -> (value, unit).
type Round = BTreeMap<String, (f64, String)>;

/// Runs the benchmarks [`ROUNDS`] times and writes docs/PERFORMANCE.md.
pub fn run() -> Result<bool, String> {
    let mut rounds: Vec<Round> = Vec::new();
    let mut load = Vec::new();
    for round in 1..=ROUNDS {
        println!("xtask: benchmark round {round} of {ROUNDS}");
        load.push(loadavg());
        let out = Command::new(env!("CARGO"))
            .args(["bench", "-p", "pnv-iommu", "--features", "std"])
            .current_dir(crate::workspace_root())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        if !out.status.success() {
            return Err("cargo bench failed".into());
        }
        rounds.push(
            parse(&text)
                .into_iter()
                .map(|(n, v, u)| (n, (v, u)))
                .collect(),
        );
    }
    load.push(loadavg());
    if rounds.iter().all(|r| r.is_empty()) {
        return Err("the benchmarks printed no BENCH lines".into());
    }
    let docs = crate::workspace_root().join("docs");
    std::fs::create_dir_all(&docs).map_err(|e| e.to_string())?;
    let svg = plot::sweep_svg(
        "ns per TCE against batch size (median of rounds)",
        &lines(&rounds),
    )?;
    std::fs::write(docs.join("papr_sweep.svg"), svg).map_err(|e| e.to_string())?;
    let md = render(&rounds, &machine(), &load);
    let path = docs.join("PERFORMANCE.md");
    std::fs::write(&path, md).map_err(|e| e.to_string())?;
    println!("xtask: wrote {}", crate::image::shown(&path));
    Ok(true)
}

/// The `BENCH <name> <value> <unit>` lines of a bench run.
fn parse(text: &str) -> Vec<(String, f64, String)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.strip_prefix("BENCH ")?.split_whitespace();
            let name = it.next()?.to_string();
            let value = it.next()?.parse().ok()?;
            Some((name, value, it.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The values of figure `name` over the rounds that have it.
fn values(rounds: &[Round], name: &str) -> Vec<f64> {
    rounds
        .iter()
        .filter_map(|r| r.get(name).map(|v| v.0))
        .collect()
}

/// A ratio in each round (NaN where a figure is missing).
fn ratio_per_round(rounds: &[Round], r: &Ratio) -> Vec<f64> {
    rounds
        .iter()
        .map(|round| {
            let num = round.get(r.num).map_or(f64::NAN, |v| v.0);
            if r.den.is_empty() {
                return num;
            }
            num / round.get(r.den).map_or(f64::NAN, |v| v.0)
        })
        .collect()
}

/// The sweep's lines: per strategy, the median over rounds at each size.
fn lines(rounds: &[Round]) -> Vec<plot::Line> {
    STRATEGIES
        .iter()
        .map(|(key, label)| plot::Line {
            label: label.to_string(),
            points: sweep_sizes(rounds)
                .into_iter()
                .filter_map(|n| {
                    let v = values(rounds, &format!("sweep_{key}_{n}"));
                    (!v.is_empty()).then(|| (n as f64, median(v)))
                })
                .collect(),
        })
        .collect()
}

fn sweep_sizes(rounds: &[Round]) -> Vec<u64> {
    let mut sizes: Vec<u64> = rounds
        .iter()
        .flat_map(|r| r.keys())
        .filter_map(|k| k.strip_prefix("sweep_")?.rsplit('_').next()?.parse().ok())
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpu}, {} cores", cores())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn verdict(limit: Limit, v: f64) -> String {
    let met = if limit.met(v) { "met" } else { "**not met**" };
    format!("{} ({met})", limit.show())
}

mod render;
use render::render;

#[cfg(test)]
mod tests;
