//! A stream's consumer group: its last delivered ID and read counter, the
//! pending entries list (PEL: delivered, not yet acknowledged, each owned
//! by one consumer) and the consumers, each with its own PEL. Names and
//! IDs are kept in [`OrdMap`]s, ordered as Redis's radix trees order them,
//! with their heap use known exactly.

use alloc::vec::Vec;

use super::{OrdMap, StreamId};
use crate::mem;

/// A pending entry: when it was last delivered, how often, to whom.
#[derive(Clone, Debug)]
pub struct Nack {
    pub delivery_time: u64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct Consumer {
    pub seen_time: u64,
    pub pel: OrdMap<StreamId, ()>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read (Redis's `entries_read`); -1 when unknown.
    pub entries_read: i64,
    pel: OrdMap<StreamId, Nack>,
    consumers: OrdMap<Vec<u8>, Consumer>,
    /// Heap bytes of the names the group holds (consumers' and pending
    /// entries' owners), a running total.
    names_mem: usize,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pel: OrdMap::new(), consumers: OrdMap::new(), names_mem: 0 }
    }
    /// Heap bytes of the PEL, the consumers and their PELs, exactly
    /// (O(consumers)).
    pub fn mem(&self) -> usize {
        self.pel.mem()
            + self.consumers.mem()
            + self.names_mem
            + self.consumers.values().map(|c| c.pel.mem()).sum::<usize>()
    }
    pub fn pel(&self) -> &OrdMap<StreamId, Nack> {
        &self.pel
    }
    pub fn consumers(&self) -> &OrdMap<Vec<u8>, Consumer> {
        &self.consumers
    }
    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }
    /// Creates a consumer; false when it exists.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        let name = name.to_vec();
        self.names_mem += mem::block(name.capacity());
        self.consumers.insert(name, Consumer { seen_time: now, pel: OrdMap::new() });
        true
    }
    /// Looks a consumer up and marks it seen (Redis's `streamLookupConsumer`
    /// with refresh), or creates it; true when created.
    pub fn touch_consumer(&mut self, name: &[u8], now: u64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                false
            }
            None => self.create_consumer(name, now),
        }
    }
    /// Deletes a consumer and its pending entries; how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in c.pel.keys() {
            if let Some(n) = self.pel.remove(id) {
                self.names_mem -= mem::block(n.consumer.capacity());
            }
        }
        self.names_mem -= mem::block(name.len());
        Some(c.pel.len())
    }
    /// Sets (or moves) `id`'s pending entry to `consumer` (which exists).
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time: u64, delivery_count: u64) {
        self.unassign(id);
        let owner = consumer.to_vec();
        self.names_mem += mem::block(owner.capacity());
        self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: owner });
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id, ());
        }
    }
    /// Removes `id`'s pending entry (XACK); the removed one.
    pub fn unassign(&mut self, id: StreamId) -> Option<Nack> {
        let n = self.pel.remove(&id)?;
        self.names_mem -= mem::block(n.consumer.capacity());
        if let Some(c) = self.consumers.get_mut(&n.consumer) {
            c.pel.remove(&id);
        }
        Some(n)
    }
    /// Counts a delivery of pending entry `id` at `now` (XREADGROUP of
    /// the consumer's history).
    pub fn redeliver(&mut self, id: StreamId, now: u64) {
        if let Some(n) = self.pel.get_mut(&id) {
            n.delivery_time = now;
            n.delivery_count += 1;
        }
    }
    /// Adds a consumer as loaded (RDB), with its PEL's IDs (the group's
    /// PEL entries get their owner from it).
    pub fn load_consumer(&mut self, name: Vec<u8>, seen_time: u64, ids: OrdMap<StreamId, ()>) -> bool {
        for id in ids.keys() {
            match self.pel.get_mut(id) {
                Some(n) => {
                    let owner = name.to_vec();
                    self.names_mem += mem::block(owner.capacity());
                    let old = core::mem::replace(&mut n.consumer, owner);
                    self.names_mem -= mem::block(old.capacity());
                }
                None => return false,
            }
        }
        self.names_mem += mem::block(name.capacity());
        self.consumers.insert(name, Consumer { seen_time, pel: ids });
        true
    }
    /// Adds a group PEL entry as loaded (its owner set by `load_consumer`).
    pub fn load_nack(&mut self, id: StreamId, delivery_time: u64, delivery_count: u64) -> bool {
        if self.pel.contains_key(&id) {
            return false;
        }
        self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Vec::new() });
        true
    }
    /// Zeroes what a replica or a replayed log cannot reproduce (Redis 7.0
    /// propagates neither): the consumers' seen times and the read counter.
    #[cfg(test)]
    pub fn forget_unpropagated(&mut self) {
        self.entries_read = 0;
        for c in self.consumers.values_mut() {
            c.seen_time = 0;
        }
    }

    /// Whether every PEL entry has an owner among the consumers.
    pub fn pel_owned(&self) -> bool {
        self.pel.values().all(|n| self.consumers.contains_key(&n.consumer))
    }
}
