//! The OPAL calls over a set of PHBs of any generation ([`Phb`]).

use super::*;
use crate::phb::pe::{BusCompare, RidMatch};
use crate::phb::shared::{SharedTableError, TableRegistry, TveRef};
use crate::phb::tve::TranslatedTve;
use crate::phb::{DmaWindow, KillScope, Phb, PhbError};
use alloc::vec::Vec;

/// The OPAL window id of `slot` of `pe`.
pub const fn window_id(pe: u32, slot: u32) -> u32 {
    pe * crate::phb::SLOTS_PER_PE + slot
}

/// Splits an OPAL window id into the slot, checking it belongs to `pe`.
pub const fn split_window_id(pe: u64, window_id: u64) -> Option<u32> {
    if window_id >> 1 == pe {
        Some((window_id & 1) as u32)
    } else {
        None
    }
}

/// Result of `eeh_freeze_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreezeStatus {
    /// One of [`freeze_state`].
    pub state: u8,
    /// One of [`pci_error_type`].
    pub pci_error_type: u16,
}

fn code_of(e: PhbError) -> OpalCode {
    match e {
        PhbError::PeRange
        | PhbError::WindowId
        | PhbError::Tve(_)
        | PhbError::Parameter
        | PhbError::NoDevice
        | PhbError::BadConfig => OpalCode::Parameter,
        PhbError::WindowShared => OpalCode::WrongState,
        PhbError::Broken | PhbError::Kill(_) => OpalCode::Hardware,
        PhbError::NoMemory => OpalCode::NoMem,
        PhbError::NoMmioSpace => OpalCode::Resource,
        PhbError::Unsupported => OpalCode::Unsupported,
    }
}

fn done(r: Result<(), PhbError>) -> OpalCode {
    match r {
        Ok(()) => OpalCode::Success,
        Err(e) => code_of(e),
    }
}

/// PHB `phb_id` of `phbs`, for the shared-table calls (which also need the
/// table registry borrowed beside it).
fn phb_in<P: Phb>(phbs: &mut [(u64, P)], phb_id: u64) -> Result<&mut P, SharedTableError> {
    phbs.iter_mut()
        .find(|(i, _)| *i == phb_id)
        .map(|(_, p)| p)
        .ok_or(SharedTableError::Phb(PhbError::Parameter))
}

/// The PHBs OPAL calls can name, by OPAL PHB id, plus the shared tables set
/// into their TVEs. `P` is one generation's driver, or `Box<dyn Phb>` for a
/// mix (the C ABI).
pub struct OpalPhbs<P: Phb> {
    phbs: Vec<(u64, P)>,
    tables: TableRegistry,
}

impl<P: Phb> core::fmt::Debug for OpalPhbs<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ids: Vec<u64> = self.phbs.iter().map(|(id, _)| *id).collect();
        f.debug_struct("OpalPhbs")
            .field("phbs", &ids)
            .field("tables", &self.tables)
            .finish()
    }
}

impl<P: Phb> Default for OpalPhbs<P> {
    fn default() -> Self {
        OpalPhbs {
            phbs: Vec::new(),
            tables: TableRegistry::new(),
        }
    }
}

impl<P: Phb> OpalPhbs<P> {
    /// No PHBs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a PHB (brought up or attached) under `phb_id`. A duplicate
    /// id, or a PHB whose registers are already registered under another id
    /// (two drivers would disagree on its TVEs), is refused with
    /// `PARAMETER`; the refused driver is dropped.
    pub fn add(&mut self, phb_id: u64, phb: P) -> Result<(), OpalCode> {
        if self.phb(phb_id).is_some() || self.has_regs(phb.regs_base()) {
            return Err(OpalCode::Parameter);
        }
        self.phbs.push((phb_id, phb));
        Ok(())
    }

    /// Whether a PHB with its registers at `regs_base` is registered (check
    /// before bringing a PHB up: a second driver must not touch it).
    pub fn has_regs(&self, regs_base: u64) -> bool {
        self.phbs.iter().any(|(_, p)| p.regs_base() == regs_base)
    }

    /// The PHB with `phb_id`.
    pub fn phb(&self, phb_id: u64) -> Option<&P> {
        self.phbs
            .iter()
            .find(|(id, _)| *id == phb_id)
            .map(|(_, p)| p)
    }

    /// The PHB with `phb_id`, mutably.
    pub fn phb_mut(&mut self, phb_id: u64) -> Option<&mut P> {
        self.phbs
            .iter_mut()
            .find(|(id, _)| *id == phb_id)
            .map(|(_, p)| p)
    }

    fn get(&mut self, phb_id: u64) -> Result<&mut P, OpalCode> {
        self.phb_mut(phb_id).ok_or(OpalCode::Parameter)
    }

