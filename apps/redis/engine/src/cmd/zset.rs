//! Sorted set commands.

use alloc::vec::Vec;

use super::{
    check_type, clamp_range, count_new, int_arg, parse_cursor, pop_count_arg, read_as, require, reserve_elements,
    scan_opts, scan_reply_header, with_container,
};
use crate::notify::{GENERIC, ZSET};
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::types::zset::{AddOutcome, EntryRange, LexBound, LexRange, ScoreRange, ZSet};
use crate::util::{double_bytes, eq_ic, parse_f64, parse_i64};

/// Parses a score bound (`(` exclusive) with strtod's leniency, like
/// Redis's zslParseRange.
fn parse_score_bound(b: &[u8]) -> Option<(f64, bool)> {
    let (ex, rest) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    let t = core::str::from_utf8(rest).ok()?.trim_start();
    if t.is_empty() {
        return Some((0.0, ex));
    }
    let v: f64 = t.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    Some((v, ex))
}

const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";

fn parse_score_range(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    let (min, minex) = parse_score_bound(min)?;
    let (max, maxex) = parse_score_bound(max)?;
    Some(ScoreRange { min, max, minex, maxex })
}

fn parse_lex_bound(b: &[u8]) -> Option<LexBound> {
    match b.first() {
        Some(b'+') if b.len() == 1 => Some(LexBound::PlusInf),
        Some(b'-') if b.len() == 1 => Some(LexBound::MinusInf),
        Some(b'(') => Some(LexBound::Excl(b[1..].to_vec())),
        Some(b'[') => Some(LexBound::Incl(b[1..].to_vec())),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Option<LexRange> {
    Some(LexRange { min: parse_lex_bound(min)?, max: parse_lex_bound(max)? })
}

pub fn zadd(s: &mut Server, c: &mut Ctx) {
    zadd_generic(s, c, false);
}

pub fn zincrby(s: &mut Server, c: &mut Ctx) {
    zadd_generic(s, c, true);
}

fn zadd_generic(s: &mut Server, c: &mut Ctx, is_zincrby: bool) {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) = (false, false, false, false, false, is_zincrby);
    let mut i = 2;
    if !is_zincrby {
        while i < c.argc() {
            let o = c.arg(i).to_ascii_lowercase();
            match o.as_slice() {
                b"nx" => nx = true,
                b"xx" => xx = true,
                b"gt" => gt = true,
                b"lt" => lt = true,
                b"ch" => ch = true,
                b"incr" => incr = true,
                _ => break,
            }
            i += 1;
        }
    }
    let rest = c.argc() - i;
    if rest == 0 || !rest.is_multiple_of(2) {
        c.syntax_error();
        return;
    }
    if nx && xx {
        c.out.err("ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (nx && (gt || lt)) || (gt && lt) {
        c.out.err("ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if incr && rest > 2 {
        c.out.err("ERR INCR option supports a single increment-element pair");
        return;
    }
    let mut pairs: Vec<(f64, Vec<u8>)> = Vec::with_capacity(rest / 2);
    for j in (i..c.argc()).step_by(2) {
        let Some(score) = parse_f64(c.arg(j)) else {
            c.not_float();
            return;
        };
        pairs.push((score, c.arg(j + 1).to_vec()));
    }
    let key = c.arg(1).to_vec();
    let Ok(exists) = check_type::<ZSet>(s, c, &key) else { return };
    if !exists && xx {
        if incr {
            c.out.null()
        } else {
            c.out.int(0)
        }
        return;
    }
    if !xx {
        let new = count_new::<ZSet>(s, c.db, &key, pairs.iter().map(|(_, m)| m.as_slice()));
        if !reserve_elements::<ZSet>(s, c, &key, new) {
            return;
        }
    }
    let mut added = 0i64;
    let mut updated = 0i64;
    let mut incr_result: Option<f64> = None;
    let mut nan = false;
    with_container::<ZSet, _>(s, c.db, &key, |z| {
        for (score, member) in pairs {
            match z.score(&member) {
                Some(cur) => {
                    if nx {
                        continue;
                    }
                    let new = if incr { cur + score } else { score };
                    if new.is_nan() {
                        nan = true;
                        return;
                    }
                    if (gt && new <= cur) || (lt && new >= cur) {
                        continue;
                    }
                    incr_result = Some(new);
                    if z.set(&member, new) == AddOutcome::Updated {
                        updated += 1;
                    }
                }
                None => {
                    if xx {
                        continue;
                    }
                    z.set(&member, score);
                    incr_result = Some(score);
                    added += 1;
                }
            }
        }
    });
    s.delete_if_empty(c.db, &key);
    if nan {
        c.out.err("ERR resulting score is not a number (NaN)");
        return;
    }
    if added + updated > 0 {
        s.notify(ZSET, if incr { "zincr" } else { "zadd" }, c.db, &key);
        s.modified(c, c.db, &key);
    }
    if incr {
        match incr_result {
            Some(v) => {
                if c.keep_argv {
                    let member = c.argv.last().cloned().unwrap_or_default();
                    c.propagate_as(alloc::vec![alloc::vec![b"ZADD".to_vec(), key, double_bytes(v), member]]);
                }
                c.out.double(v)
            }
            None => c.out.null(),
        }
    } else {
        c.out.int(if ch { added + updated } else { added });
    }
}

pub fn zrem(s: &mut Server, c: &mut Ctx) {
    super::remove_members::<ZSet>(s, c, (ZSET, "zrem"), |s, db, key, members| {
        with_container::<ZSet, _>(s, db, key, |z| members.iter().filter(|m| z.remove(m)).count())
    });
}

pub fn zscore(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.null(),
        Some(Value::ZSet(z)) => match z.score(&c.argv[2]) {
            Some(v) => c.out.double(v),
            None => c.out.null(),
        },
        Some(_) => c.wrongtype(),
    }
}

pub fn zmscore(s: &mut Server, c: &mut Ctx) {
    let z = match s.read(c.db, &c.argv[1]) {
        None => None,
        Some(Value::ZSet(z)) => Some(z),
        Some(_) => {
            c.wrongtype();
            return;
        }
    };
    c.out.array(c.argv.len() - 2);
    for m in &c.argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(v) => c.out.double(v),
            None => c.out.null(),
        }
    }
}

