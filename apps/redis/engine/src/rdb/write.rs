//! RDB files written as a point-in-time snapshot, in steps between event
//! loop turns (BGSAVE/SAVE/AOF rewrite without fork).
//!
//! # How the instant is kept
//!
//! [`Server::snapshot_begin`] gives every database a `DbCow`: the
//! database's index at that instant, and a bitmap with one bit per slab
//! slot then in use ("done"). The job walks each database's slab by slot
//! index, writing every key whose bit is clear and marking it. Copy-on-write
//! works at key granularity, through the hooks in [`crate::db::Db`]'s
//! mutating methods (the keyspace map is private to `Db`, so nothing else
//! can change it):
//!
//! - before a key whose bit is clear changes in any way (value, TTL,
//!   overwrite, rename, move, expiry, eviction, deletion), its current
//!   record is serialized into the database's pending output and its bit set;
//! - a key created meanwhile gets its bit set at once: it did not exist at
//!   the instant, and neither does a key that reuses a freed slot;
//! - slots beyond those in use at the instant are all "done".
//!
//! So a clear bit means the slot still holds what it held at the instant.
//! Keys already logically expired at the instant are not written.
//!
//! The state lives in the databases, so SWAPDB carries it along with the
//! data; records are written under the database index of the instant.
//! Clearing a database (FLUSHDB, FLUSHALL) aborts the job, as Redis kills
//! its child, and so does an allocation failure for pending output.
//!
//! Each step first emits pending copy-on-write output, then continues the
//! walk; the output is a stream in which SELECTDB is repeated whenever the
//! database changes (Redis's loader accepts that). A step stops once about
//! `max_bytes` were written: a single key is written whole, so a step may
//! go past that by one key's record.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use super::object::{put_body, type_code};
use super::*;
use crate::Time;
use crate::db::Entry;
use crate::server::Server;

/// What [`Server::snapshot_step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStep {
    /// More bytes are to come: call again.
    More,
    /// The file is complete (the EOF marker and CRC64 trailer were written).
    Done,
    /// No snapshot (anymore): it was aborted (FLUSHALL/FLUSHDB,
    /// [`Server::snapshot_abort`], out of memory), or none was begun. The
    /// bytes written so far are not a valid file.
    Aborted,
}

/// [`Server::snapshot_begin`] while a snapshot is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotRunning;

impl fmt::Display for SnapshotRunning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a snapshot is already in progress")
    }
}

impl core::error::Error for SnapshotRunning {}

/// The version string written in the `redis-ver` AUX field.
pub const REDIS_VER: &str = "7.0.15";

/// Slots looked at per step at most (empty ones cost little, but a step
/// should stay short).
const MAX_SLOTS_PER_STEP: usize = 64 * 1024;

/// Pending output capacity kept once it was all emitted.
const PENDING_KEEP: usize = 64 * 1024;

/// One database's part of a running snapshot (see the module doc).
pub(crate) struct DbCow {
    /// The database's index at the instant: its records go under it.
    pub(crate) db: usize,
    instant_ms: u64,
    /// Slots in use at the instant; bit set = written or not to be written.
    slots: usize,
    done: Vec<u64>,
    /// Keys and keys with a TTL at the instant (the RESIZEDB hint).
    keys: usize,
    expires: usize,
    /// Copy-on-write records not emitted yet, from `pending_pos` on.
    pending: Vec<u8>,
    pending_pos: usize,
    pub(crate) aborted: bool,
}

/// Whether a key is part of a snapshot taken at `instant_ms`.
fn alive(e: &Entry, instant_ms: u64) -> bool {
    e.expire_at.is_none_or(|t| t > instant_ms)
}

/// A key's record: its TTL, type, name and value.
fn put_record(out: &mut impl Sink, key: &[u8], e: &Entry) {
    if let Some(t) = e.expire_at {
        out.put(&[OP_EXPIRETIME_MS]);
        out.put(&t.to_le_bytes());
    }
    out.put(&[type_code(&e.value)]);
    put_str(out, key);
    put_body(out, &e.value);
}

impl DbCow {
    fn new(db: usize, instant_ms: u64, slots: usize, keys: usize, expires: usize) -> DbCow {
        DbCow {
            db,
            instant_ms,
            slots,
            done: vec![0; slots.div_ceil(64)],
            keys,
            expires,
            pending: Vec::new(),
            pending_pos: 0,
            aborted: false,
        }
    }

