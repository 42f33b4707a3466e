//! String commands: GET/SET family, MGET/MSET, counters, APPEND, ranges,
//! and the growth path the bit commands (`cmd::bitmap`, `cmd::bitfield`)
//! share with them.

use alloc::vec;
use alloc::vec::Vec;

use super::int_arg;
use crate::longdouble::{self, LongDouble};
use crate::mem;
use crate::notify::{GENERIC, STRING};
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::util::{eq_ic, i64_bytes, parse_i64};

const TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// Up to this length a growing string doubles its capacity; beyond, it
/// gets this much spare room (Redis's `sdsMakeRoomFor` greedy growth, so
/// APPEND to a 40 MB string reserves 1 MB more, not 40).
const GREEDY_MAX_SPARE: usize = 1024 * 1024;

/// The capacity a string grows to when it must hold `need` bytes.
fn greedy_capacity(need: usize) -> usize {
    if need < GREEDY_MAX_SPARE { need.saturating_mul(2) } else { need.saturating_add(GREEDY_MAX_SPARE) }
}

/// Makes the string at `key` at least `need(current length)` bytes long,
/// zero-filled, creating it when missing (the caller checked the type): the
/// one growth path of APPEND, SETRANGE, SETBIT and BITFIELD. The memory check
/// ([`Server::reserve_growth`]) comes first and the allocation is fallible;
/// when either refuses, replies -OOM, changes nothing and returns `None`.
/// Otherwise returns the length the string had.
pub(super) fn grow_string(s: &mut Server, c: &mut Ctx, key: &[u8], need: impl Fn(usize) -> usize) -> Option<usize> {
    let growth = match s.peek(c.db, key) {
        Some(Value::Str(cur)) if need(cur.len()) > cur.capacity() => {
            mem::block(greedy_capacity(need(cur.len()))) - mem::block(cur.capacity())
        }
        Some(_) => 0,
        None => mem::block(need(0)),
    };
    if !s.reserve_growth(growth) {
        c.oom();
        return None;
    }
    // The check may have evicted the key itself: then it starts afresh.
    let grown = if let Some(mut v) = s.write(c.db, key) {
        match &mut *v {
            Value::Str(cur) => {
                let (len, need) = (cur.len(), need(cur.len()));
                if need > cur.capacity() && cur.try_reserve_exact(greedy_capacity(need) - len).is_err() {
                    None
                } else {
                    cur.resize(need.max(len), 0);
                    Some(len)
                }
            }
            _ => return None,
        }
    } else {
        let mut buf = Vec::new();
        if buf.try_reserve_exact(need(0)).is_err() {
            None
        } else {
            buf.resize(need(0), 0);
            s.store(c.db, key, Value::Str(buf), false);
            Some(0)
        }
    };
    if grown.is_none() {
        c.oom();
    }
    grown
}

pub fn get(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.null(),
        // Serialized straight from the stored bytes.
        Some(Value::Str(v)) => c.out.bulk(v),
        Some(_) => c.wrongtype(),
    }
}

/// Expiry option of SET/GETEX.
#[derive(Clone, Copy, PartialEq)]
enum Ttl {
    None,
    Keep,
    Persist,
    /// Absolute unix ms (may be in the past).
    At(i64),
}

/// Parses `EX s | PX ms | EXAT ts | PXAT ms-ts` at `i` into an absolute time.
fn parse_ttl(c: &mut Ctx, opt: &[u8], i: usize, now_ms: u64) -> Result<i64, ()> {
    let Some(v) = parse_i64(c.arg(i)) else {
        c.not_integer();
        return Err(());
    };
    let invalid = |c: &mut Ctx| {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR invalid expire time in '{name}' command"));
    };
    if v <= 0 {
        invalid(c);
        return Err(());
    }
    let seconds = eq_ic(opt, "ex") || eq_ic(opt, "exat");
    let relative = eq_ic(opt, "ex") || eq_ic(opt, "px");
    let mut when = v;
    if seconds {
        match when.checked_mul(1000) {
            Some(x) => when = x,
            None => {
                invalid(c);
                return Err(());
            }
        }
    }
    if relative {
        match when.checked_add(now_ms as i64) {
            Some(x) => when = x,
            None => {
                invalid(c);
                return Err(());
            }
        }
    }
    Ok(when)
}

/// Applies a TTL to a just-written key; an absolute time in the past deletes it.
fn apply_ttl(s: &mut Server, db: usize, key: &[u8], ttl: Ttl) {
    match ttl {
        Ttl::At(when) if when <= s.expiry_now() as i64 => {
            // Redis 7.0 sets the TTL and the key expires on its next lookup.
            s.notify(GENERIC, "expire", db, key);
            s.delete(db, key);
            s.notify(crate::notify::EXPIRED, "expired", db, key);
        }
        Ttl::At(when) => {
            s.set_expire(db, key, Some(when as u64));
            s.notify(GENERIC, "expire", db, key);
        }
        Ttl::Persist => s.set_expire(db, key, None),
        Ttl::None | Ttl::Keep => {}
    }
}

