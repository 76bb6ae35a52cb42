//! `pnv-fuzz`: the deep fuzz driver behind `cargo xtask fuzz`.
//!
//! Runs `--calls N` calls (default 1,000,000) in episodes of a fresh world
//! each, seeded from `--seed S` (episode `k` uses seed `S + k`, so any
//! failure is reproduced by `--seed <its seed> --calls <episode length>`).
//! Every call is followed by its invariant checks; every few thousand calls,
//! and at the end of each episode, the whole of every table is compared
//! with the reference walker. One episode in four runs host operations on
//! another thread beside the calls. Built with overflow checks and debug
//! assertions on (`--profile fuzz`).
//!
//! Prints calls/s, the share of calls that changed state, the peak number
//! of valid TCEs held at once, and each failure with its seed; exits 1 on a
//! failure.

mod capi;
mod check;
mod opal;
mod papr;
mod rng;
// The TVE oracle shared with the OPAL property test.
#[path = "../../tests/tve_oracle/mod.rs"]
mod tve_oracle;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rng::Rng;

/// Calls per episode (one fresh world each).
const EPISODE: u64 = 20_000;
/// C ABI calls per episode and per run (see `episode`).
const CAPI_PER_EPISODE: u64 = 1_000;
const CAPI_CALLS: u64 = 8_000;
/// Calls between whole-table checks.
const WHOLE_EVERY: u64 = 2_500;

/// The episode seed and call running now, for the panic report.
static CURRENT_SEED: AtomicU64 = AtomicU64::new(0);
static CURRENT_CALL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static IS_MAIN: Cell<bool> = const { Cell::new(false) };
}

struct Args {
    calls: u64,
    seed: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        calls: 1_000_000,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--calls" => a.calls = n,
            "--seed" => a.seed = n,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

#[derive(Default)]
struct Stats {
    calls: u64,
    changed: u64,
    peak: check::Peak,
    host_ops: u64,
    opal: u64,
    opal_changed: u64,
    capi: u64,
}

/// Runs one episode of `calls` calls from `seed`: one in eight on the
/// OPAL calls, one in eight partly on the C ABI, the others on the PAPR
/// hypervisor.
fn episode(seed: u64, calls: u64, stats: &mut Stats) -> Result<(), String> {
    let mut calls = calls;
    match seed % 8 {
        5 => return opal_episode(seed, calls, stats),
        6 if stats.capi < CAPI_CALLS => {
            // The C ABI's one fake PHB lives for the process and its
            // register log only grows: a bounded number of calls per run,
            // the rest of the episode on the hypervisor.
            let n = calls.min(CAPI_PER_EPISODE).min(CAPI_CALLS - stats.capi);
            capi_episode(seed, n, stats)?;
            calls -= n;
        }
        _ => {}
    }
    let mut rng = Rng::new(seed);
    let mut world = papr::World::new();
    world.concurrent = seed % 4 == 3;
    let stop = Arc::new(AtomicBool::new(false));
    let host = world.concurrent.then(|| {
        let (hv, stop) = (world.hv.clone(), stop.clone());
        let parts = world.parts.iter().map(|p| p.p).collect();
        std::thread::spawn(move || papr::host_thread(hv, parts, seed, stop))
    });
    let mut result = Ok(());
    for call in 0..calls {
        CURRENT_CALL.store(call, Ordering::Relaxed);
        match world.call(&mut rng, &mut stats.peak) {
            Ok(out) => {
                stats.calls += 1;
                stats.changed += u64::from(out.changed);
            }
            Err(e) => {
                result = Err(format!("call {call}: {e}"));
                break;
            }
        }
        if (call + 1) % WHOLE_EVERY == 0
            && !world.concurrent
            && let Err(e) = check::whole(&mut world)
        {
            result = Err(format!("whole-table check after call {call}: {e}"));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(h) = host {
        stats.host_ops += h.join().map_err(|_| "host thread panicked")?;
    }
    result?;
    world.concurrent = false;
    check::whole(&mut world).map_err(|e| format!("whole-table check at the end: {e}"))
}

/// An episode of OPAL calls on two PHBs that live through it.
fn opal_episode(seed: u64, calls: u64, stats: &mut Stats) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let mut world = opal::World::new();
    for call in 0..calls {
        CURRENT_CALL.store(call, Ordering::Relaxed);
        let out = world
            .call(&mut rng)
            .map_err(|e| format!("OPAL call {call}: {e}"))?;
        stats.calls += 1;
        stats.opal += 1;
        stats.opal_changed += u64::from(out.changed);
        stats.changed += u64::from(out.changed);
    }
    Ok(())
}

/// An episode of C ABI calls (bad pointers, lengths, alignments).
fn capi_episode(seed: u64, calls: u64, stats: &mut Stats) -> Result<(), String> {
    capi::setup()?;
    let mut rng = Rng::new(seed);
    for call in 0..calls {
        CURRENT_CALL.store(call, Ordering::Relaxed);
        let out = capi::call(&mut rng).map_err(|e| format!("C ABI call {call}: {e}"))?;
        stats.calls += 1;
        stats.capi += 1;
        stats.changed += u64::from(out.changed);
    }
    Ok(())
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pnv-fuzz: {e}\nusage: pnv-fuzz [--calls N] [--seed S]");
            std::process::exit(2);
        }
    };
    IS_MAIN.with(|m| m.set(true));
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        println!(
            "pnv-fuzz: FAILURE (panic) seed={} call={}: {info}",
            CURRENT_SEED.load(Ordering::Relaxed),
            CURRENT_CALL.load(Ordering::Relaxed)
        );
        default_hook(info);
    }));
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut failures = 0u64;
    let mut k = 0u64;
    while stats.calls < a.calls {
        let seed = a.seed.wrapping_add(k);
        k += 1;
        CURRENT_SEED.store(seed, Ordering::Relaxed);
        let calls = EPISODE.min(a.calls - stats.calls);
        let before = stats.calls;
        if let Err(e) = episode(seed, calls, &mut stats) {
            failures += 1;
            println!(
                "pnv-fuzz: FAILURE seed={seed} (reproduce: cargo xtask fuzz --seed {seed} --calls {calls}): {e}"
            );
            // Count the episode's calls as run, so the loop ends.
            stats.calls = before + calls;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "pnv-fuzz: {} calls in {secs:.1} s ({:.0} calls/s; {} of them OPAL, {} of those changed state; {} C ABI), {:.1}% changed state, peak {} valid TCEs, {} host operations beside them, {failures} failures (seeds {}..{})",
        stats.calls,
        stats.calls as f64 / secs,
        stats.opal,
        stats.opal_changed,
        stats.capi,
        100.0 * stats.changed as f64 / stats.calls.max(1) as f64,
        stats.peak.0,
        stats.host_ops,
        a.seed,
        a.seed.wrapping_add(k),
    );
    std::process::exit(if failures == 0 { 0 } else { 1 });
}
