//! Sorted set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and
//! ZINTERCARD (Redis's `zunionInterDiffGenericCommand`), over sorted sets
//! and plain sets (whose members score 1), with WEIGHTS, AGGREGATE,
//! WITHSCORES and LIMIT as Redis 7.0 parses them; and ZRANDMEMBER.

use alloc::vec::Vec;

use super::int_arg;
use crate::bytemap::ByteMap;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::types::zset::ZSet;
use crate::util::{eq_ic, parse_f64, parse_i64};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// What the command does with the result.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Replies it (ZUNION, ZINTER, ZDIFF).
    Reply,
    /// Stores it at `argv[1]` and replies its size (the STORE forms).
    Store,
    /// Replies only how many members it has (ZINTERCARD).
    Cardinality,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Redis's `zunionInterAggregate`: a sum that is NaN (inf + -inf) is 0; MIN
/// and MAX keep the current score unless the new one compares beyond it.
fn aggregate(agg: Aggregate, target: f64, val: f64) -> f64 {
    match agg {
        Aggregate::Sum => {
            let r = target + val;
            if r.is_nan() { 0.0 } else { r }
        }
        Aggregate::Min => {
            if val < target {
                val
            } else {
                target
            }
        }
        Aggregate::Max => {
            if val > target {
                val
            } else {
                target
            }
        }
    }
}

/// `score * weight`, with NaN (0 * inf) taken as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() { 0.0 } else { v }
}

/// One input: a sorted set, a set (its members score 1), or nothing (a
/// missing key), read in place.
struct Input<'a> {
    value: Option<&'a Value>,
    weight: f64,
}

impl Input<'_> {
    fn len(&self) -> usize {
        self.value.map_or(0, |v| v.len())
    }

    /// The member's unweighted score, when present.
    fn score(&self, member: &[u8]) -> Option<f64> {
        match self.value? {
            Value::ZSet(z) => z.score(member),
            Value::Set(s) if s.contains(member) => Some(1.0),
            _ => None,
        }
    }

    /// Every member with its unweighted score, in the input's order.
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self.value {
            Some(Value::ZSet(z)) => z.iter().for_each(|(sc, m)| f(m, sc)),
            Some(Value::Set(s)) => s.iter().for_each(|m| f(m, 1.0)),
            _ => {}
        }
    }

    /// Whether both inputs are the same key (named twice).
    fn same_as(&self, other: &Input) -> bool {
        match (self.value, other.value) {
            (Some(a), Some(b)) => core::ptr::eq(a, b),
            _ => false,
        }
    }
}

/// The parsed options.
struct Options {
    weights: Vec<f64>,
    agg: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// Parses the options after the keys (from `from`), replying the error
/// when they are invalid.
fn parse_options(c: &mut Ctx, from: usize, numkeys: usize, op: Op, out: Output) -> Option<Options> {
    let mut o = Options { weights: alloc::vec![1.0; numkeys], agg: Aggregate::Sum, withscores: false, limit: 0 };
    let algebra = op != Op::Diff && out != Output::Cardinality;
    let mut j = from;
    while j < c.argc() {
        let remaining = c.argc() - j;
        if algebra && remaining > numkeys && eq_ic(c.arg(j), "weights") {
            for i in 0..numkeys {
                match parse_f64(c.arg(j + 1 + i)) {
                    Some(w) => o.weights[i] = w,
                    None => {
                        c.out.err("ERR weight value is not a float");
                        return None;
                    }
                }
            }
            j += numkeys + 1;
        } else if algebra && remaining >= 2 && eq_ic(c.arg(j), "aggregate") {
            let a = c.arg(j + 1);
            o.agg = if eq_ic(a, "sum") {
                Aggregate::Sum
            } else if eq_ic(a, "min") {
                Aggregate::Min
            } else if eq_ic(a, "max") {
                Aggregate::Max
            } else {
                c.syntax_error();
                return None;
            };
            j += 2;
        } else if out == Output::Reply && eq_ic(c.arg(j), "withscores") {
            o.withscores = true;
            j += 1;
        } else if out == Output::Cardinality && remaining >= 2 && eq_ic(c.arg(j), "limit") {
            match parse_i64(c.arg(j + 1)) {
                Some(n) if n >= 0 => o.limit = usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    c.out.err("ERR LIMIT can't be negative");
                    return None;
                }
            }
            j += 2;
        } else {
            c.syntax_error();
            return None;
        }
    }
    Some(o)
}

