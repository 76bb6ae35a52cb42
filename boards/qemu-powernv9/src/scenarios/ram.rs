//! Scenario memory: pages for DMA targets taken from a fixed pool, and byte
//! patterns written and compared through [`PhysRange`] (checked, volatile:
//! the device writes this memory behind the compiler's back). Addresses
//! outside the board's scenario memory (`heap::scenario_memory`) panic,
//! which the firmware reports as a failure.

use crate::heap::{DMA_POOL_BASE as POOL_BASE, DMA_POOL_END as POOL_END};
use core::sync::atomic::{AtomicU64, Ordering};
use pnv_rt::phys::PhysRange;

static NEXT: AtomicU64 = AtomicU64::new(POOL_BASE);

/// A fresh page of `size` bytes (a power of two), aligned to its size, from
/// the pool; `None` when the pool is used up.
pub fn page(size: u64) -> Option<u64> {
    let mut cur = NEXT.load(Ordering::SeqCst);
    loop {
        let start = cur.checked_add(size - 1)? & !(size - 1);
        let end = start.checked_add(size)?;
        if end > POOL_END {
            return None;
        }
        match NEXT.compare_exchange(cur, end, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return Some(start),
            Err(now) => cur = now,
        }
    }
}

/// The byte a pattern with `seed` has at offset `i`.
pub fn pattern_byte(seed: u8, i: u64) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8)
}

/// The scenario memory `[addr, addr + len)`; panics outside it.
fn range(addr: u64, len: u64) -> PhysRange {
    crate::heap::scenario_memory(addr, len)
        .unwrap_or_else(|| panic!("{addr:#x}+{len:#x} is not scenario memory"))
}

/// Writes the pattern `seed` over `[addr, addr + len)` of scenario memory.
pub fn fill(addr: u64, len: u64, seed: u8) {
    let r = range(addr, len);
    for i in 0..len {
        r.write_u8(i, pattern_byte(seed, i));
    }
}

/// Reads one byte of the image (read-only; a stray DMA would land there).
pub fn image_byte(addr: u64) -> u8 {
    crate::heap::image_read_only(addr, 1)
        .unwrap_or_else(|| panic!("{addr:#x} is not in the image"))
        .read_u8(0)
}

/// The first offset where `[addr, addr + len)` of scenario memory differs
/// from pattern `seed` shifted by `skip` bytes, if any.
pub fn mismatch(addr: u64, len: u64, seed: u8, skip: u64) -> Option<u64> {
    let r = range(addr, len);
    (0..len).find(|&i| r.read_u8(i) != pattern_byte(seed, skip + i))
}
