//! Register access: one small abstraction for every MMIO and XSCOM access.
//!
//! Drivers take a [`RegisterIo`] and never touch addresses themselves. On the
//! firmware target `CacheInhibited` uses the cache-inhibited load/store
//! instructions (`ldcix`, `lwzcix`, ...), which a real POWER machine requires for
//! MMIO (a cacheable access to MMIO checkstops the machine). On the host,
//! `fake::RecordingIo` keeps an in-memory register file and records every
//! access, so the same driver code runs in unit tests.

/// Width of one register access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 1 byte.
    W8,
    /// 2 bytes.
    W16,
    /// 4 bytes.
    W32,
    /// 8 bytes.
    W64,
}

impl Width {
    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            Width::W8 => 1,
            Width::W16 => 2,
            Width::W32 => 4,
            Width::W64 => 8,
        }
    }

    /// Mask of the value bits of this width.
    pub const fn mask(self) -> u64 {
        match self {
            Width::W64 => u64::MAX,
            w => (1u64 << (w.bytes() * 8)) - 1,
        }
    }
}

/// Byte order of the data as it sits in the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Big-endian (POWER registers, XSCOM).
    Big,
    /// Little-endian (PCI configuration space and most PCI devices).
    Little,
}

/// Swaps `value` between big- and little-endian for an access of `width`.
pub const fn swap(value: u64, width: Width) -> u64 {
    match width {
        Width::W8 => value & 0xff,
        Width::W16 => (value as u16).swap_bytes() as u64,
        Width::W32 => (value as u32).swap_bytes() as u64,
        Width::W64 => value.swap_bytes(),
    }
}

/// Access to device registers by physical address.
///
/// Implementations perform exactly one bus access of the given width per call,
/// in program order with respect to other calls on the same object.
pub trait RegisterIo {
    /// Reads `width` bytes at `addr`, interpreting them in `endian` order.
    fn read(&self, addr: u64, width: Width, endian: Endian) -> u64;
    /// Writes the low `width` bytes of `value` at `addr` in `endian` order.
    fn write(&self, addr: u64, width: Width, endian: Endian, value: u64);
    /// Orders all earlier accesses before all later ones (`sync` on target).
    fn barrier(&self);

    /// Big-endian 64-bit read (PHB and XSCOM registers).
    fn read_be64(&self, addr: u64) -> u64 {
        self.read(addr, Width::W64, Endian::Big)
    }
    /// Big-endian 64-bit write.
    fn write_be64(&self, addr: u64, value: u64) {
        self.write(addr, Width::W64, Endian::Big, value)
    }
    /// Little-endian 32-bit read (PCI configuration space, device BARs).
    fn read_le32(&self, addr: u64) -> u32 {
        self.read(addr, Width::W32, Endian::Little) as u32
    }
    /// Little-endian 32-bit write.
    fn write_le32(&self, addr: u64, value: u32) {
        self.write(addr, Width::W32, Endian::Little, value as u64)
    }
    /// Little-endian 16-bit read.
    fn read_le16(&self, addr: u64) -> u16 {
        self.read(addr, Width::W16, Endian::Little) as u16
    }
    /// Little-endian 16-bit write.
    fn write_le16(&self, addr: u64, value: u16) {
        self.write(addr, Width::W16, Endian::Little, value as u64)
    }
    /// Little-endian 64-bit read.
    fn read_le64(&self, addr: u64) -> u64 {
        self.read(addr, Width::W64, Endian::Little)
    }
    /// Little-endian 64-bit write.
    fn write_le64(&self, addr: u64, value: u64) {
        self.write(addr, Width::W64, Endian::Little, value)
    }
    /// Byte read.
    fn read8(&self, addr: u64) -> u8 {
        self.read(addr, Width::W8, Endian::Big) as u8
    }
    /// Byte write.
    fn write8(&self, addr: u64, value: u8) {
        self.write(addr, Width::W8, Endian::Big, value as u64)
    }
}

impl<T: RegisterIo + ?Sized> RegisterIo for &T {
    fn read(&self, addr: u64, width: Width, endian: Endian) -> u64 {
        (**self).read(addr, width, endian)
    }
    fn write(&self, addr: u64, width: Width, endian: Endian, value: u64) {
        (**self).write(addr, width, endian, value)
    }
    fn barrier(&self) {
        (**self).barrier()
    }
}

#[cfg(target_arch = "powerpc64")]
pub use target::CacheInhibited;

#[cfg(target_arch = "powerpc64")]
mod target {
    use super::{Endian, RegisterIo, Width, swap};
    use core::arch::asm;

    /// Cache-inhibited access to physical addresses, for hypervisor real mode.
    ///
    /// The `*cix` instructions are big-endian; little-endian forms swap in
    /// software after the access (one bus access either way).
    #[derive(Debug)]
    pub struct CacheInhibited {
        _private: (),
    }

    impl CacheInhibited {
        /// Creates the accessor.
        ///
        /// # Safety
        /// The caller must run in hypervisor real mode, where the `*cix`
        /// instructions are legal, and every address later passed to this
        /// accessor must be an MMIO register (or memory) whose access has no
        /// effect on memory the Rust program owns.
        pub const unsafe fn new() -> Self {
            CacheInhibited { _private: () }
        }
    }

    impl RegisterIo for CacheInhibited {
        fn read(&self, addr: u64, width: Width, endian: Endian) -> u64 {
            let raw: u64;
            // SAFETY: `new`'s contract makes `addr` a register whose read
            // touches no Rust-owned memory; the `*cix` forms are legal in HV
            // real mode, where this accessor is only constructed.
            unsafe {
                match width {
                    Width::W8 => {
                        asm!("lbzcix {0}, 0, {1}", out(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                    Width::W16 => {
                        asm!("lhzcix {0}, 0, {1}", out(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                    Width::W32 => {
                        asm!("lwzcix {0}, 0, {1}", out(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                    Width::W64 => {
                        asm!("ldcix {0}, 0, {1}", out(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                }
            }
            match endian {
                Endian::Big => raw,
                Endian::Little => swap(raw, width),
            }
        }

        fn write(&self, addr: u64, width: Width, endian: Endian, value: u64) {
            let raw = match endian {
                Endian::Big => value & width.mask(),
                Endian::Little => swap(value, width),
            };
            // SAFETY: as for `read`; `sync` first orders earlier stores to
            // memory (TCE tables) before the register write that uses them.
            unsafe {
                asm!("sync", options(nostack));
                match width {
                    Width::W8 => {
                        asm!("stbcix {0}, 0, {1}", in(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                    Width::W16 => {
                        asm!("sthcix {0}, 0, {1}", in(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                    Width::W32 => {
                        asm!("stwcix {0}, 0, {1}", in(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                    Width::W64 => {
                        asm!("stdcix {0}, 0, {1}", in(reg) raw, in(reg_nonzero) addr, options(nostack))
                    }
                }
            }
        }

        fn barrier(&self) {
            // SAFETY: `sync` only orders storage accesses.
            unsafe { asm!("sync", options(nostack)) }
        }
    }
}

#[cfg(any(test, feature = "std"))]
pub mod fake;
