//! Shared set-up and views for the PHB driver and interface tests.
#![allow(dead_code)]

use std::sync::Arc;

use pnv_iommu::mmio::Width;
use pnv_iommu::mmio::fake::{Op, RecordingIo};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::fake::FakeGuestMemory;
use pnv_iommu::papr::{Hypervisor, PartitionConfig, PartitionId, RamRegion, WindowProgrammer};

/// Register accesses (reads, writes, barriers) relative to the PHB's
/// register base `regs`.
pub fn accesses_from(io: &RecordingIo, regs: u64) -> Vec<(Op, u64, u64)> {
    io.log()
        .iter()
        .map(|a| (a.op, a.addr.wrapping_sub(regs), a.value))
        .collect()
}

/// Whether every register access `io` logged (barriers aside) was 8 bytes
/// wide, as PHB registers and XSCOM want.
pub fn all_accesses_8_bytes(io: &RecordingIo) -> bool {
    io.log()
        .iter()
        .filter(|a| a.op != Op::Barrier)
        .all(|a| a.width == Width::W64)
}

/// A partition of `hv` with 4 MiB of guest RAM at logical 0, host
/// `0x1_0000_0000`, held by a fake guest memory.
pub fn partition_4m<P: WindowProgrammer>(hv: &mut Hypervisor<P, GlobalPages>) -> PartitionId {
    let ram = [RamRegion {
        logical: 0,
        host: 0x1_0000_0000,
        size: 4 << 20,
    }];
    let mem = Arc::new(FakeGuestMemory::new());
    mem.add(0x1_0000_0000, 4 << 20);
    hv.add_partition(&ram, mem, PartitionConfig::default())
        .unwrap()
}
