//! Hash commands.

use alloc::vec::Vec;

use super::{
    check_type, count_new, empty_array_or_null, int_arg, parse_cursor, rand_count_arg, read_as, reserve_elements,
    scan_opts, scan_reply_header, with_container,
};
use crate::longdouble::{self, LongDouble};
use crate::notify::HASH;
use crate::server::{Ctx, Server};
use crate::types::{Hash, Value};
use crate::util::{eq_ic, i64_bytes, parse_i64};

fn hset_generic(s: &mut Server, c: &mut Ctx, reply_ok: bool) {
    if !c.argc().is_multiple_of(2) {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR wrong number of arguments for '{name}' command"));
        return;
    }
    let key = c.arg(1).to_vec();
    if check_type::<Hash>(s, c, &key).is_err() {
        return;
    }
    let mut pairs = Vec::with_capacity(c.argc() / 2);
    for i in (2..c.argc()).step_by(2) {
        let f = c.arg(i).to_vec();
        let v = c.take_arg(i + 1);
        pairs.push((f, v));
    }
    let new = count_new::<Hash>(s, c.db, &key, pairs.iter().map(|(f, _)| f.as_slice()));
    if !reserve_elements::<Hash>(s, c, &key, new) {
        return;
    }
    let added = with_container::<Hash, _>(s, c.db, &key, |h| {
        let mut n = 0;
        for (f, v) in pairs {
            if h.set(&f, v) {
                n += 1;
            }
        }
        n
    })
    .unwrap_or(0);
    s.notify(HASH, "hset", c.db, &key);
    s.modified(c, c.db, &key);
    if reply_ok { c.out.ok() } else { c.out.int(added) }
}

pub fn hset(s: &mut Server, c: &mut Ctx) {
    hset_generic(s, c, false);
}

pub fn hmset(s: &mut Server, c: &mut Ctx) {
    hset_generic(s, c, true);
}

pub fn hsetnx(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    if check_type::<Hash>(s, c, &key).is_err() {
        return;
    }
    let exists = matches!(s.peek(c.db, &key), Some(Value::Hash(h)) if h.contains(c.arg(2)));
    if exists {
        c.out.int(0);
        return;
    }
    if !reserve_elements::<Hash>(s, c, &key, 1) {
        return;
    }
    let f = c.arg(2).to_vec();
    let v = c.take_arg(3);
    with_container::<Hash, _>(s, c.db, &key, |h| h.set(&f, v));
    s.notify(HASH, "hset", c.db, &key);
    s.modified(c, c.db, &key);
    c.out.int(1);
}

pub fn hget(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.null(),
        Some(Value::Hash(h)) => match h.get(&c.argv[2]) {
            Some(v) => c.out.bulk(v),
            None => c.out.null(),
        },
        Some(_) => c.wrongtype(),
    }
}

pub fn hmget(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => {
            c.out.array(c.argv.len() - 2);
            for _ in 2..c.argv.len() {
                c.out.null();
            }
        }
        Some(Value::Hash(h)) => {
            c.out.array(c.argv.len() - 2);
            for f in &c.argv[2..] {
                match h.get(f) {
                    Some(v) => c.out.bulk(v),
                    None => c.out.null(),
                }
            }
        }
        Some(_) => c.wrongtype(),
    }
}

pub fn hdel(s: &mut Server, c: &mut Ctx) {
    super::remove_members::<Hash>(s, c, (HASH, "hdel"), |s, db, key, fields| {
        with_container::<Hash, _>(s, db, key, |h| fields.iter().filter(|f| h.remove(f)).count())
    });
}

pub fn hexists(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Hash(h)) => c.out.int(i64::from(h.contains(&c.argv[2]))),
        Some(_) => c.wrongtype(),
    }
}

pub fn hlen(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Hash(h)) => c.out.int(h.len() as i64),
        Some(_) => c.wrongtype(),
    }
}

