//! Persistence on a data disk, with Redis 7.0's semantics, over the
//! crash-safe layout of the `store` crate.
//!
//! What goes where:
//! - **Snapshots** are RDB files (version 10, what real Redis loads) in the
//!   store's snapshot slots: `SAVE`, `BGSAVE`, the `save` points,
//!   `SHUTDOWN`, `FLUSHALL` with save points, `DEBUG RELOAD`, and every AOF
//!   rewrite.
//! - **The log** holds, with `appendonly yes`, one record per event-loop
//!   turn with that turn's writes in AOF form ([`aof`]). A snapshot and the
//!   log records after it are the dataset; a finished snapshot drops the
//!   records it contains (that is `BGREWRITEAOF`).
//!
//! Durability (`appendfsync`): with `always` the app calls
//! [`Server::end_turn`] after feeding a turn's input and before writing any
//! reply, and it returns only once the turn's record is flushed to the disk
//! (one group commit per turn); with `everysec` the record is written every
//! turn and flushed once a second; with `no` it is written every turn and
//! flushed only with snapshots and at shutdown.
//!
//! `BGSAVE` without fork: the engine takes a point-in-time snapshot
//! incrementally (copy-on-write per key, see `crate::rdb`), written between
//! loop turns while clients are served. It holds the dataset exactly as
//! when it began, and the log records written meanwhile follow it.
//!
//! Errors: a turn's record that cannot be made durable under `always`
//! closes the connections whose writes it holds (they never see an OK), and
//! writes are refused with `-MISCONF` until the disk takes the record
//! (retried every tick), as are writes after a failed snapshot while save
//! points are set (`stop-writes-on-bgsave-error`). Reads go on.

pub mod aof;
mod storage;

pub use storage::Storage;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Time;
use crate::config::Fsync;
use crate::rdb::SnapshotStep;
use crate::server::Server;

/// Snapshot bytes written per loop turn while a background save runs.
const STEP_BYTES: usize = 256 * 1024;
/// Snapshot bytes written per step of a synchronous save.
const SYNC_STEP_BYTES: usize = 4 << 20;
/// Redis's `CONFIG_BGSAVE_RETRY_DELAY`: after a failed background save,
/// save points wait this long before trying again.
const BGSAVE_RETRY_MS: u64 = 5_000;
/// Log records replayed between two calls of the loading progress hook.
const LOAD_PROGRESS_RECORDS: u64 = 64;
/// A log fuller than this share of its region is compacted at once.
const LOG_FULL_PERCENT: u64 = 50;

/// Why a snapshot runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// SAVE, BGSAVE, a save point.
    Save,
    /// BGREWRITEAOF, an automatic rewrite, or switching the log on.
    Rewrite,
}

/// A snapshot being written.
struct Job {
    kind: JobKind,
    started_ms: u64,
    /// The dirty count when it began (what it saves).
    dirty_at_start: u64,
}

/// What INFO's persistence section reports.
#[derive(Debug, Clone, Default)]
pub struct PersistInfo {
    pub last_save_unix: u64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_secs: i64,
    pub saves: u64,
    pub aof_rewrites: u64,
    pub last_rewrite_ok: bool,
    pub last_rewrite_secs: i64,
    /// Snapshot size when the log last restarted.
    pub aof_base_size: u64,
    pub last_write_error: Option<String>,
    pub last_load: Option<LoadReport>,
}

/// What was loaded from the disk at attach time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub snapshot_bytes: u64,
    pub keys: u64,
    pub log: aof::ReplayStats,
    pub millis: u64,
}

/// The persistence state of a server with a disk.
pub struct Persistence {
    disk: Box<dyn Storage>,
    /// This turn's writes in AOF form, appended as one record at its end.
    turn: Vec<u8>,
    /// The database the log stream is in (`None`: the next command is
    /// preceded by a SELECT).
    turn_db: Option<usize>,
    /// Clients whose writes are in `turn` (closed if it cannot be made
    /// durable under `appendfsync always`).
    turn_writers: Vec<u64>,
    /// Whether writes are being logged (`appendonly` as in effect).
    logging: bool,
    /// Writes were made without logging since the last snapshot began.
    unlogged: bool,
    job: Option<Job>,
    /// A rewrite waits for the running job.
    rewrite_scheduled: bool,
    chunk: Vec<u8>,
    /// Snapshot bytes written per turn ([`STEP_BYTES`]; tests use less).
    step_bytes: usize,
    last_flush_ms: u64,
    last_bgsave_try_ms: u64,
    /// The log could not be written: writes are refused until it can.
    write_failing: bool,
    info: PersistInfo,
    /// Messages for the console, drained by the app.
    messages: Vec<String>,
}

