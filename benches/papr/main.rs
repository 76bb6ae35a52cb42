//! PAPR TCE hypercall benchmarks, ours beside the peers' strategies
//! ([`peers`]), interleaved in one run. Prints `BENCH <name> <value> <unit>`.
//!
//! - `sweep_<strategy>_<n>`: ns per TCE of a call setting `n` entries
//!   (n = 1, 2, 4 ... 512), for `ours_indirect` (`H_PUT_TCE_INDIRECT`: list
//!   read from guest memory, in place as the emulator reads it (the fake
//!   lends it under its lock), every entry validated before any is written,
//!   old entries settled, one kill), `ours_stuff` (`H_STUFF_TCE`), the
//!   peers `emulator`, `two_pass`, `floor` and `locked_floor` (the floor
//!   inside a per-call lock), and the bounds `least_indirect` (all or
//!   nothing at its least) and `least_stuff` (a locked STUFF at its least).
//!   Two lists naming different pages (two values
//!   for STUFF and the floors) alternate, so every call
//!   replaces valid entries. Each strategy is timed in turn, repetition by
//!   repetition, and keeps its best repetition.
//! - `scattered_<strategy>_<n>`: the same for `ours_indirect` and the
//!   `emulator` (n = 64, 512) with lists whose pages are not consecutive
//!   (the pages of the sweep's lists, permuted): ours cannot take a list
//!   as one run of pages there.
//! - `copied_<strategy>_<n>`: the same with the sweep's lists, in a
//!   partition whose guest memory lends no list: ours copies each list
//!   before checking it, as from guest RAM other CPUs may write (the
//!   emulator still reads it in place).
//! - `papr_h_put_tce`: one `H_PUT_TCE`, ns per call;
//!   `papr_h_put_tce_map_unmap`: the same mapping a page, then unmapping it,
//!   as a Linux guest does; `papr_h_put_tce_stage_*`: each stage of the call
//!   timed alone (see `breakdown`). Their repetitions, and those of the
//!   next item, are spread over the two-partition measure's seconds.
//! - `papr_h_stuff_tce_512_stage_*`: each stage of the sweep's
//!   `H_STUFF_TCE` of 512 entries timed alone, beside the whole call
//!   (`papr_h_stuff_tce_512_alone`) and the store floor
//!   (`papr_floor_512_alone`) timed alone the same way, ns per call.
//! - `papr_two_partitions_speedup`: `H_PUT_TCE` calls per second of two
//!   partitions on two threads over one partition on one thread;
//!   `..._cpu`: the same with each thread's calls counted per second of its
//!   CPU clock (less sensitive to other tenants, though on a virtual machine
//!   the clock also runs while the host runs someone else);
//!   `papr_one_partition_two_threads_speedup_cpu`: the control, two threads
//!   on one partition, whose shared lock the measure must show. Each is the
//!   median over sets of short spells, threads pinned to CPUs.
//!   `papr_two_threads_sharing_nothing_speedup`: what the machine gives two
//!   threads that share nothing (each the store floor under a lock of its
//!   own, on a table of its own) over one, in the same sets;
//!   `papr_two_partitions_of_sharing_nothing`: the two partitions' speedup
//!   over that, set by set (median).
//! - `papr_invalidations_per_call`: TCE kills per call of ours (must be 1).
//!
//! Arguments other than flags filter the figures by name (`=name` for an
//! exact match), for profiling one of them.

mod breakdown;
mod peers;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use peers::{PeerLock, PeerTable, PeerWindow};
use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::FakeGuestMemory;
use pnv_iommu::papr::{
    Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamMap, RamRegion,
    WindowProgrammer, WindowTable,
};