pub fn zcard(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::ZSet(z)) => c.out.int(z.len() as i64),
        Some(_) => c.wrongtype(),
    }
}

/// ZCOUNT / ZLEXCOUNT: `range` is the parsed interval, `None` (replied
/// as `err`) when it was invalid.
fn zcount_generic<R: EntryRange>(s: &mut Server, c: &mut Ctx, range: Option<R>, err: &str) {
    let Some(r) = range else {
        c.out.err(err);
        return;
    };
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::ZSet(z)) => c.out.int(z.count_in(&r) as i64),
        Some(_) => c.wrongtype(),
    }
}

pub fn zcount(s: &mut Server, c: &mut Ctx) {
    let range = parse_score_range(c.arg(2), c.arg(3));
    zcount_generic(s, c, range, BAD_SCORE_RANGE);
}

pub fn zlexcount(s: &mut Server, c: &mut Ctx) {
    let range = parse_lex_range(c.arg(2), c.arg(3));
    zcount_generic(s, c, range, BAD_LEX_RANGE);
}

fn zrank_generic(s: &mut Server, c: &mut Ctx, rev: bool) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.null(),
        Some(Value::ZSet(z)) => match z.rank(&c.argv[2], rev) {
            Some(r) => c.out.int(r as i64),
            None => c.out.null(),
        },
        Some(_) => c.wrongtype(),
    }
}

pub fn zrank(s: &mut Server, c: &mut Ctx) {
    zrank_generic(s, c, false);
}
pub fn zrevrank(s: &mut Server, c: &mut Ctx) {
    zrank_generic(s, c, true);
}

#[derive(Clone, Copy, PartialEq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed range of a ZRANGE/ZREMRANGE-family command.
enum Interval {
    /// Start and end index, not yet clamped.
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

impl Interval {
    /// Parses arguments `min_arg` and `max_arg` as a `kind` range, replying
    /// the error when they are invalid.
    fn parse(c: &mut Ctx, kind: RangeKind, min_arg: usize, max_arg: usize) -> Option<Interval> {
        let (a, b) = (c.arg(min_arg), c.arg(max_arg));
        let parsed = match kind {
            RangeKind::Rank => parse_i64(a).zip(parse_i64(b)).map(|(x, y)| Interval::Rank(x, y)),
            RangeKind::Score => parse_score_range(a, b).map(Interval::Score),
            RangeKind::Lex => parse_lex_range(a, b).map(Interval::Lex),
        };
        if parsed.is_none() {
            match kind {
                RangeKind::Rank => c.not_integer(),
                RangeKind::Score => c.out.err(BAD_SCORE_RANGE),
                RangeKind::Lex => c.out.err(BAD_LEX_RANGE),
            }
        }
        parsed
    }

