//! The OPAL calls over a set of PHB4s.

use super::*;
use crate::mmio::RegisterIo;
use crate::phb4::Phb4;
use crate::phb4::Phb4Error;
use crate::phb4::kill::KillScope;
use crate::phb4::pe::{BusCompare, RidMatch};
use crate::phb4::shared::{SharedTableError, TableRegistry, TveRef};
use crate::phb4::tve::{BypassTve, PageSize, TranslatedTve};
use crate::phb4::window::split_window_id;
use alloc::vec::Vec;

/// Result of `eeh_freeze_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreezeStatus {
    /// One of [`freeze_state`].
    pub state: u8,
    /// One of [`pci_error_type`].
    pub pci_error_type: u16,
}

fn code_of(e: Phb4Error) -> OpalCode {
    match e {
        Phb4Error::PeRange
        | Phb4Error::WindowId
        | Phb4Error::Tve(_)
        | Phb4Error::Parameter
        | Phb4Error::NoDevice
        | Phb4Error::BadConfig => OpalCode::Parameter,
        Phb4Error::WindowShared => OpalCode::WrongState,
        Phb4Error::Broken | Phb4Error::Kill(_) => OpalCode::Hardware,
        Phb4Error::NoMemory => OpalCode::NoMem,
        Phb4Error::NoMmioSpace => OpalCode::Resource,
        Phb4Error::Unsupported => OpalCode::Unsupported,
    }
}

fn done(r: Result<(), Phb4Error>) -> OpalCode {
    match r {
        Ok(()) => OpalCode::Success,
        Err(e) => code_of(e),
    }
}

/// PHB `phb_id` of `phbs`, for the shared-table calls (which also need the
/// table registry borrowed beside it).
fn phb_in<I: RegisterIo>(
    phbs: &mut [(u64, Phb4<I>)],
    phb_id: u64,
) -> Result<&mut Phb4<I>, SharedTableError> {
    phbs.iter_mut()
        .find(|(i, _)| *i == phb_id)
        .map(|(_, p)| p)
        .ok_or(SharedTableError::Phb(Phb4Error::Parameter))
}

/// The PHBs OPAL calls can name, by OPAL PHB id, plus the shared tables set
/// into their TVEs.
pub struct OpalPhbs<I: RegisterIo> {
    phbs: Vec<(u64, Phb4<I>)>,
    tables: TableRegistry,
}

impl<I: RegisterIo> core::fmt::Debug for OpalPhbs<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpalPhbs")
            .field("phbs", &self.phbs)
            .field("tables", &self.tables)
            .finish()
    }
}

impl<I: RegisterIo> Default for OpalPhbs<I> {
    fn default() -> Self {
        OpalPhbs {
            phbs: Vec::new(),
            tables: TableRegistry::new(),
        }
    }
}

impl<I: RegisterIo> OpalPhbs<I> {
    /// No PHBs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a PHB (brought up or attached) under `phb_id`. A duplicate
    /// id, or a PHB whose registers are already registered under another id
    /// (two drivers would disagree on its TVEs), is refused with
    /// `PARAMETER`; the refused driver is dropped.
    pub fn add(&mut self, phb_id: u64, phb: Phb4<I>) -> Result<(), OpalCode> {
        if self.phb(phb_id).is_some()
            || self
                .phbs
                .iter()
                .any(|(_, p)| p.regs_base() == phb.regs_base())
        {
            return Err(OpalCode::Parameter);
        }
        self.phbs.push((phb_id, phb));
        Ok(())
    }

    /// The PHB with `phb_id`.
    pub fn phb(&self, phb_id: u64) -> Option<&Phb4<I>> {
        self.phbs
            .iter()
            .find(|(id, _)| *id == phb_id)
            .map(|(_, p)| p)
    }

    /// The PHB with `phb_id`, mutably.
    pub fn phb_mut(&mut self, phb_id: u64) -> Option<&mut Phb4<I>> {
        self.phbs
            .iter_mut()
            .find(|(id, _)| *id == phb_id)
            .map(|(_, p)| p)
    }

