//! MIGRATE: moves keys to another Redis server. The keys are serialized as
//! DUMP payloads and sent as RESTORE commands over a connection the app
//! opens ([`crate::Outbound`]); the command waits for the target's replies
//! (up to its timeout, as Redis does: the server is blocked meanwhile) and
//! deletes the keys that arrived unless COPY is given.
//!
//! `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//! [AUTH password | AUTH2 username password] [KEYS key ...]`
//!
//! As in Redis (`migrateGetSocket` in cluster.c), connections are cached
//! per `host:port` as typed, at most 64 (a random one makes room), and
//! closed once unused for more than 10 s ([`SocketCache::close_idle`], from
//! the server's tick); INFO shows their number as `migrate_cached_sockets`.
//! A cached connection remembers the database it selected, so SELECT is
//! sent only when it changes; one that fails is closed, and the command is
//! retried once on a new connection unless it timed out or a reply was
//! already read.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;

use super::parse_i64;
use crate::notify::GENERIC;
use crate::persist::aof::encode;
use crate::rdb;
use crate::server::{Ctx, Server};
use crate::util::{Rng, eq_ic, i64_bytes};
use crate::{ConnectError, LinkError, Outbound, OutboundLink};

/// Redis's `MIGRATE_SOCKET_CACHE_ITEMS`.
const CACHE_ITEMS: usize = 64;
/// Redis's `MIGRATE_SOCKET_CACHE_TTL`: seconds a connection may stay unused.
const CACHE_TTL_SECS: u64 = 10;

/// MIGRATE's open connections by `host:port`.
#[derive(Default)]
pub(crate) struct SocketCache {
    sockets: BTreeMap<Vec<u8>, Cached>,
}

struct Cached {
    link: Box<dyn OutboundLink>,
    /// The database the target has selected on it (-1: unknown).
    last_dbid: i64,
    /// When it was last used (seconds on the monotonic clock).
    last_use_s: u64,
}

