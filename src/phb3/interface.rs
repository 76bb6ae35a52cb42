//! PHB3 as the generation-neutral [`Phb`](crate::phb::Phb): every call is
//! the driver's own method of the same name (`crate::phb::impl_phb`). On
//! an attached PHB3, `set_pe`, freeze, the DMA-state reset and enumeration
//! return [`PhbError::Unsupported`](crate::phb::PhbError::Unsupported) (the
//! owner's tables), as on an attached PHB4. OPAL's `tce_kill` is not served
//! on PHB3 (`opal_tce_kill` is false): skiboot has no PHB3 kill call either
//! (the OS writes the register itself); the driver's kill still serves
//! every other caller (window changes, the hypervisor).

use super::Phb3;

crate::phb::impl_phb!(Phb3 {
    fn opal_tce_kill(&self) -> bool {
        false
    }
});
