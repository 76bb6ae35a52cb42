//! The strategies other hypervisors use for the same calls, in Rust, on the
//! same lists (read from the same guest memory, through the same lock) and
//! storing the same big-endian entries, for a same-run comparison.
//!
//! The peers store into a flat array of big-endian TCEs: the layout of our
//! leaf levels, without our upper level (the peers' most favourable case).
//!
//! - [`emulator_indirect`]: QEMU's spapr strategy. Per entry: read the
//!   big-endian TCE, bounds-check the index, store it (sixteen entries per
//!   loop turn). No address validation, not all-or-nothing (an index past
//!   the table stops the call half-way), no invalidation (emulated devices
//!   read the table).
//! - [`two_pass_indirect`]: KVM's strategy. Pass 1 copies the list and
//!   validates every entry (page alignment, no reserved bits, the address in
//!   one of the partition's RAM regions); pass 2 translates each entry again
//!   and exchanges it atomically into the table, and stores the guest value
//!   in the guest-visible table; then one invalidation for the call.
//! - [`store_floor`]: one 8-byte store per TCE, the least any strategy does.
//! - [`locked_store_floor`]: the floor inside a lock taken and let go per
//!   call (one atomic read-modify-write, one plain store), the least a
//!   hypervisor that serialises a partition's calls does.
//!
//! Two more are no hypervisor's: each keeps one rule of ours in the least
//! work this bench knows for it, and does nothing else, to show what the
//! rule alone costs.
//!
//! - [`least_all_or_nothing_indirect`]: all or nothing for a list of
//!   consecutive pages, at its least. Every entry is read once where it
//!   lies and compared with the run its first entry starts (exclusive-ors
//!   against a table of big-endian page numbers, eight entries at a time,
//!   as ours checks it); the run's ends are validated; only then is the
//!   run stored, from the table (the list is not read again: the guest may
//!   have changed it). No lock, no guest values, no map counts or dirty
//!   log, no kill. Other lists are refused.
//! - [`least_locked_stuff`]: `H_STUFF_TCE` in a hypervisor that serialises
//!   a partition's calls, at its least: the lock, the LIOBN's window found,
//!   the TCE validated and translated, one store per entry, one kill. No
//!   guest values, no map counts or dirty log, no upper table level.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use pnv_iommu::iopt::{Gather, Invalidate, IovaRange};
use pnv_iommu::papr::fake::FakeGuestMemory;
use pnv_iommu::papr::{HStatus, RamMap};

use super::BenchPhb;

const PAGE_SHIFT: u32 = 12;
const PAGE: u64 = 1 << PAGE_SHIFT;
const FLAGS: u64 = 3;

/// A window's table as the peers keep it: big-endian entries, and the guest
/// values beside them (the two-pass strategy keeps both, as we do).
pub struct PeerTable {
    hw: Vec<AtomicU64>,
    guest: Vec<AtomicU64>,
}

impl PeerTable {
    /// A table of `entries` entries, all clear.
    pub fn new(entries: usize) -> PeerTable {
        let zeros = || (0..entries).map(|_| AtomicU64::new(0)).collect();
        PeerTable {
            hw: zeros(),
            guest: zeros(),
        }
    }

    /// The hardware entry at `index` (native endianness).
    pub fn get(&self, index: usize) -> u64 {
        u64::from_be(self.hw[index].load(Ordering::Relaxed))
    }
}

/// QEMU's loop: `count` TCEs listed at host address `list` into the entries
/// from `ioba`.
#[inline(never)]
pub fn emulator_indirect(
    t: &PeerTable,
    mem: &FakeGuestMemory,
    ioba: u64,
    list: u64,
    count: usize,
) -> Result<(), HStatus> {
    mem.read_bytes(list, count * 8, |bytes| {
        let first = usize::try_from(ioba >> PAGE_SHIFT).map_err(|_| HStatus::Parameter)?;
        // The entries from the first, each reached in turn: running out of
        // them is the per-entry bounds check.
        let mut entries = t.hw.get(first..).unwrap_or(&[]).iter();
        let mut put = |b: &[u8; 8]| -> Result<(), HStatus> {
            let entry = entries.next().ok_or(HStatus::Parameter)?;
            entry.store(u64::from_be_bytes(*b).to_be(), Ordering::Relaxed);
            Ok(())
        };
        // Sixteen entries per loop turn, each list word and each entry
        // through a pointer of its own, as ours stores them
        // (`tce::batch::store_each`): the peer at its best, and its speed no
        // longer hangs on the loop's shape (with one index for the list and
        // the table, as a zip of the two compiles to, it was 1.3x slower).
        let (words, _) = bytes.as_chunks::<8>();
        let (words16, rest) = words.as_chunks::<16>();
        for w in words16 {
            for b in w {
                put(b)?;
            }
        }
        for b in rest {
            put(b)?;
        }
        Ok(())
    })
    .unwrap_or(Err(HStatus::Parameter))
}

