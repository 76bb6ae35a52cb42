//! Building a board's firmware and turning the ELF into the flat image QEMU
//! loads as raw bytes at physical address 0.
//!
//! Rust boards are cargo packages built for the firmware target. C boards
//! (`boards::Kind::C`) are compiled with clang and linked by rust-lld (from
//! the Rust toolchain) with `linker/powernv.ld` against the bare-metal build
//! of `libpnv_iommu_capi.a`.

use crate::boards::{Board, Kind};
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

/// The cargo target directory (`CARGO_TARGET_DIR` or `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"))
}

/// Builds `board` in release mode and writes `<board>.bin` beside the ELF.
pub fn build(board: &Board) -> Result<Firmware, String> {
    match board.kind {
        Kind::Rust => build_rust(board),
        Kind::C => build_c(board),
    }
}

fn build_rust(board: &Board) -> Result<Firmware, String> {
    cargo_build_firmware_target(board.name)?;
    let elf = target_dir().join(TARGET).join("release").join(board.name);
    write_image(elf)
}

/// `cargo build --release` of `package` for the firmware target.
fn cargo_build_firmware_target(package: &str) -> Result<(), String> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            TARGET,
            "-p",
            package,
        ])
        .current_dir(crate::workspace_root())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building {package} for {TARGET} failed"))
    }
}

/// Flattens `elf` into `<elf>.bin`.
fn write_image(elf: PathBuf) -> Result<Firmware, String> {
    let image = elf.with_extension("bin");
    let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let flat = flatten(&bytes)?;
    std::fs::write(&image, flat).map_err(|e| format!("{}: {e}", image.display()))?;
    Ok(Firmware { elf, image })
}

/// Clang flags for the C boards. The musl triple gives ELFv2 big-endian
/// objects, which rust-lld links (clang's `powerpc64-linux-gnu` and
/// `gcc-powerpc64-linux-gnu` give ELFv1, which it refuses). Freestanding:
/// no C library, the board's own `mem*` functions, only clang's own headers
/// (added with `-isystem`); static code (r2 = the linker's `.TOC.`, set by
/// the board's entry); a section per function for `--gc-sections`.
const C_FLAGS: &[&str] = &[
    "--target=powerpc64-unknown-linux-musl",
    "-mcpu=pwr9",
    "-mabi=elfv2",
    "-mbig-endian",
    "-std=c11",
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-nostdlib",
    "-nostdinc",
    "-fno-pic",
    "-fno-pie",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wall",
    "-Wextra",
    "-Werror",
];

/// Output of `cmd`, trimmed, or an error naming `what`.
fn output_of(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// rust-lld of the toolchain that builds the workspace:
/// `<sysroot>/lib/rustlib/<host>/bin/rust-lld`.
fn rust_lld() -> Result<PathBuf, String> {
    let root = crate::workspace_root();
    let sysroot = output_of(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .current_dir(&root),
        "rustc --print sysroot",
    )?;
    let version = output_of(
        Command::new("rustc").arg("-vV").current_dir(&root),
        "rustc -vV",
    )?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("rustc -vV names no host")?;
    let lld = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    if lld.is_file() {
        Ok(lld)
    } else {
        Err(format!(
            "{} missing (rustup component rust-lld)",
            lld.display()
        ))
    }
}

/// Builds a C board: `libpnv_iommu_capi.a` for the firmware target (cargo,
/// release: `no_std`, panic = abort), every `*.c` and `*.S` of
/// `boards/<name>/` with clang, then links them with rust-lld and
/// `linker/powernv.ld` into `<target>/release/<name>` and flattens it.
fn build_c(board: &Board) -> Result<Firmware, String> {
    crate::setup::ensure_clang()?;
    let root = crate::workspace_root();
    cargo_build_firmware_target("pnv-iommu-capi")?;
    let release = target_dir().join(TARGET).join("release");
    let lib = release.join("libpnv_iommu_capi.a");
    let src_dir = root.join("boards").join(board.name);
    let obj_dir = release.join(format!("{}-obj", board.name));
    std::fs::create_dir_all(&obj_dir).map_err(|e| format!("{}: {e}", obj_dir.display()))?;
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src_dir)
        .map_err(|e| format!("{}: {e}", src_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("c" | "S")))
        .collect();
    sources.sort();
    if sources.is_empty() {
        return Err(format!("no .c or .S files in {}", shown(&src_dir)));
    }
    let resource_dir = output_of(
        Command::new("clang").arg("-print-resource-dir"),
        "clang -print-resource-dir",
    )?;
    let mut objects = Vec::new();
    for src in &sources {
        let name = src.file_name().unwrap().to_string_lossy();
        let obj = obj_dir.join(format!("{name}.o"));
        let status = Command::new("clang")
            .args(C_FLAGS)
            .arg("-isystem")
            .arg(Path::new(&resource_dir).join("include"))
            .arg("-I")
            .arg(root.join("include"))
            .arg("-I")
            .arg(&src_dir)
            .arg("-c")
            .arg(src)
            .arg("-o")
            .arg(&obj)
            .status()
            .map_err(|e| format!("clang: {e}"))?;
        if !status.success() {
            return Err(format!("compiling {} failed", shown(src)));
        }
        objects.push(obj);
    }
    let elf = release.join(board.name);
    let status = Command::new(rust_lld()?)
        .args(["-flavor", "gnu", "--gc-sections", "-static", "-nostdlib"])
        .arg(format!("-T{}", root.join("linker/powernv.ld").display()))
        .arg("-o")
        .arg(&elf)
        .args(&objects)
        .arg(&lib)
        .status()
        .map_err(|e| format!("rust-lld: {e}"))?;
    if !status.success() {
        return Err(format!("linking {} failed", board.name));
    }
    write_image(elf)
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
    if args.contains('\0') {
        return Err("boot arguments must not contain a NUL byte".into());
    }
    if args.len() > room {
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
