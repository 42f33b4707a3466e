#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::{Config, EvictionPolicy};

#[test]
fn lazy_expiry() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["SET", "k", "v", "PX", "100"]);
    h.advance(99);
    assert_eq!(h.cmd(c, &["GET", "k"]), "$1\r\nv\r\n");
    h.advance(1);
    assert_eq!(h.cmd(c, &["GET", "k"]), "$-1\r\n");
    assert_eq!(h.cmd(c, &["DBSIZE"]), ":0\r\n");
}

#[test]
fn active_expiry_through_tick() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..1000 {
        h.cmd(c, &["SET", &alloc::format!("v{i}"), "x", "PX", "50"]);
    }
    for i in 0..100 {
        h.cmd(c, &["SET", &alloc::format!("p{i}"), "x"]);
    }
    h.advance(100);
    for _ in 0..20 {
        h.tick();
    }
    // Nobody touched the keys: the cycle removed them.
    assert_eq!(h.cmd(c, &["DBSIZE"]), ":100\r\n");
    let info = h.cmd(c, &["INFO", "stats"]);
    assert!(info.contains("expired_keys:1000"), "{info}");
}

#[test]
fn active_expiry_work_is_bounded() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..20_000 {
        h.cmd(c, &["SET", &alloc::format!("v{i}"), "x", "PX", "10"]);
    }
    h.advance(20);
    h.tick();
    let left = h.s.dbs[0].len();
    assert!(left > 0 && left < 20_000, "one tick does bounded work: {left}");
    for _ in 0..100 {
        h.tick();
    }
    assert_eq!(h.s.dbs[0].len(), 0);
}

fn fill(h: &mut H, c: crate::ClientId, n: usize, ttl: bool) {
    let v: alloc::string::String = core::iter::repeat_n('x', 100).collect();
    for i in 0..n {
        if ttl {
            h.cmd(c, &["SET", &alloc::format!("t{i}"), &v, "EX", &alloc::format!("{}", 1000 + i)]);
        } else {
            h.cmd(c, &["SET", &alloc::format!("k{i}"), &v]);
        }
    }
}

