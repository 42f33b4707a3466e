//! `ByteMap`: a hash map from byte-string keys to values with stable slot
//! numbers. It backs the keyspace and the hash/set/zset dictionaries.
//!
//! Entries live in a slab (`slots`) and never move while they exist; a
//! hashbrown `HashTable<u32>` indexes the slab by key. That gives:
//! - O(1) lookup/insert/delete,
//! - SCAN cursors that are slab positions: every entry present for the
//!   whole scan is returned exactly once, however the map grows,
//! - O(1) uniform random entries through a dense list of live slots.
//!
//! Memory accounting counts what the map has reserved (slab, table, dense
//! and free list capacities), not just what is in use, the way Redis counts
//! its dict tables, each as the heap block it takes (see [`crate::mem`]). Growth happens in amortised (doubling) steps that
//! [`ByteMap::growth_bytes`] can predict and [`ByteMap::try_reserve`] can
//! perform fallibly, so callers can refuse a write instead of growing past a
//! memory limit or aborting on allocation failure.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use core::mem::size_of;
use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::mem;

/// Bytes per hash-table bucket: the `u32` slot index plus one control byte.
const TABLE_BUCKET_BYTES: usize = size_of::<u32>() + 1;
/// Trailing control bytes of a hashbrown table (one SIMD group; 16 is the
/// widest, so predictions err on the high side).
const TABLE_GROUP_BYTES: usize = 16;

/// The allocator could not provide the memory a growth needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReserveError;

struct Slot<V> {
    key: Box<[u8]>,
    val: V,
    dense_pos: u32,
}

/// Byte-string keyed map with stable slots (see the module doc).
pub struct ByteMap<V> {
    slots: Vec<Option<Slot<V>>>,
    free: Vec<u32>,
    table: HashTable<u32>,
    dense: Vec<u32>,
    hasher: FixedState,
    /// Heap bytes of the boxed keys.
    key_bytes: usize,
}

impl<V> ByteMap<V> {
    pub fn new(seed: u64) -> ByteMap<V> {
        ByteMap {
            slots: Vec::new(),
            free: Vec::new(),
            table: HashTable::new(),
            dense: Vec::new(),
            hasher: FixedState::with_seed(seed),
            key_bytes: 0,
        }
    }

    fn hash(hasher: &FixedState, key: &[u8]) -> u64 {
        hasher.hash_one(key)
    }

    pub fn len(&self) -> usize {
        self.dense.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dense.is_empty()
    }

    /// Size of one slab slot (what every entry, and every spare slot,
    /// costs inline).
    pub const SLOT_BYTES: usize = size_of::<Option<Slot<V>>>();

    /// What one entry costs in the map's arrays besides its key and what
    /// its value owns: its slab slot, its table bucket and its place in the
    /// dense list (MEMORY USAGE's share of the map for one key).
    pub const ENTRY_BYTES: usize = Self::SLOT_BYTES + TABLE_BUCKET_BYTES + size_of::<u32>();

    /// Heap bytes used by keys and bookkeeping (not what values own): the
    /// boxed keys plus the reserved capacity of the slab, table and lists.
    pub fn overhead_bytes(&self) -> usize {
        self.key_bytes + self.reserved_bytes()
    }

    /// Bytes reserved by the slab, the hash table, the dense list and the
    /// free list (capacity, not length).
    pub fn reserved_bytes(&self) -> usize {
        mem::array::<Option<Slot<V>>>(self.slots.capacity())
            + mem::block(self.table.allocation_size())
            + mem::array::<u32>(self.dense.capacity())
            + mem::array::<u32>(self.free.capacity())
    }

    /// How many more bytes [`reserved_bytes`](Self::reserved_bytes) would
    /// grow by if `additional` new keys were inserted now (0 when they fit
    /// in the current capacity). Exact for the slab and lists, a close
    /// upper estimate for the table.
    pub fn growth_bytes(&self, additional: usize) -> usize {
        let need = self.len().saturating_add(additional);
        // Every insert takes a slab slot (a hole or a new one) and a dense
        // entry, so both need capacity for `need` live entries.
        let grown = |cap: usize, bytes: fn(usize) -> usize| bytes(grown_capacity(cap, need)) - bytes(cap);
        let slab = grown(self.slots.capacity(), mem::array::<Option<Slot<V>>>);
        let dense = grown(self.dense.capacity(), mem::array::<u32>);
        slab + dense + self.table_growth_bytes(additional)
    }

