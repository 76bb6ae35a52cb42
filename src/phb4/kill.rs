//! TCE-cache invalidation ("TCE kill") and the DMA read sync that completes it.
//!
//! Sequence for every kill:
//! 1. `sync`, so TCE stores reach memory before the PHB re-reads them;
//! 2. wait until `TCE_KILL` has a free slot (ALL/PE/ONE bits clear);
//! 3. write the kill word;
//! 4. start a DMA read sync (`DMA_READ_WRITE_SYNC` = READ_SYNC_START; on
//!    PHB5 a read-modify-write keeping the completion bits);
//! 5. wait for `Q_DMA_R.TCE_KILL_STATUS` to clear;
//! 6. wait for `DMA_READ_WRITE_SYNC.READ_SYNC_COMPLETE`.
//!
//! Every wait is bounded and returns [`KillError::Timeout`]; a register
//! reading all-ones means the PHB is fenced ([`KillError::Fenced`]).
//!
//! Page kills can be dropped by PHB4 hardware when its queue is backed up
//! (erratum HW560152), so a page-range kill is validated like a page kill and
//! then performed as a kill of the whole PE.

use super::regs::*;
use super::tve::PageSize;
use super::{Phb4, Phb4Error, Phb4Family};
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;

/// Default number of reads of a status register before giving up.
pub const DEFAULT_POLL_LIMIT: u32 = 100_000;

pub use crate::phb::{KillError, KillScope};

/// The `TCE_KILL` word killing one page (the form hardware takes; see the
/// module docs for why the driver kills the PE instead).
pub const fn tce_kill_page_word(pe: u32, page: PageSize, dma_addr: u64) -> u64 {
    let psel = match page {
        PageSize::Size4K => 0,
        PageSize::Size64K => TceKill::PSEL.bits() | PHB_TCE_KILL_64K,
        PageSize::Size2M => TceKill::PSEL.bits() | PHB_TCE_KILL_2M,
        PageSize::Size1G => TceKill::PSEL.bits() | PHB_TCE_KILL_1G,
    };
    TceKill::ONE.bits() | psel | (dma_addr & !PHB_TCE_KILL_PENUM) | (pe as u64 & PHB_TCE_KILL_PENUM)
}

/// The `TCE_KILL` word killing one PE.
pub const fn tce_kill_pe_word(pe: u32) -> u64 {
    TceKill::PE.bits() | ppc_field(PHB_TCE_KILL_PENUM, pe as u64)
}

impl<I: RegisterIo> Phb4<I> {
    fn poll(&self, off: u64, mask: u64, want: u64) -> Result<(), KillError> {
        for _ in 0..self.poll_limit {
            let v = self.io.read_be64(self.reg(off));
            if v == u64::MAX {
                return Err(KillError::Fenced);
            }
            if v & mask == want {
                return Ok(());
            }
        }
        Err(KillError::Timeout { reg: off })
    }

    fn kill_word(&self, word: u64) -> Result<(), KillError> {
        self.io.barrier();
        self.poll(PHB_TCE_KILL, TceKill::BUSY.bits(), 0)?;
        self.io.write_be64(self.reg(PHB_TCE_KILL), word);
        self.dma_sync()
    }

    /// Starts a DMA read sync and waits for the pending kill and the sync.
    ///
    /// PHB5 starts the sync with a read-modify-write that keeps the two
    /// completion bits ([`PHB_DMA_SYNC_KEEP_PHB5`]), as skiboot does on
    /// POWER10; PHB4 writes the start bit alone.
    pub fn dma_sync(&self) -> Result<(), KillError> {
        let start = match self.family {
            Phb4Family::Phb4 => PHB_DMA_READ_SYNC_START,
            Phb4Family::Phb5 => {
                let v = self.io.read_be64(self.reg(PHB_DMA_READ_WRITE_SYNC));
                (v & PHB_DMA_SYNC_KEEP_PHB5) | PHB_DMA_READ_SYNC_START
            }
        };
        self.io.write_be64(self.reg(PHB_DMA_READ_WRITE_SYNC), start);
        self.poll(PHB_Q_DMA_R, PHB_Q_DMA_R_TCE_KILL_STATUS, 0)?;
        self.poll(
            PHB_DMA_READ_WRITE_SYNC,
            PHB_DMA_READ_SYNC_COMPLETE,
            PHB_DMA_READ_SYNC_COMPLETE,
        )
    }

    /// Invalidates the whole TCE cache.
    pub fn kill_all(&self) -> Result<(), KillError> {
        self.kill_word(TceKill::ALL.bits())
    }

    /// Invalidates every cached TCE of `pe`.
    pub fn kill_pe(&self, pe: u64) -> Result<(), Phb4Error> {
        let pe = self.check_pe(pe)?;
        Ok(self.kill_word(tce_kill_pe_word(pe))?)
    }

    /// Invalidates `npages` pages of `page` size from `dma_addr` in `pe`.
    ///
    /// The address must be page aligned with bits 63..60 clear, and the range
    /// must not overflow; nothing is written otherwise.
    pub fn kill_pages(
        &self,
        pe: u64,
        page: PageSize,
        dma_addr: u64,
        npages: u64,
    ) -> Result<(), Phb4Error> {
        let pe = self.check_pe(pe)?;
        crate::phb::check_page_kill(page.bytes(), dma_addr, npages)?;
        // Erratum HW560152: page kills may be lost; kill the PE instead.
        Ok(self.kill_word(tce_kill_pe_word(pe))?)
    }

    /// Performs `scope`; a page size PHB4 does not support is refused
    /// ([`TveError::PageSize`](super::tve::TveError::PageSize)).
    pub fn tce_kill(&self, scope: KillScope) -> Result<(), Phb4Error> {
        match scope {
            KillScope::All => Ok(self.kill_all()?),
            KillScope::Pe(pe) => self.kill_pe(pe),
            KillScope::Pages {
                pe,
                page_shift,
                dma_addr,
                npages,
            } => {
                let page = PageSize::from_shift(page_shift)
                    .ok_or(Phb4Error::Tve(super::tve::TveError::PageSize))?;
                self.kill_pages(pe, page, dma_addr, npages)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_words() {
        assert_eq!(tce_kill_pe_word(5), 0x4000_0000_0000_0005);
        assert_eq!(tce_kill_pe_word(511), 0x4000_0000_0000_01ff);
        assert_eq!(
            tce_kill_page_word(3, PageSize::Size4K, 0x1234_5000),
            0x2000_0000_1234_5003
        );
        assert_eq!(
            tce_kill_page_word(3, PageSize::Size64K, (1 << 59) | 0x10000),
            0x3800_0000_0001_1003
        );
        assert_eq!(
            tce_kill_page_word(0, PageSize::Size1G, 0x4000_0000),
            0x3000_0000_4000_3000
        );
    }
}
