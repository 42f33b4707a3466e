//! Sorted set commands.

use alloc::vec::Vec;

use super::{
    check_type, clamp_range, count_new, int_arg, parse_cursor, pop_count_arg, read_as, require, reserve_elements,
    scan_opts, scan_reply_header, with_container,
};
use crate::notify::ZSET;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::types::zset::{AddOutcome, EntryRange, LexBound, LexRange, ScoreRange, ZSet};
use crate::util::{double_bytes, parse_f64, parse_i64};

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
pub(super) fn reply_entries(c: &mut Ctx, items: &[(f64, &[u8])], withscores: bool) {
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

/// How a ZRANGE-family command was called.
#[derive(Clone, Copy, PartialEq)]
enum RangeCall {
    /// A legacy command: its range kind and direction are fixed.
    Legacy,
    /// ZRANGE: BYSCORE/BYLEX and REV may each be given once.
    Range,
    /// ZRANGESTORE: like ZRANGE, from `argv[2]` into `argv[1]`.
    Store,
}

/// The shared implementation of ZRANGE, ZRANGESTORE and the legacy range
/// commands (Redis's `zrangeGenericCommand`); `kind`/`rev` may be
/// overridden by ZRANGE's BYSCORE/BYLEX/REV options.
fn zrange_generic(s: &mut Server, c: &mut Ctx, mut kind: RangeKind, mut rev: bool, call: RangeCall) {
    let store = call == RangeCall::Store;
    let src = if store { 2 } else { 1 };
    let (mut kind_given, mut rev_given) = (call == RangeCall::Legacy, call == RangeCall::Legacy);
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut i = src + 3;
    while i < c.argc() {
        let o = c.arg(i).to_ascii_lowercase();
        match o.as_slice() {
            b"withscores" if !store => withscores = true,
            b"limit" if i + 2 < c.argc() => {
                let Some(off) = int_arg(c, i + 1) else { return };
                let Some(cnt) = int_arg(c, i + 2) else { return };
                limit = Some((off, cnt));
                i += 2;
            }
            b"byscore" if !kind_given => (kind, kind_given) = (RangeKind::Score, true),
            b"bylex" if !kind_given => (kind, kind_given) = (RangeKind::Lex, true),
            b"rev" if !rev_given => (rev, rev_given) = (true, true),
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
    let (min_arg, max_arg) = if rev && kind != RangeKind::Rank { (src + 2, src + 1) } else { (src + 1, src + 2) };
    let (offset, count) = match limit {
        Some((off, _)) if off < 0 => {
            // A negative offset returns nothing (after validating the key).
            (usize::MAX, None)
        }
        Some((off, cnt)) => (off as usize, if cnt < 0 { None } else { Some(cnt as usize) }),
        None => (0, None),
    };
    let Some(interval) = Interval::parse(c, kind, min_arg, max_arg) else { return };
    let seed = s.new_seed();
    let missing = |c: &mut Ctx| {
        if !store {
            c.out.array(0)
        }
    };
    let value = s.read(c.db, &c.argv[src]);
    let is_missing = value.is_none();
    let Some(z) = read_as::<ZSet>(value, c, missing) else {
        if store && is_missing {
            super::zsetops::store_result(s, c, ZSet::new(seed));
        }
        return;
    };
    // (LIMIT, and so a negative offset, only goes with score/lex ranges.)
    let items = if offset == usize::MAX { Vec::new() } else { interval.entries(z, rev, offset, count) };
    if !store {
        reply_entries(c, &items, withscores);
        return;
    }
    let mut result = ZSet::new(seed);
    for (score, m) in items {
        result.set(m, score);
    }
    super::zsetops::store_result(s, c, result);
}

pub fn zrange(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Rank, false, RangeCall::Range);
}
pub fn zrangestore(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Rank, false, RangeCall::Store);
}
pub fn zrevrange(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Rank, true, RangeCall::Legacy);
}
pub fn zrangebyscore(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Score, false, RangeCall::Legacy);
}
pub fn zrevrangebyscore(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Score, true, RangeCall::Legacy);
}
pub fn zrangebylex(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Lex, false, RangeCall::Legacy);
}
pub fn zrevrangebylex(s: &mut Server, c: &mut Ctx) {
    zrange_generic(s, c, RangeKind::Lex, true, RangeCall::Legacy);
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
