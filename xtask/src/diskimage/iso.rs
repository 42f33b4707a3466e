//! Finishing the CD image `xorriso` lays out: finding its boot images (El
//! Torito), telling the BIOS loader where it and the kernel lie, and making
//! the image a disk too (an MBR in the system area), for USB sticks.
//!
//! El Torito in short (2048-byte sectors):
//! - Sector 17 is the boot record volume descriptor: type 0, "CD001",
//!   version 1, "EL TORITO SPECIFICATION" at byte 7, and at byte 71 the
//!   sector of the boot catalog (u32, little-endian).
//! - The catalog is a list of 32-byte entries: a validation entry (header
//!   id 1, platform at byte 1, 0x55 0xAA at bytes 30..32), the default entry,
//!   then sections, each a header (0x90, or 0x91 for the last; platform at
//!   byte 1; its entry count at bytes 2..4) followed by its entries.
//! - An entry is bootable when its byte 0 is 0x88; byte 1 is the emulation
//!   (0: none); bytes 8..12 are the image's first sector.
//!   The default entry's platform is the validation entry's.

use super::bios::{self, Extent, Loader};
use crate::Result;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub const SECTOR: u64 = 2048;
const BOOT_RECORD_SECTOR: u64 = 17;
const PLATFORM_X86: u8 = 0;
const PLATFORM_EFI: u8 = 0xEF;
const BOOTABLE: u8 = 0x88;

/// The first sector of each bootable no-emulation image, by platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootImages {
    /// What a BIOS boots (platform 0, x86).
    pub bios: Option<u64>,
    /// What UEFI firmware boots (platform 0xEF): the EFI system partition.
    pub efi: Option<u64>,
}

/// Finishes the CD image at `iso` that `xorriso` wrote from the raw disk
/// `raw` (its ESP, `esp` = first byte and length, as the EFI boot image
/// and, with a `bios_loader` (x86_64), [`Loader::cd_boot_image`] as the
/// BIOS one), so that it boots as a CD and, written to a USB stick, as a
/// disk:
/// - the BIOS boot image is pointed at its stage 2 and at the ESP's KERNEL
///   and CMDLINE, in CD sectors;
/// - the system area's first sector (which ISO 9660 leaves unused) becomes
///   an MBR: one active partition of type 0xEF over the EFI boot image, where
///   UEFI firmware finds the ESP on a disk, and on x86_64 the BIOS loader's
///   boot code, pointed at the same stage 2 in 512-byte sectors.
pub fn finish(iso: &Path, raw: &Path, esp: (u64, u64), bios_loader: Option<&Loader>) -> Result<()> {
    let file =
        File::options().read(true).write(true).open(iso).map_err(|e| format!("opening {}: {e}", iso.display()))?;
    let in_iso = |e: String| format!("{}: {e}", iso.display());
    let images = boot_images(&file).map_err(in_iso)?;
    let esp_sector = images.efi.ok_or_else(|| in_iso("El Torito lists no EFI boot image".into()))?;
    let (esp_start, esp_bytes) = esp;
    let mut mbr = [0u8; bios::SECTOR];
    if let Some(loader) = bios_loader {
        let bios_sector = images.bios.ok_or_else(|| in_iso("El Torito lists no BIOS boot image".into()))?;
        let files = super::locate(raw)?;
        // A file at byte `offset` of the ESP is at this CD sector.
        let on_cd = |name: &str, extent: Extent| -> Result<Extent> {
            let offset = extent.lba * super::SECTOR - esp_start;
            if !offset.is_multiple_of(SECTOR) {
                return Err(format!("/{name} does not start on a 2048-byte boundary of the ESP"));
            }
            Ok(Extent { lba: esp_sector + offset / SECTOR, bytes: extent.bytes })
        };
        let kernel = on_cd(super::KERNEL_PATH, files.kernel)?;
        let cmdline = on_cd(super::CMDLINE_PATH, files.cmdline)?;
        let mut image = loader.cd_boot_image();
        file.read_exact_at(&mut image, bios_sector * SECTOR).map_err(|e| in_iso(format!("reading: {e}")))?;
        bios::point_cd_image(&mut image, bios_sector, kernel, cmdline).map_err(in_iso)?;
        file.write_all_at(&image, bios_sector * SECTOR).map_err(|e| in_iso(format!("writing: {e}")))?;
        let code = bios::disk_boot_code_for_cd(loader, bios_sector)?;
        mbr[..code.len()].copy_from_slice(&code);
    }
    let mut system_area = [0u8; bios::SECTOR];
    file.read_exact_at(&mut system_area, 0).map_err(|e| in_iso(format!("reading: {e}")))?;
    if system_area.iter().any(|&b| b != 0) {
        return Err(in_iso("its system area is not empty: it is not the plain CD image xorriso writes".into()));
    }
    write_partition_table(&mut mbr, esp_sector * (SECTOR / 512), esp_bytes / 512)?;
    file.write_all_at(&mbr, 0).map_err(|e| in_iso(format!("writing: {e}")))?;
    file.sync_all().map_err(|e| in_iso(format!("writing: {e}")))
}

