//! Popping from several sorted sets: ZMPOP and the blocking BZPOPMIN,
//! BZPOPMAX and BZMPOP (which park the client in `Server::blocking` when
//! every key is missing), plus the pop and reply that serving a blocked
//! client reuses.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::check_type;
use super::list::parse_mpop_args;
use crate::blocking::{BlockOp, Blocked, parse_timeout};
use crate::resp::Out;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::types::zset::ZSet;
use crate::util::eq_ic;

/// Pops up to `n` members with the lowest (or, with `max`, highest)
/// scores from the sorted set at `key`; deletes the key when it empties.
pub(crate) fn pop_members(s: &mut Server, db: usize, key: &[u8], max: bool, n: usize) -> Vec<(f64, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(mut v) = s.write(db, key)
        && let Value::ZSet(z) = &mut *v
    {
        let z: &mut ZSet = z;
        let len = z.len();
        if len > 0 && n > 0 {
            out = z.range_by_rank(0, n.min(len) - 1, max).into_iter().map(|(sc, m)| (sc, m.to_vec())).collect();
        }
        for (_, m) in &out {
            z.remove(m);
        }
    }
    s.delete_if_empty(db, key);
    out
}

/// The `zpopmin`/`zpopmax` event (and `del` if the sorted set emptied).
pub(crate) fn notify_pop(s: &mut Server, db: usize, key: &[u8], max: bool) {
    s.notify_removal(crate::notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, db, key);
}

/// The reply of a multi-key pop: BZPOPMIN/BZPOPMAX's flat
/// `[key, member, score]`, or, `nested` (ZMPOP/BZMPOP),
/// `[key, [[member, score], ...]]`.
pub(crate) fn reply_popped(out: &mut Out, key: &[u8], items: &[(f64, Vec<u8>)], nested: bool) {
    if nested {
        out.array(2);
        out.bulk(key);
        out.array(items.len());
    } else {
        out.array(items.len() * 2 + 1);
        out.bulk(key);
    }
    for (score, member) in items {
        if nested {
            out.array(2);
        }
        out.bulk(member);
        out.double(*score);
    }
}

/// Pops from the first existing key of `keys` (WRONGTYPE stops at the first
/// key of another type); false when all are missing. `count` is `None` for
/// BZPOPMIN/BZPOPMAX's single pop.
fn zpop_first(s: &mut Server, c: &mut Ctx, keys: &[Vec<u8>], max: bool, count: Option<usize>) -> Result<bool, ()> {
    for key in keys {
        if !check_type::<ZSet>(s, c, key)? {
            continue;
        }
        let items = pop_members(s, c.db, key, max, count.unwrap_or(1));
        if items.is_empty() {
            continue;
        }
        notify_pop(s, c.db, key, max);
        s.modified(c, c.db, key);
        let cmd = if max { b"ZPOPMAX".to_vec() } else { b"ZPOPMIN".to_vec() };
        let mut argv = vec![cmd, key.clone()];
        if count.is_some() {
            argv.push(format!("{}", items.len()).into_bytes());
        }
        c.propagate_as(vec![argv]);
        reply_popped(&mut c.out, key, &items, count.is_some());
        return Ok(true);
    }
    Ok(false)
}

fn parse_min_max(b: &[u8]) -> Option<bool> {
    if eq_ic(b, "min") {
        Some(false)
    } else if eq_ic(b, "max") {
        Some(true)
    } else {
        None
    }
}

/// Pops or blocks: the common tail of BZPOPMIN/BZPOPMAX/BZMPOP.
fn block_or_pop(
    s: &mut Server,
    c: &mut Ctx,
    keys: Vec<Vec<u8>>,
    max: bool,
    count: Option<usize>,
    deadline: Option<u64>,
) {
    match zpop_first(s, c, &keys, max, count) {
        Err(()) | Ok(true) => {}
        Ok(false) if c.in_exec => c.out.null_array(),
        Ok(false) => {
            let op = match count {
                Some(count) => BlockOp::ZMPop { max, count },
                None => BlockOp::ZPop { max },
            };
            s.block_client(c.cid, Blocked { db: c.db, keys, op, deadline });
        }
    }
}

fn bzpop_generic(s: &mut Server, c: &mut Ctx, max: bool) {
    let last = c.argc() - 1;
    let Ok(deadline) = parse_timeout(s, c, last) else { return };
    let keys: Vec<Vec<u8>> = c.argv.get(1..last).map(|k| k.to_vec()).unwrap_or_default();
    block_or_pop(s, c, keys, max, None, deadline);
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(s: &mut Server, c: &mut Ctx) {
    bzpop_generic(s, c, false);
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(s: &mut Server, c: &mut Ctx) {
    bzpop_generic(s, c, true);
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(s: &mut Server, c: &mut Ctx) {
    let Ok((keys, max, count)) = parse_mpop_args(c, 1, parse_min_max) else { return };
    if let Ok(false) = zpop_first(s, c, &keys, max, Some(count)) {
        c.out.null_array();
    }
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(s: &mut Server, c: &mut Ctx) {
    let Ok((keys, max, count)) = parse_mpop_args(c, 2, parse_min_max) else { return };
    let Ok(deadline) = parse_timeout(s, c, 1) else { return };
    block_or_pop(s, c, keys, max, Some(count), deadline);
}
