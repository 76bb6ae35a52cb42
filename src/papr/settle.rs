//! Settling replaced guest TCEs: map counts and the dirty log.
//!
//! When a batch replaces guest TCEs, every valid old one releases its unit's
//! reference, and every old one with write permission marks its page dirty
//! (the device may have written it). Both read the window's shadow (the old
//! guest values) just before the new values are copied over it.
//!
//! With a single unit (the common case) there is nothing to look up: every
//! valid old entry was validated into that unit, and a unit with mapped
//! entries cannot be unregistered. [`settle_one_unit`] counts the valid
//! entries in a vectorisable pass, and marks dirty pages a bitmap word at a
//! time; a run of consecutive pages or one page repeated (what a guest maps
//! for a buffer, or `H_STUFF_TCE` leaves) is recognised in the same kind of
//! pass and marked as one range; when the shadow recorded the old values as
//! such a run, [`settle_one_unit_progression`] settles them without reading
//! a single entry. Other partitions use [`OldSettler`].

use super::dirty::{DirtyLog, mark_word};
use super::liobn::PartitionAccounting;
use super::partition::RAM_GRANULE;
use super::prereg::{Cursor, Deltas, Unit};
use super::shadow::{BatchOld, Progression};
use crate::iopt::Perm;

const FLAGS: u64 = Perm::all().bits();
const WRITE: u64 = Perm::WRITE.bits();

/// The arithmetic progression that `old` is if it is one: its first term
/// and its step (0 for fewer than two terms).
#[inline(always)]
pub(crate) fn progression(old: &[u64]) -> (u64, u64) {
    match old {
        [] => (0, 0),
        [head] => (*head, 0),
        [head, next, ..] => (*head, next.wrapping_sub(*head)),
    }
}

/// Whether `o`, term `i` of a list, is term `i` of the progression `expected`
/// stands at (`expected` then moves on by `step`): folds into an OR that
/// stays 0 exactly while every term matches.
#[inline(always)]
pub(crate) fn progression_miss(o: u64, expected: &mut u64, step: u64) -> u64 {
    let miss = o ^ *expected;
    *expected = expected.wrapping_add(step);
    miss
}

/// Settles the old guest values `old` of a partition whose only unit is
/// `unit`: marks the pages of the entries with W dirty, and returns how many
/// entries were valid (references to release).
#[inline]
pub(crate) fn settle_one_unit(old: &[u64], unit: &Unit, dirty: &DirtyLog, page: u64) -> u64 {
    // Is `old` an arithmetic progression (one read-only pass)?
    let (head, step) = progression(old);
    let mut irregular = 0u64;
    let mut expected = head;
    for &o in old {
        irregular |= progression_miss(o, &mut expected, step);
    }
    settle_one_unit_given_progression(old, irregular == 0, unit, dirty, page)
}

/// [`settle_one_unit`] for a caller that has already checked whether `old`
/// is the arithmetic progression [`progression`] makes of it (`regular`):
/// the single-unit settling, given that answer.
#[inline]
fn settle_one_unit_given_progression(
    old: &[u64],
    regular: bool,
    unit: &Unit,
    dirty: &DirtyLog,
    page: u64,
) -> u64 {
    let (head, step) = progression(old);
    if old.is_empty() {
        return 0;
    }
    if regular && let Some(valid) = settle_steady(head, step, old.len() as u64, unit, dirty, page) {
        return valid;
    }
    // Offset in the RAM region of logical address `la`: `la + base`.
    let base = unit.ram_offset.wrapping_sub(unit.logical);
    if page == RAM_GRANULE {
        return count_and_mark_each(old, unit.ram, base, dirty);
    }
    let mut valid = 0u64;
    let mut any = 0u64;
    for &o in old {
        valid += (o | (o >> 1)) & 1;
        any |= o;
    }
    if any & WRITE != 0 {
        mark_each(old, unit.ram, base, dirty, page);
    }
    valid
}

