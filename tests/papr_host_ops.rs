//! Guests cannot starve host operations (issue 12, finding 2).
//!
//! Four threads issue `H_PUT_TCE` back to back on one partition, each call
//! holding the partition lock across a TCE kill that takes 10 µs or more, so
//! the lock is wanted all the time. Meanwhile the host reads the dirty log,
//! registers and unregisters a region, creates and removes a DDW window and
//! assigns PEs, each of which takes the partition lock. Each must get in
//! after the calls queued before it only, at most one per caller each time
//! it takes the lock: counted as the guest calls that complete while it
//! waits, which, unlike its time, the host OS's own delays do not move (it
//! preempts threads for several ms now and then on this two-CPU machine).
//! Every one must also get in long before the callers stop (measured: about
//! 0.4 ms for the typical one when nothing else runs, 20 ms beside two busy
//! loops, while the count stayed the same).
//!
//! With a reader-preferring reader-writer lock (an earlier design) the
//! first one waited until the callers stopped: the whole run. With a lock
//! that is not taken in order (a test-and-set lock tried as a control) a
//! twentieth of them saw from 19 to over 1,000 calls get in first, while
//! some runs kept every time within a few ms. The ticket lock serves in
//! order.
//!
//! The rule that makes the kill run under the lock still holds: a region
//! cannot be unregistered before the kill that unmapped it has completed
//! (`papr_kill_ordering`).

#[macro_use]
mod kill_phb;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::FakeGuestMemory;
use pnv_iommu::papr::{
    Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
    WindowProgrammer, WindowTable,
};

const CALLERS: u64 = 4;
const KILL: Duration = Duration::from_micros(10);
/// An operation that waits this long is starved: served in order, it gets
/// in after a few calls (at worst 60 ms seen here, beside two busy loops).
const STARVED: Duration = Duration::from_secs(1);
/// Host operations of each kind measured.
const SAMPLES: usize = 20;
/// The callers stop after this, whatever happens (bounds the test).
const DEADLINE: Duration = Duration::from_secs(5);

/// A PHB whose kills take [`KILL`] (at least: the thread sleeps, so that
/// what is measured is the lock, not how the host OS shares two CPUs among
/// five busy threads) and are counted.
#[derive(Default)]
struct SlowKillPhb {
    kills: AtomicU64,
}

