//! Bootable disk images: a raw GPT disk whose EFI system partition holds
//! the UEFI loader, the kernel and its command line, and on x86_64 the
//! BIOS loader too (`bios`), so that one disk boots with both firmwares;
//! and finding and rewriting that command line in a built image (`image
//! config`).
//!
//! Layout (512-byte sectors), which the BIOS loader relies on:
//! - LBA 0: protective MBR; its first [`MBR_BOOT_CODE_BYTES`] bytes are left
//!   zero for BIOS boot code and are never rewritten here.
//! - LBA 1..=33: GPT header and 128 partition entries; the backups at the end.
//! - x86_64 partition 1: "BIOS boot", LBAs [`BIOS_BOOT_FIRST_LBA`]..=[`BIOS_BOOT_LAST_LBA`],
//!   holding the BIOS stage 2 (`bios`), whose boot code is in the MBR.
//! - The EFI system partition (partition 2 on x86_64, 1 on aarch64) from
//!   LBA [`ESP_FIRST_LBA`] (4 MiB) to the last usable LBA (the end minus 34),
//!   FAT32, holding `/EFI/BOOT/BOOTX64.EFI` or `BOOTAA64.EFI`,
//!   `/APPLIANCE/KERNEL` and `/APPLIANCE/CMDLINE` (4096 bytes), each file
//!   contiguous. [`locate`] says where KERNEL and CMDLINE lie on the disk.

pub mod bios;
mod fat;
mod gpt;
pub mod iso;

use crate::Result;
use qemu_tests::Arch;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes of LBA 0 left for BIOS boot code (the BIOS module writes them).
#[allow(unused_imports)]
pub use gpt::MBR_BOOT_CODE_BYTES;

pub const SECTOR: u64 = gpt::SECTOR;
pub const BIOS_BOOT_FIRST_LBA: u64 = gpt::FIRST_USABLE_LBA;
pub const BIOS_BOOT_LAST_LBA: u64 = ESP_FIRST_LBA - 1;
pub const ESP_FIRST_LBA: u64 = 8192;
/// The size of `/APPLIANCE/CMDLINE`: the command line, NUL-padded (the
/// BIOS loader reads that many bytes).
pub use bios::CMDLINE_BYTES;
/// The default disk size: FAT32 needs 65525 clusters (512-byte ones here).
pub const DEFAULT_SIZE: u64 = 64 << 20;

pub const KERNEL_PATH: &str = "APPLIANCE/KERNEL";
pub const CMDLINE_PATH: &str = "APPLIANCE/CMDLINE";

/// A file's place on the disk: its first LBA and length in bytes (its
/// sectors are contiguous), as the BIOS loader is told it.
pub use bios::Extent;

/// Where the BIOS loader finds the kernel and its command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Files {
    pub kernel: Extent,
    pub cmdline: Extent,
}

/// The path of the loader in the ESP, where firmware looks by default.
fn loader_path(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "EFI/BOOT/BOOTX64.EFI",
        Arch::Aarch64 => "EFI/BOOT/BOOTAA64.EFI",
    }
}

/// `cmdline` as CMDLINE's contents: UTF-8, NUL-padded to 4096 bytes (at
/// least one NUL: the kernel reads a C string).
pub fn cmdline_block(cmdline: &str) -> Result<Vec<u8>> {
    if cmdline.len() >= CMDLINE_BYTES || cmdline.contains('\0') {
        return Err(format!(
            "the command line is {} bytes; at most {} fit in /APPLIANCE/CMDLINE (and no NUL)",
            cmdline.len(),
            CMDLINE_BYTES - 1
        ));
    }
    let mut block = cmdline.as_bytes().to_vec();
    block.resize(CMDLINE_BYTES, 0);
    Ok(block)
}

