//! The DMA logic IODA2 (PHB3) and IODA3 (PHB4, PHB5) share, written once:
//! TVE slots and what hardware holds for them, the RID translation table
//! (RTT) and `set_pe`, and EEH freeze state.
//!
//! Firmware keeps, per PHB, a [`PeDmaState`]: the TVE it wants in every
//! slot ([`TveSlots`], the source of truth) and each PE's freeze state.
//! The TVT in hardware holds the same values except while a PE is
//! DMA-frozen (its TVEs are then invalid). The RTT holds one big-endian u16
//! PE number per RID (`bus << 8 | devfn`); RIDs nobody mapped hold the
//! reserved PE (`num_pes - 1`). The PHB caches RTT entries, so every change
//! ends with an RTC invalidate. QEMU models no EEH freeze: firmware keeps
//! each PE's freeze state itself and makes a DMA freeze real by
//! invalidating the PE's TVEs until it is cleared.
//!
//! A generation implements [`IodaDma`]'s few required methods (where its
//! state, tables and registers are, how it selects a TVT entry, how it
//! kills a PE's TCE cache, which page sizes it has and how it marks a
//! bypass TVE); the provided methods are the shared logic, which its
//! public methods (`ioda_dma_methods!`) and its [`Phb`](super::Phb)
//! implementation (`impl_phb!`) call. The tables a bring-up owns
//! ([`DmaTables`]) and the IODA indirect port ([`ioda_store`]) are
//! shared the same way.

use super::dmamem::DmaRegion;
use super::pe::{FreezeState, RidMatch};
use super::regs::{
    PHB_IODA_ADDR, PHB_IODA_DATA0, PHB_PELTV_BAR, PHB_PELTV_BAR_ENABLE, PHB_PEST_BAR,
    PHB_PEST_BAR_ENABLE, PHB_RTC_INVALIDATE, PHB_RTC_INVALIDATE_ALL, PHB_RTT_BAR,
    PHB_RTT_BAR_ENABLE,
};
use super::slots::TveSlots;
use super::tve::{BypassTve, TranslatedTve, TveError};
use super::{DmaWindow, PhbError, SLOTS_PER_PE};
use crate::mmio::RegisterIo;
use crate::page_alloc::PageAllocator;
use alloc::vec;
use alloc::vec::Vec;

/// Bytes of the RID translation table: one big-endian u16 per RID.
pub const RTT_SIZE: u64 = 0x2_0000;
/// Bytes of the PE lookup table vector (enough for 512 PEs).
pub const PELTV_SIZE: u64 = 0x2_0000;
/// Bytes of PEST per PE (PESTA + PESTB words).
pub const PEST_ENTRY_SIZE: u64 = 16;

impl From<BypassTve> for DmaWindow {
    fn from(range: BypassTve) -> DmaWindow {
        DmaWindow::Bypass {
            pci_start: range.pci_start,
            size: range.size,
        }
    }
}

/// The tables in memory a PHB brought up here reads, owned by its driver:
/// RTT, PELT-V and PEST (an attached PHB's are its owner's).
#[derive(Debug)]
pub struct DmaTables {
    /// RID translation table.
    pub rtt: DmaRegion,
    /// PE lookup table vector.
    pub peltv: DmaRegion,
    /// PE state table.
    pub pest: DmaRegion,
}

impl DmaTables {
    /// Allocates the tables of a PHB with `num_pes` PEs, in the order RTT,
    /// PELT-V, PEST; the PEST is whole naturally aligned pages (4 KiB for
    /// 256 PEs, 8 KiB for 512). [`PhbError::NoMemory`] if one is missing.
    pub fn alloc<A>(pages: &A, num_pes: u32) -> Result<DmaTables, PhbError>
    where
        A: PageAllocator + Clone + Send + 'static,
    {
        let table = |bytes: u64| {
            DmaRegion::alloc(pages, bytes.trailing_zeros()).map_err(|_| PhbError::NoMemory)
        };
        let rtt = table(RTT_SIZE)?;
        let peltv = table(PELTV_SIZE)?;
        let pest_bytes = (num_pes as u64 * PEST_ENTRY_SIZE).next_power_of_two();
        let pest = table(pest_bytes.max(0x1000))?;
        Ok(DmaTables { rtt, peltv, pest })
    }