const MIB: u64 = 1 << 20;
const RAM: u64 = 64 * MIB;
const RW: u64 = 3;
/// Logical addresses of the two lists of consecutive pages (what a guest
/// lists for a contiguous buffer).
const LISTS: [u64; 2] = [MIB, MIB + 0x1000];
/// Logical addresses of the two scattered lists (the same pages, permuted).
const SCATTERED: [u64; 2] = [MIB + 0x2000, MIB + 0x3000];
/// Bus address of the batches (a leaf boundary).
pub const BASE: u64 = 0x100_0000;
/// Entries of the default window (1 GiB of 4 KiB pages).
pub const WINDOW_ENTRIES: usize = 1 << 18;
const SIZES: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
/// Repetitions of each timing (the best is kept).
const REPS: usize = 15;

/// A PHB for benchmarks: kills are counted with a plain increment, as one
/// CPU uses each of them (each partition has its own, on its own cache lines).
#[derive(Default)]
#[repr(align(128))]
pub struct BenchPhb {
    kills: AtomicU64,
}

impl BenchPhb {
    fn count(&self) -> Result<(), ()> {
        let k = self.kills.load(Ordering::Relaxed);
        self.kills.store(k + 1, Ordering::Relaxed);
        Ok(())
    }
}

impl Invalidate for BenchPhb {
    type Error = ();
    fn invalidate_all(&self) -> Result<(), ()> {
        self.count()
    }
    fn invalidate_pe(&self, _: u16) -> Result<(), ()> {
        self.count()
    }
    fn invalidate_range(&self, _: u16, _: IovaRange) -> Result<(), ()> {
        self.count()
    }
    fn sync(&self) -> Result<(), ()> {
        Ok(())
    }
}

impl WindowProgrammer for BenchPhb {
    fn set_window(&self, _: u16, _: u32, _: &WindowTable) -> Result<(), ()> {
        Ok(())
    }
    fn clear_window(&self, _: u16, _: u32) -> Result<(), ()> {
        Ok(())
    }
}

pub type Hv = Hypervisor<BenchPhb, GlobalPages>;

/// One partition with one PE, its own PHB and guest memory.
pub struct Guest {
    pub p: PartitionId,
    pub liobn: u64,
    pub phb: Arc<BenchPhb>,
    pub mem: Arc<FakeGuestMemory>,
    /// Host address of logical 0.
    pub host: u64,
}

/// Adds partition number `n`: 64 MiB of RAM, one PE, and the two lists of
/// 512 distinct pages each.
pub fn add_guest(hv: &mut Hv, n: u64) -> Guest {
    add_guest_in(hv, n, FakeGuestMemory::new())
}

/// [`add_guest`] with guest memory `mem` (say, one that lends no list).
pub fn add_guest_in(hv: &mut Hv, n: u64, mem: FakeGuestMemory) -> Guest {
    let host = 0x20_0000_0000 + n * 0x1_0000_0000;
    let phb = Arc::new(BenchPhb::default());
    let mem = Arc::new(mem);
    mem.add(host, RAM as usize);
    let ram = [RamRegion {
        logical: 0,
        host,
        size: RAM,
    }];
    let p = hv
        .add_partition(&ram, mem.clone(), PartitionConfig::default())
        .unwrap();
    let cfg = PeConfig {
        buid: 0x800_0000 + n,
        config_addr: 0x100,
        pe: 1 + n as u16,
        default_window_size: 1 << 30,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    };
    let liobn = hv.attach_pe(p, phb.clone(), cfg).unwrap() as u64;
    for (k, &la) in LISTS.iter().enumerate() {
        let tces: Vec<u64> = (0..512u64)
            .map(|i| ((4 * MIB) + (k as u64 * 512 + i) * 0x1000) | RW)
            .collect();
        assert!(mem.write_be_u64s(host + la, &tces));
        // Page 7i mod 512 at entry i (7 is prime to 512): every prefix of
        // two or more entries is scattered.
        let scattered: Vec<u64> = (0..512u64).map(|i| tces[(7 * i % 512) as usize]).collect();
        assert!(mem.write_be_u64s(host + SCATTERED[k], &scattered));
    }
    Guest {
        p,
        liobn,
        phb,
        mem,
        host,
    }
}

pub fn report(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.3} {unit}");
}

