//! The three LoPAPR rules we follow strictly where QEMU and KVM take
//! shortcuts: H_STUFF_TCE's parameter checks come before H_P4; both forms
//! of `ibm,query-pe-dma-window` write every output; and removing the
//! default window makes a window available again, so a PE may hold two
//! dynamic windows.

mod papr_common;

use papr_common::*;
use pnv_iommu::iopt::Perm;
use pnv_iommu::papr::hcall::H_STUFF_TCE;
use pnv_iommu::papr::{
    DDW_EXT_QUERY_OUT_EXTENDED, DDW_WINDOW_START, DdwCall, HStatus, PartitionConfig, RamRegion,
    RtasStatus, ddw_extensions,
};
use pnv_iommu::tce::Tce;

const R: u64 = 1;
const RW: u64 = 3;
/// A status cell the call must overwrite.
const UNWRITTEN: u32 = 0xdead_beef;

#[test]
fn stuff_tce_parameter_errors_come_before_h_p4() {
    let (mut hv, phb, g) = one_guest(PartitionConfig::default());
    let other = add_guest(
        &mut hv,
        &phb,
        &[RamRegion {
            logical: 0,
            host: 0x5_0000_0000,
            size: 4 * MIB,
        }],
        PartitionConfig::default(),
        2,
    );
    let l = g.liobn as u64;
    for count in [513, 4096, u64::MAX] {
        for (liobn, ioba, why) in [
            (l + 1000, 0, "unknown LIOBN"),
            (other.liobn as u64, 0, "another partition's LIOBN"),
            (1 << 32 | l, 0, "LIOBN above 32 bits"),
            (l, DEFAULT_WINDOW, "IOBA past the window"),
            (l, !0xfff, "IOBA at the top of the address space"),
            (l, 0x800, "IOBA not page aligned"),
        ] {
            assert_eq!(
                hv.h_stuff_tce(g.p, liobn, ioba, 0x1000 | R, count),
                Err(HStatus::Parameter),
                "{why}, count {count}"
            );
            let regs = hcall(&hv, g.p, &[H_STUFF_TCE, liobn, ioba, 0, count], false);
            assert_eq!(regs[0] as i64, -4, "{why}, count {count} (registers)");
        }
        // An otherwise valid call: H_P4, and nothing changed.
        assert_eq!(
            hv.h_stuff_tce(g.p, l, 0x1000, 0x1000 | R, count),
            Err(HStatus::P4)
        );
        assert_eq!(hv.h_get_tce(g.p, l, 0x1000), Ok(0));
        assert_eq!(hv.hardware_tce(g.p, l, 0x1000), Ok(Tce::NONE));
    }
    assert!(phb.take_log().is_empty(), "a refused call killed something");
}

fn query_cells(hv: &Hv, g: &Guest, n: usize) -> Vec<u32> {
    let mut rets = vec![UNWRITTEN; n];
    let b = [g.config_addr, (BUID >> 32) as u32, BUID as u32];
    hv.rtas_ddw(g.p, DdwCall::Query, &b, &mut rets);
    rets
}

#[test]
fn query_writes_every_output_of_both_forms_and_no_other_form() {
    let (hv, _phb, g) = one_guest(PartitionConfig::default());
    // max_window_shift 40: 2^28 TCEs of 4 KiB.
    assert_eq!(query_cells(&hv, &g, 5), [0, 1, 1 << 28, 0x103, 0]);
    assert_eq!(query_cells(&hv, &g, 6), [0, 1, 0, 1 << 28, 0x103, 0]);
    // The extended form is advertised (index 2 of ibm,ddw-extensions).
    let ext = ddw_extensions(0x1234);
    assert!(ext[0] >= 2 && ext[1] == 0x1234);
    assert_eq!(ext[2], DDW_EXT_QUERY_OUT_EXTENDED);
    assert_eq!(DDW_EXT_QUERY_OUT_EXTENDED, 1);
    // Other output counts: -3 in the status cell, nothing else written.
    for n in [1, 2, 3, 4, 7, 8] {
        let rets = query_cells(&hv, &g, n);
        assert_eq!(rets[0] as i32, -3, "{n} outputs");
        assert!(rets[1..].iter().all(|&r| r == UNWRITTEN), "{n}: {rets:x?}");
    }
    // An unknown PE: -3 in either form.
    let mut rets = [UNWRITTEN; 6];
    hv.rtas_ddw(g.p, DdwCall::Query, &[0xff00, 0, 0], &mut rets);
    assert_eq!(rets[0] as i32, -3);
}

