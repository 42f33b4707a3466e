#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn get_set_options() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["GET", "k"] => "$-1\r\n",
        ["SET", "k", "v"] => "+OK\r\n",
        ["GET", "k"] => "$1\r\nv\r\n",
        ["SET", "k", "w", "NX"] => "$-1\r\n",
        ["SET", "k", "w", "XX"] => "+OK\r\n",
        ["SET", "n", "w", "XX"] => "$-1\r\n",
        ["SET", "k", "x", "GET"] => "$1\r\nw\r\n",
        ["SET", "k", "y", "NX", "GET"] => "$1\r\nx\r\n",
        ["SET", "k", "v", "NX", "XX"] => "-ERR syntax error\r\n",
        ["SET", "k", "v", "EX", "10", "PX", "5"] => "-ERR syntax error\r\n",
        ["SET", "k", "v", "EX", "0"] => "-ERR invalid expire time in 'set' command\r\n",
        ["SET", "k", "v", "EX", "-1"] => "-ERR invalid expire time in 'set' command\r\n",
        ["SET", "k", "v", "EX", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["SET", "k", "v", "EX", "9223372036854775807"] => "-ERR invalid expire time in 'set' command\r\n",
        ["SET", "k", "v", "EX", "100"] => "+OK\r\n",
        ["TTL", "k"] => ":100\r\n",
        ["SET", "k", "v2", "KEEPTTL"] => "+OK\r\n",
        ["TTL", "k"] => ":100\r\n",
        ["SET", "k", "v3"] => "+OK\r\n",
        ["TTL", "k"] => ":-1\r\n",
        ["SET", "k", "v", "PXAT", "1"] => "+OK\r\n",
        ["GET", "k"] => "$-1\r\n",
        ["SET"] => "-ERR wrong number of arguments for 'set' command\r\n",
        ["LPUSH", "l", "a"] => ":1\r\n",
        ["GET", "l"] => WRONGTYPE,
        ["SET", "l", "x", "GET"] => WRONGTYPE,
        ["SET", "l", "x"] => "+OK\r\n",
        ["GET", "l"] => "$1\r\nx\r\n",
    );
}

#[test]
fn setnx_setex_mget_mset() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["SETNX", "a", "1"] => ":1\r\n",
        ["SETNX", "a", "2"] => ":0\r\n",
        ["SETEX", "b", "10", "x"] => "+OK\r\n",
        ["PTTL", "b"] => ":10000\r\n",
        ["SETEX", "b", "0", "x"] => "-ERR invalid expire time in 'setex' command\r\n",
        ["PSETEX", "c", "1500", "y"] => "+OK\r\n",
        ["TTL", "c"] => ":2\r\n",
        ["MSET", "x", "1", "y", "2"] => "+OK\r\n",
        ["MSET", "x", "1", "y"] => "-ERR wrong number of arguments for 'mset' command\r\n",
        ["MGET", "x", "y", "nope"] => "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n",
        ["MSETNX", "x", "3", "z", "4"] => ":0\r\n",
        ["MSETNX", "z", "3", "w", "4"] => ":1\r\n",
        ["GETSET", "z", "9"] => "$1\r\n3\r\n",
        ["GETDEL", "z"] => "$1\r\n9\r\n",
        ["GETDEL", "z"] => "$-1\r\n",
        ["GETEX", "x", "EX", "50"] => "$1\r\n1\r\n",
        ["TTL", "x"] => ":50\r\n",
        ["GETEX", "x", "PERSIST"] => "$1\r\n1\r\n",
        ["TTL", "x"] => ":-1\r\n",
        ["GETEX", "x", "FOO"] => "-ERR syntax error\r\n",
        ["GETEX", "nokey"] => "$-1\r\n",
    );
}