/// Whether figure `name` was asked for (no filter: all of them).
pub fn wanted(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters.iter().any(|f| match f.strip_prefix('=') {
            Some(exact) => name == exact,
            None => name.contains(f.as_str()),
        })
}

/// Times `f`, in ns.
pub fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos() as f64
}

/// The strategies of the sweep, in the order they take turns.
const STRATEGIES: [&str; 8] = [
    "ours_indirect",
    "emulator",
    "two_pass",
    "least_indirect",
    "ours_stuff",
    "floor",
    "locked_floor",
    "least_stuff",
];

fn sweep(hv: &Hv, g: &Guest, calls_made: &mut u64) {
    let peer = PeerTable::new(WINDOW_ENTRIES);
    let peer_phb = BenchPhb::default();
    let peer_lock = PeerLock::default();
    let ram = hv.ram(g.p).unwrap();
    let lists = LISTS.map(|la| g.host + la);
    let windows = [PeerWindow {
        liobn: g.liobn,
        table: &peer,
    }];
    check_peers(&peer, &peer_lock, g, ram, lists[0]);
    for n in SIZES {
        // About 16K entries per timing, and at least 64 calls (each timing
        // well under the OS's time slice: most run without the CPU being
        // taken away on a busy machine).
        let calls = (16 * 1024 / n).max(64) as u64;
        let mut best = [f64::INFINITY; STRATEGIES.len()];
        for _ in 0..REPS {
            for (s, name) in STRATEGIES.iter().enumerate() {
                if !wanted(&format!("sweep_{name}_{n}")) {
                    continue;
                }
                let ns = time(|| match s {
                    0 => {
                        for i in 0..calls {
                            let list = LISTS[(i & 1) as usize];
                            hv.h_put_tce_indirect(g.p, g.liobn, BASE, list, n as u64)
                                .unwrap();
                        }
                    }
                    1 => {
                        for i in 0..calls {
                            let list = lists[(i & 1) as usize];
                            peers::emulator_indirect(&peer, &g.mem, BASE, list, n).unwrap();
                        }
                    }
                    2 => {
                        for i in 0..calls {
                            let list = lists[(i & 1) as usize];
                            peers::two_pass_indirect(&peer, &g.mem, ram, &peer_phb, BASE, list, n)
                                .unwrap();
                        }
                    }
                    3 => {
                        for i in 0..calls {
                            let list = lists[(i & 1) as usize];
                            peers::least_all_or_nothing_indirect(&peer, &g.mem, ram, BASE, list, n)
                                .unwrap();
                        }
                    }
                    4 => {
                        for i in 0..calls {
                            let tce = (0x10_0000 + (i & 1) * 0x1000) | RW;
                            hv.h_stuff_tce(g.p, g.liobn, BASE, tce, n as u64).unwrap();
                        }
                    }
                    5 => {
                        for i in 0..calls {
                            let tce = (g.host + 0x10_0000 + (i & 1) * 0x1000) | RW;
                            peers::store_floor(&peer, BASE, tce, n);
                        }
                    }
                    6 => {
                        for i in 0..calls {
                            let tce = (g.host + 0x10_0000 + (i & 1) * 0x1000) | RW;
                            peers::locked_store_floor(&peer_lock, &peer, BASE, tce, n);
                        }
                    }
                    _ => {
                        for i in 0..calls {
                            let tce = (0x10_0000 + (i & 1) * 0x1000) | RW;
                            peers::least_locked_stuff(
                                &peer_lock, &windows, ram, &peer_phb, g.liobn, BASE, tce, n,
                            )
                            .unwrap();
                        }
                    }
                });
                if s == 0 || s == 4 {
                    *calls_made += calls;
                }
                best[s] = best[s].min(ns / (calls * n as u64) as f64);
            }
        }
        for (s, name) in STRATEGIES.iter().enumerate() {
            if best[s].is_finite() {
                report(&format!("sweep_{name}_{n}"), best[s], "ns/tce");
            }
        }
    }
    // The peers did their work: the last list is in their table (the
    // emulator's guest values, or the two-pass translation to host).
    black_box(peer.get(BASE as usize >> 12));
}

