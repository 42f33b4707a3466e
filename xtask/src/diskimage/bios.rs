//! The x86_64 legacy-BIOS half of a bootable disk: writes the BIOS loader
//! (`boot/bios`: MBR boot code and stage 2) into a disk image and tells
//! stage 2 where the kernel ELF and the command line are.
//!
//! The disk layout this relies on (512-byte sectors):
//! - LBA 0: the protective MBR. Bytes 0..440 are the boot code written
//!   here; 440..512 (disk signature, partition table, 0x55AA) belong to the
//!   image writer and are left as they are.
//! - LBA 34..=8191: the GPT "BIOS boot" partition, holding stage 2.
//! - From LBA 8192: the EFI System Partition, where the kernel ELF and the
//!   4096-byte command line are stored as contiguous files. Stage 2 reads
//!   them by LBA (it does not parse FAT), so rewriting the command line's
//!   sectors changes what the next boot uses.
//!
//! On a CD (`iso.rs`) the same loader is El Torito's boot image and reads
//! stage 2 and the files in 2048-byte sectors ([`point_cd_image`]).
//!
//! The loader's flat bytes come from `cargo xtask image --arch x86_64`
//! ([`loader_path`]); `diskimage::write` installs them; see `boot/bios/src/stage2.S` for the parameter block.
//! This file depends only on `std` and `qemu_tests` (the QEMU-booted test
//! includes it to build its test disk).

use std::path::{Path, PathBuf};

pub const SECTOR: usize = 512;
/// The bytes of LBA 0 that hold boot code.
pub const BOOT_CODE_BYTES: usize = 440;
/// The BIOS boot partition, which holds stage 2.
pub const STAGE2_FIRST_LBA: u64 = 34;
pub const STAGE2_LAST_LBA: u64 = 8191;
/// The length of the command-line file: the text, NUL-padded.
pub const CMDLINE_BYTES: usize = 4096;

/// Sectors of a CD (ISO 9660), as El Torito's INT 13h reads them.
pub const CD_SECTOR: usize = 2048;

/// Stage 2's parameter block: magic, layout version, the sector size's
/// log2 (u32), then four u64 fields.
const MAGIC: &[u8; 8] = b"APPLBIOS";
const PARAMS_VERSION: u32 = 2;
const PARAM_SECTOR_SHIFT: usize = 12;
const PARAM_KERNEL_LBA: usize = 16;
const PARAM_KERNEL_BYTES: usize = 24;
const PARAM_CMDLINE_LBA: usize = 32;
const PARAM_CMDLINE_BYTES: usize = 40;
/// Where the loader's link address puts stage 2 in its flat bytes (the
/// MBR loads at 0x7C00, stage 2 at 0x8000: `boot/bios/bios.ld`).
const LOAD_BASE: u64 = 0x7c00;
const STAGE2_OFFSET: usize = 0x400;
/// The MBR's disk address packet (the stage 2 read): the last 16 bytes of
/// the boot code (`boot/bios/src/mbr.S`). Its sector count is at +2, its
/// first LBA at +8.
const MBR_DAP: usize = BOOT_CODE_BYTES - 16;

/// A file stored contiguously on the disk: its first sector and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub lba: u64,
    pub bytes: u64,
}

impl Extent {
    fn sectors(self) -> u64 {
        self.bytes.div_ceil(SECTOR as u64)
    }

    /// One past its last sector.
    fn end_lba(self) -> u64 {
        self.lba.saturating_add(self.sectors())
    }
}

/// The BIOS loader's two pieces.
#[derive(Clone, Debug)]
pub struct Loader {
    /// At most [`BOOT_CODE_BYTES`].
    pub boot_code: Vec<u8>,
    /// Whole sectors, starting with the parameter block.
    pub stage2: Vec<u8>,
}

/// Where `cargo xtask image --arch x86_64` leaves the loader: its boot code
/// in a 512-byte sector, then stage 2.
pub fn loader_path() -> PathBuf {
    qemu_tests::image_dir().join("bios-loader-x86_64.bin")
}

