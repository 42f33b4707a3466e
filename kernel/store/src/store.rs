//! [`Store`]: formatting, opening, the log and snapshot operations.

use alloc::vec;
use alloc::vec::Vec;

use crate::detect::{self, BLANK_BYTES, Foreign, PROBE_BYTES};
use crate::log::{Cursor, Log, Reader, Ring, Step, StopReason};
use crate::snapshot::{self, CHUNK, SnapshotWriter};
use crate::superblock::{Decoded, Geometry, LogPoint, RESERVED_BYTES, SUPERBLOCK_SECTORS, Superblock};
use crate::{BlockDevice, IoError, OpenError, OpenErrorKind, ReplayError, SECTOR, StoreError};

const S: u64 = SECTOR as u64;

/// A snapshot of the store's state, for INFO-style reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub format_version: u32,
    /// Generation of the newest superblock.
    pub generation: u64,
    pub disk_id: u64,
    pub created_unix_ms: u64,
    /// The device's size now (the geometry records the size at format).
    pub sector_count: u64,
    pub geometry: Geometry,
    pub active_slot: u8,
    pub snapshot_len: u64,
    pub snapshot_crc: u32,
    /// Bytes a snapshot slot holds.
    pub snapshot_capacity: u64,
    /// The log chain's bytes since the active snapshot, written and buffered.
    pub log_bytes: u64,
    pub log_capacity: u64,
    /// Bytes of records appended but not yet written.
    pub buffered_bytes: usize,
    /// Epoch the next record is written in (before the marker after `open`).
    pub epoch: u64,
    /// Highest epoch reserved in the superblock.
    pub reserved_epoch: u64,
    /// Sequence number of the next record.
    pub next_seq: u64,
    pub snapshot_in_progress: bool,
}

/// What [`Store::replay`] went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// Data records passed to the callback.
    pub records: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Epoch markers followed.
    pub markers: u64,
    /// What ended the chain.
    pub stop: StopReason,
}

/// The data disk: a snapshot and the log of records after it.
pub struct Store<D: BlockDevice> {
    dev: D,
    /// The newest durable superblock.
    sb: Superblock,
    /// The copy (0 or 1) holding it.
    sb_copy: usize,
    /// A superblock write failed: the other copy may hold a newer superblock
    /// naming the inactive snapshot slot, so that slot must not be
    /// overwritten before a superblock write succeeds.
    stray: bool,
    log: Log,
    snap: Option<SnapshotWriter>,
    bounce: Vec<u8>,
}

