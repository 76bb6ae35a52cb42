//! Reading the boot-argument block of each board's image, whose layout
//! (offset, magic, size) lives in [`pnv_contract::boot_args`]; the board
//! places the block with [`boot_args_block!`](crate::boot_args_block).

/// Size of the block (its home: [`pnv_contract::boot_args`]).
pub const BOOT_ARGS_SIZE: usize = pnv_contract::boot_args::SIZE;

/// The string in a boot-argument block: the bytes after the magic up to the
/// first NUL (empty when none was given or it is not UTF-8).
pub fn parse(block: &[u8; BOOT_ARGS_SIZE]) -> &str {
    let text = &block[8..];
    let len = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    core::str::from_utf8(&text[..len]).unwrap_or("")
}

#[cfg(target_arch = "powerpc64")]
unsafe extern "C" {
    /// The block [`boot_args_block!`] defines in the board's `.head`.
    static boot_args: [u8; BOOT_ARGS_SIZE];
}

/// The boot-argument string of this image (empty when none was given).
#[cfg(target_arch = "powerpc64")]
pub fn args() -> &'static str {
    // SAFETY: `boot_args` is the 0xe0-byte block `boot_args_block!` puts in
    // the image's .head section; nothing writes it at run time.
    let block: &'static [u8; BOOT_ARGS_SIZE] = unsafe { &*core::ptr::addr_of!(boot_args) };
    parse(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &[u8]) -> [u8; BOOT_ARGS_SIZE] {
        let mut b = [0u8; BOOT_ARGS_SIZE];
        b[..8].copy_from_slice(pnv_contract::boot_args::MAGIC);
        b[8..8 + text.len()].copy_from_slice(text);
        b
    }

    #[test]
    fn reads_up_to_the_first_nul() {
        assert_eq!(parse(&block(b"dma-phb0\0junk")), "dma-phb0");
        assert_eq!(parse(&block(b"")), "");
    }

    #[test]
    fn a_full_block_without_nul_is_read_to_its_end() {
        let full = [b'a'; BOOT_ARGS_SIZE - 8];
        assert_eq!(parse(&block(&full)).len(), BOOT_ARGS_SIZE - 8);
    }

    #[test]
    fn invalid_utf8_reads_as_empty() {
        assert_eq!(parse(&block(&[0xff, 0xfe])), "");
    }
}
