//! LIOBNs: a guest's DMA windows, each a real TCE table in a PE's TVE.
//!
//! A [`Window`] owns its [`TceTable`] and the guest-visible [`Shadow`]; the
//! partition lock (`lock`) makes a hypercall their only user for its whole
//! batch: it copies the list, validates every entry into its hardware entry
//! (`validate`), has the table allocate every level the batch needs and then
//! writes the hardware entries with plain stores (no read-modify-write; no
//! other writer can hold the lock), settles the old guest values (`settle`:
//! map counts once per batch, dirty log a word at a time) and copies the new
//! ones over them (a list of consecutive pages is recorded as such, and
//! settled as such when replaced). The caller issues one invalidation for
//! the batch before it lets the partition lock go.
//!
//! The common cases have paths of their own, each doing exactly what the
//! batch does (twin tests compare them call by call): `H_PUT_TCE` and
//! `H_STUFF_TCE` of one value, and `H_PUT_TCE_INDIRECT` of consecutive
//! pages (or one page repeated) that guest memory lends in place, checked
//! where it lies and stored from the progression it is, no copy. Each
//! applies with one unit and when the entries' leaf level and shadow chunk
//! are there; anything else takes the batch path, nothing changed.
//!
//! A [`PeState`] is a PE assigned to the partition: its PHB, its two TVE slots
//! (window 0 = default, window 1 = dynamic) and the boot-time default LIOBN.
//!
//! LIOBNs: a PE's default LIOBN is given when the host attaches the PE (at
//! most [`MAX_DEFAULT_LIOBN`] over the hypervisor's life; guests cannot
//! attach PEs). A dynamic window's LIOBN is derived from the PE's:
//! `DYNAMIC_LIOBN | default << 15 | generation`, the generation advancing
//! (and wrapping) at every create on that PE. So LIOBNs are unique across
//! partitions, a guest's create/remove cycles use up nothing (they only
//! turn its own PE's generation), and a removed window's LIOBN stays
//! unknown (`H_PARAMETER`) until the same PE has created
//! [`LIOBN_GENERATIONS`] more windows.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};

use super::dirty::DirtyLog;
use super::hcall::{HResult, HStatus, MAX_TCES_PER_CALL};
use super::partition::GuestMemory;
use super::prereg::{Cursor, Deltas, Unit, Units};
use super::settle::{OldSettler, settle_one_unit, settle_one_unit_old, settle_one_unit_repeated};
use super::shadow::{BatchNew, Old, Shadow};
use super::validate::{
    BeAccepted, BeEntries, NewRefs, all_valid_one_unit_be, all_valid_one_unit_progression,
    run_valid_one_unit_be, validate, validate_any, validate_in_unit, validate_one_unit,
};
use super::{PeConfig, WindowProgrammer};
use crate::page_alloc::PageAllocator;
use crate::tce::{Geometry, Tce, TceTable};

const SCRATCH: usize = MAX_TCES_PER_CALL as usize;

/// Where a batch's new guest TCEs come from.
pub(crate) enum Source<'a> {
    /// The same value for `count` entries (`H_PUT_TCE`, `H_STUFF_TCE`).
    Value { tce: u64, count: u64 },
    /// `count` big-endian values at host address `host` (`H_PUT_TCE_INDIRECT`).
    List {
        memory: &'a dyn GuestMemory,
        host: u64,
        count: u64,
    },
}

impl Source<'_> {
    fn count(&self) -> u64 {
        match *self {
            Source::Value { count, .. } | Source::List { count, .. } => count,
        }
    }
}

/// The partition's books a batch reads and updates besides the window: the
/// units and their map counts, the dirty log, the TCE memory charged.
pub(crate) struct PartitionAccounting<'a> {
    pub(crate) units: &'a Units,
    pub(crate) dirty: &'a DirtyLog,
    pub(crate) memory: &'a TceMemory,
}

