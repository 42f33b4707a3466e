//! Client-side caching (Redis 7.0's `CLIENT TRACKING`): each tracking
//! client's mode, the table of keys read by clients in the default mode
//! (key -> reading clients, bounded by `tracking-table-max-keys`), the
//! BCAST prefix table (prefix -> clients, and the keys changed since the
//! last broadcast), and the invalidation messages: RESP3 `invalidate`
//! pushes, or `__redis__:invalidate` messages to a RESP2 client a tracking
//! client redirects to.
//!
//! Nothing here runs per command unless some client tracks or the table
//! still holds keys: callers test [`Tracking::active`] first.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::bytemap::ByteMap;
use crate::resp::Out;
use crate::server::Server;

/// The pub/sub channel RESP2 redirect targets get invalidations on.
const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's tracking mode (present while tracking is on).
#[derive(Default)]
pub struct ClientTracking {
    /// Client receiving the invalidations (0: this one).
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// `CLIENT CACHING yes|no` given for the next command or transaction.
    pub caching: bool,
    /// The redirect client went away.
    pub broken_redirect: bool,
    /// BCAST prefixes, sorted.
    pub prefixes: Vec<Vec<u8>>,
}

impl ClientTracking {
    /// Heap bytes of this mode (counted in the client's memory).
    pub fn memory(&self) -> usize {
        core::mem::size_of::<ClientTracking>()
            + self.prefixes.capacity() * core::mem::size_of::<Vec<u8>>()
            + self.prefixes.iter().map(Vec::capacity).sum::<usize>()
    }

    /// Whether keys this client reads are remembered (OPTIN needs
    /// `CACHING yes`, OPTOUT remembers unless `CACHING no`).
    fn remembers_reads(&self) -> bool {
        let skipped = if self.optin { !self.caching } else { self.optout && self.caching };
        !self.bcast && !skipped
    }
}

/// Clients subscribed to a BCAST prefix and the keys changed under it
/// since the last broadcast (key -> the client that changed it, 0: none).
#[derive(Default)]
struct PrefixState {
    clients: Vec<u64>,
    changed: BTreeMap<Vec<u8>, u64>,
}

/// The server-wide tracking state.
pub struct Tracking {
    /// Clients with tracking on (INFO `tracking_clients`).
    pub clients: usize,
    /// Default mode: key -> clients that read it.
    table: ByteMap<Vec<u64>>,
    /// Sum of the table's client lists (INFO `tracking_total_items`).
    items: usize,
    prefixes: BTreeMap<Vec<u8>, PrefixState>,
    /// Invalidations for the client running a command, sent after its
    /// reply (`None`: the flush null).
    pending: Vec<Option<Vec<u8>>>,
    /// The blocked client being served (its command completing), which
    /// counts as the running one.
    pub serving: Option<u64>,
    /// Rounds the table stayed over its limit (more effort each time).
    over_limit_rounds: usize,
}

impl Tracking {
    pub fn new(seed: u64) -> Tracking {
        Tracking {
            clients: 0,
            table: ByteMap::new(seed),
            items: 0,
            prefixes: BTreeMap::new(),
            pending: Vec::new(),
            serving: None,
            over_limit_rounds: 0,
        }
    }

    /// Whether a key change may have to invalidate something.
    #[inline]
    pub fn active(&self) -> bool {
        self.clients > 0 || !self.table.is_empty()
    }

    pub fn total_keys(&self) -> usize {
        self.table.len()
    }
    pub fn total_items(&self) -> usize {
        self.items
    }
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// The error for `prefixes` overlapping each other or `existing`
    /// (Redis's prefix collision check), if any.
    pub fn prefix_collision(existing: &[Vec<u8>], prefixes: &[Vec<u8>]) -> Option<alloc::string::String> {
        let overlap = |a: &[u8], b: &[u8]| {
            let n = a.len().min(b.len());
            a[..n] == b[..n]
        };
        let text = crate::cmd::text;
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
                return Some(alloc::format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(e)
                ));
            }
            if let Some(q) = prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
                return Some(alloc::format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(q)
                ));
            }
        }
        None
    }
}

/// What an invalidation carries: one key, several (a BCAST batch) or the
/// null of a flush.
enum Invalidated<'a> {
    Key(&'a [u8]),
    Keys(&'a [&'a [u8]]),
    All,
}

fn write_keys(out: &mut Out, what: &Invalidated<'_>) {
    match what {
        Invalidated::Key(k) => {
            out.array(1);
            out.bulk(k);
        }
        Invalidated::Keys(keys) => {
            out.array(keys.len());
            for k in keys.iter() {
                out.bulk(k);
            }
        }
        Invalidated::All => out.null(),
    }
}

impl Server {
    fn tracking_of(&self, cid: u64) -> Option<&ClientTracking> {
        self.clients.get(&cid)?.tracking.as_deref()
    }

