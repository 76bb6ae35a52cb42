//! The PAPR world: three partitions (one RAM region; two regions and a small
//! TCE-memory limit; pre-registration) with PEs on one recording PHB, and
//! calls biased toward ones that succeed: TCE values naming pages the
//! partition may map, IOBAs inside its windows (often the same few, so
//! entries get replaced), lists in its RAM; with a share of calls that must
//! be refused, DDW create/remove/reset, pre-registration, dirty-log reads,
//! and register-level calls (problem state included).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::hcall::{H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE};
use pnv_iommu::papr::{
    HCALL_REGS, HStatus, Hypervisor, LiobnInfo, PHB4_DDW_PAGES, PartitionConfig, PartitionId,
    PeConfig, PreregError, RamRegion, RtasStatus,
};

use crate::check;
use crate::rng::Rng;

pub type Hv = Hypervisor<RecordingPhb, GlobalPages>;

/// BUID of the one PHB.
pub const BUID: u64 = 0x0800_0000_2000_0000;
const PAGE: u64 = 0x1000;
const MIB: u64 = 1 << 20;
/// Largest dynamic window (log2 bytes): small enough to scan whole.
const MAX_WINDOW_SHIFT: u32 = 24;
/// Default windows: 2 MiB of 4 KiB pages.
const DEFAULT_WINDOW: u64 = 2 * MIB;

/// One partition as the driver sees it.
pub struct Part {
    pub p: PartitionId,
    pub ram: Vec<RamRegion>,
    pub mem: Arc<FakeGuestMemory>,
    pub configs: Vec<u32>,
    pub prereg: bool,
    /// Valid guest TCEs in all its windows (the driver's own count).
    pub valid: u64,
}

/// The hypervisor and what the driver knows about it.
pub struct World {
    pub hv: Arc<Hv>,
    pub phb: Arc<RecordingPhb>,
    pub parts: Vec<Part>,
    /// Host operations run beside the calls: the checks that compare two
    /// host reports (which that thread may change between them) are skipped.
    pub concurrent: bool,
}

/// What one call did, for the statistics.
pub struct Outcome {
    /// The call changed hypervisor state (a TCE batch, a window, a region,
    /// a dirty-log read that cleared pages).
    pub changed: bool,
}

fn region(logical: u64, host: u64, size: u64) -> RamRegion {
    RamRegion {
        logical,
        host,
        size,
    }
}

impl World {
    /// A fresh world.
    pub fn new() -> World {
        let mut hv = Hv::new(GlobalPages);
        let phb = Arc::new(RecordingPhb::new());
        let layouts: [(Vec<RamRegion>, PartitionConfig, Vec<u16>); 3] = [
            (
                vec![region(0, 0x10_0000_0000, 32 * MIB)],
                PartitionConfig::default(),
                vec![1, 2],
            ),
            (
                vec![
                    region(0, 0x20_0000_0000, 16 * MIB),
                    region(64 * MIB, 0x30_0000_0000, 8 * MIB),
                ],
                PartitionConfig {
                    tce_memory_limit: 256 << 10,
                    ..PartitionConfig::default()
                },
                vec![3],
            ),
            (
                vec![
                    region(0, 0x40_0000_0000, 16 * MIB),
                    region(32 * MIB, 0x48_0000_0000, 4 * MIB),
                ],
                PartitionConfig {
                    prereg: true,
                    pin_limit: 8 * MIB,
                    ..PartitionConfig::default()
                },
                vec![4],
            ),
        ];
        let mut parts = Vec::new();
        for (ram, config, pes) in layouts {
            let mem = Arc::new(FakeGuestMemory::new());
            for r in &ram {
                mem.add(r.host, r.size as usize);
            }
            let p = hv
                .add_partition(&ram, mem.clone(), config)
                .expect("partition");
            let mut configs = Vec::new();
            for pe in pes {
                let cfg = PeConfig {
                    buid: BUID,
                    config_addr: u32::from(pe) << 8,
                    pe,
                    default_window_size: DEFAULT_WINDOW,
                    page_sizes: PHB4_DDW_PAGES,
                    max_window_shift: MAX_WINDOW_SHIFT,
                };
                hv.attach_pe(p, phb.clone(), cfg).expect("attach");
                configs.push(cfg.config_addr);
            }
            parts.push(Part {
                p,
                ram,
                mem,
                configs,
                prereg: config.prereg,
                valid: 0,
            });
        }
        World {
            hv: Arc::new(hv),
            phb,
            parts,
            concurrent: false,
        }
    }