    /// The entries of `z` in the range, from the high end when `rev`; a
    /// score or lex range skips `offset` and returns at most `count`.
    fn entries<'z>(&self, z: &'z ZSet, rev: bool, offset: usize, count: Option<usize>) -> Vec<(f64, &'z [u8])> {
        match self {
            Interval::Rank(x, y) => match clamp_range(*x, *y, z.len()) {
                Some((start, end)) => z.range_by_rank(start, end, rev),
                None => Vec::new(),
            },
            Interval::Score(r) => z.range_in(r, rev, offset, count),
            Interval::Lex(r) => z.range_in(r, rev, offset, count),
        }
    }
}

/// Writes (member, score) entries, with scores when asked.
fn reply_entries(c: &mut Ctx, items: &[(f64, &[u8])], withscores: bool) {
    let resp3 = c.out.is_resp3();
    if withscores && !resp3 {
        c.out.array(items.len() * 2);
    } else {
        c.out.array(items.len());
    }
    for (score, m) in items {
        if c.out.overflowed() {
            break;
        }
        if withscores {
            if resp3 {
                c.out.array(2);
            }
            c.out.bulk(m);
            c.out.double(*score);
        } else {
            c.out.bulk(m);
        }
    }
}

/// The shared implementation of ZRANGE and the legacy range commands.
/// `opts_from` is where options start; `kind`/`rev` may be overridden by
/// ZRANGE's BYSCORE/BYLEX/REV options.
fn zrange_generic(s: &mut Server, c: &mut Ctx, mut kind: RangeKind, mut rev: bool, opts_from: usize, is_zrange: bool) {
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut i = opts_from;
    while i < c.argc() {
        let o = c.arg(i).to_ascii_lowercase();
        match o.as_slice() {
            b"withscores" => withscores = true,
            b"limit" if i + 2 < c.argc() => {
                let Some(off) = int_arg(c, i + 1) else { return };
                let Some(cnt) = int_arg(c, i + 2) else { return };
                limit = Some((off, cnt));
                i += 2;
            }
            b"byscore" if is_zrange && kind == RangeKind::Rank => kind = RangeKind::Score,
            b"bylex" if is_zrange && kind == RangeKind::Rank => kind = RangeKind::Lex,
            b"rev" if is_zrange => rev = true,
            _ => {
                c.syntax_error();
                return;
            }
        }
        i += 1;
    }
    if limit.is_some() && kind == RangeKind::Rank {
        c.out.err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if withscores && kind == RangeKind::Lex {
        c.out.err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    // With REV (or the REV* commands) score/lex ranges are given max first.
    let (min_arg, max_arg) = if rev && kind != RangeKind::Rank { (3, 2) } else { (2, 3) };
    let (offset, count) = match limit {
        Some((off, _)) if off < 0 => {
            // A negative offset returns nothing (after validating the key).
            (usize::MAX, None)
        }
        Some((off, cnt)) => (off as usize, if cnt < 0 { None } else { Some(cnt as usize) }),
        None => (0, None),
    };
    let Some(interval) = Interval::parse(c, kind, min_arg, max_arg) else { return };
    let Some(z) = read_as::<ZSet>(s.read(c.db, &c.argv[1]), c, |c| c.out.array(0)) else { return };
    // (LIMIT, and so a negative offset, only goes with score/lex ranges.)
    let items = if offset == usize::MAX { Vec::new() } else { interval.entries(z, rev, offset, count) };
    reply_entries(c, &items, withscores);
}

pub fn zrange(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Rank, false, 4, true);
}
pub fn zrevrange(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Rank, true, 4, false);
}
pub fn zrangebyscore(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Score, false, 4, false);
}
pub fn zrevrangebyscore(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Score, true, 4, false);
}
pub fn zrangebylex(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Lex, false, 4, false);
}
pub fn zrevrangebylex(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Lex, true, 4, false);
}

