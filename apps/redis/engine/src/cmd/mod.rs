//! Command handlers, one module per command family, plus small argument
//! helpers shared by them.

pub mod bitfield;
pub mod bitmap;
pub mod client;
pub mod config;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod info;
pub mod keys;
pub mod latency;
pub mod lcs;
pub mod list;
pub mod memory;
pub mod migrate;
pub mod multi;
pub mod persist;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod stream_group;
pub mod stream_read;
pub mod string;
pub mod zset;
pub mod zset_pop;
pub mod zsetops;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::server::{Ctx, Server};
use crate::types::{Container, Value};
use crate::util::parse_i64;

/// The type check a collection command starts with: `Ok(whether the key
/// exists)`, or `Err` after replying WRONGTYPE when it holds another type.
pub(crate) fn check_type<T: Container>(s: &mut Server, c: &mut Ctx, key: &[u8]) -> Result<bool, ()> {
    match s.peek(c.db, key) {
        None => Ok(false),
        Some(value) if T::of(value).is_some() => Ok(true),
        Some(_) => {
            c.wrongtype();
            Err(())
        }
    }
}

/// `check_type` for a command with nothing to do on a missing key: true when
/// `key` holds a `T`; otherwise false, after replying WRONGTYPE or, for a
/// missing key, `missing`.
pub(crate) fn require<T: Container>(s: &mut Server, c: &mut Ctx, key: &[u8], missing: impl FnOnce(&mut Ctx)) -> bool {
    match check_type::<T>(s, c, key) {
        Ok(true) => true,
        Ok(false) => {
            missing(c);
            false
        }
        Err(()) => false,
    }
}

/// The `T` in `value` (what `Server::read` and co. returned): `None` after
/// replying `missing` when there is no value, or WRONGTYPE when it is
/// another type.
pub(crate) fn read_as<'v, T: Container>(
    value: Option<&'v Value>,
    c: &mut Ctx,
    missing: impl FnOnce(&mut Ctx),
) -> Option<&'v T> {
    match value {
        None => {
            missing(c);
            None
        }
        Some(v) => {
            let found = T::of(v);
            if found.is_none() {
                c.wrongtype();
            }
            found
        }
    }
}

/// Runs `f` on the collection at `key`, creating an empty one first if the
/// key is missing; `None` if the key holds another type.
pub(crate) fn with_container<T: Container, R>(
    s: &mut Server,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut T) -> R,
) -> Option<R> {
    if s.peek(db, key).is_none() {
        let seed = s.new_seed();
        s.store(db, key, T::new_empty(seed).into_value(), false);
    }
    let mut value = s.write(db, key)?;
    T::of_mut(&mut value).map(f)
}

/// How many of `members` the collection at `key` lacks (an upper bound of
/// what adding them inserts; 0 when the key is missing or another type).
pub(crate) fn count_new<'m, T: Container>(
    s: &mut Server,
    db: usize,
    key: &[u8],
    members: impl Iterator<Item = &'m [u8]>,
) -> usize {
    match s.peek(db, key).and_then(T::of) {
        Some(t) => members.filter(|m| !t.has(m)).count(),
        None => 0,
    }
}

/// Makes room in the existing collection at `key` for `additional` new
/// elements before they are added: its arrays grow by doubling, in one
/// piece, so one short request can ask for megabytes. The growth passes
/// [`Server::reserve_growth`] (eviction or refusal past the hard memory
/// ceiling) and is then reserved fallibly. Replies -OOM and returns false when refused.
/// (A new collection's first arrays are bounded by the request itself.)
pub(crate) fn reserve_elements<T: Container>(s: &mut Server, c: &mut Ctx, key: &[u8], additional: usize) -> bool {
    let growth = match s.peek(c.db, key).and_then(T::of) {
        Some(t) if additional > 0 => t.growth_bytes(additional),
        _ => return true,
    };
    if growth > 0 && !s.reserve_growth(growth) {
        c.oom();
        return false;
    }
    let reserved = match s.write(c.db, key) {
        Some(mut v) => T::of_mut(&mut v).is_none_or(|t| t.try_reserve(additional).is_ok()),
        None => true,
    };
    if !reserved {
        c.oom();
    }
    reserved
}

/// HDEL, SREM, ZREM: removes the members named by `argv[2..]` from the
/// container at `argv[1]`, deletes the key once it is empty, and replies with
/// how many were removed. `T` is the container type; `remove` removes the
/// members from the stored container and counts the ones that were there.
pub fn remove_members<T: Container>(
    s: &mut Server,
    c: &mut Ctx,
    (class, event): (u32, &str),
    remove: impl FnOnce(&mut Server, usize, &[u8], &[Vec<u8>]) -> Option<usize>,
) {
    let key = c.arg(1).to_vec();
    if !require::<T>(s, c, &key, |c| c.out.int(0)) {
        return;
    }
    let n = remove(s, c.db, &key, &c.argv[2..]).unwrap_or(0);
    s.delete_if_empty(c.db, &key);
    if n > 0 {
        s.notify_removal(class, event, c.db, &key);
        s.modified(c, c.db, &key);
    }
    c.out.int(n as i64);
}

