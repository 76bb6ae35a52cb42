//! The OPAL world: every OPAL call of `OpalPhbs` on two PHB4s that live for
//! the whole episode (over the register-level PHB model), with arguments
//! mostly valid and otherwise near the edges. Checked after each call:
//! - a call refused for its arguments writes no register;
//! - `map_pe_dma_window` succeeds exactly when an independent oracle says
//!   the arguments are valid (and the window is not held by a shared
//!   table), and then the TVE read back is the oracle's;
//! - `map_pe_dma_window_real` succeeds exactly when its rules hold;
//! - the shared tables' users are what the driver set and unset, and a
//!   table is freed only when no TVE holds it;
//! - a PE frozen for DMA reports it; cleared, it reports not frozen.

use std::collections::{BTreeMap, BTreeSet};

use pnv_iommu::mmio::fake::RecordingIo;
use pnv_iommu::opal::{OpalCode, OpalPhbs, freeze_action, freeze_state, kill_type};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb::shared::{SharedTableError, TveRef};
use pnv_iommu::phb::tve::TranslatedTve;
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::{Phb4, Phb4Config};

use crate::papr::Outcome;
use crate::rng::Rng;
use crate::tve_oracle::oracle_tve;

const NUM_PES: u64 = 64;
const PHB_IDS: [u64; 2] = [0x10, 0x11];

/// Two PHBs and the driver's record of the shared tables.
pub struct World {
    ios: Vec<&'static RecordingIo>,
    opal: OpalPhbs<Phb4<&'static RecordingIo>>,
    /// Shared table id → the TVEs it is set in.
    shared: BTreeMap<u64, BTreeSet<(u64, u64, u32)>>,
}