impl SocketCache {
    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Closes the connections unused for more than 10 s (Redis's
    /// `migrateCloseTimedoutSockets`).
    pub(crate) fn close_idle(&mut self, now_s: u64) {
        self.sockets.retain(|_, cs| now_s.saturating_sub(cs.last_use_s) <= CACHE_TTL_SECS);
    }

    /// The cached connection to `name`, taken out of the cache for the
    /// command's use (it goes back with [`put_back`](Self::put_back)), or a
    /// new one.
    fn take(
        &mut self,
        outbound: Option<&mut Box<dyn Outbound>>,
        rng: &mut Rng,
        name: &[u8],
        req: &Request,
        now_s: u64,
    ) -> Result<Cached, ConnectError> {
        if let Some(mut cs) = self.sockets.remove(name) {
            cs.last_use_s = now_s;
            return Ok(cs);
        }
        if self.sockets.len() >= CACHE_ITEMS {
            let victim = self.sockets.keys().nth(rng.below(self.sockets.len())).cloned();
            if let Some(victim) = victim {
                self.sockets.remove(&victim);
            }
        }
        let (Some(outbound), Some(port)) = (outbound, req.port) else { return Err(ConnectError::BadAddress) };
        let link = outbound.connect(&req.host, port, req.timeout_ms)?;
        Ok(Cached { link, last_dbid: -1, last_use_s: now_s })
    }

    fn put_back(&mut self, name: Vec<u8>, cs: Cached) {
        self.sockets.insert(name, cs);
    }
}

/// What MIGRATE was asked to do.
struct Request {
    host: Vec<u8>,
    /// The port as Redis reads it; `None` when negative.
    port: Option<u16>,
    db: i64,
    timeout_ms: u64,
    copy: bool,
    replace: bool,
    /// AUTH's arguments (password, or user and password).
    auth: Vec<Vec<u8>>,
    /// Indexes into argv of the keys to move.
    keys: Vec<usize>,
}

/// A key to move: its argv index, DUMP payload and remaining TTL (0: none).
struct Moving {
    arg: usize,
    payload: Vec<u8>,
    ttl: u64,
}

/// A connection that failed (it is closed): while writing or reading, and
/// whether the command may be retried on a new one.
struct SocketError {
    writing: bool,
    may_retry: bool,
}

pub fn migrate(s: &mut Server, c: &mut Ctx) {
    let Some(req) = parse(c) else { return };
    // The keys that exist (and have not expired), with their payloads and
    // remaining TTLs, in order.
    let mut moving = Vec::new();
    for &arg in &req.keys {
        let key = c.arg(arg).to_vec();
        let Some(value) = s.read(c.db, &key) else { continue };
        let payload = rdb::dump(value);
        let ttl = match s.expire_of(c.db, &key) {
            Some(at) => at.saturating_sub(c.now.unix_ms).max(1),
            None => 0,
        };
        moving.push(Moving { arg, payload, ttl });
    }
    if moving.is_empty() {
        c.out.simple(b"NOKEY");
        return;
    }
    let name = [c.arg(1), b":", c.arg(2)].concat();
    let mut may_retry = true;
    loop {
        match attempt(s, c, &req, &name, &moving) {
            Ok(()) => return,
            Err(e) if e.may_retry && may_retry => may_retry = false,
            Err(e) => {
                let what = if e.writing { "writing" } else { "reading" };
                return c.out.err(&format!("IOERR error or timeout {what} to target instance"));
            }
        }
    }
}

/// One try of Redis's `migrateCommand` from its `try_again` label: replies
/// (OK, the target's error or the connection error) unless the connection
/// failed before the outcome was known.
fn attempt(s: &mut Server, c: &mut Ctx, req: &Request, name: &[u8], moving: &[Moving]) -> Result<(), SocketError> {
    let now_s = s.now.mono_ms / 1000;
    // A failure closes the connection (`cs` is dropped, not put back).
    let failed = |e: LinkError, writing: bool| SocketError { writing, may_retry: e != LinkError::TimedOut };
    let mut cs = match s.migrate_sockets.take(s.outbound.as_mut(), &mut s.rng, name, req, now_s) {
        Ok(cs) => cs,
        Err(ConnectError::BadAddress) => {
            c.out.err("IOERR error or timeout connecting to the client");
            return Ok(());
        }
        Err(ConnectError::Failed(e)) => return Err(failed(e, true)),
    };
    let mut request = Vec::new();
    if !req.auth.is_empty() {
        let mut argv: Vec<&[u8]> = Vec::from([&b"AUTH"[..]]);
        argv.extend(req.auth.iter().map(|a| a.as_slice()));
        encode(&mut request, &argv);
    }
    let select = cs.last_dbid != req.db;
    if select {
        encode(&mut request, &[b"SELECT", &i64_bytes(req.db)]);
    }
    for m in moving {
        let ttl = i64_bytes(m.ttl as i64);
        let mut argv: Vec<&[u8]> = Vec::from([&b"RESTORE"[..], c.arg(m.arg), &ttl, &m.payload]);
        if req.replace {
            argv.push(b"REPLACE");
        }
        encode(&mut request, &argv);
    }
    cs.link.send(&request, req.timeout_ms).map_err(|e| failed(e, true))?;
    let auth = match req.auth.is_empty() {
        true => None,
        false => Some(cs.link.read_line(req.timeout_ms).map_err(|e| failed(e, false))?),
    };
    let selected = match select {
        true => Some(cs.link.read_line(req.timeout_ms).map_err(|e| failed(e, false))?),
        false => None,
    };

    // An AUTH or SELECT error stands for every key's reply.
    let setup_error = [&auth, &selected].into_iter().flatten().find(|l| l.starts_with(b"-")).cloned();
    let mut error_from_target = false;
    let mut socket_error = None;
    let mut deleted = Vec::new();
    for (j, m) in moving.iter().enumerate() {
        let line = match cs.link.read_line(req.timeout_ms) {
            Ok(line) => line,
            Err(e) => {
                socket_error = Some((j, e));
                break;
            }
        };
        let error = setup_error.as_deref().or(line.starts_with(b"-").then_some(&line[..]));
        if let Some(error) = error {
            if !error_from_target {
                cs.last_dbid = -1;
                error_from_target = true;
                target_error(c, &error[1..]);
            }
        } else if !req.copy {
            let key = c.arg(m.arg).to_vec();
            if s.delete(c.db, &key) {
                s.notify(GENERIC, "del", c.db, &key);
                c.dirty += 1;
                deleted.push(key);
            }
        }
    }
    // Nothing read yet: retry on a new connection (unless it timed out).
    if let Some((0, e)) = socket_error
        && !error_from_target
    {
        return Err(failed(e, false));
    }
    // Propagated as the DEL of what left (MIGRATE itself is not replayed).
    if !deleted.is_empty() {
        let mut del = Vec::from([b"DEL".to_vec()]);
        del.extend(deleted);
        c.rewrite = Some(Vec::from([del]));
    }
    match socket_error {
        Some(_) if error_from_target => {}
        Some(_) => return Err(SocketError { writing: false, may_retry: false }),
        None if error_from_target => s.migrate_sockets.put_back(name.to_vec(), cs),
        None => {
            cs.last_dbid = req.db;
            s.migrate_sockets.put_back(name.to_vec(), cs);
            c.out.ok();
        }
    }
    Ok(())
}

/// `-ERR Target instance replied with error: ...`
fn target_error(c: &mut Ctx, msg: &[u8]) {
    c.out.err(&format!("ERR Target instance replied with error: {}", super::text(msg)));
}

/// Parses MIGRATE's arguments; replies the error and returns `None` when
/// they are invalid.
fn parse(c: &mut Ctx) -> Option<Request> {
    let mut req = Request {
        host: c.arg(1).to_vec(),
        port: None,
        db: 0,
        timeout_ms: 0,
        copy: false,
        replace: false,
        auth: Vec::new(),
        keys: Vec::new(),
    };
    let mut keys_from = None;
    let mut j = 6;
    while j < c.argc() {
        let more = c.argc() - j - 1;
        if eq_ic(c.arg(j), "copy") {
            req.copy = true;
        } else if eq_ic(c.arg(j), "replace") {
            req.replace = true;
        } else if eq_ic(c.arg(j), "auth") && more >= 1 {
            req.auth = Vec::from([c.arg(j + 1).to_vec()]);
            j += 1;
        } else if eq_ic(c.arg(j), "auth2") && more >= 2 {
            req.auth = Vec::from([c.arg(j + 1).to_vec(), c.arg(j + 2).to_vec()]);
            j += 2;
        } else if eq_ic(c.arg(j), "keys") {
            if !c.arg(3).is_empty() {
                c.out.err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return None;
            }
            keys_from = Some(j + 1);
            break;
        } else {
            c.syntax_error();
            return None;
        }
        j += 1;
    }
    let (Some(timeout), Some(db)) = (parse_i64(c.arg(5)), parse_i64(c.arg(4))) else {
        c.not_integer();
        return None;
    };
    req.timeout_ms = if timeout <= 0 { 1000 } else { timeout as u64 };
    req.db = db;
    // Redis reads the port with atoi ("12x" is 12, "x" is 0) into an int,
    // and the resolver takes it modulo 2^16; a negative one fails.
    let port = atoi(c.arg(2)) as i32;
    req.port = (port >= 0).then_some(port as u16);
    req.keys = match keys_from {
        Some(from) => (from..c.argc()).collect(),
        None => Vec::from([3]),
    };
    Some(req)
}

/// C's `atoi`: leading blanks, a sign, then digits up to the first other
/// byte (0 when none); saturating instead of overflowing.
fn atoi(s: &[u8]) -> i64 {
    let s = &s[s.iter().take_while(|b| b" \t\n\x0b\x0c\r".contains(b)).count()..];
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if negative { -n } else { n }
}
