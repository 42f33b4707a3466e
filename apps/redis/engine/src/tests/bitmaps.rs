//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP with Redis
//! 7.0's replies and errors, what counts as a change, the memory check on
//! growth, and BITCOUNT/BITPOS/BITOP against a bit-by-bit model.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use proptest::prelude::*;

use super::harness::*;
use crate::script;
use crate::{ClientId, Config, EvictionPolicy};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// Sends a command with binary arguments; the reply bytes.
pub(super) fn send(h: &mut H, c: ClientId, args: &[&[u8]]) -> Vec<u8> {
    h.raw(c, &enc(args))
}

/// Stores `value` at `key`.
pub(super) fn set(h: &mut H, c: ClientId, key: &str, value: &[u8]) {
    assert_eq!(send(h, c, &[b"SET", key.as_bytes(), value]), b"+OK\r\n");
}

fn int(n: i64) -> String {
    format!(":{n}\r\n")
}

#[test]
fn setbit_getbit_and_changes() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["SETBIT", "b", "7", "1"] => ":0\r\n",
        ["GET", "b"] => "$1\r\n\x01\r\n",
        ["SETBIT", "b", "7", "1"] => ":1\r\n",
        ["SETBIT", "b", "0", "1"] => ":0\r\n",
        ["GETBIT", "b", "0"] => ":1\r\n",
        ["GETBIT", "b", "100"] => ":0\r\n",
        ["GETBIT", "nokey", "3"] => ":0\r\n",
        ["SETBIT", "b", "x", "1"] => "-ERR bit offset is not an integer or out of range\r\n",
        ["SETBIT", "b", "1", "-0"] => "-ERR bit is not an integer or out of range\r\n",
        ["GETBIT", "b", "-1"] => "-ERR bit offset is not an integer or out of range\r\n",
        ["LPUSH", "l", "x"] => ":1\r\n",
        ["SETBIT", "l", "0", "1"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["GETBIT", "l", "0"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    // Only a change counts: a new key, a longer string, a flipped bit.
    let dirty = |h: &mut H| h.s.dirty_since_save;
    let before = dirty(&mut h);
    h.cmd(c, &["SETBIT", "d", "0", "0"]);
    assert_eq!(dirty(&mut h), before + 1, "a new key");
    h.cmd(c, &["SETBIT", "d", "0", "0"]);
    h.cmd(c, &["SETBIT", "d", "1", "0"]);
    assert_eq!(dirty(&mut h), before + 1, "nothing changed");
    h.cmd(c, &["SETBIT", "d", "1", "1"]);
    assert_eq!(dirty(&mut h), before + 2, "a flipped bit");
    h.cmd(c, &["SETBIT", "d", "90", "0"]);
    assert_eq!(dirty(&mut h), before + 3, "a longer string");
    assert_eq!(h.cmd(c, &["STRLEN", "d"]), int(12));
}

#[test]
fn bitcount_ranges() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["BITCOUNT", "nokey", "0", "1000", "BIT"] => ":0\r\n",
        ["SET", "s", "foobar"] => "+OK\r\n",
        ["BITCOUNT", "s"] => ":26\r\n",
        ["BITCOUNT", "s", "1", "-2"] => ":18\r\n",
        ["BITCOUNT", "s", "-2", "1"] => ":0\r\n",
        ["BITCOUNT", "s", "5", "30", "bit"] => ":17\r\n",
        ["BITCOUNT", "s", "1", "1", "BYTE"] => ":6\r\n",
        ["BITCOUNT", "s", "-6", "-7"] => ":0\r\n",
        // Redis checks an empty negative range before the unit.
        ["BITCOUNT", "s", "-1", "-2", "nope"] => ":0\r\n",
        ["BITCOUNT", "s", "0", "4294967296"] => ":26\r\n",
        ["BITCOUNT", "s", "0"] => "-ERR syntax error\r\n",
        ["BITCOUNT", "s", "0", "1", "hello"] => "-ERR syntax error\r\n",
        ["BITCOUNT", "s", "a", "1"] => "-ERR value is not an integer or out of range\r\n",
        ["SET", "e", ""] => "+OK\r\n",
        ["BITCOUNT", "e", "0", "-1", "BIT"] => ":0\r\n",
    );
}

