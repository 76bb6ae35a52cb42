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
//! Either way the TVT starts all-invalid in firmware's view (`tves`):
//! a bring-up clears it; skiboot clears it in its own bring-up, and the
//! attaching firmware routes every later window change through this driver.

pub mod config;
pub mod enumerate;
#[cfg(any(test, feature = "std"))]
pub mod fake;
pub mod invalidate;
pub mod ioda;
pub mod kill;
pub mod pe;
pub mod regs;
pub mod tve;
pub mod window;
pub mod xscom;

mod interface;

/// The memory the PHB reads, shared with PHB3 ([`crate::phb::dmamem`]).
pub use crate::phb::dmamem;
/// Sizes of the in-memory tables, shared with PHB3.
pub use crate::phb::ioda::{PELTV_SIZE, PEST_ENTRY_SIZE, RTT_SIZE};

use crate::mmio::RegisterIo;
use crate::page_alloc::PageAllocator;
use crate::phb::ioda::{DmaTables, IodaDma, PeDmaState, disable_table_bars};
use alloc::vec;
use alloc::vec::Vec;
use regs::*;

/// Most PEs a PHB4 has.
pub const MAX_PES: u32 = 512;
/// Alignment [`Phb4::attach`] requires of a register base (the PHB4
/// register space is 64 KiB).
pub const ATTACH_REGS_ALIGN: u64 = 0x1_0000;

/// Which member of the PHB4 family a PHB is. QEMU models PHB5 (POWER10)
/// as a PHB4 with no overrides: same registers, TVE format, walk, bypass
/// and kill word; the firmware differs only in the sync step of a kill
/// (see [`kill`]). The POWER10 address map is in [`crate::phb5`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phb4Family {
    /// PHB4, POWER9.
    Phb4,
    /// PHB5, POWER10.
    Phb5,
}

impl Phb4Family {
    /// What `PHB_VERSION` reads on this family (QEMU's model).
    pub const fn version(self) -> u64 {
        match self {
            Phb4Family::Phb4 => PHB4_VERSION,
            Phb4Family::Phb5 => PHB5_VERSION,
        }
    }
}

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
    /// PHB4 or PHB5.
    pub family: Phb4Family,
}

impl Phb4Config {
    /// The configuration skiboot's physical map gives PHB `index` of POWER9
    /// chip `chip_id` (QEMU `powernv9`): on chip 0 a 2 GiB M32 window at
    /// `0x6_00C0_0000_0000 + index * 2 GiB` and registers at
    /// `0x6_00C3_C000_0000 + index * 1 MiB`; chip c's XSCOM window and
    /// addresses are chip 0's plus `c << 42` (DESIGN §12). `None` for a PHB
    /// index or chip id the map lacks.
    pub const fn p9(chip_id: u32, index: u32) -> Option<Phb4Config> {
        let Some((pec, stack)) = p9_phb_location(index) else {
            return None;
        };
        if chip_id >= P9_MAX_CHIPS {
            return None;
        }
        Some(Phb4Config {
            chip_id,
            index,
            xscom_base: p9_chip_addr(chip_id, P9_XSCOM_BASE),
            pec_nest_base: p9_pec_nest_base(pec),
            stack,
            regs_base: p9_chip_addr(chip_id, P9_REGS_BASE + index as u64 * P9_REGS_SIZE),
            m32_cpu_base: p9_chip_addr(chip_id, P9_M32_BASE + index as u64 * P9_M32_SIZE),
            m32_size: P9_M32_SIZE,
            m32_pci_start: M32_PCI_START,
            msi32: false,
            family: Phb4Family::Phb4,
        })
    }

    /// The configuration of a PHB stack the device tree describes: the
    /// XSCOM base and PEC nest block come from the tree, the addresses from
    /// skiboot's physical map for the chip's `ibm,chip-id` and the stack's
    /// `ibm,phb-index` ([`p9`](Self::p9)). `None` for a chip id or PHB index
    /// the map lacks. A POWER10 stack gets the PHB5 map
    /// ([`crate::phb5::for_stack`]); a POWER8 PBCQ is not a PHB4 (`None`;
    /// see [`crate::phb3`]).
    pub fn for_stack(
        chip: &crate::topology::Chip,
        pec: &crate::topology::Pec,
        stack: &crate::topology::PhbStack,
    ) -> Option<Phb4Config> {
        use crate::topology::ChipGeneration;
        match chip.generation {
            ChipGeneration::Power9 => {}
            ChipGeneration::Power10 => return crate::phb5::for_stack(chip, pec, stack),
            ChipGeneration::Power8 => return None,
        }
        let by_index = Phb4Config::p9(chip.chip_id, stack.phb_index)?;
        Some(Phb4Config {
            xscom_base: chip.xscom_base,
            pec_nest_base: pec.nest_base,
            stack: stack.stack,
            ..by_index
        })
    }
}

