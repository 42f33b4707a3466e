//! `IdQueue`: client ids in insertion order with O(1) membership test,
//! append and removal of any id (amortised). It holds a channel's
//! subscribers and a key's blocked clients, where one client leaving must
//! not cost a scan of everyone else while delivery stays in arrival order.
//!
//! Ids sit in a deque; a removed one leaves a tombstone that is dropped as
//! soon as it reaches either end, and the deque is compacted once
//! tombstones outnumber live ids (so each removal pays O(1) of it). Past a
//! few ids an index maps id -> position; small queues just scan.

use alloc::collections::VecDeque;
use foldhash::fast::FixedState;
use hashbrown::HashMap;

/// Marks a removed id (client ids never reach it).
const GONE: u64 = u64::MAX;
/// Queues up to this long (tombstones included) have no index.
const SCAN_MAX: usize = 8;

#[derive(Default)]
pub struct IdQueue {
    ids: VecDeque<u64>,
    /// Sequence number of `ids[0]`: an id's position is its sequence number
    /// minus this, and stays valid while the front is popped.
    base: u64,
    /// id -> sequence number, once the deque is longer than `SCAN_MAX`.
    index: Option<HashMap<u64, u64, FixedState>>,
    live: usize,
}

impl IdQueue {
    pub fn new() -> IdQueue {
        IdQueue::default()
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn position(&self, id: u64) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&id).map(|&seq| (seq - self.base) as usize),
            None => self.ids.iter().position(|&x| x == id),
        }
    }

    pub fn contains(&self, id: u64) -> bool {
        self.position(id).is_some()
    }

    /// Appends `id`; false (and no change) when it is already queued.
    pub fn push_back(&mut self, id: u64) -> bool {
        if id == GONE || self.contains(id) {
            return false;
        }
        self.ids.push_back(id);
        self.live += 1;
        let seq = self.base + (self.ids.len() - 1) as u64;
        match &mut self.index {
            Some(index) => {
                index.insert(id, seq);
            }
            None if self.ids.len() > SCAN_MAX => self.reindex(),
            None => {}
        }
        true
    }

    /// Removes `id` wherever it is; false when it was not queued.
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(pos) = self.position(id) else { return false };
        if let Some(index) = &mut self.index {
            index.remove(&id);
        }
        self.ids[pos] = GONE;
        self.live -= 1;
        self.drop_dead_ends();
        if self.ids.len() > 2 * self.live + SCAN_MAX {
            self.ids.retain(|&x| x != GONE);
            self.reindex();
        }
        true
    }

    /// The oldest id.
    pub fn front(&self) -> Option<u64> {
        self.ids.front().copied()
    }

    /// Removes and returns the oldest id.
    pub fn pop_front(&mut self) -> Option<u64> {
        let id = self.front()?;
        self.remove(id);
        Some(id)
    }

    /// Ids, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.ids.iter().copied().filter(|&x| x != GONE)
    }

    /// Keeps both ends on live ids (so `front` needs no scan).
    fn drop_dead_ends(&mut self) {
        while self.ids.front() == Some(&GONE) {
            self.ids.pop_front();
            self.base += 1;
        }
        while self.ids.back() == Some(&GONE) {
            self.ids.pop_back();
        }
        if self.ids.capacity() > 64 && self.ids.len() < self.ids.capacity() / 4 {
            self.ids.shrink_to(self.ids.len() * 2);
        }
    }

    /// Renumbers from 0 and rebuilds the index (none when short).
    fn reindex(&mut self) {
        self.base = 0;
        if self.ids.len() <= SCAN_MAX {
            self.index = None;
            return;
        }
        let index = self.index.get_or_insert_with(|| HashMap::with_hasher(FixedState::with_seed(0x1d5)));
        index.clear();
        for (i, &id) in self.ids.iter().enumerate() {
            if id != GONE {
                index.insert(id, i as u64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn order_and_removal_match_a_vec() {
        let mut rng = crate::util::Rng::new(5);
        let mut q = IdQueue::new();
        let mut model: Vec<u64> = Vec::new();
        for step in 0..20_000 {
            let id = rng.below(300) as u64 + 1;
            match rng.below(3) {
                0 | 1 if step % 1000 < 700 => {
                    assert_eq!(q.push_back(id), !model.contains(&id));
                    if !model.contains(&id) {
                        model.push(id);
                    }
                }
                0 => assert_eq!(q.pop_front(), (!model.is_empty()).then(|| model.remove(0))),
                _ => {
                    let was = model.iter().position(|&x| x == id);
                    assert_eq!(q.remove(id), was.is_some());
                    if let Some(p) = was {
                        model.remove(p);
                    }
                }
            }
            assert_eq!(q.len(), model.len());
            assert_eq!(q.front(), model.first().copied());
            if step % 97 == 0 {
                assert_eq!(q.iter().collect::<Vec<_>>(), model);
            }
            assert!(q.ids.len() <= 2 * q.live + SCAN_MAX + 1);
        }
    }

    /// Removing clients one by one from a long queue is O(1) each: the
    /// deque never holds more than about twice the live ids.
    #[test]
    fn removal_from_a_long_queue_does_not_scan() {
        let mut q = IdQueue::new();
        for id in 1..=100_000 {
            q.push_back(id);
        }
        // Every other id, from the middle out: tombstones stay bounded.
        for id in (2..=100_000).step_by(2) {
            assert!(q.remove(id));
            assert!(q.ids.len() <= 2 * q.live + SCAN_MAX);
        }
        assert_eq!(q.len(), 50_000);
        assert_eq!(q.front(), Some(1));
        assert!(q.iter().eq((1..=100_000).step_by(2)));
        assert!(!q.contains(2) && q.contains(99_999));
    }
}