    /// The regions a TCE of partition `i` may name: (logical, size).
    pub fn units(&self, i: usize) -> Vec<(u64, u64)> {
        let part = &self.parts[i];
        if part.prereg {
            self.hv
                .mapped_regions(part.p)
                .iter()
                .map(|r| (r.logical, r.size))
                .collect()
        } else {
            part.ram.iter().map(|r| (r.logical, r.size)).collect()
        }
    }

    /// A TCE value naming a page of `page` bytes partition `i` may map, with
    /// random permissions, or `None` if no unit holds such a page.
    fn good_tce(&self, rng: &mut Rng, i: usize, page: u64) -> Option<u64> {
        let units = self.units(i);
        if units.is_empty() {
            return None;
        }
        let (logical, size) = units[rng.below(units.len() as u64) as usize];
        let first = logical.next_multiple_of(page);
        let pages = (logical + size).saturating_sub(first) / page;
        if pages == 0 {
            return None;
        }
        // Often the first pages (runs of entries replace each other).
        let k = if rng.chance(50) {
            rng.below(pages.min(8))
        } else {
            rng.below(pages)
        };
        Some((first + k * page) | rng.range(1, 3))
    }

    /// A TCE value the partition may not map (or that is malformed).
    fn bad_tce(&self, rng: &mut Rng, i: usize, page: u64) -> u64 {
        let end = self.parts[i].ram.iter().map(|r| r.logical + r.size).max();
        let other = &self.parts[(i + 1) % self.parts.len()].ram[0];
        let perm = rng.range(1, 3);
        match rng.below(5) {
            0 => end.unwrap_or(0).next_multiple_of(page) | perm,
            1 => (rng.below(1 << 20) * page + 0x800) | perm,
            2 => other.host | perm,
            3 => !(page - 1) | perm,
            _ => rng.edge() | 1,
        }
    }

    /// A window of partition `i`, if it has one.
    fn window(&self, rng: &mut Rng, i: usize) -> Option<LiobnInfo> {
        let ws = self.hv.liobns(self.parts[i].p);
        (!ws.is_empty()).then(|| ws[rng.below(ws.len() as u64) as usize])
    }

    /// Runs one random call of partition `i`; `Err` on a broken invariant.
    pub fn call(&mut self, rng: &mut Rng, stats: &mut check::Peak) -> Result<Outcome, String> {
        let i = rng.below(self.parts.len() as u64) as usize;
        let kind = rng.weighted(&[30, 14, 22, 4, 6, 8, 6, 5, 5]);
        let Some(w) = self.window(rng, i) else {
            // No window left on any PE: get one back.
            let part = &self.parts[i];
            let cfg = part.configs[0];
            self.hv
                .ddw_reset(part.p, cfg, BUID)
                .map_err(|e| format!("reset of a PE without windows: {e:?}"))?;
            self.recount(i)?;
            return Ok(Outcome { changed: true });
        };
        let out = match kind {
            0..=2 => self.tce_batch(rng, i, w, kind)?,
            3 => self.get(rng, i, w)?,
            4 => self.raw(rng, i, w)?,
            5 => self.ddw(rng, i)?,
            6 => self.prereg(rng, i)?,
            7 => self.dirty(rng, i)?,
            _ => self.refused(rng, i, w)?,
        };
        stats.see(self.parts.iter().map(|p| p.valid).sum());
        Ok(out)
    }

