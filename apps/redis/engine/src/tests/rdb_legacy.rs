//! Encodings Redis 7.0 no longer writes but still loads (files from 6.2
//! and older): ziplists, zipmaps, quicklist 1, string scores, expiry in
//! seconds; and the opcodes around keys. The files are built here byte by
//! byte, as those versions lay them out.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use super::rdb_util::*;
use crate::rdb::{LoadError, crc64, put_len};

/// A ziplist entry.
enum Z<'a> {
    S(&'a [u8]),
    I(i64),
}

/// A ziplist as Redis 6.2 lays it out, each entry in its smallest encoding.
fn ziplist(entries: &[Z<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = 10;
    for e in entries {
        let start = body.len();
        tail = 10 + start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(254);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match e {
            Z::S(s) if s.len() < 64 => body.push(s.len() as u8),
            Z::S(s) if s.len() < 16384 => body.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8]),
            Z::S(s) => {
                body.push(0x80);
                body.extend_from_slice(&(s.len() as u32).to_be_bytes());
            }
            Z::I(v @ 0..=12) => body.push(0xf1 + *v as u8),
            Z::I(v) if i8::try_from(*v).is_ok() => body.extend_from_slice(&[0xfe, *v as u8]),
            Z::I(v) if i16::try_from(*v).is_ok() => {
                body.push(0xc0);
                body.extend_from_slice(&(*v as i16).to_le_bytes());
            }
            Z::I(v) if (-(1 << 23)..1 << 23).contains(v) => {
                body.push(0xf0);
                body.extend_from_slice(&(*v as i32).to_le_bytes()[..3]);
            }
            Z::I(v) if i32::try_from(*v).is_ok() => {
                body.push(0xd0);
                body.extend_from_slice(&(*v as i32).to_le_bytes());
            }
            Z::I(v) => {
                body.push(0xe0);
                body.extend_from_slice(&v.to_le_bytes());
            }
        }
        if let Z::S(s) = e {
            body.extend_from_slice(s);
        }
        prev = body.len() - start;
    }
    let mut zl = Vec::new();
    zl.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(0xff);
    zl
}

fn zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut zm = vec![pairs.len() as u8];
    for (k, v) in pairs {
        zm.push(k.len() as u8);
        zm.extend_from_slice(k);
        zm.extend_from_slice(&[v.len() as u8, 1]);
        zm.extend_from_slice(v);
        zm.push(0); // the free byte
    }
    zm.push(0xff);
    zm
}

/// An RDB file under construction.
struct File(Vec<u8>);

