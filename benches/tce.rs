//! TCE table benchmarks. Prints one line per figure: `BENCH <name> <value> <unit>`.
//!
//! - `tce_map_dense_*` / `tce_unmap_dense_*`: 1 GiB mapped (or unmapped) in one
//!   call on a table whose levels already exist, ns per TCE (best of several runs).
//! - `tce_map_first_*`: the same map on a fresh table (levels allocated and
//!   first touched during the call).
//! - `tce_exchange_*`: one `exchange` on a mapped page, ns per operation.
//! - `tce_create_*`: creating a table (only the top level is allocated), mean ns
//!   over create/drop cycles; a 1 TiB and a 16 GiB window, to show it does not
//!   depend on the window size.
//! - `tce_bytes_per_page_*`: level memory held per mapped page after a dense
//!   1 GiB map of 64K pages.

use std::hint::black_box;
use std::time::Instant;

use pnv_iommu::iopt::{Gather, IoPageTable, RW};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::tce::{Geometry, Tce, TceTable};

const GIB: u64 = 1 << 30;
const BUS: u64 = 1 << 59;
const PHYS: u64 = 1 << 40;

fn report(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

fn table(window: u64, page_shift: u32, levels: u32) -> TceTable<GlobalPages> {
    TceTable::new(
        Geometry::new(BUS, window, page_shift, levels).unwrap(),
        GlobalPages,
    )
    .unwrap()
}

/// Best time of `runs` runs of `f`, in ns.
fn best_ns(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn dense(page_shift: u32, levels: u32, window: u64) {
    let label = format!("{}k_{}lvl", (1u64 << page_shift) >> 10, levels);
    let tces = (GIB >> page_shift) as f64;
    let runs = if page_shift == 12 { 8 } else { 40 };

    let first = best_ns(3, || {
        let t = table(window, page_shift, levels);
        let mut g = Gather::new();
        t.map(BUS, PHYS, GIB, RW, &mut g).unwrap();
        black_box(&t);
    });
    report(&format!("tce_map_first_{label}"), first / tces, "ns/tce");

    let t = table(window, page_shift, levels);
    let mut g = Gather::new();
    t.map(BUS, PHYS, GIB, RW, &mut g).unwrap();
    let map = best_ns(runs, || t.map(BUS, PHYS, GIB, RW, &mut g).unwrap());
    let unmap = best_ns(runs, || t.unmap(BUS, GIB, &mut g).unwrap());
    report(&format!("tce_map_dense_{label}"), map / tces, "ns/tce");
    report(&format!("tce_unmap_dense_{label}"), unmap / tces, "ns/tce");
}

fn exchange() {
    let t = table(1 << 40, 16, 3);
    t.map_range(BUS, PHYS, GIB, RW).unwrap();
    let pages = GIB >> 16;
    let ops = 2_000_000u64;
    let ns = best_ns(3, || {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..ops {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let page = x % pages;
            let old = t
                .exchange(BUS + (page << 16), Tce::new(PHYS + (i << 16), RW))
                .unwrap();
            black_box(old);
        }
    });
    report("tce_exchange_64k_3lvl", ns / ops as f64, "ns/op");
}

fn create() {
    for (name, window) in [("1t", 1u64 << 40), ("16g", 16 * GIB)] {
        let runs = 20_000;
        let mut total = 0u128;
        for _ in 0..runs {
            let start = Instant::now();
            let t = table(window, 16, 3);
            total += start.elapsed().as_nanos();
            drop(black_box(t));
        }
        let ns = total as f64 / runs as f64;
        report(&format!("tce_create_{name}_64k_3lvl"), ns, "ns");
    }
}

fn bytes_per_page() {
    let pages = (GIB >> 16) as f64;
    // The window is exactly the 1 GiB mapped, in one level: no indirect levels.
    let t = table(GIB, 16, 1);
    t.map_range(BUS, PHYS, GIB, RW).unwrap();
    report(
        "tce_bytes_per_page_1g_64k_1lvl",
        t.bytes_held() as f64 / pages,
        "B/page",
    );
    // A 1 TiB window in 3 levels: the top and one middle level on top of the leaves.
    let t = table(1 << 40, 16, 3);
    t.map_range(BUS, PHYS, GIB, RW).unwrap();
    report(
        "tce_bytes_per_page_1g_64k_3lvl_1t",
        t.bytes_held() as f64 / pages,
        "B/page",
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    for (page_shift, levels, window) in [
        (12, 1, GIB),
        (12, 2, GIB),
        (12, 3, 1 << 39),
        (16, 1, GIB),
        (16, 2, 1 << 34),
        (16, 3, 1 << 40),
    ] {
        dense(page_shift, levels, window);
    }
    exchange();
    create();
    bytes_per_page();
}
