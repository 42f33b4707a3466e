//! The Linux baseline appliance, built from Debian packages only: Debian's
//! cloud kernel for the architecture, and an initramfs holding Debian's
//! `redis-server` with its shared libraries, `busybox-static` and a minimal
//! init that loads the virtio-net driver, configures the network like our
//! appliance's and starts Redis with persistence off. A second initramfs,
//! for the persistence round, also loads the virtio-blk driver and mounts
//! the data disk (an ext4 image made on the host) as Redis's `--dir`.
//!
//! Packages are fetched with `apt-get download` through a private apt state
//! under `target/bench/debian/ARCH/` (so arm64 packages need no change to the
//! host's apt configuration), unpacked there, and never installed.

use super::initramfs::{self, Archive, Node};
use super::network::REDIS_PORT;
use crate::{Result, step};
use qemu_tests::network::Transport;
use qemu_tests::{Arch, repo_root};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian packages the userland comes from (their library dependencies
/// are added); the kernel is `linux-image-cloud-ARCH`'s current version.
const ROOT_PACKAGES: &[&str] = &["redis-server", "redis-tools", "busybox-static"];

/// The kernel modules the init loads (with their dependencies): the
/// virtio transport of the machine's NIC, then the NIC driver, and with a
/// data disk the disk driver and its file system (modules built into the
/// kernel, as ext4 is in Debian's, are skipped).
fn modules(transport: Transport, disk: bool) -> Vec<&'static str> {
    let mut modules = match transport {
        Transport::Pci => vec!["virtio_pci", "virtio_net"],
        Transport::Mmio => vec!["virtio_mmio", "virtio_net"],
    };
    if disk {
        modules.extend(["virtio_blk", "ext4"]);
    }
    modules
}

/// The busybox applets the init uses.
const APPLETS: &[&str] = &["sh", "mount", "mkdir", "insmod", "ip", "udhcpc", "dmesg", "grep", "poweroff"];

/// The data disk's device in the baseline, and where its init mounts it.
const DATA_DEVICE: &str = "/dev/vda";
const DATA_DIR: &str = "/data";

/// A built baseline: what QEMU boots, and where it came from.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Baseline {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// The initramfs for the persistence round: it mounts the data disk.
    pub disk_initrd: PathBuf,
    pub cmdline: String,
    /// `name version` of every Debian package used.
    pub packages: Vec<String>,
}

impl Baseline {
    /// Bytes that must be shipped: the kernel plus the initramfs.
    pub fn size(&self) -> u64 {
        [&self.kernel, &self.initrd].iter().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum()
    }
}

fn deb_arch(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "amd64",
        Arch::Aarch64 => "arm64",
    }
}

fn triplet(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-linux-gnu",
        Arch::Aarch64 => "aarch64-linux-gnu",
    }
}

/// The kernel command line: serial console, quiet (Debian's default), and
/// reboot (which QEMU's -no-reboot turns into exit) on panic.
fn kernel_cmdline(arch: Arch) -> String {
    let console = match arch {
        Arch::X86_64 => "ttyS0",
        Arch::Aarch64 => "ttyAMA0",
    };
    format!("console={console} quiet panic=-1")
}

