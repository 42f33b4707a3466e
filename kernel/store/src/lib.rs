//! The data disk's crash-safe layout: two superblocks, two snapshot slots and
//! a log ring, on any [`BlockDevice`] of 512-byte sectors. The app keeps an
//! opaque snapshot (an RDB file) and appends opaque records (AOF commands)
//! after it; after a crash, [`Store::open`] finds the newest snapshot and the
//! records that follow it, and nothing else.
//!
//! ```
//! use store::{Store, sim::SimDisk};
//!
//! let mut store = Store::format(SimDisk::new(8192), 1_700_000_000_000).unwrap();
//! store.append(b"SET a 1").unwrap();
//! store.commit(true).unwrap(); // durable: acknowledge the write now
//! // Snapshot the dataset (as it is after every record appended so far).
//! store.begin_snapshot(false).unwrap();
//! store.write_snapshot(b"REDIS0011...").unwrap();
//! store.append(b"SET b 2").unwrap(); // appended while the snapshot is written
//! store.commit(true).unwrap();
//! store.finish_snapshot().unwrap();
//! // Power cut; at the next boot:
//! let disk = store.into_device().power_cut(7);
//! let mut store = Store::open(disk).unwrap();
//! let mut rdb = vec![0; store.snapshot_len() as usize];
//! store.read_snapshot(0, &mut rdb).unwrap();
//! assert_eq!(rdb, b"REDIS0011...");
//! let mut replayed = Vec::new();
//! store.replay(|r| Ok::<_, ()>(replayed.push(r.to_vec()))).unwrap();
//! assert_eq!(replayed, [b"SET b 2"]);
//! ```
//!
//! # Failure model
//!
//! Only a single 512-byte sector write is atomic. The sectors of a longer
//! write may land in any subset and any order until a flush completes, and a
//! sector written twice since the last flush may end up with either version.
//! A write is durable once a later flush returns Ok; a write or flush that
//! fails may have done any part of its work, and the writes a failed flush
//! covered are still pending, made durable by the next flush that returns Ok
//! (a [`BlockDevice`] that loses them must fail every later flush instead).
//! Every rule below follows from this.
//!
//! # On-disk format, version 1
//!
//! Integers are little-endian. "CRC32C" is the Castagnoli CRC (reflected
//! polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF).
//!
//! ## Regions
//!
//! | sectors                  | content                                              |
//! |--------------------------|------------------------------------------------------|
//! | 0                        | superblock copy 0                                    |
//! | 8                        | superblock copy 1 (4 KiB away: another physical block)|
//! | the rest of the first MiB| zeros, reserved                                      |
//! | `log_start`, `log_sectors` | the log ring                                       |
//! | `slot0`, `slot_sectors`  | snapshot slot 0                                      |
//! | `slot1`, `slot_sectors`  | snapshot slot 1                                      |
//!
//! `format` reserves the first 1 MiB, gives the log ring a quarter of the rest
//! and splits what remains between the two slots, every region 4 KiB aligned;
//! a disk smaller than 4 MiB is refused. The superblock records the geometry,
//! so `open` never recomputes it (a disk that grew keeps its layout; one that
//! shrank below it is refused).
//!
//! ## Superblock (one sector)
//!
//! | offset | size | field                                                        |
//! |--------|------|--------------------------------------------------------------|
//! | 0      | 8    | magic `"AOSSTORE"`                                           |
//! | 8      | 4    | format version, 1                                            |
//! | 12     | 4    | superblock size, 512                                         |
//! | 16     | 8    | generation: +1 on every superblock write                     |
//! | 24     | 8    | disk id: differs from the previous format's of the same disk |
//! | 32     | 8    | creation time, Unix milliseconds                             |
//! | 40     | 8    | disk size at format, sectors                                 |
//! | 48     | 8    | log ring: first sector                                       |
//! | 56     | 8    | log ring: sectors                                            |
//! | 64     | 8    | snapshot slot 0: first sector                                |
//! | 72     | 8    | snapshot slot 1: first sector                                |
//! | 80     | 8    | sectors per snapshot slot                                    |
//! | 88     | 1    | active snapshot slot, 0 or 1                                 |
//! | 89     | 7    | zero                                                         |
//! | 96     | 8    | active snapshot: length in bytes                             |
//! | 104    | 4    | active snapshot: CRC32C of its bytes                         |
//! | 108    | 4    | zero                                                         |
//! | 112    | 8    | log start: byte offset in the ring                           |
//! | 120    | 8    | log start: sequence number of the record there               |
//! | 128    | 8    | log start: epoch of the record there                         |
//! | 136    | 8    | highest reserved epoch                                       |
//! | 144    | 364  | zero                                                         |
//! | 508    | 4    | CRC32C of bytes 0..508                                       |
//!
//! `format` writes both copies with generation 1. Every later superblock
//! write goes to the copy that does not hold the newest one, with the
//! generation after it, and is flushed before anything relies on it; so one
//! copy always holds the newest durable superblock intact. `open` uses the
//! valid copy (magic, version, checksum, sane fields) with the highest
//! generation (copy 0 on a tie).
//!
//! ## Snapshot slots
//!
//! A snapshot is an opaque byte string stored from the start of its slot; the
//! superblock's length and CRC32C describe the active one. A new snapshot is
//! written to the other slot, flushed, and only then does a superblock naming
//! it go out (and get flushed): the flip is one sector write. Until then the
//! old snapshot and its log chain stay the recovery point.
//!
//! ## Log records
//!
//! The ring is a byte stream: record after record, no padding, wrapping from
//! the ring's last byte to its first (a record may straddle the wrap). Each
//! record is a 40-byte header and its payload:
//!
//! | offset | size | field                                                        |
//! |--------|------|--------------------------------------------------------------|
//! | 0      | 4    | magic `"ALOG"`                                               |
//! | 4      | 1    | type: 1 data, 2 epoch marker                                 |
//! | 5      | 3    | zero                                                         |
//! | 8      | 4    | payload length                                               |
//! | 12     | 4    | CRC32C of the header (this field taken as zero) and payload  |
//! | 16     | 8    | disk id (as in the superblock)                               |
//! | 24     | 8    | epoch                                                        |
//! | 32     | 8    | sequence number                                              |
//! | 40     | len  | payload (an epoch marker's is the next epoch, 8 bytes)       |
//!
//! The chain of the active snapshot starts at the superblock's log start and
//! is at most the ring's size less one sector long. Sequence numbers go up by
//! one per record (markers included). The epoch changes only through a
//! marker, or where a snapshot's chain starts in a fresh epoch.
//!
//! ## Writing
//!
//! * Records are buffered in memory and written by a commit: the sectors from
//!   the one holding the end of the chain on disk to the one holding the new
//!   end, in one write (two where the ring wraps), the last sector padded with
//!   zeros. The partly filled sector is rewritten with its earlier bytes
//!   unchanged, so either version of it that survives holds them.
//! * A durable commit flushes after writing; only then may the app
//!   acknowledge the records.
//! * `open` reserves a fresh epoch (highest reserved epoch + 1) with a
//!   flushed superblock write before any record is written. The first record
//!   written after `open` is a marker, in the epoch and with the sequence
//!   number the chain expects next, whose payload is the fresh epoch; the
//!   records after it carry the fresh epoch.
//! * A snapshot begun with `new_chain` reserves a fresh epoch the same way
//!   and its chain starts with a record of that epoch and no marker: the old
//!   chain, which the superblock still names until the flip, ends before it.
//!
//! ## Recovery
//!
//! From the superblock's log start, the record at each position is accepted
//! only if its header has the magic, this disk's id, exactly the expected
//! epoch and sequence number, a known type and zero padding, it fits in the
//! chain's room, and its checksum matches. An accepted marker must lead to an
//! epoch above the current one and no higher than the superblock's highest
//! reserved epoch; the records after it are expected in that epoch. The first
//! record that fails ends the chain: that is the normal end, not an error.
//!
//! Why stale records cannot be accepted: within one epoch, the record with a
//! given sequence number is written once, at the one position the chain
//! before it determines, so a record found there with that number is that
//! record. Records left past the end of the chain by an earlier boot (the
//! unflushed tail of a crashed run, which may hold intact records after a
//! torn one) carry an older epoch than the one reserved at the next `open`,
//! so the records written from there on can never be followed by them. A
//! torn overwrite of the record at the end position mixes sectors of a
//! record that failed the checks with sectors of the marker, and fails its
//! checksum. Records of an earlier format of the disk carry another disk id.