/// Options of SET (NX, XX, GET, KEEPTTL and an expiry) or GETEX (PERSIST
/// and an expiry).
#[derive(Clone, Copy)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Ttl,
}

/// Parses SET's options (`is_set`) or GETEX's, from argument `from`;
/// replies the error and returns `Err` when they are invalid.
fn parse_set_opts(c: &mut Ctx, from: usize, now_ms: u64, is_set: bool) -> Result<SetOpts, ()> {
    let mut o = SetOpts { nx: false, xx: false, get: false, ttl: Ttl::None };
    let mut i = from;
    while i < c.argc() {
        let opt = c.arg(i).to_ascii_lowercase();
        let has_next = i + 1 < c.argc();
        match opt.as_slice() {
            b"nx" if is_set && !o.xx => o.nx = true,
            b"xx" if is_set && !o.nx => o.xx = true,
            b"get" if is_set => o.get = true,
            b"keepttl" if is_set && o.ttl == Ttl::None => o.ttl = Ttl::Keep,
            b"persist" if !is_set && o.ttl == Ttl::None => o.ttl = Ttl::Persist,
            b"ex" | b"px" | b"exat" | b"pxat" if o.ttl == Ttl::None && has_next => {
                o.ttl = Ttl::At(parse_ttl(c, &opt, i + 1, now_ms)?);
                i += 1;
            }
            _ => {
                c.syntax_error();
                return Err(());
            }
        }
        i += 1;
    }
    Ok(o)
}

pub fn set(s: &mut Server, c: &mut Ctx) {
    let Ok(SetOpts { nx, xx, get, ttl }) = parse_set_opts(c, 3, s.now.unix_ms, true) else { return };
    let key = c.arg(1).to_vec();
    let old: Option<Vec<u8>> = match s.peek(c.db, &key) {
        Some(Value::Str(v)) => Some(if get { v.clone() } else { Vec::new() }),
        Some(_) if get => {
            c.wrongtype();
            return;
        }
        Some(_) => Some(Vec::new()),
        None => None,
    };
    let exists = old.is_some();
    let reply_old = |c: &mut Ctx, old: &Option<Vec<u8>>| match old {
        Some(v) => c.out.bulk(v),
        None => c.out.null(),
    };
    if (nx && exists) || (xx && !exists) {
        if get {
            reply_old(c, &old)
        } else {
            c.out.null()
        }
        return;
    }
    let val = c.take_arg(2);
    if c.keep_argv {
        let mut cmd = vec![b"SET".to_vec(), key.clone(), c.arg(2).to_vec()];
        match ttl {
            Ttl::At(when) => {
                cmd.push(b"PXAT".to_vec());
                cmd.push(i64_bytes(when));
            }
            Ttl::Keep => cmd.push(b"KEEPTTL".to_vec()),
            _ => {}
        }
        c.propagate_as(vec![cmd]);
    }
    s.store(c.db, &key, Value::Str(val), ttl == Ttl::Keep);
    s.notify(STRING, "set", c.db, &key);
    apply_ttl(s, c.db, &key, ttl);
    s.modified(c, c.db, &key);
    if get { reply_old(c, &old) } else { c.out.ok() }
}

pub fn setnx(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    if s.exists(c.db, &key) {
        c.out.int(0);
        return;
    }
    let val = c.take_arg(2);
    s.store(c.db, &key, Value::Str(val), false);
    s.notify(STRING, "set", c.db, &key);
    s.modified(c, c.db, &key);
    c.out.int(1);
}

fn setex_generic(s: &mut Server, c: &mut Ctx, unit: &str) {
    let Ok(when) = parse_ttl(c, unit.as_bytes(), 2, s.now.unix_ms) else { return };
    let key = c.arg(1).to_vec();
    let val = c.take_arg(3);
    if c.keep_argv {
        let cmd = vec![b"SET".to_vec(), key.clone(), c.arg(3).to_vec(), b"PXAT".to_vec(), i64_bytes(when)];
        c.propagate_as(vec![cmd]);
    }
    s.store(c.db, &key, Value::Str(val), false);
    s.notify(STRING, "set", c.db, &key);
    apply_ttl(s, c.db, &key, Ttl::At(when));
    s.modified(c, c.db, &key);
    c.out.ok();
}

pub fn setex(s: &mut Server, c: &mut Ctx) {
    setex_generic(s, c, "ex");
}

pub fn psetex(s: &mut Server, c: &mut Ctx) {
    setex_generic(s, c, "px");
}