    /// Predicts hashbrown's growth: it reallocates once `additional` exceeds
    /// the room left, to the larger of the need and one more than the full
    /// capacity (which doubles the buckets), unless tombstones alone took
    /// the room and an in-place rehash suffices.
    fn table_growth_bytes(&self, additional: usize) -> usize {
        if self.table.capacity() - self.table.len() >= additional {
            return 0;
        }
        let buckets = self.table.num_buckets();
        let full = if buckets < 8 { buckets.saturating_sub(1) } else { buckets / 8 * 7 };
        let need = self.table.len().saturating_add(additional);
        if buckets > 0 && need <= full / 2 {
            return 0;
        }
        let target = need.max(full + 1);
        let new_buckets = if target < 15 {
            match target.max(3) {
                0..4 => 4,
                4..8 => 8,
                _ => 16,
            }
        } else {
            (target.saturating_mul(8) / 7).next_power_of_two()
        };
        mem::block(new_buckets * TABLE_BUCKET_BYTES + TABLE_GROUP_BYTES)
            .saturating_sub(mem::block(self.table.allocation_size()))
    }

    /// Makes room for `additional` new keys so inserting them allocates
    /// nothing, growing in the same amortised steps as
    /// [`growth_bytes`](Self::growth_bytes) predicts. On allocation failure
    /// the map is unchanged (apart from capacity already grown).
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        let need = self.len().checked_add(additional).ok_or(ReserveError)?;
        reserve_amortised(&mut self.slots, need)?;
        reserve_amortised(&mut self.dense, need)?;
        if self.table.capacity() - self.table.len() < additional {
            let slots = &self.slots;
            let hasher = &self.hasher;
            self.table
                .try_reserve(additional, |&i| match slots.get(i as usize) {
                    Some(Some(s)) => Self::hash(hasher, &s.key),
                    _ => 0,
                })
                .map_err(|_| ReserveError)?;
        }
        Ok(())
    }

    /// The slot index holding `key`.
    pub fn slot_of(&self, key: &[u8]) -> Option<u32> {
        let slots = &self.slots;
        self.table
            .find(Self::hash(&self.hasher, key), |&i| {
                slots.get(i as usize).and_then(|s| s.as_ref()).is_some_and(|s| &*s.key == key)
            })
            .copied()
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.slot_of(key).is_some()
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let i = self.slot_of(key)?;
        self.slots.get(i as usize)?.as_ref().map(|s| &s.val)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let i = self.slot_of(key)?;
        self.slots.get_mut(i as usize)?.as_mut().map(|s| &mut s.val)
    }

    /// The entry in slot `i`, if occupied.
    pub fn at(&self, i: u32) -> Option<(&[u8], &V)> {
        self.slots.get(i as usize)?.as_ref().map(|s| (&*s.key, &s.val))
    }

    pub fn at_mut(&mut self, i: u32) -> Option<(&[u8], &mut V)> {
        self.slots.get_mut(i as usize)?.as_mut().map(|s| (&*s.key, &mut s.val))
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], val: V) -> Option<V> {
        if let Some(i) = self.slot_of(key) {
            let slot = self.slots.get_mut(i as usize).and_then(|s| s.as_mut());
            if let Some(slot) = slot {
                return Some(core::mem::replace(&mut slot.val, val));
            }
        }
        self.insert_new(key.into(), val);
        None
    }

    /// Inserts a key known to be absent, taking ownership of its bytes.
    /// Returns the slot index.
    pub fn insert_new(&mut self, key: Box<[u8]>, val: V) -> u32 {
        // Grow (if needed) in our own predictable steps. Callers that must
        // not abort reserve beforehand; if this reservation fails anyway,
        // the pushes below report it through the global allocation error
        // handler, as any infallible collection would.
        let _ = self.try_reserve(1);
        let hash = Self::hash(&self.hasher, &key);
        self.key_bytes += mem::block(key.len());
        let dense_pos = self.dense.len() as u32;
        let slot = Slot { key, val, dense_pos };
        let idx = loop {
            match self.free.pop() {
                Some(i) if (i as usize) < self.slots.len() && self.slots[i as usize].is_none() => {
                    self.slots[i as usize] = Some(slot);
                    break i;
                }
                Some(_) => continue,
                None => {
                    self.slots.push(Some(slot));
                    break (self.slots.len() - 1) as u32;
                }
            }
        };
        self.dense.push(idx);
        let slots = &self.slots;
        let hasher = &self.hasher;
        self.table.insert_unique(hash, idx, |&i| match slots.get(i as usize) {
            Some(Some(s)) => Self::hash(hasher, &s.key),
            _ => 0,
        });
        idx
    }

    /// Removes `key`, returning its owned key bytes and value.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        let hash = Self::hash(&self.hasher, key);
        let slots = &self.slots;
        let entry = self
            .table
            .find_entry(hash, |&i| slots.get(i as usize).and_then(|s| s.as_ref()).is_some_and(|s| &*s.key == key))
            .ok()?;
        let (idx, _) = entry.remove();
        let slot = self.slots.get_mut(idx as usize)?.take()?;
        // Keep the dense list compact: move its last element into the hole.
        let pos = slot.dense_pos as usize;
        self.dense.swap_remove(pos);
        if let Some(&moved) = self.dense.get(pos)
            && let Some(Some(s)) = self.slots.get_mut(moved as usize)
        {
            s.dense_pos = pos as u32;
        }
        self.key_bytes -= mem::block(slot.key.len());
        // Drop trailing empty slots so the slab shrinks with the data.
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        if (idx as usize) < self.slots.len() {
            self.free.push(idx);
        }
        if self.free.len() > 64 && self.free.len() > 2 * self.slots.len() {
            self.rebuild_free_list();
        }
        if self.slots.capacity() > 64 && self.slots.len() < self.slots.capacity() / 4 {
            self.slots.shrink_to(self.slots.len() * 2);
            self.dense.shrink_to(self.dense.len() * 2);
            let slots = &self.slots;
            let hasher = &self.hasher;
            self.table.shrink_to(self.dense.len(), |&i| match slots.get(i as usize) {
                Some(Some(s)) => Self::hash(hasher, &s.key),
                _ => 0,
            });
        }
        Some((slot.key, slot.val))
    }

    fn rebuild_free_list(&mut self) {
        self.free.clear();
        for (i, s) in self.slots.iter().enumerate().rev() {
            if s.is_none() {
                self.free.push(i as u32);
            }
        }
        self.free.shrink_to_fit();
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.free = Vec::new();
        self.table = HashTable::new();
        self.dense = Vec::new();
        self.key_bytes = 0;
    }

    /// A uniformly random entry's slot.
    pub fn random_slot(&self, rng: &mut crate::util::Rng) -> Option<u32> {
        if self.dense.is_empty() {
            return None;
        }
        self.dense.get(rng.below(self.dense.len())).copied()
    }

    /// A uniformly random entry.
    pub fn random(&self, rng: &mut crate::util::Rng) -> Option<(&[u8], &V)> {
        self.at(self.random_slot(rng)?)
    }

    /// The slot at dense position `n` (0..len): a way to walk entries by
    /// position, e.g. for sampling without replacement.
    pub fn nth_slot(&self, n: usize) -> Option<u32> {
        self.dense.get(n).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.slots.iter().filter_map(|s| s.as_ref().map(|s| (&*s.key, &s.val)))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut V)> {
        self.slots.iter_mut().filter_map(|s| s.as_mut().map(|s| (&*s.key, &mut s.val)))
    }

    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(k, _)| k)
    }

    /// One SCAN step: visits entries from slot `cursor` on until about
    /// `count` slots were looked at (at least one entry when any remains),
    /// and returns the next cursor (0 when the scan is complete).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], &'a V)) -> u64 {
        let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
        let mut visited = 0usize;
        let mut emitted = 0usize;
        let budget = count.max(1);
        while i < self.slots.len() {
            if let Some(Some(s)) = self.slots.get(i) {
                f(&s.key, &s.val);
                emitted += 1;
            }
            visited += 1;
            i += 1;
            // Like Redis, bound the work of one call (empty slots count too,
            // but stop only once something was returned or 10x the budget).
            if (emitted >= budget) || visited >= budget.saturating_mul(10) {
                break;
            }
        }
        if i >= self.slots.len() { 0 } else { i as u64 }
    }

    /// Number of slab slots (an upper bound of the cursor space).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }
}

