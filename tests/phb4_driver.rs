//! PHB4 driver against the recording register fake: bring-up, TCE-kill
//! sequences, config-space widths, RTT contents, windows, shared tables.

use pnv_iommu::iopt::{Invalidate, IovaRange};
use pnv_iommu::mmio::fake::{Op, RecordingIo};
use pnv_iommu::mmio::{RegisterIo, Width};
use pnv_iommu::phb4::config::Bdf;
use pnv_iommu::phb4::dmamem::GlobalHeap;
use pnv_iommu::phb4::fake::{FakeBar, FakeFunction, phb4_model};
use pnv_iommu::phb4::kill::KillError;
use pnv_iommu::phb4::pe::{BusCompare, RidMatch};
use pnv_iommu::phb4::regs::*;
use pnv_iommu::phb4::shared::{SharedTableError, TableRegistry};
use pnv_iommu::phb4::tve::{BypassTve, DecodedTve, PageSize, TranslatedTve};
use pnv_iommu::phb4::{Phb4, Phb4Config, Phb4Error};

const REGS: u64 = 0x0006_00C3_C000_0000;

fn model(num_pes: u32) -> RecordingIo {
    phb4_model(
        &Phb4Config::p9_chip0(0).unwrap(),
        num_pes,
        vec![FakeFunction::edu()],
    )
}

fn up(io: &RecordingIo) -> Phb4<&RecordingIo> {
    let phb = Phb4::init(io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap).unwrap();
    io.clear_log();
    phb
}

#[test]
fn bring_up_programs_bars_tables_and_m32_window() {
    let io = model(256);
    let phb = Phb4::init(&io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap).unwrap();
    assert_eq!(phb.num_pes(), 256);
    assert_eq!(phb.reserved_pe(), 255);
    let w = io.writes();
    let x = |r: u64| 0x0006_03FC_0000_0000 + ((0x4010c40 + r) << 3);
    // DESIGN §5 values for PHB0, BARs before BAR_EN.
    assert_eq!(
        w[..4],
        [
            (x(0x10), 0x0600_C000_0000_0000),
            (x(0x11), 0xFFFF_FF80_0000_0000),
            (x(0x12), 0x0600_C3C0_0000_0000),
            (x(0x14), 0x6000_0000_0000_0000),
        ]
    );
    assert_eq!(w[4], (REGS + PHB_CTRLR, 0)); // TVT_ADDR_SEL = 0: 2 TVEs per PE
    assert_eq!(
        w[5],
        (REGS + PHB_RTT_BAR, phb.rtt_addr().unwrap() | 1 << 63)
    );
    assert_eq!(phb.rtt_addr().unwrap() % 0x2_0000, 0);
    assert_eq!(w[6].0, REGS + PHB_PELTV_BAR);
    assert_eq!(w[7], (REGS + PHB_M32_START_ADDR, 0x8000_0000));
    assert_eq!(w[8].0, REGS + PHB_PEST_BAR);
    assert_eq!(w[9], (REGS + PHB_PHB4_CONFIG, PHB_PHB4C_64BIT_MSI_EN));
    // IODA reset: TVT from index 0 with auto-increment, 512 zero TVEs.
    assert_eq!(w[10], (REGS + PHB_IODA_ADDR, 0x8009_0000_0000_0000));
    assert!(
        w[11..11 + 512]
            .iter()
            .all(|&v| v == (REGS + PHB_IODA_DATA0, 0))
    );
    // ...then the M32 window in MBT entry 0, last: the mask (enable clear)
    // first, then both words with enable.
    let n = w.len();
    assert_eq!(
        w[n - 5..],
        [
            (REGS + PHB_IODA_ADDR, 0x0010_0000_0000_0001),
            (REGS + PHB_IODA_DATA0, 0x00FF_FFFF_8000_0000),
            (REGS + PHB_IODA_ADDR, 0x8010_0000_0000_0000),
            (REGS + PHB_IODA_DATA0, 0xC006_00C0_0000_0000),
            (REGS + PHB_IODA_DATA0, 0x80FF_FFFF_8000_0000),
        ]
    );
    assert!(w.contains(&(REGS + PHB_RTC_INVALIDATE, PHB_RTC_INVALIDATE_ALL)));
    assert!(w.contains(&(REGS + PHB_TCE_KILL, PHB_TCE_KILL_ALL)));
    // Every RID starts on the reserved PE.
    assert!((0..=u16::MAX).all(|rid| phb.rtt_entry(rid) == Some(255)));
    // Every PHB register access is 8 bytes.
    assert!(
        io.log()
            .iter()
            .filter(|a| a.op != Op::Barrier)
            .all(|a| a.width == Width::W64)
    );
}

