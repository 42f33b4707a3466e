//! List commands, including the blocking BLPOP/BRPOP/BLMOVE/BLMPOP (which
//! park the client in `Server::blocking` when no data is available).

use alloc::vec;
use alloc::vec::Vec;

use super::{check_type, clamp_range, empty_array_or_null, int_arg, pop_count_arg, read_as, require, reserve_elements};
use crate::blocking::{BlockOp, Blocked, parse_timeout};
use crate::notify::LIST;
use crate::resp::Out;
use crate::server::{Ctx, Server};
use crate::types::{List, Value};
use crate::util::{eq_ic, parse_i64};

/// Pushes onto a list, creating it; the caller checked the type.
pub fn push_to_list(s: &mut Server, db: usize, key: &[u8], val: Vec<u8>, left: bool) {
    let mut val = Some(val);
    if let Some(mut v) = s.write(db, key)
        && let Value::List(l) = &mut *v
        && let Some(x) = val.take()
    {
        l.push(left, x);
    }
    if let Some(x) = val {
        let mut l = List::new();
        l.push(left, x);
        s.store(db, key, Value::List(l.into()), false);
    }
}

fn push_generic(s: &mut Server, c: &mut Ctx, left: bool, only_existing: bool) {
    let key = c.arg(1).to_vec();
    let Ok(exists) = check_type::<List>(s, c, &key) else { return };
    if only_existing && !exists {
        c.out.int(0);
        return;
    }
    if !reserve_elements::<List>(s, c, &key, c.argc() - 2) {
        return;
    }
    let mut len = 0;
    for i in 2..c.argc() {
        let val = c.take_arg(i);
        push_to_list(s, c.db, &key, val, left);
    }
    if let Some(Value::List(l)) = s.peek(c.db, &key) {
        len = l.len();
    }
    notify_push(s, c.db, &key, left);
    s.modified(c, c.db, &key);
    c.out.int(len as i64);
}

pub fn lpush(s: &mut Server, c: &mut Ctx) {
    push_generic(s, c, true, false);
}
pub fn rpush(s: &mut Server, c: &mut Ctx) {
    push_generic(s, c, false, false);
}
pub fn lpushx(s: &mut Server, c: &mut Ctx) {
    push_generic(s, c, true, true);
}
pub fn rpushx(s: &mut Server, c: &mut Ctx) {
    push_generic(s, c, false, true);
}

/// The `lpop`/`rpop` event (and `del` if the list emptied).
pub(crate) fn notify_pop(s: &mut Server, db: usize, key: &[u8], left: bool) {
    s.notify_removal(LIST, if left { "lpop" } else { "rpop" }, db, key);
}

/// The `lpush`/`rpush` event.
pub(crate) fn notify_push(s: &mut Server, db: usize, key: &[u8], left: bool) {
    s.notify(LIST, if left { "lpush" } else { "rpush" }, db, key);
}

/// Pops up to `n` elements; deletes the key when it empties.
pub(crate) fn pop_n(s: &mut Server, db: usize, key: &[u8], left: bool, n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(mut v) = s.write(db, key)
        && let Value::List(l) = &mut *v
    {
        while out.len() < n {
            match l.pop(left) {
                Some(x) => out.push(x),
                None => break,
            }
        }
    }
    s.delete_if_empty(db, key);
    out
}

fn pop_generic(s: &mut Server, c: &mut Ctx, left: bool) {
    if c.argc() > 3 {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR wrong number of arguments for '{name}' command"));
        return;
    }
    let Ok(count) = pop_count_arg(c, 2) else { return };
    let key = c.arg(1).to_vec();
    let missing = |c: &mut Ctx| if count.is_some() { c.out.null_array() } else { c.out.null() };
    if !require::<List>(s, c, &key, missing) {
        return;
    }
    match count {
        Some(0) => c.out.array(0),
        Some(n) => {
            let items = pop_n(s, c.db, &key, left, n);
            notify_pop(s, c.db, &key, left);
            s.modified(c, c.db, &key);
            c.out.array(items.len());
            for it in items {
                c.out.bulk(&it);
            }
        }
        None => {
            let items = pop_n(s, c.db, &key, left, 1);
            notify_pop(s, c.db, &key, left);
            s.modified(c, c.db, &key);
            match items.first() {
                Some(v) => c.out.bulk(v),
                None => c.out.null(),
            }
        }
    }
}

