//! The partition lock: many hypercalls at once, a host operation in bounded
//! time.
//!
//! Hypercalls read a partition's PEs, windows and units (the memory TCEs
//! may name), and hold that read lock across their TCE kill; host operations
//! (pre-registration, dirty-log reads, DDW, PE assignment) take it for
//! writing. A plain spin `RwLock` prefers readers: guests issuing calls back
//! to back keep the reader count above zero and a writer never gets in.
//!
//! [`PartitionLock`] prefers writers: a writer first announces itself, after
//! which no new reader enters; the readers already inside finish their call
//! (one batch and one kill each), and the writer gets in. So a host operation
//! waits at most one call per CPU, whatever guests do. Readers pay one
//! atomic read-modify-write to enter and one to leave, as before, plus a
//! plain load of the announcement.
//!
//! Writers are host operations, rare and short; a stream of them could delay
//! guests, which a guest cannot cause. A caller must not take the read lock
//! again while holding it: with a writer announced in between, the second
//! read would wait for the writer, which waits for the first.

#[cfg(not(any(test, feature = "std")))]
use core::hint::spin_loop;
use core::sync::atomic::{AtomicU32, Ordering};

pub(crate) use spin::{RwLockReadGuard as ReadGuard, RwLockWriteGuard as WriteGuard};

/// A reader-writer spin lock that prefers writers (see the module docs).
pub(crate) struct PartitionLock<T> {
    /// Writers announced and not yet inside.
    writers_waiting: AtomicU32,
    inner: spin::RwLock<T>,
}

impl<T> PartitionLock<T> {
    /// An unlocked lock holding `value`.
    pub(crate) const fn new(value: T) -> Self {
        PartitionLock {
            writers_waiting: AtomicU32::new(0),
            inner: spin::RwLock::new(value),
        }
    }

    /// Shared access; waits while a writer is announced or inside.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        loop {
            if self.writers_waiting.load(Ordering::Acquire) == 0
                && let Some(guard) = self.inner.try_read()
            {
                return guard;
            }
            relax();
        }
    }

    /// Exclusive access. From the announcement on, no new reader enters, so
    /// this waits only for the readers already inside.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        self.writers_waiting.fetch_add(1, Ordering::SeqCst);
        let guard = loop {
            if let Some(guard) = self.inner.try_write() {
                break guard;
            }
            relax();
        };
        self.writers_waiting.fetch_sub(1, Ordering::Release);
        guard
    }
}

/// One turn of a wait. On the firmware a CPU spins (CPUs are not shared,
/// and a hypercall is not preempted); on a host, where callers are threads
/// the OS may preempt inside a call, a waiter gives its CPU to them.
#[inline]
fn relax() {
    #[cfg(any(test, feature = "std"))]
    std::thread::yield_now();
    #[cfg(not(any(test, feature = "std")))]
    spin_loop();
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use core::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Readers that overlap all the time (each holds the lock for a while,
    /// and they take turns) do not keep a writer out.
    #[test]
    fn a_writer_gets_in_while_readers_overlap() {
        let lock = Arc::new(PartitionLock::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let readers: std::vec::Vec<_> = (0..3)
            .map(|_| {
                let (lock, stop) = (lock.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let g = lock.read();
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_micros(20) {
                            std::thread::yield_now();
                        }
                        drop(g);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let (done, writes_done) = std::sync::mpsc::channel();
        let writer = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                for i in 1..=20 {
                    *lock.write() = i;
                }
                let _ = done.send(());
            })
        };
        // Bounded: a starved writer fails the test instead of hanging it.
        let got_in = writes_done.recv_timeout(Duration::from_secs(10)).is_ok();
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        writer.join().unwrap();
        assert!(got_in, "the writer was starved by overlapping readers");
        assert_eq!(*lock.read(), 20);
    }
}