/// Driver errors: the generation-neutral [`PhbError`](crate::phb::PhbError).
pub type Phb4Error = crate::phb::PhbError;

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
    tables: DmaTables,
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
    /// PHB4 or PHB5.
    family: Phb4Family,
    /// The TVE firmware wants in every slot and each PE's freeze state.
    pes: PeDmaState,
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
        disable_table_bars(&self.io, self.regs_base);
    }
}

impl<I: RegisterIo> Phb4<I> {
    /// Brings the PHB up (steps 1–5 of the module docs) and returns the driver.
    ///
    /// On success the PHB decodes its registers and M32 window, every RID
    /// maps to the reserved PE, and no TVE is valid.
    pub fn init<A>(io: I, cfg: Phb4Config, pages: &A) -> Result<Phb4<I>, Phb4Error>
    where
        A: PageAllocator + Clone + Send + 'static,
    {
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

        let tables = DmaTables::alloc(pages, num_pes)?;
        let [rtt_bar, peltv_bar, pest_bar] = tables.bar_writes();
        let mbt_entries = if num_pes >= 512 { 32 } else { 16 };
        let mut phb = Phb4::new(io, cfg.chip_id, cfg.index, cfg.regs_base, num_pes);
        phb.family = cfg.family;
        phb.owned = Some(BroughtUp {
            cfg,
            tables,
            mbt_cache: vec![[0, 0]; mbt_entries],
        });
        phb.rtt_reset()?;

        let regs = cfg.regs_base;
        for (bar, value) in [rtt_bar, peltv_bar] {
            phb.io.write_be64(regs + bar, value);
        }
        phb.io
            .write_be64(regs + PHB_M32_START_ADDR, cfg.m32_pci_start);
        phb.io.write_be64(regs + pest_bar.0, pest_bar.1);
        let mut config = Phb4ConfigFlags::MSI64;
        config.set(Phb4ConfigFlags::MSI32, cfg.msi32);
        phb.io.write_be64(regs + PHB_PHB4_CONFIG, config.bits());

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
        Phb4::attach_family(io, phb, Phb4Family::Phb4)
    }

    /// [`attach`](Self::attach) for a PHB of `family` (a PHB5 needs its
    /// own kill sync step).
    pub fn attach_family(
        io: I,
        phb: AttachedPhb4,
        family: Phb4Family,
    ) -> Result<Phb4<I>, Phb4Error> {
        if !(1..=MAX_PES).contains(&phb.num_pes)
            || phb.regs_base == 0
            || !phb.regs_base.is_multiple_of(ATTACH_REGS_ALIGN)
        {
            return Err(Phb4Error::BadConfig);
        }
        let mut driver = Phb4::new(io, phb.chip_id, phb.index, phb.regs_base, phb.num_pes);
        driver.family = family;
        Ok(driver)
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
            family: Phb4Family::Phb4,
            pes: PeDmaState::new(num_pes),
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

    /// PHB4 or PHB5.
    pub fn family(&self) -> Phb4Family {
        self.family
    }

    /// What `PHB_VERSION` reads (one register load).
    pub fn read_version(&self) -> u64 {
        self.io.read_be64(self.reg(PHB_VERSION))
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
            assert_eq!(from_tree, Phb4Config::p9(0, stack.phb_index).unwrap());
        }
    }

    /// DESIGN §12: chip 1's map is chip 0's plus `1 << 42`.
    #[test]
    fn chip1_addresses() {
        let c = Phb4Config::p9(1, 3).unwrap();
        assert_eq!(c.chip_id, 1);
        assert_eq!(c.xscom_base, 0x0006_07FC_0000_0000);
        assert_eq!(c.regs_base, 0x0006_04C3_C030_0000);
        assert_eq!(c.m32_cpu_base, 0x0006_04C1_8000_0000);
        assert_eq!((c.pec_nest_base, c.stack), (0x0401_1400, 0));
        assert_eq!(Phb4Config::p9(0, 6), None);
        assert_eq!(Phb4Config::p9(128, 0), None);
    }

    #[test]
    fn every_stack_of_a_two_chip_tree_gets_its_chips_map() {
        let t = Topology::from_fdt(include_bytes!(
            "../../tests/fixtures/qemu-powernv9-2chip.dtb"
        ))
        .unwrap();
        let mut n = 0;
        for (chip, pec, stack) in t.phb_stacks() {
            let from_tree = Phb4Config::for_stack(chip, pec, stack).unwrap();
            assert_eq!(
                from_tree,
                Phb4Config::p9(chip.chip_id, stack.phb_index).unwrap()
            );
            n += 1;
        }
        assert_eq!(n, 12);
    }
}
