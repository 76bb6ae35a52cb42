//! `H_PUT_TCE` and `H_STUFF_TCE` have paths of their own for their common
//! case (one unit, the entries' leaf level and shadow chunks already there).
//! They must do exactly what the batch path does: here two twin partitions
//! get the same sequence of calls, one through `H_PUT_TCE` or `H_STUFF_TCE`,
//! the other through `H_PUT_TCE_INDIRECT` of the same values (always the
//! batch path: its guest memory lends no list), and after every call the
//! statuses, the guest values, the hardware entries, the map count, the
//! dirty log and the kills must agree.
//!
//! The values cover what the common path decides alone: valid entries with
//! each permission, clears with and without stray bits, reserved bits,
//! misaligned and out-of-range addresses, the last page of RAM, IOBAs
//! misaligned or outside the window; entries first written in a fresh
//! chunk (the batch path allocates) and then replaced (the common path).

mod papr_common;

use std::sync::Arc;

use papr_common::*;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{HStatus, PartitionConfig, RamRegion};

const PAGE: u64 = 0x1000;
const RAM: u64 = 16 * MIB;
const LIST: u64 = 0x1000;

/// The values tried, for entry `i` of the sequence.
fn tce(i: u64) -> u64 {
    let page = (i * 7919 % (RAM / PAGE)) * PAGE;
    match i % 12 {
        0..=3 => page | (i % 3 + 1),
        4 => 0,
        5 => page,                  // a clear with address bits
        6 => page | 0x800 | 3,      // a reserved bit
        7 => (RAM - PAGE) | 2,      // the last page
        8 => RAM | 1,               // just past RAM
        9 => u64::MAX,              // every bit
        10 => (1 << 62) | page | 3, // far outside
        _ => page | 1 | 4,          // a bit between the flags and the page
    }
}

/// The IOBA of call `i` setting `n` entries: mostly inside a few chunks
/// (so entries are replaced), whole chunks for 512, some misaligned or
/// running past the 256 MiB window.
fn ioba(i: u64, n: u64) -> u64 {
    match i % 17 {
        15 => 0x10 + PAGE,
        16 => DEFAULT_WINDOW - (i % 3) * PAGE,
        _ if n == 512 => (i % 3) * 512 * PAGE,
        // 96 entries, each written about every 96 calls; a new place every
        // 1000 calls (the last one across a chunk boundary).
        _ => ((i * 31) % 96 + (i / 1000) * 460) * PAGE,
    }
}

/// The first of the `n` entries a call at `io` names, or entry 0 for a run
/// no call can name.
fn probe(io: u64, n: u64) -> u64 {
    if !io.is_multiple_of(PAGE) || io + n * PAGE > DEFAULT_WINDOW {
        0
    } else {
        io
    }
}

#[test]
fn h_put_tce_does_what_a_one_entry_batch_does() {
    twins(PartitionConfig::default(), |_| 1);
}

/// The same at the TCE-memory limit: once the first call has allocated a
/// leaf level and a shadow chunk, every later call storing a non-zero
/// value is refused, even where nothing needs allocating; clears go on.
#[test]
fn at_the_memory_limit_h_put_tce_refuses_what_a_batch_refuses() {
    let config = PartitionConfig {
        tce_memory_limit: 1,
        ..PartitionConfig::default()
    };
    twins(config, |_| 1);
}

/// `H_STUFF_TCE` of `n` entries against a batch listing the value `n` times:
/// runs inside a chunk (kept as a run of one value), whole chunks (kept as
/// one value), runs across a chunk boundary, and single entries set by
/// `H_PUT_TCE` among them (which write a run out).
#[test]
fn h_stuff_tce_does_what_a_batch_of_equal_entries_does() {
    twins(PartitionConfig::default(), |i| {
        [2, 7, 64, 512, 24, 1][(i % 6) as usize]
    });
}

#[test]
fn at_the_memory_limit_h_stuff_tce_refuses_what_a_batch_refuses() {
    let config = PartitionConfig {
        tce_memory_limit: 1,
        ..PartitionConfig::default()
    };
    twins(config, |i| [2, 7, 64, 512, 24][(i % 5) as usize]);
}

/// Call `i` sets `count(i)` entries (`H_PUT_TCE` for one, `H_STUFF_TCE` for
/// more) on one twin and the same through `H_PUT_TCE_INDIRECT` on the other.
fn twins(config: PartitionConfig, count: impl Fn(u64) -> u64) {
    let mut hv = Hv::new(GlobalPages);
    let ram = |host| {
        [RamRegion {
            logical: 0,
            host,
            size: RAM,
        }]
    };
    let (phb_a, phb_b) = (
        Arc::new(RecordingPhb::logging()),
        Arc::new(RecordingPhb::logging()),
    );
    let a = add_guest(&mut hv, &phb_a, &ram(0x4_0000_0000), config, 1);
    // The batch path: memory that lends no list.
    let copying = FakeGuestMemory::copying();
    let b = add_guest_in(&mut hv, &phb_b, &ram(0x8_0000_0000), config, 2, copying);
    let seen = |g: &Guest, phb: &RecordingPhb, status, io: u64, n: u64| {
        seen(&hv, g, g.liobn, phb, status, (probe(io, n), n, PAGE))
    };
    let (mut common, mut refused) = (0, 0);
    for i in 0..3000u64 {
        let n = count(i);
        let (io, v) = (ioba(i, n), tce(i));
        if i % 500 == 0 {
            // The dirty logs are read (and emptied) now and then.
            assert_eq!(hv.take_dirty_pages(a.p), hv.take_dirty_pages(b.p));
        }
        let before = hv.read_tces(a.p, a.liobn as u64, probe(io, n), n).unwrap();
        let status_a = match n {
            1 => hv.h_put_tce(a.p, a.liobn as u64, io, v),
            _ => hv.h_stuff_tce(a.p, a.liobn as u64, io, v, n),
        };
        b.write_list(LIST, &vec![v; n as usize]);
        let status_b = hv.h_put_tce_indirect(b.p, b.liobn as u64, io, LIST, n);
        let (sa, sb) = (
            seen(&a, &phb_a, status_a, io, n),
            seen(&b, &phb_b, status_b, io, n),
        );
        assert_eq!(sa, sb, "call {i}: {n} x ({io:#x}, {v:#x})");
        // The common path ran: the entries' chunk was there (it held a
        // non-zero entry) and the call did not fail.
        let was_there = before.iter().any(|&o| o != 0);
        common += u64::from(was_there && probe(io, n) == io && status_a.is_ok());
        refused += u64::from(status_a == Err(HStatus::NotEnoughResources));
    }
    // Not vacuous: many calls replaced entries (the common path) or, at the
    // limit, were refused; nothing is refused without one.
    if config.tce_memory_limit == 1 {
        assert!(refused > 1000, "only {refused} calls refused at the limit");
    } else {
        assert!(common > 1000, "only {common} calls replaced entries");
        assert_eq!(refused, 0);
    }
}