impl Persistence {
    fn say(&mut self, message: String) {
        if self.messages.len() < 64 {
            self.messages.push(message);
        }
    }

    /// Appends one write to this turn's record.
    fn log(&mut self, db: usize, argv: &[&[u8]], writer: Option<u64>) {
        if self.turn_db != Some(db) {
            let n = crate::util::i64_bytes(db as i64);
            aof::encode(&mut self.turn, &[b"SELECT", &n]);
            self.turn_db = Some(db);
        }
        aof::encode(&mut self.turn, argv);
        if let Some(cid) = writer
            && self.turn_writers.last() != Some(&cid)
        {
            self.turn_writers.push(cid);
        }
    }

    /// Writes the buffered records, flushed with `durable`; a failure
    /// refuses writes until a later commit succeeds.
    fn commit(&mut self, durable: bool, now_ms: u64) -> bool {
        match self.disk.commit(durable) {
            Ok(()) => {
                if durable {
                    self.last_flush_ms = now_ms;
                }
                if self.write_failing && self.turn.is_empty() {
                    self.write_failing = false;
                    self.info.last_write_error = None;
                    self.say(String::from("the log is being written again"));
                }
                true
            }
            Err(e) => {
                self.fail_writes(format!("{e}"));
                false
            }
        }
    }

    fn fail_writes(&mut self, why: String) {
        if !self.write_failing {
            self.say(format!("cannot write the log to the disk ({why}): writes are refused until it can"));
        }
        self.write_failing = true;
        self.info.last_write_error = Some(why);
    }

    /// Moves this turn's record into the store's buffer. A full log keeps
    /// it here (the caller compacts the log, whose snapshot will hold it).
    fn hand_turn_to_store(&mut self) -> bool {
        if self.turn.is_empty() {
            return true;
        }
        match self.disk.append(&self.turn) {
            Ok(()) => {
                self.turn.clear();
                true
            }
            Err(e) => {
                self.say(format!("cannot log writes: {e}"));
                false
            }
        }
    }
}

impl Server {
    /// Attaches a data disk: loads its snapshot and replays its log into
    /// this (empty) server, then persists every change from now on.
    pub fn attach_storage(&mut self, disk: Box<dyn Storage>, now: Time) -> Result<LoadReport, String> {
        self.attach_storage_with_progress(disk, now, &mut || now)
    }

    /// [`attach_storage`](Self::attach_storage), calling `progress` often
    /// while loading (every 256 KiB of snapshot and every 64 log records),
    /// so the app can answer its clients meanwhile (`-LOADING`); it
    /// returns the current time.
    pub fn attach_storage_with_progress(
        &mut self,
        mut disk: Box<dyn Storage>,
        now: Time,
        progress: &mut dyn FnMut() -> Time,
    ) -> Result<LoadReport, String> {
        self.set_now(now);
        let mut report = LoadReport { snapshot_bytes: disk.snapshot_len(), ..LoadReport::default() };
        if report.snapshot_bytes > 0 {
            let mut source = storage::SnapshotSource::new(&mut *disk);
            source.progress = Some(progress);
            let stats = self.load_rdb_base(&mut source, now).map_err(|e| format!("the snapshot on the disk: {e}"))?;
            report.keys = stats.keys_loaded;
        }
        let mut replayer = aof::Replayer::new(now);
        let mut failure = None;
        let mut records = 0u64;
        disk.replay(&mut |record| {
            records += 1;
            if records.is_multiple_of(LOAD_PROGRESS_RECORDS) {
                progress();
            }
            match replayer.feed(self, record) {
                Ok(()) => Ok(()),
                Err(e) => {
                    failure = Some(e);
                    Err(())
                }
            }
        })
        .map_err(|e| format!("the log on the disk: {e}"))?;
        if let Some(e) = failure {
            return Err(format!("the log on the disk: {e}"));
        }
        report.log = replayer.finish();
        let end = progress();
        self.set_now(end);
        report.millis = end.mono_ms.saturating_sub(now.mono_ms);
        self.dirty_since_save = 0;
        let info = PersistInfo {
            last_save_unix: now.unix_ms / 1000,
            last_bgsave_ok: true,
            last_rewrite_ok: true,
            aof_base_size: disk.snapshot_len(),
            last_load: Some(report.clone()),
            ..PersistInfo::default()
        };
        self.persist = Some(Persistence {
            disk,
            turn: Vec::new(),
            turn_db: None,
            turn_writers: Vec::new(),
            logging: self.cfg.appendonly,
            unlogged: false,
            job: None,
            rewrite_scheduled: false,
            chunk: Vec::new(),
            step_bytes: STEP_BYTES,
            last_flush_ms: now.mono_ms,
            last_bgsave_try_ms: 0,
            write_failing: false,
            info,
            messages: Vec::new(),
        });
        Ok(report)
    }

