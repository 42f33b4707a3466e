#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn hash_commands() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["HSET", "h", "a", "1", "b", "2"] => ":2\r\n",
        ["HSET", "h", "a", "3"] => ":0\r\n",
        ["HSET", "h", "a"] => "-ERR wrong number of arguments for 'hset' command\r\n",
        ["HGET", "h", "a"] => "$1\r\n3\r\n",
        ["HGET", "h", "z"] => "$-1\r\n",
        ["HSETNX", "h", "a", "9"] => ":0\r\n",
        ["HSETNX", "h", "c", "9"] => ":1\r\n",
        ["HMSET", "h", "d", "4"] => "+OK\r\n",
        ["HMGET", "h", "a", "z", "d"] => "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n4\r\n",
        ["HMGET", "nokey", "a"] => "*1\r\n$-1\r\n",
        ["HLEN", "h"] => ":4\r\n",
        ["HEXISTS", "h", "c"] => ":1\r\n",
        ["HSTRLEN", "h", "c"] => ":1\r\n",
        ["HDEL", "h", "c", "d", "z"] => ":2\r\n",
        ["HKEYS", "h"] => "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ["HVALS", "h"] => "*2\r\n$1\r\n3\r\n$1\r\n2\r\n",
        ["HGETALL", "h"] => "*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n",
        ["HINCRBY", "h", "a", "5"] => ":8\r\n",
        ["HINCRBY", "h", "n", "-1"] => ":-1\r\n",
        ["HSET", "h", "s", "x"] => ":1\r\n",
        ["HINCRBY", "h", "s", "1"] => "-ERR hash value is not an integer\r\n",
        ["HINCRBY", "h", "a", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["HINCRBYFLOAT", "h", "f", "10.5"] => "$4\r\n10.5\r\n",
        ["HINCRBYFLOAT", "h", "f", "0.1"] => "$4\r\n10.6\r\n",
        ["HINCRBYFLOAT", "h", "s", "1"] => "-ERR hash value is not a float\r\n",
        ["HINCRBYFLOAT", "h", "f", "+inf"] => "-ERR value is NaN or Infinity\r\n",
        ["HINCRBYFLOAT", "nohash", "f", "-inf"] => "-ERR value is NaN or Infinity\r\n",
        ["EXISTS", "nohash"] => ":0\r\n",
        ["OBJECT", "ENCODING", "h"] => "$8\r\nlistpack\r\n",
        ["HDEL", "h", "a", "b", "n", "s", "f"] => ":5\r\n",
        ["EXISTS", "h"] => ":0\r\n",
        ["HGETALL", "h"] => "*0\r\n",
        ["SET", "str", "x"] => "+OK\r\n",
        ["HGET", "str", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["HRANDFIELD", "nokey"] => "$-1\r\n",
        ["HRANDFIELD", "nokey", "3"] => "*0\r\n",
    );
    h.cmd(c, &["HSET", "r", "a", "1", "b", "2", "c", "3"]);
    let one = h.cmd(c, &["HRANDFIELD", "r"]);
    assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&one.as_str()));
    assert!(h.cmd(c, &["HRANDFIELD", "r", "10"]).starts_with("*3\r\n"));
    assert!(h.cmd(c, &["HRANDFIELD", "r", "2", "WITHVALUES"]).starts_with("*4\r\n"));
    assert!(h.cmd(c, &["HRANDFIELD", "r", "-5"]).starts_with("*5\r\n"));
    assert_eq!(h.cmd(c, &["HRANDFIELD", "r", "1", "FOO"]), "-ERR syntax error\r\n");
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["HGETALL", "nokey"]), "%0\r\n");
    let m = h.cmd(c, &["HRANDFIELD", "r", "1", "WITHVALUES"]);
    assert!(m.starts_with("*1\r\n*2\r\n"), "{m}");
}

#[test]
fn hscan_big_hash() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..600 {
        h.cmd(c, &["HSET", "h", &alloc::format!("f{i}"), "v"]);
    }
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    let mut cursor = alloc::string::String::from("0");
    let mut fields = alloc::collections::BTreeSet::new();
    loop {
        let r = h.cmd(c, &["HSCAN", "h", &cursor, "COUNT", "20"]);
        let parts: alloc::vec::Vec<&str> = r.split("\r\n").collect();
        cursor = parts[2].into();
        let n: usize = parts[3][1..].parse().unwrap();
        for i in (0..n).step_by(2) {
            fields.insert(parts[5 + 2 * i].to_string());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(fields.len(), 600);
    let r = h.cmd(c, &["HSCAN", "small", "0"]);
    assert_eq!(r, "*2\r\n$1\r\n0\r\n*0\r\n");
}

/// Redis 7.0's hash-max-listpack-entries is 512: a hash converts to a
/// hashtable with its 513th field, not before, and overwriting a field of
/// a full listpack does not convert it.
#[test]
fn hash_listpack_holds_512_fields() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..512 {
        h.cmd(c, &["HSET", "h", &alloc::format!("f{i}"), "v"]);
    }
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
    h.cmd(c, &["HSET", "h", "f0", "w"]);
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
    h.cmd(c, &["HSET", "h", "f512", "v"]);
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    h.cmd(c, &["HDEL", "h", "f512"]);
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n", "never converts back");
}

/// HDEL, SREM and ZREM share one removal path: a missing key counts 0, a key
/// of another type is WRONGTYPE, and removing the last member deletes the key.
#[test]
fn member_removal_across_container_types() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["HDEL", "nokey", "a"] => ":0\r\n",
        ["SREM", "nokey", "a"] => ":0\r\n",
        ["ZREM", "nokey", "a"] => ":0\r\n",
        ["SET", "str", "v"] => "+OK\r\n",
        ["HDEL", "str", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["SREM", "str", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZREM", "str", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["HSET", "h", "f", "1"] => ":1\r\n",
        ["SADD", "s", "m"] => ":1\r\n",
        ["ZADD", "z", "1", "m"] => ":1\r\n",
        ["HDEL", "h", "f", "f"] => ":1\r\n",
        ["SREM", "s", "m", "other"] => ":1\r\n",
        ["ZREM", "z", "m"] => ":1\r\n",
        ["EXISTS", "h", "s", "z"] => ":0\r\n",
    );
}
