//! The superblock (one sector, two copies) and the geometry it records.
//! The byte layout is documented in the crate's top comment.

use crate::SECTOR;
use crate::crc::crc32c;

/// "AOSSTORE": the first eight bytes of both superblock copies.
pub const MAGIC: [u8; 8] = *b"AOSSTORE";
/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The sectors holding the two superblock copies (4 KiB apart, so that no
/// 4 KiB physical block holds both).
pub const SUPERBLOCK_SECTORS: [u64; 2] = [0, 8];
/// Bytes reserved at the start of the disk for the superblocks (and room to grow).
pub const RESERVED_BYTES: u64 = 1 << 20;
/// The smallest disk `format` accepts.
pub const MIN_DISK_BYTES: u64 = 4 << 20;
/// Alignment of every region.
pub const ALIGN_BYTES: u64 = 4096;

const ALIGN_SECTORS: u64 = ALIGN_BYTES / SECTOR as u64;
const RESERVED_SECTORS: u64 = RESERVED_BYTES / SECTOR as u64;

// Field offsets (see the crate documentation).
const OFF_VERSION: usize = 8;
const OFF_SB_SIZE: usize = 12;
const OFF_GENERATION: usize = 16;
const OFF_DISK_ID: usize = 24;
const OFF_CREATED: usize = 32;
const OFF_SECTOR_COUNT: usize = 40;
const OFF_LOG_START: usize = 48;
const OFF_LOG_SECTORS: usize = 56;
const OFF_SLOT0: usize = 64;
const OFF_SLOT1: usize = 72;
const OFF_SLOT_SECTORS: usize = 80;
const OFF_ACTIVE_SLOT: usize = 88;
const OFF_SNAP_LEN: usize = 96;
const OFF_SNAP_CRC: usize = 104;
const OFF_LOG_OFFSET: usize = 112;
const OFF_LOG_SEQ: usize = 120;
const OFF_LOG_EPOCH: usize = 128;
const OFF_RESERVED_EPOCH: usize = 136;
/// End of the fields; bytes from here to the checksum are zero.
const FIELDS_END: usize = 144;
const OFF_CRC: usize = SECTOR - 4;

/// Where the regions of a formatted disk lie, in sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// The disk's size when it was formatted.
    pub sector_count: u64,
    /// First sector of the log ring.
    pub log_start: u64,
    /// Sectors in the log ring.
    pub log_sectors: u64,
    /// First sector of snapshot slots 0 and 1.
    pub slot_start: [u64; 2],
    /// Sectors in each snapshot slot.
    pub slot_sectors: u64,
}

impl Geometry {
    /// The layout `format` gives a disk of `sectors` sectors: 1 MiB reserved,
    /// a quarter of the rest for the log ring, the remainder split between
    /// the two snapshot slots, every region 4 KiB aligned. `None` below 4 MiB.
    pub fn for_sectors(sectors: u64) -> Option<Geometry> {
        if sectors.checked_mul(SECTOR as u64)? < MIN_DISK_BYTES {
            return None;
        }
        let usable = sectors / ALIGN_SECTORS * ALIGN_SECTORS - RESERVED_SECTORS;
        let log_sectors = usable / 4 / ALIGN_SECTORS * ALIGN_SECTORS;
        let slot_sectors = (usable - log_sectors) / 2 / ALIGN_SECTORS * ALIGN_SECTORS;
        let log_start = RESERVED_SECTORS;
        let slot0 = log_start + log_sectors;
        Some(Geometry {
            sector_count: sectors,
            log_start,
            log_sectors,
            slot_start: [slot0, slot0 + slot_sectors],
            slot_sectors,
        })
    }

    /// Bytes in the log ring.
    pub fn log_ring_bytes(&self) -> u64 {
        self.log_sectors * SECTOR as u64
    }

    /// Bytes one snapshot slot holds.
    pub fn slot_bytes(&self) -> u64 {
        self.slot_sectors * SECTOR as u64
    }

