//! The `Server`: owns databases, clients, pub/sub and blocked clients;
//! turns input bytes into executed commands and replies (sans-IO).
//! Command handlers live in `cmd::*`; this module holds the request
//! pipeline, the shared keyspace helpers and the periodic `tick`.

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
const CONTAINER_COMMANDS: &[&str] = &["client", "command", "config", "object", "pubsub"];

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

/// Execution context of one command.
pub struct Ctx {
    pub cid: u64,
    pub db: usize,
    pub argv: Vec<Vec<u8>>,
    pub out: Out,
    pub now: Time,
    /// Number of changes made (propagated to the observer when > 0).
    pub dirty: u64,
    /// Propagate these commands instead of `argv` (e.g. relative -> absolute TTL).
    pub rewrite: Option<Vec<Vec<Vec<u8>>>>,
    /// Running inside EXEC: blocking commands must not block.
    pub in_exec: bool,
    /// Whether handlers may move argument bytes out of `argv`.
    pub keep_argv: bool,
    pub spec: &'static CommandSpec,
}

impl Ctx {
    /// Argument `i`, moved out when nobody needs `argv` afterwards.
    pub fn take_arg(&mut self, i: usize) -> Vec<u8> {
        match self.argv.get_mut(i) {
            Some(a) if self.keep_argv => a.clone(),
            Some(a) => core::mem::take(a),
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
    pub(crate) blocking: Blocking,
    /// Clients with pending output or a pending close.
    dirty: Vec<u64>,
    observer: Option<Box<dyn CommandObserver>>,
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
    exec_propagation: Option<bool>,
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

/// The reply to a write refused because of `maxmemory` (or because the
/// allocator could not grow the keyspace).
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
            blocking: Blocking::new(databases, rng.next_u64()),
            dirty: Vec::new(),
            observer: None,
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
            cfg: config,
            rng,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
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

    pub fn take_observer(&mut self) -> Option<Box<dyn CommandObserver>> {
        self.observer.take()
    }

    fn set_now(&mut self, now: Time) {
        if self.started == Time::default() {
            self.started = now;
        }
        self.now = now;
    }

    /// LRU clock in seconds.
    pub(crate) fn lru_clock(&self) -> u32 {
        (self.now.mono_ms / 1000) as u32
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
        let Some(mut c) = self.clients.remove(&cid) else { return };
        if c.monitor {
            self.monitors.retain(|&m| m != cid);
        }
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
        if let Some(pos) = c.dirty_pos {
            self.remove_dirty_at(pos);
        }
    }

    // ----- input --------------------------------------------------------

    /// Appends bytes read from the socket and runs every complete command.
    pub fn feed(&mut self, id: ClientId, input: &[u8], now: Time) {
        self.set_now(now);
        let cid = id.0;
        let pause = self.cfg.output_pause_threshold;
        let Some(c) = self.clients.get_mut(&cid) else { return };
        self.stats.net_input_bytes += input.len() as u64;
        if c.should_close() {
            return; // input after QUIT / errors is ignored
        }
        c.last_ms = now.mono_ms;
        if c.pending_input() == 0 && c.can_process(pause) {
            // Fast path: parse straight from the socket bytes.
            c.inbuf.clear();
            c.inpos = 0;
            let used = self.process_bytes(cid, input, false);
            let rest = input.get(used..).unwrap_or(&[]);
            if !rest.is_empty() {
                self.buffer_input(cid, rest);
            }
        } else if self.buffer_input(cid, input) {
            self.process_input(cid);
        }
        self.check_query_limit(cid);
        self.update_client_mem(cid);
        self.evict_clients_if_needed();
        self.run_resumed();
    }

    /// What counts against `client-query-buffer-limit`: unparsed input plus
    /// everything held for the request being assembled.
    fn query_bytes(c: &Client) -> usize {
        c.pending_input() + c.parser.pending_bytes()
    }

    /// Appends unparsed bytes to the client's input buffer. When that would
    /// take it past `client-query-buffer-limit`, or the allocator refuses
    /// the room, the client is closed instead (false).
    fn buffer_input(&mut self, cid: u64, bytes: &[u8]) -> bool {
        let limit = self.cfg.client_query_buffer_limit;
        let Some(c) = self.clients.get_mut(&cid) else { return false };
        if c.should_close() {
            return false;
        }
        if Self::query_bytes(c).saturating_add(bytes.len()) > limit || c.inbuf.try_reserve(bytes.len()).is_err() {
            self.close_for_query_limit(cid);
            return false;
        }
        c.inbuf.extend_from_slice(bytes);
        true
    }

    fn check_query_limit(&mut self, cid: u64) {
        let limit = self.cfg.client_query_buffer_limit;
        if self.clients.get(&cid).is_some_and(|c| !c.close_now && Self::query_bytes(c) > limit) {
            self.close_for_query_limit(cid);
        }
    }

    /// Redis's "Closing client that reached max query buffer length": the
    /// client is closed without a reply.
    fn close_for_query_limit(&mut self, cid: u64) {
        self.stats.client_query_buffer_limit_disconnections += 1;
        self.close_client_now(cid);
    }

    /// Closes a client at once (output dropped, like Redis's
    /// `freeClientAsync`): releases its buffers, its partial request and its
    /// queued transaction, and stops it waiting on keys so it cannot take
    /// data it will never deliver. The app closes the socket and then calls
    /// [`disconnect`](Self::disconnect).
    pub(crate) fn close_client_now(&mut self, cid: u64) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        c.close_now = true;
        c.inbuf = Vec::new();
        c.inpos = 0;
        c.parser.reset();
        c.out = Vec::new();
        c.out_pos = 0;
        c.multi = None;
        if let Some(b) = c.blocked.take() {
            self.blocking.remove(cid, &b);
        }
        self.mark_dirty(cid);
        self.update_client_mem(cid);
    }

    /// Runs buffered input of `cid` as far as possible.
    fn process_input(&mut self, cid: u64) {
        self.run_postponed(cid);
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let buf = core::mem::take(&mut c.inbuf);
        // While the buffer is out, the client has no pending input (CLIENT
        // INFO may look at it): inpos must not point past the empty inbuf.
        let start = core::mem::take(&mut c.inpos);
        let used = self.process_bytes(cid, buf.get(start..).unwrap_or(&[]), true);
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.should_close() {
            c.inbuf = Vec::new();
            c.inpos = 0;
        } else {
            c.inbuf = buf;
            c.inpos = start + used;
            Self::compact_input(c);
        }
        self.update_client_mem(cid);
    }

    /// Drops consumed input: all of it once everything is consumed (and
    /// the buffer's memory after a burst), else the consumed prefix when it
    /// is more than half (amortized O(1) per byte).
    fn compact_input(c: &mut Client) {
        if c.inpos >= c.inbuf.len() {
            c.inbuf.clear();
            c.inpos = 0;
            if c.inbuf.capacity() > INBUF_KEEP {
                c.inbuf = Vec::new(); // a burst is over: give its memory back
            }
        } else if c.inpos > c.inbuf.len() / 2 {
            c.inbuf.drain(..c.inpos);
            c.inpos = 0;
        }
    }

    /// Parses and executes commands from `data` (the client's own input
    /// buffer when `buffered`, else the caller's bytes); returns bytes
    /// consumed.
    fn process_bytes(&mut self, cid: u64, data: &[u8], buffered: bool) -> usize {
        if let Some(c) = self.clients.get_mut(&cid) {
            c.qbuf_batch = data.len();
        }
        let used = self.process_batch(cid, data, buffered);
        if let Some(c) = self.clients.get_mut(&cid) {
            c.qbuf_batch = 0;
        }
        used
    }

    /// [`process_bytes`](Self::process_bytes)'s loop.
    fn process_batch(&mut self, cid: u64, data: &[u8], buffered: bool) -> usize {
        let mut pos = 0usize;
        loop {
            let pause = self.cfg.output_pause_threshold;
            let max_bulk_len = self.cfg.proto_max_bulk_len;
            let max_query = self.cfg.client_query_buffer_limit;
            let Some(c) = self.clients.get_mut(&cid) else { return data.len() };
            if !c.can_process(pause) {
                return pos;
            }
            let mem_budget = match self.caps.evict {
                0 => usize::MAX,
                limit => {
                    let others = self.clients_mem.saturating_sub(self.closing_mem + c.mem);
                    let own = c.mem.saturating_sub(c.parser.pending_bytes());
                    limit.saturating_sub(others + own)
                }
            };
            let lim = ParseLimits {
                max_bulk_len,
                authenticated: c.authenticated,
                max_query,
                input_buffered: buffered,
                mem_budget,
            };
            let (n, step) = c.parser.parse(data.get(pos..).unwrap_or(&[]), &lim);
            pos += n;
            match step {
                Step::NeedMore => return pos,
                Step::Overflow => {
                    self.close_for_query_limit(cid);
                    return data.len();
                }
                Step::Error(e) => {
                    let mut msg = b"ERR ".to_vec();
                    msg.extend_from_slice(&e.message());
                    c.parser.reset();
                    let mut out = Self::client_out(self.caps, c);
                    out.error(&msg);
                    c.close_after_reply = true;
                    self.restore_out(cid, out);
                    self.mark_dirty(cid);
                    return data.len();
                }
                Step::Command(argv) => self.process_command(cid, argv),
            }
        }
    }

    /// Processes input of clients that became runnable (unblocked, output
    /// drained) until none is left.
    fn run_resumed(&mut self) {
        let mut rounds = 0;
        while !self.resume.is_empty() && rounds < 1000 {
            rounds += 1;
            let list = core::mem::take(&mut self.resume);
            for cid in list {
                self.process_input(cid);
            }
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
        let keep_argv = self.observer.is_some();
        // MONITOR shows the command as sent (handlers may take arguments).
        let monitor_line = (self.monitored() && spec.flags & flags::ADMIN == 0 && cid != REPLAY_CLIENT)
            .then(|| crate::introspect::monitor_args(spec.name, &argv));
        let slot = crate::introspect::stat_slot(spec, &argv);
        let start = out.buf.len();
        let mut ctx = Ctx { cid, db, argv, out, now: self.now, dirty: 0, rewrite: None, in_exec, keep_argv, spec };
        (spec.handler)(self, &mut ctx);
        if in_exec {
            // Inside EXEC: pushes go before this command's reply, within
            // the EXEC reply, where Redis 7.0 writes them.
            Self::put_pushes(&mut self.running_push, &mut ctx.out, start);
        }
        let errors = self.count_errors(&mut ctx.out);
        self.count_call(slot, errors);
        if let Some(line) = monitor_line {
            self.feed_monitors(cid, &line, &mut ctx.out);
        }
        if ctx.dirty > 0 {
            self.dirty_since_save += ctx.dirty;
            if spec.flags & flags::WRITE != 0 || ctx.rewrite.is_some() {
                match ctx.rewrite.take() {
                    Some(cmds) => {
                        for cmd in cmds {
                            self.propagate(db, &cmd);
                        }
                    }
                    None => {
                        let argv = core::mem::take(&mut ctx.argv);
                        self.propagate(db, &argv);
                    }
                }
            }
        }
        ctx.out
    }

    /// Reports a write to the observer.
    pub(crate) fn propagate(&mut self, db: usize, argv: &[Vec<u8>]) {
        if self.replaying {
            return;
        }
        if let Some(obs) = self.observer.as_mut() {
            if self.exec_propagation == Some(false) {
                // First write of a transaction: open it for the observer.
                obs.on_write(db, &[b"MULTI"]);
                self.exec_propagation = Some(true);
            }
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            obs.on_write(db, &refs);
        }
    }

    /// EXEC starts: writes it makes are wrapped in MULTI/EXEC for the observer.
    pub(crate) fn begin_exec_propagation(&mut self) {
        self.exec_propagation = Some(false);
    }

    pub(crate) fn end_exec_propagation(&mut self, db: usize) {
        if self.exec_propagation.take() == Some(true)
            && let Some(obs) = self.observer.as_mut()
        {
            obs.on_write(db, &[b"EXEC"]);
        }
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

    // ----- output -------------------------------------------------------

    /// Pending bytes for the client's socket.
    pub fn output(&mut self, id: ClientId) -> &[u8] {
        match self.clients.get(&id.0) {
            Some(c) => c.out.get(c.out_pos..).unwrap_or(&[]),
            None => &[],
        }
    }

    /// `n` bytes of `output()` were written to the socket. Also resumes
    /// parsing input that was held back by the output-size pause.
    pub fn consume_output(&mut self, id: ClientId, n: usize) {
        let cid = id.0;
        let pause = self.cfg.output_pause_threshold;
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let n = n.min(c.pending_output());
        c.out_pos += n;
        self.stats.net_output_bytes += n as u64;
        if c.out_pos >= c.out.len() {
            c.out.clear();
            c.out_pos = 0;
            if c.out.capacity() > 64 * 1024 {
                c.out.shrink_to(16 * 1024);
            }
        } else if c.out_pos > 64 * 1024 && c.out_pos > c.out.len() / 2 {
            c.out.drain(..c.out_pos);
            c.out_pos = 0;
        }
        let resume = c.pending_input() > 0 && c.can_process(pause);
        let idle = c.pending_output() == 0 && !c.should_close();
        if idle && let Some(pos) = c.dirty_pos {
            self.remove_dirty_at(pos);
        }
        self.update_client_mem(cid);
        if resume {
            self.process_input(cid);
            self.check_query_limit(cid);
            self.run_resumed();
        }
    }

    /// Whether the app should read more from this client's socket now.
    ///
    /// False while the client cannot run commands (blocked, output above
    /// `output_pause_threshold`, closing) and already has unprocessed input
    /// buffered, and for closing or unknown clients: the app should then
    /// leave the socket unread so TCP back-pressure holds the client,
    /// instead of buffering its input here. It turns true again once the
    /// buffered input has run, which can happen in
    /// [`consume_output`](Self::consume_output), [`tick`](Self::tick)
    /// (a block timing out) or another client's [`feed`](Self::feed) (a
    /// push serving a blocked client); the app re-checks after those.
    pub fn wants_input(&self, id: ClientId) -> bool {
        let pause = self.cfg.output_pause_threshold;
        self.clients.get(&id.0).is_some_and(|c| !c.should_close() && (c.pending_input() == 0 || c.can_process(pause)))
    }

    /// Clients that have output to write or must be closed.
    pub fn clients_with_output(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.dirty
            .iter()
            .copied()
            .filter(|id| self.clients.get(id).is_some_and(|c| c.pending_output() > 0 || c.should_close()))
            .map(ClientId)
    }

    /// Close this connection once `output()` is flushed.
    pub fn should_close(&self, id: ClientId) -> bool {
        self.clients.get(&id.0).is_none_or(|c| c.should_close())
    }

    pub(crate) fn mark_dirty(&mut self, cid: u64) {
        if let Some(c) = self.clients.get_mut(&cid)
            && c.dirty_pos.is_none()
            && !c.hidden
        {
            c.dirty_pos = Some(self.dirty.len());
            self.dirty.push(cid);
        }
    }

    fn remove_dirty_at(&mut self, pos: usize) {
        if pos >= self.dirty.len() {
            return;
        }
        let removed = self.dirty.swap_remove(pos);
        if let Some(c) = self.clients.get_mut(&removed) {
            c.dirty_pos = None;
        }
        if let Some(&moved) = self.dirty.get(pos)
            && let Some(c) = self.clients.get_mut(&moved)
        {
            c.dirty_pos = Some(pos);
        }
    }

    /// Appends the reply of a command that was blocked to its client's
    /// buffer; dropped under `CLIENT REPLY OFF|SKIP`, like the reply it
    /// would have had at once (and a pending SKIP then moves on).
    pub(crate) fn write_to(&mut self, cid: u64, f: impl FnOnce(&mut Out)) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let muted = c.reply_off || c.reply_skip;
        c.reply_skip = core::mem::take(&mut c.reply_skip_next);
        if !muted {
            self.write_push_to(cid, f);
        }
    }

    /// Appends a push (pub/sub) to another client's buffer.
    pub(crate) fn write_push_to(&mut self, cid: u64, f: impl FnOnce(&mut Out)) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.close_now {
            return;
        }
        let mut out = Self::client_out(self.caps, c);
        f(&mut out);
        self.restore_out(cid, out);
        self.settle_client(cid);
    }

    /// The client's output buffer as an [`Out`] capped so that its pending
    /// output stays within the hard limit of its class (normal or pub/sub)
    /// and `maxmemory-clients`. Give it back with
    /// [`restore_out`](Self::restore_out).
    fn client_out(caps: ClientCaps, c: &mut Client) -> Out {
        let cap = if c.hidden {
            usize::MAX
        } else if c.sub_count() > 0 {
            caps.pubsub_out
        } else {
            caps.normal_out
        };
        Out::with_buf(core::mem::take(&mut c.out), c.resp, c.out_pos.saturating_add(cap))
    }

    /// Puts a client's output buffer back; when a reply did not fit under
    /// its cap the client is closed at once, output dropped (Redis's output
    /// buffer hard limit).
    pub(crate) fn restore_out(&mut self, cid: u64, mut out: Out) {
        self.count_errors(&mut out);
        let overflowed = out.overflowed();
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.close_now {
            return; // closed meanwhile (e.g. evicted): output is dropped
        }
        c.out = out.buf;
        if overflowed {
            self.stats.client_output_buffer_limit_disconnections += 1;
            self.close_client_now(cid);
        }
    }

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
        self.active_expire_cycle();
        if self.cfg.maxmemory > 0 {
            self.evict_if_needed();
        }
        self.run_resumed();
    }

