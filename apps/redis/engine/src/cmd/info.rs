//! INFO: Redis 7.0's sections in its order (server, clients, memory,
//! persistence, stats, replication, cpu, modules, commandstats,
//! errorstats, latencystats, cluster, keyspace), chosen by name,
//! `default`, `all` or `everything`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::server::REDIS_VERSION;
use crate::commands::TABLE;
use crate::introspect::{CommandStat, subcommands_of};
use crate::server::{Ctx, Server};

/// The sections INFO shows without arguments or for `default`.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Which sections a list of INFO arguments (lowercased) asks for.
struct Wanted<'a> {
    all: bool,
    default: bool,
    names: &'a [Vec<u8>],
}

impl Wanted<'_> {
    fn has(&self, section: &str) -> bool {
        self.all
            || (self.default && DEFAULT_SECTIONS.contains(&section))
            || self.names.iter().any(|n| n.as_slice() == section.as_bytes())
            || (section == "modules" && self.names.iter().any(|n| n.as_slice() == b"module_list"))
    }
}

fn human_bytes(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Builds the INFO text for the requested sections.
pub fn info_text(s: &Server, sections: &[Vec<u8>]) -> String {
    let wanted = Wanted {
        all: sections.iter().any(|x| x.as_slice() == b"all" || x.as_slice() == b"everything"),
        default: sections.is_empty() || sections.iter().any(|x| x.as_slice() == b"default"),
        names: sections,
    };
    let want = |name: &str| wanted.has(name);
    let mut t = String::new();
    let uptime_ms = s.now.mono_ms.saturating_sub(s.started.mono_ms);
    if want("server") {
        let _ = write!(
            t,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:unikernel\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:sans-io\r\natomicvar_api:none\r\ngcc_version:0.0.0\r\nprocess_id:1\r\nprocess_supervised:no\r\nrun_id:{:040x}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:/redis-server\r\nconfig_file:\r\nio_threads_active:0\r\n\r\n",
            s.started.unix_ms as u128 * 0x9e37_79b9,
            s.cfg.port,
            s.now.unix_ms.saturating_mul(1000),
            uptime_ms / 1000,
            uptime_ms / 86_400_000,
            s.cfg.hz,
            s.cfg.hz,
            s.lru_clock()
        );
    }
    if want("clients") {
        let pubsub = s.clients.values().filter(|c| !c.hidden && c.sub_count() > 0).count();
        let _ = write!(
            t,
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\npubsub_clients:{}\r\n\r\n",
            s.client_count(),
            s.cfg.maxclients,
            s.blocking.blocked_clients + s.postponed_count(),
            s.tracking.clients,
            s.blocking.timeouts.len(),
            pubsub
        );
    }
    if want("memory") {
        let used = s.used_memory();
        let dataset = s.dataset_memory();
        let peak = s.stats.peak_memory.max(used);
        let _ = write!(
            t,
            "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_dataset:{dataset}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_not_counted_for_evict:{}\r\nmem_clients_slaves:0\r\nmem_clients_normal:{}\r\nmem_allocator:rust-alloc\r\nlazyfree_pending_objects:0\r\n\r\n",
            human_bytes(used),
            human_bytes(peak),
            s.cfg.maxmemory,
            human_bytes(s.cfg.maxmemory),
            s.cfg.maxmemory_policy.name(),
            // What `maxmemory` is not enforced against (client buffers...).
            used.saturating_sub(s.eviction_memory()),
            s.client_memory()
        );
    }
    if want("persistence") {
        t.push_str("# Persistence\r\n");
        s.persistence_info(&mut t);
        t.push_str("\r\n");
    }
    if want("stats") {
        let st = &s.stats;
        let _ = write!(
            t,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nmigrate_cached_sockets:{}\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\ntotal_error_replies:{}\r\n\r\n",
            st.connections_received,
            st.commands_processed,
            st.calls.ops_meter.rate(),
            st.net_input_bytes,
            st.net_output_bytes,
            st.calls.input_meter.rate() as f64 / 1024.0,
            st.calls.output_meter.rate() as f64 / 1024.0,
            st.rejected_connections,
            st.expired_keys,
            st.evicted_keys,
            st.evicted_clients,
            st.keyspace_hits,
            st.keyspace_misses,
            s.pubsub.channels.len(),
            s.pubsub.patterns.len(),
            s.pubsub.shard_channels.len(),
            s.migrate_sockets.len(),
            s.tracking.total_keys(),
            s.tracking.total_items(),
            s.tracking.total_prefixes(),
            st.error_replies
        );
    }
    if want("replication") {
        t.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n\r\n");
    }
    if want("cpu") {
        t.push_str("# CPU\r\n");
        // The engine has no clock of its own: the app reports CPU time.
        if let Some(cpu) = s.stats.cpu {
            let secs = |us: u64| format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
            let _ = write!(t, "used_cpu_sys:{}\r\nused_cpu_user:{}\r\n", secs(cpu.sys_us), secs(cpu.user_us));
        }
        // No child processes ever run: their CPU time is truly zero.
        t.push_str("used_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n\r\n");
    }
    if want("modules") {
        t.push_str("# Modules\r\n\r\n");
    }
    if want("commandstats") {
        t.push_str("# Commandstats\r\n");
        for_each_command_stat(s, |name, bar, sub, st| {
            if st.calls > 0 || st.rejected_calls > 0 || st.failed_calls > 0 {
                let per_call = if st.calls == 0 { 0.0 } else { st.usec as f64 / st.calls as f64 };
                let _ = write!(
                    t,
                    "cmdstat_{name}{bar}{sub}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    st.calls, st.usec, st.rejected_calls, st.failed_calls
                );
            }
        });
        t.push_str("\r\n");
    }
    if want("errorstats") {
        t.push_str("# Errorstats\r\n");
        for (code, n) in &s.stats.calls.errors {
            let _ = write!(t, "errorstat_{}:count={n}\r\n", String::from_utf8_lossy(code));
        }
        t.push_str("\r\n");
    }
    if want("latencystats") {
        t.push_str("# Latencystats\r\n");
        let percentiles = &s.cfg.stats.latency_tracking_info_percentiles;
        for_each_command_stat(s, |name, bar, sub, st| {
            let Some(h) = st.latency.as_ref() else { return };
            let _ = write!(t, "latency_percentiles_usec_{name}{bar}{sub}:");
            for (i, p) in percentiles.iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                let us = h.value_at_percentile(*p) as f64 / 1000.0;
                let _ = write!(t, "{sep}p{}={us:.3}", crate::stat_config::percentile_text(*p));
            }
            t.push_str("\r\n");
        });
        t.push_str("\r\n");
    }
    if want("cluster") {
        t.push_str("# Cluster\r\ncluster_enabled:0\r\n\r\n");
    }
    if want("keyspace") {
        t.push_str("# Keyspace\r\n");
        for (i, d) in s.dbs.iter().enumerate() {
            if !d.is_empty() {
                let _ = write!(t, "db{i}:keys={},expires={},avg_ttl=0\r\n", d.len(), d.expires_count());
            }
        }
        t.push_str("\r\n");
    }
    // Sections are separated by a blank line; the text ends with one CRLF.
    while t.ends_with("\r\n\r\n") {
        t.truncate(t.len() - 2);
    }
    t
}

/// Calls `f` with each command's and subcommand's counters: name, `|`
/// and subcommand (both empty for a command), counters.
fn for_each_command_stat(s: &Server, mut f: impl FnMut(&str, &str, &str, &CommandStat)) {
    let calls = &s.stats.calls;
    for (i, spec) in TABLE.iter().enumerate() {
        if let Some(st) = calls.commands.get(i) {
            f(spec.name, "", "", st);
        }
        if let Some((base, subs)) = subcommands_of(spec.name) {
            for (j, sub) in subs.iter().enumerate() {
                if let Some(st) = calls.subcommands.get(base + j) {
                    f(spec.name, "|", sub, st);
                }
            }
        }
    }
}

pub fn info(s: &mut Server, c: &mut Ctx) {
    s.sample_peak_memory();
    let sections: Vec<Vec<u8>> = c.argv.iter().skip(1).map(|a| a.to_ascii_lowercase()).collect();
    let t = info_text(s, &sections);
    c.out.verbatim(t.as_bytes());
}
