//! Finding a Rust toolchain that can build the bare-metal targets.
//!
//! The kernel is built with `-Zbuild-std`, which needs the standard library's
//! source (`rust-src`). Preference: the active toolchain if it has
//! `rust-src` (a developer laptop with nightly), else Debian's Rust
//! (`rustc-web`, `cargo-web`, `rust-web-src`) under `/usr/bin`, used with
//! `RUSTC_BOOTSTRAP=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Debug)]
pub struct Toolchain {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
    /// Directory holding `cargo-clippy` and `clippy-driver`, if installed.
    pub clippy_dir: Option<PathBuf>,
    pub description: String,
}

fn sysroot(rustc: &Path) -> Option<PathBuf> {
    let out = Command::new(rustc).args(["--print", "sysroot"]).output().ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn has_rust_src(sysroot: &Path) -> bool {
    sysroot.join("lib/rustlib/src/rust/library/core/Cargo.toml").exists()
}

fn version(rustc: &Path) -> String {
    Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Resolves a program name on PATH (rustup proxies resolve to the active toolchain).
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// The active toolchain, if it has `rust-src`.
fn active() -> Option<Toolchain> {
    // rustup's `rustc --print sysroot` names the real toolchain directory.
    let rustc_proxy = which("rustc")?;
    let root = sysroot(&rustc_proxy)?;
    if !has_rust_src(&root) {
        return None;
    }
    let rustc = root.join("bin/rustc");
    let cargo = root.join("bin/cargo");
    if !rustc.exists() || !cargo.exists() {
        return None;
    }
    let clippy_dir = root.join("bin/cargo-clippy").exists().then(|| root.join("bin"));
    Some(Toolchain { description: format!("{} (active toolchain)", version(&rustc)), cargo, rustc, clippy_dir })
}

/// Debian's Rust packages.
fn debian() -> Option<Toolchain> {
    let rustc = PathBuf::from("/usr/bin/rustc");
    let cargo = PathBuf::from("/usr/bin/cargo");
    if !rustc.exists() || !cargo.exists() || !has_rust_src(&sysroot(&rustc)?) {
        return None;
    }
    let clippy_dir = Path::new("/usr/bin/cargo-clippy").exists().then(|| PathBuf::from("/usr/bin"));
    Some(Toolchain { description: format!("{} (Debian, /usr/bin)", version(&rustc)), cargo, rustc, clippy_dir })
}

/// A toolchain that can build the kernel, if one is installed.
pub fn find() -> Option<Toolchain> {
    active().or_else(debian)
}

/// Debian packages that provide a usable toolchain.
pub const DEBIAN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "rust-web-clippy", "lld-22"];

impl Toolchain {
    /// A cargo command set up for bare-metal builds with this toolchain.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        // The outer `cargo xtask` may have set these for the host toolchain.
        for var in ["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "RUSTFLAGS", "CARGO"] {
            cmd.env_remove(var);
        }
        cmd.env("RUSTC", &self.rustc).env("RUSTC_BOOTSTRAP", "1");
        cmd
    }

    /// `cargo clippy` with this toolchain's clippy.
    pub fn cargo_clippy(&self) -> Option<Command> {
        let dir = self.clippy_dir.as_ref()?;
        let mut cmd = self.cargo();
        // cargo finds `cargo-clippy` on PATH: put this toolchain's first.
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", dir.display())).env("CARGO", &self.cargo);
        Some(cmd)
    }
}
