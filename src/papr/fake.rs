//! Host-side stand-ins for the PHB and for guest memory.
//!
//! [`RecordingPhb`] keeps the TVEs the hypervisor programs and counts the
//! invalidations it issues (counters, so benchmarks can use it too); one
//! made with [`RecordingPhb::logging`] also keeps every invalidation with its
//! PE and range, in order, and it can be told to fail kills.
//! [`FakeGuestMemory`] holds guest RAM in `Vec`s at made-up host addresses;
//! the TCE tables themselves are real host memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use super::partition::GuestMemory;
use super::phb::{WindowProgrammer, WindowTable};
use crate::iopt::{Invalidate, InvalidationOp, IovaRange};

/// Invalidation counters of a [`RecordingPhb`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KillCounts {
    /// `invalidate_range` calls.
    pub range: u64,
    /// `invalidate_pe` calls.
    pub pe: u64,
    /// `invalidate_all` calls.
    pub all: u64,
    /// `sync` calls.
    pub sync: u64,
}

impl KillCounts {
    /// Kills of any kind (not counting syncs).
    pub fn kills(&self) -> u64 {
        self.range + self.pe + self.all
    }
}

/// A PHB that records TVEs and counts kills.
#[derive(Debug, Default)]
pub struct RecordingPhb {
    tves: Mutex<BTreeMap<(u16, u32), WindowTable>>,
    range: AtomicU64,
    pe: AtomicU64,
    all: AtomicU64,
    sync: AtomicU64,
    /// Refuse `set_window` / `clear_window` (to test hardware errors).
    pub fail_set: AtomicBool,
    /// See `fail_set`.
    pub fail_clear: AtomicBool,
    /// Refuse every kill and sync (a PHB whose kill times out).
    pub fail_kill: AtomicBool,
    /// Whether to keep `log` (off for benchmarks).
    logging: bool,
    log: Mutex<Vec<InvalidationOp>>,
}

/// The error a [`RecordingPhb`] reports when told to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FakeHardwareError;

impl RecordingPhb {
    /// A PHB with no windows.
    pub fn new() -> Self {
        Self::default()
    }

    /// A PHB with no windows that logs every invalidation.
    pub fn logging() -> Self {
        RecordingPhb {
            logging: true,
            ..Self::default()
        }
    }

    /// Takes the invalidations logged so far (always empty unless made by
    /// [`RecordingPhb::logging`]); a failed kill is logged too.
    pub fn take_log(&self) -> Vec<InvalidationOp> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn record(&self, counter: &AtomicU64, op: InvalidationOp) -> Result<(), FakeHardwareError> {
        counter.fetch_add(1, Ordering::Relaxed);
        if self.logging {
            self.log.lock().unwrap().push(op);
        }
        if self.fail_kill.load(Ordering::Relaxed) {
            return Err(FakeHardwareError);
        }
        Ok(())
    }

    /// The table TVE `n` of `pe` points at, if set.
    pub fn window(&self, pe: u16, n: u32) -> Option<WindowTable> {
        self.tves.lock().unwrap().get(&(pe, n)).copied()
    }

    /// Number of TVEs set.
    pub fn windows_set(&self) -> usize {
        self.tves.lock().unwrap().len()
    }

    /// The counters so far.
    pub fn kills(&self) -> KillCounts {
        KillCounts {
            range: self.range.load(Ordering::Relaxed),
            pe: self.pe.load(Ordering::Relaxed),
            all: self.all.load(Ordering::Relaxed),
            sync: self.sync.load(Ordering::Relaxed),
        }
    }
}

impl Invalidate for RecordingPhb {
    type Error = FakeHardwareError;

    fn invalidate_all(&self) -> Result<(), FakeHardwareError> {
        self.record(&self.all, InvalidationOp::All)
    }
    fn invalidate_pe(&self, pe: u16) -> Result<(), FakeHardwareError> {
        self.record(&self.pe, InvalidationOp::Pe(pe))
    }
    fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), FakeHardwareError> {
        self.record(&self.range, InvalidationOp::Range(pe, range))
    }
    fn sync(&self) -> Result<(), FakeHardwareError> {
        self.record(&self.sync, InvalidationOp::Sync)
    }
}

impl WindowProgrammer for RecordingPhb {
    fn set_window(&self, pe: u16, n: u32, table: &WindowTable) -> Result<(), FakeHardwareError> {
        if self.fail_set.load(Ordering::Relaxed) {
            return Err(FakeHardwareError);
        }
        self.tves.lock().unwrap().insert((pe, n), *table);
        Ok(())
    }

    fn clear_window(&self, pe: u16, n: u32) -> Result<(), FakeHardwareError> {
        if self.fail_clear.load(Ordering::Relaxed) {
            return Err(FakeHardwareError);
        }
        self.tves.lock().unwrap().remove(&(pe, n));
        Ok(())
    }
}

/// Guest RAM held in host `Vec`s at chosen host addresses.
///
/// It lends its words in place ([`GuestMemory::lend_be_u64s`]) under its
/// lock, which every write takes exclusively, unless made with
/// [`copying`](Self::copying).
#[derive(Debug, Default)]
pub struct FakeGuestMemory {
    regions: RwLock<BTreeMap<u64, Vec<u8>>>,
    /// Lends nothing: readers copy, as from guest RAM that may change.
    copying: bool,
}

impl FakeGuestMemory {
    /// Memory with no regions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Memory with no regions that lends nothing: callers copy every list
    /// they read, as they must from guest RAM that other CPUs may write.
    pub fn copying() -> Self {
        FakeGuestMemory {
            copying: true,
            ..Self::default()
        }
    }

    /// Adds `size` zero bytes at host address `host`.
    pub fn add(&self, host: u64, size: usize) {
        self.regions.write().unwrap().insert(host, vec![0; size]);
    }

