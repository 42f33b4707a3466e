//! Commands that grow one value by an amount a short request chooses
//! (SETRANGE, SETBIT, APPEND, COPY, SUNIONSTORE, ZUNIONSTORE): Redis's
//! length checks first, then the memory check against the heap's hard limit
//! (`maxmemory_ceiling`, which `maxmemory` is by default on the appliance),
//! which evicts per policy or refuses with -OOM without changing anything.
//! A `maxmemory` set below the ceiling is checked only before a command, as
//! in Redis: a command may grow past it, and the next one evicts or, if it
//! may use memory, is refused.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::{ClientId, Config, EvictionPolicy};

const MAX: usize = 1024 * 1024;
const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
const TOO_BIG: &str = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
const BAD_OFFSET: &str = "-ERR bit offset is not an integer or out of range\r\n";

/// A server whose `maxmemory` is the hard ceiling, as the appliance's is by
/// default (0: neither).
fn server(maxmemory: usize, policy: EvictionPolicy) -> (H, ClientId) {
    limited(maxmemory, maxmemory, policy)
}

/// A server with a `maxmemory` and a hard `ceiling` (0: none, the host
/// default).
fn limited(maxmemory: usize, ceiling: usize, policy: EvictionPolicy) -> (H, ClientId) {
    let mut cfg = Config::default();
    cfg.maxmemory_ceiling = ceiling;
    cfg.maxmemory = maxmemory;
    cfg.maxmemory_policy = policy;
    let mut h = H::with(cfg);
    let c = h.client();
    (h, c)
}

fn int(n: usize) -> String {
    format!(":{n}\r\n")
}

#[test]
fn length_limits_come_first_with_redis_errors() {
    let (mut h, c) = server(0, EvictionPolicy::NoEviction);
    let limit = h.s.cfg.proto_max_bulk_len;
    let past = format!("{}", limit);
    assert_eq!(h.cmd(c, &["SETRANGE", "k", &past, "x"]), TOO_BIG);
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "-1", "x"]), "-ERR offset is out of range\r\n");
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "x", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.cmd(c, &["SETBIT", "k", &format!("{}", limit as u64 * 8), "1"]), BAD_OFFSET);
    assert_eq!(h.cmd(c, &["SETBIT", "k", "-1", "1"]), BAD_OFFSET);
    assert_eq!(h.cmd(c, &["SETBIT", "k", "0", "2"]), "-ERR bit is not an integer or out of range\r\n");
    // An empty value never grows anything, whatever the offset.
    assert_eq!(h.cmd(c, &["SETRANGE", "k", &past, ""]), ":0\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
    h.s.cfg.proto_max_bulk_len = 10;
    assert_eq!(h.cmd(c, &["SET", "s", "123456"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["APPEND", "s", "12345"]), TOO_BIG);
    assert_eq!(h.cmd(c, &["APPEND", "s", "1234"]), ":10\r\n");
    assert_eq!(h.cmd(c, &["SETRANGE", "s", "8", "abc"]), TOO_BIG);
    assert_eq!(h.cmd(c, &["GET", "s"]), "$10\r\n1234561234\r\n");
}

/// Growth that cannot fit under `maxmemory` (the ceiling) is refused before
/// anything is allocated or changed; growth that fits goes through.
#[test]
fn noeviction_refuses_growth_past_maxmemory() {
    let (mut h, c) = server(MAX, EvictionPolicy::NoEviction);
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "50000000", "x"]), OOM);
    assert_eq!(h.cmd(c, &["SETBIT", "k", "1000000000", "1"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
    // Growth that fits.
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "199999", "x"]), int(200_000));
    assert_eq!(h.cmd(c, &["SETBIT", "b", "799999", "1"]), ":0\r\n");
    assert_eq!(h.cmd(c, &["STRLEN", "b"]), int(100_000));
    assert!(h.s.eviction_memory() <= MAX);
    // Existing strings: refused growth leaves them as they were.
    let before = h.s.dataset_memory();
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "5000000", "y"]), OOM);
    assert_eq!(h.cmd(c, &["SETBIT", "b", "80000000", "1"]), OOM);
    // Below 1 MB a growing string doubles its room (Redis's greedy
    // growth): 250 000 bytes take 500 000, 550 000 would take 1 100 000.
    assert_eq!(h.cmd(c, &["APPEND", "k", &"z".repeat(50_000)]), int(250_000));
    assert_eq!(h.cmd(c, &["APPEND", "k", &"z".repeat(300_000)]), OOM);
    assert_eq!(h.cmd(c, &["STRLEN", "k"]), int(250_000));
    assert_eq!(h.cmd(c, &["STRLEN", "b"]), int(100_000));
    assert_eq!(h.cmd(c, &["GETRANGE", "k", "199999", "200000"]), "$2\r\nxz\r\n");
    assert!(h.s.dataset_memory() >= before);
    assert!(h.s.eviction_memory() <= MAX, "{}", h.s.eviction_memory());
    // Writes within the allocated room still work.
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "0", "abc"]), int(250_000));
}

