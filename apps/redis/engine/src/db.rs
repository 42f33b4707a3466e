//! One logical database: the key -> entry map, the list of keys with a TTL
//! (for expiry and volatile-* eviction sampling), and its memory total.
//!
//! Every change to the keyspace goes through this type's methods (the map
//! is private): while an RDB snapshot runs, they are its copy-on-write
//! hooks (see [`crate::rdb::write`]). Before a key the snapshot has not
//! written yet is changed, overwritten, renamed away, expired, evicted or
//! deleted, its current value is serialized into the snapshot's pending
//! output; keys created meanwhile are marked as not part of it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use crate::bytemap::{ByteMap, ReserveError};
use crate::rdb::write::DbCow;
use crate::types::Value;

const NO_POS: u32 = u32::MAX;

/// A stored key's value and metadata.
pub struct Entry {
    pub value: Value,
    /// Absolute expiry, unix milliseconds.
    pub expire_at: Option<u64>,
    /// LRU clock (seconds) of the last access.
    pub lru: u32,
    volatile_pos: u32,
}

/// Lookup result that distinguishes "expired" from "absent".
pub enum Found {
    Live(u32),
    Expired,
    Missing,
}

pub struct Db {
    map: ByteMap<Entry>,
    /// Slots of keys that have a TTL.
    volatile: Vec<u32>,
    values_mem: usize,
    /// This database's part of a running RDB snapshot (it travels with the
    /// data through SWAPDB).
    cow: Option<Box<DbCow>>,
}

/// Mutable access to a value that keeps the database's memory total right.
pub struct ValueMut<'a> {
    entry: &'a mut Entry,
    values_mem: &'a mut usize,
    before: usize,
}

impl Deref for ValueMut<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.entry.value
    }
}

impl DerefMut for ValueMut<'_> {
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.entry.value
    }
}

impl Drop for ValueMut<'_> {
    fn drop(&mut self) {
        *self.values_mem = (*self.values_mem + self.entry.value.mem()).saturating_sub(self.before);
    }
}

impl Db {
    pub fn new(seed: u64) -> Db {
        Db { map: ByteMap::new(seed), volatile: Vec::new(), values_mem: 0, cow: None }
    }

    /// The keyspace, for reading (changes go through `Db`'s methods).
    pub fn map(&self) -> &ByteMap<Entry> {
        &self.map
    }

    /// Makes room for `additional` new keys (see [`ByteMap::try_reserve`]).
    pub fn try_reserve_keys(&mut self, additional: usize) -> Result<(), ReserveError> {
        self.map.try_reserve(additional)
    }

    /// Snapshot hook: the key in `slot` is about to change or go.
    fn before_change(&mut self, slot: u32) {
        if let Some(cow) = self.cow.as_deref_mut() {
            cow.before_change(slot, self.map.at(slot));
        }
    }

    /// Snapshot hook: a new key was put in `slot`.
    fn created(&mut self, slot: u32) {
        if let Some(cow) = self.cow.as_deref_mut() {
            cow.created(slot);
        }
    }

    pub(crate) fn cow(&self) -> Option<&DbCow> {
        self.cow.as_deref()
    }

    pub(crate) fn set_cow(&mut self, cow: Option<Box<DbCow>>) {
        self.cow = cow;
    }

    /// The keyspace and the snapshot state together (the snapshot's walk
    /// reads one and updates the other).
    pub(crate) fn cow_parts(&mut self) -> (&ByteMap<Entry>, Option<&mut DbCow>) {
        (&self.map, self.cow.as_deref_mut())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn expires_count(&self) -> usize {
        self.volatile.len()
    }

    /// Heap bytes used by this database: keys, values and the capacity
    /// reserved by the keyspace map and the TTL list, as heap blocks.
    pub fn used_memory(&self) -> usize {
        self.map.overhead_bytes() + crate::mem::array::<u32>(self.volatile.capacity()) + self.values_mem
    }

    /// Finds `key`, reporting whether it is logically expired at `now_ms`.
    pub fn find(&self, key: &[u8], now_ms: u64) -> Found {
        match self.map.slot_of(key) {
            Some(slot) => match self.map.at(slot) {
                Some((_, e)) if e.expire_at.is_some_and(|t| t <= now_ms) => Found::Expired,
                Some(_) => Found::Live(slot),
                None => Found::Missing,
            },
            None => Found::Missing,
        }
    }

    pub fn entry_at(&self, slot: u32) -> Option<(&[u8], &Entry)> {
        self.map.at(slot)
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    /// Mutable value access (memory accounting is updated on drop).
    pub fn value_mut(&mut self, key: &[u8]) -> Option<ValueMut<'_>> {
        let slot = self.map.slot_of(key)?;
        self.value_mut_at(slot)
    }

    pub fn value_mut_at(&mut self, slot: u32) -> Option<ValueMut<'_>> {
        self.before_change(slot);
        let (_, entry) = self.map.at_mut(slot)?;
        let before = entry.value.mem();
        Some(ValueMut { entry, values_mem: &mut self.values_mem, before })
    }

