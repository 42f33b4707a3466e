//! HyperLogLog: values made by real Redis 7.0.15 (`hll_fixtures/`, see its
//! `generate.py`; captured with GET) count the same here, the same commands
//! make the same bytes here, the corruption checks Redis makes, sparse and
//! dense agreeing, promotion, the cached count, and the error bound.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use proptest::prelude::*;

use super::bitmaps::{send, set};
use super::harness::*;
use crate::script;
use crate::types::hll;
use crate::{ClientId, Config, EvictionPolicy};

const SPARSE_ABC: &[u8] = include_bytes!("hll_fixtures/sparse-abc.hll");
const SPARSE_100: &[u8] = include_bytes!("hll_fixtures/sparse-100.hll");
const DENSE_5000: &[u8] = include_bytes!("hll_fixtures/dense-5000.hll");
const DENSE_200K: &[u8] = include_bytes!("hll_fixtures/dense-200k.hll");
const MERGED: &[u8] = include_bytes!("hll_fixtures/merged.hll");
const EXPECTED: &str = include_str!("hll_fixtures/expected.txt");

const INVALID: &str = "-INVALIDOBJ Corrupted HLL object detected\r\n";
const NOT_HLL: &str = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";

/// What real Redis answered, from `expected.txt` (`NAME WHAT ANSWER`).
fn expected(name: &str, what: &str) -> String {
    let prefix = format!("{name} {what} ");
    let line = EXPECTED.lines().find(|l| l.starts_with(&prefix)).expect("fixture line");
    line[prefix.len()..].to_string()
}

fn elements(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn pfadd(h: &mut H, c: ClientId, key: &str, elements: &[String]) {
    let mut args = vec!["PFADD", key];
    args.extend(elements.iter().map(String::as_str));
    h.cmd(c, &args);
}

fn get(h: &mut H, c: ClientId, key: &str) -> Vec<u8> {
    let reply = send(h, c, &[b"GET", key.as_bytes()]);
    let body = reply.iter().position(|&b| b == b'\n').expect("bulk header") + 1;
    reply[body..reply.len() - 2].to_vec()
}

#[test]
fn values_from_real_redis_count_the_same() {
    let mut h = H::new();
    let c = h.client();
    let fixtures = [
        ("sparse-abc", SPARSE_ABC),
        ("sparse-100", SPARSE_100),
        ("dense-5000", DENSE_5000),
        ("dense-200k", DENSE_200K),
        ("merged", MERGED),
    ];
    for (name, bytes) in fixtures {
        let want = format!(":{}\r\n", expected(name, "count"));
        set(&mut h, c, name, bytes);
        assert_eq!(h.cmd(c, &["PFCOUNT", name]), want, "{name}");
        // With the cached count marked stale, the registers give it again.
        let mut stale = bytes.to_vec();
        hll::invalidate_cache(&mut stale);
        set(&mut h, c, name, &stale);
        assert_eq!(h.cmd(c, &["PFCOUNT", name]), want, "{name} recounted");
        let card: u64 = expected(name, "count").parse().expect("a count");
        assert_eq!(get(&mut h, c, name)[8..16], card.to_le_bytes(), "{name} cached");
    }
    assert_eq!(h.cmd(c, &["PFCOUNT", "dense-5000", "nokey"]), format!(":{}\r\n", expected("dense-5000", "count")));
    assert_eq!(h.cmd(c, &["PFDEBUG", "ENCODING", "dense-5000"]), "+dense\r\n");
    assert_eq!(h.cmd(c, &["PFDEBUG", "DECODE", "sparse-abc"]), {
        let text = expected("sparse-abc", "decode");
        format!("${}\r\n{text}\r\n", text.len())
    });
}

#[test]
fn the_same_commands_make_the_same_bytes_as_real_redis() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["PFADD", "abc", "a", "b", "c"]);
    assert_eq!(get(&mut h, c, "abc"), SPARSE_ABC);
    pfadd(&mut h, c, "s100", &elements("e", 100));
    h.cmd(c, &["PFCOUNT", "s100"]);
    assert_eq!(get(&mut h, c, "s100"), SPARSE_100);
    pfadd(&mut h, c, "d5000", &elements("e", 5000));
    assert_eq!(h.cmd(c, &["PFCOUNT", "d5000"]), format!(":{}\r\n", expected("dense-5000", "count")));
    assert_eq!(get(&mut h, c, "d5000"), DENSE_5000);
    pfadd(&mut h, c, "f100", &elements("f", 100));
    assert_eq!(h.cmd(c, &["PFCOUNT", "d5000", "f100"]), format!(":{}\r\n", expected("union", "count")));
    assert_eq!(h.cmd(c, &["PFMERGE", "merged", "s100", "f100"]), "+OK\r\n");
    h.cmd(c, &["PFCOUNT", "merged"]);
    assert_eq!(get(&mut h, c, "merged"), MERGED);
    for i in (0..200_000).step_by(10_000) {
        let batch: Vec<String> = (i..i + 10_000).map(|j| format!("x{j}")).collect();
        pfadd(&mut h, c, "d200k", &batch);
    }
    h.cmd(c, &["PFCOUNT", "d200k"]);
    assert_eq!(get(&mut h, c, "d200k"), DENSE_200K);
}

