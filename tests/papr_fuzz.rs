//! Random sequences of hypercalls and DDW calls from two partitions whose RAM
//! is interleaved in host memory. After every step:
//! - nothing has panicked;
//! - every valid hardware TCE, found by the reference walker through the TVE
//!   the PHB holds, points inside the host memory of the partition owning the
//!   window, and is exactly the guest's TCE translated through its RAM map;
//! - the map counts equal the number of valid guest TCEs;
//! - every call's status is one its rules allow (a problem-state call:
//!   H_PRIVILEGE only);
//!
//! Over the whole run every kind of changing call must have succeeded (a run
//! in which every call was refused fails).

mod papr_common;

use std::sync::Arc;

use papr_common::*;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::RecordingPhb;
use pnv_iommu::papr::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE};
use pnv_iommu::papr::{HCALL_REGS, PHB4_DDW_PAGES, PartitionConfig, PeConfig, RamRegion};
use pnv_iommu::tce::reference::translate;
use proptest::prelude::*;

const HOST: u64 = 0x1_0000_0000;

/// A: logical 0 and 16 MiB; B: logical 0 and 1 MiB; host regions alternate
/// A, B, A, B in 1 MiB steps.
fn rams() -> [Vec<RamRegion>; 2] {
    let r = |logical, i: u64| RamRegion {
        logical,
        host: HOST + i * MIB,
        size: MIB,
    };
    [vec![r(0, 0), r(16 * MIB, 2)], vec![r(0, 1), r(MIB, 3)]]
}

#[derive(Clone, Debug)]
enum Op {
    Put {
        who: usize,
        win: u32,
        slot: u64,
        tce: u64,
    },
    Get {
        who: usize,
        win: u32,
        slot: u64,
    },
    Stuff {
        who: usize,
        win: u32,
        slot: u64,
        tce: u64,
        count: u64,
    },
    Indirect {
        who: usize,
        win: u32,
        slot: u64,
        list: u64,
        tces: Vec<u64>,
        count: u64,
    },
    Create {
        who: usize,
        page_shift: u32,
        window_shift: u32,
    },
    Remove {
        who: usize,
        win: u32,
    },
    Reset {
        who: usize,
    },
    Register {
        la: u64,
        size: u64,
    },
    Unregister {
        la: u64,
        size: u64,
    },
    Raw {
        who: usize,
        regs: [u64; 5],
        pr: bool,
    },
}

/// TCE values: pages of either partition's logical space, edges, garbage.
fn tce() -> impl Strategy<Value = u64> {
    let page = prop_oneof![
        6 => (0u64..256).prop_map(|p| p << 12),
        1 => (0u64..512).prop_map(|p| p << 12),
        1 => (0u64..32).prop_map(|p| p << 16),
        1 => (0u64..300).prop_map(|p| (16 * MIB) + (p << 12)),
        1 => (0u64..600).prop_map(|p| MIB - 0x8000 + (p << 12)),
        1 => Just(HOST),
        1 => Just(!0xfff),
        1 => any::<u64>(),
    ];
    (page, 0u64..4, prop::bool::weighted(0.05)).prop_map(|(p, perm, junk)| {
        if junk { p | 0x800 | perm } else { p | perm }
    })
}

/// TCE values partition A may map (its first RAM region).
fn good_tce() -> impl Strategy<Value = u64> {
    ((0u64..256).prop_map(|p| p << 12), 1u64..4).prop_map(|(p, perm)| p | perm)
}

fn slot() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..500,
        2 => 0u64..1100,
        1 => Just(u64::MAX >> 12),
        1 => any::<u64>().prop_map(|v| v >> 12),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0usize..2;
    let win = prop_oneof![4 => 0u32..2, 1 => 2u32..4];
    prop_oneof![
        4 => (who.clone(), win.clone(), slot(), tce()).prop_map(|(who, win, slot, tce)| Op::Put { who, win, slot, tce }),
        1 => (who.clone(), win.clone(), slot()).prop_map(|(who, win, slot)| Op::Get { who, win, slot }),
        3 => (who.clone(), win.clone(), slot(), tce(), prop_oneof![0u64..40, 500u64..520])
            .prop_map(|(who, win, slot, tce, count)| Op::Stuff { who, win, slot, tce, count }),
        3 => (who.clone(), win.clone(), slot(), prop_oneof![4 => Just(0x1000u64), 1 => Just(0), 1 => Just(MIB - 0x1000), 1 => Just(16 * MIB), 1 => 0u64..(2 * MIB)],
              prop_oneof![3 => prop::collection::vec(good_tce(), 0..40), 1 => prop::collection::vec(tce(), 0..40)],
              prop_oneof![3 => 0u64..40, 1 => Just(512), 1 => Just(513)])
            .prop_map(|(who, win, slot, list, tces, count)| Op::Indirect { who, win, slot, list, tces, count }),
        1 => (who.clone(), prop::sample::select(vec![12u32, 16, 21, 24, 13]), 12u32..26)
            .prop_map(|(who, page_shift, window_shift)| Op::Create { who, page_shift, window_shift }),
        1 => (who.clone(), win.clone()).prop_map(|(who, win)| Op::Remove { who, win }),
        1 => who.clone().prop_map(|who| Op::Reset { who }),
        1 => ((0u64..2048).prop_map(|p| p << 12), (1u64..64).prop_map(|p| p << 12)).prop_map(|(la, size)| Op::Register { la, size }),
        1 => ((0u64..2048).prop_map(|p| p << 12), (1u64..64).prop_map(|p| p << 12)).prop_map(|(la, size)| Op::Unregister { la, size }),
        1 => (who, any::<[u64; 5]>(), any::<bool>(), prop::sample::select(vec![H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, 7]))
            .prop_map(|(who, mut regs, pr, op)| { regs[0] = op; Op::Raw { who, regs, pr } }),
    ]
}

