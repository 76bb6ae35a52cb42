//! PHB4 as the generation-neutral [`Phb`](crate::phb::Phb): every call is
//! the driver's own method of the same name (`crate::phb::impl_phb`);
//! `set_pe`, freeze, the DMA-state reset and enumeration need the tables a
//! bring-up owns and return
//! [`PhbError::Unsupported`](crate::phb::PhbError::Unsupported) on an
//! attached PHB.

use super::Phb4;

crate::phb::impl_phb!(Phb4 {});