/// Builds (or reuses) the baseline for `arch` under `target/bench/debian/`,
/// for a machine whose NIC sits on `transport`.
pub fn build(arch: Arch, transport: Transport) -> Result<Baseline> {
    let dir = repo_root().join("target/bench/debian").join(deb_arch(arch));
    let apt = Apt { dir: dir.join("apt"), arch: deb_arch(arch) };
    apt.ensure_lists()?;
    let meta = format!("linux-image-cloud-{}", deb_arch(arch));
    let kernel_package = apt
        .record(&meta)?
        .depends()
        .into_iter()
        .find(|d| d.starts_with("linux-image-"))
        .ok_or_else(|| format!("{meta} names no linux-image package; check `apt-cache show {meta}`"))?;
    let userland = package_closure(&apt)?;
    let mut packages = Vec::new();
    for name in userland.iter().chain([&kernel_package]) {
        packages.push(format!("{name} {}", apt.record(name)?.field("Version").unwrap_or_default()));
    }
    step(&format!("baseline for {arch}: Debian {kernel_package} and {}", userland.join(", ")));
    let debs = dir.join("debs");
    let userland_debs = apt.download(&userland, &debs)?;
    let kernel_debs = apt.download(std::slice::from_ref(&kernel_package), &debs)?;
    let root = unpack(&userland_debs, &dir.join("root"))?;
    let kernel_root = unpack(&kernel_debs, &dir.join("kernel"))?;

    let kernel = find_kernel(&kernel_root)?;
    let [initrd, disk_initrd] = [false, true].map(|disk| {
        let suffix = match (transport, disk) {
            (Transport::Pci, false) => "",
            (Transport::Mmio, false) => "-mmio",
            (Transport::Pci, true) => "-disk",
            (Transport::Mmio, true) => "-disk-mmio",
        };
        dir.join(format!("initrd{suffix}.cpio.zst"))
    });
    for (path, disk) in [(&initrd, false), (&disk_initrd, true)] {
        let archive = assemble(arch, &root, &kernel_root, &modules(transport, disk), disk)?;
        write_compressed(&archive.to_newc(), path)?;
    }
    Ok(Baseline { kernel, initrd, disk_initrd, cmdline: kernel_cmdline(arch), packages })
}

/// `apt-get`/`apt-cache` with a private state directory for one architecture.
struct Apt {
    dir: PathBuf,
    arch: &'static str,
}

/// One package's record from `apt-cache show`.
struct Record(String);

impl Record {
    fn field(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}:");
        self.0.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_string())
    }

    /// The first alternative of every `Pre-Depends` and `Depends` entry.
    fn depends(&self) -> Vec<String> {
        ["Pre-Depends", "Depends"].iter().filter_map(|f| self.field(f)).flat_map(|v| parse_depends(&v)).collect()
    }
}