    fn is_done(&self, slot: u32) -> bool {
        let i = slot as usize;
        i >= self.slots || self.done[i / 64] & (1 << (i % 64)) != 0
    }

    fn mark(&mut self, slot: u32) {
        let i = slot as usize;
        if i < self.slots {
            self.done[i / 64] |= 1 << (i % 64);
        }
    }

    /// The key in `slot` (`entry`, if any) is about to change or go: keep
    /// its instant's record if the walk has not written it yet.
    pub(crate) fn before_change(&mut self, slot: u32, entry: Option<(&[u8], &Entry)>) {
        if self.aborted || self.is_done(slot) {
            return;
        }
        self.mark(slot);
        if let Some((key, e)) = entry
            && alive(e, self.instant_ms)
        {
            let mut n = 0usize;
            put_record(&mut n, key, e);
            if self.pending.try_reserve(n).is_err() {
                self.abort();
                return;
            }
            put_record(&mut self.pending, key, e);
        }
    }

    /// A new key was put in `slot`: it is not part of the snapshot.
    pub(crate) fn created(&mut self, slot: u32) {
        if !self.aborted {
            self.mark(slot);
        }
    }

    /// Ends this database's part (its memory is freed).
    pub(crate) fn abort(&mut self) {
        self.aborted = true;
        self.done = Vec::new();
        self.pending = Vec::new();
        self.pending_pos = 0;
    }

    fn pending_len(&self) -> usize {
        self.pending.len() - self.pending_pos
    }

    /// Moves up to `room` (at least 1) pending bytes to `out`; true when
    /// none are left.
    fn drain(&mut self, out: &mut Vec<u8>, room: usize) -> bool {
        let n = self.pending_len().min(room.max(1));
        out.extend_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
        self.pending_pos += n;
        if self.pending_pos < self.pending.len() {
            return false;
        }
        self.pending.clear();
        self.pending_pos = 0;
        if self.pending.capacity() > PENDING_KEEP {
            self.pending = Vec::new();
        }
        true
    }
}

/// The running snapshot's progress (the per-database state is in each
/// database's [`DbCow`]).
pub(crate) struct Job {
    instant: Time,
    used_mem: usize,
    header_done: bool,
    /// The walk: database (index at the instant) and slot.
    walk_db: usize,
    walk_slot: usize,
    /// The database (index at the instant) of the last SELECTDB written.
    selected: Option<usize>,
    /// Databases whose RESIZEDB was written.
    resized: Vec<bool>,
    /// A database whose pending output was partly emitted: it goes on first.
    draining: Option<usize>,
    /// CRC64 of everything emitted so far.
    crc: u64,
}

impl Job {
    fn header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"REDIS0010");
        let ctime = crate::util::i64_bytes((self.instant.unix_ms / 1000) as i64);
        let used = crate::util::i64_bytes(self.used_mem as i64);
        let aux: [(&[u8], &[u8]); 5] = [
            (b"redis-ver", REDIS_VER.as_bytes()),
            (b"redis-bits", b"64"),
            (b"ctime", &ctime),
            (b"used-mem", &used),
            (b"aof-base", b"0"),
        ];
        for (name, value) in aux {
            out.push(OP_AUX);
            put_str(out, name);
            put_str(out, value);
        }
    }

    /// Makes the records that follow belong to `cow`'s database.
    fn select(&mut self, out: &mut Vec<u8>, cow: &DbCow) {
        if self.selected == Some(cow.db) {
            return;
        }
        out.push(OP_SELECTDB);
        put_len(out, cow.db);
        if let Some(r) = self.resized.get_mut(cow.db)
            && !*r
        {
            *r = true;
            out.push(OP_RESIZEDB);
            put_len(out, cow.keys);
            put_len(out, cow.expires);
        }
        self.selected = Some(cow.db);
    }
}

