//! The PHB interface: what the upper layers ([`opal`](crate::opal),
//! [`papr`](crate::papr), the C ABI) need from a PCIe host bridge of any
//! generation, as one trait, [`Phb`].
//!
//! A PHB has `num_pes` partitionable endpoints (PEs); each PE has two TVE
//! slots, selected by PCI address bit 59 ([`WINDOW_SELECT_SHIFT`]): slot 0
//! from bus address 0 (32-bit DMA), slot 1 from [`SLOT1_START`]. A slot holds
//! a [`DmaWindow`]: a TCE table (translated), an untranslated range (bypass)
//! or nothing. What a generation can do is in its [`PhbCapabilities`]; the
//! calls a generation (or a PHB attached after another firmware's bring-up)
//! cannot serve return [`PhbError::Unsupported`], which OPAL reports as
//! `OPAL_UNSUPPORTED`.
//!
//! - [`tve`]: the translated TVE, whose layout IODA2 (PHB3) and IODA3
//!   (PHB4, PHB5) share;
//! - [`slots`]: the TVE values firmware wants for every slot, the source of
//!   truth a generation writes its TVT from;
//! - [`pci`]: PCI function addresses and what enumeration finds;
//! - [`config`]: config space through CONFIG_ADDRESS/CONFIG_DATA;
//! - [`enumerate`]: finding the functions behind a root port and placing
//!   their BARs, over any generation's config space ([`enumerate::PciHost`]);
//! - [`pe`]: RID→PE rules (`set_pe`) and EEH freeze state;
//! - [`regs`]: the registers every generation has at the same offset;
//! - [`ioda`]: the window, RTT and freeze logic IODA2 and IODA3 share, over
//!   the few hardware steps each generation provides ([`ioda::IodaDma`]);
//! - [`dmamem`]: the memory the PHB reads (RTT, PELT-V, PEST);
//! - [`shared`]: tables shared by several PEs, over any [`Phb`].
//!
//! Each generation is one module implementing [`Phb`]:
//! [`phb3`](crate::phb3) (POWER8), [`phb4`](crate::phb4) (POWER9; PHB5 on
//! POWER10 is the same driver, [`phb5`](crate::phb5)), each brought up by
//! its `init` or attached by its `attach`; adding one touches nothing
//! above the trait. A generation keeps the TVE it wants in
//! each slot, and which slots shared tables hold, in a [`slots::TveSlots`]
//! (the source of truth its TVT is written from); the argument checks of
//! [`slots::TveSlots::index`] give every generation the same PE and slot
//! errors. Upper layers hold a mix of generations as `Box<dyn Phb>`
//! (the C ABI does), one generation as `P: Phb`, and the hypervisor a PHB as
//! [`LockedPhb`](crate::papr::LockedPhb).

#![deny(unsafe_code)]

// The memory the PHB reads is reached through volatile pointers: the one
// module here with `unsafe`, each block argued.
pub mod config;
#[allow(unsafe_code)]
pub mod dmamem;
pub mod enumerate;
pub mod ioda;
pub mod pci;
pub mod pe;
pub mod regs;
pub mod shared;
pub mod slots;
pub mod tve;

use alloc::boxed::Box;
use alloc::vec::Vec;
use pci::PciFunction;
use pe::{FreezeState, RidMatch};
use tve::{TranslatedTve, TveError};

/// Bit of the PCI address that selects one of a PE's two TVE slots.
pub const WINDOW_SELECT_SHIFT: u32 = 59;
/// Bus address where slot 1's window starts.
pub const SLOT1_START: u64 = 1 << WINDOW_SELECT_SHIFT;
/// TVE slots per PE.
pub const SLOTS_PER_PE: u32 = 2;

/// What a PHB's PEs can have as DMA windows (the same for every PE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhbCapabilities {
    /// Number of PEs; the last (`num_pes - 1`) is reserved for unmapped RIDs.
    pub num_pes: u32,
    /// Supported IOMMU page sizes: bit `s` set for pages of `1 << s` bytes.
    pub page_shifts: u64,
    /// Most TCE table levels.
    pub max_levels: u32,
    /// Bus address where each slot's window starts.
    pub slot_starts: [u64; SLOTS_PER_PE as usize],
    /// Bytes of slot 0 usable for 32-bit DMA (below the 32-bit MMIO window).
    pub window32_size: u64,
}