    /// H_PUT_TCE (kind 0), H_STUFF_TCE (1) or H_PUT_TCE_INDIRECT (2) at a
    /// valid IOBA, mostly with good values.
    fn tce_batch(
        &mut self,
        rng: &mut Rng,
        i: usize,
        w: LiobnInfo,
        kind: usize,
    ) -> Result<Outcome, String> {
        let page = 1u64 << w.page_shift;
        let pages = w.window_size >> w.page_shift;
        let first = if rng.chance(60) {
            rng.below(pages.min(96))
        } else if rng.chance(30) {
            pages - 1 - rng.below(pages.min(32))
        } else {
            rng.below(pages)
        };
        let room = pages - first;
        let count = match kind {
            0 => 1,
            _ if rng.chance(70) => rng.range(1, room.min(64)),
            _ if rng.chance(90) => rng.range(1, room.min(512)),
            _ => rng.pick(&[0, 513, room + 1, u64::MAX]),
        };
        let ioba = w.bus_offset + (first << w.page_shift);
        let value = |w: &World, rng: &mut Rng| match rng.below(100) {
            0..=74 => w.good_tce(rng, i, page).unwrap_or(0),
            75..=91 => 0,
            _ => w.bad_tce(rng, i, page),
        };
        let (p, liobn) = (self.parts[i].p, u64::from(w.liobn));
        let checked = count.min(room);
        let before = check::valid_in(&self.hv, p, w, first, checked)?;
        let held = self.hv.tce_memory(p).ok_or("no partition")?;
        let (result, stores) = match kind {
            0 | 1 => {
                let tce = value(self, rng);
                let r = if kind == 0 {
                    self.hv.h_put_tce(p, liobn, ioba, tce)
                } else {
                    self.hv.h_stuff_tce(p, liobn, ioba, tce, count)
                };
                (r, tce != 0)
            }
            _ => {
                let (list, tces) = self.list(rng, i, page, count.min(512), &value);
                let r = self.hv.h_put_tce_indirect(p, liobn, ioba, list, count);
                (r, tces.iter().any(|&v| v != 0))
            }
        };
        if result.is_ok() && stores && held.charged >= held.limit {
            return Err(format!(
                "a batch storing TCEs was accepted at the TCE-memory limit ({held:?})"
            ));
        }
        match result {
            Ok(()) | Err(HStatus::Parameter) | Err(HStatus::P4) => {}
            Err(HStatus::NotEnoughResources) if held.charged >= held.limit => {}
            Err(e) => return Err(format!("batch of {count} at {ioba:#x}: {e:?}")),
        }
        if kind == 1 && count > 512 && result != Err(HStatus::P4) {
            return Err(format!("H_STUFF_TCE of {count} returned {result:?}"));
        }
        let after = check::valid_in(&self.hv, p, w, first, checked)?;
        if result.is_err() && after != before {
            return Err(format!(
                "a refused batch ({result:?}) changed the valid entries"
            ));
        }
        let part = &mut self.parts[i];
        part.valid = part.valid + after - before;
        let units = self.units(i);
        check::range(&self.hv, &self.parts[i], &units, w, first, checked)?;
        check::counts(&self.hv, &self.parts[i])?;
        Ok(Outcome {
            changed: result.is_ok() && count > 0,
        })
    }

