//! skiboot with pnv-iommu linked in: the `boards/skiboot` board.
//!
//! skiboot's source comes from Debian (`debian::skiboot_source`, never
//! committed here). Each variant is built in its own copy of that tree under
//! `target/skiboot/<variant>/`:
//! 1. the library (`pnv-iommu-capi`) for the firmware target without
//!    FP/VMX/VSX ([`LIB_RUSTFLAGS`]; skiboot runs with them off), in its own
//!    target directory `target/skiboot-lib` so it does not thrash the pwr9
//!    build;
//! 2. `boards/skiboot/*` and `include/pnv_iommu.h` copied in as
//!    `pnv-iommu/`, plus the library archive;
//! 3. the few edits to skiboot's own files ([`EDITS`]: build glue and the
//!    one registration call);
//! 4. `make CROSS=powerpc64-linux-gnu- ELF_ABI_v2=1 skiboot.lid` (big-endian
//!    ELFv2, so the musl-target archive links).
//!
//! Files are only rewritten when their content changes, so make rebuilds
//! only what changed.

use crate::debian;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which library build goes into skiboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The library as it is.
    Normal,
    /// The library built with `negative-control-wrong-tve`: its
    /// `map_pe_dma_window` writes a wrong table address into the TVE.
    WrongTve,
    /// The library built for POWER9 with its vector units (the firmware
    /// target's default flags): the negative control of `fpcheck`, never
    /// booted.
    Pwr9Vector,
}

impl Variant {
    fn dir_name(self) -> &'static str {
        match self {
            Variant::Normal => "normal",
            Variant::WrongTve => "wrong-tve",
            Variant::Pwr9Vector => "pwr9-vector",
        }
    }

    /// RUSTFLAGS of the library build, and its cargo target directory
    /// (different flags in one directory would rebuild everything on each
    /// switch).
    fn rust_flags(self) -> (&'static str, &'static str) {
        match self {
            Variant::Normal | Variant::WrongTve => (LIB_RUSTFLAGS, "skiboot-lib"),
            Variant::Pwr9Vector => ("-C target-cpu=pwr9", "skiboot-lib-pwr9"),
        }
    }

    fn cargo_features(self) -> &'static [&'static str] {
        match self {
            Variant::Normal | Variant::Pwr9Vector => &[],
            Variant::WrongTve => &["--features", "negative-control-wrong-tve"],
        }
    }
}

/// A built skiboot.
#[derive(Clone)]
pub struct Skiboot {
    /// `skiboot.lid`, the raw image for QEMU's `-bios`.
    pub lid: PathBuf,
    /// `skiboot.elf`, for the disassembly check.
    pub elf: PathBuf,
    /// The library archive linked into it.
    pub library: PathBuf,
}

/// Cross compiler prefix skiboot is built with.
pub const CROSS: &str = "powerpc64-linux-gnu-";

/// Flags of the library build for skiboot: POWER8, and no FP, VMX or VSX
/// (skiboot runs with MSR[FP|VEC|VSX] off; a pwr9 build took "VSX
/// unavailable" inside an OPAL call). `fpcheck` proves the routed calls
/// reach no such instruction.
pub const LIB_RUSTFLAGS: &str = "-C target-cpu=pwr8 -C target-feature=-altivec,-vsx,-hard-float";

/// Edits to skiboot's own files: (file, anchor that must occur exactly
/// once, text inserted after it). Marked so a second run skips them.
const EDITS: &[(&str, &str, &str)] = &[
    (
        "Makefile.main",
        "include $(SRC)/libstb/Makefile.inc\n",
        "include $(SRC)/pnv-iommu/Makefile.inc # pnv-iommu\n",
    ),
    (
        "Makefile.main",
        "OBJS += $(LIBC) $(CCAN) $(DEVSRC_OBJ) $(LIBPORE)\n",
        "OBJS += $(PNV_IOMMU) # pnv-iommu\n",
    ),
    (
        "core/init.c",
        "#include <xscom-p10-regs.h>\n",
        "#include \"../pnv-iommu/pnv_iommu_shim.h\" /* pnv-iommu */\n",
    ),
    (
        "core/init.c",
        "\tpci_init_slots();\n",
        "\tpnv_iommu_shim_register(); /* pnv-iommu */\n",
    ),
];

/// Host packages the build needs: (binaries, Debian packages). Host gcc
/// for skiboot's few host-side helpers.
const BUILD_TOOLS: (&[&str], &[&str]) = (
    &[
        "powerpc64-linux-gnu-gcc",
        "powerpc64-linux-gnu-ld",
        "powerpc64-linux-gnu-objdump",
        "make",
        "xz",
        "gcc",
    ],
    &[
        "gcc-powerpc64-linux-gnu",
        "binutils-powerpc64-linux-gnu",
        "make",
        "xz-utils",
        "gcc",
    ],
);

