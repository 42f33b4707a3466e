//! Clients blocked in BLPOP/BRPOP/BLMOVE/BLMPOP/BZPOPMIN/BZPOPMAX/BZMPOP/
//! XREAD/XREADGROUP:
//! who waits on which key (FIFO, with O(1) removal of any one client), their
//! deadlines, the keys that became ready since the last check (Redis's
//! `signalKeyAsReady`: a list or sorted set key was created), and serving
//! them (Redis's `handleClientsBlockedOnKeys`), which runs after each
//! command, so a transaction's pushes are served after its EXEC.

use alloc::collections::{BTreeSet, VecDeque};
use alloc::string::ToString;
use alloc::vec::Vec;

use crate::bytemap::ByteMap;
use crate::idqueue::IdQueue;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::util::parse_f64;

/// What a blocked client will do once a key has data.
#[derive(Debug, Clone)]
pub enum BlockOp {
    /// BLPOP (left) / BRPOP.
    Pop { left: bool },
    /// BLMOVE / BRPOPLPUSH.
    Move { dest: Vec<u8>, from_left: bool, to_left: bool },
    /// BLMPOP: up to `count` elements.
    MPop { left: bool, count: usize },
    /// BZPOPMIN / BZPOPMAX (`max`).
    ZPop { max: bool },
    /// BZMPOP: up to `count` members.
    ZMPop { max: bool, count: usize },
    /// XREAD / XREADGROUP: per key (in `Blocked::keys` order) the ID
    /// entries must be greater than, up to `count` entries.
    XRead { ids: Vec<crate::types::stream::StreamId>, count: usize, group: Option<crate::cmd::stream_read::GroupRead> },
    /// WAIT: no key; only its timeout (or CLIENT UNBLOCK) ends it, with
    /// the number of replicas that acknowledged (none ever do).
    Wait,
}

/// The type of value a blocked client waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitsFor {
    List,
    ZSet,
    Stream,
}

impl BlockOp {
    pub fn waits_for(&self) -> WaitsFor {
        match self {
            BlockOp::Pop { .. } | BlockOp::Move { .. } | BlockOp::MPop { .. } => WaitsFor::List,
            BlockOp::ZPop { .. } | BlockOp::ZMPop { .. } => WaitsFor::ZSet,
            BlockOp::XRead { .. } => WaitsFor::Stream,
            // Never consulted: WAIT waits on no key.
            BlockOp::Wait => WaitsFor::List,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    pub op: BlockOp,
    /// Monotonic deadline in ms; `None` waits forever.
    pub deadline: Option<u64>,
}

pub struct Blocking {
    /// Per database: key -> waiting client ids, oldest first.
    pub waiting: Vec<ByteMap<IdQueue>>,
    /// (deadline, client id).
    pub timeouts: BTreeSet<(u64, u64)>,
    /// Keys that received data while someone waited on them, in the order
    /// they were signalled, each at most once (`queued`).
    ready: VecDeque<(usize, Vec<u8>)>,
    queued: Vec<ByteMap<()>>,
    pub blocked_clients: usize,
}

impl Blocking {
    pub fn new(databases: usize, seed: u64) -> Blocking {
        Blocking {
            waiting: (0..databases).map(|i| ByteMap::new(seed.wrapping_add(i as u64))).collect(),
            timeouts: BTreeSet::new(),
            ready: VecDeque::new(),
            queued: (0..databases).map(|i| ByteMap::new(seed.wrapping_add(0x5eed).wrapping_add(i as u64))).collect(),
            blocked_clients: 0,
        }
    }

    pub fn add(&mut self, cid: u64, b: &Blocked) {
        if let Some(map) = self.waiting.get_mut(b.db) {
            for key in &b.keys {
                match map.get_mut(key) {
                    Some(q) => {
                        q.push_back(cid);
                    }
                    None => {
                        let mut q = IdQueue::new();
                        q.push_back(cid);
                        map.insert(key, q);
                    }
                }
            }
        }
        if let Some(d) = b.deadline {
            self.timeouts.insert((d, cid));
        }
        self.blocked_clients += 1;
    }

    pub fn remove(&mut self, cid: u64, b: &Blocked) {
        if let Some(map) = self.waiting.get_mut(b.db) {
            for key in &b.keys {
                let empty = match map.get_mut(key) {
                    Some(q) => {
                        q.remove(cid);
                        q.is_empty()
                    }
                    None => false,
                };
                if empty {
                    map.remove(key);
                }
            }
        }
        if let Some(d) = b.deadline {
            self.timeouts.remove(&(d, cid));
        }
        self.blocked_clients = self.blocked_clients.saturating_sub(1);
    }

    /// Whether anyone waits on a key of database `db`.
    pub fn has_waiters(&self, db: usize) -> bool {
        self.waiting.get(db).is_some_and(|m| !m.is_empty())
    }

    /// Notes that `key` got data, if anyone waits for it (once until served).
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if !self.waiting.get(db).is_some_and(|m| m.contains_key(key)) {
            return;
        }
        let Some(q) = self.queued.get_mut(db) else { return };
        if q.contains_key(key) {
            return;
        }
        q.insert(key, ());
        self.ready.push_back((db, key.to_vec()));
    }

    /// The oldest signalled key.
    pub fn pop_ready(&mut self) -> Option<(usize, Vec<u8>)> {
        let (db, key) = self.ready.pop_front()?;
        if let Some(q) = self.queued.get_mut(db) {
            q.remove(&key);
        }
        Some((db, key))
    }

    pub fn first_waiter(&self, db: usize, key: &[u8]) -> Option<u64> {
        self.waiting.get(db)?.get(key)?.front()
    }

    /// The clients waiting on `key`, oldest first.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.waiting.get(db).and_then(|m| m.get(key)).map(|q| q.iter().collect()).unwrap_or_default()
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.timeouts.first().map(|&(d, _)| d)
    }
}