#[test]
fn broken_phb_is_refused() {
    let io = RecordingIo::new();
    io.preset(REGS + PHB_PHB4_EEH_CAP, u64::MAX);
    let r = Phb4::init(&io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap);
    assert_eq!(r.unwrap_err(), Phb4Error::Broken);
}

fn data_writes(io: &RecordingIo) -> Vec<(u64, u64)> {
    io.writes()
}

#[test]
fn kill_pe_exact_sequence() {
    let io = model(256);
    let phb = up(&io);
    phb.kill_pe(7).unwrap();
    let log: Vec<_> = io
        .log()
        .iter()
        .map(|a| (a.op, a.addr.wrapping_sub(REGS), a.value))
        .collect();
    assert_eq!(
        log,
        [
            (Op::Barrier, 0u64.wrapping_sub(REGS), 0),
            (Op::Read, PHB_TCE_KILL, 0),
            (Op::Write, PHB_TCE_KILL, 0x4000_0000_0000_0007),
            (Op::Write, PHB_DMA_READ_WRITE_SYNC, PHB_DMA_READ_SYNC_START),
            (Op::Read, PHB_Q_DMA_R, 0),
            (
                Op::Read,
                PHB_DMA_READ_WRITE_SYNC,
                PHB_DMA_READ_SYNC_COMPLETE
            ),
        ]
    );
}

