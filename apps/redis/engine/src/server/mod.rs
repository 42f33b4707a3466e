//! The `Server`: owns databases, clients, pub/sub and blocked clients;
//! turns input bytes into executed commands and replies (sans-IO).
//! Command handlers live in `cmd::*`; this module holds the state and the
//! command dispatch, `io` the bytes in and out, `keyspace` the helpers
//! handlers share, `upkeep` the periodic `tick` and eviction.

mod io;
mod keyspace;
mod upkeep;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use foldhash::fast::FixedState;
use hashbrown::HashMap;

use crate::blocking::Blocking;
use crate::client::{Client, Multi};
use crate::commands::{self, CommandSpec, flags};
use crate::config::{Config, EvictionPolicy};
use crate::db::{Db, Found, ValueMut};
use crate::notify;
use crate::pubsub::PubSub;
use crate::resp::{Out, ParseLimits, Step};
use crate::types::Value;
use crate::util::Rng;
use crate::{ClientId, CommandObserver, Refused, Time};

/// Commands with subcommands: CLIENT LIST names them `client|list`.
const CONTAINER_COMMANDS: &[&str] = &["client", "command", "config", "object", "pubsub", "xgroup", "xinfo"];

/// Counters reported by INFO stats.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub connections_received: u64,
    pub commands_processed: u64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub error_replies: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    /// Clients closed by `client-query-buffer-limit` (not in Redis 7.0's
    /// INFO; kept for the embedding app).
    pub client_query_buffer_limit_disconnections: u64,
    /// Clients closed by an output buffer limit (likewise).
    pub client_output_buffer_limit_disconnections: u64,
    /// Clients disconnected by `maxmemory-clients` (INFO `evicted_clients`).
    pub evicted_clients: u64,
    /// Per-command and per-error counters (INFO commandstats, errorstats).
    pub calls: crate::introspect::CallStats,
    /// Highest memory in use seen at a tick or INFO (`used_memory_peak`).
    pub peak_memory: usize,
    /// CPU time, when the app reports it.
    pub cpu: Option<crate::introspect::CpuUsage>,
}

/// A write made inside EXEC, held until the transaction ends.
struct HeldWrite {
    db: usize,
    argv: Vec<Vec<u8>>,
    replicas_only: bool,
}

/// Execution context of one command.
pub struct Ctx {
    pub cid: u64,
    pub db: usize,
    pub argv: Vec<Vec<u8>>,
    pub out: Out,
    pub now: Time,
    /// Number of changes made (propagated to the observer when > 0).
    pub dirty: u64,
    /// Propagate even without changes (Redis's `forceCommandPropagation`).
    pub force_propagation: bool,
    /// What is propagated goes to replicas only, not to the log or the
    /// observer (PUBLISH: Redis's `PROPAGATE_REPL`).
    pub replicas_only: bool,
    /// Propagate these commands instead of `argv` (e.g. relative -> absolute TTL).
    pub rewrite: Option<Vec<Vec<Vec<u8>>>>,
    /// Running inside EXEC: blocking commands must not block.
    pub in_exec: bool,
    /// Whether handlers may move argument bytes out of `argv`.
    pub keep_argv: bool,
    /// Arguments (below the 64th) a handler moved out of `argv`.
    pub moved: u64,
    pub spec: &'static CommandSpec,
}

impl Ctx {
    /// Argument `i`, moved out when nobody needs `argv` afterwards.
    pub fn take_arg(&mut self, i: usize) -> Vec<u8> {
        match self.argv.get_mut(i) {
            Some(a) if self.keep_argv => a.clone(),
            Some(a) => {
                self.moved |= 1u64.checked_shl(i as u32).unwrap_or(0);
                core::mem::take(a)
            }
            None => Vec::new(),
        }
    }
    pub fn arg(&self, i: usize) -> &[u8] {
        self.argv.get(i).map(|v| v.as_slice()).unwrap_or(&[])
    }
    pub fn argc(&self) -> usize {
        self.argv.len()
    }
    pub fn wrongtype(&mut self) {
        self.out.err("WRONGTYPE Operation against a key holding the wrong kind of value");
    }
    pub fn syntax_error(&mut self) {
        self.out.err("ERR syntax error");
    }
    pub fn not_integer(&mut self) {
        self.out.err("ERR value is not an integer or out of range");
    }
    pub fn not_float(&mut self) {
        self.out.err("ERR value is not a valid float");
    }
    /// Replies [`OOM_ERROR`]: a growth the memory check refused.
    pub fn oom(&mut self) {
        self.out.error(OOM_ERROR);
    }
    /// Propagate `cmds` instead of the original command.
    pub fn propagate_as(&mut self, cmds: Vec<Vec<Vec<u8>>>) {
        self.rewrite = Some(cmds);
    }
}