/// Parses argument `i` as an integer, replying the standard error if not.
pub fn int_arg(c: &mut Ctx, i: usize) -> Option<i64> {
    let v = parse_i64(c.arg(i));
    if v.is_none() {
        c.not_integer();
    }
    v
}

/// Parses argument `i` as a float, replying the standard error if not.
pub fn float_arg(c: &mut Ctx, i: usize) -> Option<f64> {
    let v = crate::util::parse_f64(c.arg(i));
    if v.is_none() {
        c.not_float();
    }
    v
}

/// The optional COUNT of LPOP/RPOP, SPOP and ZPOPMIN/ZPOPMAX at argument `i`:
/// `Ok(None)` when absent, `Err` after replying the error when it is negative
/// or not an integer.
pub(crate) fn pop_count_arg(c: &mut Ctx, i: usize) -> Result<Option<usize>, ()> {
    if c.argc() <= i {
        return Ok(None);
    }
    match parse_i64(c.arg(i)) {
        Some(n) if n >= 0 => Ok(Some(n as usize)),
        _ => {
            c.out.err("ERR value is out of range, must be positive");
            Err(())
        }
    }
}

/// The optional COUNT of HRANDFIELD/SRANDMEMBER at argument `i` (negative:
/// with repetitions); `Err` after replying the error when it is invalid.
pub(crate) fn rand_count_arg(c: &mut Ctx, i: usize) -> Result<Option<i64>, ()> {
    if c.argc() <= i {
        return Ok(None);
    }
    let Some(n) = int_arg(c, i) else { return Err(()) };
    if n <= -(i64::MAX / 2) {
        c.out.err("ERR value is out of range");
        return Err(());
    }
    Ok(Some(n))
}

/// Replies an empty array when `as_array` (a COUNT was given), else a null:
/// what the optional-COUNT commands reply for a missing key.
pub fn empty_array_or_null(c: &mut Ctx, as_array: bool) {
    if as_array { c.out.array(0) } else { c.out.null() }
}

/// Text of an argument (lossy), for error messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `-ERR unknown subcommand 'x'. Try CMD HELP.`
pub fn unknown_subcommand(c: &mut Ctx) {
    let sub = text(c.arg(1));
    let cmd = c.spec.name.to_ascii_uppercase();
    c.out.err(&format!("ERR unknown subcommand '{sub}'. Try {cmd} HELP."));
}

/// Arity error for a subcommand, named like Redis ("config|get").
pub fn sub_arity_error(c: &mut Ctx) {
    let sub = text(c.arg(1)).to_ascii_lowercase();
    c.out.err(&format!("ERR wrong number of arguments for '{}|{}' command", c.spec.name, sub));
}

/// Converts a possibly negative index into a position within `len`
/// (Redis's start/end normalisation). Returns None for an empty range.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len.saturating_add(start) } else { start };
    let mut end = if end < 0 { len.saturating_add(end) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

/// Parses SCAN-family options (MATCH, COUNT, TYPE when allowed) starting
/// at argument `from`. Replies the error and returns None when invalid.
pub struct ScanOpts {
    pub pattern: Option<alloc::vec::Vec<u8>>,
    pub count: usize,
    pub type_filter: Option<alloc::vec::Vec<u8>>,
}

pub fn scan_opts(c: &mut Ctx, from: usize, allow_type: bool) -> Option<ScanOpts> {
    let mut o = ScanOpts { pattern: None, count: 10, type_filter: None };
    let mut i = from;
    while i < c.argc() {
        let opt = c.arg(i).to_ascii_lowercase();
        if i + 1 >= c.argc() {
            c.syntax_error();
            return None;
        }
        match opt.as_slice() {
            b"count" => {
                let n = int_arg(c, i + 1)?;
                if n < 1 {
                    c.syntax_error();
                    return None;
                }
                o.count = n as usize;
            }
            b"match" => {
                let p = c.arg(i + 1).to_vec();
                // A lone "*" matches everything (Redis skips matching).
                o.pattern = if p == b"*" { None } else { Some(p) };
            }
            b"type" if allow_type => o.type_filter = Some(c.arg(i + 1).to_ascii_lowercase()),
            _ => {
                c.syntax_error();
                return None;
            }
        }
        i += 2;
    }
    Some(o)
}

/// Parses a SCAN cursor (unsigned decimal).
pub fn parse_cursor(c: &mut Ctx, i: usize) -> Option<u64> {
    let a = c.arg(i);
    let ok = !a.is_empty() && a.len() <= 20 && a.iter().all(|b| b.is_ascii_digit());
    let v = if ok { core::str::from_utf8(a).ok().and_then(|s| s.parse::<u64>().ok()) } else { None };
    if v.is_none() {
        c.out.err("ERR invalid cursor");
    }
    v
}

/// Writes the `[cursor, [items...]]` SCAN reply header.
pub fn scan_reply_header(c: &mut Ctx, cursor: u64, n: usize) {
    c.out.array(2);
    let s = alloc::format!("{cursor}");
    c.out.bulk(s.as_bytes());
    c.out.array(n);
}