pub fn lpop(s: &mut Server, c: &mut Ctx) {
    pop_generic(s, c, true);
}
pub fn rpop(s: &mut Server, c: &mut Ctx) {
    pop_generic(s, c, false);
}

pub fn llen(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::List(l)) => c.out.int(l.len() as i64),
        Some(_) => c.wrongtype(),
    }
}

pub fn lrange(s: &mut Server, c: &mut Ctx) {
    let Some(start) = int_arg(c, 2) else { return };
    let Some(end) = int_arg(c, 3) else { return };
    match s.read(c.db, &c.argv[1]) {
        None => c.out.array(0),
        Some(Value::List(l)) => match clamp_range(start, end, l.len()) {
            None => c.out.array(0),
            Some((a, b)) => {
                c.out.array(b - a + 1);
                for it in l.iter().skip(a).take(b - a + 1) {
                    if c.out.overflowed() {
                        break;
                    }
                    c.out.bulk(it);
                }
            }
        },
        Some(_) => c.wrongtype(),
    }
}

fn normalize_index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { (len as i64).checked_add(i)? } else { i };
    (i >= 0 && (i as u64) < len as u64).then_some(i as usize)
}

pub fn lindex(s: &mut Server, c: &mut Ctx) {
    let Some(idx) = int_arg(c, 2) else { return };
    match s.read(c.db, &c.argv[1]) {
        None => c.out.null(),
        Some(Value::List(l)) => match normalize_index(idx, l.len()).and_then(|i| l.get(i)) {
            Some(v) => c.out.bulk(v),
            None => c.out.null(),
        },
        Some(_) => c.wrongtype(),
    }
}

pub fn lset(s: &mut Server, c: &mut Ctx) {
    let Some(idx) = int_arg(c, 2) else { return };
    let key = c.arg(1).to_vec();
    if !require::<List>(s, c, &key, |c| c.out.err("ERR no such key")) {
        return;
    }
    let val = c.take_arg(3);
    let ok = match s.write(c.db, &key) {
        Some(mut v) => match &mut *v {
            Value::List(l) => match normalize_index(idx, l.len()) {
                Some(i) => l.set(i, val),
                None => false,
            },
            _ => false,
        },
        None => false,
    };
    if ok {
        s.notify(LIST, "lset", c.db, &key);
        s.modified(c, c.db, &key);
        c.out.ok();
    } else {
        c.out.err("ERR index out of range");
    }
}

pub fn linsert(s: &mut Server, c: &mut Ctx) {
    let after = if eq_ic(c.arg(2), "after") {
        true
    } else if eq_ic(c.arg(2), "before") {
        false
    } else {
        c.syntax_error();
        return;
    };
    let key = c.arg(1).to_vec();
    if !require::<List>(s, c, &key, |c| c.out.int(0)) {
        return;
    }
    if !reserve_elements::<List>(s, c, &key, 1) {
        return;
    }
    let pivot = c.arg(3).to_vec();
    let val = c.take_arg(4);
    let res = match s.write(c.db, &key) {
        Some(mut v) => match &mut *v {
            Value::List(l) => match l.position(&pivot) {
                Some(p) => {
                    l.insert(if after { p + 1 } else { p }, val);
                    l.len() as i64
                }
                None => -1,
            },
            _ => -1,
        },
        None => -1,
    };
    if res > 0 {
        s.notify(LIST, "linsert", c.db, &key);
        s.modified(c, c.db, &key);
    }
    c.out.int(res);
}

