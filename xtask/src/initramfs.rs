//! The test material for a Linux run: a disk image whose sha256 the host
//! knows, and a newc cpio.gz initramfs whose /init checks it.
//!
//! Use:
//! ```ignore
//! let kernel = debian::kernel()?;
//! let disk = TestDisk::create(&dir.join("disk.img"))?;
//! let mut init = InitConfig::new("/dev/nvme0n1", &disk);
//! init.after_verify.push("remove_and_rescan && verify_disk".into());
//! let modules = modules_in_load_order(&kernel.modules, &["nvme"])?;
//! build(&dir.join("initrd.cpio.gz"), &debian::busybox()?, &modules, &init)?;
//! ```
//! /init (the `init.sh` template) loads the modules, waits for the disk,
//! reads it whole with O_DIRECT and compares the sha256, writes a random
//! pattern to the write region and reads it back, runs `after_verify`, runs
//! `report`, prints `PNV-RESULT: PASS` or `PNV-RESULT: FAIL <why>` and
//! powers off. `qemu::run_command` reads that verdict.

use flate2::Compression;
use flate2::write::GzEncoder;
use object::{Object, ObjectSection};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Body of /init; [`init_script`] puts the settings above it.
const INIT_BODY: &str = include_str!("init.sh");

/// A disk image: `verified_mib` of pseudo-random data, then `write_mib` the
/// guest overwrites. The guest hashes the whole disk before writing.
pub struct TestDisk {
    /// The image file.
    pub path: PathBuf,
    /// sha256 of the whole image, lower-case hex.
    pub sha256: String,
    /// sha256 of the part before the write region (what stays unchanged
    /// after the guest writes), lower-case hex.
    pub kept_sha256: String,
    /// Offset of the write region, MiB.
    pub write_offset_mib: u64,
    /// Size of the write region, MiB.
    pub write_mib: u64,
}

impl TestDisk {
    /// Default sizes: 16 MiB checked, 4 MiB written.
    pub fn create(path: &Path) -> Result<TestDisk, String> {
        TestDisk::with_sizes(path, 16, 4)
    }

    /// Writes a fresh image at `path` (deterministic content, so a stale
    /// image from a previous run is replaced by the same bytes).
    pub fn with_sizes(path: &Path, verified_mib: u64, write_mib: u64) -> Result<TestDisk, String> {
        let total = ((verified_mib + write_mib) << 20) as usize;
        let mut bytes = vec![0u8; total];
        // xorshift64: cheap, deterministic, incompressible enough.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for chunk in bytes.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_be_bytes());
        }
        std::fs::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TestDisk {
            path: path.to_path_buf(),
            sha256: hex(&Sha256::digest(&bytes)),
            kept_sha256: hex(&Sha256::digest(&bytes[..(verified_mib << 20) as usize])),
            write_offset_mib: verified_mib,
            write_mib,
        })
    }
}

/// What /init does, beyond the fixed check sequence.
pub struct InitConfig {
    /// Block device to check, e.g. `/dev/nvme0n1` or `/dev/vda`.
    pub disk: String,
    /// Expected sha256 of the whole disk.
    pub disk_sha256: String,
    /// Expected sha256 of the disk before the write region.
    pub kept_sha256: String,
    /// Seconds to wait for the disk to appear.
    pub disk_wait_secs: u64,
    /// Write region (MiB offset, MiB size).
    pub write_offset_mib: u64,
    /// Size of the write region, MiB.
    pub write_mib: u64,
    /// Module parameters given to `insmod`, by module name (e.g.
    /// `nvme_core` → `admin_timeout=5`); busybox insmod does not read the
    /// kernel command line.
    pub module_params: BTreeMap<String, String>,
    /// Shell lines run after the disk verified (each must succeed, else the
    /// verdict is FAIL). The template's functions are available:
    /// `verify_disk`, `write_read_back`, `verify_again` (after a write:
    /// the kept part and the last pattern), `remove_and_rescan`,
    /// `disk_pci_address`, `say`.
    pub after_verify: Vec<String>,
    /// Shell lines run just before the verdict line, pass or fail (e.g.
    /// printing firmware messages).
    pub report: Vec<String>,
    /// Extra shell function definitions (whole `name() { ... }` texts) the
    /// other lines may call.
    pub functions: Vec<String>,
}

impl InitConfig {
    /// Checks `disk_device` against `disk`; nothing extra.
    pub fn new(disk_device: &str, disk: &TestDisk) -> InitConfig {
        InitConfig {
            disk: disk_device.to_string(),
            disk_sha256: disk.sha256.clone(),
            kept_sha256: disk.kept_sha256.clone(),
            disk_wait_secs: 30,
            write_offset_mib: disk.write_offset_mib,
            write_mib: disk.write_mib,
            module_params: BTreeMap::new(),
            after_verify: Vec::new(),
            report: Vec::new(),
            functions: Vec::new(),
        }
    }
}

