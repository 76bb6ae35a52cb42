//! PHB4 (POWER9 PCIe host bridge) driver: bring-up, config space, IODA
//! tables, RID→PE translation, TCE-cache kills, PE freeze state and DMA
//! windows.
//!
//! Everything is generic over [`RegisterIo`], so the same code drives QEMU's
//! `powernv9` PHB through cache-inhibited accesses on target and the
//! recording fake on the host.
//!
//! Bring-up order (see `DESIGN.md` §5):
//! 1. [`xscom`]: PEC stack BARs (MMIO window, PHB registers), then BAR_EN;
//! 2. read the PE count from `PHB4_EEH_CAP`, select 2 TVEs per PE in CTRLR;
//! 3. [`dmamem`]: RTT (all RIDs → reserved PE), PELTV, PEST in memory and
//!    their BARs; M32 start; PHB4_CONFIG;
//! 4. [`ioda`]: reset every DMA/MMIO/EEH IODA table, invalidate caches;
//! 5. the M32 window in MBT entry 0;
//! 6. [`config`]: root-port bus numbers and bridge window; then
//!    [`enumerate`] finds the device behind the root port and assigns BARs.
//!
//! Two ways to get a driver:
//! - **bring-up** ([`Phb4::init`]): the steps above; the driver owns the RTT,
//!   PELT-V and PEST and, when dropped, disables their BARs before the
//!   memory is freed;
//! - **attach** ([`Phb4::attach`]): another firmware (skiboot) already
//!   brought the PHB up and owns its tables. Attaching writes no register,
//!   the driver owns no table and its `Drop` writes nothing. DMA windows
//!   (TVEs) and TCE kills work as on a brought-up PHB; the calls that need
//!   the owner's tables or MMIO window (`set_pe`, freeze, IODA reset,
//!   enumeration) return [`Phb4Error::Unsupported`].
//!
//! Either way the TVT starts all-invalid in firmware's view (`tve_cache`):
//! a bring-up clears it; skiboot clears it in its own bring-up, and the
//! attaching firmware routes every later window change through this driver.

pub mod config;
pub mod dmamem;
pub mod enumerate;
#[cfg(any(test, feature = "std"))]
pub mod fake;
pub mod invalidate;
pub mod ioda;
pub mod kill;
pub mod pe;
pub mod regs;
pub mod shared;
pub mod tve;
pub mod window;
pub mod xscom;

use crate::mmio::RegisterIo;
use alloc::vec;
use alloc::vec::Vec;
use dmamem::{DmaRegion, PhbMemory};
use pe::FreezeState;
use regs::*;

/// Bytes of the RID translation table: one big-endian u16 per RID.
pub const RTT_SIZE: u64 = 0x2_0000;
/// Bytes of the PE lookup table vector (enough for 512 PEs).
pub const PELTV_SIZE: u64 = 0x2_0000;
/// Bytes of PEST per PE (PESTA + PESTB words).
pub const PEST_ENTRY_SIZE: u64 = 16;
/// Most PEs a PHB4 has.
pub const MAX_PES: u32 = 512;
/// Alignment [`Phb4::attach`] requires of a register base (the PHB4
/// register space is 64 KiB).
pub const ATTACH_REGS_ALIGN: u64 = 0x1_0000;

/// Where a PHB sits and which addresses firmware gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phb4Config {
    /// Chip id (`ibm,chip-id`).
    pub chip_id: u32,
    /// PHB index on the chip (`ibm,phb-index`).
    pub index: u32,
    /// Physical address of the chip's XSCOM window.
    pub xscom_base: u64,
    /// XSCOM address (PCBA) of the PEC's nest register block.
    pub pec_nest_base: u32,
    /// Stack number of the PHB within its PEC.
    pub stack: u32,
    /// CPU address of the PHB's registers.
    pub regs_base: u64,
    /// CPU address of the 32-bit MMIO window.
    pub m32_cpu_base: u64,
    /// Size of the 32-bit MMIO window (power of two).
    pub m32_size: u64,
    /// PCI address the 32-bit MMIO window starts at.
    pub m32_pci_start: u64,
    /// Enable 32-bit MSIs (takes PCI 0xFFFF0000.. from DMA window 0).
    pub msi32: bool,
}

