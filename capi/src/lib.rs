//! C ABI for pnv-iommu's OPAL-style calls.
//!
//! A skiboot-like C firmware links `libpnv_iommu_capi.a` and calls the
//! `pnv_opal_*` functions declared in `include/pnv_iommu.h`. Each returns an
//! OPAL code (`int64_t`, 0 = success, negative = error) with the numbers of
//! [`pnv_iommu::opal::OpalCode`]. PHBs are registered once at boot, either
//! brought up by the library (`pnv_iommu_phb4_init` on the POWER target,
//! `pnv_iommu_host_add_fake_phb` on the host) or attached after another
//! firmware brought them up (`pnv_iommu_phb4_attach`: no register written,
//! no table owned; on the host it attaches to a recording fake at the given
//! register base). `pnv_iommu_pci_enumerate` then finds the functions behind
//! a brought-up PHB's root port and assigns their BARs.
//!
//! On `powerpc64` the library is `no_std`: the C firmware supplies memory
//! and failure handling through the hooks `pnv_iommu_alloc`,
//! `pnv_iommu_free` and `pnv_iommu_abort` (see `bare`), and its own `mem*`
//! functions. On the host it links std, which is what `capi/tests/c_abi.rs`
//! uses.
#![cfg_attr(target_arch = "powerpc64", no_std)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(target_arch = "powerpc64")]
mod bare;

use pnv_iommu::mmio::RegisterIo;
use pnv_iommu::opal::{OpalCode, OpalPhbs};

type Io = &'static (dyn RegisterIo + Sync);

static PHBS: spin::Mutex<Option<OpalPhbs<Io>>> = spin::Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut OpalPhbs<Io>) -> R) -> R {
    let mut guard = PHBS.lock();
    f(guard.get_or_insert_with(OpalPhbs::new))
}

fn add(phb_id: u64, phb: pnv_iommu::phb4::Phb4<Io>) -> i64 {
    match with(|s| s.add(phb_id, phb)) {
        Ok(()) => OpalCode::Success.code(),
        Err(c) => c.code(),
    }
}

/// Attaches to PHB `phb_index` of chip `chip_id`, which another firmware
/// (skiboot) already brought up with its registers at `regs_base` and
/// `num_pes` PEs, and registers it as `phb_id`. No register is written, now
/// or when the PHB is dropped; the owner keeps its RTT, PELT-V, PEST and
/// MMIO windows. `map_pe_dma_window`, `map_pe_dma_window_real` and
/// `tce_kill` then work on it exactly as on a brought-up PHB; `set_pe`,
/// the freeze calls, the IODA reset and enumeration return `UNSUPPORTED`.
///
/// `PARAMETER`: `num_pes` outside 1..=512, `regs_base` 0 or not 64 KiB
/// aligned, `phb_id` taken, or a PHB with these registers already
/// registered (nothing is written).
#[unsafe(no_mangle)]
pub extern "C" fn pnv_iommu_phb4_attach(
    phb_id: u64,
    chip_id: u32,
    phb_index: u32,
    regs_base: u64,
    num_pes: u32,
) -> i64 {
    use pnv_iommu::phb4::{AttachedPhb4, Phb4};
    let desc = AttachedPhb4 {
        chip_id,
        index: phb_index,
        regs_base,
        num_pes,
    };
    if with(|s| s.phb(phb_id).is_some()) {
        return OpalCode::Parameter.code();
    }
    let Some(io) = attach_io(phb_id, &desc) else {
        return OpalCode::Parameter.code();
    };
    let code = match Phb4::attach(io, desc) {
        Ok(phb) => add(phb_id, phb),
        Err(e) => init_code(e),
    };
    if code != OpalCode::Success.code() {
        attach_failed(phb_id);
    }
    code
}

/// The register accessor an attached PHB uses: cache-inhibited accesses on
/// the POWER target.
#[cfg(target_arch = "powerpc64")]
fn attach_io(_phb_id: u64, _: &pnv_iommu::phb4::AttachedPhb4) -> Option<Io> {
    Some(&TARGET_IO)
}