impl InitConfig {
    /// No disk: /init reports, runs `after_verify` and passes (a boot
    /// that only needs to reach /init, e.g. the linux-guest scenario).
    pub fn console_only() -> InitConfig {
        InitConfig {
            disk: String::new(),
            disk_sha256: String::new(),
            kept_sha256: String::new(),
            disk_wait_secs: 0,
            write_offset_mib: 0,
            write_mib: 0,
            module_params: BTreeMap::new(),
            after_verify: Vec::new(),
            report: Vec::new(),
            functions: Vec::new(),
        }
    }
}

/// A kernel module to put in the initramfs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Module name (`nvme_core`; `-` written as `_`).
    pub name: String,
    /// The `.ko` file in the unpacked kernel package.
    pub file: PathBuf,
}

/// The modules `wanted` (by name) and everything they depend on, each after
/// its dependencies. The Debian kernel package ships no `modules.dep`, so
/// the `depends=` line of each `.ko`'s `.modinfo` section is read.
pub fn modules_in_load_order(modules_dir: &Path, wanted: &[&str]) -> Result<Vec<Module>, String> {
    let mut index = BTreeMap::new();
    index_modules(modules_dir, &mut index)?;
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for name in wanted {
        visit(
            &normal(name),
            &index,
            &mut seen,
            &mut Vec::new(),
            &mut order,
        )?;
    }
    Ok(order)
}

/// Module names use `_` and `-` interchangeably; the kernel uses `_`.
fn normal(name: &str) -> String {
    name.replace('-', "_")
}

fn index_modules(dir: &Path, index: &mut BTreeMap<String, PathBuf>) -> Result<(), String> {
    for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.is_dir() {
            index_modules(&p, index)?;
        } else if let Some(stem) = p.file_name().and_then(|n| n.to_str()?.strip_suffix(".ko")) {
            index.insert(normal(stem), p);
        }
    }
    Ok(())
}

/// Depth-first: dependencies first; `path` detects cycles.
fn visit(
    name: &str,
    index: &BTreeMap<String, PathBuf>,
    seen: &mut BTreeSet<String>,
    path: &mut Vec<String>,
    order: &mut Vec<Module>,
) -> Result<(), String> {
    if seen.contains(name) {
        return Ok(());
    }
    if path.iter().any(|p| p == name) {
        return Err(format!(
            "module dependency cycle: {} -> {name}",
            path.join(" -> ")
        ));
    }
    let file = index
        .get(name)
        .ok_or_else(|| format!("no module {name}.ko in the kernel package"))?;
    path.push(name.to_string());
    for dep in module_depends(file)? {
        visit(&normal(&dep), index, seen, path, order)?;
    }
    path.pop();
    seen.insert(name.to_string());
    order.push(Module {
        name: name.to_string(),
        file: file.clone(),
    });
    Ok(())
}

/// The `depends=` list of a `.ko`'s `.modinfo` section.
fn module_depends(ko: &Path) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(ko).map_err(|e| format!("{}: {e}", ko.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", ko.display()))?;
    let modinfo = file
        .section_by_name(".modinfo")
        .ok_or_else(|| format!("{} has no .modinfo", ko.display()))?
        .data()
        .map_err(|e| e.to_string())?;
    Ok(depends_of(modinfo))
}

/// `depends=` of a NUL-separated `key=value` block.
fn depends_of(modinfo: &[u8]) -> Vec<String> {
    modinfo
        .split(|&b| b == 0)
        .filter_map(|kv| kv.strip_prefix(b"depends="))
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|d| !d.is_empty())
        .collect()
}

/// The full /init: settings, hook functions, then the template body.
pub fn init_script(cfg: &InitConfig, modules: &[Module]) -> String {
    let mut s = String::from("#!/bin/sh\n# Generated by cargo xtask (xtask/src/initramfs.rs).\n");
    s += &format!("DISK='{}'\n", cfg.disk);
    s += &format!("DISK_SHA256='{}'\n", cfg.disk_sha256);
    s += &format!("KEPT_SHA256='{}'\n", cfg.kept_sha256);
    s += &format!("DISK_WAIT_SECS={}\n", cfg.disk_wait_secs);
    s += &format!("WRITE_OFFSET_MIB={}\n", cfg.write_offset_mib);
    s += &format!("WRITE_MIB={}\n", cfg.write_mib);
    s += "load_modules() {\n";
    for m in modules {
        let params = cfg
            .module_params
            .get(&m.name)
            .map(String::as_str)
            .unwrap_or("");
        s += &format!(
            "    insmod /lib/modules/{}.ko {params} || return 1\n",
            m.name
        );
    }
    s += "    return 0\n}\n";
    for f in &cfg.functions {
        s += f;
        s += "\n";
    }
    for (name, lines) in [("after_verify", &cfg.after_verify), ("report", &cfg.report)] {
        s += &format!("{name}() {{\n");
        for l in lines {
            let shown = l.replace('\'', "'\\''");
            s += &format!(
                "    {l} || {{ echo 'initramfs: {name} step failed: {shown}'; return 1; }}\n"
            );
        }
        s += "    return 0\n}\n";
    }
    s + INIT_BODY
}