/// `libc6 (>= 2.34), libssl3 | libssl1, foo:any` → `[libc6, libssl3, foo]`.
pub fn parse_depends(field: &str) -> Vec<String> {
    field
        .split(',')
        .filter_map(|entry| {
            let first = entry.split('|').next()?.trim();
            let name = first.split([' ', '(', ':']).next()?.trim();
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

impl Apt {
    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool);
        let options = [
            format!("APT::Architecture={}", self.arch),
            format!("APT::Architectures={}", self.arch),
            format!("Dir::State::Lists={}", self.dir.join("lists").display()),
            format!("Dir::State::status={}", self.dir.join("status").display()),
            format!("Dir::Cache={}", self.dir.join("cache").display()),
            "Debug::NoLocking=1".to_string(),
            "APT::Sandbox::User=root".to_string(),
            "Acquire::Languages=none".to_string(),
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".to_string(),
            "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false".to_string(),
            "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false".to_string(),
        ];
        for option in options {
            cmd.args(["-o", &option]);
        }
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    }

    fn ensure_lists(&self) -> Result<()> {
        let has_lists = std::fs::read_dir(self.dir.join("lists"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("_Packages"));
        if has_lists { Ok(()) } else { self.update() }
    }

    fn update(&self) -> Result<()> {
        for sub in ["lists/partial", "cache/archives/partial"] {
            std::fs::create_dir_all(self.dir.join(sub)).map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
        }
        std::fs::write(self.dir.join("status"), "").map_err(|e| format!("writing apt status: {e}"))?;
        step(&format!("apt-get update for Debian {} packages (private state in {})", self.arch, self.dir.display()));
        let out = self.command("apt-get").args(["-q", "update"]).output().map_err(|e| format!("apt-get: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "apt-get update for {} failed (is deb.debian.org reachable?): {}",
                self.arch,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn record(&self, package: &str) -> Result<Record> {
        let out = self
            .command("apt-cache")
            .args(["show", "--no-all-versions", package])
            .output()
            .map_err(|e| format!("apt-cache: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() && !text.trim().is_empty() {
            Ok(Record(text))
        } else {
            Err(format!("Debian has no {} package '{package}' (apt-cache show failed)", self.arch))
        }
    }

    /// Downloads `packages` into `dir` unless a .deb of each is there;
    /// returns the .deb paths. Refreshes stale package lists once.
    fn download(&self, packages: &[String], dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let missing: Vec<&String> = packages.iter().filter(|p| find_deb(dir, p, self.arch).is_none()).collect();
        if !missing.is_empty() {
            let get = || self.command("apt-get").arg("download").args(&missing).current_dir(dir).status();
            let ok = get().is_ok_and(|s| s.success()) || (self.update().is_ok() && get().is_ok_and(|s| s.success()));
            if !ok {
                return Err(format!("apt-get download of {missing:?} failed; check that deb.debian.org is reachable"));
            }
        }
        packages
            .iter()
            .map(|p| find_deb(dir, p, self.arch).ok_or_else(|| format!("apt-get download left no .deb for {p}")))
            .collect()
    }
}

fn find_deb(dir: &Path, package: &str, arch: &str) -> Option<PathBuf> {
    let prefix = format!("{package}_");
    let suffixes = [format!("_{arch}.deb"), "_all.deb".to_string()];
    std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).find(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.starts_with(&prefix) && suffixes.iter().any(|s| name.ends_with(s.as_str()))
    })
}

/// The userland packages: `ROOT_PACKAGES` and, transitively, the library
/// packages (`lib*`) they depend on.
fn package_closure(apt: &Apt) -> Result<Vec<String>> {
    let mut seen: BTreeSet<String> = ROOT_PACKAGES.iter().map(|p| p.to_string()).collect();
    let mut queue: VecDeque<String> = seen.iter().cloned().collect();
    while let Some(package) = queue.pop_front() {
        if seen.len() > 100 {
            return Err("the library dependencies of redis-server exceed 100 packages; check package_closure".into());
        }
        for dep in apt.record(&package)?.depends() {
            // A virtual library package has no record; the ELF check catches real gaps.
            if dep.starts_with("lib") && !seen.contains(&dep) && apt.record(&dep).is_ok() {
                seen.insert(dep.clone());
                queue.push_back(dep);
            }
        }
    }
    Ok(seen.into_iter().collect())
}

/// Unpacks `debs` into `dest` (with `dpkg-deb -x`) unless it already holds them.
fn unpack(debs: &[PathBuf], dest: &Path) -> Result<PathBuf> {
    let marker = dest.join(".unpacked");
    let listing: String = debs.iter().map(|d| format!("{}\n", d.display())).collect();
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == listing) {
        return Ok(dest.to_path_buf());
    }
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    for deb in debs {
        let status = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb)
            .arg(dest)
            .status()
            .map_err(|e| format!("cannot run dpkg-deb: {e}; install it with `apt-get install dpkg`"))?;
        if !status.success() {
            return Err(format!("dpkg-deb -x {} failed; delete it and retry", deb.display()));
        }
    }
    std::fs::write(&marker, listing).map_err(|e| format!("writing {}: {e}", marker.display()))?;
    Ok(dest.to_path_buf())
}

fn find_kernel(kernel_root: &Path) -> Result<PathBuf> {
    std::fs::read_dir(kernel_root.join("boot"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
        .ok_or_else(|| format!("no boot/vmlinuz-* in {}; delete that directory and retry", kernel_root.display()))
}

/// Follows symbolic links inside `root` (absolute targets are relative to
/// `root`), at most 16 of them.
fn resolve_in_root(root: &Path, path: &str) -> Result<PathBuf> {
    let mut current = path.trim_start_matches('/').to_string();
    for _ in 0..16 {
        let full = root.join(&current);
        match std::fs::read_link(&full) {
            Err(_) if full.exists() => return Ok(full),
            Err(_) => return Err(format!("{path} is not in the unpacked packages ({})", root.display())),
            Ok(target) => {
                let target = target.to_string_lossy().to_string();
                current = if let Some(abs) = target.strip_prefix('/') {
                    abs.to_string()
                } else {
                    let parent = Path::new(&current).parent().unwrap_or(Path::new(""));
                    parent.join(&target).to_string_lossy().to_string()
                };
            }
        }
    }
    Err(format!("too many symbolic links resolving {path} in {}", root.display()))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The initramfs: busybox, redis-server with its libraries, the `wanted`
/// kernel modules and the init script (which mounts the data disk if
/// `disk`).
fn assemble(arch: Arch, root: &Path, kernel_root: &Path, wanted: &[&str], disk: bool) -> Result<Archive> {
    let mut archive = Archive::default();
    for dir in ["/proc", "/sys", "/tmp", "/dev"] {
        archive.add(dir, Node::Dir);
    }
    archive.add("/dev/console", Node::CharDevice { major: 5, minor: 1 });
    archive.add("/bin/busybox", Node::File { data: read(&resolve_in_root(root, "bin/busybox")?)?, executable: true });
    for applet in APPLETS {
        archive.add(&format!("/bin/{applet}"), Node::Symlink("busybox".into()));
    }
    let redis = read(&resolve_in_root(root, "usr/bin/redis-server")?)?;
    add_libraries(&mut archive, arch, root, &redis)?;
    archive.add("/usr/bin/redis-server", Node::File { data: redis, executable: true });
    let modules = add_modules(&mut archive, kernel_root, wanted)?;
    archive.add("/init", Node::File { data: init_script(&modules, disk).into_bytes(), executable: true });
    archive.add(DHCP_SCRIPT, Node::File { data: DHCP_SCRIPT_TEXT.as_bytes().to_vec(), executable: true });
    Ok(archive)
}

/// Adds the program interpreter and the transitive `DT_NEEDED` libraries of
/// `program`, each under `/lib/TRIPLET/SONAME`.
fn add_libraries(archive: &mut Archive, arch: Arch, root: &Path, program: &[u8]) -> Result<()> {
    let triplet = triplet(arch);
    if let Some(interp) = initramfs::interpreter(program)? {
        archive.add(&interp, Node::File { data: read(&resolve_in_root(root, &interp)?)?, executable: true });
    }
    let mut queue: VecDeque<String> = initramfs::needed_libraries(program)?.into();
    let mut seen = BTreeSet::new();
    while let Some(soname) = queue.pop_front() {
        if !seen.insert(soname.clone()) || seen.len() > 200 {
            continue;
        }
        let path = ["lib", "usr/lib"]
            .iter()
            .find_map(|dir| resolve_in_root(root, &format!("{dir}/{triplet}/{soname}")).ok())
            .ok_or_else(|| {
                format!(
                    "redis-server needs {soname}, which no unpacked package provides; add its package to ROOT_PACKAGES"
                )
            })?;
        let data = read(&path)?;
        queue.extend(initramfs::needed_libraries(&data).map_err(|e| format!("{}: {e}", path.display()))?);
        archive.add(&format!("/lib/{triplet}/{soname}"), Node::File { data, executable: false });
    }
    Ok(())
}

/// Adds the `wanted` modules and their dependencies under `/lib/modules/`; returns the
/// load order. Modules built into the kernel are skipped.
fn add_modules(archive: &mut Archive, kernel_root: &Path, wanted: &[&str]) -> Result<Vec<String>> {
    let modules_dir = std::fs::read_dir(kernel_root.join("lib/modules"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .next()
        .ok_or_else(|| format!("no lib/modules/VERSION in {}", kernel_root.display()))?;
    let files = module_files(&modules_dir);
    let builtin = std::fs::read_to_string(modules_dir.join("modules.builtin")).unwrap_or_default();
    let roots: Vec<&str> =
        wanted.iter().copied().filter(|m| !builtin.lines().any(|l| l.ends_with(&format!("/{m}.ko")))).collect();
    let mut depends = BTreeMap::new();
    let mut queue: VecDeque<String> = roots.iter().map(|r| r.to_string()).collect();
    while let Some(module) = queue.pop_front() {
        if depends.contains_key(&module) {
            continue;
        }
        let Some(path) = files.get(&module) else { continue }; // load_order reports it
        let deps = initramfs::module_depends(&read(path)?);
        queue.extend(deps.iter().cloned());
        depends.insert(module, deps);
    }
    let order = initramfs::load_order(&roots, &depends)?;
    for module in &order {
        archive
            .add(&format!("/lib/modules/{module}.ko"), Node::File { data: read(&files[module])?, executable: false });
    }
    Ok(order)
}

/// Every `*.ko` under `dir`, by module name (dashes read as underscores).
fn module_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".ko")) {
                files.insert(stem.replace('-', "_"), path);
            }
        }
    }
    files
}

/// Where udhcpc finds the script that applies a lease.
const DHCP_SCRIPT: &str = "/etc/udhcpc.script";
const DHCP_SCRIPT_TEXT: &str = r#"#!/bin/sh
# udhcpc calls this with the lease in the environment.
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
exit 0
"#;

/// The init: mount the kernel file systems, load the modules, mount the
/// data disk if `disk` (powering off if it cannot), configure the network
/// by DHCP (as our appliance does), start Redis with its defaults except
/// persistence and protected mode, followed by the init's own arguments
/// (the kernel command line's words after `--`, which override them), and
/// log `listening on` with the kernel's timestamp once Redis accepts
/// connections.
pub fn init_script(modules: &[String], disk: bool) -> String {
    let marker = format!("redis-server: listening on port {REDIS_PORT}");
    let (mount, dir) = if disk {
        (
            format!(
                "mkdir -p {DATA_DIR}\nmount -t ext4 {DATA_DEVICE} {DATA_DIR} || {{ echo \"init: cannot mount the data disk {DATA_DEVICE}\"; poweroff -f; }}\n"
            ),
            format!(" --dir {DATA_DIR}"),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        r#"#!/bin/sh
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in {modules}; do insmod /lib/modules/$m.ko || echo "init: cannot load $m"; done
{mount}ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -f -q -n -t 10 -T 1 -s {DHCP_SCRIPT} || echo "init: no DHCP lease"
/usr/bin/redis-server --port {REDIS_PORT} --save "" --appendonly no --protected-mode no{dir} "$@" | while read -r line; do
    echo "$line"
    case "$line" in
        *"Ready to accept connections"*) echo "{marker}" > /dev/kmsg; dmesg | grep "{marker}" ;;
    esac
done
echo "init: redis-server exited"
poweroff -f
"#,
        modules = modules.join(" ")
    )
}

/// Compresses the archive with zstd -19 (Debian's initramfs compression).
fn write_compressed(cpio: &[u8], out: &Path) -> Result<()> {
    let raw = out.with_extension("");
    std::fs::write(&raw, cpio).map_err(|e| format!("writing {}: {e}", raw.display()))?;
    let status = Command::new("zstd")
        .args(["-19", "-q", "-f", "--rm"])
        .arg(&raw)
        .arg("-o")
        .arg(out)
        .status()
        .map_err(|e| format!("cannot run zstd: {e}; install it with `apt-get install zstd`"))?;
    if status.success() { Ok(()) } else { Err(format!("zstd failed compressing {}", raw.display())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_takes_first_alternatives_without_versions() {
        let field = "adduser, libatomic1 (>= 4.8), libc6 (>= 2.34), libssl3 | libssl1.1, python3:any, init-system-helpers (>= 1.54~)";
        assert_eq!(
            parse_depends(field),
            ["adduser", "libatomic1", "libc6", "libssl3", "python3", "init-system-helpers"]
        );
        assert!(parse_depends("").is_empty());
    }

    #[test]
    fn init_loads_modules_in_order_and_turns_persistence_off() {
        let script = init_script(&["virtio_ring".into(), "virtio".into()], false);
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains("for m in virtio_ring virtio; do"));
        assert!(script.contains("--save \"\" --appendonly no --protected-mode no \"$@\" |"));
        assert!(script.contains("udhcpc -i eth0"));
        assert!(script.contains("listening on port 6379"));
        assert!(!script.contains("/dev/vda"));
    }

    #[test]
    fn disk_init_mounts_the_data_disk_as_redis_dir() {
        let script = init_script(&["virtio_blk".into()], true);
        let mount = script.find("mount -t ext4 /dev/vda /data || {").unwrap();
        assert!(mount < script.find("redis-server").unwrap());
        assert!(script.contains("--protected-mode no --dir /data \"$@\" |"));
        assert_eq!(modules(Transport::Pci, true), ["virtio_pci", "virtio_net", "virtio_blk", "ext4"]);
        assert_eq!(modules(Transport::Mmio, false), ["virtio_mmio", "virtio_net"]);
    }
}
