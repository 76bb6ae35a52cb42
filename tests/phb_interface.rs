//! The PHB interface ([`Phb`]) as the upper layers use it: OPAL calls and
//! shared tables over a mix of PHBs (brought-up and attached PHB4s, and a
//! minimal generation with none of the optional calls), and the hypervisor
//! over a real PHB4 driver through [`LockedPhb`].

use std::sync::{Arc, Mutex};

use pnv_iommu::mmio::fake::RecordingIo;
use pnv_iommu::opal::{OpalCode, OpalPhbs, kill_type};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::papr::{Hypervisor, LockedPhb, PHB4_DDW_PAGES, PeConfig};
use pnv_iommu::phb::tve::TranslatedTve;
use pnv_iommu::phb::{DmaWindow, KillScope, Phb, PhbCapabilities, PhbError, SLOT1_START};
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::regs::*;
use pnv_iommu::phb4::{AttachedPhb4, Phb4, Phb4Config};

mod phb_common;

/// A generation with only the required calls: TVEs in a vector, kills
/// counted, 4K and 16M pages (as PHB3 would have).
#[derive(Default)]
struct MinimalPhb {
    tves: Vec<u64>,
    shared: Vec<bool>,
    kills: Mutex<Vec<KillScope>>,
}

impl MinimalPhb {
    fn new() -> MinimalPhb {
        MinimalPhb {
            tves: vec![0; 16],
            shared: vec![false; 16],
            ..Default::default()
        }
    }
    fn index(&self, pe: u64, slot: u32) -> Result<usize, PhbError> {
        if pe >= 8 {
            return Err(PhbError::PeRange);
        }
        if slot >= 2 {
            return Err(PhbError::WindowId);
        }
        Ok(pe as usize * 2 + slot as usize)
    }
}

impl Phb for MinimalPhb {
    fn capabilities(&self) -> PhbCapabilities {
        PhbCapabilities {
            num_pes: 8,
            page_shifts: 1 << 12 | 1 << 24,
            max_levels: 5,
            slot_starts: [0, SLOT1_START],
            window32_size: 1 << 31,
        }
    }
    fn regs_base(&self) -> u64 {
        0x1234_0000
    }
    fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), PhbError> {
        let w = self.index(pe, slot)?;
        if self.shared[w] {
            return Err(PhbError::WindowShared);
        }
        self.tves[w] = match window {
            DmaWindow::Off => 0,
            DmaWindow::Translated(t) if self.capabilities().supports_page(t.page_shift) => {
                t.encode()
            }
            DmaWindow::Translated(_) => return Err(PhbError::Parameter),
            DmaWindow::Bypass { .. } => return Err(PhbError::Unsupported),
        };
        Ok(())
    }
    fn tve(&self, pe: u64, slot: u32) -> Result<u64, PhbError> {
        Ok(self.tves[self.index(pe, slot)?])
    }
    fn slot_is_shared(&self, pe: u64, slot: u32) -> Result<bool, PhbError> {
        Ok(self.shared[self.index(pe, slot)?])
    }
    fn set_shared_slot(
        &mut self,
        pe: u64,
        slot: u32,
        table: Option<&TranslatedTve>,
    ) -> Result<(), PhbError> {
        let w = self.index(pe, slot)?;
        self.tves[w] = table.map_or(0, |t| t.encode());
        self.shared[w] = table.is_some();
        Ok(())
    }
    fn kill(&self, scope: KillScope) -> Result<(), PhbError> {
        self.kills.lock().unwrap().push(scope);
        Ok(())
    }
}

fn phb4_io(regs_base: u64) -> &'static RecordingIo {
    let cfg = Phb4Config {
        regs_base,
        ..Phb4Config::p9(0, 0).unwrap()
    };
    Box::leak(Box::new(phb4_model(&cfg, 256, vec![FakeFunction::edu()])))
}

const REGS_UP: u64 = 0x0006_00C3_C000_0000;
const REGS_ATTACHED: u64 = REGS_UP + 0x10_0000;

/// OPAL ids: 0 a brought-up PHB4, 1 an attached PHB4, 2 the minimal PHB.
fn mixed() -> (
    OpalPhbs<Box<dyn Phb>>,
    &'static RecordingIo,
    &'static RecordingIo,
) {
    let up_io = phb4_io(REGS_UP);
    let at_io = phb4_io(REGS_ATTACHED);
    let mut s: OpalPhbs<Box<dyn Phb>> = OpalPhbs::new();
    let up = Phb4::init(up_io, Phb4Config::p9(0, 0).unwrap(), &GlobalPages).unwrap();
    s.add(0, Box::new(up)).unwrap();
    let at = AttachedPhb4 {
        chip_id: 0,
        index: 1,
        regs_base: REGS_ATTACHED,
        num_pes: 256,
    };
    s.add(1, Box::new(Phb4::attach(at_io, at).unwrap()))
        .unwrap();
    s.add(2, Box::new(MinimalPhb::new())).unwrap();
    up_io.clear_log();
    (s, up_io, at_io)
}

