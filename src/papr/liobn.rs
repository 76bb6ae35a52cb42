//! LIOBNs: a guest's DMA windows, each a real TCE table in a PE's TVE.
//!
//! A [`Window`] owns its [`TceTable`] and the guest-visible [`Shadow`] behind
//! one lock. A hypercall takes that lock once for its whole batch: it copies
//! the list, validates every entry, writes the hardware entries with plain
//! stores (no read-modify-write; no other writer can hold the lock), swaps the
//! shadow entries and settles the old ones (map counts, dirty log), then
//! drops the lock. The caller issues one invalidation for the batch.
//!
//! A [`PeState`] is a PE assigned to the partition: its PHB, its two TVE slots
//! (window 0 = default, window 1 = dynamic) and the boot-time default LIOBN.

use alloc::boxed::Box;
use alloc::sync::Arc;

use super::dirty::DirtyLog;
use super::hcall::{HResult, HStatus, MAX_TCES_PER_CALL};
use super::partition::{GuestMemory, RAM_GRANULE};
use super::prereg::{Cursor, Deltas, Unit, Units};
use super::shadow::Shadow;
use super::{PeConfig, WindowProgrammer};
use crate::iopt::Perm;
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

/// The partition state a batch reads and updates besides the window.
pub(crate) struct Ctx<'a> {
    pub(crate) units: &'a Units,
    pub(crate) dirty: &'a DirtyLog,
}

/// One LIOBN: a DMA window of a PE, backed by a TCE table.
pub(crate) struct Window<A: PageAllocator> {
    pub(crate) liobn: u32,
    /// TVE slot of the PE (0 default, 1 dynamic).
    pub(crate) n: u32,
    pub(crate) geometry: Geometry,
    pub(crate) state: spin::Mutex<WindowState<A>>,
}

pub(crate) struct WindowState<A: PageAllocator> {
    pub(crate) table: TceTable<A>,
    pub(crate) shadow: Shadow,
    /// The copied list (guest values) and its validated hardware entries.
    guest: Box<[u64; SCRATCH]>,
    hw: Box<[Tce; SCRATCH]>,
}

/// A PE assigned to a partition.
pub(crate) struct PeState<P: WindowProgrammer, A: PageAllocator> {
    pub(crate) cfg: PeConfig,
    pub(crate) phb: Arc<P>,
    pub(crate) default_liobn: u32,
    pub(crate) windows: [Option<Window<A>>; 2],
}

impl<P: WindowProgrammer, A: PageAllocator> PeState<P, A> {
    pub(crate) fn window(&self, liobn: u32) -> Option<&Window<A>> {
        self.windows.iter().flatten().find(|w| w.liobn == liobn)
    }
}

/// Validates one guest TCE for a window of `page`-byte pages: the hardware
/// entry and the unit it maps into (`None` for a clear).
#[inline(always)]
fn validate(tce: u64, page: u64, cursor: &mut Cursor<'_>) -> Result<(Tce, Option<usize>), ()> {
    let perm = tce & Perm::all().bits();
    if perm == 0 {
        return Ok((Tce::NONE, None));
    }
    // Bits between the permissions and the page boundary must be 0: the
    // address is page aligned and no reserved bit is set.
    if tce & (page - 1) & !perm != 0 {
        return Err(());
    }
    let la = tce & !perm;
    let (unit, host) = cursor.find(la, page).ok_or(())?;
    Ok((Tce::from_raw(host | perm), Some(unit)))
}

impl<A: PageAllocator> Window<A> {
    /// A window of `geometry` with an empty table from `alloc`.
    pub(crate) fn new(liobn: u32, n: u32, geometry: Geometry, alloc: A) -> HResult<Window<A>> {
        let table = TceTable::new(geometry, alloc).map_err(|_| HStatus::Hardware)?;
        Ok(Window {
            liobn,
            n,
            geometry,
            state: spin::Mutex::new(WindowState {
                table,
                shadow: Shadow::default(),
                guest: Box::new([0; SCRATCH]),
                hw: Box::new([Tce::NONE; SCRATCH]),
            }),
        })
    }

    /// Page number of `ioba` within the window, checking that `count` pages
    /// from it are aligned and inside the window without overflow.
    fn check(&self, ioba: u64, count: u64) -> HResult<u64> {
        let g = &self.geometry;
        if ioba & (g.page_size() - 1) != 0 {
            return Err(HStatus::Parameter);
        }
        let size = count.checked_mul(g.page_size()).ok_or(HStatus::Parameter)?;
        let size = size.max(g.page_size()); // count 0 still names a page
        g.check_range(ioba, size).map_err(|_| HStatus::Parameter)?;
        Ok((ioba - g.bus_offset()) >> g.page_shift())
    }

