//! Sorted set value: a skiplist with spans (O(log n) insert, delete, rank
//! and range start, like Redis's zskiplist) plus a member -> score map.
//! Nodes live in an arena (`Vec`) and link by index.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::bytemap::{ByteMap, ReserveError};
use crate::mem;

/// Redis 7.0 defaults: zset-max-listpack-entries / -value.
pub const MAX_LISTPACK_ENTRIES: usize = 128;
pub const MAX_LISTPACK_VALUE: usize = 64;

const NIL: u32 = u32::MAX;
const MAX_LEVEL: usize = 32;
const HEADER: u32 = 0;

#[derive(Clone, Copy)]
struct Level {
    forward: u32,
    span: u32,
}

struct Node {
    score: f64,
    member: Box<[u8]>,
    backward: u32,
    levels: Vec<Level>,
}

/// A score interval (ZRANGEBYSCORE syntax: `(` makes a bound exclusive).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

/// An interval of entries (a `ScoreRange` or a `LexRange`): what the skiplist
/// needs to find and walk its entries, whichever order it is expressed in.
pub trait EntryRange {
    /// Whether an entry is not below the interval's low end.
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    /// Whether an entry is not above the interval's high end.
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
    /// Whether no entry can be inside (min above max, or equal and exclusive).
    fn is_empty(&self) -> bool;
}

impl EntryRange for ScoreRange {
    fn gte_min(&self, v: f64, _: &[u8]) -> bool {
        if self.minex { v > self.min } else { v >= self.min }
    }
    fn lte_max(&self, v: f64, _: &[u8]) -> bool {
        if self.maxex { v < self.max } else { v <= self.max }
    }
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic interval (`-`, `+`, `[x`, `(x`).
#[derive(Clone, Debug)]
pub enum LexBound {
    MinusInf,
    PlusInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

/// Lex ranges compare members only (they are meant for equal scores).
impl EntryRange for LexRange {
    fn gte_min(&self, _: f64, m: &[u8]) -> bool {
        match &self.min {
            LexBound::MinusInf => true,
            LexBound::PlusInf => false,
            LexBound::Incl(b) => m >= b.as_slice(),
            LexBound::Excl(b) => m > b.as_slice(),
        }
    }
    fn lte_max(&self, _: f64, m: &[u8]) -> bool {
        match &self.max {
            LexBound::MinusInf => false,
            LexBound::PlusInf => true,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }
    fn is_empty(&self) -> bool {
        match (&self.min, &self.max) {
            (LexBound::PlusInf, _) | (_, LexBound::MinusInf) => true,
            (LexBound::MinusInf, _) | (_, LexBound::PlusInf) => false,
            (LexBound::Incl(a), LexBound::Incl(b)) => a > b,
            (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => a >= b,
        }
    }
}

fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// The ordered index of a sorted set.
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    level: usize,
    length: usize,
    tail: u32,
    rng: u64,
    /// Heap bytes of the nodes' own allocations (members and level arrays).
    node_bytes: usize,
}

/// Heap bytes a node owns besides its arena slot.
fn node_heap(member: &[u8], levels: usize) -> usize {
    mem::block(member.len()) + mem::array::<Level>(levels)
}

impl SkipList {
    pub fn new(seed: u64) -> SkipList {
        let header = Node {
            score: 0.0,
            member: Box::default(),
            backward: NIL,
            levels: vec![Level { forward: NIL, span: 0 }; MAX_LEVEL],
        };
        let node_bytes = node_heap(&[], MAX_LEVEL);
        SkipList { nodes: vec![header], free: Vec::new(), level: 1, length: 0, tail: NIL, rng: seed | 1, node_bytes }
    }

    /// Heap bytes: the node arena and free list (capacity) plus what the
    /// nodes own.
    pub fn mem(&self) -> usize {
        mem::array::<Node>(self.nodes.capacity()) + mem::array::<u32>(self.free.capacity()) + self.node_bytes
    }

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            // xorshift64
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            if (self.rng & 0xFFFF) < 0xFFFF / 4 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    fn fwd(&self, x: u32, i: usize) -> u32 {
        self.nodes[x as usize].levels[i].forward
    }

