//! The image formats `cargo xtask image --format` writes, and how each is
//! made from the raw disk image (GPT, EFI system partition, BIOS boot code)
//! with the standard tools: `qemu-img` (Debian `qemu-utils`) for the
//! hypervisors' formats, GNU `tar` for Google Compute Engine's archive.
//!
//! | format  | what                                  | for |
//! |---------|---------------------------------------|-----|
//! | `elf`   | the kernel itself (no disk)           | QEMU `-kernel`, Firecracker, Cloud Hypervisor |
//! | `uefi`, `bios` | the raw disk (on x86_64 one disk boots with both) | `dd` to a disk, raw disks in Proxmox/libvirt |
//! | `qcow2` | QEMU's copy-on-write format           | Proxmox, libvirt, OpenStack |
//! | `vmdk`  | streamOptimized VMDK                  | VMware, VirtualBox, AWS import |
//! | `vhd`   | fixed VHD, size a whole MiB           | Azure, Hyper-V |
//! | `gce`   | `disk.raw` (whole GiB) in a GNU sparse `tar.gz` | Google Compute Engine |
//! | `iso`   | El Torito CD image: the ESP as EFI boot image, the BIOS loader on x86_64 (`xorriso`); also a disk (MBR) | BIOS and UEFI machines booting from optical media or a USB stick |

use crate::Result;
use qemu_tests::Arch;
use std::path::Path;
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Elf,
    Bios,
    Uefi,
    Qcow2,
    Vmdk,
    Vhd,
    Gce,
    Iso,
}

const GIB: u64 = 1 << 30;

impl Format {
    pub const ALL: [Format; 8] =
        [Format::Elf, Format::Bios, Format::Uefi, Format::Qcow2, Format::Vmdk, Format::Vhd, Format::Gce, Format::Iso];

    pub fn parse(name: &str) -> Result<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown image format '{name}': use --format {}", names.join("|"))
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::Bios => "bios",
            Format::Uefi => "uefi",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vhd => "vhd",
            Format::Gce => "gce",
            Format::Iso => "iso",
        }
    }

    /// Checks the format exists for `arch`: aarch64 machines have no BIOS.
    pub fn check_arch(self, arch: Arch) -> Result<()> {
        match (self, arch) {
            (Format::Bios, Arch::Aarch64) => {
                Err("aarch64 machines have no BIOS: use --format uefi (it boots with UEFI firmware and U-Boot)".into())
            }
            _ => Ok(()),
        }
    }

    /// The file a converted format is written to, for `app` on `arch`
    /// (`None`: the format is the kernel or the raw disk itself).
    pub fn file_name(self, app: &str, arch: Arch) -> Option<String> {
        match self {
            Format::Elf | Format::Bios | Format::Uefi => None,
            Format::Qcow2 => Some(format!("{app}-{arch}.qcow2")),
            Format::Vmdk => Some(format!("{app}-{arch}.vmdk")),
            Format::Vhd => Some(format!("{app}-{arch}.vhd")),
            Format::Gce => Some(format!("{app}-{arch}-gce.tar.gz")),
            Format::Iso => Some(format!("{app}-{arch}.iso")),
        }
    }

    /// The raw disk's size for this format, from the size asked for (or the
    /// smallest that holds the files): GCE takes whole GiB only.
    pub fn raw_size(self, wanted: u64) -> u64 {
        match self {
            Format::Gce => wanted.div_ceil(GIB).max(1) * GIB,
            _ => wanted,
        }
    }

    /// Writes `out` in this format from the raw disk `raw` (GCE's archive
    /// takes the raw disk in: it is gone afterwards).
    pub fn convert(self, raw: &Path, out: &Path) -> Result<()> {
        match self {
            Format::Elf | Format::Bios | Format::Uefi => Err(format!("--format {} is not converted", self.name())),
            Format::Qcow2 => qemu_img_convert(raw, out, "qcow2", &[]),
            // VMware's, VirtualBox's and AWS's import take the stream-optimized
            // (compressed, sequential) variant.
            Format::Vmdk => qemu_img_convert(raw, out, "vmdk", &["-o", "subformat=streamOptimized"]),
            // Azure needs a fixed VHD whose size is a whole MiB, kept exactly
            // (force_size: no rounding to VHD's CHS geometry).
            Format::Vhd => {
                let size = std::fs::metadata(raw).map_err(|e| format!("{}: {e}", raw.display()))?.len();
                if size % (1 << 20) != 0 {
                    return Err(format!("the raw disk is {size} bytes; a VHD for Azure must be a whole MiB"));
                }
                qemu_img_convert(raw, out, "vpc", &["-o", "subformat=fixed,force_size=on"])
            }
            Format::Gce => gce_archive(raw, out),
            Format::Iso => iso(raw, out),
        }
    }
}

