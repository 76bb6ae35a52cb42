//! Property test of the OPAL DMA-window calls against an independent oracle:
//! for arbitrary arguments (mostly near the edges), a call succeeds exactly
//! when the oracle says the arguments are valid; a refused call writes no
//! register; an accepted one writes exactly the TVE the oracle computes.

use pnv_iommu::mmio::fake::{Op, RecordingIo};
use pnv_iommu::opal::{OpalCode, OpalPhbs};
use pnv_iommu::page_alloc::GlobalPages;
use pnv_iommu::phb4::fake::{FakeFunction, phb4_model};
use pnv_iommu::phb4::regs::{PHB_IODA_ADDR, PHB_IODA_DATA0};
use pnv_iommu::phb4::{Phb4, Phb4Config};
use proptest::prelude::*;

mod tve_oracle;
use tve_oracle::oracle_tve;

const PHB: u64 = 0x10;
const NUM_PES: u64 = 256;

fn phbs(io: &RecordingIo) -> OpalPhbs<Phb4<&RecordingIo>> {
    let mut s = OpalPhbs::new();
    let phb = Phb4::init(io, Phb4Config::p9(0, 0).unwrap(), &GlobalPages).unwrap();
    s.add(PHB, phb).unwrap();
    io.clear_log();
    s
}

fn edge_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(1 << 59),
        Just(1 << 60),
        (0u32..64).prop_map(|s| 1u64 << s),
        (0u32..64).prop_map(|s| (1u64 << s).wrapping_sub(1)),
        any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn map_pe_dma_window_matches_the_oracle(
        phb_id in prop_oneof![Just(PHB), edge_u64()],
        pe in prop_oneof![0u64..NUM_PES + 2, edge_u64()],
        n in prop_oneof![0u64..2, edge_u64()],
        levels in prop_oneof![0u64..7, edge_u64()],
        addr_pages in prop_oneof![0u64..0x1000, edge_u64()],
        level_bytes in prop_oneof![(10u32..44).prop_map(|s| 1u64 << s), edge_u64()],
        page in prop_oneof![Just(0x1000u64), Just(0x1_0000), Just(0x20_0000), Just(0x4000_0000), Just(0x100_0000), edge_u64()],
    ) {
        let io = phb4_model(&Phb4Config::p9(0, 0).unwrap(), NUM_PES as u32, vec![FakeFunction::edu()]);
        let mut s = phbs(&io);
        // Table addresses: multiples of the level size (often), or raw.
        let addr = addr_pages.wrapping_mul(level_bytes.max(1));
        let window_id = pe.wrapping_mul(2).wrapping_add(n);
        let code = s.map_pe_dma_window(phb_id, pe, window_id, levels, addr, level_bytes, page);
        // The window is named by its id alone (pe * 2 or pe * 2 + 1).
        let addressing_ok = phb_id == PHB && pe < NUM_PES
            && window_id.wrapping_sub(pe.wrapping_mul(2)) < 2;
        // `table_size == 0` disables the window (TVE 0), whatever the rest says.
        let expected = match (addressing_ok, level_bytes) {
            (false, _) => None,
            (true, 0) => Some(0),
            (true, _) => oracle_tve(levels, addr, level_bytes, page),
        };
        match expected {
            Some(tve) => {
                prop_assert_eq!(code, OpalCode::Success);
                let data: Vec<u64> = io.log().iter()
                    .filter(|a| a.op == Op::Write && a.addr == Phb4Config::p9(0, 0).unwrap().regs_base + PHB_IODA_DATA0)
                    .map(|a| a.value).collect();
                prop_assert_eq!(data, vec![tve]);
                let sel = io.log().iter().filter(|a| a.op == Op::Write
                    && a.addr == Phb4Config::p9(0, 0).unwrap().regs_base + PHB_IODA_ADDR).count();
                prop_assert_eq!(sel, 1);
            }
            None => {
                prop_assert_ne!(code, OpalCode::Success);
                prop_assert!(io.writes().is_empty(), "refused call wrote {:x?}", io.writes());
            }
        }
    }

    #[test]
    fn map_pe_dma_window_real_matches_the_oracle(
        pe in prop_oneof![0u64..NUM_PES + 2, edge_u64()],
        n in 0u64..3,
        start in prop_oneof![(0u64..64).prop_map(|k| k << 24), edge_u64()],
        size in prop_oneof![(1u64..64).prop_map(|k| k << 24), edge_u64()],
        select in any::<bool>(),
    ) {
        let io = phb4_model(&Phb4Config::p9(0, 0).unwrap(), NUM_PES as u32, vec![FakeFunction::edu()]);
        let mut s = phbs(&io);
        let pci_start = if select { start | (1 << 59) } else { start };
        let window_id = pe.wrapping_mul(2).wrapping_add(n);
        let code = s.map_pe_dma_window_real(PHB, pe, window_id, pci_start, size);
        let low = pci_start & ((1 << 59) - 1);
        let valid = pe < NUM_PES && n < 2 && window_id == pe * 2 + n && (size == 0 || (
            (pci_start >> 59) == n
            && low % (1 << 24) == 0 && size % (1 << 24) == 0
            // The TVE holds the end in 26 bits above 16 MiB: below 2^50.
            && low.checked_add(size).is_some_and(|end| end < 1 << 50)));
        if valid {
            prop_assert_eq!(code, OpalCode::Success);
        } else {
            prop_assert_ne!(code, OpalCode::Success);
            prop_assert!(io.writes().is_empty(), "refused call wrote {:x?}", io.writes());
        }
    }
}