/// Parses a blocking timeout in seconds (a double, like Redis's
/// `getTimeoutFromObjectOrReply`: rounded up to whole ms; 0 waits forever)
/// into an absolute monotonic deadline; `Err` after replying the error.
pub(crate) fn parse_timeout(s: &Server, c: &mut Ctx, i: usize) -> Result<Option<u64>, ()> {
    let Some(secs) = parse_f64(c.arg(i)) else {
        c.out.err("ERR timeout is not a float or out of range");
        return Err(());
    };
    let ms = secs * 1000.0;
    // Redis converts ceil(ms) to a long long: what does not fit comes out
    // negative.
    if ms <= -1.0 || !ms.is_finite() || ms >= 9.2e18 {
        c.out.err("ERR timeout is negative");
        return Err(());
    }
    let ms = if ms <= 0.0 {
        0
    } else {
        let whole = ms as u64;
        if (whole as f64) < ms { whole + 1 } else { whole }
    };
    if ms == 0 {
        return Ok(None);
    }
    Ok(Some(s.now.mono_ms.saturating_add(ms)))
}

/// Whether `v` holds data for a client waiting for `kind`.
fn has_data(v: Option<&Value>, kind: WaitsFor) -> bool {
    match (v, kind) {
        (Some(Value::List(l)), WaitsFor::List) => !l.is_empty(),
        (Some(Value::ZSet(z)), WaitsFor::ZSet) => !z.is_empty(),
        _ => false,
    }
}

impl Server {
    /// Parks the current client until a key gets data or the deadline.
    pub(crate) fn block_client(&mut self, cid: u64, b: Blocked) {
        self.blocking.add(cid, &b);
        if let Some(c) = self.clients.get_mut(&cid) {
            c.blocked = Some(b);
        }
    }

    /// A key was created (Redis's `dbAdd`): clients waiting for a list or a
    /// sorted set there may be served.
    pub(crate) fn signal_key_created(&mut self, db: usize, key: &[u8]) {
        self.blocking.signal(db, key);
    }

    /// After FLUSHDB/FLUSHALL/SWAPDB: every waited-on key of `db`, there
    /// or not, is looked at again, so XREADGROUP readers of a stream that
    /// went away get their error (Redis's `scanDatabaseForDeletedStreams`).
    pub(crate) fn signal_all_waited_keys(&mut self, db: usize) {
        let Some(map) = self.blocking.waiting.get(db) else { return };
        let keys: Vec<Vec<u8>> = map.keys().map(|k| k.to_vec()).collect();
        for key in keys {
            self.blocking.signal(db, &key);
        }
    }

