//! The log ring: record encoding, the in-memory tail (buffered records and
//! the partly filled last sector), group commit, and the chunked reader that
//! recovery and replay walk the chain with. The byte layout is documented in
//! the crate's top comment.

use alloc::vec::Vec;
use core::fmt;

use crate::crc::Crc32c;
use crate::superblock::LogPoint;
use crate::{BlockDevice, IoError, SECTOR, StoreError};

/// "ALOG": the first four bytes of every record.
pub const RECORD_MAGIC: [u8; 4] = *b"ALOG";
/// Bytes in a record header.
pub const HEADER_LEN: usize = 40;
/// Record type: a payload of the app.
pub const TYPE_DATA: u8 = 1;
/// Record type: an epoch marker; its 8-byte payload is the epoch of the records that follow.
pub const TYPE_MARKER: u8 = 2;
/// Bytes in an epoch marker record.
pub const MARKER_LEN: usize = HEADER_LEN + 8;
/// Bytes read at a time when walking the log.
pub const READ_CHUNK: usize = 64 << 10;

const S: u64 = SECTOR as u64;

fn floor_sector(pos: u64) -> u64 {
    pos / S * S
}

/// The record header for `payload`, checksum included.
pub fn header(kind: u8, disk_id: u64, epoch: u64, seq: u64, payload: &[u8]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&RECORD_MAGIC);
    h[4] = kind;
    h[8..12].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    h[16..24].copy_from_slice(&disk_id.to_le_bytes());
    h[24..32].copy_from_slice(&epoch.to_le_bytes());
    h[32..40].copy_from_slice(&seq.to_le_bytes());
    let mut crc = Crc32c::new();
    crc.update(&h);
    crc.update(payload);
    h[12..16].copy_from_slice(&crc.finish().to_le_bytes());
    h
}

/// Where the log ring lies.
#[derive(Clone, Copy, Debug)]
pub struct Ring {
    pub first_sector: u64,
    pub bytes: u64,
}

impl Ring {
    /// Writes `data` (whole sectors) at linear position `pos` (sector aligned):
    /// one write, or two where it wraps.
    fn write<D: BlockDevice>(&self, dev: &mut D, pos: u64, data: &[u8]) -> Result<(), IoError> {
        debug_assert!(data.len() as u64 <= self.bytes, "a commit never laps the ring");
        let off = pos % self.bytes;
        let first = data.len().min((self.bytes - off) as usize);
        dev.write(self.first_sector + off / S, &data[..first])?;
        if first < data.len() {
            dev.write(self.first_sector, &data[first..])?;
        }
        Ok(())
    }
}

/// The writing end of the log.
///
/// Positions are linear byte counts that only grow; the ring offset of a
/// position is `pos % ring.bytes`. The chain runs from `chain_start` to `end`;
/// the disk holds it up to `written`; `pending` holds the bytes from the start
/// of `written`'s sector to `end` (the partly filled sector's earlier bytes,
/// then the buffered records).
pub struct Log {
    pub ring: Ring,
    pub disk_id: u64,
    pub chain_start: u64,
    pub written: u64,
    pub end: u64,
    pub pending: Vec<u8>,
    /// Sequence number of the next record.
    pub seq: u64,
    /// Epoch of the next record.
    pub epoch: u64,
    /// An epoch reserved at open: the next record is a marker leading to it.
    pub marker_to: Option<u64>,
    /// Log writes were issued since the last successful flush.
    pub unflushed: bool,
}

impl Log {
    /// The longest chain: the ring less one sector, so that the sector a
    /// commit writes last (padded past the end) never holds the chain's start.
    pub fn capacity(&self) -> u64 {
        self.ring.bytes - S
    }

    /// The chain's bytes, written and buffered.
    pub fn chain_bytes(&self) -> u64 {
        self.end - self.chain_start
    }

    /// Bytes of records not yet written to the disk.
    pub fn buffered(&self) -> usize {
        (self.end - self.written) as usize
    }

    /// Where a snapshot begun now would have its chain start.
    pub fn point(&self) -> LogPoint {
        LogPoint { pos: self.end, seq: self.seq, epoch: self.epoch }
    }