/// Nothing to undo on the POWER target when an attach is refused.
#[cfg(target_arch = "powerpc64")]
fn attach_failed(_phb_id: u64) {}

#[cfg(not(target_arch = "powerpc64"))]
use host::{attach_failed, attach_io};

/// Cache-inhibited register access for every PHB the library drives.
#[cfg(target_arch = "powerpc64")]
static TARGET_IO: pnv_iommu::mmio::CacheInhibited = {
    // SAFETY: the C firmware calls the library in hypervisor real mode, and
    // the driver only passes PHB4, XSCOM and PHB-table addresses to it.
    unsafe { pnv_iommu::mmio::CacheInhibited::new() }
};

fn init_code(e: pnv_iommu::phb4::Phb4Error) -> i64 {
    use pnv_iommu::phb4::Phb4Error::*;
    match e {
        NoMemory => OpalCode::NoMem,
        BadConfig => OpalCode::Parameter,
        _ => OpalCode::Hardware,
    }
    .code()
}

/// Brings up PHB `phb_index` of POWER9 chip 0 at skiboot's addresses and
/// registers it as `phb_id`. Memory for its tables (RTT, PEST, ...) comes
/// from the global allocator, which is the C firmware's `pnv_iommu_alloc`.
/// `PARAMETER` for a PHB index chip 0 does not have, a PHB index already
/// brought up, or a `phb_id` already registered (checked before any
/// register is written).
#[cfg(target_arch = "powerpc64")]
#[unsafe(no_mangle)]
pub extern "C" fn pnv_iommu_phb4_init(phb_id: u64, phb_index: u32) -> i64 {
    use pnv_iommu::phb4::{Phb4, Phb4Config, dmamem::GlobalHeap};
    /// Bit n set: PHB index n has been brought up (under some id).
    static BROUGHT_UP: spin::Mutex<u64> = spin::Mutex::new(0);
    let Some(cfg) = Phb4Config::p9_chip0(phb_index) else {
        return OpalCode::Parameter.code();
    };
    let Some(bit) = 1u64.checked_shl(phb_index) else {
        return OpalCode::Parameter.code();
    };
    // Refuse before touching hardware: a second bring-up of a live PHB
    // would reset the tables its PEs use.
    let mut brought_up = BROUGHT_UP.lock();
    if *brought_up & bit != 0 || with(|s| s.phb(phb_id).is_some()) {
        return OpalCode::Parameter.code();
    }
    match Phb4::init(&TARGET_IO as Io, cfg, &mut GlobalHeap) {
        Ok(phb) => {
            let code = add(phb_id, phb);
            if code == OpalCode::Success.code() {
                *brought_up |= bit;
            }
            code
        }
        Err(e) => init_code(e),
    }
}

#[cfg(not(target_arch = "powerpc64"))]
mod host {
    use super::*;
    use pnv_iommu::mmio::fake::RecordingIo;
    use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
    use pnv_iommu::phb4::{Phb4, Phb4Config, dmamem::GlobalHeap};
    use std::boxed::Box;
    use std::vec::Vec;