    /// Checks that the regions are sane and fit a disk of `disk_sectors`.
    fn check(&self) -> Result<(), &'static str> {
        let aligned = |v: u64| v.is_multiple_of(ALIGN_SECTORS);
        if !(aligned(self.log_start)
            && aligned(self.log_sectors)
            && aligned(self.slot_start[0])
            && aligned(self.slot_start[1])
            && aligned(self.slot_sectors))
        {
            return Err("a region is not 4 KiB aligned");
        }
        if self.log_sectors == 0 || self.slot_sectors == 0 {
            return Err("a region is empty");
        }
        let regions = [
            (self.log_start, self.log_sectors),
            (self.slot_start[0], self.slot_sectors),
            (self.slot_start[1], self.slot_sectors),
        ];
        for (i, &(start, len)) in regions.iter().enumerate() {
            let Some(end) = start.checked_add(len) else { return Err("a region ends past 2^64 sectors") };
            if start < RESERVED_SECTORS {
                return Err("a region overlaps the reserved first 1 MiB");
            }
            if end > self.sector_count {
                return Err("a region ends past the formatted size");
            }
            for &(s2, l2) in &regions[i + 1..] {
                if start < s2 + l2 && s2 < end {
                    return Err("two regions overlap");
                }
            }
        }
        Ok(())
    }
}

/// A position in the log: where a chain starts (or where a snapshot's chain
/// will start), with the sequence number and epoch the record there carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogPoint {
    /// Byte offset in the ring (below its size) in a superblock; a linear,
    /// ever-growing position in memory.
    pub pos: u64,
    pub seq: u64,
    pub epoch: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Superblock {
    pub generation: u64,
    pub disk_id: u64,
    pub created_unix_ms: u64,
    pub geometry: Geometry,
    pub active_slot: u8,
    pub snapshot_len: u64,
    pub snapshot_crc: u32,
    /// `pos` is the byte offset in the ring.
    pub log_start: LogPoint,
    pub reserved_epoch: u64,
}

/// What one superblock copy holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Valid(Superblock),
    /// No magic: not a superblock of ours.
    Foreign,
    /// Our magic, another format version.
    Version(u32),
    /// Our magic and version, but the checksum does not match.
    BadChecksum,
    /// Checksum right, contents impossible.
    BadFields(&'static str),
}