#[test]
fn counters() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["INCR", "n"] => ":1\r\n",
        ["INCRBY", "n", "10"] => ":11\r\n",
        ["DECR", "n"] => ":10\r\n",
        ["DECRBY", "n", "20"] => ":-10\r\n",
        ["INCRBY", "n", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["SET", "s", "abc"] => "+OK\r\n",
        ["INCR", "s"] => "-ERR value is not an integer or out of range\r\n",
        ["SET", "m", "9223372036854775807"] => "+OK\r\n",
        ["INCR", "m"] => "-ERR increment or decrement would overflow\r\n",
        ["SET", "f", "10.50"] => "+OK\r\n",
        ["INCRBYFLOAT", "f", "0.1"] => "$4\r\n10.6\r\n",
        ["INCRBYFLOAT", "f", "-5"] => "$3\r\n5.6\r\n",
        ["SET", "e", "5.0e3"] => "+OK\r\n",
        ["INCRBYFLOAT", "e", "2.0e2"] => "$4\r\n5200\r\n",
        ["INCRBYFLOAT", "e", "x"] => "-ERR value is not a valid float\r\n",
        ["INCRBYFLOAT", "s", "1"] => "-ERR value is not a valid float\r\n",
        ["INCRBYFLOAT", "e", "inf"] => "-ERR increment would produce NaN or Infinity\r\n",
        ["SET", "t", "5", "EX", "100"] => "+OK\r\n",
        ["INCR", "t"] => ":6\r\n",
        ["TTL", "t"] => ":100\r\n",
        ["OBJECT", "ENCODING", "t"] => "$3\r\nint\r\n",
    );
}

#[test]
fn append_ranges_bits() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["APPEND", "s", "Hello"] => ":5\r\n",
        ["APPEND", "s", " World"] => ":11\r\n",
        ["STRLEN", "s"] => ":11\r\n",
        ["STRLEN", "nokey"] => ":0\r\n",
        ["GETRANGE", "s", "0", "4"] => "$5\r\nHello\r\n",
        ["GETRANGE", "s", "-5", "-1"] => "$5\r\nWorld\r\n",
        ["GETRANGE", "s", "5", "2"] => "$0\r\n\r\n",
        ["GETRANGE", "s", "0", "100"] => "$11\r\nHello World\r\n",
        ["GETRANGE", "nokey", "0", "1"] => "$0\r\n\r\n",
        ["SETRANGE", "s", "6", "Redis"] => ":11\r\n",
        ["GET", "s"] => "$11\r\nHello Redis\r\n",
        ["SETRANGE", "z", "3", "ab"] => ":5\r\n",
        ["GET", "z"] => "$5\r\n\x00\x00\x00ab\r\n",
        ["SETRANGE", "z", "-1", "ab"] => "-ERR offset is out of range\r\n",
        ["SETRANGE", "e", "0", ""] => ":0\r\n",
        ["EXISTS", "e"] => ":0\r\n",
        ["SETRANGE", "z", "536870911", "ab"] => "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
        ["SETBIT", "b", "7", "1"] => ":0\r\n",
        ["SETBIT", "b", "7", "0"] => ":1\r\n",
        ["SETBIT", "b", "7", "2"] => "-ERR bit is not an integer or out of range\r\n",
        ["SETBIT", "b", "-1", "1"] => "-ERR bit offset is not an integer or out of range\r\n",
        ["GETBIT", "b", "7"] => ":0\r\n",
        ["GETBIT", "b", "1000"] => ":0\r\n",
        ["SET", "foobar", "foobar"] => "+OK\r\n",
        ["BITCOUNT", "foobar"] => ":26\r\n",
        ["BITCOUNT", "foobar", "0", "0"] => ":4\r\n",
        ["BITCOUNT", "foobar", "1", "1"] => ":6\r\n",
        ["BITCOUNT", "foobar", "1", "1", "BYTE"] => ":6\r\n",
        ["BITCOUNT", "foobar", "5", "30", "BIT"] => ":17\r\n",
        ["BITCOUNT", "foobar", "0"] => "-ERR syntax error\r\n",
        ["BITCOUNT", "foobar", "0", "1", "x"] => "-ERR syntax error\r\n",
        ["BITCOUNT", "nokey", "0", "1"] => ":0\r\n",
        ["OBJECT", "ENCODING", "foobar"] => "$6\r\nembstr\r\n",
    );
}

