//! Links the loader with its own script (`bios.ld`): the MBR at 0x7C00,
//! stage 2 at 0x8000. Cargo does not track linker scripts by itself.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/bios.ld");
    println!("cargo:rerun-if-changed=bios.ld");
}