fn zremrange_generic(s: &mut Server, c: &mut Ctx, kind: RangeKind) {
    let Some(interval) = Interval::parse(c, kind, 2, 3) else { return };
    let key = c.arg(1).to_vec();
    let victims: Vec<Vec<u8>> = {
        let Some(z) = read_as::<ZSet>(s.peek(c.db, &key), c, |c| c.out.int(0)) else { return };
        interval.entries(z, false, 0, None).into_iter().map(|(_, m)| m.to_vec()).collect()
    };
    with_container::<ZSet, _>(s, c.db, &key, |z| {
        for m in &victims {
            z.remove(m);
        }
    });
    s.delete_if_empty(c.db, &key);
    if !victims.is_empty() {
        let event = match kind {
            RangeKind::Rank => "zremrangebyrank",
            RangeKind::Score => "zremrangebyscore",
            RangeKind::Lex => "zremrangebylex",
        };
        s.notify_removal(ZSET, event, c.db, &key);
        s.modified(c, c.db, &key);
    }
    c.out.int(victims.len() as i64);
}

pub fn zremrangebyrank(s: &mut Server, c: &mut Ctx) {
    zremrange_generic(s, c, RangeKind::Rank);
}
pub fn zremrangebyscore(s: &mut Server, c: &mut Ctx) {
    zremrange_generic(s, c, RangeKind::Score);
}
pub fn zremrangebylex(s: &mut Server, c: &mut Ctx) {
    zremrange_generic(s, c, RangeKind::Lex);
}

fn zpop_generic(s: &mut Server, c: &mut Ctx, max: bool) {
    if c.argc() > 3 {
        c.syntax_error();
        return;
    }
    let Ok(count) = pop_count_arg(c, 2) else { return };
    let key = c.arg(1).to_vec();
    if !require::<ZSet>(s, c, &key, |c| c.out.array(0)) {
        return;
    }
    let n = count.unwrap_or(1);
    let popped: Vec<(f64, Vec<u8>)> = with_container::<ZSet, _>(s, c.db, &key, |z| {
        let len = z.len();
        let items: Vec<(f64, Vec<u8>)> = if len == 0 || n == 0 {
            Vec::new()
        } else {
            z.range_by_rank(0, n.min(len) - 1, max).into_iter().map(|(sc, m)| (sc, m.to_vec())).collect()
        };
        for (_, m) in &items {
            z.remove(m);
        }
        items
    })
    .unwrap_or_default();
    s.delete_if_empty(c.db, &key);
    if !popped.is_empty() {
        s.notify_removal(ZSET, if max { "zpopmax" } else { "zpopmin" }, c.db, &key);
        s.modified(c, c.db, &key);
    }
    let resp3 = c.out.is_resp3();
    if count.is_none() || !resp3 {
        c.out.array(popped.len() * 2);
        for (sc, m) in &popped {
            c.out.bulk(m);
            c.out.double(*sc);
        }
    } else {
        c.out.array(popped.len());
        for (sc, m) in &popped {
            c.out.array(2);
            c.out.bulk(m);
            c.out.double(*sc);
        }
    }
}

pub fn zpopmin(s: &mut Server, c: &mut Ctx) {
    zpop_generic(s, c, false);
}
pub fn zpopmax(s: &mut Server, c: &mut Ctx) {
    zpop_generic(s, c, true);
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(agg: Aggregate, acc: f64, v: f64) -> f64 {
    match agg {
        Aggregate::Sum => {
            let r = acc + v;
            if r.is_nan() { 0.0 } else { r }
        }
        Aggregate::Min => acc.min(v),
        Aggregate::Max => acc.max(v),
    }
}

/// One weighted input of ZUNIONSTORE/ZINTERSTORE: a sorted set, a set (its
/// members score 1), or nothing (a missing key), read in place.
struct Input<'a> {
    value: Option<&'a Value>,
    weight: f64,
}

impl Input<'_> {
    fn weighted(&self, score: f64) -> f64 {
        let v = score * self.weight;
        if v.is_nan() { 0.0 } else { v }
    }

    fn len(&self) -> usize {
        self.value.map_or(0, |v| v.len())
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self.value? {
            Value::ZSet(z) => z.score(member).map(|sc| self.weighted(sc)),
            Value::Set(s) if s.contains(member) => Some(self.weighted(1.0)),
            _ => None,
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self.value {
            Some(Value::ZSet(z)) => z.iter().for_each(|(sc, m)| f(m, self.weighted(sc))),
            Some(Value::Set(s)) => s.iter().for_each(|m| f(m, self.weighted(1.0))),
            _ => {}
        }
    }
}

