//! A small FAT32 formatter and reader for the EFI system partition.
//!
//! The formatter writes a fresh file system holding the given files, each
//! file's clusters contiguous from a [`FILE_ALIGN`] boundary and in the
//! order given (directories first, in the order their paths first name
//! them), with fixed timestamps, so that the same files always give the
//! same bytes and a loader without a FAT driver (the BIOS stage) can read
//! a file by its first sector and length. Names
//! are 8.3 upper case (no long-name entries). The reader finds a file again
//! by path and returns where it lies.

use crate::Result;
use std::fs::File;
use std::os::unix::fs::FileExt;

const SECTOR: u64 = 512;
const RESERVED_SECTORS: u64 = 32;
const FATS: u64 = 2;
/// FAT32 needs at least this many clusters (fewer make it FAT16 by definition).
const MIN_CLUSTERS: u64 = 65_525;
const MAX_CLUSTERS: u64 = 0x0FFF_FFF5;
const END_OF_CHAIN: u32 = 0x0FFF_FFFF;
const ROOT_CLUSTER: u32 = 2;
/// Every file starts this many bytes into the partition (a multiple): the
/// ISO's BIOS loader reads the kernel and command line in 2048-byte CD
/// sectors, and 4 KiB also suits disks with 4096-byte sectors.
pub const FILE_ALIGN: u64 = 4096;
/// 2024-01-01 in FAT's date format (years since 1980, month, day).
const FIXED_DATE: u16 = ((2024 - 1980) << 9) | (1 << 5) | 1;

/// Where a file's bytes are, relative to the start of the partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub offset: u64,
    pub len: u64,
}

/// Sectors per cluster for a partition of `sectors` sectors (Microsoft's
/// table for FAT32: 512-byte clusters up to 260 MB, then 4, 8, 16, 32 KiB).
fn sectors_per_cluster(sectors: u64) -> u64 {
    match sectors {
        0..=532_480 => 1,
        532_481..=16_777_216 => 8,
        16_777_217..=33_554_432 => 16,
        33_554_433..=67_108_864 => 32,
        _ => 64,
    }
}

struct Geometry {
    spc: u64,
    fat_sectors: u64,
    clusters: u64,
}

impl Geometry {
    fn new(sectors: u64) -> Result<Geometry> {
        let spc = sectors_per_cluster(sectors);
        // Size the FAT for every cluster the data area could hold (a slight
        // overestimate), then count the clusters that fit after it.
        let upper = sectors.saturating_sub(RESERVED_SECTORS) / spc + 2;
        let fat_sectors = (upper * 4).div_ceil(SECTOR);
        let clusters = sectors.saturating_sub(RESERVED_SECTORS + FATS * fat_sectors) / spc;
        if clusters < MIN_CLUSTERS {
            let need_mib = (MIN_CLUSTERS * SECTOR + 2 * MIN_CLUSTERS * 4).div_ceil(1 << 20) + 5;
            return Err(format!(
                "the EFI system partition is too small for FAT32 ({clusters} clusters of {} bytes, it needs \
                 {MIN_CLUSTERS}): use --size {}M or more",
                spc * SECTOR,
                need_mib + 4
            ));
        }
        Ok(Geometry { spc, fat_sectors, clusters: clusters.min(MAX_CLUSTERS) })
    }

    fn cluster_bytes(&self) -> u64 {
        self.spc * SECTOR
    }

    fn cluster_offset(&self, cluster: u32) -> u64 {
        (RESERVED_SECTORS + FATS * self.fat_sectors + (u64::from(cluster) - 2) * self.spc) * SECTOR
    }
}

/// "BOOTX64.EFI" -> "BOOTX64 EFI", for a plain upper-case 8.3 name.
fn short_name(name: &str) -> Option<[u8; 11]> {
    let (base, ext) = name.split_once('.').unwrap_or((name, ""));
    let ok = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    if !ok(base, 8) || !(ext.is_empty() || ok(ext, 3)) {
        return None;
    }
    let mut out = [b' '; 11];
    out[..base.len()].copy_from_slice(base.as_bytes());
    out[8..8 + ext.len()].copy_from_slice(ext.as_bytes());
    Some(out)
}

