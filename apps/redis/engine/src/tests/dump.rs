#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn restore(h: &mut H, c: crate::ClientId, key: &str, payload: &[u8], extra: &[&str]) -> String {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), b"0", payload];
    args.extend(extra.iter().map(|a| a.as_bytes()));
    show(&h.raw(c, &enc(&args)))
}

/// Payloads DUMPed by Redis 7.0.15 (listpacks, intsets, quicklists,
/// LZF-compressed and integer strings) restore to the same content.
#[test]
fn restores_redis_7_payloads() {
    let mut h = H::new();
    let c = h.client();
    let x100: String = core::iter::repeat_n('x', 100).collect();
    let xyz: String = "xyzxyz".repeat(30);
    let cases: &[(&str, &str, &[&str], String)] = &[
        ("str", "000568656c6c6f0a006372df766534200a", &["GET", "str"], "$5\r\nhello\r\n".into()),
        ("int", "00c139300a009d94ea2793fc08b9", &["GET", "int"], "$5\r\n12345\r\n".into()),
        ("big", "00c3094064016161e057000161610a00e8a3b507b06df271", &["STRLEN", "big"], ":100\r\n".into()),
        (
            "list",
            "120102c32040cc17cc00000005008161020101ded402f270110104e0b478797ae0a8020201b6ff0a00530c39de8349742d",
            &["LRANGE", "list", "0", "-1"],
            format!("*5\r\n$1\r\na\r\n$1\r\n1\r\n$4\r\n-300\r\n$5\r\n70000\r\n$180\r\n{xyz}\r\n"),
        ),
        (
            "iset",
            "0bc32630040800000005200301fbff80000001200b400000024004200001a086a01102f2052a200900000a00020675fa9ac181ea",
            &["SMISMEMBER", "iset", "1", "2", "-5", "100000", "5000000000", "3"],
            "*6\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:0\r\n".into(),
        ),
        ("hset", "02030161016301620a000d7e8a014cfe326c", &["SCARD", "hset"], ":3\r\n".into()),
        (
            "zlp",
            "11c32d361f360000000800816302dffd0281610283312e3504816202020181640297312e30e005000731652b33303018ff0a00a035a55f50156ce6",
            &["ZRANGE", "zlp", "0", "-1", "WITHSCORES"],
            "*8\r\n$1\r\nc\r\n$2\r\n-3\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nd\r\n$23\r\n1.0000000000000001e+300\r\n".into(),
        ),
        (
            "hlp",
            "1018180000000600816602817602816e027b01816d02dfff02ff0a0060aee297111ed058",
            &["HMGET", "hlp", "f", "n", "m"],
            "*3\r\n$1\r\nv\r\n$3\r\n123\r\n$2\r\n-1\r\n".into(),
        ),
        (
            "zsk",
            "050201790000000000000040c3094064017878e05700017878000000000000f03f0a00f19cd866895aeb8b",
            &["ZRANGE", "zsk", "0", "-1", "WITHSCORES"],
            format!("*4\r\n$100\r\n{x100}\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n"),
        ),
        ("hht", "04010166c3094064017878e057000178780a00521178d175a9af13", &["HGET", "hht", "f"], format!("$100\r\n{x100}\r\n")),
    ];
    for (key, hex, check, want) in cases {
        assert_eq!(restore(&mut h, c, key, &unhex(hex), &[]), "+OK\r\n", "{key}");
        assert_eq!(&h.cmd(c, check), want, "{key}");
    }
}

