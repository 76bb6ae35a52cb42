//! Setting up PEs (the host side of DDW) and the DDW encodings: the rules
//! `attach_pe` enforces and the numbers on the wire, each pinned (these
//! were the survivors of a mutation run over `src/papr/ddw.rs`).

mod papr_common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use papr_common::*;
use pnv_iommu::papr::fake::RecordingPhb;
use pnv_iommu::papr::{
    DDW_PAGE_2M, DDW_PAGE_4K, DDW_PAGE_16G, DDW_PAGE_16M, DDW_PAGE_32M, DDW_PAGE_64K, DDW_PAGE_64M,
    DDW_PAGE_128M, DDW_PAGE_256M, MAX_DEFAULT_WINDOW, PHB4_DDW_PAGES, PartitionConfig, PeConfig,
    RtasStatus, SetupError, page_mask_bit,
};

#[test]
fn page_size_mask_bits_are_the_lopapr_ones() {
    // DESIGN §8: 4K 0x01, 64K 0x02, 16M 0x04, 32M 0x08, 64M 0x10, 128M 0x20,
    // 256M 0x40, 16G 0x80, 2M 0x100.
    let table = [
        (12, 0x01, DDW_PAGE_4K),
        (16, 0x02, DDW_PAGE_64K),
        (24, 0x04, DDW_PAGE_16M),
        (25, 0x08, DDW_PAGE_32M),
        (26, 0x10, DDW_PAGE_64M),
        (27, 0x20, DDW_PAGE_128M),
        (28, 0x40, DDW_PAGE_256M),
        (34, 0x80, DDW_PAGE_16G),
        (21, 0x100, DDW_PAGE_2M),
    ];
    for (shift, bit, constant) in table {
        assert_eq!(constant, bit);
        assert_eq!(page_mask_bit(shift), Some(bit), "shift {shift}");
    }
    for shift in [0, 11, 13, 20, 22, 30, 33, 35, 63, 64, u32::MAX] {
        assert_eq!(page_mask_bit(shift), None, "shift {shift}");
    }
    assert_eq!(PHB4_DDW_PAGES, 0x103);
}

#[test]
fn rtas_statuses_are_the_lopapr_numbers() {
    assert_eq!(RtasStatus::Success.to_cell(), 0);
    assert_eq!(RtasStatus::HardwareError.to_cell(), (-1i32) as u32);
    assert_eq!(RtasStatus::Busy.to_cell(), (-2i32) as u32);
    assert_eq!(RtasStatus::ParameterError.to_cell(), (-3i32) as u32);
}

fn hv_with_partition() -> (Hv, Arc<RecordingPhb>, pnv_iommu::papr::PartitionId) {
    let mut hv = Hv::new(pnv_iommu::page_alloc::GlobalPages);
    let mem = Arc::new(pnv_iommu::papr::fake::FakeGuestMemory::new());
    let ram = two_region_ram();
    for r in &ram {
        mem.add(r.host, r.size as usize);
    }
    let p = hv
        .add_partition(&ram, mem, PartitionConfig::default())
        .unwrap();
    (hv, Arc::new(RecordingPhb::new()), p)
}

#[test]
fn attach_checks_the_default_window() {
    let (hv, phb, p) = hv_with_partition();
    let cfg = |size: u64, pages: u32, pe: u16| PeConfig {
        default_window_size: size,
        page_sizes: pages,
        ..pe_config(u32::from(pe) << 8, pe)
    };
    // Above 4 GiB, not a power of two, or no 4 KiB pages: refused.
    for (size, pages) in [
        (MAX_DEFAULT_WINDOW * 2, PHB4_DDW_PAGES),
        (3 << 20, PHB4_DDW_PAGES),
        (256 << 20, DDW_PAGE_64K | DDW_PAGE_2M),
    ] {
        assert_eq!(
            hv.attach_pe(p, phb.clone(), cfg(size, pages, 1)),
            Err(SetupError::BadWindow),
            "{size:#x} {pages:#x}"
        );
    }
    assert!(hv.liobns(p).is_empty());
    // Exactly 4 GiB is allowed.
    let liobn = hv
        .attach_pe(p, phb.clone(), cfg(MAX_DEFAULT_WINDOW, DDW_PAGE_4K, 1))
        .unwrap();
    let w = hv.liobns(p)[0];
    assert_eq!((w.liobn, w.window_size), (liobn, MAX_DEFAULT_WINDOW));
}

#[test]
fn a_pe_is_attached_once_and_its_address_names_one_pe() {
    let (mut hv, phb, p) = hv_with_partition();
    hv.attach_pe(p, phb.clone(), pe_config(0x100, 1)).unwrap();
    // The same PE of the same PHB under another address: in use.
    assert_eq!(
        hv.attach_pe(p, phb.clone(), pe_config(0x200, 1)),
        Err(SetupError::PeInUse)
    );
    // Another PE under the same (BUID, config address): in use.
    assert_eq!(
        hv.attach_pe(p, phb.clone(), pe_config(0x100, 2)),
        Err(SetupError::PeInUse)
    );
    // The same PE number on another PHB, elsewhere: fine, in any partition.
    let other_phb = Arc::new(RecordingPhb::new());
    hv.attach_pe(p, other_phb.clone(), pe_config(0x300, 1))
        .unwrap();
    let mem = Arc::new(pnv_iommu::papr::fake::FakeGuestMemory::new());
    let ram = [pnv_iommu::papr::RamRegion {
        logical: 0,
        host: 0x5_0000_0000,
        size: MIB,
    }];
    mem.add(ram[0].host, MIB as usize);
    let q = hv
        .add_partition(&ram, mem, PartitionConfig::default())
        .unwrap();
    assert_eq!(
        hv.attach_pe(q, phb.clone(), pe_config(0x400, 1)),
        Err(SetupError::PeInUse),
        "another partition's PE"
    );
    hv.attach_pe(q, phb.clone(), pe_config(0x400, 5)).unwrap();
    assert_eq!(hv.liobns(p).len(), 2);
    assert_eq!(hv.liobns(q).len(), 1);
}

#[test]
fn a_phb_that_refuses_the_default_window_is_a_hardware_error() {
    let (hv, phb, p) = hv_with_partition();
    phb.fail_set.store(true, Ordering::Relaxed);
    assert_eq!(
        hv.attach_pe(p, phb.clone(), pe_config(0x100, 1)),
        Err(SetupError::Hardware)
    );
    assert!(hv.liobns(p).is_empty());
    phb.fail_set.store(false, Ordering::Relaxed);
    hv.attach_pe(p, phb.clone(), pe_config(0x100, 1)).unwrap();
}
