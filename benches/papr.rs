//! PAPR TCE hypercall benchmarks. Prints `BENCH <name> <value> <unit>` lines.
//!
//! - `papr_h_put_tce`: one `H_PUT_TCE`, ns per call (locks, shadow, one kill).
//! - `papr_h_put_tce_indirect_512`: `H_PUT_TCE_INDIRECT` of 512 entries, ns per
//!   TCE: list copied from guest memory, every entry validated before any is
//!   written, old entries settled (references, dirty log). Two lists naming
//!   different pages alternate, so every call replaces 512 valid TCEs.
//! - `papr_h_stuff_tce_512`: `H_STUFF_TCE` of 512 entries, ns per TCE, two
//!   values alternating.
//! - `papr_invalidations_per_call`: TCE kills issued per call over all of the
//!   above (must be 1).
//!
//! Each figure is the best of several runs of many calls. Arguments other
//! than flags filter the figures by name (`=name` for an exact match), for
//! profiling one of them; the invalidation count covers whatever ran.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{
    Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
};

const MIB: u64 = 1 << 20;
const HOST: u64 = 0x20_0000_0000;
const RAM: u64 = 64 * MIB;
const RW: u64 = 3;

fn report(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

fn best_ns(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Whether figure `name` was asked for (no filter: all of them).
fn wanted(name: &str) -> bool {
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

fn main() {
    let mut hv: Hypervisor<RecordingPhb, GlobalPages> = Hypervisor::new(GlobalPages);
    let phb = Arc::new(RecordingPhb::new());
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(HOST, RAM as usize);
    let ram = [RamRegion {
        logical: 0,
        host: HOST,
        size: RAM,
    }];
    let p: PartitionId = hv
        .add_partition(&ram, mem.clone(), PartitionConfig::default())
        .unwrap();
    let cfg = PeConfig {
        buid: 0x800_0000,
        config_addr: 0x100,
        pe: 1,
        default_window_size: 1 << 30,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    };
    let liobn = hv.attach_pe(p, phb.clone(), cfg).unwrap() as u64;

    // Two lists of 512 distinct pages each, at logical 1 MiB and 1 MiB + 4K.
    let lists = [MIB, MIB + 0x1000];
    for (n, &la) in lists.iter().enumerate() {
        let tces: Vec<u64> = (0..512u64)
            .map(|i| ((4 * MIB) + (n as u64 * 512 + i) * 0x1000) | RW)
            .collect();
        assert!(mem.write_be_u64s(HOST + la, &tces));
    }
    let kills_before = phb.kills().kills();
    let mut calls = 0u64;

    // H_PUT_TCE.
    const PUTS: u64 = 200_000;
    if wanted("papr_h_put_tce") {
        let put = best_ns(5, || {
            for i in 0..PUTS {
                let ioba = (i & 511) << 12;
                let page = ((i & 1) + 2) << 12;
                hv.h_put_tce(p, liobn, ioba, page | RW).unwrap();
            }
        });
        calls += 5 * PUTS;
        report("papr_h_put_tce", put / PUTS as f64, "ns/call");
    }

    // H_PUT_TCE_INDIRECT(512).
    const BATCHES: u64 = 4_000;
    let base = 0x100_0000;
    hv.h_put_tce_indirect(p, liobn, base, lists[0], 512)
        .unwrap();
    calls += 1;
    if wanted("papr_h_put_tce_indirect_512") {
        let indirect = best_ns(7, || {
            for i in 0..BATCHES {
                hv.h_put_tce_indirect(p, liobn, base, lists[(i & 1) as usize], 512)
                    .unwrap();
            }
        });
        calls += 7 * BATCHES;
        report(
            "papr_h_put_tce_indirect_512",
            indirect / (BATCHES * 512) as f64,
            "ns/tce",
        );
    }

    // H_STUFF_TCE(512).
    let sbase = 0x200_0000;
    if wanted("papr_h_stuff_tce_512") {
        let stuff = best_ns(7, || {
            for i in 0..BATCHES {
                let page = (0x10_0000 + (i & 1) * 0x1000) | RW;
                hv.h_stuff_tce(p, liobn, sbase, page, 512).unwrap();
            }
        });
        calls += 7 * BATCHES;
        report(
            "papr_h_stuff_tce_512",
            stuff / (BATCHES * 512) as f64,
            "ns/tce",
        );
    }

    black_box(hv.take_dirty_pages(p).len());
    let kills = phb.kills().kills() - kills_before;
    report(
        "papr_invalidations_per_call",
        kills as f64 / calls as f64,
        "kills/call",
    );
}