impl Phb4Config {
    /// The configuration skiboot's physical map gives PHB `index` of POWER9
    /// chip 0 (QEMU `powernv9`): 2 GiB M32 window at `0x6_00C0_0000_0000 +
    /// index * 2 GiB`, registers at `0x6_00C3_C000_0000 + index * 1 MiB`.
    pub const fn p9_chip0(index: u32) -> Option<Phb4Config> {
        let Some((pec, stack)) = p9_phb_location(index) else {
            return None;
        };
        Some(Phb4Config {
            chip_id: 0,
            index,
            xscom_base: P9_XSCOM_BASE,
            pec_nest_base: p9_pec_nest_base(pec),
            stack,
            regs_base: P9_REGS_BASE + index as u64 * P9_REGS_SIZE,
            m32_cpu_base: P9_M32_BASE + index as u64 * P9_M32_SIZE,
            m32_size: P9_M32_SIZE,
            m32_pci_start: M32_PCI_START,
            msi32: false,
        })
    }
}

impl Phb4Config {
    /// The configuration of a PHB stack the device tree describes: the
    /// XSCOM base and PEC nest block come from the tree, the addresses from
    /// skiboot's physical map for the stack's `ibm,phb-index`. Only chip 0's
    /// map is known here (`None` otherwise, or for an index the map lacks).
    pub fn for_stack(
        chip: &crate::topology::Chip,
        pec: &crate::topology::Pec,
        stack: &crate::topology::PhbStack,
    ) -> Option<Phb4Config> {
        if chip.chip_id != 0 {
            return None;
        }
        let by_index = Phb4Config::p9_chip0(stack.phb_index)?;
        Some(Phb4Config {
            xscom_base: chip.xscom_base,
            pec_nest_base: pec.nest_base,
            stack: stack.stack,
            ..by_index
        })
    }
}

/// Driver errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phb4Error {
    /// The PHB reads all-ones or reports no PEs (fenced or absent).
    Broken,
    /// No memory for the in-memory tables.
    NoMemory,
    /// A configuration value is unusable (window size not a power of two...).
    BadConfig,
    /// PE number at or above the PHB's PE count.
    PeRange,
    /// Window number not 0 or 1 (or window id not `pe*2 + n`).
    WindowId,
    /// Invalid TVE arguments.
    Tve(tve::TveError),
    /// Invalid argument of another call.
    Parameter,
    /// A window is held by a shared table and must be unset through it.
    WindowShared,
    /// A hardware poll did not finish.
    Kill(kill::KillError),
    /// Config-space access to a device that is not there.
    NoDevice,
    /// Device BARs do not fit in the MMIO window.
    NoMmioSpace,
    /// The call needs tables or windows this driver does not own (an
    /// attached PHB: the firmware that brought it up owns them).
    Unsupported,
}

impl From<tve::TveError> for Phb4Error {
    fn from(e: tve::TveError) -> Self {
        Phb4Error::Tve(e)
    }
}

impl From<kill::KillError> for Phb4Error {
    fn from(e: kill::KillError) -> Self {
        Phb4Error::Kill(e)
    }
}

/// A PHB another firmware already brought up, as [`Phb4::attach`] takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachedPhb4 {
    /// Chip id (`ibm,chip-id`).
    pub chip_id: u32,
    /// PHB index on the chip (`ibm,phb-index`).
    pub index: u32,
    /// CPU address of the PHB's registers (64 KiB aligned).
    pub regs_base: u64,
    /// Number of PEs the PHB has (1..=512; `PHB4_EEH_CAP`, as the owner read it).
    pub num_pes: u32,
}

/// What a driver that brought its PHB up owns besides the registers.
struct BroughtUp {
    cfg: Phb4Config,
    rtt: DmaRegion,
    peltv: DmaRegion,
    pest: DmaRegion,
    /// MBT values firmware programmed (the M32 window).
    mbt_cache: Vec<[u64; 2]>,
}

/// One PHB4 and the state firmware keeps for it.
pub struct Phb4<I: RegisterIo> {
    io: I,
    chip_id: u32,
    index: u32,
    regs_base: u64,
    num_pes: u32,
    /// `Some` after [`Phb4::init`], `None` after [`Phb4::attach`].
    owned: Option<BroughtUp>,
    /// TVE values firmware wants (what the TVT holds unless a PE is DMA-frozen).
    tve_cache: Vec<u64>,
    /// TVEs owned by a shared table ([`shared::TableRegistry`]).
    tve_shared: Vec<bool>,
    freeze: Vec<FreezeState>,
    poll_limit: u32,
}

impl<I: RegisterIo> core::fmt::Debug for Phb4<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Phb4")
            .field("chip_id", &self.chip_id)
            .field("index", &self.index)
            .field("regs_base", &self.regs_base)
            .field("num_pes", &self.num_pes)
            .field("attached", &self.owned.is_none())
            .finish_non_exhaustive()
    }
}

