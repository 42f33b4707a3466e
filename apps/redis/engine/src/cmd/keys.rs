//! Generic keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME,
//! RANDOMKEY, the EXPIRE/TTL family, PERSIST, TOUCH, COPY, MOVE, OBJECT,
//! MEMORY.

use alloc::vec;
use alloc::vec::Vec;

use super::{int_arg, parse_cursor, scan_opts, scan_reply_header, text, unknown_subcommand};
use crate::notify::GENERIC;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::util::{eq_ic, i64_bytes};

pub fn del(s: &mut Server, c: &mut Ctx) {
    let mut n = 0;
    for i in 1..c.argc() {
        let key = c.arg(i).to_vec();
        if s.delete(c.db, &key) {
            s.notify(GENERIC, "del", c.db, &key);
            n += 1;
            c.dirty += 1;
        }
    }
    c.out.int(n);
}

pub fn exists(s: &mut Server, c: &mut Ctx) {
    let mut n = 0;
    for i in 1..c.argc() {
        let key = c.arg(i).to_vec();
        if s.exists(c.db, &key) {
            n += 1;
        }
    }
    c.out.int(n);
}

pub fn type_cmd(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let name = s.peek(c.db, &key).map(|v| v.type_name()).unwrap_or("none");
    c.out.simple(name.as_bytes());
}

pub fn keys(s: &mut Server, c: &mut Ctx) {
    let pat = c.arg(1).to_vec();
    let all = pat == b"*";
    let now = s.now.unix_ms;
    let Some(d) = s.dbs.get(c.db) else { return };
    let start = c.out.begin_deferred();
    let mut n = 0;
    for (k, e) in d.map().iter() {
        if c.out.overflowed() {
            break; // the client is closed by its output limit
        }
        if e.expire_at.is_some_and(|t| t <= now) {
            continue;
        }
        if all || crate::glob::matches(&pat, k, false) {
            c.out.bulk(k);
            n += 1;
        }
    }
    c.out.finish_array(start, n);
}

pub fn scan(s: &mut Server, c: &mut Ctx) {
    let Some(cursor) = parse_cursor(c, 1) else { return };
    let Some(opts) = scan_opts(c, 2, true) else { return };
    let mut found: Vec<Vec<u8>> = Vec::new();
    // The copies are bounded like the reply they become: a huge COUNT
    // cannot copy more keys than the client's output cap holds.
    let room = c.out.room_left();
    let mut held = 0usize;
    let next = match s.dbs.get(c.db) {
        Some(d) => d.map().scan(cursor, opts.count, |k, _| {
            held = held.saturating_add(k.len() + crate::resp::ARG_OVERHEAD);
            if held <= room {
                found.push(k.to_vec());
            }
        }),
        None => 0,
    };
    if held > room {
        c.out.set_overflowed(); // the client is closed by its output limit
        return;
    }
    let mut keys = Vec::with_capacity(found.len());
    for k in found {
        if s.expire_if_needed(c.db, &k) {
            continue;
        }
        if let Some(p) = &opts.pattern
            && !crate::glob::matches(p, &k, false)
        {
            continue;
        }
        if let Some(t) = &opts.type_filter {
            let ty = s.dbs.get(c.db).and_then(|d| d.get(&k)).map(|e| e.value.type_name()).unwrap_or("none");
            if ty.as_bytes() != t.as_slice() {
                continue;
            }
        }
        keys.push(k);
    }
    scan_reply_header(c, next, keys.len());
    for k in keys {
        c.out.bulk(&k);
    }
}

fn rename_generic(s: &mut Server, c: &mut Ctx, nx: bool) {
    let src = c.arg(1).to_vec();
    let dst = c.arg(2).to_vec();
    if !s.exists(c.db, &src) {
        c.out.err("ERR no such key");
        return;
    }
    if src == dst {
        if nx {
            c.out.int(0)
        } else {
            c.out.ok()
        }
        return;
    }
    if s.exists(c.db, &dst) {
        if nx {
            c.out.int(0);
            return;
        }
        s.delete(c.db, &dst);
    }
    // The value moves with its access time / counter, as in Redis.
    let Some(d) = s.dbs.get_mut(c.db) else { return };
    let Some((_, entry)) = d.remove_entry(&src) else { return };
    let slot = d.add(dst.as_slice().into(), entry.value, entry.lru);
    d.set_expire_at(slot, entry.expire_at);
    s.notify(crate::notify::NEW, "new", c.db, &dst);
    s.notify(GENERIC, "rename_from", c.db, &src);
    s.notify(GENERIC, "rename_to", c.db, &dst);
    s.signal_key_created(c.db, &dst);
    s.modified(c, c.db, &src);
    s.modified(c, c.db, &dst);
    if nx { c.out.int(1) } else { c.out.ok() }
}