/// Disk ids `format` must not reuse: those of the superblocks already there.
fn old_disk_ids(head: &[u8]) -> [Option<u64>; 2] {
    SUPERBLOCK_SECTORS.map(|s| {
        let b = &head[s as usize * SECTOR..][..SECTOR];
        (b[..8] == crate::superblock::MAGIC).then(|| u64::from_le_bytes(b[24..32].try_into().unwrap()))
    })
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn oom<T>(_: T) -> StoreError {
    StoreError::OutOfMemory
}

impl<D: BlockDevice> Store<D> {
    /// Writes a fresh empty layout (both superblocks; empty snapshot; empty log), destroying what was there.
    /// `now_unix_ms` is recorded as the creation time. Chooses the geometry from the size (see below).
    ///
    /// The disk id is derived from the time and size; see [`Store::format_with_id`].
    pub fn format(dev: D, now_unix_ms: u64) -> Result<Store<D>, StoreError> {
        let sectors = dev.sector_count();
        Self::format_with_id(dev, now_unix_ms, mix(now_unix_ms ^ mix(sectors)))
    }

    /// [`Store::format`] with a chosen disk id (say, from a random source).
    /// An id equal to the previous format's (or zero) is replaced by another,
    /// so that records of the previous format can never be taken for ours.
    pub fn format_with_id(mut dev: D, now_unix_ms: u64, disk_id: u64) -> Result<Store<D>, StoreError> {
        let sectors = dev.sector_count();
        let geometry = Geometry::for_sectors(sectors).ok_or(StoreError::TooSmall { sectors })?;
        let mut head = Vec::new();
        head.try_reserve_exact(RESERVED_BYTES as usize).map_err(oom)?;
        head.resize(RESERVED_BYTES as usize, 0);
        let probe = (SUPERBLOCK_SECTORS[1] as usize + 1) * SECTOR;
        dev.read(0, &mut head[..probe])?;
        let old = old_disk_ids(&head);
        let mut disk_id = disk_id;
        while disk_id == 0 || old.contains(&Some(disk_id)) {
            disk_id = mix(disk_id.wrapping_add(0x9E37_79B9_7F4A_7C15));
        }
        head.fill(0);
        let sb = Superblock {
            generation: 1,
            disk_id,
            created_unix_ms: now_unix_ms,
            geometry,
            active_slot: 0,
            snapshot_len: 0,
            snapshot_crc: crate::crc::crc32c(&[]),
            log_start: LogPoint { pos: 0, seq: 0, epoch: 1 },
            reserved_epoch: 1,
        };
        for s in SUPERBLOCK_SECTORS {
            head[s as usize * SECTOR..][..SECTOR].copy_from_slice(&sb.encode());
        }
        dev.write(0, &head)?;
        dev.flush()?;
        let log = Log {
            ring: Ring { first_sector: geometry.log_start, bytes: geometry.log_ring_bytes() },
            disk_id,
            chain_start: 0,
            written: 0,
            end: 0,
            pending: Vec::new(),
            seq: 0,
            epoch: 1,
            marker_to: None,
            unflushed: false,
        };
        Ok(Store { dev, sb, sb_copy: 0, stray: false, log, snap: None, bounce: Vec::new() })
    }

    /// Opens a disk formatted by `format`. Picks the newest valid superblock, scans the log chain to its end,
    /// then reserves a fresh log epoch (one superblock write + flush) so that records written from now on can
    /// never be confused with stale records left on the disk from earlier boots.
    /// A disk that is not ours, or is corrupt, is refused with an error whose Display says what was found;
    /// it is never written to.
    pub fn open(mut dev: D) -> Result<Store<D>, OpenError<D>> {
        let (sb, sb_copy, log) = match Self::load(&mut dev) {
            Ok(parts) => parts,
            Err(kind) => return Err(OpenError { kind, device: dev }),
        };
        let mut store = Store { dev, sb, sb_copy, stray: false, log, snap: None, bounce: Vec::new() };
        let mut next = store.sb;
        next.reserved_epoch += 1;
        match store.write_superblock(next) {
            Ok(()) => {
                store.log.marker_to = Some(next.reserved_epoch);
                Ok(store)
            }
            Err(e) => {
                let kind = match e {
                    StoreError::Io(e) => OpenErrorKind::Io(e),
                    _ => OpenErrorKind::OutOfMemory,
                };
                Err(OpenError { kind, device: store.dev })
            }
        }
    }

    /// Reads the superblocks and scans the chain; writes nothing.
    fn load(dev: &mut D) -> Result<(Superblock, usize, Log), OpenErrorKind> {
        let sectors = dev.sector_count();
        if sectors.saturating_mul(S) < crate::MIN_DISK_BYTES {
            return Err(OpenErrorKind::TooSmall { sectors });
        }
        let mut head = vec![0u8; (SUPERBLOCK_SECTORS[1] as usize + 1) * SECTOR];
        dev.read(0, &mut head).map_err(OpenErrorKind::Io)?;
        let copies = SUPERBLOCK_SECTORS.map(|s| Superblock::decode(&head[s as usize * SECTOR..][..SECTOR]));
        let mut best: Option<(Superblock, usize)> = None;
        for (i, c) in copies.iter().enumerate() {
            match (c, best) {
                (Decoded::Valid(sb), Some((b, _))) if sb.generation <= b.generation => {}
                (Decoded::Valid(sb), _) => best = Some((*sb, i)),
                _ => {}
            }
        }
        let Some((sb, sb_copy)) = best else { return Err(Self::diagnose(dev, &copies)) };
        if sb.geometry.sector_count > sectors {
            return Err(OpenErrorKind::Shrunk { formatted: sb.geometry.sector_count, now: sectors });
        }
        let geo = sb.geometry;
        let ring = Ring { first_sector: geo.log_start, bytes: geo.log_ring_bytes() };
        let capacity = ring.bytes - S;
        let mut reader = Reader::new(ring);
        let mut cur = Cursor::new(sb.log_start, capacity, sb.reserved_epoch, sb.disk_id);
        let err = |e| match e {
            StoreError::Io(e) => OpenErrorKind::Io(e),
            _ => OpenErrorKind::OutOfMemory,
        };
        while let Step::Data | Step::Marker = cur.next(dev, &mut reader, None).map_err(err)? {}
        // The bytes of the last, partly filled sector, to rewrite unchanged.
        let base = cur.pos / S * S;
        let mut pending = Vec::new();
        reader.visit(dev, base, cur.pos - base, |b| pending.extend_from_slice(b)).map_err(err)?;
        let log = Log {
            ring,
            disk_id: sb.disk_id,
            chain_start: sb.log_start.pos,
            written: cur.pos,
            end: cur.pos,
            pending,
            seq: cur.seq,
            epoch: cur.epoch,
            marker_to: None,
            unflushed: false,
        };
        Ok((sb, sb_copy, log))
    }

    /// Names what a disk without a valid superblock holds.
    fn diagnose(dev: &mut D, copies: &[Decoded; 2]) -> OpenErrorKind {
        if let Some(v) = copies.iter().find_map(|c| if let Decoded::Version(v) = c { Some(*v) } else { None }) {
            return OpenErrorKind::UnsupportedVersion(v);
        }
        if let Some(what) = copies.iter().find_map(|c| if let Decoded::BadFields(w) = c { Some(*w) } else { None }) {
            return OpenErrorKind::BadSuperblock(what);
        }
        if copies.contains(&Decoded::BadChecksum) {
            return OpenErrorKind::BothSuperblocksCorrupt;
        }
        let len = (PROBE_BYTES as u64).min(dev.sector_count() * S) as usize;
        let mut probe = vec![0u8; len];
        if let Err(e) = dev.read(0, &mut probe) {
            return OpenErrorKind::Io(e);
        }
        match detect::identify(&probe) {
            Foreign::Zeros => match Self::is_blank(dev) {
                Ok(true) => OpenErrorKind::Blank,
                Ok(false) => OpenErrorKind::UnknownData,
                Err(e) => OpenErrorKind::Io(e),
            },
            Foreign::PartitionTable(t) => OpenErrorKind::PartitionTable(t),
            Foreign::Filesystem(f) => OpenErrorKind::Filesystem(f),
            Foreign::Unknown => OpenErrorKind::UnknownData,
        }
    }

    /// Whether the first 1 MiB (or the whole disk if smaller) is all zeros: a blank disk the app may format
    /// without asking.
    pub fn is_blank(dev: &mut D) -> Result<bool, IoError> {
        let total = BLANK_BYTES.min(dev.sector_count() * S);
        let mut buf = vec![0u8; CHUNK];
        let mut pos = 0;
        while pos < total {
            let n = (total - pos).min(CHUNK as u64) as usize;
            dev.read(pos / S, &mut buf[..n])?;
            if buf[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            pos += n as u64;
        }
        Ok(true)
    }

    /// Writes `next` (with the next generation) to the copy that does not hold
    /// the newest superblock, and flushes.
    fn write_superblock(&mut self, mut next: Superblock) -> Result<(), StoreError> {
        next.generation = self.sb.generation + 1;
        let copy = 1 - self.sb_copy;
        let res = self.dev.write(SUPERBLOCK_SECTORS[copy], &next.encode()).and_then(|()| self.dev.flush());
        match res {
            Ok(()) => {
                self.sb = next;
                self.sb_copy = copy;
                self.stray = false;
                self.log.unflushed = false;
                Ok(())
            }
            Err(e) => {
                self.stray = true;
                Err(e.into())
            }
        }
    }

    fn flush(&mut self) -> Result<(), IoError> {
        self.dev.flush()?;
        self.log.unflushed = false;
        Ok(())
    }

    pub fn info(&self) -> Info {
        let geometry = self.sb.geometry;
        Info {
            format_version: crate::FORMAT_VERSION,
            generation: self.sb.generation,
            disk_id: self.sb.disk_id,
            created_unix_ms: self.sb.created_unix_ms,
            sector_count: self.dev.sector_count(),
            geometry,
            active_slot: self.sb.active_slot,
            snapshot_len: self.sb.snapshot_len,
            snapshot_crc: self.sb.snapshot_crc,
            snapshot_capacity: geometry.slot_bytes(),
            log_bytes: self.log_bytes(),
            log_capacity: self.log_capacity(),
            buffered_bytes: self.buffered_bytes(),
            epoch: self.log.epoch,
            reserved_epoch: self.sb.reserved_epoch,
            next_seq: self.log.seq,
            snapshot_in_progress: self.snapshot_in_progress(),
        }
    }

    pub fn device(&mut self) -> &mut D {
        &mut self.dev
    }

    pub fn into_device(self) -> D {
        self.dev
    }

    /// Length of the active snapshot.
    pub fn snapshot_len(&self) -> u64 {
        self.sb.snapshot_len
    }

    /// Reads up to buf.len() bytes of the active snapshot at `offset`; returns bytes read (0 at the end).
    /// The bytes are not checked here: see [`Store::verify_snapshot`].
    pub fn read_snapshot(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError> {
        let len = self.sb.snapshot_len;
        if offset >= len {
            return Ok(0);
        }
        let n = buf.len().min((len - offset).min(usize::MAX as u64) as usize);
        let first = self.sb.geometry.slot_start[self.sb.active_slot as usize];
        snapshot::read(&mut self.dev, first, offset, &mut buf[..n], &mut self.bounce)?;
        Ok(n)
    }

    /// Reads the whole active snapshot and checks it against the checksum recorded in the superblock.
    pub fn verify_snapshot(&mut self) -> Result<(), StoreError> {
        let slot = self.sb.active_slot;
        let first = self.sb.geometry.slot_start[slot as usize];
        let found = snapshot::checksum(&mut self.dev, first, self.sb.snapshot_len, &mut self.bounce)?;
        if found != self.sb.snapshot_crc {
            return Err(StoreError::SnapshotCorrupt {
                slot,
                len: self.sb.snapshot_len,
                expected: self.sb.snapshot_crc,
                found,
            });
        }
        Ok(())
    }

    /// Calls `f` with each record of the chain that starts at the active snapshot, in order; stops at the
    /// first torn, stale or corrupt record (this is not an error: it is the end of the log). If `f` returns
    /// Err, stops and returns it.
    ///
    /// It reads what is on the disk: records appended but not yet committed are not included. Call it
    /// right after `open`.
    pub fn replay<E>(&mut self, mut f: impl FnMut(&[u8]) -> Result<(), E>) -> Result<ReplayReport, ReplayError<E>> {
        let start = LogPoint { pos: self.log.chain_start, ..self.sb.log_start };
        let mut cur = Cursor::new(start, self.log.capacity(), self.sb.reserved_epoch, self.sb.disk_id);
        let mut reader = Reader::new(self.log.ring);
        let mut payload = Vec::new();
        let mut report = ReplayReport { records: 0, bytes: 0, markers: 0, stop: StopReason::NoRecord };
        loop {
            match cur.next(&mut self.dev, &mut reader, Some(&mut payload))? {
                Step::Data => {
                    report.records += 1;
                    report.bytes += payload.len() as u64;
                    f(&payload).map_err(ReplayError::App)?;
                }
                Step::Marker => report.markers += 1,
                Step::Stop(why) => {
                    report.stop = why;
                    return Ok(report);
                }
            }
        }
    }

    /// Buffers a record in memory; Err(StoreError::LogFull) if the chain (from the active snapshot's log
    /// start, including buffered records) would exceed the log region. A record takes 40 bytes more than
    /// its payload (see [`Store::log_capacity`]); one longer than the capacity never fits.
    pub fn append(&mut self, payload: &[u8]) -> Result<(), StoreError> {
        self.log.append(payload)
    }

    /// Writes every buffered record to the disk; with `durable`, then flushes (a group commit: callers
    /// acknowledge the writes only after this returns Ok). On Err the records stay buffered/unacknowledged
    /// and later calls may retry.
    pub fn commit(&mut self, durable: bool) -> Result<(), StoreError> {
        self.log.write_pending(&mut self.dev)?;
        if durable && self.log.unflushed {
            self.flush()?;
        }
        Ok(())
    }

    /// Bytes of records appended but not yet written.
    pub fn buffered_bytes(&self) -> usize {
        self.log.buffered()
    }

    /// The chain's bytes since the active snapshot (written + buffered).
    pub fn log_bytes(&self) -> u64 {
        self.log.chain_bytes()
    }

    /// The most `log_bytes` may reach: the log ring less one sector. Each
    /// record takes 40 header bytes and its payload; the first after `open`
    /// also brings a 48-byte epoch marker.
    pub fn log_capacity(&self) -> u64 {
        self.log.capacity()
    }

    /// Starts writing a new snapshot into the inactive slot.
    ///
    /// The snapshot being written represents the dataset exactly as after every record appended so far
    /// (committed or buffered). When it finishes, the superblock flips to it and the log chain then starts
    /// at that point: records appended before begin_snapshot are no longer replayed, those appended after it
    /// are.
    ///
    /// `new_chain`: records appended from now on start a NEW chain (fresh epoch, reserved through a superblock
    /// write) that the current superblock does not reach: recovery before finish_snapshot replays the old
    /// snapshot + old chain only. (Used when logging is switched on after writes that were not logged.)
    /// If such a snapshot is aborted, the records of the new chain stay unreachable until a later snapshot
    /// finishes.
    pub fn begin_snapshot(&mut self, new_chain: bool) -> Result<(), StoreError> {
        if self.snap.is_some() {
            return Err(StoreError::SnapshotInProgress);
        }
        let slot = 1 - self.sb.active_slot;
        let mut writer = SnapshotWriter::new(slot, self.log.point())?;
        if new_chain || self.stray {
            let mut next = self.sb;
            if new_chain {
                next.reserved_epoch += 1;
            }
            self.write_superblock(next)?;
        }
        if new_chain {
            self.log.marker_to = None;
            self.log.epoch = self.sb.reserved_epoch;
            writer.begin.epoch = self.log.epoch;
        }
        self.snap = Some(writer);
        Ok(())
    }

    /// Appends bytes to the snapshot being written. Any error abandons the
    /// snapshot (as [`Store::abort_snapshot`]); StoreError::SnapshotFull past
    /// the slot's capacity.
    pub fn write_snapshot(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let Some(w) = self.snap.as_mut() else { return Err(StoreError::NoSnapshotInProgress) };
        let res = w.write(&mut self.dev, &self.sb.geometry, bytes);
        if res.is_err() {
            self.snap = None;
        }
        res
    }

    /// Flushes the slot, writes the next superblock (generation+1) naming it (length, CRC32C of the bytes,
    /// log start), flushes. Any error abandons the snapshot; the active one stays what it was, unless the
    /// error came after the superblock write was issued, in which case the next `open` may find either.
    pub fn finish_snapshot(&mut self) -> Result<(), StoreError> {
        let Some(mut w) = self.snap.take() else { return Err(StoreError::NoSnapshotInProgress) };
        let geo = self.sb.geometry;
        w.write_rest(&mut self.dev, &geo)?;
        self.flush()?;
        let next = Superblock {
            active_slot: w.slot,
            snapshot_len: w.len,
            snapshot_crc: w.crc.finish(),
            log_start: LogPoint { pos: w.begin.pos % self.log.ring.bytes, ..w.begin },
            ..self.sb
        };
        self.write_superblock(next)?;
        self.log.move_start(w.begin.pos);
        Ok(())
    }

    /// Abandons the snapshot being written (if any); the active one stays.
    pub fn abort_snapshot(&mut self) {
        self.snap = None;
    }

    pub fn snapshot_in_progress(&self) -> bool {
        self.snap.is_some()
    }
}
