//! OPAL calls: every invalid argument returns its OPAL code and writes no
//! register; valid calls program what they say.

use pnv_iommu::mmio::fake::RecordingIo;
use pnv_iommu::opal::{OpalCode, OpalPhbs, freeze_state, kill_type, token};
use pnv_iommu::phb4::dmamem::GlobalHeap;
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::regs::*;
use pnv_iommu::phb4::tve::TranslatedTve;
use pnv_iommu::phb4::{Phb4, Phb4Config};

const REGS: u64 = 0x0006_00C3_C000_0000;
const PHB: u64 = 0x10;
const K4: u64 = 0x1000;
use OpalCode::*;

fn model() -> RecordingIo {
    phb4_model(
        &Phb4Config::p9_chip0(0).unwrap(),
        256,
        vec![FakeFunction::edu()],
    )
}

fn set(io: &RecordingIo) -> OpalPhbs<&RecordingIo> {
    let mut s = OpalPhbs::new();
    let phb = Phb4::init(io, Phb4Config::p9_chip0(0).unwrap(), &mut GlobalHeap).unwrap();
    s.add(PHB, phb).unwrap();
    io.clear_log();
    s
}

/// Runs `f`, asserts it returns `code` and wrote nothing.
fn refused(io: &RecordingIo, code: OpalCode, f: impl FnOnce() -> OpalCode) {
    io.clear_log();
    assert_eq!(f(), code);
    assert!(io.writes().is_empty(), "wrote {:x?}", io.writes());
}

#[test]
fn codes_and_tokens_are_the_documented_numbers() {
    let codes = [
        (Success, 0),
        (Parameter, -1),
        (Busy, -2),
        (Partial, -3),
        (Constrained, -4),
        (Closed, -5),
        (Hardware, -6),
        (Unsupported, -7),
        (Permission, -8),
        (NoMem, -9),
        (Resource, -10),
        (InternalError, -11),
        (HardwareFrozen, -13),
        (WrongState, -14),
    ];
    for (c, v) in codes {
        assert_eq!(c.code(), v);
    }
    assert_eq!(
        [
            token::EEH_FREEZE_STATUS,
            token::EEH_FREEZE_CLEAR,
            token::SET_PE,
            token::MAP_PE_DMA_WINDOW,
            token::MAP_PE_DMA_WINDOW_REAL,
            token::PCI_RESET,
            token::TCE_KILL
        ],
        [23, 26, 31, 44, 45, 49, 126]
    );
}

#[test]
fn map_pe_dma_window_rejects_each_bad_argument() {
    let io = model();
    let mut s = set(&io);
    let a = 0x1000_0000;
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB + 1, 1, 2, 1, a, K4, K4)
    }); // PHB
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 256, 512, 1, a, K4, K4)
    }); // PE
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 4, 1, a, K4, K4)
    }); // window id
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 1, 1, a, K4, K4)
    }); // window of PE 0
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 0, a, K4, K4)
    }); // levels
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 6, a, K4, K4)
    });
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, a, 0x800, K4)
    }); // level size
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, a, 0x3000, K4)
    });
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, a, 1 << 43, K4)
    });
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, a, K4, 0x2000)
    }); // page size
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, a, K4, 1 << 24)
    });
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, a + 0x1000, 0x2000, K4)
    }); // align
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 2, 1, 1 << 60, K4, K4)
    });
    refused(&io, Parameter, || {
        s.map_pe_dma_window(PHB, 1, 4, 1, a, 0, K4)
    }); // disable: window id
}

#[test]
fn map_pe_dma_window_programs_and_disables() {
    let io = model();
    let mut s = set(&io);
    assert_eq!(
        s.map_pe_dma_window(PHB, 1, 3, 3, 0x2345_0000, 0x1_0000, 0x1_0000),
        Success
    );
    assert_eq!(
        io.writes(),
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0003),
            (REGS + PHB_IODA_DATA0, 0x0000_0002_3450_4505)
        ]
    );
    io.clear_log();
    assert_eq!(s.map_pe_dma_window(PHB, 1, 3, 0, 0, 0, 0), Success);
    assert_eq!(
        io.writes()[..2],
        [
            (REGS + PHB_IODA_ADDR, 0x0009_0000_0000_0003),
            (REGS + PHB_IODA_DATA0, 0)
        ]
    );
}

