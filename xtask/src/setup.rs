//! `cargo xtask setup`: makes sure this machine has what the project needs,
//! installing it with apt when running as root, or printing the exact
//! command otherwise. The other commands call the same checks.

use crate::args::Args;
use crate::toolchain::{self, Toolchain};
use crate::{Result, step};
use qemu_tests::Arch;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn run(args: &Args) -> Result<()> {
    args.finish()?;
    let tc = ensure_toolchain()?;
    step(&format!("toolchain: {}", tc.description));
    for arch in Arch::ALL {
        ensure_qemu(arch)?;
        step(&format!("QEMU for {arch}: {}", qemu_version(arch).unwrap_or_default()));
    }
    ensure_qemu_img()?;
    step("qemu-img: installed (qcow2 data disks, the qcow2/vmdk/vhd image formats)");
    ensure_xorriso()?;
    step("xorriso: installed (the iso image format)");
    for arch in Arch::ALL {
        ensure_uefi_firmware(arch)?;
    }
    step("UEFI firmware: OVMF and AAVMF installed (for `run --image` and the disk image tests)");
    ensure_uboot()?;
    step("U-Boot for QEMU's arm64 virt machine: installed");
    ensure_passt()?;
    step("passt: installed (the default network back end)");
    ensure_redis_tools()?;
    step("redis-tools: installed (redis-cli and redis-benchmark, for the Redis appliance's tests)");
    ensure_python_venv()?;
    step(&format!("Python test environment: {}", qemu_tests::python_venv().display()));
    step("setup complete");
    Ok(())
}

/// Everything `cargo xtask test` needs, printing only what it installs.
pub fn run_quietly() -> Result<()> {
    ensure_toolchain()?;
    for arch in Arch::ALL {
        ensure_qemu(arch)?;
        ensure_uefi_firmware(arch)?;
    }
    ensure_qemu_img()?;
    ensure_xorriso()?;
    ensure_uboot()?;
    ensure_passt()?;
    ensure_redis_tools()?;
    ensure_python_venv()
}

/// OVMF (x86_64) or AAVMF (aarch64): the UEFI firmware that boots the
/// disk images (`ovmf`, `qemu-efi-aarch64`).
pub fn ensure_uefi_firmware(arch: Arch) -> Result<()> {
    use qemu_tests::firmware;
    let present =
        || Path::new(firmware::uefi_code(arch)).exists() && Path::new(firmware::uefi_vars_template(arch)).exists();
    if present() {
        return Ok(());
    }
    let package = firmware::uefi_package(arch);
    step(&format!("{} is missing; installing {package}", firmware::uefi_code(arch)));
    apt_install(&[package], None)?;
    if present() { Ok(()) } else { Err(format!("{package} installed, but {} is missing", firmware::uefi_code(arch))) }
}

