//! Registering PHBs of the other generations: PHB3 (POWER8) and PHB5
//! (POWER10). Once registered they are served by the same `pnv_opal_*`
//! entry points as a PHB4, with each generation's answers (PHB3: its own
//! page sizes, and `UNSUPPORTED` from `pnv_opal_tce_kill`, as skiboot).

use super::*;
use pnv_iommu::phb3::{Phb3, Phb3Config};

/// Attaches to PHB `phb_index` of chip `chip_id`, a PHB5 (POWER10) that
/// another firmware already brought up with its registers at `regs_base`
/// and `num_pes` PEs, and registers it as `phb_id`; as
/// [`pnv_iommu_phb4_attach`] (same arguments, checks and answers), with
/// PHB5's kill sync step.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_iommu_phb5_attach(
    phb_id: u64,
    chip_id: u32,
    phb_index: u32,
    regs_base: u64,
    num_pes: u32,
) -> i64 {
    attach_family(
        phb_id,
        chip_id,
        phb_index,
        regs_base,
        num_pes,
        pnv_iommu::phb4::Phb4Family::Phb5,
    )
}

/// Attaches to PHB3 `phb_index` (0..3) of POWER8 chip `chip_id`, which
/// another firmware already brought up, and registers it as `phb_id`. The
/// PHB is found through its PBCQ over XSCOM: the BARs are read, not
/// written, and no register is written now or when the PHB is dropped.
/// Windows and kills work as on a brought-up PHB3; `set_pe`, the freeze
/// calls, the IODA reset and enumeration return `UNSUPPORTED`, and so does
/// `pnv_opal_tce_kill` on every PHB3.
///
/// `PARAMETER`: no such PHB index, `phb_id` taken, or a PHB with these
/// registers already registered; `HARDWARE`: the PBCQ BARs are not set up
/// and enabled, or the registers are not a PHB3's.
#[unsafe(no_mangle)]
pub extern "C" fn pnv_iommu_phb3_attach(phb_id: u64, chip_id: u32, phb_index: u32) -> i64 {
    let Some(cfg) = Phb3Config::p8(chip_id, phb_index) else {
        return OpalCode::Parameter.code();
    };
    register_attached(phb_id, || phb3_io(phb_id, &cfg), |io| Phb3::attach(io, cfg))
}

#[cfg(target_arch = "powerpc64")]
fn phb3_io(_phb_id: u64, _: &Phb3Config) -> Option<Io> {
    Some(&TARGET_IO)
}

#[cfg(not(target_arch = "powerpc64"))]
use super::host::phb3_attach_io as phb3_io;

/// Brings up PHB3 `phb_index` (0..3) of POWER8 chip `chip_id` (PBCQ BARs
/// read back and enabled, RTT and the other tables from
/// `pnv_iommu_alloc`, M32 window, IODA2 tables reset) and registers it as
/// `phb_id`. `PARAMETER`: no such PHB index, the PHB already brought up or
/// attached, or `phb_id` taken (checked before any register is written);
/// `NO_MEM`;
/// `HARDWARE`: the PBCQ BARs are not set up or the PHB does not answer.
#[cfg(target_arch = "powerpc64")]
#[unsafe(no_mangle)]
pub extern "C" fn pnv_iommu_phb3_init(phb_id: u64, chip_id: u32, phb_index: u32) -> i64 {
    use pnv_iommu::page_alloc::GlobalPages;
    use pnv_iommu::phb3::regs::P8_NUM_PHBS;
    /// Bit `chip * P8_NUM_PHBS + index` set: that PHB3 has been brought up.
    static BROUGHT_UP: spin::Mutex<u64> = spin::Mutex::new(0);
    let Some(cfg) = Phb3Config::p8(chip_id, phb_index) else {
        return OpalCode::Parameter.code();
    };
    let Some(bit) = chip_id
        .checked_mul(P8_NUM_PHBS)
        .and_then(|b| b.checked_add(phb_index))
        .and_then(|b| 1u64.checked_shl(b))
    else {
        return OpalCode::Parameter.code();
    };
    // The PBCQ says where the registers are (XSCOM loads only): a PHB3
    // attached after another firmware brought it up must not be brought
    // up again (that would reset the tables its PEs use).
    let regs = match pnv_iommu::phb3::pbcq::read_bars(&TARGET_IO, cfg.xscom_base, cfg.nest_base) {
        Ok(bars) => bars.regs,
        Err(e) => return init_code(e),
    };
    let mut brought_up = BROUGHT_UP.lock();
    if *brought_up & bit != 0 || with(|s| s.phb(phb_id).is_some() || s.has_regs(regs)) {
        return OpalCode::Parameter.code();
    }
    match Phb3::init(&TARGET_IO as Io, cfg, &GlobalPages) {
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
