//! Host model of a PHB4 on top of [`RecordingIo`]: the few registers with
//! side effects the driver depends on, and config space of fake functions
//! behind the root port. Behaves like QEMU's model where it matters:
//! `TCE_KILL` drops its busy bits when written, a DMA read sync reads back
//! complete, `PHB4_EEH_CAP` reports the PE count.

use super::Phb4Config;
use super::config::Bdf;
use super::regs::*;
use crate::mmio::fake::RecordingIo;
use crate::mmio::{Width, fake::Op};
use std::boxed::Box;
use std::collections::BTreeMap;
use std::vec::Vec;

/// A memory BAR of a fake function.
#[derive(Clone, Copy, Debug, Default)]
pub struct FakeBar {
    /// Size in bytes (power of two, 0 = unimplemented).
    pub size: u64,
    /// 64-bit BAR (uses the next slot for the upper half).
    pub is64: bool,
}

/// A PCI function in the model.
#[derive(Clone, Debug)]
pub struct FakeFunction {
    /// Address (bus 1 for functions behind the root port).
    pub bdf: Bdf,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Up to six BARs.
    pub bars: [FakeBar; 6],
}

impl FakeFunction {
    /// QEMU's `edu` device at 01:00.0: 1 MiB 32-bit BAR0.
    pub fn edu() -> FakeFunction {
        let mut bars = [FakeBar::default(); 6];
        bars[0] = FakeBar {
            size: 1 << 20,
            is64: false,
        };
        FakeFunction {
            bdf: Bdf::new(1, 0, 0),
            vendor: 0x1234,
            device: 0x11e8,
            bars,
        }
    }
}

struct FnState {
    f: FakeFunction,
    dwords: BTreeMap<u16, u32>,
}

impl FnState {
    fn new(f: FakeFunction) -> FnState {
        let mut dwords = BTreeMap::new();
        dwords.insert(0, (f.device as u32) << 16 | f.vendor as u32);
        for (i, b) in f.bars.iter().enumerate() {
            if b.size != 0 && b.is64 {
                dwords.insert(0x10 + 4 * i as u16, 0x4);
            }
        }
        FnState { f, dwords }
    }

    fn read(&self, reg: u16) -> u32 {
        self.dwords.get(&reg).copied().unwrap_or(0)
    }

    fn write(&mut self, reg: u16, value: u32) {
        let mut v = value;
        if (0x10..0x28).contains(&reg) {
            let i = ((reg - 0x10) / 4) as usize;
            let upper = i > 0 && self.f.bars[i - 1].is64 && self.f.bars[i - 1].size != 0;
            if upper {
                let size = self.f.bars[i - 1].size;
                v &= (!(size - 1) >> 32) as u32;
            } else {
                let b = self.f.bars[i];
                if b.size == 0 {
                    return;
                }
                v = (v & !((b.size - 1) as u32) & !0xf) | if b.is64 { 0x4 } else { 0 };
            }
        }
        self.dwords.insert(reg, v);
    }
}

/// A [`RecordingIo`] modelling the PHB described by `cfg` with `num_pes`
/// PEs and `functions` behind its root port.
pub fn phb4_model(cfg: &Phb4Config, num_pes: u32, functions: Vec<FakeFunction>) -> RecordingIo {
    let io = RecordingIo::new();
    let regs = cfg.regs_base;
    io.preset(regs + PHB_PHB4_EEH_CAP, (num_pes as u64) << 52);
    let mut fns: Vec<FnState> = functions.into_iter().map(FnState::new).collect();
    let mut selected: Option<(Bdf, u16)> = None;
    io.on_write(Box::new(move |r, a| {
        if a.op != Op::Write {
            return;
        }
        let load = |r: &mut BTreeMap<u64, u64>, dword: u32| {
            for k in 0..4 {
                r.insert(regs + PHB_CONFIG_DATA + k, (dword >> (8 * k)) as u64);
            }
        };
        match a.addr.wrapping_sub(regs) {
            PHB_TCE_KILL => {
                r.insert(a.addr, a.value & !TceKill::BUSY.bits());
            }
            PHB_DMA_READ_WRITE_SYNC => {
                r.insert(a.addr, PHB_DMA_READ_SYNC_COMPLETE);
            }
            PHB_CONFIG_ADDRESS => {
                let bdf = Bdf {
                    bus: ppc_get_field(PHB_CA_BUS, a.value) as u8,
                    devfn: ppc_get_field(PHB_CA_DEVFN, a.value) as u8,
                };
                let reg = ppc_get_field(PHB_CA_REG, a.value) as u16;
                selected = Some((bdf, reg));
                let dword = fns
                    .iter()
                    .find(|f| f.f.bdf == bdf)
                    .map_or(u32::MAX, |f| f.read(reg));
                load(r, dword);
            }
            off @ PHB_CONFIG_DATA..=0x133 => {
                assert_ne!(a.width, Width::W64, "8-byte access to CONFIG_DATA");
                let Some((bdf, reg)) = selected else { return };
                let Some(f) = fns.iter_mut().find(|f| f.f.bdf == bdf) else {
                    return;
                };
                let shift = 8 * (off - PHB_CONFIG_DATA) as u32;
                let mask = (a.width.mask() as u32) << shift;
                let v = (f.read(reg) & !mask) | ((a.value as u32) << shift & mask);
                f.write(reg, v);
                let dword = f.read(reg);
                load(r, dword);
            }
            _ => {}
        }
    }));
    io
}
