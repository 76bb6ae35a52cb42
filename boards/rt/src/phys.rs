//! [`PhysRange`]: the one checked way board code reaches memory by physical
//! address (real mode: the CPU address is the physical one) — memory that a
//! device or a guest reads and writes behind the compiler's back, so no Rust
//! reference may cover it.
//!
//! A range is made once, by an `unsafe` constructor whose caller argues
//! that the memory is there and no Rust object covers it (a board does
//! that in one place, its memory map); everything after is safe: every
//! access is bounds-checked against the range and volatile (the `volatile`
//! crate), and a sub-range can only shrink it.
#![deny(unsafe_op_in_unsafe_fn)]

use core::ptr::NonNull;
use volatile::VolatilePtr;

/// `[base, base + len)` of physical memory, read (and, unless made
/// read-only, written) through volatile accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    base: u64,
    len: u64,
    writable: bool,
}

impl PhysRange {
    /// The range `[base, base + len)`, readable and writable.
    ///
    /// # Safety
    /// - `[base, base + len)` is memory (RAM), reachable at the CPU address
    ///   `base` for as long as the range or any sub-range of it is used;
    /// - no Rust reference or object (stack, heap, statics, the image)
    ///   covers any byte of it in that time; devices and guests may;
    /// - `base + len` does not overflow.
    pub const unsafe fn new(base: u64, len: u64) -> PhysRange {
        PhysRange {
            base,
            len,
            writable: true,
        }
    }

    /// The range `[base, base + len)`, readable only: for memory Rust
    /// objects may cover but never write (the image's text and read-only
    /// data), read to see whether a device wrote it.
    ///
    /// # Safety
    /// As for [`new`](Self::new), except that Rust objects may cover the
    /// memory as long as nothing writes it through them while the range is
    /// used.
    pub const unsafe fn new_read_only(base: u64, len: u64) -> PhysRange {
        PhysRange {
            base,
            len,
            writable: false,
        }
    }

    /// First byte's physical address.
    pub const fn base(&self) -> u64 {
        self.base
    }

    /// Length in bytes.
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// Whether the range is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `[base + offset, base + offset + len)` if it lies inside this range.
    pub fn sub(&self, offset: u64, len: u64) -> Option<PhysRange> {
        let end = offset.checked_add(len)?;
        (end <= self.len).then_some(PhysRange {
            base: self.base + offset,
            len,
            writable: self.writable,
        })
    }

    /// The sub-range holding the physical addresses `[addr, addr + len)`, if
    /// this range holds all of them.
    pub fn at(&self, addr: u64, len: u64) -> Option<PhysRange> {
        self.sub(addr.checked_sub(self.base)?, len)
    }

