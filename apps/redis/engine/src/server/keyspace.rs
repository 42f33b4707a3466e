//! The keyspace helpers command handlers share (lookups with lazy
//! expiry, stores that account memory and wake blocked clients) and WATCH.

use super::*;

impl Server {
    // ----- keyspace helpers for commands ---------------------------------

    /// Deletes `key` if its TTL passed. Returns true when it was deleted.
    pub(crate) fn expire_if_needed(&mut self, db: usize, key: &[u8]) -> bool {
        let Some(d) = self.dbs.get(db) else { return false };
        if d.expires_count() == 0 {
            return false;
        }
        if let Found::Expired = d.find(key, self.expiry_now()) {
            self.delete_expired(db, key);
            true
        } else {
            false
        }
    }

    pub(super) fn delete_expired(&mut self, db: usize, key: &[u8]) {
        if let Some(d) = self.dbs.get_mut(db) {
            d.remove(key);
        }
        self.stats.expired_keys += 1;
        self.touch_watched(db, key);
        self.notify(notify::EXPIRED, "expired", db, key);
        self.propagate(db, &[b"DEL".to_vec(), key.to_vec()]);
    }

    /// Looks a key up for reading (lazy expiry, LRU, hit/miss stats).
    pub(crate) fn read(&mut self, db: usize, key: &[u8]) -> Option<&Value> {
        self.expire_if_needed(db, key);
        let Some(slot) = self.dbs.get(db)?.map().slot_of(key) else {
            self.stats.keyspace_misses += 1;
            self.notify(notify::KEY_MISS, "keymiss", db, key);
            return None;
        };
        self.stats.keyspace_hits += 1;
        self.touch_key(db, slot);
        self.dbs.get(db)?.entry_at(slot).map(|(_, e)| &e.value)
    }

    /// Like `read`, also lending the PRNG (for random-member commands).
    pub(crate) fn read_with_rng(&mut self, db: usize, key: &[u8]) -> (Option<&Value>, &mut Rng) {
        self.read(db, key);
        let v = self.dbs.get(db).and_then(|d| d.get(key)).map(|e| &e.value);
        (v, &mut self.rng)
    }

    /// Like `peek`, also lending the PRNG.
    pub(crate) fn peek_with_rng(&mut self, db: usize, key: &[u8]) -> (Option<&Value>, &mut Rng) {
        self.expire_if_needed(db, key);
        let v = self.dbs.get(db).and_then(|d| d.get(key)).map(|e| &e.value);
        (v, &mut self.rng)
    }

    /// Looks a key up without touching stats/LRU (still lazily expires).
    pub(crate) fn peek(&mut self, db: usize, key: &[u8]) -> Option<&Value> {
        self.expire_if_needed(db, key);
        self.dbs.get(db)?.get(key).map(|e| &e.value)
    }