/// The directory entries naming `name`: its 8.3 entry alone, or (for a
/// longer name such as `APPLIANCE`) long-name entries, last part first,
/// then a `~N` short alias; `n` makes the alias unique in its directory.
fn name_entries(name: &str, n: usize, attr: u8, cluster: u32, size: u32) -> Result<Vec<[u8; 32]>> {
    if let Some(short) = short_name(name) {
        return Ok(vec![dir_entry(short, attr, cluster, size)]);
    }
    if name.is_empty() || name.len() > 255 || !name.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\') {
        return Err(format!("'{name}' cannot be a FAT file name"));
    }
    let mut alias = [b' '; 11];
    let stem: Vec<u8> =
        name.bytes().map(|b| b.to_ascii_uppercase()).filter(|b| b.is_ascii_alphanumeric()).take(6).collect();
    let tail = format!("~{n}");
    alias[..stem.len()].copy_from_slice(&stem);
    alias[stem.len()..stem.len() + tail.len()].copy_from_slice(tail.as_bytes());
    let checksum = alias.iter().fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b));
    let mut units: Vec<u16> = name.encode_utf16().collect();
    if !units.len().is_multiple_of(13) {
        units.push(0);
        units.resize(units.len().div_ceil(13) * 13, 0xFFFF);
    }
    let parts = units.len() / 13;
    let mut entries = Vec::new();
    for seq in (1..=parts).rev() {
        let chunk = &units[(seq - 1) * 13..seq * 13];
        let mut e = [0u8; 32];
        e[0] = seq as u8 | if seq == parts { 0x40 } else { 0 };
        e[11] = ATTR_LONG_NAME;
        e[13] = checksum;
        for (i, unit) in chunk.iter().enumerate() {
            let at = LONG_NAME_OFFSETS[i];
            e[at..at + 2].copy_from_slice(&unit.to_le_bytes());
        }
        entries.push(e);
    }
    entries.push(dir_entry(alias, attr, cluster, size));
    Ok(entries)
}

/// Where the 13 UTF-16 units of a long-name entry sit.
const LONG_NAME_OFFSETS: [usize; 13] = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
const ATTR_LONG_NAME: u8 = 0x0F;

fn dir_entry(name: [u8; 11], attr: u8, cluster: u32, size: u32) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[..11].copy_from_slice(&name);
    e[11] = attr;
    for date_at in [16, 18, 24] {
        e[date_at..date_at + 2].copy_from_slice(&FIXED_DATE.to_le_bytes());
    }
    e[20..22].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
    e[26..28].copy_from_slice(&(cluster as u16).to_le_bytes());
    e[28..32].copy_from_slice(&size.to_le_bytes());
    e
}

const ATTR_DIRECTORY: u8 = 0x10;
const ATTR_ARCHIVE: u8 = 0x20;
const ATTR_VOLUME_ID: u8 = 0x08;

struct Dir {
    path: String,
    parent: usize,
    /// (name, is directory, index into dirs or files)
    children: Vec<(String, bool, usize)>,
    cluster: u32,
    clusters: u64,
}