pub fn rename(s: &mut Server, c: &mut Ctx) {
    rename_generic(s, c, false);
}

pub fn renamenx(s: &mut Server, c: &mut Ctx) {
    rename_generic(s, c, true);
}

pub fn randomkey(s: &mut Server, c: &mut Ctx) {
    for _ in 0..100 {
        let key = {
            let Some(d) = s.dbs.get(c.db) else { break };
            let Some((k, _)) = d.map().random(&mut s.rng) else { break };
            k.to_vec()
        };
        if s.expire_if_needed(c.db, &key) {
            continue;
        }
        c.out.bulk(&key);
        return;
    }
    c.out.null();
}

/// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT.
fn expire_generic(s: &mut Server, c: &mut Ctx, relative: bool, seconds: bool) {
    let key = c.arg(1).to_vec();
    let Some(mut when) = int_arg(c, 2) else { return };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 3..c.argc() {
        let o = c.arg(i).to_ascii_lowercase();
        match o.as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                let t = text(c.arg(i));
                c.out.err(&alloc::format!("ERR Unsupported option {t}"));
                return;
            }
        }
    }
    if nx && (xx || gt || lt) {
        c.out.err("ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if gt && lt {
        c.out.err("ERR GT and LT options at the same time are not compatible");
        return;
    }
    let invalid = |c: &mut Ctx| {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR invalid expire time in '{name}' command"));
    };
    if seconds {
        match when.checked_mul(1000) {
            Some(v) => when = v,
            None => return invalid(c),
        }
    }
    if relative {
        match when.checked_add(s.now.unix_ms as i64) {
            Some(v) => when = v,
            None => return invalid(c),
        }
    }
    if !s.exists(c.db, &key) {
        c.out.int(0);
        return;
    }
    if nx || xx || gt || lt {
        let current = s.expire_of(c.db, &key).map(|t| t as i64);
        let skip = (nx && current.is_some())
            || (xx && current.is_none())
            || (gt && current.is_none_or(|cur| when <= cur))
            || (lt && current.is_some_and(|cur| when >= cur));
        if skip {
            c.out.int(0);
            return;
        }
    }
    if when <= s.expiry_now() as i64 {
        s.delete(c.db, &key);
        s.notify(GENERIC, "del", c.db, &key);
        c.dirty += 1;
        c.propagate_as(vec![vec![b"DEL".to_vec(), key.clone()]]);
        c.out.int(1);
        return;
    }
    s.set_expire(c.db, &key, Some(when as u64));
    s.notify(GENERIC, "expire", c.db, &key);
    s.modified(c, c.db, &key);
    c.propagate_as(vec![vec![b"PEXPIREAT".to_vec(), key, i64_bytes(when)]]);
    c.out.int(1);
}

pub fn expire(s: &mut Server, c: &mut Ctx) {
    expire_generic(s, c, true, true);
}
pub fn pexpire(s: &mut Server, c: &mut Ctx) {
    expire_generic(s, c, true, false);
}
pub fn expireat(s: &mut Server, c: &mut Ctx) {
    expire_generic(s, c, false, true);
}
pub fn pexpireat(s: &mut Server, c: &mut Ctx) {
    expire_generic(s, c, false, false);
}

/// TTL family: `ms` for millisecond output, `absolute` for *EXPIRETIME.
fn ttl_generic(s: &mut Server, c: &mut Ctx, ms: bool, absolute: bool) {
    let key = c.arg(1).to_vec();
    if !s.exists(c.db, &key) {
        c.out.int(-2);
        return;
    }
    let Some(at) = s.expire_of(c.db, &key) else {
        c.out.int(-1);
        return;
    };
    let v = if absolute {
        if ms { at } else { at / 1000 }
    } else {
        let left = at.saturating_sub(s.now.unix_ms);
        if ms { left } else { (left + 500) / 1000 }
    };
    c.out.int(v as i64);
}

pub fn ttl(s: &mut Server, c: &mut Ctx) {
    ttl_generic(s, c, false, false);
}
pub fn pttl(s: &mut Server, c: &mut Ctx) {
    ttl_generic(s, c, true, false);
}
pub fn expiretime(s: &mut Server, c: &mut Ctx) {
    ttl_generic(s, c, false, true);
}
pub fn pexpiretime(s: &mut Server, c: &mut Ctx) {
    ttl_generic(s, c, true, true);
}

pub fn persist(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    if s.exists(c.db, &key) && s.expire_of(c.db, &key).is_some() {
        s.set_expire(c.db, &key, None);
        s.notify(GENERIC, "persist", c.db, &key);
        s.modified(c, c.db, &key);
        c.out.int(1);
    } else {
        c.out.int(0);
    }
}

