//! Debian packages the Linux runs need, fetched with apt and cached under
//! `target/debian/`.
//!
//! - [`kernel`]: the current ppc64el kernel, resolved through the
//!   `linux-image-powerpc64le` metapackage (never a pinned version), unpacked.
//! - [`busybox`]: `busybox-static:ppc64el`, unpacked.
//! - [`skiboot_source`]: `roms/skiboot` out of the `.orig` tarball of
//!   Debian's `qemu` source package (skiboot v7.0 for QEMU 7.2).
//! - [`install`]: host tools (cross compiler, QEMU) by package name.
//!
//! A cache hit needs neither apt nor the network. On a miss, xtask (as root)
//! adds what apt needs (the `ppc64el` architecture, a `deb-src` entry for the
//! machine's suite), runs `apt-get update` once per process, then
//! downloads. Without root it says which command to run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// The foreign architecture of the kernel and busybox.
pub const GUEST_ARCH: &str = "ppc64el";
/// Metapackage that names the current ppc64el kernel.
const KERNEL_METAPACKAGE: &str = "linux-image-powerpc64le";
/// Static busybox: the initramfs userland.
const BUSYBOX_PACKAGE: &str = "busybox-static";
/// Source package that carries skiboot under `roms/skiboot`.
const SKIBOOT_SOURCE_PACKAGE: &str = "qemu";
/// Where xtask writes its `deb-src` entry.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/pnv-iommu-deb-src.sources";

/// An unpacked ppc64el kernel package.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// Kernel release, e.g. `6.1.0-35-powerpc64le`.
    pub release: String,
    /// The ELF kernel QEMU loads with `-kernel`.
    pub vmlinux: PathBuf,
    /// `lib/modules/<release>` of the package (no `modules.dep` in it; see
    /// `initramfs::modules_in_load_order`).
    pub modules: PathBuf,
}

/// Cache root: `target/debian`.
pub fn cache_dir() -> PathBuf {
    crate::image::target_dir().join("debian")
}

/// The current ppc64el kernel, unpacked under `target/debian/<package>/`.
///
/// The package is the one the metapackage depends on today; when apt cannot
/// say (no lists, no network) the newest cached kernel is used.
pub fn kernel() -> Result<Kernel, String> {
    let package = match current_kernel_package() {
        Ok(p) => p,
        Err(e) => match newest_cached_kernel() {
            Some(p) => {
                eprintln!("xtask: apt cannot resolve {KERNEL_METAPACKAGE} ({e}); using cached {p}");
                p
            }
            None => {
                prepare_apt()?;
                current_kernel_package()?
            }
        },
    };
    // A newer kernel that cannot be fetched now (no network) falls back to
    // the newest one already cached.
    let (package, root) = match unpacked(&package) {
        Ok(root) => (package, root),
        Err(e) => match newest_cached_kernel().filter(|c| *c != package) {
            Some(cached) => {
                eprintln!("xtask: cannot fetch {package} ({e}); using cached {cached}");
                let root = unpacked(&cached)?;
                (cached, root)
            }
            None => return Err(e),
        },
    };
    let release = package
        .strip_prefix("linux-image-")
        .ok_or_else(|| format!("unexpected kernel package name {package}"))?
        .to_string();
    let vmlinux = root.join("boot").join(format!("vmlinux-{release}"));
    let modules = root.join("lib/modules").join(&release);
    for p in [&vmlinux, &modules] {
        if !p.exists() {
            return Err(format!("{package} has no {}", p.display()));
        }
    }
    Ok(Kernel {
        release,
        vmlinux,
        modules,
    })
}

/// The static ppc64el busybox binary (`bin/busybox` of `busybox-static`).
pub fn busybox() -> Result<PathBuf, String> {
    let bin = unpacked(BUSYBOX_PACKAGE)?.join("bin/busybox");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{BUSYBOX_PACKAGE} has no {}", bin.display()))
    }
}