    /// `H_GET_TCE`: the guest value of the entry at `ioba`.
    pub(crate) fn get(&self, ioba: u64) -> HResult<u64> {
        let index = self.check(ioba, 1)?;
        Ok(self.state.lock().shadow.get(index))
    }

    /// Writes a batch of guest TCEs from `ioba`, all or nothing. Returns the
    /// bytes changed (0 for an empty batch) for the caller's invalidation.
    pub(crate) fn put(&self, ioba: u64, src: Source<'_>, ctx: &Ctx<'_>) -> HResult<u64> {
        let count = src.count();
        let first = self.check(ioba, count)?;
        if count == 0 {
            return Ok(0);
        }
        let n = count as usize;
        if n > SCRATCH {
            return Err(HStatus::Parameter);
        }
        let page = self.geometry.page_size();
        let mut cursor = Cursor::new(ctx.units);
        let mut guard = self.state.lock();
        let st = &mut *guard;
        // 1. Validate everything and store the hardware entries; nothing has
        //    changed if this fails.
        let refs = match src {
            Source::Value { tce, count } => {
                let (hw, unit) =
                    validate(tce, page, &mut cursor).map_err(|()| HStatus::Parameter)?;
                st.table
                    .fill_run(ioba, hw, count)
                    .map_err(|_| HStatus::Hardware)?;
                match unit {
                    Some(u) => NewRefs::One(u, count),
                    None => NewRefs::None,
                }
            }
            Source::List { memory, host, .. } => {
                if !memory.read_be_u64s(host, &mut st.guest[..n]) {
                    return Err(HStatus::Hardware);
                }
                let refs = match ctx.units.single() {
                    Some(unit) => validate_one_unit(&st.guest[..n], &mut st.hw[..n], unit, page)?,
                    None => validate_any(&st.guest[..n], &mut st.hw[..n], &mut cursor, page)?,
                };
                st.table
                    .store_run(ioba, &st.hw[..n])
                    .map_err(|_| HStatus::Hardware)?;
                refs
            }
        };
        // 2. Swap the shadow and settle each replaced entry as it comes out
        //    (references released, dirty pages marked).
        let (values, constant): (&[u64], u64) = match src {
            Source::Value { tce, .. } => (&[], tce),
            Source::List { .. } => (&st.guest[..n], 0),
        };
        let allocate =
            !matches!(refs, NewRefs::None) || constant != 0 || values.iter().any(|&v| v != 0);
        let mut deltas = Deltas::new(ctx.units);
        let mut fast = ctx
            .units
            .single()
            .map(|u| OneUnitSettler::new(u, ctx.dirty, page));
        let mut slow = OldSettler::new(ctx, page);
        st.shadow
            .for_each_run(first, count, allocate, |index, entries| {
                let at = (index - first) as usize;
                match (&mut fast, values.is_empty()) {
                    (Some(f), true) => {
                        for e in entries.iter_mut() {
                            f.settle(core::mem::replace(e, constant));
                        }
                    }
                    (Some(f), false) => {
                        for (e, &v) in entries.iter_mut().zip(&values[at..]) {
                            f.settle(core::mem::replace(e, v));
                        }
                    }
                    (None, true) => {
                        for e in entries.iter_mut() {
                            slow.settle(core::mem::replace(e, constant), &mut deltas);
                        }
                    }
                    (None, false) => {
                        for (e, &v) in entries.iter_mut().zip(&values[at..]) {
                            slow.settle(core::mem::replace(e, v), &mut deltas);
                        }
                    }
                }
            });
        // 3. Apply the reference changes, once per unit run.
        if let Some(f) = fast {
            deltas.add(0, -(f.released as i64));
        }
        match refs {
            NewRefs::None => {}
            NewRefs::One(u, k) => deltas.add(u, k as i64),
            NewRefs::Mixed => {
                for &v in values {
                    if let Ok((_, Some(u))) = validate(v, page, &mut cursor) {
                        deltas.add(u, 1);
                    }
                }
            }
        }
        drop(deltas);
        drop(guard);
        Ok(count * page)
    }

    /// Releases every entry's reference (the window is going away; its TVE is
    /// already cleared and killed).
    pub(crate) fn release_all(&self, ctx: &Ctx<'_>) {
        let st = self.state.lock();
        let mut deltas = Deltas::new(ctx.units);
        let mut settler = OldSettler::new(ctx, self.geometry.page_size());
        for (_, old) in st.shadow.nonzero() {
            settler.settle(old, &mut deltas);
        }
    }
}

/// The new references a validated batch holds.
enum NewRefs {
    /// No valid entry.
    None,
    /// `n` valid entries, all in unit `u`.
    One(usize, u64),
    /// Valid entries in several units (counted again after the write).
    Mixed,
}