#[test]
fn bitpos_replies() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["BITPOS", "nokey", "0"] => ":0\r\n",
        ["BITPOS", "nokey", "1"] => ":-1\r\n",
        ["BITPOS", "nokey", "2"] => "-ERR The bit argument must be 1 or 0.\r\n",
        ["BITPOS", "nokey", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["SET", "s", "\u{7f}"] => "+OK\r\n",
        ["BITPOS", "s", "0"] => ":0\r\n",
        ["BITPOS", "s", "1"] => ":1\r\n",
        ["BITPOS", "s", "1", "0", "-1", "BIT"] => ":1\r\n",
        ["BITPOS", "s", "1", "2", "-1", "BIT"] => ":2\r\n",
        ["BITPOS", "s", "0", "1", "-1", "BIT"] => ":-1\r\n",
        ["BITPOS", "s", "0", "0", "0", "x"] => "-ERR syntax error\r\n",
        ["BITPOS", "s", "0", "0", "0", "bit", "x"] => "-ERR syntax error\r\n",
        ["SET", "f", "\u{7f}\u{7f}"] => "+OK\r\n",
        ["SETBIT", "f", "0", "1"] => ":0\r\n",
        ["SETBIT", "f", "8", "1"] => ":0\r\n",
        // All ones: a clear bit past the end without an end, none with one.
        ["BITPOS", "f", "0"] => ":16\r\n",
        ["BITPOS", "f", "0", "1"] => ":16\r\n",
        ["BITPOS", "f", "0", "0", "-1"] => ":-1\r\n",
        ["BITPOS", "f", "0", "3", "2"] => ":-1\r\n",
        ["SET", "e", ""] => "+OK\r\n",
        ["BITPOS", "e", "0"] => ":-1\r\n",
        ["BITPOS", "e", "1"] => ":-1\r\n",
    );
}