fn put(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

impl Superblock {
    pub fn encode(&self) -> [u8; SECTOR] {
        let mut b = [0u8; SECTOR];
        b[..8].copy_from_slice(&MAGIC);
        b[OFF_VERSION..OFF_VERSION + 4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[OFF_SB_SIZE..OFF_SB_SIZE + 4].copy_from_slice(&(SECTOR as u32).to_le_bytes());
        put(&mut b, OFF_GENERATION, self.generation);
        put(&mut b, OFF_DISK_ID, self.disk_id);
        put(&mut b, OFF_CREATED, self.created_unix_ms);
        let g = &self.geometry;
        put(&mut b, OFF_SECTOR_COUNT, g.sector_count);
        put(&mut b, OFF_LOG_START, g.log_start);
        put(&mut b, OFF_LOG_SECTORS, g.log_sectors);
        put(&mut b, OFF_SLOT0, g.slot_start[0]);
        put(&mut b, OFF_SLOT1, g.slot_start[1]);
        put(&mut b, OFF_SLOT_SECTORS, g.slot_sectors);
        b[OFF_ACTIVE_SLOT] = self.active_slot;
        put(&mut b, OFF_SNAP_LEN, self.snapshot_len);
        b[OFF_SNAP_CRC..OFF_SNAP_CRC + 4].copy_from_slice(&self.snapshot_crc.to_le_bytes());
        put(&mut b, OFF_LOG_OFFSET, self.log_start.pos);
        put(&mut b, OFF_LOG_SEQ, self.log_start.seq);
        put(&mut b, OFF_LOG_EPOCH, self.log_start.epoch);
        put(&mut b, OFF_RESERVED_EPOCH, self.reserved_epoch);
        let crc = crc32c(&b[..OFF_CRC]);
        b[OFF_CRC..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Decoded {
        debug_assert_eq!(b.len(), SECTOR);
        if b[..8] != MAGIC {
            return Decoded::Foreign;
        }
        let version = get32(b, OFF_VERSION);
        if version != FORMAT_VERSION {
            return Decoded::Version(version);
        }
        if crc32c(&b[..OFF_CRC]) != get32(b, OFF_CRC) {
            return Decoded::BadChecksum;
        }
        if get32(b, OFF_SB_SIZE) != SECTOR as u32 {
            return Decoded::BadFields("the superblock size field is not 512");
        }
        if b[OFF_ACTIVE_SLOT + 1..OFF_SNAP_LEN].iter().any(|&x| x != 0)
            || b[OFF_SNAP_CRC + 4..OFF_LOG_OFFSET].iter().any(|&x| x != 0)
            || b[FIELDS_END..OFF_CRC].iter().any(|&x| x != 0)
        {
            return Decoded::BadFields("reserved bytes are not zero");
        }
        let geometry = Geometry {
            sector_count: get(b, OFF_SECTOR_COUNT),
            log_start: get(b, OFF_LOG_START),
            log_sectors: get(b, OFF_LOG_SECTORS),
            slot_start: [get(b, OFF_SLOT0), get(b, OFF_SLOT1)],
            slot_sectors: get(b, OFF_SLOT_SECTORS),
        };
        let sb = Superblock {
            generation: get(b, OFF_GENERATION),
            disk_id: get(b, OFF_DISK_ID),
            created_unix_ms: get(b, OFF_CREATED),
            geometry,
            active_slot: b[OFF_ACTIVE_SLOT],
            snapshot_len: get(b, OFF_SNAP_LEN),
            snapshot_crc: get32(b, OFF_SNAP_CRC),
            log_start: LogPoint { pos: get(b, OFF_LOG_OFFSET), seq: get(b, OFF_LOG_SEQ), epoch: get(b, OFF_LOG_EPOCH) },
            reserved_epoch: get(b, OFF_RESERVED_EPOCH),
        };
        if let Err(e) = geometry.check() {
            return Decoded::BadFields(e);
        }
        if sb.active_slot > 1 {
            return Decoded::BadFields("the active snapshot slot is neither 0 nor 1");
        }
        if sb.snapshot_len > geometry.slot_bytes() {
            return Decoded::BadFields("the snapshot is longer than its slot");
        }
        if sb.log_start.pos >= geometry.log_ring_bytes() {
            return Decoded::BadFields("the log start lies past the log ring");
        }
        if sb.log_start.epoch == 0 || sb.reserved_epoch < sb.log_start.epoch {
            return Decoded::BadFields("the log epoch is above the reserved epoch");
        }
        Decoded::Valid(sb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Superblock {
        Superblock {
            generation: 7,
            disk_id: 0x1234_5678_9abc_def0,
            created_unix_ms: 1_700_000_000_000,
            geometry: Geometry::for_sectors(16384).unwrap(),
            active_slot: 1,
            snapshot_len: 1000,
            snapshot_crc: 0xdead_beef,
            log_start: LogPoint { pos: 4096, seq: 99, epoch: 3 },
            reserved_epoch: 4,
        }
    }

    #[test]
    fn geometry_of_small_and_large_disks() {
        assert_eq!(Geometry::for_sectors(8191), None);
        let g = Geometry::for_sectors(8192).unwrap(); // 4 MiB
        assert_eq!(g.log_start, 2048);
        assert_eq!(g.log_ring_bytes(), 768 << 10);
        assert_eq!(g.slot_bytes(), 1152 << 10);
        assert_eq!(g.slot_start, [2048 + 1536, 2048 + 1536 + 2304]);
        g.check().unwrap();
        // An odd size: everything stays aligned and inside the disk.
        let g = Geometry::for_sectors(1_000_003).unwrap();
        g.check().unwrap();
        assert!(g.slot_start[1] + g.slot_sectors <= 1_000_003);
        let g = Geometry::for_sectors(1 << 31).unwrap(); // 1 TiB
        g.check().unwrap();
        assert_eq!(g.log_ring_bytes(), ((1u64 << 40) - (1 << 20)) / 4);
    }

    #[test]
    fn round_trip_and_damage() {
        let sb = sample();
        let mut b = sb.encode();
        assert_eq!(Superblock::decode(&b), Decoded::Valid(sb));
        b[20] ^= 1;
        assert_eq!(Superblock::decode(&b), Decoded::BadChecksum);
        let mut b = sb.encode();
        b[8] = 2;
        assert_eq!(Superblock::decode(&b), Decoded::Version(2));
        assert_eq!(Superblock::decode(&[0u8; SECTOR]), Decoded::Foreign);
        let mut bad = sb;
        bad.active_slot = 2;
        assert!(matches!(Superblock::decode(&bad.encode()), Decoded::BadFields(_)));
        let mut bad = sb;
        bad.geometry.slot_start[1] = bad.geometry.slot_start[0];
        assert_eq!(Superblock::decode(&bad.encode()), Decoded::BadFields("two regions overlap"));
    }
}