/// Writes the initramfs: busybox (with its applet links), `modules` under
/// /lib/modules, and /init from `cfg`.
pub fn build(
    out: &Path,
    busybox: &Path,
    modules: &[Module],
    cfg: &InitConfig,
) -> Result<(), String> {
    let mut cpio = Cpio::default();
    for d in ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"] {
        cpio.dir(d);
    }
    let bb = std::fs::read(busybox).map_err(|e| format!("{}: {e}", busybox.display()))?;
    cpio.file("bin/busybox", 0o755, &bb);
    for applet in APPLETS {
        cpio.symlink(&format!("bin/{applet}"), "busybox");
    }
    for m in modules {
        let ko = std::fs::read(&m.file).map_err(|e| format!("{}: {e}", m.file.display()))?;
        cpio.file(&format!("lib/modules/{}.ko", m.name), 0o644, &ko);
    }
    cpio.file("init", 0o755, init_script(cfg, modules).as_bytes());
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut gz = GzEncoder::new(file, Compression::default());
    gz.write_all(&cpio.finish()).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())?;
    Ok(())
}

/// The busybox applets /init uses (plus `sh` for a shell).
const APPLETS: &[&str] = &[
    "sh",
    "mount",
    "insmod",
    "sleep",
    "dd",
    "sha256sum",
    "cut",
    "echo",
    "cat",
    "grep",
    "sed",
    "readlink",
    "basename",
    "uname",
    "sync",
    "poweroff",
    "ls",
    "dmesg",
    "head",
    "tail",
];

/// A newc ("070701") cpio archive in memory.
#[derive(Default)]
struct Cpio {
    bytes: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, &[]);
    }

    fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100000 | perm, data);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, target.as_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.ino = 0;
        self.entry("TRAILER!!!", 0, &[]);
        self.bytes
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of `len` bytes at `offset` of `file`, lower-case hex (the host's
/// check of what the guest wrote).
pub fn sha256_of_region(file: &Path, offset: u64, len: u64) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let region = usize::try_from(offset)
        .ok()
        .zip(usize::try_from(offset.saturating_add(len)).ok())
        .and_then(|(a, b)| bytes.get(a..b))
        .ok_or_else(|| format!("{} is shorter than {offset}+{len}", file.display()))?;
    Ok(hex(&Sha256::digest(region)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_depends_are_split() {
        let info = b"license=GPL\0depends=nvme-core,t10-pi\0name=nvme\0";
        assert_eq!(depends_of(info), ["nvme-core", "t10-pi"]);
        assert!(depends_of(b"depends=\0name=x\0").is_empty());
    }

    #[test]
    fn cpio_entries_are_newc_and_aligned() {
        let mut c = Cpio::default();
        c.file("init", 0o755, b"abc");
        let bytes = c.finish();
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(bytes.len() % 4, 0);
        // Mode field (second) of the first header.
        assert_eq!(&bytes[14..22], b"000081ED");
        assert!(bytes.windows(10).any(|w| w == b"TRAILER!!!"));
    }

    #[test]
    fn init_script_loads_modules_in_order_with_params() {
        let disk = TestDisk {
            path: PathBuf::new(),
            sha256: "ab".into(),
            kept_sha256: "cd".into(),
            write_offset_mib: 16,
            write_mib: 4,
        };
        let mut cfg = InitConfig::new("/dev/vda", &disk);
        cfg.module_params.insert("b".into(), "x=1".into());
        cfg.report.push("echo hi".into());
        let m = |n: &str| Module {
            name: n.into(),
            file: PathBuf::new(),
        };
        let s = init_script(&cfg, &[m("a"), m("b")]);
        let a = s.find("insmod /lib/modules/a.ko").unwrap();
        let b = s.find("insmod /lib/modules/b.ko x=1").unwrap();
        assert!(a < b);
        assert!(s.contains("DISK='/dev/vda'"));
        assert!(s.contains(
            "    echo hi || { echo 'initramfs: report step failed: echo hi'; return 1; }"
        ));
    }
}
