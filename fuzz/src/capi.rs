//! The C ABI entries (`capi`) with bad pointers, lengths and alignments,
//! on a fake PHB registered once for the process: a call refused for its
//! arguments returns PARAMETER, writes nothing through any pointer (the
//! buffers around keep their fill) and no register; an accepted one writes
//! only inside what it was given.

use pnv_iommu::opal::OpalCode;
use pnv_iommu_capi::{
    PciFunctionC, pnv_iommu_pci_enumerate, pnv_opal_eeh_freeze_clear, pnv_opal_eeh_freeze_set,
    pnv_opal_eeh_freeze_status, pnv_opal_map_pe_dma_window, pnv_opal_map_pe_dma_window_real,
    pnv_opal_pci_reset, pnv_opal_set_pe, pnv_opal_tce_kill,
};

use crate::papr::Outcome;
use crate::rng::Rng;

// The host-only entries live in a private module of the C ABI crate; they
// are reached the way a C program reaches them, by symbol.
unsafe extern "C" {
    fn pnv_iommu_host_add_fake_phb(phb_id: u64, num_pes: u32) -> i64;
    fn pnv_iommu_host_write_count(phb_id: u64) -> u64;
}

/// Registers a fake PHB with the C ABI.
fn add_fake_phb(phb_id: u64, num_pes: u32) -> i64 {
    // SAFETY: a host-build entry of the linked C ABI crate, with scalar
    // arguments only.
    unsafe { pnv_iommu_host_add_fake_phb(phb_id, num_pes) }
}

/// Register writes the fake PHB recorded so far.
fn write_count(phb_id: u64) -> u64 {
    // SAFETY: as for `add_fake_phb`.
    unsafe { pnv_iommu_host_write_count(phb_id) }
}

/// The C ABI's PHB id for the fuzzer's fake PHB.
const PHB: u64 = 0xf022;
const FILL: u8 = 0xa5;
const PARAMETER: i64 = OpalCode::Parameter.code();

/// Registers the fake PHB (once per process).
pub fn setup() -> Result<(), String> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let mut r = Ok(());
    ONCE.call_once(|| {
        let code = add_fake_phb(PHB, 64);
        if code != OpalCode::Success.code() {
            r = Err(format!("adding the fake PHB: {code}"));
        }
    });
    r
}

/// One random C ABI call.
pub fn call(rng: &mut Rng) -> Result<Outcome, String> {
    let writes = write_count(PHB);
    let phb = if rng.chance(85) { PHB } else { rng.edge() };
    let (code, bad_args) = match rng.below(8) {
        0 | 1 => enumerate(rng, phb)?,
        2 | 3 => freeze_status(rng, phb)?,
        4 => {
            let window = rng.below(3) as u16;
            let code = pnv_opal_map_pe_dma_window(
                phb,
                rng.below(70),
                window,
                rng.range(0, 6) as u16,
                rng.below(1 << 20) << 16,
                1 << rng.range(11, 17),
                rng.pick(&[0x1000, 0x1_0000, 7]),
            );
            (code, None)
        }
        5 => {
            let code = pnv_opal_map_pe_dma_window_real(
                phb,
                rng.below(70),
                rng.below(3) as u16,
                rng.edge(),
                rng.edge(),
            );
            (code, None)
        }
        6 => {
            let code = pnv_opal_tce_kill(
                phb,
                rng.below(4) as u32,
                rng.below(70),
                0x1000,
                rng.edge(),
                rng.below(8) as u32,
            );
            (code, None)
        }
        _ => {
            let pe = rng.below(70);
            let code = match rng.below(4) {
                0 => pnv_opal_eeh_freeze_set(phb, pe, rng.below(5)),
                1 => pnv_opal_eeh_freeze_clear(phb, pe, rng.below(5)),
                2 => pnv_opal_set_pe(
                    phb,
                    pe,
                    rng.below(1 << 16),
                    rng.below(9) as u8,
                    rng.below(3) as u8,
                    rng.below(3) as u8,
                    rng.below(3) as u8,
                ),
                _ => pnv_opal_pci_reset(phb, rng.pick(&[6, 0, 9]), rng.below(3) as u8),
            };
            (code, None)
        }
    };
    let wrote = write_count(PHB) != writes;
    if bad_args == Some(true) && (code != PARAMETER || wrote) {
        return Err(format!(
            "bad pointer arguments answered {code}, wrote registers: {wrote}"
        ));
    }
    if code == PARAMETER && wrote {
        return Err("a PARAMETER answer after register writes".into());
    }
    Ok(Outcome {
        changed: code == OpalCode::Success.code() && wrote,
    })
}