/// Formats `sectors` sectors at byte `start` of `file` as FAT32 holding
/// `files` (paths like `EFI/BOOT/BOOTX64.EFI`); returns each file's place,
/// in the order given. `volume_id` is the file system's serial number.
pub fn format(
    file: &File,
    start: u64,
    sectors: u64,
    hidden_sectors: u64,
    volume_id: u32,
    files: &[(&str, &[u8])],
) -> Result<Vec<Placement>> {
    let geo = Geometry::new(sectors)?;
    let write = |offset: u64, bytes: &[u8]| {
        file.write_all_at(bytes, start + offset).map_err(|e| format!("writing the EFI system partition: {e}"))
    };

    // The directory tree, directories in the order the paths first name them.
    let mut dirs = vec![Dir { path: String::new(), parent: 0, children: Vec::new(), cluster: 0, clusters: 0 }];
    for (index, (path, _)) in files.iter().enumerate() {
        let parts: Vec<&str> = path.split('/').collect();
        let mut dir = 0;
        for (depth, part) in parts.iter().enumerate() {
            let name = part.to_string();
            if depth + 1 == parts.len() {
                dirs[dir].children.push((name, false, index));
                break;
            }
            let sub_path = parts[..=depth].join("/");
            dir = match dirs.iter().position(|d| d.path == sub_path) {
                Some(d) => d,
                None => {
                    dirs.push(Dir { path: sub_path, parent: dir, children: Vec::new(), cluster: 0, clusters: 0 });
                    let new = dirs.len() - 1;
                    dirs[dir].children.push((name, true, new));
                    new
                }
            };
        }
    }

    // Clusters: the directories, then each file, all contiguous.
    let mut fat: Vec<u32> = vec![0x0FFF_FFF8, END_OF_CHAIN];
    let mut allocate = |bytes: u64, align: u64| -> Result<(u32, u64)> {
        let count = bytes.div_ceil(geo.cluster_bytes());
        if count == 0 {
            return Ok((0, 0));
        }
        // Clusters skipped to reach the alignment stay free.
        while !geo.cluster_offset(fat.len() as u32).is_multiple_of(align) && (fat.len() as u64) < geo.clusters {
            fat.push(0);
        }
        let first = fat.len() as u32;
        if fat.len() as u64 - 2 + count > geo.clusters {
            return Err("the files do not fit in the EFI system partition: use a larger --size".into());
        }
        for c in 0..count as u32 {
            fat.push(if u64::from(c) + 1 == count { END_OF_CHAIN } else { first + c + 1 });
        }
        Ok((first, count))
    };
    for (i, dir) in dirs.iter_mut().enumerate() {
        // The root has a volume label; the others "." and "..".
        let mut entries = if i == 0 { 1 } else { 2 };
        for (n, (name, _, _)) in dir.children.iter().enumerate() {
            entries += name_entries(name, n + 1, 0, 0, 0)?.len() as u64;
        }
        (dir.cluster, dir.clusters) = allocate(entries * 32, 1)?;
    }
    let mut placements = Vec::new();
    let mut file_clusters = Vec::new();
    for (_, data) in files {
        let (first, _) = allocate(data.len() as u64, FILE_ALIGN)?;
        file_clusters.push(first);
        placements
            .push(Placement { offset: if first == 0 { 0 } else { geo.cluster_offset(first) }, len: data.len() as u64 });
    }

    // Boot sector (BIOS parameter block), FSInfo, and their backups at 6 and 7.
    let mut boot = [0u8; 512];
    boot[0..3].copy_from_slice(&[0xEB, 0x58, 0x90]);
    boot[3..11].copy_from_slice(b"APPLIANC");
    boot[11..13].copy_from_slice(&(SECTOR as u16).to_le_bytes());
    boot[13] = geo.spc as u8;
    boot[14..16].copy_from_slice(&(RESERVED_SECTORS as u16).to_le_bytes());
    boot[16] = FATS as u8;
    boot[21] = 0xF8; // fixed disk
    boot[24..26].copy_from_slice(&63u16.to_le_bytes());
    boot[26..28].copy_from_slice(&255u16.to_le_bytes());
    boot[28..32].copy_from_slice(&(hidden_sectors as u32).to_le_bytes());
    boot[32..36].copy_from_slice(&(sectors as u32).to_le_bytes());
    boot[36..40].copy_from_slice(&(geo.fat_sectors as u32).to_le_bytes());
    boot[44..48].copy_from_slice(&ROOT_CLUSTER.to_le_bytes());
    boot[48..50].copy_from_slice(&1u16.to_le_bytes());
    boot[50..52].copy_from_slice(&6u16.to_le_bytes());
    boot[64] = 0x80;
    boot[66] = 0x29;
    boot[67..71].copy_from_slice(&volume_id.to_le_bytes());
    boot[71..82].copy_from_slice(b"APPLIANCE  ");
    boot[82..90].copy_from_slice(b"FAT32   ");
    boot[510..512].copy_from_slice(&[0x55, 0xAA]);
    let used = fat.iter().skip(2).filter(|&&e| e != 0).count() as u64;
    let mut info = [0u8; 512];
    info[0..4].copy_from_slice(&0x4161_5252u32.to_le_bytes());
    info[484..488].copy_from_slice(&0x6141_7272u32.to_le_bytes());
    info[488..492].copy_from_slice(&((geo.clusters - used) as u32).to_le_bytes());
    info[492..496].copy_from_slice(&(fat.len() as u32).to_le_bytes());
    info[508..512].copy_from_slice(&0xAA55_0000u32.to_le_bytes());
    for base in [0, 6] {
        write(base * SECTOR, &boot)?;
        write((base + 1) * SECTOR, &info)?;
    }
    let mut fat_bytes: Vec<u8> = fat.iter().flat_map(|e| e.to_le_bytes()).collect();
    fat_bytes.resize((geo.fat_sectors * SECTOR) as usize, 0);
    for copy in 0..FATS {
        write((RESERVED_SECTORS + copy * geo.fat_sectors) * SECTOR, &fat_bytes)?;
    }

    for (i, dir) in dirs.iter().enumerate() {
        let mut bytes = Vec::new();
        if i == 0 {
            bytes.extend(dir_entry(*b"APPLIANCE  ", ATTR_VOLUME_ID, 0, 0));
        } else {
            let parent = if dir.parent == 0 { 0 } else { dirs[dir.parent].cluster };
            bytes.extend(dir_entry(*b".          ", ATTR_DIRECTORY, dir.cluster, 0));
            bytes.extend(dir_entry(*b"..         ", ATTR_DIRECTORY, parent, 0));
        }
        for (n, (name, is_dir, index)) in dir.children.iter().enumerate() {
            let entries = if *is_dir {
                name_entries(name, n + 1, ATTR_DIRECTORY, dirs[*index].cluster, 0)?
            } else {
                let size =
                    u32::try_from(files[*index].1.len()).map_err(|_| format!("{} is over 4 GiB", files[*index].0))?;
                name_entries(name, n + 1, ATTR_ARCHIVE, file_clusters[*index], size)?
            };
            bytes.extend(entries.iter().flatten());
        }
        bytes.resize((dir.clusters * geo.cluster_bytes()) as usize, 0);
        write(geo.cluster_offset(dir.cluster), &bytes)?;
    }
    for ((_, data), place) in files.iter().zip(&placements) {
        if !data.is_empty() {
            write(place.offset, data)?;
        }
    }
    Ok(placements)
}