    fn with<R>(&self, host: u64, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let mut regions = self.regions.write().unwrap();
        let (&start, bytes) = regions.range_mut(..=host).next_back()?;
        let off = usize::try_from(host - start).ok()?;
        let slice = bytes.get_mut(off..off.checked_add(len)?)?;
        Some(f(slice))
    }

    /// Runs `f` on the `len` bytes at host address `host` (under a read lock,
    /// as [`GuestMemory::read_be_u64s`] reads them); `None` if outside.
    pub fn read_bytes<R>(&self, host: u64, len: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let regions = self.regions.read().unwrap();
        let (&start, bytes) = regions.range(..=host).next_back()?;
        let off = usize::try_from(host - start).ok()?;
        Some(f(bytes.get(off..off.checked_add(len)?)?))
    }

    /// Writes `values` big-endian at host address `host`; `false` if outside.
    pub fn write_be_u64s(&self, host: u64, values: &[u64]) -> bool {
        self.with(host, values.len() * 8, |b| {
            for (chunk, v) in b.chunks_exact_mut(8).zip(values) {
                chunk.copy_from_slice(&v.to_be_bytes());
            }
        })
        .is_some()
    }
}

impl FakeGuestMemory {
    /// Runs `f` on the `8 * len` bytes at host address `host` (under a read
    /// lock); `None` if outside.
    fn with_words<R>(&self, host: u64, len: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let regions = self.regions.read().unwrap();
        let (&start, bytes) = regions.range(..=host).next_back()?;
        let off = usize::try_from(host - start).ok()?;
        let src = off
            .checked_add(len.checked_mul(8)?)
            .and_then(|end| bytes.get(off..end))?;
        Some(f(src))
    }
}

impl GuestMemory for FakeGuestMemory {
    fn read_be_u64s(&self, host: u64, out: &mut [u64]) -> bool {
        self.with_words(host, out.len(), |src| {
            be_words_to_values(src, out);
        })
        .is_some()
    }

    fn copy_be_u64s(&self, host: u64, out: &mut [u64]) -> bool {
        self.with_words(host, out.len(), |src| {
            // The bytes as they are: a plain copy.
            for (v, b) in out.iter_mut().zip(src.as_chunks::<8>().0) {
                *v = u64::from_ne_bytes(*b);
            }
        })
        .is_some()
    }

    fn lend_be_u64s(&self, host: u64, count: usize, f: &mut dyn FnMut(&[[u8; 8]])) -> bool {
        // Under the read lock: no write can run meanwhile.
        !self.copying
            && self
                .with_words(host, count, |src| f(src.as_chunks::<8>().0))
                .is_some()
    }
}

/// `out[i]` = the big-endian `u64` in bytes `8 * i..` of `src`.
fn be_words_to_values(src: &[u8], out: &mut [u64]) {
    // Two entries at a time: one 128-bit byte swap leaves the first
    // entry in the high half. (Byte-wise vector shuffles are slow on the
    // baseline x86-64 the host tests build for; on the big-endian target
    // the firmware's copy needs no swap at all.)
    let (pairs, rest) = out.as_chunks_mut::<2>();
    let (bytes, rest_bytes) = src.as_chunks::<16>();
    for (pair, b) in pairs.iter_mut().zip(bytes) {
        let v = u128::from_be_bytes(*b);
        *pair = [(v >> 64) as u64, v as u64];
    }
    for (v, b) in rest.iter_mut().zip(rest_bytes.as_chunks::<8>().0) {
        *v = u64::from_be_bytes(*b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_words_of_any_count() {
        let mem = FakeGuestMemory::new();
        mem.add(0x1_0000, 0x1000);
        let values: Vec<u64> = (0..7u64).map(|i| 0x0102_0304_0506_0700 + i).collect();
        assert!(mem.write_be_u64s(0x1_0008, &values));
        for n in 0..=7 {
            let mut out = vec![0u64; n];
            assert!(mem.read_be_u64s(0x1_0008, &mut out));
            assert_eq!(out, values[..n]);
        }
        for n in 0..=7 {
            let mut out = vec![0u64; n];
            assert!(mem.copy_be_u64s(0x1_0008, &mut out));
            let got: Vec<u64> = out.iter().map(|&v| u64::from_be(v)).collect();
            assert_eq!(got, values[..n]);
        }
        let mut out = [0u64; 2];
        assert!(!mem.read_be_u64s(0x1_0ff8, &mut out), "runs past the end");
        assert!(!mem.copy_be_u64s(0x1_0ff8, &mut out), "runs past the end");
    }

    /// The fake lends the words where they lie, big-endian; the copying
    /// fake lends nothing (its callers copy), and neither lends past a
    /// region's end.
    #[test]
    fn lends_words_in_place_unless_copying() {
        let values: Vec<u64> = (0..5u64).map(|i| 0x0102_0304_0506_0700 + i).collect();
        for (mem, lends) in [
            (FakeGuestMemory::new(), true),
            (FakeGuestMemory::copying(), false),
        ] {
            mem.add(0x1_0000, 0x1000);
            assert!(mem.write_be_u64s(0x1_0008, &values));
            let mut seen = None;
            let lent = mem.lend_be_u64s(0x1_0008, 5, &mut |words| {
                seen = Some(
                    words
                        .iter()
                        .map(|&w| u64::from_be_bytes(w))
                        .collect::<Vec<_>>(),
                );
            });
            assert_eq!(lent, lends);
            assert_eq!(seen, lends.then(|| values.clone()));
            let mut called = false;
            assert!(
                !mem.lend_be_u64s(0x1_0ff8, 2, &mut |_| called = true),
                "runs past the end"
            );
            assert!(!called);
        }
    }
}