/// skiboot's source tree (`roms/skiboot` of Debian's `qemu` source package),
/// extracted once to `target/debian/skiboot-src/skiboot`. Callers copy it
/// before building or patching; this tree stays pristine.
pub fn skiboot_source() -> Result<PathBuf, String> {
    let dir = cache_dir().join("skiboot-src");
    let tree = dir.join("skiboot");
    if tree.join("Makefile").is_file() {
        return Ok(tree);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let orig = match find_orig_tarball(&dir) {
        Some(t) => t,
        None => {
            prepare_apt()?;
            apt_get(&["source", "--download-only", SKIBOOT_SOURCE_PACKAGE], &dir)?;
            find_orig_tarball(&dir).ok_or("apt-get source gave no .orig tarball")?
        }
    };
    // The tarball's top directory (qemu-7.2.0/) is not known in advance.
    let staging = dir.join("staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    eprintln!("xtask: extracting roms/skiboot from {}", orig.display());
    run(
        Command::new("tar")
            .arg("-xf")
            .arg(&orig)
            .args(["-C"])
            .arg(&staging)
            .args(["--wildcards", "*/roms/skiboot/*"]),
        "tar (extracting roms/skiboot)",
    )?;
    let top = std::fs::read_dir(&staging)
        .map_err(|e| e.to_string())?
        .flatten()
        .next()
        .ok_or("the .orig tarball holds no roms/skiboot")?
        .path();
    std::fs::rename(top.join("roms/skiboot"), &tree).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(tree)
}

/// Installs host `packages` (as root, after `apt-get update`) unless every
/// `binary` is already on the PATH.
pub fn install(binaries: &[&str], packages: &[&str]) -> Result<(), String> {
    if binaries.iter().all(|b| on_path(b)) {
        return Ok(());
    }
    require_root(&format!("apt-get install -y {}", packages.join(" ")))?;
    apt_update()?;
    let mut args = vec!["install", "-y", "-q"];
    args.extend_from_slice(packages);
    apt_get(&args, &std::env::temp_dir())?;
    match binaries.iter().find(|b| !on_path(b)) {
        Some(b) => Err(format!("{b} still missing after installing {packages:?}")),
        None => Ok(()),
    }
}

/// The package `linux-image-powerpc64le:ppc64el` depends on now.
fn current_kernel_package() -> Result<String, String> {
    let meta = format!("{KERNEL_METAPACKAGE}:{GUEST_ARCH}");
    let out = Command::new("apt-cache")
        .args(["show", "--no-all-versions", &meta])
        .output()
        .map_err(|e| format!("apt-cache: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.trim().is_empty() {
        return Err(format!("apt-cache knows no {meta}"));
    }
    kernel_from_depends(&text).ok_or_else(|| format!("{meta} depends on no linux-image-*"))
}

/// The `linux-image-*` name in a `Depends:` field of `apt-cache show`.
fn kernel_from_depends(show: &str) -> Option<String> {
    let depends = show.lines().find_map(|l| l.strip_prefix("Depends:"))?;
    depends
        .split([',', '|'])
        .map(|d| d.split_whitespace().next().unwrap_or(""))
        .find(|d| d.starts_with("linux-image-") && d.ends_with("-powerpc64le"))
        .map(str::to_string)
}

/// The newest `linux-image-*` already unpacked in the cache.
fn newest_cached_kernel() -> Option<String> {
    let mut found: Vec<String> = std::fs::read_dir(cache_dir())
        .ok()?
        .flatten()
        .filter(|e| e.path().join("root").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("linux-image-") && n != KERNEL_METAPACKAGE)
        .collect();
    found.sort_by_key(|n| version_key(n));
    found.pop()
}

/// Sort key of `linux-image-6.1.0-35-powerpc64le`: its numbers.
fn version_key(name: &str) -> Vec<u64> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// `package:ppc64el` unpacked at `target/debian/<package>/root`, downloading
/// it on a cache miss.
fn unpacked(package: &str) -> Result<PathBuf, String> {
    let dir = cache_dir().join(package);
    let root = dir.join("root");
    if root.is_dir() {
        return Ok(root);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let deb = match find_deb(&dir) {
        Some(d) => d,
        None => {
            prepare_apt()?;
            eprintln!("xtask: downloading {package}:{GUEST_ARCH}");
            apt_get(&["download", &format!("{package}:{GUEST_ARCH}")], &dir)?;
            find_deb(&dir).ok_or_else(|| format!("apt-get download gave no {package} .deb"))?
        }
    };
    let staging = dir.join("staging");
    let _ = std::fs::remove_dir_all(&staging);
    run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&staging),
        "dpkg-deb -x",
    )?;
    std::fs::rename(&staging, &root).map_err(|e| e.to_string())?;
    Ok(root)
}

fn find_deb(dir: &Path) -> Option<PathBuf> {
    find_file(dir, |n| n.ends_with(".deb"))
}

fn find_orig_tarball(dir: &Path) -> Option<PathBuf> {
    find_file(dir, |n| n.contains(".orig.tar."))
}

fn find_file(dir: &Path, want: impl Fn(&str) -> bool) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| want(&n.to_string_lossy())))
}

