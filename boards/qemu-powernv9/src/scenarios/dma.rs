//! DMA through our TCE tables by a real PCI device (QEMU's `edu`), with
//! QEMU's PHB model walking the tables independently. The same checks run
//! on every generation (PHB3 on powernv8, PHB4 on powernv9, PHB5 on
//! powernv10) through the OPAL calls over the PHB interface.
//!
//! Each check moves bytes with the device and compares memory byte for byte:
//! transfers must land exactly where the TCEs say, and faulting transfers
//! (read-only TCE, unmapped IOVA, window unset) must leave memory unchanged.

use super::Checks;
use super::platform;
use super::ram::{self, fill, mismatch};
use alloc::format;
use alloc::string::String;
use pnv_iommu::iopt::Perm;
use pnv_iommu::mmio::CacheInhibited;
use pnv_iommu::opal::{OpalCode, OpalPhbs, freeze_action, freeze_state, kill_type};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb::pe::RidMatch;
use pnv_iommu::phb::shared::SharedTableError;
use pnv_iommu::phb::{KillScope, Phb};
use pnv_iommu::phb4::tve::TranslatedTve;
use pnv_iommu::tce::{Geometry, Tce, TceTable};
use pnv_iommu::topology::Topology;
use pnv_rt::edu::Edu;
use pnv_rt::spr::TIMEBASE_HZ;

/// The PE the scenario gives the device.
const PE: u64 = 7;
/// Slot 1's window starts here (window select bit 59).
const WINDOW1: u64 = pnv_iommu::phb::SLOT1_START;
const SZ_4K: u64 = 0x1000;
const SZ_64K: u64 = 0x1_0000;
/// IOVAs of the 1 GiB, 2-level, 4 KiB-page windows (top index `iova >> 21`,
/// leaf index `(iova >> 12) & 0x1ff`): high and distinct indices at both
/// levels, so a wrong level shift or index mask lands on other entries.
/// The destination pair shares a leaf (indices 0x15f / 0x1ee, 0x1ef).
const W0_DST_LO: u64 = 0x2bfe_e000;
const W0_DST_HI: u64 = W0_DST_LO + SZ_4K;
/// Indices 0x1ff (the last top entry) / 0x17d.
const W0_SRC: u64 = 0x3ff7_d000;
/// Indices 0xf2 / 0x1ff (the last leaf entry).
const W0_BACK: u64 = 0x1e5f_f000;
/// Indices 0x1d2 / 0xc3.
const W0_REMAP: u64 = 0x3a4c_3000;
/// Indices 0x16b / 0x1a8.
const W0_READ_ONLY: u64 = 0x2d7a_8000;
/// An IOVA never mapped: equal to a firmware-memory address, so a DMA that
/// bypassed translation would land there (checked).
const W0_UNMAPPED: u64 = 0x60000;
/// Indices 0x1ad / 0x106.
const W0_UNSET: u64 = 0x35b0_6000;
/// Indices 0x77 / 0x97.
const W0_FROZEN: u64 = 0x0ee9_7000;
/// In the shared table (same shape): indices 0x1e3 / 0x1f1.
const SHARED_IOVA: u64 = 0x3c7f_1000;
/// Offset in the 2^43-byte, 3-level, 64 KiB-page window 1: indices 0x1f5
/// (top, bits 34..43), 0x1c7 (bits 25..34), 0x1ea (leaf, bits 16..25).
const W1_OFFSET: u64 = 0x7d7_8fea_0000;
/// Bytes per transfer (edu's buffer is 4 KiB, and its last byte unusable).
const XFER: u64 = 0x800;

type Io = CacheInhibited;

struct Setup {
    opal: OpalPhbs<platform::AnyPhb>,
    phb_id: u64,
    edu: Edu<Io>,
    rid: u64,
}

fn opal_ok(what: &str, code: OpalCode) -> Result<(), String> {
    if code == OpalCode::Success {
        Ok(())
    } else {
        Err(format!("{} returned {:?}", what, code))
    }
}

