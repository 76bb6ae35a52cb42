//! The PHB4 TCE kill as the [`Invalidate`] implementation that
//! [`Gather::flush`](crate::iopt::Gather::flush) drives.
//!
//! Every kill waits for its DMA read sync before it returns (see
//! [`kill`](super::kill)), so [`sync`](Invalidate::sync) has nothing left to
//! wait for: a flush waits once per kill, not twice.

use super::{Phb4, Phb4Error};
use crate::iopt::{Invalidate, IovaRange};
use crate::mmio::RegisterIo;
use crate::phb::KillScope;

impl<I: RegisterIo> Invalidate for Phb4<I> {
    type Error = Phb4Error;

    fn invalidate_all(&self) -> Result<(), Phb4Error> {
        self.tce_kill(KillScope::All)
    }

    fn invalidate_pe(&self, pe: u16) -> Result<(), Phb4Error> {
        self.tce_kill(KillScope::Pe(pe as u64))
    }

    fn invalidate_range(&self, pe: u16, range: IovaRange) -> Result<(), Phb4Error> {
        self.tce_kill(KillScope::pages_of(pe as u64, range)?)
    }

    fn sync(&self) -> Result<(), Phb4Error> {
        Ok(())
    }
}