pub fn lrem(s: &mut Server, c: &mut Ctx) {
    let Some(count) = int_arg(c, 2) else { return };
    let key = c.arg(1).to_vec();
    if !require::<List>(s, c, &key, |c| c.out.int(0)) {
        return;
    }
    let removed = match s.write(c.db, &key) {
        Some(mut v) => match &mut *v {
            Value::List(l) => {
                let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
                l.remove_matching(&c.argv[3], n, count < 0)
            }
            _ => 0,
        },
        None => 0,
    };
    s.delete_if_empty(c.db, &key);
    if removed > 0 {
        s.notify_removal(LIST, "lrem", c.db, &key);
        s.modified(c, c.db, &key);
    }
    c.out.int(removed as i64);
}

pub fn ltrim(s: &mut Server, c: &mut Ctx) {
    let Some(start) = int_arg(c, 2) else { return };
    let Some(end) = int_arg(c, 3) else { return };
    let key = c.arg(1).to_vec();
    if !require::<List>(s, c, &key, |c| c.out.ok()) {
        return;
    }
    if let Some(mut v) = s.write(c.db, &key)
        && let Value::List(l) = &mut *v
    {
        match clamp_range(start, end, l.len()) {
            Some((a, b)) => l.trim(a, b, true),
            None => l.trim(0, 0, false),
        }
    }
    s.delete_if_empty(c.db, &key);
    s.notify_removal(LIST, "ltrim", c.db, &key);
    s.modified(c, c.db, &key);
    c.out.ok();
}

