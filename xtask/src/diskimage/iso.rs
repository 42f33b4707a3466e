//! Finding the boot images on an El Torito CD (an ISO 9660 image), so the
//! ISO writer can tell the BIOS loader where it and the kernel lie once
//! `xorriso` has laid the CD out.
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

/// Points the BIOS loader on the CD image at `iso` (written from the raw
/// disk `raw`, with the ESP as its EFI boot image and
/// [`Loader::cd_boot_image`](super::bios::Loader::cd_boot_image) as its BIOS
/// one) at its stage 2 and at the ESP's KERNEL and CMDLINE, in CD sectors.
pub fn point_bios_loader(iso: &Path, raw: &Path) -> Result<()> {
    let file =
        File::options().read(true).write(true).open(iso).map_err(|e| format!("opening {}: {e}", iso.display()))?;
    let images = boot_images(&file).map_err(|e| format!("{}: {e}", iso.display()))?;
    let (Some(bios_sector), Some(esp_sector)) = (images.bios, images.efi) else {
        return Err(format!("{}: El Torito lists no BIOS or no EFI boot image", iso.display()));
    };
    let (esp_start, _) = super::esp_extent(raw)?;
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
    let loader = Loader::read(&bios::loader_path())?;
    let mut image = loader.cd_boot_image();
    file.read_exact_at(&mut image, bios_sector * SECTOR).map_err(|e| format!("reading {}: {e}", iso.display()))?;
    bios::point_cd_image(&mut image, bios_sector, kernel, cmdline).map_err(|e| format!("{}: {e}", iso.display()))?;
    file.write_all_at(&image, bios_sector * SECTOR).map_err(|e| format!("writing {}: {e}", iso.display()))?;
    file.sync_all().map_err(|e| format!("writing {}: {e}", iso.display()))
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
    fn emulated_or_unbootable_entries_are_not_boot_images() {
        let mut c = catalog(PLATFORM_X86, 40, 50);
        c[32] = 0; // the default entry is not bootable
        c[96 + 1] = 4; // the EFI one emulates a hard disk
        assert_eq!(parse_catalog(&c).unwrap(), BootImages::default());
        c[0] = 2;
        assert!(parse_catalog(&c).unwrap_err().contains("validation entry"));
    }
}