impl PhbCapabilities {
    /// Whether pages of `1 << page_shift` bytes are supported.
    pub const fn supports_page(&self, page_shift: u32) -> bool {
        page_shift < 64 && self.page_shifts & (1 << page_shift) != 0
    }

    /// The PE every unmapped RID uses; never given to devices.
    pub const fn reserved_pe(&self) -> u32 {
        self.num_pes - 1
    }

    /// The page sizes as a DDW page mask (`ibm,query-pe-dma-window`): the
    /// supported sizes that have a mask bit.
    pub const fn ddw_page_mask(&self) -> u32 {
        crate::papr::ddw_page_mask(self.page_shifts)
    }
}

/// What a TVE slot is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaWindow {
    /// No DMA through the slot (TVE invalid).
    Off,
    /// A TCE table.
    Translated(TranslatedTve),
    /// The untranslated range `[pci_start, pci_start + size)` mapped 1:1
    /// onto memory; `pci_start` includes the slot-select bit 59.
    Bypass {
        /// First bus address.
        pci_start: u64,
        /// Size in bytes.
        size: u64,
    },
}

/// What a TCE kill invalidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillScope {
    /// The whole TCE cache.
    All,
    /// Every cached TCE of one PE.
    Pe(u64),
    /// `npages` pages of `1 << page_shift` bytes from bus address `dma_addr`
    /// of `pe`.
    Pages {
        /// PE number.
        pe: u64,
        /// log2 of the IOMMU page size of the window.
        page_shift: u32,
        /// Bus address of the first page (slot-select bit 59 included).
        dma_addr: u64,
        /// Number of pages.
        npages: u64,
    },
}

impl KillScope {
    /// The page kill covering `range` of `pe` (its start rounded down to a
    /// page): what a gather flush asks for.
    pub fn pages_of(pe: u64, range: crate::iopt::IovaRange) -> Result<KillScope, PhbError> {
        let page = 1u64
            .checked_shl(range.page_shift)
            .ok_or(PhbError::Tve(TveError::PageSize))?;
        Ok(KillScope::Pages {
            pe,
            page_shift: range.page_shift,
            dma_addr: range.start & !(page - 1),
            npages: range.pages(),
        })
    }
}

/// Checks the arguments of a page-range kill as every generation does:
/// `dma_addr` aligned to `page_bytes` (a power of two) with bits 63..60
/// clear, and `npages` pages from it neither overflowing nor reaching past
/// 2^60. [`PhbError::Parameter`] otherwise.
pub fn check_page_kill(page_bytes: u64, dma_addr: u64, npages: u64) -> Result<(), PhbError> {
    if dma_addr & (0xf << 60 | (page_bytes - 1)) != 0 {
        return Err(PhbError::Parameter);
    }
    let end = npages
        .checked_mul(page_bytes)
        .and_then(|len| dma_addr.checked_add(len))
        .ok_or(PhbError::Parameter)?;
    if end > 1 << 60 {
        return Err(PhbError::Parameter);
    }
    Ok(())
}

/// A kill or sync did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillError {
    /// The status bit did not reach its value; `reg` is the register offset.
    Timeout {
        /// PHB register offset that was polled.
        reg: u64,
    },
    /// The register read all-ones: the PHB is fenced.
    Fenced,
}

/// Why a PHB call was refused (a refused call changes nothing, except where
/// a kill fails after its TVE was written, as documented there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhbError {
    /// The PHB reads all-ones or reports no PEs (fenced or absent).
    Broken,
    /// No memory for the in-memory tables.
    NoMemory,
    /// A configuration value is unusable (window size not a power of two...).
    BadConfig,
    /// PE number at or above the PHB's PE count.
    PeRange,
    /// Slot number not 0 or 1 (or OPAL window id not `pe*2 + slot`).
    WindowId,
    /// Invalid TVE arguments.
    Tve(TveError),
    /// Invalid argument of another call.
    Parameter,
    /// A slot is held by a shared table and must be unset through it.
    WindowShared,
    /// A hardware poll did not finish.
    Kill(KillError),
    /// Config-space access to a device that is not there.
    NoDevice,
    /// Device BARs do not fit in the MMIO window.
    NoMmioSpace,
    /// The generation has no such call, or the call needs tables or windows
    /// this driver does not own (a PHB attached after another firmware
    /// brought it up).
    Unsupported,
}

impl From<TveError> for PhbError {
    fn from(e: TveError) -> Self {
        PhbError::Tve(e)
    }
}

