//! The QEMU harness: machine profiles (`qemu/*.toml`), booting an appliance
//! image, watching its serial console, and turning QEMU's exit status back
//! into the guest's. `cargo xtask run` boots through it, and the integration
//! tests in `tests/tests/` drive appliances with it.

pub mod datadisk;
pub mod disk;
pub mod firmware;
mod machine;
pub mod network;
pub mod packet;
mod profile;
pub mod redis;
pub mod resp;

pub use firmware::Firmware;
pub use machine::{Boot, Failure, Machine, console_timestamp};
pub use profile::{Accelerator, Arch, ExitConvention, Profile};

use std::path::PathBuf;

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Where `cargo xtask image` puts finished images.
pub fn image_dir() -> PathBuf {
    std::env::var_os("APPLIANCE_IMAGE_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/images"))
}

/// The Python virtual environment with the Redis test suite's packages
/// (`tests/redis/requirements.txt`), made by `cargo xtask setup`.
pub fn python_venv() -> PathBuf {
    repo_root().join("target/venv")
}

/// The UEFI-bootable disk of `app` for `arch` (`cargo xtask image --format uefi`).
pub fn uefi_image_path(app: &str, arch: Arch) -> PathBuf {
    image_dir().join(format!("{app}-{}-uefi.img", arch.name()))
}

/// The image file of `app` for `arch` (as written by `cargo xtask image`).
pub fn image_path(app: &str, arch: Arch) -> PathBuf {
    image_dir().join(format!("{app}-{}.{}", arch.name(), arch.image_extension()))
}
