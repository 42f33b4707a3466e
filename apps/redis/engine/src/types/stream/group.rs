//! A stream's consumer group: its last delivered ID and read counter, the
//! pending entries list (PEL: delivered, not yet acknowledged, each owned
//! by one consumer) and the consumers, each with its own PEL. Names and
//! IDs are kept in B-trees, ordered as Redis's radix trees order them.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::StreamId;
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
    pub pel: BTreeSet<StreamId>,
}

/// Heap bytes charged per PEL entry (group and consumer tree slots, the
/// owner's name) and per consumer.
const NACK_COST: usize = 96;
const CONSUMER_COST: usize = 96;

#[derive(Clone, Debug)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read (Redis's `entries_read`); -1 when unknown.
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Nack>,
    consumers: BTreeMap<Vec<u8>, Consumer>,
    mem: usize,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pel: BTreeMap::new(), consumers: BTreeMap::new(), mem: 0 }
    }
    /// Heap bytes of the PEL and the consumers (running total).
    pub fn mem(&self) -> usize {
        self.mem
    }
    pub fn pel(&self) -> &BTreeMap<StreamId, Nack> {
        &self.pel
    }
    pub fn consumers(&self) -> &BTreeMap<Vec<u8>, Consumer> {
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
        self.consumers.insert(name.to_vec(), Consumer { seen_time: now, pel: BTreeSet::new() });
        self.mem += CONSUMER_COST + mem::block(name.len());
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
        for id in &c.pel {
            if let Some(n) = self.pel.remove(id) {
                self.mem -= NACK_COST + mem::block(n.consumer.len());
            }
        }
        self.mem -= CONSUMER_COST + mem::block(name.len());
        Some(c.pel.len())
    }
    /// Sets (or moves) `id`'s pending entry to `consumer` (which exists).
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time: u64, delivery_count: u64) {
        self.unassign(id);
        self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: consumer.to_vec() });
        self.mem += NACK_COST + mem::block(consumer.len());
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
    /// Removes `id`'s pending entry (XACK); the removed one.
    pub fn unassign(&mut self, id: StreamId) -> Option<Nack> {
        let n = self.pel.remove(&id)?;
        self.mem -= NACK_COST + mem::block(n.consumer.len());
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
    pub fn load_consumer(&mut self, name: Vec<u8>, seen_time: u64, ids: BTreeSet<StreamId>) -> bool {
        for id in &ids {
            match self.pel.get_mut(id) {
                Some(n) => {
                    let old = core::mem::replace(&mut n.consumer, name.clone());
                    self.mem = self.mem + mem::block(name.len()) - mem::block(old.len());
                }
                None => return false,
            }
        }
        self.mem += CONSUMER_COST + mem::block(name.len());
        self.consumers.insert(name, Consumer { seen_time, pel: ids });
        true
    }
    /// Adds a group PEL entry as loaded (its owner set by `load_consumer`).
    pub fn load_nack(&mut self, id: StreamId, delivery_time: u64, delivery_count: u64) -> bool {
        if self.pel.contains_key(&id) {
            return false;
        }
        self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Vec::new() });
        self.mem += NACK_COST;
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
