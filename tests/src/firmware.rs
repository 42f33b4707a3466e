//! Booting a disk image through firmware, as a hypervisor does: UEFI
//! (OVMF on x86_64, AAVMF on aarch64), U-Boot (aarch64, `bootefi` from its
//! distro boot) or a PC BIOS (SeaBIOS, QEMU's default on x86_64), with the
//! disk on virtio-blk and no `-kernel`.

use crate::profile::Arch;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How QEMU starts the guest.
#[derive(Clone, Debug)]
pub enum Firmware {
    /// QEMU loads the kernel itself (`-kernel IMAGE -append CMDLINE`).
    Direct,
    /// UEFI firmware boots the disk image; `vars` is this boot's private
    /// copy of the firmware's variable store.
    Uefi { vars: Arc<VarStore> },
    /// U-Boot boots the disk image's EFI loader (aarch64).
    UBoot,
    /// The PC BIOS (SeaBIOS) boots the disk image's MBR (x86_64).
    Bios,
}

/// The firmware files (Debian's `ovmf`, `qemu-efi-aarch64`, `u-boot-qemu`).
pub fn uefi_code(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "/usr/share/OVMF/OVMF_CODE_4M.fd",
        Arch::Aarch64 => "/usr/share/AAVMF/AAVMF_CODE.fd",
    }
}

pub fn uefi_vars_template(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "/usr/share/OVMF/OVMF_VARS_4M.fd",
        Arch::Aarch64 => "/usr/share/AAVMF/AAVMF_VARS.fd",
    }
}

/// The guest memory the aarch64 disk boots need: with 128 MiB, AAVMF puts
/// its runtime services code 4 MiB into RAM, where the kernel is linked
/// (0x40200000 onwards); with 256 MiB it keeps the start of RAM free.
pub const AARCH64_MIN_MEMORY: &str = "256M";

pub const UBOOT_AARCH64: &str = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";

/// The Debian package with `arch`'s UEFI firmware.
pub fn uefi_package(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "ovmf",
        Arch::Aarch64 => "qemu-efi-aarch64",
    }
}

impl Firmware {
    /// UEFI for `arch`, with a fresh copy of the variable store under
    /// `target/firmware/` (the firmware writes its boot entries there).
    pub fn uefi(arch: Arch) -> Result<Firmware, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let (code, template) = (uefi_code(arch), uefi_vars_template(arch));
        for file in [code, template] {
            if !Path::new(file).exists() {
                return Err(format!("no {file}: install it with `cargo xtask setup` ({})", uefi_package(arch)));
            }
        }
        let dir = crate::repo_root().join("target/firmware");
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let vars = dir.join(format!("{}-vars-{}-{n}.fd", arch.name(), std::process::id()));
        std::fs::copy(template, &vars).map_err(|e| format!("copying {template} to {}: {e}", vars.display()))?;
        Ok(Firmware::Uefi { vars: Arc::new(VarStore(vars)) })
    }

    pub fn uboot(arch: Arch) -> Result<Firmware, String> {
        if arch != Arch::Aarch64 {
            return Err("U-Boot boots only the aarch64 images here: use --firmware uefi".into());
        }
        if !Path::new(UBOOT_AARCH64).exists() {
            return Err(format!("no {UBOOT_AARCH64}: install u-boot-qemu with `cargo xtask setup`"));
        }
        Ok(Firmware::UBoot)
    }

    pub fn bios(arch: Arch) -> Result<Firmware, String> {
        if arch != Arch::X86_64 {
            return Err("aarch64 machines have no BIOS: use --firmware uefi or uboot".into());
        }
        Ok(Firmware::Bios)
    }

    /// QEMU arguments for the firmware and the boot disk `image`.
    pub fn qemu_args(&self, arch: Arch, image: &Path) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        match self {
            Firmware::Direct => return args,
            Firmware::Uefi { vars } => {
                args.push("-drive".into());
                args.push(format!("if=pflash,format=raw,unit=0,readonly=on,file={}", uefi_code(arch)));
                args.push("-drive".into());
                args.push(format!("if=pflash,format=raw,unit=1,file={}", vars.0.display()));
            }
            Firmware::UBoot => args.extend(["-bios".into(), UBOOT_AARCH64.into()]),
            // SeaBIOS is what QEMU's PC machines start without other firmware.
            Firmware::Bios => {}
        }
        if arch == Arch::Aarch64 {
            // With ACPI tables, AAVMF hides the device tree from the loader.
            args.extend(["-machine".into(), "acpi=off".into()]);
        }
        if is_iso(image) {
            // A CD-ROM: on the PC's AHCI controller, on virtio-scsi on Arm;
            // the kernel has drivers for neither, so it never sees it.
            args.extend([
                "-drive".into(),
                format!("file={},format=raw,if=none,id=bootcd,media=cdrom,readonly=on", image.display()),
            ]);
            match arch {
                Arch::X86_64 => args.extend(["-device".into(), "ide-cd,drive=bootcd,bus=ide.0,bootindex=0".into()]),
                Arch::Aarch64 => args.extend([
                    "-device".into(),
                    "virtio-scsi-pci,id=cdbus".into(),
                    "-device".into(),
                    "scsi-cd,drive=bootcd,bus=cdbus.0,bootindex=0".into(),
                ]),
            }
            return args;
        }
        args.extend([
            "-drive".into(),
            format!("file={},format={},if=none,id=bootdisk,cache=writeback", image.display(), disk_format(image)),
            "-device".into(),
            "virtio-blk-pci,drive=bootdisk,bootindex=0".into(),
        ]);
        args
    }
}

/// Whether `image` is a CD-ROM image (`.iso`), booted from a CD drive.
pub fn is_iso(image: &Path) -> bool {
    image.extension().is_some_and(|e| e == "iso")
}

/// QEMU's block driver for a disk image, from its extension: the formats
/// `cargo xtask image` writes (`.qcow2`, `.vmdk`, `.vhd`), raw otherwise.
pub fn disk_format(image: &Path) -> &'static str {
    match image.extension().and_then(|e| e.to_str()) {
        Some("qcow2") => "qcow2",
        Some("vmdk") => "vmdk",
        Some("vhd") => "vpc",
        _ => "raw",
    }
}

/// A private copy of the UEFI variable store, removed when the last boot
/// using it is dropped.
#[derive(Debug)]
pub struct VarStore(pub PathBuf);

impl Drop for VarStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
