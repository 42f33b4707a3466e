//! What the server reports about the commands it runs: per-command and
//! per-error-code counters (INFO commandstats / errorstats) and the lines
//! MONITOR clients receive.

use alloc::vec::Vec;

use crate::commands::{CommandSpec, TABLE};
use crate::resp::Out;
use crate::server::Server;

/// Counters of one command (INFO commandstats, latencystats).
#[derive(Debug, Default, Clone)]
pub struct CommandStat {
    /// Times it ran.
    pub calls: u64,
    /// Microseconds its runs took.
    pub usec: u64,
    /// Their distribution, while `latency-tracking` is on (allocated on
    /// the first run).
    pub latency: Option<crate::latency::Histogram>,
    /// Times it was refused before running (arity, authentication...).
    pub rejected_calls: u64,
    /// Times it ran and replied an error.
    pub failed_calls: u64,
}

/// Redis's cap on distinct error codes tracked (`ERRORSTATS_LIMIT`): a
/// client cannot grow the table without bound.
const ERROR_CODES_LIMIT: usize = 128;

/// CPU time the process has used, as the app reports it
/// ([`Server::set_cpu_usage`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuUsage {
    pub sys_us: u64,
    pub user_us: u64,
}

/// Redis's instantaneous metrics: a rate sampled at most every 100 ms and
/// averaged over the last 16 samples (`trackInstantaneousMetric`).
#[derive(Debug, Default, Clone)]
pub struct RateMeter {
    last_ms: u64,
    last_count: u64,
    samples: [u64; 16],
    next: usize,
}

impl RateMeter {
    /// Notes `count` (a running total) at `now_ms`.
    fn sample(&mut self, now_ms: u64, count: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        if elapsed < 100 {
            return;
        }
        if self.last_ms != 0 {
            let per_sec = count.saturating_sub(self.last_count).saturating_mul(1000) / elapsed;
            self.samples[self.next] = per_sec;
            self.next = (self.next + 1) % self.samples.len();
        }
        self.last_ms = now_ms;
        self.last_count = count;
    }