    pub fn append(&mut self, payload: &[u8]) -> Result<(), StoreError> {
        let marker = if self.marker_to.is_some() { MARKER_LEN } else { 0 };
        let need = (HEADER_LEN + marker) as u64 + payload.len() as u64;
        if payload.len() > u32::MAX as usize || self.chain_bytes() + need > self.capacity() {
            return Err(StoreError::LogFull);
        }
        self.pending.try_reserve(need as usize).map_err(|_| StoreError::OutOfMemory)?;
        if let Some(next) = self.marker_to.take() {
            self.push(TYPE_MARKER, &next.to_le_bytes());
            self.epoch = next;
        }
        self.push(TYPE_DATA, payload);
        Ok(())
    }

    fn push(&mut self, kind: u8, payload: &[u8]) {
        let h = header(kind, self.disk_id, self.epoch, self.seq, payload);
        self.pending.extend_from_slice(&h);
        self.pending.extend_from_slice(payload);
        self.end += (HEADER_LEN + payload.len()) as u64;
        self.seq += 1;
    }

    /// Writes the buffered records: the sectors from the one holding
    /// `written` to the one holding `end`, the last padded with zeros. On
    /// error nothing moves, so a retry writes the same bytes again.
    pub fn write_pending<D: BlockDevice>(&mut self, dev: &mut D) -> Result<(), StoreError> {
        if self.end == self.written {
            return Ok(());
        }
        let base = floor_sector(self.written);
        let len = self.pending.len();
        debug_assert_eq!(len as u64, self.end - base);
        let padded = len.next_multiple_of(SECTOR);
        self.pending.try_reserve(padded - len).map_err(|_| StoreError::OutOfMemory)?;
        self.pending.resize(padded, 0);
        let res = self.ring.write(dev, base, &self.pending);
        self.pending.truncate(len);
        res?;
        self.unflushed = true;
        self.written = self.end;
        self.pending.drain(..(floor_sector(self.end) - base) as usize);
        Ok(())
    }

    /// Moves the chain's start forward (a snapshot finished). Buffered bytes
    /// of whole sectors before it are dropped unwritten: the snapshot holds
    /// their records.
    pub fn move_start(&mut self, start: u64) {
        debug_assert!(self.chain_start <= start && start <= self.end);
        self.chain_start = start;
        let base = floor_sector(self.written);
        let new_base = floor_sector(start);
        if new_base > base {
            self.pending.drain(..(new_base - base) as usize);
            self.written = new_base;
        }
    }
}

/// Reads the ring in `READ_CHUNK` pieces, keeping the last one.
pub struct Reader {
    ring: Ring,
    chunk: Vec<u8>,
    /// Ring offset of `chunk`, if it holds data.
    chunk_off: Option<u64>,
}

impl Reader {
    pub fn new(ring: Ring) -> Reader {
        Reader { ring, chunk: Vec::new(), chunk_off: None }
    }

    /// Calls `f` with the bytes at linear positions `pos..pos + len`, in pieces.
    pub fn visit<D: BlockDevice>(
        &mut self,
        dev: &mut D,
        pos: u64,
        len: u64,
        mut f: impl FnMut(&[u8]),
    ) -> Result<(), StoreError> {
        let mut done = 0;
        while done < len {
            let off = (pos + done) % self.ring.bytes;
            let chunk_off = off / READ_CHUNK as u64 * READ_CHUNK as u64;
            if self.chunk_off != Some(chunk_off) {
                let n = (READ_CHUNK as u64).min(self.ring.bytes - chunk_off) as usize;
                if self.chunk.len() < n {
                    self.chunk.try_reserve(n - self.chunk.len()).map_err(|_| StoreError::OutOfMemory)?;
                }
                self.chunk.resize(n, 0);
                self.chunk_off = None;
                dev.read(self.ring.first_sector + chunk_off / S, &mut self.chunk)?;
                self.chunk_off = Some(chunk_off);
            }
            let at = (off - chunk_off) as usize;
            let take = (len - done).min((self.chunk.len() - at) as u64) as usize;
            f(&self.chunk[at..at + take]);
            done += take as u64;
        }
        Ok(())
    }
}

