//! Server configuration: command-line parsing in Redis option syntax,
//! memory units, and the parameter table behind CONFIG GET / CONFIG SET.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What to do when `maxmemory` is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionPolicy {
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
    AllKeysLfu,
    VolatileLfu,
}

impl EvictionPolicy {
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
            EvictionPolicy::AllKeysLru => "allkeys-lru",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::AllKeysRandom => "allkeys-random",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
            EvictionPolicy::AllKeysLfu => "allkeys-lfu",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
        }
    }

    pub fn parse(s: &str) -> Option<EvictionPolicy> {
        let all = [
            EvictionPolicy::NoEviction,
            EvictionPolicy::AllKeysLru,
            EvictionPolicy::VolatileLru,
            EvictionPolicy::AllKeysRandom,
            EvictionPolicy::VolatileRandom,
            EvictionPolicy::VolatileTtl,
            EvictionPolicy::AllKeysLfu,
            EvictionPolicy::VolatileLfu,
        ];
        all.into_iter().find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// True for the LFU policies (keys keep an access counter, see
    /// [`crate::lfu`], instead of their last access time).
    pub fn is_lfu(self) -> bool {
        matches!(self, EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu)
    }

    /// True for the volatile-* policies (only keys with a TTL are candidates).
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
                | EvictionPolicy::VolatileLfu
        )
    }
}

/// Output buffer limits for one client class (`client-output-buffer-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    /// Disconnect as soon as the pending output exceeds this (0 = none).
    pub hard: usize,
    /// Disconnect when above this for `soft_seconds` (0 = none).
    pub soft: usize,
    pub soft_seconds: u64,
}

/// `maxmemory-clients`: a byte count or a percentage of `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    /// Bytes; 0 = no limit.
    Bytes(usize),
    /// Percent of `maxmemory` (1..=100); no limit while `maxmemory` is 0.
    Percent(u32),
}

/// Redis's floor for a configured `maxmemory-clients`, so a tiny value
/// cannot cut every client off.
const MIN_CLIENTS_LIMIT: usize = 128 * 1024;

/// A numeric setting that tunes how Redis encodes values (listpack,
/// intset and quicklist thresholds, stream node sizes...) or sizes a
/// feature the engine does not have (the replication backlog). The
/// engine's behaviour does not depend on them, but CONFIG SET/GET accept
/// and report them within Redis's ranges, under their Redis 7 names and
/// their Redis 6 aliases, so clients and tools that tune them keep working.
pub struct TuningParam {
    pub name: &'static str,
    /// The older name Redis still accepts (`*-ziplist-*`).
    pub alias: Option<&'static str>,
    pub min: i64,
    pub max: i64,
    pub default: i64,
    /// A memory amount (accepts `kb`, `mb`...), else a plain integer.
    pub memory: bool,
    /// Redis's `HIDDEN_CONFIG`: CONFIG GET reports it only when asked by
    /// its exact name, never for a pattern.
    pub hidden: bool,
}

const fn tuning(name: &'static str, alias: Option<&'static str>, min: i64, max: i64, default: i64) -> TuningParam {
    TuningParam { name, alias, min, max, default, memory: false, hidden: false }
}

const fn tuning_memory(name: &'static str, min: i64, max: i64, default: i64) -> TuningParam {
    TuningParam { name, alias: None, min, max, default, memory: true, hidden: false }
}

const fn tuning_hidden(name: &'static str, min: i64, max: i64, default: i64) -> TuningParam {
    TuningParam { name, alias: None, min, max, default, memory: false, hidden: true }
}