    /// The average of the samples, per second.
    pub fn rate(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

/// Redis 7.0's subcommands of its container commands: INFO commandstats
/// counts them as `container|sub`, not the container.
pub const SUBCOMMANDS: &[(&str, &[&str])] = &[
    (
        "client",
        &[
            "caching",
            "getname",
            "getredir",
            "help",
            "id",
            "info",
            "kill",
            "list",
            "no-evict",
            "pause",
            "reply",
            "setname",
            "tracking",
            "trackinginfo",
            "unblock",
            "unpause",
        ],
    ),
    ("command", &["count", "docs", "getkeys", "getkeysandflags", "help", "info", "list"]),
    ("config", &["get", "help", "resetstat", "rewrite", "set"]),
    ("latency", &["doctor", "graph", "help", "histogram", "history", "latest", "reset"]),
    ("function", &["delete", "dump", "flush", "help", "kill", "list", "load", "restore", "stats"]),
    ("memory", &["doctor", "help", "malloc-stats", "purge", "stats", "usage"]),
    ("object", &["encoding", "freq", "help", "idletime", "refcount"]),
    ("pubsub", &["channels", "help", "numpat", "numsub", "shardchannels", "shardnumsub"]),
    ("xgroup", &["create", "createconsumer", "delconsumer", "destroy", "help", "setid"]),
    ("xinfo", &["consumers", "groups", "help", "stream"]),
    ("slowlog", &["get", "help", "len", "reset"]),
];

/// The subcommands of the container `name`, and where their counters
/// start in [`CallStats::subcommands`].
pub fn subcommands_of(name: &str) -> Option<(usize, &'static [&'static str])> {
    let mut base = 0;
    for (container, subs) in SUBCOMMANDS {
        if *container == name {
            return Some((base, subs));
        }
        base += subs.len();
    }
    None
}

/// Where a call's counters are: its command's, or its subcommand's.
#[derive(Debug, Clone, Copy)]
pub enum StatSlot {
    Command(usize),
    Subcommand(usize),
}

/// The counters a call of `spec` with `argv` goes to; `None` for an
/// unknown subcommand (Redis counts it nowhere).
pub fn stat_slot(spec: &'static CommandSpec, argv: &[Vec<u8>]) -> Option<StatSlot> {
    let i = table_index(spec)?;
    let Some((base, subs)) = subcommands_of(spec.name) else { return Some(StatSlot::Command(i)) };
    match argv.get(1) {
        None => Some(StatSlot::Command(i)),
        Some(sub) => {
            subs.iter().position(|s| sub.eq_ignore_ascii_case(s.as_bytes())).map(|p| StatSlot::Subcommand(base + p))
        }
    }
}

/// Command and error counters; reset by CONFIG RESETSTAT.
#[derive(Debug, Default, Clone)]
pub struct CallStats {
    /// Per command, indexed like [`TABLE`] (sized on first use).
    pub commands: Vec<CommandStat>,
    /// Per subcommand, in [`SUBCOMMANDS`] order (sized on first use).
    pub subcommands: Vec<CommandStat>,
    /// Error replies by code, in the order codes first appeared.
    pub errors: Vec<(Vec<u8>, u64)>,
    /// Heap bytes of the latency histograms (counted in used memory).
    pub histograms_mem: usize,
    /// Commands, input and output bytes per second.
    pub ops_meter: RateMeter,
    pub input_meter: RateMeter,
    pub output_meter: RateMeter,
}

impl CallStats {
    /// The counters at `slot`.
    fn stat(&mut self, slot: StatSlot) -> Option<&mut CommandStat> {
        let (list, len, i) = match slot {
            StatSlot::Command(i) => (&mut self.commands, TABLE.len(), i),
            StatSlot::Subcommand(i) => (&mut self.subcommands, SUBCOMMANDS.iter().map(|(_, subs)| subs.len()).sum(), i),
        };
        if list.len() < len {
            list.resize(len, CommandStat::default());
        }
        list.get_mut(i)
    }

    /// The counters at `slot`, if it ever counted anything.
    pub fn get(&self, slot: StatSlot) -> Option<&CommandStat> {
        match slot {
            StatSlot::Command(i) => self.commands.get(i),
            StatSlot::Subcommand(i) => self.subcommands.get(i),
        }
    }

