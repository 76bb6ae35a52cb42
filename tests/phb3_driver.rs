//! PHB3 driver against the recording register fake: exact register
//! sequences and access widths for bring-up, attach, windows, bypass, kill,
//! config space and enumeration (DESIGN §12).

use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::mmio::fake::{Op, RecordingIo};
use pnv_iommu::mmio::{Endian, Width};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb::PhbError as Phb4Error;
use pnv_iommu::phb::pci::Bdf;
use pnv_iommu::phb::pe::RidMatch;
use pnv_iommu::phb::tve::TranslatedTve;
use pnv_iommu::phb::{DmaWindow, Phb};
use pnv_iommu::phb3::fake::phb3_model;
use pnv_iommu::phb3::regs::*;
use pnv_iommu::phb3::tve::Phb3PageSize;
use pnv_iommu::phb3::{Phb3, Phb3Config};
use pnv_iommu::phb4::fake::FakeFunction;
use pnv_iommu::phb4::tve::{BypassTve, DecodedTve, TveError};

/// PHB0 of chip 0: QEMU's preset register BAR.
const REGS: u64 = 0x0003_fffe_4000_0000;
/// PBCQ 0 nest block through the POWER8 XSCOM formula.
fn nest(reg: u32) -> u64 {
    p8_xscom_addr(0x0003_fc00_0000_0000, 0x0201_2000 + reg)
}

fn cfg() -> Phb3Config {
    Phb3Config::p8(0, 0).unwrap()
}

fn model() -> RecordingIo {
    phb3_model(&cfg(), vec![FakeFunction::edu()])
}

fn up(io: &RecordingIo) -> Phb3<&RecordingIo> {
    let phb = Phb3::init(io, cfg(), &GlobalPages).unwrap();
    io.clear_log();
    phb
}