    /// Empties the databases `dbs` (FLUSHDB, FLUSHALL); returns how many
    /// keys they held. Clients blocked on a stream there are signalled once
    /// it is gone (an XREADGROUP blocked on a deleted stream gets an error;
    /// Redis's `scanDatabaseForDeletedKeys`); other waiters have nothing to
    /// gain from a flush.
    pub(crate) fn empty_databases(&mut self, dbs: core::ops::Range<usize>) -> u64 {
        let mut removed = 0;
        for db in dbs {
            let streams = self.waited_streams(db);
            if let Some(d) = self.dbs.get_mut(db) {
                removed += d.len() as u64;
                d.clear();
            }
            for key in streams {
                self.blocking.signal(db, &key);
            }
        }
        removed
    }

    /// The waited-on keys of `db` that hold a stream.
    fn waited_streams(&self, db: usize) -> Vec<Vec<u8>> {
        let (Some(map), Some(d)) = (self.blocking.waiting.get(db), self.dbs.get(db)) else { return Vec::new() };
        map.keys()
            .filter(|k| d.get(k).is_some_and(|e| matches!(e.value, crate::types::Value::Stream(_))))
            .map(|k| k.to_vec())
            .collect()
    }

    /// After SWAPDB: every waited-on key that now exists in `db` is ready
    /// (Redis's `scanDatabaseForReadyKeys`).
    pub(crate) fn signal_existing_waited_keys(&mut self, db: usize) {
        let Some(map) = self.blocking.waiting.get(db) else { return };
        let keys: Vec<Vec<u8>> = map.keys().map(|k| k.to_vec()).collect();
        for key in keys {
            if self.dbs.get(db).is_some_and(|d| d.map().contains_key(&key)) {
                self.blocking.signal(db, &key);
            }
        }
    }

