//! What `open` refuses, and that it never writes to a disk it refuses.

use alloc::format;
use alloc::string::String;

use super::*;
use crate::sim::SimDisk;
use crate::{BlockDevice, IoError, OpenErrorKind, StoreError};

/// Opens `disk`, expecting a refusal; checks nothing was written.
fn refused(disk: SimDisk) -> (OpenErrorKind, String) {
    let before = disk.image().to_vec();
    let stats = disk.stats();
    let err = match Store::open(disk) {
        Ok(_) => panic!("opened"),
        Err(e) => e,
    };
    let msg = format!("{err}");
    assert_eq!(format!("{}", err.kind), msg);
    let mut disk = err.device;
    let after = disk.stats();
    assert_eq!((after.writes, after.flushes), (stats.writes, stats.flushes), "{msg}");
    assert_eq!(disk.unflushed_writes(), 0);
    assert!(disk.image() == &before[..]);
    assert!(disk.read(0, &mut [0; 512]).is_ok(), "the device comes back usable");
    (err.kind, msg)
}

fn disk_with(at: usize, bytes: &[u8]) -> SimDisk {
    let mut d = SimDisk::new(SMALL);
    d.corrupt(at, bytes);
    d
}

#[test]
fn blank_disk() {
    let (kind, msg) = refused(SimDisk::new(SMALL));
    assert_eq!(kind, OpenErrorKind::Blank);
    assert!(msg.contains("blank"), "{msg}");
    assert!(Store::is_blank(&mut SimDisk::new(SMALL)).unwrap());
    // Data past the first MiB does not count; data inside it does.
    assert!(Store::is_blank(&mut disk_with(1 << 20, &[1])).unwrap());
    assert!(!Store::is_blank(&mut disk_with((1 << 20) - 1, &[1])).unwrap());
    assert!(!Store::is_blank(&mut fresh(SMALL).into_device()).unwrap());
    // Small disks are checked whole.
    assert!(Store::is_blank(&mut SimDisk::new(16)).unwrap());
    // Zeros in the first 128 KiB but not in the first MiB: unknown data.
    let (kind, msg) = refused(disk_with(600 << 10, b"data"));
    assert_eq!(kind, OpenErrorKind::UnknownData);
    assert!(msg.contains("no data-disk superblock"), "{msg}");
}

#[test]
fn partition_tables_and_filesystems() {
    let (kind, msg) = refused(disk_with(510, &[0x55, 0xAA]));
    assert_eq!(kind, OpenErrorKind::PartitionTable("MBR"));
    assert!(msg.contains("an MBR partition table"), "{msg}");
    let mut gpt = disk_with(510, &[0x55, 0xAA]);
    gpt.corrupt(512, b"EFI PART");
    let (kind, msg) = refused(gpt);
    assert_eq!(kind, OpenErrorKind::PartitionTable("GPT"));
    assert!(msg.contains("a GPT partition table"), "{msg}");
    let (kind, msg) = refused(disk_with(1080, &[0x53, 0xEF]));
    assert_eq!(kind, OpenErrorKind::Filesystem("an ext2/ext3/ext4 filesystem"));
    assert!(msg.contains("ext4"), "{msg}");
    let (_, msg) = refused(disk_with(0, b"XFSB"));
    assert!(msg.contains("XFS"), "{msg}");
    let mut fat = disk_with(510, &[0x55, 0xAA]);
    fat.corrupt(82, b"FAT32   ");
    let (_, msg) = refused(fat);
    assert!(msg.contains("FAT32"), "{msg}");
    let (kind, _) = refused(disk_with(3, b"garbage"));
    assert_eq!(kind, OpenErrorKind::UnknownData);
}

