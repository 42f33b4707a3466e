//! The GUID partition table: the protective MBR, the primary and backup GPT
//! headers and partition entry arrays, and finding a partition again.
//!
//! Layout (512-byte sectors): LBA 0 protective MBR, LBA 1 header, LBAs
//! 2..=33 128 entries of 128 bytes; at the end of the disk the backup
//! entries (33 sectors before the last) and the backup header (last LBA).

use crate::Result;
use std::fs::File;
use std::os::unix::fs::FileExt;

pub const SECTOR: u64 = 512;
/// Partition entries in each array, and the size of one.
const ENTRIES: u64 = 128;
const ENTRY_SIZE: u64 = 128;
/// Sectors one entry array takes (128 * 128 / 512).
const ENTRY_SECTORS: u64 = ENTRIES * ENTRY_SIZE / SECTOR;
/// The first LBA a partition may use (after the MBR, header and entries).
pub const FIRST_USABLE_LBA: u64 = 2 + ENTRY_SECTORS;
/// Bytes of LBA 0 that belong to BIOS boot code, never written here.
#[allow(dead_code)] // the BIOS module writes them
pub const MBR_BOOT_CODE_BYTES: usize = 440;

/// A GUID in its on-disk byte order (the first three fields little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// Parses `C12A7328-F81F-11D2-BA4B-00A0C93EC93B`.
    pub const fn parse(text: &str) -> Guid {
        let s = text.as_bytes();
        let mut hex = [0u8; 16];
        let (mut i, mut n) = (0, 0);
        while i < s.len() {
            if s[i] != b'-' {
                let (hi, lo) = (nibble(s[i]), nibble(s[i + 1]));
                hex[n] = hi << 4 | lo;
                n += 1;
                i += 1;
            }
            i += 1;
        }
        assert!(n == 16, "a GUID has 32 hex digits");
        let mut b = [0u8; 16];
        b[0] = hex[3];
        b[1] = hex[2];
        b[2] = hex[1];
        b[3] = hex[0];
        b[4] = hex[5];
        b[5] = hex[4];
        b[6] = hex[7];
        b[7] = hex[6];
        let mut k = 8;
        while k < 16 {
            b[k] = hex[k];
            k += 1;
        }
        Guid(b)
    }

    /// A version 4 (random-format) GUID made from 16 bytes of a hash, so the
    /// same contents always give the same GUID.
    pub fn from_hash(mut bytes: [u8; 16]) -> Guid {
        bytes[7] = (bytes[7] & 0x0f) | 0x40; // version 4 (in the little-endian third field)
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        Guid(bytes)
    }
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit"),
    }
}

pub const BIOS_BOOT_TYPE: Guid = Guid::parse("21686148-6449-6E6F-744E-656564454649");
pub const ESP_TYPE: Guid = Guid::parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");

/// One partition: its type, its own GUID, its LBAs (inclusive) and name.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    pub kind: Guid,
    pub guid: Guid,
    pub first_lba: u64,
    pub last_lba: u64,
    pub name: String,
}

/// The last LBA a partition may use on a disk of `sectors` sectors.
pub fn last_usable_lba(sectors: u64) -> u64 {
    sectors - 2 - ENTRY_SECTORS
}

/// IEEE CRC-32 (as GPT, zip and Ethernet use it).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn io(e: std::io::Error) -> String {
    format!("writing the disk image: {e}")
}

