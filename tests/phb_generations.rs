//! Every PHB generation through the same upper layers: the OPAL calls
//! (what each generation accepts, and `tce_kill`'s UNSUPPORTED on PHB3 as
//! skiboot answers) and the hypervisor's `WindowProgrammer`
//! ([`LockedPhb`]) over a PHB3 and over a PHB5, with the exact register
//! writes each produces.

use std::sync::Arc;

use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::mmio::fake::{Op, RecordingIo};
use pnv_iommu::opal::{OpalCode, OpalPhbs, kill_type};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::{Hypervisor, LockedPhb, PeConfig, WindowProgrammer, WindowTable};
use pnv_iommu::phb3::fake::phb3_model;
use pnv_iommu::phb3::regs::{PHB_IODA_ADDR, PHB_IODA_DATA0, PHB_TCE_KILL};
use pnv_iommu::phb3::{Phb3, Phb3Config};
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::regs::PHB_DMA_READ_WRITE_SYNC;
use pnv_iommu::phb4::{Phb4, Phb4Family};
use pnv_iommu::phb5;

mod phb_common;

/// PHB0 of a powernv8: QEMU's preset register BAR.
const P8_REGS: u64 = 0x0003_fffe_4000_0000;

fn phb3(io: &RecordingIo) -> Phb3<&RecordingIo> {
    let phb = Phb3::init(io, Phb3Config::p8(0, 0).unwrap(), &GlobalPages).unwrap();
    io.clear_log();
    phb
}

fn p8_io() -> RecordingIo {
    phb3_model(&Phb3Config::p8(0, 0).unwrap(), vec![FakeFunction::edu()])
}

#[test]
fn opal_over_phb3_checks_phb3s_page_sizes_and_has_no_tce_kill() {
    let io = p8_io();
    let mut opal = OpalPhbs::new();
    opal.add(8, phb3(&io)).unwrap();
    // 16M pages are PHB3's (PHB4 would refuse them)...
    assert_eq!(
        opal.map_pe_dma_window(8, 3, 6, 1, 0x100_0000, 0x1000, 0x100_0000),
        OpalCode::Success
    );
    // ...2M pages are PHB4's, not PHB3's: refused, nothing written.
    io.clear_log();
    assert_eq!(
        opal.map_pe_dma_window(8, 3, 7, 1, 0x100_0000, 0x1000, 0x20_0000),
        OpalCode::Parameter
    );
    assert!(io.writes().is_empty());
    // No OPAL tce_kill on PHB3 (skiboot's answer), whatever the arguments;
    // an unknown PHB is still PARAMETER.
    for kind in [kill_type::ALL, kill_type::PE, kill_type::PAGES, 9] {
        assert_eq!(
            opal.tce_kill(8, kind, 3, 0x1000, 0, 1),
            OpalCode::Unsupported
        );
    }
    assert_eq!(
        opal.tce_kill(9, kill_type::ALL, 0, 0, 0, 0),
        OpalCode::Parameter
    );
    assert!(io.writes().is_empty());
    // The other calls are served: bypass, set_pe, freeze, reset.
    assert_eq!(
        opal.map_pe_dma_window_real(8, 3, 7, 1 << 59, 1 << 30),
        OpalCode::Success
    );
    assert_eq!(opal.set_pe(8, 3, 0x100, 7, 1, 1, 1), OpalCode::Success);
    assert_eq!(opal.set_pe(8, 256, 0x100, 7, 1, 1, 1), OpalCode::Parameter);
    assert_eq!(opal.eeh_freeze_set(8, 3, 2), OpalCode::Success);
    assert_eq!(opal.eeh_freeze_status(8, 3).unwrap().state, 2);
    assert_eq!(opal.eeh_freeze_clear(8, 3, 2), OpalCode::Success);
    assert_eq!(opal.pci_reset(8, 6, 1), OpalCode::Success);
    assert_eq!(opal.phb(8).unwrap().tve(3, 1), Ok(0));
}

#[test]
fn opal_over_phb5_serves_tce_kill_with_the_power10_sync() {
    let cfg = phb5::p10(0, 3).unwrap();
    let io = phb4_model(&cfg, 512, vec![]);
    let phb = Phb4::init(&io, cfg, &GlobalPages).unwrap();
    assert_eq!(phb.family(), Phb4Family::Phb5);
    let mut opal = OpalPhbs::new();
    opal.add(3, phb).unwrap();
    io.clear_log();
    assert_eq!(
        opal.tce_kill(3, kill_type::PE, 300, 0, 0, 0),
        OpalCode::Success
    );
    let sync: Vec<Op> = io
        .log()
        .iter()
        .filter(|a| a.addr == cfg.regs_base + PHB_DMA_READ_WRITE_SYNC)
        .map(|a| a.op)
        .collect();
    // Read-modify-write, then the completion poll.
    assert_eq!(sync, [Op::Read, Op::Write, Op::Read]);
    // PE 300 exists on PHB3 of a POWER10 (512 PEs); PE 512 does not.
    assert_eq!(
        opal.tce_kill(3, kill_type::PE, 512, 0, 0, 0),
        OpalCode::Parameter
    );
}

