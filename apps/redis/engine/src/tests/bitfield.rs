//! BITFIELD and BITFIELD_RO: replies and errors as Redis 7.0 gives them
//! (the fixed replies checked against real Redis 7.0.15),
//! and every subcommand under every overflow mode against a model that
//! keeps the string as a vector of bits and does the arithmetic in i128.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use proptest::prelude::*;

use super::bitmaps::send;
use super::harness::*;
use crate::script;

#[test]
fn subcommands_and_errors() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["BITFIELD", "bits"] => "*0\r\n",
        ["BITFIELD", "bits", "SET", "i8", "0", "-100"] => "*1\r\n:0\r\n",
        ["BITFIELD", "bits", "set", "i8", "0", "101", "GET", "i8", "0"] => "*2\r\n:-100\r\n:101\r\n",
        ["BITFIELD", "bits", "SET", "u8", "#1", "66", "SET", "u8", "#2", "67"] => "*2\r\n:0\r\n:0\r\n",
        ["GET", "bits"] => "$3\r\neBC\r\n",
        ["BITFIELD", "bits", "INCRBY", "u2", "100", "1", "GET", "u2", "100"] => "*2\r\n:1\r\n:1\r\n",
        ["STRLEN", "bits"] => ":13\r\n",
        ["BITFIELD", "bits", "OVERFLOW", "FAIL", "INCRBY", "u8", "#0", "200", "GET", "u8", "#0"] => "*2\r\n$-1\r\n:101\r\n",
        ["BITFIELD", "bits", "OVERFLOW", "SAT", "INCRBY", "i8", "#0", "200"] => "*1\r\n:127\r\n",
        ["BITFIELD", "bits", "INCRBY", "i8", "#0", "1"] => "*1\r\n:-128\r\n",
        ["BITFIELD", "bits", "SET", "u8", "0", "-1"] => "*1\r\n:128\r\n",
        ["BITFIELD", "bits", "GET", "u8", "0"] => "*1\r\n:255\r\n",
        ["BITFIELD", "bits", "GET", "i64", "0", "GET", "u63", "1"] => "*2\r\n:-53406578295963648\r\n:9169965458558812160\r\n",
        ["BITFIELD_RO", "bits", "GET", "u8", "#1"] => "*1\r\n:66\r\n",
        ["BITFIELD_RO", "nokey", "GET", "u8", "#1"] => "*1\r\n:0\r\n",
        ["EXISTS", "nokey"] => ":0\r\n",
        ["BITFIELD_RO", "bits"] => "*0\r\n",
        ["BITFIELD_RO", "bits", "SET", "u8", "0", "100", "GET", "u8", "0"] => "-ERR BITFIELD_RO only supports the GET subcommand\r\n",
        ["BITFIELD", "bits", "GET", "u64", "0"] => "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
        ["BITFIELD", "bits", "GET", "i65", "0"] => "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
        ["BITFIELD", "bits", "GET", "i0", "0"] => "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
        ["BITFIELD", "bits", "GET", "u8", "-1"] => "-ERR bit offset is not an integer or out of range\r\n",
        ["BITFIELD", "bits", "GET", "u8", "4294967296"] => "-ERR bit offset is not an integer or out of range\r\n",
        ["BITFIELD", "bits", "GET", "u8", "#536870912"] => "-ERR bit offset is not an integer or out of range\r\n",
        ["BITFIELD", "bits", "SET", "u8", "0", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["BITFIELD", "bits", "OVERFLOW", "NOPE"] => "-ERR Invalid OVERFLOW type specified\r\n",
        ["BITFIELD", "bits", "GET", "u8"] => "-ERR syntax error\r\n",
        ["BITFIELD", "bits", "FOO", "u8", "0"] => "-ERR syntax error\r\n",
        ["LPUSH", "l", "x"] => ":1\r\n",
        ["BITFIELD", "l", "GET", "u8", "0"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["BITFIELD", "l", "SET", "u8", "0", "1"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        // Redis's regression #3564.
        ["BITFIELD", "m", "SET", "i8", "0", "10", "SET", "i8", "64", "10", "INCRBY", "i8", "10", "99900"] => "*3\r\n:0\r\n:0\r\n:60\r\n",
    );
}

#[test]
fn changes_are_counted_per_field() {
    let mut h = H::new();
    let c = h.client();
    let before = h.s.dirty_since_save;
    h.cmd(c, &["BITFIELD", "f", "SET", "i5", "0", "0"]);
    assert_eq!(h.s.dirty_since_save, before + 1, "a new key");
    h.cmd(c, &["BITFIELD", "f", "SET", "i5", "0", "0"]);
    assert_eq!(h.s.dirty_since_save, before + 1, "nothing changed");
    h.cmd(c, &["BITFIELD", "f", "SET", "i5", "0", "1", "SET", "i5", "5", "1", "GET", "u8", "0"]);
    assert_eq!(h.s.dirty_since_save, before + 3, "two fields changed");
    h.cmd(c, &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"]);
    assert_eq!(h.s.dirty_since_save, before + 3, "a failed increment");
    h.cmd(c, &["BITFIELD", "f", "SET", "i5", "90", "0"]);
    assert_eq!(h.s.dirty_since_save, before + 4, "a longer string");
}

/// The model's view of a field write: the new value, or `None` when FAIL
/// refuses it, computed in i128 from the definitions.
fn model_apply(signed: bool, bits: u32, current: i128, delta: i128, mode: usize) -> Option<i128> {
    let (min, max) =
        if signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
    let sum = current + delta;
    if (min..=max).contains(&sum) {
        return Some(sum);
    }
    match mode {
        0 => Some((sum - min).rem_euclid(1i128 << bits) + min),
        1 => Some(if sum > max { max } else { min }),
        _ => None,
    }
}

fn model_get(bitv: &[bool], offset: usize, bits: u32, signed: bool) -> i128 {
    let raw =
        (0..bits as usize).fold(0i128, |acc, j| acc << 1 | i128::from(bitv.get(offset + j).copied().unwrap_or(false)));
    if signed && raw >> (bits - 1) & 1 == 1 { raw - (1i128 << bits) } else { raw }
}

fn model_set(bitv: &mut Vec<bool>, offset: usize, bits: u32, value: i128) {
    let end = offset + bits as usize;
    if bitv.len() < end.div_ceil(8) * 8 {
        bitv.resize(end.div_ceil(8) * 8, false);
    }
    for j in 0..bits as usize {
        bitv[offset + j] = value >> (bits as usize - 1 - j) & 1 == 1;
    }
}

/// A value near a type's limits, or anywhere in i64.
fn interesting() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -300i64..300,
        (1u32..64, -2i64..=2).prop_map(|(b, d)| (1i64 << (b - 1)).wrapping_add(d)),
        (1u32..64, -2i64..=2).prop_map(|(b, d)| (-(1i64 << (b - 1))).wrapping_add(d)),
        Just(i64::MAX),
        Just(i64::MIN),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fields_match_a_bit_vector_model(
        ops in proptest::collection::vec(
            (0usize..3, any::<bool>(), 1u32..=64, 0usize..80, interesting(), 0usize..3),
            1..12,
        ),
    ) {
        let mut h = H::new();
        let c = h.client();
        let mut bitv: Vec<bool> = Vec::new();
        let modes = ["WRAP", "SAT", "FAIL"];
        for (kind, signed, bits, offset, n, mode) in ops {
            // u64 does not exist.
            let signed = signed || bits == 64;
            let ty = format!("{}{bits}", if signed { "i" } else { "u" });
            let (off, num) = (offset.to_string(), n.to_string());
            let old = model_get(&bitv, offset, bits, signed);
            let reply = match kind {
                0 => {
                    let got = h.cmd(c, &["BITFIELD", "k", "GET", &ty, &off]);
                    prop_assert_eq!(got, format!("*1\r\n:{old}\r\n"));
                    continue;
                }
                1 => {
                    // Unsigned SET values are their 64-bit two's complement.
                    let value = if signed { i128::from(n) } else { i128::from(n as u64) };
                    let new = model_apply(signed, bits, value, 0, mode);
                    if let Some(v) = new { model_set(&mut bitv, offset, bits, v) }
                    let got = h.cmd(c, &["BITFIELD", "k", "OVERFLOW", modes[mode], "SET", &ty, &off, &num]);
                    (got, new.map(|_| old))
                }
                _ => {
                    let new = model_apply(signed, bits, old, i128::from(n), mode);
                    if let Some(v) = new { model_set(&mut bitv, offset, bits, v) }
                    let got = h.cmd(c, &["BITFIELD", "k", "OVERFLOW", modes[mode], "INCRBY", &ty, &off, &num]);
                    (got, new)
                }
            };
            let want = match reply.1 {
                Some(v) => format!("*1\r\n:{v}\r\n"),
                None => "*1\r\n$-1\r\n".to_string(),
            };
            prop_assert_eq!(reply.0, want);
            // The string grew to the furthest bit written, even on FAIL.
            let len = (offset + bits as usize).div_ceil(8);
            if bitv.len() < len * 8 {
                bitv.resize(len * 8, false);
            }
            let stored = send(&mut h, c, &[b"GET", b"k"]);
            let bytes: Vec<u8> = bitv.chunks(8).map(|b| b.iter().fold(0u8, |a, &x| a << 1 | u8::from(x))).collect();
            let mut expect = format!("${}\r\n", bytes.len()).into_bytes();
            expect.extend_from_slice(&bytes);
            expect.extend_from_slice(b"\r\n");
            prop_assert_eq!(stored, expect);
        }
    }
}
