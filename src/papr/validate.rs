//! Validation of guest TCEs: which host page, if any, each one may map.
//!
//! A guest TCE with R or W must name a page-aligned logical address whose
//! whole IOMMU page lies inside one unit of the partition (a RAM region, or a
//! pre-registered region with pre-registration on); the hardware entry is the
//! unit's host address for it with the same permissions. A TCE with neither
//! permission clears the entry. Validation only reads: a batch is validated in
//! full before the first entry is written.
//!
//! The common case, a partition with a single unit, has a branch-free loop
//! ([`validate_one_unit`]) that the compiler vectorises; any other partition
//! looks each entry's unit up ([`validate_any`]).

use super::hcall::{HResult, HStatus};
use super::prereg::{Cursor, Unit};
use super::settle::{progression, progression_miss};
use super::shadow::Progression;
use crate::iopt::Perm;
use crate::tce::Tce;
use crate::tce::page_run::BePageRun;

const FLAGS: u64 = Perm::all().bits();

/// The new references a validated batch holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NewRefs {
    /// No valid entry.
    None,
    /// `count` valid entries, all in unit `unit`.
    InOneUnit { unit: usize, count: u64 },
    /// Valid entries in several units (counted again when settling).
    Mixed,
}

impl NewRefs {
    /// `n` entries equal to one validated TCE in `unit` (`None`: a clear).
    pub(crate) fn repeated(unit: Option<usize>, n: u64) -> NewRefs {
        match unit {
            Some(u) => NewRefs::InOneUnit { unit: u, count: n },
            None => NewRefs::None,
        }
    }
}

/// Validates one guest TCE for a window of `page`-byte pages: the hardware
/// entry and the unit it maps into (`None` for a clear).
///
/// `H_PARAMETER` if the TCE names memory the partition may not map;
/// `H_HARDWARE` if the host copy of the page is not aligned to the IOMMU page
/// (a RAM region whose logical and host addresses differ by a multiple of
/// 4 KiB but not of `page`), which the table cannot express.
#[inline(always)]
pub(crate) fn validate(
    tce: u64,
    page: u64,
    cursor: &mut Cursor<'_>,
) -> HResult<(Tce, Option<usize>)> {
    validate_by(tce, page, |la| cursor.find(la, page))
}

/// [`validate`] in a partition whose only unit is `unit` (index 0): the
/// hardware entry, and whether the TCE is valid (it then maps into `unit`).
/// The same rules and statuses, with the unit's range checked directly
/// instead of looked up (`H_PUT_TCE`'s and `H_STUFF_TCE`'s common path).
#[inline(always)]
pub(crate) fn validate_in_unit(tce: u64, page: u64, unit: &Unit) -> HResult<(Tce, bool)> {
    validate_by(tce, page, |la| Some((0, unit.host_of(la, page)?)))
        .map(|(hw, unit)| (hw, unit.is_some()))
}

/// The rules of [`validate`], with `find` giving the unit and host address
/// of a page-aligned logical address whose whole page lies in a unit.
#[inline(always)]
fn validate_by(
    tce: u64,
    page: u64,
    find: impl FnOnce(u64) -> Option<(usize, u64)>,
) -> HResult<(Tce, Option<usize>)> {
    let perm = tce & Perm::all().bits();
    if perm == 0 {
        return Ok((Tce::NONE, None));
    }
    // Bits between the permissions and the page boundary must be 0: the
    // address is page aligned and no reserved bit is set.
    if tce & (page - 1) & !perm != 0 {
        return Err(HStatus::Parameter);
    }
    let la = tce & !perm;
    let (unit, host) = find(la).ok_or(HStatus::Parameter)?;
    if host & (page - 1) != 0 {
        return Err(HStatus::Hardware);
    }
    Ok((Tce::from_raw(host | perm), Some(unit)))
}