/// Once per process: the `ppc64el` architecture, a `deb-src` entry, then
/// `apt-get update` (the lists may have vanished since the last run).
fn prepare_apt() -> Result<(), String> {
    static DONE: Once = Once::new();
    let mut result = Ok(());
    DONE.call_once(|| {
        result = (|| {
            require_root("dpkg --add-architecture ppc64el; apt-get update")?;
            let archs = output(
                Command::new("dpkg").arg("--print-foreign-architectures"),
                "dpkg",
            )?;
            if !archs.lines().any(|a| a.trim() == GUEST_ARCH) {
                eprintln!("xtask: dpkg --add-architecture {GUEST_ARCH}");
                run(
                    Command::new("dpkg").args(["--add-architecture", GUEST_ARCH]),
                    "dpkg --add-architecture",
                )?;
            }
            ensure_deb_src()?;
            apt_update_now()
        })();
    });
    result
}

/// `apt-get update`, at most once per process (shared with `prepare_apt`).
fn apt_update() -> Result<(), String> {
    static DONE: Once = Once::new();
    let mut result = Ok(());
    DONE.call_once(|| result = apt_update_now());
    result
}

fn apt_update_now() -> Result<(), String> {
    eprintln!("xtask: apt-get update");
    apt_get(&["update", "-q"], &std::env::temp_dir())
}

/// Writes a deb822 `deb-src` entry for the machine's suite, with the URI and
/// signing key of the `deb` entry that serves it, unless apt has one already.
fn ensure_deb_src() -> Result<(), String> {
    let suite = os_codename()?;
    let mut sources = String::new();
    for dir in ["/etc/apt/sources.list.d"] {
        for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "sources" || x == "list") {
                sources += &std::fs::read_to_string(&p).unwrap_or_default();
                sources.push('\n');
            }
        }
    }
    sources += &std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    if has_deb_src(&sources, &suite) {
        return Ok(());
    }
    let (uri, signed_by) = deb_entry_for(&sources, &suite)
        .ok_or_else(|| format!("no apt `deb` entry serves suite {suite}; cannot add deb-src"))?;
    let mut entry = format!("Types: deb-src\nURIs: {uri}\nSuites: {suite}\nComponents: main\n");
    if let Some(key) = signed_by {
        entry += &format!("Signed-By: {key}\n");
    }
    eprintln!("xtask: writing {DEB_SRC_FILE} (deb-src {uri} {suite})");
    std::fs::write(DEB_SRC_FILE, entry).map_err(|e| format!("{DEB_SRC_FILE}: {e}"))
}

/// `VERSION_CODENAME` of /etc/os-release (e.g. `bookworm`).
fn os_codename() -> Result<String, String> {
    let text = std::fs::read_to_string("/etc/os-release").map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|v| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| "/etc/os-release names no VERSION_CODENAME".to_string())
}

/// One deb822 stanza or one-line entry: (types, uris, suites, signed-by).
struct Entry {
    types: Vec<String>,
    uris: Vec<String>,
    suites: Vec<String>,
    signed_by: Option<String>,
}