    /// Writes a TCE list of `count` entries into a page of partition `i`'s
    /// RAM; returns its logical address (sometimes a bad one) and the values.
    fn list(
        &self,
        rng: &mut Rng,
        i: usize,
        page: u64,
        count: u64,
        value: &dyn Fn(&World, &mut Rng) -> u64,
    ) -> (u64, Vec<u64>) {
        let part = &self.parts[i];
        let r = part.ram[rng.below(part.ram.len() as u64) as usize];
        let at = r.logical + rng.below(r.size / PAGE) * PAGE;
        let tces: Vec<u64> = match rng.below(10) {
            // A run of consecutive pages (what a guest maps for a buffer).
            0..=3 => match self.good_tce(rng, i, page) {
                Some(v) => (0..count).map(|k| v + k * page).collect(),
                None => vec![0; count as usize],
            },
            4..=7 => (0..count).map(|_| value(self, rng)).collect(),
            8 => vec![0; count as usize],
            _ => (0..count).map(|_| rng.next()).collect(),
        };
        part.mem.write_be_u64s(r.host + (at - r.logical), &tces);
        let list = match rng.below(20) {
            0 => at + 8,
            1 => rng.edge() & !0xfff,
            _ => at,
        };
        (list, tces)
    }

    /// H_GET_TCE returns what the window holds.
    fn get(&mut self, rng: &mut Rng, i: usize, w: LiobnInfo) -> Result<Outcome, String> {
        let p = self.parts[i].p;
        let idx = rng.below(w.window_size >> w.page_shift);
        let ioba = w.bus_offset + (idx << w.page_shift);
        let got = self.hv.h_get_tce(p, u64::from(w.liobn), ioba);
        let want = self.hv.read_tces(p, u64::from(w.liobn), ioba, 1);
        if got.map_err(|e| format!("{e:?}"))? != want.map_err(|e| format!("{e:?}"))?[0] {
            return Err(format!("H_GET_TCE at {ioba:#x} disagrees with the window"));
        }
        Ok(Outcome { changed: false })
    }

    /// A register-level call with edge arguments, sometimes from problem
    /// state (always H_PRIVILEGE then).
    fn raw(&mut self, rng: &mut Rng, i: usize, w: LiobnInfo) -> Result<Outcome, String> {
        let p = self.parts[i].p;
        let mut regs = [0u64; HCALL_REGS];
        let e = rng.edge();
        regs[0] = rng.pick(&[H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, e]);
        regs[1] = if rng.chance(70) {
            u64::from(w.liobn)
        } else {
            rng.edge()
        };
        regs[2] = if rng.chance(50) {
            w.bus_offset + (rng.below(w.window_size >> w.page_shift) << w.page_shift)
        } else {
            rng.edge()
        };
        regs[3] = rng.edge();
        let e = rng.edge();
        regs[4] = rng.pick(&[0, 1, 512, 513, e]);
        let op = regs[0];
        let pr = rng.chance(10);
        let before = check::valid_in(&self.hv, p, w, 0, w.window_size >> w.page_shift)?;
        self.hv.hcall(p, &mut regs, pr);
        if pr && regs[0] as i64 != HStatus::Privilege as i64 {
            return Err(format!("problem-state call answered {}", regs[0] as i64));
        }
        if pr {
            let after = check::valid_in(&self.hv, p, w, 0, w.window_size >> w.page_shift)?;
            if after != before {
                return Err("a problem-state call changed the window".into());
            }
        }
        self.recount(i)?;
        Ok(Outcome {
            changed: regs[0] == 0 && op != H_GET_TCE,
        })
    }

