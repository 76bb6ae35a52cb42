//! The independent TVE oracle the OPAL property test (`tests/opal_fuzz.rs`)
//! and the fuzzer (`fuzz/src/opal.rs`, which includes this file) check the
//! driver against: written from DESIGN §6/§7, not from the driver's code.

/// The TVE DESIGN §6 gives for a translated window, or `None` if the
/// arguments are not a valid `map_pe_dma_window` call (DESIGN §7).
pub fn oracle_tve(levels: u64, addr: u64, level_bytes: u64, page: u64) -> Option<u64> {
    let page_shift = match page {
        0x1000 => 12,
        0x1_0000 => 16,
        0x20_0000 => 21,
        0x4000_0000 => 30,
        _ => return None,
    };
    if !(1..=5).contains(&levels) || !level_bytes.is_power_of_two() || level_bytes < 0x1000 {
        return None;
    }
    let tts = level_bytes.trailing_zeros() - 11;
    if tts > 31 || !addr.is_multiple_of(level_bytes) || addr >> 60 != 0 {
        return None;
    }
    Some(((addr >> 12) << 16) | ((levels - 1) << 13) | ((tts as u64) << 8) | (page_shift - 11))
}