#[test]
fn commands_and_errors() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["PFADD", "h"] => ":1\r\n",
        ["PFADD", "h"] => ":0\r\n",
        ["PFCOUNT", "h"] => ":0\r\n",
        ["PFADD", "h", "a", "b", "c"] => ":1\r\n",
        ["PFADD", "h", "a", "b", "c"] => ":0\r\n",
        ["PFADD", "h", ""] => ":1\r\n",
        ["PFCOUNT", "h"] => ":4\r\n",
        ["PFCOUNT", "nokey"] => ":0\r\n",
        ["PFCOUNT", "nokey", "nokey2"] => ":0\r\n",
        ["PFDEBUG", "ENCODING", "h"] => "+sparse\r\n",
        ["PFDEBUG", "DECODE", "nokey"] => "-ERR The specified key does not exist\r\n",
        ["PFDEBUG", "Nope", "h"] => "-ERR Unknown PFDEBUG subcommand 'Nope'\r\n",
        ["PFDEBUG", "TODENSE", "h"] => ":1\r\n",
        ["PFDEBUG", "TODENSE", "h"] => ":0\r\n",
        ["PFDEBUG", "DECODE", "h"] => "-ERR HLL encoding is not sparse\r\n",
        ["PFCOUNT", "h"] => ":4\r\n",
        ["SET", "str", "bar"] => "+OK\r\n",
        ["PFADD", "str", "1"] => NOT_HLL,
        ["PFCOUNT", "str"] => NOT_HLL,
        ["PFCOUNT", "h", "str"] => NOT_HLL,
        ["PFMERGE", "str", "h"] => NOT_HLL,
        ["PFMERGE", "h", "str"] => NOT_HLL,
        ["LPUSH", "l", "x"] => ":1\r\n",
        ["PFADD", "l", "1"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["PFMERGE", "new", "h", "nokey"] => "+OK\r\n",
        ["PFDEBUG", "ENCODING", "new"] => "+dense\r\n",
        ["PFCOUNT", "new"] => ":4\r\n",
        ["PFMERGE", "empty"] => "+OK\r\n",
        ["PFCOUNT", "empty"] => ":0\r\n",
    );
    let regs = h.cmd(c, &["PFDEBUG", "GETREG", "h"]);
    assert!(regs.starts_with("*16384\r\n"), "{}", &regs[..20]);
    assert_eq!(regs.matches(":0\r\n").count(), 16384 - 4);
}

#[test]
fn the_cached_count_is_kept_until_a_register_changes() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(get(&mut h, c, "h")[15], 0x80, "stale after PFADD");
    h.cmd(c, &["PFCOUNT", "h"]);
    assert_eq!(get(&mut h, c, "h")[15], 0);
    h.cmd(c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(get(&mut h, c, "h")[15], 0, "no register changed");
    h.cmd(c, &["PFADD", "h", "1", "2", "3"]);
    assert_eq!(get(&mut h, c, "h")[15], 0x80);
    // Caching counts as a change, like Redis's.
    let before = h.s.dirty_since_save;
    h.cmd(c, &["PFCOUNT", "h"]);
    h.cmd(c, &["PFCOUNT", "h"]);
    assert_eq!(h.s.dirty_since_save, before + 1);
}