/// U-Boot for QEMU's arm64 `virt` machine (`u-boot-qemu`), which boots the
/// aarch64 disk image's EFI loader as most Arm boards do.
pub fn ensure_uboot() -> Result<()> {
    let path = Path::new(qemu_tests::firmware::UBOOT_AARCH64);
    if path.exists() {
        return Ok(());
    }
    step(&format!("{} is missing; installing u-boot-qemu", path.display()));
    apt_install(&["u-boot-qemu"], None)?;
    if path.exists() { Ok(()) } else { Err(format!("u-boot-qemu installed, but {} is missing", path.display())) }
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// redis-cli and redis-benchmark (Debian's `redis-tools`), the clients the
/// Redis appliance's integration tests drive it with.
pub fn ensure_redis_tools() -> Result<()> {
    let present = || runs("redis-cli", &["--version"]) && runs("redis-benchmark", &["--version"]);
    if present() {
        return Ok(());
    }
    step("redis-cli or redis-benchmark is missing; installing redis-tools");
    apt_install(&["redis-tools"], None)?;
    if present() { Ok(()) } else { Err("redis-tools installed, but redis-cli does not run".into()) }
}

/// The pinned Python packages of the Redis test suite (redis-py, pytest).
const PYTHON_REQUIREMENTS: &str = "tests/redis/requirements.txt";

/// A virtual environment in `target/venv` with the packages of
/// `tests/redis/requirements.txt`, made with `python3 -m venv` and pip (from
/// PyPI) when missing or when the requirements changed.
pub fn ensure_python_venv() -> Result<()> {
    let root = qemu_tests::repo_root();
    let venv = qemu_tests::python_venv();
    let python = venv.join("bin/python");
    let requirements = root.join(PYTHON_REQUIREMENTS);
    let wanted =
        std::fs::read_to_string(&requirements).map_err(|e| format!("reading {}: {e}", requirements.display()))?;
    // Written after a successful install: what the environment holds.
    let installed = venv.join("installed-requirements.txt");
    let python_runs = || runs(&python.to_string_lossy(), &["-c", "import sys"]);
    if python_runs() && std::fs::read_to_string(&installed).is_ok_and(|t| t == wanted) {
        return Ok(());
    }
    if !python_runs() {
        if !runs("python3", &["--version"]) {
            step("python3 is missing; installing python3 and python3-venv");
            apt_install(&["python3", "python3-venv"], None)?;
        }
        step(&format!("creating a Python virtual environment: python3 -m venv {}", venv.display()));
        let _ = std::fs::remove_dir_all(&venv);
        if !runs("python3", &["-m", "venv", &venv.to_string_lossy()]) {
            // Debian's python3 keeps venv (ensurepip) in a separate package.
            step("python3 cannot create virtual environments; installing python3-venv");
            apt_install(&["python3-venv"], None)?;
            let _ = std::fs::remove_dir_all(&venv);
            let status = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(format!("`python3 -m venv {}` failed", venv.display()));
            }
        }
    }
    step(&format!(
        "installing the Python test packages: {} -m pip install -r {PYTHON_REQUIREMENTS} ({})",
        python.display(),
        wanted.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect::<Vec<_>>().join(", ")
    ));
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !status.success() {
        return Err(format!("`pip install -r {PYTHON_REQUIREMENTS}` failed (PyPI must be reachable)"));
    }
    std::fs::write(&installed, wanted).map_err(|e| format!("writing {}: {e}", installed.display()))
}

/// passt: the user-mode network back end for guests (many simultaneous
/// forwarded connections, DHCP), from Debian's `passt` package.
pub fn ensure_passt() -> Result<()> {
    if qemu_tests::network::passt_available() {
        return Ok(());
    }
    step("passt is missing; installing it");
    apt_install(&["passt"], None)?;
    if qemu_tests::network::passt_available() { Ok(()) } else { Err("passt installed, but it does not run".into()) }
}

pub fn ensure_toolchain() -> Result<Toolchain> {
    if let Some(tc) = toolchain::find() {
        if tc.clippy_dir.is_none() && tc.cargo.starts_with("/usr/bin") {
            step("Debian's Rust has no clippy; installing rust-web-clippy");
            apt_install(&["rust-web-clippy"], None)?;
            return toolchain::find().ok_or_else(|| "the toolchain disappeared while installing clippy".to_string());
        }
        return Ok(tc);
    }
    step("no Rust toolchain with rust-src found; installing Debian's Rust packages");
    apt_install(toolchain::DEBIAN_PACKAGES, None)?;
    toolchain::find().ok_or_else(|| {
        "Debian's Rust packages are installed but /usr/bin/rustc has no library source; \
         check `dpkg -L rust-web-src`"
            .to_string()
    })
}

fn qemu_version(arch: Arch) -> Option<String> {
    let out = Command::new(arch.qemu_binary()).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success().then(|| text.lines().next().unwrap_or_default().to_string())
}