/// ZINTER: each member of the smallest input, looked up in the others from
/// the smallest up. With `limit` (ZINTERCARD) it only counts, stopping at
/// `limit` when non-zero.
fn inter(inputs: &[Input], agg: Aggregate, result: Option<&mut ZSet>, limit: usize) -> usize {
    let Some((first, rest)) = inputs.split_first() else { return 0 };
    let mut result = result;
    let mut count = 0usize;
    if first.len() == 0 {
        return 0;
    }
    let mut done = false;
    first.for_each(|m, sc| {
        if done {
            return;
        }
        let mut score = weighted(sc, first.weight);
        for other in rest {
            // (Redis weighs the other inputs' scores without the NaN check.)
            let value = if other.same_as(first) { Some(sc) } else { other.score(m) };
            match value {
                Some(v) => score = aggregate(agg, score, v * other.weight),
                None => return,
            }
        }
        count += 1;
        match result.as_deref_mut() {
            Some(z) => {
                z.set(m, score);
            }
            None => done = limit > 0 && count >= limit,
        }
    });
    count
}

/// ZUNION: the weighted scores of every input's members, aggregated.
fn union(inputs: &[Input], agg: Aggregate, result: &mut ZSet, seed: u64) {
    let mut acc: ByteMap<f64> = ByteMap::new(seed);
    for input in inputs {
        input.for_each(|m, sc| {
            let score = weighted(sc, input.weight);
            match acc.get_mut(m) {
                Some(cur) => *cur = aggregate(agg, *cur, score),
                None => {
                    acc.insert_new(m.into(), score);
                }
            }
        });
    }
    for (m, &score) in acc.iter() {
        result.set(m, score);
    }
}

/// ZDIFF: the members of the first input that no other input has, with
/// their scores. Like Redis, either checks each member of the first input
/// against the others (largest first) or copies the first input and
/// removes the others' members, whichever is less work.
fn diff(inputs: &mut [Input], result: &mut ZSet) {
    let Some((first, rest)) = inputs.split_first_mut() else { return };
    if first.len() == 0 || rest.iter().any(|i| i.same_as(first)) {
        return;
    }
    let one_work = first.len().saturating_mul(rest.len() + 1) / 2;
    let two_work = rest.iter().fold(first.len(), |acc, i| acc.saturating_add(i.len()));
    if one_work <= two_work {
        rest.sort_by_key(|i| core::cmp::Reverse(i.len()));
        first.for_each(|m, sc| {
            if rest.iter().all(|other| other.score(m).is_none()) {
                result.set(m, sc);
            }
        });
    } else {
        first.for_each(|m, sc| {
            result.set(m, sc);
        });
        for other in rest.iter() {
            if result.is_empty() {
                break;
            }
            other.for_each(|m, _| {
                result.remove(m);
            });
        }
    }
}

fn zsetop(s: &mut Server, c: &mut Ctx, op: Op, out: Output) {
    let numkeys_at = if out == Output::Store { 2 } else { 1 };
    let Some(numkeys) = int_arg(c, numkeys_at) else { return };
    if numkeys < 1 {
        let name = c.spec.name;
        c.out.err(&alloc::format!("ERR at least 1 input key is needed for '{name}' command"));
        return;
    }
    let first_key = numkeys_at + 1;
    if numkeys as u64 > (c.argc() - first_key) as u64 {
        c.syntax_error();
        return;
    }
    let numkeys = numkeys as usize;
    // Type checks (and lazy expiry) come first, then the options.
    for i in first_key..first_key + numkeys {
        match s.read(c.db, &c.argv[i]) {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => {
                c.wrongtype();
                return;
            }
        }
    }
    let Some(opts) = parse_options(c, first_key + numkeys, numkeys, op, out) else { return };
    let (seed, acc_seed) = (s.new_seed(), s.new_seed());
    let mut result = ZSet::new(seed);
    let db = &s.dbs[c.db];
    let mut inputs: Vec<Input> = c.argv[first_key..first_key + numkeys]
        .iter()
        .zip(opts.weights.iter())
        .map(|(k, &weight)| Input { value: db.get(k).map(|e| &e.value), weight })
        .collect();
    if op != Op::Diff {
        inputs.sort_by_key(|i| i.len());
    }
    match (op, out) {
        (Op::Inter, Output::Cardinality) => {
            let n = inter(&inputs, opts.agg, None, opts.limit);
            c.out.int(n as i64);
            return;
        }
        (Op::Inter, _) => {
            inter(&inputs, opts.agg, Some(&mut result), 0);
        }
        (Op::Union, _) => union(&inputs, opts.agg, &mut result, acc_seed),
        (Op::Diff, _) => diff(&mut inputs, &mut result),
    }
    drop(inputs);
    if out == Output::Reply {
        let items: Vec<(f64, &[u8])> = result.iter().collect();
        super::zset::reply_entries(c, &items, opts.withscores);
        return;
    }
    store_result(s, c, result);
}