pub fn touch(s: &mut Server, c: &mut Ctx) {
    let mut n = 0;
    for i in 1..c.argc() {
        let key = c.arg(i).to_vec();
        if s.read(c.db, &key).is_some() {
            n += 1;
        }
    }
    c.out.int(n);
}

pub fn copy(s: &mut Server, c: &mut Ctx) {
    let src = c.arg(1).to_vec();
    let dst = c.arg(2).to_vec();
    let mut dst_db = c.db;
    let mut replace = false;
    let mut i = 3;
    while i < c.argc() {
        if eq_ic(c.arg(i), "replace") {
            replace = true;
            i += 1;
        } else if eq_ic(c.arg(i), "db") && i + 1 < c.argc() {
            let Some(n) = int_arg(c, i + 1) else { return };
            if n < 0 || n as u64 >= s.dbs.len() as u64 {
                c.out.err("ERR DB index is out of range");
                return;
            }
            dst_db = n as usize;
            i += 2;
        } else {
            c.syntax_error();
            return;
        }
    }
    if src == dst && dst_db == c.db {
        c.out.err("ERR source and destination objects are the same");
        return;
    }
    let Some(growth) = s.peek(c.db, &src).map(|v| v.clone_mem()) else {
        c.out.int(0);
        return;
    };
    if !replace && s.exists(dst_db, &dst) {
        c.out.int(0);
        return;
    }
    // The copy is new memory a short request asks for: check it first.
    if !s.reserve_growth(growth) {
        c.oom();
        return;
    }
    let seed = s.new_seed();
    let v = match s.peek(c.db, &src).map(|v| v.deep_clone(seed)) {
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            c.oom();
            return;
        }
        // Evicted to make room.
        None => {
            c.out.int(0);
            return;
        }
    };
    let ttl = s.expire_of(c.db, &src);
    s.delete(dst_db, &dst);
    s.store(dst_db, &dst, v, false);
    s.set_expire(dst_db, &dst, ttl);
    s.notify(GENERIC, "copy_to", dst_db, &dst);
    s.modified(c, dst_db, &dst);
    c.out.int(1);
}

pub fn move_cmd(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let Some(n) = int_arg(c, 2) else { return };
    if n < 0 || n as u64 >= s.dbs.len() as u64 {
        c.out.err("ERR DB index is out of range");
        return;
    }
    let dst_db = n as usize;
    if dst_db == c.db {
        c.out.err("ERR source and destination objects are the same");
        return;
    }
    if !s.exists(c.db, &key) || s.exists(dst_db, &key) {
        c.out.int(0);
        return;
    }
    if !s.reserve_new_key(dst_db) {
        c.oom();
        return;
    }
    let Some((k, entry)) = s.dbs.get_mut(c.db).and_then(|d| d.remove_entry(&key)) else {
        c.out.int(0);
        return;
    };
    if let Some(d) = s.dbs.get_mut(dst_db) {
        let slot = d.add(k, entry.value, entry.lru);
        d.set_expire_at(slot, entry.expire_at);
    }
    s.notify(crate::notify::NEW, "new", dst_db, &key);
    s.notify(GENERIC, "move_from", c.db, &key);
    s.notify(GENERIC, "move_to", dst_db, &key);
    s.signal_key_created(dst_db, &key);
    s.modified(c, c.db, &key);
    s.touch_watched(dst_db, &key);
    c.out.int(1);
}

pub fn object(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    if sub.as_slice() == b"help" {
        let lines: &[&[u8]] = &[
            b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"ENCODING <key>",
            b"FREQ <key>",
            b"IDLETIME <key>",
            b"REFCOUNT <key>",
            b"HELP",
        ];
        c.out.help(lines);
        return;
    }
    if !matches!(sub.as_slice(), b"encoding" | b"freq" | b"idletime" | b"refcount") {
        unknown_subcommand(c);
        return;
    }
    if c.argc() != 3 {
        super::sub_arity_error(c);
        return;
    }
    let key = c.arg(2).to_vec();
    if !s.exists(c.db, &key) {
        c.out.null();
        return;
    }
    let clock = s.lru_clock();
    let policy = s.cfg.maxmemory_policy;
    let Some(e) = s.dbs.get(c.db).and_then(|d| d.get(&key)) else {
        c.out.null();
        return;
    };
    match sub.as_slice() {
        b"encoding" => {
            let enc = match &e.value {
                Value::Str(_) => e.value.encoding(),
                v => v.encoding(),
            };
            c.out.bulk(enc.as_bytes());
        }
        b"refcount" => c.out.int(1),
        b"idletime" => {
            if policy.is_lfu() {
                c.out.err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
                return;
            }
            c.out.int(i64::from(clock.wrapping_sub(e.lru)));
        }
        _ => {
            if !policy.is_lfu() {
                c.out.err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
                return;
            }
            let lru = e.lru;
            c.out.int(i64::from(s.lfu_count(lru)));
        }
    }
}