#[test]
fn kill_all_and_pages_sequences() {
    let io = model(256);
    let phb = up(&io);
    phb.kill_all().unwrap();
    assert_eq!(
        data_writes(&io),
        [
            (REGS + PHB_TCE_KILL, 1 << 63),
            (REGS + PHB_DMA_READ_WRITE_SYNC, 1 << 63)
        ]
    );
    io.clear_log();
    // Page kills become one PE kill (erratum HW560152).
    phb.kill_pages(3, PageSize::Size64K, (1 << 59) | 0x30000, 4)
        .unwrap();
    assert_eq!(
        data_writes(&io),
        [
            (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0003),
            (REGS + PHB_DMA_READ_WRITE_SYNC, 1 << 63)
        ]
    );
    io.clear_log();
    // Misaligned, top-nibble or overflowing ranges write nothing.
    assert_eq!(
        phb.kill_pages(3, PageSize::Size64K, 0x1000, 1),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.kill_pages(3, PageSize::Size4K, 1 << 60, 1),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.kill_pages(3, PageSize::Size1G, 0, u64::MAX),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(phb.kill_pe(256), Err(Phb4Error::PeRange));
    assert!(io.writes().is_empty());
}

#[test]
fn kill_waits_for_busy_slot_then_times_out() {
    let io = RecordingIo::new();
    io.preset(REGS + PHB_PHB4_EEH_CAP, 256 << 52);
    // No model: the sync never completes.
    let phb = Phb4::init(&io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap);
    assert_eq!(
        phb.as_ref().unwrap_err(),
        &Phb4Error::Kill(KillError::Timeout {
            reg: PHB_DMA_READ_WRITE_SYNC
        })
    );
    let io = model(256);
    let mut p = up(&io);
    p.set_poll_limit(3);
    io.preset(REGS + PHB_TCE_KILL, PHB_TCE_KILL_PE); // a kill still queued
    assert_eq!(p.kill_all(), Err(KillError::Timeout { reg: PHB_TCE_KILL }));
    assert_eq!(io.log().iter().filter(|a| a.op == Op::Read).count(), 3);
    assert!(io.writes().is_empty());
    io.preset(REGS + PHB_TCE_KILL, u64::MAX);
    assert_eq!(p.kill_all(), Err(KillError::Fenced));
}

#[test]
fn invalidate_trait_drives_tce_kill() {
    let io = model(256);
    let phb = up(&io);
    phb.invalidate_pe(2).unwrap();
    phb.invalidate_range(
        2,
        IovaRange {
            start: 0x2000,
            size: 0x3000,
            page_shift: 12,
        },
    )
    .unwrap();
    phb.invalidate_all().unwrap();
    phb.sync().unwrap();
    let kills: Vec<u64> = io
        .writes()
        .into_iter()
        .filter(|w| w.0 == REGS + PHB_TCE_KILL)
        .map(|w| w.1)
        .collect();
    assert_eq!(
        kills,
        [0x4000_0000_0000_0002, 0x4000_0000_0000_0002, 1 << 63]
    );
    let bad = IovaRange {
        start: 0,
        size: 0x1000,
        page_shift: 13,
    };
    assert_eq!(phb.invalidate_range(2, bad), Err(Phb4Error::Parameter));
}

#[test]
fn config_space_widths() {
    let io = model(256);
    let phb = up(&io);
    let dev = Bdf::new(1, 0, 0);
    assert_eq!(phb.config_read16(dev, 0).unwrap(), 0x1234);
    assert_eq!(phb.config_read16(dev, 2).unwrap(), 0x11e8);
    assert_eq!(phb.config_read(dev, 3, Width::W8).unwrap(), 0x11);
    phb.config_write32(dev, 0x10, 0xffff_ffff).unwrap();
    assert_eq!(phb.config_read32(dev, 0x10).unwrap(), 0xfff0_0000);
    assert_eq!(
        phb.config_read(dev, 0x10, Width::W64),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.config_read(dev, 0x11, Width::W16),
        Err(Phb4Error::Parameter)
    );
    let log = io.log();
    let data: Vec<_> = log
        .iter()
        .filter(|a| (0x130..0x134).contains(&(a.addr - REGS)))
        .collect();
    assert!(!data.is_empty());
    assert!(
        data.iter()
            .all(|a| a.width != Width::W64 && a.endian == pnv_iommu::mmio::Endian::Little)
    );
    assert_eq!(data[1].addr, REGS + 0x132);
    assert_eq!(data[1].width, Width::W16);
    assert_eq!(data[2].width, Width::W8);
    let addrs: Vec<_> = log
        .iter()
        .filter(|a| a.addr == REGS + PHB_CONFIG_ADDRESS)
        .map(|a| a.value)
        .collect();
    assert_eq!(addrs[0], (1 << 63) | (1 << 52));
    // Root port: 4-byte LE accesses at regs + 0x1000, narrow writes as RMW.
    io.clear_log();
    phb.config_write16(Bdf::ROOT_PORT, 0x06, 0xabcd).unwrap();
    let log = io.log();
    assert!(
        log.iter()
            .all(|a| a.addr == REGS + 0x1004 && a.width == Width::W32)
    );
    assert_eq!(io.read_le32(REGS + 0x1004), 0xabcd_0000);
    assert_eq!(phb.config_read16(Bdf::ROOT_PORT, 0x06).unwrap(), 0xabcd);
    assert_eq!(
        phb.config_read32(Bdf::ROOT_PORT, 0x800),
        Err(Phb4Error::Parameter)
    );
    assert_eq!(
        phb.config_read32(Bdf::new(0, 1, 0), 0),
        Err(Phb4Error::NoDevice)
    );
}

#[test]
fn enumerate_assigns_bars_in_m32_and_enables_device() {
    let cfg = Phb4Config::p9_chip0(0).unwrap();
    let mut edu = FakeFunction::edu();
    edu.bars[2] = FakeBar {
        size: 0x4000,
        is64: true,
    };
    let io = phb4_model(&cfg, 256, vec![edu]);
    let mut phb = up(&io);
    let found = phb.enumerate().unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(
        (f.bdf, f.vendor, f.device),
        (Bdf::new(1, 0, 0), 0x1234, 0x11e8)
    );
    assert_eq!(f.bars.len(), 2);
    assert_eq!(
        (f.bars[0].index, f.bars[0].pci_addr, f.bars[0].size),
        (0, 0x8000_0000, 1 << 20)
    );
    assert_eq!(f.bars[0].cpu_addr, 0x0006_00C0_0000_0000);
    assert_eq!(
        (f.bars[1].index, f.bars[1].pci_addr, f.bars[1].is64),
        (2, 0x8010_0000, true)
    );
    let dev = Bdf::new(1, 0, 0);
    assert_eq!(phb.config_read32(dev, 0x10).unwrap(), 0x8000_0000);
    assert_eq!(phb.config_read32(dev, 0x18).unwrap(), 0x8010_0004);
    assert_eq!(phb.config_read16(dev, 4).unwrap() & 6, 6);
    assert_eq!(
        phb.config_read32(Bdf::ROOT_PORT, 0x18).unwrap(),
        0x0001_0100
    );
    assert_eq!(
        phb.config_read32(Bdf::ROOT_PORT, 0x20).unwrap(),
        0xfff0_8000
    );
    assert_eq!(phb.config_read16(Bdf::ROOT_PORT, 4).unwrap() & 6, 6);
    assert!(
        io.log()
            .iter()
            .all(|a| !(0x130..0x134).contains(&a.addr.wrapping_sub(REGS)) || a.width != Width::W64)
    );
}

#[test]
fn set_pe_fills_rtt_by_compare_rule() {
    let io = model(256);
    let mut phb = up(&io);
    // Exact RID.
    assert_eq!(phb.set_pe(5, 0x0108, RidMatch::EXACT, true).unwrap(), 1);
    assert_eq!(phb.rtt_entry(0x0108), Some(5));
    assert_eq!(phb.rtt_entry(0x0109), Some(255));
    assert_eq!(io.writes(), [(REGS + PHB_RTC_INVALIDATE, 1 << 63)]);
    // Bus and device, any function: 01:02.0-7.
    let bus_dev = RidMatch {
        bus: BusCompare::All,
        device: true,
        function: false,
    };
    assert_eq!(phb.set_pe(6, 0x0110, bus_dev, true).unwrap(), 8);
    assert!((0x110..0x118).all(|r| phb.rtt_entry(r) == Some(6)));
    assert_eq!(phb.rtt_entry(0x118), Some(255));
    // Whole bus 2.
    let bus = RidMatch {
        bus: BusCompare::All,
        device: false,
        function: false,
    };
    assert_eq!(phb.set_pe(7, 0x0200, bus, true).unwrap(), 256);
    assert!((0x200..0x300).all(|r| phb.rtt_entry(r) == Some(7)));
    // Top 3 bits of the bus: buses 0x20..0x3f.
    let bus3 = RidMatch {
        bus: BusCompare::Bits3,
        device: false,
        function: false,
    };
    assert_eq!(phb.set_pe(8, 0x2000, bus3, true).unwrap(), 0x2000);
    assert_eq!(phb.rtt_entry(0x1fff), Some(255));
    assert_eq!(phb.rtt_entry(0x2000), Some(8));
    assert_eq!(phb.rtt_entry(0x3fff), Some(8));
    // Unmap returns RIDs to the reserved PE.
    phb.set_pe(6, 0x0110, bus_dev, false).unwrap();
    assert!((0x110..0x118).all(|r| phb.rtt_entry(r) == Some(255)));
    // The RTT is big-endian in memory.
    // SAFETY: the RTT is a live 128 KiB heap block owned by `phb`, which
    // outlives this read; entry 0x108 lies inside it.
    let raw = unsafe { *((phb.rtt_addr().unwrap() + 2 * 0x108) as usize as *const [u8; 2]) };
    assert_eq!(raw, [0, 5]);
    io.clear_log();
    assert_eq!(
        phb.set_pe(256, 0, RidMatch::EXACT, true),
        Err(Phb4Error::PeRange)
    );
    assert!(io.writes().is_empty());
}

fn tvt_writes(io: &RecordingIo) -> Vec<(u64, u64)> {
    io.writes()
        .into_iter()
        .filter(|w| w.0 == REGS + PHB_IODA_ADDR || w.0 == REGS + PHB_IODA_DATA0)
        .collect()
}

#[test]
fn windows_program_tves() {
    let io = model(256);
    let mut phb = up(&io);
    let t = TranslatedTve::new(0x1000_0000, 1, 0x1000, 0x1000).unwrap();
    phb.map_translated(3, 0, &t).unwrap();
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0006),
            (REGS + PHB_IODA_DATA0, 0x0000_0001_0000_0101)
        ]
    );
    let b = BypassTve::new(1, 1 << 59, 1 << 30).unwrap();
    io.clear_log();
    phb.map_bypass(3, 1, &b).unwrap();
    assert_eq!(
        tvt_writes(&io),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0007),
            (REGS + PHB_IODA_DATA0, 0x401080)
        ]
    );
    assert_eq!(
        phb.window(3, 1).unwrap(),
        DecodedTve::Bypass {
            start: 0,
            end: 1 << 30
        }
    );
    // Disabling a valid window kills the PE's cache.
    io.clear_log();
    phb.unmap_window(3, 0).unwrap();
    assert_eq!(
        io.writes()[..3],
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0006),
            (REGS + PHB_IODA_DATA0, 0),
            (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0003),
        ]
    );
    let caps = phb.capabilities();
    assert_eq!(
        (caps.window32_start, caps.window32_size, caps.window64_start),
        (0, 0x8000_0000, 1 << 59)
    );
    assert_eq!((caps.max_windows, caps.max_levels), (2, 5));
    assert_eq!(caps.page_sizes, PageSize::ALL);
    io.clear_log();
    assert_eq!(phb.map_translated(3, 2, &t), Err(Phb4Error::WindowId));
    assert_eq!(phb.map_translated(256, 0, &t), Err(Phb4Error::PeRange));
    assert!(io.writes().is_empty());
}

