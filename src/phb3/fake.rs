//! Host model of a PHB3 on top of [`RecordingIo`], behaving like QEMU's
//! where the driver depends on it: the PBCQ BARs and masks are preset (as
//! QEMU presets them), `PHB_VERSION` reads `0xa300000005`, the EEH
//! capability register reads 0, `TCE_KILL` keeps what was written (no
//! busy bits ever clear), and config space — the root port included — is
//! reached through CONFIG_ADDRESS.

use super::Phb3Config;
use super::regs::*;
use crate::mmio::fake::{Op, RecordingIo};
use crate::phb4::config::Bdf;
use crate::phb4::fake::{ConfigModel, FakeFunction};
use std::boxed::Box;
use std::vec::Vec;

/// QEMU's PHB3 root port (IBM 1014:03dc) at bus 0, devfn 0.
pub fn root_port() -> FakeFunction {
    FakeFunction {
        bdf: Bdf::ROOT_PORT,
        vendor: 0x1014,
        device: 0x03dc,
        bars: Default::default(),
    }
}

/// Presets the PBCQ registers of `cfg` with QEMU's values.
pub fn preset_pbcq(io: &RecordingIo, cfg: &Phb3Config) {
    let b = p8_preset_bars(cfg.chip_id, cfg.index);
    let x = |reg| p8_xscom_addr(cfg.xscom_base, cfg.nest_base + reg);
    io.preset(x(PBCQ_NEST_MMIO_BAR0), pbcq_bar(b.mmio0.base));
    io.preset(x(PBCQ_NEST_MMIO_BAR1), pbcq_bar(b.mmio1.base));
    io.preset(x(PBCQ_NEST_PHB_BAR), pbcq_bar(b.regs));
    io.preset(x(PBCQ_NEST_MMIO_MASK0), pbcq_mask(b.mmio0.size));
    io.preset(x(PBCQ_NEST_MMIO_MASK1), pbcq_mask(b.mmio1.size));
}

/// A [`RecordingIo`] modelling PHB3 `cfg` (PBCQ preset, BARs not yet
/// enabled) with the root port and `functions` behind it.
pub fn phb3_model(cfg: &Phb3Config, functions: Vec<FakeFunction>) -> RecordingIo {
    let io = RecordingIo::new();
    preset_pbcq(&io, cfg);
    let regs = p8_preset_bars(cfg.chip_id, cfg.index).regs;
    io.preset(regs + PHB_VERSION, PHB3_VERSION);
    let mut all = Vec::from([root_port()]);
    all.extend(functions);
    let mut config = ConfigModel::new(regs, all);
    io.on_write(Box::new(move |r, a| {
        if a.op == Op::Write {
            config.on_write(r, a);
        }
    }));
    io
}