/// The PHB must stop reading its in-memory tables before their memory goes
/// back to the allocator: dropping a driver that brought its PHB up (a
/// refused registration, a bring-up that failed half-way, a PHB taken out of
/// service) disables the RTT, PELT-V and PEST BARs first. Without an RTT the
/// PHB translates no requester, so no DMA reaches memory through this PHB
/// afterwards. An attached driver owns no table and writes nothing.
impl<I: RegisterIo> Drop for Phb4<I> {
    fn drop(&mut self) {
        if self.owned.is_none() {
            return;
        }
        let regs = self.regs_base;
        for bar in [PHB_RTT_BAR, PHB_PELTV_BAR, PHB_PEST_BAR] {
            self.io.write_be64(regs + bar, 0);
        }
        self.io.barrier();
    }
}

impl<I: RegisterIo> Phb4<I> {
    /// Brings the PHB up (steps 1–5 of the module docs) and returns the driver.
    ///
    /// On success the PHB decodes its registers and M32 window, every RID
    /// maps to the reserved PE, and no TVE is valid.
    pub fn init(io: I, cfg: Phb4Config, mem: &mut impl PhbMemory) -> Result<Phb4<I>, Phb4Error> {
        if !cfg.m32_size.is_power_of_two()
            || !cfg.m32_cpu_base.is_multiple_of(cfg.m32_size)
            || cfg
                .m32_pci_start
                .checked_add(cfg.m32_size)
                .is_none_or(|e| e > 1 << 32)
        {
            return Err(Phb4Error::BadConfig);
        }
        xscom::program_pec_bars(&io, &cfg);

        let cap = io.read_be64(cfg.regs_base + PHB_PHB4_EEH_CAP);
        let num_pes = eeh_cap_num_pes(cap);
        if cap == u64::MAX || num_pes == 0 || num_pes > MAX_PES {
            return Err(Phb4Error::Broken);
        }
        // Two TVEs per PE, selected by PCI address bit 59.
        let ctrlr = io.read_be64(cfg.regs_base + PHB_CTRLR) & !PHB_CTRLR_TVT_ADDR_SEL;
        io.write_be64(cfg.regs_base + PHB_CTRLR, ctrlr);

        let rtt = mem
            .alloc_zeroed(RTT_SIZE, RTT_SIZE)
            .ok_or(Phb4Error::NoMemory)?;
        let peltv = mem
            .alloc_zeroed(PELTV_SIZE, PELTV_SIZE)
            .ok_or(Phb4Error::NoMemory)?;
        let pest_size = num_pes as u64 * PEST_ENTRY_SIZE;
        let pest = mem
            .alloc_zeroed(pest_size, pest_size)
            .ok_or(Phb4Error::NoMemory)?;
        let mbt_entries = if num_pes >= 512 { 32 } else { 16 };
        let (rtt_addr, peltv_addr, pest_addr) = (rtt.addr(), peltv.addr(), pest.addr());
        let mut phb = Phb4::new(io, cfg.chip_id, cfg.index, cfg.regs_base, num_pes);
        phb.owned = Some(BroughtUp {
            cfg,
            rtt,
            peltv,
            pest,
            mbt_cache: vec![[0, 0]; mbt_entries],
        });
        phb.rtt_reset()?;

        let regs = cfg.regs_base;
        phb.io
            .write_be64(regs + PHB_RTT_BAR, rtt_addr | PHB_RTT_BAR_ENABLE);
        phb.io
            .write_be64(regs + PHB_PELTV_BAR, peltv_addr | PHB_PELTV_BAR_ENABLE);
        phb.io
            .write_be64(regs + PHB_M32_START_ADDR, cfg.m32_pci_start);
        phb.io
            .write_be64(regs + PHB_PEST_BAR, pest_addr | PHB_PEST_BAR_ENABLE);
        let msi32 = if cfg.msi32 { PHB_PHB4C_32BIT_MSI_EN } else { 0 };
        phb.io
            .write_be64(regs + PHB_PHB4_CONFIG, PHB_PHB4C_64BIT_MSI_EN | msi32);

        phb.ioda_reset()?;
        phb.set_mmio_window(0, cfg.m32_cpu_base, cfg.m32_size)?;
        Ok(phb)
    }