struct World {
    hv: Hv,
    phb: Arc<RecordingPhb>,
    guests: Vec<Guest>,
}

fn world() -> World {
    let mut hv = Hv::new(GlobalPages);
    let phb = Arc::new(RecordingPhb::new());
    let [a, b] = rams();
    let mut guests = Vec::new();
    for (i, ram) in [a, b].into_iter().enumerate() {
        let mem = Arc::new(pnv_iommu::papr::fake::FakeGuestMemory::new());
        for r in &ram {
            mem.add(r.host, r.size as usize);
        }
        // Partition B pre-registers.
        let config = PartitionConfig {
            prereg: i == 1,
            pin_limit: 256 * 1024,
            ..PartitionConfig::default()
        };
        let p = hv.add_partition(&ram, mem.clone(), config).unwrap();
        let pe = i as u16 + 1;
        let cfg = PeConfig {
            buid: BUID,
            config_addr: u32::from(pe) << 8,
            pe,
            default_window_size: 2 * MIB,
            page_sizes: PHB4_DDW_PAGES,
            max_window_shift: 22,
        };
        let liobn = hv.attach_pe(p, phb.clone(), cfg).unwrap();
        guests.push(Guest {
            p,
            ram,
            mem,
            config_addr: cfg.config_addr,
            pe,
            liobn,
        });
    }
    World { hv, phb, guests }
}

impl World {
    fn liobn(&self, who: usize, win: u32) -> u64 {
        let windows = self.hv.liobns(self.guests[who].p);
        match windows.get(win as usize) {
            Some(w) => w.liobn as u64,
            // Sometimes the other partition's LIOBN, sometimes nothing.
            None => self
                .hv
                .liobns(self.guests[1 - who].p)
                .first()
                .map_or(999, |w| w.liobn as u64),
        }
    }

    fn ioba(&self, who: usize, win: u32, slot: u64) -> u64 {
        let windows = self.hv.liobns(self.guests[who].p);
        match windows.get(win as usize) {
            Some(w) => w.bus_offset.wrapping_add(slot << w.page_shift),
            None => slot << 12,
        }
    }