#[test]
fn matches_tce_engine_tve_encoder() {
    let t = TranslatedTve::new(0x2345_0000, 3, 0x1_0000, 0x1_0000).unwrap();
    assert_eq!(
        t.encode(),
        pnv_iommu::tce::tve::encode(0x2345_0000, 3, t.tts(), 16)
    );
}

#[test]
fn dma_freeze_invalidates_tves_until_cleared() {
    let io = model(256);
    let mut phb = up(&io);
    let t = TranslatedTve::new(0x1000_0000, 1, 0x1000, 0x1000).unwrap();
    phb.map_translated(4, 0, &t).unwrap();
    io.clear_log();
    phb.freeze_set(4, false, true).unwrap();
    assert_eq!(
        io.writes()[..4],
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0008),
            (REGS + PHB_IODA_DATA0, 0),
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0009),
            (REGS + PHB_IODA_DATA0, 0),
        ]
    );
    assert!(phb.freeze_state(4).unwrap().dma);
    io.clear_log();
    phb.freeze_clear(4, true, true).unwrap();
    assert_eq!(io.writes()[1], (REGS + PHB_IODA_DATA0, t.encode()));
    assert_eq!(phb.freeze_state(4).unwrap(), Default::default());
}

#[test]
fn shared_table_lifetime() {
    let io = model(256);
    let mut phb = up(&io);
    let mut reg = TableRegistry::new();
    let t = TranslatedTve::new(0x4000_0000, 2, 0x1_0000, 0x1_0000).unwrap();
    let id = reg.create(t).unwrap();
    assert_eq!(reg.create(t), Err(SharedTableError::Exists));
    reg.set(id, 0, &mut phb, 1, 1).unwrap();
    reg.set(id, 0, &mut phb, 2, 1).unwrap();
    assert_eq!(phb.tve(1, 1).unwrap(), t.encode());
    assert_eq!(phb.tve(2, 1).unwrap(), t.encode());
    assert_eq!(
        reg.set(id, 0, &mut phb, 2, 1),
        Err(SharedTableError::WindowBusy)
    );
    // The PHB refuses to overwrite a shared window behind the registry's back.
    assert_eq!(phb.unmap_window(1, 1), Err(Phb4Error::WindowShared));
    assert_eq!(reg.free(id), Err(SharedTableError::InUse(2)));
    reg.unset(id, 0, &mut phb, 1, 1).unwrap();
    assert_eq!(reg.free(id), Err(SharedTableError::InUse(1)));
    assert_eq!(
        reg.unset(id, 0, &mut phb, 1, 1),
        Err(SharedTableError::NotSet)
    );
    reg.unset(id, 0, &mut phb, 2, 1).unwrap();
    assert_eq!(phb.tve(2, 1).unwrap(), 0);
    assert_eq!(reg.free(id), Ok(t));
    assert_eq!(reg.free(id), Err(SharedTableError::Unknown));
}

