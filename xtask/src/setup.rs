//! Installs what the firmware build and QEMU runs need, or says exactly what
//! is missing.

use std::process::Command;

/// The firmware target triple.
pub const TARGET: &str = "powerpc64-unknown-linux-musl";

/// Runs `cmd` to completion; `Err("<what> failed")` when it cannot start
/// or exits unsuccessfully.
pub fn run_ok(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed"))
    }
}

/// Adds the firmware target with rustup when it is missing.
pub fn ensure_target() -> Result<(), String> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(crate::workspace_root())
        .output()
        .map_err(|e| {
            format!("rustup not found ({e}); install rustup, then `rustup target add {TARGET}`")
        })?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("xtask: adding rust target {TARGET}");
    run_ok(
        Command::new("rustup")
            .args(["target", "add", TARGET])
            .current_dir(crate::workspace_root()),
        &format!("`rustup target add {TARGET}`"),
    )
}

/// Installs QEMU's ppc64 system emulator with apt when missing and root.
pub fn ensure_qemu(binary: &str) -> Result<(), String> {
    ensure_apt_binary(binary, "qemu-system-ppc")
}

/// Installs clang (the C boards' compiler: ELFv2 big-endian objects that
/// rust-lld links) with apt when missing and root.
pub fn ensure_clang() -> Result<(), String> {
    ensure_apt_binary("clang", "clang")
}

/// Installs Debian package `package` with apt when `binary` is not on the
/// PATH and we are root; otherwise says which package to install.
fn ensure_apt_binary(binary: &str, package: &str) -> Result<(), String> {
    if which(binary) {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        return Err(format!(
            "{binary} not found: install it with `sudo apt-get install -y {package}`"
        ));
    }
    eprintln!("xtask: installing {package} with apt-get");
    for args in [&["update", "-q"][..], &["install", "-y", "-q", package][..]] {
        let ok = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!(
                "`apt-get {}` failed; install {package}",
                args.join(" ")
            ));
        }
    }
    if which(binary) {
        Ok(())
    } else {
        Err(format!("{binary} still missing after installing {package}"))
    }
}

/// Everything `run` and `test` need (clang only if a board is in C).
pub fn ensure_all() -> Result<(), String> {
    ensure_target()?;
    for b in crate::boards::BOARDS {
        ensure_qemu(b.qemu)?;
        if b.kind == crate::boards::Kind::C {
            ensure_clang()?;
        }
    }
    Ok(())
}

fn which(binary: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false)
}