    fn ptr<T: Copy>(&self, offset: u64) -> VolatilePtr<'_, T> {
        let size = core::mem::size_of::<T>() as u64;
        assert!(
            offset.checked_add(size).is_some_and(|e| e <= self.len)
                && (self.base + offset).is_multiple_of(core::mem::align_of::<T>() as u64),
            "PhysRange access at {offset:#x} outside {:#x}+{:#x} or misaligned",
            self.base,
            self.len
        );
        // SAFETY: the bytes `[base + offset, base + offset + size)` lie in the
        // range (checked above, aligned for `T`), which the constructor's
        // caller promised is memory reachable at that address and covered by
        // no Rust reference (or, read-only, written by none); the pointer is
        // non-null because it lies inside such memory, and borrows `self`.
        unsafe { VolatilePtr::new(NonNull::new_unchecked((self.base + offset) as *mut T)) }
    }

    /// The byte at `offset`.
    pub fn read_u8(&self, offset: u64) -> u8 {
        self.ptr::<u8>(offset).read()
    }

    /// Writes the byte at `offset` (panics on a read-only range).
    pub fn write_u8(&self, offset: u64, value: u8) {
        assert!(self.writable, "write to a read-only PhysRange");
        self.ptr::<u8>(offset).write(value)
    }

    /// The big-endian u32 at `offset` (4-byte aligned).
    pub fn read_be32(&self, offset: u64) -> u32 {
        u32::from_be(self.ptr::<u32>(offset).read())
    }

    /// Writes the big-endian u32 at `offset` (4-byte aligned; panics on a
    /// read-only range).
    pub fn write_be32(&self, offset: u64, value: u32) {
        assert!(self.writable, "write to a read-only PhysRange");
        self.ptr::<u32>(offset).write(value.to_be())
    }

    /// The big-endian u64 at `offset` (8-byte aligned).
    pub fn read_be64(&self, offset: u64) -> u64 {
        u64::from_be(self.ptr::<u64>(offset).read())
    }

    /// The CPU address of `[offset, offset + len)`, checked to lie inside
    /// the range (and, for `write`, that the range is writable).
    fn span(&self, offset: u64, len: u64, write: bool) -> *mut u8 {
        assert!(
            offset.checked_add(len).is_some_and(|e| e <= self.len),
            "PhysRange span {offset:#x}+{len:#x} outside {:#x}+{:#x}",
            self.base,
            self.len
        );
        assert!(!write || self.writable, "write to a read-only PhysRange");
        (self.base + offset) as *mut u8
    }

    /// Copies `bytes` to `[offset, offset + bytes.len())` (panics outside
    /// the range or on a read-only one). A bulk copy, for loading images;
    /// the compiler fence keeps it before whatever hands the memory over.
    pub fn write_bytes(&self, offset: u64, bytes: &[u8]) {
        let dst = self.span(offset, bytes.len() as u64, true);
        // SAFETY: the destination lies in the range (checked by `span`),
        // which the constructor's caller promised is memory no Rust object
        // covers, so the source (a Rust slice) cannot overlap it.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }

    /// Fills `[offset, offset + len)` with `byte` (panics outside the range
    /// or on a read-only one).
    pub fn fill(&self, offset: u64, len: u64, byte: u8) {
        let dst = self.span(offset, len, true);
        // SAFETY: as in `write_bytes`.
        unsafe { core::ptr::write_bytes(dst, byte, len as usize) };
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }

    /// Reads `[offset, offset + out.len())` into `out` (panics outside the
    /// range).
    pub fn read_bytes(&self, offset: u64, out: &mut [u8]) {
        let src = self.span(offset, out.len() as u64, false);
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        // SAFETY: the source lies in the range (checked by `span`), covered
        // by no Rust object, so it cannot overlap `out`.
        unsafe { core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
    }

    /// Copies `[offset, offset + len)` of this range to `dst_offset` of
    /// `dst` (panics if either span is outside its range, or `dst` is
    /// read-only; the two may overlap).
    pub fn copy_to(&self, offset: u64, dst: &PhysRange, dst_offset: u64, len: u64) {
        let src = self.span(offset, len, false);
        let to = dst.span(dst_offset, len, true);
        // SAFETY: both spans lie in their ranges (checked by `span`), memory
        // no Rust object covers; `copy` allows them to overlap.
        unsafe { core::ptr::copy(src, to, len as usize) };
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_stay_inside_and_sub_ranges_shrink() {
        let mut buf = [0u64; 4];
        let base = buf.as_mut_ptr() as u64;
        // SAFETY: `buf` is not used through Rust while `r` is.
        let r = unsafe { PhysRange::new(base, 32) };
        r.write_u8(3, 0xab);
        r.write_be32(4, 0x1234_5678);
        assert_eq!(r.read_u8(3), 0xab);
        assert_eq!(r.read_be32(4), 0x1234_5678);
        assert_eq!(r.read_be64(0), 0x0000_00ab_1234_5678);
        assert_eq!(r.sub(8, 24).map(|s| s.base()), Some(base + 8));
        assert_eq!(r.sub(8, 25), None);
        assert_eq!(r.sub(u64::MAX, 2), None);
        assert_eq!(r.at(base + 16, 16).map(|s| s.len()), Some(16));
        assert_eq!(r.at(base - 1, 1), None);
        let s = r.sub(16, 8).unwrap();
        s.write_u8(0, 7);
        assert_eq!(r.read_u8(16), 7);
        let _ = buf;
    }

    #[test]
    fn bulk_copies_stay_inside() {
        let mut buf = [0u8; 32];
        let base = buf.as_mut_ptr() as u64;
        // SAFETY: `buf` is not used through Rust while `r` is.
        let r = unsafe { PhysRange::new(base, 32) };
        r.write_bytes(2, b"abcd");
        r.fill(8, 4, 0x5a);
        r.copy_to(2, &r, 16, 4);
        let mut out = [0u8; 4];
        r.read_bytes(16, &mut out);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.read_u8(11), 0x5a);
        assert_eq!(r.read_u8(12), 0);
        let _ = buf;
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn a_bulk_copy_past_the_end_panics() {
        let mut buf = [0u8; 8];
        // SAFETY: as above.
        let r = unsafe { PhysRange::new(buf.as_mut_ptr() as u64, 8) };
        r.write_bytes(6, b"abc");
        let _ = buf;
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn an_access_past_the_end_panics() {
        let mut buf = [0u8; 8];
        // SAFETY: as above.
        let r = unsafe { PhysRange::new(buf.as_mut_ptr() as u64, 8) };
        r.read_u8(8);
        let _ = buf;
    }

    #[test]
    #[should_panic(expected = "read-only")]
    fn a_read_only_range_refuses_writes() {
        let buf = [0u8; 8];
        // SAFETY: nothing writes `buf`.
        let r = unsafe { PhysRange::new_read_only(buf.as_ptr() as u64, 8) };
        assert_eq!(r.read_u8(0), 0);
        r.write_u8(0, 1);
    }
}
