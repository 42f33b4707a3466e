#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use super::harness::*;
use crate::script;

#[test]
fn del_exists_type_rename() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["SET", "a", "1"] => "+OK\r\n",
        ["SET", "b", "2"] => "+OK\r\n",
        ["EXISTS", "a", "b", "c", "a"] => ":3\r\n",
        ["DEL", "a", "c"] => ":1\r\n",
        ["UNLINK", "b"] => ":1\r\n",
        ["TYPE", "a"] => "+none\r\n",
        ["LPUSH", "l", "x"] => ":1\r\n",
        ["TYPE", "l"] => "+list\r\n",
        ["RENAME", "nokey", "x"] => "-ERR no such key\r\n",
        ["SET", "a", "1", "EX", "100"] => "+OK\r\n",
        ["RENAME", "a", "b"] => "+OK\r\n",
        ["TTL", "b"] => ":100\r\n",
        ["EXISTS", "a"] => ":0\r\n",
        ["SET", "c", "3"] => "+OK\r\n",
        ["RENAMENX", "b", "c"] => ":0\r\n",
        ["RENAMENX", "b", "d"] => ":1\r\n",
        ["RENAME", "d", "d"] => "+OK\r\n",
        ["RENAME", "d", "l"] => "+OK\r\n",
        ["TYPE", "l"] => "+string\r\n",
    );
}

#[test]
fn keys_randomkey_touch_move_copy_object() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["RANDOMKEY"] => "$-1\r\n",
        ["MSET", "one", "1", "two", "2", "three", "3"] => "+OK\r\n",
        ["KEYS", "t??"] => "*1\r\n$3\r\ntwo\r\n",
        ["TOUCH", "one", "nokey"] => ":1\r\n",
        ["MOVE", "one", "1"] => ":1\r\n",
        ["MOVE", "one", "1"] => ":0\r\n",
        ["MOVE", "two", "0"] => "-ERR source and destination objects are the same\r\n",
        ["MOVE", "two", "99"] => "-ERR DB index is out of range\r\n",
        ["COPY", "two", "two2"] => ":1\r\n",
        ["COPY", "two", "two2"] => ":0\r\n",
        ["COPY", "two", "two2", "REPLACE"] => ":1\r\n",
        ["COPY", "two", "two"] => "-ERR source and destination objects are the same\r\n",
        ["COPY", "two", "x", "DB", "3"] => ":1\r\n",
        ["SELECT", "3"] => "+OK\r\n",
        ["GET", "x"] => "$1\r\n2\r\n",
        ["SELECT", "1"] => "+OK\r\n",
        ["GET", "one"] => "$1\r\n1\r\n",
        ["SELECT", "0"] => "+OK\r\n",
        ["OBJECT", "ENCODING", "nokey"] => "$-1\r\n",
        ["OBJECT", "REFCOUNT", "two"] => ":1\r\n",
        ["OBJECT", "IDLETIME", "two"] => ":0\r\n",
        ["OBJECT", "FREQ", "two"] => "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
        ["OBJECT", "FOO", "two"] => "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n",
    );
    let r = h.cmd(c, &["RANDOMKEY"]);
    assert!(r.starts_with('$') && r != "$-1\r\n");
    let k = h.cmd(c, &["KEYS", "*"]);
    assert!(k.starts_with("*3\r\n"), "{k}");
    h.advance(5000);
    assert_eq!(h.cmd(c, &["OBJECT", "IDLETIME", "two"]), ":5\r\n");
    let big: alloc::string::String = core::iter::repeat_n('x', 50).collect();
    h.cmd(c, &["SET", "r", &big]);
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "r"]), "$3\r\nraw\r\n");
}

