//! Keyspace growth under `maxmemory`: the slab/table reservations count as
//! used memory, and a new key whose insertion would grow them past the
//! limit is refused with -OOM (Redis's `dictExpandAllowed`), or makes room
//! by eviction under an eviction policy.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::{Config, EvictionPolicy};

const MAX: usize = 256 * 1024;
/// Upper bound of what one `bench:key:N` -> `value-N` entry adds beyond
/// the reserved capacity: key, value, and their bookkeeping.
const ONE_ENTRY: usize = 128;
const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

fn server(policy: EvictionPolicy) -> (H, crate::ClientId) {
    let mut cfg = Config::default();
    cfg.maxmemory = MAX;
    cfg.maxmemory_policy = policy;
    let mut h = H::with(cfg);
    let c = h.client();
    (h, c)
}

fn set(h: &mut H, c: crate::ClientId, i: usize) -> String {
    h.cmd(c, &["SET", &format!("bench:key:{i}"), &format!("value-{i}")])
}

#[test]
fn noeviction_refuses_new_keys_before_growing_past_maxmemory() {
    let (mut h, c) = server(EvictionPolicy::NoEviction);
    let mut stored = 0;
    loop {
        let r = set(&mut h, c, stored);
        let used = h.s.eviction_memory();
        assert!(used <= MAX + ONE_ENTRY, "used {used} after {stored} keys");
        if r == OOM {
            break;
        }
        assert_eq!(r, "+OK\r\n");
        stored += 1;
        assert!(stored < 100_000, "never refused");
    }
    // INFO reports the same figure plus client buffers.
    let info = h.cmd(c, &["INFO", "memory"]);
    let used: usize = info.split("used_memory:").nth(1).and_then(|s| s.split("\r\n").next()).unwrap().parse().unwrap();
    assert!(used >= h.s.eviction_memory(), "{info}");
    assert_eq!(h.cmd(c, &["DBSIZE"]), format!(":{stored}\r\n"));
    for i in 0..stored {
        let v = format!("value-{i}");
        assert_eq!(h.cmd(c, &["GET", &format!("bench:key:{i}")]), format!("${}\r\n{v}\r\n", v.len()));
    }
    // Multi-key writes are refused the same way.
    assert_eq!(h.cmd(c, &["MSET", "new:a", "1", "new:b", "2"]), OOM);
    assert_eq!(h.cmd(c, &["GET", "new:a"]), "$-1\r\n");
}

