//! The periodic work of `tick` (blocked and idle client timeouts, the
//! active expire cycle) and eviction under `maxmemory`.

use super::*;

impl Server {
    // ----- periodic work -------------------------------------------------

    /// Periodic work (call ~10 times per second): blocked-client timeouts,
    /// idle-client timeout, active expiry.
    pub fn tick(&mut self, now: Time) {
        self.set_now(now);
        // Blocked clients past their deadline.
        while let Some(&(deadline, cid)) = self.blocking.timeouts.first() {
            if deadline > now.mono_ms {
                break;
            }
            self.blocking.timeouts.remove(&(deadline, cid));
            self.unblock_with_timeout(cid);
        }
        self.end_pause_if_due();
        self.sample_stats();
        // Idle clients.
        if self.cfg.timeout_secs > 0 {
            let limit = self.cfg.timeout_secs.saturating_mul(1000);
            let mut idle = Vec::new();
            for c in self.clients.values() {
                if !c.hidden
                    && c.blocked.is_none()
                    && c.postponed.is_none()
                    && c.sub_count() == 0
                    && !c.should_close()
                    && now.mono_ms.saturating_sub(c.last_ms) > limit
                {
                    idle.push(c.id);
                }
            }
            for cid in idle {
                self.close_client_now(cid);
            }
        }
        let started = self.now_us();
        self.active_expire_cycle();
        self.latency_sample("expire-cycle", self.now_us().saturating_sub(started) / 1000);
        if self.cfg.maxmemory > 0 {
            self.evict_if_needed();
        }
        if self.tracking.clients > 0 {
            self.limit_tracking_table();
            self.broadcast_invalidations();
        }
        self.persist_tick();
        self.migrate_sockets.close_idle(now.mono_ms / 1000);
        self.run_resumed();
    }

    /// The earliest blocked-client deadline or end of a CLIENT PAUSE
    /// (monotonic ms); now while a background snapshot is being written.
    pub fn next_deadline(&self) -> Option<Time> {
        if self.persistence_busy() {
            // A background snapshot advances every turn: do not sleep.
            return Some(self.now);
        }
        let pause_end = self.pause.as_ref().map(|p| p.end_ms);
        let d = match (self.blocking.next_deadline(), pause_end) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        let wall = self.now.unix_ms.saturating_add(d.saturating_sub(self.now.mono_ms));
        Some(Time { unix_ms: wall, mono_ms: d })
    }

    pub fn shutdown_requested(&self) -> bool {
        self.shutdown
    }

    /// Approximate bytes used: datasets plus client memory, and the
    /// per-command latency histograms.
    pub fn used_memory(&self) -> usize {
        self.dataset_memory() + self.clients_mem + BASE_MEMORY + self.stats.calls.histograms_mem
    }

    /// Memory of all clients together (kept up to date incrementally): per
    /// client its buffers, partial request, queued transaction,
    /// subscriptions, a fixed cost and `Config::client_overhead`.
    pub fn client_memory(&self) -> usize {
        self.clients_mem
    }

    /// One client's memory as [`client_memory`](Self::client_memory) counts it.
    pub(crate) fn memory_of(&self, c: &Client) -> usize {
        CLIENT_FIXED_MEMORY + self.cfg.client_overhead + c.buffers_memory()
    }

    /// [`client_memory`](Self::client_memory) recounted from scratch, and
    /// whether every client's eviction bucket entry is consistent (tests).
    #[cfg(test)]
    pub(crate) fn recount_client_memory(&self) -> (usize, bool) {
        let total = self.clients.values().filter(|c| !c.hidden).map(|c| self.memory_of(c)).sum();
        let buckets_ok = self.clients.values().all(|c| {
            let want = (!c.hidden && !c.close_now && !c.no_evict).then(|| mem_bucket(c.mem));
            c.extra_mem == c.extra_memory()
                && c.mem_bucket.map(|(b, _)| b) == want
                && c.mem_bucket.is_none_or(|(b, pos)| self.mem_buckets[usize::from(b)].get(pos as usize) == Some(&c.id))
        }) && self.mem_buckets.iter().map(Vec::len).sum::<usize>()
            == self.clients.values().filter(|c| c.mem_bucket.is_some()).count();
        (total, buckets_ok)
    }

