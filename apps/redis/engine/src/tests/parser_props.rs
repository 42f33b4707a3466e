//! Property tests: replies do not depend on how input is split, random
//! bytes never panic, and large bulks are parsed in linear time.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use alloc::vec::Vec;
use proptest::prelude::*;

use super::harness::*;
use crate::{Config, Server, Time};

fn command_strategy() -> impl Strategy<Value = Vec<u8>> {
    let key = prop::sample::select(alloc::vec!["a", "b", "list", "n", "h"]);
    let val = prop::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (key.clone(), val.clone()).prop_map(|(k, v)| enc(&[b"SET", k.as_bytes(), &v])),
        key.clone().prop_map(|k| enc(&[b"GET", k.as_bytes()])),
        key.clone().prop_map(|k| enc(&[b"INCR", k.as_bytes()])),
        (key.clone(), val.clone()).prop_map(|(k, v)| enc(&[b"RPUSH", k.as_bytes(), &v])),
        key.clone().prop_map(|k| enc(&[b"LRANGE", k.as_bytes(), b"0", b"-1"])),
        (key.clone(), val.clone()).prop_map(|(k, v)| enc(&[b"HSET", k.as_bytes(), b"f", &v])),
        key.clone().prop_map(|k| enc(&[b"DEL", k.as_bytes()])),
        val.clone().prop_map(|v| enc(&[b"ECHO", &v])),
        Just(b"PING\r\n".to_vec()),
        Just(b"  set  x  \"quoted \\x41\"\r\n".to_vec()),
        Just(b"get x\n".to_vec()),
        Just(b"*0\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
    ]
}

fn run(stream: &[u8], splits: &[usize]) -> Vec<u8> {
    let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
    let mut s = Server::new(Config::default(), 7);
    let c = s.connect("127.0.0.1:1", now).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut cuts: Vec<usize> = splits.iter().map(|&x| x % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(stream.len());
    for cut in cuts {
        if cut > pos {
            s.feed(c, &stream[pos..cut], now);
            pos = cut;
        }
        let o = s.output(c).to_vec();
        s.consume_output(c, o.len());
        out.extend_from_slice(&o);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn splits_do_not_change_replies(
        cmds in prop::collection::vec(command_strategy(), 1..30),
        splits in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let stream: Vec<u8> = cmds.concat();
        let whole = run(&stream, &[]);
        let split = run(&stream, &splits);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn random_bytes_never_panic(
        a in prop::collection::vec(any::<u8>(), 0..600),
        b in prop::collection::vec(any::<u8>(), 0..600),
        splits in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
        let mut s = Server::new(Config::default(), 1);
        let c1 = s.connect("127.0.0.1:1", now).unwrap();
        let c2 = s.connect("127.0.0.1:2", now).unwrap();
        let mut pos = 0;
        let mut cuts: Vec<usize> = splits.iter().map(|&x| x % (a.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(a.len());
        for cut in cuts {
            s.feed(c1, &a[pos..cut], now);
            s.feed(c2, &b, now);
            pos = cut;
        }
        s.tick(now.plus_ms(5000));
        let _ = s.output(c1).len();
    }

    #[test]
    fn random_commands_never_panic(
        args in prop::collection::vec(
            prop::collection::vec(prop::sample::select(alloc::vec![
                &b"SET"[..], b"GET", b"ZADD", b"ZRANGE", b"LPOS", b"BITCOUNT", b"SETRANGE", b"GETRANGE",
                b"LRANGE", b"EXPIRE", b"SCAN", b"HRANDFIELD", b"SRANDMEMBER", b"SPOP", b"ZUNIONSTORE",
                b"-1", b"0", b"1", b"-9223372036854775808", b"9223372036854775807", b"inf", b"(1",
                b"[a", b"+", b"-", b"k", b"LIMIT", b"WITHSCORES", b"BYSCORE", b"REV", b"COUNT", b"2",
                b"MULTI", b"EXEC", b"BLPOP", b"SUBSCRIBE", b"HELLO", b"3", b"SETBIT", b"4294967296",
                b"RPUSH", b"SADD", b"HSET", b"SINTERCARD", b"LMOVE", b"LEFT", b"OBJECT", b"ENCODING",
            ]), 1..8),
            1..25),
    ) {
        let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
        let mut s = Server::new(Config::default(), 3);
        let c = s.connect("127.0.0.1:1", now).unwrap();
        for cmd in &args {
            s.feed(c, &enc(cmd), now);
            let n = s.output(c).len();
            s.consume_output(c, n);
        }
    }
}

fn feed_big(chunk: usize, size: usize) -> core::time::Duration {
    let mut h = H::new();
    let c = h.client();
    let val = alloc::vec![b'v'; size];
    let stream = enc(&[b"SET", b"big", &val]);
    let start = std::time::Instant::now();
    for part in stream.chunks(chunk) {
        h.s.feed(c, part, h.now);
    }
    let elapsed = start.elapsed();
    assert_eq!(h.take(c), b"+OK\r\n");
    let got = h.raw(c, &enc(&[b"STRLEN", b"big"]));
    assert_eq!(show(&got), alloc::format!(":{size}\r\n"));
    elapsed
}

#[test]
fn large_bulk_in_small_chunks_is_linear() {
    const MIB: usize = 1024 * 1024;
    for chunk in [1usize, 3, 1024, 4096] {
        // The best of three runs: other tests share the CPU.
        let best = |size| (0..3).map(|_| feed_big(chunk, size)).min().expect("three runs");
        let t4 = best(4 * MIB);
        assert!(t4.as_secs_f64() < 20.0, "chunk {chunk}: {t4:?}");
        if chunk == 1 {
            let t1 = best(MIB);
            // Linear: 4x the data takes nowhere near 16x the time.
            assert!(t4.as_secs_f64() < t1.as_secs_f64() * 8.0 + 0.05, "{t1:?} vs {t4:?}");
        }
    }
}

#[test]
fn long_partial_line_is_not_rescanned() {
    let mut h = H::new();
    let c = h.client();
    // 60 KB inline command arriving a byte at a time.
    let mut line = b"ECHO ".to_vec();
    line.extend(core::iter::repeat_n(b'x', 60_000));
    line.extend_from_slice(b"\r\n");
    let start = std::time::Instant::now();
    for b in &line {
        h.s.feed(c, core::slice::from_ref(b), h.now);
    }
    assert!(start.elapsed().as_secs_f64() < 5.0);
    let out = h.take(c);
    assert!(out.starts_with(b"$60000\r\n"));
}
