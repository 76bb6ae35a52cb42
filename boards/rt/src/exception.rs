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

#[cfg(test)]
mod tests {
    use super::*;

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