    fn count_errors(&mut self, code: &[u8], n: u64) {
        if let Some((_, count)) = self.errors.iter_mut().find(|(c, _)| c.as_slice() == code) {
            *count += n;
        } else if self.errors.len() < ERROR_CODES_LIMIT && self.errors.try_reserve(1).is_ok() {
            self.errors.push((code.to_vec(), n));
        }
    }
}

/// `spec`'s position in [`TABLE`] (O(1): from its address).
fn table_index(spec: &'static CommandSpec) -> Option<usize> {
    let size = core::mem::size_of::<CommandSpec>();
    let offset = (spec as *const CommandSpec as usize).wrapping_sub(TABLE.as_ptr() as usize);
    let i = offset / size;
    (offset.is_multiple_of(size) && TABLE.get(i).is_some_and(|t| core::ptr::eq(t, spec))).then_some(i)
}

/// An argument as Redis's `sdscatrepr` quotes it.
fn push_repr(line: &mut Vec<u8>, arg: &[u8]) {
    line.push(b'"');
    for &b in arg {
        match b {
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'"' => line.extend_from_slice(b"\\\""),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            b'\t' => line.extend_from_slice(b"\\t"),
            0x07 => line.extend_from_slice(b"\\a"),
            0x08 => line.extend_from_slice(b"\\b"),
            0x20..=0x7e => line.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                line.extend_from_slice(&[b'\\', b'x', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
        }
    }
    line.push(b'"');
}

/// Which arguments MONITOR and the slow log must not show (Redis's
/// `redactClientCommandArgument`): AUTH's password (and user), HELLO's
/// AUTH user and password, MIGRATE's AUTH password and AUTH2 user and
/// password, the values CONFIG SET gives secret parameters.
pub(crate) fn redacted(name: &str, argv: &[Vec<u8>], i: usize) -> bool {
    match name {
        "config" => {
            i >= 3
                && i % 2 == 1
                && argv.get(1).is_some_and(|s| s.eq_ignore_ascii_case(b"set"))
                && argv
                    .get(i - 1)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"requirepass") || p.eq_ignore_ascii_case(b"masterauth"))
        }
        "auth" => argv.len() <= 3 && i >= 1,
        "migrate" => {
            let mut j = 6;
            while j < argv.len() && !argv[j].eq_ignore_ascii_case(b"keys") {
                let secrets = if argv[j].eq_ignore_ascii_case(b"auth") {
                    1
                } else if argv[j].eq_ignore_ascii_case(b"auth2") {
                    2
                } else {
                    0
                };
                if i > j && i <= j + secrets {
                    return true;
                }
                j += 1 + secrets;
            }
            false
        }
        "hello" => {
            // HELLO [protover [AUTH user pass] [SETNAME name]]
            let mut j = 2;
            while j < argv.len() {
                if argv[j].eq_ignore_ascii_case(b"auth") && j + 2 < argv.len() {
                    if i == j + 1 || i == j + 2 {
                        return true;
                    }
                    j += 3;
                } else {
                    j += 1;
                }
            }
            false
        }
        _ => false,
    }
}

/// A command's arguments as a MONITOR line shows them: quoted, separated
/// by spaces, secrets as `"(redacted)"`.
pub fn monitor_args(name: &str, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut line = Vec::with_capacity(argv.iter().map(|a| a.len() + 3).sum());
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        if redacted(name, argv, i) {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            push_repr(&mut line, arg);
        }
    }
    line
}

impl Server {
    /// Reports the CPU time the process has used so far (INFO's
    /// `used_cpu_sys` / `used_cpu_user`, shown only once reported).
    pub fn set_cpu_usage(&mut self, sys_us: u64, user_us: u64) {
        self.stats.cpu = Some(CpuUsage { sys_us, user_us });
    }

    /// Notes the memory in use for `used_memory_peak` (sampled, like
    /// Redis's, at each tick and INFO).
    pub(crate) fn sample_peak_memory(&mut self) {
        self.stats.peak_memory = self.stats.peak_memory.max(self.used_memory());
    }

    /// Periodic samples (from `tick`): peak memory and the instantaneous
    /// rates of commands and network bytes.
    pub(crate) fn sample_stats(&mut self) {
        self.sample_peak_memory();
        let now = self.now.mono_ms;
        let st = &mut self.stats;
        st.calls.ops_meter.sample(now, st.commands_processed);
        st.calls.input_meter.sample(now, st.net_input_bytes);
        st.calls.output_meter.sample(now, st.net_output_bytes);
    }

    /// Counts the error replies `out` wrote since last asked (INFO's
    /// `total_error_replies` and errorstats); returns how many.
    pub(crate) fn count_errors(&mut self, out: &mut Out) -> u64 {
        let (n, code) = out.take_errors();
        let n = u64::from(n);
        if n > 0 {
            self.stats.error_replies += n;
            self.stats.calls.count_errors(code.as_bytes(), n);
        }
        n
    }

    /// Counts a run (at `slot`, from [`stat_slot`]) that replied `errors`
    /// errors.
    pub(crate) fn count_call(&mut self, slot: Option<StatSlot>, errors: u64) {
        if let Some(st) = slot.and_then(|slot| self.stats.calls.stat(slot)) {
            st.calls += 1;
            if errors > 0 {
                st.failed_calls += 1;
            }
        }
    }