/// Redis 7.0's encoding parameters (and a few sizes of features the engine
/// lacks), with its ranges and defaults.
pub const TUNING: &[TuningParam] = &[
    tuning("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), 0, i64::MAX, 128),
    tuning_memory("hash-max-listpack-value", 0, i64::MAX, 64),
    tuning("list-max-listpack-size", Some("list-max-ziplist-size"), i32::MIN as i64, i32::MAX as i64, -2),
    tuning("list-compress-depth", None, 0, i32::MAX as i64, 0),
    tuning("set-max-intset-entries", None, 0, i64::MAX, 512),
    tuning("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), 0, i64::MAX, 128),
    tuning_memory("zset-max-listpack-value", 0, i64::MAX, 64),
    tuning_memory("stream-node-max-bytes", 0, i64::MAX, 4096),
    tuning("stream-node-max-entries", None, 0, i64::MAX, 100),
    tuning_memory("hll-sparse-max-bytes", 0, i64::MAX, 3000),
    tuning_memory("repl-backlog-size", 1, i64::MAX, 1024 * 1024),
    // How often a master PINGs its replicas (the SYNC stream sends none).
    tuning("repl-ping-replica-period", None, 1, i32::MAX as i64, 10),
    // Redis's debugging delay per key loaded (microseconds); nothing is
    // loaded slowly here.
    tuning_hidden("key-load-delay", i32::MIN as i64, i32::MAX as i64, 0),
];

/// Old names of parameters that are not in a [`TuningParam`]'s `alias`
/// (the `*-value` ones are memory amounts): alias, then the name.
const ALIASES: &[(&str, &str)] = &[
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("slaveof", "replicaof"),
];

/// The tuning parameter called `name` (or by its alias), and its index.
fn tuning_param(name: &str) -> Option<(usize, &'static TuningParam)> {
    let name = ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, n)| n);
    TUNING.iter().enumerate().find(|(_, p)| p.name == name || p.alias == Some(name))
}

/// Every name CONFIG GET and CONFIG SET know, hidden ones included: the
/// aliases first (so a pattern matches an alias before its parameter, as
/// in Redis, and reports both), then [`PARAMS`] and the tuning parameters.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    ALIASES
        .iter()
        .map(|(alias, _)| *alias)
        .chain(TUNING.iter().filter_map(|p| p.alias))
        .chain(PARAMS.iter().copied())
        .chain(crate::stat_config::NAMES.iter().copied())
        .chain(TUNING.iter().map(|p| p.name))
}

/// The parameter `name` (any case, or an alias) stands for, by its own
/// name; `None` when unknown.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = ALIASES.iter().find(|(alias, _)| *alias == lower).map_or(lower.as_str(), |(_, n)| n);
    if let Some(p) = PARAMS.iter().chain(crate::stat_config::NAMES).find(|p| **p == lower) {
        return Some(p);
    }
    tuning_param(lower).map(|(_, p)| p.name)
}

/// Whether a pattern may match the parameter (canonical name) `name`.
pub fn is_hidden(name: &str) -> bool {
    TUNING.iter().any(|p| p.name == name && p.hidden)
}