/// Installs the cross toolchain (and make, xz) when missing.
pub fn ensure_tools() -> Result<(), String> {
    debian::install(BUILD_TOOLS.0, BUILD_TOOLS.1)
}

/// Builds (or brings up to date) skiboot with the library of `variant`,
/// once per xtask process.
pub fn build(variant: Variant) -> Result<Skiboot, String> {
    static BUILT: std::sync::Mutex<Vec<(Variant, Skiboot)>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap();
    if let Some((_, s)) = built.iter().find(|(v, _)| *v == variant) {
        return Ok(s.clone());
    }
    let s = build_now(variant)?;
    built.push((variant, s.clone()));
    Ok(s)
}

fn build_now(variant: Variant) -> Result<Skiboot, String> {
    ensure_tools()?;
    crate::setup::ensure_target()?;
    let lib = build_library(variant)?;
    let tree = crate::image::target_dir()
        .join("skiboot")
        .join(variant.dir_name())
        .join("skiboot");
    if !tree.join("Makefile").is_file() {
        let pristine = debian::skiboot_source()?;
        std::fs::create_dir_all(tree.parent().unwrap()).map_err(|e| e.to_string())?;
        run(
            Command::new("cp").arg("-a").arg(&pristine).arg(&tree),
            "copying skiboot's source",
        )?;
    }
    apply_edits(&tree)?;
    let shim_dir = tree.join("pnv-iommu");
    std::fs::create_dir_all(&shim_dir).map_err(|e| e.to_string())?;
    let root = crate::workspace_root();
    let board = root.join("boards/skiboot");
    for e in std::fs::read_dir(&board).map_err(|e| format!("{}: {e}", board.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".c")
            || name.ends_with(".S")
            || name.ends_with(".h")
            || name == "Makefile.inc"
        {
            copy_if_changed(&p, &shim_dir.join(&name))?;
        }
    }
    copy_if_changed(
        &root.join("include/pnv_iommu.h"),
        &shim_dir.join("pnv_iommu.h"),
    )?;
    copy_if_changed(&lib, &shim_dir.join("libpnv_iommu_capi.a"))?;
    eprintln!("xtask: building skiboot ({})", variant.dir_name());
    run(
        Command::new("make")
            .args([
                &format!("CROSS={CROSS}"),
                "ELF_ABI_v2=1",
                "PNV_IOMMU_LIB=pnv-iommu/libpnv_iommu_capi.a",
                "-j2",
                "skiboot.lid",
            ])
            .current_dir(&tree),
        "make skiboot.lid",
    )?;
    Ok(Skiboot {
        lid: tree.join("skiboot.lid"),
        elf: tree.join("skiboot.elf"),
        library: lib,
    })
}

/// `libpnv_iommu_capi.a` for skiboot, copied out per variant (the two
/// variants share one cargo target directory).
fn build_library(variant: Variant) -> Result<PathBuf, String> {
    let (rustflags, dir) = variant.rust_flags();
    let target_dir = crate::image::target_dir().join(dir);
    // Output captured: rustc warns that the target features are unstable
    // on every build; shown only when the build fails.
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            crate::setup::TARGET,
            "-p",
            "pnv-iommu-capi",
        ])
        .args(variant.cargo_features())
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", rustflags)
        .current_dir(crate::workspace_root())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "building pnv-iommu-capi for skiboot failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let built = target_dir
        .join(crate::setup::TARGET)
        .join("release/libpnv_iommu_capi.a");
    let out = target_dir.join(format!("libpnv_iommu_capi-{}.a", variant.dir_name()));
    copy_if_changed(&built, &out)?;
    Ok(out)
}

/// Applies [`EDITS`] once (each insertion carries the `pnv-iommu` marker).
fn apply_edits(tree: &Path) -> Result<(), String> {
    for (file, anchor, insert) in EDITS {
        let path = tree.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if text.contains(insert) {
            continue;
        }
        let at = match text.match_indices(anchor).collect::<Vec<_>>().as_slice() {
            [(at, _)] => at + anchor.len(),
            found => {
                return Err(format!(
                    "skiboot {file}: anchor {anchor:?} found {} times, want 1",
                    found.len()
                ));
            }
        };
        let edited = format!("{}{insert}{}", &text[..at], &text[at..]);
        std::fs::write(&path, edited).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<(), String> {
    let new = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    if std::fs::read(to).ok().as_deref() != Some(&new[..]) {
        std::fs::write(to, &new).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok(())
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(30).collect();
    Err(format!(
        "{what} failed:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}