#[test]
fn noeviction_rejects_writes() {
    let mut cfg = Config::default();
    cfg.maxmemory = 200 * 1024;
    let mut h = H::with(cfg);
    let c = h.client();
    let v: alloc::string::String = core::iter::repeat_n('x', 1000).collect();
    let mut oom = false;
    for i in 0..1000 {
        let r = h.cmd(c, &["SET", &alloc::format!("k{i}"), &v]);
        if r.starts_with("-OOM") {
            assert_eq!(r, "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
            oom = true;
            break;
        }
    }
    assert!(oom);
    // Reads and deletes still work.
    assert_eq!(h.cmd(c, &["GET", "k0"]).len(), 1000 + 9);
    assert_eq!(h.cmd(c, &["DEL", "k0"]), ":1\r\n");
}

#[test]
fn allkeys_lru_evicts_idle_keys() {
    let mut cfg = Config::default();
    cfg.maxmemory = 300 * 1024;
    cfg.maxmemory_policy = EvictionPolicy::AllKeysLru;
    let mut h = H::with(cfg);
    let c = h.client();
    fill(&mut h, c, 500, false);
    // Keep k0..k49 hot while time passes.
    for round in 0..5 {
        h.advance(10_000);
        for i in 0..50 {
            h.cmd(c, &["GET", &alloc::format!("k{i}")]);
        }
        let _ = round;
    }
    for i in 500..2000 {
        let v: alloc::string::String = core::iter::repeat_n('x', 100).collect();
        assert_eq!(h.cmd(c, &["SET", &alloc::format!("k{i}"), &v]), "+OK\r\n");
        if i % 100 == 0 {
            for j in 0..50 {
                h.cmd(c, &["GET", &alloc::format!("k{j}")]);
            }
            h.advance(1000);
        }
    }
    assert!(h.s.dataset_memory() <= 300 * 1024);
    let hot_alive = (0..50).filter(|i| h.s.dbs[0].get(alloc::format!("k{i}").as_bytes()).is_some()).count();
    let cold_alive = (50..500).filter(|i| h.s.dbs[0].get(alloc::format!("k{i}").as_bytes()).is_some()).count();
    assert!(hot_alive >= 40, "hot keys survive: {hot_alive}");
    assert!(cold_alive < 200, "cold keys evicted: {cold_alive}");
    let info = h.cmd(c, &["INFO", "stats"]);
    assert!(!info.contains("evicted_keys:0\r\n"), "{info}");
}

#[test]
fn volatile_policies() {
    for policy in [EvictionPolicy::VolatileLru, EvictionPolicy::VolatileRandom, EvictionPolicy::VolatileTtl] {
        let mut cfg = Config::default();
        cfg.maxmemory = 200 * 1024;
        cfg.maxmemory_policy = policy;
        let mut h = H::with(cfg);
        let c = h.client();
        fill(&mut h, c, 300, false); // persistent keys
        fill(&mut h, c, 2000, true);
        // Persistent keys are never evicted by volatile-* policies.
        let persistent = (0..300).filter(|i| h.s.dbs[0].get(alloc::format!("k{i}").as_bytes()).is_some()).count();
        assert_eq!(persistent, 300, "{policy:?}");
        assert!(h.s.dbs[0].expires_count() < 2000, "{policy:?}");
        if policy == EvictionPolicy::VolatileTtl {
            // Keys with the longest TTL tend to survive.
            let late = (1900..2000).filter(|i| h.s.dbs[0].get(alloc::format!("t{i}").as_bytes()).is_some()).count();
            let early = (0..100).filter(|i| h.s.dbs[0].get(alloc::format!("t{i}").as_bytes()).is_some()).count();
            assert!(late > early, "late {late} early {early}");
        }
        // Once only persistent keys remain, writes fail with OOM.
        let big: alloc::string::String = core::iter::repeat_n('y', 300 * 1024).collect();
        let r = h.cmd(c, &["SET", "huge", &big]);
        assert_eq!(r, "+OK\r\n");
        let r = h.cmd(c, &["SET", "huge2", "x"]);
        assert_eq!(r, "-OOM command not allowed when used memory > 'maxmemory'.\r\n", "{policy:?}");
    }
}

#[test]
fn allkeys_random_stays_under_limit() {
    let mut cfg = Config::default();
    cfg.maxmemory = 150 * 1024;
    cfg.maxmemory_policy = EvictionPolicy::AllKeysRandom;
    let mut h = H::with(cfg);
    let c = h.client();
    fill(&mut h, c, 3000, false);
    assert!(h.s.dataset_memory() <= 150 * 1024);
    assert!(h.s.dbs[0].len() < 3000);
}

#[test]
fn used_memory_grows_and_shrinks() {
    // Without latency tracking: each command's histogram, allocated at its
    // first call, stays after FLUSHALL (server overhead, as in Redis).
    let mut cfg = crate::Config::default();
    cfg.stats.latency_tracking = false;
    let mut h = H::with(cfg);
    let c = h.client();
    let base = h.s.used_memory();
    fill(&mut h, c, 1000, false);
    for i in 0..100 {
        h.cmd(c, &["RPUSH", "list", &alloc::format!("element-{i}")]);
        h.cmd(c, &["HSET", "hash", &alloc::format!("f{i}"), "value"]);
        h.cmd(c, &["SADD", "set", &alloc::format!("m{i}")]);
        h.cmd(c, &["ZADD", "zset", "1", &alloc::format!("m{i}")]);
    }
    let full = h.s.used_memory();
    assert!(full > base + 100_000, "{base} -> {full}");
    h.cmd(c, &["FLUSHALL"]);
    assert_eq!(h.s.dataset_memory(), 0);
    assert!(h.s.used_memory() < base + 10_000);
}

#[test]
fn idle_timeout() {
    let mut cfg = Config::default();
    cfg.timeout_secs = 10;
    let mut h = H::with(cfg);
    let c = h.client();
    let blocked = h.client();
    h.cmd(blocked, &["BLPOP", "q", "0"]);
    h.advance(5_000);
    h.tick();
    assert!(!h.s.should_close(c));
    h.advance(6_000);
    h.tick();
    assert!(h.s.should_close(c));
    assert!(!h.s.should_close(blocked));
}
