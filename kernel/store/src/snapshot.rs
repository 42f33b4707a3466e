//! Snapshot slots: writing a new snapshot into the inactive slot in large
//! aligned writes, and reading or checking the active one.

use alloc::vec::Vec;

use crate::crc::Crc32c;
use crate::superblock::{Geometry, LogPoint};
use crate::{BlockDevice, IoError, SECTOR, StoreError};

/// Bytes per snapshot write (the last one may be shorter) and per read.
pub const CHUNK: usize = 64 << 10;

const S: u64 = SECTOR as u64;

/// A snapshot being written.
pub struct SnapshotWriter {
    pub slot: u8,
    /// Where the log chain that follows this snapshot starts.
    pub begin: LogPoint,
    /// Bytes taken so far.
    pub len: u64,
    pub crc: Crc32c,
    /// Bytes taken but not yet written; they start at `written`.
    buf: Vec<u8>,
    /// Bytes written to the slot (a multiple of `CHUNK`).
    written: u64,
}

impl SnapshotWriter {
    pub fn new(slot: u8, begin: LogPoint) -> Result<SnapshotWriter, StoreError> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(CHUNK).map_err(|_| StoreError::OutOfMemory)?;
        Ok(SnapshotWriter { slot, begin, len: 0, crc: Crc32c::new(), buf, written: 0 })
    }

    fn first_sector(&self, geo: &Geometry) -> u64 {
        geo.slot_start[self.slot as usize] + self.written / S
    }

    pub fn write<D: BlockDevice>(&mut self, dev: &mut D, geo: &Geometry, bytes: &[u8]) -> Result<(), StoreError> {
        if self.len + bytes.len() as u64 > geo.slot_bytes() {
            return Err(StoreError::SnapshotFull);
        }
        self.crc.update(bytes);
        self.len += bytes.len() as u64;
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.buf.is_empty() && rest.len() >= CHUNK {
                // Whole chunks straight from the caller's buffer.
                let n = rest.len() / CHUNK * CHUNK;
                dev.write(self.first_sector(geo), &rest[..n])?;
                self.written += n as u64;
                rest = &rest[n..];
                continue;
            }
            let take = (CHUNK - self.buf.len()).min(rest.len());
            self.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buf.len() == CHUNK {
                dev.write(self.first_sector(geo), &self.buf)?;
                self.written += CHUNK as u64;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// Writes what is still buffered, the last sector padded with zeros.
    pub fn write_rest<D: BlockDevice>(&mut self, dev: &mut D, geo: &Geometry) -> Result<(), IoError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = self.buf.len();
        self.buf.resize(len.next_multiple_of(SECTOR), 0);
        dev.write(self.first_sector(geo), &self.buf)?;
        self.written += len as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Reads `buf.len()` bytes at `offset` of a slot, through `bounce` for the
/// unaligned parts.
pub fn read<D: BlockDevice>(
    dev: &mut D,
    first_sector: u64,
    offset: u64,
    buf: &mut [u8],
    bounce: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let mut done = 0;
    while done < buf.len() {
        let pos = offset + done as u64;
        let want = buf.len() - done;
        if pos.is_multiple_of(S) && want >= SECTOR {
            // Aligned: straight into the caller's buffer.
            let n = want / SECTOR * SECTOR;
            dev.read(first_sector + pos / S, &mut buf[done..done + n])?;
            done += n;
            continue;
        }
        let base = pos / S * S;
        let skip = (pos - base) as usize;
        let n = (skip + want).next_multiple_of(SECTOR).min(CHUNK);
        if bounce.len() < n {
            bounce.try_reserve(n - bounce.len()).map_err(|_| StoreError::OutOfMemory)?;
            bounce.resize(n, 0);
        }
        dev.read(first_sector + base / S, &mut bounce[..n])?;
        let take = (n - skip).min(want);
        buf[done..done + take].copy_from_slice(&bounce[skip..skip + take]);
        done += take;
    }
    Ok(())
}

/// The CRC32C of the first `len` bytes of a slot, read in `CHUNK` pieces.
pub fn checksum<D: BlockDevice>(
    dev: &mut D,
    first_sector: u64,
    len: u64,
    bounce: &mut Vec<u8>,
) -> Result<u32, StoreError> {
    if bounce.len() < CHUNK {
        bounce.try_reserve(CHUNK - bounce.len()).map_err(|_| StoreError::OutOfMemory)?;
        bounce.resize(CHUNK, 0);
    }
    let mut crc = Crc32c::new();
    let mut pos = 0;
    while pos < len {
        let take = (len - pos).min(CHUNK as u64) as usize;
        let n = take.next_multiple_of(SECTOR);
        dev.read(first_sector + pos / S, &mut bounce[..n])?;
        crc.update(&bounce[..take]);
        pos += take as u64;
    }
    Ok(crc.finish())
}