impl From<KillError> for PhbError {
    fn from(e: KillError) -> Self {
        PhbError::Kill(e)
    }
}

/// A PCIe host bridge as the upper layers see it, whatever its generation
/// and however it came to be (brought up here, or attached).
///
/// Every call checks all of its arguments before it writes a register.
/// Slot calls take `pe` as `u64` (the OPAL width) and refuse a PE at or
/// above `num_pes` with [`PhbError::PeRange`], a slot other than 0 or 1 with
/// [`PhbError::WindowId`].
pub trait Phb {
    /// What the PHB's PEs can have.
    fn capabilities(&self) -> PhbCapabilities;

    /// CPU address of the PHB's registers: two drivers must not share it.
    fn regs_base(&self) -> u64;

    /// Sets `slot` of `pe` to `window`. If a valid TVE is replaced, the PE's
    /// TCE cache is killed before returning (if that kill fails, the new TVE
    /// is in place and the error is returned). A slot held by a shared table
    /// is refused ([`PhbError::WindowShared`]).
    fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), PhbError>;

    /// The TVE value firmware holds for `slot` of `pe` (what the TVT holds
    /// unless the PE is DMA-frozen).
    fn tve(&self, pe: u64, slot: u32) -> Result<u64, PhbError>;

    /// Whether `slot` of `pe` is held by a shared table.
    fn slot_is_shared(&self, pe: u64, slot: u32) -> Result<bool, PhbError>;

    /// For the [`shared::TableRegistry`] only: sets `slot` of `pe` to the
    /// shared `table` and marks it held (`Some`), or clears it and releases
    /// it (`None`), whether or not it was held. Kills as
    /// [`set_window`](Self::set_window) does.
    fn set_shared_slot(
        &mut self,
        pe: u64,
        slot: u32,
        table: Option<&TranslatedTve>,
    ) -> Result<(), PhbError>;

    /// Invalidates `scope` of the TCE cache and waits until the PHB no
    /// longer uses what was invalidated (every wait bounded).
    fn kill(&self, scope: KillScope) -> Result<(), PhbError>;

    /// Whether the OPAL `tce_kill` call is served for this PHB. PHB3 says
    /// no, as skiboot does (it has no PHB3 kill call; the OS writes the
    /// kill register itself), and OPAL answers `OPAL_UNSUPPORTED`;
    /// [`kill`](Self::kill) serves every other caller on every generation.
    fn opal_tce_kill(&self) -> bool {
        true
    }

    /// Maps every RID that equals `rid` under `rule` to `pe` (or, with
    /// `map == false`, back to the reserved PE), then invalidates the RID
    /// cache; returns the number of RTT entries written.
    fn set_pe(&mut self, pe: u64, rid: u16, rule: RidMatch, map: bool) -> Result<u32, PhbError> {
        let _ = (pe, rid, rule, map);
        Err(PhbError::Unsupported)
    }

    /// The EEH freeze state of `pe`.
    fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        let _ = pe;
        Err(PhbError::Unsupported)
    }

    /// Freezes MMIO and/or DMA of `pe`.
    fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        let _ = (pe, mmio, dma);
        Err(PhbError::Unsupported)
    }

    /// Clears the MMIO and/or DMA freeze of `pe`.
    fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        let _ = (pe, mmio, dma);
        Err(PhbError::Unsupported)
    }

    /// Returns the PHB's DMA state to power-on (every TVE invalid, every RID
    /// on the reserved PE, no PE frozen), shared slots included.
    fn reset_dma_state(&mut self) -> Result<(), PhbError> {
        Err(PhbError::Unsupported)
    }

    /// Finds the functions behind the root port and assigns their BARs.
    fn enumerate(&mut self) -> Result<Vec<PciFunction>, PhbError> {
        Err(PhbError::Unsupported)
    }
}