/// Validates a list against a partition whose only unit is `unit` (index 0),
/// writing the hardware entries to `hw`: a range check per entry, no
/// lookups, and no branch on the outcome until the end.
#[inline(never)]
pub(crate) fn validate_one_unit(
    guest: &[u64],
    hw: &mut [Tce],
    unit: &Unit,
    page: u64,
    cursor: &mut Cursor<'_>,
) -> HResult<NewRefs> {
    let Some(range) = OneUnit::new(unit, page) else {
        return validate_any(guest, hw, cursor, page);
    };
    if all_valid_and_good(guest, hw, &range) {
        return Ok(NewRefs::repeated(
            (!guest.is_empty()).then_some(0),
            guest.len() as u64,
        ));
    }
    let (bad, valid) = masked(guest, hw, &range);
    if bad {
        return Err(HStatus::Parameter);
    }
    Ok(NewRefs::repeated((valid != 0).then_some(0), valid))
}

/// The single unit's range, as the validation loops use it.
struct OneUnit {
    logical: u64,
    host: u64,
    /// Largest `g - logical` of a good entry (the page's offset plus flags).
    last: u64,
    /// Bits that must be clear in a good entry besides the flags.
    align: u64,
}

impl OneUnit {
    /// The range of `unit` for `page`-byte pages, if the branch-free passes
    /// apply to it.
    #[inline]
    fn new(unit: &Unit, page: u64) -> Option<OneUnit> {
        let align = (page - 1) & !FLAGS;
        // Largest offset of a page that fits in the unit. Units lie below the
        // TCE address limit (2^56), so it is far below 2^63, which the range
        // checks need. A unit smaller than a page, or not aligned to the
        // page in both address spaces, takes the general path (which refuses
        // what it must, entry by entry).
        let span = unit.size.checked_sub(page)?;
        if span >> 62 != 0 || (unit.host | unit.logical) & align != 0 {
            return None;
        }
        // With `x = g - logical` (the flag bits come along: `logical` is page
        // aligned), an entry is in range when `x <= span + 3`, and its
        // hardware entry is `x + host`, a multiple of the page plus the flags.
        Some(OneUnit {
            logical: unit.logical,
            host: unit.host,
            last: span + 3,
            align,
        })
    }

    /// Whether `g - logical` folded into `acc` marks an entry that is a
    /// clear or bad (see [`all_valid_and_good`]).
    #[inline(always)]
    fn fold(&self, g: u64) -> u64 {
        let x = g.wrapping_sub(self.logical);
        // - `x | (last - x)` has bit 63 exactly when `x > last` (either `x`
        //   has it, or both are below 2^63 and `last - x` borrows), and has a
        //   bit of `align` when `g` does (`logical` is page aligned, and a
        //   page-aligned `x` leaves `last - x` with only flag bits below the
        //   page);
        // - `(g & flags) - 1` has every bit when `g` has no permission.
        x | self.last.wrapping_sub(x) | (g & FLAGS).wrapping_sub(1)
    }

    /// Whether every entry of `guest` is valid and good, given the AND
    /// (`all`) and the OR (`any`) of them all: the offset of their hardware
    /// entries if so.
    fn accept(&self, guest: &[u64], all: u64, any: u64) -> Option<u64> {
        if guest.is_empty() {
            return None;
        }
        let delta = self.host.wrapping_sub(self.logical);
        if self.all_between(all, any) {
            return Some(delta);
        }
        // Otherwise the exact test (a list spread over a unit whose size is
        // not a power of two, or mixing R-only and W-only entries).
        let mut acc = 0u64;
        for &g in guest {
            acc |= self.fold(g);
        }
        self.good(acc).then_some(delta)
    }

    /// A test that is sufficient, not necessary, given the AND (`all`) and
    /// the OR (`any`) of a non-empty list: every entry lies between them (as
    /// numbers), has the permissions `all` has, and has a bit of `align`
    /// only if `any` has it. So if `all` has a permission and lies at or
    /// above `logical`, and `any` lies at most `last` above it and has no
    /// bit of `align`, every entry is valid and good.
    #[inline(always)]
    fn all_between(&self, all: u64, any: u64) -> bool {
        all & FLAGS != 0
            && all >= self.logical
            && any.wrapping_sub(self.logical) <= self.last
            && any & self.align == 0
    }

