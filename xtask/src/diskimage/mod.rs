//! Bootable disk images: what firmware boots from a disk (the x86_64 BIOS
//! loader so far).

// `install` is for the GPT + FAT disk writer, which is not in xtask yet;
// until then the QEMU-booted test (tests/tests/bios.rs) uses this module.
#[allow(dead_code)]
pub mod bios;
