//! Set commands.

use alloc::vec::Vec;

use super::hash::pick_members;
use super::{
    check_type, count_new, empty_array_or_null, parse_cursor, pop_count_arg, rand_count_arg, read_as, require,
    reserve_elements, scan_opts, scan_reply_header, with_container,
};
use crate::notify::{GENERIC, SET};
use crate::server::{Ctx, Server};
use crate::types::{Set, Value};
use crate::util::{eq_ic, parse_i64};

pub fn sadd(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    if check_type::<Set>(s, c, &key).is_err() {
        return;
    }
    let members: Vec<Vec<u8>> = c.argv[2..].to_vec();
    let new = count_new::<Set>(s, c.db, &key, members.iter().map(|m| m.as_slice()));
    if !reserve_elements::<Set>(s, c, &key, new) {
        return;
    }
    let n = with_container::<Set, _>(s, c.db, &key, |set| members.iter().filter(|m| set.add(m)).count()).unwrap_or(0);
    if n > 0 {
        s.notify(SET, "sadd", c.db, &key);
        s.modified(c, c.db, &key);
    }
    c.out.int(n as i64);
}

pub fn srem(s: &mut Server, c: &mut Ctx) {
    super::remove_members::<Set>(s, c, (SET, "srem"), |s, db, key, members| {
        with_container::<Set, _>(s, db, key, |set| members.iter().filter(|m| set.remove(m)).count())
    });
}

pub fn sismember(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Set(set)) => c.out.int(i64::from(set.contains(&c.argv[2]))),
        Some(_) => c.wrongtype(),
    }
}

pub fn smismember(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => {
            c.out.array(c.argv.len() - 2);
            for _ in 2..c.argv.len() {
                c.out.int(0);
            }
        }
        Some(Value::Set(set)) => {
            c.out.array(c.argv.len() - 2);
            for m in &c.argv[2..] {
                c.out.int(i64::from(set.contains(m)));
            }
        }
        Some(_) => c.wrongtype(),
    }
}

pub fn smembers(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.set(0),
        Some(Value::Set(set)) => {
            let members = set.members();
            c.out.set(members.len());
            for m in members {
                if c.out.overflowed() {
                    break;
                }
                c.out.bulk(m);
            }
        }
        Some(_) => c.wrongtype(),
    }
}

pub fn scard(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Set(set)) => c.out.int(set.len() as i64),
        Some(_) => c.wrongtype(),
    }
}

pub fn spop(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 3 {
        c.syntax_error();
        return;
    }
    let Ok(count) = pop_count_arg(c, 2) else { return };
    let key = c.arg(1).to_vec();
    if !require::<Set>(s, c, &key, |c| if count.is_some() { c.out.set(0) } else { c.out.null() }) {
        return;
    }
    let (v, rng) = s.peek_with_rng(c.db, &key);
    let picked: Vec<Vec<u8>> = match v {
        Some(Value::Set(set)) => {
            // A COUNT is at most i64::MAX, so it converts back exactly.
            let n = count.unwrap_or(1) as i64;
            pick_members(set.map(), n, rng)
                .into_iter()
                .filter_map(|slot| set.map().at(slot).map(|(m, _)| m.to_vec()))
                .collect()
        }
        _ => Vec::new(),
    };
    with_container::<Set, _>(s, c.db, &key, |set| {
        for m in &picked {
            set.remove(m);
        }
    });
    s.delete_if_empty(c.db, &key);
    if !picked.is_empty() {
        s.notify_removal(SET, "spop", c.db, &key);
        s.modified(c, c.db, &key);
        let mut cmd = alloc::vec![b"SREM".to_vec(), key.clone()];
        cmd.extend(picked.iter().cloned());
        c.propagate_as(alloc::vec![cmd]);
    }
    match count {
        None => match picked.first() {
            Some(m) => c.out.bulk(m),
            None => c.out.null(),
        },
        Some(_) => {
            c.out.set(picked.len());
            for m in &picked {
                c.out.bulk(m);
            }
        }
    }
}