    /// Sets how much of a background snapshot is written per turn.
    #[cfg(test)]
    pub(crate) fn set_snapshot_step(&mut self, bytes: usize) {
        if let Some(p) = self.persist.as_mut() {
            p.step_bytes = bytes;
        }
    }

    /// Console messages about persistence (saves, errors), oldest first.
    pub fn take_persistence_messages(&mut self) -> Vec<String> {
        self.persist.as_mut().map(|p| core::mem::take(&mut p.messages)).unwrap_or_default()
    }

    /// Whether persistence has work that must not wait for input (a
    /// background snapshot): the app should not sleep.
    pub fn persistence_busy(&self) -> bool {
        self.persist.as_ref().is_some_and(|p| p.job.is_some())
    }

    /// A write was made (called by propagation, with the writing client).
    pub(crate) fn persist_write(&mut self, db: usize, argv: &[&[u8]], writer: Option<u64>) {
        if let Some(p) = self.persist.as_mut() {
            if p.logging {
                p.log(db, argv, writer);
            } else {
                p.unlogged = true;
            }
        }
    }

    /// The end of an event-loop turn (after all its input was fed, before
    /// any reply is written): the turn's writes go to the log and, with
    /// `appendfsync always`, are flushed to the disk before this returns.
    /// Then a background snapshot advances by one step.
    pub fn end_turn(&mut self, now: Time) {
        self.set_now(now);
        let Some(mut p) = self.persist.take() else { return };
        let always = self.cfg.appendfsync == Fsync::Always;
        // Whether every write of this turn is now where `appendfsync` says.
        let mut logged = true;
        if !p.turn.is_empty() && !p.hand_turn_to_store() {
            // The log is full: compact it. The new snapshot holds this
            // turn's writes, which are durable only once it is; until the
            // log has room, writes are refused.
            logged = false;
            p.fail_writes(String::from("No space left on device"));
            if p.job.is_none() {
                self.start_job(&mut p, JobKind::Rewrite);
            } else {
                p.rewrite_scheduled = true;
            }
        }
        if p.disk.buffered_bytes() > 0 && !p.commit(always, now.mono_ms) {
            logged = false;
        }
        let writers = core::mem::take(&mut p.turn_writers);
        if always && !logged {
            // Their writes are not durable: they must not see OK.
            for cid in writers {
                self.close_client_now(cid);
            }
        }
        if p.job.is_some() {
            let budget = p.step_bytes;
            self.step_job(&mut p, budget);
        }
        self.persist = Some(p);
    }