/// APPEND to a big string reserves Redis's greedy room (1 MB spare past
/// 1 MB), not a doubling of the whole string.
#[test]
fn append_to_a_big_string_grows_by_a_bounded_step() {
    let (mut h, c) = server(0, EvictionPolicy::NoEviction);
    let big = "a".repeat(4 * 1024 * 1024);
    h.cmd(c, &["SET", "k", &big]);
    let before = h.s.dataset_memory();
    assert_eq!(h.cmd(c, &["APPEND", "k", "b"]), int(big.len() + 1));
    let grown = h.s.dataset_memory() - before;
    assert!((1024 * 1024..=1024 * 1024 + 64).contains(&grown), "grew by {grown}");
    // The next appends use that room.
    for _ in 0..1000 {
        h.cmd(c, &["APPEND", "k", "b"]);
    }
    assert_eq!(h.s.dataset_memory() - before, grown);
}

/// Under an eviction policy the growth makes room first, like
/// `performEvictions` for that many more bytes.
#[test]
fn eviction_makes_room_for_growth() {
    let (mut h, c) = server(MAX, EvictionPolicy::AllKeysRandom);
    let value = "v".repeat(1000);
    for i in 0..800 {
        h.cmd(c, &["SET", &format!("key:{i}"), &value]);
    }
    let keys_before = h.s.dbs[0].len();
    assert!(h.s.eviction_memory() > MAX / 2);
    assert_eq!(h.cmd(c, &["SETRANGE", "big", "599999", "x"]), int(600_000));
    assert!(h.s.dbs[0].len() < keys_before);
    assert!(h.s.stats.evicted_keys > 0);
    assert!(h.s.eviction_memory() <= MAX, "{}", h.s.eviction_memory());
    // A growth that could not fit even in an empty dataset evicts nothing.
    let keys = h.s.dbs[0].len();
    let evicted = h.s.stats.evicted_keys;
    assert_eq!(h.cmd(c, &["SETBIT", "k2", "100000000", "1"]), OOM);
    assert_eq!(h.s.dbs[0].len(), keys);
    assert_eq!(h.s.stats.evicted_keys, evicted);
}

