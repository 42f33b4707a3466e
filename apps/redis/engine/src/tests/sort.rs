//! SORT / SORT_RO (replies checked against Redis 7.0.15).
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn sort_options() {
    let mut h = H::new();
    let a = h.client();
    h.cmd(a, &["RPUSH", "l", "3", "1", "2", "10"]);
    h.cmd(a, &["MSET", "w_1", "30", "w_2", "20", "w_3", "10"]);
    h.cmd(a, &["HSET", "h_1", "f", "b"]);
    h.cmd(a, &["HSET", "h_3", "f", "a"]);
    h.cmd(a, &["SADD", "s", "c", "a", "b"]);
    h.cmd(a, &["ZADD", "z", "1", "x", "2", "y", "3", "w"]);
    h.cmd(a, &["RPUSH", "bad", "a", "1"]);
    h.cmd(a, &["SET", "str", "x"]);
    script!(h, a,
        ["SORT", "l"] => "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n",
        ["SORT", "l", "DESC", "LIMIT", "1", "2"] => "*2\r\n$1\r\n3\r\n$1\r\n2\r\n",
        ["SORT", "l", "ALPHA"] => "*4\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n",
        // Missing BY keys weigh 0.
        ["SORT", "l", "BY", "w_*"] => "*4\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n",
        ["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"] =>
            "*8\r\n$2\r\n10\r\n$-1\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n2\r\n$-1\r\n$1\r\n1\r\n$1\r\nb\r\n",
        // A BY without `*` keeps the list's order (DESC reverses it).
        ["SORT", "l", "BY", "nosort", "DESC"] => "*4\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n",
        ["SORT", "l", "BY", "h_*->f", "ALPHA"] => "*4\r\n$1\r\n2\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n1\r\n",
        ["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"] => "*2\r\n$1\r\ny\r\n$1\r\nx\r\n",
        ["SORT", "l", "LIMIT", "-5", "-3"] => "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n",
        ["SORT", "l", "GET", "nostar"] => "*4\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n",
        ["SORT", "bad"] => "-ERR One or more scores can't be converted into double\r\n",
        ["SORT", "l", "LIMIT", "1"] => "-ERR syntax error\r\n",
        ["SORT", "l", "LIMIT", "a", "b"] => "-ERR value is not an integer or out of range\r\n",
        ["SORT_RO", "l", "STORE", "x"] => "-ERR syntax error\r\n",
        ["SORT", "str"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["SORT", "nokey"] => "*0\r\n",
        ["SORT_RO", "l", "LIMIT", "0", "1"] => "*1\r\n$1\r\n1\r\n",
    );
    // STORE: a list; a set is sorted ALPHA even with a constant BY; an
    // empty result deletes the destination.
    script!(h, a,
        ["SORT", "l", "STORE", "dst"] => ":4\r\n",
        ["LRANGE", "dst", "0", "-1"] => "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n",
        ["SORT", "s", "BY", "nosort", "STORE", "d2"] => ":3\r\n",
        ["LRANGE", "d2", "0", "-1"] => "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ["SORT", "nokey", "STORE", "dst"] => ":0\r\n",
        ["EXISTS", "dst"] => ":0\r\n",
    );
}

#[test]
fn sort_store_wakes_blocked_clients_and_touches_watch() {
    let mut h = H::new();
    let a = h.client();
    let p = h.client();
    assert_eq!(h.cmd(a, &["BLPOP", "foo", "0"]), "");
    h.cmd(p, &["RPUSH", "src", "hello", "hola", "aguacate"]);
    assert_eq!(h.cmd(p, &["SORT", "src", "ALPHA", "STORE", "foo"]), ":3\r\n");
    assert_eq!(show(&h.take(a)), "*2\r\n$3\r\nfoo\r\n$8\r\naguacate\r\n");
    // An empty result still modifies (deletes) a WATCHed destination.
    h.cmd(p, &["LPUSH", "w", "bar"]);
    script!(h, p,
        ["WATCH", "w"] => "+OK\r\n",
        ["SORT", "emptylist", "STORE", "w"] => ":0\r\n",
        ["MULTI"] => "+OK\r\n",
        ["PING"] => "+QUEUED\r\n",
        ["EXEC"] => "*-1\r\n",
    );
}

/// SORT ... STORE with GET patterns can multiply the data (each element
/// fetches a big string): the result is checked against the hard ceiling as
/// it grows, all of it, not each megabyte alone. Under a `maxmemory` below
/// the ceiling the result may pass `maxmemory`, as in Redis.
#[test]
fn sort_store_results_never_pass_the_ceiling() {
    const MB: usize = 1 << 20;
    const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    let mut cfg = crate::Config::default();
    cfg.maxmemory = 4 * MB;
    cfg.maxmemory_ceiling = 4 * MB;
    let mut h = H::with(cfg);
    let a = h.client();
    h.cmd(a, &["SET", "big_x", &"x".repeat(512 * 1024)]);
    let mut push = vec!["RPUSH", "l"];
    push.extend(["x"; 100]);
    h.cmd(a, &push);
    // 100 copies of 512 KB: 50 MB.
    assert_eq!(h.cmd(a, &["SORT", "l", "BY", "nosort", "GET", "big_*", "STORE", "dst"]), OOM);
    assert_eq!(h.cmd(a, &["EXISTS", "dst"]), ":0\r\n");
    assert!(h.s.eviction_memory() <= 4 * MB, "{}", h.s.eviction_memory());
    // Four copies (2 MB) fit under the ceiling.
    assert_eq!(h.cmd(a, &["SORT", "l", "BY", "nosort", "LIMIT", "0", "4", "GET", "big_*", "STORE", "dst"]), ":4\r\n");
    h.cmd(a, &["DEL", "dst"]);
    // Under a `maxmemory` of 1 MB below the ceiling, the same result runs
    // past it; the next write is refused.
    h.cmd(a, &["CONFIG", "SET", "maxmemory", "1mb"]);
    assert!(h.s.eviction_memory() <= MB);
    assert_eq!(h.cmd(a, &["SORT", "l", "BY", "nosort", "LIMIT", "0", "4", "GET", "big_*", "STORE", "dst"]), ":4\r\n");
    assert!(h.s.eviction_memory() > MB);
    assert_eq!(h.cmd(a, &["SET", "k", "v"]), OOM);
}