/// 16 bytes of a hash of `parts` (two FNV-1a-64 runs with different
/// seeds): stable identifiers derived from the contents.
fn hash16(parts: &[&[u8]]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (half, seed) in [0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142].into_iter().enumerate() {
        let mut h = seed;
        for part in parts {
            for &b in *part {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
            h = (h ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
        }
        out[half * 8..half * 8 + 8].copy_from_slice(&h.to_le_bytes());
    }
    out
}

/// Writes a bootable disk of `size` bytes to `path` for `arch`: `loader`
/// (the EFI application), `kernel` (the image `-kernel` boots), the
/// command line and, if given, the BIOS loader (x86_64). Returns where
/// KERNEL and CMDLINE lie.
pub fn write(
    path: &Path,
    arch: Arch,
    size: u64,
    loader: &[u8],
    bios_loader: Option<&bios::Loader>,
    kernel: &[u8],
    cmdline: &str,
) -> Result<Files> {
    let cmdline = cmdline_block(cmdline)?;
    let sectors = size / SECTOR;
    if !size.is_multiple_of(1 << 20) || sectors < ESP_FIRST_LBA + 34 {
        return Err(format!("bad disk size {size}: use a whole number of MiB (for example --size 64M)"));
    }
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| format!("creating {}: {e}", path.display()))?;
    // A sparse file: what is not written reads as zero.
    file.set_len(size).map_err(|e| format!("sizing {}: {e}", path.display()))?;

    let id = hash16(&[arch.name().as_bytes(), loader, kernel, &cmdline]);
    let guid = |n: u8| {
        let mut bytes = id;
        bytes[0] ^= n;
        gpt::Guid::from_hash(bytes)
    };
    let esp_last = gpt::last_usable_lba(sectors);
    let mut partitions = Vec::new();
    if arch == Arch::X86_64 {
        partitions.push(gpt::Partition {
            kind: gpt::BIOS_BOOT_TYPE,
            guid: guid(1),
            first_lba: BIOS_BOOT_FIRST_LBA,
            last_lba: BIOS_BOOT_LAST_LBA,
            name: "BIOS boot partition".into(),
        });
    }
    partitions.push(gpt::Partition {
        kind: gpt::ESP_TYPE,
        guid: guid(2),
        first_lba: ESP_FIRST_LBA,
        last_lba: esp_last,
        name: "EFI system partition".into(),
    });
    gpt::write(&file, sectors, guid(0), &partitions)?;

    let esp_start = ESP_FIRST_LBA * SECTOR;
    let volume_id = u32::from_le_bytes(id[..4].try_into().expect("4 bytes"));
    let files: [(&str, &[u8]); 3] = [(loader_path(arch), loader), (KERNEL_PATH, kernel), (CMDLINE_PATH, &cmdline)];
    let placed = fat::format(&file, esp_start, esp_last - ESP_FIRST_LBA + 1, ESP_FIRST_LBA, volume_id, &files)?;
    let extent = |p: fat::Placement| Extent { lba: ESP_FIRST_LBA + p.offset / SECTOR, bytes: p.len };
    let files = Files { kernel: extent(placed[1]), cmdline: extent(placed[2]) };
    if let Some(bios_loader) = bios_loader {
        // The MBR's boot code and stage 2 in the BIOS boot partition, told
        // where the ESP's KERNEL and CMDLINE lie.
        let mut head = vec![0u8; (ESP_FIRST_LBA * SECTOR) as usize];
        file.read_exact_at(&mut head, 0).map_err(|e| format!("reading {}: {e}", path.display()))?;
        bios::install_with(bios_loader, &mut head, sectors, files.kernel, files.cmdline)?;
        file.write_all_at(&head, 0).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    file.sync_all().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(files)
}

fn open(path: &Path, write: bool) -> Result<File> {
    File::options().read(true).write(write).open(path).map_err(|e| format!("opening {}: {e}", path.display()))
}

/// The ESP's first byte, from the image's GPT.
fn esp_start(file: &File, path: &Path) -> Result<u64> {
    let partitions = gpt::read(file).map_err(|e| format!("{}: {e}", path.display()))?;
    let esp = partitions.iter().find(|p| p.kind == gpt::ESP_TYPE).ok_or_else(|| {
        format!("{} has no EFI system partition: build it with `cargo xtask image --format uefi`", path.display())
    })?;
    Ok(esp.first_lba * SECTOR)
}

/// The EFI system partition of the disk image at `path`: its first byte
/// and length in bytes.
pub fn esp_extent(path: &Path) -> Result<(u64, u64)> {
    let file = open(path, false)?;
    let partitions = gpt::read(&file).map_err(|e| format!("{}: {e}", path.display()))?;
    let esp = partitions.iter().find(|p| p.kind == gpt::ESP_TYPE).ok_or_else(|| {
        format!("{} has no EFI system partition: build it with `cargo xtask image --format uefi`", path.display())
    })?;
    Ok((esp.first_lba * SECTOR, (esp.last_lba - esp.first_lba + 1) * SECTOR))
}

/// Where `/APPLIANCE/KERNEL` and `/APPLIANCE/CMDLINE` lie on the disk
/// image at `path`, read from its GPT and FAT (for the BIOS loader, which
/// reads them by LBA).
pub fn locate(path: &Path) -> Result<Files> {
    let file = open(path, false)?;
    locate_in(&file, path)
}

fn locate_in(file: &File, path: &Path) -> Result<Files> {
    let start = esp_start(file, path)?;
    let find = |name| -> Result<Extent> {
        let p = fat::find(file, start, name).map_err(|e| format!("{}: {e}", path.display()))?;
        if p.offset % SECTOR != 0 {
            return Err(format!("{}: /{name} does not start on a sector", path.display()));
        }
        Ok(Extent { lba: (start + p.offset) / SECTOR, bytes: p.len })
    };
    Ok(Files { kernel: find(KERNEL_PATH)?, cmdline: find(CMDLINE_PATH)? })
}

/// The command line stored in the image at `path`.
pub fn read_cmdline(path: &Path) -> Result<String> {
    let file = open(path, false)?;
    let cmdline = locate_in(&file, path)?.cmdline;
    if cmdline.bytes != CMDLINE_BYTES as u64 {
        return Err(format!("{}: /{CMDLINE_PATH} is {} bytes, not {CMDLINE_BYTES}", path.display(), cmdline.bytes));
    }
    let mut block = vec![0u8; CMDLINE_BYTES];
    file.read_exact_at(&mut block, cmdline.lba * SECTOR).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let end = block.iter().position(|&b| b == 0).unwrap_or(block.len());
    String::from_utf8(block[..end].to_vec())
        .map_err(|_| format!("{}: the stored command line is not UTF-8", path.display()))
}

/// Replaces the command line stored in the image at `path`, in place.
pub fn write_cmdline(path: &Path, cmdline: &str) -> Result<()> {
    let block = cmdline_block(cmdline)?;
    let file = open(path, true)?;
    let extent = locate_in(&file, path)?.cmdline;
    if extent.bytes != CMDLINE_BYTES as u64 {
        return Err(format!("{}: /{CMDLINE_PATH} is {} bytes, not {CMDLINE_BYTES}", path.display(), extent.bytes));
    }
    file.write_all_at(&block, extent.lba * SECTOR).map_err(|e| format!("writing {}: {e}", path.display()))?;
    file.sync_all().map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The architecture of the kernel in the image at `path` (from the file at
/// the loader's path), so `run --image` needs no `--arch`.
pub fn arch_of(path: &Path) -> Result<Arch> {
    let file = open(path, false)?;
    let start = esp_start(&file, path)?;
    Arch::ALL
        .into_iter()
        .find(|&arch| fat::find(&file, start, loader_path(arch)).is_ok())
        .ok_or_else(|| format!("{}: no /EFI/BOOT/BOOTX64.EFI or BOOTAA64.EFI in its ESP", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("diskimage-{name}-{}.img", std::process::id()))
    }

    #[test]
    fn builds_the_agreed_layout_and_locates_the_files() {
        let path = temp("layout");
        let kernel: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7) as u8).collect();
        let files = write(&path, Arch::X86_64, DEFAULT_SIZE, b"MZ-loader", None, &kernel, "a=1 -- --port 7").unwrap();
        assert_eq!(locate(&path).unwrap(), files);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), DEFAULT_SIZE);

        let file = File::open(&path).unwrap();
        let parts = gpt::read(&file).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].kind, parts[0].first_lba, parts[0].last_lba), (gpt::BIOS_BOOT_TYPE, 34, 8191));
        let sectors = DEFAULT_SIZE / SECTOR;
        assert_eq!((parts[1].kind, parts[1].first_lba, parts[1].last_lba), (gpt::ESP_TYPE, 8192, sectors - 34));

        // The kernel's bytes sit at its LBA, contiguously.
        let mut back = vec![0u8; kernel.len()];
        file.read_exact_at(&mut back, files.kernel.lba * SECTOR).unwrap();
        assert!(back == kernel);
        assert_eq!(files.kernel.bytes, kernel.len() as u64);
        assert_eq!(files.cmdline.bytes, CMDLINE_BYTES as u64);
        assert_eq!(arch_of(&path).unwrap(), Arch::X86_64);

        // The MBR's boot code area and partition 1 are left zero.
        let mut low = vec![0u8; (ESP_FIRST_LBA * SECTOR) as usize];
        file.read_exact_at(&mut low, 0).unwrap();
        assert!(low[..MBR_BOOT_CODE_BYTES].iter().all(|&b| b == 0));
        assert!(low[(34 * SECTOR) as usize..].iter().all(|&b| b == 0));

        // Built again from the same inputs: the same bytes.
        let again = temp("layout-again");
        write(&again, Arch::X86_64, DEFAULT_SIZE, b"MZ-loader", None, &kernel, "a=1 -- --port 7").unwrap();
        assert!(std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap());
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(&again).unwrap();
    }

    #[test]
    fn aarch64_has_only_the_esp_at_4_mib() {
        let path = temp("aarch64");
        write(&path, Arch::Aarch64, 80 << 20, b"MZ", None, b"kernel", "").unwrap();
        let parts = gpt::read(&File::open(&path).unwrap()).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].kind, parts[0].first_lba), (gpt::ESP_TYPE, ESP_FIRST_LBA));
        assert_eq!(arch_of(&path).unwrap(), Arch::Aarch64);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn image_config_round_trips_and_keeps_the_boot_code() {
        let path = temp("config");
        write(&path, Arch::X86_64, DEFAULT_SIZE, b"MZ", None, b"kernel", "net.rxbuf=64K -- --port 6380").unwrap();
        assert_eq!(read_cmdline(&path).unwrap(), "net.rxbuf=64K -- --port 6380");
        // What a BIOS module would put there stays.
        let file = File::options().write(true).open(&path).unwrap();
        file.write_all_at(&[0xFA; MBR_BOOT_CODE_BYTES], 0).unwrap();
        write_cmdline(&path, "-- --requirepass secret").unwrap();
        assert_eq!(read_cmdline(&path).unwrap(), "-- --requirepass secret");
        write_cmdline(&path, "").unwrap();
        assert_eq!(read_cmdline(&path).unwrap(), "");
        let mut mbr = [0u8; 512];
        File::open(&path).unwrap().read_exact_at(&mut mbr, 0).unwrap();
        assert!(mbr[..MBR_BOOT_CODE_BYTES].iter().all(|&b| b == 0xFA));
        assert!(write_cmdline(&path, &"x".repeat(CMDLINE_BYTES)).unwrap_err().contains("at most 4095"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn refuses_sizes_that_cannot_hold_fat32() {
        let path = temp("small");
        let err = write(&path, Arch::X86_64, 32 << 20, b"MZ", None, b"k", "").unwrap_err();
        assert!(err.contains("too small for FAT32"), "{err}");
        assert!(
            write(&path, Arch::X86_64, (64 << 20) + 512, b"MZ", None, b"k", "").unwrap_err().contains("whole number")
        );
        let _ = std::fs::remove_file(&path);
    }
}
