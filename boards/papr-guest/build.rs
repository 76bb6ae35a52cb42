//! Links the guest with its own linker script (image at guest real 0).

fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let script = dir
        .join("../../linker/papr-guest.ld")
        .canonicalize()
        .expect("linker/papr-guest.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    if std::env::var("TARGET").unwrap().starts_with("powerpc64") {
        println!("cargo:rustc-link-arg=-T{}", script.display());
    }
}
