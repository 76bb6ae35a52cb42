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
use super::partition::GuestMemory;
use super::prereg::{Cursor, Deltas, Units};
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
        let page = self.geometry.page_size();
        let mut cursor = Cursor::new(ctx.units);
        let mut guard = self.state.lock();
        let st = &mut *guard;
        // Validate everything and store the hardware entries; nothing has
        // changed if this fails.
        let (new_valid, single_unit) = match src {
            Source::Value { tce, count } => {
                let (hw, unit) =
                    validate(tce, page, &mut cursor).map_err(|()| HStatus::Parameter)?;
                st.table
                    .fill_run(ioba, hw, count)
                    .map_err(|_| HStatus::Hardware)?;
                let n = if unit.is_some() { count } else { 0 };
                (n, unit)
            }
            Source::List {
                memory,
                host,
                count,
            } => {
                let n = count as usize; // <= 512, checked by the caller
                if n > SCRATCH || !memory.read_be_u64s(host, &mut st.guest[..n]) {
                    return Err(HStatus::Hardware);
                }
                let mut valid = 0u64;
                let mut unit0: Option<usize> = None;
                let mut mixed = false;
                let mut bad = false;
                for (g, h) in st.guest[..n].iter().zip(st.hw[..n].iter_mut()) {
                    match validate(*g, page, &mut cursor) {
                        Ok((tce, unit)) => {
                            *h = tce;
                            if let Some(u) = unit {
                                valid += 1;
                                mixed |= unit0.is_some_and(|u0| u0 != u);
                                unit0 = Some(u);
                            }
                        }
                        Err(()) => bad = true,
                    }
                }
                if bad {
                    return Err(HStatus::Parameter);
                }
                st.table
                    .store_run(ioba, &st.hw[..n])
                    .map_err(|_| HStatus::Hardware)?;
                (valid, if mixed { None } else { unit0 })
            }
        };
        // The hardware holds the new entries: swap the shadow and settle the
        // entries that were replaced.
        let mut deltas = Deltas::new(ctx.units);
        let mut old_settler = OldSettler::new(ctx, page);
        let values: &[u64] = match src {
            Source::Value { .. } => &[],
            Source::List { .. } => &st.guest[..count as usize],
        };
        let constant = match src {
            Source::Value { tce, .. } => tce,
            Source::List { .. } => 0,
        };
        let allocate = new_valid > 0 || constant != 0 || values.iter().any(|&v| v != 0);
        st.shadow
            .for_each_run(first, count, allocate, |index, entries| {
                let offset = (index - first) as usize;
                if values.is_empty() {
                    for e in entries.iter_mut() {
                        let old = core::mem::replace(e, constant);
                        old_settler.settle(old, &mut deltas);
                    }
                } else {
                    for (e, &new) in entries.iter_mut().zip(&values[offset..]) {
                        let old = core::mem::replace(e, new);
                        old_settler.settle(old, &mut deltas);
                    }
                }
            });
        // New references: one add for a batch in one unit, else per entry.
        match single_unit {
            _ if new_valid == 0 => {}
            Some(u) => deltas.add(u, new_valid as i64),
            None => {
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