#[test]
fn expire_family() {
    let mut h = H::new();
    let c = h.client();
    let now_s = h.now.unix_ms / 1000;
    script!(h, c,
        ["TTL", "k"] => ":-2\r\n",
        ["SET", "k", "v"] => "+OK\r\n",
        ["TTL", "k"] => ":-1\r\n",
        ["EXPIRE", "k", "100"] => ":1\r\n",
        ["TTL", "k"] => ":100\r\n",
        ["PTTL", "k"] => ":100000\r\n",
        ["EXPIRE", "k", "50", "GT"] => ":0\r\n",
        ["EXPIRE", "k", "50", "LT"] => ":1\r\n",
        ["EXPIRE", "k", "60", "NX"] => ":0\r\n",
        ["EXPIRE", "k", "60", "XX"] => ":1\r\n",
        ["EXPIRE", "k", "60", "NX", "XX"] => "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
        ["EXPIRE", "k", "60", "GT", "LT"] => "-ERR GT and LT options at the same time are not compatible\r\n",
        ["EXPIRE", "k", "60", "FOO"] => "-ERR Unsupported option FOO\r\n",
        ["EXPIRE", "k", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["EXPIRE", "k", "9223372036854775807"] => "-ERR invalid expire time in 'expire' command\r\n",
        ["EXPIRE", "nokey", "10"] => ":0\r\n",
        ["PERSIST", "k"] => ":1\r\n",
        ["PERSIST", "k"] => ":0\r\n",
        ["EXPIRE", "k", "10", "GT"] => ":0\r\n",
        ["PEXPIRE", "k", "1500"] => ":1\r\n",
        ["TTL", "k"] => ":2\r\n",
        ["EXPIRETIME", "nokey"] => ":-2\r\n",
    );
    let at = (now_s + 1000).to_string();
    assert_eq!(h.cmd(c, &["EXPIREAT", "k", &at]), ":1\r\n");
    assert_eq!(h.cmd(c, &["EXPIRETIME", "k"]), alloc::format!(":{at}\r\n"));
    assert_eq!(h.cmd(c, &["PEXPIRETIME", "k"]), alloc::format!(":{}000\r\n", at));
    assert_eq!(h.cmd(c, &["PEXPIREAT", "k", "1000"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(h.cmd(c, &["EXPIRE", "k", "-1"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
}

fn scan_all(h: &mut H, c: crate::ClientId, extra: &[&str], grow: bool) -> BTreeSet<Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut cursor = alloc::string::String::from("0");
    let mut round = 0;
    loop {
        let mut args: Vec<&str> = alloc::vec!["SCAN", &cursor];
        args.extend_from_slice(extra);
        let reply = h.cmd(c, &args);
        // Parse "*2\r\n$N\r\ncursor\r\n*M\r\n($len\r\nkey\r\n)*"
        let parts: Vec<&str> = reply.split("\r\n").collect();
        let next = parts[2].to_string();
        let n: usize = parts[3][1..].parse().unwrap();
        for i in 0..n {
            seen.insert(parts[5 + 2 * i].as_bytes().to_vec());
        }
        if grow {
            for j in 0..20 {
                h.cmd(c, &["SET", &alloc::format!("new{round}_{j}"), "x"]);
            }
        }
        round += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
        assert!(round < 10_000);
    }
    seen
}

#[test]
fn scan_is_complete_under_growth() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..500 {
        h.cmd(c, &["SET", &alloc::format!("key:{i}"), "v"]);
    }
    let seen = scan_all(&mut h, c, &["COUNT", "50"], true);
    for i in 0..500 {
        assert!(seen.contains(alloc::format!("key:{i}").as_bytes()), "missing key:{i}");
    }
    let seen = scan_all(&mut h, c, &["MATCH", "key:1*", "COUNT", "1000"], false);
    assert_eq!(seen.len(), 111);
    h.cmd(c, &["LPUSH", "alist", "x"]);
    let seen = scan_all(&mut h, c, &["TYPE", "list"], false);
    assert_eq!(seen.len(), 1);
    script!(h, c,
        ["SCAN", "abc"] => "-ERR invalid cursor\r\n",
        ["SCAN", "0", "COUNT", "0"] => "-ERR syntax error\r\n",
        ["SCAN", "0", "FOO", "1"] => "-ERR syntax error\r\n",
    );
}

#[test]
fn memory_usage_and_help() {
    use crate::bytemap::ByteMap;
    use crate::db::Entry;
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["MEMORY", "USAGE", "nokey"] => "$-1\r\n",
        ["MEMORY", "USAGE"] => "-ERR wrong number of arguments for 'memory|usage' command\r\n",
        ["MEMORY", "HELP", "x"] => "-ERR wrong number of arguments for 'memory|help' command\r\n",
        ["MEMORY", "FOO"] => "-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n",
        ["MEMORY", "USAGE", "nokey", "SAMPLES", "-1"] => "-ERR syntax error\r\n",
        ["MEMORY", "USAGE", "nokey", "SAMPLES", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["MEMORY", "USAGE", "nokey", "SAMPLES"] => "-ERR syntax error\r\n",
        ["MEMORY", "USAGE", "nokey", "FOO", "1"] => "-ERR syntax error\r\n",
        ["MEMORY", "MALLOC-STATS"] => "$45\r\nStats not supported for the current allocator\r\n",
    );
    assert!(h.cmd(c, &["MEMORY", "HELP"]).starts_with("*14\r\n+MEMORY <subcommand>"));
    // A string: its bytes, the key's and the key's share of the keyspace map.
    let value: String = core::iter::repeat_n('v', 1000).collect();
    h.cmd(c, &["SET", "key", &value]);
    let want = crate::mem::block(1000) + crate::mem::block(3) + ByteMap::<Entry>::ENTRY_BYTES;
    assert_eq!(h.cmd(c, &["MEMORY", "USAGE", "key", "SAMPLES", "0"]), format!(":{want}\r\n"));
    // A collection is counted whole (not sampled) and grows with its content.
    let usage = |h: &mut H, key: &str| -> usize {
        let r = h.cmd(c, &["MEMORY", "USAGE", key]);
        r.trim_start_matches(':').trim_end().parse().unwrap()
    };
    h.cmd(c, &["HSET", "small", "f", "v"]);
    for i in 0..1000 {
        h.cmd(c, &["HSET", "big", &format!("field:{i}"), &value[..100]]);
    }
    let (small, big) = (usage(&mut h, "small"), usage(&mut h, "big"));
    assert!(small > 0 && big > 1000 * 100 + 1000 * 8, "{small} {big}");
    // Every key's usage together is what the dataset figure counts, apart
    // from the keyspace map's spare capacity.
    let total = usage(&mut h, "key") + small + big;
    let dataset = h.s.dataset_memory();
    assert!(total <= dataset && dataset - total < 4096, "{total} vs {dataset}");
}