    /// Turns tracking on for `cid` with the options already validated.
    pub(crate) fn enable_tracking(&mut self, cid: u64, mode: ClientTracking) {
        let Some(cl) = self.clients.get_mut(&cid) else { return };
        let prefixes = mode.prefixes.clone();
        match cl.tracking.as_mut() {
            Some(t) => {
                let caching = t.caching;
                let mut kept = core::mem::take(&mut t.prefixes);
                **t = mode;
                t.caching = caching;
                for p in &prefixes {
                    if let Err(at) = kept.binary_search(p) {
                        kept.insert(at, p.clone());
                    }
                }
                t.prefixes = kept;
            }
            None => {
                let mut t = Box::new(mode);
                t.prefixes.sort();
                t.prefixes.dedup();
                cl.tracking = Some(t);
                self.tracking.clients += 1;
            }
        }
        let bcast = self.tracking_of(cid).is_some_and(|t| t.bcast);
        if bcast {
            let prefixes = if prefixes.is_empty() { alloc::vec![Vec::new()] } else { prefixes };
            for p in prefixes {
                let state = self.tracking.prefixes.entry(p.clone()).or_default();
                if !state.clients.contains(&cid) {
                    state.clients.push(cid);
                }
                if let Some(t) = self.clients.get_mut(&cid).and_then(|c| c.tracking.as_mut())
                    && let Err(at) = t.prefixes.binary_search(&p)
                {
                    t.prefixes.insert(at, p);
                }
            }
        }
        self.refresh_tracking_memory(cid);
    }

    fn refresh_tracking_memory(&mut self, cid: u64) {
        if let Some(cl) = self.clients.get_mut(&cid) {
            cl.refresh_extra_memory();
        }
        self.update_client_mem(cid);
    }

    /// Turns tracking off for `cid` (CLIENT TRACKING OFF, RESET, close).
    pub(crate) fn disable_tracking(&mut self, cid: u64) {
        let Some(t) = self.clients.get_mut(&cid).and_then(|c| c.tracking.take()) else { return };
        self.tracking.clients -= 1;
        for p in &t.prefixes {
            let empty = self.tracking.prefixes.get_mut(p).is_some_and(|s| {
                s.clients.retain(|&c| c != cid);
                s.clients.is_empty()
            });
            if empty {
                self.tracking.prefixes.remove(p);
            }
        }
        self.refresh_tracking_memory(cid);
    }

    /// After a read-only command of a tracking client: remembers the keys
    /// it read (Redis's `trackingRememberKeys`).
    pub(crate) fn remember_tracked_keys(&mut self, cid: u64, spec: &crate::commands::CommandSpec, argv: &[Vec<u8>]) {
        if !self.tracking_of(cid).is_some_and(ClientTracking::remembers_reads)
            || spec.flags & crate::commands::flags::PUBSUB != 0
        {
            return;
        }
        let positions: Vec<usize> = match crate::commands::movable_key_positions(spec.name, argv) {
            Some(p) => p,
            None => spec.key_positions(argv.len()).collect(),
        };
        for i in positions {
            let Some(key) = argv.get(i) else { continue };
            match self.tracking.table.get_mut(key) {
                Some(ids) => {
                    if !ids.contains(&cid) {
                        ids.push(cid);
                        self.tracking.items += 1;
                    }
                }
                None => {
                    self.tracking.table.insert(key, alloc::vec![cid]);
                    self.tracking.items += 1;
                }
            }
        }
    }

    /// A key changed (written, expired, evicted): invalidates it for the
    /// clients that read it, and records it for BCAST prefixes
    /// (`bcast`: false for the table's own evictions).
    pub(crate) fn invalidate_tracked_key(&mut self, key: &[u8], bcast: bool) {
        let running = self.tracking.serving.or(self.running);
        if bcast && !self.tracking.prefixes.is_empty() {
            for (p, state) in self.tracking.prefixes.iter_mut() {
                if key.starts_with(p) {
                    state.changed.insert(key.to_vec(), running.unwrap_or(0));
                }
            }
        }
        let Some(ids) = self.tracking.table.remove(key) else { return };
        self.tracking.items -= ids.len();
        for id in ids {
            let Some(t) = self.tracking_of(id) else { continue };
            if t.bcast || (t.noloop && running == Some(id)) {
                continue;
            }
            if running == Some(id) {
                self.tracking.pending.push(Some(key.to_vec()));
            } else {
                self.send_invalidation(id, &Invalidated::Key(key));
            }
        }
    }

    /// FLUSHDB / FLUSHALL: every tracking client gets the null
    /// invalidation and the table is emptied.
    pub(crate) fn invalidate_tracking_on_flush(&mut self) {
        if self.tracking.clients > 0 {
            let ids: Vec<u64> = self.clients.iter().filter(|(_, c)| c.tracking.is_some()).map(|(&id, _)| id).collect();
            for id in ids {
                if self.running == Some(id) {
                    self.tracking.pending.push(None);
                } else {
                    self.send_invalidation(id, &Invalidated::All);
                }
            }
        }
        self.tracking.table.clear();
        self.tracking.items = 0;
    }

