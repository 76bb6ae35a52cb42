//! A TCE hypercall's TCE-cache kill completes before anything that relies on
//! the replaced translation being gone: unregistering the region it named,
//! or clearing the dirty-log pages it marked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::FakeGuestMemory;
use pnv_iommu::papr::{
    Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
    WindowProgrammer, WindowTable,
};

/// A PHB whose next kill stops half-way until the test lets it finish.
struct SlowKillPhb {
    armed: AtomicBool,
    in_kill: Barrier,
    resume: Barrier,
    killed: AtomicBool,
}

impl SlowKillPhb {
    fn kill(&self) -> Result<(), ()> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.in_kill.wait();
            self.resume.wait();
            self.killed.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

impl Invalidate for SlowKillPhb {
    type Error = ();
    fn invalidate_all(&self) -> Result<(), ()> {
        self.kill()
    }
    fn invalidate_pe(&self, _: u16) -> Result<(), ()> {
        self.kill()
    }
    fn invalidate_range(&self, _: u16, _: IovaRange) -> Result<(), ()> {
        self.kill()
    }
    fn sync(&self) -> Result<(), ()> {
        Ok(())
    }
}

impl WindowProgrammer for SlowKillPhb {
    fn set_window(&self, _: u16, _: u32, _: &WindowTable) -> Result<(), ()> {
        Ok(())
    }
    fn clear_window(&self, _: u16, _: u32) -> Result<(), ()> {
        Ok(())
    }
}

fn setup() -> (
    Arc<Hypervisor<SlowKillPhb, GlobalPages>>,
    Arc<SlowKillPhb>,
    PartitionId,
    u64,
) {
    let phb = Arc::new(SlowKillPhb {
        armed: AtomicBool::new(false),
        in_kill: Barrier::new(2),
        resume: Barrier::new(2),
        killed: AtomicBool::new(false),
    });
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
        std::thread::spawn(move || hv.h_put_tce(p, liobn, 0, 0))
    };
    phb.in_kill.wait();
    let other = {
        let (hv, phb) = (hv.clone(), phb.clone());
        std::thread::spawn(move || {
            let r = after(&hv, p);
            (r, phb.killed.load(Ordering::SeqCst))
        })
    };
    // Give `after` every chance to finish early if it is not ordered.
    std::thread::sleep(std::time::Duration::from_millis(100));
    phb.resume.wait();
    clear.join().unwrap().unwrap();
    other.join().unwrap()
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
    let (pages, killed) = during_the_kill(|hv, p| hv.take_dirty_pages(p));
    assert!(
        !pages.is_empty(),
        "the replaced writable TCE marks its page"
    );
    assert!(
        killed,
        "dirty page cleared while the device may still write it"
    );
}