pub fn mget(s: &mut Server, c: &mut Ctx) {
    c.out.array(c.argc() - 1);
    for i in 1..c.argv.len() {
        match s.read(c.db, &c.argv[i]) {
            Some(Value::Str(v)) => c.out.bulk(v),
            _ => c.out.null(),
        }
    }
}

fn mset_generic(s: &mut Server, c: &mut Ctx, nx: bool) {
    if c.argc().is_multiple_of(2) {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR wrong number of arguments for '{name}' command"));
        return;
    }
    if nx {
        for i in (1..c.argc()).step_by(2) {
            let key = c.arg(i).to_vec();
            if s.exists(c.db, &key) {
                c.out.int(0);
                return;
            }
        }
    }
    for i in (1..c.argc()).step_by(2) {
        let key = c.arg(i).to_vec();
        let val = c.take_arg(i + 1);
        s.store(c.db, &key, Value::Str(val), false);
        s.notify(STRING, "set", c.db, &key);
        s.modified(c, c.db, &key);
    }
    if nx { c.out.int(1) } else { c.out.ok() }
}

pub fn mset(s: &mut Server, c: &mut Ctx) {
    mset_generic(s, c, false);
}

pub fn msetnx(s: &mut Server, c: &mut Ctx) {
    mset_generic(s, c, true);
}

/// The current string at `key`: Ok(None) when absent, Err after WRONGTYPE.
fn current_string(s: &mut Server, c: &mut Ctx, key: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    match s.read(c.db, key) {
        None => Ok(None),
        Some(Value::Str(v)) => Ok(Some(v.clone())),
        Some(_) => {
            c.wrongtype();
            Err(())
        }
    }
}

pub fn getset(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let Ok(old) = current_string(s, c, &key) else { return };
    let val = c.take_arg(2);
    s.store(c.db, &key, Value::Str(val), false);
    s.notify(STRING, "set", c.db, &key);
    s.modified(c, c.db, &key);
    match old {
        Some(v) => c.out.bulk(&v),
        None => c.out.null(),
    }
}

pub fn getdel(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let Ok(old) = current_string(s, c, &key) else { return };
    match old {
        Some(v) => {
            s.delete(c.db, &key);
            s.notify(GENERIC, "del", c.db, &key);
            s.modified(c, c.db, &key);
            c.out.bulk(&v);
            // Propagated as DEL, as Redis does.
            c.propagate_as(vec![vec![b"DEL".to_vec(), key]]);
        }
        None => c.out.null(),
    }
}

pub fn getex(s: &mut Server, c: &mut Ctx) {
    let Ok(SetOpts { ttl, .. }) = parse_set_opts(c, 2, s.now.unix_ms, false) else { return };
    let key = c.arg(1).to_vec();
    let Ok(old) = current_string(s, c, &key) else { return };
    let Some(v) = old else {
        c.out.null();
        return;
    };
    match ttl {
        Ttl::At(when) if when <= s.expiry_now() as i64 => {
            s.delete(c.db, &key);
            s.notify(GENERIC, "del", c.db, &key);
            s.modified(c, c.db, &key);
            c.propagate_as(vec![vec![b"DEL".to_vec(), key.clone()]]);
        }
        Ttl::At(when) => {
            s.set_expire(c.db, &key, Some(when as u64));
            s.notify(GENERIC, "expire", c.db, &key);
            s.modified(c, c.db, &key);
            c.propagate_as(vec![vec![b"PEXPIREAT".to_vec(), key.clone(), i64_bytes(when)]]);
        }
        Ttl::Persist if s.expire_of(c.db, &key).is_some() => {
            s.set_expire(c.db, &key, None);
            s.notify(GENERIC, "persist", c.db, &key);
            s.modified(c, c.db, &key);
            c.propagate_as(vec![vec![b"PERSIST".to_vec(), key.clone()]]);
        }
        _ => {}
    }
    c.out.bulk(&v);
}

pub fn append(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let max = s.cfg.proto_max_bulk_len;
    let add = c.argv[2].len();
    let len = match s.peek(c.db, &key) {
        Some(Value::Str(cur)) => {
            if cur.len().saturating_add(add) > max {
                c.out.err(TOO_BIG);
                return;
            }
            let Some(at) = grow_string(s, c, &key, |len| len + add) else { return };
            let Some(mut v) = s.write(c.db, &key) else { return };
            let Value::Str(cur) = &mut *v else { return };
            cur[at..at + add].copy_from_slice(&c.argv[2]);
            cur.len()
        }
        Some(_) => {
            c.wrongtype();
            return;
        }
        None => {
            let val = c.take_arg(2);
            let n = val.len();
            s.store(c.db, &key, Value::Str(val), false);
            n
        }
    };
    s.notify(STRING, "append", c.db, &key);
    s.modified(c, c.db, &key);
    c.out.int(len as i64);
}

