//! Shared set-up for the PAPR tests: a hypervisor with a recording PHB and
//! guest memory held in `Vec`s.
#![allow(dead_code)]

use std::sync::Arc;

use pnv_iommu::iopt::InvalidationOp;
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{
    HCALL_REGS, HStatus, Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig,
    RamRegion,
};

pub type Hv = Hypervisor<RecordingPhb, GlobalPages>;

pub const MIB: u64 = 1 << 20;
pub const BUID: u64 = 0x0800_0000_2000_0000;
/// Default window size of every PE here.
pub const DEFAULT_WINDOW: u64 = 256 * MIB;

/// One partition as the tests see it.
pub struct Guest {
    pub p: PartitionId,
    pub ram: Vec<RamRegion>,
    pub mem: Arc<FakeGuestMemory>,
    pub config_addr: u32,
    pub pe: u16,
    pub liobn: u32,
}

impl Guest {
    /// Host address of logical `la`.
    pub fn host(&self, la: u64) -> u64 {
        self.ram
            .iter()
            .find(|r| la >= r.logical && la - r.logical < r.size)
            .map(|r| r.host + (la - r.logical))
            .expect("logical address in RAM")
    }

    /// Writes a TCE list (big-endian) at logical `la`.
    pub fn write_list(&self, la: u64, tces: &[u64]) {
        assert!(self.mem.write_be_u64s(self.host(la), tces));
    }
}

pub fn pe_config(config_addr: u32, pe: u16) -> PeConfig {
    PeConfig {
        buid: BUID,
        config_addr,
        pe,
        default_window_size: DEFAULT_WINDOW,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    }
}

/// Adds a partition with `ram` and one PE (`pe`), returning it. Its guest
/// memory lends lists in place, as the fake does by default.
pub fn add_guest(
    hv: &mut Hv,
    phb: &Arc<RecordingPhb>,
    ram: &[RamRegion],
    config: PartitionConfig,
    pe: u16,
) -> Guest {
    add_guest_in(hv, phb, ram, config, pe, FakeGuestMemory::new())
}

/// [`add_guest`] with guest memory `mem` (say, one that lends nothing:
/// [`FakeGuestMemory::copying`]).
pub fn add_guest_in(
    hv: &mut Hv,
    phb: &Arc<RecordingPhb>,
    ram: &[RamRegion],
    config: PartitionConfig,
    pe: u16,
    mem: FakeGuestMemory,
) -> Guest {
    let mem = Arc::new(mem);
    for r in ram {
        mem.add(r.host, r.size as usize);
    }
    let p = hv.add_partition(ram, mem.clone(), config).unwrap();
    let config_addr = u32::from(pe) << 8;
    let liobn = hv
        .attach_pe(p, phb.clone(), pe_config(config_addr, pe))
        .unwrap();
    Guest {
        p,
        ram: ram.to_vec(),
        mem,
        config_addr,
        pe,
        liobn,
    }
}

/// Two 4 MiB RAM regions: logical 0 at host 0x1_0000_0000 and logical
/// 16 MiB at host 0x2_0040_0000.
pub fn two_region_ram() -> Vec<RamRegion> {
    vec![
        RamRegion {
            logical: 0,
            host: 0x1_0000_0000,
            size: 4 * MIB,
        },
        RamRegion {
            logical: 16 * MIB,
            host: 0x2_0040_0000,
            size: 4 * MIB,
        },
    ]
}

/// A hypervisor with one partition on [`two_region_ram`].
pub fn one_guest(config: PartitionConfig) -> (Hv, Arc<RecordingPhb>, Guest) {
    let mut hv = Hv::new(GlobalPages);
    let phb = Arc::new(RecordingPhb::logging());
    let g = add_guest(&mut hv, &phb, &two_region_ram(), config, 1);
    (hv, phb, g)
}

/// Issues an hcall at register level; returns the registers after it.
pub fn hcall(hv: &Hv, p: PartitionId, args: &[u64], msr_pr: bool) -> [u64; HCALL_REGS] {
    let mut regs = [0u64; HCALL_REGS];
    regs[..args.len()].copy_from_slice(args);
    hv.hcall(p, &mut regs, msr_pr);
    regs
}

/// What a call left behind in one of two twin partitions (same RAM size at
/// different host addresses, each its own PHB), for comparing the twins
/// after each call: see [`seen`].
#[derive(Debug, PartialEq)]
pub struct Seen {
    pub status: Result<(), HStatus>,
    pub guest: Vec<u64>,
    pub hw: Vec<u64>,
    pub mapped: Vec<u64>,
    pub dirty: Vec<u64>,
    pub kills: Vec<InvalidationOp>,
}

/// What `g` (window `liobn`, pages of `page` bytes) shows after a call
/// that returned `status`: the guest values and hardware entries of the `n`
/// entries from `at`, its map counts and dirty log, and the kills its PHB
/// logged since last asked. Hardware entries are given as offsets into the
/// RAM and kills without their PE, which differ between twins.
pub fn seen(
    hv: &Hv,
    g: &Guest,
    liobn: u32,
    phb: &RecordingPhb,
    status: Result<(), HStatus>,
    (at, n, page): (u64, u64, u64),
) -> Seen {
    let l = u64::from(liobn);
    Seen {
        status,
        guest: hv.read_tces(g.p, l, at, n).unwrap(),
        hw: (0..n)
            .map(|k| {
                let hw = hv.hardware_tce(g.p, l, at + k * page).unwrap().raw();
                if hw & 3 != 0 { hw - g.ram[0].host } else { hw }
            })
            .collect(),
        mapped: hv.mapped_regions(g.p).iter().map(|r| r.mapped).collect(),
        dirty: hv.dirty_pages(g.p),
        kills: phb
            .take_log()
            .into_iter()
            .map(|op| match op {
                InvalidationOp::Range(_, range) => InvalidationOp::Range(0, range),
                InvalidationOp::Pe(_) => InvalidationOp::Pe(0),
                other => other,
            })
            .collect(),
    }
}

/// The xorshift64 sequence from `seed` (not 0): the same seed gives the
/// same sequence on every run.
pub fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