    /// How the hardware entry follows from a valid and good guest value
    /// kept big-endian: bitwise when the unit's logical and host addresses
    /// are both aligned to a power of two at least its size, else by the
    /// offset. (In that power of two `p`, the value is `logical | x` and its
    /// entry `host | x` for its offset `x < p`, so the entry is the value
    /// xor `logical ^ host`.)
    fn be_entries(&self, unit: &Unit) -> BeEntries {
        let delta = self.host.wrapping_sub(self.logical);
        match unit.size.checked_next_power_of_two() {
            Some(p) if (self.logical | self.host) & (p - 1) == 0 => {
                BeEntries::Xor((self.logical ^ self.host).to_be())
            }
            _ => BeEntries::Offset(delta),
        }
    }

    #[inline(always)]
    fn good(&self, acc: u64) -> bool {
        acc & ((1 << 63) | self.align) == 0
    }
}

/// The common case of a list for a partition whose only unit is `unit`:
/// every entry has R or W and is good. Returns the `delta` that makes each
/// entry's hardware entry `g + delta` (wrapping), or `None` if some entry is
/// a clear or bad, or the unit needs the general path: then
/// [`validate_one_unit`] must run. Only reads.
#[inline(never)]
pub(crate) fn all_valid_one_unit(guest: &[u64], unit: &Unit, page: u64) -> Option<u64> {
    let range = OneUnit::new(unit, page)?;
    let (mut all, mut any) = (!0u64, 0u64);
    for &g in guest {
        all &= g;
        any |= g;
    }
    range.accept(guest, all, any)
}

/// [`all_valid_one_unit`] for a list that may be what a guest lists for
/// one buffer: consecutive pages (or one page repeated). If `guest` is the
/// progression `head + i * step` with a step of 0 or one page, without
/// wrapping, it is checked from its first and last entries (every entry
/// lies between them, with their permissions and page offset), and the
/// progression is returned beside the offset. Any other list takes
/// [`all_valid_one_unit`]. Only reads.
#[inline(never)]
pub(crate) fn all_valid_one_unit_progression(
    guest: &[u64],
    unit: &Unit,
    page: u64,
) -> (Option<u64>, Option<Progression>) {
    let (head, step) = progression(guest);
    let n = guest.len() as u64;
    let last = (step == 0 || step == page)
        .then(|| step.checked_mul(n.wrapping_sub(1)))
        .flatten()
        .and_then(|span| head.checked_add(span));
    match (last, OneUnit::new(unit, page)) {
        (Some(last), Some(range)) if n > 0 && is_progression(guest, head, step) => {
            // Every entry is `head` plus a multiple of the page (at least
            // 4 KiB): its flags and page offset are `head`'s, and it lies
            // between `head` and `last`, so it is valid and good exactly
            // when both ends are.
            let delta = range.host.wrapping_sub(range.logical);
            let good = range.good(range.fold(head) | range.fold(last));
            (good.then_some(delta), Some(Progression { head, step }))
        }
        _ => (all_valid_one_unit(guest, unit, page), None),
    }
}

/// How the hardware entries of a list accepted by [`all_valid_one_unit_be`]
/// follow from its big-endian values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BeEntries {
    /// `g ^ key` for each big-endian value `g` (`key` big-endian too): no
    /// byte swap.
    Xor(u64),
    /// The value (swapped to the native order) plus this offset, wrapping.
    Offset(u64),
}

impl BeEntries {
    /// The hardware entry (raw) of a valid and good value `value` (not
    /// big-endian).
    #[inline]
    pub(crate) fn entry_of(self, value: u64) -> u64 {
        match self {
            BeEntries::Xor(key) => value ^ u64::from_be(key),
            BeEntries::Offset(delta) => value.wrapping_add(delta),
        }
    }
}

/// A list [`all_valid_one_unit_be`] accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BeAccepted {
    pub(crate) entries: BeEntries,
    /// The list as a progression of step 0 or one page, when it is one
    /// that was recognised.
    pub(crate) run: Option<Progression>,
}