#[test]
fn binary_safe_values() {
    let mut h = H::new();
    let c = h.client();
    let val: alloc::vec::Vec<u8> = (0..=255u8).collect();
    h.raw(c, &enc(&[b"SET", b"bin\x00key", &val]));
    let got = h.raw(c, &enc(&[b"GET", b"bin\x00key"]));
    let mut expected = b"$256\r\n".to_vec();
    expected.extend_from_slice(&val);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(got, expected);
}

#[test]
fn lcs() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["SET", "a", "ohmytext"]);
    h.cmd(c, &["SET", "b", "mynewtext"]);
    h.cmd(c, &["HSET", "h", "f", "v"]);
    script!(h, c,
        ["LCS", "a", "b"] => "$6\r\nmytext\r\n",
        ["LCS", "a", "b", "LEN"] => ":6\r\n",
        ["LCS", "a", "b", "IDX"] => "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
        ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"] => "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
        ["LCS", "a", "b", "MINMATCHLEN", "-5", "IDX", "WITHMATCHLEN"] => "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
        ["LCS", "a", "nokey"] => "$0\r\n\r\n",
        ["LCS", "a", "nokey", "IDX"] => "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
        ["LCS", "a", "b", "LEN", "IDX"] => "-ERR If you want both the length and indexes, please just use IDX.\r\n",
        ["LCS", "a", "b", "FOO"] => "-ERR syntax error\r\n",
        ["LCS", "a", "b", "MINMATCHLEN"] => "-ERR syntax error\r\n",
        ["LCS", "a", "b", "MINMATCHLEN", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["LCS", "a", "h", "LEN"] => "-ERR The specified keys must contain string values\r\n",
    );
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["LCS", "a", "nokey", "IDX"]), "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
}

/// LCS's table is (len(a) + 1) * (len(b) + 1) 32-bit cells of transient
/// memory: refused above proto-max-bulk-len, and when it would not fit
/// under the hard ceiling (here `maxmemory`, the appliance's default) next
/// to the dataset.
#[test]
fn lcs_table_memory_is_bounded() {
    let mut cfg = crate::Config::default();
    cfg.maxmemory = 4 << 20;
    cfg.maxmemory_ceiling = 4 << 20;
    let mut h = H::with(cfg);
    let c = h.client();
    let x: String = core::iter::repeat_n('x', 1500).collect();
    h.cmd(c, &["SET", "a", &x]);
    h.cmd(c, &["SET", "b", &x]);
    // 1501 * 1501 * 4 bytes: about 9 MB, over maxmemory.
    assert_eq!(
        h.cmd(c, &["LCS", "a", "b", "LEN"]),
        "-ERR Insufficient memory, failed allocating transient memory for LCS\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "a", "b"]), ":2\r\n", "nothing is evicted for it");
    assert_eq!(
        h.cmd(c, &["LCS", "a", "a", "LEN"]),
        "-ERR Insufficient memory, failed allocating transient memory for LCS\r\n"
    );
    h.cmd(c, &["SET", "b", &x[..500]]);
    assert_eq!(h.cmd(c, &["LCS", "a", "b", "LEN"]), ":500\r\n");
    // A `maxmemory` below a higher ceiling does not bound it (as in Redis).
    h.s.cfg.maxmemory_ceiling = 16 << 20;
    assert_eq!(h.cmd(c, &["LCS", "a", "a", "LEN"]), ":1500\r\n");
    // Past proto-max-bulk-len (at least 1 MB) whatever the memory limit.
    h.cmd(c, &["CONFIG", "SET", "maxmemory", "0"]);
    h.cmd(c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    assert_eq!(
        h.cmd(c, &["LCS", "a", "b", "LEN"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
}
