//! The slow log, the latency monitor, per-command timing (INFO
//! commandstats and latencystats, LATENCY HISTOGRAM), timed with a fake
//! clock that advances a fixed step at every read.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::cell::Cell;

use super::harness::*;
use crate::script;

std::thread_local! {
    static CLOCK_US: Cell<u64> = const { Cell::new(0) };
    static STEP_US: Cell<u64> = const { Cell::new(0) };
}

/// Every read advances by the step: a command takes one step.
fn stepping_clock() -> u64 {
    CLOCK_US.with(|c| {
        let now = c.get() + STEP_US.with(Cell::get);
        c.set(now);
        now
    })
}

fn timed(step_us: u64) -> H {
    STEP_US.with(|s| s.set(step_us));
    let mut h = H::new();
    h.s.set_clock(stepping_clock);
    h
}

#[test]
fn slowlog_logs_commands_over_the_threshold_newest_first() {
    let mut h = timed(50);
    let c = h.client();
    script!(h, c,
        ["SLOWLOG", "LEN"] => ":0\r\n",
        ["CONFIG", "SET", "slowlog-log-slower-than", "51"] => "+OK\r\n",
        ["PING"] => "+PONG\r\n",
        ["SLOWLOG", "LEN"] => ":0\r\n",
        ["CONFIG", "SET", "slowlog-log-slower-than", "50"] => "+OK\r\n",
        ["CLIENT", "SETNAME", "me"] => "+OK\r\n",
        ["SET", "k", "v"] => "+OK\r\n",
    );
    // The CONFIG SET, CLIENT SETNAME and SET; then the SLOWLOG LEN itself.
    assert_eq!(h.cmd(c, &["SLOWLOG", "LEN"]), ":3\r\n");
    let t = h.now.unix_ms / 1000;
    let entry =
        |id: u64, args: &str| format!("*6\r\n:{id}\r\n:{t}\r\n:50\r\n{args}$15\r\n127.0.0.1:50000\r\n$2\r\nme\r\n");
    assert_eq!(
        h.cmd(c, &["SLOWLOG", "GET", "2"]),
        format!(
            "*2\r\n{}{}",
            entry(3, "*2\r\n$7\r\nSLOWLOG\r\n$3\r\nLEN\r\n"),
            // Not kept for the slow log: the value went into the keyspace.
            entry(2, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\n(moved)\r\n")
        )
    );
    script!(h, c,
        ["SLOWLOG", "GET", "-2"] => "-ERR count should be greater than or equal to -1\r\n",
        ["SLOWLOG", "GET", "x"] => "-ERR count should be greater than or equal to -1\r\n",
        ["SLOWLOG", "GET", "1", "2"] => "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n",
        ["SLOWLOG", "LEN", "x"] => "-ERR wrong number of arguments for 'slowlog|len' command\r\n",
        ["CONFIG", "SET", "slowlog-max-len", "2"] => "+OK\r\n",
        ["SLOWLOG", "LEN"] => ":2\r\n",
        ["SLOWLOG", "RESET"] => "+OK\r\n",
        ["CONFIG", "SET", "slowlog-log-slower-than", "-1"] => "+OK\r\n",
        ["PING"] => "+PONG\r\n",
        ["SLOWLOG", "LEN"] => ":1\r\n", // the SLOWLOG RESET
    );
}

#[test]
fn slowlog_cuts_arguments_redacts_secrets_and_skips_exec() {
    let mut h = timed(1);
    let c = h.client();
    script!(h, c, ["CONFIG", "SET", "slowlog-log-slower-than", "0"] => "+OK\r\n", ["SLOWLOG", "RESET"] => "+OK\r\n");
    let mut args = vec!["RPUSH", "l"];
    let numbers: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    args.extend(numbers.iter().map(String::as_str));
    h.cmd(c, &args);
    let long = "A".repeat(130);
    h.cmd(c, &["SET", "k", &long]);
    h.cmd(c, &["AUTH", "secret"]);
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["INCR", "n"]);
    h.cmd(c, &["EXEC"]);
    let log = h.cmd(c, &["SLOWLOG", "GET", "4"]);
    // Newest first: INCR (run by EXEC, which is not logged), MULTI, AUTH, SET.
    let parts: Vec<&str> = log.split("*6\r\n").skip(1).collect();
    assert!(parts[0].contains("$4\r\nINCR\r\n"), "{log}");
    assert!(parts[1].contains("$5\r\nMULTI\r\n"), "{log}");
    assert!(parts[2].contains("$4\r\nAUTH\r\n$10\r\n(redacted)\r\n"), "{log}");
    assert!(parts[3].contains(&format!("$146\r\n{}... (2 more bytes)\r\n", "A".repeat(128))), "{log}");
    let all = h.cmd(c, &["SLOWLOG", "GET", "-1"]);
    assert!(all.contains("*32\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\n0\r\n"), "{all}");
    assert!(all.contains("$2\r\n28\r\n$23\r\n... (11 more arguments)\r\n"), "{all}");
}

