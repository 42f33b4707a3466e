//! List value: a deque of byte strings with a running memory total.
//!
//! Costs: push/pop at either end, LINDEX and LSET O(1); LINSERT and removal
//! at position i move min(i, n - i) element handles (never the elements'
//! bytes); LREM with a count moves only the elements up to its last match
//! (from the head, or from the tail for a negative count); LTRIM pops what
//! it drops. Nothing reallocates the whole list except amortised growth, and
//! the buffer shrinks (amortised) once it is mostly empty.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::bytemap::ReserveError;
use crate::mem;

#[derive(Default)]
pub struct List {
    items: VecDeque<Vec<u8>>,
    /// Heap bytes of the elements' own buffers.
    bytes: usize,
    /// Element handles moved by `remove_matching` (lets tests assert the work).
    #[cfg(test)]
    moved: usize,
}

fn cost(v: &Vec<u8>) -> usize {
    mem::block(v.capacity())
}

impl List {
    pub fn new() -> List {
        List::default()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Heap bytes: the deque's buffer (capacity) and the elements.
    pub fn mem(&self) -> usize {
        self.bytes + mem::array::<Vec<u8>>(self.items.capacity())
    }
    /// Bytes [`try_reserve`](Self::try_reserve) would add for `additional`
    /// more elements (the deque doubles, at least to what is needed).
    pub fn growth_bytes(&self, additional: usize) -> usize {
        let (cap, need) = (self.items.capacity(), self.items.len().saturating_add(additional));
        if need <= cap {
            return 0;
        }
        mem::array::<Vec<u8>>(need.max(cap.saturating_mul(2)).max(4)) - mem::array::<Vec<u8>>(cap)
    }
    /// Makes room for `additional` more elements (amortised doubling);
    /// an allocation failure leaves the list unchanged.
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        self.items.try_reserve(additional).map_err(|_| ReserveError)
    }
    pub fn push_front(&mut self, v: Vec<u8>) {
        self.bytes += cost(&v);
        self.items.push_front(v);
    }
    pub fn push_back(&mut self, v: Vec<u8>) {
        self.bytes += cost(&v);
        self.items.push_back(v);
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = self.items.pop_front()?;
        self.bytes -= cost(&v);
        self.shrink_if_sparse();
        Some(v)
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let v = self.items.pop_back()?;
        self.bytes -= cost(&v);
        self.shrink_if_sparse();
        Some(v)
    }
    /// Gives back most of the buffer once it is less than a quarter used
    /// (amortised O(1): shrinking to twice the length needs that many
    /// removals again before the next shrink).
    fn shrink_if_sparse(&mut self) {
        let cap = self.items.capacity();
        if cap > 64 && self.items.len() < cap / 4 {
            self.items.shrink_to(self.items.len() * 2);
        }
    }
    /// Pops from the head (`left`) or the tail.
    pub fn pop(&mut self, left: bool) -> Option<Vec<u8>> {
        if left { self.pop_front() } else { self.pop_back() }
    }
    pub fn push(&mut self, left: bool, v: Vec<u8>) {
        if left { self.push_front(v) } else { self.push_back(v) }
    }
    pub fn get(&self, i: usize) -> Option<&Vec<u8>> {
        self.items.get(i)
    }
    /// Replaces element `i`; false when out of range.
    pub fn set(&mut self, i: usize, v: Vec<u8>) -> bool {
        match self.items.get_mut(i) {
            Some(slot) => {
                self.bytes = self.bytes - cost(slot) + cost(&v);
                *slot = v;
                true
            }
            None => false,
        }
    }
    /// Index of the first element equal to `v`.
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        self.items.iter().position(|x| x.as_slice() == v)
    }
    pub fn insert(&mut self, i: usize, v: Vec<u8>) {
        self.bytes += cost(&v);
        self.items.insert(i, v);
    }
    pub fn remove(&mut self, i: usize) -> Option<Vec<u8>> {
        let v = self.items.remove(i)?;
        self.bytes -= cost(&v);
        self.shrink_if_sparse();
        Some(v)
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Vec<u8>> + ExactSizeIterator {
        self.items.iter()
    }
    /// Keeps elements `start..=end` (already clamped, `start <= end < len`),
    /// or nothing when `keep` is false.
    pub fn trim(&mut self, start: usize, end: usize, keep: bool) {
        if !keep {
            self.items = VecDeque::new();
            self.bytes = 0;
            return;
        }
        for _ in end + 1..self.items.len() {
            self.pop_back();
        }
        for _ in 0..start {
            self.pop_front();
        }
    }
    /// Removes up to `count` elements equal to `v` (0 = all), scanning from
    /// the head or, when `from_tail`, from the tail. Returns how many.
    ///
    /// In place: only the part of the list up to the last removed match is
    /// touched. Kept elements in it slide (by swapping handles) towards the
    /// untouched rest, so the removed ones gather at the end and are popped.
    pub fn remove_matching(&mut self, v: &[u8], count: usize, from_tail: bool) -> usize {
        let limit = if count == 0 { usize::MAX } else { count };
        let len = self.items.len();
        // The span to compact: from the end scanned from to the last match.
        let mut found = 0usize;
        let mut reach = None;
        for n in 0..len {
            let i = if from_tail { len - 1 - n } else { n };
            if self.items[i] == v {
                found += 1;
                reach = Some(n);
                if found == limit {
                    break;
                }
            }
        }
        let Some(reach) = reach else { return 0 };
        // Walk the span from its inner end outwards; `w` is where the next
        // kept element goes (counted from the outer end, like `n`).
        let mut w = reach;
        for n in (0..=reach).rev() {
            let i = if from_tail { len - 1 - n } else { n };
            if self.items[i] != v {
                if n != w {
                    let j = if from_tail { len - 1 - w } else { w };
                    self.items.swap(i, j);
                    #[cfg(test)]
                    {
                        self.moved += 1;
                    }
                }
                w = w.wrapping_sub(1);
            }
        }
        for _ in 0..found {
            let x = if from_tail { self.items.pop_back() } else { self.items.pop_front() };
            if let Some(x) = x {
                self.bytes -= cost(&x);
            }
        }
        self.shrink_if_sparse();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn build(n: usize, matches: &[usize]) -> List {
        let mut l = List::new();
        for i in 0..n {
            l.push_back(if matches.contains(&i) { b"m".to_vec() } else { format!("{i}").into_bytes() });
        }
        l
    }

    fn check_bytes(l: &List) {
        assert_eq!(l.bytes, l.items.iter().map(cost).sum::<usize>());
    }

    /// LREM near the head or tail of a long list moves only the elements
    /// up to its last match: no rebuild, no reallocation, the far elements
    /// (and every element's bytes) stay where they were.
    #[test]
    fn lrem_work_is_bounded_by_the_last_match() {
        let n = 100_000;
        let mut l = build(n, &[3, 10, 50_000, n - 10, n - 1]);
        let cap = l.items.capacity();
        let far = l.items[90_000].as_ptr();
        assert_eq!(l.remove_matching(b"m", 2, false), 2);
        assert!(l.moved <= 10, "moved {}", l.moved);
        assert_eq!(l.items.capacity(), cap);
        assert_eq!(l.items[90_000 - 2].as_ptr(), far);
        let head: Vec<&[u8]> = l.iter().take(10).map(|x| x.as_slice()).collect();
        assert_eq!(head, [&b"0"[..], b"1", b"2", b"4", b"5", b"6", b"7", b"8", b"9", b"11"]);
        check_bytes(&l);

        l.moved = 0;
        assert_eq!(l.remove_matching(b"m", 2, true), 2);
        assert!(l.moved <= 10, "moved {}", l.moved);
        assert_eq!(l.items.capacity(), cap);
        assert_eq!(l.items[90_000 - 2].as_ptr(), far);
        let tail: Vec<&[u8]> = l.iter().rev().skip(7).take(3).map(|x| x.as_slice()).collect();
        assert_eq!(tail, [&b"99991"[..], b"99989", b"99988"]);
        check_bytes(&l);

        // A missing value costs a scan and no moves.
        l.moved = 0;
        assert_eq!(l.remove_matching(b"absent", 1, false), 0);
        assert_eq!(l.moved, 0);
        assert_eq!(l.len(), n - 4);
        assert_eq!(l.remove_matching(b"m", 0, false), 1);
        assert_eq!(l.len(), n - 5);
        assert_eq!(l.position(b"49999"), Some(49_997));
        assert_eq!(l.get(49_998).map(|x| x.as_slice()), Some(&b"50001"[..]));
        check_bytes(&l);
    }

    /// Same results as the obvious rebuild, for every count and direction.
    #[test]
    fn lrem_matches_a_naive_model() {
        let mut rng = crate::util::Rng::new(11);
        for round in 0..300 {
            let n = rng.below(40);
            let items: Vec<Vec<u8>> = (0..n).map(|_| alloc::vec![b'a' + rng.below(3) as u8]).collect();
            let count = rng.below(5);
            let from_tail = round % 2 == 1;
            let mut l = List::new();
            for x in &items {
                l.push_back(x.clone());
            }
            let mut model = items.clone();
            let limit = if count == 0 { usize::MAX } else { count };
            let mut removed = 0;
            if from_tail {
                model.reverse();
            }
            model.retain(|x| {
                let drop = removed < limit && x.as_slice() == b"a";
                removed += usize::from(drop);
                !drop
            });
            if from_tail {
                model.reverse();
            }
            assert_eq!(l.remove_matching(b"a", count, from_tail), removed);
            assert_eq!(l.iter().cloned().collect::<Vec<_>>(), model, "{items:?} count {count} tail {from_tail}");
            check_bytes(&l);
        }
    }

    /// Popping most of a big list gives its buffer back.
    #[test]
    fn buffer_shrinks_when_mostly_empty() {
        let mut l = build(10_000, &[]);
        let full = l.mem();
        for _ in 0..9_990 {
            l.pop_front();
        }
        assert!(l.items.capacity() <= 64, "{}", l.items.capacity());
        assert!(l.mem() < full / 100);
        check_bytes(&l);
    }
}