    fn get_pe(&mut self, phb_id: u64, pe: u64) -> Result<&mut P, OpalCode> {
        let phb = self.get(phb_id)?;
        if pe >= phb.capabilities().num_pes as u64 {
            return Err(OpalCode::Parameter);
        }
        Ok(phb)
    }

    /// The PHB and `slot` of a DMA-window call, whose `window_id` must be
    /// `pe * 2 + slot`.
    fn get_window(
        &mut self,
        phb_id: u64,
        pe: u64,
        window_id: u64,
    ) -> Result<(&mut P, u32), OpalCode> {
        let phb = self.get_pe(phb_id, pe)?;
        let slot = split_window_id(pe, window_id).ok_or(OpalCode::Parameter)?;
        Ok((phb, slot))
    }

    /// `OPAL_PCI_MAP_PE_DMA_WINDOW`: sets window `window_id` (= `pe*2 + slot`)
    /// of `pe` to a TCE table of `levels` levels, each `table_size` bytes,
    /// IOMMU pages of `page_size` bytes, top level at `table_addr`;
    /// `table_size == 0` disables the window.
    #[allow(clippy::too_many_arguments)]
    pub fn map_pe_dma_window(
        &mut self,
        phb_id: u64,
        pe: u64,
        window_id: u64,
        levels: u64,
        table_addr: u64,
        table_size: u64,
        page_size: u64,
    ) -> OpalCode {
        let window = if table_size == 0 {
            Some(DmaWindow::Off)
        } else {
            TranslatedTve::new(table_addr, levels, table_size, page_size)
                .ok()
                .map(DmaWindow::Translated)
        };
        self.set_slot(phb_id, pe, window_id, window)
    }

    /// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL`: sets window `window_id` of `pe` to
    /// the untranslated range `[pci_start, pci_start + size)`; `size == 0`
    /// disables the window.
    pub fn map_pe_dma_window_real(
        &mut self,
        phb_id: u64,
        pe: u64,
        window_id: u64,
        pci_start: u64,
        size: u64,
    ) -> OpalCode {
        let window = if size == 0 {
            DmaWindow::Off
        } else {
            DmaWindow::Bypass { pci_start, size }
        };
        self.set_slot(phb_id, pe, window_id, Some(window))
    }

    /// Sets the slot `window_id` names to `window` (`None`: arguments the
    /// window format refuses, `PARAMETER`).
    fn set_slot(
        &mut self,
        phb_id: u64,
        pe: u64,
        window_id: u64,
        window: Option<DmaWindow>,
    ) -> OpalCode {
        let (phb, slot) = match self.get_window(phb_id, pe, window_id) {
            Ok(w) => w,
            Err(c) => return c,
        };
        match window {
            Some(w) => done(phb.set_window(pe, slot, &w)),
            None => OpalCode::Parameter,
        }
    }

    /// `OPAL_PCI_TCE_KILL`: `kill_type` is one of [`kill_type`]; for pages,
    /// `tce_size` is the IOMMU page size and `dma_addr` must be aligned to it.
    pub fn tce_kill(
        &mut self,
        phb_id: u64,
        kill_type: u32,
        pe: u64,
        tce_size: u32,
        dma_addr: u64,
        npages: u32,
    ) -> OpalCode {
        // A PE and page kill name a PE the PHB must have.
        let phb = match kill_type {
            kill_type::ALL => self.get(phb_id),
            _ => self.get_pe(phb_id, pe),
        };
        let phb = match phb {
            Ok(p) => p,
            Err(c) => return c,
        };
        let scope = match kill_type {
            kill_type::ALL => KillScope::All,
            kill_type::PE => KillScope::Pe(pe),
            kill_type::PAGES if tce_size.is_power_of_two() => KillScope::Pages {
                pe,
                page_shift: tce_size.trailing_zeros(),
                dma_addr,
                npages: npages as u64,
            },
            _ => return OpalCode::Parameter,
        };
        done(phb.kill(scope))
    }

    /// `OPAL_PCI_SET_PE`: maps (`action` 1) or unmaps (0) every RID matching
    /// `bdfn` under the compare rules to `pe`, then invalidates the RID cache.
    #[allow(clippy::too_many_arguments)]
    pub fn set_pe(
        &mut self,
        phb_id: u64,
        pe: u64,
        bdfn: u64,
        bus_compare: u8,
        dev_compare: u8,
        func_compare: u8,
        action: u8,
    ) -> OpalCode {
        let phb = match self.get_pe(phb_id, pe) {
            Ok(p) => p,
            Err(c) => return c,
        };
        let Some(bus) = BusCompare::from_raw(bus_compare) else {
            return OpalCode::Parameter;
        };
        if bdfn > 0xffff || dev_compare > 1 || func_compare > 1 || action > 1 {
            return OpalCode::Parameter;
        }
        let rule = RidMatch {
            bus,
            device: dev_compare == 1,
            function: func_compare == 1,
        };
        done(
            phb.set_pe(pe, bdfn as u16, rule, action == pe_action::MAP)
                .map(|_| ()),
        )
    }