/// Stores a STORE form's result (or ZRANGESTORE's) at `argv[1]` (deleting it when the result
/// is empty) and replies its size.
pub(super) fn store_result(s: &mut Server, c: &mut Ctx, result: ZSet) {
    let dst = c.arg(1).to_vec();
    // The event is the command's name: zunionstore, zinterstore,
    // zdiffstore, zrangestore.
    store_zset(s, c, &dst, result, c.spec.name);
}

/// Stores `result` at `dst` (deleting `dst` when the result is empty),
/// notifies `event` and replies the result's size.
pub(super) fn store_zset(s: &mut Server, c: &mut Ctx, dst: &[u8], result: ZSet, event: &str) {
    let n = result.len();
    if n == 0 {
        if s.delete(c.db, dst) {
            s.notify(crate::notify::GENERIC, "del", c.db, dst);
            s.modified(c, c.db, dst);
        }
        c.out.int(0);
        return;
    }
    // The result is new memory a short request asked for: check it.
    let value = Value::ZSet(result.into());
    if !s.reserve_growth(value.mem()) {
        c.oom();
        return;
    }
    s.store(c.db, dst, value, false);
    s.notify(crate::notify::ZSET, event, c.db, dst);
    s.modified(c, c.db, dst);
    c.out.int(n as i64);
}

pub fn zunion(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Union, Output::Reply);
}
pub fn zinter(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Inter, Output::Reply);
}
pub fn zdiff(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Diff, Output::Reply);
}
pub fn zunionstore(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Union, Output::Store);
}
pub fn zinterstore(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Inter, Output::Store);
}
pub fn zdiffstore(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Diff, Output::Store);
}
pub fn zintercard(s: &mut Server, c: &mut Ctx) {
    zsetop(s, c, Op::Inter, Output::Cardinality);
}

/// ZRANDMEMBER key [count [WITHSCORES]].
pub fn zrandmember(s: &mut Server, c: &mut Ctx) {
    let mut count: Option<i64> = None;
    let mut withscores = false;
    if c.argc() >= 3 {
        let Some(n) = int_arg(c, 2) else { return };
        if n == i64::MIN {
            c.out.err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        if c.argc() > 4 || (c.argc() == 4 && !eq_ic(c.arg(3), "withscores")) {
            c.syntax_error();
            return;
        }
        if c.argc() == 4 {
            withscores = true;
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
                c.out.err("ERR value is out of range");
                return;
            }
        }
        count = Some(n);
    }
    let resp3 = c.out.is_resp3();
    let (value, rng) = s.read_with_rng(c.db, &c.argv[1]);
    let missing = |c: &mut Ctx| super::empty_array_or_null(c, count.is_some());
    let Some(z) = super::read_as::<ZSet>(value, c, missing) else { return };
    let dict = z.dict();
    let Some(count) = count else {
        match dict.random(rng) {
            Some((m, _)) => c.out.bulk(m),
            None => c.out.null(),
        }
        return;
    };
    let emit = |slot: u32, c: &mut Ctx| {
        if let Some((m, &score)) = dict.at(slot) {
            if withscores && resp3 {
                c.out.array(2);
            }
            c.out.bulk(m);
            if withscores {
                c.out.double(score);
            }
        }
    };
    // With repetitions (a negative count, or 1): each pick is independent.
    if count < 0 || count == 1 {
        let n = count.unsigned_abs();
        c.out.array(if withscores && !resp3 { n.saturating_mul(2) } else { n } as usize);
        for _ in 0..n {
            if let Some(slot) = dict.random_slot(rng) {
                emit(slot, c);
            }
            if c.out.overflowed() {
                break; // the client is closed by its output limit
            }
        }
        return;
    }
    let picks = super::hash::pick_members(dict, count, rng);
    c.out.array(if withscores && !resp3 { picks.len() * 2 } else { picks.len() });
    for slot in picks {
        emit(slot, c);
    }
}
