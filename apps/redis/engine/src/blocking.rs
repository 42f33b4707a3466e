//! Clients blocked in BLPOP/BRPOP/BLMOVE: who waits on which key (FIFO,
//! with O(1) removal of any one client), their deadlines, and the keys that
//! became ready since the last check.

use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;

use crate::bytemap::ByteMap;
use crate::idqueue::IdQueue;

/// What a blocked client will do once a key has data.
#[derive(Debug, Clone)]
pub enum BlockOp {
    /// BLPOP (left) / BRPOP.
    Pop { left: bool },
    /// BLMOVE / BRPOPLPUSH.
    Move { dest: Vec<u8>, from_left: bool, to_left: bool },
}

#[derive(Debug, Clone)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    pub op: BlockOp,
    /// Monotonic deadline in ms; `None` waits forever.
    pub deadline: Option<u64>,
}

pub struct Blocking {
    /// Per database: key -> waiting client ids, oldest first.
    pub waiting: Vec<ByteMap<IdQueue>>,
    /// (deadline, client id).
    pub timeouts: BTreeSet<(u64, u64)>,
    /// Keys that received data while someone waited on them.
    pub ready: VecDeque<(usize, Vec<u8>)>,
    pub blocked_clients: usize,
}

impl Blocking {
    pub fn new(databases: usize, seed: u64) -> Blocking {
        Blocking {
            waiting: (0..databases).map(|i| ByteMap::new(seed.wrapping_add(i as u64))).collect(),
            timeouts: BTreeSet::new(),
            ready: VecDeque::new(),
            blocked_clients: 0,
        }
    }

    pub fn add(&mut self, cid: u64, b: &Blocked) {
        if let Some(map) = self.waiting.get_mut(b.db) {
            for key in &b.keys {
                match map.get_mut(key) {
                    Some(q) => {
                        q.push_back(cid);
                    }
                    None => {
                        let mut q = IdQueue::new();
                        q.push_back(cid);
                        map.insert(key, q);
                    }
                }
            }
        }
        if let Some(d) = b.deadline {
            self.timeouts.insert((d, cid));
        }
        self.blocked_clients += 1;
    }

    pub fn remove(&mut self, cid: u64, b: &Blocked) {
        if let Some(map) = self.waiting.get_mut(b.db) {
            for key in &b.keys {
                let empty = match map.get_mut(key) {
                    Some(q) => {
                        q.remove(cid);
                        q.is_empty()
                    }
                    None => false,
                };
                if empty {
                    map.remove(key);
                }
            }
        }
        if let Some(d) = b.deadline {
            self.timeouts.remove(&(d, cid));
        }
        self.blocked_clients = self.blocked_clients.saturating_sub(1);
    }

    /// Notes that `key` got data, if anyone waits for it.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiting.get(db).is_some_and(|m| m.contains_key(key)) {
            self.ready.push_back((db, key.to_vec()));
        }
    }

    pub fn first_waiter(&self, db: usize, key: &[u8]) -> Option<u64> {
        self.waiting.get(db)?.get(key)?.front()
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.timeouts.first().map(|&(d, _)| d)
    }
}