#[test]
fn dump_restore_round_trip_and_errors() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["RPUSH", "l", "a", "b", "123"]);
    h.cmd(c, &["SADD", "s", "1", "x"]);
    h.cmd(c, &["ZADD", "z", "1.5", "a", "-inf", "b"]);
    h.cmd(c, &["HSET", "h", "f", "v", "g", ""]);
    h.cmd(c, &["SET", "str", "binary\x00value"]);
    for (key, read) in [
        ("l", vec!["LRANGE", "l", "0", "-1"]),
        ("s", vec!["SMEMBERS", "s"]),
        ("z", vec!["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        ("h", vec!["HGETALL", "h"]),
        ("str", vec!["GET", "str"]),
    ] {
        let payload = h.raw(c, &enc(&[b"DUMP", key.as_bytes()]));
        let payload = &payload[payload.iter().position(|&b| b == b'\n').unwrap() + 1..payload.len() - 2];
        let before = h.cmd(c, &read);
        assert_eq!(restore(&mut h, c, key, payload, &[]), "-BUSYKEY Target key name already exists.\r\n");
        assert_eq!(restore(&mut h, c, key, payload, &["REPLACE", "IDLETIME", "100"]), "+OK\r\n");
        assert_eq!(h.cmd(c, &["OBJECT", "IDLETIME", key]), ":100\r\n");
        assert_eq!(h.cmd(c, &read), before, "{key}");
        // A corrupted payload fails its checksum.
        let mut bad = payload.to_vec();
        bad[1] ^= 1;
        assert_eq!(restore(&mut h, c, "new", &bad, &[]), "-ERR DUMP payload version or checksum are wrong\r\n");
    }
    let payload = h.raw(c, &enc(&[b"DUMP", b"str"]));
    let payload = payload[payload.iter().position(|&b| b == b'\n').unwrap() + 1..payload.len() - 2].to_vec();
    let mut args: Vec<&[u8]> = vec![b"RESTORE", b"t", b"5000", &payload];
    assert_eq!(show(&h.raw(c, &enc(&args))), "+OK\r\n");
    assert_eq!(h.cmd(c, &["PTTL", "t"]), ":5000\r\n");
    args[1] = b"old";
    args[2] = b"1000";
    args.push(b"ABSTTL");
    assert_eq!(show(&h.raw(c, &enc(&args))), "+OK\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "old"]), ":0\r\n", "already expired: not created");
    script!(h, c,
        ["DUMP", "nokey"] => "$-1\r\n",
        ["RESTORE", "k", "-1", "x"] => "-ERR Invalid TTL value, must be >= 0\r\n",
        ["RESTORE", "k", "0", "x"] => "-ERR DUMP payload version or checksum are wrong\r\n",
        ["RESTORE", "k", "0", "x", "FOO"] => "-ERR syntax error\r\n",
        ["RESTORE", "k", "0", "x", "IDLETIME", "-1"] => "-ERR Invalid IDLETIME value, must be >= 0\r\n",
        ["RESTORE", "k", "0", "x", "FREQ", "256"] => "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
        ["RESTORE", "k", "0", "x", "FREQ", "1", "IDLETIME", "1"] => "-ERR syntax error\r\n",
    );
    // Well-formed trailer, malformed object: a set claiming 2^40 members.
    let mut body = vec![2u8, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 1, b'a'];
    body.extend_from_slice(&crate::rdb::RDB_VERSION.to_le_bytes());
    let crc = crate::rdb::crc64(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut h, c, "k", &body, &[]), "-ERR Bad data format\r\n");
    // The payload's size is known before it is built.
    for key in ["l", "s", "z", "h", "str"] {
        let v = h.s.dbs[0].get(key.as_bytes()).map(|e| &e.value).unwrap();
        assert_eq!(crate::rdb::dump_len(v), crate::rdb::dump(v).len(), "{key}");
    }
    // A DUMP past the output limit closes the client instead.
    let big: String = core::iter::repeat_n('x', 10_000).collect();
    h.cmd(c, &["SET", "big", &big]);
    h.cmd(c, &["CONFIG", "SET", "client-output-buffer-limit", "normal 4096 0 0"]);
    h.cmd(c, &["DUMP", "big"]);
    assert!(h.s.should_close(c));
}

/// A payload with the trailer (version, CRC64) filled in.
fn sealed(object: &[u8]) -> Vec<u8> {
    let mut p = object.to_vec();
    p.extend_from_slice(&crate::rdb::RDB_VERSION.to_le_bytes());
    let crc = crate::rdb::crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// The replies Redis 7.0.15 gives to odd payloads (checked against it).
#[test]
fn restore_answers_odd_payloads_as_redis() {
    let mut h = H::new();
    let c = h.client();
    // The suite's "RESTORE fail with invalid payload size": a string of
    // 2^64 - 9 bytes, RDB version 12 and a zero CRC. Redis 7.0 (RDB 10)
    // rejects the version before parsing anything.
    let mut huge = vec![0u8, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf7, 0x0c, 0x00];
    huge.extend_from_slice(&[0; 8]);
    assert_eq!(restore(&mut h, c, "k", &huge, &[]), "-ERR DUMP payload version or checksum are wrong\r\n");
    // With a version and CRC it accepts, the length past the payload's end
    // is bad data (not a value too big for memory).
    assert_eq!(
        restore(&mut h, c, "k", &sealed(&[0u8, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf7]), &[]),
        "-ERR Bad data format\r\n"
    );
    assert_eq!(restore(&mut h, c, "k", &sealed(&[0u8, 0x80, 0, 0x10, 0, 0, b'x']), &[]), "-ERR Bad data format\r\n");
    // Redis reads the object from the whole payload: bytes after it are
    // ignored, and it may run into the trailer (here the version byte).
    assert_eq!(restore(&mut h, c, "k", &sealed(b"\x00\x03barXYZ"), &[]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["GET", "k"]), "$3\r\nbar\r\n");
    assert_eq!(restore(&mut h, c, "k2", &sealed(b"\x00\x04bar"), &[]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["GET", "k2"]), "$4\r\nbar\n\r\n");
    // An empty container, an unknown type, a short payload.
    assert_eq!(restore(&mut h, c, "k3", &sealed(&[2, 0]), &[]), "-ERR Bad data format\r\n");
    assert_eq!(restore(&mut h, c, "k3", &sealed(b"\x63\x03bar"), &[]), "-ERR Bad data format\r\n");
    assert_eq!(restore(&mut h, c, "k3", &[0; 9], &[]), "-ERR DUMP payload version or checksum are wrong\r\n");
    let mut v11 = b"\x00\x03bar\x0b\x00".to_vec();
    let crc = crate::rdb::crc64(&v11);
    v11.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut h, c, "k3", &v11, &[]), "-ERR DUMP payload version or checksum are wrong\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "k3"]), ":0\r\n");
}

/// What a payload decodes to is charged (bytes plus a per-element cost)
/// against a budget of at most the hard ceiling (here `maxmemory`, the
/// appliance's default) before anything is stored.
#[test]
fn restore_is_bounded_by_memory() {
    let mut cfg = crate::Config::default();
    cfg.maxmemory = 256 * 1024;
    cfg.maxmemory_ceiling = 256 * 1024;
    let mut h = H::with(cfg);
    let c = h.client();
    // A list of 10000 one-byte elements: a 20 KB payload.
    let mut body = vec![1u8, 0x40 | (10_000u16 >> 8) as u8, (10_000u16 & 0xff) as u8];
    for _ in 0..10_000 {
        body.extend_from_slice(&[1, b'x']);
    }
    body.extend_from_slice(&crate::rdb::RDB_VERSION.to_le_bytes());
    let crc = crate::rdb::crc64(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut h, c, "l", &body, &[]), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "l"]), ":0\r\n");
    // Below a higher ceiling, `maxmemory` is checked only before the
    // command, as in Redis: the value is restored past it, and the next
    // write is refused.
    h.s.cfg.maxmemory_ceiling = 16 << 20;
    assert_eq!(restore(&mut h, c, "l", &body, &[]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["LLEN", "l"]), ":10000\r\n");
    assert!(h.s.eviction_memory() > 256 * 1024);
    assert_eq!(restore(&mut h, c, "l2", &body, &[]), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    h.cmd(c, &["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(restore(&mut h, c, "l2", &body, &[]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["LLEN", "l2"]), ":10000\r\n");
}