#[test]
fn copy_and_store_results_are_checked() {
    let (mut h, c) = server(4 * MAX, EvictionPolicy::NoEviction);
    for i in 0..1000 {
        let m = format!("member:{i:04}");
        h.cmd(c, &["SADD", "s", &m]);
        h.cmd(c, &["ZADD", "z", &format!("{i}"), &m]);
        h.cmd(c, &["RPUSH", "l", &m]);
    }
    let free = 4 * MAX - h.s.eviction_memory();
    let big = "x".repeat(free * 2 / 5);
    h.cmd(c, &["SET", "str", &big]);
    // Room for one copy of the string, not two.
    assert_eq!(h.cmd(c, &["COPY", "str", "str2"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["COPY", "str", "str3"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "str3"]), ":0\r\n");
    assert_eq!(h.cmd(c, &["COPY", "z", "z2"]), ":1\r\n");
    // Fill up to 20 KB under the limit: no container copy fits any more.
    let room = 4 * MAX - h.s.eviction_memory();
    assert!(room < 1024 * 1024, "{room}");
    assert_eq!(h.cmd(c, &["SET", "filler", &"f".repeat(room - 20_000)]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["COPY", "z", "z3"]), OOM);
    assert_eq!(h.cmd(c, &["COPY", "l", "l2"]), OOM);
    assert_eq!(h.cmd(c, &["COPY", "s", "s2"]), OOM);
    assert_eq!(h.cmd(c, &["SUNIONSTORE", "s3", "s", "s"]), OOM);
    assert_eq!(h.cmd(c, &["ZUNIONSTORE", "z3", "1", "z"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "s2", "s3", "z3", "l2"]), ":0\r\n");
    assert!(h.s.eviction_memory() <= 4 * MAX, "{}", h.s.eviction_memory());
    // An existing destination is left alone by a refused store.
    h.cmd(c, &["DEL", "str2"]);
    assert_eq!(h.cmd(c, &["SADD", "dst", "a"]), ":1\r\n");
    h.cmd(c, &["DEL", "str"]);
    assert_eq!(h.cmd(c, &["SUNIONSTORE", "dst", "s", "s"]), ":1000\r\n");
    assert_eq!(h.cmd(c, &["SCARD", "dst"]), ":1000\r\n");
}

/// A collection's arrays double in one piece, so one more element can ask
/// for megabytes: that growth is checked before it happens too. Filling
/// each type up to `maxmemory` (the ceiling) never takes used memory past
/// it, and the refused command leaves the collection as it was. (The
/// element itself may still go past the limit, as in Redis: the next write
/// is refused.)
#[test]
fn collection_growth_never_passes_maxmemory() {
    type Cmd = fn(usize) -> Vec<String>;
    let cases: [(&str, Cmd, &str); 4] = [
        ("list", |i| vec!["RPUSH".into(), "k".into(), format!("{i}")], "LLEN"),
        ("hash", |i| vec!["HSET".into(), "k".into(), format!("f{i}"), "v".into()], "HLEN"),
        ("set", |i| vec!["SADD".into(), "k".into(), format!("m{i}")], "SCARD"),
        ("zset", |i| vec!["ZADD".into(), "k".into(), format!("{i}"), format!("m{i}")], "ZCARD"),
    ];
    for (name, cmd, len) in cases {
        let (mut h, c) = server(4 * MAX, EvictionPolicy::NoEviction);
        h.cmd(c, &["RPUSH", "src", "a"]);
        h.cmd(c, &["SADD", "ssrc", "a"]);
        let mut n = 0;
        loop {
            let args = cmd(n);
            let refs: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
            let r = h.cmd(c, &refs);
            let used = h.s.eviction_memory();
            assert!(used <= 4 * MAX + 256, "{name}: {used} after {n} elements");
            if r == OOM {
                break;
            }
            n += 1;
            assert!(n < 1_000_000, "{name}: never refused");
        }
        assert_eq!(h.cmd(c, &[len, "k"]), int(n), "{name}");
        // Moving an element in is refused before it leaves its source.
        match name {
            "list" => {
                assert_eq!(h.cmd(c, &["LMOVE", "src", "k", "LEFT", "RIGHT"]), OOM);
                assert_eq!(h.cmd(c, &["LINSERT", "k", "BEFORE", "0", "x"]), OOM);
                assert_eq!(h.cmd(c, &["LLEN", "src"]), ":1\r\n");
            }
            "set" => {
                assert_eq!(h.cmd(c, &["SMOVE", "ssrc", "k", "a"]), OOM);
                assert_eq!(h.cmd(c, &["SCARD", "ssrc"]), ":1\r\n");
            }
            "hash" => assert_eq!(h.cmd(c, &["HINCRBY", "k", "new", "1"]), OOM),
            _ => {}
        }
        assert_eq!(h.cmd(c, &[len, "k"]), int(n), "{name}");
    }
}

/// Under an eviction policy the same growth evicts other keys first.
#[test]
fn collection_growth_evicts_first() {
    let (mut h, c) = server(MAX, EvictionPolicy::AllKeysLru);
    let value = "x".repeat(1000);
    for i in 0..500 {
        h.cmd(c, &["SET", &format!("other:{i}"), &value]);
    }
    h.advance(5000);
    for i in 0..15_000 {
        let r = h.cmd(c, &["RPUSH", "list", &format!("{i}")]);
        assert_eq!(r, int(i + 1), "dbsize {} evicted {}", h.s.dbs[0].len(), h.s.stats.evicted_keys);
        assert!(h.s.eviction_memory() <= MAX + 256, "{}", h.s.eviction_memory());
    }
    assert!(h.s.stats.evicted_keys > 0);
}

/// Under a `maxmemory` set below the ceiling, as in Redis, a command that
/// started under the limit may grow a value past it (Redis checks only
/// before a command); then commands that may use memory are refused while
/// others run. Growth past the ceiling is still refused up front.
#[test]
fn growth_may_pass_a_user_maxmemory_below_the_ceiling() {
    let (mut h, c) = limited(MAX, 4 * MAX, EvictionPolicy::NoEviction);
    assert_eq!(h.s.cfg.maxmemory, MAX);
    // Past the ceiling: refused, nothing created.
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "5000000", "x"]), OOM);
    assert_eq!(h.cmd(c, &["SETBIT", "k", "40000000", "1"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
    assert!(h.s.eviction_memory() <= MAX);
    // Past maxmemory, within the ceiling: it runs.
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "1499999", "x"]), int(1_500_000));
    let used = h.s.eviction_memory();
    assert!(used > MAX && used <= 4 * MAX, "{used}");
    // Over the limit: writes that may use memory are refused...
    assert_eq!(h.cmd(c, &["SET", "x", "y"]), OOM);
    assert_eq!(h.cmd(c, &["SETBIT", "k", "0", "1"]), OOM);
    assert_eq!(h.cmd(c, &["APPEND", "k", "z"]), OOM);
    assert_eq!(h.s.eviction_memory(), used);
    // ...reads and deletes are not.
    assert_eq!(h.cmd(c, &["STRLEN", "k"]), int(1_500_000));
    assert_eq!(h.cmd(c, &["GETBIT", "k", "0"]), ":0\r\n");
    assert_eq!(h.cmd(c, &["DEL", "k"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["SET", "x", "y"]), "+OK\r\n");

    // Without a ceiling (the host default) only the allocator bounds a
    // command's growth, as in Redis.
    let (mut h, c) = limited(MAX, 0, EvictionPolicy::NoEviction);
    assert_eq!(h.cmd(c, &["SETRANGE", "k", "4999999", "x"]), int(5_000_000));
    assert_eq!(h.cmd(c, &["SET", "x", "y"]), OOM);
}