#[test]
fn corruption_is_detected() {
    let mut h = H::new();
    let c = h.client();
    let fresh = |h: &mut H| {
        h.cmd(c, &["DEL", "h"]);
        h.cmd(c, &["PFADD", "h", "a", "b", "c"]);
    };
    fresh(&mut h);
    h.cmd(c, &["APPEND", "h", "hello"]);
    assert_eq!(h.cmd(c, &["PFCOUNT", "h"]), INVALID);
    // As in Redis, an update that finds its register before the garbage
    // goes through.
    assert_eq!(h.cmd(c, &["PFADD", "h", "zzz"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["PFDEBUG", "GETREG", "h"]), INVALID);
    fresh(&mut h);
    h.cmd(c, &["SETRANGE", "h", "0", "0123"]);
    assert_eq!(h.cmd(c, &["PFCOUNT", "h"]), NOT_HLL);
    fresh(&mut h);
    h.cmd(c, &["SETRANGE", "h", "4", "x"]);
    assert_eq!(h.cmd(c, &["PFCOUNT", "h"]), NOT_HLL);
    // Dense by its header, but not a dense one's length.
    fresh(&mut h);
    send(&mut h, c, &[b"SETRANGE", b"h", b"4", b"\x00"]);
    assert_eq!(h.cmd(c, &["PFCOUNT", "h"]), NOT_HLL);
    // Runs adding up far past 16384 registers (and past 2^32) end in a VAL.
    for (op, n) in [(&[0x7F, 0xFF][..], 132_072), (&[0x3F][..], 33_555_432)] {
        let mut v = SPARSE_ABC[..16].to_vec();
        for _ in 0..n {
            v.extend_from_slice(op);
        }
        v.push(0xFF);
        set(&mut h, c, "h", &v);
        assert_eq!(h.cmd(c, &["PFCOUNT", "h", "h"]), INVALID);
        assert_eq!(h.cmd(c, &["PFCOUNT", "h"]), INVALID);
        assert_eq!(h.cmd(c, &["PFDEBUG", "GETREG", "h"]), INVALID);
    }
    assert_eq!(h.cmd(c, &["PING"]), "+PONG\r\n");
}

#[test]
fn sparse_turns_dense_past_hll_sparse_max_bytes() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["CONFIG", "SET", "hll-sparse-max-bytes", "100"]);
    let mut n = 0;
    while h.cmd(c, &["PFDEBUG", "ENCODING", "h"]) != "+dense\r\n" {
        pfadd(&mut h, c, "h", &elements("p", n + 1)[n..]);
        n += 1;
        let v = get(&mut h, c, "h");
        assert!(v.len() <= 100 || v.len() == hll::DENSE_LEN, "{} bytes", v.len());
    }
    assert!((20..=60).contains(&n), "promoted after {n} elements");
    assert_eq!(get(&mut h, c, "h").len(), hll::DENSE_LEN);
}