    fn lt(&self, x: u32, score: f64, member: &[u8]) -> bool {
        let n = &self.nodes[x as usize];
        cmp_entry(n.score, &n.member, score, member) == Ordering::Less
    }

    /// Score and member of node `x`.
    pub fn entry(&self, x: u32) -> (f64, &[u8]) {
        let n = &self.nodes[x as usize];
        (n.score, &n.member)
    }

    pub fn next(&self, x: u32) -> Option<u32> {
        let f = self.fwd(x, 0);
        (f != NIL).then_some(f)
    }

    pub fn prev(&self, x: u32) -> Option<u32> {
        let b = self.nodes[x as usize].backward;
        (b != NIL).then_some(b)
    }

    /// Inserts an entry that is not present.
    pub fn insert(&mut self, score: f64, member: Box<[u8]>) {
        let mut update = [HEADER; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let f = self.fwd(x, i);
                if f != NIL && self.lt(f, score, &member) {
                    rank[i] += self.nodes[x as usize].levels[i].span;
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let lvl = self.random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEADER;
                self.nodes[HEADER as usize].levels[i].span = self.length as u32;
            }
            self.level = lvl;
        }
        self.node_bytes += node_heap(&member, lvl);
        let node = Node { score, member, backward: NIL, levels: vec![Level { forward: NIL, span: 0 }; lvl] };
        let x = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..lvl {
            let u = update[i] as usize;
            let ul = self.nodes[u].levels[i];
            self.nodes[x as usize].levels[i] = Level { forward: ul.forward, span: ul.span - (rank[0] - rank[i]) };
            self.nodes[u].levels[i] = Level { forward: x, span: (rank[0] - rank[i]) + 1 };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.nodes[u as usize].levels[i].span += 1;
        }
        self.nodes[x as usize].backward = if update[0] == HEADER { NIL } else { update[0] };
        let f0 = self.fwd(x, 0);
        if f0 != NIL {
            self.nodes[f0 as usize].backward = x;
        } else {
            self.tail = x;
        }
        self.length += 1;
    }

    /// Removes the entry; returns its member bytes when it existed.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> Option<Box<[u8]>> {
        let mut update = [HEADER; MAX_LEVEL];
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && self.lt(f, score, member) {
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let x = self.fwd(x, 0);
        if x == NIL {
            return None;
        }
        let n = &self.nodes[x as usize];
        if n.score != score || &*n.member != member {
            return None;
        }
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = u as usize;
            if self.nodes[u].levels[i].forward == x {
                let xl = self.nodes[x as usize].levels[i];
                let ul = &mut self.nodes[u].levels[i];
                ul.span = ul.span + xl.span - 1;
                ul.forward = xl.forward;
            } else {
                self.nodes[u].levels[i].span -= 1;
            }
        }
        let f0 = self.fwd(x, 0);
        let back = self.nodes[x as usize].backward;
        if f0 != NIL {
            self.nodes[f0 as usize].backward = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEADER, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.length -= 1;
        let node = &mut self.nodes[x as usize];
        self.node_bytes -= node_heap(&node.member, node.levels.len());
        node.levels = Vec::new();
        let member = core::mem::take(&mut node.member);
        self.free.push(x);
        Some(member)
    }