    /// The BAR writes that point the PHB at the tables, as (register
    /// offset, value): RTT, PELT-V, PEST.
    pub fn bar_writes(&self) -> [(u64, u64); 3] {
        [
            (PHB_RTT_BAR, self.rtt.addr() | PHB_RTT_BAR_ENABLE),
            (PHB_PELTV_BAR, self.peltv.addr() | PHB_PELTV_BAR_ENABLE),
            (PHB_PEST_BAR, self.pest.addr() | PHB_PEST_BAR_ENABLE),
        ]
    }
}

/// Disables the RTT, PELT-V and PEST BARs of the PHB whose registers are at
/// `regs`: what a driver that brought its PHB up does before the tables'
/// memory goes back to the allocator. Without an RTT the PHB translates no
/// requester, so no DMA reaches memory through it afterwards.
pub fn disable_table_bars(io: &impl RegisterIo, regs: u64) {
    for bar in [PHB_RTT_BAR, PHB_PELTV_BAR, PHB_PEST_BAR] {
        io.write_be64(regs + bar, 0);
    }
    io.barrier();
}

/// Stores `values` in consecutive entries of an on-chip IODA table of the
/// PHB at `regs`, through the indirect port IODA2 and IODA3 share:
/// `IODA_ADDR` = `select` (table, first index and auto-increment, as the
/// generation encodes them), then one `IODA_DATA0` store per value.
pub fn ioda_store(
    io: &impl RegisterIo,
    regs: u64,
    select: u64,
    values: impl IntoIterator<Item = u64>,
) {
    io.write_be64(regs + PHB_IODA_ADDR, select);
    for v in values {
        io.write_be64(regs + PHB_IODA_DATA0, v);
    }
}

/// What firmware keeps for the PEs of one PHB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeDmaState {
    /// The TVE firmware wants in every slot (what the TVT holds unless a PE
    /// is DMA-frozen), and which slots shared tables hold.
    pub tves: TveSlots,
    /// Each PE's freeze state.
    pub freeze: Vec<FreezeState>,
}

impl PeDmaState {
    /// `num_pes` PEs with every TVE invalid and no PE frozen.
    pub fn new(num_pes: u32) -> PeDmaState {
        PeDmaState {
            tves: TveSlots::new(num_pes),
            freeze: vec![FreezeState::default(); num_pes as usize],
        }
    }

    /// Number of PEs.
    pub fn num_pes(&self) -> u32 {
        self.tves.num_pes()
    }

    /// Back to power-on: every TVE invalid and unshared, no PE frozen.
    pub fn clear(&mut self) {
        self.tves.clear();
        self.freeze.iter_mut().for_each(|f| *f = Default::default());
    }
}

/// A generation's driver as the shared DMA logic sees it. Required: where
/// its state and RTT are and the hardware steps in which generations
/// differ; provided: the logic they share.
pub trait IodaDma {
    /// Firmware's state for the PEs.
    fn pe_dma(&self) -> &PeDmaState;
    /// As [`pe_dma`](Self::pe_dma), mutably.
    fn pe_dma_mut(&mut self) -> &mut PeDmaState;
    /// The tables, if this driver brought the PHB up (`None` when attached).
    fn dma_tables(&self) -> Option<&DmaTables>;
    /// As [`dma_tables`](Self::dma_tables), mutably.
    fn dma_tables_mut(&mut self) -> Option<&mut DmaTables>;
    /// The register accessor type.
    type Io: RegisterIo;
    /// The register accessor and the CPU address of the PHB's registers.
    fn registers(&self) -> (&Self::Io, u64);
    /// The `IODA_ADDR` value selecting TVT entry `w` (no auto-increment),
    /// in the generation's encoding.
    fn tvt_select(&self, w: u32) -> u64;
    /// Kills every cached TCE of `pe` (checked against the PE count).
    fn kill_pe_tces(&self, pe: u64) -> Result<(), PhbError>;
    /// Whether the PHB translates pages of `1 << page_shift` bytes.
    fn supports_page(&self, page_shift: u32) -> bool;
    /// The generation's TVE for a checked bypass range.
    fn bypass_tve(&self, range: &BypassTve) -> u64;

    /// Writes TVT entry `w` in hardware (two register writes).
    fn write_tvt_entry(&self, w: u32, value: u64) {
        let (io, regs) = self.registers();
        ioda_store(io, regs, self.tvt_select(w), [value]);
    }

    /// Drops the RID translation cache after an RTT change (after a
    /// barrier, so the RTT stores reach memory first).
    fn invalidate_rid_cache(&self) {
        let (io, regs) = self.registers();
        io.barrier();
        io.write_be64(regs + PHB_RTC_INVALIDATE, PHB_RTC_INVALIDATE_ALL);
    }