impl SlowKillPhb {
    fn kill(&self) -> Result<(), ()> {
        std::thread::sleep(KILL);
        self.kills.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

kill_only_phb!(SlowKillPhb);

fn pe(pe: u16) -> PeConfig {
    PeConfig {
        buid: 0x800_0000,
        config_addr: 0x100 * pe as u32,
        pe,
        default_window_size: 1 << 28,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    }
}

#[test]
fn host_operations_get_in_while_guests_call_back_to_back() {
    let phb = Arc::new(SlowKillPhb::default());
    let mut hv: Hypervisor<SlowKillPhb, GlobalPages> = Hypervisor::new(GlobalPages);
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(0x1_0000_0000, 1 << 24);
    let p: PartitionId = hv
        .add_partition(
            &[RamRegion {
                logical: 0,
                host: 0x1_0000_0000,
                size: 1 << 24,
            }],
            mem,
            PartitionConfig {
                prereg: true,
                ..PartitionConfig::default()
            },
        )
        .unwrap();
    let liobn = hv.attach_pe(p, phb.clone(), pe(1)).unwrap() as u64;
    hv.attach_pe(p, phb.clone(), pe(2)).unwrap();
    // The callers map writable pages of the first 1 MiB.
    hv.prereg_register(p, 0, 1 << 20).unwrap();
    let hv = Arc::new(hv);

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|t| {
            let (hv, stop, calls) = (hv.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) && start.elapsed() < DEADLINE {
                    let entry = t * 64 + i % 64;
                    let page = ((t * 64 + (i + 1) % 64) << 12) | 2;
                    hv.h_put_tce(p, liobn, entry << 12, page).unwrap();
                    i += 1;
                }
                calls.fetch_add(i, Ordering::Relaxed);
            })
        })
        .collect();
    // Let the callers overlap first.
    while phb.kills.load(Ordering::Relaxed) < 100 {
        std::thread::yield_now();
    }

    // How long an operation took, and how many guest calls completed
    // meanwhile (each guest call kills once; an operation's own kills, if
    // any, count too).
    let timed = |f: &mut dyn FnMut()| {
        let kills = phb.kills.load(Ordering::Relaxed);
        let start = Instant::now();
        f();
        let took = start.elapsed();
        (took, phb.kills.load(Ordering::Relaxed) - kills)
    };
    let mut waits: Vec<(&str, (Duration, u64))> = Vec::new();
    let mut dirty = 0;
    for i in 0..SAMPLES {
        // Let the callers run in between.
        std::thread::sleep(Duration::from_millis(2));
        let region = (1u64 << 22) + i as u64 * 0x1000;
        let d = timed(&mut || dirty += hv.take_dirty_pages(p).unwrap().len());
        waits.push(("take_dirty_pages", d));
        let d = timed(&mut || hv.prereg_register(p, region, 0x1000).unwrap());
        waits.push(("prereg_register", d));
        let d = timed(&mut || hv.prereg_unregister(p, region, 0x1000).unwrap());
        waits.push(("prereg_unregister", d));
        let mut created = 0;
        let d = timed(&mut || {
            created = hv
                .ddw_create(p, pe(2).config_addr, pe(2).buid, 12, 30)
                .unwrap()
                .liobn
        });
        waits.push(("ddw_create", d));
        let d = timed(&mut || hv.ddw_remove(p, created).unwrap());
        waits.push(("ddw_remove", d));
        let d = timed(&mut || {
            hv.attach_pe(p, phb.clone(), pe(10 + i as u16)).unwrap();
        });
        waits.push(("attach_pe", d));
    }
    stop.store(true, Ordering::Relaxed);
    for c in callers {
        c.join().unwrap();
    }
    let calls = calls.load(Ordering::Relaxed);
    for (name, (d, n)) in waits.iter().filter(|w| w.1.0 > Duration::from_millis(1)) {
        println!("slow: {name} {d:?}, {n} guest calls meanwhile");
    }
    let worst = waits.iter().max_by_key(|w| w.1.0).unwrap();
    let mut sorted: Vec<Duration> = waits.iter().map(|w| w.1.0).collect();
    sorted.sort();
    let mut ahead: Vec<u64> = waits.iter().map(|w| w.1.1).collect();
    ahead.sort();
    let p95 = ahead[ahead.len() * 95 / 100];
    println!(
        "{} host operations during {calls} guest calls: median {:?}, worst {:?} ({}); \
         guest calls completed meanwhile: median {}, 95th percentile {p95}, most {}",
        waits.len(),
        sorted[sorted.len() / 2],
        worst.1.0,
        worst.0,
        ahead[ahead.len() / 2],
        ahead[ahead.len() - 1],
    );
    // Served in order: each time an operation takes the partition lock
    // (once or twice here) it waits for the calls queued before it, at
    // most one per caller (its own kill counts too). Counted in calls,
    // this does not depend on how the host OS shares two CPUs among five
    // busy threads, which now and then preempts the measuring thread or a
    // caller for several ms; so 95% of the operations must keep it. In
    // time, every one must get in long before the callers stop (a starved
    // one waits for all of [`DEADLINE`]); how long the typical one takes is
    // the OS's doing once other work shares the CPUs (0.4 ms alone, 20 ms
    // beside two busy loops), so it is printed, not bounded.
    assert!(
        p95 <= 2 * CALLERS,
        "95th percentile: {p95} guest calls completed while an operation waited"
    );
    assert!(
        worst.1.0 <= STARVED,
        "{} waited {:?}: starved",
        worst.0,
        worst.1.0
    );
    assert!(calls >= 200, "the callers ran ({calls} calls)");
    assert!(dirty > 0, "replaced writable TCEs marked pages");
}