/// Finds `path` (like `APPLIANCE/CMDLINE`) in the FAT32 file system at byte
/// `start` of `file`; fails unless its clusters are contiguous.
pub fn find(file: &File, start: u64, path: &str) -> Result<Placement> {
    let mut boot = [0u8; 512];
    file.read_exact_at(&mut boot, start).map_err(|e| format!("reading the EFI system partition: {e}"))?;
    let u16_at = |o: usize| u64::from(u16::from_le_bytes([boot[o], boot[o + 1]]));
    let u32_at = |o: usize| u64::from(u32::from_le_bytes(boot[o..o + 4].try_into().expect("4 bytes")));
    if boot[510..512] != [0x55, 0xAA] || u16_at(11) != SECTOR || &boot[82..87] != b"FAT32" {
        return Err("the EFI system partition does not hold a FAT32 file system with 512-byte sectors".into());
    }
    let spc = u64::from(boot[13]);
    let geo = Geometry { spc, fat_sectors: u32_at(36), clusters: u32_at(32) / spc.max(1) };
    let reserved = u16_at(14);
    let fats = u64::from(boot[16]);
    let data_start = (reserved + fats * geo.fat_sectors) * SECTOR;
    let cluster_offset = |c: u32| data_start + (u64::from(c) - 2) * spc * SECTOR;
    let next = |c: u32| -> Result<u32> {
        let mut e = [0u8; 4];
        file.read_exact_at(&mut e, start + reserved * SECTOR + u64::from(c) * 4)
            .map_err(|e| format!("reading the FAT: {e}"))?;
        Ok(u32::from_le_bytes(e) & 0x0FFF_FFFF)
    };
    let chain = |first: u32| -> Result<Vec<u32>> {
        let mut clusters = vec![first];
        let mut c = first;
        loop {
            let n = next(c)?;
            if n >= 0x0FFF_FFF8 {
                return Ok(clusters);
            }
            if n < 2 || clusters.len() as u64 > geo.clusters {
                return Err(format!("a broken cluster chain in the FAT (cluster {c} -> {n})"));
            }
            clusters.push(n);
            c = n;
        }
    };
    let mut dir = u32_at(44) as u32;
    let parts: Vec<&str> = path.split('/').collect();
    for (depth, part) in parts.iter().enumerate() {
        let want_short = short_name(part);
        let mut long_name: Vec<u16> = Vec::new();
        let mut found = None;
        'clusters: for c in chain(dir)? {
            let mut bytes = vec![0u8; (spc * SECTOR) as usize];
            file.read_exact_at(&mut bytes, start + cluster_offset(c))
                .map_err(|e| format!("reading a directory: {e}"))?;
            for e in bytes.chunks(32) {
                if e[0] == 0 {
                    break 'clusters;
                }
                if e[0] == 0xE5 {
                    long_name.clear();
                    continue;
                }
                if e[11] == ATTR_LONG_NAME {
                    // Long-name parts come last part first: prepend each.
                    let units = LONG_NAME_OFFSETS.iter().map(|&at| u16::from_le_bytes([e[at], e[at + 1]]));
                    let mut part: Vec<u16> = units.take_while(|&u| u != 0 && u != 0xFFFF).collect();
                    if e[0] & 0x40 != 0 {
                        long_name.clear();
                    }
                    part.append(&mut long_name);
                    long_name = part;
                    continue;
                }
                let long = String::from_utf16_lossy(&std::mem::take(&mut long_name));
                let matches = Some(<[u8; 11]>::try_from(&e[..11]).expect("11 bytes")) == want_short
                    || (!long.is_empty() && long.eq_ignore_ascii_case(part));
                if e[11] & ATTR_VOLUME_ID != 0 || !matches {
                    continue;
                }
                let cluster =
                    u32::from(u16::from_le_bytes([e[20], e[21]])) << 16 | u32::from(u16::from_le_bytes([e[26], e[27]]));
                found = Some((cluster, e[11] & ATTR_DIRECTORY != 0, u32::from_le_bytes(e[28..32].try_into().unwrap())));
                break 'clusters;
            }
        }
        let Some((cluster, is_dir, size)) = found else {
            return Err(format!("no /{} in the EFI system partition", parts[..=depth].join("/")));
        };
        if depth + 1 < parts.len() {
            if !is_dir {
                return Err(format!("/{} is not a directory", parts[..=depth].join("/")));
            }
            dir = cluster;
            continue;
        }
        if size == 0 {
            return Ok(Placement { offset: 0, len: 0 });
        }
        let clusters = chain(cluster)?;
        if clusters.windows(2).any(|w| w[1] != w[0] + 1) {
            return Err(format!("/{path}'s clusters are not contiguous: rebuild the image with `cargo xtask image`"));
        }
        if (clusters.len() as u64) * spc * SECTOR < u64::from(size) {
            return Err(format!("/{path} is longer than its cluster chain"));
        }
        return Ok(Placement { offset: cluster_offset(cluster), len: u64::from(size) });
    }
    unreachable!("a path has at least one part")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, bytes: u64) -> (std::path::PathBuf, File) {
        let path = std::env::temp_dir().join(format!("fat-test-{name}-{}.img", std::process::id()));
        let file = File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        file.set_len(bytes).unwrap();
        (path, file)
    }

    #[test]
    fn short_names() {
        assert_eq!(&short_name("BOOTX64.EFI").unwrap(), b"BOOTX64 EFI");
        assert_eq!(short_name("APPLIANCE"), None);
        assert_eq!(&short_name("CMDLINE").unwrap(), b"CMDLINE    ");
        assert!(short_name("boot.efi").is_none());
        // A long name: one long-name entry (13 units), then the alias.
        let entries = name_entries("APPLIANCE", 1, ATTR_DIRECTORY, 5, 0).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0][0], entries[0][11]), (0x41, ATTR_LONG_NAME));
        assert_eq!(&entries[1][..11], b"APPLIA~1   ");
        assert_eq!(entries[0][13], entries[1][..11].iter().fold(0u8, |s, &b| s.rotate_right(1).wrapping_add(b)));
        assert_eq!(name_entries("A-VERY-LONG-FILE-NAME.TXT", 2, 0, 0, 0).unwrap().len(), 3);
    }

    #[test]
    fn refuses_a_partition_too_small_for_fat32() {
        let err = Geometry::new(40_000).err().unwrap();
        assert!(err.contains("too small for FAT32") && err.contains("--size"), "{err}");
        let geo = Geometry::new(122_847).unwrap();
        assert!(geo.clusters >= MIN_CLUSTERS && geo.spc == 1);
        assert!((geo.clusters + 2) * 4 <= geo.fat_sectors * SECTOR, "the FAT covers every cluster");
    }

    #[test]
    fn formats_contiguous_files_and_finds_them_again() {
        let sectors = 122_847;
        let start = 4096;
        let (path, file) = scratch("format", start + sectors * SECTOR);
        let loader = vec![0x11u8; 1000];
        let kernel: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let cmdline = vec![0u8; 4096];
        let files: &[(&str, &[u8])] = &[
            ("EFI/BOOT/BOOTX64.EFI", &loader),
            ("APPLIANCE/KERNEL", &kernel),
            ("APPLIANCE/CMDLINE", &cmdline),
            ("EMPTY", &[]),
        ];
        let placed = format(&file, start, sectors, 8192, 0x1234_5678, files).unwrap();
        for ((name, data), place) in files.iter().zip(&placed) {
            assert_eq!(find(&file, start, name).unwrap(), *place, "{name}");
            let mut back = vec![0u8; data.len()];
            file.read_exact_at(&mut back, start + place.offset).unwrap();
            assert_eq!(&back, data, "{name}'s bytes sit contiguously at its offset");
        }
        // Directories come first, then the files in the given order.
        assert!(placed[0].offset < placed[1].offset && placed[1].offset < placed[2].offset);
        assert_eq!(placed[1].offset, (placed[0].offset + 1024).next_multiple_of(FILE_ALIGN));
        for (place, (name, data)) in placed.iter().zip(files) {
            assert!(data.is_empty() || place.offset.is_multiple_of(FILE_ALIGN), "{name} at {}", place.offset);
        }
        assert!(find(&file, start, "APPLIANCE/MISSING").unwrap_err().contains("no /APPLIANCE/MISSING"));
        assert!(find(&file, start, "EMPTY/X").unwrap_err().contains("not a directory"));

        // The boot sector and its backup agree; the volume is FAT32.
        let (mut a, mut b) = ([0u8; 512], [0u8; 512]);
        file.read_exact_at(&mut a, start).unwrap();
        file.read_exact_at(&mut b, start + 6 * SECTOR).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[82..90], b"FAT32   ");
        assert_eq!(u32::from_le_bytes(a[28..32].try_into().unwrap()), 8192);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        let sectors = 70_000;
        let image = |name| {
            let (path, file) = scratch(name, sectors * SECTOR);
            format(&file, 0, sectors, 0, 7, &[("A/B.TXT", b"hello")]).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            std::fs::remove_file(&path).unwrap();
            bytes
        };
        assert!(image("one") == image("two"));
    }
}
