//! Naming what a disk holds when it is not ours, so that `open` can say what
//! it refused (and the app can tell a blank disk, which it may format, from
//! one that holds somebody's data).

/// Bytes `identify` wants to see: enough for the Btrfs superblock at 64 KiB.
pub const PROBE_BYTES: usize = 128 << 10;

/// Bytes that must be zero for a disk to count as blank.
pub const BLANK_BYTES: u64 = 1 << 20;

/// What the start of a disk that carries no superblock of ours looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Foreign {
    /// The probed bytes are all zero (the caller checks the rest of the first MiB).
    Zeros,
    /// "MBR" or "GPT".
    PartitionTable(&'static str),
    /// What was found, with its article: "an XFS filesystem".
    Filesystem(&'static str),
    Unknown,
}

fn at(buf: &[u8], off: usize, magic: &[u8]) -> bool {
    buf.get(off..off + magic.len()) == Some(magic)
}

/// Names the content from the first bytes of a disk (`PROBE_BYTES`, or the
/// whole disk if smaller). Cheap signature checks only, most specific first:
/// a FAT or NTFS boot sector also ends in 0x55AA, as an MBR does.
pub fn identify(buf: &[u8]) -> Foreign {
    if buf.iter().all(|&b| b == 0) {
        return Foreign::Zeros;
    }
    let checks: [(usize, &[u8], &'static str); 11] = [
        (1080, &[0x53, 0xEF], "an ext2/ext3/ext4 filesystem"),
        (0, b"XFSB", "an XFS filesystem"),
        (65536 + 64, b"_BHRfS_M", "a Btrfs filesystem"),
        (3, b"NTFS    ", "an NTFS filesystem"),
        (3, b"EXFAT   ", "an exFAT filesystem"),
        (82, b"FAT32   ", "a FAT32 filesystem"),
        (54, b"FAT16   ", "a FAT16 filesystem"),
        (54, b"FAT12   ", "a FAT12 filesystem"),
        (0, b"LUKS\xba\xbe", "a LUKS encrypted volume"),
        (4086, b"SWAPSPACE2", "Linux swap space"),
        (32769, b"CD001", "an ISO 9660 image"),
    ];
    for (off, magic, name) in checks {
        if at(buf, off, magic) {
            return Foreign::Filesystem(name);
        }
    }
    if at(buf, 512, b"EFI PART") {
        return Foreign::PartitionTable("GPT");
    }
    if at(buf, 510, &[0x55, 0xAA]) {
        return Foreign::PartitionTable("MBR");
    }
    Foreign::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn names_common_signatures() {
        let blank = vec![0u8; 8192];
        assert_eq!(identify(&blank), Foreign::Zeros);
        let mut mbr = blank.clone();
        mbr[446] = 0x80;
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        assert_eq!(identify(&mbr), Foreign::PartitionTable("MBR"));
        let mut gpt = mbr.clone();
        gpt[512..520].copy_from_slice(b"EFI PART");
        assert_eq!(identify(&gpt), Foreign::PartitionTable("GPT"));
        let mut fat = mbr.clone();
        fat[82..90].copy_from_slice(b"FAT32   ");
        assert_eq!(identify(&fat), Foreign::Filesystem("a FAT32 filesystem"));
        let mut ext = blank.clone();
        ext[1080] = 0x53;
        ext[1081] = 0xEF;
        assert_eq!(identify(&ext), Foreign::Filesystem("an ext2/ext3/ext4 filesystem"));
        let mut other = blank.clone();
        other[7] = 1;
        assert_eq!(identify(&other), Foreign::Unknown);
        // Short buffers (tiny disks) are fine.
        assert_eq!(identify(&other[..600]), Foreign::Unknown);
    }
}
