//! The invariants checked after every call, and the whole-table check run
//! periodically against the reference walker (`pnv_iommu::tce::reference`).

use pnv_iommu::papr::{LiobnInfo, PartitionId};
use pnv_iommu::tce::Tce;
use pnv_iommu::tce::reference::translate;

use crate::papr::{Hv, Part, World};

/// The largest number of valid TCEs seen at once.
#[derive(Default)]
pub struct Peak(pub u64);

impl Peak {
    /// Notes `valid` TCEs held now.
    pub fn see(&mut self, valid: u64) {
        self.0 = self.0.max(valid);
    }
}

/// Valid guest TCEs among `count` entries of `w` from entry `first`.
pub fn valid_in(
    hv: &Hv,
    p: PartitionId,
    w: LiobnInfo,
    first: u64,
    count: u64,
) -> Result<u64, String> {
    if count == 0 {
        return Ok(0);
    }
    let ioba = w.bus_offset + (first << w.page_shift);
    let guest = hv
        .read_tces(p, u64::from(w.liobn), ioba, count)
        .map_err(|e| format!("read_tces {ioba:#x}+{count}: {e:?}"))?;
    Ok(guest.iter().filter(|&&v| v & 3 != 0).count() as u64)
}

/// The host address range `[start, end)` of each unit of `part`.
fn host_units(part: &Part, units: &[(u64, u64)]) -> Vec<(u64, u64)> {
    units
        .iter()
        .filter_map(|&(la, size)| {
            part.ram
                .iter()
                .find(|r| la >= r.logical && la + size <= r.logical + r.size)
                .map(|r| {
                    let host = r.host + (la - r.logical);
                    (host, host + size)
                })
        })
        .collect()
}

/// The isolation invariant on `count` entries of `w` from `first`: a
/// hardware entry is valid exactly when the guest's is, and then it is the
/// guest's page translated through the partition's RAM, with its
/// permissions, the whole page inside one unit (a RAM region, or a
/// registered region with pre-registration).
pub fn range(
    hv: &Hv,
    part: &Part,
    units: &[(u64, u64)],
    w: LiobnInfo,
    first: u64,
    count: u64,
) -> Result<(), String> {
    if count == 0 {
        return Ok(());
    }
    let page = 1u64 << w.page_shift;
    let ioba = w.bus_offset + (first << w.page_shift);
    let guest = hv
        .read_tces(part.p, u64::from(w.liobn), ioba, count)
        .map_err(|e| format!("{e:?}"))?;
    let hw: Vec<Tce> = hv
        .inspect_table(part.p, w.liobn, |t| {
            (0..count)
                .map(|k| {
                    t.get(ioba + (k << w.page_shift))
                        .unwrap_or(Tce::from_raw(u64::MAX))
                })
                .collect()
        })
        .ok_or("window vanished")?;
    let hosts = host_units(part, units);
    let ram = hv.ram(part.p).ok_or("no RAM")?;
    for (k, (&g, &h)) in guest.iter().zip(&hw).enumerate() {
        let at = ioba + ((k as u64) << w.page_shift);
        if g & 3 == 0 {
            if h.is_valid() {
                return Err(format!(
                    "hardware entry {h:?} at {at:#x} behind a cleared guest TCE"
                ));
            }
            continue;
        }
        let want = ram.translate(g & !0xfff, page);
        if !h.is_valid() || Some(h.phys()) != want || h.perm().bits() != g & 3 {
            return Err(format!(
                "entry at {at:#x}: guest {g:#x}, hardware {h:?}, expected {want:x?}"
            ));
        }
        let inside = hosts
            .iter()
            .any(|&(s, e)| h.phys() >= s && h.phys() + page <= e);
        if !inside {
            return Err(format!(
                "entry at {at:#x} reaches {:#x}, outside the partition's units",
                h.phys()
            ));
        }
    }
    Ok(())
}

/// Map counts sum to the driver's count of valid TCEs; TCE memory charged
/// equals what the windows hold.
pub fn counts(hv: &Hv, part: &Part) -> Result<(), String> {
    let mapped: u64 = hv.mapped_regions(part.p).iter().map(|r| r.mapped).sum();
    if mapped != part.valid {
        return Err(format!(
            "map counts sum to {mapped}, {} valid TCEs",
            part.valid
        ));
    }
    let m = hv.tce_memory(part.p).ok_or("no partition")?;
    if m.charged != m.windows {
        return Err(format!(
            "TCE memory charged {} but windows hold {}",
            m.charged, m.windows
        ));
    }
    Ok(())
}

/// Pinned bytes equal the registered regions' sizes.
pub fn pinning(hv: &Hv, part: &Part) -> Result<(), String> {
    if !part.prereg {
        return Ok(());
    }
    let regions: u64 = hv.mapped_regions(part.p).iter().map(|r| r.size).sum();
    let pinned = hv.pinned_bytes(part.p);
    if pinned != regions {
        return Err(format!("{pinned} bytes pinned, regions cover {regions}"));
    }
    Ok(())
}

/// Every window of every partition, whole: the TVE the PHB holds is the
/// table's; the reference walker, reading the table's memory through that
/// TVE, finds exactly the guest's TCEs translated (and nothing behind a
/// cleared one); each unit's map count is the number of TCEs naming it.
pub fn whole(world: &mut World) -> Result<(), String> {
    for i in 0..world.parts.len() {
        world.recount(i)?;
        let units = world.units(i);
        let part = &world.parts[i];
        let hv = &world.hv;
        let ram = hv.ram(part.p).ok_or("no RAM")?;
        let mut per_unit = vec![0u64; units.len()];
        for w in hv.liobns(part.p) {
            let programmed = world.phb.window(w.pe, w.n).ok_or("window not programmed")?;
            let (tve, image) = hv
                .inspect_table(part.p, w.liobn, |t| (t.tve(), t.memory_image()))
                .ok_or("window vanished")?;
            if programmed.tve != tve {
                return Err(format!(
                    "PHB holds TVE {:#x}, table encodes {tve:#x}",
                    programmed.tve
                ));
            }
            let pages = w.window_size >> w.page_shift;
            let guest = hv
                .read_tces(part.p, u64::from(w.liobn), w.bus_offset, pages)
                .map_err(|e| format!("{e:?}"))?;
            let page = 1u64 << w.page_shift;
            for (k, &g) in guest.iter().enumerate() {
                let at = w.bus_offset + ((k as u64) << w.page_shift);
                let walked = translate(tve, at, &image);
                if g & 3 == 0 {
                    if walked.is_ok() {
                        return Err(format!("walker translates {at:#x} behind a cleared TCE"));
                    }
                    continue;
                }
                let t = walked.map_err(|e| format!("walker: {e:?} at {at:#x} (guest {g:#x})"))?;
                if Some(t.phys) != ram.translate(g & !0xfff, page) || t.perm.bits() != g & 3 {
                    return Err(format!("walker finds {t:?} at {at:#x} for guest {g:#x}"));
                }
                let la = g & !0xfff;
                let u = units
                    .iter()
                    .position(|&(s, size)| la >= s && la + page <= s + size)
                    .ok_or_else(|| format!("guest TCE {g:#x} names no unit"))?;
                per_unit[u] += 1;
            }
        }
        let mapped: Vec<u64> = hv.mapped_regions(part.p).iter().map(|r| r.mapped).collect();
        if !world.concurrent && mapped != per_unit {
            return Err(format!("map counts {mapped:?}, TCEs per unit {per_unit:?}"));
        }
    }
    Ok(())
}
