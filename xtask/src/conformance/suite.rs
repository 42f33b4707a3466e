//! Redis's TCL test suite from Debian's `redis` source package: the
//! version of the installed `redis-tools`, so the suite matches the real
//! server it is compared with.
//!
//! apt fetches the source with a private configuration under
//! `target/conformance/apt/` (its own `deb-src` list, package lists and
//! cache), so the host's apt sources and state are left as they are;
//! `dpkg-source` unpacks it with Debian's patches applied.

use crate::{Result, setup, step};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The unpacked suite.
pub struct Suite {
    /// The source tree (holding `tests/test_helper.tcl`).
    pub dir: PathBuf,
    /// Debian's version of the package, e.g. `5:7.0.15-1~deb12u10`.
    pub version: String,
}

/// The suite for the installed `redis-tools`, fetched and unpacked into
/// `work` on first use.
pub fn fetch(work: &Path) -> Result<Suite> {
    let version = installed_version("redis-tools")?;
    let dir = work.join(format!("redis-{}", version.replace([':', '~'], "_")));
    if dir.join("tests/test_helper.tcl").exists() {
        return Ok(Suite { dir, version });
    }
    if !runs("dpkg-source", &["--version"]) {
        step("dpkg-source (to unpack Debian source packages) is missing; installing dpkg-dev");
        setup::apt_install(&["dpkg-dev"], None)?;
    }
    let apt = work.join("apt");
    let lists = apt.join("lists");
    let cache = apt.join("cache");
    for d in [lists.join("partial"), cache.join("archives/partial")] {
        std::fs::create_dir_all(&d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    let sources = apt.join("sources.list");
    std::fs::write(&sources, source_lines()?).map_err(|e| format!("writing {}: {e}", sources.display()))?;
    let options = [
        format!("-oDir::Etc::SourceList={}", sources.display()),
        "-oDir::Etc::SourceParts=/dev/null".to_string(),
        format!("-oDir::State::Lists={}", lists.display()),
        format!("-oDir::Cache={}", cache.display()),
        "-oDebug::NoLocking=1".to_string(),
        "-oAPT::Sandbox::User=root".to_string(),
        "-q".to_string(),
    ];
    step(&format!("fetching Redis's test suite: Debian's redis {version} source package (into {})", apt.display()));
    apt_get(&options, &["update"], &apt)?;
    let download = apt.join("source");
    let _ = std::fs::remove_dir_all(&download);
    std::fs::create_dir_all(&download).map_err(|e| format!("creating {}: {e}", download.display()))?;
    apt_get(&options, &["source", "--download-only", &format!("redis={version}")], &download)?;
    let dsc = std::fs::read_dir(&download)
        .map_err(|e| format!("reading {}: {e}", download.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "dsc"))
        .ok_or_else(|| format!("apt downloaded no .dsc into {}", download.display()))?;
    let unpacking = work.join("unpacking");
    let _ = std::fs::remove_dir_all(&unpacking);
    let status = Command::new("dpkg-source")
        .args(["--no-check", "-x"])
        .arg(&dsc)
        .arg(&unpacking)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run dpkg-source: {e}"))?;
    if !status.success() || !unpacking.join("tests/test_helper.tcl").exists() {
        return Err(format!("`dpkg-source -x {}` did not unpack the test suite", dsc.display()));
    }
    std::fs::rename(&unpacking, &dir).map_err(|e| format!("moving the suite to {}: {e}", dir.display()))?;
    Ok(Suite { dir, version })
}

/// `deb-src` lines for the host's Debian release (its main archive, its
/// updates and its security archive, where Debian's Redis updates come
/// from).
fn source_lines() -> Result<String> {
    let release = std::fs::read_to_string("/etc/os-release").map_err(|e| format!("reading /etc/os-release: {e}"))?;
    let codename = release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .ok_or("/etc/os-release names no VERSION_CODENAME: fetching Debian's redis source needs a Debian host")?;
    Ok(format!(
        "deb-src http://deb.debian.org/debian {codename} main\n\
         deb-src http://deb.debian.org/debian {codename}-updates main\n\
         deb-src http://deb.debian.org/debian-security {codename}-security main\n"
    ))
}

fn apt_get(options: &[String], args: &[&str], dir: &Path) -> Result<()> {
    let status = Command::new("apt-get")
        .args(options)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed (is deb.debian.org reachable?)", args.join(" ")))
    }
}

fn installed_version(package: &str) -> Result<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", package])
        .output()
        .map_err(|e| format!("cannot run dpkg-query: {e}"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || version.is_empty() {
        return Err(format!("{package} is not installed; run `cargo xtask setup`"));
    }
    Ok(version)
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}