/// All settings. Construct with `Config::default()` or `Config::from_args`.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: String,
    pub requirepass: Option<Vec<u8>>,
    /// Bytes; 0 = no limit (but see `maxmemory_ceiling`).
    pub maxmemory: usize,
    /// Highest `maxmemory` allowed (bytes; 0 = none). The embedding app sets
    /// it from the heap size: `maxmemory` 0 or above it becomes the ceiling
    /// (at [`Server::new`](crate::Server::new), CONFIG SET and startup
    /// arguments parsed after it is set). It is also a hard limit where
    /// `maxmemory` is not: Redis checks `maxmemory` only before a command,
    /// so a command may grow the dataset past a `maxmemory` set below the
    /// ceiling, but never past the ceiling (the engine's `reserve_growth`).
    pub maxmemory_ceiling: usize,
    /// Redis 7's `maxmemory-clients`: when all clients together use more,
    /// the biggest are disconnected. Default `Bytes(0)`: no limit.
    pub maxmemory_clients: MemoryLimit,
    /// Highest `maxmemory-clients` allowed (bytes; 0 = none): with it set,
    /// `maxmemory-clients` cannot be unlimited or above it.
    pub maxmemory_clients_ceiling: usize,
    /// Bytes each connection costs the app outside the engine (e.g. TCP
    /// socket buffers), counted in every client's memory. Default 0.
    pub client_overhead: usize,
    pub maxmemory_policy: EvictionPolicy,
    pub maxmemory_samples: usize,
    pub maxclients: usize,
    /// `tracking-table-max-keys`: keys the client-side caching table may
    /// remember before it invalidates some (0: no limit). Default 1000000.
    pub tracking_table_max_keys: usize,
    /// Idle client timeout; 0 = never.
    pub timeout_secs: u64,
    pub proto_max_bulk_len: usize,
    pub databases: usize,
    /// Limits for normal clients. Redis's default is unlimited; here a
    /// generous hard cap protects the kernel's memory.
    pub output_limit_normal: OutputLimit,
    pub output_limit_pubsub: OutputLimit,
    /// A client's input is not parsed while its pending output is above
    /// this, so the app can flush first (backpressure).
    pub output_pause_threshold: usize,
    /// Close clients (without a reply, like Redis) whose unparsed input
    /// plus the request being assembled (argument headers and capacities,
    /// the bulk being received) exceeds this.
    pub client_query_buffer_limit: usize,
    pub hz: u32,
    /// Redis's `protected-mode` (default on): without `requirepass`, only
    /// loopback peers may connect.
    pub protected_mode: bool,
    /// Persistence (used when a data disk is attached; see
    /// [`crate::persist`]): log every write (`appendonly`), when the log
    /// reaches the disk (`appendfsync`), snapshot save points (`save`:
    /// seconds/changes pairs), automatic log compaction, and whether a
    /// failed snapshot stops writes.
    pub appendonly: bool,
    pub save: Vec<(u64, u64)>,
    pub appendfsync: Fsync,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    pub stop_writes_on_bgsave_error: bool,
    pub loglevel: String,
    pub daemonize: bool,
    /// `notify-keyspace-events` as [`crate::notify`] flags (0: none).
    pub notify_keyspace_events: u32,
    /// The [`TUNING`] parameters' values, in that table's order.
    pub tuning: [i64; TUNING.len()],
    /// Elements PFSELFTEST adds (Redis's 10 000 000, about a third of a
    /// second) and, per 10 000, its rounds over the registers; not a
    /// Redis setting: the fuzz target lowers it so no input runs for long.
    pub pfselftest_elements: u64,
    /// Slow log, latency monitor and tracking, LFU counter.
    pub stats: crate::stat_config::StatSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: "* -::*".to_string(),
            requirepass: None,
            maxmemory: 0,
            maxmemory_ceiling: 0,
            maxmemory_clients: MemoryLimit::Bytes(0),
            maxmemory_clients_ceiling: 0,
            client_overhead: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
            maxclients: 10000,
            tracking_table_max_keys: 1_000_000,
            timeout_secs: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            databases: 16,
            output_limit_normal: OutputLimit { hard: 1024 * 1024 * 1024, soft: 0, soft_seconds: 0 },
            output_limit_pubsub: OutputLimit { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, soft_seconds: 60 },
            output_pause_threshold: 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            hz: 10,
            appendonly: false,
            // Redis 7.0's default save points.
            save: alloc::vec![(3600, 1), (300, 100), (60, 10000)],
            appendfsync: Fsync::EverySec,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            stop_writes_on_bgsave_error: true,
            loglevel: "notice".to_string(),
            protected_mode: true,
            daemonize: false,
            notify_keyspace_events: 0,
            tuning: core::array::from_fn(|i| TUNING[i].default),
            pfselftest_elements: 10_000_000,
            stats: Default::default(),
        }
    }
}

/// `appendfsync`: when the log of writes reaches stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Before any reply of the loop turn that made the writes leaves.
    Always,
    /// Written every turn, flushed to stable storage once a second.
    EverySec,
    /// Written every turn; flushed only with snapshots and at shutdown.
    No,
}

impl Fsync {
    pub fn parse(s: &str) -> Option<Fsync> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(Fsync::Always),
            "everysec" => Some(Fsync::EverySec),
            "no" => Some(Fsync::No),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }
}

/// `save` as Redis reads it: pairs of seconds and changes (`3600 1 300
/// 100`), or empty (`""`) for no save points.
fn parse_save(value: &str) -> Option<Vec<(u64, u64)>> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    if !parts.len().is_multiple_of(2) {
        return None;
    }
    parts.chunks(2).map(|p| Some((parse_num::<u64>(p[0])?, parse_num::<u64>(p[1])?))).collect()
}

/// Parses a memory amount like redis.conf: `1k`=1000, `1kb`=1024, `m`,
/// `mb`, `g`, `gb` (case-insensitive).
pub fn parse_memory(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    let units: [(&str, u64); 6] = [
        ("gb", 1024 * 1024 * 1024),
        ("mb", 1024 * 1024),
        ("kb", 1024),
        ("g", 1000 * 1000 * 1000),
        ("m", 1000 * 1000),
        ("k", 1000),
    ];
    let (digits, mul) = units
        .iter()
        .find(|(u, _)| lower.ends_with(u))
        .map(|(u, m)| (&lower[..lower.len() - u.len()], *m))
        .unwrap_or((lower.as_str(), 1));
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    usize::try_from(n.checked_mul(mul)?).ok()
}