/// Brings PHB `index` of chip `chip` up, finds the edu behind it and puts
/// it in PE 7. With `attached`, the driver that brought the PHB up stands in
/// for another firmware (skiboot): it maps the edu to PE 7 itself and keeps
/// the PHB's tables for good (leaked, as a resident firmware keeps them);
/// the OPAL calls then run on a second driver of the same generation
/// attached to the same PHB, which writes no register until a window or
/// kill call.
fn setup(t: &Topology, chip: u32, index: u32, attached: bool) -> Result<Setup, String> {
    let (phb, edu_fn, bar0) = platform::bring_up_with_edu_on(t, chip, index)?;
    let edu = Edu::probe(platform::io(), bar0.cpu_addr, TIMEBASE_HZ)
        .map_err(|e| format!("edu probe: {:?}", e))?;
    let rid = edu_fn.bdf.rid() as u64;
    let phb = if attached {
        let mut owner = phb;
        owner
            .set_pe(PE, rid as u16, RidMatch::EXACT, true)
            .map_err(|e| format!("owner set_pe: {:?}", e))?;
        let attached = platform::attach(t, chip, index, &*owner)?;
        core::mem::forget(owner);
        attached
    } else {
        phb
    };
    let mut opal = OpalPhbs::new();
    // OPAL PHB id: the chip's PHBs after the lower chips' (6 per P9 chip).
    let phb_id = (chip * pnv_iommu::phb4::regs::P9_NUM_PHBS + index) as u64;
    opal.add(phb_id, phb)
        .map_err(|c| format!("add PHB: {:?}", c))?;
    let set_pe = opal.set_pe(phb_id, PE, rid, 0, 1, 1, 1);
    if attached {
        // The RTT is the owner's: an attached PHB refuses set_pe.
        if set_pe != OpalCode::Unsupported {
            return Err(format!("set_pe on an attached PHB returned {:?}", set_pe));
        }
    } else {
        opal_ok("set_pe", set_pe)?;
    }
    Ok(Setup {
        opal,
        phb_id,
        edu,
        rid,
    })
}

/// Sets window `n` of the PE to `table` through `map_pe_dma_window`.
fn set_window(s: &mut Setup, n: u64, table: &TceTable<GlobalPages>) -> Result<(), String> {
    let g = table.geometry();
    opal_ok(
        "map_pe_dma_window",
        s.opal.map_pe_dma_window(
            s.phb_id,
            PE,
            PE * 2 + n,
            g.levels() as u64,
            table.top_phys(),
            g.level_bytes(),
            g.page_size(),
        ),
    )?;
    let programmed = s
        .opal
        .phb(s.phb_id)
        .unwrap()
        .tve(PE, n as u32)
        .map_err(|e| format!("{:?}", e))?;
    if programmed != table.tve() {
        return Err(format!(
            "TVE {:#x} but the table encodes {:#x}",
            programmed,
            table.tve()
        ));
    }
    Ok(())
}

/// Kills the PE's cached TCEs: through OPAL where the generation serves
/// the call; on PHB3, which has no OPAL kill (as skiboot), the OS writes
/// the kill register itself, here through the PHB interface.
fn kill(s: &mut Setup) -> Result<(), String> {
    let phb = s.opal.phb(s.phb_id).ok_or("PHB gone")?;
    if phb.opal_tce_kill() {
        opal_ok(
            "tce_kill",
            s.opal.tce_kill(s.phb_id, kill_type::PE, PE, 0, 0, 0),
        )
    } else {
        phb.kill(KillScope::Pe(PE))
            .map_err(|e| format!("PHB kill: {:?}", e))
    }
}

fn table(
    bus_offset: u64,
    window: u64,
    page_shift: u32,
    levels: u32,
) -> Result<TceTable<GlobalPages>, String> {
    let g = Geometry::new(bus_offset, window, page_shift, levels)
        .map_err(|e| format!("geometry: {:?}", e))?;
    TceTable::new(g, GlobalPages).map_err(|e| format!("table: {:?}", e))
}

fn map(
    t: &TceTable<GlobalPages>,
    iova: u64,
    phys: u64,
    size: u64,
    perm: Perm,
) -> Result<(), String> {
    t.map_range(iova, phys, size, perm)
        .map_err(|e| format!("map {:#x}: {:?}", iova, e))
}

fn page(size: u64) -> Result<u64, String> {
    ram::page(size).ok_or_else(|| "DMA pool exhausted".into())
}