    static FAKES: spin::Mutex<Vec<(u64, &'static RecordingIo)>> = spin::Mutex::new(Vec::new());

    /// Host build of [`pnv_iommu_phb4_attach`](super::pnv_iommu_phb4_attach):
    /// a new recording fake modelling a PHB at the given register base,
    /// whose accesses [`pnv_iommu_host_write_count`] counts under the id.
    pub(super) fn attach_io(phb_id: u64, desc: &pnv_iommu::phb4::AttachedPhb4) -> Option<Io> {
        if fake(phb_id).is_some() {
            return None;
        }
        let cfg = Phb4Config {
            regs_base: desc.regs_base,
            ..Phb4Config::p9_chip0(0).expect("PHB0 exists")
        };
        // The fake lives as long as the process, like a real PHB.
        let io: &'static RecordingIo = Box::leak(Box::new(phb4_model(
            &cfg,
            desc.num_pes,
            Vec::from([FakeFunction::edu()]),
        )));
        FAKES.lock().push((phb_id, io));
        Some(io as Io)
    }

    /// Forgets the fake [`attach_io`] made for a refused attach.
    pub(super) fn attach_failed(phb_id: u64) {
        FAKES.lock().retain(|(id, _)| *id != phb_id);
    }

    fn fake(phb_id: u64) -> Option<&'static RecordingIo> {
        FAKES
            .lock()
            .iter()
            .find(|(id, _)| *id == phb_id)
            .map(|(_, io)| *io)
    }

    /// Host only: registers a fake PHB4 (PHB0's addresses, `num_pes` PEs,
    /// QEMU's `edu` device behind the root port) as `phb_id`.
    #[unsafe(no_mangle)]
    pub extern "C" fn pnv_iommu_host_add_fake_phb(phb_id: u64, num_pes: u32) -> i64 {
        if fake(phb_id).is_some() || num_pes == 0 || num_pes > 512 {
            return OpalCode::Parameter.code();
        }
        let cfg = Phb4Config::p9_chip0(0).expect("PHB0 exists");
        // The fake lives as long as the process, like a real PHB.
        let io: &'static RecordingIo = Box::leak(Box::new(phb4_model(
            &cfg,
            num_pes,
            Vec::from([FakeFunction::edu()]),
        )));
        match Phb4::init(io as Io, cfg, &mut GlobalHeap) {
            Ok(phb) => {
                io.clear_log();
                FAKES.lock().push((phb_id, io));
                add(phb_id, phb)
            }
            Err(e) => init_code(e),
        }
    }

    /// Host only: number of register writes the fake PHB `phb_id` recorded
    /// since it was added (`u64::MAX` for an unknown PHB).
    #[unsafe(no_mangle)]
    pub extern "C" fn pnv_iommu_host_write_count(phb_id: u64) -> u64 {
        fake(phb_id).map_or(u64::MAX, |io| io.writes().len() as u64)
    }

    /// Host only: the TVE firmware holds for window `n` of `pe` (0 if the PHB
    /// or PE is unknown).
    #[unsafe(no_mangle)]
    pub extern "C" fn pnv_iommu_host_tve(phb_id: u64, pe: u64, n: u32) -> u64 {
        with(|s| s.phb(phb_id).and_then(|p| p.tve(pe, n).ok()).unwrap_or(0))
    }
}

/// One PCI function found behind a PHB's root port, as
/// [`pnv_iommu_pci_enumerate`] reports it (`struct pnv_iommu_pci_function`
/// in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PciFunctionC {
    /// Bus, device, function: `bus << 8 | device << 3 | function`.
    pub bdfn: u16,
    /// PCI vendor ID.
    pub vendor: u16,
    /// PCI device ID.
    pub device: u16,
    /// 1 when BAR0 is an assigned memory BAR, else 0 (and the BAR0 fields
    /// are 0).
    pub bar0_valid: u16,
    /// BAR0's PCI bus address.
    pub bar0_pci_addr: u64,
    /// BAR0's CPU physical address (through the PHB's M32 window).
    pub bar0_cpu_addr: u64,
    /// BAR0's size in bytes.
    pub bar0_size: u64,
}

impl PciFunctionC {
    fn from_function(f: &pnv_iommu::phb4::enumerate::PciFunction) -> Self {
        let bar0 = f.bars.iter().find(|b| b.index == 0);
        PciFunctionC {
            bdfn: f.bdf.rid(),
            vendor: f.vendor,
            device: f.device,
            bar0_valid: u16::from(bar0.is_some()),
            bar0_pci_addr: bar0.map_or(0, |b| b.pci_addr),
            bar0_cpu_addr: bar0.map_or(0, |b| b.cpu_addr),
            bar0_size: bar0.map_or(0, |b| b.size),
        }
    }
}