/// A memory amount or a percentage (`10%`), as Redis parses
/// `maxmemory-clients`; the error is CONFIG SET's reason text.
fn parse_memory_or_percent(s: &str) -> Result<MemoryLimit, String> {
    if let Some(n) = parse_memory(s) {
        return Ok(MemoryLimit::Bytes(n));
    }
    if let Some(digits) = s.strip_suffix('%')
        && let Some(p) = crate::util::parse_i64(digits.as_bytes())
        && p >= 0
    {
        return match p {
            0 => Ok(MemoryLimit::Bytes(0)),
            1..=100 => Ok(MemoryLimit::Percent(p as u32)),
            _ => Err(String::from("percentage argument must be less or equal to 100")),
        };
    }
    Err(String::from("argument must be a memory or percent value"))
}

/// A tuning parameter's value: an integer (or memory amount) within its
/// range; the error is CONFIG SET's reason text, as Redis words it.
fn parse_tuning(p: &TuningParam, value: &str) -> Result<i64, String> {
    let n = if p.memory {
        parse_memory(value).and_then(|n| i64::try_from(n).ok())
    } else {
        crate::util::parse_i64(value.as_bytes())
    };
    match n {
        Some(n) if (p.min..=p.max).contains(&n) => Ok(n),
        Some(_) => Err(format!("argument must be between {} and {} inclusive", p.min, p.max)),
        None if p.memory => Err(String::from("argument must be a memory value")),
        None => Err(String::from("argument couldn't be parsed into an integer")),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn parse_num<T: core::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Names CONFIG GET knows, in the order it lists them.
pub const PARAMS: &[&str] = &[
    "port",
    "bind",
    "requirepass",
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "maxmemory-clients",
    "maxclients",
    "tracking-table-max-keys",
    "timeout",
    "proto-max-bulk-len",
    "databases",
    "client-output-buffer-limit",
    "client-query-buffer-limit",
    "hz",
    "appendonly",
    "save",
    "appendfsync",
    "auto-aof-rewrite-percentage",
    "auto-aof-rewrite-min-size",
    "stop-writes-on-bgsave-error",
    "loglevel",
    "protected-mode",
    "daemonize",
    "replicaof",
    "notify-keyspace-events",
];

fn fmt_limit(l: &OutputLimit) -> String {
    format!("{} {} {}", l.hard, l.soft, l.soft_seconds)
}

impl Config {
    /// Parses Redis command-line syntax: `--name value [value...]`.
    /// Values up to the next `--name` are joined with spaces, like redis-server.
    pub fn from_args(args: &[&str]) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut i = 0;
        while i < args.len() {
            let Some(name) = args[i].strip_prefix("--") else {
                return Err(format!("Bad directive or wrong number of arguments: '{}'", args[i]));
            };
            i += 1;
            let mut values: Vec<&str> = Vec::new();
            while i < args.len() && !args[i].starts_with("--") {
                values.push(args[i]);
                i += 1;
            }
            let value = values.join(" ");
            cfg.set(name, &value)?;
        }
        Ok(cfg)
    }

    /// Sets one parameter from its text form (CONFIG SET / command line).
    /// The error is the reason text after "argument ...".
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        let bad = |what: &str| Err(String::from(what));
        match name.as_str() {
            "port" => match parse_num::<u16>(value) {
                Some(p) => self.port = p,
                None => return bad("argument couldn't be parsed into an integer"),
            },
            "bind" => self.bind = value.to_string(),
            "requirepass" => self.requirepass = if value.is_empty() { None } else { Some(value.as_bytes().to_vec()) },
            "maxmemory" => match parse_memory(value) {
                Some(v) => {
                    self.maxmemory = v;
                    self.apply_ceilings();
                }
                None => return bad("argument must be a memory value"),
            },
            "maxmemory-clients" => {
                self.maxmemory_clients = parse_memory_or_percent(value)?;
                self.apply_ceilings();
            }
            "maxmemory-policy" => match EvictionPolicy::parse(value) {
                Some(p) => self.maxmemory_policy = p,
                None => {
                    return bad(
                        "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
                    );
                }
            },
            "maxmemory-samples" => match parse_num::<usize>(value) {
                Some(v) if (1..=64).contains(&v) => self.maxmemory_samples = v,
                _ => return bad("argument must be between 1 and 64 inclusive"),
            },
            "maxclients" => match parse_num::<usize>(value) {
                Some(v) if v >= 1 => self.maxclients = v,
                _ => return bad("argument must be between 1 and 4294967295 inclusive"),
            },
            "tracking-table-max-keys" => match parse_num::<usize>(value) {
                Some(v) if v <= i64::MAX as usize => self.tracking_table_max_keys = v,
                _ => return bad("argument must be between 0 and 9223372036854775807 inclusive"),
            },
            "timeout" => match parse_num::<u64>(value) {
                Some(v) => self.timeout_secs = v,
                None => return bad("argument couldn't be parsed into an integer"),
            },
            "proto-max-bulk-len" => match parse_memory(value) {
                Some(v) if v >= 1024 * 1024 => self.proto_max_bulk_len = v,
                _ => return bad("argument must be a memory value"),
            },
            "databases" => match parse_num::<usize>(value) {
                Some(v) if (1..=1024).contains(&v) => self.databases = v,
                _ => return bad("argument must be between 1 and 1024 inclusive"),
            },
            "client-output-buffer-limit" => self.set_output_limits(value)?,
            "client-query-buffer-limit" => match parse_memory(value) {
                Some(v) if v >= 1024 * 1024 => self.client_query_buffer_limit = v,
                _ => return bad("argument must be a memory value"),
            },
            "hz" => match parse_num::<u32>(value) {
                Some(v) if (1..=500).contains(&v) => self.hz = v,
                _ => return bad("argument must be between 1 and 500 inclusive"),
            },
            "appendonly" => match parse_bool(value) {
                Some(v) => self.appendonly = v,
                None => return bad("argument must be 'yes' or 'no'"),
            },
            "protected-mode" => match parse_bool(value) {
                Some(v) => self.protected_mode = v,
                None => return bad("argument must be 'yes' or 'no'"),
            },
            "daemonize" => match parse_bool(value) {
                Some(v) => self.daemonize = v,
                None => return bad("argument must be 'yes' or 'no'"),
            },
            "notify-keyspace-events" => match crate::notify::parse_flags(value) {
                Some(f) => self.notify_keyspace_events = f,
                None => return bad("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
            },
            "save" => self.save = parse_save(value).ok_or_else(|| String::from("Invalid save parameters"))?,
            "auto-aof-rewrite-percentage" => match parse_num::<u64>(value) {
                Some(v) if v <= i32::MAX as u64 => self.auto_aof_rewrite_percentage = v,
                _ => return bad("argument must be between 0 and 2147483647 inclusive"),
            },
            "auto-aof-rewrite-min-size" => match parse_memory(value) {
                Some(v) => self.auto_aof_rewrite_min_size = v as u64,
                None => return bad("argument must be a memory value"),
            },
            "stop-writes-on-bgsave-error" => match parse_bool(value) {
                Some(v) => self.stop_writes_on_bgsave_error = v,
                None => return bad("argument must be 'yes' or 'no'"),
            },
            // This server is always a master: only "no master" is valid.
            "replicaof" | "slaveof" => {
                if !value.is_empty() && !value.eq_ignore_ascii_case("no one") {
                    return bad("replication is not supported by this server");
                }
            }
            "appendfsync" => match Fsync::parse(value) {
                Some(f) => self.appendfsync = f,
                None => return bad("argument(s) must be one of the following: always, everysec, no"),
            },
            "loglevel" => match value.to_ascii_lowercase().as_str() {
                "debug" | "verbose" | "notice" | "warning" | "nothing" => self.loglevel = value.to_ascii_lowercase(),
                _ => {
                    return bad("argument(s) must be one of the following: debug, verbose, notice, warning, nothing");
                }
            },
            other if let Some(result) = self.stats.set(other, value) => result?,
            other => match tuning_param(other) {
                Some((i, p)) => self.tuning[i] = parse_tuning(p, value)?,
                None => return Err(format!("Bad directive or wrong number of arguments: '{name}'")),
            },
        }
        Ok(())
    }

    /// `client-output-buffer-limit <class> <hard> <soft> <seconds> ...`.
    fn set_output_limits(&mut self, value: &str) -> Result<(), String> {
        let parts: Vec<&str> = value.split_ascii_whitespace().collect();
        if !parts.len().is_multiple_of(4) {
            return Err(String::from("Wrong number of arguments in buffer limit configuration."));
        }
        let mut normal = self.output_limit_normal;
        let mut pubsub = self.output_limit_pubsub;
        for chunk in parts.chunks(4) {
            let (Some(hard), Some(soft), Some(secs)) =
                (parse_memory(chunk[1]), parse_memory(chunk[2]), parse_num::<u64>(chunk[3]))
            else {
                return Err(String::from("Error in hard, soft or soft_seconds setting in buffer limit configuration."));
            };
            let limit = OutputLimit { hard, soft, soft_seconds: secs };
            match chunk[0].to_ascii_lowercase().as_str() {
                "normal" => normal = limit,
                "pubsub" => pubsub = limit,
                "slave" | "replica" => {}
                _ => return Err(String::from("Invalid client class specified in buffer limit configuration.")),
            }
        }
        self.output_limit_normal = normal;
        self.output_limit_pubsub = pubsub;
        Ok(())
    }

    /// The value of the [`TUNING`] parameter `name` (0 for a name not there).
    pub fn tuning_value(&self, name: &str) -> i64 {
        tuning_param(name).map_or(0, |(i, _)| self.tuning[i])
    }

    /// The CONFIG GET text of a parameter.
    pub fn get(&self, name: &str) -> Option<String> {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        Some(match name {
            "port" => self.port.to_string(),
            "bind" => self.bind.clone(),
            "requirepass" => {
                self.requirepass.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default()
            }
            "maxmemory" => self.maxmemory.to_string(),
            "maxmemory-policy" => self.maxmemory_policy.name().to_string(),
            "maxmemory-samples" => self.maxmemory_samples.to_string(),
            "maxmemory-clients" => match self.maxmemory_clients {
                MemoryLimit::Bytes(n) => n.to_string(),
                MemoryLimit::Percent(p) => format!("{p}%"),
            },
            "maxclients" => self.maxclients.to_string(),
            "tracking-table-max-keys" => self.tracking_table_max_keys.to_string(),
            "timeout" => self.timeout_secs.to_string(),
            "proto-max-bulk-len" => self.proto_max_bulk_len.to_string(),
            "databases" => self.databases.to_string(),
            "client-output-buffer-limit" => format!(
                "normal {} slave 268435456 67108864 60 pubsub {}",
                fmt_limit(&self.output_limit_normal),
                fmt_limit(&self.output_limit_pubsub)
            ),
            "client-query-buffer-limit" => self.client_query_buffer_limit.to_string(),
            "hz" => self.hz.to_string(),
            "appendonly" => yes_no(self.appendonly),
            "save" => self.save.iter().map(|(secs, changes)| format!("{secs} {changes}")).collect::<Vec<_>>().join(" "),
            "appendfsync" => self.appendfsync.name().to_string(),
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage.to_string(),
            "auto-aof-rewrite-min-size" => self.auto_aof_rewrite_min_size.to_string(),
            "stop-writes-on-bgsave-error" => yes_no(self.stop_writes_on_bgsave_error),
            "loglevel" => self.loglevel.clone(),
            "protected-mode" => yes_no(self.protected_mode),
            "daemonize" => yes_no(self.daemonize),
            "replicaof" | "slaveof" => String::new(),
            "notify-keyspace-events" => crate::notify::flags_text(self.notify_keyspace_events),
            other => match self.stats.get(other) {
                Some(v) => v,
                None => self.tuning[tuning_param(other)?.0].to_string(),
            },
        })
    }

    /// Enforces `maxmemory_ceiling` and `maxmemory_clients_ceiling`: an
    /// unlimited (0) or larger `maxmemory` / byte `maxmemory-clients`
    /// becomes the ceiling. [`Server::new`](crate::Server::new) calls it.
    pub fn apply_ceilings(&mut self) {
        let ceiling = self.maxmemory_ceiling;
        if ceiling > 0 && (self.maxmemory == 0 || self.maxmemory > ceiling) {
            self.maxmemory = ceiling;
        }
        let ceiling = self.maxmemory_clients_ceiling;
        if ceiling > 0
            && let MemoryLimit::Bytes(n) = self.maxmemory_clients
            && (n == 0 || n > ceiling)
        {
            self.maxmemory_clients = MemoryLimit::Bytes(ceiling);
        }
    }

    /// The `maxmemory-clients` limit in bytes (0 = none), like Redis's
    /// `getClientEvictionLimit` (a percentage of `maxmemory`, at least
    /// 128 KiB), and never above `maxmemory_clients_ceiling`.
    pub fn client_eviction_limit(&self) -> usize {
        let limit = match self.maxmemory_clients {
            MemoryLimit::Bytes(n) => n,
            MemoryLimit::Percent(p) => {
                let bytes = self.maxmemory as u128 * u128::from(p) / 100;
                usize::try_from(bytes).unwrap_or(usize::MAX)
            }
        };
        let limit = if limit == 0 { 0 } else { limit.max(MIN_CLIENTS_LIMIT) };
        let ceiling = self.maxmemory_clients_ceiling;
        if ceiling > 0 && (limit == 0 || limit > ceiling) { ceiling } else { limit }
    }

    /// Parameters that cannot change at run time (Redis's immutable ones).
    pub fn is_immutable(name: &str) -> bool {
        matches!(name, "databases" | "daemonize")
    }

    /// Why a parameter Redis can change at run time cannot be changed here
    /// (the app owns the listening socket); CONFIG SET accepts its current
    /// value. Worded like Redis's errors when applying them fails.
    pub fn runtime_change_error(name: &str) -> Option<&'static str> {
        match name {
            "port" => Some("Unable to listen on this port: the listening socket cannot change at run time"),
            "bind" => Some("Failed to bind to specified addresses: they cannot change at run time"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("64mb"), Some(64 * 1024 * 1024));
        assert_eq!(parse_memory("2GB"), Some(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_memory("1g"), Some(1_000_000_000));
        assert_eq!(parse_memory("x"), None);
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("mb"), None);
    }

    #[test]
    fn args() {
        let c = Config::from_args(&[
            "--port",
            "7000",
            "--maxmemory",
            "64mb",
            "--requirepass",
            "secret",
            "--maxmemory-policy",
            "allkeys-lru",
            "--save",
            "900",
            "1",
            "--client-output-buffer-limit",
            "normal",
            "10mb",
            "5mb",
            "10",
        ])
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.maxmemory, 64 * 1024 * 1024);
        assert_eq!(c.requirepass.as_deref(), Some(&b"secret"[..]));
        assert_eq!(c.maxmemory_policy, EvictionPolicy::AllKeysLru);
        assert_eq!(c.save, [(900, 1)]);
        assert_eq!(c.output_limit_normal.hard, 10 * 1024 * 1024);
        assert!(Config::from_args(&["--nope", "1"]).is_err());
        assert!(Config::from_args(&["port"]).is_err());
        assert!(Config::from_args(&["--maxmemory", "lots"]).is_err());
    }

    #[test]
    fn tuning_parameters_take_redis_names_aliases_and_ranges() {
        let mut c = Config::default();
        assert_eq!(c.get("hash-max-listpack-entries").as_deref(), Some("128"));
        assert_eq!(c.get("list-max-ziplist-size").as_deref(), Some("-2"));
        c.set("hash-max-ziplist-entries", "512").unwrap();
        assert_eq!(c.get("hash-max-listpack-entries").as_deref(), Some("512"));
        c.set("zset-max-ziplist-value", "1kb").unwrap();
        assert_eq!(c.get("zset-max-listpack-value").as_deref(), Some("1024"));
        assert_eq!(c.get("zset-max-ziplist-value").as_deref(), Some("1024"));
        c.set("list-max-ziplist-size", "-5").unwrap();
        assert_eq!(c.get("list-max-listpack-size").as_deref(), Some("-5"));
        assert_eq!(
            c.set("list-compress-depth", "-1"),
            Err(String::from("argument must be between 0 and 2147483647 inclusive"))
        );
        assert_eq!(
            c.set("set-max-intset-entries", "x"),
            Err(String::from("argument couldn't be parsed into an integer"))
        );
        assert!(all_names().any(|n| n == "hash-max-ziplist-value"));
        assert!(Config::from_args(&["--set-max-intset-entries", "1"]).is_ok());
    }
}