    /// After a command of `cid` ran and replied: a `CLIENT CACHING` choice
    /// is used up (unless queued in MULTI, or CLIENT itself ran), then the
    /// invalidations are sent.
    pub(crate) fn after_tracked_command(&mut self, cid: u64, spec: &crate::commands::CommandSpec) {
        if let Some(cl) = self.clients.get_mut(&cid)
            && cl.multi.is_none()
            && spec.name != "client"
            && let Some(t) = cl.tracking.as_mut()
        {
            t.caching = false;
        }
        self.flush_tracking(cid);
    }

    /// After a command's reply: the invalidations of keys the running
    /// client changed itself, then the BCAST batches.
    pub(crate) fn flush_tracking(&mut self, cid: u64) {
        self.send_pending_invalidations(cid);
        self.broadcast_invalidations();
    }

    /// Sends the invalidations held for `cid`: after its reply, or before
    /// it when keys were evicted to make room for its command.
    pub(crate) fn send_pending_invalidations(&mut self, cid: u64) {
        if !self.tracking.pending.is_empty() {
            for key in core::mem::take(&mut self.tracking.pending) {
                match key {
                    Some(k) => self.send_invalidation(cid, &Invalidated::Key(&k)),
                    None => self.send_invalidation(cid, &Invalidated::All),
                }
            }
        }
    }

    /// Sends each BCAST prefix's changed keys to its clients (Redis does
    /// this before sleeping; the engine after each command).
    pub(crate) fn broadcast_invalidations(&mut self) {
        if self.tracking.prefixes.values().all(|s| s.changed.is_empty()) {
            return;
        }
        let mut batches = Vec::new();
        for state in self.tracking.prefixes.values_mut() {
            if !state.changed.is_empty() {
                batches.push((state.clients.clone(), core::mem::take(&mut state.changed)));
            }
        }
        for (clients, changed) in batches {
            for id in clients {
                let noloop = self.tracking_of(id).is_some_and(|t| t.noloop);
                let keys: Vec<&[u8]> =
                    changed.iter().filter(|(_, by)| !noloop || **by != id).map(|(k, _)| k.as_slice()).collect();
                if !keys.is_empty() {
                    self.send_invalidation(id, &Invalidated::Keys(&keys));
                }
            }
        }
    }

    /// Redis's `sendTrackingMessage`: to the client, or to its redirect
    /// target (a RESP2 one must be subscribed); a vanished target marks
    /// the redirect broken and tells a RESP3 client so.
    fn send_invalidation(&mut self, cid: u64, what: &Invalidated<'_>) {
        let Some(cl) = self.clients.get_mut(&cid) else { return };
        let Some(t) = cl.tracking.as_mut() else { return };
        let resp = cl.resp;
        let mut target = cid;
        if t.redirect != 0 {
            let redirect = t.redirect;
            if !self.clients.contains_key(&redirect) {
                if let Some(t) = self.clients.get_mut(&cid).and_then(|c| c.tracking.as_mut()) {
                    t.broken_redirect = true;
                }
                if resp > 2 {
                    self.push_to(cid, |out| {
                        out.push(2);
                        out.bulk(b"tracking-redir-broken");
                        out.int(redirect as i64);
                    });
                }
                return;
            }
            target = redirect;
        }
        let Some(to) = self.clients.get(&target) else { return };
        if to.resp > 2 {
            self.push_to(target, |out| {
                out.push(2);
                out.bulk(b"invalidate");
                write_keys(out, what);
            });
        } else if target != cid && to.sub_count() > 0 {
            self.push_to(target, |out| {
                out.array(3);
                out.bulk(b"message");
                out.bulk(INVALIDATE_CHANNEL);
                // The flush null in the receiving client's protocol: Redis
                // 7.0 writes the tracking client's, a RESP3 `_` on this RESP2
                // connection when the tracking client said HELLO 3, which
                // RESP2 parsers reject (found by the fuzzer's protocol check).
                write_keys(out, what);
            });
        }
    }

    /// Invalidates keys until the table is within `tracking-table-max-keys`
    /// (Redis's `trackingLimitUsedSlots`: an effort growing while it stays
    /// over).
    pub(crate) fn limit_tracking_table(&mut self) {
        let max = self.cfg.tracking_table_max_keys;
        if max == 0 || self.tracking.table.len() <= max {
            self.tracking.over_limit_rounds = 0;
            return;
        }
        let mut effort = 100 * (self.tracking.over_limit_rounds + 1);
        while effort > 0 {
            effort -= 1;
            let Some((key, _)) = self.tracking.table.random(&mut self.rng) else { break };
            let key = key.to_vec();
            self.invalidate_tracked_key(&key, false);
            if self.tracking.table.len() <= max {
                self.tracking.over_limit_rounds = 0;
                return;
            }
        }
        self.tracking.over_limit_rounds += 1;
    }
}