impl Loader {
    /// The loader from its linked flat bytes (which load at `base`).
    pub fn from_flat(base: u64, flat: &[u8]) -> Result<Loader, String> {
        if base != LOAD_BASE {
            return Err(format!("the BIOS loader starts at {base:#x}, not at {LOAD_BASE:#x}"));
        }
        let boot_code = flat.get(..BOOT_CODE_BYTES.min(flat.len())).unwrap_or_default();
        let gap = flat.get(BOOT_CODE_BYTES..STAGE2_OFFSET).ok_or("the BIOS loader has no stage 2")?;
        if gap.iter().any(|&b| b != 0) {
            return Err(format!("the BIOS loader's MBR code is larger than {BOOT_CODE_BYTES} bytes"));
        }
        Loader::new(boot_code.to_vec(), flat[STAGE2_OFFSET..].to_vec())
    }

    /// The loader from the file [`to_file`](Self::to_file) wrote.
    pub fn from_file(bytes: &[u8]) -> Result<Loader, String> {
        if bytes.len() < SECTOR || bytes[BOOT_CODE_BYTES..SECTOR].iter().any(|&b| b != 0) {
            return Err("not a BIOS loader file (its first sector is not MBR boot code)".into());
        }
        Loader::new(bytes[..BOOT_CODE_BYTES].to_vec(), bytes[SECTOR..].to_vec())
    }

    /// Reads the loader file at `path`.
    pub fn read(path: &Path) -> Result<Loader, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!("no BIOS loader at {} ({e}): build it with `cargo xtask image --arch x86_64`", path.display())
        })?;
        Loader::from_file(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The loader as an El Torito "no emulation" boot image for a CD: the
    /// boot code in the first 2048-byte sector (the one the BIOS loads to
    /// 0x7C00), stage 2 from the second. [`point_cd_image`] then tells it
    /// where it and the files lie on the CD.
    pub fn cd_boot_image(&self) -> Vec<u8> {
        let mut image = self.boot_code.clone();
        image.resize(CD_SECTOR, 0);
        image.extend_from_slice(&self.stage2);
        image.resize(image.len().next_multiple_of(CD_SECTOR), 0);
        image
    }

    /// The boot code in a 512-byte sector, then stage 2.
    pub fn to_file(&self) -> Vec<u8> {
        let mut file = self.boot_code.clone();
        file.resize(SECTOR, 0);
        file.extend_from_slice(&self.stage2);
        file
    }

    fn new(boot_code: Vec<u8>, stage2: Vec<u8>) -> Result<Loader, String> {
        if boot_code.len() > BOOT_CODE_BYTES {
            return Err(format!("the BIOS loader's MBR code is larger than {BOOT_CODE_BYTES} bytes"));
        }
        if stage2.is_empty() || !stage2.len().is_multiple_of(SECTOR) {
            return Err("the BIOS loader's stage 2 is not a whole number of sectors".into());
        }
        if stage2.get(..8) != Some(MAGIC) || stage2.get(8..12) != Some(&PARAMS_VERSION.to_le_bytes()[..]) {
            return Err(format!(
                "the BIOS loader's stage 2 does not start with its version {PARAMS_VERSION} parameter block"
            ));
        }
        Ok(Loader { boot_code, stage2 })
    }
}

/// Writes `loader` into `head`: the boot code into bytes 0..440 of LBA 0,
/// stage 2 into LBA 34..=8191, with the kernel ELF's and the command
/// line's extents; nothing else changes. `head` holds the disk's first
/// sectors (at least through the BIOS boot partition) of a disk of
/// `disk_sectors` sectors, so that a large disk need not be in memory.
pub fn install_with(
    loader: &Loader,
    head: &mut [u8],
    disk_sectors: u64,
    kernel: Extent,
    cmdline: Extent,
) -> Result<(), String> {
    let disk = head;
    if !disk.len().is_multiple_of(SECTOR)
        || (disk.len() / SECTOR) as u64 <= STAGE2_LAST_LBA
        || disk_sectors <= STAGE2_LAST_LBA
    {
        return Err(format!(
            "the disk ({} bytes) is not a whole number of sectors larger than the {} sectors before the ESP",
            disk.len(),
            STAGE2_LAST_LBA + 1
        ));
    }
    let stage2_sectors = (loader.stage2.len() / SECTOR) as u64;
    let room = STAGE2_LAST_LBA - STAGE2_FIRST_LBA + 1;
    if stage2_sectors > room {
        return Err(format!(
            "BIOS stage 2 ({stage2_sectors} sectors) does not fit the {room}-sector BIOS boot partition"
        ));
    }
    check_sizes(kernel, cmdline)?;
    for (name, extent) in [("kernel", kernel), ("command line", cmdline)] {
        if extent.lba <= STAGE2_LAST_LBA || extent.end_lba() > disk_sectors {
            return Err(format!(
                "the {name} file (LBA {}, {} bytes) is not between LBA {} and the disk's end (LBA {disk_sectors})",
                extent.lba,
                extent.bytes,
                STAGE2_LAST_LBA + 1
            ));
        }
    }

    disk[..BOOT_CODE_BYTES].fill(0);
    disk[..loader.boot_code.len()].copy_from_slice(&loader.boot_code);
    let at = STAGE2_FIRST_LBA as usize * SECTOR;
    let stage2 = &mut disk[at..at + loader.stage2.len()];
    stage2.copy_from_slice(&loader.stage2);
    write_params(stage2, SECTOR, kernel, cmdline);
    Ok(())
}