    /// Takes over a PHB another firmware (skiboot) already brought up.
    ///
    /// Writes (and reads) no register and owns no table: the PHB's RTT,
    /// PELT-V, PEST and MMIO windows stay the owner's, and dropping the
    /// driver writes nothing. Window and kill calls then behave exactly as
    /// on a PHB brought up by [`init`](Self::init); `set_pe`, freeze, IODA
    /// reset and enumeration return [`Phb4Error::Unsupported`].
    ///
    /// [`Phb4Error::BadConfig`] for a PE count outside 1..=512 or a register
    /// base that is 0 or not 64 KiB aligned.
    pub fn attach(io: I, phb: AttachedPhb4) -> Result<Phb4<I>, Phb4Error> {
        if !(1..=MAX_PES).contains(&phb.num_pes)
            || phb.regs_base == 0
            || !phb.regs_base.is_multiple_of(ATTACH_REGS_ALIGN)
        {
            return Err(Phb4Error::BadConfig);
        }
        Ok(Phb4::new(
            io,
            phb.chip_id,
            phb.index,
            phb.regs_base,
            phb.num_pes,
        ))
    }

    /// Firmware's state for a PHB with every TVE invalid, no PE frozen and
    /// no table owned.
    fn new(io: I, chip_id: u32, index: u32, regs_base: u64, num_pes: u32) -> Phb4<I> {
        Phb4 {
            io,
            chip_id,
            index,
            regs_base,
            num_pes,
            owned: None,
            tve_cache: vec![0; 2 * num_pes as usize],
            tve_shared: vec![false; 2 * num_pes as usize],
            freeze: vec![FreezeState::default(); num_pes as usize],
            poll_limit: kill::DEFAULT_POLL_LIMIT,
        }
    }

    /// The configuration the PHB was brought up with (`None` if attached).
    pub fn config(&self) -> Option<&Phb4Config> {
        self.owned.as_ref().map(|o| &o.cfg)
    }

    /// Whether the driver was attached to a PHB another firmware brought up.
    pub fn is_attached(&self) -> bool {
        self.owned.is_none()
    }

    /// Chip id of the PHB.
    pub fn chip_id(&self) -> u32 {
        self.chip_id
    }

    /// PHB index on its chip.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// CPU address of the PHB's registers.
    pub fn regs_base(&self) -> u64 {
        self.regs_base
    }

    /// The register accessor.
    pub fn io(&self) -> &I {
        &self.io
    }

    /// Number of PEs (from `PHB4_EEH_CAP`).
    pub fn num_pes(&self) -> u32 {
        self.num_pes
    }

    /// The PE every unmapped RID uses (`num_pes - 1`); never given to devices.
    pub fn reserved_pe(&self) -> u32 {
        self.num_pes - 1
    }

    /// Number of TVEs (two per PE).
    pub fn tvt_size(&self) -> u32 {
        2 * self.num_pes
    }

    /// Physical address of the RTT (`None` if attached: the owner's).
    pub fn rtt_addr(&self) -> Option<u64> {
        self.owned.as_ref().map(|o| o.rtt.addr())
    }

    /// Sets how many times a hardware status bit is polled before a kill
    /// reports a timeout (at least 1).
    pub fn set_poll_limit(&mut self, limit: u32) {
        self.poll_limit = limit.max(1);
    }

    fn reg(&self, off: u64) -> u64 {
        self.regs_base + off
    }

    /// What a brought-up driver owns; [`Phb4Error::Unsupported`] if attached.
    fn brought_up(&self) -> Result<&BroughtUp, Phb4Error> {
        self.owned.as_ref().ok_or(Phb4Error::Unsupported)
    }

    /// As [`brought_up`](Self::brought_up), mutably.
    fn brought_up_mut(&mut self) -> Result<&mut BroughtUp, Phb4Error> {
        self.owned.as_mut().ok_or(Phb4Error::Unsupported)
    }

    fn check_pe(&self, pe: u64) -> Result<u32, Phb4Error> {
        if pe < self.num_pes as u64 {
            Ok(pe as u32)
        } else {
            Err(Phb4Error::PeRange)
        }
    }
}

#[cfg(test)]
mod config_tests {
    use super::Phb4Config;
    use crate::topology::Topology;

    #[test]
    fn every_stack_of_the_qemu_device_tree_gets_the_index_map() {
        let t =
            Topology::from_fdt(include_bytes!("../../tests/fixtures/qemu-powernv9.dtb")).unwrap();
        for (chip, pec, stack) in t.phb_stacks() {
            let from_tree = Phb4Config::for_stack(chip, pec, stack).unwrap();
            assert_eq!(from_tree, Phb4Config::p9_chip0(stack.phb_index).unwrap());
        }
    }
}
