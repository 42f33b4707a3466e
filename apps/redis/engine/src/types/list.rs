//! List value: a deque of byte strings with a running memory total.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::bytemap::ReserveError;
use crate::mem;

#[derive(Default)]
pub struct List {
    items: VecDeque<Vec<u8>>,
    /// Heap bytes of the elements' own buffers.
    bytes: usize,
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
        Some(v)
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let v = self.items.pop_back()?;
        self.bytes -= cost(&v);
        Some(v)
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
        Some(v)
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Vec<u8>> + ExactSizeIterator {
        self.items.iter()
    }
    /// Keeps elements `start..=end` (already clamped, `start <= end < len`),
    /// or nothing when `keep` is false.
    pub fn trim(&mut self, start: usize, end: usize, keep: bool) {
        if !keep {
            self.items.clear();
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
    pub fn remove_matching(&mut self, v: &[u8], count: usize, from_tail: bool) -> usize {
        let mut removed = 0usize;
        let mut kept: VecDeque<Vec<u8>> = VecDeque::with_capacity(self.items.len());
        let limit = if count == 0 { usize::MAX } else { count };
        if from_tail {
            while let Some(x) = self.items.pop_back() {
                if removed < limit && x == v {
                    removed += 1;
                    self.bytes -= cost(&x);
                } else {
                    kept.push_front(x);
                }
            }
        } else {
            while let Some(x) = self.items.pop_front() {
                if removed < limit && x == v {
                    removed += 1;
                    self.bytes -= cost(&x);
                } else {
                    kept.push_back(x);
                }
            }
        }
        self.items = kept;
        removed
    }
}