fn expect_unchanged(what: &str, addr: u64, len: u64, seed: u8) -> Result<(), String> {
    match mismatch(addr, len, seed, 0) {
        None => Ok(()),
        Some(off) => Err(format!("{} changed at {:#x}", what, addr + off)),
    }
}

/// (1) Window 0, 2 levels, 4K pages, scattered non-identity pages: RAM →
/// device → RAM round trip, and a device write crossing an IOVA page
/// boundary into a different physical page.
fn window0_scattered(s: &mut Setup) -> Result<TceTable<GlobalPages>, String> {
    let t = table(0, 1 << 30, 12, 2)?;
    let src = page(SZ_4K)?;
    let _gap = page(SZ_4K)?;
    let dst_hi = page(SZ_4K)?;
    let dst_lo = page(SZ_4K)?; // below dst_hi's IOVA page: reversed order
    let _gap2 = page(SZ_64K)?;
    let back = page(SZ_4K)?;
    map(&t, W0_DST_LO, dst_lo, SZ_4K, Perm::READ | Perm::WRITE)?;
    map(&t, W0_DST_HI, dst_hi, SZ_4K, Perm::READ | Perm::WRITE)?;
    map(&t, W0_SRC, src, SZ_4K, Perm::READ)?;
    map(&t, W0_BACK, back, SZ_4K, Perm::READ | Perm::WRITE)?;
    set_window(s, 0, &t)?;
    kill(s)?;
    fill(src, SZ_4K, 0x11);
    fill(dst_lo, SZ_4K, 0xa0);
    fill(dst_hi, SZ_4K, 0xb0);
    fill(back, SZ_4K, 0xc0);
    s.edu
        .dma_from_ram(W0_SRC, 0, XFER)
        .map_err(|e| format!("RAM->edu: {:?}", e))?;
    s.edu
        .dma_to_ram(0, W0_BACK, XFER)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if let Some(off) = mismatch(back, XFER, 0x11, 0) {
        return Err(format!("round trip differs at byte {:#x}", off));
    }
    if mismatch(back + XFER, SZ_4K - XFER, 0xc0, XFER).is_some() {
        return Err("round trip wrote past its length".into());
    }
    // 2 KiB from the device to 3 KiB into dst_lo's IOVA page: the last 1 KiB
    // of dst_lo and the first 1 KiB of dst_hi, nothing else.
    s.edu
        .dma_to_ram(0, W0_DST_LO + 0xc00, XFER)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("dst_lo head", dst_lo, 0xc00, 0xa0)?;
    if let Some(off) = mismatch(dst_lo + 0xc00, 0x400, 0x11, 0) {
        return Err(format!("dst_lo tail differs at {:#x}", off));
    }
    if let Some(off) = mismatch(dst_hi, 0x400, 0x11, 0x400) {
        return Err(format!("dst_hi head differs at {:#x}", off));
    }
    if mismatch(dst_hi + 0x400, 0xc00, 0xb0, 0x400).is_some() {
        return Err("dst_hi tail changed".into());
    }
    expect_unchanged("src", src, SZ_4K, 0x11)?;
    Ok(t)
}

/// (2) Window 1 at 1<<59, 64K pages, 3 levels.
fn window1_three_levels(s: &mut Setup) -> Result<TceTable<GlobalPages>, String> {
    let t = table(WINDOW1, 1 << 43, 16, 3)?;
    let dst = page(SZ_64K)?;
    let iova = WINDOW1 + W1_OFFSET;
    map(&t, iova, dst, SZ_64K, Perm::READ | Perm::WRITE)?;
    set_window(s, 1, &t)?;
    kill(s)?;
    fill(dst, SZ_64K, 0xd0);
    s.edu
        .dma_to_ram(0, iova + 0x8000, XFER)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("64K page head", dst, 0x8000, 0xd0)?;
    if let Some(off) = mismatch(dst + 0x8000, XFER, 0x11, 0) {
        return Err(format!("window 1 data differs at {:#x}", off));
    }
    if mismatch(dst + 0x8000 + XFER, 0x8000 - XFER, 0xd0, 0x8000 + XFER).is_some() {
        return Err("64K page tail changed".into());
    }
    Ok(t)
}

