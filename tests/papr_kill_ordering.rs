//! A TCE hypercall's TCE-cache kill completes before anything that relies on
//! the replaced translation being gone: unregistering the region it named,
//! or clearing the dirty-log pages it marked.
//!
//! Every wait here is bounded: a kill that never comes, never finishes, or a
//! host operation that never returns fails the test within seconds instead
//! of hanging it.

#[macro_use]
mod kill_phb;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::FakeGuestMemory;
use pnv_iommu::papr::{
    Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
    WindowProgrammer, WindowTable,
};

/// The longest any step of these tests may take (a correct run takes
/// milliseconds).
const LIMIT: Duration = Duration::from_secs(5);

/// A one-shot signal that can be waited for with a time limit.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Whether the gate opened within [`LIMIT`].
    fn wait(&self) -> bool {
        let open = self.open.lock().unwrap();
        let (open, _) = self
            .opened
            .wait_timeout_while(open, LIMIT, |open| !*open)
            .unwrap();
        *open
    }
}

/// A PHB whose next kill stops half-way until the test lets it finish.
#[derive(Default)]
struct SlowKillPhb {
    armed: AtomicBool,
    in_kill: Gate,
    resume: Gate,
    killed: AtomicBool,
}

impl SlowKillPhb {
    fn kill(&self) -> Result<(), ()> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.in_kill.open();
            // Never released: report a failed kill rather than wait forever.
            if !self.resume.wait() {
                return Err(());
            }
            self.killed.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Runs `f` on a new thread; its result, or `None` if it took longer than
/// [`LIMIT`] (the thread is then left behind, blocked or not).
fn spawn_bounded<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> impl FnOnce() -> Option<R> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    move || rx.recv_timeout(LIMIT).ok()
}

kill_only_phb!(SlowKillPhb);

fn setup() -> (
    Arc<Hypervisor<SlowKillPhb, GlobalPages>>,
    Arc<SlowKillPhb>,
    PartitionId,
    u64,
) {
    let phb = Arc::new(SlowKillPhb::default());
    let mut hv: Hypervisor<SlowKillPhb, GlobalPages> = Hypervisor::new(GlobalPages);
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(0x1_0000_0000, 1 << 22);
    let p = hv
        .add_partition(
            &[RamRegion {
                logical: 0,
                host: 0x1_0000_0000,
                size: 1 << 22,
            }],
            mem,
            PartitionConfig {
                prereg: true,
                pin_limit: u64::MAX,
                ..PartitionConfig::default()
            },
        )
        .unwrap();
    let cfg = PeConfig {
        buid: 1,
        config_addr: 0x100,
        pe: 1,
        default_window_size: 1 << 28,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    };
    let liobn = hv.attach_pe(p, phb.clone(), cfg).unwrap() as u64;
    hv.prereg_register(p, 0x10_0000, 0x1000).unwrap();
    // A writable TCE to the region: the page becomes dirty when replaced.
    hv.h_put_tce(p, liobn, 0, 0x10_0000 | 2).unwrap();
    (Arc::new(hv), phb, p, liobn)
}

/// Runs `after` on another thread while the clearing hypercall's kill is
/// stopped half-way; returns what it returned and whether the kill had
/// completed by the time it returned.
fn during_the_kill<R: Send + 'static>(
    after: impl FnOnce(&Hypervisor<SlowKillPhb, GlobalPages>, PartitionId) -> R + Send + 'static,
) -> (R, bool) {
    let (hv, phb, p, liobn) = setup();
    phb.armed.store(true, Ordering::SeqCst);
    let clear = {
        let hv = hv.clone();
        spawn_bounded(move || hv.h_put_tce(p, liobn, 0, 0))
    };
    assert!(
        phb.in_kill.wait(),
        "the clearing hypercall never reached its TCE kill"
    );
    let other = {
        let (hv, phb) = (hv.clone(), phb.clone());
        spawn_bounded(move || {
            let r = after(&hv, p);
            (r, phb.killed.load(Ordering::SeqCst))
        })
    };
    // Give `after` every chance to finish early if it is not ordered.
    std::thread::sleep(Duration::from_millis(100));
    phb.resume.open();
    let cleared = clear().expect("the clearing hypercall did not return after its kill");
    assert_eq!(cleared, Ok(()), "the clearing hypercall");
    other().expect("the host operation did not return after the kill completed")
}

#[test]
fn a_region_is_unregistered_only_after_the_kill_of_its_last_clear() {
    let (r, killed) = during_the_kill(|hv, p| hv.prereg_unregister(p, 0x10_0000, 0x1000));
    assert!(r.is_ok(), "{r:?}");
    assert!(
        killed,
        "region unpinned while its translation may still be cached"
    );
}

#[test]
fn dirty_pages_are_cleared_only_after_the_kill() {
    let (pages, killed) = during_the_kill(|hv, p| hv.take_dirty_pages(p).unwrap());
    assert!(
        !pages.is_empty(),
        "the replaced writable TCE marks its page"
    );
    assert!(
        killed,
        "dirty page cleared while the device may still write it"
    );
}