    /// Once-a-tick persistence work: the `everysec` flush, retrying a
    /// failing log, save points, automatic rewrites, switching the log on
    /// or off after CONFIG SET.
    pub(crate) fn persist_tick(&mut self) {
        let Some(mut p) = self.persist.take() else { return };
        let now = self.now;
        if self.cfg.appendonly != p.logging {
            if self.cfg.appendonly {
                // Like Redis, the log starts with a rewrite: a snapshot on
                // a fresh chain, so writes made unlogged are in it.
                if p.job.is_some() {
                    p.rewrite_scheduled = true;
                } else {
                    p.unlogged = true;
                    self.start_job(&mut p, JobKind::Rewrite);
                }
                p.logging = true;
            } else {
                p.hand_turn_to_store();
                let _ = p.disk.commit(true);
                p.logging = false;
            }
        }
        let everysec = self.cfg.appendfsync == Fsync::EverySec;
        if (p.write_failing || (everysec && now.mono_ms.saturating_sub(p.last_flush_ms) >= 1000)) && p.turn.is_empty() {
            p.commit(true, now.mono_ms);
        }
        if p.job.is_none() {
            if p.rewrite_scheduled {
                p.rewrite_scheduled = false;
                self.start_job(&mut p, JobKind::Rewrite);
            } else if self.save_point_due(&p) {
                p.say(format!("{} changes: saving", self.dirty_since_save));
                self.start_job(&mut p, JobKind::Save);
            } else if p.logging && self.rewrite_due(&p) {
                p.say(String::from("the log has grown: rewriting"));
                self.start_job(&mut p, JobKind::Rewrite);
            }
        }
        self.persist = Some(p);
    }

    fn save_point_due(&self, p: &Persistence) -> bool {
        let now = self.now;
        let since = (now.unix_ms / 1000).saturating_sub(p.info.last_save_unix);
        let retry_ok = p.info.last_bgsave_ok || now.mono_ms.saturating_sub(p.last_bgsave_try_ms) >= BGSAVE_RETRY_MS;
        retry_ok && self.cfg.save.iter().any(|&(secs, changes)| self.dirty_since_save >= changes && since >= secs)
    }

    fn rewrite_due(&self, p: &Persistence) -> bool {
        let log = p.disk.log_bytes();
        if log * 100 >= p.disk.log_capacity() * LOG_FULL_PERCENT {
            return true;
        }
        let pct = self.cfg.auto_aof_rewrite_percentage;
        let base = p.info.aof_base_size.max(1);
        let current = p.disk.snapshot_len() + log;
        pct > 0 && current >= self.cfg.auto_aof_rewrite_min_size && current.saturating_sub(base) * 100 / base >= pct
    }

    /// Starts a snapshot job. Every write made so far is either in the log
    /// before the snapshot's start or in the snapshot itself.
    fn start_job(&mut self, p: &mut Persistence, kind: JobKind) -> bool {
        let full = !p.hand_turn_to_store();
        // A turn the full log could not take is in the snapshot instead
        // (it is not durable until the snapshot is).
        p.turn.clear();
        let new_chain = p.unlogged || full;
        if let Err(e) = p.disk.begin_snapshot(new_chain) {
            p.say(format!("cannot start a snapshot: {e}"));
            self.job_failed(p, kind);
            return false;
        }
        if self.snapshot_begin(self.now).is_err() {
            p.disk.abort_snapshot();
            return false;
        }
        p.unlogged = false;
        p.turn_db = None;
        p.job = Some(Job { kind, started_ms: self.now.mono_ms, dirty_at_start: self.dirty_since_save });
        p.last_bgsave_try_ms = self.now.mono_ms;
        true
    }

    /// Writes up to `budget` more bytes of the running snapshot; returns
    /// whether it is finished (well or not).
    fn step_job(&mut self, p: &mut Persistence, budget: usize) -> bool {
        let Some(kind) = p.job.as_ref().map(|j| j.kind) else { return true };
        p.chunk.clear();
        let step = self.snapshot_step(&mut p.chunk, budget);
        if matches!(step, SnapshotStep::Aborted) {
            // FLUSHALL/FLUSHDB ended it (as Redis kills its child): not a failure.
            p.disk.abort_snapshot();
            p.job = None;
            return true;
        }
        if let Err(e) = p.disk.write_snapshot(&p.chunk) {
            p.say(format!("snapshot failed: {e}"));
            self.snapshot_abort();
            p.disk.abort_snapshot();
            self.job_failed(p, kind);
            return true;
        }
        if matches!(step, SnapshotStep::More) {
            return false;
        }
        if let Err(e) = p.disk.finish_snapshot() {
            p.say(format!("snapshot failed: {e}"));
            self.job_failed(p, kind);
            return true;
        }
        let Some(job) = p.job.take() else { return true };
        let secs = (self.now.mono_ms.saturating_sub(job.started_ms) / 1000) as i64;
        self.dirty_since_save = self.dirty_since_save.saturating_sub(job.dirty_at_start);
        p.info.last_save_unix = self.now.unix_ms / 1000;
        p.info.last_bgsave_ok = true;
        p.info.aof_base_size = p.disk.snapshot_len();
        match job.kind {
            JobKind::Save => {
                p.info.saves += 1;
                p.info.last_bgsave_secs = secs;
            }
            JobKind::Rewrite => {
                p.info.aof_rewrites += 1;
                p.info.last_rewrite_ok = true;
                p.info.last_rewrite_secs = secs;
            }
        }
        p.say(format!("snapshot saved: {} bytes", p.disk.snapshot_len()));
        true
    }

