//! PHB3 DMA windows (two TVE slots per PE, selected by PCI address bit 59)
//! and the TCE kill.
//!
//! The kill is one store to `TCE_KILL` after a `sync`: PHB3's register has
//! no completion status (QEMU's reads back what was written, so a poll for
//! busy bits would never end; Linux and skiboot do not poll either).
//! Formats (Linux's): ALL = IBM bit 0; PE = IBM bit 1 | PE (8 bits); ONE =
//! IBM bit 2 | PE | the page's PCI address, one store per page.

use super::Phb3;
use super::regs::*;
use super::tve::{self, Phb3PageSize};
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;
use crate::phb::tve::DecodedTve;
use crate::phb::tve::MAX_LEVELS;
use crate::phb::{KillScope, PhbCapabilities, PhbError, SLOT1_START};

/// A page-range kill longer than this many pages kills the whole PE
/// instead: one store per page would otherwise be unbounded.
pub const MAX_PAGE_KILLS: u64 = 512;

/// The `TCE_KILL` word killing every cached TCE.
pub const fn tce_kill_all_word() -> u64 {
    TceKill::ALL.bits()
}

/// The `TCE_KILL` word killing one PE.
pub const fn tce_kill_pe_word(pe: u32) -> u64 {
    TceKill::PE.bits() | (pe as u64 & PHB3_TCE_KILL_PENUM)
}

/// The `TCE_KILL` word killing the page at PCI address `dma_addr` of `pe`.
pub const fn tce_kill_page_word(pe: u32, dma_addr: u64) -> u64 {
    TceKill::ONE.bits() | (pe as u64 & PHB3_TCE_KILL_PENUM) | (dma_addr & !PHB3_TCE_KILL_PENUM)
}

impl<I: RegisterIo> Phb3<I> {
    /// What every PE of a PHB3 can have: 256 PEs, 4K/64K/16M/256M pages,
    /// 5 levels, slot 1 at 2^59, 2 GiB of 32-bit DMA below the M32 window.
    pub fn capabilities(&self) -> PhbCapabilities {
        PhbCapabilities {
            num_pes: PHB3_NUM_PES,
            page_shifts: Phb3PageSize::mask(),
            max_levels: MAX_LEVELS,
            slot_starts: [0, SLOT1_START],
            window32_size: super::M32_PCI_START,
        }
    }

    fn kill_word(&self, word: u64) {
        self.io.barrier();
        self.io.write_be64(self.reg(PHB_TCE_KILL), word);
    }

    /// Invalidates the whole TCE cache (one store).
    pub fn kill_all(&self) {
        self.kill_word(tce_kill_all_word());
    }

    /// Invalidates every cached TCE of `pe` (one store).
    pub fn kill_pe(&self, pe: u64) -> Result<(), PhbError> {
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
    ) -> Result<(), PhbError> {
        let pe = self.check_pe(pe)?;
        crate::phb::check_page_kill(page.bytes(), dma_addr, npages)?;
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

    /// Performs `scope` (a page kill with a page size PHB3 lacks is
    /// [`PhbError::Parameter`]).
    pub fn tce_kill(&self, scope: KillScope) -> Result<(), PhbError> {
        match scope {
            KillScope::All => {
                self.kill_all();
                Ok(())
            }
            KillScope::Pe(pe) => self.kill_pe(pe),
            KillScope::Pages {
                pe,
                page_shift,
                dma_addr,
                npages,
            } => {
                let page = Phb3PageSize::from_shift(page_shift).ok_or(PhbError::Parameter)?;
                self.kill_pages(pe, page, dma_addr, npages)
            }
        }
    }

    /// What `slot` of `pe` currently is.
    pub fn window(&self, pe: u64, slot: u32) -> Result<DecodedTve, PhbError> {
        Ok(tve::decode(self.tve(pe, slot)?))
    }

    crate::phb::ioda::ioda_dma_methods!();
}

/// The PHB3 TCE kill as the [`Invalidate`](crate::iopt::Invalidate)
/// implementation [`Gather::flush`](crate::iopt::Gather::flush) drives.
/// `sync` has nothing to wait for: a PHB3 kill is one store, with no
/// status to poll.
impl<I: RegisterIo> crate::iopt::Invalidate for Phb3<I> {
    type Error = PhbError;

    fn invalidate_all(&self) -> Result<(), PhbError> {
        self.tce_kill(KillScope::All)
    }

    fn invalidate_pe(&self, pe: u16) -> Result<(), PhbError> {
        self.tce_kill(KillScope::Pe(pe as u64))
    }

    fn invalidate_range(&self, pe: u16, range: crate::iopt::IovaRange) -> Result<(), PhbError> {
        let page = Phb3PageSize::from_shift(range.page_shift).ok_or(PhbError::Parameter)?;
        self.kill_pages(
            pe as u64,
            page,
            range.start & !(page.bytes() - 1),
            range.pages(),
        )
    }

    fn sync(&self) -> Result<(), PhbError> {
        Ok(())
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