/// Validates a list against a partition with a single unit: a range check
/// per entry, no lookups, and no branch on the outcome until the end.
#[inline(never)]
fn validate_one_unit(guest: &[u64], hw: &mut [Tce], unit: &Unit, page: u64) -> HResult<NewRefs> {
    let flags = Perm::all().bits();
    // Largest offset of a page that fits in the unit (none if it is smaller).
    let Some(span) = unit.size.checked_sub(page) else {
        return match guest.iter().all(|g| g & flags == 0) {
            true => {
                hw.fill(Tce::NONE);
                Ok(NewRefs::None)
            }
            false => Err(HStatus::Parameter),
        };
    };
    let mut bad = false;
    let mut valid = 0u64;
    for (g, h) in guest.iter().zip(hw.iter_mut()) {
        let perm = g & flags;
        let off = (g & !flags).wrapping_sub(unit.logical);
        let misaligned = g & (page - 1) & !flags != 0;
        let outside = off > span;
        let is_valid = perm != 0;
        bad |= is_valid & (misaligned | outside);
        valid += is_valid as u64;
        // `host + off` cannot overflow for a good entry; for a bad one the
        // batch is refused before anything is stored, so wrap freely.
        let raw = (unit.host.wrapping_add(off) | perm) & (0u64.wrapping_sub(is_valid as u64));
        *h = Tce::from_raw(raw);
    }
    if bad {
        return Err(HStatus::Parameter);
    }
    Ok(if valid == 0 {
        NewRefs::None
    } else {
        NewRefs::One(0, valid)
    })
}

/// Validates a list against any number of units.
fn validate_any(
    guest: &[u64],
    hw: &mut [Tce],
    cursor: &mut Cursor<'_>,
    page: u64,
) -> HResult<NewRefs> {
    let mut unit0: Option<usize> = None;
    let mut mixed = false;
    let mut valid = 0u64;
    for (g, h) in guest.iter().zip(hw.iter_mut()) {
        let (tce, unit) = validate(*g, page, cursor).map_err(|()| HStatus::Parameter)?;
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
        (Some(u), false) => NewRefs::One(u, valid),
    })
}

/// Settles replaced entries of a partition with a single unit: every valid
/// old entry was validated into it, and it cannot have been unregistered
/// while they were valid, so there is nothing to look up. The unit's dirty
/// bitmap is found once per batch.
struct OneUnitSettler<'a> {
    logical: u64,
    ram: usize,
    ram_offset: u64,
    page: u64,
    words: &'a [core::sync::atomic::AtomicU64],
    dirty: &'a DirtyLog,
    released: u64,
    last_marked: u64,
}

impl<'a> OneUnitSettler<'a> {
    fn new(unit: &Unit, dirty: &'a DirtyLog, page: u64) -> Self {
        OneUnitSettler {
            logical: unit.logical,
            ram: unit.ram,
            ram_offset: unit.ram_offset,
            page,
            words: dirty.words(unit.ram),
            dirty,
            released: 0,
            last_marked: 0,
        }
    }

    #[inline(always)]
    fn settle(&mut self, old: u64) {
        let perm = old & Perm::all().bits();
        self.released += (perm != 0) as u64;
        if perm & Perm::WRITE.bits() != 0 && old != self.last_marked {
            self.last_marked = old;
            let la = old & !Perm::all().bits();
            let offset = self.ram_offset.wrapping_add(la.wrapping_sub(self.logical));
            if self.page == RAM_GRANULE {
                let bit = offset / RAM_GRANULE;
                if let Some(word) = self.words.get((bit / 64) as usize) {
                    let mask = 1u64 << (bit % 64);
                    if word.load(core::sync::atomic::Ordering::Relaxed) & mask == 0 {
                        word.fetch_or(mask, core::sync::atomic::Ordering::Relaxed);
                    }
                }
            } else {
                self.dirty.mark(self.ram, offset, self.page);
            }
        }
    }
}

/// Settles replaced guest TCEs: each valid one releases its unit's reference,
/// and one with write permission marks its page dirty. A run of equal old
/// values (a stuffed range) looks its unit up once.
struct OldSettler<'a> {
    cursor: Cursor<'a>,
    dirty: &'a DirtyLog,
    page: u64,
    last_old: u64,
    last_unit: Option<usize>,
}

impl<'a> OldSettler<'a> {
    fn new(ctx: &Ctx<'a>, page: u64) -> Self {
        OldSettler {
            cursor: Cursor::new(ctx.units),
            dirty: ctx.dirty,
            page,
            last_old: 0,
            last_unit: None,
        }
    }

    #[inline(always)]
    fn settle(&mut self, old: u64, deltas: &mut Deltas<'_>) {
        let perm = old & Perm::all().bits();
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
        if perm & Perm::WRITE.bits() != 0 {
            let unit = self.cursor.unit(u);
            self.dirty
                .mark(unit.ram, unit.ram_offset + (la - unit.logical), self.page);
        }
        self.last_old = old;
        self.last_unit = Some(u);
    }
}
