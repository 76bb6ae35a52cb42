//! pnv-iommu: DMA translation for IBM POWER PowerNV machines.
//!
//! The crate owns the PCIe host bridge's translation validation table (TVT) and
//! the TCE tables in memory. It is `no_std` (with `alloc`); the `std` feature and
//! `cfg(test)` add host-side fakes so drivers are tested off target.
//!
//! Modules, one per concept:
//! - [`mmio`]: register access (cache-inhibited on target, recording fake on host).
//! - [`topology`]: what the device tree says (memory, CPUs, XSCOM, PHB stacks, UART).
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod mmio;
pub mod topology;
