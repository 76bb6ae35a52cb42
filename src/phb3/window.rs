//! PHB3 DMA windows (two TVEs per PE, selected by PCI address bit 59) and
//! the TCE kill.
//!
//! The kill is one store to `TCE_KILL` after a `sync`: PHB3's register has
//! no completion status (QEMU's reads back what was written, so a poll for
//! busy bits would never end; Linux and skiboot do not poll either).
//! Formats (Linux's): ALL = IBM bit 0; PE = IBM bit 1 | PE (8 bits); ONE =
//! IBM bit 2 | PE | the page's PCI address, one store per page.

use super::Phb3;
use super::regs::*;
use super::tve::{self, Phb3PageSize, Phb3TranslatedTve};
use crate::mmio::RegisterIo;
use crate::phb4::Phb4Error;
use crate::phb4::tve::{BypassTve, DecodedTve, TveError, WINDOW_SELECT_SHIFT};
use crate::phb4::window::{MAX_WINDOWS, window_id};

/// A page-range kill longer than this many pages kills the whole PE
/// instead: one store per page would otherwise be unbounded.
pub const MAX_PAGE_KILLS: u64 = 512;

/// The `TCE_KILL` word killing every cached TCE.
pub const fn tce_kill_all_word() -> u64 {
    PHB_TCE_KILL_ALL
}

/// The `TCE_KILL` word killing one PE.
pub const fn tce_kill_pe_word(pe: u32) -> u64 {
    PHB_TCE_KILL_PE | (pe as u64 & PHB3_TCE_KILL_PENUM)
}

/// The `TCE_KILL` word killing the page at PCI address `dma_addr` of `pe`.
pub const fn tce_kill_page_word(pe: u32, dma_addr: u64) -> u64 {
    PHB_TCE_KILL_ONE | (pe as u64 & PHB3_TCE_KILL_PENUM) | (dma_addr & !PHB3_TCE_KILL_PENUM)
}

impl<I: RegisterIo> Phb3<I> {
    fn kill_word(&self, word: u64) {
        self.io.barrier();
        self.io.write_be64(self.reg(PHB_TCE_KILL), word);
    }

    /// Invalidates the whole TCE cache.
    pub fn kill_all(&self) {
        self.kill_word(tce_kill_all_word());
    }

    /// Invalidates every cached TCE of `pe`.
    pub fn kill_pe(&self, pe: u64) -> Result<(), Phb4Error> {
        let pe = self.check_pe(pe)?;
        self.kill_word(tce_kill_pe_word(pe));
        Ok(())
    }