#[test]
fn bitop_replies_and_destination() {
    let mut h = H::new();
    let c = h.client();
    set(&mut h, c, "a", b"\x01\x02\xff\xff");
    set(&mut h, c, "b", b"\x01\x02\xff");
    assert_eq!(h.cmd(c, &["BITOP", "AND", "r", "a", "b", "missing"]), int(4));
    assert_eq!(h.cmd(c, &["GET", "r"]), "$4\r\n\x00\x00\x00\x00\r\n");
    assert_eq!(h.cmd(c, &["BITOP", "and", "r", "a", "b"]), int(4));
    assert_eq!(send(&mut h, c, &[b"GET", b"r"]), b"$4\r\n\x01\x02\xff\x00\r\n");
    assert_eq!(h.cmd(c, &["BITOP", "Or", "r", "b", "a"]), int(4));
    assert_eq!(send(&mut h, c, &[b"GET", b"r"]), b"$4\r\n\x01\x02\xff\xff\r\n");
    assert_eq!(h.cmd(c, &["BITOP", "XOR", "r", "a", "b"]), int(4));
    assert_eq!(send(&mut h, c, &[b"GET", b"r"]), b"$4\r\n\x00\x00\x00\xff\r\n");
    assert_eq!(h.cmd(c, &["BITOP", "NOT", "a", "a"]), int(4));
    assert_eq!(send(&mut h, c, &[b"GET", b"a"]), b"$4\r\n\xfe\xfd\x00\x00\r\n");
    // The destination is replaced whatever it held, TTL dropped.
    h.cmd(c, &["RPUSH", "l", "x"]);
    h.cmd(c, &["EXPIRE", "r", "100"]);
    assert_eq!(h.cmd(c, &["BITOP", "OR", "l", "b"]), int(3));
    assert_eq!(h.cmd(c, &["BITOP", "OR", "r", "b"]), int(3));
    assert_eq!(h.cmd(c, &["TTL", "r"]), ":-1\r\n");
    // Only empty or missing sources: the destination goes.
    set(&mut h, c, "empty", b"");
    assert_eq!(h.cmd(c, &["BITOP", "OR", "r", "empty", "nokey"]), int(0));
    assert_eq!(h.cmd(c, &["EXISTS", "r"]), ":0\r\n");
    script!(h, c,
        ["BITOP", "NOT", "r", "a", "b"] => "-ERR BITOP NOT must be called with a single source key.\r\n",
        ["BITOP", "NAND", "r", "a"] => "-ERR syntax error\r\n",
        ["LPUSH", "list", "x"] => ":1\r\n",
        ["BITOP", "AND", "r", "a", "list"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["BITOP", "AND", "r"] => "-ERR wrong number of arguments for 'bitop' command\r\n",
    );
}

#[test]
fn growth_passes_the_memory_check() {
    // The appliance's default: `maxmemory` is the heap's hard ceiling.
    let mut cfg = Config::default();
    cfg.maxmemory = 1024 * 1024;
    cfg.maxmemory_ceiling = 1024 * 1024;
    cfg.maxmemory_policy = EvictionPolicy::NoEviction;
    let mut h = H::with(cfg);
    let c = h.client();
    // 512 MB for the highest offset: refused, nothing created.
    assert_eq!(h.cmd(c, &["SETBIT", "k", "4294967295", "1"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
    set(&mut h, c, "big", &vec![0xAA; 400_000]);
    // BITOP's result (400 KB) would take the dataset past the limit.
    assert_eq!(h.cmd(c, &["BITOP", "NOT", "dest", "big"]), int(400_000));
    assert_eq!(h.cmd(c, &["BITOP", "NOT", "dest2", "big"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "dest2"]), ":0\r\n");
    assert!(h.s.eviction_memory() <= 1024 * 1024);
    // A `maxmemory` set below the ceiling is checked only before a command,
    // as in Redis: the second result takes the dataset past it, within the
    // ceiling, and the next write is refused.
    h.s.cfg.maxmemory_ceiling = 4 * 1024 * 1024;
    assert_eq!(h.cmd(c, &["BITOP", "NOT", "dest2", "big"]), int(400_000));
    assert!(h.s.eviction_memory() > 1024 * 1024);
    assert_eq!(h.cmd(c, &["BITOP", "NOT", "dest3", "big"]), OOM);
    assert_eq!(h.cmd(c, &["EXISTS", "dest3"]), ":0\r\n");
}

/// Bit `i` of `v` (0 is the first byte's most significant bit).
fn bit(v: &[u8], i: usize) -> bool {
    v[i / 8] & (0x80 >> (i % 8)) != 0
}

/// The bit range `start..=end` selects, as Redis clamps it.
fn model_range(start: i64, end: i64, total: i64) -> Option<(i64, i64)> {
    let norm = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let (s, e) = (norm(start), norm(end).min(total - 1));
    (s <= e).then_some((s, e))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bitcount_and_bitpos_match_a_bit_model(
        v in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFFu8), any::<u8>()], 0..40),
        start in -400i64..400,
        end in -400i64..400,
        is_bit in any::<bool>(),
        target in any::<bool>(),
    ) {
        let mut h = H::new();
        let c = h.client();
        set(&mut h, c, "s", &v);
        let unit = if is_bit { "BIT" } else { "BYTE" };
        let (st, en) = (start.to_string(), end.to_string());
        let bits = v.len() as i64 * 8;
        let range = if is_bit {
            model_range(start, end, bits)
        } else {
            model_range(start, end, v.len() as i64).map(|(s, e)| (s * 8, e * 8 + 7))
        };
        let want = range.map_or(0, |(s, e)| (s..=e).filter(|&i| bit(&v, i as usize)).count());
        if !(start < 0 && end < 0 && start > end) {
            prop_assert_eq!(h.cmd(c, &["BITCOUNT", "s", &st, &en, unit]), int(want as i64));
        }
        let t = if target { "1" } else { "0" };
        let want = range.map_or(-1, |(s, e)| (s..=e).find(|&i| bit(&v, i as usize) == target).unwrap_or(-1));
        prop_assert_eq!(h.cmd(c, &["BITPOS", "s", t, &st, &en, unit]), int(want));
        // Without an end, a clear bit is found past the string.
        let no_end = model_range(start, v.len() as i64 - 1, v.len() as i64)
            .map_or(-1, |(s, e)| (s * 8..=e * 8 + 7).find(|&i| bit(&v, i as usize) == target).unwrap_or(if target { -1 } else { bits }));
        prop_assert_eq!(h.cmd(c, &["BITPOS", "s", t, &st]), int(no_end));
    }

    #[test]
    fn bitop_matches_a_byte_model(
        sources in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)), 1..5),
        op in 0usize..4,
    ) {
        let mut h = H::new();
        let c = h.client();
        let names: Vec<String> = (0..sources.len()).map(|i| format!("k{i}")).collect();
        for (name, source) in names.iter().zip(&sources) {
            if let Some(v) = source {
                set(&mut h, c, name, v);
            }
        }
        let ops = ["AND", "OR", "XOR", "NOT"];
        let used = if op == 3 { &names[..1] } else { &names[..] };
        let len = sources[..used.len()].iter().flatten().map(Vec::len).max().unwrap_or(0);
        let byte = |i: usize, j: usize| sources[i].as_ref().and_then(|v| v.get(j)).copied().unwrap_or(0);
        let want: Vec<u8> = (0..len)
            .map(|j| {
                (1..used.len()).fold(byte(0, j), |acc, i| match op {
                    0 => acc & byte(i, j),
                    1 => acc | byte(i, j),
                    _ => acc ^ byte(i, j),
                })
            })
            .map(|b| if op == 3 { !b } else { b })
            .collect();
        let mut args: Vec<&[u8]> = vec![b"BITOP", ops[op].as_bytes(), b"dest"];
        args.extend(used.iter().map(|n| n.as_bytes()));
        prop_assert_eq!(show(&send(&mut h, c, &args)), int(len as i64));
        let got = send(&mut h, c, &[b"GET", b"dest"]);
        if len == 0 {
            prop_assert_eq!(got, b"$-1\r\n".to_vec());
        } else {
            let mut reply = format!("${len}\r\n").into_bytes();
            reply.extend_from_slice(&want);
            reply.extend_from_slice(b"\r\n");
            prop_assert_eq!(got, reply);
        }
    }
}
