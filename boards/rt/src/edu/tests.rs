//! The edu driver against the recording register fake, with the device's
//! side effects modelled by a write hook.

use super::*;
use pnv_iommu::mmio::fake::{Op, RecordingIo};

const BASE: u64 = 0x6000_0000_0000;

/// A fake edu: identification preset, liveness inverting, and (when
/// `completes`) transfers that finish as soon as they are started.
fn fake_edu(completes: bool) -> RecordingIo {
    let io = RecordingIo::new();
    io.preset(BASE + REG_IDENT, IDENT_VALUE as u64);
    io.on_write(Box::new(move |regs, a| {
        if a.addr == BASE + REG_LIVENESS {
            regs.insert(a.addr, !a.value & 0xffff_ffff);
        }
        if completes && a.addr == BASE + REG_DMA_CMD {
            regs.insert(a.addr, a.value & !DMA_CMD_START);
        }
    }));
    io
}

#[test]
fn probe_checks_identification_then_liveness() {
    let io = fake_edu(true);
    let edu = Edu::probe(&io, BASE, 512_000_000).unwrap();
    assert_eq!(edu.timeout_ticks, 1_024_000_000);
    let log = io.log();
    let ops: Vec<_> = log.iter().map(|a| (a.op, a.addr - BASE, a.width)).collect();
    assert_eq!(
        ops,
        [
            (Op::Read, REG_IDENT, Width::W32),
            (Op::Write, REG_LIVENESS, Width::W32),
            (Op::Read, REG_LIVENESS, Width::W32),
        ]
    );
    assert!(log.iter().all(|a| a.endian == Endian::Big));
    assert_eq!(log[1].value, 0x1234_5678);
}

#[test]
fn probe_refuses_another_device_and_a_dead_one() {
    let io = RecordingIo::new();
    io.preset(BASE, 0x0200_00ed);
    assert_eq!(
        Edu::probe(&io, BASE, 1).err(),
        Some(EduError::NotEdu(0x0200_00ed))
    );
    // Identification right, but liveness reads back what was written.
    io.preset(BASE, IDENT_VALUE as u64);
    assert_eq!(Edu::probe(&io, BASE, 1).err(), Some(EduError::Dead));
}

#[test]
fn dma_writes_source_destination_count_then_command() {
    let io = fake_edu(true);
    let edu = Edu::probe(&io, BASE, 512_000_000).unwrap();
    io.clear_log();
    edu.dma_to_ram(0x10, 0x8000_0000, 0x100).unwrap();
    assert_eq!(
        io.writes(),
        [
            (BASE + REG_DMA_SRC, EDU_BUFFER + 0x10),
            (BASE + REG_DMA_DST, 0x8000_0000),
            (BASE + REG_DMA_COUNT, 0x100),
            (BASE + REG_DMA_CMD, DMA_CMD_START | DMA_CMD_TO_RAM),
        ]
    );
    io.clear_log();
    edu.dma_from_ram(0x9000_0000, 0, 8).unwrap();
    assert_eq!(
        io.writes(),
        [
            (BASE + REG_DMA_SRC, 0x9000_0000),
            (BASE + REG_DMA_DST, EDU_BUFFER),
            (BASE + REG_DMA_COUNT, 8),
            (BASE + REG_DMA_CMD, DMA_CMD_START),
        ]
    );
    assert!(io.log().iter().all(|a| a.width == Width::W64));
}

#[test]
fn a_transfer_that_never_completes_times_out() {
    let io = fake_edu(false);
    // The host timebase advances one tick per read: 2 s at 5 Hz is 10 ticks.
    let edu = Edu::probe(&io, BASE, 5).unwrap();
    assert_eq!(edu.dma_from_ram(0, 0, 8), Err(EduError::Timeout));
}

#[test]
fn a_transfer_must_not_reach_the_end_of_the_buffer() {
    // QEMU 7.2 aborts on a transfer ending exactly at the buffer's end.
    assert_eq!(buffer_addr(0, EDU_BUFFER_SIZE - 1), Ok(EDU_BUFFER));
    assert_eq!(
        buffer_addr(0xff0, 0xf),
        Ok(EDU_BUFFER + 0xff0),
        "ends one byte short of the end"
    );
    assert_eq!(buffer_addr(0, EDU_BUFFER_SIZE), Err(EduError::OutOfBuffer));
    assert_eq!(buffer_addr(0xff0, 0x10), Err(EduError::OutOfBuffer));
    assert_eq!(buffer_addr(0x10, 0), Err(EduError::OutOfBuffer));
    assert_eq!(buffer_addr(u64::MAX, 1), Err(EduError::OutOfBuffer));
}

#[test]
fn out_of_buffer_transfers_touch_no_register() {
    let io = fake_edu(true);
    let edu = Edu::probe(&io, BASE, 1).unwrap();
    io.clear_log();
    assert_eq!(
        edu.dma_to_ram(0, 0, EDU_BUFFER_SIZE),
        Err(EduError::OutOfBuffer)
    );
    assert!(io.log().is_empty());
}
