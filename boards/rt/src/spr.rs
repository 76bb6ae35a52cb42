//! Special-purpose registers the boards read, by their architected numbers
//! (Power ISA 3.0), and the timebase.

bitflags::bitflags! {
    /// Machine state register bits (Power ISA 3.0, bit 0 = least
    /// significant here).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Msr: u64 {
        /// 64-bit mode.
        const SF = 1 << 63;
        /// Hypervisor state.
        const HV = 1 << 60;
        /// Vector (VMX) available.
        const VEC = 1 << 25;
        /// VSX available.
        const VSX = 1 << 23;
        /// External interrupts enabled.
        const EE = 1 << 15;
        /// Problem state.
        const PR = 1 << 14;
        /// Floating point available.
        const FP = 1 << 13;
        /// Machine check interrupts enabled.
        const ME = 1 << 12;
        /// Instruction relocation (translation) on.
        const IR = 1 << 5;
        /// Data relocation (translation) on.
        const DR = 1 << 4;
        /// Recoverable interrupt.
        const RI = 1 << 1;
        /// Little-endian mode.
        const LE = 1 << 0;
    }
}

/// An SPR the boards use; the discriminant is the SPR number `mfspr` and
/// `mtspr` take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Spr {
    /// Data storage interrupt status register.
    Dsisr = 18,
    /// Data address register.
    Dar = 19,
    /// Machine status save/restore register 0 (interrupted PC).
    Srr0 = 26,
    /// Machine status save/restore register 1 (interrupted MSR).
    Srr1 = 27,
    /// Software scratch register 1 (the guest's vectors save r3 there).
    Sprg1 = 273,
    /// Hypervisor software scratch register 0 (the running guest context).
    Hsprg0 = 304,
    /// Hypervisor software scratch register 1 (hypervisor vectors save r3).
    Hsprg1 = 305,
    /// Hypervisor data storage interrupt status register.
    Hdsisr = 306,
    /// Hypervisor data address register.
    Hdar = 307,
    /// Hypervisor save/restore register 0 (interrupted PC).
    Hsrr0 = 314,
    /// Hypervisor save/restore register 1 (interrupted MSR).
    Hsrr1 = 315,
    /// Logical partitioning control register.
    Lpcr = 318,
    /// Logical partition identification register.
    Lpidr = 319,
    /// Partition table control register.
    Ptcr = 464,
    /// Processor identification register.
    Pir = 1023,
}

impl Spr {
    /// The SPR number.
    pub const fn number(self) -> u16 {
        self as u16
    }
}

/// Timebase frequency of QEMU's PowerNV machines (its `PNV_TIMEBASE_FREQ`,
/// which the host device tree also gives): [`timebase`] ticks per second.
pub const TIMEBASE_HZ: u64 = 512_000_000;

#[cfg(target_arch = "powerpc64")]
pub use target::{read, timebase};

#[cfg(target_arch = "powerpc64")]
mod target {
    use super::Spr;

    /// Reads SPR `N` (an [`Spr`] number).
    fn mfspr<const N: u16>() -> u64 {
        let value: u64;
        // SAFETY: `mfspr` changes no memory and no register but its output.
        // A hypervisor SPR read in supervisor state takes a privileged-
        // instruction interrupt, which the board's handler reports; it is
        // never undefined behaviour.
        unsafe {
            core::arch::asm!("mfspr {0}, {spr}", out(reg) value, spr = const N, options(nomem, nostack))
        };
        value
    }

    /// Reads `spr`. Hypervisor SPRs (`H*`, LPCR, LPIDR, PTCR) are readable
    /// only in hypervisor state.
    pub fn read(spr: Spr) -> u64 {
        match spr {
            Spr::Dsisr => mfspr::<{ Spr::Dsisr as u16 }>(),
            Spr::Dar => mfspr::<{ Spr::Dar as u16 }>(),
            Spr::Srr0 => mfspr::<{ Spr::Srr0 as u16 }>(),
            Spr::Srr1 => mfspr::<{ Spr::Srr1 as u16 }>(),
            Spr::Sprg1 => mfspr::<{ Spr::Sprg1 as u16 }>(),
            Spr::Hsprg0 => mfspr::<{ Spr::Hsprg0 as u16 }>(),
            Spr::Hsprg1 => mfspr::<{ Spr::Hsprg1 as u16 }>(),
            Spr::Hdsisr => mfspr::<{ Spr::Hdsisr as u16 }>(),
            Spr::Hdar => mfspr::<{ Spr::Hdar as u16 }>(),
            Spr::Hsrr0 => mfspr::<{ Spr::Hsrr0 as u16 }>(),
            Spr::Hsrr1 => mfspr::<{ Spr::Hsrr1 as u16 }>(),
            Spr::Lpcr => mfspr::<{ Spr::Lpcr as u16 }>(),
            Spr::Lpidr => mfspr::<{ Spr::Lpidr as u16 }>(),
            Spr::Ptcr => mfspr::<{ Spr::Ptcr as u16 }>(),
            Spr::Pir => mfspr::<{ Spr::Pir as u16 }>(),
        }
    }

    /// The timebase register.
    pub fn timebase() -> u64 {
        let tb: u64;
        // SAFETY: reading the timebase has no side effects.
        unsafe { core::arch::asm!("mftb {0}", out(reg) tb, options(nomem, nostack)) };
        tb
    }
}

/// The host's stand-in for the timebase (unit tests): a counter that
/// advances by one per read, so a bounded wait ends after a known number of
/// polls.
#[cfg(not(target_arch = "powerpc64"))]
pub fn timebase() -> u64 {
    use core::sync::atomic::{AtomicU64, Ordering};
    static TICKS: AtomicU64 = AtomicU64::new(0);
    TICKS.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::Spr;

    #[test]
    fn spr_numbers_are_the_architected_ones() {
        assert_eq!(Spr::Srr0.number(), 26);
        assert_eq!(Spr::Srr1.number(), 27);
        assert_eq!(Spr::Dar.number(), 19);
        assert_eq!(Spr::Dsisr.number(), 18);
        assert_eq!(Spr::Hsrr0.number(), 314);
        assert_eq!(Spr::Hsrr1.number(), 315);
        assert_eq!(Spr::Hdar.number(), 307);
        assert_eq!(Spr::Hdsisr.number(), 306);
        assert_eq!(Spr::Lpcr.number(), 318);
        assert_eq!(Spr::Lpidr.number(), 319);
        assert_eq!(Spr::Ptcr.number(), 464);
        assert_eq!(Spr::Pir.number(), 1023);
    }

    #[test]
    fn host_timebase_advances_per_read() {
        let a = super::timebase();
        assert!(super::timebase() > a);
    }
}

#[cfg(test)]
mod msr_tests {
    use super::Msr;

    #[test]
    fn reset_msr_is_sf_and_hv() {
        // DESIGN §4: every thread starts with MSR = 0x9000000000000000.
        assert_eq!((Msr::SF | Msr::HV).bits(), 0x9000_0000_0000_0000);
        assert_eq!(Msr::PR.bits(), 0x4000);
    }
}
