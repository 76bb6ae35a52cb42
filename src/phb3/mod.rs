//! PHB3 (POWER8 PCIe host bridge, IODA2) driver: bring-up and attach,
//! config space, IODA2 tables, RID→PE translation, TCE kill, PE freeze
//! state and DMA windows (`DESIGN.md` §12).
//!
//! Generic over [`RegisterIo`] like the PHB4 driver, it implements the PHB
//! interface ([`crate::phb::Phb`], in [`interface`]) and is built from the
//! same pieces where the hardware agrees: the translated TVE
//! ([`crate::phb::tve`]), the TVE slots ([`crate::phb::slots`]), the RID
//! match rules and freeze state ([`crate::phb::pe`]), the bypass range
//! rules ([`crate::phb::tve::BypassTve`]), the window, RTT and freeze
//! logic ([`crate::phb::ioda`]), the registers both have
//! ([`crate::phb::regs`]), config access through CONFIG_ADDRESS
//! ([`crate::phb::config`]), the memory the PHB reads
//! ([`crate::phb::dmamem`]) and PCI enumeration
//! ([`crate::phb::enumerate`]).
//! What differs lives here: the POWER8 XSCOM formula and the PBCQ BARs
//! that QEMU presets, the fixed PE count (256, no capability register),
//! the M32 window in PHB registers, config space of the root port through
//! CONFIG_ADDRESS, PHB3's page sizes and bypass TVE, and a TCE kill that
//! is a single store (the register never reports completion).
//!
//! Bring-up order ([`Phb3::init`]):
//! 1. [`pbcq`]: read back the PBCQ BARs, check them, write BAR_EN;
//! 2. check `PHB_VERSION` (a PHB3 answers `0xa3` in its major byte);
//! 3. RTT (every RID → reserved PE 255), PELT-V and PEST in memory, their BARs;
//! 4. the M32 window: base, mask, PCI start, then PHB3_CONFIG with M32_EN;
//! 5. reset the IODA2 tables (TVT, M64BT, M32DT, PEST, PEEV), drop the
//!    RID cache, kill all TCEs.

pub mod config;
pub mod interface;
pub mod pbcq;
pub mod pe;
pub mod regs;
pub mod tve;
pub mod window;

use crate::mmio::RegisterIo;
use crate::page_alloc::PageAllocator;
use crate::phb::PhbError;
use crate::phb::ioda::{self, DmaTables, IodaDma, PeDmaState};
use alloc::vec::Vec;
use regs::*;

/// PCI address where the M32 window starts (the top 2 GiB below 4 GiB).
pub use crate::phb4::regs::M32_PCI_START;
/// Largest M32 window the driver sets up (2 GiB, as skiboot).
pub const M32_MAX_SIZE: u64 = 0x8000_0000;

/// Where a PHB3 sits: its chip's XSCOM window and its PBCQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phb3Config {
    /// PHB index on the chip (`ibm,phb-index`).
    pub index: u32,
    /// Chip id (`ibm,chip-id`).
    pub chip_id: u32,
    /// Physical address of the chip's XSCOM window.
    pub xscom_base: u64,
    /// XSCOM address (PCBA) of the PBCQ's nest register block.
    pub nest_base: u32,
    /// Enable 32-bit MSIs (takes PCI 0xFFFF0000.. from DMA window 0).
    pub msi32: bool,
}

impl Phb3Config {
    /// PHB `index` of POWER8 chip `chip` as QEMU `powernv8` places it.
    pub const fn p8(chip: u32, index: u32) -> Option<Phb3Config> {
        if index >= P8_NUM_PHBS {
            return None;
        }
        Some(Phb3Config {
            index,
            chip_id: chip,
            xscom_base: p8_xscom_base(chip),
            nest_base: p8_pbcq_nest_base(index),
            msi32: false,
        })
    }

    /// The PHB a device-tree `pbcq` node describes (POWER8: one PHB per
    /// PBCQ, the PHB index in `ibm,phb-index`, kept as the PEC's only stack).
    pub fn for_pbcq(
        chip: &crate::topology::Chip,
        pec: &crate::topology::Pec,
        stack: &crate::topology::PhbStack,
    ) -> Phb3Config {
        Phb3Config {
            index: stack.phb_index,
            chip_id: chip.chip_id,
            xscom_base: chip.xscom_base,
            nest_base: pec.nest_base,
            msi32: false,
        }
    }
}

