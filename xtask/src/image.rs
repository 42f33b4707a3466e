//! Building bootable images: compile an app (with the kernel) for a
//! bare-metal target, then write the file a loader boots.
//!
//! - x86_64: an ELF with only its loadable segments and the PVH note
//!   (QEMU `-kernel`, Firecracker, cloud-hypervisor).
//! - aarch64: a raw arm64 `Image` (QEMU `-kernel`, U-Boot `booti`).
//!
//! The disk formats put that file, the command line and the UEFI loader
//! (`boot/uefi`) on a GPT disk (see `diskimage`), which firmware boots; on
//! x86_64 the legacy-BIOS loader (`boot/bios`) goes on the same disk.

use crate::diskimage::{self, bios};
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

/// The UEFI target for `arch` (built into rustc).
fn uefi_target(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-unknown-uefi",
        Arch::Aarch64 => "aarch64-unknown-uefi",
    }
}

/// The loader's own target directory: no kernel link script in its flags.
fn loader_target_dir() -> PathBuf {
    repo_root().join("target/uefi-loader")
}

/// Builds the UEFI loader (`boot/uefi`) for `arch`; returns the `.efi` path.
pub fn build_loader(arch: Arch, release: bool) -> Result<PathBuf> {
    let toolchain = setup::ensure_toolchain()?;
    let profile = if release { "release" } else { "debug" };
    step(&format!("building the UEFI loader for {arch} ({profile})"));
    let mut cmd = toolchain.cargo();
    cmd.current_dir(repo_root())
        .args(["build", "--quiet", "-p", "uefi-loader", "--target", uefi_target(arch)])
        .args(BUILD_STD)
        .env("CARGO_TARGET_DIR", loader_target_dir())
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("cannot run {}: {e}", toolchain.cargo.display()))?;
    if !status.success() {
        return Err(format!("building the UEFI loader for {arch} failed (see the compiler output above)"));
    }
    Ok(loader_target_dir().join(uefi_target(arch)).join(profile).join("uefi-loader.efi"))
}

/// Builds `app` for `arch` as a bootable raw disk of `size` bytes with
/// `cmdline` stored in it, at its usual place; returns the disk's path.
pub fn build_uefi(app: &str, arch: Arch, release: bool, size: u64, cmdline: &str) -> Result<PathBuf> {
    let out = qemu_tests::uefi_image_path(app, arch);
    build_disk(app, arch, release, size, cmdline, &out)?;
    Ok(out)
}

/// Builds `app` for `arch` as a raw disk at `out` that UEFI firmware boots,
/// and on x86_64 a PC BIOS too.
pub fn build_disk(app: &str, arch: Arch, release: bool, size: u64, cmdline: &str, out: &std::path::Path) -> Result<()> {
    diskimage::cmdline_block(cmdline)?;
    let kernel_path = build(app, arch, release)?;
    let loader_path = build_loader(arch, release)?;
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let (kernel, loader) = (read(&kernel_path)?, read(&loader_path)?);
    // x86_64 disks boot with a PC BIOS too (`build` made the BIOS loader).
    let bios_loader = match arch {
        Arch::X86_64 => Some(bios::Loader::read(&bios::loader_path())?),
        Arch::Aarch64 => None,
    };
    let files = diskimage::write(out, arch, size, &loader, bios_loader.as_ref(), &kernel, cmdline)?;
    step(&format!(
        "{}: kernel at LBA {} ({} bytes), command line at LBA {}",
        out.display(),
        files.kernel.lba,
        files.kernel.bytes,
        files.cmdline.lba
    ));
    Ok(())
}

/// Runs clippy over the UEFI loader for `arch`'s UEFI target.
pub fn clippy_loader(arch: Arch) -> Result<()> {
    let toolchain = setup::ensure_toolchain()?;
    let Some(mut cmd) = toolchain.cargo_clippy() else {
        return Err(format!("{} has no clippy", toolchain.description));
    };
    cmd.current_dir(repo_root())
        .args(["clippy", "--quiet", "-p", "uefi-loader", "--target", uefi_target(arch)])
        .args(BUILD_STD)
        .args(["--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", loader_target_dir())
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let status = cmd.status().map_err(|e| format!("cannot run clippy: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("clippy found problems in the {arch} UEFI loader")) }
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
