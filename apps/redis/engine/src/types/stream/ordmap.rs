//! An ordered map whose heap use is known exactly (what the memory
//! accounting and the fuzz harness's counting allocator compare): a sorted
//! vector of sorted chunks of at most [`CHUNK`] pairs, a two-level B-tree.
//! Lookups are O(log n); inserting or removing is O(log n + CHUNK) plus,
//! when a chunk splits or empties, a move of n / CHUNK chunk handles.
//! Appending past the last key (XADD's blocks, XREADGROUP's PEL) fills the
//! last chunk. The streams' blocks, pending entries lists, consumers and
//! groups use it.

use alloc::vec::Vec;
use core::borrow::Borrow;

use crate::mem;

/// Largest chunk.
const CHUNK: usize = 64;

pub struct OrdMap<K, V> {
    chunks: Vec<Vec<(K, V)>>,
    len: usize,
    /// Heap bytes of the chunk arrays (running total).
    mem: usize,
}

impl<K, V> Default for OrdMap<K, V> {
    fn default() -> Self {
        OrdMap { chunks: Vec::new(), len: 0, mem: 0 }
    }
}

impl<K: Clone + Ord, V: Clone> Clone for OrdMap<K, V> {
    fn clone(&self) -> Self {
        let chunks: Vec<Vec<(K, V)>> = self.chunks.clone();
        let mut m = OrdMap { chunks, len: self.len, mem: 0 };
        m.mem = m.recount();
        m
    }
}

impl<K: core::fmt::Debug, V: core::fmt::Debug> core::fmt::Debug for OrdMap<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.chunks.iter().flatten().map(|(k, v)| (k, v))).finish()
    }
}

impl<K: Ord, V> OrdMap<K, V> {
    pub fn new() -> Self {
        OrdMap::default()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Heap bytes of the map's arrays (not what keys and values own).
    pub fn mem(&self) -> usize {
        self.mem
    }
    fn recount(&self) -> usize {
        mem::array::<Vec<(K, V)>>(self.chunks.capacity())
            + self.chunks.iter().map(|c| mem::array::<(K, V)>(c.capacity())).sum::<usize>()
    }

    /// The chunk that holds `q` or would: the first whose last key >= q
    /// (the last chunk when q is past every key).
    fn chunk_for<Q: Ord + ?Sized>(&self, q: &Q) -> usize
    where
        K: Borrow<Q>,
    {
        let i = self.chunks.partition_point(|c| c.last().is_some_and(|(k, _)| k.borrow() < q));
        i.min(self.chunks.len().saturating_sub(1))
    }

    fn find<Q: Ord + ?Sized>(&self, q: &Q) -> Option<(usize, usize)>
    where
        K: Borrow<Q>,
    {
        let c = self.chunk_for(q);
        let chunk = self.chunks.get(c)?;
        chunk.binary_search_by(|(k, _)| k.borrow().cmp(q)).ok().map(|i| (c, i))
    }

    pub fn get<Q: Ord + ?Sized>(&self, q: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(q).map(|(c, i)| &self.chunks[c][i].1)
    }
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, q: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(q).map(|(c, i)| &mut self.chunks[c][i].1)
    }
    pub fn contains_key<Q: Ord + ?Sized>(&self, q: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(q).is_some()
    }

    fn outer_mem(&self) -> usize {
        mem::array::<Vec<(K, V)>>(self.chunks.capacity())
    }
    fn chunk_mem(&self, c: usize) -> usize {
        self.chunks.get(c).map_or(0, |ch| mem::array::<(K, V)>(ch.capacity()))
    }