/// The whole engine state.
pub struct Server {
    pub(crate) cfg: Config,
    pub(crate) dbs: Vec<Db>,
    pub(crate) clients: HashMap<u64, Client, FixedState>,
    next_client_id: u64,
    pub(crate) rng: Rng,
    pub(crate) now: Time,
    pub(crate) started: Time,
    pub(crate) stats: Stats,
    pub(crate) pubsub: PubSub,
    /// Client-side caching state (see [`crate::tracking`]).
    pub(crate) tracking: crate::tracking::Tracking,
    pub(crate) blocking: Blocking,
    /// Clients with pending output or a pending close.
    dirty: Vec<u64>,
    observer: Option<Box<dyn CommandObserver>>,
    /// Outgoing connections (MIGRATE), when the app provides them.
    pub(crate) outbound: Option<Box<dyn crate::Outbound>>,
    /// MIGRATE's cached connections.
    pub(crate) migrate_sockets: crate::cmd::migrate::SocketCache,
    /// The data disk and what is being saved to it (see [`crate::persist`]).
    pub(crate) persist: Option<crate::persist::Persistence>,
    /// Connections receiving the replication stream (see [`crate::replica`]).
    pub(crate) replicas: Vec<crate::replica::Replica>,
    pub(crate) shutdown: bool,
    command_index: HashMap<Vec<u8>, usize, FixedState>,
    /// Clients whose buffered input should be processed (e.g. unblocked).
    pub(crate) resume: Vec<u64>,
    expire_db_cursor: usize,
    evict_db_cursor: usize,
    /// WATCHed keys: per database, key -> watching clients.
    pub(crate) watched: Vec<crate::bytemap::ByteMap<Vec<u64>>>,
    pub(crate) dirty_since_save: u64,
    /// Set during `replay` so expiry/eviction deletions are not re-propagated.
    replaying: bool,
    /// During EXEC: whether MULTI was already reported to the observer.
    exec_propagation: Option<Vec<HeldWrite>>,
    /// Sum of every client's last counted memory (`Client::mem`).
    clients_mem: usize,
    /// The part of `clients_mem` held by clients closing (`close_now`),
    /// freed as soon as the app disconnects them.
    pub(crate) closing_mem: usize,
    /// Evictable clients by memory size class (log2), like Redis's client
    /// memory usage buckets: eviction takes from the top without a scan.
    mem_buckets: Vec<Vec<u64>>,
    /// Per-client limits derived from `cfg` (see [`Server::set_config`]).
    caps: ClientCaps,
    /// Clients in MONITOR mode.
    pub(crate) monitors: Vec<u64>,
    /// CLIENT PAUSE in effect, and the clients it holds back.
    pub(crate) pause: Option<crate::introspect::Pause>,
    pub(crate) postponed: Vec<u64>,
    /// The client whose command is running (its output is lent to the
    /// command), and the pushes for it held meanwhile (see
    /// [`push_to`](Self::push_to)).
    pub(crate) running: Option<u64>,
    pub(crate) running_push: Vec<u8>,
    /// The running RDB snapshot, if any (see [`crate::rdb::write`]).
    pub(crate) snapshot: Option<Box<crate::rdb::write::Job>>,
    /// The clock commands are timed with, the slow log and the latency
    /// monitor (see [`crate::latency`]).
    pub(crate) watch: crate::latency::Watch,
}

/// Client limits derived from the configuration once, not per command.
#[derive(Debug, Clone, Copy)]
struct ClientCaps {
    /// Output cap of a normal / pub/sub client (`usize::MAX`: none): its
    /// class's hard limit, and at most `maxmemory-clients`.
    normal_out: usize,
    pubsub_out: usize,
    /// `Config::client_eviction_limit` (0: none).
    evict: usize,
}