/// The peers store what they are given (a peer that stored nothing would
/// look fast): the emulator a whole list at `list` (host address), the
/// two-pass exchange and the least all-or-nothing strategy its
/// translation, the floors and the least locked STUFF one value.
fn check_peers(peer: &PeerTable, lock: &PeerLock, g: &Guest, ram: &RamMap, list: u64) {
    let first = (BASE >> 12) as usize;
    let stored = || -> Vec<u64> { (first..first + 512).map(|i| peer.get(i)).collect() };
    peers::emulator_indirect(peer, &g.mem, BASE, list, 512).unwrap();
    let listed = g
        .mem
        .read_bytes(list, 512 * 8, |b| {
            b.chunks_exact(8)
                .map(|w| u64::from_be_bytes(w.try_into().unwrap()))
                .collect::<Vec<u64>>()
        })
        .unwrap();
    assert_eq!(stored(), listed, "emulator loop");
    peers::two_pass_indirect(peer, &g.mem, ram, &BenchPhb::default(), BASE, list, 512).unwrap();
    let translated: Vec<u64> = listed
        .iter()
        .map(|&tce| ram.translate(tce & !RW, 0x1000).unwrap() | (tce & RW))
        .collect();
    assert_eq!(stored(), translated, "two-pass exchange");
    peers::store_floor(peer, BASE, 0, 512);
    peers::least_all_or_nothing_indirect(peer, &g.mem, ram, BASE, list, 512).unwrap();
    assert_eq!(stored(), translated, "least all-or-nothing");
    // It refuses a list that is not one run, storing nothing.
    let other = g.host + LISTS[1];
    assert!(g.mem.write_be_u64s(other + 8 * 300, &[listed[0]]));
    peers::store_floor(peer, BASE, 0, 512);
    assert!(peers::least_all_or_nothing_indirect(peer, &g.mem, ram, BASE, other, 512).is_err());
    assert_eq!(stored(), [0; 512], "least all-or-nothing refused");
    let run: Vec<u64> = (0..512u64)
        .map(|i| ((4 * MIB) + (512 + i) * 0x1000) | RW)
        .collect();
    assert!(g.mem.write_be_u64s(other, &run));
    let windows = [PeerWindow {
        liobn: g.liobn,
        table: peer,
    }];
    let tce = 0x12_0000 | RW;
    peers::least_locked_stuff(
        lock,
        &windows,
        ram,
        &BenchPhb::default(),
        g.liobn,
        BASE,
        tce,
        512,
    )
    .unwrap();
    let hw = ram.translate(0x12_0000, 0x1000).unwrap() | RW;
    assert_eq!(stored(), [hw; 512], "least locked STUFF");
    for (k, tce) in [0x10_0003u64, 0x11_0003].into_iter().enumerate() {
        match k {
            0 => peers::store_floor(peer, BASE, tce, 512),
            _ => peers::locked_store_floor(lock, peer, BASE, tce, 512),
        }
        assert_eq!(stored(), [tce; 512], "floor {k}");
    }
}

/// Ours and the emulator on the scattered lists, interleaved as in
/// [`sweep`].
fn scattered(hv: &Hv, g: &Guest, calls_made: &mut u64) {
    beside_emulator(hv, g, "scattered", SCATTERED, calls_made);
}

/// Ours and the emulator on the sweep's lists in a partition whose guest
/// memory lends no list (`g`): ours copies each list before checking it,
/// as from guest RAM that other CPUs may write.
fn copied(hv: &Hv, g: &Guest, calls_made: &mut u64) {
    beside_emulator(hv, g, "copied", LISTS, calls_made);
}