    /// Calls that must be refused with H_PARAMETER, and nothing changes.
    fn refused(&mut self, rng: &mut Rng, i: usize, w: LiobnInfo) -> Result<Outcome, String> {
        let p = self.parts[i].p;
        let other = &self.parts[(i + 1) % self.parts.len()];
        let foreign = self.hv.liobns(other.p).first().map(|o| o.liobn);
        let pages = w.window_size >> w.page_shift;
        let (liobn, ioba) = match rng.below(4) {
            0 => (u64::from(foreign.unwrap_or(0x7fff_0000)), w.bus_offset),
            1 => (u64::from(w.liobn), w.bus_offset + w.window_size),
            2 => (u64::from(w.liobn), w.bus_offset + (1 << w.page_shift) / 2),
            _ => ((1 << 32) | u64::from(w.liobn), w.bus_offset),
        };
        let good = self.good_tce(rng, i, 1 << w.page_shift).unwrap_or(1);
        let count = rng.range(1, 600);
        let before = check::valid_in(&self.hv, p, w, 0, pages)?;
        let r = match rng.below(4) {
            0 => self.hv.h_put_tce(p, liobn, ioba, good),
            1 => self.hv.h_stuff_tce(p, liobn, ioba, good, count),
            2 => self
                .hv
                .h_put_tce_indirect(p, liobn, ioba, 0, count.min(512)),
            _ => self.hv.h_get_tce(p, liobn, ioba).map(|_| ()),
        };
        if r != Err(HStatus::Parameter) {
            return Err(format!(
                "a call at {liobn:#x}/{ioba:#x} answered {r:?}, not H_PARAMETER"
            ));
        }
        if check::valid_in(&self.hv, p, w, 0, pages)? != before {
            return Err("a refused call changed the window".into());
        }
        Ok(Outcome { changed: false })
    }

    /// A DDW call: query, create, remove (a window, a stale or foreign
    /// LIOBN), reset.
    fn ddw(&mut self, rng: &mut Rng, i: usize) -> Result<Outcome, String> {
        let part = &self.parts[i];
        let p = part.p;
        let cfg = part.configs[rng.below(part.configs.len() as u64) as usize];
        let pe = (cfg >> 8) as u16;
        let windows = self.hv.liobns(p);
        let on_pe = windows.iter().filter(|w| w.pe == pe).count() as u32;
        let changed = match rng.below(10) {
            0..=1 => {
                let q = self
                    .hv
                    .ddw_query(p, cfg, BUID)
                    .map_err(|e| format!("query: {e:?}"))?;
                if q.windows_available != 2 - on_pe {
                    return Err(format!("query: {q:?} with {on_pe} windows on the PE"));
                }
                false
            }
            2..=5 => {
                let page_shift = rng.pick(&[12, 16, 21, 13]);
                let window_shift =
                    rng.range(page_shift.into(), u64::from(MAX_WINDOW_SHIFT) + 1) as u32;
                let valid = page_shift != 13 && window_shift <= MAX_WINDOW_SHIFT;
                let r = self.hv.ddw_create(p, cfg, BUID, page_shift, window_shift);
                match (&r, valid && on_pe < 2) {
                    (Ok(_), true) | (Err(RtasStatus::ParameterError), false) => {}
                    _ => {
                        return Err(format!(
                            "create {page_shift}/{window_shift} with {on_pe} windows: {r:?}"
                        ));
                    }
                }
                r.is_ok()
            }
            6..=8 => {
                let (liobn, exists) =
                    match windows.get(rng.below(windows.len() as u64 + 1) as usize) {
                        Some(w) => (w.liobn, true),
                        None => {
                            let any = rng.next() as u32;
                            (rng.pick(&[0x8000_0000, 0xffff_ffff, 1, any]), false)
                        }
                    };
                let exists = exists || windows.iter().any(|w| w.liobn == liobn);
                let r = self.hv.ddw_remove(p, liobn);
                if r.is_ok() != exists {
                    return Err(format!("remove of {liobn:#x} (exists {exists}): {r:?}"));
                }
                r.is_ok()
            }
            _ => {
                self.hv
                    .ddw_reset(p, cfg, BUID)
                    .map_err(|e| format!("reset: {e:?}"))?;
                true
            }
        };
        self.recount(i)?;
        Ok(Outcome { changed })
    }