fn table(page_shift: u32) -> WindowTable {
    let top = 0x20_0000;
    let t = pnv_iommu::phb::tve::TranslatedTve::new(top, 2, 0x1000, 1 << page_shift).unwrap();
    WindowTable {
        top_phys: top,
        levels: 2,
        level_bytes: 0x1000,
        page_shift,
        bus_offset: 0,
        window_size: 1 << (9 * 2 + page_shift),
        tve: t.encode(),
    }
}

#[test]
fn window_programmer_over_phb3() {
    let io = p8_io();
    let port = LockedPhb::new(phb3(&io));
    port.set_window(4, 0, &table(12)).unwrap();
    port.invalidate_range(
        4,
        IovaRange {
            start: 0x2000,
            size: 0x2000,
            page_shift: 12,
        },
    )
    .unwrap();
    port.sync().unwrap();
    port.clear_window(4, 0).unwrap();
    assert_eq!(
        io.writes(),
        [
            (P8_REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0008),
            (P8_REGS + PHB_IODA_DATA0, table(12).tve),
            (P8_REGS + PHB_TCE_KILL, 0x2000_0000_0000_2004),
            (P8_REGS + PHB_TCE_KILL, 0x2000_0000_0000_3004),
            (P8_REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0008),
            (P8_REGS + PHB_IODA_DATA0, 0),
            (P8_REGS + PHB_TCE_KILL, 0x4000_0000_0000_0004),
        ]
    );
    // PHB4's 2M pages are refused before anything is written.
    io.clear_log();
    assert!(port.set_window(4, 1, &table(21)).is_err());
    assert!(io.writes().is_empty());
}

#[test]
fn window_programmer_over_phb5() {
    let cfg = phb5::p10(0, 1).unwrap();
    let io = phb4_model(&cfg, 256, vec![]);
    let phb = Phb4::init(&io, cfg, &GlobalPages).unwrap();
    io.clear_log();
    let port = LockedPhb::new(phb);
    port.set_window(4, 1, &table(21)).unwrap();
    port.invalidate_pe(4).unwrap();
    port.clear_window(4, 1).unwrap();
    let r = cfg.regs_base;
    let w = io.writes();
    assert_eq!(w[0], (r + PHB_IODA_ADDR, 0x0009_0000_0000_0009));
    assert_eq!(w[1], (r + PHB_IODA_DATA0, table(21).tve));
    assert_eq!(w[2], (r + PHB_TCE_KILL, 0x4000_0000_0000_0004));
    // PHB5's sync start keeps the completion bits it read (here bit 1).
    assert_eq!(w[3], (r + PHB_DMA_READ_WRITE_SYNC, 0xc000_0000_0000_0000));
    // PHB3's 16M pages are not PHB5's.
    assert!(port.set_window(4, 0, &table(24)).is_err());
}

/// The hypervisor's default window on a PHB3: the DDW page mask comes from
/// PHB3's capabilities (4K, 64K, 16M, 256M), and an H_PUT_TCE ends with
/// PHB3 kill stores only (no sync, no poll).
#[test]
fn hypervisor_over_phb3() {
    let io = p8_io();
    let port = Arc::new(LockedPhb::new(phb3(&io)));
    let mask = port.lock().capabilities().ddw_page_mask();
    assert_eq!(mask, 0x01 | 0x02 | 0x04 | 0x40);
    let mut hv: Hypervisor<LockedPhb<Phb3<&RecordingIo>>, GlobalPages> =
        Hypervisor::new(GlobalPages);
    let p = phb_common::partition_4m(&mut hv);
    let cfg = PeConfig {
        buid: 0x0800_0000_2000_0000,
        config_addr: 0x100,
        pe: 5,
        default_window_size: 1 << 28,
        page_sizes: mask,
        max_window_shift: 40,
    };
    let liobn = hv.attach_pe(p, port.clone(), cfg).unwrap();
    assert_ne!(port.lock().tve(5, 0).unwrap(), 0);
    io.clear_log();
    hv.h_put_tce(p, liobn as u64, 0x3000, 0x2000 | 3).unwrap();
    let log = io.log();
    assert!(log.iter().all(|a| a.op != Op::Read), "no PHB3 kill polls");
    let kills: Vec<u64> = io
        .writes()
        .into_iter()
        .filter(|w| w.0 == P8_REGS + PHB_TCE_KILL)
        .map(|w| w.1)
        .collect();
    assert!(!kills.is_empty());
    assert!(
        kills.iter().all(|k| k & 0xff == 5),
        "every kill names PE 5: {kills:x?}"
    );
}
