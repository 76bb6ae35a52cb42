//! Threads issuing `H_PUT_TCE`, `H_STUFF_TCE` and `H_PUT_TCE_INDIRECT` on a
//! shared LIOBN and on one LIOBN each, with an observer taking atomic
//! snapshots of the shared window.
//!
//! Every write identifies its thread and operation: operation `j` of thread
//! `t` has id `t * OPS + j` and writes pages `id * B + i`. Checked:
//! - snapshots never show a torn block: each block of `B` entries is always
//!   one operation's complete write (STUFF: B equal values; INDIRECT: B
//!   consecutive pages);
//! - finally, each block and each single entry holds the *last* write some
//!   thread made to it, each private window holds exactly its thread's last
//!   writes (the serial result), the hardware entries are those values
//!   translated to host addresses, and the map count equals the valid entries.

mod papr_common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use papr_common::*;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{PartitionConfig, RamRegion};

const THREADS: u64 = 4;
const OPS: u64 = 400;
/// Entries per block.
const B: u64 = 8;
const BLOCKS: u64 = 16;
const SINGLES: u64 = 16;
const SINGLE_BASE: u64 = 0x10_0000;
const HOST: u64 = 0x40_0000_0000;
const RAM: u64 = 64 * MIB;
const RW: u64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Put,
    Stuff,
    Indirect,
}

fn kind(t: u64, j: u64) -> Kind {
    match (t + j) % 3 {
        0 => Kind::Put,
        1 => Kind::Stuff,
        _ => Kind::Indirect,
    }
}

/// Guest TCE of entry `i` of operation `id`.
fn value(id: u64, k: Kind, i: u64) -> u64 {
    let page = id * B + if k == Kind::Indirect { i } else { 0 };
    (page << 12) | RW
}

/// The operation a block's values belong to, if they form one complete write.
fn block_owner(values: &[u64]) -> Option<u64> {
    if values.iter().all(|&v| v == 0) {
        return Some(u64::MAX); // never written
    }
    let id = (values[0] >> 12) / B;
    let (t, j) = (id / OPS, id % OPS);
    let k = kind(t, j);
    let whole = values
        .iter()
        .enumerate()
        .all(|(i, &v)| v == value(id, k, i as u64));
    whole.then_some(id)
}

fn lcg(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *x >> 33
}

