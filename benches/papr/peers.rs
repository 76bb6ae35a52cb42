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

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use pnv_iommu::iopt::Gather;
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

/// The floor with `lock` held: taken, `count` stores of `tce` into the
/// entries from `ioba`, let go.
#[inline(never)]
pub fn locked_store_floor(lock: &PeerLock, t: &PeerTable, ioba: u64, tce: u64, count: usize) {
    let ticket = lock.next.fetch_add(1, Ordering::Relaxed);
    while lock.serving.load(Ordering::Acquire) != ticket {
        std::hint::spin_loop();
    }
    store_floor(t, ioba, tce, count);
    lock.serving
        .store(ticket.wrapping_add(1), Ordering::Release);
}
