//! Attaching to a PHB another firmware brought up: no register is written
//! on attach or drop, and the OPAL window and kill calls write exactly the
//! register sequences they write on a PHB this library brought up.

use pnv_iommu::mmio::fake::{Access, Op, RecordingIo};
use pnv_iommu::opal::{OpalCode, OpalPhbs, kill_type};
use pnv_iommu::phb4::dmamem::GlobalHeap;
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::regs::*;
use pnv_iommu::phb4::{AttachedPhb4, Phb4, Phb4Config, Phb4Error};

const PHB: u64 = 0x20;
/// PHB 3 of chip 1 (DESIGN §12): chip 0's register base plus `1 << 42`.
const REGS: u64 = 0x0006_00C3_C000_0000 + (1 << 42) + 3 * 0x10_0000;

fn model(num_pes: u32) -> RecordingIo {
    let cfg = Phb4Config {
        regs_base: REGS,
        ..Phb4Config::p9_chip0(3).unwrap()
    };
    phb4_model(&cfg, num_pes, vec![FakeFunction::edu()])
}

fn attached(io: &RecordingIo, num_pes: u32) -> Phb4<&RecordingIo> {
    Phb4::attach(
        io,
        AttachedPhb4 {
            chip_id: 1,
            index: 3,
            regs_base: REGS,
            num_pes,
        },
    )
    .unwrap()
}

fn brought_up(io: &RecordingIo) -> Phb4<&RecordingIo> {
    let cfg = Phb4Config {
        regs_base: REGS,
        ..Phb4Config::p9_chip0(3).unwrap()
    };
    let phb = Phb4::init(io, cfg, &mut GlobalHeap).unwrap();
    io.clear_log();
    phb
}

/// Register accesses (reads, writes, barriers) relative to the PHB's base.
fn accesses(io: &RecordingIo) -> Vec<(Op, u64, u64)> {
    io.log()
        .iter()
        .map(|a: &Access| (a.op, a.addr.wrapping_sub(REGS), a.value))
        .collect()
}

#[test]
fn attach_touches_no_register() {
    let io = model(512);
    let phb = attached(&io, 512);
    assert!(io.log().is_empty(), "attach accessed {:?}", io.log());
    assert!(phb.is_attached());
    assert_eq!(phb.num_pes(), 512);
    assert_eq!((phb.chip_id(), phb.index(), phb.regs_base()), (1, 3, REGS));
    assert_eq!(phb.rtt_addr(), None);
    assert_eq!(phb.config(), None);
}

#[test]
fn drop_after_attach_writes_nothing() {
    let io = model(256);
    {
        let mut s = OpalPhbs::new();
        s.add(PHB, attached(&io, 256)).unwrap();
        assert_eq!(
            s.map_pe_dma_window(PHB, 1, 3, 1, 0x2000_0000, 0x1000, 0x1000),
            OpalCode::Success
        );
        io.clear_log();
    }
    assert!(io.log().is_empty(), "drop accessed {:?}", io.log());
    // Negative control: a brought-up driver does disable its table BARs.
    let up = model(256);
    drop(brought_up(&up));
    let w = up.writes();
    assert_eq!(
        w,
        [
            (REGS + PHB_RTT_BAR, 0),
            (REGS + PHB_PELTV_BAR, 0),
            (REGS + PHB_PEST_BAR, 0)
        ]
    );
}

#[test]
fn bad_attach_is_refused() {
    let io = RecordingIo::new();
    let ok = AttachedPhb4 {
        chip_id: 0,
        index: 0,
        regs_base: REGS,
        num_pes: 256,
    };
    for bad in [
        AttachedPhb4 { num_pes: 0, ..ok },
        AttachedPhb4 { num_pes: 513, ..ok },
        AttachedPhb4 { regs_base: 0, ..ok },
        AttachedPhb4 {
            regs_base: REGS + 0x8000,
            ..ok
        },
    ] {
        assert_eq!(Phb4::attach(&io, bad).unwrap_err(), Phb4Error::BadConfig);
    }
    assert!(io.log().is_empty());
}

/// The calls a firmware routes to an attached PHB, run on one PHB.
fn window_and_kill_calls(s: &mut OpalPhbs<&RecordingIo>) -> Vec<OpalCode> {
    vec![
        // PE 3, window 1: 3 levels of 64K, 64K pages, then a kill of the PE.
        s.map_pe_dma_window(PHB, 3, 7, 3, 0x2345_0000, 0x1_0000, 0x1_0000),
        s.tce_kill(PHB, kill_type::PE, 3, 0, 0, 0),
        // Replacing a valid TVE kills the PE itself.
        s.map_pe_dma_window(PHB, 3, 7, 1, 0x4000_0000, 0x1000, 0x1000),
        // Bypass window 0 of PE 5, then window 1.
        s.map_pe_dma_window_real(PHB, 5, 10, 0, 1 << 30),
        s.map_pe_dma_window_real(PHB, 5, 11, (1 << 59) | (1 << 24), 1 << 30),
        s.tce_kill(PHB, kill_type::PAGES, 3, 0x1000, (1 << 59) | 0x5000, 4),
        s.tce_kill(PHB, kill_type::ALL, 0, 0, 0, 0),
        // Off again.
        s.map_pe_dma_window(PHB, 3, 7, 0, 0, 0, 0),
        s.map_pe_dma_window_real(PHB, 5, 10, 0, 0),
        // Bad input: its code, nothing written.
        s.map_pe_dma_window(PHB, 3, 6, 6, 0x2000_0000, 0x1000, 0x1000),
        s.map_pe_dma_window_real(PHB, 5, 10, 1 << 59, 1 << 24),
        s.tce_kill(PHB, kill_type::PAGES, 3, 0x3000, 0, 1),
        s.tce_kill(PHB, kill_type::PE, 256, 0, 0, 0),
    ]
}

