//! PHB5 (the PHB4 driver with POWER10's map) against the recording fake:
//! bring-up on POWER10's PEC/stack layout, the PE counts per PHB, windows,
//! bypass, and the POWER10 kill sync step (DESIGN §12).

use pnv_iommu::mmio::fake::{Op, RecordingIo};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::regs::*;
use pnv_iommu::phb4::tve::{BypassTve, TranslatedTve};
use pnv_iommu::phb4::{Phb4, Phb4Config, Phb4Family};
use pnv_iommu::phb5;

mod phb_common;

fn model(index: u32) -> RecordingIo {
    let cfg = phb5::p10(0, index).unwrap();
    phb4_model(&cfg, phb5::p10_num_pes(index), vec![FakeFunction::edu()])
}

#[test]
fn bring_up_uses_pec1_stack1_for_phb4() {
    let io = model(4);
    let phb = Phb4::init(&io, phb5::p10(0, 4).unwrap(), &GlobalPages).unwrap();
    assert_eq!(phb.family(), Phb4Family::Phb5);
    assert_eq!((phb.num_pes(), phb.tvt_size()), (256, 512));
    // PEC1's nest block is 0x2011800; stack 1's registers at +0x80.
    let x = |r: u64| 0x0006_03fc_0000_0000 + ((0x0201_1880 + r) << 3);
    assert_eq!(
        io.writes()[..4],
        [
            (x(0x10), 0x0600_c200_0000_0000),
            (x(0x11), 0xffff_ff80_0000_0000),
            (x(0x12), 0x0600_c3c0_4000_0000),
            (x(0x14), 0x6000_0000_0000_0000),
        ]
    );
    assert!(phb_common::all_accesses_8_bytes(&io));
}

#[test]
fn phb0_and_phb3_have_512_pes() {
    for index in 0..6 {
        let io = model(index);
        let phb = Phb4::init(&io, phb5::p10(0, index).unwrap(), &GlobalPages).unwrap();
        let want = if index % 3 == 0 { 512 } else { 256 };
        assert_eq!(
            (phb.num_pes(), phb.tvt_size()),
            (want, 2 * want),
            "PHB{index}"
        );
    }
}

#[test]
fn kill_sync_keeps_completion_bits() {
    let io = model(0);
    let regs = phb5::p10(0, 0).unwrap().regs_base;
    let phb = Phb4::init(&io, phb5::p10(0, 0).unwrap(), &GlobalPages).unwrap();
    // A write sync completed earlier (bit 3) and a stray bit 5: the sync
    // start keeps bits 1 and 3 only.
    io.preset(
        regs + PHB_DMA_READ_WRITE_SYNC,
        PHB_DMA_READ_SYNC_COMPLETE | PHB_DMA_WRITE_SYNC_COMPLETE | ppc_bit(5),
    );
    io.clear_log();
    phb.kill_pe(7).unwrap();
    let log = phb_common::accesses_from(&io, regs);
    assert_eq!(
        log,
        [
            (Op::Barrier, 0u64.wrapping_sub(regs), 0),
            (Op::Read, PHB_TCE_KILL, 0),
            (Op::Write, PHB_TCE_KILL, 0x4000_0000_0000_0007),
            (Op::Read, PHB_DMA_READ_WRITE_SYNC, 0x5400_0000_0000_0000),
            (Op::Write, PHB_DMA_READ_WRITE_SYNC, 0xd000_0000_0000_0000),
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
fn phb4_kill_sync_is_a_plain_start() {
    // Negative control for the PHB5 step: the same kill on a PHB4 writes
    // the start bit alone and reads nothing first.
    let cfg = Phb4Config::p9(0, 0).unwrap();
    let io = phb4_model(&cfg, 512, vec![]);
    let phb = Phb4::init(&io, cfg, &GlobalPages).unwrap();
    io.clear_log();
    phb.kill_pe(7).unwrap();
    let sync: Vec<_> = io
        .log()
        .iter()
        .filter(|a| a.addr == cfg.regs_base + PHB_DMA_READ_WRITE_SYNC)
        .map(|a| (a.op, a.value))
        .collect();
    assert_eq!(
        sync,
        [
            (Op::Write, PHB_DMA_READ_SYNC_START),
            (Op::Read, PHB_DMA_READ_SYNC_COMPLETE)
        ]
    );
}

#[test]
fn windows_and_bypass_are_phb4_encodings() {
    let io = model(3);
    let regs = phb5::p10(0, 3).unwrap().regs_base;
    let mut phb = Phb4::init(&io, phb5::p10(0, 3).unwrap(), &GlobalPages).unwrap();
    io.clear_log();
    // PE 300 exists on a 512-PE PHB5.
    let t = TranslatedTve::new(0x20_0000, 2, 0x20_0000, 0x20_0000).unwrap();
    phb.map_translated(300, 0, &t).unwrap();
    assert_eq!(
        io.writes(),
        [
            (regs + PHB_IODA_ADDR, 0x0009_0000_0000_0258),
            (regs + PHB_IODA_DATA0, 0x0000_0000_0200_2a0a),
        ]
    );
    io.clear_log();
    let b = BypassTve::new(1, 1 << 59, 1 << 30).unwrap();
    phb.map_bypass(300, 1, &b).unwrap();
    assert_eq!(
        io.writes(),
        [
            (regs + PHB_IODA_ADDR, 0x0009_0000_0000_0259),
            (regs + PHB_IODA_DATA0, 0x0000_0000_0040_1080),
        ]
    );
    io.clear_log();
    phb.unmap_window(300, 0).unwrap();
    let w = io.writes();
    assert_eq!(w[1], (regs + PHB_IODA_DATA0, 0));
    assert_eq!(w[2], (regs + PHB_TCE_KILL, 0x4000_0000_0000_012c));
}

/// A PHB5 another firmware brought up: attaching writes nothing, and its
/// kills still take POWER10's sync step.
#[test]
fn attached_phb5_kills_with_the_power10_sync() {
    use pnv_iommu::phb4::AttachedPhb4;
    let cfg = phb5::p10(0, 0).unwrap();
    let io = phb4_model(&cfg, 512, vec![]);
    let desc = AttachedPhb4 {
        chip_id: 0,
        index: 0,
        regs_base: cfg.regs_base,
        num_pes: 512,
    };
    let phb = Phb4::attach_family(&io, desc, Phb4Family::Phb5).unwrap();
    assert!(io.log().is_empty(), "attach touches no register");
    assert_eq!(phb.family(), Phb4Family::Phb5);
    phb.kill_pe(3).unwrap();
    let sync: Vec<_> = io
        .log()
        .iter()
        .filter(|a| a.addr == cfg.regs_base + PHB_DMA_READ_WRITE_SYNC)
        .map(|a| a.op)
        .collect();
    assert_eq!(sync, [Op::Read, Op::Write, Op::Read]);
    drop(phb);
    assert!(
        io.log()
            .iter()
            .all(|a| a.addr != cfg.regs_base + PHB_RTT_BAR)
    );
}