/// One listed value as it lies in memory, big-endian: a copied `u64`
/// ([`GuestMemory::copy_be_u64s`]) or eight bytes lent in place
/// ([`GuestMemory::lend_be_u64s`]). `u64::from_be(w.raw())` is the value.
///
/// [`GuestMemory::copy_be_u64s`]: super::partition::GuestMemory::copy_be_u64s
/// [`GuestMemory::lend_be_u64s`]: super::partition::GuestMemory::lend_be_u64s
pub(crate) trait BeWord: Copy {
    /// The word's bits as they lie in memory.
    fn raw(self) -> u64;
}

impl BeWord for u64 {
    #[inline(always)]
    fn raw(self) -> u64 {
        self
    }
}

impl BeWord for [u8; 8] {
    #[inline(always)]
    fn raw(self) -> u64 {
        u64::from_ne_bytes(self)
    }
}

/// [`all_valid_one_unit_progression`] for a list of big-endian values
/// (see [`BeWord`]), doing only bitwise work on them: one page repeated, or
/// consecutive pages of 4 KiB or 64 KiB, are recognised and checked from
/// their ends; any other list by the sufficient test on its AND and OR.
/// `None` if some entry is a clear or bad, or the list needs the exact
/// test: then convert it and take [`all_valid_one_unit_progression`]. Only
/// reads.
#[inline]
pub(crate) fn all_valid_one_unit_be<W: BeWord>(
    list: &[W],
    unit: &Unit,
    page: u64,
) -> Option<BeAccepted> {
    let range = OneUnit::new(unit, page)?;
    let run = be_run(list, page);
    let good = match run {
        Some((head, last)) => range.good(range.fold(head.head) | range.fold(last)),
        None => {
            // AND and OR commute with the byte swap.
            let (mut all, mut any) = (!0u64, 0u64);
            for &g in list {
                all &= g.raw();
                any |= g.raw();
            }
            range.all_between(u64::from_be(all), u64::from_be(any))
        }
    };
    good.then(|| BeAccepted {
        entries: range.be_entries(unit),
        run: run.map(|(head, _)| head),
    })
}

/// [`all_valid_one_unit_be`] of a list that is one page repeated or
/// consecutive pages, and of no other (`None`, having read no further than
/// the first pair that shows it, for most lists): each value is read once,
/// so the list may lie where the guest can change it; what it held when
/// read is the progression returned, every entry valid and good. The
/// hardware entries then follow from the progression alone.
#[inline]
pub(crate) fn run_valid_one_unit_be<W: BeWord>(
    list: &[W],
    unit: &Unit,
    page: u64,
) -> Option<(Progression, BeEntries)> {
    let range = OneUnit::new(unit, page)?;
    let (run, last) = be_run(list, page)?;
    range
        .good(range.fold(run.head) | range.fold(last))
        .then(|| (run, range.be_entries(unit)))
}

/// If the big-endian `list` is one page repeated or consecutive pages of
/// 4 KiB or 64 KiB, without wrapping past 2^64: the progression and its
/// last value. The first two entries decide which to test for (most other
/// lists stop there); then one branch-free pass.
///
/// Every entry of such a run is its first plus a multiple of the page (at
/// least 4 KiB): its flags and page offset are the first's, and it lies
/// between the first and the last, so it is valid and good exactly when
/// both ends are. The callers check the ends only.
#[inline(always)]
fn be_run<W: BeWord>(list: &[W], page: u64) -> Option<(Progression, u64)> {
    let (&first, rest) = list.split_first()?;
    let first = first.raw();
    let head = u64::from_be(first);
    let step = rest
        .first()
        .map_or(0, |&second| u64::from_be(second.raw()).wrapping_sub(head));
    let n = list.len() as u64;
    let last = if step == 0 {
        (list.iter().fold(0, |miss, &g| miss | (g.raw() ^ first)) == 0).then_some(head)
    } else if step == page && BePageRun::new(head, page)?.is_listed(list, W::raw) {
        // Consecutive pages, without wrapping past 2^64.
        step.checked_mul(n - 1)
            .and_then(|span| head.checked_add(span))
    } else {
        None
    }?;
    Some((Progression { head, step }, last))
}