/// The memory a partition's TCE tables and shadows hold, against its limit.
pub(crate) struct TceMemory {
    held: AtomicU64,
    limit: u64,
}

impl TceMemory {
    /// Nothing held yet, at most `limit` bytes.
    pub(crate) fn new(limit: u64) -> TceMemory {
        TceMemory {
            held: AtomicU64::new(0),
            limit,
        }
    }

    /// Bytes held.
    #[inline]
    pub(crate) fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Refuses a batch that may allocate once the partition is at its limit.
    /// (A batch may go past it by what one batch allocates: a few levels
    /// and shadow chunks.)
    #[inline]
    pub(crate) fn admit(&self) -> HResult<()> {
        if self.held() >= self.limit {
            Err(HStatus::NotEnoughResources)
        } else {
            Ok(())
        }
    }

    /// Records that a window's memory went from `before` to `after` bytes.
    pub(crate) fn charge(&self, before: u64, after: u64) {
        if after == before {
            // The common case: no level or chunk allocated; no atomic update.
        } else if after > before {
            self.held.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.release(before - after);
        }
    }

    /// Records that `bytes` were given back (a window removed).
    pub(crate) fn release(&self, bytes: u64) {
        let _ = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| {
                Some(h.saturating_sub(bytes))
            });
    }
}

/// One LIOBN: a DMA window of a PE, backed by a TCE table.
///
/// Aligned to a cache-line pair, so that no other allocation (another
/// partition's windows, say) shares a line with its hot fields.
#[repr(align(128))]
pub(crate) struct Window<A: PageAllocator> {
    pub(crate) liobn: u32,
    /// TVE slot of the PE (0 default, 1 dynamic).
    pub(crate) n: u32,
    pub(crate) geometry: Geometry,
    pub(crate) state: WindowState<A>,
    /// Bytes the window held when created (its top level): not charged to
    /// the partition, so not released from its charge either.
    base_bytes: u64,
}

pub(crate) struct WindowState<A: PageAllocator> {
    pub(crate) table: TceTable<A>,
    pub(crate) shadow: Shadow,
    /// The copied list (guest values) and its validated hardware entries.
    guest: Box<[u64; SCRATCH]>,
    hw: Box<[Tce; SCRATCH]>,
}

/// What the common paths of [`Window::put`] know of the value they store:
/// the partition's one unit, whether the value is valid (names a page in
/// it), the window's page size.
#[derive(Clone, Copy)]
struct NewValue<'u> {
    unit: &'u Unit,
    valid: bool,
    page: u64,
}

impl NewValue<'_> {
    /// Applies the map-count change of `count` entries set to the new value
    /// that replaced `released` valid ones.
    #[inline(always)]
    fn apply(self, count: u64, released: u64, ctx: &PartitionAccounting<'_>) {
        let added = if self.valid { count } else { 0 };
        if added != released {
            // At most 512 each way: no overflow.
            Deltas::new(ctx.units).add(0, added as i64 - released as i64);
        }
    }
}

/// The largest default LIOBN (default LIOBNs are 1..=this).
pub(crate) const MAX_DEFAULT_LIOBN: u32 = 0xffff;
/// Generations of a PE's dynamic LIOBN before one recurs.
pub(crate) const LIOBN_GENERATIONS: u32 = 1 << 15;
/// Set in every dynamic window's LIOBN (never in a default one).
const DYNAMIC_LIOBN: u32 = 1 << 31;

/// A batch's scratch array filled with `fill`, or `None` if there is no
/// memory for it.
fn scratch<T: Copy>(fill: T) -> Option<Box<[T; SCRATCH]>> {
    let mut v = Vec::new();
    v.try_reserve_exact(SCRATCH).ok()?;
    v.resize(SCRATCH, fill); // within the reserved capacity: no allocation
    // Length equals capacity, so this neither reallocates nor fails.
    v.into_boxed_slice().try_into().ok()
}