    /// `pe` as a PE number below the PE count, or [`PhbError::PeRange`].
    fn check_pe(&self, pe: u64) -> Result<u32, PhbError> {
        if pe < self.pe_dma().num_pes() as u64 {
            Ok(pe as u32)
        } else {
            Err(PhbError::PeRange)
        }
    }

    /// The PE every unmapped RID uses (`num_pes - 1`); never given to devices.
    fn reserved_pe(&self) -> u32 {
        self.pe_dma().num_pes() - 1
    }

    /// [`PhbError::Unsupported`] unless this driver owns the PHB's tables.
    fn check_owned(&self) -> Result<(), PhbError> {
        self.dma_tables().map(|_| ()).ok_or(PhbError::Unsupported)
    }

    /// The TVE value hardware should hold for TVT index `w` (0 while the
    /// PE's DMA is frozen).
    fn tve_hw_value(&self, w: u32) -> u64 {
        let state = self.pe_dma();
        if state.freeze[(w / SLOTS_PER_PE) as usize].dma {
            0
        } else {
            state.tves.tve(w)
        }
    }

    /// The TVE value firmware holds for `slot` of `pe`.
    fn slot_tve(&self, pe: u64, slot: u32) -> Result<u64, PhbError> {
        let tves = &self.pe_dma().tves;
        Ok(tves.tve(tves.index(pe, slot)?))
    }

    /// Whether `slot` of `pe` is held by a shared table.
    fn slot_shared(&self, pe: u64, slot: u32) -> Result<bool, PhbError> {
        let tves = &self.pe_dma().tves;
        Ok(tves.is_shared(tves.index(pe, slot)?))
    }

    /// Writes TVE `w`; if a valid TVE is replaced, kills the PE's TCE cache.
    fn write_tve(&mut self, w: u32, value: u64, shared: bool) -> Result<(), PhbError> {
        let old = self.pe_dma_mut().tves.set(w, value, shared);
        self.write_tvt_entry(w, self.tve_hw_value(w));
        if old != 0 {
            self.kill_pe_tces((w / SLOTS_PER_PE) as u64)?;
        }
        Ok(())
    }

    /// The TVE value for `window` in `slot`, checked against what the PHB
    /// supports; nothing is written.
    fn encode_window(&self, slot: u32, window: &DmaWindow) -> Result<u64, PhbError> {
        Ok(match *window {
            DmaWindow::Off => 0,
            DmaWindow::Translated(t) => {
                if !self.supports_page(t.page_shift) {
                    return Err(TveError::PageSize.into());
                }
                t.encode()
            }
            DmaWindow::Bypass { pci_start, size } => {
                self.bypass_tve(&BypassTve::new(slot, pci_start, size)?)
            }
        })
    }

    /// Sets `slot` of `pe` to `window`; a slot held by a shared table is
    /// refused. Kills the PE's TCE cache if a valid TVE is replaced.
    fn set_slot(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), PhbError> {
        let w = self.pe_dma().tves.index(pe, slot)?;
        let value = self.encode_window(slot, window)?;
        if self.pe_dma().tves.is_shared(w) {
            return Err(PhbError::WindowShared);
        }
        self.write_tve(w, value, false)
    }

    /// Sets `slot` of `pe` to the shared `table` and marks it held, or
    /// clears and releases it (`None`); see
    /// [`Phb::set_shared_slot`](super::Phb::set_shared_slot).
    fn set_shared_table(
        &mut self,
        pe: u64,
        slot: u32,
        table: Option<&TranslatedTve>,
    ) -> Result<(), PhbError> {
        let w = self.pe_dma().tves.index(pe, slot)?;
        match table {
            Some(t) => {
                let value = self.encode_window(slot, &DmaWindow::Translated(*t))?;
                self.write_tve(w, value, true)
            }
            None => self.write_tve(w, 0, false),
        }
    }

    /// Every RID back on the reserved PE (in memory; no cache invalidate).
    /// [`PhbError::Unsupported`] when attached.
    fn rtt_reset(&mut self) -> Result<(), PhbError> {
        let reserved = self.reserved_pe() as u16;
        let rtt = &mut self.dma_tables_mut().ok_or(PhbError::Unsupported)?.rtt;
        for off in (0..RTT_SIZE).step_by(2) {
            rtt.write_be16(off, reserved);
        }
        Ok(())
    }