/// A driver that is dropped (here: its registration refused because the id
/// is taken) disables the table BARs before the tables' memory is released.
#[test]
fn dropped_driver_disables_its_table_bars() {
    let io0 = model(256);
    let io1 = model(256);
    let mut s = pnv_iommu::opal::OpalPhbs::new();
    let cfg = Phb4Config::p9_chip0(0).unwrap();
    s.add(1, Phb4::init(&io0, cfg, &mut GlobalHeap).unwrap())
        .unwrap();
    let p = Phb4::init(&io1, cfg, &mut GlobalHeap).unwrap();
    assert_ne!(io1.peek(REGS + PHB_RTT_BAR), 0);
    assert!(s.add(1, p).is_err());
    for bar in [PHB_RTT_BAR, PHB_PELTV_BAR, PHB_PEST_BAR] {
        assert_eq!(io1.peek(REGS + bar), 0, "BAR {bar:#x} still enabled");
    }
    // The registered PHB keeps its tables.
    assert_ne!(io0.peek(REGS + PHB_RTT_BAR), 0);
}

/// A bring-up that fails after the table BARs were set (the final TCE kill
/// times out) leaves them disabled.
#[test]
fn failed_bring_up_leaves_no_table_bar_enabled() {
    let io = RecordingIo::new();
    io.preset(REGS + PHB_PHB4_EEH_CAP, 256 << 52);
    io.preset(REGS + PHB_Q_DMA_R, PHB_Q_DMA_R_TCE_KILL_STATUS);
    let r = Phb4::init(&io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap);
    assert!(matches!(r, Err(Phb4Error::Kill(_))), "{r:?}");
    for bar in [PHB_RTT_BAR, PHB_PELTV_BAR, PHB_PEST_BAR] {
        assert_eq!(io.peek(REGS + bar), 0, "BAR {bar:#x} still enabled");
    }
}