/// Converts the copied list `guest` from big-endian values to values,
/// unless `native` says it was done (then it is set).
fn values_from_be(guest: &mut [u64], native: &mut bool) {
    if !*native {
        for v in guest.iter_mut() {
            *v = u64::from_be(*v);
        }
        *native = true;
    }
}

/// A PE assigned to a partition.
pub(crate) struct PeState<P: WindowProgrammer, A: PageAllocator> {
    pub(crate) cfg: PeConfig,
    pub(crate) phb: Arc<P>,
    pub(crate) default_liobn: u32,
    pub(crate) windows: [Option<Window<A>>; 2],
    /// A TCE kill of this PE failed, and no PE-wide kill has completed
    /// since: the PHB's TCE cache may still hold translations whose
    /// references were released. Set before the failing call lets go of the
    /// units; cleared only by a completed kill of the whole PE
    /// ([`PeState::settle_owed_kill`]). While set, no region can be
    /// unregistered and the dirty log cannot be cleared.
    pub(crate) kill_owed: AtomicBool,
    /// Generation of the next dynamic LIOBN (below [`LIOBN_GENERATIONS`]).
    pub(crate) next_generation: u32,
}

impl<P: WindowProgrammer, A: PageAllocator> PeState<P, A> {
    pub(crate) fn window(&self, liobn: u32) -> Option<&Window<A>> {
        self.windows.iter().flatten().find(|w| w.liobn == liobn)
    }

    /// A LIOBN for a new dynamic window of this PE: the next generation
    /// that no window of the PE uses.
    pub(crate) fn new_dynamic_liobn(&mut self) -> u32 {
        loop {
            let generation = self.next_generation;
            self.next_generation = (generation + 1) % LIOBN_GENERATIONS;
            // `default_liobn <= MAX_DEFAULT_LIOBN` fits in 16 bits.
            let liobn = DYNAMIC_LIOBN | self.default_liobn << 15 | generation;
            // At most two windows: at most two generations are skipped.
            if self.window(liobn).is_none() {
                return liobn;
            }
        }
    }

    /// Retries the kill this PE owes, if it owes one: kills the whole PE and
    /// syncs. `Err` if the PHB still does not complete it (it stays owed).
    pub(crate) fn settle_owed_kill(&self) -> Result<(), ()> {
        if !self.kill_owed.load(Ordering::Acquire) {
            return Ok(());
        }
        self.phb
            .invalidate_pe(self.cfg.pe)
            .and_then(|()| self.phb.sync())
            .map_err(|_| ())?;
        self.kill_owed.store(false, Ordering::Release);
        Ok(())
    }
}

impl<A: PageAllocator> Window<A> {
    /// A window of `geometry` with an empty table from `alloc`.
    pub(crate) fn new(liobn: u32, n: u32, geometry: Geometry, alloc: A) -> HResult<Window<A>> {
        // A guest call creates windows: every allocation here may fail,
        // and then nothing was created.
        let guest = scratch(0u64).ok_or(HStatus::Hardware)?;
        let hw = scratch(Tce::NONE).ok_or(HStatus::Hardware)?;
        let table = TceTable::new(geometry, alloc).map_err(|_| HStatus::Hardware)?;
        let base_bytes = table.bytes_held();
        Ok(Window {
            liobn,
            n,
            geometry,
            base_bytes,
            state: WindowState {
                table,
                shadow: Shadow::default(),
                guest,
                hw,
            },
        })
    }

    /// Page number of `ioba` within the window, checking that `count` pages
    /// from it are aligned and inside the window without overflow.
    #[inline]
    pub(crate) fn check(&self, ioba: u64, count: u64) -> HResult<u64> {
        // Count 0 still names a page.
        self.geometry
            .window_index(ioba, count)
            .ok_or(HStatus::Parameter)
    }

    /// `H_GET_TCE`: the guest value of the entry at `ioba`.
    pub(crate) fn get(&self, ioba: u64) -> HResult<u64> {
        let index = self.check(ioba, 1)?;
        Ok(self.state.shadow.get(index))
    }