    /// 1-based rank of an existing entry.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEADER;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL {
                    break;
                }
                let n = &self.nodes[f as usize];
                if cmp_entry(n.score, &n.member, score, member) != Ordering::Greater {
                    rank += self.nodes[x as usize].levels[i].span as usize;
                    x = f;
                } else {
                    break;
                }
            }
            if x != HEADER && &*self.nodes[x as usize].member == member {
                return Some(rank);
            }
        }
        None
    }

    /// Node at 1-based `rank`.
    pub fn by_rank(&self, rank: usize) -> Option<u32> {
        if rank == 0 || rank > self.length {
            return None;
        }
        let mut x = HEADER;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                let span = self.nodes[x as usize].levels[i].span as usize;
                if f != NIL && traversed + span <= rank {
                    traversed += span;
                    x = f;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return Some(x);
            }
        }
        None
    }

    pub fn first(&self) -> Option<u32> {
        self.next(HEADER)
    }

    pub fn last(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    fn gte_min<R: EntryRange>(&self, r: &R, x: u32) -> bool {
        let n = &self.nodes[x as usize];
        r.gte_min(n.score, &n.member)
    }

    fn lte_max<R: EntryRange>(&self, r: &R, x: u32) -> bool {
        let n = &self.nodes[x as usize];
        r.lte_max(n.score, &n.member)
    }

    /// Whether the range overlaps the list at all (cheap early exit).
    fn overlaps<R: EntryRange>(&self, r: &R) -> bool {
        if r.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(t), Some(h)) => self.gte_min(r, t) && self.lte_max(r, h),
            _ => false,
        }
    }

    /// The last node for which `before` holds (`HEADER` when none), found
    /// top level first; `before` must hold for a prefix of the list.
    fn last_where(&self, before: impl Fn(u32) -> bool) -> u32 {
        let mut x = HEADER;
        for i in (0..self.level).rev() {
            let mut f = self.fwd(x, i);
            while f != NIL && before(f) {
                x = f;
                f = self.fwd(x, i);
            }
        }
        x
    }

    /// The lowest node inside the range.
    pub fn first_in_range<R: EntryRange>(&self, r: &R) -> Option<u32> {
        if !self.overlaps(r) {
            return None;
        }
        let x = self.next(self.last_where(|f| !self.gte_min(r, f)))?;
        self.lte_max(r, x).then_some(x)
    }

    /// The highest node inside the range.
    pub fn last_in_range<R: EntryRange>(&self, r: &R) -> Option<u32> {
        if !self.overlaps(r) {
            return None;
        }
        let x = self.last_where(|f| self.lte_max(r, f));
        (x != HEADER && self.gte_min(r, x)).then_some(x)
    }
}

/// A sorted set: skiplist order plus member -> score lookup.
pub struct ZSet {
    dict: ByteMap<f64>,
    list: SkipList,
    big: bool,
}

/// What `ZSet::add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    Updated,
    Unchanged,
}

