//! Scenario memory: pages for DMA targets taken from a fixed pool, and byte
//! patterns written and compared through volatile accesses (the device
//! writes this memory behind the compiler's back).

use core::sync::atomic::{AtomicU64, Ordering};

/// DMA target pool: 512..768 MiB (above the heap, below the guest block).
const POOL_BASE: u64 = 0x2000_0000;
const POOL_END: u64 = 0x3000_0000;
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

/// Writes the pattern `seed` over `[addr, addr + len)`.
pub fn fill(addr: u64, len: u64, seed: u8) {
    for i in 0..len {
        // SAFETY: callers pass pool pages (or the guest block) that no Rust
        // reference covers.
        unsafe { core::ptr::write_volatile((addr + i) as *mut u8, pattern_byte(seed, i)) };
    }
}

/// Reads one byte.
pub fn byte(addr: u64) -> u8 {
    // SAFETY: as for `fill`.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

/// The first offset where `[addr, addr + len)` differs from pattern `seed`
/// shifted by `skip` bytes, if any.
pub fn mismatch(addr: u64, len: u64, seed: u8, skip: u64) -> Option<u64> {
    (0..len).find(|&i| byte(addr + i) != pattern_byte(seed, skip + i))
}
