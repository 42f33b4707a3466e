//! QEMU machine profiles: one TOML file per machine in `qemu/`, naming the
//! architecture, QEMU's arguments, and how the guest's exit status is passed.

use serde::Deserialize;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    #[serde(rename = "x86_64")]
    X86_64,
    Aarch64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "x86_64" | "x86-64" | "amd64" => Some(Arch::X86_64),
            "aarch64" | "arm64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The architecture of the machine running this program.
    pub fn host() -> Arch {
        if cfg!(target_arch = "aarch64") { Arch::Aarch64 } else { Arch::X86_64 }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The bare-metal Rust target.
    pub fn target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-none",
            Arch::Aarch64 => "aarch64-unknown-none",
        }
    }

    /// x86_64 images are ELF files with a PVH note; aarch64 images are raw
    /// arm64 `Image` files.
    pub fn image_extension(self) -> &'static str {
        match self {
            Arch::X86_64 => "elf",
            Arch::Aarch64 => "img",
        }
    }

    pub fn qemu_binary(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-system-x86_64",
            Arch::Aarch64 => "qemu-system-aarch64",
        }
    }

    /// The machine profile used when none is named.
    pub fn default_machine(self) -> &'static str {
        match self {
            Arch::X86_64 => "q35",
            Arch::Aarch64 => "virt",
        }
    }

    /// The machine profile used when none is named but the NIC's transport
    /// is: x86_64's virtio-mmio slots are on microvm (q35 has none); `virt`
    /// has both PCIe and virtio-mmio.
    pub fn default_machine_for(self, transport: crate::network::Transport) -> &'static str {
        match (self, transport) {
            (Arch::X86_64, crate::network::Transport::Mmio) => "microvm",
            _ => self.default_machine(),
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a guest's exit status reaches QEMU's exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitConvention {
    /// x86 `isa-debug-exit`: the kernel writes `status + 1`, QEMU exits with
    /// `(value << 1) | 1`. QEMU's own failures exit with 1.
    IsaDebugExit,
    /// Arm semihosting `SYS_EXIT`: QEMU exits with the guest's status.
    Semihosting,
}

impl ExitConvention {
    /// The guest's exit status, or `None` when QEMU itself failed.
    pub fn decode(self, qemu_status: i32) -> Option<i32> {
        match self {
            ExitConvention::IsaDebugExit if qemu_status >= 3 && qemu_status % 2 == 1 => Some((qemu_status >> 1) - 1),
            ExitConvention::IsaDebugExit => None,
            ExitConvention::Semihosting => Some(qemu_status),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(skip)]
    pub name: String,
    pub arch: Arch,
    pub description: String,
    pub args: Vec<String>,
    pub exit: ExitConvention,
    pub memory: String,
    /// How a virtio-net NIC can attach on this machine; the first is the default.
    #[serde(default)]
    pub transports: Vec<crate::network::Transport>,
}

impl Profile {
    /// Loads `qemu/<name>.toml`.
    pub fn load(name: &str) -> Result<Profile, String> {
        let dir = crate::repo_root().join("qemu");
        let path = dir.join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).map_err(|_| {
            format!("unknown machine '{name}': no {}; available: {}", path.display(), Self::available(&dir).join(", "))
        })?;
        let mut profile: Profile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        profile.name = name.to_string();
        Ok(profile)
    }

    fn available(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
            .collect();
        names.sort();
        names
    }
}

/// How QEMU executes guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accelerator {
    /// Hardware virtualization through the host's KVM.
    Kvm,
    /// QEMU's portable code generator.
    Tcg,
}

impl Accelerator {
    /// KVM only when the guest has the host's architecture, `/dev/kvm` can be
    /// opened, the CPU has hardware virtualization (vmx/svm) and the module is
    /// not a software back end (`kvm_pvm`, which runs kernel code far slower
    /// than TCG). Otherwise TCG. `APPLIANCE_ACCEL=kvm|tcg` overrides.
    pub fn detect(arch: Arch) -> Accelerator {
        match std::env::var("APPLIANCE_ACCEL").as_deref() {
            Ok("kvm") => return Accelerator::Kvm,
            Ok("tcg") => return Accelerator::Tcg,
            _ => {}
        }
        if arch != Arch::host() {
            return Accelerator::Tcg;
        }
        let kvm_usable = std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let hardware = cpuinfo
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
        let software_backend = Path::new("/sys/module/kvm_pvm").exists();
        if kvm_usable && hardware && !software_backend { Accelerator::Kvm } else { Accelerator::Tcg }
    }

    pub fn qemu_arg(self) -> &'static str {
        match self {
            Accelerator::Kvm => "kvm",
            Accelerator::Tcg => "tcg",
        }
    }
}