/// For 4 KiB pages (one dirty bit each): counts the valid entries of `old`
/// and marks the page of each one with W dirty. The count is one pass the
/// compiler vectorises (with the AND and OR of the entries); the marks take
/// a second pass only if some entry has W, each entry a load of its word of
/// the log and, only when its bit is new, a store (every writer of the log
/// holds the partition lock). A list of scattered pages makes every entry a
/// new word.
#[inline(never)]
fn count_and_mark_each(old: &[u64], ram: usize, base: u64, dirty: &DirtyLog) -> u64 {
    const _: () = assert!(WRITE == 2 && RAM_GRANULE == 1 << 12);
    let (mut valid, mut all, mut any) = (0u64, !0u64, 0u64);
    for &o in old {
        valid += (o | (o >> 1)) & 1;
        all &= o;
        any |= o;
    }
    let words = dirty.words(ram);
    let mark = |o: u64, with_write: u64| {
        let bit = (o & !FLAGS).wrapping_add(base) >> 12;
        // Pages of a unit lie inside its RAM region, so the word is there;
        // a clear's garbage address may not be (then it marks nothing).
        if let Some(word) = usize::try_from(bit >> 6).ok().and_then(|w| words.get(w)) {
            mark_word(word, with_write << (bit & 63));
        }
    };
    if all & WRITE != 0 {
        // Every entry has W (a guest maps most buffers writable).
        for &o in old {
            mark(o, 1);
        }
    } else if any & WRITE != 0 {
        for &o in old {
            mark(o, (o >> 1) & 1);
        }
    }
    valid
}

/// The single-unit settling of `n` old entries that held the progression
/// `head + i * step`, if its step is 0 or one page (else `None`, and nothing
/// was done): the pages marked as one range, and the references counted
/// without reading an entry.
#[inline]
fn settle_steady(
    head: u64,
    step: u64,
    n: u64,
    unit: &Unit,
    dirty: &DirtyLog,
    page: u64,
) -> Option<u64> {
    if step != 0 && step != page {
        return None;
    }
    // A step that is a multiple of 4 KiB keeps the flag bits, so every
    // entry of a progression has the permissions of the first.
    if n > 0 && head & WRITE != 0 {
        // One page repeated, or a run of consecutive pages.
        let base = unit.ram_offset.wrapping_sub(unit.logical);
        let pages = if step == 0 { 1 } else { n };
        let la = head & !FLAGS;
        dirty.mark(unit.ram, la.wrapping_add(base), pages.saturating_mul(page));
    }
    Some(if head & FLAGS != 0 { n } else { 0 })
}

/// [`settle_one_unit`] for `n` old entries that held `old` (entry `i` held
/// `old.at(i)`), without reading them: what a shadow recorded as a
/// progression. Any step works; a step of 0 or one page costs one step.
#[inline]
fn settle_one_unit_progression(
    old: Progression,
    n: u64,
    unit: &Unit,
    dirty: &DirtyLog,
    page: u64,
) -> u64 {
    if old.step == 0 {
        return settle_one_unit_repeated(old.head, n, unit, dirty, page);
    }
    if let Some(valid) = settle_steady(old.head, old.step, n, unit, dirty, page) {
        return valid;
    }
    // Not what a shadow records (it keeps only steps of 0 and one page):
    // the entries one by one, a bounded batch at a time.
    let mut valid = 0u64;
    let mut batch = [0u64; 64];
    let mut i = 0u64;
    while i < n {
        let len = (n - i).min(batch.len() as u64) as usize;
        for (e, k) in batch[..len].iter_mut().zip(i..) {
            *e = old.at(k);
        }
        valid += settle_one_unit_given_progression(&batch[..len], false, unit, dirty, page);
        i += len as u64;
    }
    valid
}