/// When the limit itself is not reached, only the growth is refused (like
/// Redis's `dictExpandAllowed`): overwrites and deletes still work, and a
/// deleted key's slot can take a new key again.
#[test]
fn refused_growth_still_allows_overwrites() {
    let (mut h, c) = server(EvictionPolicy::NoEviction);
    let mut stored = 0;
    while set(&mut h, c, stored) == "+OK\r\n" {
        stored += 1;
    }
    // With these small entries the slab doubling is what does not fit.
    let used = h.s.eviction_memory();
    let growth = h.s.dbs[0].map().growth_bytes(1);
    assert!(used <= MAX && used + growth > MAX, "used {used} growth {growth}");
    assert_eq!(h.cmd(c, &["SET", "bench:key:1", "other"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["DEL", "bench:key:2"]), ":1\r\n");
    assert_eq!(set(&mut h, c, stored), "+OK\r\n");
    assert_eq!(set(&mut h, c, stored + 1), OOM);
    // Inside EXEC nothing is evicted, but the growth is still refused.
    assert_eq!(h.cmd(c, &["MULTI"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["SET", "bench:key:1", "x"]), "+QUEUED\r\n");
    assert_eq!(h.cmd(c, &["SET", "brand:new", "x"]), "+QUEUED\r\n");
    assert_eq!(h.cmd(c, &["EXEC"]), format!("*2\r\n+OK\r\n{OOM}"));
    assert_eq!(h.cmd(c, &["GET", "bench:key:1"]), "$1\r\nx\r\n");
}

#[test]
fn eviction_makes_room_for_keyspace_growth() {
    let (mut h, c) = server(EvictionPolicy::AllKeysLru);
    for i in 0..10_000 {
        assert_eq!(set(&mut h, c, i), "+OK\r\n", "key {i}");
        let used = h.s.eviction_memory();
        assert!(used <= MAX + ONE_ENTRY, "used {used} after key {i}");
    }
    let n = h.s.dbs[0].len();
    assert!(n > 100 && n < 10_000, "{n} keys left");
    let v = "value-9999";
    assert_eq!(h.cmd(c, &["GET", "bench:key:9999"]), format!("${}\r\n{v}\r\n", v.len()));
    let info = h.cmd(c, &["INFO", "stats"]);
    assert!(!info.contains("evicted_keys:0\r\n"), "{info}");
}

#[test]
fn ten_thousand_keys_without_maxmemory() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..10_000 {
        assert_eq!(set(&mut h, c, i), "+OK\r\n");
    }
    assert_eq!(h.cmd(c, &["DBSIZE"]), ":10000\r\n");
    for i in 0..10_000 {
        let v = format!("value-{i}");
        assert_eq!(h.cmd(c, &["GET", &format!("bench:key:{i}")]), format!("${}\r\n{v}\r\n", v.len()));
    }
    // The reserved slab and table are part of the dataset figure.
    let reserved = h.s.dbs[0].map().reserved_bytes();
    assert!(reserved >= 10_000 * crate::bytemap::ByteMap::<crate::db::Entry>::SLOT_BYTES);
    assert!(h.s.dataset_memory() > reserved);
}

/// The appliance's configuration (12 MiB RAM: maxmemory 5/8 of a 7 MiB
/// heap) holds the 10,000-key benchmark without refusals.
#[test]
fn appliance_limit_holds_the_benchmark() {
    let mut cfg = Config::default();
    cfg.maxmemory = 7 * 1024 * 1024 / 8 * 5;
    let mut h = H::with(cfg);
    let c = h.client();
    for i in 0..10_000 {
        assert_eq!(set(&mut h, c, i), "+OK\r\n", "key {i}");
    }
    assert!(h.s.eviction_memory() < 7 * 1024 * 1024 / 8 * 5);
}

/// Fills database 0 until its next new key doubles the keyspace, then
/// database 2 until used memory is a few KB under the limit.
fn fill_to_doubling_point(h: &mut H, c: crate::ClientId) {
    let mut i = 0;
    while i < 500 || h.s.dbs[0].map().growth_bytes(1) == 0 {
        assert_eq!(h.cmd(c, &["SET", &format!("k{i}"), "1"]), "+OK\r\n");
        i += 1;
    }
    h.cmd(c, &["SELECT", "2"]);
    let pad = "p".repeat(1000);
    let mut i = 0;
    while h.s.eviction_memory() + 3000 < MAX {
        assert_eq!(h.cmd(c, &["SET", &format!("pad{i}"), &pad]), "+OK\r\n");
        i += 1;
    }
    h.cmd(c, &["SELECT", "0"]);
    assert!(h.s.dbs[0].map().growth_bytes(1) > 3 * 4096, "the next key doubles the keyspace");
}

/// SMOVE and MOVE are not DENYOOM (as in Redis), but a new destination
/// key may double the keyspace: they check that growth like other writes
/// (found while checking the fuzz target's maxmemory invariant: one
/// 25-byte MOVE took a 1 MiB server 36 KB past its limit).
#[test]
fn smove_and_move_to_a_new_key_check_keyspace_growth() {
    let (mut h, c) = server(EvictionPolicy::NoEviction);
    assert_eq!(h.cmd(c, &["SADD", "src", "m", "n"]), ":2\r\n");
    h.cmd(c, &["SELECT", "1"]);
    assert_eq!(h.cmd(c, &["SET", "moved", "v"]), "+OK\r\n");
    h.cmd(c, &["SELECT", "0"]);
    fill_to_doubling_point(&mut h, c);
    assert_eq!(h.cmd(c, &["SMOVE", "src", "dst", "m"]), OOM);
    assert_eq!(h.cmd(c, &["SCARD", "src"]), ":2\r\n");
    h.cmd(c, &["SELECT", "1"]);
    assert_eq!(h.cmd(c, &["MOVE", "moved", "0"]), OOM);
    assert_eq!(h.cmd(c, &["GET", "moved"]), "$1\r\nv\r\n");
    assert!(h.s.eviction_memory() <= MAX, "{}", h.s.eviction_memory());
    // Moving into an existing key needs no room.
    h.cmd(c, &["SELECT", "0"]);
    assert_eq!(
        h.cmd(c, &["SMOVE", "src", "k1", "m"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );

    // Under an eviction policy, they evict to make room.
    let (mut h, c) = server(EvictionPolicy::AllKeysLru);
    assert_eq!(h.cmd(c, &["SADD", "src", "m", "n"]), ":2\r\n");
    fill_to_doubling_point(&mut h, c);
    h.advance(10_000);
    assert_eq!(h.cmd(c, &["SCARD", "src"]), ":2\r\n"); // the most recently used key
    assert_eq!(h.cmd(c, &["SMOVE", "src", "dst", "m"]), ":1\r\n");
    assert!(h.s.eviction_memory() <= MAX, "{}", h.s.eviction_memory());
}