    fn job_failed(&mut self, p: &mut Persistence, kind: JobKind) {
        p.job = None;
        match kind {
            JobKind::Save => p.info.last_bgsave_ok = false,
            JobKind::Rewrite => p.info.last_rewrite_ok = false,
        }
    }

    /// Writes the running background snapshot (if any) to the end.
    pub(crate) fn finish_background_snapshot(&mut self) {
        let Some(mut p) = self.persist.take() else { return };
        while p.job.is_some() && !self.step_job(&mut p, SYNC_STEP_BYTES) {}
        self.persist = Some(p);
    }

    /// SAVE (and the saves of SHUTDOWN, FLUSHALL, DEBUG RELOAD): a snapshot
    /// written to the end before returning. A background snapshot running
    /// is finished first (Redis refuses SAVE then; finishing it gives the
    /// same result sooner).
    pub(crate) fn save_now(&mut self) -> Result<(), String> {
        if self.persist.is_none() {
            return Err(String::from("no data disk is attached (start the appliance with a disk to save to)"));
        }
        self.finish_background_snapshot();
        let Some(mut p) = self.persist.take() else { return Err(String::from("no data disk is attached")) };
        let mut result = Ok(());
        if self.start_job(&mut p, JobKind::Save) {
            while !self.step_job(&mut p, SYNC_STEP_BYTES) {}
            if !p.info.last_bgsave_ok {
                result = Err(String::from("the snapshot could not be written to the disk"));
            }
        } else {
            result = Err(String::from("the snapshot could not be started"));
        }
        self.persist = Some(p);
        result
    }

    /// BGSAVE / BGREWRITEAOF: starts a background snapshot. `Ok(false)`:
    /// one is already running (a rewrite is then scheduled after it).
    pub(crate) fn start_background(&mut self, kind: JobKind) -> Result<bool, String> {
        let Some(mut p) = self.persist.take() else {
            return Err(String::from("no data disk is attached (start the appliance with a disk to save to)"));
        };
        let result = if p.job.is_some() {
            if kind == JobKind::Rewrite {
                p.rewrite_scheduled = true;
            }
            Ok(false)
        } else if self.start_job(&mut p, kind) {
            Ok(true)
        } else {
            Err(String::from("the snapshot could not be started"))
        };
        self.persist = Some(p);
        result
    }

    /// Makes everything logged durable (SHUTDOWN with the log on).
    pub(crate) fn flush_log(&mut self) -> Result<(), String> {
        let Some(p) = self.persist.as_mut() else { return Ok(()) };
        if !p.hand_turn_to_store() {
            return Err(String::from("the log is full"));
        }
        p.disk.commit(true).map_err(|e| format!("{e}"))
    }

    /// The error a write gets while persistence is failing (Redis's
    /// `writeCommandsDeniedByDiskError`), if it is.
    pub(crate) fn persistence_denies_writes(&self) -> Option<Vec<u8>> {
        let p = self.persist.as_ref()?;
        if self.cfg.stop_writes_on_bgsave_error && !self.cfg.save.is_empty() && !p.info.last_bgsave_ok {
            return Some(BGSAVE_ERROR.to_vec());
        }
        if p.logging && p.write_failing {
            let why = p.info.last_write_error.as_deref().unwrap_or("Input/output error");
            return Some(format!("MISCONF Errors writing to the AOF file: {why}").into_bytes());
        }
        None
    }