/// One PHB3 and the state firmware keeps for it.
pub struct Phb3<I: RegisterIo> {
    io: I,
    cfg: Phb3Config,
    bars: PbcqBars,
    m32: regs::Window,
    /// The tables a brought-up PHB owns; `None` when attached.
    owned: Option<DmaTables>,
    /// The TVE firmware wants in every slot and each PE's freeze state.
    pes: PeDmaState,
}

impl<I: RegisterIo> core::fmt::Debug for Phb3<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Phb3")
            .field("chip", &self.cfg.chip_id)
            .field("index", &self.cfg.index)
            .field("regs", &self.bars.regs)
            .field("attached", &self.owned.is_none())
            .finish_non_exhaustive()
    }
}

/// A PHB3 brought up by this driver stops reading its in-memory tables
/// before their memory is freed (as PHB4's drop does); an attached PHB3 is
/// borrowed, and its drop writes nothing.
impl<I: RegisterIo> Drop for Phb3<I> {
    fn drop(&mut self) {
        if self.owned.is_none() {
            return;
        }
        ioda::disable_table_bars(&self.io, self.bars.regs);
    }
}

impl<I: RegisterIo> Phb3<I> {
    /// Brings the PHB up (steps 1–5 of the module docs).
    ///
    /// On success the PHB decodes its registers and M32 window, every RID
    /// maps to the reserved PE and no TVE is valid.
    pub fn init<A>(io: I, cfg: Phb3Config, pages: &A) -> Result<Phb3<I>, PhbError>
    where
        A: PageAllocator + Clone + Send + 'static,
    {
        let bars = pbcq::read_bars(&io, cfg.xscom_base, cfg.nest_base)?;
        pbcq::enable_bars(&io, cfg.xscom_base, cfg.nest_base);
        check_version(&io, bars.regs)?;

        // 256 PEs: the PEST is one naturally aligned 4 KiB page.
        let tables = DmaTables::alloc(pages, PHB3_NUM_PES)?;
        let table_bars = tables.bar_writes();
        let mut phb = Phb3::new(io, cfg, bars);
        phb.owned = Some(tables);
        phb.rtt_reset()?;

        let r = |off| phb.bars.regs + off;
        for (bar, value) in table_bars {
            phb.io.write_be64(r(bar), value);
        }
        phb.io.write_be64(r(PHB_M32_BASE_ADDR), phb.m32.base);
        phb.io
            .write_be64(r(PHB_M32_BASE_MASK), m32_base_mask(phb.m32.size));
        phb.io.write_be64(r(PHB_M32_START_ADDR), M32_PCI_START);
        phb.io
            .write_be64(r(PHB_PHB3_CONFIG), phb3_config(phb.cfg.msi32));

        phb.ioda_reset()?;
        Ok(phb)
    }

    /// Takes over the DMA windows of a PHB3 another firmware (skiboot, a C
    /// firmware) brought up, writing no register: reads the PBCQ BARs and
    /// BAR_EN (the registers must be enabled) and `PHB_VERSION`. The driver
    /// owns no table and its drop writes nothing. Windows (TVEs) and TCE
    /// kills work as on a brought-up PHB; the calls that need the owner's
    /// tables or MMIO window (`set_pe`, freeze, IODA reset, enumeration)
    /// return [`PhbError::Unsupported`], as on an attached PHB4. Every TVE
    /// is taken as invalid until this driver sets it.
    pub fn attach(io: I, cfg: Phb3Config) -> Result<Phb3<I>, PhbError> {
        let bars = pbcq::read_bars(&io, cfg.xscom_base, cfg.nest_base)?;
        if !pbcq::bars_enabled(&io, cfg.xscom_base, cfg.nest_base) {
            return Err(PhbError::Broken);
        }
        check_version(&io, bars.regs)?;
        Ok(Phb3::new(io, cfg, bars))
    }

