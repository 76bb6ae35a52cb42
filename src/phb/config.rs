//! PCI config space through `CONFIG_ADDRESS` / `CONFIG_DATA`, the same on
//! PHB3, PHB4 and PHB5: `CONFIG_ADDRESS` selects bus/devfn/dword, then
//! `CONFIG_DATA + (offset & 3)` is accessed with a 1-, 2- or 4-byte
//! little-endian access. An 8-byte access to CONFIG_DATA is never issued
//! (it aborts QEMU). How a generation reaches its root port differs (PHB4
//! maps it in its register space) and stays with the generation.

use super::PhbError;
use super::pci::Bdf;
use super::regs::{PHB_CONFIG_ADDRESS, PHB_CONFIG_DATA, config_address};
use crate::mmio::{Endian, RegisterIo, Width};

/// The checks every generation makes before a config access:
/// [`PhbError::Parameter`] for an 8-byte access, an unaligned offset or
/// one past 4 KiB; [`PhbError::NoDevice`] for a function on bus 0 other
/// than the root port.
pub fn check_access(bdf: Bdf, offset: u16, width: Width) -> Result<(), PhbError> {
    let bytes = width.bytes() as u16;
    if width == Width::W64 || !offset.is_multiple_of(bytes) || offset >= 0x1000 {
        return Err(PhbError::Parameter);
    }
    if bdf.bus == 0 && bdf.devfn != 0 {
        return Err(PhbError::NoDevice);
    }
    Ok(())
}

/// Selects `offset` of `bdf` in `CONFIG_ADDRESS` of the PHB whose registers
/// are at `regs`; returns the `CONFIG_DATA` address to access.
fn select(io: &impl RegisterIo, regs: u64, bdf: Bdf, offset: u16) -> u64 {
    io.write_be64(
        regs + PHB_CONFIG_ADDRESS,
        config_address(bdf.bus, bdf.devfn, offset),
    );
    regs + PHB_CONFIG_DATA + (offset & 3) as u64
}

/// Reads `width` at `offset` of `bdf` (checked by the caller).
pub fn indirect_read(io: &impl RegisterIo, regs: u64, bdf: Bdf, offset: u16, width: Width) -> u32 {
    let data = select(io, regs, bdf, offset);
    io.read(data, width, Endian::Little) as u32
}

/// Writes the low `width` bytes of `value` at `offset` of `bdf` (checked by
/// the caller).
pub fn indirect_write(
    io: &impl RegisterIo,
    regs: u64,
    bdf: Bdf,
    offset: u16,
    width: Width,
    value: u32,
) {
    let data = select(io, regs, bdf, offset);
    io.write(
        data,
        width,
        Endian::Little,
        (value & width.mask() as u32) as u64,
    );
}