    /// Registers or unregisters a region (refused without pre-registration).
    fn prereg(&mut self, rng: &mut Rng, i: usize) -> Result<Outcome, String> {
        let part = &self.parts[i];
        let p = part.p;
        let changed = if rng.chance(55) {
            let r = part.ram[rng.below(part.ram.len() as u64) as usize];
            let pages = rng.range(1, 128).min(r.size / PAGE);
            let la = r.logical + rng.below(r.size / PAGE - pages + 1) * PAGE;
            let res = self.hv.prereg_register(p, la, pages * PAGE);
            match res {
                Ok(()) if part.prereg => true,
                Err(PreregError::Disabled) if !part.prereg => false,
                Err(PreregError::Parameter | PreregError::NotEnoughResources) if part.prereg => {
                    false
                }
                _ => return Err(format!("register {la:#x}+{:#x}: {res:?}", pages * PAGE)),
            }
        } else {
            let regions = self.hv.mapped_regions(p);
            let (la, size, mapped) = match regions.get(rng.below(regions.len() as u64 + 1) as usize)
            {
                Some(r) if part.prereg => (r.logical, r.size, r.mapped),
                _ => (rng.below(64) * PAGE, PAGE, 0),
            };
            let res = self.hv.prereg_unregister(p, la, size);
            match res {
                Ok(()) if part.prereg && mapped == 0 => true,
                Err(PreregError::InUse) if mapped > 0 => false,
                Err(PreregError::Parameter) if part.prereg => false,
                Err(PreregError::Disabled) if !part.prereg => false,
                _ => {
                    return Err(format!(
                        "unregister {la:#x}+{size:#x} (mapped {mapped}): {res:?}"
                    ));
                }
            }
        };
        if !self.concurrent {
            check::pinning(&self.hv, &self.parts[i])?;
        }
        Ok(Outcome { changed })
    }

    /// Reads (and sometimes clears) the dirty log: pages of the partition's
    /// RAM, each once, in order.
    fn dirty(&mut self, rng: &mut Rng, i: usize) -> Result<Outcome, String> {
        let part = &self.parts[i];
        let pages = if rng.chance(50) {
            // No kill fails in the fuzzer: a refusal here is a bug.
            self.hv
                .take_dirty_pages(part.p)
                .map_err(|e| format!("take_dirty_pages: {e:?}"))?
        } else {
            self.hv.dirty_pages(part.p)
        };
        for (k, &la) in pages.iter().enumerate() {
            let in_ram = part
                .ram
                .iter()
                .any(|r| la >= r.logical && la < r.logical + r.size);
            if la % PAGE != 0 || !in_ram || (k > 0 && pages[k - 1] >= la) {
                return Err(format!("dirty page {la:#x} not a page of RAM in order"));
            }
        }
        Ok(Outcome {
            changed: !pages.is_empty(),
        })
    }

    /// Recounts partition `i`'s valid TCEs after a call that may change
    /// whole windows, and checks the map counts against it.
    pub fn recount(&mut self, i: usize) -> Result<(), String> {
        let p = self.parts[i].p;
        let mut valid = 0;
        for w in self.hv.liobns(p) {
            valid += check::valid_in(&self.hv, p, w, 0, w.window_size >> w.page_shift)?;
        }
        self.parts[i].valid = valid;
        check::counts(&self.hv, &self.parts[i])
    }
}

/// Host operations run beside the calls (another CPU): dirty-log reads,
/// region registration in the pre-registering partition, and the read-only
/// reports, until `stop`.
pub fn host_thread(hv: Arc<Hv>, parts: Vec<PartitionId>, seed: u64, stop: Arc<AtomicBool>) -> u64 {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let mut ops = 0;
    while !stop.load(Ordering::Relaxed) {
        let p = parts[rng.below(parts.len() as u64) as usize];
        match rng.below(5) {
            0 => drop(hv.take_dirty_pages(p).expect("no kill fails here")),
            1 => drop(hv.mapped_regions(p)),
            2 => {
                let la = 32 * MIB + rng.below(512) * PAGE;
                let _ = hv.prereg_register(parts[2], la, 4 * PAGE);
                let _ = hv.prereg_unregister(parts[2], la, 4 * PAGE);
            }
            3 => drop(hv.liobns(p)),
            _ => drop(hv.pinned_bytes(p)),
        }
        ops += 1;
    }
    ops
}