    /// Counts a failed call of command `name` that blocked and was then
    /// ended by an error (Redis's `updateStatsOnUnblock`; the call itself
    /// was counted when it blocked).
    pub(crate) fn count_unblocked_failure(&mut self, name: &str) {
        if let Some(i) = TABLE.iter().position(|c| c.name == name)
            && let Some(st) = self.stats.calls.stat(StatSlot::Command(i))
        {
            st.failed_calls += 1;
        }
    }

    /// Adds a run's `us` microseconds to the counters at `slot`, and to
    /// its latency histogram while `latency-tracking` is on.
    pub(crate) fn count_duration(&mut self, slot: Option<StatSlot>, us: u64) {
        let tracking = self.cfg.stats.latency_tracking;
        let mut allocated = 0;
        if let Some(st) = slot.and_then(|slot| self.stats.calls.stat(slot)) {
            st.usec += us;
            if tracking {
                if st.latency.is_none() {
                    st.latency = crate::latency::Histogram::try_new();
                    if st.latency.is_some() {
                        allocated = crate::latency::Histogram::HEAP_BYTES;
                    }
                }
                if let Some(h) = st.latency.as_mut() {
                    h.record_us(us);
                }
            }
        }
        self.stats.calls.histograms_mem += allocated;
    }

    /// Counts a refusal of `spec` with `argv` before it ran.
    pub(crate) fn count_rejected(&mut self, spec: &'static CommandSpec, argv: &[Vec<u8>]) {
        if let Some(st) = stat_slot(spec, argv).and_then(|slot| self.stats.calls.stat(slot)) {
            st.rejected_calls += 1;
        }
    }

    /// Whether some client is in MONITOR mode.
    pub(crate) fn monitored(&self) -> bool {
        !self.monitors.is_empty()
    }

    /// Sends every MONITOR client the line of a command `cid` ran
    /// (`args` from [`monitor_args`]): `+<unix>.<micros> [<db> <addr>] "cmd" "arg"...`.
    /// The caller's own line goes to `own_out` (its output is being built).
    pub(crate) fn feed_monitors(&mut self, cid: u64, args: &[u8], own_out: &mut Out) {
        let Some(c) = self.clients.get(&cid) else { return };
        let ms = self.now.unix_ms;
        let head = alloc::format!("{}.{:03}000 [{} {}] ", ms / 1000, ms % 1000, c.db, c.peer);
        let mut line = Vec::with_capacity(head.len() + args.len());
        line.extend_from_slice(head.as_bytes());
        line.extend_from_slice(args);
        for m in self.monitors.clone() {
            if m == cid {
                own_out.simple(&line);
            } else {
                self.write_to(m, |out| out.simple(&line));
            }
        }
    }

    /// Puts `cid` in MONITOR mode.
    pub(crate) fn add_monitor(&mut self, cid: u64) {
        if let Some(c) = self.clients.get_mut(&cid)
            && !c.monitor
        {
            c.monitor = true;
            self.monitors.push(cid);
        }
    }

    /// Takes `cid` out of MONITOR mode (RESET, disconnection).
    pub(crate) fn remove_monitor(&mut self, cid: u64) {
        if let Some(c) = self.clients.get_mut(&cid) {
            c.monitor = false;
        }
        self.monitors.retain(|&m| m != cid);
    }
}

/// A CLIENT PAUSE in effect.
#[derive(Debug, Clone, Copy)]
pub struct Pause {
    /// Monotonic ms when it ends.
    pub end_ms: u64,
    /// ALL (every command waits) rather than WRITE (only commands that
    /// write or may be replicated).
    pub all: bool,
}

/// Commands that do not write but that Redis replicates (its
/// `may-replicate` flag): CLIENT PAUSE WRITE holds them back too.
const MAY_REPLICATE: &[&str] = &["publish", "spublish", "pfcount", "eval", "evalsha", "fcall"];