/// KVM's two passes, for a partition with RAM `ram`.
#[inline(never)]
pub fn two_pass_indirect(
    t: &PeerTable,
    mem: &FakeGuestMemory,
    ram: &RamMap,
    phb: &BenchPhb,
    ioba: u64,
    list: u64,
    count: usize,
) -> Result<(), HStatus> {
    let first = (ioba >> PAGE_SHIFT) as usize;
    if first + count > t.hw.len() {
        return Err(HStatus::Parameter);
    }
    // Pass 1: copy and validate every entry.
    let mut copy = [0u64; 512];
    let copy = &mut copy[..count];
    mem.read_bytes(list, count * 8, |bytes| {
        for (c, b) in copy.iter_mut().zip(bytes.chunks_exact(8)) {
            *c = u64::from_be_bytes(b.try_into().unwrap());
        }
    })
    .ok_or(HStatus::Parameter)?;
    for &tce in copy.iter() {
        if tce & FLAGS == 0 {
            continue;
        }
        if tce & (PAGE - 1) & !FLAGS != 0 || ram.translate(tce & !FLAGS, PAGE).is_none() {
            return Err(HStatus::Parameter);
        }
    }
    // Pass 2: translate and exchange each entry.
    for (i, &tce) in copy.iter().enumerate() {
        let hw = match tce & FLAGS {
            0 => 0,
            perm => ram.translate(tce & !FLAGS, PAGE).ok_or(HStatus::Hardware)? | perm,
        };
        let old = t.hw[first + i].swap(hw.to_be(), Ordering::AcqRel);
        std::hint::black_box(old);
        t.guest[first + i].store(tce, Ordering::Relaxed);
    }
    let mut gather = Gather::new();
    gather.add(ioba, count as u64 * PAGE, PAGE_SHIFT);
    gather.flush(phb, &[1]).map_err(|_| HStatus::Hardware)
}

/// The floor: `count` stores of `tce` into the entries from `ioba`.
#[inline(never)]
pub fn store_floor(t: &PeerTable, ioba: u64, tce: u64, count: usize) {
    let first = (ioba >> PAGE_SHIFT) as usize;
    let raw = tce.to_be();
    for e in &t.hw[first..first + count] {
        e.store(raw, Ordering::Relaxed);
    }
}

/// A ticket lock as ours takes a partition's (`src/papr/lock.rs`): one
/// atomic read-modify-write to take it, one plain store to let it go.
#[derive(Default)]
pub struct PeerLock {
    next: AtomicU32,
    serving: AtomicU32,
}

impl PeerLock {
    /// Runs `f` with the lock held: taken (one `fetch_add`, then waiting
    /// for its turn), let go (one store).
    #[inline(always)]
    fn hold<R>(&self, f: impl FnOnce() -> R) -> R {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        while self.serving.load(Ordering::Acquire) != ticket {
            std::hint::spin_loop();
        }
        let done = f();
        self.serving
            .store(ticket.wrapping_add(1), Ordering::Release);
        done
    }
}

/// The floor with `lock` held: taken, `count` stores of `tce` into the
/// entries from `ioba`, let go.
#[inline(never)]
pub fn locked_store_floor(lock: &PeerLock, t: &PeerTable, ioba: u64, tce: u64, count: usize) {
    lock.hold(|| store_floor(t, ioba, tce, count));
}

/// `(k << PAGE_SHIFT).to_be()` for `k` in `0..512`: page `k` of a 512-page
/// block, big-endian.
static BE_PAGES: [u64; 512] = {
    let mut t = [0u64; 512];
    let mut k = 0;
    while k < 512 {
        t[k] = ((k as u64) << PAGE_SHIFT).to_be();
        k += 1;
    }
    t
};

/// The run of consecutive pages from `head` as two segments of 512-page
/// blocks: entry `i` is `BE_PAGES[j + i] ^ c0` while `j + i < 512`, then
/// `BE_PAGES[j + i - 512] ^ c1` (all big-endian). Returns `(j, c0, c1)`.
fn be_run(head: u64) -> (usize, u64, u64) {
    let base = head & !(511 << PAGE_SHIFT);
    let j = ((head >> PAGE_SHIFT) & 511) as usize;
    (
        j,
        base.to_be(),
        base.wrapping_add(512 << PAGE_SHIFT).to_be(),
    )
}

