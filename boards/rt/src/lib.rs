//! Run-time pieces shared by the bare-metal boards (`qemu-powernv9`, the
//! pnv-iommu firmware and hypervisor, and `papr-guest`, the PAPR
//! conformance guest), one implementation each:
//!
//! - `mem`: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` in
//!   assembly (exported symbols; the musl target expects them from libc).
//! - `unwind`: the `_Unwind_Resume` / `rust_eh_personality` stubs the
//!   prebuilt `core`/`alloc` reference; defined here once for the link.
//! - [`start`]: the start-up path after a board's own MSR set-up
//!   (`enter_rust`), the common exception entry (`exception_common`), and
//!   assembly fragments the boards splice into their `.head` section
//!   ([`load_address!`], [`exception_vectors!`], [`boot_args_block!`]).
//! - [`boot_args`]: the boot-argument block `cargo xtask` patches into the
//!   image, and its reader.
//! - [`exception`]: interrupt vector names; [`spr`]: SPR numbers, readers
//!   and the timebase.
//! - [`fdt`]: the device-tree blob a boot loader passes in r3.
//! - [`edu`]: QEMU's `edu` DMA device, generic over
//!   [`pnv_iommu::mmio::RegisterIo`].
//! - [`phys`]: [`phys::PhysRange`], the one checked way board code reads and
//!   writes memory by physical address (DMA targets, guest memory).
//! - [`no_heap`]: the global allocator of an image without a heap (linking
//!   `pnv-iommu` links `alloc`).
//!
//! The assembly and SPR access exist only on `powerpc64`; everything else
//! builds on the host too, where its unit tests run.
#![cfg_attr(not(test), no_std)]

pub mod boot_args;
/// The boot-argument block's assembly (its home is `pnv-contract`).
pub use pnv_contract::boot_args_block;
pub mod edu;
pub mod exception;
pub mod fdt;
#[cfg(target_arch = "powerpc64")]
mod mem;
pub mod no_heap;
pub mod phys;
pub mod spr;
pub mod start;
#[cfg(target_arch = "powerpc64")]
mod unwind;
