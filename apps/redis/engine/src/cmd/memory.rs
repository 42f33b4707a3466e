//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, from the
//! engine's own memory accounting (see [`crate::mem`]).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{int_arg, unknown_subcommand};
use crate::bytemap::ByteMap;
use crate::db::Entry;
use crate::server::{Ctx, Server};
use crate::util::eq_ic;

/// MEMORY: USAGE is exact rather than sampled: the value's heap blocks
/// (the running total the memory accounting keeps, see [`crate::mem`]),
/// the key's and its share of the keyspace map.
pub fn memory(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"help" if c.argc() == 2 => c.out.help(&[
            b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"DOCTOR",
            b"    Return memory problems reports.",
            b"MALLOC-STATS",
            b"    Return internal statistics report from the memory allocator.",
            b"PURGE",
            b"    Attempt to purge dirty pages for reclamation by the allocator.",
            b"STATS",
            b"    Return information about the memory usage of the server.",
            b"USAGE <key> [SAMPLES <count>]",
            b"    Return memory in bytes used by <key> and its value. Nested values are",
            b"    sampled up to <count> times (default: 5, 0 means sample all).",
            b"HELP",
            b"    Prints this help.",
        ]),
        b"usage" if c.argc() >= 3 => memory_usage(s, c),
        b"malloc-stats" if c.argc() == 2 => c.out.bulk(b"Stats not supported for the current allocator"),
        b"stats" if c.argc() == 2 => memory_stats(s, c),
        b"doctor" if c.argc() == 2 => {
            let report = memory_doctor(s);
            c.out.verbatim(report.as_bytes());
        }
        // The heap returns freed blocks to its free lists at once: there
        // are no dirty pages to give back (Redis answers OK likewise when
        // its allocator is not jemalloc).
        b"purge" if c.argc() == 2 => c.out.ok(),
        b"help" | b"usage" | b"malloc-stats" | b"stats" | b"doctor" | b"purge" => super::sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

/// What the server's memory goes to, as MEMORY STATS reports it: the
/// fields Redis 7.0 reports that the engine knows (the allocator's own
/// figures, RSS and fragmentation are not known here).
struct MemoryReport {
    peak: usize,
    total: usize,
    startup: usize,
    clients: usize,
    /// Per non-empty database: (index, keyspace map bytes, TTL list bytes).
    dbs: Vec<(usize, usize, usize)>,
    keys: usize,
}

impl MemoryReport {
    fn of(s: &mut Server) -> MemoryReport {
        s.sample_peak_memory();
        let total = s.used_memory();
        let clients = s.client_memory();
        let dbs = s
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_empty())
            .map(|(i, d)| (i, d.map().overhead_bytes(), crate::mem::array::<u32>(d.expires_count())))
            .collect();
        MemoryReport {
            peak: s.stats.peak_memory.max(total),
            total,
            startup: total - s.dataset_memory() - clients,
            clients,
            dbs,
            keys: s.dbs.iter().map(|d| d.len()).sum(),
        }
    }

    fn overhead(&self) -> usize {
        self.startup + self.clients + self.dbs.iter().map(|(_, main, expires)| main + expires).sum::<usize>()
    }
}

fn memory_stats(s: &mut Server, c: &mut Ctx) {
    let r = MemoryReport::of(s);
    let overhead = r.overhead();
    let dataset = r.total.saturating_sub(overhead);
    let net = r.total.saturating_sub(r.startup);
    c.out.map(16 + r.dbs.len());
    for (name, v) in [
        ("peak.allocated", r.peak),
        ("total.allocated", r.total),
        ("startup.allocated", r.startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", r.clients),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", 0),
        ("functions.caches", 0),
    ] {
        c.out.bulk(name.as_bytes());
        c.out.int(v as i64);
    }
    for (i, main, expires) in &r.dbs {
        c.out.bulk(format!("db.{i}").as_bytes());
        c.out.map(3);
        c.out.bulk(b"overhead.hashtable.main");
        c.out.int(*main as i64);
        c.out.bulk(b"overhead.hashtable.expires");
        c.out.int(*expires as i64);
        c.out.bulk(b"overhead.hashtable.slot-to-keys");
        c.out.int(0);
    }
    c.out.bulk(b"overhead.total");
    c.out.int(overhead as i64);
    c.out.bulk(b"keys.count");
    c.out.int(r.keys as i64);
    c.out.bulk(b"keys.bytes-per-key");
    c.out.int(net.checked_div(r.keys).unwrap_or(0) as i64);
    c.out.bulk(b"dataset.bytes");
    c.out.int(dataset as i64);
    c.out.bulk(b"dataset.percentage");
    c.out.double(if net == 0 { 0.0 } else { dataset as f64 * 100.0 / net as f64 });
    c.out.bulk(b"peak.percentage");
    c.out.double(if r.peak == 0 { 0.0 } else { r.total as f64 * 100.0 / r.peak as f64 });
}

/// MEMORY DOCTOR: what in the memory figures deserves attention.
fn memory_doctor(s: &mut Server) -> String {
    let r = MemoryReport::of(s);
    const LITTLE: usize = 5 << 20;
    if r.total < LITTLE {
        return String::from(
            "This server holds too little data for a memory analysis to say anything useful: come back once it stores more.\n",
        );
    }
    let mut found: Vec<&str> = Vec::new();
    if r.peak > r.total + r.total / 2 {
        found.push(" * Peak memory: in the past this server used more than 150% of the memory it uses now; memory freed since then may still be held by the heap's free lists.");
    }
    if r.clients > r.total / 4 {
        found.push(" * Big client buffers: clients use over a quarter of the memory (large pipelines, slow readers, or many pub/sub messages pending): see CLIENT LIST's omem and qbuf, and client-output-buffer-limit.");
    }
    if found.is_empty() {
        return String::from(
            "No memory problem found: the dataset dominates the memory used and the peak is close to it.\n",
        );
    }
    let mut report = String::from("A few things about this server's memory deserve attention:\n\n");
    for f in found {
        report.push_str(f);
        report.push('\n');
    }
    report
}

fn memory_usage(s: &mut Server, c: &mut Ctx) {
    let mut i = 3;
    while i < c.argc() {
        if eq_ic(c.arg(i), "samples") && i + 1 < c.argc() {
            // Validated like Redis's; the figure is exact, so unused.
            let Some(n) = int_arg(c, i + 1) else { return };
            if n < 0 {
                c.syntax_error();
                return;
            }
            i += 2;
        } else {
            c.syntax_error();
            return;
        }
    }
    // Like Redis, the key is looked up without expiring it.
    let key = c.arg(2);
    match s.dbs.get(c.db).and_then(|d| d.get(key)) {
        None => c.out.null(),
        Some(e) => {
            let bytes = e.value.mem() + crate::mem::block(key.len()) + ByteMap::<Entry>::ENTRY_BYTES;
            c.out.int(bytes as i64);
        }
    }
}