impl File {
    fn new(version: &str) -> File {
        File(format!("REDIS{version}").into_bytes())
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    fn len(&mut self, n: usize) -> &mut Self {
        put_len(&mut self.0, n);
        self
    }
    fn str(&mut self, s: &[u8]) -> &mut Self {
        self.len(s.len()).raw(s)
    }
    fn key(&mut self, kind: u8, key: &str) -> &mut Self {
        self.raw(&[kind]).str(key.as_bytes())
    }
    /// LZF "compression" of `s` as literal runs (what a compressor emits
    /// for incompressible data), in a string.
    fn lzf(&mut self, s: &[u8]) -> &mut Self {
        let mut c = Vec::new();
        for chunk in s.chunks(32) {
            c.push(chunk.len() as u8 - 1);
            c.extend_from_slice(chunk);
        }
        self.raw(&[0xc3]).len(c.len()).len(s.len()).raw(&c)
    }
    fn finish(&mut self) -> Vec<u8> {
        self.0.push(0xff);
        let crc = crc64(&self.0);
        self.0.extend_from_slice(&crc.to_le_bytes());
        self.0.clone()
    }
}

fn v(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// A Redis 6.2 (RDB 9) file with every pre-7.0 encoding.
#[test]
fn redis6_encodings_load() {
    let long = "L".repeat(300);
    let mut f = File::new("0009");
    f.raw(&[0xfa]).str(b"redis-ver").str(b"6.2.14");
    f.raw(&[0xfa]).str(b"lua").str(b"return 1");
    f.raw(&[0xfe]).len(0).raw(&[0xfb]).len(12).len(1);
    // Hash, sorted set and list ziplists (types 13, 12, 10).
    f.key(13, "zh").str(&ziplist(&[Z::S(b"f"), Z::S(b"v"), Z::S(b"n"), Z::I(12345)]));
    let zz = ziplist(&[Z::S(b"a"), Z::S(b"1.5"), Z::S(b"b"), Z::I(2), Z::S(b"c"), Z::I(-3), Z::S(b"d"), Z::S(b"inf")]);
    f.key(12, "zz").str(&zz);
    f.key(10, "zl").str(&ziplist(&[Z::S(b"x"), Z::I(7), Z::I(-70000), Z::I(1 << 40)]));
    // Quicklist 1 (type 14): ziplist nodes, the second LZF-compressed.
    let n1 = ziplist(&[Z::S(b"a"), Z::I(1), Z::I(-300), Z::I(70000), Z::I(5_000_000_000)]);
    let n2 = ziplist(&[Z::S(long.as_bytes()), Z::S(b"x")]);
    f.key(14, "ql").len(2).str(&n1).lzf(&n2);
    // Zipmap (type 9), sorted set with string scores (type 3).
    f.key(9, "zm").str(&zipmap(&[(b"foo", b"bar"), (b"hello", b"world")]));
    f.key(3, "z3").len(3).str(b"a").raw(&[3]).raw(b"1.5").str(b"b").raw(&[254]).str(b"c").raw(&[255]);
    // Intsets of 16 and 64-bit integers (type 11).
    let mut is16 = vec![2, 0, 0, 0, 3, 0, 0, 0];
    for x in [-2i16, 1, 300] {
        is16.extend_from_slice(&x.to_le_bytes());
    }
    f.key(11, "is16").str(&is16);
    let mut is64 = vec![8, 0, 0, 0, 1, 0, 0, 0];
    is64.extend_from_slice(&5_000_000_000i64.to_le_bytes());
    f.key(11, "is64").str(&is64);
    // Integer-encoded strings; a list and a set in the plain types.
    f.key(0, "i8").raw(&[0xc0, 0x80]);
    f.key(0, "i16").raw(&[0xc1]).raw(&(-30000i16).to_le_bytes());
    f.key(0, "i32").raw(&[0xc2]).raw(&123_456_789i32.to_le_bytes());
    f.key(1, "pl").len(2).str(b"p").raw(&[0xc0, 5]);
    // Expiry in seconds and in ms, IDLE, FREQ before keys.
    f.raw(&[0xfd]).raw(&1_900_000_000i32.to_le_bytes()).key(0, "sec").str(b"s");
    f.raw(&[0xf8]).len(100).key(0, "idle").str(b"i");
    f.raw(&[0xf9, 5]).key(0, "freq").str(b"q");
    f.raw(&[0xfc]).raw(&1_000u64.to_le_bytes()).key(0, "old").str(b"expired long ago");
    // An empty list (old versions could save one): skipped.
    f.key(1, "empty").len(0);
    // Another database, then back to 0.
    f.raw(&[0xfe]).len(2).key(0, "two").str(b"2");
    f.raw(&[0xfe]).len(0).key(0, "back").str(b"0");
    let file = f.finish();

    let mut h = H::new();
    let stats = load(&mut h.s, &file, h.now).unwrap_or_else(|e| std::panic!("{e}"));
    assert_eq!(stats.version, 9);
    assert_eq!(stats.redis_ver.as_deref(), Some("6.2.14"));
    assert_eq!((stats.keys_loaded, stats.keys_expired, stats.empty_keys_skipped), (17, 1, 1));
    let got = canon(&h.s, h.now.unix_ms);
    let get = |db: usize, k: &str| got.get(&(db, v(k))).cloned().unwrap_or_else(|| std::panic!("{k} missing"));
    use CValue::*;
    let pairs = |p: &[(&str, &str)]| {
        let mut p: Vec<(Vec<u8>, Vec<u8>)> = p.iter().map(|(a, b)| (v(a), v(b))).collect();
        p.sort();
        p
    };
    let scores = |p: &[(&str, f64)]| {
        let mut p: Vec<(Vec<u8>, u64)> = p.iter().map(|(a, s)| (v(a), s.to_bits())).collect();
        p.sort();
        p
    };
    let sorted = |m: &[&str]| {
        let mut m: Vec<Vec<u8>> = m.iter().map(|x| v(x)).collect();
        m.sort();
        m
    };
    assert_eq!(get(0, "zh").0, Hash(pairs(&[("f", "v"), ("n", "12345")])));
    assert_eq!(get(0, "zz").0, ZSet(scores(&[("a", 1.5), ("b", 2.0), ("c", -3.0), ("d", f64::INFINITY)])));
    assert_eq!(get(0, "zl").0, List(vec![v("x"), v("7"), v("-70000"), v("1099511627776")]));
    let ql = vec![v("a"), v("1"), v("-300"), v("70000"), v("5000000000"), v(&long), v("x")];
    assert_eq!(get(0, "ql").0, List(ql));
    assert_eq!(get(0, "zm").0, Hash(pairs(&[("foo", "bar"), ("hello", "world")])));
    let z3 = scores(&[("a", 1.5), ("b", f64::INFINITY), ("c", f64::NEG_INFINITY)]);
    assert_eq!(get(0, "z3").0, ZSet(z3));
    assert_eq!(get(0, "is16").0, Set(sorted(&["-2", "1", "300"])));
    assert_eq!(get(0, "is64").0, Set(sorted(&["5000000000"])));
    assert_eq!(get(0, "i8").0, Str(v("-128")));
    assert_eq!(get(0, "i16").0, Str(v("-30000")));
    assert_eq!(get(0, "i32").0, Str(v("123456789")));
    assert_eq!(get(0, "pl").0, List(vec![v("p"), v("5")]));
    assert_eq!(get(0, "sec"), (Str(v("s")), Some(1_900_000_000_000)));
    assert_eq!(get(2, "two").0, Str(v("2")));
    assert_eq!(get(0, "back").0, Str(v("0")));
    assert!(!got.contains_key(&(0, v("old"))) && !got.contains_key(&(0, v("empty"))));
    let c = h.client();
    assert_eq!(h.cmd(c, &["OBJECT", "IDLETIME", "idle"]), ":100\r\n");
    // Every truncation and one-byte corruption is refused or loads: never
    // a panic.
    for i in 9..file.len() {
        let _ = load(&mut fresh_server(), &file[..i], h.now);
        for x in [0u8, 0x40, 0x80, 0xc3, 0xfe, 0xff] {
            let mut bad = file.clone();
            bad[i] = x;
            // Keep the checksum right, so the decoders see the damage.
            let n = bad.len() - 8;
            let crc = crc64(&bad[..n]);
            bad[n..].copy_from_slice(&crc.to_le_bytes());
            let _ = load(&mut fresh_server(), &bad, h.now);
        }
    }
}

/// Function libraries (both formats) are skipped and counted; module data,
/// streams, unknown types, bad databases and duplicates are refused.
#[test]
fn opcodes_skipped_and_refused() {
    let now = H::new().now;
    let mut f = File::new("0010");
    f.raw(&[0xf6]).str(b"lib").str(b"LUA").len(1).str(b"desc").str(b"code");
    f.raw(&[0xf5]).str(b"#!lua name=x\nredis.register_function('f', function() return 1 end)");
    f.key(0, "k").str(b"v");
    let stats = load(&mut fresh_server(), &f.finish(), now).unwrap();
    assert_eq!((stats.functions_skipped, stats.keys_loaded), (2, 1));

    let refused = |body: &[u8]| {
        let mut f = File::new("0010");
        f.raw(body);
        let mut s = fresh_server();
        let err = load(&mut s, &f.finish(), now).unwrap_err();
        assert!(s.dbs.iter().all(|d| d.is_empty()));
        (err.clone(), format!("{err}"))
    };
    let (err, msg) = refused(b"\x00\x01a\x01b\x07\x01m\x00");
    assert_eq!(err, LoadError::UnsupportedType(7));
    assert!(msg.contains("module"), "{msg}");
    // Streams of every version are read: these end where a length is due.
    assert!(matches!(refused(b"\x0f\x01s\x00").0, LoadError::Corrupt(_)));
    assert!(matches!(refused(b"\x15\x01s\x00").0, LoadError::Corrupt(_)));
    assert_eq!(refused(b"\x08\x01s\x00").0, LoadError::UnsupportedType(8));
    let (err, msg) = refused(b"\xf7\x81\x00\x00\x00\x00\x00\x00\x00\x01\x02\x02");
    assert_eq!(err, LoadError::ModuleAux);
    assert!(msg.contains("module"), "{msg}");
    assert_eq!(refused(b"\xfe\x10").0, LoadError::DbOutOfRange(16));
    assert_eq!(refused(b"\x00\x01k\x01a\x00\x01k\x01b").0, LoadError::DuplicateKey { db: 0 });
    assert!(matches!(refused(b"\x02\x01s\x02\x01a\x01a").0, LoadError::Corrupt(_)), "duplicate set member");
    // RDB 4 (no checksum trailer) still loads.
    let mut old = b"REDIS0004\xfe\x00\x00\x01k\x01v\xff".to_vec();
    let stats = load(&mut fresh_server(), &old, now).unwrap();
    assert!(!stats.checksum_verified && stats.keys_loaded == 1);
    old.truncate(old.len() - 1);
    assert_eq!(load(&mut fresh_server(), &old, now).unwrap_err(), LoadError::Truncated);
}