impl ClientCaps {
    fn of(cfg: &Config) -> ClientCaps {
        let evict = cfg.client_eviction_limit();
        let cap = |hard: usize| {
            let hard = if hard == 0 { usize::MAX } else { hard };
            if evict == 0 { hard } else { hard.min(evict) }
        };
        ClientCaps {
            normal_out: cap(cfg.output_limit_normal.hard),
            pubsub_out: cap(cfg.output_limit_pubsub.hard),
            evict,
        }
    }
}

/// Fixed bytes counted for every client: its state and its map slot.
const CLIENT_FIXED_MEMORY: usize = core::mem::size_of::<(u64, Client)>() + 64;
/// Client memory size classes: below 2^15 bytes, each power of two, and
/// 2^33 and above (Redis's CLIENT_MEM_USAGE_BUCKET_MIN/MAX_LOG).
const MEM_BUCKET_MIN_LOG: u32 = 15;
const MEM_BUCKET_MAX_LOG: u32 = 33;

fn mem_bucket(mem: usize) -> u8 {
    let bits = usize::BITS - mem.leading_zeros();
    (bits.clamp(MEM_BUCKET_MIN_LOG, MEM_BUCKET_MAX_LOG) - MEM_BUCKET_MIN_LOG) as u8
}

/// Input buffer capacity kept once a client's buffered input is consumed.
const INBUF_KEEP: usize = 16 * 1024;

/// Fixed bytes counted as used by an empty server (like Redis's baseline).
const BASE_MEMORY: usize = 64 * 1024;

/// The reply to a write refused because of `maxmemory` or its hard ceiling
/// (or because the allocator could not grow the keyspace).
pub(crate) const OOM_ERROR: &[u8] = b"OOM command not allowed when used memory > 'maxmemory'.";

/// Redis 7.0's reply to a non-loopback connection in protected mode.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected \
mode is enabled and no password is set for the default user. \
In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you \
may adopt one of the following solutions: \
1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is \
running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this \
change permanent. \
2) Alternatively you can just disable the protected mode by \
editing the Redis configuration file, and setting the protected \
mode option to 'no', and then restarting the server. \
3) If you started the server manually just for testing, restart \
it with the '--protected-mode no' option. \
4) Setup a an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for \
the server to start accepting connections from the outside.\r\n";