    /// Firmware's state for a PHB with every TVE invalid, no PE frozen and
    /// no table owned.
    fn new(io: I, cfg: Phb3Config, bars: PbcqBars) -> Phb3<I> {
        let m32 = regs::Window {
            base: bars.mmio1.base,
            size: bars.mmio1.size.min(M32_MAX_SIZE),
        };
        Phb3 {
            io,
            cfg,
            bars,
            m32,
            owned: None,
            pes: PeDmaState::new(PHB3_NUM_PES),
        }
    }

    /// The configuration the PHB was brought up (or attached) with.
    pub fn config(&self) -> &Phb3Config {
        &self.cfg
    }

    /// The PBCQ BARs read at bring-up.
    pub fn bars(&self) -> &PbcqBars {
        &self.bars
    }

    /// The register accessor.
    pub fn io(&self) -> &I {
        &self.io
    }

    /// What `PHB_VERSION` reads (one register load).
    pub fn read_version(&self) -> u64 {
        self.io.read_be64(self.reg(PHB_VERSION))
    }

    /// CPU address of the PHB's registers.
    pub fn regs_base(&self) -> u64 {
        self.bars.regs
    }

    /// Whether the driver was attached to a PHB another firmware brought up.
    pub fn is_attached(&self) -> bool {
        self.owned.is_none()
    }

    fn reg(&self, off: u64) -> u64 {
        self.bars.regs + off
    }

    /// Writes consecutive entries from 0 with auto-increment.
    fn ioda_fill(&self, table: Ioda2Table, values: impl Iterator<Item = u64>) {
        ioda::ioda_store(&self.io, self.bars.regs, ioda2_addr(table, 0, true), values);
    }

    /// Rewrites the IODA2 DMA/MMIO/EEH tables from firmware's copies: TVT
    /// (TVEs of DMA-frozen PEs invalid), M64BT, M32DT, PESTA/B and PEEV
    /// zeroed; then drops the RID cache and kills every cached TCE.
    /// [`PhbError::Unsupported`] on an attached PHB (nothing written).
    pub fn ioda_reset(&mut self) -> Result<(), PhbError> {
        self.check_owned()?;
        let tvt: Vec<u64> = (0..PHB3_TVT_ENTRIES)
            .map(|w| self.tve_hw_value(w))
            .collect();
        self.ioda_fill(Ioda2Table::Tvt, tvt.into_iter());
        let n = PHB3_NUM_PES as usize;
        self.ioda_fill(
            Ioda2Table::M64bt,
            core::iter::repeat_n(0, PHB3_M64BT_ENTRIES as usize),
        );
        self.ioda_fill(Ioda2Table::M32dt, core::iter::repeat_n(0, n));
        self.ioda_fill(Ioda2Table::PestA, core::iter::repeat_n(0, n));
        self.ioda_fill(Ioda2Table::PestB, core::iter::repeat_n(0, n));
        self.ioda_fill(Ioda2Table::Peev, core::iter::repeat_n(0, n.div_ceil(64)));
        self.io
            .write_be64(self.reg(PHB_RTC_INVALIDATE), PHB_RTC_INVALIDATE_ALL);
        self.kill_all();
        Ok(())
    }

    /// Returns the PHB's DMA state to power-on: every TVE invalid, every RID
    /// on the reserved PE, no PE frozen, PELT-V/PEST zeroed; then
    /// [`ioda_reset`](Self::ioda_reset). The M32 window stays.
    /// [`PhbError::Unsupported`] on an attached PHB (nothing changes).
    pub fn ioda_purge(&mut self) -> Result<(), PhbError> {
        self.purge_pe_state()?;
        self.ioda_reset()
    }
}

/// A PHB3 answers `0xa3` in the major byte of `PHB_VERSION`; all-ones means
/// the registers are not there (BARs off, PHB fenced).
fn check_version(io: &impl RegisterIo, regs: u64) -> Result<(), PhbError> {
    let v = io.read_be64(regs + PHB_VERSION);
    if v == u64::MAX || (v >> 32) & 0xff != (PHB3_VERSION >> 32) & 0xff {
        return Err(PhbError::Broken);
    }
    Ok(())
}

#[cfg(any(test, feature = "std"))]
pub mod fake;