fn zstore_generic(s: &mut Server, c: &mut Ctx, union: bool) {
    let dst = c.arg(1).to_vec();
    let Some(numkeys) = int_arg(c, 2) else { return };
    if numkeys < 1 {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR at least 1 input key is needed for '{name}' command"));
        return;
    }
    let numkeys = numkeys as u64;
    if numkeys > (c.argc() - 3) as u64 {
        c.syntax_error();
        return;
    }
    let numkeys = numkeys as usize;
    let keys: Vec<Vec<u8>> = c.argv[3..3 + numkeys].to_vec();
    let mut weights: Vec<f64> = alloc::vec![1.0; numkeys];
    let mut agg = Aggregate::Sum;
    let mut i = 3 + numkeys;
    while i < c.argc() {
        if eq_ic(c.arg(i), "weights") && i + numkeys < c.argc() {
            for (j, w) in weights.iter_mut().enumerate() {
                match parse_f64(c.arg(i + 1 + j)) {
                    Some(v) => *w = v,
                    None => {
                        c.out.err("ERR weight value is not a float");
                        return;
                    }
                }
            }
            i += numkeys + 1;
        } else if eq_ic(c.arg(i), "aggregate") && i + 1 < c.argc() {
            let a = c.arg(i + 1).to_ascii_lowercase();
            agg = match a.as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => {
                    c.syntax_error();
                    return;
                }
            };
            i += 2;
        } else {
            c.syntax_error();
            return;
        }
    }
    // Type checks (and lazy expiry) first; then the inputs are read in
    // place, without copying them.
    for k in &keys {
        match s.peek(c.db, k) {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => {
                c.wrongtype();
                return;
            }
        }
    }
    let mut result = ZSet::new(s.new_seed());
    let db = &s.dbs[c.db];
    let inputs: Vec<Input> = keys
        .iter()
        .zip(weights.iter())
        .map(|(k, &weight)| Input { value: db.get(k).map(|e| &e.value), weight })
        .collect();
    if union {
        for input in &inputs {
            input.for_each(|m, sc| {
                let new = match result.score(m) {
                    Some(cur) => aggregate(agg, cur, sc),
                    None => sc,
                };
                result.set(m, new);
            });
        }
    } else {
        // Each member of the smallest input, looked up in the others from
        // the smallest up (Redis's O(N*K) walk, in its order).
        let mut order: Vec<&Input> = inputs.iter().collect();
        order.sort_by_key(|i| i.len());
        let Some((smallest, rest)) = order.split_first() else { return };
        smallest.for_each(|m, sc| {
            let mut acc = sc;
            for other in rest {
                match other.score(m) {
                    Some(v) => acc = aggregate(agg, acc, v),
                    None => return,
                }
            }
            result.set(m, acc);
        });
    }
    let n = result.len();
    // The result is new memory a short request asked for: check it.
    let value = Value::ZSet(result.into());
    if n > 0 && !s.reserve_growth(value.mem()) {
        c.oom();
        return;
    }
    if n > 0 {
        s.store(c.db, &dst, value, false);
        s.notify(ZSET, if union { "zunionstore" } else { "zinterstore" }, c.db, &dst);
    } else if s.delete(c.db, &dst) {
        s.notify(GENERIC, "del", c.db, &dst);
    }
    s.modified(c, c.db, &dst);
    c.out.int(n as i64);
}

pub fn zunionstore(s: &mut Server, c: &mut Ctx) {
    zstore_generic(s, c, true);
}
pub fn zinterstore(s: &mut Server, c: &mut Ctx) {
    zstore_generic(s, c, false);
}

pub fn zscan(s: &mut Server, c: &mut Ctx) {
    let Some(cursor) = parse_cursor(c, 2) else { return };
    let Some(opts) = scan_opts(c, 3, false) else { return };
    let missing = |c: &mut Ctx| scan_reply_header(c, 0, 0);
    let Some(z) = read_as::<ZSet>(s.read(c.db, &c.argv[1]), c, missing) else { return };
    let mut items: Vec<(&[u8], f64)> = Vec::new();
    let next = if z.is_big() {
        z.dict().scan(cursor, opts.count, |m, sc| items.push((m, *sc)))
    } else {
        items.extend(z.iter().map(|(sc, m)| (m, sc)));
        0
    };
    if let Some(p) = &opts.pattern {
        items.retain(|(m, _)| crate::glob::matches(p, m, false));
    }
    scan_reply_header(c, next, items.len() * 2);
    for (m, sc) in items {
        c.out.bulk(m);
        c.out.bulk(&double_bytes(sc));
    }
}