/// Enumerates the bus behind PHB `phb_id`'s root port: sets the root
/// port's bus numbers and memory window, assigns every function's memory
/// BARs inside the PHB's M32 window, enables memory decoding and bus
/// mastering, and writes up to `max` functions to `out` and the number
/// found to `*count`.
///
/// Returns `PARAMETER` for an unknown PHB, a null `count`, a null or
/// misaligned `out` with `max > 0`, or a `max` whose array size overflows
/// (nothing is written then); `PARTIAL` when more than `max` functions were
/// found (the first `max` are written); `RESOURCE` when the BARs do not fit
/// the window; `HARDWARE` when config space cannot be reached.
///
/// # Safety
/// When `max > 0`, `out` must be valid for writes of `max` consecutive
/// `PciFunctionC`; `count` must be valid for a write of a `u64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pnv_iommu_pci_enumerate(
    phb_id: u64,
    out: *mut PciFunctionC,
    max: u64,
    count: *mut u64,
) -> i64 {
    let align = core::mem::align_of::<PciFunctionC>();
    let bytes_fit = usize::try_from(max)
        .ok()
        .and_then(|n| n.checked_mul(core::mem::size_of::<PciFunctionC>()))
        .is_some_and(|b| b <= isize::MAX as usize);
    if count.is_null()
        || !(count as usize).is_multiple_of(core::mem::align_of::<u64>())
        || (max > 0 && (out.is_null() || !(out as usize).is_multiple_of(align)))
        || !bytes_fit
    {
        return OpalCode::Parameter.code();
    }
    let found = with(|s| s.phb_mut(phb_id).map(|phb| phb.enumerate()));
    let functions = match found {
        None => return OpalCode::Parameter.code(),
        Some(Err(e)) => return enumerate_code(e),
        Some(Ok(f)) => f,
    };
    let n = functions.len() as u64;
    for (i, f) in functions.iter().take(max as usize).enumerate() {
        // SAFETY: i < max, and the caller guarantees `out` is valid for
        // `max` entries (checked non-null and aligned above).
        unsafe { out.add(i).write(PciFunctionC::from_function(f)) };
    }
    // SAFETY: checked non-null and aligned above; the caller guarantees it
    // is writable.
    unsafe { count.write(n) };
    if n > max {
        OpalCode::Partial.code()
    } else {
        OpalCode::Success.code()
    }
}

fn enumerate_code(e: pnv_iommu::phb4::Phb4Error) -> i64 {
    use pnv_iommu::phb4::Phb4Error::*;
    match e {
        NoMmioSpace => OpalCode::Resource,
        NoMemory => OpalCode::NoMem,
        Unsupported => OpalCode::Unsupported,
        _ => OpalCode::Hardware,
    }
    .code()
}

/// The TVE value the library holds, and wrote to the TVT, for `window_id`
/// (`pe * 2 + n`) of PHB `phb_id`; a firmware that keeps its own TVE cache
/// (skiboot's `tve_cache[]`, written back after a PHB reset) copies it from
/// here after each successful window call. `PARAMETER` for an unknown PHB,
/// a window outside its TVT, or a null or misaligned `tve` (nothing is
/// written then).
///
/// # Safety
/// `tve` must be valid for a write of a `u64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pnv_iommu_phb_tve(phb_id: u64, window_id: u64, tve: *mut u64) -> i64 {
    if tve.is_null() || !tve.is_aligned() {
        return OpalCode::Parameter.code();
    }
    let value = with(|s| {
        s.phb(phb_id)?
            .tve(window_id / 2, (window_id % 2) as u32)
            .ok()
    });
    match value {
        Some(v) => {
            // SAFETY: checked non-null and aligned; the caller guarantees it
            // is writable.
            unsafe { tve.write(v) };
            OpalCode::Success.code()
        }
        None => OpalCode::Parameter.code(),
    }
}

