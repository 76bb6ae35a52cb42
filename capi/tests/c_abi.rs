//! Builds the static library, compiles `tests/c/opal_smoke.c` against
//! `include/pnv_iommu.h` with the system C compiler, runs it, and checks it
//! reports every expected OPAL code.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn c_program_calls_opal_abi() {
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
    let exe = out.join("opal_smoke");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(root.join("include"))
        .arg(manifest.join("tests/c/opal_smoke.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .status()
        .expect("run cc");
    assert!(status.success(), "compiling opal_smoke.c failed");
    let run = Command::new(&exe).output().expect("run opal_smoke");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "opal_smoke failed:\n{stdout}");
    assert!(stdout.contains("opal_smoke: ok"));
}
