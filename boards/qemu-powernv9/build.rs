//! Links the firmware with the shared PowerNV linker script.

fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let script = dir
        .join("../../linker/powernv.ld")
        .canonicalize()
        .expect("linker/powernv.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    if std::env::var("TARGET").unwrap().starts_with("powerpc64") {
        println!("cargo:rustc-link-arg=-T{}", script.display());
    }
}