/// Setting a shared table over a valid TVE whose TCE-cache kill fails:
/// the TVE points at the table, so the table stays registered, cannot be
/// freed, and can be unset.
#[test]
fn shared_set_with_failed_kill_keeps_the_table_registered() {
    let io = model(256);
    let mut s = pnv_iommu::opal::OpalPhbs::new();
    let mut phb = Phb4::init(&io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap).unwrap();
    phb.set_poll_limit(3);
    s.add(0x10, phb).unwrap();
    assert_eq!(
        s.map_pe_dma_window(0x10, 2, 4, 1, 0x2000_0000, 0x1000, 0x1000),
        pnv_iommu::opal::OpalCode::Success
    );
    let t = TranslatedTve::new(0x4000_0000, 1, 0x1000, 0x1000).unwrap();
    let id = s.shared_table_create(t).unwrap();
    io.preset(REGS + PHB_Q_DMA_R, PHB_Q_DMA_R_TCE_KILL_STATUS);
    assert!(s.shared_table_set(id, 0x10, 2, 0).is_err());
    io.preset(REGS + PHB_Q_DMA_R, 0);
    assert_eq!(s.phb(0x10).unwrap().tve(2, 0).unwrap(), t.encode());
    assert_eq!(s.shared_table_users(id).map(|u| u.len()), Some(1));
    assert!(matches!(
        s.shared_table_free(id),
        Err(pnv_iommu::phb4::shared::SharedTableError::InUse(1))
    ));
    s.shared_table_unset(id, 0x10, 2, 0).unwrap();
    assert_eq!(s.phb(0x10).unwrap().tve(2, 0).unwrap(), 0);
    s.shared_table_free(id).unwrap();
}
