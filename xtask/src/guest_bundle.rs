//! The bundle that hands a Linux guest's boot files to the qemu-powernv9
//! hypervisor: one file QEMU's loader puts at `scenarios::GUEST_LOAD_ADDR`,
//! read by `boards/qemu-powernv9/src/guest/bundle.rs`; its layout is
//! [`pnv_contract::linux_bundle`] (magic, version, then offset/length
//! pairs of the kernel image, the initrd and the command line,
//! big-endian).
//!
//! The kernel image is the flat form of Debian's `vmlinux` (ELFv2
//! little-endian): its loadable segments laid out from physical address 0.

use crate::debian;
use crate::initramfs::{self, InitConfig, TestDisk};
use object::elf;
use object::read::elf::{ElfFile64, ProgramHeader};
use std::path::PathBuf;

use pnv_contract::linux_bundle::{
    CMDLINE, HEADER, INITRD, KERNEL, MAGIC, PART_ALIGN as ALIGN, VERSION,
};
/// The kernel command line of a console-only guest.
pub const CONSOLE_CMDLINE: &str = "console=hvc0";

/// Builds the console-only Linux guest bundle (kernel, an initramfs whose
/// /init prints its verdict and powers off, the command line) and returns
/// its path, `target/linux/linux-guest/bundle.bin`.
pub fn console_only() -> Result<PathBuf, String> {
    let kernel = debian::kernel()?;
    let dir = run_dir("linux-guest")?;
    let initrd = dir.join("initrd.cpio.gz");
    initramfs::build(
        &initrd,
        &debian::busybox()?,
        &[],
        &InitConfig::console_only(),
    )?;
    write_bundle(&dir, &kernel, &initrd, CONSOLE_CMDLINE)
}

/// The bundle of an NVMe guest run `name` (kernel command line
/// `console=hvc0` + `extra`), whose /init checks the NVMe disk: returns the
/// bundle and the disk image (`target/linux/<name>/`).
pub fn nvme(name: &str, extra: &str) -> Result<(PathBuf, PathBuf), String> {
    let kernel = debian::kernel()?;
    let dir = run_dir(name)?;
    let disk = TestDisk::create(&dir.join("disk.img"))?;
    let mut init = InitConfig::new("/dev/nvme0n1", &disk);
    // The disk appears 3-5 s after /init starts; a controller that fails
    // (the negative control) gives up after its 10 s admin timeout.
    init.disk_wait_secs = 20;
    init.module_params
        .insert("nvme_core".into(), "admin_timeout=10 io_timeout=10".into());
    let modules = initramfs::modules_in_load_order(&kernel.modules, &["nvme"])?;
    let initrd = dir.join("initrd.cpio.gz");
    initramfs::build(&initrd, &debian::busybox()?, &modules, &init)?;
    let cmdline = format!("{CONSOLE_CMDLINE} {extra}");
    let bundle = write_bundle(&dir, &kernel, &initrd, cmdline.trim_end())?;
    Ok((bundle, disk.path))
}

fn run_dir(name: &str) -> Result<PathBuf, String> {
    let dir = crate::image::target_dir().join("linux").join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn write_bundle(
    dir: &std::path::Path,
    kernel: &debian::Kernel,
    initrd: &std::path::Path,
    cmdline: &str,
) -> Result<PathBuf, String> {
    let elf =
        std::fs::read(&kernel.vmlinux).map_err(|e| format!("{}: {e}", kernel.vmlinux.display()))?;
    let image = flatten_le(&elf)?;
    let initrd = std::fs::read(initrd).map_err(|e| format!("{}: {e}", initrd.display()))?;
    let bundle = assemble(&image, &initrd, cmdline);
    let out = dir.join("bundle.bin");
    std::fs::write(&out, bundle).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// Lays every loadable segment's file bytes of a little-endian 64-bit ELF
/// at its physical address.
fn flatten_le(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let file =
        ElfFile64::<object::LittleEndian>::parse(bytes).map_err(|e| format!("vmlinux: {e}"))?;
    let endian = file.endian();
    let mut image = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != elf::PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let paddr = ph.p_paddr(endian) as usize;
        let data = ph
            .data(endian, bytes)
            .map_err(|_| "vmlinux: bad segment".to_string())?;
        let end = paddr + data.len();
        if end > 256 << 20 {
            return Err(format!("vmlinux segment ends at {end:#x}, past 256 MiB"));
        }
        if image.len() < end {
            image.resize(end, 0);
        }
        image[paddr..end].copy_from_slice(data);
    }
    if image.is_empty() {
        return Err("vmlinux has no loadable segment".into());
    }
    Ok(image)
}

fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// The bundle bytes: header, then kernel, initrd and command line.
fn assemble(kernel: &[u8], initrd: &[u8], cmdline: &str) -> Vec<u8> {
    let k_off = align(HEADER);
    let i_off = align(k_off + kernel.len());
    let c_off = align(i_off + initrd.len());
    let mut out = vec![0u8; c_off + cmdline.len()];
    out[..8].copy_from_slice(&MAGIC);
    let mut word = |i: usize, w: u64| out[8 * i..8 * i + 8].copy_from_slice(&w.to_be_bytes());
    word(1, VERSION);
    for (i, (off, len)) in [
        (KERNEL, (k_off, kernel.len())),
        (INITRD, (i_off, initrd.len())),
        (CMDLINE, (c_off, cmdline.len())),
    ] {
        word(i, off as u64);
        word(i + 1, len as u64);
    }
    out[k_off..k_off + kernel.len()].copy_from_slice(kernel);
    out[i_off..i_off + initrd.len()].copy_from_slice(initrd);
    out[c_off..].copy_from_slice(cmdline.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_each_part_big_endian_and_aligned() {
        let b = assemble(&[1, 2, 3], &[4; 5], "console=hvc0");
        assert_eq!(&b[..8], b"PNVLINUX");
        let word = |i: usize| u64::from_be_bytes(b[8 * i..8 * i + 8].try_into().unwrap());
        assert_eq!(word(1), 1);
        // The layout's table: kernel at words 2/3, initrd 4/5, cmdline 6/7.
        let (k, kl, i, il, c, cl) = (word(2), word(3), word(4), word(5), word(6), word(7));
        assert_eq!((kl, il, cl), (3, 5, 12));
        assert!(k % ALIGN as u64 == 0 && i % ALIGN as u64 == 0 && c % ALIGN as u64 == 0);
        assert_eq!(&b[k as usize..k as usize + 3], &[1, 2, 3]);
        assert_eq!(&b[i as usize..i as usize + 5], &[4; 5]);
        assert_eq!(&b[c as usize..], b"console=hvc0");
    }

    #[test]
    fn flatten_le_refuses_a_big_endian_or_broken_elf() {
        assert!(flatten_le(b"not an elf").is_err());
    }
}