#[test]
fn bring_up_reads_bars_back_then_enables_and_programs_m32() {
    let io = model();
    let phb = Phb3::init(&io, cfg(), &GlobalPages).unwrap();
    assert_eq!(
        (phb.num_pes(), phb.reserved_pe(), phb.tvt_size()),
        (256, 255, 512)
    );
    let log = io.log();
    // 1. Five PBCQ reads in register order, then the BAR_EN store: no BAR
    //    is ever written (QEMU would not remap an enabled BAR).
    let first: Vec<(Op, u64)> = log[..7]
        .iter()
        .filter(|a| a.op != Op::Barrier)
        .map(|a| (a.op, a.addr))
        .collect();
    assert_eq!(
        first,
        [
            (Op::Read, nest(0x40)),
            (Op::Read, nest(0x41)),
            (Op::Read, nest(0x42)),
            (Op::Read, nest(0x43)),
            (Op::Read, nest(0x44)),
            (Op::Write, nest(0x45)),
        ]
    );
    assert_eq!(nest(0x45), 0x0003_fc00_2012_0428); // DESIGN §12's example
    assert_eq!(io.peek(nest(0x45)), 0xe000_0000_0000_0000);
    assert!(
        io.writes()
            .iter()
            .all(|w| !(nest(0x40)..=nest(0x44)).contains(&w.0))
    );
    assert_eq!(phb.bars().mmio1.base, 0x0003_ff80_0000_0000);
    assert_eq!(phb.regs_base(), REGS);
    // 2..4: version read, table BARs, M32 (base, mask, start), then
    //    PHB3_CONFIG with M32_EN last.
    let w: Vec<(u64, u64)> = io.writes().into_iter().skip(1).collect();
    assert_eq!(
        w[0],
        (REGS + PHB_RTT_BAR, phb.rtt_addr().unwrap() | 1 << 63)
    );
    assert_eq!(phb.rtt_addr().unwrap() % 0x2_0000, 0);
    assert_eq!(w[1].0, REGS + PHB_PELTV_BAR);
    assert_eq!(w[2].0, REGS + PHB_PEST_BAR);
    assert_eq!(
        w[3..7],
        [
            (REGS + PHB_M32_BASE_ADDR, 0x0003_ff80_0000_0000),
            (REGS + PHB_M32_BASE_MASK, 0xffff_ffff_8000_0000),
            (REGS + PHB_M32_START_ADDR, 0x8000_0000),
            (REGS + PHB_PHB3_CONFIG, 0x2002_8000_0000_0000),
        ]
    );
    assert_ne!(w[6].1 & PHB_PHB3C_M32_EN, 0);
    // 5. IODA2 reset: TVT from 0 with auto-increment, 512 zero TVEs...
    assert_eq!(w[7], (REGS + PHB_IODA_ADDR, 0x8009_0000_0000_0000));
    assert!(
        w[8..8 + 512]
            .iter()
            .all(|&v| v == (REGS + PHB_IODA_DATA0, 0))
    );
    // ...M64BT (16), M32DT (256), PESTA/B (256 each), PEEV (4).
    let tables: Vec<u64> = w
        .iter()
        .filter(|x| x.0 == REGS + PHB_IODA_ADDR)
        .map(|x| x.1)
        .collect();
    assert_eq!(
        tables,
        [
            0x8009_0000_0000_0000,
            0x8010_0000_0000_0000,
            0x8011_0000_0000_0000,
            0x8007_0000_0000_0000,
            0x8008_0000_0000_0000,
            0x8014_0000_0000_0000
        ]
    );
    let data = w.iter().filter(|x| x.0 == REGS + PHB_IODA_DATA0).count();
    assert_eq!(data, 512 + 16 + 256 + 256 + 256 + 4);
    // ...then the RID cache and a kill-all: one store each, nothing polled.
    let n = w.len();
    assert_eq!(
        w[n - 2..],
        [
            (REGS + PHB_RTC_INVALIDATE, 1 << 63),
            (REGS + PHB_TCE_KILL, 1 << 63)
        ]
    );
    assert!(
        !log.iter()
            .any(|a| a.op == Op::Read && a.addr == REGS + PHB_TCE_KILL)
    );
    assert!((0..=u16::MAX).all(|rid| phb.rtt_entry(rid) == Some(255)));
    // Every register and XSCOM access is 8 bytes; nothing above the 4 KiB
    // register window is touched.
    assert!(
        log.iter()
            .filter(|a| a.op != Op::Barrier)
            .all(|a| a.width == Width::W64)
    );
    assert!(
        log.iter()
            .filter(|a| a.op != Op::Barrier && a.addr >= REGS)
            .all(|a| a.addr < REGS + PHB3_REGS_SIZE)
    );
}

#[test]
fn bring_up_refuses_missing_bars_or_a_non_phb3() {
    let io = RecordingIo::new(); // nothing preset: BARs read 0
    assert_eq!(
        Phb3::init(&io, cfg(), &GlobalPages).unwrap_err(),
        Phb4Error::Broken
    );
    assert!(io.writes().is_empty(), "no BAR_EN without sane BARs");
    let io = model();
    io.preset(REGS + PHB_VERSION, 0x0000_00a4_0000_0002); // a PHB4
    assert_eq!(
        Phb3::init(&io, cfg(), &GlobalPages).unwrap_err(),
        Phb4Error::Broken
    );
}