impl Server {
    /// Starts a point-in-time snapshot (BGSAVE/SAVE/AOF rewrite): the file
    /// [`snapshot_step`](Self::snapshot_step) then writes holds the dataset
    /// exactly as it is now. Err if one is running.
    pub fn snapshot_begin(&mut self, now: Time) -> Result<(), SnapshotRunning> {
        if self.snapshot_running() {
            return Err(SnapshotRunning);
        }
        self.end_snapshot();
        self.set_now(now);
        for (i, d) in self.dbs.iter_mut().enumerate() {
            let cow = DbCow::new(i, now.unix_ms, d.map().slot_count(), d.len(), d.expires_count());
            d.set_cow(Some(Box::new(cow)));
        }
        self.snapshot = Some(Box::new(Job {
            instant: now,
            used_mem: self.used_memory(),
            header_done: false,
            walk_db: 0,
            walk_slot: 0,
            selected: None,
            resized: vec![false; self.dbs.len()],
            draining: None,
            crc: 0,
        }));
        Ok(())
    }

    /// Whether a snapshot is running (begun, and neither finished nor
    /// aborted).
    pub fn snapshot_running(&self) -> bool {
        self.snapshot.is_some() && self.dbs.iter().all(|d| d.cow().is_some_and(|c| !c.aborted))
    }

    /// Abandons the running snapshot, if any.
    pub fn snapshot_abort(&mut self) {
        self.end_snapshot();
    }

    /// Bytes of copy-on-write output waiting for the next step (what the
    /// snapshot holds in memory besides its bitmaps).
    pub fn snapshot_pending(&self) -> usize {
        self.dbs.iter().filter_map(|d| d.cow()).map(DbCow::pending_len).sum()
    }

    fn end_snapshot(&mut self) {
        self.snapshot = None;
        for d in self.dbs.iter_mut() {
            d.set_cow(None);
        }
    }

    /// The position in `dbs` of the database that was `db` at the instant.
    fn snapshot_db(&self, db: usize) -> Option<usize> {
        self.dbs.iter().position(|d| d.cow().is_some_and(|c| c.db == db))
    }

    /// Appends the snapshot's next bytes (up to about `max_bytes`, at least
    /// some progress) to `out`. The first call writes the header, the last
    /// the EOF + CRC64 trailer and returns [`SnapshotStep::Done`].
    pub fn snapshot_step(&mut self, out: &mut Vec<u8>, max_bytes: usize) -> SnapshotStep {
        if !self.snapshot_running() {
            self.end_snapshot();
            return SnapshotStep::Aborted;
        }
        let Some(mut job) = self.snapshot.take() else { return SnapshotStep::Aborted };
        let start = out.len();
        let limit = start.saturating_add(max_bytes.max(1));
        if !job.header_done {
            job.header(out);
            job.header_done = true;
        }
        // Copy-on-write output first, so it never piles up.
        while out.len() < limit {
            let next = match job.draining {
                Some(db) => self.snapshot_db(db),
                None => self.dbs.iter().position(|d| d.cow().is_some_and(|c| c.pending_len() > 0)),
            };
            let Some(i) = next else { break };
            let Some(cow) = self.dbs[i].cow_parts().1 else { break };
            job.select(out, cow);
            let room = limit.saturating_sub(out.len());
            job.draining = if cow.drain(out, room) { None } else { Some(cow.db) };
        }
        let pending = job.draining.is_some() || self.snapshot_pending() > 0;
        let mut visited = 0;
        while !pending && out.len() < limit && visited < MAX_SLOTS_PER_STEP {
            if job.walk_db >= self.dbs.len() {
                out.push(OP_EOF);
                let crc = crc64_update(job.crc, &out[start..]);
                out.extend_from_slice(&crc.to_le_bytes());
                self.end_snapshot();
                return SnapshotStep::Done;
            }
            let Some(i) = self.snapshot_db(job.walk_db) else {
                self.end_snapshot();
                return SnapshotStep::Aborted;
            };
            let (map, Some(cow)) = self.dbs[i].cow_parts() else { break };
            if job.walk_slot >= cow.slots {
                job.walk_db += 1;
                job.walk_slot = 0;
                continue;
            }
            let slot = job.walk_slot as u32;
            job.walk_slot += 1;
            visited += 1;
            if cow.is_done(slot) {
                continue;
            }
            cow.mark(slot);
            if let Some((key, e)) = map.at(slot)
                && alive(e, cow.instant_ms)
            {
                job.select(out, cow);
                put_record(out, key, e);
            }
        }
        job.crc = crc64_update(job.crc, &out[start..]);
        self.snapshot = Some(job);
        SnapshotStep::More
    }
}