#[test]
fn growth_to_dense_passes_the_memory_check() {
    // The appliance's default: `maxmemory` is the heap's hard ceiling.
    let mut cfg = Config::default();
    cfg.maxmemory = 128 * 1024;
    cfg.maxmemory_ceiling = 128 * 1024;
    cfg.maxmemory_policy = EvictionPolicy::NoEviction;
    let mut h = H::with(cfg);
    let c = h.client();
    h.cmd(c, &["PFADD", "h", "a"]);
    // Leave about 6 KB: less than a dense HyperLogLog.
    let room = 128 * 1024 - h.s.eviction_memory();
    set(&mut h, c, "filler", &vec![b'x'; room - 6000]);
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert_eq!(h.cmd(c, &["PFDEBUG", "TODENSE", "h"]), oom);
    assert_eq!(h.cmd(c, &["PFMERGE", "h2", "h"]), oom);
    assert_eq!(h.cmd(c, &["PFDEBUG", "ENCODING", "h"]), "+sparse\r\n");
    assert!(h.s.eviction_memory() <= 128 * 1024);
    // Below a higher ceiling, `maxmemory` is checked only before a command,
    // as in Redis: the growth runs, past it.
    h.s.cfg.maxmemory_ceiling = 1024 * 1024;
    assert_eq!(h.cmd(c, &["PFDEBUG", "TODENSE", "h"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["STRLEN", "h"]), format!(":{}\r\n", hll::DENSE_LEN));
    assert!(h.s.eviction_memory() > 128 * 1024);
    // Over the limit now: commands that may use memory (PFDEBUG is one)
    // are refused.
    assert_eq!(h.cmd(c, &["PFMERGE", "h2", "h"]), oom);
    assert_eq!(h.cmd(c, &["PFDEBUG", "ENCODING", "h"]), oom);
}

#[test]
fn pfselftest_passes() {
    let mut h = H::new();
    let c = h.client();
    assert_eq!(h.cmd(c, &["PFSELFTEST"]), "+OK\r\n");
}

/// Within six standard errors (1.04/sqrt(16384) each), Redis's own bound,
/// up to a million elements, dense and sparse alike.
#[test]
fn error_bound_up_to_a_million() {
    let mut sparse = hll::new_sparse();
    let mut dense = hll::new_sparse();
    hll::to_dense(&mut dense).unwrap();
    let relative = 1.04 / (hll::REGISTERS as f64).sqrt();
    let mut checkpoints = [10u64, 100, 1000, 5000, 10_000, 50_000, 100_000, 500_000, 1_000_000].into_iter().peekable();
    for i in 1..=1_000_000u64 {
        let e = format!("element:{i}");
        hll::add(&mut sparse, e.as_bytes(), 3000).unwrap();
        hll::add(&mut dense, e.as_bytes(), 3000).unwrap();
        if checkpoints.peek() == Some(&i) {
            checkpoints.next();
            let card = hll::count(&dense).unwrap();
            assert_eq!(hll::count(&sparse), Ok(card), "at {i}");
            let bound = (relative * 6.0 * i as f64).ceil() as u64;
            assert!(card.abs_diff(i) <= bound.max(1), "{card} for {i} elements, bound {bound}");
        }
    }
    assert_eq!(hll::encoding(&sparse), Some(hll::Encoding::Dense));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The same elements in a sparse and a dense HyperLogLog: the same
    /// registers and count.
    #[test]
    fn sparse_and_dense_agree(elements in proptest::collection::vec(any::<u32>(), 0..400)) {
        let mut h = H::new();
        let c = h.client();
        h.cmd(c, &["PFADD", "d"]);
        h.cmd(c, &["PFDEBUG", "TODENSE", "d"]);
        let elements: Vec<String> = elements.iter().map(|e| e.to_string()).collect();
        pfadd(&mut h, c, "s", &elements);
        pfadd(&mut h, c, "d", &elements);
        prop_assert_eq!(h.cmd(c, &["PFCOUNT", "s"]), h.cmd(c, &["PFCOUNT", "d"]));
        prop_assert_eq!(h.cmd(c, &["PFCOUNT", "s", "nokey"]), h.cmd(c, &["PFCOUNT", "d"]));
        prop_assert_eq!(h.cmd(c, &["PFDEBUG", "GETREG", "s"]), h.cmd(c, &["PFDEBUG", "GETREG", "d"]));
    }

    /// Random bytes written over a HyperLogLog never crash a command.
    #[test]
    fn corrupted_values_are_survived(
        n in 0usize..3000,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..5),
    ) {
        let mut h = H::new();
        let c = h.client();
        pfadd(&mut h, c, "h", &elements("r", n));
        let mut v = get(&mut h, c, "h");
        for (at, byte) in edits {
            let i = at.index(v.len());
            v[i] = byte;
        }
        set(&mut h, c, "h", &v);
        for cmd in [&["PFCOUNT", "h"][..], &["PFCOUNT", "h", "h"], &["PFADD", "h", "x", "y"], &["PFMERGE", "m", "h"], &["PFDEBUG", "GETREG", "h"]] {
            let reply = h.cmd(c, cmd);
            prop_assert!(reply.starts_with(':') || reply.starts_with('+') || reply.starts_with('*') || reply.starts_with('-'), "{}", reply);
        }
    }
}