#[test]
fn attach_writes_nothing_and_drop_writes_nothing() {
    let io = model();
    // Another firmware brought the PHB up: BARs enabled, tables in place.
    let owner = Phb3::init(&io, cfg(), &GlobalPages).unwrap();
    core::mem::forget(owner); // its tables stay, as another firmware's would
    io.clear_log();
    let mut phb = Phb3::attach(&io, cfg()).unwrap();
    assert!(phb.is_attached());
    assert_eq!(phb.rtt_addr(), None);
    assert!(io.writes().is_empty());
    let reads: Vec<u64> = io.log().iter().map(|a| a.addr).collect();
    assert_eq!(
        reads,
        [
            nest(0x40),
            nest(0x41),
            nest(0x42),
            nest(0x43),
            nest(0x44),
            nest(0x45),
            REGS + PHB_VERSION,
        ]
    );
    // The attached driver programs TVEs and kills like an owner...
    let t = TranslatedTve::new(0x10_0000, 1, 0x1000, 0x1000).unwrap();
    io.clear_log();
    phb.map_translated(3, 0, &t).unwrap();
    phb.unmap_window(3, 0).unwrap();
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0006),
            (REGS + PHB_IODA_DATA0, t.encode()),
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0006),
            (REGS + PHB_IODA_DATA0, 0),
            (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0003),
        ]
    );
    // ...but what needs the owner's tables is refused, writing nothing.
    io.clear_log();
    assert_eq!(
        phb.set_pe(3, 0x100, RidMatch::EXACT, true),
        Err(Phb4Error::Unsupported)
    );
    assert_eq!(phb.freeze_set(3, false, true), Err(Phb4Error::Unsupported));
    assert_eq!(phb.ioda_reset(), Err(Phb4Error::Unsupported));
    assert_eq!(phb.ioda_purge(), Err(Phb4Error::Unsupported));
    assert_eq!(phb.enumerate().unwrap_err(), Phb4Error::Unsupported);
    assert!(io.writes().is_empty());
    // Its drop leaves the PHB as it was.
    drop(phb);
    assert!(io.log().iter().all(|a| a.op != Op::Write));
}

#[test]
fn attach_refuses_a_phb_nobody_enabled() {
    let io = model();
    let r = Phb3::attach(&io, cfg());
    assert_eq!(r.unwrap_err(), Phb4Error::Broken);
    assert!(io.writes().is_empty());
}

#[test]
fn owned_drop_disables_table_bars() {
    let io = model();
    let phb = up(&io);
    drop(phb);
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_RTT_BAR, 0),
            (REGS + PHB_PELTV_BAR, 0),
            (REGS + PHB_PEST_BAR, 0)
        ]
    );
}

#[test]
fn window_set_replace_unset_sequences() {
    let io = model();
    let mut phb = up(&io);
    let t = TranslatedTve::new(0x20_0000, 2, 0x1_0000, 0x1_0000).unwrap();
    phb.map_translated(7, 1, &t).unwrap();
    // First set of a window: TVT entry 15, no kill (nothing was cached).
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_000f),
            (REGS + PHB_IODA_DATA0, 0x0000_0000_0200_2505),
        ]
    );
    io.clear_log();
    phb.unmap_window(7, 1).unwrap();
    // Unset: TVE 0, then one PE kill store.
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_000f),
            (REGS + PHB_IODA_DATA0, 0),
            (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0007),
        ]
    );
    assert_eq!(phb.window(7, 1).unwrap(), DecodedTve::Invalid);
    io.clear_log();
    // Bad input writes nothing.
    assert_eq!(phb.map_translated(256, 0, &t), Err(Phb4Error::PeRange));
    assert_eq!(phb.map_translated(7, 2, &t), Err(Phb4Error::WindowId));
    assert!(io.writes().is_empty());
}

#[test]
fn page_sizes_are_phb3s() {
    let io = model();
    let mut phb = up(&io);
    for shift in [12u32, 16, 24, 28] {
        let t = TranslatedTve::new(0, 1, 0x1000, 1 << shift).unwrap();
        phb.map_translated(1, 0, &t).unwrap();
        assert_eq!(phb.tve(1, 0).unwrap() & 0x1f, (shift - 11) as u64);
    }
    assert_eq!(
        phb.capabilities().page_shifts,
        (1 << 12) | (1 << 16) | (1 << 24) | (1 << 28)
    );
    io.clear_log();
    // PHB4's 2M and 1G, and other sizes the format could hold, are refused
    // before anything is written.
    for shift in [21u32, 30, 13, 20] {
        let t = TranslatedTve::new(0, 1, 0x1000, 1 << shift).unwrap();
        assert_eq!(
            phb.map_translated(2, 0, &t),
            Err(Phb4Error::Tve(TveError::PageSize))
        );
    }
    assert!(io.writes().is_empty());
}