/// The single-unit settling of the `n` old values a shadow replace handed
/// over ([`BatchOld`]): as recorded, or the entries themselves.
#[inline]
pub(crate) fn settle_one_unit_old(
    old: BatchOld<'_>,
    n: u64,
    unit: &Unit,
    dirty: &DirtyLog,
    page: u64,
) -> u64 {
    match old {
        BatchOld::Progression(old) => settle_one_unit_progression(old, n, unit, dirty, page),
        BatchOld::Entries(old) => settle_one_unit(old, unit, dirty, page),
    }
}

/// [`settle_one_unit`] for `n` old entries that all held `old` (a shadow
/// chunk filled with one value): its page is marked dirty once if it had W,
/// and `n` references are released if it was valid.
#[inline]
pub(crate) fn settle_one_unit_repeated(
    old: u64,
    n: u64,
    unit: &Unit,
    dirty: &DirtyLog,
    page: u64,
) -> u64 {
    if n == 0 || old & FLAGS == 0 {
        return 0;
    }
    if old & WRITE != 0 {
        let base = unit.ram_offset.wrapping_sub(unit.logical);
        let offset = (old & !FLAGS).wrapping_add(base);
        match page {
            RAM_GRANULE => dirty.mark_page(unit.ram, offset),
            _ => dirty.mark(unit.ram, offset, page),
        }
    }
    n
}

/// Marks dirty the page of every entry of `old` that has W, one entry at a
/// time, for pages larger than 4 KiB (several dirty bits each; 4 KiB pages
/// take [`count_and_mark_each`]). The logical address `la` is at offset
/// `la + base` of RAM region `ram`.
#[inline(never)]
fn mark_each(old: &[u64], ram: usize, base: u64, dirty: &DirtyLog, page: u64) {
    for &o in old.iter().filter(|&&o| o & WRITE != 0) {
        dirty.mark(ram, (o & !FLAGS).wrapping_add(base), page);
    }
}

/// Settles replaced guest TCEs of any partition: each valid one releases
/// its unit's reference, and one with write permission marks its page dirty.
/// A run of equal old values (a stuffed range) looks its unit up once.
pub(crate) struct OldSettler<'a> {
    cursor: Cursor<'a>,
    dirty: &'a DirtyLog,
    page: u64,
    last_old: u64,
    last_unit: Option<usize>,
}

impl<'a> OldSettler<'a> {
    pub(crate) fn new(ctx: &PartitionAccounting<'a>, page: u64) -> Self {
        OldSettler {
            cursor: Cursor::new(ctx.units),
            dirty: ctx.dirty,
            page,
            last_old: 0,
            last_unit: None,
        }
    }

