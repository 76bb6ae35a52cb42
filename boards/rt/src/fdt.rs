//! The flattened device tree a boot loader passes in r3 (QEMU to the
//! firmware, a hypervisor to its guest): its header is checked before the
//! blob is handed to a parser.

/// Largest device tree accepted (QEMU's are a few KiB; 1 MiB is the slot
/// QEMU powernv reserves for it).
pub const FDT_MAX: u32 = 0x10_0000;
/// The header's magic number.
pub const FDT_MAGIC: u32 = 0xd00d_feed;

/// The blob's total size, from the first 8 bytes of its header (magic,
/// `totalsize`), if the magic matches and the size lies in `8..=FDT_MAX`.
pub fn blob_size(header: [u8; 8]) -> Option<usize> {
    let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if magic != FDT_MAGIC || !(8..=FDT_MAX).contains(&size) {
        return None;
    }
    Some(size as usize)
}

/// The device tree blob at `addr`, if `addr` is non-zero, 8-byte aligned,
/// and holds a sane header ([`blob_size`]).
///
/// # Safety
/// When `addr` is non-zero and 8-byte aligned, the 8 bytes at `addr` must be
/// readable; when they are a sane header, the `totalsize` bytes at `addr`
/// must be readable and never written for the rest of the program.
pub unsafe fn blob_at(addr: u64) -> Option<&'static [u8]> {
    if addr == 0 || !addr.is_multiple_of(8) {
        return None;
    }
    // SAFETY: the caller guarantees these 8 aligned bytes are readable.
    let header = unsafe { core::ptr::read(addr as *const [u8; 8]) };
    let size = blob_size(header)?;
    // SAFETY: the header is sane, so the caller guarantees `size` bytes at
    // `addr` are readable and stay unchanged; `size` is at most FDT_MAX.
    Some(unsafe { core::slice::from_raw_parts(addr as *const u8, size) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(magic: u32, size: u32) -> [u8; 8] {
        let mut h = [0u8; 8];
        h[..4].copy_from_slice(&magic.to_be_bytes());
        h[4..].copy_from_slice(&size.to_be_bytes());
        h
    }

    #[test]
    fn sane_headers_give_their_size() {
        assert_eq!(blob_size(header(FDT_MAGIC, 8)), Some(8));
        assert_eq!(blob_size(header(FDT_MAGIC, 0x1234)), Some(0x1234));
        assert_eq!(blob_size(header(FDT_MAGIC, FDT_MAX)), Some(0x10_0000));
    }

    #[test]
    fn bad_magic_or_size_is_refused() {
        assert_eq!(blob_size(header(0xedfe_0dd0, 0x1000)), None);
        assert_eq!(blob_size(header(FDT_MAGIC, 7)), None);
        assert_eq!(blob_size(header(FDT_MAGIC, FDT_MAX + 1)), None);
        assert_eq!(blob_size(header(FDT_MAGIC, u32::MAX)), None);
    }

    #[test]
    fn blob_at_refuses_null_and_misaligned_without_reading() {
        // SAFETY: neither address is read (null, misaligned).
        unsafe {
            assert!(blob_at(0).is_none());
            assert!(blob_at(0x1004).is_none());
        }
    }

    #[test]
    fn blob_at_reads_a_blob_in_memory() {
        #[repr(align(8))]
        struct Blob([u8; 16]);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&header(FDT_MAGIC, 16));
        let blob = Box::leak(Box::new(Blob(bytes)));
        // SAFETY: the leaked 16-byte blob is readable and never written.
        let got = unsafe { blob_at(blob.0.as_ptr() as u64) };
        assert_eq!(got.map(<[u8]>::len), Some(16));
    }
}
