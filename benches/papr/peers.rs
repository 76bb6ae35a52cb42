//! The strategies other hypervisors use for the same calls, in Rust, on the
//! same lists (read from the same guest memory, through the same lock) and
//! storing the same big-endian entries, for a same-run comparison.
//!
//! The peers store into a flat array of big-endian TCEs: the layout of our
//! leaf levels, without our upper level (the peers' most favourable case).
//!
//! - [`emulator_indirect`]: QEMU's spapr strategy. Per entry: read the
//!   big-endian TCE, bounds-check the index, store it (eight entries per
//!   loop turn). No address validation, not all-or-nothing (an index past
//!   the table stops the call half-way), no invalidation (emulated devices
//!   read the table).
//! - [`two_pass_indirect`]: KVM's strategy. Pass 1 copies the list and
//!   validates every entry (page alignment, no reserved bits, the address in
//!   one of the partition's RAM regions); pass 2 translates each entry again
//!   and exchanges it atomically into the table, and stores the guest value
//!   in the guest-visible table; then one invalidation for the call.
//! - [`store_floor`]: one 8-byte store per TCE, the least any strategy does.

use std::sync::atomic::{AtomicU64, Ordering};

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
        let first = ioba >> PAGE_SHIFT;
        let put = |i: usize, b: &[u8; 8]| {
            let tce = u64::from_be_bytes(*b);
            let index = first + i as u64;
            if index >= t.hw.len() as u64 {
                return Err(HStatus::Parameter);
            }
            t.hw[index as usize].store(tce.to_be(), Ordering::Relaxed);
            Ok(())
        };
        // Eight entries per loop turn, each checked (as ours stores eight per
        // turn): the peer at its best, and its speed no longer hangs on where
        // the linker happens to place one short loop.
        let (eights, rest) = bytes.as_chunks::<64>();
        for (k, e) in eights.iter().enumerate() {
            for (j, b) in e.as_chunks::<8>().0.iter().enumerate() {
                put(k * 8 + j, b)?;
            }
        }
        for (j, b) in rest.as_chunks::<8>().0.iter().enumerate() {
            put(eights.len() * 8 + j, b)?;
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