#[test]
fn opal_calls_reach_every_generation_through_the_trait() {
    let (mut s, up_io, at_io) = mixed();
    let t = TranslatedTve::new(0x2000_0000, 1, 0x1000, 0x1000).unwrap();
    for id in 0..3 {
        assert_eq!(
            s.map_pe_dma_window(id, 3, 7, 1, 0x2000_0000, 0x1000, 0x1000),
            OpalCode::Success,
            "PHB {id}"
        );
        assert_eq!(s.phb(id).unwrap().tve(3, 1), Ok(t.encode()));
        assert_eq!(s.tce_kill(id, kill_type::PE, 3, 0, 0, 0), OpalCode::Success);
        // PE 8 is beyond the minimal PHB's 8 PEs only.
        let want = if id == 2 {
            OpalCode::Parameter
        } else {
            OpalCode::Success
        };
        assert_eq!(s.tce_kill(id, kill_type::PE, 8, 0, 0, 0), want, "PHB {id}");
    }
    // 16M pages: the minimal PHB has them, PHB4 does not (PARAMETER,
    // nothing written).
    up_io.clear_log();
    at_io.clear_log();
    for id in 0..2 {
        assert_eq!(
            s.map_pe_dma_window(id, 3, 6, 1, 0x2000_0000, 0x1000, 1 << 24),
            OpalCode::Parameter
        );
    }
    assert!(up_io.writes().is_empty() && at_io.writes().is_empty());
    assert_eq!(
        s.map_pe_dma_window(2, 3, 6, 1, 0x2000_0000, 0x1000, 1 << 24),
        OpalCode::Success
    );
    // Optional calls: the brought-up PHB4 serves them, the attached one
    // and the minimal generation answer UNSUPPORTED.
    let want = [
        OpalCode::Success,
        OpalCode::Unsupported,
        OpalCode::Unsupported,
    ];
    for id in 0..3 {
        let w = want[id as usize];
        assert_eq!(s.set_pe(id, 3, 0x100, 7, 1, 1, 1), w, "set_pe on {id}");
        assert_eq!(s.eeh_freeze_set(id, 3, 2), w, "freeze_set on {id}");
        assert_eq!(s.eeh_freeze_clear(id, 3, 3), w, "freeze_clear on {id}");
        assert_eq!(s.pci_reset(id, 6, 1), w, "pci_reset on {id}");
    }
    let kills = s.phb(2).unwrap().capabilities();
    assert_eq!(
        kills.ddw_page_mask(),
        pnv_iommu::papr::DDW_PAGE_4K | pnv_iommu::papr::DDW_PAGE_16M
    );
}

#[test]
fn shared_tables_span_generations() {
    let (mut s, _, _) = mixed();
    let t = TranslatedTve::new(0x4000_0000, 1, 0x1000, 0x1000).unwrap();
    let id = s.shared_table_create(t).unwrap();
    for phb in 0..3 {
        s.shared_table_set(id, phb, 2, 0).unwrap();
        assert_eq!(s.phb(phb).unwrap().tve(2, 0), Ok(t.encode()));
        // The slot belongs to the table now: a plain map is refused.
        assert_eq!(
            s.map_pe_dma_window(phb, 2, 4, 0, 0, 0, 0),
            OpalCode::WrongState
        );
    }
    assert_eq!(s.shared_table_users(id).map(|u| u.len()), Some(3));
    assert!(s.shared_table_free(id).is_err());
    for phb in 0..3 {
        s.shared_table_unset(id, phb, 2, 0).unwrap();
        assert_eq!(s.phb(phb).unwrap().tve(2, 0), Ok(0));
    }
    assert_eq!(s.shared_table_free(id), Ok(t));
}

/// The hypervisor drives a real PHB4 driver through [`LockedPhb`]: the
/// default window lands in TVT slot 0 of the PE, and a TCE change ends with
/// one PE kill whose DMA read sync is the only sync.
#[test]
fn hypervisor_programs_a_phb4_through_the_interface() {
    let io = phb4_io(REGS_UP);
    let phb = Phb4::init(io, Phb4Config::p9(0, 0).unwrap(), &GlobalPages).unwrap();
    assert_eq!(phb.capabilities().ddw_page_mask(), PHB4_DDW_PAGES);
    let phb = Arc::new(LockedPhb::new(phb));
    io.clear_log();
    let mut hv: Hypervisor<LockedPhb<Phb4<&RecordingIo>>, GlobalPages> =
        Hypervisor::new(GlobalPages);
    let p = phb_common::partition_4m(&mut hv);
    let cfg = PeConfig {
        buid: 0x0800_0000_2000_0000,
        config_addr: 0x100,
        pe: 5,
        default_window_size: 1 << 28,
        page_sizes: PHB4_DDW_PAGES,
        max_window_shift: 40,
    };
    // A page size PHB4 lacks (16M) cannot be offered to DDW.
    let with_16m = PeConfig {
        page_sizes: PHB4_DDW_PAGES | pnv_iommu::papr::DDW_PAGE_16M,
        ..cfg
    };
    assert_eq!(
        hv.attach_pe(p, phb.clone(), with_16m),
        Err(pnv_iommu::papr::SetupError::BadWindow)
    );
    assert!(io.writes().is_empty());
    let liobn = hv.attach_pe(p, phb.clone(), cfg).unwrap();
    let tve = phb.lock().tve(5, 0).unwrap();
    assert_ne!(tve, 0);
    assert_eq!(
        io.writes()[..2],
        [
            (
                REGS_UP + PHB_IODA_ADDR,
                ioda_addr(IodaTable::Tvt, 10, false)
            ),
            (REGS_UP + PHB_IODA_DATA0, tve),
        ]
    );
    io.clear_log();
    hv.h_put_tce(p, liobn as u64, 0x3000, 0x2000 | 3).unwrap();
    let w = io.writes();
    assert!(
        w.contains(&(REGS_UP + PHB_TCE_KILL, 0x4000_0000_0000_0005)),
        "{w:x?}"
    );
    let syncs = w
        .iter()
        .filter(|a| a.0 == REGS_UP + PHB_DMA_READ_WRITE_SYNC)
        .count();
    let kills = w.iter().filter(|a| a.0 == REGS_UP + PHB_TCE_KILL).count();
    assert_eq!(syncs, kills, "one DMA read sync per kill: {w:x?}");
}