#[test]
fn the_extended_query_reports_a_largest_block_above_32_bits() {
    let mut hv = Hv::new(pnv_iommu::page_alloc::GlobalPages);
    let phb = std::sync::Arc::new(pnv_iommu::papr::fake::RecordingPhb::logging());
    let mem = std::sync::Arc::new(pnv_iommu::papr::fake::FakeGuestMemory::new());
    let ram = two_region_ram();
    let p = hv
        .add_partition(&ram, mem, PartitionConfig::default())
        .unwrap();
    let cfg = pnv_iommu::papr::PeConfig {
        max_window_shift: 50,
        ..pe_config(0x100, 1)
    };
    hv.attach_pe(p, phb, cfg).unwrap();
    let mut rets = [UNWRITTEN; 6];
    let b = [0x100, (BUID >> 32) as u32, BUID as u32];
    hv.rtas_ddw(p, DdwCall::Query, &b, &mut rets);
    assert_eq!(rets, [0, 1, 1 << 6, 0, 0x103, 0]); // 2^38 TCEs
    let mut rets = [UNWRITTEN; 5];
    hv.rtas_ddw(p, DdwCall::Query, &b, &mut rets);
    assert_eq!(
        rets,
        [0, 1, u32::MAX, 0x103, 0],
        "clipped in the 5-output form"
    );
}

fn available(hv: &Hv, g: &Guest) -> u32 {
    hv.ddw_query(g.p, g.config_addr, BUID)
        .unwrap()
        .windows_available
}

#[test]
fn removing_the_default_window_makes_a_second_dynamic_window_available() {
    let (hv, phb, g) = one_guest(PartitionConfig::default());
    assert_eq!(available(&hv, &g), 1);
    let w1 = hv.ddw_create(g.p, g.config_addr, BUID, 16, 32).unwrap();
    assert_eq!(w1.start, DDW_WINDOW_START);
    assert_eq!(available(&hv, &g), 0);
    // Linux removes the default window to make room for a second one.
    hv.ddw_remove(g.p, g.liobn).unwrap();
    assert_eq!(available(&hv, &g), 1, "a dynamic window exists");
    let w2 = hv.ddw_create(g.p, g.config_addr, BUID, 12, 30).unwrap();
    assert_eq!(w2.start, 0, "the second dynamic window takes TVE 0");
    assert_ne!(w2.liobn, w1.liobn);
    assert_ne!(w2.liobn, g.liobn);
    assert_eq!(available(&hv, &g), 0);
    assert_eq!(
        hv.ddw_create(g.p, g.config_addr, BUID, 12, 30),
        Err(RtasStatus::ParameterError)
    );
    // Both windows work, each in its own TVE and table.
    hv.h_put_tce(g.p, w1.liobn as u64, w1.start, 0x10000 | RW)
        .unwrap();
    hv.h_put_tce(g.p, w2.liobn as u64, 0x3000, 0x5000 | R)
        .unwrap();
    assert_eq!(
        hv.hardware_tce(g.p, w1.liobn as u64, w1.start),
        Ok(Tce::new(g.host(0x10000), Perm::all()))
    );
    assert_eq!(
        hv.hardware_tce(g.p, w2.liobn as u64, 0x3000),
        Ok(Tce::new(g.host(0x5000), Perm::READ))
    );
    let tve0 = phb.window(g.pe, 0).unwrap();
    let tve1 = phb.window(g.pe, 1).unwrap();
    assert_eq!(
        (tve0.bus_offset, tve0.page_shift, tve0.window_size),
        (0, 12, 1 << 30)
    );
    assert_eq!((tve1.bus_offset, tve1.page_shift), (DDW_WINDOW_START, 16));
    assert_eq!(
        tve0.tve,
        hv.inspect_table(g.p, w2.liobn, |t| t.tve()).unwrap()
    );
    // Removing one of two dynamic windows does not bring the default back.
    hv.ddw_remove(g.p, w1.liobn).unwrap();
    assert_eq!(available(&hv, &g), 1);
    assert!(hv.liobns(g.p).iter().all(|w| w.liobn != g.liobn));
    assert_eq!(hv.h_get_tce(g.p, w2.liobn as u64, 0x3000), Ok(0x5000 | R));
    // Removing the last one does.
    hv.h_put_tce(g.p, w2.liobn as u64, 0x3000, 0).unwrap();
    hv.ddw_remove(g.p, w2.liobn).unwrap();
    let windows = hv.liobns(g.p);
    assert_eq!(windows.len(), 1);
    assert_eq!((windows[0].liobn, windows[0].bus_offset), (g.liobn, 0));
    assert_eq!(available(&hv, &g), 1);
}