/// Ours (`<what>_ours_indirect_<n>`) and the emulator
/// (`<what>_emulator_<n>`) on the two lists at logical addresses `lists`,
/// interleaved as in [`sweep`], for n = 64 and 512.
fn beside_emulator(hv: &Hv, g: &Guest, what: &str, logical: [u64; 2], calls_made: &mut u64) {
    let peer = PeerTable::new(WINDOW_ENTRIES);
    let lists = logical.map(|la| g.host + la);
    for n in [64usize, 512] {
        let names = [
            format!("{what}_ours_indirect_{n}"),
            format!("{what}_emulator_{n}"),
        ];
        if !names.iter().any(|name| wanted(name)) {
            continue;
        }
        let calls = (16 * 1024 / n).max(64) as u64;
        let mut best = [f64::INFINITY; 2];
        for _ in 0..REPS {
            let ours = time(|| {
                for i in 0..calls {
                    let list = logical[(i & 1) as usize];
                    hv.h_put_tce_indirect(g.p, g.liobn, BASE, list, n as u64)
                        .unwrap();
                }
            });
            *calls_made += calls;
            let emulator = time(|| {
                for i in 0..calls {
                    let list = lists[(i & 1) as usize];
                    peers::emulator_indirect(&peer, &g.mem, BASE, list, n).unwrap();
                }
            });
            let per_tce = (calls * n as u64) as f64;
            best[0] = best[0].min(ours / per_tce);
            best[1] = best[1].min(emulator / per_tce);
        }
        for (name, best) in names.iter().zip(best) {
            report(name, best, "ns/tce");
        }
    }
    black_box(peer.get(BASE as usize >> 12));
}

/// `H_PUT_TCE` calls per second on `guests.len()` threads at once, one
/// partition each: (wall-clock rate, rate per second of CPU each got).
fn rate(hv: &Hv, guests: &[&Guest], dur: Duration) -> (f64, f64) {
    rate_of(guests.len(), dur, |k| {
        let g = guests[k];
        move || {
            for i in 0..256u64 {
                let ioba = (i & 511) << 12;
                let page = ((i & 1) + 2) << 12;
                hv.h_put_tce(g.p, g.liobn, ioba, page | RW).unwrap();
            }
            256
        }
    })
}

/// What two threads that share nothing get of this machine: calls per
/// second of `threads` threads at once, each running the store floor under
/// a lock of its own on a table of its own (both made by the thread, so on
/// lines of its own), one entry per call: (wall-clock rate, rate per
/// second of CPU each got).
fn rate_sharing_nothing(threads: usize, dur: Duration) -> (f64, f64) {
    rate_of(threads, dur, |_| {
        let (lock, table) = (PeerLock::default(), PeerTable::new(512));
        move || {
            for i in 0..256u64 {
                let tce = (((i & 1) + 2) << 12) | RW;
                peers::locked_store_floor(&lock, &table, (i & 511) << 12, tce, 1);
            }
            256
        }
    })
}