/// (3) A bypass window: window 1 untranslated over the first 1 GiB.
fn bypass_window(s: &mut Setup) -> Result<(), String> {
    let dst = page(SZ_4K)?;
    fill(dst, SZ_4K, 0xe0);
    opal_ok(
        "map_pe_dma_window_real",
        s.opal
            .map_pe_dma_window_real(s.phb_id, PE, PE * 2 + 1, WINDOW1, 1 << 30),
    )?;
    s.edu
        .dma_to_ram(0, WINDOW1 + dst + 0x100, 0x200)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("bypass head", dst, 0x100, 0xe0)?;
    if let Some(off) = mismatch(dst + 0x100, 0x200, 0x11, 0) {
        return Err(format!("bypass data differs at {:#x}", off));
    }
    if mismatch(dst + 0x300, 0xd00, 0xe0, 0x300).is_some() {
        return Err("bypass tail changed".into());
    }
    Ok(())
}

/// (4) Remapping a live IOVA (exchange + kill) sends the next DMA to the new
/// page, and the old page keeps what it had.
fn remap_live(s: &mut Setup, t: &TceTable<GlobalPages>) -> Result<(), String> {
    let old = page(SZ_4K)?;
    let new = page(SZ_4K)?;
    fill(old, SZ_4K, 0x21);
    fill(new, SZ_4K, 0x31);
    map(t, W0_REMAP, old, SZ_4K, Perm::READ | Perm::WRITE)?;
    kill(s)?;
    s.edu
        .dma_to_ram(0, W0_REMAP, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if mismatch(old, 0x100, 0x11, 0).is_some() {
        return Err("first DMA did not reach the old page".into());
    }
    let prev = t
        .exchange(W0_REMAP, Tce::new(new, Perm::READ | Perm::WRITE))
        .map_err(|e| format!("exchange: {:?}", e))?;
    if prev.phys() != old {
        return Err(format!(
            "exchange returned {:#x}, expected the old page {:#x}",
            prev.raw(),
            old
        ));
    }
    kill(s)?;
    fill(old, SZ_4K, 0x21);
    s.edu
        .dma_to_ram(0, W0_REMAP, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("old page", old, SZ_4K, 0x21)?;
    if mismatch(new, 0x100, 0x11, 0).is_some() {
        return Err("second DMA did not reach the new page".into());
    }
    Ok(())
}

/// (5) Faults: a device write through a read-only TCE, to an unmapped IOVA,
/// and after the window is unset: the target memory does not change.
fn faults(s: &mut Setup, t: &TceTable<GlobalPages>) -> Result<(), String> {
    let ro = page(SZ_4K)?;
    fill(ro, SZ_4K, 0x41);
    map(t, W0_READ_ONLY, ro, SZ_4K, Perm::READ)?;
    kill(s)?;
    s.edu
        .dma_to_ram(0, W0_READ_ONLY, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("page behind a read-only TCE", ro, SZ_4K, 0x41)?;

    // Unmapped IOVA: the identity page (firmware memory) and the pool stay
    // as they were.
    let ident_before = ram::image_byte(W0_UNMAPPED);
    s.edu
        .dma_to_ram(0, W0_UNMAPPED, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if ram::image_byte(W0_UNMAPPED) != ident_before {
        return Err("DMA to an unmapped IOVA reached identity memory".into());
    }

    // Window unset: a page that was mapped writable stays unchanged.
    let rw = page(SZ_4K)?;
    map(t, W0_UNSET, rw, SZ_4K, Perm::READ | Perm::WRITE)?;
    kill(s)?;
    fill(rw, SZ_4K, 0x51);
    opal_ok(
        "unset window 0",
        s.opal.map_pe_dma_window(s.phb_id, PE, PE * 2, 0, 0, 0, 0),
    )?;
    s.edu
        .dma_to_ram(0, W0_UNSET, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("page of an unset window", rw, SZ_4K, 0x51)?;
    // Proof the DMA itself was possible: set the window again and repeat.
    set_window(s, 0, t)?;
    s.edu
        .dma_to_ram(0, W0_UNSET, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if mismatch(rw, 0x100, 0x11, 0).is_some() {
        return Err("DMA after re-setting the window did not land".into());
    }
    Ok(())
}

/// (6) EEH: a DMA-frozen PE's DMA does not land; after the clear it does.
fn freeze(s: &mut Setup, t: &TceTable<GlobalPages>) -> Result<(), String> {
    let f = page(SZ_4K)?;
    map(t, W0_FROZEN, f, SZ_4K, Perm::READ | Perm::WRITE)?;
    kill(s)?;
    fill(f, SZ_4K, 0x61);
    opal_ok(
        "eeh_freeze_set",
        s.opal.eeh_freeze_set(s.phb_id, PE, freeze_action::DMA),
    )?;
    let st = s
        .opal
        .eeh_freeze_status(s.phb_id, PE)
        .map_err(|c| format!("status: {:?}", c))?;
    if st.state != freeze_state::DMA_FREEZE {
        return Err(format!("frozen PE reports state {}", st.state));
    }
    s.edu
        .dma_to_ram(0, W0_FROZEN, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("page of a DMA-frozen PE", f, SZ_4K, 0x61)?;
    opal_ok(
        "eeh_freeze_clear",
        s.opal.eeh_freeze_clear(s.phb_id, PE, freeze_action::DMA),
    )?;
    let st = s
        .opal
        .eeh_freeze_status(s.phb_id, PE)
        .map_err(|c| format!("status: {:?}", c))?;
    if st.state != freeze_state::NOT_FROZEN {
        return Err(format!("cleared PE reports state {}", st.state));
    }
    s.edu
        .dma_to_ram(0, W0_FROZEN, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if mismatch(f, 0x100, 0x11, 0).is_some() {
        return Err("DMA after the freeze was cleared did not land".into());
    }
    Ok(())
}

/// (7) A table shared by two PEs (a container): set into PE 7 and PE 9,
/// the device moved from one PE to the other (hot-plug) keeps its
/// translation, the table cannot be freed while a TVE points at it, and an
/// unset PE's DMA does not land.
fn container(s: &mut Setup) -> Result<(), String> {
    const PE2: u64 = 9;
    let tc = table(0, 1 << 30, 12, 2)?;
    let c = page(SZ_4K)?;
    map(&tc, SHARED_IOVA, c, SZ_4K, Perm::READ | Perm::WRITE)?;
    let g = tc.geometry();
    let desc = TranslatedTve::new(
        tc.top_phys(),
        g.levels() as u64,
        g.level_bytes(),
        g.page_size(),
    )
    .map_err(|e| format!("{:?}", e))?;
    let id = s
        .opal
        .shared_table_create(desc)
        .map_err(|e| format!("create: {:?}", e))?;
    opal_ok(
        "unset window 0",
        s.opal.map_pe_dma_window(s.phb_id, PE, PE * 2, 0, 0, 0, 0),
    )?;
    for pe in [PE, PE2] {
        s.opal
            .shared_table_set(id, s.phb_id, pe, 0)
            .map_err(|e| format!("set PE {}: {:?}", pe, e))?;
    }
    kill(s)?;
    fill(c, SZ_4K, 0x71);
    s.edu
        .dma_to_ram(0, SHARED_IOVA, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if mismatch(c, 0x100, 0x11, 0).is_some() {
        return Err("DMA through the shared table (PE 7) did not land".into());
    }
    opal_ok(
        "set_pe to PE 9",
        s.opal.set_pe(s.phb_id, PE2, s.rid, 0, 1, 1, 1),
    )?;
    fill(c, SZ_4K, 0x72);
    s.edu
        .dma_to_ram(0, SHARED_IOVA, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    if mismatch(c, 0x100, 0x11, 0).is_some() {
        return Err("DMA through the shared table (PE 9) did not land".into());
    }
    match s.opal.shared_table_free(id) {
        Err(SharedTableError::InUse(2)) => {}
        other => return Err(format!("free of a table in 2 TVEs returned {:?}", other)),
    }
    s.opal
        .shared_table_unset(id, s.phb_id, PE2, 0)
        .map_err(|e| format!("unset: {:?}", e))?;
    fill(c, SZ_4K, 0x73);
    s.edu
        .dma_to_ram(0, SHARED_IOVA, 0x100)
        .map_err(|e| format!("edu->RAM: {:?}", e))?;
    expect_unchanged("page of a PE whose window was unset", c, SZ_4K, 0x73)?;
    s.opal
        .shared_table_unset(id, s.phb_id, PE, 0)
        .map_err(|e| format!("unset: {:?}", e))?;
    s.opal
        .shared_table_free(id)
        .map_err(|e| format!("free after unset: {:?}", e))?;
    opal_ok(
        "set_pe back to PE 7",
        s.opal.set_pe(s.phb_id, PE, s.rid, 0, 1, 1, 1),
    )?;
    drop(tc);
    Ok(())
}

/// Runs every DMA check on PHB `index` of chip `chip`, with names suffixed
/// `_phb<index>` on chip 0 and `_chip<chip>_phb<index>` on the others. On
/// an `attached` PHB (suffix `_attached_phb<index>`) the checks that need
/// the owner's tables (EEH freeze, a second PE for the shared table) are
/// left out.
pub fn run_on(t: &Topology, chip: u32, index: u32, attached: bool, checks: &mut Checks) {
    let phb = match (chip, attached) {
        (_, true) => format!("attached_phb{}", index),
        (0, false) => format!("phb{}", index),
        _ => format!("chip{}_phb{}", chip, index),
    };
    let name = |n: &str| format!("dma_{}_{}", n, phb);
    let mut s = match setup(t, chip, index, attached) {
        Ok(s) => s,
        Err(e) => return checks.check(&name("setup"), Err(e)),
    };
    checks.check(&name("setup"), Ok(()));
    let t0 = window0_scattered(&mut s);
    let t0_ok = t0.as_ref().map(|_| ()).map_err(String::clone);
    checks.check(&name("window0_2lvl_4k_scattered"), t0_ok);
    let t1 = window1_three_levels(&mut s);
    checks.check(
        &name("window1_3lvl_64k"),
        t1.as_ref().map(|_| ()).map_err(String::clone),
    );
    checks.check(&name("bypass_window"), bypass_window(&mut s));
    match t0 {
        Ok(t) => {
            checks.check(&name("remap_live_iova"), remap_live(&mut s, &t));
            checks.check(&name("faults_leave_memory_unchanged"), faults(&mut s, &t));
            if !attached {
                checks.check(&name("eeh_dma_freeze"), freeze(&mut s, &t));
                checks.check(&name("shared_table_container"), container(&mut s));
            }
            // Unset before the tables are dropped: no TVE may point at freed memory.
            let _ = s.opal.map_pe_dma_window(s.phb_id, PE, PE * 2, 0, 0, 0, 0);
            let _ = s
                .opal
                .map_pe_dma_window(s.phb_id, PE, PE * 2 + 1, 0, 0, 0, 0);
            drop(t1);
            drop(t);
        }
        Err(_) => checks.check(&name("remap_live_iova"), Err("window 0 failed".into())),
    }
}

/// The scenario `dma-phb0`.
pub fn phb0(t: &Topology, checks: &mut Checks) {
    run_on(t, 0, 0, false, checks)
}

/// The scenario `dma-phb2` (PHB3 on `pcie.2` of a powernv8).
pub fn phb2(t: &Topology, checks: &mut Checks) {
    run_on(t, 0, 2, false, checks)
}

/// The scenario `dma-phb3`.
pub fn phb3(t: &Topology, checks: &mut Checks) {
    run_on(t, 0, 3, false, checks)
}

/// The scenario `dma-phb4` (PHB5 on `pcie.4` of a powernv10).
pub fn phb4(t: &Topology, checks: &mut Checks) {
    run_on(t, 0, 4, false, checks)
}

/// The scenario `dma-chip1-phb0`: PHB0 of the second chip of a 2-chip
/// machine, found in the device tree.
pub fn chip1_phb0(t: &Topology, checks: &mut Checks) {
    if !t.chips.iter().any(|c| c.chip_id == 1) {
        return checks.check(
            "dma_setup_chip1_phb0",
            Err("no chip 1 in the device tree".into()),
        );
    }
    run_on(t, 1, 0, false, checks)
}

/// The scenario `dma-attached-phb0`: the same window, remap and fault
/// checks on PHB0 through a driver attached after another driver brought
/// the PHB up (what a firmware linking the library does under skiboot).
pub fn attached_phb0(t: &Topology, checks: &mut Checks) {
    run_on(t, 0, 0, true, checks)
}
