//! SLOWLOG (GET, LEN, RESET, HELP) and LATENCY (LATEST, HISTORY, RESET,
//! GRAPH, DOCTOR, HISTOGRAM, HELP): what [`crate::slowlog`] and
//! [`crate::latency`] recorded, in Redis 7.0's replies.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{sub_arity_error, text, unknown_subcommand};
use crate::commands::TABLE;
use crate::introspect::{StatSlot, subcommands_of};
use crate::latency::{Histogram, Series};
use crate::server::{Ctx, Server};

const SLOWLOG_HELP: &[&[u8]] = &[
    b"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"GET [<count>]",
    b"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    b"    Entries are made of:",
    b"    id, timestamp, time in microseconds, arguments array, client IP and port,",
    b"    client name",
    b"LEN",
    b"    Return the length of the slowlog.",
    b"RESET",
    b"    Reset the slowlog.",
    b"HELP",
    b"    Prints this help.",
];

/// Redis's reply to a known subcommand with arguments it does not take.
fn subcommand_syntax_error(c: &mut Ctx) {
    let sub = text(c.arg(1));
    let cmd = c.spec.name.to_ascii_uppercase();
    c.out.err(&format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."));
}

pub fn slowlog(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    let argc = c.argc();
    match sub.as_slice() {
        b"help" if argc == 2 => c.out.help(SLOWLOG_HELP),
        b"reset" if argc == 2 => {
            s.watch.slowlog.reset();
            c.out.ok();
        }
        b"len" if argc == 2 => c.out.int(s.watch.slowlog.entries.len() as i64),
        b"get" if argc <= 3 => {
            let len = s.watch.slowlog.entries.len();
            let count = match c.argv.get(2).map(|a| crate::util::parse_i64(a)) {
                None => 10,
                Some(Some(-1)) => len,
                Some(Some(n)) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                Some(_) => {
                    c.out.err("ERR count should be greater than or equal to -1");
                    return;
                }
            };
            let entries: Vec<_> = s.watch.slowlog.entries.iter().take(count).collect();
            c.out.array(entries.len());
            for e in entries {
                c.out.array(6);
                c.out.int(e.id as i64);
                c.out.int(e.time as i64);
                c.out.int(e.duration_us as i64);
                c.out.array(e.argv.len());
                for a in &e.argv {
                    c.out.bulk(a);
                }
                c.out.bulk(e.peer.as_bytes());
                c.out.bulk(&e.name);
            }
        }
        b"get" => subcommand_syntax_error(c),
        b"help" | b"reset" | b"len" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

const LATENCY_HELP: &[&[u8]] = &[
    b"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"DOCTOR",
    b"    Return a human readable latency analysis report.",
    b"GRAPH <event>",
    b"    Return an ASCII latency graph for the <event> class.",
    b"HISTORY <event>",
    b"    Return time-latency samples for the <event> class.",
    b"LATEST",
    b"    Return the latest latency samples for all events.",
    b"RESET [<event> ...]",
    b"    Reset latency data of one or more <event> classes.",
    b"    (default: reset all data for all event classes)",
    b"HISTOGRAM [COMMAND ...]",
    b"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    b"    If no commands are specified then all histograms are replied.",
    b"HELP",
    b"    Prints this help.",
];

pub fn latency(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    let argc = c.argc();
    match sub.as_slice() {
        b"help" if argc == 2 => c.out.help(LATENCY_HELP),
        b"latest" if argc == 2 => {
            let events = &s.watch.monitor.events;
            c.out.array(events.len());
            for (name, series) in events {
                let (time, ms) = series.latest();
                c.out.array(4);
                c.out.bulk(name.as_bytes());
                c.out.int(i64::from(time));
                c.out.int(i64::from(ms));
                c.out.int(i64::from(series.max));
            }
        }
        b"history" if argc == 3 => {
            let samples: Vec<(u32, u32)> =
                s.watch.monitor.get(c.arg(2)).map(|(_, series)| series.history().collect()).unwrap_or_default();
            c.out.array(samples.len());
            for (time, ms) in samples {
                c.out.array(2);
                c.out.int(i64::from(time));
                c.out.int(i64::from(ms));
            }
        }
        b"reset" => {
            let n = if argc == 2 {
                s.watch.monitor.reset(None)
            } else {
                (2..argc).map(|i| s.watch.monitor.reset(Some(&c.argv[i]))).sum()
            };
            c.out.int(n as i64);
        }
        b"graph" if argc == 3 => match s.watch.monitor.get(c.arg(2)) {
            Some((name, series)) => {
                let graph = graph(name, series, s.now.unix_ms / 1000);
                c.out.verbatim(graph.as_bytes());
            }
            None => {
                let event = text(c.arg(2));
                c.out.err(&format!("ERR No samples available for event '{event}'"));
            }
        },
        b"doctor" if argc == 2 => {
            let report = doctor(s);
            c.out.verbatim(report.as_bytes());
        }
        b"histogram" => histogram(s, c),
        b"help" | b"latest" | b"history" | b"graph" | b"doctor" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

/// `name` (the command at `i` in [`TABLE`]) and its subcommands, with
/// where their counters are.
fn with_subcommands(wanted: &mut Vec<(String, StatSlot)>, i: usize, name: &str) {
    wanted.push((String::from(name), StatSlot::Command(i)));
    if let Some((base, subs)) = subcommands_of(name) {
        for (j, sub) in subs.iter().enumerate() {
            wanted.push((format!("{name}|{sub}"), StatSlot::Subcommand(base + j)));
        }
    }
}

/// LATENCY HISTOGRAM [command ...]: per command with calls (all of them,
/// or those named; a container names its subcommands too), its calls and
/// cumulative latency distribution.
fn histogram(s: &mut Server, c: &mut Ctx) {
    let mut wanted: Vec<(String, StatSlot)> = Vec::new();
    if c.argc() == 2 {
        for (i, spec) in TABLE.iter().enumerate() {
            with_subcommands(&mut wanted, i, spec.name);
        }
    }
    for arg in c.argv.iter().skip(2) {
        let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
        match name.split_once('|') {
            Some((container, sub)) => {
                if let Some((base, subs)) = subcommands_of(container)
                    && let Some(j) = subs.iter().position(|s| *s == sub)
                {
                    wanted.push((name.clone(), StatSlot::Subcommand(base + j)));
                }
            }
            None => {
                if let Some(i) = TABLE.iter().position(|t| t.name == name) {
                    with_subcommands(&mut wanted, i, &name);
                }
            }
        }
    }
    let found: Vec<(&str, &Histogram)> = wanted
        .iter()
        .filter_map(|(name, slot)| Some((name.as_str(), s.stats.calls.get(*slot)?.latency.as_ref()?)))
        .collect();
    c.out.map(found.len());
    for (name, h) in found {
        c.out.bulk(name.as_bytes());
        c.out.map(2);
        c.out.bulk(b"calls");
        c.out.int(h.total() as i64);
        c.out.bulk(b"histogram_usec");
        let points = h.cumulative_usec();
        c.out.map(points.len());
        for (us, n) in points {
            c.out.int(us as i64);
            c.out.int(n as i64);
        }
    }
}

/// Rows of the graph (the tallest sample fills them all).
const GRAPH_ROWS: u32 = 4;

/// LATENCY GRAPH: the event's samples as columns, oldest on the left,
/// each as tall as its latency relative to the range seen, with how long
/// ago it was written vertically underneath.
fn graph(name: &str, series: &Series, now: u64) -> String {
    let samples: Vec<(u32, u32)> = series.history().collect();
    let high = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let low = samples.iter().map(|s| s.1).min().unwrap_or(0);
    let mut g = format!("{name} - high {high} ms, low {low} ms (all time high {} ms)\n", series.max);
    g.push_str(&"-".repeat(80));
    g.push('\n');
    let span = (high - low).max(1);
    for row in (0..GRAPH_ROWS).rev() {
        for &(_, ms) in &samples {
            // Height in quarter rows above the bottom of this row.
            let level = (u64::from(ms - low) * u64::from(GRAPH_ROWS * 2) / u64::from(span)) as u32;
            g.push(match level.saturating_sub(row * 2) {
                0 if row == 0 => '_',
                0 => ' ',
                1 => '-',
                _ => '#',
            });
        }
        g.push('\n');
    }
    let ages: Vec<String> = samples
        .iter()
        .map(|&(t, _)| {
            let ago = now.saturating_sub(u64::from(t));
            match ago {
                0..=59 => format!("{ago}s"),
                60..=3599 => format!("{}m", ago / 60),
                _ => format!("{}h", ago / 3600),
            }
        })
        .collect();
    let height = ages.iter().map(String::len).max().unwrap_or(0);
    for i in 0..height {
        for age in &ages {
            g.push(age.as_bytes().get(i).map_or(' ', |&b| b as char));
        }
        g.push('\n');
    }
    g
}

/// LATENCY DOCTOR: each event's spikes, their average, spread and
/// period, and what usually helps against that kind of event.
fn doctor(s: &Server) -> String {
    let threshold = s.cfg.stats.latency_monitor_threshold;
    if threshold == 0 {
        return String::from(
            "Latency monitoring is disabled on this server, so there is nothing to analyse yet. Enable it with \"CONFIG SET latency-monitor-threshold <milliseconds>\" and ask again once events were recorded.\n",
        );
    }
    let events = &s.watch.monitor.events;
    if events.is_empty() {
        return String::from("No latency spike was observed since latency monitoring started: nothing to report.\n");
    }
    let mut r = String::from("Latency spikes were observed on this server:\n\n");
    let mut advice: Vec<&str> = Vec::new();
    for (n, (name, series)) in events.iter().enumerate() {
        let samples: Vec<(u32, u32)> = series.history().collect();
        let count = samples.len().max(1) as u64;
        let avg = samples.iter().map(|s| u64::from(s.1)).sum::<u64>() / count;
        let mad = samples.iter().map(|s| u64::from(s.1).abs_diff(avg)).sum::<u64>() / count;
        let period = match (samples.first(), samples.last()) {
            (Some(a), Some(b)) => f64::from(b.0 - a.0) / count as f64,
            _ => 0.0,
        };
        let _ = writeln!(
            r,
            "{}. {name}: {} latency spikes (average {avg}ms, mean deviation {mad}ms, period {period:.2} sec). Worst all time event {}ms.",
            n + 1,
            samples.len(),
            series.max
        );
        match *name {
            "command" => {
                let slow = s.cfg.stats.slowlog_log_slower_than;
                if slow < 0 {
                    advice.push("- The slow log is disabled: enable it (CONFIG SET slowlog-log-slower-than) to see which commands are slow.");
                } else if slow as u64 / 1000 > threshold {
                    advice.push("- The slow log only takes commands slower than the latency threshold: lower slowlog-log-slower-than to see the commands behind these spikes.");
                }
                advice.push("- Read the slow log (SLOWLOG GET) for the commands that took long: O(N) commands on big values (KEYS, SMEMBERS, LRANGE 0 -1, DEL of large keys...) are the usual cause.");
            }
            "fast-command" => advice.push("- Commands that should take constant time were slow: the CPU was probably taken from this server by its host (other virtual machines, CPU limits)."),
            "expire-cycle" => advice.push("- Expiring keys took long: many keys expiring at the same time, or large values expiring, make the cycle slow; spread the TTLs."),
            "eviction-cycle" | "eviction-del" => advice.push("- Eviction took long: a write that needs much memory at once evicts many keys; raise maxmemory or write smaller values."),
            "command-unblocking" => advice.push("- Serving blocked clients took long: many clients blocked on the same keys are served in one go."),
            _ => {}
        }
    }
    advice.dedup();
    if !advice.is_empty() {
        r.push_str("\nWhat may help:\n\n");
        for a in advice {
            r.push_str(a);
            r.push('\n');
        }
    }
    r
}
