//! The PHB4 TCE kill as the [`Invalidate`] implementation that
//! [`Gather::flush`](crate::iopt::Gather::flush) drives.

use super::tve::PageSize;
use super::{Phb4, Phb4Error};
use crate::iopt::{Invalidate, IovaRange};
use crate::mmio::RegisterIo;

impl<I: RegisterIo> Invalidate for Phb4<I> {
    type Error = Phb4Error;

    fn invalidate_all(&self) -> Result<(), Phb4Error> {
        Ok(self.kill_all()?)
    }

    fn invalidate_pe(&self, pe: u16) -> Result<(), Phb4Error> {
        self.kill_pe(pe as u64)
    }

    fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), Phb4Error> {
        let page = PageSize::ALL
            .into_iter()
            .find(|p| p.shift() == range.page_shift)
            .ok_or(Phb4Error::Parameter)?;
        let start = range.start & !(page.bytes() - 1);
        self.kill_pages(pe as u64, page, start, range.pages())
    }

    fn sync(&self) -> Result<(), Phb4Error> {
        Ok(self.dma_sync()?)
    }
}