#[test]
fn window_and_kill_calls_write_the_same_registers_attached_or_brought_up() {
    let up_io = model(256);
    let mut up = OpalPhbs::new();
    up.add(PHB, brought_up(&up_io)).unwrap();
    let up_codes = window_and_kill_calls(&mut up);

    let at_io = model(256);
    let mut at = OpalPhbs::new();
    at.add(PHB, attached(&at_io, 256)).unwrap();
    let at_codes = window_and_kill_calls(&mut at);

    use OpalCode::*;
    let want = [
        Success, Success, Success, Success, Success, Success, Success, Success, Success, Parameter,
        Parameter, Parameter, Parameter,
    ];
    assert_eq!(up_codes, want);
    assert_eq!(at_codes, want);
    let seq = accesses(&at_io);
    assert_eq!(seq, accesses(&up_io));
    for pe in [3, 5] {
        for n in 0..2 {
            assert_eq!(
                at.phb(PHB).unwrap().tve(pe, n),
                up.phb(PHB).unwrap().tve(pe, n)
            );
        }
    }

    // The first call, exactly: select TVT entry 7, write the TVE; no kill
    // (the entry was invalid). Then the PE kill: sync, wait for a free kill
    // slot, kill word, DMA read sync and its two waits.
    let kill = |word: u64| {
        [
            (Op::Barrier, 0u64.wrapping_sub(REGS), 0),
            (Op::Read, PHB_TCE_KILL, 0),
            (Op::Write, PHB_TCE_KILL, word),
            (Op::Write, PHB_DMA_READ_WRITE_SYNC, PHB_DMA_READ_SYNC_START),
            (Op::Read, PHB_Q_DMA_R, 0),
            (
                Op::Read,
                PHB_DMA_READ_WRITE_SYNC,
                PHB_DMA_READ_SYNC_COMPLETE,
            ),
        ]
    };
    let mut want = vec![
        (
            Op::Write,
            PHB_IODA_ADDR,
            ioda_addr(IodaTable::Tvt, 7, false),
        ),
        (Op::Write, PHB_IODA_DATA0, 0x0000_0002_3450_4505),
    ];
    want.extend(kill(0x4000_0000_0000_0003));
    assert_eq!(seq[..want.len()], want[..]);
    // Only the PHB's own registers were touched: no XSCOM, no table BAR.
    assert!(seq.iter().all(|&(op, off, _)| {
        op == Op::Barrier
            || [
                PHB_IODA_ADDR,
                PHB_IODA_DATA0,
                PHB_TCE_KILL,
                PHB_DMA_READ_WRITE_SYNC,
                PHB_Q_DMA_R,
            ]
            .contains(&off)
    }));
}

#[test]
fn calls_needing_the_owners_tables_are_unsupported_and_write_nothing() {
    let io = model(256);
    let mut s = OpalPhbs::new();
    s.add(PHB, attached(&io, 256)).unwrap();
    assert_eq!(s.set_pe(PHB, 1, 0x100, 7, 1, 1, 1), OpalCode::Unsupported);
    assert_eq!(s.eeh_freeze_set(PHB, 1, 2), OpalCode::Unsupported);
    assert_eq!(s.eeh_freeze_clear(PHB, 1, 3), OpalCode::Unsupported);
    assert_eq!(s.eeh_freeze_status(PHB, 1), Err(OpalCode::Unsupported));
    assert_eq!(s.pci_reset(PHB, 6, 1), OpalCode::Unsupported);
    // Argument errors still come first.
    assert_eq!(s.set_pe(PHB, 256, 0x100, 7, 1, 1, 1), OpalCode::Parameter);
    assert_eq!(
        s.phb_mut(PHB).unwrap().enumerate().unwrap_err(),
        Phb4Error::Unsupported
    );
    assert!(io.log().is_empty(), "{:?}", io.log());
}

#[test]
fn a_phb_registered_twice_is_refused() {
    let io = model(256);
    let mut s = OpalPhbs::new();
    s.add(PHB, attached(&io, 256)).unwrap();
    assert_eq!(s.add(PHB + 1, attached(&io, 256)), Err(OpalCode::Parameter));
    assert!(io.log().is_empty());
}