fn may_replicate(spec: &CommandSpec) -> bool {
    spec.flags & crate::commands::flags::WRITE != 0 || MAY_REPLICATE.contains(&spec.name)
}

/// Whether a command reads, writes or may replicate: what a MONITOR client
/// (a replica, to Redis) may not run.
pub(crate) fn touches_keyspace(spec: &CommandSpec) -> bool {
    spec.flags & crate::commands::flags::READONLY != 0 || may_replicate(spec)
}

impl Server {
    /// CLIENT PAUSE: until `end_ms`, hold back every command (`all`) or
    /// those that write. A pause in effect is only extended: the later end
    /// and the stricter mode win, as in Redis.
    pub(crate) fn pause_clients(&mut self, end_ms: u64, all: bool) {
        self.pause = Some(match self.pause {
            Some(p) => Pause { end_ms: p.end_ms.max(end_ms), all: p.all || all },
            None => Pause { end_ms, all },
        });
    }

    /// CLIENT UNPAUSE (or the pause's end): the held-back clients run
    /// their commands, oldest first.
    pub(crate) fn unpause_clients(&mut self) {
        self.pause = None;
        let held = core::mem::take(&mut self.postponed);
        self.resume.extend(held);
    }

    /// Ends the pause once its time is up (from `tick`).
    pub(crate) fn end_pause_if_due(&mut self) {
        if self.pause.is_some_and(|p| p.end_ms <= self.now.mono_ms) {
            self.unpause_clients();
        }
    }

    /// Whether `cid`'s command `spec` must wait for the pause to end: any
    /// command under ALL; under WRITE one that writes or may replicate, or
    /// an EXEC of a transaction with such a command. Not internal replay.
    pub(crate) fn must_postpone(&self, cid: u64, spec: &'static CommandSpec) -> bool {
        let Some(pause) = self.pause else { return false };
        // Internal replay (like Redis's AOF client) is never paused.
        if self.clients.get(&cid).is_none_or(|c| c.hidden) {
            return false;
        }
        if pause.all || may_replicate(spec) {
            return true;
        }
        spec.name == "exec"
            && self.clients.get(&cid).and_then(|c| c.multi.as_ref()).is_some_and(|m| {
                m.queued.iter().any(|argv| argv.first().and_then(|n| self.lookup_command(n)).is_some_and(may_replicate))
            })
    }

    /// Holds `argv` back until the pause ends; the client reads nothing
    /// more meanwhile (it counts as blocked).
    pub(crate) fn postpone(&mut self, cid: u64, argv: Vec<Vec<u8>>) {
        if let Some(c) = self.clients.get_mut(&cid) {
            c.postponed = Some(argv);
            self.postponed.push(cid);
        }
    }

    /// Runs the command `cid` had held back, unless a pause still holds it.
    pub(crate) fn run_postponed(&mut self, cid: u64) {
        if let Some(c) = self.clients.get_mut(&cid)
            && c.should_close()
        {
            c.postponed = None; // killed while held back: never runs
            return;
        }
        let Some(argv) = self.clients.get(&cid).and_then(|c| c.postponed.as_ref()) else { return };
        if argv.first().and_then(|n| self.lookup_command(n)).is_some_and(|spec| self.must_postpone(cid, spec)) {
            if !self.postponed.contains(&cid) {
                self.postponed.push(cid); // a new pause began meanwhile
            }
            return;
        }
        if let Some(argv) = self.clients.get_mut(&cid).and_then(|c| c.postponed.take()) {
            self.process_command(cid, argv);
        }
    }

    /// Clients held back by CLIENT PAUSE (INFO counts them as blocked).
    pub(crate) fn postponed_count(&self) -> usize {
        self.postponed
            .iter()
            .filter(|&&cid| self.clients.get(&cid).is_some_and(|c| c.postponed.is_some() && !c.should_close()))
            .count()
    }
}