/// Whether `list` is the progression `head + i * step` (wrapping): one
/// branch-free pass, which the compiler vectorises.
#[inline(always)]
fn is_progression(list: &[u64], head: u64, step: u64) -> bool {
    let mut expected = head;
    let mut miss = 0u64;
    for &g in list {
        miss |= progression_miss(g, &mut expected, step);
    }
    miss == 0
}

/// The pass for the common case, a list whose entries all have R or W and
/// are all good: one accumulator, no per-entry mask. Writes `hw` either way;
/// `false` means some entry is a clear or bad, and [`masked`] must run.
#[inline(always)]
fn all_valid_and_good(guest: &[u64], hw: &mut [Tce], r: &OneUnit) -> bool {
    let mut acc = 0u64;
    for (&g, h) in guest.iter().zip(hw.iter_mut()) {
        acc |= r.fold(g);
        *h = Tce::from_raw(g.wrapping_sub(r.logical).wrapping_add(r.host));
    }
    r.good(acc)
}

/// The pass for any list: per-entry masks for clears. Returns whether some
/// valid entry is bad, and how many are valid.
#[inline(never)]
fn masked(guest: &[u64], hw: &mut [Tce], r: &OneUnit) -> (bool, u64) {
    let mut bad = 0u64;
    let mut valid = 0u64;
    for (&g, h) in guest.iter().zip(hw.iter_mut()) {
        let is_valid = (g | (g >> 1)) & 1; // R or W
        let keep = is_valid.wrapping_neg();
        let x = g.wrapping_sub(r.logical);
        let outside = (x | r.last.wrapping_sub(x)) >> 63;
        bad |= keep & ((g & r.align) | outside);
        valid += is_valid;
        // Cannot overflow for a good entry; a bad one refuses the batch
        // before anything is stored, so wrap freely.
        *h = Tce::from_raw(x.wrapping_add(r.host) & keep);
    }
    (bad != 0, valid)
}