#![no_std]
#![forbid(unsafe_code)]
extern crate alloc;

#[cfg(test)]
extern crate std;

pub mod crc;
mod detect;
mod error;
mod log;
pub mod sim;
mod snapshot;
mod store;
mod superblock;
#[cfg(test)]
mod tests;

pub use error::{IoError, OpenError, OpenErrorKind, ReplayError, StoreError};
pub use log::StopReason;
pub use store::{Info, ReplayReport, Store};
pub use superblock::{FORMAT_VERSION, Geometry, MIN_DISK_BYTES, RESERVED_BYTES, SUPERBLOCK_SECTORS};

/// Bytes per sector.
pub const SECTOR: usize = 512;

/// A disk of 512-byte sectors.
pub trait BlockDevice {
    /// Capacity in sectors.
    fn sector_count(&self) -> u64;
    /// Reads whole sectors starting at `sector` into `buf` (a multiple of 512 bytes).
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), IoError>;
    /// Writes whole sectors. The write may still be in flight when this returns (later reads see it);
    /// it is durable only once a later `flush` returns Ok.
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), IoError>;
    /// Waits for every write issued so far and makes it durable.
    fn flush(&mut self) -> Result<(), IoError>;
}

impl<T: BlockDevice + ?Sized> BlockDevice for &mut T {
    fn sector_count(&self) -> u64 {
        (**self).sector_count()
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), IoError> {
        (**self).read(sector, buf)
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), IoError> {
        (**self).write(sector, buf)
    }
    fn flush(&mut self) -> Result<(), IoError> {
        (**self).flush()
    }
}