#[test]
fn a_blocked_command_is_logged_once_served_as_sent() {
    let mut h = timed(1);
    let c = h.client();
    let waiter = h.client();
    script!(h, c, ["CONFIG", "SET", "slowlog-log-slower-than", "0"] => "+OK\r\n");
    assert_eq!(h.cmd(waiter, &["BLPOP", "q", "0"]), "");
    h.cmd(c, &["SLOWLOG", "RESET"]);
    h.cmd(c, &["LPUSH", "q", "x"]);
    assert_eq!(show(&h.take(waiter)), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    let log = h.cmd(c, &["SLOWLOG", "GET", "1"]);
    assert!(log.contains("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"), "{log}");
    let stats = h.cmd(c, &["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_blpop:calls=1,"), "{stats}");
}

#[test]
fn latency_monitor_records_events_over_the_threshold() {
    let mut h = timed(3_000);
    let c = h.client();
    script!(h, c,
        ["LATENCY", "LATEST"] => "*0\r\n",
        ["CONFIG", "SET", "latency-monitor-threshold", "4"] => "+OK\r\n",
        ["PING"] => "+PONG\r\n",
        ["LATENCY", "LATEST"] => "*0\r\n",
        ["CONFIG", "SET", "latency-monitor-threshold", "3"] => "+OK\r\n",
    );
    h.cmd(c, &["PING"]);
    h.advance(2000);
    h.cmd(c, &["KEYS", "*"]);
    let t = h.now.unix_ms / 1000;
    let latest = h.cmd(c, &["LATENCY", "LATEST"]);
    assert!(latest.contains(&format!("*4\r\n$12\r\nfast-command\r\n:{}\r\n:3\r\n:3\r\n", t - 2)), "{latest}");
    assert!(latest.contains(&format!("*4\r\n$7\r\ncommand\r\n:{t}\r\n:3\r\n:3\r\n")), "{latest}");
    // The CONFIG SET that lowered the threshold was the first.
    assert_eq!(
        h.cmd(c, &["LATENCY", "HISTORY", "command"]),
        format!("*2\r\n*2\r\n:{}\r\n:3\r\n*2\r\n:{t}\r\n:3\r\n", t - 2)
    );
    assert_eq!(h.cmd(c, &["LATENCY", "HISTORY", "nope"]), "*0\r\n");
    assert!(h.cmd(c, &["LATENCY", "GRAPH", "command"]).contains("command - high 3 ms, low 3 ms (all time high 3 ms)"));
    assert_eq!(h.cmd(c, &["LATENCY", "GRAPH", "nope"]), "-ERR No samples available for event 'nope'\r\n");
    assert!(h.cmd(c, &["LATENCY", "DOCTOR"]).contains("command: "));
    assert_eq!(h.cmd(c, &["LATENCY", "RESET", "command", "nope"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["LATENCY", "RESET"]), ":2\r\n"); // fast-command, and the RESET's own
    assert_eq!(h.cmd(c, &["LATENCY", "HELP", "x"]), "-ERR wrong number of arguments for 'latency|help' command\r\n");
}

#[test]
fn command_times_reach_commandstats_latencystats_and_histograms() {
    let mut h = timed(3);
    let c = h.client();
    h.cmd(c, &["CONFIG", "RESETSTAT"]);
    h.cmd(c, &["SET", "a", "1"]);
    h.cmd(c, &["SET", "b", "2"]);
    h.cmd(c, &["CLIENT", "ID"]);
    let stats = h.cmd(c, &["INFO", "commandstats"]);
    assert!(
        stats.contains("cmdstat_set:calls=2,usec=6,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n"),
        "{stats}"
    );
    assert!(stats.contains("cmdstat_client|id:calls=1,usec=3,"), "{stats}");
    let lat = h.cmd(c, &["INFO", "latencystats"]);
    assert!(lat.contains("latency_percentiles_usec_set:p50=3.007,p99=3.007,p99.9=3.007\r\n"), "{lat}");
    h.cmd(c, &["CONFIG", "SET", "latency-tracking-info-percentiles", "0 100"]);
    assert!(h.cmd(c, &["INFO", "latencystats"]).contains("latency_percentiles_usec_set:p0=2.992,p100=3.007\r\n"));
    let histo = h.cmd(c, &["LATENCY", "HISTOGRAM", "set", "client", "nope"]);
    assert!(histo.starts_with("*4\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n*2\r\n:4\r\n:2\r\n$9\r\nclient|id\r\n"), "{histo}");
    h.cmd(c, &["CONFIG", "RESETSTAT"]);
    assert!(!h.cmd(c, &["INFO", "commandstats"]).contains("cmdstat_set"));
    assert_eq!(h.cmd(c, &["LATENCY", "HISTOGRAM", "set"]), "*0\r\n");
    h.cmd(c, &["CONFIG", "SET", "latency-tracking", "no"]);
    h.cmd(c, &["GET", "a"]);
    assert_eq!(h.cmd(c, &["LATENCY", "HISTOGRAM", "get"]), "*0\r\n");
}

#[test]
fn command_getkeysandflags_and_list_with_subcommands() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"] => "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n",
        ["COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2"] => "*2\r\n*2\r\n$2\r\nk1\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$2\r\nk2\r\n*2\r\n+OW\r\n+update\r\n",
        ["COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b"] => "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n",
        ["COMMAND", "GETKEYS", "zunionstore", "d", "3", "a", "b"] => "-ERR Invalid arguments specified for command\r\n",
        ["COMMAND", "GETKEYS", "ping", "x"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYS", "ping"] => "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        // Shard channels are not keys; that is checked before the arity.
        ["COMMAND", "GETKEYS", "spublish", "ch", "m"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYS", "spublish", "ch"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYSANDFLAGS", "ssubscribe", "a", "b"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYS", "sunsubscribe", "a"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYS", "sunsubscribe"] => "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        ["COMMAND", "GETKEYS", "get"] => "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        ["COMMAND", "GETKEYS", "get", "a", "b"] => "-ERR Invalid number of arguments specified for command\r\n",
        ["COMMAND", "GETKEYS", "pfmerge", "d"] => "-ERR Invalid arguments specified for command\r\n",
        ["COMMAND", "GETKEYS", "pfmerge", "d", "s"] => "*2\r\n$1\r\nd\r\n$1\r\ns\r\n",
        // Container commands: the subcommand decides.
        ["COMMAND", "GETKEYS", "object"] => "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        ["COMMAND", "GETKEYS", "object", "nosuch", "k"] => "-ERR Invalid command specified\r\n",
        ["COMMAND", "GETKEYS", "object", "help"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYS", "object", "encoding"] => "-ERR Invalid number of arguments specified for command\r\n",
        ["COMMAND", "GETKEYSANDFLAGS", "OBJECT", "ENCODING", "k"] => "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n+RO\r\n",
        ["COMMAND", "GETKEYS", "xgroup", "create", "s", "g"] => "-ERR Invalid number of arguments specified for command\r\n",
        ["COMMAND", "GETKEYSANDFLAGS", "xgroup", "create", "s", "g", "$", "MKSTREAM"] => "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n+RW\r\n+insert\r\n",
        ["COMMAND", "GETKEYS", "client", "list"] => "-ERR The command has no key arguments\r\n",
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "GET", "u8", "0"] => "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n",
        // MIGRATE: the key argument, or what follows KEYS.
        ["COMMAND", "GETKEYS", "migrate", "h", "1", "k", "0", "1"] => "*1\r\n$1\r\nk\r\n",
        ["COMMAND", "GETKEYSANDFLAGS", "migrate", "h", "1", "", "0", "1", "COPY", "AUTH2", "u", "p", "KEYS", "a", "b"] => "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n",
        ["COMMAND", "GETKEYS", "migrate", "h", "1", "k", "0", "1", "KEYS", "a"] => "-ERR Invalid arguments specified for command\r\n",
        ["COMMAND", "GETKEYS", "migrate", "h", "1", "k", "0", "1", "KEYS"] => "*1\r\n$1\r\nk\r\n",
        ["COMMAND", "GETKEYS", "migrate", "h", "1", "", "0", "1", "KEYS"] => "*1\r\n$0\r\n\r\n",
        ["COMMAND", "LIST", "bad"] => "-ERR syntax error\r\n",
        ["COMMAND", "LIST", "FILTERBY", "bad", "x"] => "-ERR syntax error\r\n",
        ["COMMAND", "LIST", "FILTERBY", "MODULE", "x"] => "*0\r\n",
        ["COMMAND", "LIST", "FILTERBY", "PATTERN", "slowlog|*e*"] => "*4\r\n$11\r\nslowlog|get\r\n$12\r\nslowlog|help\r\n$11\r\nslowlog|len\r\n$13\r\nslowlog|reset\r\n",
    );
    assert!(h.cmd(c, &["COMMAND", "LIST"]).contains("$11\r\nclient|list\r\n"));
}

#[test]
fn lfu_counts_accesses_and_evicts_the_least_used() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["SET", "k", "v"] => "+OK\r\n",
        ["OBJECT", "FREQ", "k"] => "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0"] => "+OK\r\n",
        ["SET", "hot", "v"] => "+OK\r\n",
        ["OBJECT", "FREQ", "hot"] => ":5\r\n",
        ["OBJECT", "IDLETIME", "hot"] => "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
    );
    // With lfu-log-factor 0 every access counts.
    for _ in 0..10 {
        h.cmd(c, &["GET", "hot"]);
    }
    assert_eq!(h.cmd(c, &["OBJECT", "FREQ", "hot"]), ":15\r\n");
    // A minute idle costs one step per lfu-decay-time minutes.
    h.advance(2 * 60_000);
    assert_eq!(h.cmd(c, &["OBJECT", "FREQ", "hot"]), ":13\r\n");
    script!(h, c, ["CONFIG", "SET", "lfu-decay-time", "0"] => "+OK\r\n", ["OBJECT", "FREQ", "hot"] => ":15\r\n");
    // Under memory pressure the rarely used keys go first, even when the
    // often used one was not used lately (LRU would take it first).
    for _ in 0..20 {
        h.cmd(c, &["GET", "hot"]);
    }
    h.advance(10_000);
    for i in 0..200 {
        h.cmd(c, &["SET", &format!("cold{i}"), &"x".repeat(500)]);
    }
    // Room for about 10% of the dataset (eviction also counts a 64 KiB base).
    let max = h.s.dataset_memory() / 10 + 64 * 1024;
    h.cmd(c, &["CONFIG", "SET", "maxmemory", &max.to_string(), "maxmemory-samples", "10"]);
    assert!(h.s.stats().evicted_keys > 150, "{}", h.s.stats().evicted_keys);
    assert_eq!(h.cmd(c, &["EXISTS", "hot"]), ":1\r\n");
}