#[test]
fn concurrent_batches_are_atomic_and_last_writes_win() {
    let mut hv = Hv::new(GlobalPages);
    let phb = Arc::new(RecordingPhb::new());
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(HOST, RAM as usize);
    let ram = [RamRegion {
        logical: 0,
        host: HOST,
        size: RAM,
    }];
    let p = hv
        .add_partition(&ram, mem.clone(), PartitionConfig::default())
        .unwrap();
    // PE 1: the shared window; PEs 2..: one window per thread.
    let shared = hv.attach_pe(p, phb.clone(), pe_config(0x100, 1)).unwrap() as u64;
    let private: Vec<u64> = (0..THREADS)
        .map(|t| {
            let pe = t as u16 + 2;
            hv.attach_pe(p, phb.clone(), pe_config(u32::from(pe) << 8, pe))
                .unwrap() as u64
        })
        .collect();
    let hv = &hv;
    let stop = AtomicBool::new(false);

    // Per thread: last op id on each block and each single entry.
    let records: Vec<(HashMap<u64, u64>, HashMap<u64, u64>)> = std::thread::scope(|s| {
        let observer = s.spawn(|| {
            let mut snapshots = 0;
            while !stop.load(Ordering::Relaxed) || snapshots == 0 {
                let v = hv.read_tces(p, shared, 0, BLOCKS * B).unwrap();
                for (b, block) in v.chunks(B as usize).enumerate() {
                    assert!(block_owner(block).is_some(), "torn block {b}: {block:x?}");
                }
                snapshots += 1;
            }
            snapshots
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let mem = &mem;
                let private = private[t as usize];
                s.spawn(move || {
                    let mut blocks = HashMap::new();
                    let mut singles = HashMap::new();
                    let mut rng = t + 1;
                    let list_la = RAM - (t + 1) * 0x1000;
                    for j in 0..OPS {
                        let id = t * OPS + j;
                        let k = kind(t, j);
                        // One pick per operation, used on both windows.
                        let pick = lcg(&mut rng);
                        for liobn in [shared, private] {
                            match k {
                                Kind::Put => {
                                    let e = pick % SINGLES;
                                    let ioba = SINGLE_BASE + e * 0x1000;
                                    hv.h_put_tce(p, liobn, ioba, value(id, k, 0)).unwrap();
                                    if liobn == shared {
                                        singles.insert(e, id);
                                    }
                                }
                                Kind::Stuff | Kind::Indirect => {
                                    let b = pick % BLOCKS;
                                    let ioba = b * B * 0x1000;
                                    if k == Kind::Stuff {
                                        hv.h_stuff_tce(p, liobn, ioba, value(id, k, 0), B).unwrap();
                                    } else {
                                        let list: Vec<u64> =
                                            (0..B).map(|i| value(id, k, i)).collect();
                                        assert!(mem.write_be_u64s(HOST + list_la, &list));
                                        hv.h_put_tce_indirect(p, liobn, ioba, list_la, B).unwrap();
                                    }
                                    if liobn == shared {
                                        blocks.insert(b, id);
                                    }
                                }
                            }
                        }
                    }
                    (blocks, singles)
                })
            })
            .collect();
        let records = workers.into_iter().map(|w| w.join().unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
        assert!(observer.join().unwrap() > 0);
        records
    });

    let shared_now = hv.read_tces(p, shared, 0, BLOCKS * B).unwrap();
    for b in 0..BLOCKS {
        let block = &shared_now[(b * B) as usize..((b + 1) * B) as usize];
        let owner = block_owner(block).expect("final block is whole");
        let lasts: Vec<u64> = records
            .iter()
            .filter_map(|r| r.0.get(&b).copied())
            .collect();
        if lasts.is_empty() {
            assert_eq!(owner, u64::MAX);
        } else {
            assert!(
                lasts.contains(&owner),
                "block {b}: {owner} not among {lasts:?}"
            );
        }
    }
    for e in 0..SINGLES {
        let v = hv.h_get_tce(p, shared, SINGLE_BASE + e * 0x1000).unwrap();
        let lasts: Vec<u64> = records
            .iter()
            .filter_map(|r| r.1.get(&e).copied())
            .collect();
        assert!(
            lasts.iter().any(|&id| v == value(id, Kind::Put, 0)) || (lasts.is_empty() && v == 0)
        );
    }
    // Private windows: the serial result of one thread's operations.
    for t in 0..THREADS {
        let mut rng = t + 1;
        let mut model: HashMap<u64, u64> = HashMap::new();
        for j in 0..OPS {
            let id = t * OPS + j;
            let k = kind(t, j);
            match k {
                Kind::Put => {
                    let e = lcg(&mut rng) % SINGLES;
                    model.insert(SINGLE_BASE + e * 0x1000, value(id, k, 0));
                }
                _ => {
                    let b = lcg(&mut rng) % BLOCKS;
                    for i in 0..B {
                        model.insert((b * B + i) * 0x1000, value(id, k, i));
                    }
                }
            }
        }
        let liobn = private[t as usize];
        for (&ioba, &v) in &model {
            assert_eq!(hv.h_get_tce(p, liobn, ioba), Ok(v));
        }
        let valid = hv
            .read_tces(p, liobn, 0, (SINGLE_BASE >> 12) + SINGLES)
            .unwrap()
            .iter()
            .filter(|&&v| v != 0)
            .count();
        assert_eq!(valid, model.len());
    }
    // Hardware entries are the guest values moved to the host, everywhere.
    let mut valid = 0;
    for liobn in std::iter::once(shared).chain(private.iter().copied()) {
        let guest = hv
            .read_tces(p, liobn, 0, (SINGLE_BASE >> 12) + SINGLES)
            .unwrap();
        for (i, &g) in guest.iter().enumerate() {
            let hw = hv.hardware_tce(p, liobn, i as u64 * 0x1000).unwrap();
            if g == 0 {
                assert!(!hw.is_valid());
            } else {
                valid += 1;
                assert_eq!(hw.raw(), HOST + g);
            }
        }
    }
    assert_eq!(hv.mapped_regions(p)[0].mapped, valid);
    // One kill per call: PUT/STUFF/INDIRECT calls = 2 * THREADS * OPS.
    assert_eq!(phb.kills().kills(), 2 * THREADS * OPS);
}