    /// The earliest blocked-client deadline or end of a CLIENT PAUSE
    /// (monotonic ms).
    pub fn next_deadline(&self) -> Option<Time> {
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

    /// Approximate bytes used: datasets plus client memory.
    pub fn used_memory(&self) -> usize {
        self.dataset_memory() + self.clients_mem + BASE_MEMORY
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
    fn remove_from_mem_bucket(&mut self, at: Option<(u8, u32)>) {
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
    fn evict_clients(&mut self, limit: usize) {
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

    // ----- keyspace helpers for commands ---------------------------------

    /// Deletes `key` if its TTL passed. Returns true when it was deleted.
    pub(crate) fn expire_if_needed(&mut self, db: usize, key: &[u8]) -> bool {
        let Some(d) = self.dbs.get(db) else { return false };
        if d.expires_count() == 0 {
            return false;
        }
        if let Found::Expired = d.find(key, self.now.unix_ms) {
            self.delete_expired(db, key);
            true
        } else {
            false
        }
    }

    fn delete_expired(&mut self, db: usize, key: &[u8]) {
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
        let clock = self.lru_clock();
        let Some(slot) = self.dbs.get(db)?.map.slot_of(key) else {
            self.stats.keyspace_misses += 1;
            self.notify(notify::KEY_MISS, "keymiss", db, key);
            return None;
        };
        self.stats.keyspace_hits += 1;
        let d = self.dbs.get_mut(db)?;
        d.touch_lru(slot, clock);
        d.entry_at(slot).map(|(_, e)| &e.value)
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
        let clock = self.lru_clock();
        let d = self.dbs.get_mut(db)?;
        let slot = d.map.slot_of(key)?;
        d.touch_lru(slot, clock);
        d.value_mut_at(slot)
    }

    pub(crate) fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        self.expire_if_needed(db, key);
        self.dbs.get(db).is_some_and(|d| d.map.contains_key(key))
    }

    /// Stores a value (overwriting; drops the TTL unless `keep_ttl`).
    /// A new key is notified (`new`); a new list or sorted set signals
    /// clients blocked on the key.
    pub(crate) fn store(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) {
        self.expire_if_needed(db, key);
        let clock = self.lru_clock();
        let new = self.notifies(notify::NEW) && self.dbs.get(db).is_some_and(|d| !d.map.contains_key(key));
        let may_wake = self.blocking.has_waiters(db) && matches!(value, Value::List(_) | Value::ZSet(_));
        if let Some(d) = self.dbs.get_mut(db) {
            let created = may_wake && !d.map.contains_key(key);
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
        let removed = self.dbs.get_mut(db).and_then(|d| d.remove(key)).is_some();
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
            && let Some(slot) = d.map.slot_of(key)
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

    pub(crate) fn touch_watched(&mut self, db: usize, key: &[u8]) {
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
                if self.dbs.get(i).is_some_and(|d| d.map.contains_key(key)) {
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

    fn unwatch_key(&mut self, cid: u64, db: usize, key: &[u8]) {
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

    // ----- blocking ------------------------------------------------------

    // ----- active expiry -------------------------------------------------

    /// Redis's active expire cycle: per database, sample 20 keys with a TTL,
    /// delete the expired ones, repeat while more than 25% were expired;
    /// bounded work per call.
    fn active_expire_cycle(&mut self) {
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
    /// Returns false when the command must be refused with [`OOM_ERROR`].
    fn make_room(&mut self, db: usize, spec: &CommandSpec, argv: &[Vec<u8>], runs_now: bool) -> bool {
        let denyoom = spec.flags & flags::DENYOOM != 0;
        let new_keys = if denyoom && runs_now { self.possible_new_keys(db, spec, argv) } else { 0 };
        if self.cfg.maxmemory > 0 && !self.replaying && !self.evict_for_growth(db, new_keys, 0) && denyoom {
            return false;
        }
        self.reserve_keys(db, new_keys)
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
    fn possible_new_keys(&self, db: usize, spec: &CommandSpec, argv: &[Vec<u8>]) -> usize {
        let Some(d) = self.dbs.get(db) else { return 0 };
        let positions = spec.key_positions(argv.len());
        let named = positions.clone().count();
        if named == 0 || d.map.growth_bytes(named) == 0 {
            return 0;
        }
        positions.filter(|&i| argv.get(i).is_some_and(|k| !d.map.contains_key(k))).count()
    }

    /// Bytes the keyspace of `db` would grow by to take `new_keys` keys.
    fn keyspace_growth(&self, db: usize, new_keys: usize) -> usize {
        if new_keys == 0 {
            return 0;
        }
        self.dbs.get(db).map_or(0, |d| d.map.growth_bytes(new_keys))
    }

    /// Grows the keyspace of `db` for `new_keys` keys; false when the
    /// allocator refused.
    fn reserve_keys(&mut self, db: usize, new_keys: usize) -> bool {
        new_keys == 0 || self.dbs.get_mut(db).is_none_or(|d| d.map.try_reserve(new_keys).is_ok())
    }

    /// The figure `maxmemory` is enforced against: the datasets (including
    /// the keyspace capacity they reserved) plus the fixed baseline.
    pub(crate) fn eviction_memory(&self) -> usize {
        self.dataset_memory() + BASE_MEMORY
    }

    /// Frees memory per `maxmemory-policy` until under `maxmemory`.
    /// Returns false when still over the limit.
    pub(crate) fn evict_if_needed(&mut self) -> bool {
        self.evict_for_growth(0, 0, 0)
    }

    /// The memory check for a command about to grow one value by `bytes`
    /// (SETRANGE, SETBIT, APPEND, COPY, *STORE: growth a short request
    /// chooses). Under `maxmemory`, when the growth would take
    /// [`eviction_memory`](Self::eviction_memory) past the limit, evicts per
    /// policy first (Redis's `performEvictions`, for that many more bytes).
    /// Returns false when it still does not fit: the caller then replies
    /// [`OOM_ERROR`] and changes nothing. Never evicts for a growth that
    /// could not fit even in an empty dataset.
    ///
    /// Keys may be evicted, the one being grown included: callers look
    /// their value up again afterwards.
    pub(crate) fn reserve_growth(&mut self, bytes: usize) -> bool {
        let max = self.cfg.maxmemory;
        if max == 0 || bytes == 0 || self.replaying {
            return true;
        }
        if BASE_MEMORY.saturating_add(bytes) > max {
            return false;
        }
        self.evict_for_growth(0, 0, bytes)
    }

    /// Makes room in the keyspace of `db` for one more key that a command
    /// without DENYOOM (so without [`make_room`](Self::make_room)'s check)
    /// is about to insert: SMOVE's destination, MOVE's target database. The
    /// keyspace grows by doubling, in one piece, so one short command could
    /// otherwise take it far past `maxmemory`. The growth passes
    /// [`reserve_growth`](Self::reserve_growth) (which may evict keys: callers
    /// look theirs up again) and is reserved fallibly; false when refused
    /// (the caller replies -OOM).
    pub(crate) fn reserve_new_key(&mut self, db: usize) -> bool {
        let growth = self.keyspace_growth(db, 1);
        (growth == 0 || self.reserve_growth(growth)) && self.reserve_keys(db, 1)
    }

    /// Frees memory per `maxmemory-policy` until used memory plus the
    /// keyspace growth that `new_keys` new keys in database `db` would cause,
    /// plus `extra` bytes, fits under `maxmemory`. Returns false when it
    /// still does not. (Evicting from `db` itself frees slots, which can
    /// cancel the growth.)
    fn evict_for_growth(&mut self, db: usize, new_keys: usize, extra: usize) -> bool {
        let max = self.cfg.maxmemory;
        if max == 0 {
            return true;
        }
        let mut guard = 0usize;
        while self.eviction_memory() + self.keyspace_growth(db, new_keys) + extra > max {
            guard += 1;
            if guard > 1_000_000 {
                return false;
            }
            let Some((db, key)) = self.pick_victim() else { return false };
            if let Some(d) = self.dbs.get_mut(db) {
                d.remove(&key);
            }
            self.stats.evicted_keys += 1;
            self.touch_watched(db, &key);
            self.notify(notify::EVICTED, "evicted", db, &key);
            self.propagate(db, &[b"DEL".to_vec(), key]);
        }
        true
    }

    fn pick_victim(&mut self) -> Option<(usize, Vec<u8>)> {
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
                        if volatile { d.random_volatile(&mut self.rng) } else { d.map.random_slot(&mut self.rng) };
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
                // best candidate: the longest idle (LRU) or soonest TTL.
                let samples = self.cfg.maxmemory_samples.max(1);
                let clock = self.lru_clock();
                let mut best: Option<(u64, usize, Vec<u8>)> = None;
                for db in 0..ndb {
                    let d = &self.dbs[db];
                    if (volatile && d.expires_count() == 0) || d.is_empty() {
                        continue;
                    }
                    for _ in 0..samples {
                        let slot =
                            if volatile { d.random_volatile(&mut self.rng) } else { d.map.random_slot(&mut self.rng) };
                        let Some((k, e)) = slot.and_then(|s| d.entry_at(s)) else { continue };
                        let score = match policy {
                            EvictionPolicy::VolatileTtl => u64::MAX - e.expire_at.unwrap_or(u64::MAX),
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

    /// Calls `f(db, argv)` with commands that recreate the whole dataset
    /// (SET/RPUSH/HSET/SADD/ZADD plus PEXPIREAT), like an AOF rewrite.
    pub fn snapshot(&self, f: &mut dyn FnMut(usize, &[&[u8]])) {
        crate::snapshot::emit(self, f);
    }
}
