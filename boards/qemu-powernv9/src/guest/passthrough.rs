//! What a passed-through PCI function needs from the hypervisor, shared by
//! the guest scenarios: the real PHB as the PAPR layer's window programmer
//! and TCE invalidator ([`PhbPort`]), and a guest's RAM as the PAPR layer reads it (TCE
//! lists of H_PUT_TCE_INDIRECT, at host addresses).

use super::memory::GuestRam;
use crate::scenarios::platform::AnyPhb;
use pnv_iommu::mmio::Width;
use pnv_iommu::papr::{GuestMemory, LockedPhb};
use pnv_iommu::phb4::config::Bdf;

/// The PHB as the PAPR layer sees it (any generation): one PE's TVEs and
/// TCE kills, behind a lock.
pub type PhbPort = LockedPhb<AnyPhb>;

/// Guest memory, read by the PAPR layer at host addresses (real mode).
pub struct HostMemory(pub GuestRam);

impl GuestMemory for HostMemory {
    fn read_be_u64s(&self, host: u64, out: &mut [u64]) -> bool {
        let ram = &self.0;
        let Some(la) = host.checked_sub(ram.host_base()) else {
            return false;
        };
        let Some(len) = (out.len() as u64).checked_mul(8) else {
            return false;
        };
        if ram.host_range(la, len).is_none() {
            return false;
        }
        for (i, v) in out.iter_mut().enumerate() {
            match ram.read_be_u64(la + 8 * i as u64) {
                Some(word) => *v = word,
                None => return false,
            }
        }
        true
    }
}

/// True for the config registers a guest may not write: the BARs
/// (0x10..0x28) and the expansion ROM BAR (0x30): the hypervisor placed
/// them, and they decide which host addresses the function decodes.
pub fn config_reg_is_fixed(reg: u16) -> bool {
    (0x10..0x28).contains(&reg) || (0x30..0x34).contains(&reg)
}

/// The register offset of an RTAS PCI config address (register in bits
/// 0..8, extended register in bits 24..28).
pub fn config_reg(cfg: u32) -> u16 {
    (cfg & 0xff) as u16 | ((cfg >> 16) & 0xf00) as u16
}

/// RTAS status words (LoPAPR): success, hardware error, parameter error.
pub const RTAS_SUCCESS: u32 = 0;
/// Hardware error.
pub const RTAS_HARDWARE: u32 = -1i32 as u32;
/// Parameter error.
pub const RTAS_PARAMETER: u32 = -3i32 as u32;

/// What a config access did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigAccess {
    /// It reached the function (a read, or a write it accepted).
    Done,
    /// Refused with a parameter error: another function or BUID, a size
    /// other than 1, 2 or 4, a misaligned register, or a write to a
    /// register the guest may not change.
    Refused,
    /// The PHB failed it (hardware error).
    Failed,
}

/// `ibm,read-pci-config` (args: config address, BUID high, low, size;
/// rets: status, value) or `ibm,write-pci-config` (args and the value;
/// rets: status) for the one function `device` behind logical PHB `buid`.
/// A write to a register for which `fixed` is true is refused: the BARs and
/// the ROM BAR always ([`config_reg_is_fixed`]), plus what the caller adds.
pub fn rtas_pci_config(
    phb: &PhbPort,
    device: Bdf,
    buid: u64,
    args: &[u32],
    rets: &mut [u32],
    write: bool,
    fixed: &dyn Fn(u16) -> bool,
) -> ConfigAccess {
    let (want_args, want_rets) = if write { (5, 1) } else { (4, 2) };
    if args.len() != want_args || rets.len() < want_rets {
        if let Some(r) = rets.first_mut() {
            *r = RTAS_PARAMETER;
        }
        return ConfigAccess::Refused;
    }
    let (cfg, bus_id, size) = (args[0], (args[1] as u64) << 32 | args[2] as u64, args[3]);
    let bdf = Bdf {
        bus: (cfg >> 16) as u8,
        devfn: (cfg >> 8) as u8,
    };
    let reg = config_reg(cfg);
    let width = match size {
        1 => Some(Width::W8),
        2 => Some(Width::W16),
        4 => Some(Width::W32),
        _ => None,
    };
    let Some(width) = width else {
        rets[0] = RTAS_PARAMETER;
        return ConfigAccess::Refused;
    };
    if bus_id != buid
        || bdf != device
        || !(reg as u32).is_multiple_of(size)
        || (write && (config_reg_is_fixed(reg) || fixed(reg)))
    {
        rets[0] = RTAS_PARAMETER;
        return ConfigAccess::Refused;
    }
    let phb = phb.lock();
    let result = if write {
        phb.config_write(bdf, reg, width, args[4])
    } else {
        phb.config_read(bdf, reg, width).map(|v| rets[1] = v)
    };
    if result.is_ok() {
        rets[0] = RTAS_SUCCESS;
        ConfigAccess::Done
    } else {
        rets[0] = RTAS_HARDWARE;
        ConfigAccess::Failed
    }
}