impl World {
    /// Two freshly brought-up PHBs (their register models live as long as
    /// the process: one pair per episode).
    pub fn new() -> World {
        let mut opal = OpalPhbs::new();
        let mut ios = Vec::new();
        for (k, &id) in PHB_IDS.iter().enumerate() {
            let cfg = Phb4Config::p9(0, k as u32).expect("PHB config");
            let io: &'static RecordingIo = Box::leak(Box::new(phb4_model(
                &cfg,
                NUM_PES as u32,
                vec![FakeFunction::edu()],
            )));
            let phb = Phb4::init(io, cfg, &GlobalPages).expect("PHB bring-up");
            opal.add(id, phb).expect("add PHB");
            ios.push(io);
        }
        World {
            ios,
            opal,
            shared: BTreeMap::new(),
        }
    }

    fn clear_logs(&self) {
        for io in &self.ios {
            io.clear_log();
        }
    }

    fn wrote(&self) -> bool {
        self.ios.iter().any(|io| !io.writes().is_empty())
    }

    fn phb_id(&self, rng: &mut Rng) -> u64 {
        if rng.chance(95) {
            rng.pick(&PHB_IDS)
        } else {
            rng.edge()
        }
    }

    fn pe(&self, rng: &mut Rng) -> u64 {
        if rng.chance(90) {
            rng.below(NUM_PES)
        } else {
            rng.edge()
        }
    }

    fn held_by_shared(&self, phb: u64, pe: u64, n: u32) -> bool {
        self.shared.values().any(|s| s.contains(&(phb, pe, n)))
    }

    /// One random OPAL call.
    pub fn call(&mut self, rng: &mut Rng) -> Result<Outcome, String> {
        self.clear_logs();
        let changed = match rng.weighted(&[30, 10, 12, 8, 10, 3, 14]) {
            0 => self.map_window(rng)?,
            1 => self.map_real(rng)?,
            2 => self.kill(rng)?,
            3 => self.set_pe(rng)?,
            4 => self.freeze(rng)?,
            5 => self.reset(rng)?,
            _ => self.shared_table(rng)?,
        };
        Ok(Outcome { changed })
    }

    fn map_window(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let (phb, pe) = (self.phb_id(rng), self.pe(rng));
        let n = if rng.chance(95) {
            rng.below(2)
        } else {
            rng.edge()
        };
        let window_id = if rng.chance(95) {
            pe.wrapping_mul(2).wrapping_add(n)
        } else {
            rng.edge()
        };
        let good = rng.chance(75);
        let any = rng.edge();
        let levels = if good {
            rng.range(1, 5)
        } else {
            rng.pick(&[0, 6, any])
        };
        let level_bytes = match rng.below(10) {
            0 => 0,
            1 => rng.edge(),
            _ => 1 << rng.range(12, if good { 24 } else { 44 }),
        };
        let addr = rng.below(1 << 20).wrapping_mul(level_bytes.max(1))
            & if good { (1 << 48) - 1 } else { u64::MAX };
        let any = rng.edge();
        let page = rng.pick(&[0x1000, 0x1_0000, 0x20_0000, 0x4000_0000, 0x100_0000, any]);
        let code = self
            .opal
            .map_pe_dma_window(phb, pe, window_id, levels, addr, level_bytes, page);
        // The window is named by its id alone: pe * 2 or pe * 2 + 1.
        let n = window_id.wrapping_sub(pe.wrapping_mul(2));
        let addressing = PHB_IDS.contains(&phb) && pe < NUM_PES && n < 2;
        let shared = addressing && self.held_by_shared(phb, pe, n as u32);
        let expected = match (addressing, level_bytes) {
            (false, _) => None,
            (true, 0) => Some(0),
            (true, _) => oracle_tve(levels, addr, level_bytes, page),
        };
        match (expected, shared) {
            (Some(_), true) => {
                if code != OpalCode::WrongState {
                    return Err(format!("map over a shared table's window: {code:?}"));
                }
                Ok(false)
            }
            (Some(tve), false) => {
                if code != OpalCode::Success {
                    return Err(format!("valid map refused: {code:?}"));
                }
                let got = self.opal.phb(phb).ok_or("PHB gone")?.tve(pe, n as u32);
                if got != Ok(tve) {
                    return Err(format!("TVE {got:x?}, oracle {tve:#x}"));
                }
                Ok(true)
            }
            (None, _) => {
                if code == OpalCode::Success || self.wrote() {
                    return Err(format!(
                        "invalid map (phb {phb:#x} pe {pe} id {window_id} levels {levels} addr {addr:#x} level {level_bytes:#x} page {page:#x}): {code:?}, wrote {}",
                        self.wrote()
                    ));
                }
                Ok(false)
            }
        }
    }

    fn map_real(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let (phb, pe) = (self.phb_id(rng), self.pe(rng));
        let n = rng.below(3);
        let window_id = pe.wrapping_mul(2).wrapping_add(n);
        let start = if rng.chance(70) {
            rng.below(64) << 24
        } else {
            rng.edge()
        };
        let size = if rng.chance(70) {
            rng.range(0, 64) << 24
        } else {
            rng.edge()
        };
        let pci_start = if n == 1 { start | (1 << 59) } else { start };
        let code = self
            .opal
            .map_pe_dma_window_real(phb, pe, window_id, pci_start, size);
        let low = pci_start & ((1 << 59) - 1);
        let valid = PHB_IDS.contains(&phb)
            && pe < NUM_PES
            && n < 2
            && (size == 0
                || ((pci_start >> 59) == n
                    && low % (1 << 24) == 0
                    && size % (1 << 24) == 0
                    // The TVE holds the end in 26 bits above 16 MiB.
                    && low.checked_add(size).is_some_and(|end| end < 1 << 50)));
        let shared = valid && self.held_by_shared(phb, pe, n as u32);
        match (valid, shared) {
            (true, true) if code == OpalCode::WrongState => Ok(false),
            (true, false) if code == OpalCode::Success => Ok(true),
            (false, _) if code != OpalCode::Success && !self.wrote() => Ok(false),
            _ => Err(format!(
                "map_real {pci_start:#x}+{size:#x} (valid {valid}, shared {shared}): {code:?}, wrote {}",
                self.wrote()
            )),
        }
    }

    fn kill(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let phb = self.phb_id(rng);
        let kind = if rng.chance(90) {
            rng.below(3) as u32
        } else {
            rng.next() as u32
        };
        let pe = self.pe(rng);
        let any = rng.next() as u32;
        let size = rng.pick(&[0x1000u32, 0x1_0000, 0x20_0000, 0x4000_0000, 3, any]);
        let addr = if rng.chance(70) {
            rng.below(1 << 20) * u64::from(size)
        } else {
            rng.edge()
        };
        let npages = if rng.chance(80) {
            rng.range(1, 64) as u32
        } else {
            rng.next() as u32
        };
        let code = self.opal.tce_kill(phb, kind, pe, size, addr, npages);
        let known = PHB_IDS.contains(&phb) && kind <= kill_type::ALL;
        if !known && (code == OpalCode::Success || self.wrote()) {
            return Err(format!(
                "kill type {kind} on {phb:#x}: {code:?}, wrote {}",
                self.wrote()
            ));
        }
        if code != OpalCode::Success && code != OpalCode::Parameter {
            return Err(format!("kill: {code:?}"));
        }
        if code == OpalCode::Parameter && self.wrote() {
            return Err("a refused kill wrote registers".into());
        }
        Ok(code == OpalCode::Success)
    }

    fn set_pe(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let (phb, pe) = (self.phb_id(rng), self.pe(rng));
        let bdfn = if rng.chance(80) {
            rng.below(1 << 16)
        } else {
            rng.edge()
        };
        let cmp = |rng: &mut Rng, max: u64| {
            if rng.chance(90) {
                rng.range(0, max) as u8
            } else {
                rng.next() as u8
            }
        };
        let (b, d, f) = (cmp(rng, 7), cmp(rng, 1), cmp(rng, 1));
        let action = cmp(rng, 1);
        let code = self.opal.set_pe(phb, pe, bdfn, b, d, f, action);
        if code != OpalCode::Success && self.wrote() {
            return Err(format!("refused set_pe ({code:?}) wrote registers"));
        }
        Ok(code == OpalCode::Success)
    }

    fn freeze(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let (phb, pe) = (self.phb_id(rng), self.pe(rng));
        let valid = PHB_IDS.contains(&phb) && pe < NUM_PES;
        let any = rng.edge();
        let action = rng.pick(&[
            freeze_action::MMIO,
            freeze_action::DMA,
            freeze_action::ALL,
            0,
            any,
        ]);
        let set = rng.chance(50);
        let code = if set {
            self.opal.eeh_freeze_set(phb, pe, action)
        } else {
            self.opal.eeh_freeze_clear(phb, pe, action)
        };
        let status = self.opal.eeh_freeze_status(phb, pe);
        if !valid {
            if code == OpalCode::Success || status.is_ok() || self.wrote() {
                return Err(format!("freeze of {phb:#x}/{pe}: {code:?} {status:?}"));
            }
            return Ok(false);
        }
        if code != OpalCode::Success {
            if self.wrote() {
                return Err(format!("refused freeze ({code:?}) wrote registers"));
            }
            return Ok(false);
        }
        let state = status.map_err(|c| format!("status: {c:?}"))?.state;
        let dma = state == freeze_state::DMA_FREEZE || state == freeze_state::MMIO_DMA_FREEZE;
        if set && action & freeze_action::DMA != 0 && !dma {
            return Err(format!("frozen for DMA, status {state}"));
        }
        if !set && action == freeze_action::ALL && state != freeze_state::NOT_FROZEN {
            return Err(format!("cleared, status {state}"));
        }
        Ok(true)
    }

    fn reset(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let phb = self.phb_id(rng);
        let any = rng.next() as u8;
        let scope = rng.pick(&[pnv_iommu::opal::RESET_PCI_IODA_TABLE, 0, 1, 7, any]);
        let state = rng.pick(&[
            pnv_iommu::opal::ASSERT_RESET,
            pnv_iommu::opal::DEASSERT_RESET,
            9,
        ]);
        let code = self.opal.pci_reset(phb, scope, state);
        let purge = scope == pnv_iommu::opal::RESET_PCI_IODA_TABLE
            && state == pnv_iommu::opal::ASSERT_RESET;
        if code == OpalCode::Success && purge {
            // Every TVE of the PHB is cleared, and the shared tables no
            // longer count it among their users.
            for users in self.shared.values_mut() {
                for &(p, pe, n) in users.iter().filter(|u| u.0 == phb) {
                    let tve = self.opal.phb(p).ok_or("PHB gone")?.tve(pe, n);
                    if tve != Ok(0) {
                        return Err(format!("IODA reset left TVE {tve:x?} of PE {pe}"));
                    }
                }
                users.retain(|u| u.0 != phb);
            }
        } else if code != OpalCode::Success && self.wrote() {
            return Err(format!("refused reset ({code:?}) wrote registers"));
        }
        Ok(code == OpalCode::Success && purge)
    }

    fn shared_table(&mut self, rng: &mut Rng) -> Result<bool, String> {
        let ids: Vec<u64> = self.shared.keys().copied().collect();
        let id = match ids.get(rng.below(ids.len() as u64 + 1) as usize) {
            Some(&id) => id,
            None => {
                let any = rng.next();
                rng.pick(&[0, 1, u64::MAX, any])
            }
        };
        let known = self.shared.contains_key(&id);
        let (phb, pe) = (self.phb_id(rng), self.pe(rng));
        let n = if rng.chance(95) {
            rng.below(2) as u32
        } else {
            rng.next() as u32
        };
        let at = (phb, pe, n);
        let valid_tve = PHB_IDS.contains(&phb) && pe < NUM_PES && n < 2;
        match rng.below(4) {
            0 => {
                let level = 1u64 << rng.range(12, 16);
                let addr = (1 + rng.below(1 << 16)) * level;
                let Ok(t) = TranslatedTve::new(addr, rng.range(1, 3), level, 0x1000) else {
                    return Ok(false);
                };
                match self.opal.shared_table_create(t) {
                    Ok(id) => {
                        if self.shared.insert(id, BTreeSet::new()).is_some() {
                            return Err(format!("shared table id {id} given twice"));
                        }
                        Ok(true)
                    }
                    Err(SharedTableError::Exists) => Ok(false),
                    Err(e) => Err(format!("create: {e:?}")),
                }
            }
            1 => {
                let r = self.opal.shared_table_set(id, phb, pe, n);
                let busy = self.held_by_shared(phb, pe, n);
                match r {
                    Ok(()) if known && valid_tve && !busy => {
                        self.shared.get_mut(&id).unwrap().insert(at);
                        Ok(true)
                    }
                    Err(_) if !known || !valid_tve || busy => Ok(false),
                    _ => Err(format!(
                        "set {id} at {at:?} (known {known}, busy {busy}): {r:?}"
                    )),
                }
            }
            2 => {
                let held = known && self.shared[&id].contains(&at);
                let r = self.opal.shared_table_unset(id, phb, pe, n);
                match r {
                    Ok(()) if held => {
                        self.shared.get_mut(&id).unwrap().remove(&at);
                        Ok(true)
                    }
                    Err(_) if !held => Ok(false),
                    _ => Err(format!("unset {id} at {at:?} (held {held}): {r:?}")),
                }
            }
            _ => {
                let users = self.shared.get(&id).map_or(0, |s| s.len());
                let r = self.opal.shared_table_free(id);
                match r {
                    Ok(_) if known && users == 0 => {
                        self.shared.remove(&id);
                        Ok(true)
                    }
                    Err(SharedTableError::InUse(k)) if known && k == users && users > 0 => {
                        Ok(false)
                    }
                    Err(SharedTableError::Unknown) if !known => Ok(false),
                    _ => Err(format!("free {id} (known {known}, {users} users): {r:?}")),
                }
            }
        }
        .and_then(|changed| {
            // The registry's users are the driver's.
            for (&id, set) in &self.shared {
                let users: BTreeSet<(u64, u64, u32)> = self
                    .opal
                    .shared_table_users(id)
                    .ok_or(format!("table {id} unknown to the registry"))?
                    .iter()
                    .map(|u: &TveRef| (u.phb, u64::from(u.pe), u.slot))
                    .collect();
                if &users != set {
                    return Err(format!("table {id}: users {users:?}, set {set:?}"));
                }
            }
            Ok(changed)
        })
    }
}