/// Whether a peer address (`IP:PORT`, `[IPv6]:PORT` or a bare IP) is a
/// loopback address: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. Anything
/// unparsable is not.
fn is_loopback_peer(peer: &str) -> bool {
    let host = if let Some(rest) = peer.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else if peer.matches(':').count() == 1 {
        peer.split(':').next().unwrap_or("")
    } else {
        peer // a bare IPv6 address (or garbage)
    };
    match host.parse::<core::net::IpAddr>() {
        Ok(core::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(core::net::IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => false,
    }
}

/// Id of the internal client used by `Server::replay`.
const REPLAY_CLIENT: u64 = 0;

impl Server {
    /// A server with `config`; its memory ceilings are applied first
    /// ([`Config::apply_ceilings`]).
    pub fn new(mut config: Config, seed: u64) -> Server {
        config.apply_ceilings();
        let mut rng = Rng::new(seed);
        let dbs = (0..config.databases.max(1)).map(|_| Db::new(rng.next_u64())).collect();
        let mut command_index = HashMap::with_hasher(FixedState::with_seed(rng.next_u64()));
        for (i, c) in commands::TABLE.iter().enumerate() {
            command_index.insert(c.name.as_bytes().to_vec(), i);
        }
        let databases = config.databases.max(1);
        Server {
            dbs,
            clients: HashMap::with_hasher(FixedState::with_seed(rng.next_u64())),
            next_client_id: 1,
            now: Time::default(),
            started: Time::default(),
            stats: Stats::default(),
            pubsub: PubSub::new(rng.next_u64()),
            tracking: crate::tracking::Tracking::new(rng.next_u64()),
            blocking: Blocking::new(databases, rng.next_u64()),
            dirty: Vec::new(),
            observer: None,
            outbound: None,
            migrate_sockets: Default::default(),
            persist: None,
            replicas: Vec::new(),
            shutdown: false,
            command_index,
            resume: Vec::new(),
            expire_db_cursor: 0,
            evict_db_cursor: 0,
            watched: (0..databases).map(|_| crate::bytemap::ByteMap::new(rng.next_u64())).collect(),
            dirty_since_save: 0,
            replaying: false,
            exec_propagation: None,
            clients_mem: 0,
            closing_mem: 0,
            mem_buckets: (MEM_BUCKET_MIN_LOG..=MEM_BUCKET_MAX_LOG).map(|_| Vec::new()).collect(),
            caps: ClientCaps::of(&config),
            monitors: Vec::new(),
            pause: None,
            postponed: Vec::new(),
            running: None,
            running_push: Vec::new(),
            snapshot: None,
            watch: Default::default(),
            cfg: config,
            rng,
        }
    }

    /// Whether commands are being replayed from the log (Redis's
    /// `mustObeyClient`: XADD/XTRIM apply no LIMIT of their own).
    pub(crate) fn is_replaying(&self) -> bool {
        self.replaying
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The time TTLs are compared with: now, except while replaying the
    /// log, when nothing expires (as in Redis while loading: a key the log
    /// wrote with a TTL since passed must still be there for the commands
    /// after it, which ran while it was alive; it expires once loaded).
    pub(crate) fn expiry_now(&self) -> u64 {
        if self.replaying { 0 } else { self.now.unix_ms }
    }

    /// Keys in database `db` (expired ones not yet removed included).
    pub fn db_size(&self, db: usize) -> usize {
        self.dbs.get(db).map_or(0, |d| d.len())
    }

    /// Replaces the configuration (CONFIG SET), refreshing what is derived
    /// from it.
    pub(crate) fn set_config(&mut self, cfg: Config) {
        self.cfg = cfg;
        self.caps = ClientCaps::of(&self.cfg);
    }

    /// The counters INFO reports (and a few more).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Installs the hook that receives every executed write command.
    pub fn set_observer(&mut self, observer: Box<dyn CommandObserver>) {
        self.observer = Some(observer);
    }

    /// Installs the app's outgoing connections (for MIGRATE).
    pub fn set_outbound(&mut self, outbound: Box<dyn crate::Outbound>) {
        self.outbound = Some(outbound);
    }

    pub fn take_observer(&mut self) -> Option<Box<dyn CommandObserver>> {
        self.observer.take()
    }

    pub(crate) fn set_now(&mut self, now: Time) {
        if self.started == Time::default() {
            self.started = now;
        }
        self.now = now;
    }

    /// LRU clock in seconds.
    pub(crate) fn lru_clock(&self) -> u32 {
        (self.now.mono_ms / 1000) as u32
    }

    /// The `lru` field of a key created now: the LRU clock, or under an
    /// LFU policy a new access counter (see [`crate::lfu`]).
    pub(crate) fn new_key_lru(&self) -> u32 {
        if self.cfg.maxmemory_policy.is_lfu() {
            crate::lfu::field(crate::lfu::minutes(self.now.mono_ms), crate::lfu::INIT)
        } else {
            self.lru_clock()
        }
    }

    /// Notes an access to the key in `slot` of `db`: its last access time,
    /// or under an LFU policy its access counter.
    #[inline]
    pub(crate) fn touch_key(&mut self, db: usize, slot: u32) {
        let value = if self.cfg.maxmemory_policy.is_lfu() {
            let Some((_, e)) = self.dbs.get(db).and_then(|d| d.entry_at(slot)) else { return };
            let r = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let st = &self.cfg.stats;
            crate::lfu::accessed(e.lru, crate::lfu::minutes(self.now.mono_ms), st.lfu_decay_time, st.lfu_log_factor, r)
        } else {
            self.lru_clock()
        };
        if let Some(d) = self.dbs.get_mut(db) {
            d.touch_lru(slot, value);
        }
    }

    /// The access counter of a key's `lru` field, decayed to now (OBJECT
    /// FREQ, LFU eviction).
    pub(crate) fn lfu_count(&self, lru: u32) -> u32 {
        crate::lfu::decayed(lru, crate::lfu::minutes(self.now.mono_ms), self.cfg.stats.lfu_decay_time)
    }

    pub(crate) fn new_seed(&mut self) -> u64 {
        self.rng.next_u64()
    }

    // ----- connections -------------------------------------------------

    /// Accepts a new connection from `peer` (`IP:PORT`, or `[IPv6]:PORT`),
    /// or refuses it (send `Refused::reply` and close) when `maxclients` is
    /// reached or, in protected mode without a password, when the peer is
    /// not a loopback address (like Redis 7.0).
    pub fn connect(&mut self, peer: &str, now: Time) -> Result<ClientId, Refused> {
        self.set_now(now);
        if self.client_count() >= self.cfg.maxclients {
            self.stats.rejected_connections += 1;
            return Err(Refused { reply: b"-ERR max number of clients reached\r\n".to_vec() });
        }
        if self.cfg.protected_mode && self.cfg.requirepass.is_none() && !is_loopback_peer(peer) {
            self.stats.rejected_connections += 1;
            return Err(Refused { reply: PROTECTED_MODE_DENIED.to_vec() });
        }
        let id = self.next_client_id;
        self.next_client_id += 1;
        self.stats.connections_received += 1;
        let seed = self.rng.next_u64();
        let mut c = Client::new(id, String::from(peer), now.mono_ms, seed);
        c.authenticated = self.cfg.requirepass.is_none();
        self.clients.insert(id, c);
        self.update_client_mem(id);
        self.evict_clients_if_needed();
        Ok(ClientId(id))
    }

    /// Number of connected (non-internal) clients.
    pub fn client_count(&self) -> usize {
        self.clients.len() - usize::from(self.clients.contains_key(&REPLAY_CLIENT))
    }

    /// Forgets a connection (after the app closed its socket).
    pub fn disconnect(&mut self, id: ClientId) {
        let cid = id.0;
        self.disable_tracking(cid);
        let Some(mut c) = self.clients.remove(&cid) else { return };
        if c.monitor {
            self.monitors.retain(|&m| m != cid);
        }
        self.remove_replica(cid);
        self.clients_mem -= c.mem;
        if c.mem_closing {
            self.closing_mem -= c.mem;
        }
        self.remove_from_mem_bucket(c.mem_bucket.take());
        if let Some(b) = c.blocked.take() {
            self.blocking.remove(cid, &b);
        }
        for (db, key) in core::mem::take(&mut c.watched) {
            self.unwatch_key(cid, db, &key);
        }
        for ch in c.subs.keys() {
            self.pubsub.unsubscribe(ch, cid);
        }
        for p in c.psubs.keys() {
            self.pubsub.punsubscribe(p, cid);
        }
        for ch in c.ssubs.keys() {
            self.pubsub.sunsubscribe(ch, cid);
        }
        if let Some(pos) = c.dirty_pos {
            self.remove_dirty_at(pos);
        }
    }

    // ----- command dispatch -------------------------------------------

    pub(crate) fn lookup_command(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > 32 {
            return None;
        }
        let lower = name.to_ascii_lowercase();
        self.command_index.get(&lower).and_then(|&i| commands::TABLE.get(i))
    }

    pub(crate) fn process_command(&mut self, cid: u64, argv: Vec<Vec<u8>>) {
        let Some(first) = argv.first() else { return };
        let spec = self.lookup_command(first);
        let has_pass = self.cfg.requirepass.is_some();
        let disk_denial = self.persistence_denies_writes();
        if self.tracking.clients > 0 {
            self.limit_tracking_table();
        }
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let mut out = Self::client_out(self.caps, c);
        let reply_start = out.buf.len();
        self.running = Some(cid);
        let in_multi = c.multi.is_some();
        let db = c.db;
        let mut reject: Option<Vec<u8>> = None;
        match spec {
            None => {
                let mut msg = b"ERR unknown command '".to_vec();
                msg.extend_from_slice(&first[..first.len().min(128)]);
                msg.extend_from_slice(b"', with args beginning with: ");
                let mut args_len = 0usize;
                for a in argv.iter().skip(1) {
                    if args_len >= 128 {
                        break;
                    }
                    let take = a.len().min(128 - args_len);
                    msg.push(b'\'');
                    msg.extend_from_slice(&a[..take]);
                    msg.extend_from_slice(b"' ");
                    args_len += take + 3;
                }
                reject = Some(msg);
            }
            Some(spec) => {
                let argc = argv.len() as i64;
                let arity = i64::from(spec.arity);
                if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
                    reject =
                        Some(alloc::format!("ERR wrong number of arguments for '{}' command", spec.name).into_bytes());
                } else if has_pass && !c.authenticated && spec.flags & flags::NO_AUTH == 0 {
                    reject = Some(b"NOAUTH Authentication required.".to_vec());
                } else if in_multi && spec.flags & flags::NO_MULTI != 0 {
                    reject = Some(b"ERR Command not allowed inside a transaction".to_vec());
                } else if c.in_resp2_pubsub() && spec.flags & flags::PUBSUB_CONTEXT == 0 {
                    reject = Some(
                        alloc::format!(
                            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                            spec.name
                        )
                        .into_bytes(),
                    );
                } else if c.monitor && crate::introspect::touches_keyspace(spec) {
                    // Redis treats MONITOR clients as replicas.
                    reject = Some(b"ERR Replica can't interact with the keyspace".to_vec());
                } else if (spec.flags & flags::WRITE != 0 || spec.name == "ping")
                    && cid != REPLAY_CLIENT
                    && let Some(err) = disk_denial
                {
                    reject = Some(err);
                }
            }
        }
        if reject.is_none()
            && let Some(spec) = spec
            && self.must_postpone(cid, spec)
        {
            self.restore_out(cid, out);
            self.postpone(cid, argv);
            return;
        }
        if reject.is_none()
            && let Some(spec) = spec
        {
            // Keyspace room for new keys is made right before a command
            // runs, not when MULTI queues it (EXEC does it per command).
            let runs_now = !in_multi || spec.flags & flags::NOT_QUEUED != 0;
            if !self.make_room(db, spec, &argv, runs_now) {
                reject = Some(OOM_ERROR.to_vec());
            }
            // Evicted keys are invalidated before the reply (as Redis does).
            self.send_pending_invalidations(cid);
        }
        self.stats.commands_processed += 1;
        if let Some(msg) = reject {
            out.error(&msg);
            if let Some(spec) = spec {
                self.count_rejected(spec, &argv);
            }
            if let Some(m) = self.clients.get_mut(&cid).and_then(|c| c.multi.as_mut()) {
                m.failed = true;
            }
            self.finish_reply(cid, out, reply_start);
            self.after_command(cid);
            return;
        }
        let Some(spec) = spec else { return };
        if in_multi && spec.flags & flags::NOT_QUEUED == 0 {
            out.simple(b"QUEUED");
            let queued = self.clients.get_mut(&cid).and_then(|c| c.multi.as_mut()).is_none_or(|m| m.queue(argv));
            self.finish_reply(cid, out, reply_start);
            if !queued {
                self.close_client_now(cid); // out of memory for the transaction
            }
            self.after_command(cid);
            return;
        }
        if let Some(c) = self.clients.get_mut(&cid) {
            c.last_cmd = spec.name;
            c.last_sub.clear();
            if CONTAINER_COMMANDS.contains(&spec.name)
                && let Some(sub) = argv.get(1)
                && sub.len() <= 32
            {
                c.last_sub.extend(sub.iter().map(u8::to_ascii_lowercase));
            }
        }
        let out = self.call(cid, spec, argv, out, false);
        self.finish_reply(cid, out, reply_start);
        if self.tracking.active() {
            self.after_tracked_command(cid, spec);
        }
        self.serve_ready_keys();
        self.after_command(cid);
    }

    /// Gives a command's output back to its client: its reply (from
    /// `reply_start`) is dropped under `CLIENT REPLY OFF|SKIP`, the pushes
    /// held for the client meanwhile go in front of it, and a pending SKIP
    /// moves on to the next command (once a blocked command has replied,
    /// for one that blocked).
    fn finish_reply(&mut self, cid: u64, mut out: Out, reply_start: usize) {
        self.running = None;
        if let Some(c) = self.clients.get_mut(&cid) {
            if c.reply_off || c.reply_skip {
                out.buf.truncate(reply_start);
            }
            if c.blocked.is_none() {
                c.reply_skip = core::mem::take(&mut c.reply_skip_next);
            }
        }
        Self::put_pushes(&mut self.running_push, &mut out, reply_start);
        self.restore_out(cid, out);
    }

    /// Moves the pushes held for the running client into `out` at `at`.
    fn put_pushes(pushes: &mut Vec<u8>, out: &mut Out, at: usize) {
        if !pushes.is_empty() {
            let at = at.min(out.buf.len());
            out.buf.splice(at..at, core::mem::take(pushes));
        }
    }

    /// Executes one command and propagates it when it wrote something.
    pub(crate) fn call(
        &mut self,
        cid: u64,
        spec: &'static CommandSpec,
        argv: Vec<Vec<u8>>,
        out: Out,
        in_exec: bool,
    ) -> Out {
        let db = self.clients.get(&cid).map(|c| c.db).unwrap_or(0);
        // Handlers may move arguments out, unless something reads them
        // afterwards: propagation, a slow log that takes every command, or
        // tracking (the key names after a read-only command ran).
        let keep_argv =
            self.propagation_wanted() || self.cfg.stats.slowlog_log_slower_than == 0 || self.tracking.clients > 0;
        // MONITOR shows the command as sent (handlers may take arguments).
        let monitor_line = (self.monitored() && spec.flags & flags::ADMIN == 0 && cid != REPLAY_CLIENT)
            .then(|| crate::introspect::monitor_args(spec.name, &argv));
        let slot = crate::introspect::stat_slot(spec, &argv);
        let start = out.buf.len();
        let mut ctx = Ctx {
            cid,
            db,
            argv,
            out,
            now: self.now,
            dirty: 0,
            force_propagation: false,
            replicas_only: false,
            rewrite: None,
            in_exec,
            keep_argv,
            moved: 0,
            spec,
        };
        let started = self.now_us();
        (spec.handler)(self, &mut ctx);
        let duration_us = self.now_us().saturating_sub(started);
        if self.tracking.clients > 0 && spec.flags & flags::READONLY != 0 {
            self.remember_tracked_keys(cid, spec, &ctx.argv);
        }
        if in_exec {
            // Inside EXEC: pushes go before this command's reply, within
            // the EXEC reply, where Redis 7.0 writes them.
            Self::put_pushes(&mut self.running_push, &mut ctx.out, start);
        }
        let errors = self.count_errors(&mut ctx.out);
        self.count_call(slot, errors);
        self.record_call(cid, spec, &ctx.argv, ctx.moved, slot, duration_us);
        if let Some(line) = monitor_line {
            self.feed_monitors(cid, &line, &mut ctx.out);
        }
        if ctx.dirty > 0 || ctx.force_propagation {
            self.dirty_since_save += ctx.dirty;
            if spec.flags & flags::WRITE != 0 || ctx.rewrite.is_some() || ctx.replicas_only {
                let replicas_only = ctx.replicas_only;
                match ctx.rewrite.take() {
                    Some(cmds) => {
                        for cmd in cmds {
                            self.propagate_to(db, &cmd, replicas_only);
                        }
                    }
                    None => {
                        let argv = core::mem::take(&mut ctx.argv);
                        self.propagate_to(db, &argv, replicas_only);
                    }
                }
            }
        }
        ctx.out
    }

    /// Reports a write to the observer, persistence and replicas; during
    /// EXEC it is held until the transaction ends.
    pub(crate) fn propagate(&mut self, db: usize, argv: &[Vec<u8>]) {
        self.propagate_to(db, argv, false);
    }

    /// [`Self::propagate`], or to the replicas alone when `replicas_only`.
    fn propagate_to(&mut self, db: usize, argv: &[Vec<u8>], replicas_only: bool) {
        if self.replaying || !self.propagation_wanted() || (replicas_only && self.replicas.is_empty()) {
            return;
        }
        if let Some(held) = self.exec_propagation.as_mut() {
            held.push(HeldWrite { db, argv: argv.to_vec(), replicas_only });
            return;
        }
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        self.emit_write(db, &refs, replicas_only);
    }

    /// Whether anything takes propagated writes (the observer, a data disk,
    /// replicas): without, commands need not keep their arguments and
    /// nothing is propagated.
    fn propagation_wanted(&self) -> bool {
        self.observer.is_some() || self.persist.is_some() || !self.replicas.is_empty()
    }

    fn emit_write(&mut self, db: usize, argv: &[&[u8]], replicas_only: bool) {
        if !replicas_only {
            if let Some(obs) = self.observer.as_mut() {
                obs.on_write(db, argv);
            }
            let writer = self.running;
            self.persist_write(db, argv, writer);
        }
        self.feed_replicas(db, argv);
    }

    /// EXEC starts: the writes it makes are held.
    pub(crate) fn begin_exec_propagation(&mut self) {
        self.exec_propagation = Some(Vec::new());
    }

    /// EXEC ends: its writes go out, in MULTI/EXEC when there are several
    /// (as Redis 7.0 propagates a transaction; one write goes alone). The
    /// log and the replicas each count what they receive: a PUBLISH reaches
    /// only the replicas.
    pub(crate) fn end_exec_propagation(&mut self, db: usize) {
        let Some(held) = self.exec_propagation.take() else { return };
        let Some(first) = held.first() else { return };
        let wrap_replicas = held.len() > 1;
        let wrap_log = held.iter().filter(|w| !w.replicas_only).count() > 1;
        let wrap = |s: &mut Self, db: usize, word: &[u8]| match (wrap_log, wrap_replicas) {
            (true, _) => s.emit_write(db, &[word], false),
            (false, true) => s.emit_write(db, &[word], true),
            (false, false) => {}
        };
        wrap(self, first.db, b"MULTI");
        for w in &held {
            let refs: Vec<&[u8]> = w.argv.iter().map(|a| a.as_slice()).collect();
            self.emit_write(w.db, &refs, w.replicas_only);
        }
        wrap(self, db, b"EXEC");
    }

    /// Post-command bookkeeping.
    fn after_command(&mut self, cid: u64) {
        self.settle_client(cid);
    }

    /// Bookkeeping once a client's output or buffers changed (a command
    /// ran, a message was written to it): the output buffer limits (hard:
    /// now; soft: after some seconds), the list of clients with output, its
    /// memory in the total, and client eviction. One map lookup in the
    /// common case.
    pub(crate) fn settle_client(&mut self, cid: u64) {
        let now = self.now.mono_ms;
        let fixed = CLIENT_FIXED_MEMORY + self.cfg.client_overhead;
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.hidden {
            return;
        }
        let limit = if c.sub_count() > 0 { &self.cfg.output_limit_pubsub } else { &self.cfg.output_limit_normal };
        let pending = c.pending_output();
        let mut close = limit.hard > 0 && pending > limit.hard;
        if limit.soft > 0 && pending > limit.soft {
            let since = *c.soft_since.get_or_insert(now);
            if now.saturating_sub(since) >= limit.soft_seconds.saturating_mul(1000) {
                close = true;
            }
        } else {
            c.soft_since = None;
        }
        if close {
            self.stats.client_output_buffer_limit_disconnections += 1;
            self.close_client_now(cid);
        } else {
            if (pending > 0 || c.should_close()) && c.dirty_pos.is_none() {
                c.dirty_pos = Some(self.dirty.len());
                self.dirty.push(cid);
            }
            if fixed + c.buffers_memory() != c.mem || c.close_now != c.mem_closing {
                self.update_client_mem(cid);
            }
        }
        self.evict_clients_if_needed();
    }

    // ----- persistence hooks -------------------------------------------

    /// Executes a command without a connection (e.g. replaying an AOF);
    /// returns the reply bytes. Writes are not reported to the observer.
    pub fn replay(&mut self, db: usize, argv: &[&[u8]], now: Time) -> Vec<u8> {
        self.set_now(now);
        if !self.clients.contains_key(&REPLAY_CLIENT) {
            let mut c = Client::new(REPLAY_CLIENT, String::from("internal"), now.mono_ms, 0);
            c.hidden = true;
            self.clients.insert(REPLAY_CLIENT, c);
        }
        if let Some(c) = self.clients.get_mut(&REPLAY_CLIENT) {
            c.authenticated = true;
            c.db = db.min(self.dbs.len().saturating_sub(1));
            c.out.clear();
            c.out_pos = 0;
        }
        self.replaying = true;
        self.process_command(REPLAY_CLIENT, argv.iter().map(|a| a.to_vec()).collect());
        self.replaying = false;
        let out = self.clients.get_mut(&REPLAY_CLIENT).map(|c| core::mem::take(&mut c.out)).unwrap_or_default();
        self.run_resumed();
        out
    }
}