#[test]
fn map_pe_dma_window_real_rejects_each_bad_argument() {
    let io = model();
    let mut s = set(&io);
    let m16 = 1 << 24;
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB + 1, 1, 2, 0, m16)
    }); // PHB
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 300, 600, 0, m16)
    }); // PE
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 5, 0, m16)
    }); // window id
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 2, 1 << 59, m16)
    }); // parity
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 3, 0, m16)
    });
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 2, 0x1000, m16)
    }); // start align
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 2, 0, m16 + 0x1000)
    }); // size align
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 2, 0, 1 << 50)
    }); // end >= 2^50
    refused(&io, Parameter, || {
        s.map_pe_dma_window_real(PHB, 1, 2, m16, !(m16 - 1))
    });
    assert_eq!(
        s.map_pe_dma_window_real(PHB, 1, 3, (1 << 59) | m16, 1 << 49),
        Success
    );
    assert_eq!(
        io.writes()[1],
        (REGS + PHB_IODA_DATA0, 0x0000_0100_0001_1280)
    );
}

#[test]
fn tce_kill_rejects_each_bad_argument() {
    let io = model();
    let mut s = set(&io);
    refused(&io, Parameter, || {
        s.tce_kill(PHB + 1, kill_type::ALL, 0, 0, 0, 0)
    }); // PHB
    refused(&io, Parameter, || s.tce_kill(PHB, 3, 0, 0, 0, 0)); // kind
    refused(&io, Parameter, || {
        s.tce_kill(PHB, kill_type::PE, 256, 0, 0, 0)
    }); // PE
    refused(&io, Parameter, || {
        s.tce_kill(PHB, kill_type::PAGES, 256, 0x1000, 0, 1)
    });
    refused(&io, Parameter, || {
        s.tce_kill(PHB, kill_type::PAGES, 1, 0x2000, 0, 1)
    }); // page size
    refused(&io, Parameter, || {
        s.tce_kill(PHB, kill_type::PAGES, 1, 0x10000, 0x1000, 1)
    }); // align
    refused(&io, Parameter, || {
        s.tce_kill(PHB, kill_type::PAGES, 1, 0x1000, 1 << 60, 1)
    });
    assert_eq!(s.tce_kill(PHB, kill_type::PE, 9, 0, 0, 0), Success);
    assert_eq!(io.writes()[0], (REGS + PHB_TCE_KILL, 0x4000_0000_0000_0009));
}

#[test]
fn set_pe_rejects_each_bad_argument() {
    let io = model();
    let mut s = set(&io);
    refused(&io, Parameter, || s.set_pe(PHB + 1, 1, 0x100, 7, 1, 1, 1)); // PHB
    refused(&io, Parameter, || s.set_pe(PHB, 256, 0x100, 7, 1, 1, 1)); // PE
    refused(&io, Parameter, || s.set_pe(PHB, 1, 0x1_0000, 7, 1, 1, 1)); // bdfn
    refused(&io, Parameter, || s.set_pe(PHB, 1, 0x100, 8, 1, 1, 1)); // bus compare
    refused(&io, Parameter, || s.set_pe(PHB, 1, 0x100, 7, 2, 1, 1)); // dev compare
    refused(&io, Parameter, || s.set_pe(PHB, 1, 0x100, 7, 1, 2, 1)); // func compare
    refused(&io, Parameter, || s.set_pe(PHB, 1, 0x100, 7, 1, 1, 2)); // action
    assert_eq!(s.set_pe(PHB, 1, 0x100, 7, 1, 1, 1), Success);
    assert_eq!(s.phb(PHB).unwrap().rtt_entry(0x100), Some(1));
    assert_eq!(io.writes(), [(REGS + PHB_RTC_INVALIDATE, 1 << 63)]);
}

