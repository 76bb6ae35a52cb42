//! `cargo xtask linux`: a stock Debian ppc64el kernel on skiboot under QEMU
//! powernv9, its disk DMA checked by the initramfs /init.

use crate::debian;
use crate::initramfs::{self, InitConfig, TestDisk};
use crate::qemu::{self, Outcome, RunOptions};
use std::path::{Path, PathBuf};

/// The disk's PCI device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    /// NVMe on pcie.0 (`/dev/nvme0n1`).
    Nvme,
    /// virtio-blk on pcie.1 (`/dev/vda`).
    Virtio,
}

impl Device {
    /// QEMU `-device` value for drive `d0`.
    fn qemu_device(self) -> &'static str {
        match self {
            Device::Nvme => "nvme,bus=pcie.0,drive=d0,serial=pnv-iommu",
            Device::Virtio => "virtio-blk-pci,bus=pcie.1,drive=d0",
        }
    }

    /// Block device node in the guest.
    fn node(self) -> &'static str {
        match self {
            Device::Nvme => "/dev/nvme0n1",
            Device::Virtio => "/dev/vda",
        }
    }

    /// Modules to load (their dependencies are found from modinfo).
    fn modules(self) -> &'static [&'static str] {
        match self {
            Device::Nvme => &["nvme"],
            Device::Virtio => &["virtio_pci", "virtio_blk"],
        }
    }
}

/// One Linux run.
pub struct LinuxRun {
    /// Name of the run (names its files under target/linux/).
    pub name: String,
    /// The disk's device.
    pub device: Device,
    /// Linux may use the 64-bit bypass window (no `iommu=nobypass`).
    pub bypass: bool,
    /// skiboot image for `-bios`; `None` = QEMU's own skiboot.
    pub firmware: Option<PathBuf>,
    /// Extra /init settings (after_verify, report, module params).
    pub init: fn(&mut InitConfig),
    /// Extra QEMU arguments.
    pub qemu_args: Vec<String>,
    /// Seconds to wait for the verdict.
    pub timeout_secs: u64,
    /// Print the console as it arrives.
    pub echo: bool,
}

/// Builds the disk and initramfs for `run` (under `target/linux/<name>/`),
/// boots, keeps the console in `console.log` there, and returns the console
/// and verdict. A PASS also needs the host to find the guest's pattern in
/// the disk file (checked here; a mismatch turns the verdict into FAIL).
pub fn boot(run: &LinuxRun) -> Result<Outcome, String> {
    let kernel = debian::kernel()?;
    let busybox = debian::busybox()?;
    let dir = crate::image::target_dir().join("linux").join(&run.name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let disk = TestDisk::create(&dir.join("disk.img"))?;
    let mut init = InitConfig::new(run.device.node(), &disk);
    (run.init)(&mut init);
    let modules = initramfs::modules_in_load_order(&kernel.modules, run.device.modules())?;
    let initrd = dir.join("initrd.cpio.gz");
    initramfs::build(&initrd, &busybox, &modules, &init)?;
    let args = command_line(run, &kernel.vmlinux, &initrd, &disk.path);
    let opts = RunOptions {
        timeout_secs: run.timeout_secs,
        gdb: false,
        echo: run.echo,
        extra: vec![],
    };
    let mut outcome = qemu::run_command("qemu-system-ppc64", &args, &opts)?;
    if outcome.verdict.passed() {
        check_pattern_on_host(&mut outcome, &disk)?;
    }
    let log = dir.join("console.log");
    let mut text = outcome.lines.join("\n");
    text += &format!("\nxtask: {}\n", outcome.verdict);
    std::fs::write(&log, text).map_err(|e| format!("{}: {e}", log.display()))?;
    Ok(outcome)
}

/// The guest printed the sha256 of each pattern it wrote; the disk file must
/// hold the last one (the device really read it from guest memory).
fn check_pattern_on_host(outcome: &mut Outcome, disk: &TestDisk) -> Result<(), String> {
    let printed = outcome.lines.iter().rev().find_map(|l| {
        l.split("pattern sha256 ")
            .nth(1)?
            .split_whitespace()
            .next()
            .map(str::to_string)
    });
    let on_disk = initramfs::sha256_of_region(
        &disk.path,
        disk.write_offset_mib << 20,
        disk.write_mib << 20,
    )?;
    if printed.as_deref() != Some(on_disk.as_str()) {
        outcome.verdict = qemu::Verdict::Fail(format!(
            "host: write region of the disk file has sha256 {on_disk}, guest wrote {printed:?}"
        ));
    }
    Ok(())
}

fn command_line(run: &LinuxRun, vmlinux: &Path, initrd: &Path, disk: &Path) -> Vec<String> {
    let mut append = String::from("console=hvc0 panic=-1 quiet");
    if !run.bypass {
        append += " iommu=nobypass";
    }
    let mut args: Vec<String> = [
        "-M",
        "powernv9",
        "-m",
        "2G",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-no-reboot",
    ]
    .map(String::from)
    .to_vec();
    if let Some(fw) = &run.firmware {
        args.extend(["-bios".into(), fw.display().to_string()]);
    }
    args.extend([
        "-kernel".into(),
        vmlinux.display().to_string(),
        "-initrd".into(),
        initrd.display().to_string(),
        "-append".into(),
        append,
        "-drive".into(),
        format!("if=none,id=d0,file={},format=raw", disk.display()),
        "-device".into(),
        run.device.qemu_device().into(),
    ]);
    args.extend(run.qemu_args.iter().cloned());
    args
}