    /// The PE the RTT gives `rid` (`None` when attached: the owner's RTT).
    fn rtt_pe(&self, rid: u16) -> Option<u16> {
        Some(self.dma_tables()?.rtt.read_be16(2 * rid as u64))
    }

    /// Maps every RID that equals `rid` under `rule` to `pe` (or, with
    /// `map == false`, back to the reserved PE), then invalidates the RID
    /// cache. Returns the number of RTT entries written.
    /// [`PhbError::Unsupported`] when attached (the RTT is the owner's).
    fn map_rids(&mut self, pe: u64, rid: u16, rule: RidMatch, map: bool) -> Result<u32, PhbError> {
        let pe = self.check_pe(pe)?;
        let value = if map { pe } else { self.reserved_pe() } as u16;
        let mask = rule.mask();
        let rtt = &mut self.dma_tables_mut().ok_or(PhbError::Unsupported)?.rtt;
        let mut count = 0;
        for r in 0..=u16::MAX {
            if r & mask == rid & mask {
                rtt.write_be16(2 * r as u64, value);
                count += 1;
            }
        }
        self.invalidate_rid_cache();
        Ok(count)
    }

    /// The freeze state firmware keeps for `pe`.
    fn pe_freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        Ok(self.pe_dma().freeze[self.check_pe(pe)? as usize])
    }

    /// Freezes MMIO and/or DMA of `pe`; a DMA freeze invalidates its TVEs.
    /// [`PhbError::Unsupported`] when attached.
    fn freeze_pe(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        let pe = self.check_pe(pe)?;
        self.check_owned()?;
        let st = &mut self.pe_dma_mut().freeze[pe as usize];
        st.mmio |= mmio;
        let newly_dma = dma && !st.dma;
        st.dma |= dma;
        if newly_dma {
            self.write_pe_tves(pe)?;
        }
        Ok(())
    }

    /// Clears the MMIO and/or DMA freeze of `pe`; a DMA thaw restores its
    /// TVEs. [`PhbError::Unsupported`] when attached.
    fn thaw_pe(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        let pe = self.check_pe(pe)?;
        self.check_owned()?;
        let st = &mut self.pe_dma_mut().freeze[pe as usize];
        if mmio {
            st.mmio = false;
        }
        let thaw = dma && st.dma;
        if dma {
            st.dma = false;
        }
        if thaw {
            self.write_pe_tves(pe)?;
        }
        Ok(())
    }

    /// Writes both hardware TVEs of `pe` (checked by the caller) from
    /// firmware's state and kills the PE's TCE cache.
    fn write_pe_tves(&mut self, pe: u32) -> Result<(), PhbError> {
        for w in [SLOTS_PER_PE * pe, SLOTS_PER_PE * pe + 1] {
            self.write_tvt_entry(w, self.tve_hw_value(w));
        }
        self.kill_pe_tces(pe as u64)
    }

    /// Back to power-on DMA state in firmware's view and in memory: every
    /// TVE invalid and unshared, no PE frozen, every RID on the reserved
    /// PE, PELT-V and PEST zeroed. The generation then rewrites its IODA
    /// tables. [`PhbError::Unsupported`] when attached (nothing changes).
    fn purge_pe_state(&mut self) -> Result<(), PhbError> {
        self.check_owned()?;
        self.pe_dma_mut().clear();
        self.rtt_reset()?;
        let tables = self.dma_tables_mut().ok_or(PhbError::Unsupported)?;
        tables.peltv.zero();
        tables.pest.zero();
        Ok(())
    }
}

