//! Builds the static library, compiles the C programs of `tests/c/` against
//! `include/pnv_iommu.h` with the system C compiler, runs them, and checks
//! they report every expected OPAL code.

use std::path::PathBuf;
use std::process::Command;

/// Builds the static library (once per test binary run), compiles the C
/// program `tests/c/<name>.c` against `include/pnv_iommu.h` with the system
/// C compiler, runs it, and returns its output if it succeeded.
fn run_c_program(name: &str) -> String {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capi-smoke");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "pnv-iommu-capi", "--target-dir"])
        .arg(out.join("target"))
        .current_dir(root)
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the static library failed");
    let lib = out.join("target/debug/libpnv_iommu_capi.a");
    assert!(lib.exists(), "{} missing", lib.display());
    let exe = out.join(name);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(root.join("include"))
        .arg(manifest.join(format!("tests/c/{name}.c")))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .status()
        .expect("run cc");
    assert!(status.success(), "compiling {name}.c failed");
    let run = Command::new(&exe).output().expect("run the C program");
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(run.status.success(), "{name} failed:\n{stdout}");
    stdout
}

#[test]
fn c_program_calls_opal_abi() {
    assert!(run_c_program("opal_smoke").contains("opal_smoke: ok"));
}

/// The same entry points over a PHB3 and a PHB5.
#[test]
fn c_program_drives_phb3_and_phb5() {
    assert!(run_c_program("generations_smoke").contains("generations_smoke: ok"));
}