pub fn hstrlen(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Hash(h)) => c.out.int(h.get(&c.argv[2]).map(|v| v.len()).unwrap_or(0) as i64),
        Some(_) => c.wrongtype(),
    }
}

/// HKEYS (keys), HVALS (vals) or HGETALL (both, as a map).
fn hgetall_generic(s: &mut Server, c: &mut Ctx, keys: bool, vals: bool) {
    match s.read(c.db, &c.argv[1]) {
        None => {
            if keys && vals {
                c.out.map(0)
            } else {
                c.out.array(0)
            }
        }
        Some(Value::Hash(h)) => {
            if keys && vals {
                c.out.map(h.len());
            } else {
                c.out.array(h.len());
            }
            for (f, v) in h.iter() {
                if c.out.overflowed() {
                    break;
                }
                if keys {
                    c.out.bulk(f);
                }
                if vals {
                    c.out.bulk(v);
                }
            }
        }
        Some(_) => c.wrongtype(),
    }
}

pub fn hkeys(s: &mut Server, c: &mut Ctx) {
    hgetall_generic(s, c, true, false);
}
pub fn hvals(s: &mut Server, c: &mut Ctx) {
    hgetall_generic(s, c, false, true);
}
pub fn hgetall(s: &mut Server, c: &mut Ctx) {
    hgetall_generic(s, c, true, true);
}

/// The value of field `argv[2]` in the hash at `key` (`None` when either is
/// missing), for HINCRBY/HINCRBYFLOAT; `Err` after replying WRONGTYPE.
fn field_to_update(s: &mut Server, c: &mut Ctx, key: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    check_type::<Hash>(s, c, key)?;
    Ok(match s.peek(c.db, key) {
        Some(Value::Hash(h)) => h.get(c.arg(2)).cloned(),
        _ => None,
    })
}

pub fn hincrby(s: &mut Server, c: &mut Ctx) {
    let Some(by) = int_arg(c, 3) else { return };
    let key = c.arg(1).to_vec();
    let Ok(cur) = field_to_update(s, c, &key) else { return };
    if cur.is_none() && !reserve_elements::<Hash>(s, c, &key, 1) {
        return;
    }
    let cur = match cur {
        None => 0,
        Some(v) => match parse_i64(&v) {
            Some(n) => n,
            None => {
                c.out.err("ERR hash value is not an integer");
                return;
            }
        },
    };
    let Some(new) = cur.checked_add(by) else {
        c.out.err("ERR increment or decrement would overflow");
        return;
    };
    let f = c.arg(2).to_vec();
    with_container::<Hash, _>(s, c.db, &key, |h| h.set(&f, i64_bytes(new)));
    s.notify(HASH, "hincrby", c.db, &key);
    s.modified(c, c.db, &key);
    c.out.int(new);
}

pub fn hincrbyfloat(s: &mut Server, c: &mut Ctx) {
    let Some(by) = longdouble::parse(c.arg(3)) else {
        c.not_float();
        return;
    };
    if !by.is_finite() {
        c.out.err("ERR value is NaN or Infinity");
        return;
    }
    let key = c.arg(1).to_vec();
    let Ok(cur) = field_to_update(s, c, &key) else { return };
    if cur.is_none() && !reserve_elements::<Hash>(s, c, &key, 1) {
        return;
    }
    let cur = match cur {
        None => LongDouble::ZERO,
        Some(v) => match longdouble::parse(&v) {
            Some(n) => n,
            None => {
                c.out.err("ERR hash value is not a float");
                return;
            }
        },
    };
    let Some(new) = cur.plus(by).filter(LongDouble::is_finite) else {
        c.out.err("ERR increment would produce NaN or Infinity");
        return;
    };
    let bytes = new.to_human();
    let f = c.arg(2).to_vec();
    with_container::<Hash, _>(s, c.db, &key, |h| h.set(&f, bytes.clone()));
    s.notify(HASH, "hincrbyfloat", c.db, &key);
    s.modified(c, c.db, &key);
    c.propagate_as(alloc::vec![alloc::vec![b"HSET".to_vec(), key, f, bytes.clone()]]);
    c.out.bulk(&bytes);
}

