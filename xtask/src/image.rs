//! Building a board's firmware and turning the ELF into the flat image QEMU
//! loads as raw bytes at physical address 0.

use crate::boards::Board;
use crate::setup::TARGET;
use object::elf;
use object::read::elf::{ElfFile64, ProgramHeader};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Offset of the boot-argument block in the image, and its size.
const ARGS_OFFSET: usize = 0x20;
const ARGS_SIZE: usize = 0xe0;
const ARGS_MAGIC: &[u8; 8] = b"PNVARGS\0";
/// QEMU's device tree sits at 16 MiB; the image must end before it.
const IMAGE_LIMIT: u64 = 0x0100_0000;

/// A built firmware: its ELF (for gdb) and its flat image.
pub struct Firmware {
    /// The linked ELF.
    pub elf: PathBuf,
    /// The flat image, without boot arguments.
    pub image: PathBuf,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"))
}

/// Builds `board` in release mode and writes `<board>.bin` beside the ELF.
pub fn build(board: &Board) -> Result<Firmware, String> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            TARGET,
            "-p",
            board.name,
        ])
        .current_dir(crate::workspace_root())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("building {} failed", board.name));
    }
    let elf = target_dir().join(TARGET).join("release").join(board.name);
    let image = elf.with_extension("bin");
    let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let flat = flatten(&bytes)?;
    std::fs::write(&image, flat).map_err(|e| format!("{}: {e}", image.display()))?;
    Ok(Firmware { elf, image })
}

/// Lays every loadable segment's file bytes at its physical address.
pub fn flatten(elf_bytes: &[u8]) -> Result<Vec<u8>, String> {
    let file = ElfFile64::<object::BigEndian>::parse(elf_bytes).map_err(|e| e.to_string())?;
    let endian = file.endian();
    let mut image = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != elf::PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let paddr = ph.p_paddr(endian);
        let end = paddr + ph.p_filesz(endian);
        if end > IMAGE_LIMIT {
            return Err(format!(
                "segment at {paddr:#x} ends at {end:#x}, past 16 MiB"
            ));
        }
        let data = ph
            .data(endian, elf_bytes)
            .map_err(|_| "bad segment".to_string())?;
        if image.len() < end as usize {
            image.resize(end as usize, 0);
        }
        image[paddr as usize..end as usize].copy_from_slice(data);
    }
    if image.len() < ARGS_OFFSET + ARGS_SIZE || &image[ARGS_OFFSET..ARGS_OFFSET + 8] != ARGS_MAGIC {
        return Err("image has no boot-argument block at 0x20".into());
    }
    Ok(image)
}

/// Writes a copy of the image with `args` in its boot-argument block.
pub fn with_args(fw: &Firmware, args: &str) -> Result<PathBuf, String> {
    let mut image = std::fs::read(&fw.image).map_err(|e| e.to_string())?;
    patch_args(&mut image, args)?;
    let name = format!(
        "{}-{}.bin",
        fw.image.file_stem().unwrap().to_string_lossy(),
        args.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    let path = fw.image.with_file_name(name);
    std::fs::write(&path, image).map_err(|e| e.to_string())?;
    Ok(path)
}

fn patch_args(image: &mut [u8], args: &str) -> Result<(), String> {
    let room = ARGS_SIZE - 8 - 1;
    if args.len() > room || args.contains('\0') {
        return Err(format!("boot arguments longer than {room} bytes"));
    }
    let slot = &mut image[ARGS_OFFSET + 8..ARGS_OFFSET + ARGS_SIZE];
    slot.fill(0);
    slot[..args.len()].copy_from_slice(args.as_bytes());
    Ok(())
}

/// Path of a file relative to the workspace, for messages.
pub fn shown(p: &Path) -> String {
    p.strip_prefix(crate::workspace_root())
        .unwrap_or(p)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_patched_after_the_magic_and_bounded() {
        let mut image = vec![0u8; 0x200];
        image[0x20..0x28].copy_from_slice(ARGS_MAGIC);
        patch_args(&mut image, "dma").unwrap();
        assert_eq!(&image[0x28..0x2c], b"dma\0");
        assert_eq!(&image[0x20..0x28], ARGS_MAGIC);
        assert!(patch_args(&mut image, &"x".repeat(300)).is_err());
    }

    #[test]
    fn flatten_rejects_non_elf() {
        assert!(flatten(b"not an elf").is_err());
    }
}