    /// INFO's persistence section.
    pub(crate) fn persistence_info(&self, t: &mut String) {
        use core::fmt::Write;
        let p = self.persist.as_ref();
        let info = p.map(|p| &p.info);
        let job = |kind| p.and_then(|p| p.job.as_ref()).filter(|j| j.kind == kind);
        let running = |kind| u8::from(job(kind).is_some());
        let current = |kind| job(kind).map_or(-1, |j| (self.now.mono_ms.saturating_sub(j.started_ms) / 1000) as i64);
        let ok = |b: bool| if b { "ok" } else { "err" };
        // Clients get -LOADING from the app while the dataset loads, so
        // INFO is only ever answered with it loaded.
        let _ = write!(
            t,
            "loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_last_write_status:{}\r\n",
            self.dirty_since_save,
            running(JobKind::Save),
            self.last_save_unix(),
            ok(info.is_none_or(|i| i.last_bgsave_ok)),
            info.map_or(-1, |i| i.last_bgsave_secs),
            current(JobKind::Save),
            info.map_or(0, |i| i.saves),
            u8::from(p.map_or(self.cfg.appendonly, |p| p.logging)),
            running(JobKind::Rewrite),
            u8::from(p.is_some_and(|p| p.rewrite_scheduled)),
            info.map_or(-1, |i| i.last_rewrite_secs),
            current(JobKind::Rewrite),
            ok(info.is_none_or(|i| i.last_rewrite_ok)),
            info.map_or(0, |i| i.aof_rewrites),
            ok(!p.is_some_and(|p| p.write_failing)),
        );
        let Some(p) = p else {
            t.push_str("disk_attached:0\r\n");
            return;
        };
        if p.logging {
            let _ = write!(
                t,
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                p.disk.snapshot_len() + p.disk.log_bytes(),
                p.info.aof_base_size,
                p.turn.len() + p.disk.buffered_bytes(),
            );
        }
        if let Some(load) = &p.info.last_load {
            let _ = write!(
                t,
                "loading_loaded_bytes:{}\r\nloading_keys_from_snapshot:{}\r\nloading_log_commands:{}\r\nloading_time_ms:{}\r\n",
                load.snapshot_bytes, load.keys, load.log.commands, load.millis
            );
        }
        let _ = write!(
            t,
            "disk_attached:1\r\ndisk_snapshot_bytes:{}\r\ndisk_snapshot_capacity:{}\r\ndisk_log_bytes:{}\r\ndisk_log_capacity:{}\r\n{}",
            p.disk.snapshot_len(),
            p.disk.summary().snapshot_capacity,
            p.disk.log_bytes(),
            p.disk.log_capacity(),
            p.info.last_write_error.as_ref().map(|e| format!("disk_last_error:{e}\r\n")).unwrap_or_default(),
        );
    }

    /// LASTSAVE: the last successful snapshot (the start time without a disk).
    pub(crate) fn last_save_unix(&self) -> u64 {
        self.persist.as_ref().map_or(self.started.unix_ms / 1000, |p| p.info.last_save_unix)
    }

    /// Whether save points are set and a disk is attached (FLUSHALL and
    /// SHUTDOWN then save).
    pub(crate) fn save_points_active(&self) -> bool {
        self.persist.is_some() && !self.cfg.save.is_empty()
    }

    /// DEBUG RELOAD: saves, empties the dataset, loads it back from the disk.
    pub(crate) fn reload_from_disk(&mut self) -> Result<(), String> {
        self.save_now()?;
        let Some(mut p) = self.persist.take() else { return Err(String::from("no data disk is attached")) };
        for d in self.dbs.iter_mut() {
            d.clear();
        }
        let mut source = storage::SnapshotSource::new(&mut *p.disk);
        let now = self.now;
        let result = self.load_rdb_base(&mut source, now).map(|_| ()).map_err(|e| format!("{e}"));
        self.persist = Some(p);
        result
    }
}

/// Redis's `shared.bgsaveerr`.
const BGSAVE_ERROR: &[u8] = b"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
