#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn set_commands() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["SADD", "s", "3", "1", "2", "2"] => ":3\r\n",
        ["SMEMBERS", "s"] => "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
        ["OBJECT", "ENCODING", "s"] => "$6\r\nintset\r\n",
        ["SADD", "s", "x"] => ":1\r\n",
        ["OBJECT", "ENCODING", "s"] => "$9\r\nhashtable\r\n",
        ["SCARD", "s"] => ":4\r\n",
        ["SISMEMBER", "s", "x"] => ":1\r\n",
        ["SISMEMBER", "s", "y"] => ":0\r\n",
        ["SMISMEMBER", "s", "x", "y"] => "*2\r\n:1\r\n:0\r\n",
        ["SREM", "s", "x", "y"] => ":1\r\n",
        // Still "hashtable" (sticky): insertion order, not sorted.
        ["SMEMBERS", "s"] => "*3\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n",
        ["SADD", "t", "2", "3", "4"] => ":3\r\n",
        ["SINTER", "s", "t"] => "*2\r\n$1\r\n2\r\n$1\r\n3\r\n",
        ["SINTER", "s", "nokey"] => "*0\r\n",
        ["SUNION", "s", "t"] => "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n",
        ["SDIFF", "s", "t"] => "*1\r\n$1\r\n1\r\n",
        ["SINTERSTORE", "d", "s", "t"] => ":2\r\n",
        ["SUNIONSTORE", "d", "s", "t"] => ":4\r\n",
        ["SDIFFSTORE", "d", "s", "t"] => ":1\r\n",
        ["SDIFFSTORE", "d", "nokey"] => ":0\r\n",
        ["EXISTS", "d"] => ":0\r\n",
        ["SINTERCARD", "2", "s", "t"] => ":2\r\n",
        ["SINTERCARD", "2", "s", "t", "LIMIT", "1"] => ":1\r\n",
        ["SINTERCARD", "0", "s"] => "-ERR numkeys should be greater than 0\r\n",
        ["SINTERCARD", "3", "s", "t"] => "-ERR Number of keys can't be greater than number of args\r\n",
        ["SINTERCARD", "2", "s", "t", "LIMIT", "-1"] => "-ERR LIMIT can't be negative\r\n",
        ["SMOVE", "s", "t", "1"] => ":1\r\n",
        ["SMOVE", "s", "t", "9"] => ":0\r\n",
        ["SCARD", "t"] => ":4\r\n",
        ["SPOP", "nokey"] => "$-1\r\n",
        ["SPOP", "s", "-1"] => "-ERR value is out of range, must be positive\r\n",
        ["SRANDMEMBER", "nokey"] => "$-1\r\n",
        ["SRANDMEMBER", "nokey", "5"] => "*0\r\n",
        ["SET", "str", "x"] => "+OK\r\n",
        ["SADD", "str", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["SINTER", "s", "str"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    assert!(h.cmd(c, &["SRANDMEMBER", "t", "2"]).starts_with("*2\r\n"));
    assert!(h.cmd(c, &["SRANDMEMBER", "t", "-7"]).starts_with("*7\r\n"));
    assert!(h.cmd(c, &["SRANDMEMBER", "t", "100"]).starts_with("*4\r\n"));
    assert!(h.cmd(c, &["SPOP", "t", "3"]).starts_with("*3\r\n"));
    assert_eq!(h.cmd(c, &["SCARD", "t"]), ":1\r\n");
    let last = h.cmd(c, &["SPOP", "t"]);
    assert!(last.starts_with("$1\r\n"));
    assert_eq!(h.cmd(c, &["EXISTS", "t"]), ":0\r\n");
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["SMEMBERS", "s"]), "~2\r\n$1\r\n3\r\n$1\r\n2\r\n");
}

#[test]
fn sscan_big_set() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..600 {
        h.cmd(c, &["SADD", "s", &alloc::format!("m{i}")]);
    }
    let mut cursor = alloc::string::String::from("0");
    let mut seen = alloc::collections::BTreeSet::new();
    loop {
        let r = h.cmd(c, &["SSCAN", "s", &cursor, "MATCH", "m1*"]);
        let parts: alloc::vec::Vec<&str> = r.split("\r\n").collect();
        cursor = parts[2].into();
        let n: usize = parts[3][1..].parse().unwrap();
        for i in 0..n {
            seen.insert(parts[5 + 2 * i].to_string());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 111);
}