fn qemu_img_convert(raw: &Path, out: &Path, format: &str, options: &[&str]) -> Result<()> {
    crate::setup::ensure_qemu_img()?;
    let _ = std::fs::remove_file(out);
    let status = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", format])
        .args(options)
        .arg(raw)
        .arg(out)
        .status()
        .map_err(|e| format!("cannot run qemu-img ({e}): run `cargo xtask setup` (Debian package qemu-utils)"))?;
    if status.success() { Ok(()) } else { Err(format!("qemu-img convert to {format} failed ({status})")) }
}

/// GCE's image archive: exactly one file, `disk.raw`, whose size is a
/// whole number of GiB, in a gzip-compressed GNU-format tar with sparse
/// files recorded as such (`gcloud compute images create --source-uri`).
fn gce_archive(raw: &Path, out: &Path) -> Result<()> {
    let size = std::fs::metadata(raw).map_err(|e| format!("{}: {e}", raw.display()))?.len();
    if size % GIB != 0 {
        return Err(format!("the raw disk is {size} bytes; GCE takes whole GiB"));
    }
    let dir = out.with_extension("dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let disk = dir.join("disk.raw");
    std::fs::rename(raw, &disk).map_err(|e| format!("moving {} to {}: {e}", raw.display(), disk.display()))?;
    let status = Command::new("tar")
        .args(["--format=gnu", "--sparse", "-czf"])
        .arg(out)
        .arg("-C")
        .arg(&dir)
        .arg("disk.raw")
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    if status.success() { Ok(()) } else { Err(format!("tar failed ({status})")) }
}

/// A CD image that BIOS and UEFI firmware boot (El Torito, "no
/// emulation"), made with `xorriso` (Debian `xorriso`). UEFI firmware
/// boots the EFI boot image, which is the raw disk's EFI system partition
/// (loader, kernel, command line). On x86_64 a BIOS boots the BIOS
/// loader's CD image (its boot code, then stage 2), which is then pointed
/// at the kernel and command line inside that same ESP: FAT keeps them
/// contiguous and 4 KiB-aligned, so they are whole CD sectors. An MBR in
/// the system area makes the same file a disk that both firmwares boot
/// from a USB stick ([`crate::diskimage::iso::finish`]).
fn iso(raw: &Path, out: &Path) -> Result<()> {
    crate::setup::ensure_xorriso()?;
    let arch = crate::diskimage::arch_of(raw)?;
    let esp = crate::diskimage::esp_extent(raw)?;
    let dir = out.with_extension("dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let copied = (|| -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut from = std::fs::File::open(raw)?;
        from.seek(SeekFrom::Start(esp.0))?;
        let mut to = std::fs::File::create(dir.join("efi.img"))?;
        std::io::copy(&mut from.take(esp.1), &mut to)?;
        Ok(())
    })();
    copied.map_err(|e| format!("copying the EFI system partition of {}: {e}", raw.display()))?;
    let mut boot_args: Vec<&str> = Vec::new();
    let bios_loader = match arch {
        Arch::X86_64 => Some(crate::diskimage::bios::Loader::read(&crate::diskimage::bios::loader_path())?),
        Arch::Aarch64 => None,
    };
    if let Some(loader) = &bios_loader {
        std::fs::write(dir.join("bios.img"), loader.cd_boot_image())
            .map_err(|e| format!("writing {}: {e}", dir.display()))?;
        // The BIOS loads the first 2048 bytes (4 "virtual" 512-byte
        // sectors, what every BIOS honours): the boot code, which reads the
        // rest itself.
        boot_args.extend(["-b", "bios.img", "-no-emul-boot", "-boot-load-size", "4", "-eltorito-alt-boot"]);
    }
    boot_args.extend(["-e", "efi.img", "-no-emul-boot"]);
    let _ = std::fs::remove_file(out);
    let status = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-V", "APPLIANCE"])
        .args(&boot_args)
        .arg("-o")
        .arg(out)
        .arg(&dir)
        .status()
        .map_err(|e| format!("cannot run xorriso ({e}): run `cargo xtask setup` (Debian package xorriso)"));
    let _ = std::fs::remove_dir_all(&dir);
    if !status?.success() {
        return Err("xorriso failed (see above)".into());
    }
    crate::diskimage::iso::finish(out, raw, esp, bios_loader.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()).unwrap(), f);
        }
        let e = Format::parse("vdi").unwrap_err();
        assert!(e.contains("elf|bios|uefi|qcow2|vmdk|vhd|gce|iso"), "{e}");
    }

    #[test]
    fn gce_sizes_are_whole_gib_and_others_unchanged() {
        assert_eq!(Format::Gce.raw_size(64 << 20), GIB);
        assert_eq!(Format::Gce.raw_size(GIB), GIB);
        assert_eq!(Format::Gce.raw_size(GIB + 1), 2 * GIB);
        assert_eq!(Format::Qcow2.raw_size(64 << 20), 64 << 20);
    }

    #[test]
    fn aarch64_has_no_bios() {
        assert!(Format::Bios.check_arch(Arch::Aarch64).is_err());
        assert!(Format::Uefi.check_arch(Arch::Aarch64).is_ok());
        assert!(Format::Bios.check_arch(Arch::X86_64).is_ok());
    }

    /// Every disk format converts a small raw disk into a file the tools
    /// read back with the same virtual size (qemu-img info; tar's listing
    /// for GCE).
    #[test]
    fn conversions_keep_the_disk() {
        if Command::new("qemu-img").arg("--version").output().is_err() {
            panic!("qemu-img is missing: run `cargo xtask setup`");
        }
        let dir = std::env::temp_dir().join(format!("xtask-formats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A fixed VHD is raw data with a footer: qemu-img needs its name.
        for (format, driver) in [(Format::Qcow2, "qcow2"), (Format::Vmdk, "vmdk"), (Format::Vhd, "vpc")] {
            let raw = dir.join("disk.img");
            let mut bytes = vec![0u8; 4 << 20];
            bytes[510..512].copy_from_slice(&[0x55, 0xAA]);
            std::fs::write(&raw, &bytes).unwrap();
            let out = dir.join(format!("disk.{}", format.name()));
            format.convert(&raw, &out).unwrap();
            let info =
                Command::new("qemu-img").args(["info", "--output=json", "-f", driver]).arg(&out).output().unwrap();
            let info = String::from_utf8_lossy(&info.stdout).into_owned();
            assert!(info.contains(&format!("\"virtual-size\": {}", 4 << 20)), "{format:?}: {info}");
            let back = dir.join("back.img");
            let ok = Command::new("qemu-img")
                .args(["convert", "-f", driver, "-O", "raw"])
                .arg(&out)
                .arg(&back)
                .status()
                .unwrap();
            assert!(ok.success());
            assert!(std::fs::read(&back).unwrap() == bytes, "{format:?}: the disk changed");
        }
        let raw = dir.join("disk.img");
        std::fs::File::create(&raw).and_then(|f| f.set_len(GIB)).unwrap();
        let out = dir.join("gce.tar.gz");
        Format::Gce.convert(&raw, &out).unwrap();
        let listing = Command::new("tar").args(["-tvzf"]).arg(&out).output().unwrap();
        let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 1, "{listing}");
        assert!(lines[0].ends_with(" disk.raw") && lines[0].contains(&GIB.to_string()), "{listing}");
        assert!(std::fs::metadata(&out).unwrap().len() < 1 << 20, "the sparse disk was archived densely");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