    /// Mutable access for writing (lazy expiry first).
    pub(crate) fn write(&mut self, db: usize, key: &[u8]) -> Option<ValueMut<'_>> {
        self.expire_if_needed(db, key);
        let slot = self.dbs.get(db)?.map().slot_of(key)?;
        self.touch_key(db, slot);
        self.dbs.get_mut(db)?.value_mut_at(slot)
    }

    pub(crate) fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        self.expire_if_needed(db, key);
        self.dbs.get(db).is_some_and(|d| d.map().contains_key(key))
    }

    /// Stores a value (overwriting; drops the TTL unless `keep_ttl`).
    /// A new key is notified (`new`); a new list or sorted set signals
    /// clients blocked on the key.
    pub(crate) fn store(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) {
        self.expire_if_needed(db, key);
        // An overwritten key keeps its access counter under LFU (after
        // this access), as Redis's `dbOverwrite` keeps it.
        let existing = self.dbs.get(db).and_then(|d| d.map().slot_of(key));
        let clock = match existing {
            Some(slot) if self.cfg.maxmemory_policy.is_lfu() => {
                self.touch_key(db, slot);
                self.dbs.get(db).and_then(|d| d.entry_at(slot)).map_or(0, |(_, e)| e.lru)
            }
            _ => self.new_key_lru(),
        };
        let new = self.notifies(notify::NEW) && self.dbs.get(db).is_some_and(|d| !d.map().contains_key(key));
        let waiters = self.blocking.has_waiters(db);
        let may_wake = waiters && matches!(value, Value::List(_) | Value::ZSet(_) | Value::Stream(_));
        if let Some(d) = self.dbs.get_mut(db) {
            // Overwriting a stream wakes its XREADGROUP readers (with an
            // error), as Redis's `dbOverwrite` does.
            let replaced_stream = waiters && matches!(d.get(key).map(|e| &e.value), Some(Value::Stream(_)));
            let created = (may_wake && !d.map().contains_key(key)) || replaced_stream;
            d.set(key, value, keep_ttl, clock);
            if created {
                self.signal_key_created(db, key);
            }
        }
        if new {
            self.notify(notify::NEW, "new", db, key);
        }
    }

    /// Deletes a key; true when it existed. Marks it modified.
    pub(crate) fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        self.expire_if_needed(db, key);
        let removed = self.dbs.get_mut(db).and_then(|d| d.remove(key));
        if let Some(Value::Stream(_)) = &removed {
            // XREADGROUP readers of a deleted stream get an error.
            self.signal_key_created(db, key);
        }
        let removed = removed.is_some();
        if removed {
            self.touch_watched(db, key);
        }
        removed
    }

    /// Deletes `key` if it holds an empty container.
    pub(crate) fn delete_if_empty(&mut self, db: usize, key: &[u8]) {
        let empty = self.dbs.get(db).and_then(|d| d.get(key)).is_some_and(|e| match &e.value {
            Value::Str(_) => false,
            v => v.is_empty(),
        });
        if empty && let Some(d) = self.dbs.get_mut(db) {
            d.remove(key);
        }
    }

    /// Sets or clears a key's absolute expiry (unix ms).
    pub(crate) fn set_expire(&mut self, db: usize, key: &[u8], at: Option<u64>) {
        if let Some(d) = self.dbs.get_mut(db)
            && let Some(slot) = d.map().slot_of(key)
        {
            d.set_expire_at(slot, at);
        }
    }

    pub(crate) fn expire_of(&self, db: usize, key: &[u8]) -> Option<u64> {
        self.dbs.get(db)?.get(key)?.expire_at
    }

    /// Records a modification of `key`: counts it for propagation and
    /// invalidates WATCHes.
    pub(crate) fn modified(&mut self, c: &mut Ctx, db: usize, key: &[u8]) {
        c.dirty += 1;
        self.touch_watched(db, key);
    }

    // ----- WATCH ---------------------------------------------------------

    /// Redis's `signalModifiedKey`: `key` changed, so WATCHes of it fail
    /// and clients caching it are told (see [`crate::tracking`]).
    pub(crate) fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if self.tracking.active() {
            self.invalidate_tracked_key(key, true);
        }
        let Some(w) = self.watched.get(db) else { return };
        if w.is_empty() {
            return;
        }
        if let Some(ids) = w.get(key) {
            for id in ids.clone() {
                if let Some(c) = self.clients.get_mut(&id) {
                    c.cas_dirty = true;
                }
            }
        }
    }

    /// Invalidates WATCHes of every key in `db` that currently exists.
    pub(crate) fn touch_all_watched(&mut self, db: Option<usize>) {
        let mut hit = Vec::new();
        for (i, w) in self.watched.iter().enumerate() {
            if db.is_some_and(|d| d != i) {
                continue;
            }
            for (key, ids) in w.iter() {
                if self.dbs.get(i).is_some_and(|d| d.map().contains_key(key)) {
                    hit.extend(ids.iter().copied());
                }
            }
        }
        for id in hit {
            if let Some(c) = self.clients.get_mut(&id) {
                c.cas_dirty = true;
            }
        }
    }

    pub(crate) fn watch_key(&mut self, cid: u64, db: usize, key: &[u8]) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.watched.iter().any(|(d, k)| *d == db && k == key) {
            return;
        }
        c.watched.push((db, key.to_vec()));
        c.watched_bytes += key.len();
        c.refresh_extra_memory();
        if let Some(w) = self.watched.get_mut(db) {
            match w.get_mut(key) {
                Some(ids) => ids.push(cid),
                None => {
                    w.insert(key, alloc::vec![cid]);
                }
            }
        }
    }

    pub(super) fn unwatch_key(&mut self, cid: u64, db: usize, key: &[u8]) {
        let Some(w) = self.watched.get_mut(db) else { return };
        let empty = match w.get_mut(key) {
            Some(ids) => {
                ids.retain(|&x| x != cid);
                ids.is_empty()
            }
            None => false,
        };
        if empty {
            w.remove(key);
        }
    }

    pub(crate) fn unwatch_all(&mut self, cid: u64) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let keys = core::mem::take(&mut c.watched);
        c.watched_bytes = 0;
        c.refresh_extra_memory();
        c.cas_dirty = false;
        for (db, key) in keys {
            self.unwatch_key(cid, db, &key);
        }
    }

    pub(crate) fn begin_multi(&mut self, cid: u64) {
        if let Some(c) = self.clients.get_mut(&cid) {
            c.multi = Some(Multi::default());
        }
    }
}
