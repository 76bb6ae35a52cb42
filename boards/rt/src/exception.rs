//! Names of the interrupt vectors (Power ISA 3.0 Book III, by vector
//! offset), for the boards' exception reports.
#![deny(unsafe_code)]

/// The interrupt taken at `vector`, or `"unknown"`.
pub fn vector_name(vector: u64) -> &'static str {
    match vector {
        0x100 => "system reset",
        0x200 => "machine check",
        0x300 => "data storage",
        0x380 => "data segment",
        0x400 => "instruction storage",
        0x480 => "instruction segment",
        0x500 => "external",
        0x600 => "alignment",
        0x700 => "program",
        0x800 => "floating-point unavailable",
        0x900 => "decrementer",
        0x980 => "hypervisor decrementer",
        0xc00 => "system call",
        0xd00 => "trace",
        0xe00 => "hypervisor data storage",
        0xe20 => "hypervisor instruction storage",
        0xe40 => "hypervisor emulation assistance",
        0xe60 => "hypervisor maintenance",
        0xf00 => "performance monitor",
        0xf20 => "vector unavailable",
        0xf40 => "VSX unavailable",
        0xf60 => "facility unavailable",
        0xf80 => "hypervisor facility unavailable",
        _ => "unknown",
    }
}

/// True for the interrupts that save the interrupted state in HSRR0/HSRR1
/// (hypervisor interrupts: hypervisor decrementer 0x980, 0xe00..0xea0,
/// hypervisor facility unavailable 0xf80); the others use SRR0/SRR1.
/// (An external interrupt at 0x500 uses HSRR when LPCR[LPES] directs it to
/// the hypervisor; the boards leave external interrupts off.)
pub fn saved_in_hsrr(vector: u64) -> bool {
    matches!(vector, 0x980 | 0xe00..=0xea0 | 0xf80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypervisor_interrupts_save_in_hsrr() {
        for v in [0x980, 0xe00, 0xe20, 0xe40, 0xe60, 0xe80, 0xea0, 0xf80] {
            assert!(saved_in_hsrr(v), "{v:#x}");
        }
        for v in [0x100, 0x200, 0x300, 0x700, 0x900, 0xc00, 0xf00, 0xf60] {
            assert!(!saved_in_hsrr(v), "{v:#x}");
        }
    }

    #[test]
    fn names_of_the_vectors_the_runner_checks() {
        assert_eq!(vector_name(0x700), "program");
        assert_eq!(vector_name(0xe40), "hypervisor emulation assistance");
        assert_eq!(vector_name(0x300), "data storage");
        assert_eq!(vector_name(0xf00), "performance monitor");
        assert_eq!(vector_name(0x1000), "unknown");
        assert_eq!(vector_name(0x120), "unknown");
    }
}
