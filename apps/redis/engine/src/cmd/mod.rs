//! Command handlers, one module per command family, plus small argument
//! helpers shared by them.

pub mod hash;
pub mod keys;
pub mod list;
pub mod multi;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod string;
pub mod zset;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::server::{Ctx, Server};
use crate::types::Container;
use crate::util::parse_i64;

/// Parses argument `i` as an integer, replying the standard error if not.
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

/// HDEL, SREM, ZREM: removes the members named by `argv[2..]` from the
/// container at `argv[1]`, deletes the key once it is empty, and replies with
/// how many were removed. `check` is the type's check (`Err`: WRONGTYPE was
/// replied, `Ok(false)`: no such key); `remove` removes the members from the
/// stored container and counts the ones that were there.
pub fn remove_members(
    s: &mut Server,
    c: &mut Ctx,
    check: fn(&mut Server, &mut Ctx, &[u8]) -> Result<bool, ()>,
    remove: impl FnOnce(&mut Server, usize, &[u8], &[Vec<u8>]) -> Option<usize>,
) {
    let key = c.arg(1).to_vec();
    match check(s, c, &key) {
        Err(()) => return,
        Ok(false) => {
            c.out.int(0);
            return;
        }
        Ok(true) => {}
    }
    let n = remove(s, c.db, &key, &c.argv[2..]).unwrap_or(0);
    s.delete_if_empty(c.db, &key);
    if n > 0 {
        s.modified(c, c.db, &key);
    }
    c.out.int(n as i64);
}

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
