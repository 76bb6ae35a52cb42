//! Shared set-up for the PAPR tests: a hypervisor with a recording PHB and
//! guest memory held in `Vec`s.
#![allow(dead_code)]

use std::sync::Arc;

use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::{FakeGuestMemory, RecordingPhb};
use pnv_iommu::papr::{
    HCALL_REGS, Hypervisor, PHB4_DDW_PAGES, PartitionConfig, PartitionId, PeConfig, RamRegion,
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

/// Adds a partition with `ram` and one PE (`pe`), returning it.
pub fn add_guest(
    hv: &mut Hv,
    phb: &Arc<RecordingPhb>,
    ram: &[RamRegion],
    config: PartitionConfig,
    pe: u16,
) -> Guest {
    let mem = Arc::new(FakeGuestMemory::new());
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