/// The MBR's disk signature, partition table and boot signature, with one
/// active partition of type 0xEF (EFI system partition) over `sectors`
/// 512-byte sectors from `first`; its CHS fields say "use the LBA".
fn write_partition_table(mbr: &mut [u8; 512], first: u64, sectors: u64) -> Result<()> {
    let (Ok(first), Ok(sectors)) = (u32::try_from(first), u32::try_from(sectors)) else {
        return Err("the EFI boot image lies beyond 2 TiB: an MBR cannot point at it".into());
    };
    mbr[440..444].copy_from_slice(b"APPL");
    let entry = &mut mbr[446..462];
    entry[0] = 0x80;
    entry[1..4].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    entry[4] = 0xEF;
    entry[5..8].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    entry[8..12].copy_from_slice(&first.to_le_bytes());
    entry[12..16].copy_from_slice(&sectors.to_le_bytes());
    mbr[510..512].copy_from_slice(&[0x55, 0xAA]);
    Ok(())
}

/// Reads the boot catalog of the CD image `iso`.
pub fn boot_images(iso: &File) -> Result<BootImages> {
    let mut record = [0u8; SECTOR as usize];
    iso.read_exact_at(&mut record, BOOT_RECORD_SECTOR * SECTOR).map_err(|e| format!("reading the CD: {e}"))?;
    if record[0] != 0 || &record[1..6] != b"CD001" || !record[7..].starts_with(b"EL TORITO SPECIFICATION") {
        return Err("the CD has no El Torito boot record in sector 17".into());
    }
    let catalog_sector = u64::from(u32::from_le_bytes(record[71..75].try_into().expect("4 bytes")));
    let mut catalog = [0u8; SECTOR as usize];
    iso.read_exact_at(&mut catalog, catalog_sector * SECTOR).map_err(|e| format!("reading the boot catalog: {e}"))?;
    parse_catalog(&catalog)
}

/// The boot images a boot catalog (its first sector) names.
fn parse_catalog(catalog: &[u8]) -> Result<BootImages> {
    let entries: Vec<&[u8]> = catalog.chunks_exact(32).collect();
    let validation = entries.first().ok_or("an empty boot catalog")?;
    if validation[0] != 1 || validation[30..32] != [0x55, 0xAA] {
        return Err("the boot catalog does not start with a validation entry".into());
    }
    let mut found = BootImages::default();
    let mut note = |platform: u8, entry: &[u8]| {
        if entry[0] != BOOTABLE || entry[1] != 0 {
            return;
        }
        let sector = Some(u64::from(u32::from_le_bytes(entry[8..12].try_into().expect("4 bytes"))));
        match platform {
            PLATFORM_X86 if found.bios.is_none() => found.bios = sector,
            PLATFORM_EFI if found.efi.is_none() => found.efi = sector,
            _ => {}
        }
    };
    note(validation[1], entries.get(1).ok_or("the boot catalog has no default entry")?);
    let mut at = 2;
    while let Some(header) = entries.get(at) {
        if header[0] != 0x90 && header[0] != 0x91 {
            break;
        }
        let count = usize::from(u16::from_le_bytes([header[2], header[3]]));
        for entry in entries.iter().skip(at + 1).take(count) {
            note(header[1], entry);
        }
        if header[0] == 0x91 {
            break;
        }
        at += 1 + count;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: &[(usize, u8)]) -> [u8; 32] {
        let mut e = [0u8; 32];
        for &(i, b) in bytes {
            e[i] = b;
        }
        e
    }

    /// A catalog as `xorriso -b bios.img ... -eltorito-alt-boot -e efi.img`
    /// writes it: x86 default entry, then one EFI section.
    fn catalog(default_platform: u8, default_sector: u8, efi_sector: u8) -> Vec<u8> {
        let mut c = Vec::new();
        c.extend(entry(&[(0, 1), (1, default_platform), (30, 0x55), (31, 0xAA)]));
        c.extend(entry(&[(0, BOOTABLE), (6, 4), (8, default_sector)]));
        c.extend(entry(&[(0, 0x91), (1, PLATFORM_EFI), (2, 1)]));
        c.extend(entry(&[(0, BOOTABLE), (6, 1), (8, efi_sector)]));
        c.resize(SECTOR as usize, 0);
        c
    }

    #[test]
    fn finds_the_bios_and_efi_images() {
        let found = parse_catalog(&catalog(PLATFORM_X86, 40, 50)).unwrap();
        assert_eq!(found, BootImages { bios: Some(40), efi: Some(50) });
    }

    #[test]
    fn an_efi_only_cd_has_no_bios_image() {
        // The default entry is the EFI one when the validation entry says so.
        let found = parse_catalog(&catalog(PLATFORM_EFI, 40, 50)).unwrap();
        assert_eq!(found, BootImages { bios: None, efi: Some(40) });
    }

    #[test]
    fn the_system_area_mbr_points_at_the_efi_boot_image() {
        let mut mbr = [0x11u8; 512];
        write_partition_table(&mut mbr, 40 * 4, 120_000).unwrap();
        assert_eq!(&mbr[..440], &[0x11; 440][..], "the boot code is kept");
        assert_eq!(
            &mbr[446..462],
            &[0x80, 0xFE, 0xFF, 0xFF, 0xEF, 0xFE, 0xFF, 0xFF, 160, 0, 0, 0, 0xC0, 0xD4, 0x01, 0x00]
        );
        assert_eq!(&mbr[510..], &[0x55, 0xAA]);
        assert!(write_partition_table(&mut mbr, 1 << 32, 1).is_err());
    }

    #[test]
    fn emulated_or_unbootable_entries_are_not_boot_images() {
        let mut c = catalog(PLATFORM_X86, 40, 50);
        c[32] = 0; // the default entry is not bootable
        c[96 + 1] = 4; // the EFI one emulates a hard disk
        assert_eq!(parse_catalog(&c).unwrap(), BootImages::default());
        c[0] = 2;
        assert!(parse_catalog(&c).unwrap_err().contains("validation entry"));
    }
}