/// Writes the protective MBR's partition table and signature, the GPT
/// headers and both entry arrays for a disk of `sectors` sectors; leaves
/// the MBR's boot code (its first 440 bytes) as it is.
pub fn write(file: &File, sectors: u64, disk_guid: Guid, partitions: &[Partition]) -> Result<()> {
    assert!(partitions.len() <= ENTRIES as usize);
    // Protective MBR: one partition of type 0xEE from LBA 1 to the end (or
    // as far as 32 bits reach), CHS fields at their "unknown" values.
    let mut mbr_tail = [0u8; 512 - 446];
    let entry = &mut mbr_tail[..16];
    entry[1..4].copy_from_slice(&[0x00, 0x02, 0x00]); // CHS of LBA 1
    entry[4] = 0xEE;
    entry[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
    entry[8..12].copy_from_slice(&1u32.to_le_bytes());
    entry[12..16].copy_from_slice(&((sectors - 1).min(u64::from(u32::MAX)) as u32).to_le_bytes());
    mbr_tail[64..66].copy_from_slice(&[0x55, 0xAA]);
    file.write_all_at(&mbr_tail, 446).map_err(io)?;

    let mut entries = vec![0u8; (ENTRIES * ENTRY_SIZE) as usize];
    for (i, p) in partitions.iter().enumerate() {
        let e = &mut entries[i * ENTRY_SIZE as usize..][..ENTRY_SIZE as usize];
        e[0..16].copy_from_slice(&p.kind.0);
        e[16..32].copy_from_slice(&p.guid.0);
        e[32..40].copy_from_slice(&p.first_lba.to_le_bytes());
        e[40..48].copy_from_slice(&p.last_lba.to_le_bytes());
        for (j, unit) in p.name.encode_utf16().take(36).enumerate() {
            e[56 + 2 * j..58 + 2 * j].copy_from_slice(&unit.to_le_bytes());
        }
    }
    let entries_crc = crc32(&entries);
    let backup_entries_lba = sectors - 1 - ENTRY_SECTORS;
    let header = |my_lba: u64, other_lba: u64, entries_lba: u64| {
        let mut h = [0u8; SECTOR as usize];
        h[0..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&my_lba.to_le_bytes());
        h[32..40].copy_from_slice(&other_lba.to_le_bytes());
        h[40..48].copy_from_slice(&FIRST_USABLE_LBA.to_le_bytes());
        h[48..56].copy_from_slice(&last_usable_lba(sectors).to_le_bytes());
        h[56..72].copy_from_slice(&disk_guid.0);
        h[72..80].copy_from_slice(&entries_lba.to_le_bytes());
        h[80..84].copy_from_slice(&(ENTRIES as u32).to_le_bytes());
        h[84..88].copy_from_slice(&(ENTRY_SIZE as u32).to_le_bytes());
        h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
        let crc = crc32(&h[..92]);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        h
    };
    file.write_all_at(&header(1, sectors - 1, 2), SECTOR).map_err(io)?;
    file.write_all_at(&entries, 2 * SECTOR).map_err(io)?;
    file.write_all_at(&entries, backup_entries_lba * SECTOR).map_err(io)?;
    file.write_all_at(&header(sectors - 1, 1, backup_entries_lba), (sectors - 1) * SECTOR).map_err(io)?;
    Ok(())
}

/// Reads the primary GPT (checking its CRCs) and returns its partitions.
pub fn read(file: &File) -> Result<Vec<Partition>> {
    let mut h = [0u8; SECTOR as usize];
    file.read_exact_at(&mut h, SECTOR).map_err(|e| format!("reading the GPT header: {e}"))?;
    if &h[0..8] != b"EFI PART" {
        return Err("no GPT header at LBA 1: not a disk image made by `cargo xtask image --format uefi`".into());
    }
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    let header_size = u32_at(&h, 12) as usize;
    let mut check = h;
    check[16..20].fill(0);
    if !(92..=512).contains(&header_size) || crc32(&check[..header_size]) != u32_at(&h, 16) {
        return Err("the GPT header's CRC does not match: the disk image is damaged".into());
    }
    let (entries_lba, count, size) = (u64_at(&h, 72), u32_at(&h, 80) as usize, u32_at(&h, 84) as usize);
    if !(128..=4096).contains(&size) || count > 1024 {
        return Err(format!("unusual GPT entry array ({count} entries of {size} bytes)"));
    }
    let mut entries = vec![0u8; count * size];
    file.read_exact_at(&mut entries, entries_lba * SECTOR).map_err(|e| format!("reading the GPT entries: {e}"))?;
    if crc32(&entries) != u32_at(&h, 88) {
        return Err("the GPT partition entries' CRC does not match: the disk image is damaged".into());
    }
    Ok(entries
        .chunks(size)
        .filter(|e| e[0..16].iter().any(|&b| b != 0))
        .map(|e| {
            let name: Vec<u16> =
                e[56..128].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0).collect();
            Partition {
                kind: Guid(e[0..16].try_into().expect("16 bytes")),
                guid: Guid(e[16..32].try_into().expect("16 bytes")),
                first_lba: u64_at(e, 32),
                last_lba: u64_at(e, 40),
                name: String::from_utf16_lossy(&name),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn guids_are_stored_mixed_endian() {
        let g = Guid::parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        assert_eq!(
            g.0,
            [0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B]
        );
        let h = Guid::from_hash([0xff; 16]);
        assert_eq!((h.0[7] >> 4, h.0[8] >> 6), (4, 2));
    }

    #[test]
    fn writes_a_valid_table_with_backup_and_keeps_the_boot_code() {
        let path = std::env::temp_dir().join(format!("gpt-test-{}.img", std::process::id()));
        let file = File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        let sectors = 20_000;
        file.set_len(sectors * SECTOR).unwrap();
        file.write_all_at(&[0x90; MBR_BOOT_CODE_BYTES], 0).unwrap();
        let parts = vec![
            Partition { kind: BIOS_BOOT_TYPE, guid: Guid([1; 16]), first_lba: 34, last_lba: 8191, name: "bios".into() },
            Partition {
                kind: ESP_TYPE,
                guid: Guid([2; 16]),
                first_lba: 8192,
                last_lba: last_usable_lba(sectors),
                name: "EFI system partition".into(),
            },
        ];
        write(&file, sectors, Guid([3; 16]), &parts).unwrap();
        assert_eq!(read(&file).unwrap(), parts);

        let mut mbr = [0u8; 512];
        file.read_exact_at(&mut mbr, 0).unwrap();
        assert!(mbr[..MBR_BOOT_CODE_BYTES].iter().all(|&b| b == 0x90), "boot code untouched");
        assert_eq!((mbr[450], &mbr[510..]), (0xEE, &[0x55, 0xAA][..]));
        assert_eq!(u32::from_le_bytes(mbr[458..462].try_into().unwrap()), (sectors - 1) as u32);

        // The backup header points back at the primary and at its own entries.
        let mut backup = [0u8; 512];
        file.read_exact_at(&mut backup, (sectors - 1) * SECTOR).unwrap();
        assert_eq!(&backup[..8], b"EFI PART");
        assert_eq!(u64::from_le_bytes(backup[24..32].try_into().unwrap()), sectors - 1);
        assert_eq!(u64::from_le_bytes(backup[32..40].try_into().unwrap()), 1);
        assert_eq!(u64::from_le_bytes(backup[72..80].try_into().unwrap()), sectors - 33);
        let mut check = backup;
        check[16..20].fill(0);
        assert_eq!(crc32(&check[..92]).to_le_bytes(), backup[16..20]);
        assert_eq!(last_usable_lba(sectors), sectors - 34);

        // A damaged entry array is reported.
        file.write_all_at(&[0xAB], 2 * SECTOR + 100).unwrap();
        assert!(read(&file).unwrap_err().contains("CRC"));
        std::fs::remove_file(&path).unwrap();
    }
}