pub fn srandmember(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 3 {
        c.syntax_error();
        return;
    }
    let Ok(count) = rand_count_arg(c, 2) else { return };
    let (v, rng) = s.read_with_rng(c.db, &c.argv[1]);
    let Some(set) = read_as::<Set>(v, c, |c| empty_array_or_null(c, count.is_some())) else { return };
    match count {
        None => match set.map().random(rng) {
            Some((m, _)) => c.out.bulk(m),
            None => c.out.null(),
        },
        Some(n) if n < 0 => {
            let total = n.unsigned_abs() as usize;
            c.out.array(total);
            for _ in 0..total {
                if let Some((m, _)) = set.map().random(rng) {
                    c.out.bulk(m);
                }
                if c.out.overflowed() {
                    break; // the client is closed by its output limit
                }
            }
        }
        Some(n) => {
            let picks = pick_members(set.map(), n, rng);
            c.out.set(picks.len());
            for slot in picks {
                if let Some((m, _)) = set.map().at(slot) {
                    c.out.bulk(m);
                }
            }
        }
    }
}

pub fn smove(s: &mut Server, c: &mut Ctx) {
    let (src, dst) = (c.arg(1).to_vec(), c.arg(2).to_vec());
    let member = c.arg(3).to_vec();
    if !require::<Set>(s, c, &src, |c| c.out.int(0)) {
        return;
    }
    if check_type::<Set>(s, c, &dst).is_err() {
        return;
    }
    if !s.exists(c.db, &dst) && !s.reserve_new_key(c.db) {
        c.oom();
        return;
    }
    let present = matches!(s.peek(c.db, &src), Some(Value::Set(set)) if set.contains(&member));
    if src == dst {
        c.out.int(i64::from(present));
        return;
    }
    if !present {
        c.out.int(0);
        return;
    }
    let new = count_new::<Set>(s, c.db, &dst, core::iter::once(member.as_slice()));
    if !reserve_elements::<Set>(s, c, &dst, new) {
        return;
    }
    with_container::<Set, _>(s, c.db, &src, |set| set.remove(&member));
    s.delete_if_empty(c.db, &src);
    s.notify_removal(SET, "srem", c.db, &src);
    s.modified(c, c.db, &src);
    // Only an actual addition changes the destination (WATCH, events).
    if with_container::<Set, _>(s, c.db, &dst, |set| set.add(&member)) == Some(true) {
        s.notify(SET, "sadd", c.db, &dst);
        s.modified(c, c.db, &dst);
    }
    c.out.int(1);
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

/// Computes a set operation over keys: the members, borrowed from the
/// stored sets (no copies); Err after WRONGTYPE.
fn set_op<'s>(s: &'s mut Server, c: &mut Ctx, keys: &[Vec<u8>], op: SetOp, limit: usize) -> Result<Vec<&'s [u8]>, ()> {
    let mut sets: Vec<Option<&Set>> = Vec::with_capacity(keys.len());
    // Expiry, stats and keymiss events like Redis's lookups, which stop at
    // the first key of another type (WRONGTYPE below).
    for k in keys {
        if s.read(c.db, k).is_some_and(|v| !matches!(v, Value::Set(_))) {
            break;
        }
    }
    let seed = s.new_seed();
    let Some(d) = s.dbs.get(c.db) else { return Ok(Vec::new()) };
    for k in keys {
        match d.get(k).map(|e| &e.value) {
            None => sets.push(None),
            Some(Value::Set(set)) => sets.push(Some(set)),
            Some(_) => {
                c.wrongtype();
                return Err(());
            }
        }
    }
    let mut out: Vec<&[u8]> = Vec::new();
    match op {
        SetOp::Inter => {
            if sets.iter().any(|x| x.is_none()) {
                return Ok(out);
            }
            let mut all: Vec<&Set> = sets.into_iter().flatten().collect();
            all.sort_by_key(|x| x.len());
            let Some((first, rest)) = all.split_first() else { return Ok(out) };
            for m in first.iter() {
                if rest.iter().all(|o| o.contains(m)) {
                    out.push(m);
                    if limit > 0 && out.len() >= limit {
                        break;
                    }
                }
            }
        }
        SetOp::Union => {
            let mut seen = hashbrown::HashSet::with_hasher(foldhash::fast::FixedState::with_seed(seed));
            for set in sets.into_iter().flatten() {
                for m in set.iter() {
                    if seen.insert(m) {
                        out.push(m);
                    }
                }
            }
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else { return Ok(out) };
            for m in first.iter() {
                if !sets[1..].iter().flatten().any(|o| o.contains(m)) {
                    out.push(m);
                }
            }
        }
    }
    Ok(out)
}