/// Parses deb822 stanzas and one-line `deb URI suite comp...` entries.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        };
        if let Some(types) = field("Types:") {
            out.push(Entry {
                types,
                uris: field("URIs:").unwrap_or_default(),
                suites: field("Suites:").unwrap_or_default(),
                signed_by: field("Signed-By:").and_then(|v| v.into_iter().next()),
            });
            continue;
        }
        for line in stanza.lines().map(str::trim) {
            let mut words = line.split_whitespace();
            let Some(kind @ ("deb" | "deb-src")) = words.next() else {
                continue;
            };
            let mut rest: Vec<&str> = words.collect();
            let mut signed_by = None;
            // Options: `[key=value ...]`, possibly spread over several words.
            if rest.first().is_some_and(|w| w.starts_with('[')) {
                let end = rest.iter().position(|w| w.ends_with(']')).unwrap_or(0);
                signed_by = rest[..=end]
                    .iter()
                    .map(|o| o.trim_matches(['[', ']']))
                    .find_map(|o| o.strip_prefix("signed-by="))
                    .map(str::to_string);
                rest.drain(..=end);
            }
            if rest.len() >= 2 {
                out.push(Entry {
                    types: vec![kind.to_string()],
                    uris: vec![rest[0].to_string()],
                    suites: vec![rest[1].to_string()],
                    signed_by,
                });
            }
        }
    }
    out
}

fn has_deb_src(sources: &str, suite: &str) -> bool {
    entries(sources)
        .iter()
        .any(|e| e.types.iter().any(|t| t == "deb-src") && e.suites.iter().any(|s| s == suite))
}

/// URI and signing key of the `deb` entry that serves `suite`.
fn deb_entry_for(sources: &str, suite: &str) -> Option<(String, Option<String>)> {
    entries(sources)
        .into_iter()
        .find(|e| e.types.iter().any(|t| t == "deb") && e.suites.iter().any(|s| s == suite))
        .and_then(|e| Some((e.uris.first()?.clone(), e.signed_by)))
}

fn require_root(command: &str) -> Result<(), String> {
    let root = output(Command::new("id").arg("-u"), "id")? == "0";
    if root {
        Ok(())
    } else {
        Err(format!(
            "needs root to fetch Debian packages: run as root, or `sudo sh -c '{command}'`"
        ))
    }
}

/// `apt-get ARGS` in `dir`, non-interactive; the error carries apt's stderr.
fn apt_get(args: &[&str], dir: &Path) -> Result<(), String> {
    run(
        Command::new("apt-get")
            .args(args)
            .current_dir(dir)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get {}", args.join(" ")),
    )
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn output(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what} failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEB822: &str = "Types: deb\nURIs: http://deb.debian.org/debian\n\
        Suites: bookworm bookworm-updates\nComponents: main\n\
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
        Types: deb\nURIs: http://deb.debian.org/debian-security\n\
        Suites: bookworm-security\nComponents: main\n";

    #[test]
    fn deb_src_copies_the_uri_and_key_of_the_suites_deb_entry() {
        assert!(!has_deb_src(DEB822, "bookworm"));
        assert_eq!(
            deb_entry_for(DEB822, "bookworm"),
            Some((
                "http://deb.debian.org/debian".into(),
                Some("/usr/share/keyrings/debian-archive-keyring.gpg".into())
            ))
        );
        let one_line = "deb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main\n\
                        deb-src http://m/debian bookworm main\n";
        assert!(has_deb_src(one_line, "bookworm"));
        assert_eq!(
            deb_entry_for(one_line, "bookworm"),
            Some(("http://m/debian".into(), Some("/k.gpg".into())))
        );
    }

    #[test]
    fn kernel_is_read_from_the_metapackage_depends() {
        let show = "Package: linux-image-powerpc64le\nVersion: 6.1.140-1\n\
                    Depends: linux-image-6.1.0-37-powerpc64le (= 6.1.140-1)\n";
        assert_eq!(
            kernel_from_depends(show).as_deref(),
            Some("linux-image-6.1.0-37-powerpc64le")
        );
        assert_eq!(kernel_from_depends("Depends: libc6\n"), None);
        assert!(
            version_key("linux-image-6.1.0-9-powerpc64le")
                < version_key("linux-image-6.1.0-37-powerpc64le")
        );
    }
}