#[test]
fn eeh_freeze_calls() {
    let io = model();
    let mut s = set(&io);
    assert_eq!(s.eeh_freeze_status(PHB + 1, 1), Err(Parameter));
    assert_eq!(s.eeh_freeze_status(PHB, 256), Err(Parameter));
    refused(&io, Parameter, || s.eeh_freeze_clear(PHB + 1, 1, 3));
    refused(&io, Parameter, || s.eeh_freeze_clear(PHB, 256, 3));
    refused(&io, Parameter, || s.eeh_freeze_clear(PHB, 1, 0));
    refused(&io, Parameter, || s.eeh_freeze_clear(PHB, 1, 4));
    refused(&io, Parameter, || s.eeh_freeze_set(PHB, 1, 4));
    assert_eq!(
        s.eeh_freeze_status(PHB, 1).unwrap().state,
        freeze_state::NOT_FROZEN
    );
    assert_eq!(s.eeh_freeze_set(PHB, 1, 3), Success);
    let st = s.eeh_freeze_status(PHB, 1).unwrap();
    assert_eq!(
        (st.state, st.pci_error_type),
        (freeze_state::MMIO_DMA_FREEZE, 3)
    );
    assert_eq!(s.eeh_freeze_clear(PHB, 1, 1), Success);
    assert_eq!(
        s.eeh_freeze_status(PHB, 1).unwrap().state,
        freeze_state::DMA_FREEZE
    );
    assert_eq!(s.eeh_freeze_clear(PHB, 1, 2), Success);
    assert_eq!(
        s.eeh_freeze_status(PHB, 1).unwrap().state,
        freeze_state::NOT_FROZEN
    );
}

#[test]
fn pci_reset_ioda_tables() {
    let io = model();
    let mut s = set(&io);
    refused(&io, Parameter, || s.pci_reset(PHB + 1, 6, 1));
    refused(&io, Parameter, || s.pci_reset(PHB, 6, 2));
    refused(&io, Unsupported, || s.pci_reset(PHB, 1, 1));
    assert_eq!(
        s.map_pe_dma_window(PHB, 1, 2, 1, 0x1000_0000, K4, K4),
        Success
    );
    assert_eq!(s.set_pe(PHB, 1, 0x100, 7, 1, 1, 1), Success);
    let t = TranslatedTve::new(0x4000_0000, 1, K4, K4).unwrap();
    let id = s.shared_table_create(t).unwrap();
    s.shared_table_set(id, PHB, 2, 0).unwrap();
    assert!(s.shared_table_free(id).is_err());
    assert_eq!(s.pci_reset(PHB, 6, 1), Success);
    let phb = s.phb(PHB).unwrap();
    assert_eq!(phb.tve(1, 0).unwrap(), 0);
    assert_eq!(phb.rtt_entry(0x100), Some(255));
    assert_eq!(s.shared_table_users(id).unwrap().len(), 0);
    assert_eq!(s.shared_table_free(id), Ok(t));
}

#[test]
fn raw_map_cannot_overwrite_a_shared_window() {
    let io = model();
    let mut s = set(&io);
    let t = TranslatedTve::new(0x4000_0000, 1, K4, K4).unwrap();
    let id = s.shared_table_create(t).unwrap();
    s.shared_table_set(id, PHB, 2, 0).unwrap();
    s.shared_table_set(id, PHB, 3, 0).unwrap();
    refused(&io, WrongState, || {
        s.map_pe_dma_window(PHB, 2, 4, 1, 0x1000_0000, K4, K4)
    });
    refused(&io, WrongState, || {
        s.map_pe_dma_window(PHB, 2, 4, 0, 0, 0, 0)
    });
    s.shared_table_unset(id, PHB, 2, 0).unwrap();
    s.shared_table_unset(id, PHB, 3, 0).unwrap();
    assert_eq!(s.shared_table_free(id), Ok(t));
}