/// The lengths stage 2 can load: a kernel of 1 byte to 4 GiB, a command
/// line of 1 to [`CMDLINE_BYTES`].
fn check_sizes(kernel: Extent, cmdline: Extent) -> Result<(), String> {
    for (name, extent, limit) in
        [("kernel", kernel, u64::from(u32::MAX)), ("command line", cmdline, CMDLINE_BYTES as u64)]
    {
        if extent.bytes == 0 || extent.bytes > limit {
            return Err(format!("the {name} file is {} bytes: the BIOS loader takes 1 to {limit}", extent.bytes));
        }
    }
    Ok(())
}

/// Fills in stage 2's parameter block: LBAs in sectors of `sector` bytes.
fn write_params(stage2: &mut [u8], sector: usize, kernel: Extent, cmdline: Extent) {
    let shift = sector.trailing_zeros();
    stage2[PARAM_SECTOR_SHIFT..PARAM_SECTOR_SHIFT + 4].copy_from_slice(&shift.to_le_bytes());
    for (offset, value) in [
        (PARAM_KERNEL_LBA, kernel.lba),
        (PARAM_KERNEL_BYTES, kernel.bytes),
        (PARAM_CMDLINE_LBA, cmdline.lba),
        (PARAM_CMDLINE_BYTES, cmdline.bytes),
    ] {
        stage2[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
    }
}

/// Points a [`Loader::cd_boot_image`] at itself and the files, once the CD
/// is laid out: `image` is the boot image as it lies on the CD, from CD
/// sector `image_lba`; `kernel` and `cmdline` are in CD sectors. The MBR
/// code then reads stage 2 from the image's second CD sector, and stage 2
/// reads the files in 2048-byte sectors.
pub fn point_cd_image(image: &mut [u8], image_lba: u64, kernel: Extent, cmdline: Extent) -> Result<(), String> {
    if !is_boot_code(image) {
        return Err("the CD boot image's first sector is not the BIOS loader's boot code".into());
    }
    let stage2 = image.get(CD_SECTOR..).unwrap_or_default();
    if stage2.get(..8) != Some(MAGIC) || stage2.get(8..12) != Some(&PARAMS_VERSION.to_le_bytes()[..]) {
        return Err(format!("the CD boot image has no version {PARAMS_VERSION} stage 2 in its second sector"));
    }
    let stage2_sectors = u16::try_from(stage2.len().div_ceil(CD_SECTOR)).map_err(|_| "stage 2 is too large")?;
    check_sizes(kernel, cmdline)?;
    point_stage2_read(image, image_lba + 1, stage2_sectors);
    write_params(&mut image[CD_SECTOR..], CD_SECTOR, kernel, cmdline);
    Ok(())
}

/// Whether `code` starts with the BIOS loader's boot code, its stage 2 read
/// not yet pointed elsewhere than the BIOS boot partition.
fn is_boot_code(code: &[u8]) -> bool {
    code.get(MBR_DAP..MBR_DAP + 16).is_some_and(|dap| dap[0] == 0x10 && dap[8..16] == STAGE2_FIRST_LBA.to_le_bytes())
}

/// Points the boot code's stage 2 read at `sectors` sectors from `lba`.
fn point_stage2_read(code: &mut [u8], lba: u64, sectors: u16) {
    code[MBR_DAP + 2..MBR_DAP + 4].copy_from_slice(&sectors.to_le_bytes());
    code[MBR_DAP + 8..MBR_DAP + 16].copy_from_slice(&lba.to_le_bytes());
}

/// The boot code for the system area (first 512-byte sector) of a CD image
/// written to a disk such as a USB stick, where a BIOS boots it as an MBR:
/// its stage 2 read points at the stage 2 of the CD boot image at CD
/// sector `image_lba`, in 512-byte sectors. That stage 2 reads the files by
/// the CD's LBAs, converted to the drive's sectors (`boot/bios/src/stage2.S`).
pub fn disk_boot_code_for_cd(loader: &Loader, image_lba: u64) -> Result<Vec<u8>, String> {
    let mut code = loader.boot_code.clone();
    if !is_boot_code(&code) {
        return Err("the BIOS loader's boot code has no stage 2 read where expected".into());
    }
    let sectors = u16::try_from(loader.stage2.len() / SECTOR).map_err(|_| "stage 2 is too large")?;
    let per_cd_sector = (CD_SECTOR / SECTOR) as u64;
    point_stage2_read(&mut code, (image_lba + 1) * per_cd_sector, sectors);
    Ok(code)
}

/// The command-line file: `text` as UTF-8, NUL-padded to 4096 bytes.
#[cfg_attr(not(test), allow(dead_code))] // also the QEMU tests' (tests/tests/bios.rs)
pub fn cmdline_file(text: &str) -> Result<Vec<u8>, String> {
    if text.len() >= CMDLINE_BYTES || text.contains('\0') {
        return Err(format!("the command line must be under {CMDLINE_BYTES} bytes, without NUL"));
    }
    let mut file = text.as_bytes().to_vec();
    file.resize(CMDLINE_BYTES, 0);
    Ok(file)
}

/// A minimal BIOS-bootable disk for the loader's failure tests (a kernel
/// that is not an ELF, a missing stage 2): a protective MBR, the loader,
/// then from LBA 8192 the command line and the kernel, each contiguous (as
/// they are in the ESP of the disks `cargo xtask image` writes).
/// Returns the disk and the command line's extent.
#[cfg_attr(not(test), allow(dead_code))] // also the QEMU tests' (tests/tests/bios.rs)
pub fn test_disk(loader: &Loader, kernel_elf: &[u8], cmdline: &str) -> Result<(Vec<u8>, Extent), String> {
    let cmdline_extent = Extent { lba: STAGE2_LAST_LBA + 1, bytes: CMDLINE_BYTES as u64 };
    let kernel_extent = Extent { lba: cmdline_extent.end_lba(), bytes: kernel_elf.len() as u64 };
    let sectors = kernel_extent.end_lba();
    let mut disk = vec![0u8; sectors as usize * SECTOR];
    // The protective MBR: one partition of type 0xEE over the whole disk
    // (from LBA 1), and the boot signature.
    let entry = &mut disk[446..462];
    entry[1..4].copy_from_slice(&[0x00, 0x02, 0x00]);
    entry[4] = 0xee;
    entry[5..8].copy_from_slice(&[0xff, 0xff, 0xff]);
    entry[8..12].copy_from_slice(&1u32.to_le_bytes());
    entry[12..16].copy_from_slice(&u32::try_from(sectors - 1).unwrap_or(u32::MAX).to_le_bytes());
    disk[510..512].copy_from_slice(&[0x55, 0xaa]);
    write_at(&mut disk, cmdline_extent, &cmdline_file(cmdline)?);
    write_at(&mut disk, kernel_extent, kernel_elf);
    install_with(loader, &mut disk, sectors, kernel_extent, cmdline_extent)?;
    Ok((disk, cmdline_extent))
}

/// Writes `bytes` at the extent's first sector.
#[cfg_attr(not(test), allow(dead_code))] // also the QEMU tests' (tests/tests/bios.rs)
pub fn write_at(disk: &mut [u8], extent: Extent, bytes: &[u8]) {
    let at = extent.lba as usize * SECTOR;
    disk[at..at + bytes.len()].copy_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loader with recognisable boot code and a two-sector stage 2.
    fn loader() -> Loader {
        let mut stage2 = vec![0x90u8; 2 * SECTOR];
        stage2[..8].copy_from_slice(MAGIC);
        stage2[8..12].copy_from_slice(&PARAMS_VERSION.to_le_bytes());
        stage2[12..48].fill(0);
        Loader::new(vec![0xfa; 300], stage2).unwrap()
    }

    /// [`install_with`] into a whole disk in memory.
    fn put(loader: &Loader, disk: &mut [u8], kernel: Extent, cmdline: Extent) -> Result<(), String> {
        let sectors = (disk.len() / SECTOR) as u64;
        install_with(loader, disk, sectors, kernel, cmdline)
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn install_writes_boot_code_and_stage2_and_keeps_the_partition_table() {
        let mut disk = vec![0u8; 10_000 * SECTOR];
        disk[BOOT_CODE_BYTES..SECTOR].fill(0xab);
        disk[..BOOT_CODE_BYTES].fill(0x11);
        let kernel = Extent { lba: 9000, bytes: 2_000_000 / 4 };
        let cmdline = Extent { lba: 8192, bytes: 4096 };
        put(&loader(), &mut disk, kernel, cmdline).unwrap();
        assert_eq!(&disk[..300], &[0xfa; 300][..]);
        assert!(disk[300..BOOT_CODE_BYTES].iter().all(|&b| b == 0), "the rest of the boot code area is cleared");
        assert!(disk[BOOT_CODE_BYTES..SECTOR].iter().all(|&b| b == 0xab), "signature and partitions untouched");
        let stage2 = &disk[34 * SECTOR..36 * SECTOR];
        assert_eq!(&stage2[..8], MAGIC);
        assert_eq!(u64_at(stage2, PARAM_KERNEL_LBA), 9000);
        assert_eq!(u64_at(stage2, PARAM_KERNEL_BYTES), 500_000);
        assert_eq!(u64_at(stage2, PARAM_CMDLINE_LBA), 8192);
        assert_eq!(u64_at(stage2, PARAM_CMDLINE_BYTES), 4096);
        assert_eq!(u32::from_le_bytes(stage2[PARAM_SECTOR_SHIFT..][..4].try_into().unwrap()), 9, "512-byte sectors");
        assert!(stage2[48..].iter().all(|&b| b == 0x90));
        assert!(disk[36 * SECTOR..].iter().all(|&b| b == 0), "nothing written past stage 2");
    }

    #[test]
    fn install_refuses_what_does_not_fit() {
        let cmdline = Extent { lba: 8192, bytes: 4096 };
        let kernel = Extent { lba: 8200, bytes: 1000 };
        let mut small = vec![0u8; 8000 * SECTOR];
        assert!(put(&loader(), &mut small, kernel, cmdline).unwrap_err().contains("before the ESP"));

        let mut disk = vec![0u8; 8300 * SECTOR];
        let past_end = Extent { lba: 8250, bytes: 60 * SECTOR as u64 };
        assert!(put(&loader(), &mut disk, past_end, cmdline).unwrap_err().contains("kernel file"));
        let in_loader = Extent { lba: 100, bytes: 4096 };
        assert!(put(&loader(), &mut disk, kernel, in_loader).unwrap_err().contains("command line file"));
        let too_long = Extent { lba: 8192, bytes: 4097 };
        assert!(put(&loader(), &mut disk, kernel, too_long).unwrap_err().contains("1 to 4096"));
        let empty = Extent { lba: 8200, bytes: 0 };
        assert!(put(&loader(), &mut disk, empty, cmdline).is_err());

        let mut huge = loader();
        huge.stage2.resize(8159 * SECTOR, 0);
        let err = put(&huge, &mut disk, kernel, cmdline).unwrap_err();
        assert!(err.contains("does not fit the 8158-sector BIOS boot partition"), "{err}");
        assert!(disk.iter().all(|&b| b == 0), "a refused install writes nothing");
    }

    #[test]
    fn the_cd_image_reads_stage2_and_the_files_in_cd_sectors() {
        // Boot code whose stage 2 read (the DAP) is where the MBR keeps it.
        let mut boot_code = vec![0xfa; BOOT_CODE_BYTES];
        boot_code[MBR_DAP..MBR_DAP + 16].copy_from_slice(&[0x10, 0, 2, 0, 0, 0x80, 0, 0, 34, 0, 0, 0, 0, 0, 0, 0]);
        let mut l = loader();
        l.boot_code = boot_code;
        let fresh = l.cd_boot_image();
        let mut image = fresh.clone();
        assert_eq!(image.len(), 2 * CD_SECTOR, "boot code sector, then stage 2 padded to a CD sector");
        assert_eq!(&image[CD_SECTOR..CD_SECTOR + 8], MAGIC);

        let kernel = Extent { lba: 300, bytes: 5_000_000 };
        let cmdline = Extent { lba: 299, bytes: 4096 };
        point_cd_image(&mut image, 40, kernel, cmdline).unwrap();
        assert_eq!(&image[MBR_DAP + 2..MBR_DAP + 4], &1u16.to_le_bytes(), "one CD sector of stage 2");
        assert_eq!(u64_at(&image, MBR_DAP + 8), 41, "from the sector after the boot code's");
        let stage2 = &image[CD_SECTOR..];
        assert_eq!(u32::from_le_bytes(stage2[PARAM_SECTOR_SHIFT..][..4].try_into().unwrap()), 11);
        assert_eq!(u64_at(stage2, PARAM_KERNEL_LBA), 300);
        assert_eq!(u64_at(stage2, PARAM_KERNEL_BYTES), 5_000_000);
        assert_eq!(u64_at(stage2, PARAM_CMDLINE_LBA), 299);

        // Written to a disk, the system area's boot code reads the same
        // stage 2 in 512-byte sectors.
        let code = disk_boot_code_for_cd(&l, 40).unwrap();
        assert_eq!(&code[MBR_DAP + 2..MBR_DAP + 4], &2u16.to_le_bytes(), "two 512-byte sectors of stage 2");
        assert_eq!(u64_at(&code, MBR_DAP + 8), 41 * 4);
        assert!(disk_boot_code_for_cd(&loader(), 40).is_err(), "boot code without the DAP");

        // Only our own image is rewritten.
        let mut other = loader().cd_boot_image();
        assert!(point_cd_image(&mut other, 40, kernel, cmdline).unwrap_err().contains("boot code"));
        let mut no_stage2 = fresh.clone();
        no_stage2[CD_SECTOR] = 0;
        assert!(point_cd_image(&mut no_stage2, 40, kernel, cmdline).unwrap_err().contains("stage 2"));
        let too_long = Extent { lba: 299, bytes: 4097 };
        assert!(point_cd_image(&mut fresh.clone(), 40, kernel, too_long).unwrap_err().contains("command line"));
    }

    #[test]
    fn loader_file_round_trips_and_rejects_oversized_boot_code() {
        let l = loader();
        let file = l.to_file();
        assert_eq!(file.len(), 3 * SECTOR);
        let back = Loader::from_file(&file).unwrap();
        assert_eq!(back.boot_code[..300], l.boot_code[..]);
        assert_eq!(back.stage2, l.stage2);

        let mut flat = vec![0u8; STAGE2_OFFSET];
        flat[..300].fill(0xfa);
        flat.extend_from_slice(&l.stage2);
        assert_eq!(Loader::from_flat(0x7c00, &flat).unwrap().stage2, l.stage2);
        assert!(Loader::from_flat(0x7000, &flat).is_err());
        flat[BOOT_CODE_BYTES] = 1;
        assert!(Loader::from_flat(0x7c00, &flat).unwrap_err().contains("larger than 440"));
        assert!(Loader::from_file(&flat[..SECTOR]).is_err());
    }

    #[test]
    fn test_disk_holds_a_protective_mbr_the_cmdline_and_the_kernel() {
        let kernel = b"\x7fELF pretend kernel".repeat(100);
        let (disk, cmdline) = test_disk(&loader(), &kernel, "net.rxbuf=64K -- --requirepass x").unwrap();
        assert_eq!(&disk[510..512], &[0x55, 0xaa]);
        assert_eq!(disk[446 + 4], 0xee);
        assert_eq!(cmdline, Extent { lba: 8192, bytes: 4096 });
        let text = &disk[8192 * SECTOR..8192 * SECTOR + 4096];
        assert!(text.starts_with(b"net.rxbuf=64K -- --requirepass x\0"));
        assert!(text[33..].iter().all(|&b| b == 0));
        let stage2 = &disk[34 * SECTOR..];
        let kernel_lba = u64_at(stage2, PARAM_KERNEL_LBA) as usize;
        assert_eq!(kernel_lba, 8200);
        assert_eq!(&disk[kernel_lba * SECTOR..kernel_lba * SECTOR + kernel.len()], &kernel[..]);
        assert_eq!(disk.len(), (8200 + kernel.len().div_ceil(SECTOR)) * SECTOR);
        assert!(cmdline_file(&"x".repeat(4096)).is_err());
    }
}
