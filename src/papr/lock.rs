//! The partition lock: one atomic read-modify-write per hypercall, and a host
//! operation in bounded time.
//!
//! Everything a hypercall reads or changes in a partition (its PEs and
//! windows, the units TCEs may name and their map counts) is behind one
//! [`PartitionLock`], held across the call's batch and its TCE kill. Host
//! operations (pre-registration, dirty-log reads, DDW, PE assignment) take
//! the same lock.
//!
//! It is a ticket lock: taking it is one `fetch_add` of the next ticket,
//! letting it go one plain store of the next ticket served (only the holder
//! writes it). A call on an uncontended partition thus pays one atomic
//! read-modify-write, where a reader-writer lock for the partition and a
//! mutex for the window paid three (entering, leaving, the window), a third of
//! a short `H_PUT_TCE`. The price: a partition's calls on different LIOBNs
//! wait for each other (one call each, tens to hundreds of ns plus its kill),
//! as its calls on one LIOBN always did; partitions share nothing.
//!
//! Tickets are served in order, so whoever takes the lock waits at most for
//! those who asked before it: a host operation waits for at most one call per
//! CPU, whatever guests do, and no vCPU of a partition can starve another.
//! The lock is not re-entrant: a holder that takes it again waits forever.

#![allow(unsafe_code)]

use core::cell::UnsafeCell;
#[cfg(not(any(test, feature = "std")))]
use core::hint::spin_loop;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

/// A fair (FIFO) spin lock (see the module docs).
pub(crate) struct PartitionLock<T> {
    /// The ticket the next caller takes.
    next: AtomicU32,
    /// The ticket that holds the lock (or gets it next, when free).
    serving: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one holder at a time (a
// ticket is served only after the previous holder stored it), so sharing the
// lock between threads shares `T` only by moving access to it, as a mutex
// does: `T: Send` suffices.
unsafe impl<T: Send> Sync for PartitionLock<T> {}

/// Exclusive access to a [`PartitionLock`]'s value until dropped.
pub(crate) struct Guard<'a, T> {
    lock: &'a PartitionLock<T>,
    ticket: u32,
}

impl<T> PartitionLock<T> {
    /// An unlocked lock holding `value`.
    pub(crate) const fn new(value: T) -> Self {
        PartitionLock {
            next: AtomicU32::new(0),
            serving: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, after everyone who asked before.
    #[inline]
    pub(crate) fn lock(&self) -> Guard<'_, T> {
        // Tickets wrap; more than 2^32 waiters at once cannot exist.
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        while self.serving.load(Ordering::Acquire) != ticket {
            relax();
        }
        Guard { lock: self, ticket }
    }
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard's ticket is being served: no other guard exists
        // until it is dropped, so nothing else accesses the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference
        // handed out by this guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Only the holder writes `serving`: a plain store passes the lock on,
        // and releases everything the holder wrote to whoever takes it next.
        self.lock
            .serving
            .store(self.ticket.wrapping_add(1), Ordering::Release);
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

    /// Callers that queue for the lock all the time (each holds it for a
    /// while) do not keep a host operation out: it waits for those ahead of
    /// it only.
    #[test]
    fn a_host_operation_gets_in_while_callers_queue() {
        let lock = Arc::new(PartitionLock::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let callers: std::vec::Vec<_> = (0..3)
            .map(|_| {
                let (lock, stop) = (lock.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let g = lock.lock();
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
        let (done, ops_done) = std::sync::mpsc::channel();
        let host = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                for i in 1..=20 {
                    *lock.lock() = i;
                }
                let _ = done.send(());
            })
        };
        // Bounded: a starved host operation fails the test instead of hanging it.
        let got_in = ops_done.recv_timeout(Duration::from_secs(10)).is_ok();
        stop.store(true, Ordering::Relaxed);
        for c in callers {
            c.join().unwrap();
        }
        host.join().unwrap();
        assert!(got_in, "the host operation was starved by queueing callers");
        assert_eq!(*lock.lock(), 20);
    }

    /// The lock excludes: increments made under it from several threads
    /// add up (a lock that let two holders in would lose some).
    #[test]
    fn holders_exclude_each_other() {
        let lock = Arc::new(PartitionLock::new((0u64, 0u64)));
        let threads: std::vec::Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = lock.lock();
                        // Two fields read and written apart: a second holder
                        // in between would make them differ.
                        let a = g.0;
                        core::hint::black_box(&mut *g);
                        g.0 = a + 1;
                        g.1 += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let g = lock.lock();
        assert_eq!(*g, (80_000, 80_000));
    }
}