#[test]
fn memory_stats_doctor_purge_and_wait() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["SET", "a", "1"]);
    h.cmd(c, &["EXPIRE", "a", "100"]);
    let stats = h.cmd(c, &["MEMORY", "STATS"]);
    for field in [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "clients.normal",
        "db.0",
        "overhead.hashtable.main",
        "overhead.hashtable.expires",
        "keys.count",
        "dataset.bytes",
        "dataset.percentage",
        "peak.percentage",
    ] {
        assert!(stats.contains(&format!("${}\r\n{field}\r\n", field.len())), "{field}: {stats}");
    }
    assert!(stats.contains("$10\r\nkeys.count\r\n:1\r\n"), "{stats}");
    assert!(h.cmd(c, &["MEMORY", "DOCTOR"]).starts_with("$"));
    script!(h, c,
        ["MEMORY", "PURGE"] => "+OK\r\n",
        ["MEMORY", "STATS", "x"] => "-ERR wrong number of arguments for 'memory|stats' command\r\n",
        ["WAIT", "0", "0"] => ":0\r\n",
        ["WAIT", "x", "0"] => "-ERR value is not an integer or out of range\r\n",
        ["WAIT", "1", "-1"] => "-ERR timeout is negative\r\n",
    );
    // No replica acknowledges: WAIT 1 answers 0 once its timeout passed.
    assert_eq!(h.cmd(c, &["WAIT", "1", "100"]), "");
    h.advance(50);
    h.tick();
    assert_eq!(show(&h.take(c)), "");
    h.advance(60);
    h.tick();
    assert_eq!(show(&h.take(c)), ":0\r\n");
    // Inside MULTI it answers at once.
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["WAIT", "5", "0"]);
    assert_eq!(h.cmd(c, &["EXEC"]), "*1\r\n:0\r\n");
}