/// The capacity a collection of capacity `cap` grows to when it must hold
/// `need` items: unchanged if they fit, else doubled (at least 4, at least
/// `need`), like `Vec`'s amortised growth.
fn grown_capacity(cap: usize, need: usize) -> usize {
    if need <= cap { cap } else { need.max(cap.saturating_mul(2)).max(4) }
}

/// Fallibly grows `v` to [`grown_capacity`] for `need` items.
fn reserve_amortised<T>(v: &mut Vec<T>, need: usize) -> Result<(), ReserveError> {
    let target = grown_capacity(v.capacity(), need);
    if target > v.capacity() {
        v.try_reserve_exact(target - v.len()).map_err(|_| ReserveError)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use alloc::format;

    #[test]
    fn insert_get_remove() {
        let mut m: ByteMap<u32> = ByteMap::new(1);
        for i in 0..1000u32 {
            assert!(m.insert(format!("k{i}").as_bytes(), i).is_none());
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(b"k10"), Some(&10));
        assert_eq!(m.insert(b"k10", 11), Some(10));
        for i in (0..1000u32).step_by(2) {
            assert!(m.remove(format!("k{i}").as_bytes()).is_some());
        }
        assert_eq!(m.len(), 500);
        assert!(m.get(b"k2").is_none());
        assert_eq!(m.get(b"k3"), Some(&3));
        assert_eq!(m.iter().count(), 500);
        let mut rng = crate::util::Rng::new(3);
        for _ in 0..100 {
            let (k, _) = m.random(&mut rng).unwrap();
            assert!(m.contains_key(k));
        }
        for i in 0..1000u32 {
            m.remove(format!("k{i}").as_bytes());
        }
        assert!(m.is_empty());
        assert_eq!(m.slot_count(), 0);
    }

    /// `growth_bytes` predicts what an insert adds to `reserved_bytes`
    /// (exactly for the slab and lists; the table part may be high by the
    /// group padding), also after removals left holes and tombstones.
    #[test]
    fn growth_prediction_matches_inserts() {
        let mut m: ByteMap<u64> = ByteMap::new(5);
        let mut grew = 0;
        for round in 0..3u32 {
            for i in 0..3000u32 {
                let predicted = m.growth_bytes(1);
                let before = m.reserved_bytes();
                m.insert(format!("k{round}_{i}").as_bytes(), u64::from(i));
                let actual = m.reserved_bytes() - before;
                assert!(actual <= predicted && predicted - actual <= TABLE_GROUP_BYTES, "{predicted} vs {actual}");
                if actual > 0 {
                    grew += 1;
                }
            }
            for i in (0..3000u32).step_by(3) {
                m.remove(format!("k{round}_{i}").as_bytes());
            }
        }
        assert!(grew > 10);
    }

    /// After `try_reserve(n)`, inserting `n` keys allocates nothing more.
    #[test]
    fn try_reserve_covers_inserts() {
        let mut m: ByteMap<()> = ByteMap::new(9);
        for batch in [1usize, 3, 10, 100, 1000] {
            let predicted = m.growth_bytes(batch);
            let before = m.reserved_bytes();
            m.try_reserve(batch).unwrap();
            let reserved = m.reserved_bytes();
            assert!(reserved - before <= predicted);
            for i in 0..batch {
                m.insert_new(format!("b{batch}_{i}").into_bytes().into(), ());
            }
            assert_eq!(m.reserved_bytes(), reserved, "batch {batch}");
            assert_eq!(m.growth_bytes(0), 0);
        }
        assert!(m.try_reserve(usize::MAX).is_err());
    }

    #[test]
    fn scan_sees_stable_keys_under_growth() {
        let mut m: ByteMap<()> = ByteMap::new(7);
        for i in 0..100 {
            m.insert(format!("a{i}").as_bytes(), ());
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = m.scan(cursor, 10, |k, _| {
                seen.insert(k.to_vec());
            });
            for j in 0..5 {
                m.insert(format!("b{round}_{j}").as_bytes(), ());
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("a{i}").as_bytes()));
        }
    }
}