fn set_op_reply(s: &mut Server, c: &mut Ctx, op: SetOp) {
    let keys: Vec<Vec<u8>> = c.argv[1..].to_vec();
    let Ok(mut members) = set_op(s, c, &keys, op, 0) else { return };
    crate::types::set::sort_as_intset(&mut members);
    c.out.set(members.len());
    for m in members {
        if c.out.overflowed() {
            break;
        }
        c.out.bulk(m);
    }
}

fn set_op_store(s: &mut Server, c: &mut Ctx, op: SetOp) {
    let dst = c.arg(1).to_vec();
    let keys: Vec<Vec<u8>> = c.argv[2..].to_vec();
    let mut set = Set::new(s.new_seed());
    let Ok(members) = set_op(s, c, &keys, op, 0) else { return };
    let n = members.len();
    if set.try_reserve(n).is_err() {
        c.oom();
        return;
    }
    for m in members {
        set.add(m);
    }
    // The result is new memory a short request asked for: check it.
    let value = Value::Set(set.into());
    if n > 0 && !s.reserve_growth(value.mem()) {
        c.oom();
        return;
    }
    if n > 0 {
        s.store(c.db, &dst, value, false);
        let event = match op {
            SetOp::Inter => "sinterstore",
            SetOp::Union => "sunionstore",
            SetOp::Diff => "sdiffstore",
        };
        s.notify(SET, event, c.db, &dst);
    } else if s.delete(c.db, &dst) {
        s.notify(GENERIC, "del", c.db, &dst);
    }
    s.modified(c, c.db, &dst);
    c.out.int(n as i64);
}

pub fn sinter(s: &mut Server, c: &mut Ctx) {
    set_op_reply(s, c, SetOp::Inter);
}
pub fn sunion(s: &mut Server, c: &mut Ctx) {
    set_op_reply(s, c, SetOp::Union);
}
pub fn sdiff(s: &mut Server, c: &mut Ctx) {
    set_op_reply(s, c, SetOp::Diff);
}
pub fn sinterstore(s: &mut Server, c: &mut Ctx) {
    set_op_store(s, c, SetOp::Inter);
}
pub fn sunionstore(s: &mut Server, c: &mut Ctx) {
    set_op_store(s, c, SetOp::Union);
}
pub fn sdiffstore(s: &mut Server, c: &mut Ctx) {
    set_op_store(s, c, SetOp::Diff);
}

pub fn sintercard(s: &mut Server, c: &mut Ctx) {
    let numkeys = match parse_i64(c.arg(1)) {
        Some(n) if n > 0 => n as u64,
        _ => {
            c.out.err("ERR numkeys should be greater than 0");
            return;
        }
    };
    if numkeys > (c.argc() - 2) as u64 {
        c.out.err("ERR Number of keys can't be greater than number of args");
        return;
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < c.argc() {
        if eq_ic(c.arg(i), "limit") && i + 1 < c.argc() {
            match parse_i64(c.arg(i + 1)) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => {
                    c.out.err("ERR LIMIT can't be negative");
                    return;
                }
            }
            i += 2;
        } else {
            c.syntax_error();
            return;
        }
    }
    let keys: Vec<Vec<u8>> = c.argv[2..2 + numkeys].to_vec();
    let Ok(members) = set_op(s, c, &keys, SetOp::Inter, limit) else { return };
    c.out.int(members.len() as i64);
}

pub fn sscan(s: &mut Server, c: &mut Ctx) {
    let Some(cursor) = parse_cursor(c, 2) else { return };
    let Some(opts) = scan_opts(c, 3, false) else { return };
    let missing = |c: &mut Ctx| scan_reply_header(c, 0, 0);
    let Some(set) = read_as::<Set>(s.read(c.db, &c.argv[1]), c, missing) else { return };
    let mut items: Vec<&[u8]> = Vec::new();
    let next = if set.encoding() == "hashtable" {
        set.map().scan(cursor, opts.count, |m, _| items.push(m))
    } else {
        items.extend(set.members());
        0
    };
    if let Some(p) = &opts.pattern {
        items.retain(|m| crate::glob::matches(p, m, false));
    }
    scan_reply_header(c, next, items.len());
    for m in items {
        c.out.bulk(m);
    }
}