/// The public window, RID and freeze methods every generation's driver
/// offers, written once over [`IodaDma`]'s shared logic. Expands inside
/// `impl<I: RegisterIo> Driver<I> { .. }` of a type implementing
/// [`IodaDma`]; the generation adds what differs (`window`, which decodes
/// its own TVE format, and `freeze_state`).
macro_rules! ioda_dma_methods {
    () => {
        /// Number of PEs.
        pub fn num_pes(&self) -> u32 {
            $crate::phb::ioda::IodaDma::pe_dma(self).num_pes()
        }

        /// The PE every unmapped RID uses (`num_pes - 1`); never given to
        /// devices.
        pub fn reserved_pe(&self) -> u32 {
            $crate::phb::ioda::IodaDma::reserved_pe(self)
        }

        /// Number of TVEs (two per PE).
        pub fn tvt_size(&self) -> u32 {
            $crate::phb::ioda::IodaDma::pe_dma(self).tves.len()
        }

        /// Physical address of the RTT (`None` if attached: the owner's).
        pub fn rtt_addr(&self) -> Option<u64> {
            $crate::phb::ioda::IodaDma::dma_tables(self).map(|t| t.rtt.addr())
        }

        /// The PE the RTT gives `rid` (`None` if attached: the owner's RTT).
        pub fn rtt_entry(&self, rid: u16) -> Option<u16> {
            $crate::phb::ioda::IodaDma::rtt_pe(self, rid)
        }

        /// The TVE value firmware holds for `slot` of `pe`.
        pub fn tve(&self, pe: u64, slot: u32) -> Result<u64, $crate::phb::PhbError> {
            $crate::phb::ioda::IodaDma::slot_tve(self, pe, slot)
        }

        /// Sets `slot` of `pe` to `window`; a slot held by a shared table is
        /// refused. Kills the PE's TCE cache if a valid TVE is replaced.
        pub fn set_window(
            &mut self,
            pe: u64,
            slot: u32,
            window: &$crate::phb::DmaWindow,
        ) -> Result<(), $crate::phb::PhbError> {
            $crate::phb::ioda::IodaDma::set_slot(self, pe, slot, window)
        }

        /// Sets `slot` of `pe` to the TCE table `table`.
        pub fn map_translated(
            &mut self,
            pe: u64,
            slot: u32,
            table: &$crate::phb::tve::TranslatedTve,
        ) -> Result<(), $crate::phb::PhbError> {
            let window = $crate::phb::DmaWindow::Translated(*table);
            $crate::phb::ioda::IodaDma::set_slot(self, pe, slot, &window)
        }

        /// Sets `slot` of `pe` to an untranslated range (checked even where
        /// a model ignores the range: hardware does not).
        pub fn map_bypass(
            &mut self,
            pe: u64,
            slot: u32,
            range: &$crate::phb::tve::BypassTve,
        ) -> Result<(), $crate::phb::PhbError> {
            let window = $crate::phb::DmaWindow::from(*range);
            $crate::phb::ioda::IodaDma::set_slot(self, pe, slot, &window)
        }

        /// Disables `slot` of `pe` (TVE = 0) and kills the PE's TCE cache if
        /// the window was valid.
        pub fn unmap_window(&mut self, pe: u64, slot: u32) -> Result<(), $crate::phb::PhbError> {
            let window = $crate::phb::DmaWindow::Off;
            $crate::phb::ioda::IodaDma::set_slot(self, pe, slot, &window)
        }

        /// Whether `slot` of `pe` is held by a shared table.
        pub fn window_is_shared(&self, pe: u64, slot: u32) -> Result<bool, $crate::phb::PhbError> {
            $crate::phb::ioda::IodaDma::slot_shared(self, pe, slot)
        }

        /// Maps every RID that equals `rid` under `rule` to `pe` (or, with
        /// `map == false`, back to the reserved PE), then invalidates the
        /// RID cache. Returns the number of RTT entries written.
        /// [`PhbError::Unsupported`](crate::phb::PhbError::Unsupported) on
        /// an attached PHB (its RTT is the owner's).
        pub fn set_pe(
            &mut self,
            pe: u64,
            rid: u16,
            rule: $crate::phb::pe::RidMatch,
            map: bool,
        ) -> Result<u32, $crate::phb::PhbError> {
            $crate::phb::ioda::IodaDma::map_rids(self, pe, rid, rule, map)
        }

        /// Freezes MMIO and/or DMA of `pe` (what hardware does on an error;
        /// used by tests and error injection). A DMA freeze invalidates the
        /// PE's TVEs. [`PhbError::Unsupported`](crate::phb::PhbError::Unsupported)
        /// on an attached PHB.
        pub fn freeze_set(
            &mut self,
            pe: u64,
            mmio: bool,
            dma: bool,
        ) -> Result<(), $crate::phb::PhbError> {
            $crate::phb::ioda::IodaDma::freeze_pe(self, pe, mmio, dma)
        }

        /// Clears the MMIO and/or DMA freeze of `pe`; a DMA thaw restores
        /// its TVEs. [`PhbError::Unsupported`](crate::phb::PhbError::Unsupported)
        /// on an attached PHB.
        pub fn freeze_clear(
            &mut self,
            pe: u64,
            mmio: bool,
            dma: bool,
        ) -> Result<(), $crate::phb::PhbError> {
            $crate::phb::ioda::IodaDma::thaw_pe(self, pe, mmio, dma)
        }
    };
}
pub(crate) use ioda_dma_methods;