    /// Writes a batch of guest TCEs from `ioba`, all or nothing. Returns the
    /// bytes changed (0 for an empty batch) for the caller's invalidation.
    #[inline]
    pub(crate) fn put(
        &mut self,
        ioba: u64,
        src: Source<'_>,
        ctx: &PartitionAccounting<'_>,
    ) -> HResult<u64> {
        let common = match src {
            Source::Value { tce, count } => self.put_value(ioba, tce, count, ctx),
            Source::List {
                memory,
                host,
                count,
            } => self.put_run(ioba, memory, host, count, ctx),
        };
        match common {
            Some(done) => done,
            None => self.put_batch(ioba, src, ctx),
        }
    }

    /// What the common paths check first, in the batch path's order: a
    /// count of 1 to 512 and a partition with one unit (else `None`: the
    /// batch path decides), then the IOBA range, whose error is the call's.
    /// The first entry's index and the unit.
    #[inline(always)]
    fn common_start<'u>(
        &self,
        ioba: u64,
        count: u64,
        ctx: &PartitionAccounting<'u>,
    ) -> Option<HResult<(u64, &'u Unit)>> {
        if !(1..=MAX_TCES_PER_CALL).contains(&count) {
            return None;
        }
        let unit = ctx.units.single()?;
        Some(self.check(ioba, count).map(|first| (first, unit)))
    }

    /// The common path of `H_PUT_TCE_INDIRECT` in a partition with one
    /// unit: a list of consecutive pages (or one page repeated), lent in
    /// place by guest memory that can, over a leaf level and a shadow chunk
    /// that are there. The list is checked where it lies, each entry read
    /// once; the hardware entries follow from the progression it was, and
    /// the shadow records the progression. `None` if any of that does not
    /// hold (nothing has changed: the batch path copies the list and
    /// decides). The checks and their order are the batch path's.
    #[inline]
    fn put_run(
        &mut self,
        ioba: u64,
        memory: &dyn GuestMemory,
        host: u64,
        count: u64,
        ctx: &PartitionAccounting<'_>,
    ) -> Option<HResult<u64>> {
        let (first, unit) = match self.common_start(ioba, count, ctx)? {
            Ok(start) => start,
            Err(e) => return Some(Err(e)),
        };
        let page = self.geometry.page_size();
        let mut accepted = None;
        let lent = memory.lend_be_u64s(host, count as usize, &mut |list| {
            accepted = run_valid_one_unit_be(list, unit, page);
        });
        let (run, entries) = accepted.filter(|_| lent)?;
        // Every entry is valid, so non-zero.
        if let Err(e) = ctx.memory.admit() {
            return Some(Err(e));
        }
        let st = &mut self.state;
        let located = st.shadow.locate(first, count)?;
        // A step of 0 or one page: the entries are the progression from the
        // first one's entry by the same step (the unit maps pages in order).
        let pfn = ioba >> self.geometry.page_shift();
        let head = entries.entry_of(run.head);
        let stores = st.table.progression_existing(pfn, count, head, run.step)?;
        // Nothing fails from here. The old values are settled before the
        // stores, whose chain of loads (the walk to the leaf) is not theirs:
        // the two overlap (about 5% of a short call's time).
        let released = st
            .shadow
            .replace_at(located, BatchNew::Progression(run), |old| {
                settle_one_unit_old(old, count, unit, ctx.dirty, page)
            });
        stores.store();
        let new = NewValue {
            unit,
            valid: true,
            page,
        };
        new.apply(count, released, ctx);
        Some(Ok(count * page))
    }

    /// `H_PUT_TCE` and `H_STUFF_TCE` in a partition with one unit: the
    /// checks of [`put_batch`](Self::put_batch), in its order, then their
    /// common paths. `None` if they do not apply (nothing has changed).
    #[inline(always)]
    fn put_value(
        &mut self,
        ioba: u64,
        tce: u64,
        count: u64,
        ctx: &PartitionAccounting<'_>,
    ) -> Option<HResult<u64>> {
        let page = self.geometry.page_size();
        let checked = self
            .common_start(ioba, count, ctx)?
            .and_then(|(first, unit)| {
                let (hw, valid) = validate_in_unit(tce, page, unit)?;
                if tce != 0 {
                    ctx.memory.admit()?;
                }
                Ok((first, hw, NewValue { unit, valid, page }))
            });
        let (first, hw, new) = match checked {
            Ok(checked) => checked,
            Err(e) => return Some(Err(e)),
        };
        match count {
            1 => self.put_one(first, ioba, tce, hw, new, ctx),
            _ => self.put_same(first, ioba, tce, hw, count, new, ctx),
        }
        .map(Ok)
    }

    /// [`put`](Self::put) of any batch.
    #[inline(never)]
    fn put_batch(
        &mut self,
        ioba: u64,
        src: Source<'_>,
        ctx: &PartitionAccounting<'_>,
    ) -> HResult<u64> {
        let count = src.count();
        let first = self.check(ioba, count)?;
        if count == 0 {
            return Ok(0);
        }
        let n = usize::try_from(count).map_err(|_| HStatus::Parameter)?;
        if n > SCRATCH {
            return Err(HStatus::Parameter);
        }
        let page = self.geometry.page_size();
        let mut cursor = Cursor::new(ctx.units);
        let st = &mut self.state;
        // 1. Validate every entry, then store the hardware entries (the table
        //    allocates every level the batch needs before it writes one);
        //    nothing has changed if this fails.
        //    Memory (table levels, shadow chunks) is charged to the partition:
        //    a batch that stores non-zero values is refused once the
        //    partition's TCE memory is at its limit.
        let held_before = st.table.bytes_held() + st.shadow.bytes();
        let stored = match src {
            Source::Value { tce, count } => {
                validate(tce, page, &mut cursor).and_then(|(hw, unit)| {
                    if tce != 0 {
                        ctx.memory.admit()?;
                        st.shadow
                            .reserve(first, count)
                            .map_err(|_| HStatus::NotEnoughResources)?;
                    }
                    st.table
                        .fill_run(ioba, hw, count)
                        .map_err(|_| HStatus::Hardware)?;
                    Ok((NewRefs::repeated(unit, count), Some(tce), None))
                })
            }
            Source::List { memory, host, .. } => {
                let (guest, hw) = (&mut st.guest[..n], &mut st.hw[..n]);
                // The values as listed (big-endian): the common case needs
                // only bitwise work on most of them.
                if !memory.copy_be_u64s(host, guest) {
                    return Err(HStatus::Hardware);
                }
                let mut native = false;
                // The common case (one unit, every entry valid and good): the
                // hardware entries follow from the guest values by one xor
                // or one offset, and are computed as they are stored. One
                // page repeated or consecutive pages are checked from their
                // ends, and recorded in the shadow as such. Any list the
                // big-endian check does not take is converted and checked
                // again (the exact test needs the values).
                let fast = match ctx.units.single() {
                    Some(unit) => match all_valid_one_unit_be(guest, unit, page) {
                        Some(accepted) => Some((unit, accepted)),
                        None => {
                            values_from_be(guest, &mut native);
                            let (delta, run) = all_valid_one_unit_progression(guest, unit, page);
                            delta.map(|delta| {
                                let entries = BeEntries::Offset(delta);
                                (unit, BeAccepted { entries, run })
                            })
                        }
                    },
                    None => {
                        values_from_be(guest, &mut native);
                        None
                    }
                };
                if let Some((unit, accepted)) = fast {
                    // Every entry is valid, so non-zero.
                    ctx.memory.admit().and_then(|()| {
                        st.shadow
                            .reserve(first, count)
                            .map_err(|_| HStatus::NotEnoughResources)?;
                        match accepted.entries {
                            BeEntries::Xor(key) => {
                                // Only the big-endian check gives a key.
                                debug_assert!(!native);
                                st.table.store_checked_be_xor_run(ioba, guest, key)
                            }
                            BeEntries::Offset(delta) => {
                                values_from_be(guest, &mut native);
                                st.table.store_checked_offset_run(ioba, guest, delta)
                            }
                        }
                        .map_err(|_| HStatus::Hardware)?;
                        // Stored: nothing fails from here. A batch in one
                        // shadow chunk settles its old values and sets the
                        // new ones here (an old progression is settled
                        // without reading it); any other, a run at a time
                        // below (from the values, converted).
                        let new = match accepted.run {
                            Some(run) => BatchNew::Progression(run),
                            None => {
                                values_from_be(guest, &mut native);
                                BatchNew::Entries(guest)
                            }
                        };
                        let released = st.shadow.replace_batch(first, count, new, |old| {
                            settle_one_unit_old(old, count, unit, ctx.dirty, page)
                        });
                        if released.is_none() {
                            values_from_be(guest, &mut native);
                        }
                        Ok((NewRefs::InOneUnit { unit: 0, count }, None, released))
                    })
                } else {
                    let refs = match ctx.units.single() {
                        Some(unit) => validate_one_unit(guest, hw, unit, page, &mut cursor),
                        None => validate_any(guest, hw, &mut cursor, page),
                    };
                    refs.and_then(|refs| {
                        if guest.iter().any(|&v| v != 0) {
                            ctx.memory.admit()?;
                            st.shadow
                                .reserve(first, count)
                                .map_err(|_| HStatus::NotEnoughResources)?;
                        }
                        st.table
                            .store_checked_run(ioba, hw)
                            .map_err(|_| HStatus::Hardware)?;
                        Ok((refs, None, None))
                    })
                }
            }
        };
        ctx.memory
            .charge(held_before, st.table.bytes_held() + st.shadow.bytes());
        // `settled`: the references a list batch released when it settled
        // and set the shadow itself.
        let (refs, constant, settled) = stored?;
        // 2. Settle the replaced guest values (references released, dirty
        //    pages marked) and copy the new ones over them, a shadow run at
        //    a time; then apply the reference changes, once per unit.
        let values = &st.guest[..n];
        let copy_new = |index: u64, entries: &mut [u64]| {
            let at = (index - first) as usize;
            entries.copy_from_slice(&values[at..at + entries.len()]);
        };
        let mut deltas = Deltas::new(ctx.units);
        if let Some(unit) = ctx.units.single() {
            let mut released = 0u64;
            match constant {
                // One value (STUFF, PUT): a whole chunk is replaced in one step.
                Some(tce) => st.shadow.fill(first, count, tce, |old| {
                    released += match old {
                        Old::Same { value, n } => {
                            settle_one_unit_repeated(value, n, unit, ctx.dirty, page)
                        }
                        Old::Entries(old) => settle_one_unit(old, unit, ctx.dirty, page),
                    }
                }),
                None => match settled {
                    Some(settled) => released = settled,
                    None => st.shadow.for_each_run(first, count, |index, entries| {
                        released += settle_one_unit(entries, unit, ctx.dirty, page);
                        copy_new(index, entries);
                    }),
                },
            }
            let added = match refs {
                NewRefs::InOneUnit { count, .. } => count,
                NewRefs::None | NewRefs::Mixed => 0,
            };
            // At most 512 each way: no overflow.
            deltas.add(0, added as i64 - released as i64);
        } else {
            let mut settler = OldSettler::new(ctx, page);
            match constant {
                Some(tce) => st.shadow.fill(first, count, tce, |old| match old {
                    Old::Same { value, n } => {
                        for _ in 0..n {
                            settler.settle(value, &mut deltas);
                        }
                    }
                    Old::Entries(old) => {
                        for &o in old {
                            settler.settle(o, &mut deltas);
                        }
                    }
                }),
                None => st.shadow.for_each_run(first, count, |index, entries| {
                    for &old in entries.iter() {
                        settler.settle(old, &mut deltas);
                    }
                    copy_new(index, entries);
                }),
            }
            match refs {
                NewRefs::None => {}
                NewRefs::InOneUnit { unit, count } => deltas.add(unit, count as i64),
                NewRefs::Mixed => {
                    for &v in values {
                        if let Ok((_, Some(u))) = validate(v, page, &mut cursor) {
                            deltas.add(u, 1);
                        }
                    }
                }
            }
        }
        drop(deltas);
        Ok(count * page)
    }

    /// The common path of `H_PUT_TCE`, once [`put`](Self::put) has checked
    /// the call: what `put` does for one value, without its batch machinery,
    /// if the entry's leaf level and shadow chunk are there. Returns the
    /// bytes changed; `None` if they are not there (then nothing has changed,
    /// and `put` goes on).
    #[inline(always)]
    fn put_one(
        &mut self,
        index: u64,
        ioba: u64,
        tce: u64,
        hw: Tce,
        new: NewValue<'_>,
        ctx: &PartitionAccounting<'_>,
    ) -> Option<u64> {
        let st = &mut self.state;
        let entry = st.table.entry(ioba >> self.geometry.page_shift())?;
        let guest = st.shadow.entry_mut(index)?;
        entry.store(hw.raw().to_be(), Ordering::Relaxed);
        // As every table store: ordered before the kill that follows.
        fence(Ordering::Release);
        let old = core::mem::replace(guest, tce);
        let released = settle_one_unit_repeated(old, 1, new.unit, ctx.dirty, new.page);
        new.apply(1, released, ctx);
        Some(new.page)
    }

    /// The common path of `H_STUFF_TCE`, as [`put_one`](Self::put_one) is of
    /// `H_PUT_TCE`: if the `count` entries lie in one leaf level that is
    /// there and in one shadow chunk that is there.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn put_same(
        &mut self,
        first: u64,
        ioba: u64,
        tce: u64,
        hw: Tce,
        count: u64,
        new: NewValue<'_>,
        ctx: &PartitionAccounting<'_>,
    ) -> Option<u64> {
        // With this hypervisor's geometries (leaf levels of at most 512
        // entries) a leaf level that is there implies its shadow chunk is;
        // checked anyway, so that `put`'s reservation is never skipped
        // whatever the geometry (entries over two chunks, or in a missing
        // one, take the batch path).
        let st = &mut self.state;
        let located = st.shadow.locate(first, count)?;
        // Stores only if the leaf level is there.
        let pfn = ioba >> self.geometry.page_shift();
        if !st.table.fill_existing_leaf(pfn, count, hw) {
            return None;
        }
        let (unit, page) = (new.unit, new.page);
        let released = st.shadow.fill_at(located, tce, |old| {
            settle_one_unit_old(old, count, unit, ctx.dirty, page)
        });
        new.apply(count, released, ctx);
        Some(count * page)
    }

    /// Bytes charged to the partition for this window: levels and shadow
    /// chunks beyond the top level.
    #[cfg(any(test, feature = "std"))]
    pub(crate) fn charged_bytes(&self) -> u64 {
        let st = &self.state;
        (st.table.bytes_held() + st.shadow.bytes()).saturating_sub(self.base_bytes)
    }

    /// Releases every entry's reference (the window is going away; its TVE is
    /// already cleared and killed).
    pub(crate) fn release_all(&self, ctx: &PartitionAccounting<'_>) {
        let st = &self.state;
        let held = st.table.bytes_held() + st.shadow.bytes();
        ctx.memory.release(held.saturating_sub(self.base_bytes));
        let mut deltas = Deltas::new(ctx.units);
        let mut settler = OldSettler::new(ctx, self.geometry.page_size());
        for (_, old) in st.shadow.nonzero() {
            settler.settle(old, &mut deltas);
        }
    }
}
