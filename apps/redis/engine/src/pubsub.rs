//! Pub/sub registry: channel -> subscribers, pattern -> subscribers and
//! shard channel -> subscribers, each in subscription order (the delivery order) with O(1) removal of
//! one subscriber. (Each client also records its own channels and patterns.)

use alloc::vec::Vec;

use crate::bytemap::ByteMap;
use crate::idqueue::IdQueue;

pub struct PubSub {
    pub channels: ByteMap<IdQueue>,
    pub patterns: ByteMap<IdQueue>,
    /// Shard channels (SSUBSCRIBE/SPUBLISH): no patterns reach them.
    pub shard_channels: ByteMap<IdQueue>,
}

fn add_to(map: &mut ByteMap<IdQueue>, name: &[u8], cid: u64) {
    match map.get_mut(name) {
        Some(q) => {
            q.push_back(cid);
        }
        None => {
            let mut q = IdQueue::new();
            q.push_back(cid);
            map.insert(name, q);
        }
    }
}

fn remove_from(map: &mut ByteMap<IdQueue>, name: &[u8], cid: u64) {
    let empty = match map.get_mut(name) {
        Some(q) => {
            q.remove(cid);
            q.is_empty()
        }
        None => false,
    };
    if empty {
        map.remove(name);
    }
}

impl PubSub {
    pub fn new(seed: u64) -> PubSub {
        PubSub {
            channels: ByteMap::new(seed),
            patterns: ByteMap::new(seed ^ 0x55),
            shard_channels: ByteMap::new(seed ^ 0xaa),
        }
    }
    pub fn subscribe(&mut self, channel: &[u8], cid: u64) {
        add_to(&mut self.channels, channel, cid);
    }
    pub fn unsubscribe(&mut self, channel: &[u8], cid: u64) {
        remove_from(&mut self.channels, channel, cid);
    }
    pub fn psubscribe(&mut self, pattern: &[u8], cid: u64) {
        add_to(&mut self.patterns, pattern, cid);
    }
    pub fn punsubscribe(&mut self, pattern: &[u8], cid: u64) {
        remove_from(&mut self.patterns, pattern, cid);
    }
    pub fn ssubscribe(&mut self, channel: &[u8], cid: u64) {
        add_to(&mut self.shard_channels, channel, cid);
    }
    pub fn sunsubscribe(&mut self, channel: &[u8], cid: u64) {
        remove_from(&mut self.shard_channels, channel, cid);
    }
    /// Receivers of a message on shard channel `channel`.
    pub fn shard_receivers(&self, channel: &[u8]) -> Vec<u64> {
        self.shard_channels.get(channel).map(|q| q.iter().collect()).unwrap_or_default()
    }
    /// Receivers of a message on `channel`: (client, matching pattern or None).
    pub fn receivers(&self, channel: &[u8]) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        if let Some(v) = self.channels.get(channel) {
            out.extend(v.iter().map(|c| (c, None)));
        }
        for (pat, clients) in self.patterns.iter() {
            if crate::glob::matches(pat, channel, false) {
                out.extend(clients.iter().map(|c| (c, Some(pat.to_vec()))));
            }
        }
        out
    }
}