pub fn hscan(s: &mut Server, c: &mut Ctx) {
    let Some(cursor) = parse_cursor(c, 2) else { return };
    let Some(opts) = scan_opts(c, 3, false) else { return };
    let missing = |c: &mut Ctx| scan_reply_header(c, 0, 0);
    let Some(h) = read_as::<Hash>(s.read(c.db, &c.argv[1]), c, missing) else { return };
    let mut items: Vec<(&[u8], &Vec<u8>)> = Vec::new();
    let next = if h.is_big() {
        h.map().scan(cursor, opts.count, |f, v| items.push((f, v)))
    } else {
        items.extend(h.iter());
        0
    };
    if let Some(p) = &opts.pattern {
        items.retain(|(f, _)| crate::glob::matches(p, f, false));
    }
    scan_reply_header(c, next, items.len() * 2);
    for (f, v) in items {
        c.out.bulk(f);
        c.out.bulk(v);
    }
}

pub fn hrandfield(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 4 || (c.argc() == 4 && !eq_ic(c.arg(3), "withvalues")) {
        c.syntax_error();
        return;
    }
    let withvalues = c.argc() == 4;
    let Ok(count) = rand_count_arg(c, 2) else { return };
    let resp3 = c.out.is_resp3();
    let (h, rng) = s.read_with_rng(c.db, &c.argv[1]);
    let Some(h) = read_as::<Hash>(h, c, |c| empty_array_or_null(c, count.is_some())) else { return };
    let Some(count) = count else {
        match h.map().random(rng) {
            Some((f, _)) => c.out.bulk(f),
            None => c.out.null(),
        }
        return;
    };
    let picks = pick_members(h.map(), count, rng);
    let total = if count < 0 { count.unsigned_abs() as usize } else { picks.len() };
    if withvalues && !resp3 {
        c.out.array(total * 2);
    } else {
        c.out.array(total);
    }
    let emit = |slot: u32, c: &mut Ctx| {
        if let Some((f, v)) = h.map().at(slot) {
            if withvalues {
                if resp3 {
                    c.out.array(2);
                }
                c.out.bulk(f);
                c.out.bulk(v);
            } else {
                c.out.bulk(f);
            }
        }
    };
    if count < 0 {
        for _ in 0..total {
            if let Some(slot) = h.map().random_slot(rng) {
                emit(slot, c);
            }
            if c.out.overflowed() {
                break; // the client is closed by its output limit
            }
        }
    } else {
        for slot in picks {
            emit(slot, c);
        }
    }
}

/// Distinct random slots for HRANDFIELD/SRANDMEMBER with `count >= 0`
/// (empty for negative counts, which callers sample one by one).
pub fn pick_members<V>(map: &crate::bytemap::ByteMap<V>, count: i64, rng: &mut crate::util::Rng) -> Vec<u32> {
    let len = map.len();
    if count < 0 {
        return Vec::new();
    }
    let n = (count as u64).min(len as u64) as usize;
    if n >= len {
        return (0..len).filter_map(|i| map.nth_slot(i)).collect();
    }
    if n.saturating_mul(4) <= len {
        // Few picks from a big map: sample and deduplicate.
        let mut chosen = alloc::collections::BTreeSet::new();
        while chosen.len() < n {
            if let Some(slot) = map.random_slot(rng) {
                chosen.insert(slot);
            }
        }
        return chosen.into_iter().collect();
    }
    // Partial Fisher-Yates over dense positions.
    let mut positions: Vec<usize> = (0..len).collect();
    for i in 0..n {
        let j = i + rng.below(len - i);
        positions.swap(i, j);
    }
    positions[..n].iter().filter_map(|&p| map.nth_slot(p)).collect()
}
