//! IODA3 on-chip tables: indirect access through `IODA_ADDR`/`IODA_DATA0`,
//! reset of the DMA, MMIO and EEH tables, and the M32 MMIO window (MBT).
//!
//! Interrupt tables (LIST, MIST) belong to the interrupt controller's owner
//! and are left alone here.

use super::regs::*;
use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;

/// Entries of the MSI remap table on a 512-PE PHB (half on a 256-PE one).
const MRT_ENTRIES_BIG: u32 = 16;

impl<I: RegisterIo> Phb4<I> {
    /// Selects `table` entry `index` for the next `IODA_DATA0` access.
    pub(crate) fn ioda_select(&self, table: IodaTable, index: u32, autoinc: bool) {
        self.io
            .write_be64(self.reg(PHB_IODA_ADDR), ioda_addr(table, index, autoinc));
    }

    /// Writes one IODA entry (two register writes).
    pub(crate) fn ioda_write(&self, table: IodaTable, index: u32, value: u64) {
        self.ioda_select(table, index, false);
        self.io.write_be64(self.reg(PHB_IODA_DATA0), value);
    }

    /// Writes consecutive entries from 0 with auto-increment.
    fn ioda_fill(&self, table: IodaTable, values: impl Iterator<Item = u64>) {
        self.ioda_select(table, 0, true);
        for v in values {
            self.io.write_be64(self.reg(PHB_IODA_DATA0), v);
        }
    }

    /// Rewrites the DMA/MMIO/EEH IODA tables from firmware's copies: TVT
    /// (TVEs of DMA-frozen PEs stay invalid), MBT, MDT and MRT zeroed, PESTA
    /// and PESTB cleared, PEEV cleared; then drops the RID and TCE caches.
    /// [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn ioda_reset(&mut self) -> Result<(), Phb4Error> {
        let mbt: alloc::vec::Vec<u64> = self
            .brought_up()?
            .mbt_cache
            .iter()
            .flat_map(|e| e.iter().copied())
            .collect();
        let tvt: alloc::vec::Vec<u64> =
            (0..self.tvt_size()).map(|w| self.tve_hw_value(w)).collect();
        self.ioda_fill(IodaTable::Tvt, tvt.into_iter());
        self.ioda_fill(IodaTable::Mbt, mbt.into_iter());
        self.ioda_fill(
            IodaTable::Mdt,
            core::iter::repeat_n(0, self.num_pes as usize),
        );
        let mrt = if self.num_pes >= 512 {
            MRT_ENTRIES_BIG
        } else {
            MRT_ENTRIES_BIG / 2
        };
        self.ioda_fill(IodaTable::Mrt, core::iter::repeat_n(0, mrt as usize));
        self.ioda_fill(
            IodaTable::PestA,
            core::iter::repeat_n(0, self.num_pes as usize),
        );
        self.ioda_fill(
            IodaTable::PestB,
            core::iter::repeat_n(0, self.num_pes as usize),
        );
        self.ioda_fill(
            IodaTable::Peev,
            core::iter::repeat_n(0, self.num_pes.div_ceil(64) as usize),
        );
        self.io
            .write_be64(self.reg(PHB_RTC_INVALIDATE), PHB_RTC_INVALIDATE_ALL);
        self.kill_all()?;
        Ok(())
    }

    /// Returns the PHB's DMA state to power-on: every TVE invalid, every RID
    /// on the reserved PE, no PE frozen, PELTV/PEST zeroed; then
    /// [`ioda_reset`](Self::ioda_reset). The MMIO window stays.
    ///
    /// TVEs held by shared tables are dropped too; the caller must tell the
    /// [`TableRegistry`](super::shared::TableRegistry) (`forget_phb`).
    /// [`Phb4Error::Unsupported`] on an attached PHB (nothing changes).
    pub fn ioda_purge(&mut self) -> Result<(), Phb4Error> {
        self.brought_up()?;
        self.tve_cache.iter_mut().for_each(|t| *t = 0);
        self.tve_shared.iter_mut().for_each(|s| *s = false);
        self.freeze.iter_mut().for_each(|f| *f = Default::default());
        self.rtt_reset()?;
        let owned = self.brought_up_mut()?;
        owned.peltv.zero();
        owned.pest.zero();
        self.ioda_reset()
    }

    /// Programs MMIO window `window` (MBT entries `2w`, `2w+1`) as an M32
    /// window of `size` bytes at CPU address `cpu_base`.
    /// [`Phb4Error::Unsupported`] on an attached PHB (its MMIO windows are
    /// the owner's); [`Phb4Error::Parameter`] for a window the MBT lacks.
    pub fn set_mmio_window(
        &mut self,
        window: usize,
        cpu_base: u64,
        size: u64,
    ) -> Result<(), Phb4Error> {
        let entry = [mbt0_m32(cpu_base), mbt1_mask(size)];
        *self
            .brought_up_mut()?
            .mbt_cache
            .get_mut(window)
            .ok_or(Phb4Error::Parameter)? = entry;
        // A PHB4 (and QEMU's model) decodes the window on each MBT write and
        // copies word 0's enable bit into word 1. Writing the mask first,
        // with its enable bit clear, means the window is never decoded with a
        // stale mask; then word 0 and word 1 both with enable.
        self.ioda_select(IodaTable::Mbt, 2 * window as u32 + 1, false);
        self.io
            .write_be64(self.reg(PHB_IODA_DATA0), entry[1] & !IODA3_MBT1_ENABLE);
        self.ioda_select(IodaTable::Mbt, 2 * window as u32, true);
        self.io.write_be64(self.reg(PHB_IODA_DATA0), entry[0]);
        self.io.write_be64(self.reg(PHB_IODA_DATA0), entry[1]);
        Ok(())
    }
}