    /// Applies `op`; returns its kind and whether it succeeded, or an error
    /// when its status is not one the rules allow.
    fn apply(&self, op: &Op) -> Result<(&'static str, bool), TestCaseError> {
        use pnv_iommu::papr::{HStatus, PreregError, RtasStatus};
        let hv = &self.hv;
        let tce_status = |kind, r: Result<(), HStatus>| match r {
            Ok(()) => Ok((kind, true)),
            Err(HStatus::Parameter | HStatus::P4 | HStatus::NotEnoughResources) => {
                Ok((kind, false))
            }
            Err(e) => Err(TestCaseError::fail(format!("{kind}: {e:?}"))),
        };
        let rtas_status = |kind, r: Result<(), RtasStatus>| match r {
            Ok(()) => Ok((kind, true)),
            Err(RtasStatus::ParameterError) => Ok((kind, false)),
            Err(e) => Err(TestCaseError::fail(format!("{kind}: {e:?}"))),
        };
        let prereg_status = |kind, r: Result<(), PreregError>| match r {
            Ok(()) => Ok((kind, true)),
            Err(PreregError::Hardware) => Err(TestCaseError::fail(format!("{kind}: H_HARDWARE"))),
            Err(_) => Ok((kind, false)),
        };
        match op.clone() {
            Op::Put {
                who,
                win,
                slot,
                tce,
            } => tce_status(
                "put",
                hv.h_put_tce(
                    self.guests[who].p,
                    self.liobn(who, win),
                    self.ioba(who, win, slot),
                    tce,
                ),
            ),
            Op::Get { who, win, slot } => tce_status(
                "get",
                hv.h_get_tce(
                    self.guests[who].p,
                    self.liobn(who, win),
                    self.ioba(who, win, slot),
                )
                .map(|_| ()),
            ),
            Op::Stuff {
                who,
                win,
                slot,
                tce,
                count,
            } => tce_status(
                "stuff",
                hv.h_stuff_tce(
                    self.guests[who].p,
                    self.liobn(who, win),
                    self.ioba(who, win, slot),
                    tce,
                    count,
                ),
            ),
            Op::Indirect {
                who,
                win,
                slot,
                list,
                tces,
                count,
            } => {
                let g = &self.guests[who];
                if let Some(r) = g
                    .ram
                    .iter()
                    .find(|r| list >= r.logical && list + 8 * 40 <= r.logical + r.size)
                {
                    g.mem.write_be_u64s(r.host + (list - r.logical), &tces);
                }
                tce_status(
                    "indirect",
                    hv.h_put_tce_indirect(
                        g.p,
                        self.liobn(who, win),
                        self.ioba(who, win, slot),
                        list,
                        count,
                    ),
                )
            }
            Op::Create {
                who,
                page_shift,
                window_shift,
            } => {
                let g = &self.guests[who];
                rtas_status(
                    "create",
                    hv.ddw_create(g.p, g.config_addr, BUID, page_shift, window_shift)
                        .map(|_| ()),
                )
            }
            Op::Remove { who, win } => rtas_status(
                "remove",
                hv.ddw_remove(self.guests[who].p, self.liobn(who, win) as u32),
            ),
            Op::Reset { who } => {
                let g = &self.guests[who];
                rtas_status("reset", hv.ddw_reset(g.p, g.config_addr, BUID))
            }
            Op::Register { la, size } => {
                prereg_status("register", hv.prereg_register(self.guests[1].p, la, size))
            }
            Op::Unregister { la, size } => prereg_status(
                "unregister",
                hv.prereg_unregister(self.guests[1].p, la, size),
            ),
            Op::Raw { who, regs, pr } => {
                let mut r = [0u64; HCALL_REGS];
                r[..5].copy_from_slice(&regs);
                hv.hcall(self.guests[who].p, &mut r, pr);
                let status = r[0] as i64;
                if pr && status != HStatus::Privilege as i64 {
                    return Err(TestCaseError::fail(format!("problem state: {status}")));
                }
                Ok(("raw", status == 0))
            }
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        for g in &self.guests {
            let ram = self.hv.ram(g.p).unwrap();
            let mut valid = 0u64;
            for w in self.hv.liobns(g.p) {
                let prog = self.phb.window(w.pe, w.n).expect("window programmed");
                let (tve, image) = self
                    .hv
                    .inspect_table(g.p, w.liobn, |t| (t.tve(), t.memory_image()))
                    .unwrap();
                prop_assert_eq!(prog.tve, tve);
                let pages = w.window_size >> w.page_shift;
                let guest = self
                    .hv
                    .read_tces(g.p, w.liobn as u64, w.bus_offset, pages)
                    .unwrap();
                for (i, &gv) in guest.iter().enumerate() {
                    let ioba = w.bus_offset + ((i as u64) << w.page_shift);
                    let hw = translate(tve, ioba, &image);
                    if gv & 3 == 0 {
                        prop_assert!(hw.is_err(), "stale entry at {:#x}", ioba);
                        continue;
                    }
                    valid += 1;
                    let hw = hw.map_err(|e| TestCaseError::fail(format!("{e:?} at {ioba:#x}")))?;
                    let page = 1u64 << w.page_shift;
                    // Inside the owner's host memory, first and last byte.
                    prop_assert!(ram.contains_host(hw.phys), "{:#x} not owned", hw.phys);
                    prop_assert!(ram.contains_host(hw.phys + page - 1));
                    prop_assert_eq!(Some(hw.phys), ram.translate(gv & !3, page));
                    prop_assert_eq!(hw.perm.bits(), gv & 3);
                }
            }
            let counted: u64 = self.hv.mapped_regions(g.p).iter().map(|r| r.mapped).sum();
            prop_assert_eq!(counted, valid);
        }
        Ok(())
    }
}

#[test]
fn hypercall_sequences_keep_devices_inside_their_partition() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    // Successes per kind of call, over every case run.
    let tally: RefCell<BTreeMap<&'static str, (u64, u64)>> = RefCell::default();
    // A fixed seed: the non-vacuity check below must not depend on luck
    // (with random seeds some runs drew no successful INDIRECT).
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 24,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    runner
        .run(&prop::collection::vec(op(), 1..40), |ops| {
            let w = world();
            w.check()?;
            for op in &ops {
                let (kind, ok) = w.apply(op)?;
                let mut t = tally.borrow_mut();
                let e = t.entry(kind).or_default();
                e.0 += 1;
                e.1 += u64::from(ok);
                drop(t);
                w.check()?;
            }
            Ok(())
        })
        .unwrap();
    // Not vacuous: the changing calls succeeded, not only were refused.
    let t = tally.into_inner();
    for kind in [
        "put", "stuff", "indirect", "create", "remove", "reset", "register",
    ] {
        let (calls, ok) = t.get(kind).copied().unwrap_or_default();
        assert!(ok > 0, "no {kind} call of {calls} succeeded: {t:?}");
    }
    eprintln!("successes per call kind: {t:?}");
}