impl<P: Phb + ?Sized> Phb for Box<P> {
    fn capabilities(&self) -> PhbCapabilities {
        (**self).capabilities()
    }
    fn regs_base(&self) -> u64 {
        (**self).regs_base()
    }
    fn set_window(&mut self, pe: u64, slot: u32, window: &DmaWindow) -> Result<(), PhbError> {
        (**self).set_window(pe, slot, window)
    }
    fn tve(&self, pe: u64, slot: u32) -> Result<u64, PhbError> {
        (**self).tve(pe, slot)
    }
    fn slot_is_shared(&self, pe: u64, slot: u32) -> Result<bool, PhbError> {
        (**self).slot_is_shared(pe, slot)
    }
    fn set_shared_slot(
        &mut self,
        pe: u64,
        slot: u32,
        table: Option<&TranslatedTve>,
    ) -> Result<(), PhbError> {
        (**self).set_shared_slot(pe, slot, table)
    }
    fn kill(&self, scope: KillScope) -> Result<(), PhbError> {
        (**self).kill(scope)
    }
    fn opal_tce_kill(&self) -> bool {
        (**self).opal_tce_kill()
    }
    fn set_pe(&mut self, pe: u64, rid: u16, rule: RidMatch, map: bool) -> Result<u32, PhbError> {
        (**self).set_pe(pe, rid, rule, map)
    }
    fn freeze_state(&self, pe: u64) -> Result<FreezeState, PhbError> {
        (**self).freeze_state(pe)
    }
    fn freeze_set(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        (**self).freeze_set(pe, mmio, dma)
    }
    fn freeze_clear(&mut self, pe: u64, mmio: bool, dma: bool) -> Result<(), PhbError> {
        (**self).freeze_clear(pe, mmio, dma)
    }
    fn reset_dma_state(&mut self) -> Result<(), PhbError> {
        (**self).reset_dma_state()
    }
    fn enumerate(&mut self) -> Result<Vec<PciFunction>, PhbError> {
        (**self).enumerate()
    }
}

/// [`Phb`] for a generation's driver `$driver<I>`: every call is the
/// driver's own method of the same name, or [`ioda::IodaDma`]'s shared
/// logic for the shared-slot calls. `$extra` overrides a provided call
/// (PHB3's `opal_tce_kill`).
macro_rules! impl_phb {
    ($driver:ident { $($extra:item)* }) => {
        impl<I: $crate::mmio::RegisterIo> $crate::phb::Phb for $driver<I> {
            fn capabilities(&self) -> $crate::phb::PhbCapabilities {
                Self::capabilities(self)
            }
            fn regs_base(&self) -> u64 {
                Self::regs_base(self)
            }
            fn set_window(
                &mut self,
                pe: u64,
                slot: u32,
                window: &$crate::phb::DmaWindow,
            ) -> Result<(), $crate::phb::PhbError> {
                Self::set_window(self, pe, slot, window)
            }
            fn tve(&self, pe: u64, slot: u32) -> Result<u64, $crate::phb::PhbError> {
                Self::tve(self, pe, slot)
            }
            fn slot_is_shared(&self, pe: u64, slot: u32) -> Result<bool, $crate::phb::PhbError> {
                Self::window_is_shared(self, pe, slot)
            }
            fn set_shared_slot(
                &mut self,
                pe: u64,
                slot: u32,
                table: Option<&$crate::phb::tve::TranslatedTve>,
            ) -> Result<(), $crate::phb::PhbError> {
                $crate::phb::ioda::IodaDma::set_shared_table(self, pe, slot, table)
            }
            fn kill(&self, scope: $crate::phb::KillScope) -> Result<(), $crate::phb::PhbError> {
                Self::tce_kill(self, scope)
            }
            fn set_pe(
                &mut self,
                pe: u64,
                rid: u16,
                rule: $crate::phb::pe::RidMatch,
                map: bool,
            ) -> Result<u32, $crate::phb::PhbError> {
                Self::set_pe(self, pe, rid, rule, map)
            }
            fn freeze_state(
                &self,
                pe: u64,
            ) -> Result<$crate::phb::pe::FreezeState, $crate::phb::PhbError> {
                Self::freeze_state(self, pe)
            }
            fn freeze_set(
                &mut self,
                pe: u64,
                mmio: bool,
                dma: bool,
            ) -> Result<(), $crate::phb::PhbError> {
                Self::freeze_set(self, pe, mmio, dma)
            }
            fn freeze_clear(
                &mut self,
                pe: u64,
                mmio: bool,
                dma: bool,
            ) -> Result<(), $crate::phb::PhbError> {
                Self::freeze_clear(self, pe, mmio, dma)
            }
            fn reset_dma_state(&mut self) -> Result<(), $crate::phb::PhbError> {
                Self::ioda_purge(self)
            }
            fn enumerate(
                &mut self,
            ) -> Result<alloc::vec::Vec<$crate::phb::pci::PciFunction>, $crate::phb::PhbError> {
                Self::enumerate(self)
            }
            $($extra)*
        }
    };
}
pub(crate) use impl_phb;