    pub(crate) fn unblock_with_timeout(&mut self, cid: u64) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let Some(mut b) = c.blocked.take() else { return };
        b.deadline = None; // already removed from the timeout set
        self.blocking.remove(cid, &b);
        let wait = matches!(b.op, BlockOp::Wait);
        self.write_to(cid, |out| if wait { out.int(0) } else { out.null_array() });
        self.finish_blocked_call(cid, 0);
        self.resume.push(cid);
    }

    /// CLIENT UNBLOCK: ends `cid`'s wait as a timeout would, or with the
    /// -UNBLOCKED error; false when it is not blocked.
    pub(crate) fn unblock_on_request(&mut self, cid: u64, error: bool) -> bool {
        let Some(b) = self.clients.get_mut(&cid).and_then(|c| c.blocked.take()) else { return false };
        self.blocking.remove(cid, &b);
        let wait = matches!(b.op, BlockOp::Wait);
        self.write_to(cid, |out| match (error, wait) {
            (true, _) => out.err("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
            (false, true) => out.int(0),
            (false, false) => out.null_array(),
        });
        self.finish_blocked_call(cid, 0);
        self.resume.push(cid);
        true
    }

    /// Serves clients blocked on keys that received data: keys in the order
    /// they were signalled, the clients of a key in the order they blocked,
    /// only those waiting for the type the key now holds.
    pub(crate) fn serve_ready_keys(&mut self) {
        let mut guard = 0usize;
        while let Some((db, key)) = self.blocking.pop_ready() {
            guard += 1;
            if guard > 1_000_000 {
                break;
            }
            for cid in self.blocking.waiters(db, &key) {
                let Some(kind) = self.clients.get(&cid).and_then(|c| c.blocked.as_ref()).map(|b| b.op.waits_for())
                else {
                    // Stale entry: drop it.
                    if let Some(q) = self.blocking.waiting.get_mut(db).and_then(|m| m.get_mut(&key)) {
                        q.remove(cid);
                    }
                    continue;
                };
                if kind == WaitsFor::Stream {
                    // Served, refused or left waiting by the stream code
                    // (a deleted key wakes XREADGROUP with an error).
                    if self.serve_stream_reader(cid, db, &key) {
                        self.resume.push(cid);
                    }
                    continue;
                }
                if !has_data(self.peek(db, &key), kind) {
                    if self.peek(db, &key).is_none() {
                        break;
                    }
                    continue;
                }
                let Some(b) = self.clients.get_mut(&cid).and_then(|c| c.blocked.take()) else { continue };
                self.blocking.remove(cid, &b);
                let tracked = self.tracking.active();
                if tracked {
                    self.tracking.serving = Some(cid);
                }
                let started = self.now_us();
                self.serve_blocked(cid, db, &key, b.op);
                let reply_us = self.now_us().saturating_sub(started);
                self.finish_blocked_call(cid, reply_us);
                if tracked {
                    self.tracking.serving = None;
                    self.flush_tracking(cid);
                }
                self.resume.push(cid);
            }
        }
    }

    fn serve_blocked(&mut self, cid: u64, db: usize, key: &[u8], op: BlockOp) {
        match op {
            BlockOp::Wait => {} // waits on no key: never served
            BlockOp::Pop { left } => {
                let items = crate::cmd::list::pop_n(self, db, key, left, 1);
                self.touch_watched(db, key);
                if let Some(val) = items.first() {
                    crate::cmd::list::notify_pop(self, db, key, left);
                    let cmd = if left { b"LPOP".to_vec() } else { b"RPOP".to_vec() };
                    self.propagate(db, &[cmd, key.to_vec()]);
                    self.write_to(cid, |out| {
                        out.array(2);
                        out.bulk(key);
                        out.bulk(val);
                    });
                }
            }
            BlockOp::MPop { left, count } => {
                let items = crate::cmd::list::pop_n(self, db, key, left, count);
                self.touch_watched(db, key);
                if !items.is_empty() {
                    crate::cmd::list::notify_pop(self, db, key, left);
                }
                let cmd = if left { b"LPOP".to_vec() } else { b"RPOP".to_vec() };
                self.propagate(db, &[cmd, key.to_vec(), items.len().to_string().into_bytes()]);
                self.write_to(cid, |out| crate::cmd::list::reply_key_and_items(out, key, &items));
            }
            BlockOp::ZPop { max } | BlockOp::ZMPop { max, .. } => {
                let count = match op {
                    BlockOp::ZMPop { count, .. } => Some(count),
                    _ => None,
                };
                let items = crate::cmd::zset_pop::pop_members(self, db, key, max, count.unwrap_or(1));
                self.touch_watched(db, key);
                if !items.is_empty() {
                    crate::cmd::zset_pop::notify_pop(self, db, key, max);
                }
                let cmd = if max { b"ZPOPMAX".to_vec() } else { b"ZPOPMIN".to_vec() };
                let mut argv = alloc::vec![cmd, key.to_vec()];
                if count.is_some() {
                    argv.push(items.len().to_string().into_bytes());
                }
                self.propagate(db, &argv);
                self.write_to(cid, |out| crate::cmd::zset_pop::reply_popped(out, key, &items, count.is_some()));
            }
            BlockOp::XRead { .. } => {}
            BlockOp::Move { dest, from_left, to_left } => {
                let dest_ok = matches!(self.peek(db, &dest), None | Some(Value::List(_)));
                if !dest_ok {
                    self.write_to(cid, |out| {
                        out.err("WRONGTYPE Operation against a key holding the wrong kind of value")
                    });
                    return;
                }
                let items = crate::cmd::list::pop_n(self, db, key, from_left, 1);
                self.touch_watched(db, key);
                let Some(val) = items.into_iter().next() else { return };
                crate::cmd::list::push_to_list(self, db, &dest, val.clone(), to_left);
                crate::cmd::list::notify_push(self, db, &dest, to_left);
                crate::cmd::list::notify_pop(self, db, key, from_left);
                self.touch_watched(db, &dest);
                let side = |l: bool| if l { b"LEFT".to_vec() } else { b"RIGHT".to_vec() };
                self.propagate(db, &[b"LMOVE".to_vec(), key.to_vec(), dest.clone(), side(from_left), side(to_left)]);
                self.write_to(cid, |out| out.bulk(&val));
            }
        }
    }
}