    pub fn touch_lru(&mut self, slot: u32, clock: u32) {
        if let Some((_, e)) = self.map.at_mut(slot) {
            e.lru = clock;
        }
    }

    /// Adds or overwrites a key; an overwrite drops the old TTL unless
    /// `keep_ttl`. Returns the slot.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, clock: u32) -> u32 {
        if let Some(slot) = self.map.slot_of(key) {
            self.before_change(slot);
            let had_ttl = self.map.at(slot).is_some_and(|(_, e)| e.expire_at.is_some());
            if had_ttl && !keep_ttl {
                self.set_expire_at(slot, None);
            }
            if let Some((_, e)) = self.map.at_mut(slot) {
                self.values_mem = (self.values_mem + value.mem()).saturating_sub(e.value.mem());
                e.value = value;
                e.lru = clock;
            }
            slot
        } else {
            self.values_mem += value.mem();
            let entry = Entry { value, expire_at: None, lru: clock, volatile_pos: NO_POS };
            let slot = self.map.insert_new(Box::from(key), entry);
            self.created(slot);
            slot
        }
    }

    /// Inserts a key known to be absent.
    pub fn add(&mut self, key: Box<[u8]>, value: Value, clock: u32) -> u32 {
        self.values_mem += value.mem();
        let entry = Entry { value, expire_at: None, lru: clock, volatile_pos: NO_POS };
        let slot = self.map.insert_new(key, entry);
        self.created(slot);
        slot
    }

    /// Sets or clears the TTL of the key in `slot`.
    pub fn set_expire_at(&mut self, slot: u32, at: Option<u64>) {
        self.before_change(slot);
        let Some((_, e)) = self.map.at_mut(slot) else { return };
        let had = e.expire_at.is_some();
        e.expire_at = at;
        match (had, at.is_some()) {
            (false, true) => {
                e.volatile_pos = self.volatile.len() as u32;
                self.volatile.push(slot);
            }
            (true, false) => {
                let pos = e.volatile_pos as usize;
                e.volatile_pos = NO_POS;
                self.remove_volatile_at(pos);
            }
            _ => {}
        }
    }

    fn remove_volatile_at(&mut self, pos: usize) {
        if pos >= self.volatile.len() {
            return;
        }
        self.volatile.swap_remove(pos);
        if let Some(&moved) = self.volatile.get(pos)
            && let Some((_, e)) = self.map.at_mut(moved)
        {
            e.volatile_pos = pos as u32;
        }
    }

    /// Deletes a key, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        self.remove_entry(key).map(|(_, e)| e.value)
    }

    /// Deletes a key, returning its owned key bytes and entry.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Box<[u8]>, Entry)> {
        let slot = self.map.slot_of(key)?;
        self.before_change(slot);
        if let Some((_, e)) = self.map.at(slot)
            && e.expire_at.is_some()
        {
            let pos = e.volatile_pos as usize;
            self.remove_volatile_at(pos);
        }
        let (k, e) = self.map.remove_entry(key)?;
        self.values_mem = self.values_mem.saturating_sub(e.value.mem());
        Some((k, e))
    }

    /// Empties the database. A running snapshot cannot keep its instant
    /// through this (FLUSHDB, FLUSHALL): it is aborted.
    pub fn clear(&mut self) {
        if let Some(cow) = self.cow.as_deref_mut() {
            cow.abort();
        }
        self.map.clear();
        self.volatile = Vec::new();
        self.values_mem = 0;
    }

    /// A random key with a TTL (its slot).
    pub fn random_volatile(&self, rng: &mut crate::util::Rng) -> Option<u32> {
        if self.volatile.is_empty() {
            return None;
        }
        self.volatile.get(rng.below(self.volatile.len())).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    /// Every key costs one slab slot inline, and the slab grows by doubling
    /// in one piece, so the slot must stay small: collection values are
    /// boxed (264 bytes per slot before, 72 after, on 64-bit).
    #[test]
    fn keyspace_slot_is_small() {
        assert!(size_of::<Value>() <= 32, "Value is {} bytes", size_of::<Value>());
        assert!(size_of::<Entry>() <= 64, "Entry is {} bytes", size_of::<Entry>());
        let slot = ByteMap::<Entry>::SLOT_BYTES;
        assert!(slot <= 96, "keyspace slot is {slot} bytes");
    }

    #[test]
    fn used_memory_counts_reserved_capacity() {
        let mut db = Db::new(1);
        assert_eq!(db.used_memory(), 0);
        db.set(b"k", Value::Str(b"v".to_vec()), false, 0);
        let one = db.used_memory();
        // The slab reserves room for several slots at once.
        assert!(one >= 4 * ByteMap::<Entry>::SLOT_BYTES, "{one}");
        // Filling reserved room costs only the key and value.
        db.set(b"l", Value::Str(b"v".to_vec()), false, 0);
        assert!(db.used_memory() < one + 64, "{} vs {one}", db.used_memory());
        db.clear();
        assert_eq!(db.used_memory(), 0);
    }
}