impl ZSet {
    pub fn new(seed: u64) -> ZSet {
        ZSet { dict: ByteMap::new(seed), list: SkipList::new(seed), big: false }
    }
    pub fn len(&self) -> usize {
        self.dict.len()
    }
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }
    pub fn is_big(&self) -> bool {
        self.big
    }
    /// Heap bytes: the member -> score map and the skiplist.
    pub fn mem(&self) -> usize {
        self.dict.overhead_bytes() + self.list.mem()
    }
    /// Bytes [`try_reserve`](Self::try_reserve) would add: the map's growth
    /// and the node arena's (free nodes are reused first).
    pub fn growth_bytes(&self, additional: usize) -> usize {
        let nodes = &self.list.nodes;
        let need = nodes.len().saturating_add(additional.saturating_sub(self.list.free.len()));
        let arena = if need <= nodes.capacity() {
            0
        } else {
            let cap = nodes.capacity();
            mem::array::<Node>(need.max(cap.saturating_mul(2)).max(4)) - mem::array::<Node>(cap)
        };
        self.dict.growth_bytes(additional) + arena
    }
    /// Makes room for `additional` more members in the map and the
    /// skiplist's node arena.
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        self.dict.try_reserve(additional)?;
        let free = self.list.free.len();
        self.list.nodes.try_reserve(additional.saturating_sub(free)).map_err(|_| ReserveError)
    }
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.dict.get(member).copied()
    }
    pub fn list(&self) -> &SkipList {
        &self.list
    }
    pub fn dict(&self) -> &ByteMap<f64> {
        &self.dict
    }

    /// Sets `member`'s score (inserting it when absent).
    pub fn set(&mut self, member: &[u8], score: f64) -> AddOutcome {
        match self.dict.get(member).copied() {
            Some(old) => {
                if old == score {
                    return AddOutcome::Unchanged;
                }
                let m = self.list.delete(old, member).unwrap_or_else(|| member.into());
                self.list.insert(score, m);
                if let Some(s) = self.dict.get_mut(member) {
                    *s = score;
                }
                AddOutcome::Updated
            }
            None => {
                if member.len() > MAX_LISTPACK_VALUE || self.dict.len() >= MAX_LISTPACK_ENTRIES {
                    self.big = true;
                }
                self.list.insert(score, member.into());
                self.dict.insert_new(member.into(), score);
                AddOutcome::Added
            }
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.dict.remove(member) {
            Some(score) => {
                self.list.delete(score, member);
                true
            }
            None => false,
        }
    }

    /// 0-based rank, from the lowest score or (`rev`) the highest.
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let score = self.score(member)?;
        let r = self.list.rank(score, member)?;
        Some(if rev { self.len() - r } else { r - 1 })
    }

    /// Entries from node `start` on, towards higher scores or, when `rev`,
    /// lower ones: the one walk behind every range and `iter`.
    fn walk(&self, start: Option<u32>, rev: bool) -> impl Iterator<Item = (f64, &[u8])> {
        let mut x = start;
        core::iter::from_fn(move || {
            let n = x?;
            x = if rev { self.list.prev(n) } else { self.list.next(n) };
            Some(self.list.entry(n))
        })
    }

    /// Entries with 0-based ranks `start..=end` (clamped by the caller),
    /// walking from the high end when `rev`.
    pub fn range_by_rank(&self, start: usize, end: usize, rev: bool) -> Vec<(f64, &[u8])> {
        if start > end || start >= self.len() {
            return Vec::new();
        }
        let first_rank = if rev { self.len() - start } else { start + 1 };
        self.walk(self.list.by_rank(first_rank), rev).take(end - start + 1).collect()
    }

    /// Entries in a score or lex range, from the high end when `rev`,
    /// skipping `offset` and returning at most `limit` (`None` = all).
    pub fn range_in<R: EntryRange>(&self, r: &R, rev: bool, offset: usize, limit: Option<usize>) -> Vec<(f64, &[u8])> {
        let start = if rev { self.list.last_in_range(r) } else { self.list.first_in_range(r) };
        // The walk starts inside the range, so only the far end can stop it.
        self.walk(start, rev)
            .take_while(|&(s, m)| if rev { r.gte_min(s, m) } else { r.lte_max(s, m) })
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect()
    }

    /// Number of entries in a score or lex range, in O(log n) via ranks.
    pub fn count_in<R: EntryRange>(&self, r: &R) -> usize {
        let (Some(a), Some(b)) = (self.list.first_in_range(r), self.list.last_in_range(r)) else {
            return 0;
        };
        let (sa, ma) = self.list.entry(a);
        let (sb, mb) = self.list.entry(b);
        match (self.list.rank(sa, ma), self.list.rank(sb, mb)) {
            (Some(ra), Some(rb)) if rb >= ra => rb - ra + 1,
            _ => 0,
        }
    }

    /// All entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (f64, &[u8])> {
        self.walk(self.list.first(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn ranks_and_ranges() {
        let mut z = ZSet::new(42);
        for i in 0..500 {
            z.set(format!("m{i:04}").as_bytes(), f64::from(i % 50));
        }
        assert_eq!(z.len(), 500);
        // Order is by score then member.
        let all: Vec<_> = z.iter().map(|(s, m)| (s, m.to_vec())).collect();
        for w in all.windows(2) {
            assert!(cmp_entry(w[0].0, &w[0].1, w[1].0, &w[1].1) == Ordering::Less);
        }
        for (i, (_, m)) in all.iter().enumerate() {
            assert_eq!(z.rank(m, false), Some(i));
            assert_eq!(z.rank(m, true), Some(499 - i));
        }
        let r = ScoreRange { min: 10.0, max: 12.0, minex: false, maxex: true };
        assert_eq!(z.count_in(&r), 20);
        assert_eq!(z.range_in(&r, false, 0, None).len(), 20);
        assert_eq!(z.range_in(&r, true, 5, Some(3)).len(), 3);
        for i in (0..500).step_by(3) {
            assert!(z.remove(format!("m{i:04}").as_bytes()));
        }
        let all: Vec<_> = z.iter().map(|(_, m)| m.to_vec()).collect();
        assert_eq!(all.len(), z.len());
        for (i, m) in all.iter().enumerate() {
            assert_eq!(z.rank(m, false), Some(i));
        }
        let got = z.range_by_rank(1, 3, true);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1, all[all.len() - 2].as_slice());
        z.set(b"m0001", 1000.0);
        assert_eq!(z.rank(b"m0001", true), Some(0));
    }
}
