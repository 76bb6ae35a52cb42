//! Partitionable endpoints: the RID translation table (RTT) in memory and
//! the EEH freeze state, with the logic every generation shares
//! ([`crate::phb::ioda`]).

pub use crate::phb::pe::{BusCompare, FreezeState, RidMatch};

use super::{Phb4, Phb4Error};
use crate::mmio::RegisterIo;
use crate::phb::ioda::IodaDma;

impl<I: RegisterIo> Phb4<I> {
    /// The freeze state of `pe`. Freeze state is kept by the firmware that
    /// brought the PHB up: [`Phb4Error::Unsupported`] on an attached PHB.
    pub fn freeze_state(&self, pe: u64) -> Result<FreezeState, Phb4Error> {
        let state = self.pe_freeze_state(pe)?;
        self.check_owned()?;
        Ok(state)
    }
}