#[test]
fn the_phb_interface_serves_phb3() {
    let io = model();
    let mut phb = up(&io);
    let p: &mut dyn Phb = &mut phb;
    let caps = p.capabilities();
    assert_eq!((caps.num_pes, caps.max_levels), (256, 5));
    assert_eq!(caps.slot_starts, [0, 1 << 59]);
    assert!(!p.opal_tce_kill());
    let t = TranslatedTve::new(0x10_0000, 2, 0x1000, 0x1_0000).unwrap();
    p.set_window(9, 1, &DmaWindow::Translated(t)).unwrap();
    assert_eq!(p.tve(9, 1).unwrap(), t.encode());
    p.set_window(
        9,
        0,
        &DmaWindow::Bypass {
            pci_start: 0,
            size: 1 << 30,
        },
    )
    .unwrap();
    assert_eq!(p.tve(9, 0).unwrap(), 0x0000_0000_0040_1000);
    assert_eq!(p.set_pe(9, 0x100, RidMatch::EXACT, true).unwrap(), 1);
    p.kill(pnv_iommu::phb::KillScope::Pe(9)).unwrap();
    p.reset_dma_state().unwrap();
    assert_eq!(p.tve(9, 1).unwrap(), 0);
    assert_eq!(
        p.set_window(256, 0, &DmaWindow::Off),
        Err(Phb4Error::PeRange)
    );
}

#[test]
fn bypass_tve_and_its_bounds() {
    let io = model();
    let mut phb = up(&io);
    let b = BypassTve::new(1, 1 << 59, 1 << 30).unwrap();
    phb.map_bypass(5, 1, &b).unwrap();
    let tve = io.peek(REGS + PHB_IODA_DATA0);
    // Page-size field 0 and IBM bit 51: QEMU's PHB3 bypass; no PHB4 bit 56.
    assert_eq!(tve & 0x1f, 0);
    assert_ne!(tve & (1 << 12), 0);
    assert_eq!(tve & (1 << 7), 0);
    assert_eq!(tve, 0x0000_0000_0040_1000);
    assert_eq!(
        phb.window(5, 1).unwrap(),
        DecodedTve::Bypass {
            start: 0,
            end: 1 << 30
        }
    );
    // The bounds QEMU does not check are checked.
    assert_eq!(BypassTve::new(0, 0, 1 << 50), Err(TveError::BypassRange));
    assert_eq!(BypassTve::new(0, 0, 0x1000), Err(TveError::BypassAlignment));
    io.clear_log();
    assert_eq!(
        phb.map_bypass(5, 0, &b),
        Err(Phb4Error::Tve(TveError::WindowParity))
    );
    assert!(io.writes().is_empty());
}

#[test]
fn kills_are_single_stores_never_polled() {
    let io = model();
    let phb = up(&io);
    phb.kill_all();
    phb.kill_pe(9).unwrap();
    phb.kill_pages(9, Phb3PageSize::Size4K, 0x4_2000, 3)
        .unwrap();
    let log = io.log();
    assert!(
        log.iter().all(|a| a.op != Op::Read),
        "PHB3 kills never poll"
    );
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_TCE_KILL, 0x8000_0000_0000_0000),
            (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0009),
            (REGS + PHB_TCE_KILL, 0x2000_0000_0004_2009),
            (REGS + PHB_TCE_KILL, 0x2000_0000_0004_3009),
            (REGS + PHB_TCE_KILL, 0x2000_0000_0004_4009),
        ]
    );
    // A barrier orders the TCE stores before each kill.
    assert_eq!(log[0].op, Op::Barrier);
    io.clear_log();
    // Long ranges become one PE kill; bad ranges write nothing.
    phb.kill_pages(9, Phb3PageSize::Size64K, 0, 10_000).unwrap();
    assert_eq!(io.writes(), [(REGS + PHB_TCE_KILL, 0x4000_0000_0000_0009)]);
    io.clear_log();
    assert_eq!(
        phb.kill_pages(9, Phb3PageSize::Size64K, 0x1000, 1),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.kill_pages(9, Phb3PageSize::Size4K, 1 << 60, 1),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.kill_pages(9, Phb3PageSize::Size256M, 0, u64::MAX),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(phb.kill_pe(256), Err(Phb4Error::PeRange));
    assert!(io.writes().is_empty());
    // Through the Invalidate trait.
    phb.invalidate_range(
        4,
        IovaRange {
            start: 0x1_0000,
            size: 0x2_0000,
            page_shift: 16,
        },
    )
    .unwrap();
    phb.sync().unwrap();
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_TCE_KILL, 0x2000_0000_0001_0004),
            (REGS + PHB_TCE_KILL, 0x2000_0000_0002_0004),
        ]
    );
}

