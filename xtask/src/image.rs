//! Building bootable images: compile an app (with the kernel) for a
//! bare-metal target, then write the file a loader boots.
//!
//! - x86_64: an ELF with only its loadable segments and the PVH note
//!   (QEMU `-kernel`, Firecracker, cloud-hypervisor).
//! - aarch64: a raw arm64 `Image` (QEMU `-kernel`, U-Boot `booti`).
//!
//! On x86_64 it also builds the legacy-BIOS disk loader (`boot/bios`), which
//! `diskimage::bios` writes into disk images.

use crate::diskimage::bios;
use crate::{Result, elf, setup, step};
use qemu_tests::{Arch, repo_root};
use std::path::PathBuf;

/// Fails with the list of apps if `app` is not one of them.
pub fn check_app(app: &str) -> Result<()> {
    let apps = apps();
    if apps.iter().any(|a| a == app) {
        Ok(())
    } else {
        Err(format!("unknown app '{app}': apps are {} (directories under apps/)", apps.join(", ")))
    }
}

/// The application crates: directories under `apps/` with a `src/main.rs`.
fn apps() -> Vec<String> {
    let mut apps: Vec<String> = std::fs::read_dir(repo_root().join("apps"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("src/main.rs").exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    apps.sort();
    apps
}

fn target_dir() -> PathBuf {
    // Separate from the host build: a different compiler builds into it.
    repo_root().join("target/image")
}

fn rustflags(arch: Arch) -> String {
    let script = repo_root().join("targets").join(arch.name()).join("kernel.ld");
    [
        // Linked at fixed physical addresses; the kernel runs identity-mapped.
        "-Crelocation-model=static".to_string(),
        format!("-Clink-arg=-T{}", script.display()),
        // Frame pointers make fault reports and future backtraces possible.
        "-Cforce-frame-pointers=yes".to_string(),
    ]
    .join("\x1f")
}

const BUILD_STD: [&str; 2] = ["-Zbuild-std=core,alloc,compiler_builtins", "-Zbuild-std-features=compiler-builtins-mem"];

/// Builds `app` for `arch`; returns the image path.
pub fn build(app: &str, arch: Arch, release: bool) -> Result<PathBuf> {
    check_app(app)?;
    let toolchain = setup::ensure_toolchain()?;
    let profile = if release { "release" } else { "debug" };
    step(&format!("building {app} for {arch} ({profile}) with {}", toolchain.description));
    let mut cmd = toolchain.cargo();
    cmd.current_dir(repo_root())
        .args(["build", "--quiet", "-p", app, "--target", arch.target()])
        .args(BUILD_STD)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags(arch));
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("cannot run {}: {e}", toolchain.cargo.display()))?;
    if !status.success() {
        return Err(format!("building {app} for {arch} failed (see the compiler output above)"));
    }
    let elf_path = target_dir().join(arch.target()).join(profile).join(app);
    let elf = std::fs::read(&elf_path).map_err(|e| format!("reading {}: {e}", elf_path.display()))?;
    let image = match arch {
        Arch::X86_64 => elf::loadable_elf(&elf),
        Arch::Aarch64 => elf::flat_binary(&elf),
    }
    .map_err(|e| format!("{}: {e}", elf_path.display()))?;
    if arch == Arch::X86_64 {
        build_bios_loader()?;
    }
    let out = qemu_tests::image_path(app, arch);
    std::fs::create_dir_all(out.parent().expect("image dir")).map_err(|e| format!("creating image dir: {e}"))?;
    std::fs::write(&out, image).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(out)
}

/// Builds the BIOS loader (`boot/bios`, assembly linked by its `bios.ld`)
/// and writes its flat bytes to [`bios::loader_path`].
pub fn build_bios_loader() -> Result<PathBuf> {
    let toolchain = setup::ensure_toolchain()?;
    let target_dir = repo_root().join("target/bios");
    let status = toolchain
        .cargo()
        .current_dir(repo_root())
        .args(["build", "--quiet", "--release", "-p", "boot-bios", "--target", Arch::X86_64.target()])
        .args(["-Zbuild-std=core", "-Zbuild-std-features=compiler-builtins-mem"])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Its build script adds the linker script, boot/bios/bios.ld.
        .env("CARGO_ENCODED_RUSTFLAGS", "-Crelocation-model=static")
        .status()
        .map_err(|e| format!("cannot run {}: {e}", toolchain.cargo.display()))?;
    if !status.success() {
        return Err("building the BIOS loader (boot/bios) failed (see the compiler output above)".into());
    }
    let elf_path = target_dir.join(Arch::X86_64.target()).join("release/boot-bios");
    let elf = std::fs::read(&elf_path).map_err(|e| format!("reading {}: {e}", elf_path.display()))?;
    let (base, flat) = elf::flat_image(&elf).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let loader = bios::Loader::from_flat(base, &flat).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let out = bios::loader_path();
    std::fs::create_dir_all(out.parent().expect("image dir")).map_err(|e| format!("creating image dir: {e}"))?;
    std::fs::write(&out, loader.to_file()).map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(out)
}

/// Runs clippy over the kernel and every app for `arch`.
pub fn clippy(arch: Arch) -> Result<()> {
    let toolchain = setup::ensure_toolchain()?;
    let Some(mut cmd) = toolchain.cargo_clippy() else {
        return Err(format!(
            "{} has no clippy; install it: sudo apt-get install rust-web-clippy (Debian) \
             or rustup component add clippy",
            toolchain.description
        ));
    };
    cmd.current_dir(repo_root()).args(["clippy", "--quiet", "--target", arch.target()]).args(BUILD_STD);
    for app in apps() {
        cmd.args(["-p", &app]);
    }
    cmd.args(["-p", "kernel", "-p", "boot", "-p", "drivers"]);
    if arch == Arch::X86_64 {
        cmd.args(["-p", "boot-bios"]);
    }
    cmd.args(["--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags(arch));
    let status = cmd.status().map_err(|e| format!("cannot run clippy: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("clippy found problems in the {arch} build")) }
}