/// Validates a list against any number of units, writing the hardware
/// entries to `hw`.
pub(crate) fn validate_any(
    guest: &[u64],
    hw: &mut [Tce],
    cursor: &mut Cursor<'_>,
    page: u64,
) -> HResult<NewRefs> {
    let mut unit0: Option<usize> = None;
    let mut mixed = false;
    let mut valid = 0u64;
    for (g, h) in guest.iter().zip(hw.iter_mut()) {
        let (tce, unit) = validate(*g, page, cursor)?;
        *h = tce;
        if let Some(u) = unit {
            valid += 1;
            mixed |= unit0.is_some_and(|u0| u0 != u);
            unit0 = Some(u);
        }
    }
    Ok(match (unit0, mixed) {
        (None, _) => NewRefs::None,
        (Some(_), true) => NewRefs::Mixed,
        (Some(u), false) => NewRefs::InOneUnit {
            unit: u,
            count: valid,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::papr::partition::{PartitionConfig, RamMap, RamRegion};
    use crate::papr::prereg::Units;

    /// Guest values around the edges of a unit at logical 1 MiB, 1 MiB long.
    fn edge_values(page: u64) -> Vec<u64> {
        let (lo, size) = (1u64 << 20, 1u64 << 20);
        let mut v = Vec::new();
        for base in [
            0,
            lo - page,
            lo,
            lo + page,
            lo + size - page,
            lo + size,
            !0xfff,
        ] {
            for low in [0, 1, 2, 3, 4, 0x800 | 3, page | 1] {
                v.push(base.wrapping_add(low));
            }
        }
        v.push(u64::MAX);
        v.push(1 << 63 | 3);
        v
    }

    /// The single-unit check of one TCE gives what the lookup gives, on the
    /// edge values, for units whose host copy is and is not aligned to the
    /// page, and one whose size is not a whole number of 64 KiB pages.
    #[test]
    fn one_tce_in_the_unit_agrees_with_the_lookup() {
        let mut outcomes = std::collections::HashSet::new();
        for (host, size) in [
            (0x40_0000_0000u64, 1u64 << 20),
            (0x40_0000_3000, 1 << 20),
            (0x40_0000_0000, (1 << 20) + 0x1000),
        ] {
            let ram = RamMap::new(&[RamRegion {
                logical: 1 << 20,
                host,
                size,
            }])
            .unwrap();
            let units = Units::new(&ram, PartitionConfig::default());
            let unit = units.single().unwrap();
            for page in [1u64 << 12, 1 << 16] {
                for v in edge_values(page) {
                    let looked_up = validate(v, page, &mut Cursor::new(&units))
                        .map(|(hw, u)| (hw, u.is_some()));
                    assert_eq!(
                        validate_in_unit(v, page, unit),
                        looked_up,
                        "host {host:#x} page {page:#x} tce {v:#x}"
                    );
                    outcomes.insert(format!("{:?}", looked_up.map(|(_, valid)| valid)));
                }
            }
        }
        // Valid, clear, H_PARAMETER and H_HARDWARE all came up.
        assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    }

    #[test]
    fn one_unit_passes_agree_with_the_lookup() {
        // Lists the progression pass checked from their ends: refused, taken.
        let mut taken = [0usize; 2];
        // Lists the big-endian pass took: by xor, by offset; as progressions.
        let mut be_taken = [0usize; 3];
        // A unit aligned to its size in both address spaces (entries by
        // xor), and one whose host copy is not (by offset).
        for host in [0x40_0000_0000, 0x40_0003_0000] {
            one_unit_passes_agree(host, &mut taken, &mut be_taken);
        }
        assert!(taken[0] > 100 && taken[1] > 100, "{taken:?}");
        assert!(be_taken.iter().all(|&n| n > 100), "{be_taken:?}");
    }

    fn one_unit_passes_agree(host: u64, taken: &mut [usize; 2], be_taken: &mut [usize; 3]) {
        let ram = RamMap::new(&[RamRegion {
            logical: 1 << 20,
            host,
            size: 1 << 20,
        }])
        .unwrap();
        let units = Units::new(&ram, PartitionConfig::default());
        let unit = units.single().unwrap();
        for page in [1u64 << 12, 1 << 16] {
            let values = edge_values(page);
            // Every single value, and lists mixing good, clear and bad ones.
            let mut lists: Vec<Vec<u64>> = values.iter().map(|&v| vec![v]).collect();
            let good = ((1u64 << 20) + page) | 3;
            for &v in &values {
                lists.push(vec![good, v, 0, good + page]);
                lists.push(vec![good, v]);
                lists.push(vec![(1 << 20) | 1, v, ((1 << 20) + page) | 2]);
                // Starting as one page repeated, then two entries that
                // differ from it alike (differences that would cancel).
                lists.push(vec![good, good, v, v]);
            }
            lists.push(
                (0..512)
                    .map(|i| ((1 << 20) + (i % 16) * page) | 1)
                    .collect(),
            );
            // Progressions from every edge value: one page repeated,
            // consecutive pages (some running out of the unit, or wrapping
            // past 2^64), and steps the progression pass does not take.
            for &head in &values {
                for step in [0, page, page.wrapping_neg(), 2 * page, 0x1000, 1] {
                    for n in [1u64, 2, 3, 16, 17, 256, 512] {
                        lists.push(
                            (0..n)
                                .map(|i| head.wrapping_add(i.wrapping_mul(step)))
                                .collect(),
                        );
                    }
                }
            }
            // The unit's whole last pages, and one entry past its end.
            let top = (2u64 << 20) - 16 * page;
            lists.push((0..16).map(|i| (top + i * page) | 3).collect());
            lists.push((0..17).map(|i| (top + i * page) | 3).collect());
            for list in lists {
                let (mut a, mut b) = (vec![Tce::NONE; list.len()], vec![Tce::NONE; list.len()]);
                let fast = validate_one_unit(&list, &mut a, unit, page, &mut Cursor::new(&units));
                let slow = validate_any(&list, &mut b, &mut Cursor::new(&units), page);
                assert_eq!(fast, slow, "page {page:#x} list {list:x?}");
                // The read-only pass accepts exactly the all-valid lists, and
                // its offset gives the same hardware entries.
                let all_valid = all_valid_one_unit(&list, unit, page);
                assert_eq!(
                    all_valid.is_some(),
                    fast == Ok(NewRefs::InOneUnit {
                        unit: 0,
                        count: list.len() as u64
                    }),
                    "page {page:#x} list {list:x?}"
                );
                // The progression pass: the same answer, and the list's
                // progression when it returns one.
                let (steady, run) = all_valid_one_unit_progression(&list, unit, page);
                assert_eq!(steady, all_valid, "page {page:#x} list {list:x?}");
                taken[usize::from(steady.is_some())] += usize::from(run.is_some());
                if let Some(run) = run {
                    assert!(
                        (0..list.len()).all(|i| list[i] == run.at(i as u64)),
                        "page {page:#x} list {list:x?}"
                    );
                }
                // The big-endian pass: only lists the others accept, with
                // the same hardware entries; and every progression of step
                // 0 or one page the native pass took.
                let be: Vec<u64> = list.iter().map(|v| v.to_be()).collect();
                let be_accepted = all_valid_one_unit_be(&be, unit, page);
                // The same list lent in place (bytes as they lie): taken
                // exactly when it is a run the big-endian pass took, with
                // its progression, and each entry's hardware entry follows
                // from its value.
                let lent: Vec<[u8; 8]> = be.iter().map(|v| v.to_ne_bytes()).collect();
                let lent_run = run_valid_one_unit_be(&lent, unit, page);
                assert_eq!(
                    lent_run,
                    be_accepted.and_then(|a| a.run.map(|r| (r, a.entries))),
                    "page {page:#x} list {list:x?}"
                );
                if let Some((_, entries)) = lent_run {
                    let hw: Vec<Tce> = list
                        .iter()
                        .map(|&g| Tce::from_raw(entries.entry_of(g)))
                        .collect();
                    assert_eq!(hw, a, "page {page:#x} list {list:x?}");
                }
                if let Some(accepted) = be_accepted {
                    assert!(all_valid.is_some(), "page {page:#x} list {list:x?}");
                    let hw: Vec<Tce> = be
                        .iter()
                        .map(|&g| {
                            Tce::from_raw(match accepted.entries {
                                BeEntries::Xor(key) => u64::from_be(g ^ key),
                                BeEntries::Offset(delta) => u64::from_be(g).wrapping_add(delta),
                            })
                        })
                        .collect();
                    assert_eq!(hw, a, "page {page:#x} list {list:x?}");
                    if let Some(r) = accepted.run {
                        assert!(
                            (0..list.len()).all(|i| list[i] == r.at(i as u64)),
                            "page {page:#x} list {list:x?}"
                        );
                    }
                    let masked = matches!(accepted.entries, BeEntries::Xor(_));
                    assert_eq!(masked, host == 0x40_0000_0000);
                    be_taken[usize::from(!masked)] += 1;
                    be_taken[2] += usize::from(accepted.run.is_some());
                }
                if steady.is_some() && run.is_some() {
                    assert_eq!(
                        be_accepted.and_then(|a| a.run),
                        run,
                        "page {page:#x} list {list:x?}"
                    );
                }
                if let Some(delta) = all_valid {
                    let hw: Vec<Tce> = list
                        .iter()
                        .map(|g| Tce::from_raw(g.wrapping_add(delta)))
                        .collect();
                    assert_eq!(hw, a, "page {page:#x} list {list:x?}");
                }
                if fast.is_ok() {
                    assert_eq!(a, b, "page {page:#x} list {list:x?}");
                }
            }
        }
    }
}
