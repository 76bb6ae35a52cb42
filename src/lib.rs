//! pnv-iommu: DMA translation for IBM POWER PowerNV machines.
//!
//! The crate owns the PCIe host bridge's translation validation table (TVT) and
//! the TCE tables in memory. It is `no_std` (with `alloc`); the `std` feature and
//! `cfg(test)` add host-side fakes so drivers are tested off target.
//!
//! Modules, one per concept:
//! - [`mmio`]: register access (cache-inhibited on target, recording fake on host).
//! - [`topology`]: what the device tree says (memory, CPUs, XSCOM, PHB stacks, UART).
//! - [`phb`]: the PHB interface every generation implements (capabilities, TVE slots,
//!   kills, optional PE/freeze/reset calls), the translated TVE, shared tables.
//! - [`phb3`]: the POWER8 PHB3 driver (IODA2; PBCQ BARs, config space, RTT/PE, TCE kill, windows).
//! - [`phb4`]: the POWER9 PHB4 driver (bring-up or attach, config space, IODA, RTT/PE,
//!   TCE kill, windows).
//! - [`phb5`]: the POWER10 PHB5 (the PHB4 driver with POWER10's map, layout and kill sync).
//! - [`opal`]: OPAL-style DMA-window calls and return codes over a set of [`phb::Phb`]s.
//! - [`tce`]: TCE tables (multi-level, levels on demand), the TVE encoder, a reference walker.
//! - [`page_alloc`]: zeroed, naturally aligned blocks for memory the PHB reads.
//! - [`iopt`]: the format-agnostic I/O page-table interface, gather and invalidation.
//! - [`papr`]: the PAPR hypervisor side: partitions, LIOBNs, TCE hypercalls, DDW RTAS calls.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod iopt;
pub mod mmio;
pub mod opal;
pub mod page_alloc;
pub mod papr;
pub mod phb;
pub mod phb3;
pub mod phb4;
pub mod phb5;
pub mod tce;
#[cfg(test)]
mod test_rand;
pub mod topology;