/// Under an eviction policy and a `maxmemory` below the ceiling, growth past
/// the limit evicts nothing; the next command evicts (Redis's
/// `performEvictions` before every command). Growth past the ceiling evicts
/// only what it takes to fit under the ceiling.
#[test]
fn growth_past_a_user_maxmemory_is_evicted_by_the_next_command() {
    let (mut h, c) = limited(MAX, 2 * MAX, EvictionPolicy::AllKeysRandom);
    let value = "v".repeat(1000);
    for i in 0..500 {
        h.cmd(c, &["SET", &format!("key:{i}"), &value]);
    }
    let keys = h.s.dbs[0].len();
    assert_eq!(keys, 500);
    assert!(h.s.eviction_memory() > MAX / 2 && h.s.eviction_memory() <= MAX);
    assert_eq!(h.cmd(c, &["SETRANGE", "big", "599999", "x"]), int(600_000));
    assert_eq!(h.s.stats.evicted_keys, 0);
    assert!(h.s.eviction_memory() > MAX);
    // Any next command evicts back under the limit first, even a read.
    assert_eq!(h.cmd(c, &["PING"]), "+PONG\r\n");
    assert!(h.s.stats.evicted_keys > 0);
    assert!(h.s.eviction_memory() <= MAX, "{}", h.s.eviction_memory());
    // 1.8 MB more cannot fit under the 2 MB ceiling next to what is left:
    // keys are evicted until it does.
    let evicted = h.s.stats.evicted_keys;
    assert_eq!(h.cmd(c, &["SETRANGE", "huge", "1799999", "x"]), int(1_800_000));
    assert!(h.s.stats.evicted_keys > evicted);
    let used = h.s.eviction_memory();
    assert!(used > MAX && used <= 2 * MAX, "{used}");
    // A growth that could not fit under the ceiling even in an empty
    // dataset evicts nothing (once the next command has evicted down to
    // the limit).
    assert_eq!(h.cmd(c, &["PING"]), "+PONG\r\n");
    assert!(h.s.eviction_memory() <= MAX, "{}", h.s.eviction_memory());
    let (keys, evicted) = (h.s.dbs[0].len(), h.s.stats.evicted_keys);
    assert_eq!(h.cmd(c, &["SETBIT", "k2", "20000000", "1"]), OOM);
    assert_eq!((h.s.dbs[0].len(), h.s.stats.evicted_keys), (keys, evicted));
}