pub fn strlen(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Str(v)) => c.out.int(v.len() as i64),
        Some(_) => c.wrongtype(),
    }
}

fn incr_generic(s: &mut Server, c: &mut Ctx, by: i64) {
    let key = c.arg(1).to_vec();
    let cur = match s.peek(c.db, &key) {
        None => 0,
        Some(Value::Str(v)) => match parse_i64(v) {
            Some(n) => n,
            None => {
                c.not_integer();
                return;
            }
        },
        Some(_) => {
            c.wrongtype();
            return;
        }
    };
    let Some(new) = cur.checked_add(by) else {
        c.out.err("ERR increment or decrement would overflow");
        return;
    };
    let bytes = i64_bytes(new);
    s.store(c.db, &key, Value::Str(bytes), true);
    s.notify(STRING, "incrby", c.db, &key);
    s.modified(c, c.db, &key);
    c.out.int(new);
}

pub fn incr(s: &mut Server, c: &mut Ctx) {
    incr_generic(s, c, 1);
}

pub fn decr(s: &mut Server, c: &mut Ctx) {
    incr_generic(s, c, -1);
}

pub fn incrby(s: &mut Server, c: &mut Ctx) {
    let Some(by) = int_arg(c, 2) else { return };
    incr_generic(s, c, by);
}

pub fn decrby(s: &mut Server, c: &mut Ctx) {
    let Some(by) = int_arg(c, 2) else { return };
    let Some(neg) = by.checked_neg() else {
        c.out.err("ERR decrement would overflow");
        return;
    };
    incr_generic(s, c, neg);
}

pub fn incrbyfloat(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let cur = match s.peek(c.db, &key) {
        None => LongDouble::ZERO,
        Some(Value::Str(v)) => match longdouble::parse(v) {
            Some(n) => n,
            None => {
                c.not_float();
                return;
            }
        },
        Some(_) => {
            c.wrongtype();
            return;
        }
    };
    let Some(by) = longdouble::parse(c.arg(2)) else {
        c.not_float();
        return;
    };
    let Some(new) = cur.plus(by).filter(LongDouble::is_finite) else {
        c.out.err("ERR increment would produce NaN or Infinity");
        return;
    };
    let bytes = new.to_human();
    s.store(c.db, &key, Value::Str(bytes.clone()), true);
    s.notify(STRING, "incrbyfloat", c.db, &key);
    s.modified(c, c.db, &key);
    c.propagate_as(vec![vec![b"SET".to_vec(), key, bytes.clone(), b"KEEPTTL".to_vec()]]);
    c.out.bulk(&bytes);
}

pub fn getrange(s: &mut Server, c: &mut Ctx) {
    let Some(mut start) = int_arg(c, 2) else { return };
    let Some(mut end) = int_arg(c, 3) else { return };
    let v = match s.read(c.db, &c.argv[1]) {
        None => {
            c.out.bulk(b"");
            return;
        }
        Some(Value::Str(v)) => v,
        Some(_) => {
            c.wrongtype();
            return;
        }
    };
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        c.out.bulk(b"");
        return;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        c.out.bulk(b"");
        return;
    }
    c.out.bulk(&v[start as usize..=end as usize]);
}

pub fn setrange(s: &mut Server, c: &mut Ctx) {
    let Some(offset) = int_arg(c, 2) else { return };
    if offset < 0 {
        c.out.err("ERR offset is out of range");
        return;
    }
    let key = c.arg(1).to_vec();
    let max = s.cfg.proto_max_bulk_len as u64;
    let val_len = c.argv[3].len();
    let too_big = (offset as u64).saturating_add(val_len as u64) > max;
    match s.peek(c.db, &key) {
        None => {
            if val_len == 0 {
                c.out.int(0);
                return;
            }
            if too_big {
                c.out.err(TOO_BIG);
                return;
            }
            setrange_write(s, c, &key, offset as usize);
        }
        Some(Value::Str(cur)) => {
            if val_len == 0 {
                c.out.int(cur.len() as i64);
                return;
            }
            if too_big {
                c.out.err(TOO_BIG);
                return;
            }
            setrange_write(s, c, &key, offset as usize);
        }
        Some(_) => c.wrongtype(),
    }
}

/// SETRANGE once the checks passed: grows the string and writes the value.
fn setrange_write(s: &mut Server, c: &mut Ctx, key: &[u8], offset: usize) {
    let end = offset + c.argv[3].len();
    if grow_string(s, c, key, |_| end).is_none() {
        return;
    }
    let n = {
        let Some(mut v) = s.write(c.db, key) else { return };
        let Value::Str(cur) = &mut *v else { return };
        cur[offset..end].copy_from_slice(&c.argv[3]);
        cur.len()
    };
    s.notify(STRING, "setrange", c.db, key);
    s.modified(c, c.db, key);
    c.out.int(n as i64);
}