    /// `OPAL_PCI_EEH_FREEZE_STATUS`.
    pub fn eeh_freeze_status(&self, phb_id: u64, pe: u64) -> Result<FreezeStatus, OpalCode> {
        let phb = self.phb(phb_id).ok_or(OpalCode::Parameter)?;
        let st = phb.freeze_state(pe).map_err(code_of)?;
        let state =
            (st.mmio as u8) * freeze_state::MMIO_FREEZE + (st.dma as u8) * freeze_state::DMA_FREEZE;
        let pci_error_type = if state == freeze_state::NOT_FROZEN {
            pci_error_type::NO_ERROR
        } else {
            pci_error_type::PE_ERROR
        };
        Ok(FreezeStatus {
            state,
            pci_error_type,
        })
    }

    /// `OPAL_PCI_EEH_FREEZE_CLEAR`: `option` is one of [`freeze_action`].
    pub fn eeh_freeze_clear(&mut self, phb_id: u64, pe: u64, option: u64) -> OpalCode {
        self.freeze_change(phb_id, pe, option, P::freeze_clear)
    }

    /// `OPAL_PCI_EEH_FREEZE_SET`: `option` is one of [`freeze_action`].
    pub fn eeh_freeze_set(&mut self, phb_id: u64, pe: u64, option: u64) -> OpalCode {
        self.freeze_change(phb_id, pe, option, P::freeze_set)
    }

    /// Checks the arguments of a freeze set/clear, then applies `change`
    /// with the MMIO and DMA halves `option` names.
    fn freeze_change(
        &mut self,
        phb_id: u64,
        pe: u64,
        option: u64,
        change: fn(&mut P, u64, bool, bool) -> Result<(), PhbError>,
    ) -> OpalCode {
        let phb = match self.get_pe(phb_id, pe) {
            Ok(p) => p,
            Err(c) => return c,
        };
        if !(freeze_action::MMIO..=freeze_action::ALL).contains(&option) {
            return OpalCode::Parameter;
        }
        let mmio = option & freeze_action::MMIO != 0;
        let dma = option & freeze_action::DMA != 0;
        done(change(phb, pe, mmio, dma))
    }

    /// `OPAL_PCI_RESET` with scope [`RESET_PCI_IODA_TABLE`]: asserting
    /// purges the PHB's DMA state (every TVE, RTT entry and freeze); other
    /// scopes are unsupported.
    pub fn pci_reset(&mut self, phb_id: u64, scope: u8, assert_state: u8) -> OpalCode {
        let phb = match self.get(phb_id) {
            Ok(p) => p,
            Err(c) => return c,
        };
        if assert_state > ASSERT_RESET {
            return OpalCode::Parameter;
        }
        if scope != RESET_PCI_IODA_TABLE {
            return OpalCode::Unsupported;
        }
        if assert_state == DEASSERT_RESET {
            return OpalCode::Success;
        }
        let r = phb.reset_dma_state();
        if r == Err(PhbError::Unsupported) {
            // An attached PHB: nothing was purged, the shared TVEs stand.
            return OpalCode::Unsupported;
        }
        self.tables.forget_phb(phb_id);
        done(r)
    }

    /// Registers a table to be shared by several PEs; returns its id.
    pub fn shared_table_create(&mut self, table: TranslatedTve) -> Result<u64, SharedTableError> {
        self.tables.create(table)
    }

    /// Sets shared table `id` into `slot` of `pe` on PHB `phb_id`.
    pub fn shared_table_set(
        &mut self,
        id: u64,
        phb_id: u64,
        pe: u64,
        slot: u32,
    ) -> Result<(), SharedTableError> {
        let phb = phb_in(&mut self.phbs, phb_id)?;
        self.tables.set(id, phb_id, phb, pe, slot)
    }

    /// Removes shared table `id` from `slot` of `pe` on PHB `phb_id`.
    pub fn shared_table_unset(
        &mut self,
        id: u64,
        phb_id: u64,
        pe: u64,
        slot: u32,
    ) -> Result<(), SharedTableError> {
        let phb = phb_in(&mut self.phbs, phb_id)?;
        self.tables.unset(id, phb_id, phb, pe, slot)
    }

    /// The TVEs pointing at shared table `id`.
    pub fn shared_table_users(&self, id: u64) -> Option<&[TveRef]> {
        self.tables.users(id)
    }

    /// Forgets shared table `id`; refused while any TVE points at it.
    pub fn shared_table_free(&mut self, id: u64) -> Result<TranslatedTve, SharedTableError> {
        self.tables.free(id)
    }
}