    /// Recounts a client's memory and adjusts the total and its eviction
    /// bucket. O(1).
    pub(crate) fn update_client_mem(&mut self, cid: u64) {
        let fixed = CLIENT_FIXED_MEMORY + self.cfg.client_overhead;
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.hidden {
            return;
        }
        let mem = fixed + c.buffers_memory();
        let closing = c.close_now;
        if mem == c.mem && closing == c.mem_closing && (c.mem_bucket.is_some() || closing || c.no_evict) {
            return; // unchanged (the common case)
        }
        self.clients_mem = self.clients_mem - c.mem + mem;
        if c.mem_closing {
            self.closing_mem -= c.mem;
        }
        if closing {
            self.closing_mem += mem;
        }
        c.mem = mem;
        c.mem_closing = closing;
        let want = (!closing && !c.no_evict).then(|| mem_bucket(mem));
        if want != c.mem_bucket.map(|(b, _)| b) {
            let old = c.mem_bucket.take();
            if let Some(b) = want {
                let list = &mut self.mem_buckets[usize::from(b)];
                c.mem_bucket = Some((b, list.len() as u32));
                list.push(cid);
            }
            self.remove_from_mem_bucket(old);
        }
    }

    /// Takes the client at `at` out of its eviction bucket.
    pub(super) fn remove_from_mem_bucket(&mut self, at: Option<(u8, u32)>) {
        let Some((b, pos)) = at else { return };
        let Some(list) = self.mem_buckets.get_mut(usize::from(b)) else { return };
        if (pos as usize) < list.len() {
            list.swap_remove(pos as usize);
            if let Some(&moved) = list.get(pos as usize)
                && let Some(c) = self.clients.get_mut(&moved)
            {
                c.mem_bucket = Some((b, pos));
            }
        }
    }