    fn get(&mut self, phb_id: u64) -> Result<&mut Phb4<I>, OpalCode> {
        self.phb_mut(phb_id).ok_or(OpalCode::Parameter)
    }

    fn get_pe(&mut self, phb_id: u64, pe: u64) -> Result<&mut Phb4<I>, OpalCode> {
        let phb = self.get(phb_id)?;
        if pe >= phb.num_pes() as u64 {
            return Err(OpalCode::Parameter);
        }
        Ok(phb)
    }

    /// The PHB and window number `n` of a DMA-window call, whose
    /// `window_id` must be `pe * 2 + n`.
    fn get_window(
        &mut self,
        phb_id: u64,
        pe: u64,
        window_id: u64,
    ) -> Result<(&mut Phb4<I>, u32), OpalCode> {
        let phb = self.get_pe(phb_id, pe)?;
        let n = split_window_id(pe, window_id).ok_or(OpalCode::Parameter)?;
        Ok((phb, n))
    }

    /// `OPAL_PCI_MAP_PE_DMA_WINDOW`: sets window `window_id` (= `pe*2 + n`)
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
        let (phb, n) = match self.get_window(phb_id, pe, window_id) {
            Ok(w) => w,
            Err(c) => return c,
        };
        if table_size == 0 {
            return done(phb.unmap_window(pe, n));
        }
        match TranslatedTve::new(table_addr, levels, table_size, page_size) {
            Ok(t) => done(phb.map_translated(pe, n, &t)),
            Err(_) => OpalCode::Parameter,
        }
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
        let (phb, n) = match self.get_window(phb_id, pe, window_id) {
            Ok(w) => w,
            Err(c) => return c,
        };
        if size == 0 {
            return done(phb.unmap_window(pe, n));
        }
        match BypassTve::new(n, pci_start, size) {
            Ok(b) => done(phb.map_bypass(pe, n, &b)),
            Err(_) => OpalCode::Parameter,
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
        let phb = match self.get(phb_id) {
            Ok(p) => p,
            Err(c) => return c,
        };
        let scope = match kill_type {
            kill_type::ALL => KillScope::All,
            kill_type::PE => KillScope::Pe(pe),
            kill_type::PAGES => match PageSize::from_bytes(tce_size as u64) {
                Some(page) => KillScope::Pages {
                    pe,
                    page,
                    dma_addr,
                    npages: npages as u64,
                },
                None => return OpalCode::Parameter,
            },
            _ => return OpalCode::Parameter,
        };
        done(phb.tce_kill(scope))
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
        self.freeze_change(phb_id, pe, option, Phb4::freeze_clear)
    }

    /// `OPAL_PCI_EEH_FREEZE_SET`: `option` is one of [`freeze_action`].
    pub fn eeh_freeze_set(&mut self, phb_id: u64, pe: u64, option: u64) -> OpalCode {
        self.freeze_change(phb_id, pe, option, Phb4::freeze_set)
    }

    /// Checks the arguments of a freeze set/clear, then applies `change`
    /// with the MMIO and DMA halves `option` names.
    fn freeze_change(
        &mut self,
        phb_id: u64,
        pe: u64,
        option: u64,
        change: fn(&mut Phb4<I>, u64, bool, bool) -> Result<(), Phb4Error>,
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
        let r = phb.ioda_purge();
        if r == Err(Phb4Error::Unsupported) {
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

    /// Sets shared table `id` into window `n` of `pe` on PHB `phb_id`.
    pub fn shared_table_set(
        &mut self,
        id: u64,
        phb_id: u64,
        pe: u64,
        n: u32,
    ) -> Result<(), SharedTableError> {
        let phb = phb_in(&mut self.phbs, phb_id)?;
        self.tables.set(id, phb_id, phb, pe, n)
    }

    /// Removes shared table `id` from window `n` of `pe` on PHB `phb_id`.
    pub fn shared_table_unset(
        &mut self,
        id: u64,
        phb_id: u64,
        pe: u64,
        n: u32,
    ) -> Result<(), SharedTableError> {
        let phb = phb_in(&mut self.phbs, phb_id)?;
        self.tables.unset(id, phb_id, phb, pe, n)
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