/// `pnv_iommu_pci_enumerate` with the output array and count pointers null,
/// misaligned, or fine, and `max` in or past the array (past only where the
/// size overflows, which must be refused before anything is written).
fn enumerate(rng: &mut Rng, phb: u64) -> Result<(i64, Option<bool>), String> {
    const SLOTS: usize = 4;
    let size = std::mem::size_of::<PciFunctionC>();
    // Room for SLOTS entries at any byte offset, and a count at any offset.
    let mut buf = vec![FILL; (SLOTS + 1) * size + 16];
    let mut cnt = [FILL; 24];
    let base = buf
        .as_mut_ptr()
        .align_offset(std::mem::align_of::<PciFunctionC>());
    let out_off = base + rng.pick(&[0, 0, 0, 1, 2, 4]);
    let cnt_base = cnt.as_mut_ptr().align_offset(8);
    let cnt_off = cnt_base + rng.pick(&[0, 0, 0, 1, 4]);
    let (max, overflow) = match rng.below(6) {
        0 => (0, false),
        1 => (u64::MAX, true),
        2 => (u64::MAX / size as u64 + 1, true),
        _ => (rng.range(1, SLOTS as u64), false),
    };
    let out_null = rng.chance(10);
    let cnt_null = rng.chance(10);
    let out: *mut PciFunctionC = if out_null {
        std::ptr::null_mut()
    } else {
        buf[out_off..].as_mut_ptr().cast()
    };
    let count: *mut u64 = if cnt_null {
        std::ptr::null_mut()
    } else {
        cnt[cnt_off..].as_mut_ptr().cast()
    };
    // The entry's own rules for PARAMETER before anything is written.
    let bad =
        cnt_null || cnt_off != cnt_base || (max > 0 && (out_null || out_off != base)) || overflow;
    // SAFETY: `out` is null, misaligned (refused before use) or valid for
    // SLOTS entries with max <= SLOTS unless max overflows the size
    // (refused before use); `count` is null, misaligned (refused) or valid
    // for a u64.
    let code = unsafe { pnv_iommu_pci_enumerate(phb, out, max, count) };
    if bad {
        let untouched = buf.iter().all(|&b| b == FILL) && cnt.iter().all(|&b| b == FILL);
        if !untouched {
            return Err(format!(
                "refused enumerate (max {max}) wrote through its pointers"
            ));
        }
        return Ok((code, Some(true)));
    }
    // Accepted or refused for the PHB: nothing outside the array and count.
    let end = out_off + (max as usize) * size;
    let outside = buf[..out_off].iter().chain(&buf[end..]).any(|&b| b != FILL)
        || cnt[..cnt_off]
            .iter()
            .chain(&cnt[cnt_off + 8..])
            .any(|&b| b != FILL);
    if outside {
        return Err(format!("enumerate (max {max}) wrote outside its buffers"));
    }
    Ok((code, Some(false)))
}

/// `pnv_opal_eeh_freeze_status` with null, misaligned or fine pointers.
fn freeze_status(rng: &mut Rng, phb: u64) -> Result<(i64, Option<bool>), String> {
    let mut state = [FILL; 4];
    let mut err = [FILL; 8];
    let err_base = err.as_mut_ptr().align_offset(2);
    let err_off = err_base + rng.pick(&[0, 0, 0, 1]);
    let state_ptr: *mut u8 = if rng.chance(15) {
        std::ptr::null_mut()
    } else {
        state[1..].as_mut_ptr()
    };
    let err_null = rng.chance(15);
    let err_ptr: *mut u16 = if err_null {
        std::ptr::null_mut()
    } else {
        err[err_off..].as_mut_ptr().cast()
    };
    let pe = if rng.chance(90) {
        rng.below(64)
    } else {
        rng.edge()
    };
    // SAFETY: each pointer is null, misaligned (refused before use) or
    // valid for one write of its type.
    let code = unsafe { pnv_opal_eeh_freeze_status(phb, pe, state_ptr, err_ptr) };
    let bad = !err_null && err_off != err_base;
    let untouched = state.iter().all(|&b| b == FILL) && err.iter().all(|&b| b == FILL);
    if (bad || code != OpalCode::Success.code()) && !untouched {
        return Err(format!(
            "freeze status ({code}) wrote through refused pointers"
        ));
    }
    if state[0] != FILL || state[2..].iter().any(|&b| b != FILL) {
        return Err("freeze status wrote beside its state byte".into());
    }
    Ok((code, Some(bad)))
}