#[test]
fn damaged_or_foreign_superblocks() {
    let formatted = || {
        let mut s = fresh(SMALL);
        s.append(b"r").unwrap();
        s.commit(true).unwrap();
        reopen(s).into_device()
    };
    // One damaged copy: the other serves.
    for copy in [0usize, 8] {
        let mut d = formatted();
        d.corrupt(copy * 512 + 20, &[0xAA]);
        let mut s = Store::open(d).unwrap();
        assert_eq!(replayed(&mut s).0, [b"r".to_vec()]);
    }
    // Both damaged.
    let mut d = formatted();
    d.corrupt(20, &[0xAA]);
    d.corrupt(8 * 512 + 20, &[0xAA]);
    let (kind, msg) = refused(d);
    assert_eq!(kind, OpenErrorKind::BothSuperblocksCorrupt);
    assert!(msg.contains("both superblocks") && msg.contains("checksum"), "{msg}");
    // Another format version (both copies, as a newer build would leave them).
    let mut d = formatted();
    d.corrupt(8, &2u32.to_le_bytes());
    d.corrupt(8 * 512 + 8, &2u32.to_le_bytes());
    let (kind, msg) = refused(d);
    assert_eq!(kind, OpenErrorKind::UnsupportedVersion(2));
    assert!(msg.contains("version 2"), "{msg}");
    // Checksum right, contents impossible.
    let mut d = formatted();
    for at in [0, 8 * 512] {
        let mut b = d.image()[at..at + 512].to_vec();
        b[88] = 5;
        let crc = crate::crc::crc32c(&b[..508]);
        b[508..].copy_from_slice(&crc.to_le_bytes());
        d.corrupt(at, &b);
    }
    let (kind, msg) = refused(d);
    assert!(matches!(kind, OpenErrorKind::BadSuperblock(_)), "{kind:?}");
    assert!(msg.contains("neither 0 nor 1"), "{msg}");
}

#[test]
fn sizes() {
    let (kind, msg) = refused(SimDisk::new(SMALL - 1));
    assert_eq!(kind, OpenErrorKind::TooSmall { sectors: SMALL - 1 });
    assert!(msg.contains("too small"), "{msg}");
    let err = Store::format(SimDisk::new(SMALL - 8), T0).err().unwrap();
    assert_eq!(err, StoreError::TooSmall { sectors: SMALL - 8 });
    assert!(format!("{err}").contains("at least 4 MiB"));
    // A disk that shrank below its layout.
    let image = fresh(2 * SMALL).into_device().image()[..SMALL as usize * 512].to_vec();
    let (kind, msg) = refused(SimDisk::from_image(image));
    assert_eq!(kind, OpenErrorKind::Shrunk { formatted: 2 * SMALL, now: SMALL });
    assert!(msg.contains("shrank"), "{msg}");
    // One that grew keeps its layout.
    let mut image = fresh(SMALL).into_device().image().to_vec();
    image.resize(image.len() * 2, 0);
    let s = Store::open(SimDisk::from_image(image)).unwrap();
    assert_eq!(s.info().geometry.sector_count, SMALL);
    assert_eq!(s.info().sector_count, 2 * SMALL);
}

#[test]
fn read_errors_refuse_without_writing() {
    let mut d = fresh(SMALL).into_device();
    d.fail_read_after(0);
    let (kind, msg) = refused(d);
    assert_eq!(kind, OpenErrorKind::Io(IoError::Device));
    assert!(msg.contains("could not read"), "{msg}");
    // A read failing while scanning the log.
    let mut d = fresh(SMALL).into_device();
    d.fail_read_after(1);
    assert_eq!(refused(d).0, OpenErrorKind::Io(IoError::Device));
}

#[test]
fn format_wipes_foreign_signatures() {
    let mut d = disk_with(510, &[0x55, 0xAA]);
    d.corrupt(1080, &[0x53, 0xEF]);
    d.corrupt(65536 + 64, b"_BHRfS_M");
    let s = Store::format(d, T0).unwrap();
    let d = s.into_device();
    assert_ne!(&d.image()[510..512], &[0x55, 0xAA]);
    assert_eq!(&d.image()[1080..1082], &[0, 0]);
    assert_eq!(d.image()[65536 + 64], 0);
    assert!(d.image() == d.durable_image(), "format flushes");
}