    /// Inserts or replaces; the replaced value.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let before = self.outer_mem();
        if self.chunks.is_empty() {
            self.chunks.push(Vec::new());
        }
        let c = self.chunk_for(&k);
        let before = before + self.chunk_mem(c);
        let old = match self.chunks[c].binary_search_by(|(x, _)| x.cmp(&k)) {
            Ok(i) => Some(core::mem::replace(&mut self.chunks[c][i].1, v)),
            Err(i) => {
                self.chunks[c].insert(i, (k, v));
                self.len += 1;
                None
            }
        };
        let mut after = 0;
        if self.chunks[c].len() > CHUNK {
            let tail = self.chunks[c].split_off(CHUNK / 2);
            self.chunks.insert(c + 1, tail);
            after += self.chunk_mem(c + 1);
        }
        after += self.outer_mem() + self.chunk_mem(c);
        self.mem = self.mem + after - before;
        old
    }

    /// Removes a key; its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, q: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let (c, i) = self.find(q)?;
        let before = self.outer_mem() + self.chunk_mem(c);
        let (_, v) = self.chunks[c].remove(i);
        self.len -= 1;
        let mut after = self.chunk_mem(c);
        if self.chunks[c].is_empty() {
            self.chunks.remove(c);
            after = 0;
        }
        if self.len == 0 {
            self.chunks = Vec::new();
        }
        after += self.outer_mem();
        self.mem = self.mem + after - before;
        Some(v)
    }

    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.chunks.first().and_then(|c| c.first()).map(|(k, v)| (k, v))
    }
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.chunks.last().and_then(|c| c.last()).map(|(k, v)| (k, v))
    }
    pub fn last_value_mut(&mut self) -> Option<&mut V> {
        self.chunks.last_mut().and_then(|c| c.last_mut()).map(|(_, v)| v)
    }

    /// The greatest key <= q.
    pub fn floor<Q: Ord + ?Sized>(&self, q: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.iter_rev_from(q).next()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.chunks.iter().flatten().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.chunks.iter_mut().flatten().map(|(_, v)| v)
    }

    /// Pairs with key >= q, in order.
    pub fn iter_from<'a, Q: Ord + ?Sized>(&'a self, q: &Q) -> impl Iterator<Item = (&'a K, &'a V)> + 'a
    where
        K: Borrow<Q>,
    {
        let c = self.chunk_for(q);
        let i = self.chunks.get(c).map_or(0, |ch| ch.partition_point(|(k, _)| k.borrow() < q));
        let first = self.chunks.get(c).map(|ch| &ch[i..]).unwrap_or(&[]);
        first.iter().chain(self.chunks.iter().skip(c + 1).flatten()).map(|(k, v)| (k, v))
    }

    /// Pairs with key <= q, in reverse order.
    pub fn iter_rev_from<'a, Q: Ord + ?Sized>(&'a self, q: &Q) -> impl Iterator<Item = (&'a K, &'a V)> + 'a
    where
        K: Borrow<Q>,
    {
        let c = self.chunk_for(q);
        let i = self.chunks.get(c).map_or(0, |ch| ch.partition_point(|(k, _)| k.borrow() <= q));
        let first = self.chunks.get(c).map(|ch| &ch[..i]).unwrap_or(&[]);
        let before = &self.chunks[..c.min(self.chunks.len())];
        first.iter().rev().chain(before.iter().rev().flat_map(|ch| ch.iter().rev())).map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    /// Against BTreeMap, with the memory total equal to a recount.
    #[test]
    fn matches_btreemap() {
        let mut m = OrdMap::new();
        let mut b = BTreeMap::new();
        let mut x: u64 = 12345;
        for step in 0..20000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let k = (x >> 33) % 3000;
            if x.is_multiple_of(3) {
                assert_eq!(m.remove(&k), b.remove(&k));
            } else {
                assert_eq!(m.insert(k, step), b.insert(k, step));
            }
            assert_eq!(m.len(), b.len());
            assert_eq!(m.mem(), m.recount());
            if step % 500 == 0 {
                assert!(m.iter().map(|(k, v)| (*k, *v)).eq(b.iter().map(|(k, v)| (*k, *v))));
                assert!(m.iter_from(&k).map(|(k, _)| *k).eq(b.range(k..).map(|(k, _)| *k)));
                assert!(m.iter_rev_from(&k).map(|(k, _)| *k).eq(b.range(..=k).rev().map(|(k, _)| *k)));
                assert_eq!(m.first_key_value(), b.first_key_value());
                assert_eq!(m.last_key_value(), b.last_key_value());
            }
        }
        while let Some((&k, _)) = b.first_key_value() {
            b.remove(&k);
            m.remove(&k);
        }
        assert_eq!(m.mem(), 0);
    }
}