#[test]
fn set_pe_and_freeze() {
    let io = model();
    let mut phb = up(&io);
    assert_eq!(phb.set_pe(4, 0x0100, RidMatch::EXACT, true).unwrap(), 1);
    assert_eq!(phb.rtt_entry(0x0100), Some(4));
    assert_eq!(io.writes(), [(REGS + PHB_RTC_INVALIDATE, 1 << 63)]);
    assert_eq!(
        phb.set_pe(256, 0x0100, RidMatch::EXACT, true),
        Err(Phb4Error::PeRange)
    );
    let t = TranslatedTve::new(0x10_0000, 1, 0x1000, 0x1000).unwrap();
    phb.map_translated(4, 0, &t).unwrap();
    io.clear_log();
    phb.freeze_set(4, false, true).unwrap();
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0008),
            (REGS + PHB_IODA_DATA0, 0),
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0009),
            (REGS + PHB_IODA_DATA0, 0),
            (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0004),
        ]
    );
    assert!(phb.freeze_state(4).unwrap().dma);
    phb.freeze_clear(4, false, true).unwrap();
    assert_eq!(phb.tve(4, 0).unwrap(), t.encode());
}

#[test]
fn config_space_goes_through_config_address_even_for_the_root_port() {
    let io = model();
    let phb = up(&io);
    assert_eq!(
        phb.config_read(Bdf::ROOT_PORT, 0, Width::W32).unwrap(),
        0x03dc_1014
    );
    let dev = Bdf::new(1, 0, 0);
    assert_eq!(phb.config_read(dev, 2, Width::W16).unwrap(), 0x11e8);
    assert_eq!(phb.config_read(dev, 3, Width::W8).unwrap(), 0x11);
    let log = io.log();
    assert_eq!(
        log.iter()
            .filter(|a| a.addr == REGS + PHB_CONFIG_ADDRESS)
            .map(|a| a.value)
            .collect::<Vec<_>>(),
        [1 << 63, (1 << 63) | (1 << 52), (1 << 63) | (1 << 52)]
    );
    let data: Vec<_> = log
        .iter()
        .filter(|a| (0x130..0x134).contains(&(a.addr - REGS)))
        .map(|a| (a.addr - REGS, a.width, a.endian))
        .collect();
    assert_eq!(
        data,
        [
            (0x130, Width::W32, Endian::Little),
            (0x132, Width::W16, Endian::Little),
            (0x133, Width::W8, Endian::Little)
        ]
    );
    assert!(log.iter().all(|a| a.addr < REGS + PHB3_REGS_SIZE));
    assert_eq!(
        phb.config_read(dev, 0, Width::W64),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.config_read(Bdf::new(0, 1, 0), 0, Width::W32),
        Err(Phb4Error::NoDevice)
    );
}

#[test]
fn enumerate_places_edu_in_m32() {
    let io = model();
    let mut phb = up(&io);
    let found = phb.enumerate().unwrap();
    assert_eq!(found.len(), 1);
    let bar = found[0].bars[0];
    assert_eq!(
        (bar.pci_addr, bar.cpu_addr, bar.size),
        (0x8000_0000, 0x0003_ff80_0000_0000, 1 << 20)
    );
    assert_eq!(
        phb.config_read(Bdf::ROOT_PORT, 0x18, Width::W32).unwrap(),
        0x0001_0100
    );
    assert_eq!(
        phb.config_read(Bdf::ROOT_PORT, 4, Width::W16).unwrap() & 6,
        6
    );
}