/// Calls per second of `threads` threads at once for a spell of `dur`,
/// thread `k` pinned to CPU `k` and repeating the batch `work(k)` makes
/// (in that thread), which returns the calls it made: (wall-clock rate,
/// rate per second of CPU each got).
fn rate_of<W: FnMut() -> u64>(
    threads: usize,
    dur: Duration,
    work: impl Fn(usize) -> W + Sync,
) -> (f64, f64) {
    let stop = AtomicBool::new(false);
    let results: Vec<(u64, f64)> = std::thread::scope(|s| {
        let spawned: Vec<_> = (0..threads)
            .map(|k| {
                let (stop, work) = (&stop, &work);
                s.spawn(move || {
                    pin_to_cpu(k);
                    let mut batch = work(k);
                    let cpu0 = thread_cpu_ns();
                    let mut calls = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        calls += batch();
                    }
                    (calls, thread_cpu_ns() - cpu0)
                })
            })
            .collect();
        std::thread::sleep(dur);
        stop.store(true, Ordering::Relaxed);
        spawned.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let secs = dur.as_secs_f64();
    let wall: f64 = results.iter().map(|r| r.0 as f64 / secs).sum();
    // A thread that got no CPU time measured (or none at all) makes the
    // spell's per-CPU rate unknown (NaN), which sorts last in the median.
    let cpu: f64 = results
        .iter()
        .map(|r| match r.1 > 0.0 {
            true => r.0 as f64 / (r.1 * 1e-9),
            false => f64::NAN,
        })
        .sum();
    (wall, cpu)
}

/// Pins this thread to CPU `cpu` (modulo the CPUs there are), so that one
/// partition alone and two together always run on the same CPUs: the OS
/// moving a thread between CPUs, or putting it on a busier one, otherwise
/// moves a spell's rate by up to 2x here. Best effort: a refusal leaves the
/// thread where it is.
fn pin_to_cpu(cpu: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // SAFETY: `set` is a valid, writable cpu_set_t; the macros only touch
    // it, and the call only reads it (pid 0: this thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu % cpus, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// The median of `v` (NaN for none; NaNs sort last).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// CPU time this thread has had, in ns.
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

fn main() {
    let mut hv: Hv = Hypervisor::new(GlobalPages);
    let a = add_guest(&mut hv, 0);
    let b = add_guest(&mut hv, 1);
    let c = add_guest_in(&mut hv, 2, FakeGuestMemory::copying());
    let mut breakdown = wanted("papr_h_put_tce").then(|| breakdown::Breakdown::new(&mut hv));
    let mut calls = 0u64;

    sweep(&hv, &a, &mut calls);
    scattered(&hv, &a, &mut calls);
    copied(&hv, &c, &mut calls);

    // The calls counted so far went to `a` and `c` (the two-partition
    // measure's calls below go to `a` too, uncounted).
    let mut kills = [&a, &c]
        .iter()
        .map(|g| g.phb.kills.load(Ordering::Relaxed))
        .sum::<u64>();

    if wanted("papr_two_partitions_speedup") {
        // Short spells taken in sets (one partition alone, two, the
        // control, then one and two threads sharing nothing), each set's
        // ratios computed from its own spells, and the median of the sets
        // kept: the machine's speed drifts over seconds (other tenants of
        // the host), far less within a set.
        let dur = Duration::from_millis(10);
        let (mut wall, mut cpu, mut shared) = (Vec::new(), Vec::new(), Vec::new());
        let (mut machine, mut of_machine) = (Vec::new(), Vec::new());
        for _ in 0..41 {
            let one = rate(&hv, &[&a], dur);
            let two = rate(&hv, &[&a, &b], dur);
            let same = rate(&hv, &[&a, &a], dur);
            // What the machine gives two threads that share nothing, in the
            // same spells' time.
            let alone = rate_sharing_nothing(1, dur);
            let pair = rate_sharing_nothing(2, dur);
            wall.push(two.0 / one.0);
            cpu.push(two.1 / one.1);
            shared.push(same.1 / one.1);
            machine.push(pair.0 / alone.0);
            of_machine.push((two.0 / one.0) / (pair.0 / alone.0));
            // One repetition of the breakdown's between two sets, spread
            // over the seconds these sets take (see `Breakdown`).
            if let Some(b) = breakdown.as_mut().filter(|b| b.wants_more()) {
                b.rep(&hv);
            }
        }
        report("papr_two_partitions_speedup", median(wall), "x");
        report("papr_two_partitions_speedup_cpu", median(cpu), "x");
        // The control: two threads on one partition share its lock, and the
        // measure must show it.
        report(
            "papr_one_partition_two_threads_speedup_cpu",
            median(shared),
            "x",
        );
        // The machine's own: two threads sharing nothing at all, and the
        // two partitions' speedup as a share of it.
        report(
            "papr_two_threads_sharing_nothing_speedup",
            median(machine),
            "x",
        );
        report(
            "papr_two_partitions_of_sharing_nothing",
            median(of_machine),
            "x",
        );
    }

    if let Some(b) = breakdown {
        let (put_calls, put_kills) = b.finish(&hv);
        calls += put_calls;
        kills += put_kills;
    }
    if calls > 0 {
        report(
            "papr_invalidations_per_call",
            kills as f64 / calls as f64,
            "kills/call",
        );
    }

    black_box(hv.take_dirty_pages(a.p).unwrap().len());
}
