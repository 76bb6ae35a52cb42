//! DMA windows: each PE has two TVEs, selected by PCI address bit 59.
//! Window 0 starts at 0 and serves 32-bit DMA; window 1 starts at `1 << 59`.
//!
//! A window is a TCE table (translated) or a bypass range programmed into a
//! TVE. Every argument is checked before any register is written.

use super::regs::{IodaTable, M32_PCI_START};
use super::tve::{self, BypassTve, DecodedTve, PageSize, TranslatedTve};
use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;

/// PCI address where window 1 starts.
pub const WINDOW1_START: u64 = 1 << tve::WINDOW_SELECT_SHIFT;
/// Windows per PE.
pub const MAX_WINDOWS: u32 = 2;

/// What one PE's DMA windows can be (for DDW queries and OPAL users).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeCapabilities {
    /// PCI start of the 32-bit window (window 0).
    pub window32_start: u64,
    /// Bytes usable for 32-bit DMA (below the M32 MMIO window).
    pub window32_size: u64,
    /// PCI start of the 64-bit window (window 1).
    pub window64_start: u64,
    /// Supported IOMMU page sizes.
    pub page_sizes: [PageSize; 4],
    /// Windows per PE.
    pub max_windows: u32,
    /// Most TCE table levels.
    pub max_levels: u32,
}

/// The OPAL window id of window `n` of `pe`.
pub const fn window_id(pe: u32, n: u32) -> u32 {
    pe * 2 + n
}

/// Splits an OPAL window id, checking it belongs to `pe`.
pub const fn split_window_id(pe: u64, window_id: u64) -> Option<u32> {
    if window_id >> 1 == pe {
        Some((window_id & 1) as u32)
    } else {
        None
    }
}

impl<I: RegisterIo> Phb4<I> {
    /// Capabilities shared by every PE of this PHB.
    pub fn capabilities(&self) -> PeCapabilities {
        PeCapabilities {
            window32_start: 0,
            window32_size: self.config().map_or(M32_PCI_START, |c| c.m32_pci_start),
            window64_start: WINDOW1_START,
            page_sizes: PageSize::ALL,
            max_windows: MAX_WINDOWS,
            max_levels: tve::MAX_LEVELS,
        }
    }

    /// The TVE value hardware should hold for TVT index `w` (0 while the
    /// PE's DMA is frozen).
    pub(crate) fn tve_hw_value(&self, w: u32) -> u64 {
        if self.freeze[(w / 2) as usize].dma {
            0
        } else {
            self.tve_cache[w as usize]
        }
    }

    fn check_window(&self, pe: u64, n: u32) -> Result<u32, Phb4Error> {
        let pe = self.check_pe(pe)?;
        if n >= MAX_WINDOWS {
            return Err(Phb4Error::WindowId);
        }
        Ok(window_id(pe, n))
    }

    /// What window `n` of `pe` currently is.
    pub fn window(&self, pe: u64, n: u32) -> Result<DecodedTve, Phb4Error> {
        let w = self.check_window(pe, n)?;
        Ok(tve::decode(self.tve_cache[w as usize]))
    }

    /// The TVE value firmware holds for window `n` of `pe`.
    pub fn tve(&self, pe: u64, n: u32) -> Result<u64, Phb4Error> {
        Ok(self.tve_cache[self.check_window(pe, n)? as usize])
    }

    /// Writes TVE `w`; if a valid TVE is replaced, kills the PE's TCE cache.
    pub(crate) fn write_tve(&mut self, w: u32, value: u64, shared: bool) -> Result<(), Phb4Error> {
        let old = self.tve_cache[w as usize];
        self.tve_cache[w as usize] = value;
        self.tve_shared[w as usize] = shared;
        self.ioda_write(IodaTable::Tvt, w, self.tve_hw_value(w));
        if old != 0 {
            self.kill_pe((w / 2) as u64)?;
        }
        Ok(())
    }

    fn check_not_shared(&self, w: u32) -> Result<(), Phb4Error> {
        if self.tve_shared[w as usize] {
            Err(Phb4Error::WindowShared)
        } else {
            Ok(())
        }
    }

    /// Sets window `n` of `pe` to the TCE table `table`.
    pub fn map_translated(
        &mut self,
        pe: u64,
        n: u32,
        table: &TranslatedTve,
    ) -> Result<(), Phb4Error> {
        let w = self.check_window(pe, n)?;
        self.check_not_shared(w)?;
        self.write_tve(w, table.encode(), false)
    }

    /// Sets window `n` of `pe` to an untranslated range.
    pub fn map_bypass(&mut self, pe: u64, n: u32, range: &BypassTve) -> Result<(), Phb4Error> {
        let w = self.check_window(pe, n)?;
        if (range.pci_start >> tve::WINDOW_SELECT_SHIFT) != n as u64 {
            return Err(Phb4Error::Tve(tve::TveError::WindowParity));
        }
        self.check_not_shared(w)?;
        self.write_tve(w, range.encode(), false)
    }

    /// Disables window `n` of `pe` (TVE = 0) and kills the PE's TCE cache if
    /// the window was valid.
    pub fn unmap_window(&mut self, pe: u64, n: u32) -> Result<(), Phb4Error> {
        let w = self.check_window(pe, n)?;
        self.check_not_shared(w)?;
        self.write_tve(w, 0, false)
    }

    /// Whether window `n` of `pe` is held by a shared table.
    pub fn window_is_shared(&self, pe: u64, n: u32) -> Result<bool, Phb4Error> {
        Ok(self.tve_shared[self.check_window(pe, n)? as usize])
    }
}