    /// Invalidates `npages` pages of `page` size from `dma_addr` in `pe`:
    /// one store per page, or one PE kill past [`MAX_PAGE_KILLS`] pages.
    /// The address must be page aligned with bits 63..60 clear and the
    /// range must not overflow; nothing is written otherwise.
    pub fn kill_pages(
        &self,
        pe: u64,
        page: Phb3PageSize,
        dma_addr: u64,
        npages: u64,
    ) -> Result<(), Phb4Error> {
        let pe = self.check_pe(pe)?;
        if dma_addr & (0xf << 60 | (page.bytes() - 1)) != 0 {
            return Err(Phb4Error::Parameter);
        }
        let end = npages
            .checked_mul(page.bytes())
            .and_then(|len| dma_addr.checked_add(len))
            .ok_or(Phb4Error::Parameter)?;
        if end > 1 << 60 {
            return Err(Phb4Error::Parameter);
        }
        if npages > MAX_PAGE_KILLS {
            self.kill_word(tce_kill_pe_word(pe));
            return Ok(());
        }
        self.io.barrier();
        for i in 0..npages {
            let addr = dma_addr + i * page.bytes();
            self.io
                .write_be64(self.reg(PHB_TCE_KILL), tce_kill_page_word(pe, addr));
        }
        Ok(())
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

    /// The TVE value firmware holds for window `n` of `pe`.
    pub fn tve(&self, pe: u64, n: u32) -> Result<u64, Phb4Error> {
        Ok(self.tve_cache[self.check_window(pe, n)? as usize])
    }

    /// What window `n` of `pe` currently is.
    pub fn window(&self, pe: u64, n: u32) -> Result<DecodedTve, Phb4Error> {
        let v = self.tve(pe, n)?;
        if v & 0x1f == 0 && v & tve::IODA2_TVT_NON_TRANSLATE != 0 {
            let start = ((v >> 40) & 0xff_ffff) << 24 | ((v >> 10) & 3) << 48;
            let end = ((v >> 16) & 0xff_ffff) << 24 | ((v >> 8) & 3) << 48;
            return Ok(DecodedTve::Bypass { start, end });
        }
        Ok(crate::phb4::tve::decode(v))
    }

    /// Writes TVE `w`; if a valid TVE is replaced, kills the PE's TCE cache.
    pub(crate) fn write_tve(&mut self, w: u32, value: u64, shared: bool) -> Result<(), Phb4Error> {
        let old = self.tve_cache[w as usize];
        self.tve_cache[w as usize] = value;
        self.tve_shared[w as usize] = shared;
        self.ioda_write(Ioda2Table::Tvt, w, self.tve_hw_value(w));
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
        table: &Phb3TranslatedTve,
    ) -> Result<(), Phb4Error> {
        let w = self.check_window(pe, n)?;
        self.check_not_shared(w)?;
        self.write_tve(w, table.encode(), false)
    }

    /// Sets window `n` of `pe` to an untranslated range (checked like
    /// PHB4's: QEMU's PHB3 ignores the range, hardware does not).
    pub fn map_bypass(&mut self, pe: u64, n: u32, range: &BypassTve) -> Result<(), Phb4Error> {
        let w = self.check_window(pe, n)?;
        if (range.pci_start >> WINDOW_SELECT_SHIFT) != n as u64 {
            return Err(Phb4Error::Tve(TveError::WindowParity));
        }
        self.check_not_shared(w)?;
        self.write_tve(w, tve::encode_bypass(range), false)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_words() {
        assert_eq!(tce_kill_all_word(), 0x8000_0000_0000_0000);
        assert_eq!(tce_kill_pe_word(5), 0x4000_0000_0000_0005);
        assert_eq!(tce_kill_pe_word(255), 0x4000_0000_0000_00ff);
        assert_eq!(tce_kill_page_word(7, 0x1234_5000), 0x2000_0000_1234_5007);
        assert_eq!(
            tce_kill_page_word(7, (1 << 59) | 0x1_0000),
            0x2800_0000_0001_0007
        );
    }
}

/// The PHB3 TCE kill as the [`Invalidate`](crate::iopt::Invalidate)
/// implementation [`Gather::flush`](crate::iopt::Gather::flush) drives.
/// `sync` is a `sync` instruction: a PHB3 kill is complete once its store
/// has reached the PHB (there is no status to wait for).
impl<I: RegisterIo> crate::iopt::Invalidate for Phb3<I> {
    type Error = Phb4Error;

    fn invalidate_all(&self) -> Result<(), Phb4Error> {
        self.kill_all();
        Ok(())
    }

    fn invalidate_pe(&self, pe: u16) -> Result<(), Phb4Error> {
        self.kill_pe(pe as u64)
    }

    fn invalidate_range(&self, pe: u16, range: crate::iopt::IovaRange) -> Result<(), Phb4Error> {
        let page = Phb3PageSize::ALL
            .into_iter()
            .find(|p| p.shift() == range.page_shift)
            .ok_or(Phb4Error::Parameter)?;
        let start = range.start & !(page.bytes() - 1);
        self.kill_pages(pe as u64, page, start, range.pages())
    }

    fn sync(&self) -> Result<(), Phb4Error> {
        self.io.barrier();
        Ok(())
    }
}