pub fn lpos(s: &mut Server, c: &mut Ctx) {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut i = 3;
    while i < c.argc() {
        if i + 1 >= c.argc() {
            c.syntax_error();
            return;
        }
        let opt = c.arg(i).to_ascii_lowercase();
        match opt.as_slice() {
            b"rank" => {
                let Some(r) = int_arg(c, i + 1) else { return };
                if r == i64::MIN {
                    c.out.err(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    );
                    return;
                }
                if r == 0 {
                    c.out.err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
                rank = r;
            }
            b"count" => match parse_i64(c.arg(i + 1)) {
                Some(n) if n >= 0 => count = Some(n as usize),
                _ => {
                    c.out.err("ERR COUNT can't be negative");
                    return;
                }
            },
            b"maxlen" => match parse_i64(c.arg(i + 1)) {
                Some(n) if n >= 0 => maxlen = n as usize,
                _ => {
                    c.out.err("ERR MAXLEN can't be negative");
                    return;
                }
            },
            _ => {
                c.syntax_error();
                return;
            }
        }
        i += 2;
    }
    let missing = |c: &mut Ctx| empty_array_or_null(c, count.is_some());
    let Some(l) = read_as::<List>(s.read(c.db, &c.argv[1]), c, missing) else { return };
    let elem = &c.argv[2];
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let len = l.len();
    let mut skip = rank.unsigned_abs() - 1;
    let mut found: Vec<usize> = Vec::new();
    let scan = |idx: usize, item: &Vec<u8>, found: &mut Vec<usize>, skip: &mut u64| -> bool {
        if item == elem {
            if *skip > 0 {
                *skip -= 1;
            } else {
                found.push(idx);
                if found.len() >= want {
                    return false;
                }
            }
        }
        true
    };
    let limit = if maxlen == 0 { len } else { maxlen.min(len) };
    if rank > 0 {
        for (idx, item) in l.iter().enumerate().take(limit) {
            if !scan(idx, item, &mut found, &mut skip) {
                break;
            }
        }
    } else {
        for (n, item) in l.iter().rev().enumerate().take(limit) {
            if !scan(len - 1 - n, item, &mut found, &mut skip) {
                break;
            }
        }
    }
    if count.is_some() {
        c.out.array(found.len());
        for f in found {
            c.out.int(f as i64);
        }
    } else {
        match found.first() {
            Some(&f) => c.out.int(f as i64),
            None => c.out.null(),
        }
    }
}

fn parse_side(b: &[u8]) -> Option<bool> {
    if eq_ic(b, "left") {
        Some(true)
    } else if eq_ic(b, "right") {
        Some(false)
    } else {
        None
    }
}

/// Moves one element; replies it (or null when `src` is empty).
fn lmove_generic(s: &mut Server, c: &mut Ctx, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) {
    if !require::<List>(s, c, src, |c| c.out.null()) {
        return;
    }
    if check_type::<List>(s, c, dst).is_err() || !reserve_elements::<List>(s, c, dst, 1) {
        return;
    }
    let items = pop_n(s, c.db, src, from_left, 1);
    let Some(val) = items.into_iter().next() else {
        c.out.null();
        return;
    };
    push_to_list(s, c.db, dst, val.clone(), to_left);
    notify_push(s, c.db, dst, to_left);
    notify_pop(s, c.db, src, from_left);
    s.modified(c, c.db, src);
    s.modified(c, c.db, dst);
    let side = |l: bool| if l { b"LEFT".to_vec() } else { b"RIGHT".to_vec() };
    c.propagate_as(vec![vec![b"LMOVE".to_vec(), src.to_vec(), dst.to_vec(), side(from_left), side(to_left)]]);
    c.out.bulk(&val);
}

pub fn lmove(s: &mut Server, c: &mut Ctx) {
    let (Some(from), Some(to)) = (parse_side(c.arg(3)), parse_side(c.arg(4))) else {
        c.syntax_error();
        return;
    };
    let (src, dst) = (c.arg(1).to_vec(), c.arg(2).to_vec());
    lmove_generic(s, c, &src, &dst, from, to);
}

pub fn rpoplpush(s: &mut Server, c: &mut Ctx) {
    let (src, dst) = (c.arg(1).to_vec(), c.arg(2).to_vec());
    lmove_generic(s, c, &src, &dst, false, true);
}

fn bpop_generic(s: &mut Server, c: &mut Ctx, left: bool) {
    let last = c.argc() - 1;
    let Ok(deadline) = parse_timeout(s, c, last) else { return };
    let keys: Vec<Vec<u8>> = c.argv[1..last].to_vec();
    for key in &keys {
        match check_type::<List>(s, c, key) {
            Err(()) => return,
            Ok(false) => continue,
            Ok(true) => {}
        }
        let items = pop_n(s, c.db, key, left, 1);
        if let Some(v) = items.first() {
            notify_pop(s, c.db, key, left);
            s.modified(c, c.db, key);
            let cmd = if left { b"LPOP".to_vec() } else { b"RPOP".to_vec() };
            c.propagate_as(vec![vec![cmd, key.clone()]]);
            c.out.array(2);
            c.out.bulk(key);
            c.out.bulk(v);
            return;
        }
    }
    if c.in_exec {
        c.out.null_array();
        return;
    }
    let b = Blocked { db: c.db, keys, op: BlockOp::Pop { left }, deadline };
    s.block_client(c.cid, b);
}

pub fn blpop(s: &mut Server, c: &mut Ctx) {
    bpop_generic(s, c, true);
}
pub fn brpop(s: &mut Server, c: &mut Ctx) {
    bpop_generic(s, c, false);
}

fn bmove_generic(s: &mut Server, c: &mut Ctx, from_left: bool, to_left: bool, timeout_arg: usize) {
    let Ok(deadline) = parse_timeout(s, c, timeout_arg) else { return };
    let (src, dst) = (c.arg(1).to_vec(), c.arg(2).to_vec());
    let Ok(exists) = check_type::<List>(s, c, &src) else { return };
    if exists || c.in_exec {
        lmove_generic(s, c, &src, &dst, from_left, to_left);
        return;
    }
    let b = Blocked { db: c.db, keys: vec![src], op: BlockOp::Move { dest: dst, from_left, to_left }, deadline };
    s.block_client(c.cid, b);
}

pub fn blmove(s: &mut Server, c: &mut Ctx) {
    let (Some(from), Some(to)) = (parse_side(c.arg(3)), parse_side(c.arg(4))) else {
        c.syntax_error();
        return;
    };
    bmove_generic(s, c, from, to, 5);
}

pub fn brpoplpush(s: &mut Server, c: &mut Ctx) {
    bmove_generic(s, c, false, true, 3);
}

/// The arguments of LMPOP/BLMPOP/ZMPOP/BZMPOP from `numkeys_idx` on:
/// `numkeys key [key ...] <where> [COUNT count]`, `side` parsing `<where>`.
/// Returns the keys, the side and the count (default 1), or `Err` after
/// replying Redis's error.
pub(crate) fn parse_mpop_args(
    c: &mut Ctx,
    numkeys_idx: usize,
    side: fn(&[u8]) -> Option<bool>,
) -> Result<(Vec<Vec<u8>>, bool, usize), ()> {
    let numkeys = match parse_i64(c.arg(numkeys_idx)) {
        Some(n) if n >= 1 => n as u64,
        _ => {
            c.out.err("ERR numkeys should be greater than 0");
            return Err(());
        }
    };
    let where_idx = (numkeys_idx as u64 + 1).checked_add(numkeys).filter(|&w| w < c.argc() as u64);
    let Some(where_idx) = where_idx.map(|w| w as usize) else {
        c.syntax_error();
        return Err(());
    };
    let Some(dir) = side(c.arg(where_idx)) else {
        c.syntax_error();
        return Err(());
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < c.argc() {
        if count.is_none() && eq_ic(c.arg(j), "count") && j + 1 < c.argc() {
            j += 1;
            match parse_i64(c.arg(j)) {
                Some(n) if n >= 1 => count = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => {
                    c.out.err("ERR count should be greater than 0");
                    return Err(());
                }
            }
        } else {
            c.syntax_error();
            return Err(());
        }
        j += 1;
    }
    let keys = c.argv.get(numkeys_idx + 1..where_idx).map(|k| k.to_vec()).unwrap_or_default();
    Ok((keys, dir, count.unwrap_or(1)))
}

/// The reply of LMPOP/BLMPOP: the key and the popped elements.
pub(crate) fn reply_key_and_items(out: &mut Out, key: &[u8], items: &[Vec<u8>]) {
    out.array(2);
    out.bulk(key);
    out.array(items.len());
    for it in items {
        out.bulk(it);
    }
}

/// Pops from the first non-empty list of `keys` (WRONGTYPE stops at the
/// first key of another type); false when all are missing.
fn mpop_first(s: &mut Server, c: &mut Ctx, keys: &[Vec<u8>], left: bool, count: usize) -> Result<bool, ()> {
    for key in keys {
        if !check_type::<List>(s, c, key)? {
            continue;
        }
        let items = pop_n(s, c.db, key, left, count);
        if items.is_empty() {
            continue;
        }
        notify_pop(s, c.db, key, left);
        s.modified(c, c.db, key);
        let cmd = if left { b"LPOP".to_vec() } else { b"RPOP".to_vec() };
        c.propagate_as(vec![vec![cmd, key.clone(), alloc::format!("{}", items.len()).into_bytes()]]);
        reply_key_and_items(&mut c.out, key, &items);
        return Ok(true);
    }
    Ok(false)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop(s: &mut Server, c: &mut Ctx) {
    let Ok((keys, left, count)) = parse_mpop_args(c, 1, parse_side) else { return };
    if let Ok(false) = mpop_first(s, c, &keys, left, count) {
        c.out.null_array();
    }
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(s: &mut Server, c: &mut Ctx) {
    let Ok((keys, left, count)) = parse_mpop_args(c, 2, parse_side) else { return };
    let Ok(deadline) = parse_timeout(s, c, 1) else { return };
    match mpop_first(s, c, &keys, left, count) {
        Err(()) | Ok(true) => {}
        Ok(false) if c.in_exec => c.out.null_array(),
        Ok(false) => {
            let b = Blocked { db: c.db, keys, op: BlockOp::MPop { left, count }, deadline };
            s.block_client(c.cid, b);
        }
    }
}
