//! MIGRATE: moves keys to another Redis server. The keys are serialized as
//! DUMP payloads and sent as RESTORE commands over a connection the app
//! opens ([`crate::Outbound`]); the command waits for the target's replies
//! (up to its timeout, as Redis does: the server is blocked meanwhile) and
//! deletes the keys that arrived unless COPY is given.
//!
//! `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//! [AUTH password | AUTH2 username password] [KEYS key ...]`
//!
//! Unlike Redis, the connection is not cached between calls: each MIGRATE
//! connects, selects the database and closes.

use alloc::format;
use alloc::vec::Vec;

use super::parse_i64;
use crate::notify::GENERIC;
use crate::persist::aof::encode;
use crate::rdb;
use crate::server::{Ctx, Server};
use crate::util::{eq_ic, i64_bytes};
use crate::{Outbound, OutboundError};

/// What MIGRATE was asked to do.
struct Request {
    host: Vec<u8>,
    port: u16,
    db: i64,
    timeout_ms: u64,
    copy: bool,
    replace: bool,
    /// AUTH's arguments (password, or user and password).
    auth: Vec<Vec<u8>>,
    /// Indexes into argv of the keys to move.
    keys: Vec<usize>,
}

pub fn migrate(s: &mut Server, c: &mut Ctx) {
    let Some(req) = parse(c) else { return };
    // The keys that exist (and have not expired), with their payloads and
    // remaining TTLs, in order.
    let mut moving: Vec<(usize, Vec<u8>, u64)> = Vec::new();
    for &i in &req.keys {
        let key = c.arg(i).to_vec();
        let Some(value) = s.read(c.db, &key) else { continue };
        let payload = rdb::dump(value);
        let ttl = match s.expire_of(c.db, &key) {
            Some(at) => at.saturating_sub(c.now.unix_ms).max(1),
            None => 0,
        };
        moving.push((i, payload, ttl));
    }
    if moving.is_empty() {
        c.out.simple(b"NOKEY");
        return;
    }

    let mut request = Vec::new();
    if !req.auth.is_empty() {
        let mut argv: Vec<&[u8]> = Vec::from([&b"AUTH"[..]]);
        argv.extend(req.auth.iter().map(|a| a.as_slice()));
        encode(&mut request, &argv);
    }
    encode(&mut request, &[b"SELECT", &i64_bytes(req.db)]);
    for (i, payload, ttl) in &moving {
        let ttl = i64_bytes(*ttl as i64);
        let mut argv: Vec<&[u8]> = Vec::from([&b"RESTORE"[..], c.arg(*i), &ttl, payload]);
        if req.replace {
            argv.push(b"REPLACE");
        }
        encode(&mut request, &argv);
    }
    let replies = usize::from(!req.auth.is_empty()) + 1 + moving.len();

    let reply = match s.outbound.as_mut() {
        Some(link) => exchange(link.as_mut(), &req, &request, replies),
        None => Err(OutboundError::Connect),
    };
    let lines = match reply {
        Ok(bytes) => bytes,
        Err(OutboundError::Connect) => return c.out.err("IOERR error or timeout connecting to the client"),
        Err(OutboundError::Write) => return c.out.err("IOERR error or timeout writing to target instance"),
        Err(OutboundError::Read) => return c.out.err("IOERR error or timeout reading to target instance"),
    };

    // AUTH and SELECT first: an error there moves nothing.
    let mut lines = lines.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let setup = usize::from(!req.auth.is_empty()) + 1;
    for line in lines.by_ref().take(setup) {
        if let Some(msg) = line.strip_prefix(b"-") {
            return target_error(c, msg);
        }
    }
    let mut failed: Option<Vec<u8>> = None;
    let mut deleted = Vec::new();
    for ((i, _, _), line) in moving.iter().zip(lines) {
        if let Some(msg) = line.strip_prefix(b"-") {
            failed = Some(msg.to_vec());
        } else if !req.copy {
            let key = c.arg(*i).to_vec();
            if s.delete(c.db, &key) {
                s.notify(GENERIC, "del", c.db, &key);
                c.dirty += 1;
                deleted.push(key);
            }
        }
    }
    // Propagated as the DEL of what left (MIGRATE itself is not replayed).
    if !deleted.is_empty() {
        let mut del = Vec::from([b"DEL".to_vec()]);
        del.extend(deleted);
        c.rewrite = Some(Vec::from([del]));
    }
    match failed {
        Some(msg) => target_error(c, &msg),
        None => c.out.ok(),
    }
}

/// `-ERR Target instance replied with error: ...`
fn target_error(c: &mut Ctx, msg: &[u8]) {
    c.out.err(&format!("ERR Target instance replied with error: {}", super::text(msg)));
}

/// Sends `request` and reads `replies` one-line replies (what AUTH, SELECT
/// and RESTORE answer).
fn exchange(link: &mut dyn Outbound, req: &Request, request: &[u8], replies: usize) -> Result<Vec<u8>, OutboundError> {
    let complete = |read: &[u8]| read.iter().filter(|&&b| b == b'\n').count() >= replies;
    link.exchange(&req.host, req.port, request, &complete, req.timeout_ms)
}

/// Parses MIGRATE's arguments; replies the error and returns `None` when
/// they are invalid.
fn parse(c: &mut Ctx) -> Option<Request> {
    let mut req = Request {
        host: c.arg(1).to_vec(),
        port: 0,
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
    // Redis reads the port with atoi: a bad one fails at connection time.
    req.port = core::str::from_utf8(c.arg(2)).ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    req.keys = match keys_from {
        Some(from) => (from..c.argc()).collect(),
        None => Vec::from([3]),
    };
    Some(req)
}