/// Why a walk of the log stopped: the end of the chain. None of these is an
/// error; they say what lies where the next record would have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// No record header there: space never written, or overwritten by other data.
    NoRecord,
    /// A record header of an earlier boot or an earlier lap of the ring: not
    /// the expected epoch and sequence number.
    Stale { epoch: u64, seq: u64 },
    /// A record left by an earlier format of this disk (another disk id).
    OtherDisk,
    /// The expected record is incomplete or fails its checksum: a write that
    /// did not finish before the power went.
    Torn,
    /// An epoch marker leading to an epoch that is not newer than the current
    /// one, or not reserved by the superblock.
    BadMarker,
    /// The chain fills the log region.
    Full,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::NoRecord => f.write_str("no record follows"),
            StopReason::Stale { epoch, seq } => {
                write!(f, "a stale record follows (epoch {epoch}, sequence {seq}), left by an earlier boot or lap")
            }
            StopReason::OtherDisk => f.write_str("a record of an earlier format of the disk follows"),
            StopReason::Torn => f.write_str("a torn record follows (a write cut short by a crash)"),
            StopReason::BadMarker => f.write_str("an epoch marker to an unreserved epoch follows"),
            StopReason::Full => f.write_str("the chain fills the log region"),
        }
    }
}

/// What `Cursor::next` found.
pub enum Step {
    Data,
    Marker,
    Stop(StopReason),
}

/// Walks a chain, accepting only the record it expects next.
pub struct Cursor {
    pub pos: u64,
    pub seq: u64,
    pub epoch: u64,
    pub start: u64,
    pub capacity: u64,
    pub reserved_epoch: u64,
    pub disk_id: u64,
}

impl Cursor {
    pub fn new(start: LogPoint, capacity: u64, reserved_epoch: u64, disk_id: u64) -> Cursor {
        Cursor {
            pos: start.pos,
            seq: start.seq,
            epoch: start.epoch,
            start: start.pos,
            capacity,
            reserved_epoch,
            disk_id,
        }
    }

    /// Reads the record at the cursor and, if it is the expected one, moves
    /// past it. A data record's payload goes to `payload` if given.
    pub fn next<D: BlockDevice>(
        &mut self,
        dev: &mut D,
        reader: &mut Reader,
        mut payload: Option<&mut Vec<u8>>,
    ) -> Result<Step, StoreError> {
        let room = self.start + self.capacity - self.pos;
        if room < HEADER_LEN as u64 {
            return Ok(Step::Stop(StopReason::Full));
        }
        let mut h = [0u8; HEADER_LEN];
        let mut n = 0;
        reader.visit(dev, self.pos, HEADER_LEN as u64, |b| {
            h[n..n + b.len()].copy_from_slice(b);
            n += b.len();
        })?;
        let word = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().unwrap());
        if h[..4] != RECORD_MAGIC {
            return Ok(Step::Stop(StopReason::NoRecord));
        }
        if word(16) != self.disk_id {
            return Ok(Step::Stop(StopReason::OtherDisk));
        }
        let (epoch, seq) = (word(24), word(32));
        if epoch != self.epoch || seq != self.seq {
            return Ok(Step::Stop(StopReason::Stale { epoch, seq }));
        }
        let kind = h[4];
        let len = u32::from_le_bytes(h[8..12].try_into().unwrap()) as u64;
        let want_crc = u32::from_le_bytes(h[12..16].try_into().unwrap());
        let well_formed = h[5..8] == [0; 3]
            && (kind == TYPE_DATA || (kind == TYPE_MARKER && len == 8))
            && HEADER_LEN as u64 + len <= room;
        if !well_formed {
            return Ok(Step::Stop(StopReason::Torn));
        }
        h[12..16].fill(0);
        let mut crc = Crc32c::new();
        crc.update(&h);
        let mut marker = [0u8; 8];
        let mut m = 0;
        let keep = kind == TYPE_DATA && payload.is_some();
        if keep {
            let p = payload.as_deref_mut().unwrap();
            p.clear();
            p.try_reserve(len as usize).map_err(|_| StoreError::OutOfMemory)?;
        }
        reader.visit(dev, self.pos + HEADER_LEN as u64, len, |b| {
            crc.update(b);
            if kind == TYPE_MARKER {
                marker[m..m + b.len()].copy_from_slice(b);
                m += b.len();
            } else if keep {
                payload.as_deref_mut().unwrap().extend_from_slice(b);
            }
        })?;
        if crc.finish() != want_crc {
            return Ok(Step::Stop(StopReason::Torn));
        }
        let step = if kind == TYPE_MARKER {
            let next = u64::from_le_bytes(marker);
            if next <= self.epoch || next > self.reserved_epoch {
                return Ok(Step::Stop(StopReason::BadMarker));
            }
            self.epoch = next;
            Step::Marker
        } else {
            Step::Data
        };
        self.pos += HEADER_LEN as u64 + len;
        self.seq += 1;
        Ok(step)
    }
}