/// The peers' least all-or-nothing `H_PUT_TCE_INDIRECT` of `count` TCEs
/// listed at host address `list`, for a partition with RAM `ram`: see the
/// module's notes. `H_PARAMETER` for a list that is not one run of valid
/// pages in RAM, having stored nothing.
#[inline(never)]
pub fn least_all_or_nothing_indirect(
    t: &PeerTable,
    mem: &FakeGuestMemory,
    ram: &RamMap,
    ioba: u64,
    list: u64,
    count: usize,
) -> Result<(), HStatus> {
    let first = (ioba >> PAGE_SHIFT) as usize;
    let entries =
        t.hw.get(first..first + count)
            .filter(|_| (1..=512).contains(&count))
            .ok_or(HStatus::Parameter)?;
    // Every entry read once and compared with the run; the first decides
    // which run.
    let head = mem
        .read_bytes(list, count * 8, |bytes| {
            let (words, _) = bytes.as_chunks::<8>();
            let head = u64::from_be_bytes(words[0]);
            let (j, c0, c1) = be_run(head);
            let (a, b) = words.split_at((512 - j).min(count));
            let miss = |words: &[[u8; 8]], pages: &[u64], c: u64| {
                let (words8, words_rest) = words.as_chunks::<8>();
                let (pages8, pages_rest) = pages[..words.len()].as_chunks::<8>();
                let mut miss = [0u64; 8];
                for (w, p) in words8.iter().zip(pages8) {
                    for ((m, w), &p) in miss.iter_mut().zip(w).zip(p) {
                        *m |= u64::from_ne_bytes(*w) ^ p ^ c;
                    }
                }
                let rest = words_rest
                    .iter()
                    .zip(pages_rest)
                    .fold(0, |m, (w, &p)| m | (u64::from_ne_bytes(*w) ^ p ^ c));
                miss.iter().fold(rest, |m, &x| m | x)
            };
            (miss(a, &BE_PAGES[j..], c0) | miss(b, &BE_PAGES, c1) == 0).then_some(head)
        })
        .flatten()
        .ok_or(HStatus::Parameter)?;
    // Its ends: valid, no reserved bit, every page of the run in RAM.
    let flags = head & FLAGS;
    if flags == 0 || head & (PAGE - 1) & !FLAGS != 0 {
        return Err(HStatus::Parameter);
    }
    let host = ram
        .translate(head & !FLAGS, count as u64 * PAGE)
        .ok_or(HStatus::Parameter)?;
    // Then the run stored, from the table, sixteen entries per loop turn.
    let (j, c0, c1) = be_run(host | flags);
    let (a, b) = entries.split_at((512 - j).min(count));
    store_run(a, &BE_PAGES[j..], c0);
    store_run(b, &BE_PAGES, c1);
    Ok(())
}

/// Stores `pages[i] ^ c` into `entries[i]`: sixteen entries per loop turn,
/// each entry and each page number through a pointer of its own, as ours
/// stores a run (with one index for both, base-plus-index stores slow the
/// loop).
#[inline(always)]
fn store_run(entries: &[AtomicU64], pages: &[u64], c: u64) {
    let (entries16, entries_rest) = entries.as_chunks::<16>();
    let (pages16, pages_rest) = pages[..entries.len()].as_chunks::<16>();
    let mut pages16 = pages16.iter();
    for e in entries16 {
        let Some(p) = pages16.next() else { break };
        for (e, &p) in e.iter().zip(p) {
            e.store(p ^ c, Ordering::Relaxed);
        }
    }
    for (e, &p) in entries_rest.iter().zip(pages_rest) {
        e.store(p ^ c, Ordering::Relaxed);
    }
}

/// A window as [`least_locked_stuff`] finds it: its LIOBN and its table.
pub struct PeerWindow<'t> {
    /// The window's LIOBN.
    pub liobn: u64,
    /// Its table.
    pub table: &'t PeerTable,
}

/// The peers' least `H_STUFF_TCE` in a hypervisor that serialises a
/// partition's calls (`lock`), for a partition with RAM `ram` and windows
/// `windows`: see the module's notes.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn least_locked_stuff(
    lock: &PeerLock,
    windows: &[PeerWindow<'_>],
    ram: &RamMap,
    phb: &BenchPhb,
    liobn: u64,
    ioba: u64,
    tce: u64,
    count: usize,
) -> Result<(), HStatus> {
    lock.hold(|| {
        let window = windows
            .iter()
            .find(|w| w.liobn == liobn)
            .ok_or(HStatus::Parameter)?;
        let first = (ioba >> PAGE_SHIFT) as usize;
        if ioba & (PAGE - 1) != 0 || window.table.hw.get(first..first + count).is_none() {
            return Err(HStatus::Parameter);
        }
        let hw = match tce & FLAGS {
            0 => 0,
            flags if tce & (PAGE - 1) & !FLAGS == 0 => {
                ram.translate(tce & !FLAGS, PAGE)
                    .ok_or(HStatus::Parameter)?
                    | flags
            }
            _ => return Err(HStatus::Parameter),
        };
        // The floor's own stores.
        store_floor(window.table, ioba, hw, count);
        let range = IovaRange {
            start: ioba,
            size: count as u64 * PAGE,
            page_shift: PAGE_SHIFT,
        };
        phb.invalidate_range(1, range)
            .and_then(|()| phb.sync())
            .map_err(|()| HStatus::Hardware)
    })
}