pub fn ensure_qemu(arch: Arch) -> Result<()> {
    if qemu_version(arch).is_some() {
        return Ok(());
    }
    let package = match arch {
        Arch::X86_64 => "qemu-system-x86",
        Arch::Aarch64 => "qemu-system-arm",
    };
    step(&format!("{} is missing; installing {package}", arch.qemu_binary()));
    // Debian 12's own QEMU (7.2) conflicts with the qemu-utils 10 these
    // machines carry; bookworm-backports has QEMU 10.
    let suite = if debian_codename().as_deref() == Some("bookworm") {
        enable_bookworm_backports()?;
        Some("bookworm-backports")
    } else {
        None
    };
    apt_install(&[package], suite)?;
    qemu_version(arch)
        .map(|_| ())
        .ok_or_else(|| format!("{package} installed, but {} does not run", arch.qemu_binary()))
}

/// `qemu-img` (Debian's `qemu-utils`, which QEMU only recommends): qcow2
/// data disks and the converted image formats. From bookworm-backports on
/// Debian 12, matching QEMU 10.
pub fn ensure_qemu_img() -> Result<()> {
    if runs("qemu-img", &["--version"]) {
        return Ok(());
    }
    step("qemu-img is missing; installing qemu-utils");
    let suite = if debian_codename().as_deref() == Some("bookworm") {
        enable_bookworm_backports()?;
        Some("bookworm-backports")
    } else {
        None
    };
    apt_install(&["qemu-utils"], suite)?;
    if runs("qemu-img", &["--version"]) {
        Ok(())
    } else {
        Err("qemu-utils installed, but qemu-img does not run".into())
    }
}

/// `xorriso`: the `iso` image format's El Torito writer.
pub fn ensure_xorriso() -> Result<()> {
    if runs("xorriso", &["-version"]) {
        return Ok(());
    }
    step("xorriso is missing; installing it");
    apt_install(&["xorriso"], None)?;
    if runs("xorriso", &["-version"]) { Ok(()) } else { Err("xorriso installed, but it does not run".into()) }
}

fn debian_codename() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| l.strip_prefix("VERSION_CODENAME=")).map(|v| v.trim_matches('"').to_string())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

const BACKPORTS_SOURCE: &str = "/etc/apt/sources.list.d/bookworm-backports.sources";

fn enable_bookworm_backports() -> Result<()> {
    let listed = ["/etc/apt/sources.list", "/etc/apt/sources.list.d"].iter().any(|p| {
        let path = Path::new(p);
        let files: Vec<_> = if path.is_dir() {
            std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| e.path()).collect()
        } else {
            vec![path.to_path_buf()]
        };
        files.iter().any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("bookworm-backports")))
    });
    if listed {
        return Ok(());
    }
    let source = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n\
                  Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
    if !is_root() {
        return Err(format!(
            "QEMU 10 comes from Debian's bookworm-backports, which is not enabled. Run:\n  \
             printf '{}' | sudo tee {BACKPORTS_SOURCE} && sudo apt-get update",
            source.replace('\n', "\\n")
        ));
    }
    step(&format!("enabling bookworm-backports in {BACKPORTS_SOURCE}"));
    std::fs::write(BACKPORTS_SOURCE, source).map_err(|e| format!("writing {BACKPORTS_SOURCE}: {e}"))?;
    APT_UPDATED.store(false, Ordering::Relaxed);
    Ok(())
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Installs Debian packages (from `suite` if given), or explains how.
pub fn apt_install(packages: &[&str], suite: Option<&str>) -> Result<()> {
    let suite_args: Vec<&str> = suite.map(|s| vec!["-t", s]).unwrap_or_default();
    let command =
        format!("apt-get install -y --no-install-recommends {}{}", suite_args.join(" ") + " ", packages.join(" "));
    if !is_root() || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!("missing packages; install them with:\n  sudo apt-get update && sudo {command}"));
    }
    if !APT_UPDATED.swap(true, Ordering::Relaxed) {
        step("apt-get update");
        run_apt(&["update", "-q"])?;
    }
    step(&command);
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(suite_args);
    args.extend(packages);
    run_apt(&args)
}

fn run_apt(args: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`apt-get {}` failed", args.join(" "))) }
}