    /// Settles one old guest value.
    #[inline]
    pub(crate) fn settle(&mut self, old: u64, deltas: &mut Deltas<'_>) {
        let perm = old & FLAGS;
        if perm == 0 {
            return;
        }
        if old == self.last_old
            && let Some(u) = self.last_unit
        {
            deltas.add(u, -1);
            return;
        }
        let la = old & !perm;
        // A valid shadow entry was validated into a unit, and a unit with
        // mapped entries cannot be unregistered, so the lookup succeeds.
        let Some((u, _)) = self.cursor.find(la, self.page) else {
            return;
        };
        deltas.add(u, -1);
        if perm & WRITE != 0 {
            let unit = self.cursor.unit(u);
            self.dirty
                .mark(unit.ram, unit.ram_offset + (la - unit.logical), self.page);
        }
        self.last_old = old;
        self.last_unit = Some(u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::papr::partition::{PartitionConfig, RamMap, RamRegion};
    use crate::papr::prereg::Units;

    /// 4 MiB of RAM at logical 1 MiB, and its one unit.
    fn one_unit() -> (RamMap, Units) {
        let ram = RamMap::new(&[RamRegion {
            logical: 1 << 20,
            host: 0x40_0000_0000,
            size: 1 << 22,
        }])
        .unwrap();
        let units = Units::new(&ram, PartitionConfig::default());
        (ram, units)
    }

    #[test]
    fn one_unit_settling_agrees_with_the_lookup() {
        let (ram, units) = one_unit();
        let unit = units.single().unwrap();
        let ctx_dirty = DirtyLog::new(&ram);
        let slow_dirty = DirtyLog::new(&ram);
        let mut rand = crate::test_rand::xorshift(0x1234_5678_9abc_def0);
        for page in [1u64 << 12, 1 << 16] {
            let pages = (1u64 << 22) / page;
            for round in 0..300 {
                let len = (rand() % 600) as usize + 1;
                let start = (1 << 20) + (rand() % pages) * page;
                let perm = rand() % 4;
                // Progressions of step 0 and one page, and random lists.
                let old: Vec<u64> = (0..len as u64)
                    .map(|i| match round % 3 {
                        0 => start | perm,
                        1 => ((1 << 20) + ((start - (1 << 20)) / page + i) % pages * page) | perm,
                        _ => match rand() % 4 {
                            0 => 0,
                            _ => ((1 << 20) + (rand() % pages) * page) | (rand() % 3 + 1),
                        },
                    })
                    .collect();
                let fast = settle_one_unit(&old, unit, &ctx_dirty, page);
                let memory = super::super::liobn::TceMemory::new(u64::MAX);
                let slow_ctx = PartitionAccounting {
                    units: &units,
                    dirty: &slow_dirty,
                    memory: &memory,
                };
                let mut settler = OldSettler::new(&slow_ctx, page);
                let mut deltas = Deltas::new(&units);
                for &o in &old {
                    settler.settle(o, &mut deltas);
                }
                drop(deltas);
                let released = unit.mapped.swap(0, core::sync::atomic::Ordering::Relaxed);
                assert_eq!(
                    fast.wrapping_neg(),
                    released,
                    "page {page:#x} round {round}"
                );
                assert_eq!(
                    ctx_dirty.pages(true),
                    slow_dirty.pages(true),
                    "round {round}"
                );
            }
        }
    }

    #[test]
    fn a_repeated_value_settles_like_its_entries() {
        let (ram, units) = one_unit();
        let unit = units.single().unwrap();
        let (a, b) = (DirtyLog::new(&ram), DirtyLog::new(&ram));
        for page in [1u64 << 12, 1 << 16] {
            for perm in 0..4 {
                for n in [0usize, 1, 512] {
                    let v = ((1 << 20) + 3 * page) | perm;
                    let entries = vec![v; n];
                    assert_eq!(
                        settle_one_unit_repeated(v, n as u64, unit, &a, page),
                        settle_one_unit(&entries, unit, &b, page),
                        "page {page:#x} perm {perm} n {n}"
                    );
                    assert_eq!(a.pages(true), b.pages(true));
                }
            }
        }
    }

    #[test]
    fn a_recorded_progression_settles_like_its_entries() {
        let (ram, units) = one_unit();
        let unit = units.single().unwrap();
        let (a, b) = (DirtyLog::new(&ram), DirtyLog::new(&ram));
        for page in [1u64 << 12, 1 << 16] {
            for perm in 0..4 {
                for step in [0, page, 2 * page, 0x1000, page.wrapping_neg(), 1] {
                    for n in [1u64, 2, 63, 64, 65, 512] {
                        let old = Progression {
                            head: ((1 << 20) + 40 * page) | perm,
                            step,
                        };
                        // Entry by entry, as the lookup path settles.
                        let mut valid = 0;
                        for i in 0..n {
                            let o = old.at(i);
                            valid += u64::from(o & FLAGS != 0);
                            if o & WRITE != 0 {
                                let offset = (o & !FLAGS).wrapping_sub(unit.logical);
                                b.mark(unit.ram, offset.wrapping_add(unit.ram_offset), page);
                            }
                        }
                        assert_eq!(
                            settle_one_unit_progression(old, n, unit, &a, page),
                            valid,
                            "page {page:#x} perm {perm} step {step:#x} n {n}"
                        );
                        assert_eq!(a.pages(true), b.pages(true), "step {step:#x} n {n}");
                    }
                }
            }
        }
    }
}