/// The table address `map_pe_dma_window` puts in the TVE. With the
/// `negative-control-wrong-tve` feature (a test build only) it is the
/// neighbouring table-sized block instead of the caller's table, so DMA
/// through the window must fail: the proof that the Linux-on-skiboot runs
/// depend on the TVE this library writes.
fn tve_table_addr(table_addr: u64, table_size: u64) -> u64 {
    if cfg!(feature = "negative-control-wrong-tve") && table_size != 0 {
        table_addr ^ table_size
    } else {
        table_addr
    }
}

/// `OPAL_PCI_MAP_PE_DMA_WINDOW`.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_map_pe_dma_window(
    phb_id: u64,
    pe: u64,
    window_id: u16,
    levels: u16,
    table_addr: u64,
    table_size: u64,
    page_size: u64,
) -> i64 {
    with(|s| {
        s.map_pe_dma_window(
            phb_id,
            pe,
            window_id as u64,
            levels as u64,
            tve_table_addr(table_addr, table_size),
            table_size,
            page_size,
        )
    })
    .code()
}

/// `OPAL_PCI_MAP_PE_DMA_WINDOW_REAL`.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_map_pe_dma_window_real(
    phb_id: u64,
    pe: u64,
    window_id: u16,
    pci_start: u64,
    size: u64,
) -> i64 {
    with(|s| s.map_pe_dma_window_real(phb_id, pe, window_id as u64, pci_start, size)).code()
}

/// `OPAL_PCI_TCE_KILL`.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_tce_kill(
    phb_id: u64,
    kill_type: u32,
    pe: u64,
    tce_size: u32,
    dma_addr: u64,
    npages: u32,
) -> i64 {
    with(|s| s.tce_kill(phb_id, kill_type, pe, tce_size, dma_addr, npages)).code()
}

/// `OPAL_PCI_SET_PE`.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_set_pe(
    phb_id: u64,
    pe: u64,
    bdfn: u64,
    bus_compare: u8,
    dev_compare: u8,
    func_compare: u8,
    action: u8,
) -> i64 {
    with(|s| {
        s.set_pe(
            phb_id,
            pe,
            bdfn,
            bus_compare,
            dev_compare,
            func_compare,
            action,
        )
    })
    .code()
}

/// `OPAL_PCI_EEH_FREEZE_STATUS`: writes the freeze state and PCI error type
/// through the pointers (either may be null to skip it). A misaligned
/// `pci_error_type` gets `PARAMETER` and nothing is written.
///
/// # Safety
/// Each non-null pointer must be valid for a write of its type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pnv_opal_eeh_freeze_status(
    phb_id: u64,
    pe: u64,
    freeze_state: *mut u8,
    pci_error_type: *mut u16,
) -> i64 {
    if !pci_error_type.is_null() && !pci_error_type.is_aligned() {
        return OpalCode::Parameter.code();
    }
    match with(|s| s.eeh_freeze_status(phb_id, pe)) {
        Ok(st) => {
            // SAFETY: the caller guarantees non-null pointers are writable.
            unsafe {
                if !freeze_state.is_null() {
                    freeze_state.write(st.state);
                }
                if !pci_error_type.is_null() {
                    pci_error_type.write(st.pci_error_type);
                }
            }
            OpalCode::Success.code()
        }
        Err(c) => c.code(),
    }
}

/// `OPAL_PCI_EEH_FREEZE_CLEAR`.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_eeh_freeze_clear(phb_id: u64, pe: u64, option: u64) -> i64 {
    with(|s| s.eeh_freeze_clear(phb_id, pe, option)).code()
}

/// `OPAL_PCI_EEH_FREEZE_SET`.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_eeh_freeze_set(phb_id: u64, pe: u64, option: u64) -> i64 {
    with(|s| s.eeh_freeze_set(phb_id, pe, option)).code()
}

/// `OPAL_PCI_RESET` (scope 6 = IODA tables).
#[unsafe(no_mangle)]
pub extern "C" fn pnv_opal_pci_reset(phb_id: u64, scope: u8, assert_state: u8) -> i64 {
    with(|s| s.pci_reset(phb_id, scope, assert_state)).code()
}