    /// Redis 7's client eviction: while all clients together (not counting
    /// those already closing) use at least `maxmemory-clients`, close the
    /// client in the highest memory class. O(1) while under the limit.
    #[inline]
    pub(crate) fn evict_clients_if_needed(&mut self) {
        let limit = self.caps.evict;
        if limit != 0 && self.clients_mem - self.closing_mem >= limit {
            self.evict_clients(limit);
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn evict_clients(&mut self, limit: usize) {
        while self.clients_mem - self.closing_mem >= limit {
            let Some((b, victim)) =
                self.mem_buckets.iter().enumerate().rev().find_map(|(b, list)| list.last().map(|&v| (b, v)))
            else {
                break; // nothing evictable left
            };
            if self.clients.get(&victim).is_none_or(|c| c.mem_bucket.is_none()) {
                self.mem_buckets[b].pop(); // stale entry
                continue;
            }
            self.stats.evicted_clients += 1;
            self.close_client_now(victim);
            if self.clients.get(&victim).is_some_and(|c| c.mem_bucket.is_some()) {
                break; // cannot happen: a closing client is not evictable
            }
        }
    }

    /// Bytes used by keys and values (what eviction looks at).
    pub fn dataset_memory(&self) -> usize {
        self.dbs.iter().map(|d| d.used_memory()).sum()
    }

    // ----- active expiry -------------------------------------------------

    /// Redis's active expire cycle: per database, sample 20 keys with a TTL,
    /// delete the expired ones, repeat while more than 25% were expired;
    /// bounded work per call.
    pub(super) fn active_expire_cycle(&mut self) {
        const SAMPLE: usize = 20;
        const MAX_SAMPLES_PER_CALL: usize = 4000;
        let now = self.now.unix_ms;
        let ndb = self.dbs.len();
        let mut budget = MAX_SAMPLES_PER_CALL;
        for _ in 0..ndb {
            let db = self.expire_db_cursor % ndb;
            self.expire_db_cursor = (self.expire_db_cursor + 1) % ndb;
            loop {
                let volatile = self.dbs[db].expires_count();
                if volatile == 0 || budget == 0 {
                    break;
                }
                let n = volatile.min(SAMPLE).min(budget);
                budget -= n;
                let mut expired_keys = Vec::new();
                for _ in 0..n {
                    let d = &self.dbs[db];
                    if let Some(slot) = d.random_volatile(&mut self.rng)
                        && let Some((k, e)) = d.entry_at(slot)
                        && e.expire_at.is_some_and(|t| t <= now)
                    {
                        expired_keys.push(k.to_vec());
                    }
                }
                expired_keys.sort_unstable();
                expired_keys.dedup();
                let expired = expired_keys.len();
                for k in expired_keys {
                    if self.dbs[db].get(&k).is_some() {
                        self.delete_expired(db, &k);
                    }
                }
                if expired * 4 <= n {
                    break;
                }
            }
            if budget == 0 {
                break;
            }
        }
    }

    // ----- eviction ------------------------------------------------------

    /// The memory gate a command passes before it runs: Redis's
    /// `performEvictions` + OOM check, extended with its `dictExpandAllowed`.
    ///
    /// Keys a DENYOOM command names that do not exist yet may force the
    /// keyspace of `db` to grow (the slab and table double in one piece).
    /// When `runs_now`, that growth counts as already used: eviction (per
    /// policy) runs until it fits under `maxmemory`, and if it cannot, the
    /// command is refused rather than letting the keyspace grow past the
    /// limit. The growth is then reserved fallibly, so an allocator failure
    /// refuses the command too instead of aborting (also without maxmemory).
    ///
    /// Keyspace growth aside (refused past `maxmemory` wherever it happens,
    /// like Redis's `dictExpandAllowed`), this gate is where `maxmemory` is
    /// enforced, as in Redis: what a command then grows its values by is
    /// checked only against the heap's hard limit
    /// ([`reserve_growth`](Self::reserve_growth)), so a command may take the
    /// dataset past a `maxmemory` set below that limit, and the next
    /// command's gate evicts (or refuses a DENYOOM one).
    ///
    /// Returns false when the command must be refused with [`OOM_ERROR`].
    pub(super) fn make_room(&mut self, db: usize, spec: &CommandSpec, argv: &[Vec<u8>], runs_now: bool) -> bool {
        let denyoom = spec.flags & flags::DENYOOM != 0;
        let new_keys = if denyoom && runs_now { self.possible_new_keys(db, spec, argv) } else { 0 };
        let max = self.cfg.maxmemory;
        if max > 0 && !self.replaying && !self.evict_for_growth(max, db, new_keys, 0) && denyoom {
            return false;
        }
        self.reserve_keys(db, new_keys)
    }

    /// EXEC of a transaction with a command that may use memory (`denyoom`)
    /// while over `maxmemory` and nothing can be evicted: refused as a
    /// whole, as Redis 7.0 checks the limit for EXEC itself.
    pub(crate) fn exec_out_of_memory(&mut self, db: usize, queued: &[Vec<Vec<u8>>]) -> bool {
        if self.cfg.maxmemory == 0 || self.replaying {
            return false;
        }
        let uses_memory = queued
            .iter()
            .filter_map(|argv| argv.first().and_then(|n| self.lookup_command(n)))
            .any(|spec| spec.flags & flags::DENYOOM != 0);
        uses_memory && !self.evict_for_growth(self.cfg.maxmemory, db, 0, 0)
    }

    /// Inside EXEC: like [`make_room`](Self::make_room) for one queued
    /// command, but without eviction and only refusing when the command's
    /// new keys would grow the keyspace past `maxmemory` (Redis checks the
    /// limit once, for EXEC itself, and then only refuses dict expansion).
    pub(crate) fn make_room_in_exec(&mut self, db: usize, spec: &CommandSpec, argv: &[Vec<u8>]) -> bool {
        if spec.flags & flags::DENYOOM == 0 {
            return true;
        }
        let new_keys = self.possible_new_keys(db, spec, argv);
        let growth = self.keyspace_growth(db, new_keys);
        let max = self.cfg.maxmemory;
        if growth > 0 && max > 0 && !self.replaying && self.eviction_memory() + growth > max {
            return false;
        }
        self.reserve_keys(db, new_keys)
    }

    /// How many keys named by the command (its key positions) are absent
    /// from database `db`, i.e. may be inserted. 0 when the keyspace already
    /// has room for all of them, which is decided without key lookups.
    pub(super) fn possible_new_keys(&self, db: usize, spec: &CommandSpec, argv: &[Vec<u8>]) -> usize {
        let Some(d) = self.dbs.get(db) else { return 0 };
        let positions = spec.key_positions(argv.len());
        let named = positions.clone().count();
        if named == 0 || d.map().growth_bytes(named) == 0 {
            return 0;
        }
        positions.filter(|&i| argv.get(i).is_some_and(|k| !d.map().contains_key(k))).count()
    }

    /// Bytes the keyspace of `db` would grow by to take `new_keys` keys.
    pub(super) fn keyspace_growth(&self, db: usize, new_keys: usize) -> usize {
        if new_keys == 0 {
            return 0;
        }
        self.dbs.get(db).map_or(0, |d| d.map().growth_bytes(new_keys))
    }

    /// Grows the keyspace of `db` for `new_keys` keys; false when the
    /// allocator refused.
    pub(super) fn reserve_keys(&mut self, db: usize, new_keys: usize) -> bool {
        new_keys == 0 || self.dbs.get_mut(db).is_none_or(|d| d.try_reserve_keys(new_keys).is_ok())
    }

    /// The figure `maxmemory` is enforced against: the datasets (including
    /// the keyspace capacity they reserved) plus the fixed baseline.
    pub(crate) fn eviction_memory(&self) -> usize {
        self.dataset_memory() + BASE_MEMORY
    }

    /// Frees memory per `maxmemory-policy` until under `maxmemory`.
    /// Returns false when still over the limit.
    pub(crate) fn evict_if_needed(&mut self) -> bool {
        self.evict_for_growth(self.cfg.maxmemory, 0, 0, 0)
    }

    /// The memory check for a command about to grow one value by `bytes`
    /// (SETRANGE, SETBIT, APPEND, COPY, *STORE, RESTORE: growth a short
    /// request chooses), against the heap's hard limit,
    /// `Config::maxmemory_ceiling`: running out of heap powers the appliance
    /// off, so no command may take the dataset past it. When the growth
    /// would take [`eviction_memory`](Self::eviction_memory) past the
    /// ceiling, evicts per policy first (Redis's `performEvictions`, for
    /// that many more bytes) until it fits under the ceiling. Returns false
    /// when it still does not fit: the caller then replies [`OOM_ERROR`] and
    /// changes nothing. Never evicts for a growth that could not fit even in
    /// an empty dataset.
    ///
    /// A `maxmemory` below the ceiling is not checked here: Redis checks it
    /// only before a command ([`make_room`](Self::make_room), which refuses
    /// a DENYOOM command still over the limit after eviction) and lets the
    /// command itself go past it; the next command's check then evicts.
    /// (The suite's `unit/tracking` relies on that: a SETBIT grows the
    /// dataset past `maxmemory` and the next GETBIT's eviction is
    /// invalidated before its reply.) By default `maxmemory` is the ceiling,
    /// and then this is the check against `maxmemory` before the growth.
    /// Without a ceiling (the host default) nothing is checked: the
    /// allocation that follows is fallible.
    ///
    /// Keys may be evicted, the one being grown included: callers look
    /// their value up again afterwards.
    pub(crate) fn reserve_growth(&mut self, bytes: usize) -> bool {
        self.evict_to_fit(self.cfg.maxmemory_ceiling, bytes)
    }

    /// Makes room in the keyspace of `db` for one more key that a command
    /// without DENYOOM (so without [`make_room`](Self::make_room)'s check)
    /// is about to insert: SMOVE's destination, MOVE's target database. The
    /// keyspace grows by doubling, in one piece, so one short command could
    /// otherwise take it far past `maxmemory`. Unlike a value's growth
    /// ([`reserve_growth`](Self::reserve_growth)), this is checked against
    /// `maxmemory` itself, as Redis 7.0 refuses to expand a keyspace table
    /// past it (`dictExpandAllowed`): eviction per policy makes room, or the
    /// growth is refused. It is then reserved fallibly; false when refused
    /// (the caller replies -OOM). Keys may be evicted: callers look theirs
    /// up again.
    pub(crate) fn reserve_new_key(&mut self, db: usize) -> bool {
        let growth = self.keyspace_growth(db, 1);
        self.evict_to_fit(self.cfg.maxmemory, growth) && self.reserve_keys(db, 1)
    }

    /// Evicts per policy until `bytes` more fit under `limit` (0: none);
    /// false when they still do not, or could not even in an empty dataset
    /// (then nothing is evicted). Always true while replaying.
    fn evict_to_fit(&mut self, limit: usize, bytes: usize) -> bool {
        if limit == 0 || bytes == 0 || self.replaying {
            return true;
        }
        BASE_MEMORY.saturating_add(bytes) <= limit && self.evict_for_growth(limit, 0, 0, bytes)
    }

    /// Frees memory per `maxmemory-policy` until used memory plus the
    /// keyspace growth that `new_keys` new keys in database `db` would cause,
    /// plus `extra` bytes, fits under `limit` (`maxmemory`, or the ceiling
    /// for a value's growth). Returns false when it still does not.
    /// (Evicting from `db` itself frees slots, which can cancel the growth.)
    pub(super) fn evict_for_growth(&mut self, limit: usize, db: usize, new_keys: usize, extra: usize) -> bool {
        if limit == 0 {
            return true;
        }
        let mut guard = 0usize;
        // The clock is read only once something is evicted (this check
        // runs before every write under maxmemory).
        let mut started = 0;
        let fits = loop {
            if self.eviction_memory() + self.keyspace_growth(db, new_keys) + extra <= limit {
                break true;
            }
            guard += 1;
            if guard > 1_000_000 {
                break false;
            }
            let Some((db, key)) = self.pick_victim() else { break false };
            let deleting = self.now_us();
            if guard == 1 {
                started = deleting;
            }
            if let Some(d) = self.dbs.get_mut(db) {
                d.remove(&key);
            }
            self.latency_sample("eviction-del", self.now_us().saturating_sub(deleting) / 1000);
            self.stats.evicted_keys += 1;
            self.touch_watched(db, &key);
            self.notify(notify::EVICTED, "evicted", db, &key);
            self.propagate(db, &[b"DEL".to_vec(), key]);
        };
        if guard > 0 {
            self.latency_sample("eviction-cycle", self.now_us().saturating_sub(started) / 1000);
        }
        fits
    }

    pub(super) fn pick_victim(&mut self) -> Option<(usize, Vec<u8>)> {
        let policy = self.cfg.maxmemory_policy;
        if policy == EvictionPolicy::NoEviction {
            return None;
        }
        let ndb = self.dbs.len();
        let volatile = policy.volatile_only();
        match policy {
            EvictionPolicy::AllKeysRandom | EvictionPolicy::VolatileRandom => {
                for _ in 0..ndb {
                    let db = self.evict_db_cursor % ndb;
                    self.evict_db_cursor = (self.evict_db_cursor + 1) % ndb;
                    let d = &self.dbs[db];
                    let slot =
                        if volatile { d.random_volatile(&mut self.rng) } else { d.map().random_slot(&mut self.rng) };
                    if let Some(slot) = slot
                        && let Some((k, _)) = d.entry_at(slot)
                    {
                        return Some((db, k.to_vec()));
                    }
                }
                None
            }
            _ => {
                // Sample `maxmemory-samples` keys per database and keep the
                // best candidate: the longest idle (LRU), least used (LFU)
                // or soonest TTL.
                let samples = self.cfg.maxmemory_samples.max(1);
                let clock = self.lru_clock();
                let now_min = crate::lfu::minutes(self.now.mono_ms);
                let decay = self.cfg.stats.lfu_decay_time;
                let mut best: Option<(u64, usize, Vec<u8>)> = None;
                for db in 0..ndb {
                    let d = &self.dbs[db];
                    if (volatile && d.expires_count() == 0) || d.is_empty() {
                        continue;
                    }
                    for _ in 0..samples {
                        let slot = if volatile {
                            d.random_volatile(&mut self.rng)
                        } else {
                            d.map().random_slot(&mut self.rng)
                        };
                        let Some((k, e)) = slot.and_then(|s| d.entry_at(s)) else { continue };
                        let score = match policy {
                            EvictionPolicy::VolatileTtl => u64::MAX - e.expire_at.unwrap_or(u64::MAX),
                            // The least used: the lowest access counter.
                            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => {
                                u64::from(255 - crate::lfu::decayed(e.lru, now_min, decay))
                            }
                            _ => u64::from(clock.wrapping_sub(e.lru)),
                        };
                        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                            best = Some((score, db, k.to_vec()));
                        }
                    }
                }
                best.map(|(_, db, k)| (db, k))
            }
        }
    }
}
