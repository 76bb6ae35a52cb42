//! The PHB registers IODA2 (PHB3) and IODA3 (PHB4, PHB5) have at the same
//! offset with the same fields, named as in the PHB workbooks and skiboot's
//! `phb3-regs.h` / `phb4-regs.h`, and the IBM bit helpers every register
//! map uses. Each generation's own registers are in its `regs` module,
//! which re-exports these.
//!
//! IBM numbers bits from the most significant end: `PPC_BIT(0)` is `1 << 63`.
//! [`ppc_bit`] and [`ppc_field`] convert, so every constant can be read
//! against the hardware documentation.

/// IBM bit `n` (0 = most significant) of a 64-bit register.
pub const fn ppc_bit(n: u32) -> u64 {
    1u64 << (63 - n)
}

/// Mask of IBM bits `first..=last` (0 = most significant).
pub const fn ppc_bitmask(first: u32, last: u32) -> u64 {
    (u64::MAX >> first) & (u64::MAX << (63 - last))
}

/// Places `value` into the field `mask` (shifted to the mask's low bit).
pub const fn ppc_field(mask: u64, value: u64) -> u64 {
    (value << mask.trailing_zeros()) & mask
}

/// Extracts the field `mask` of `reg`.
pub const fn ppc_get_field(mask: u64, reg: u64) -> u64 {
    (reg & mask) >> mask.trailing_zeros()
}

/// Outbound configuration data (1/2/4-byte little-endian accesses only).
pub const PHB_CONFIG_DATA: u64 = 0x130;
/// Outbound configuration address.
pub const PHB_CONFIG_ADDRESS: u64 = 0x140;
/// CONFIG_ADDRESS: enable.
pub const PHB_CA_ENABLE: u64 = ppc_bit(0);
/// CONFIG_ADDRESS: bus number.
pub const PHB_CA_BUS: u64 = ppc_bitmask(4, 11);
/// CONFIG_ADDRESS: device/function.
pub const PHB_CA_DEVFN: u64 = ppc_bitmask(12, 19);
/// CONFIG_ADDRESS: register offset (dword aligned).
pub const PHB_CA_REG: u64 = ppc_bitmask(20, 31);
/// RID translation table base address register.
pub const PHB_RTT_BAR: u64 = 0x168;
/// RTT_BAR: enable.
pub const PHB_RTT_BAR_ENABLE: u64 = ppc_bit(0);
/// PE lookup table vector base address register.
pub const PHB_PELTV_BAR: u64 = 0x188;
/// PELTV_BAR: enable.
pub const PHB_PELTV_BAR_ENABLE: u64 = ppc_bit(0);
/// PCI address of the M32 window.
pub const PHB_M32_START_ADDR: u64 = 0x1a0;
/// PE state table base address register.
pub const PHB_PEST_BAR: u64 = 0x1a8;
/// PEST_BAR: enable.
pub const PHB_PEST_BAR_ENABLE: u64 = ppc_bit(0);
/// RID translation cache invalidate.
pub const PHB_RTC_INVALIDATE: u64 = 0x208;
/// RTC_INVALIDATE: invalidate every cached RID.
pub const PHB_RTC_INVALIDATE_ALL: u64 = ppc_bit(0);
/// TCE cache kill.
pub const PHB_TCE_KILL: u64 = 0x210;
/// IODA indirect address.
pub const PHB_IODA_ADDR: u64 = 0x220;
/// IODA_ADDR: auto-increment the index after each data access.
pub const PHB_IODA_AD_AUTOINC: u64 = ppc_bit(0);
/// IODA_ADDR: table select.
pub const PHB_IODA_AD_TSEL: u64 = ppc_bitmask(11, 15);
/// IODA indirect data.
pub const PHB_IODA_DATA0: u64 = 0x228;
/// PHB version.
pub const PHB_VERSION: u64 = 0x800;

/// `CONFIG_ADDRESS` value selecting `bus`, `devfn` and the dword at `reg`.
pub const fn config_address(bus: u8, devfn: u8, reg: u16) -> u64 {
    PHB_CA_ENABLE
        | ppc_field(PHB_CA_BUS, bus as u64)
        | ppc_field(PHB_CA_DEVFN, devfn as u64)
        | ppc_field(PHB_CA_REG, (reg & 0xffc) as u64)
}
