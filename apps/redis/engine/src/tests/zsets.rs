#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn zadd_options_and_scores() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"] => ":3\r\n",
        ["ZADD", "z", "1.1", "a"] => ":0\r\n",
        ["ZSCORE", "z", "a"] => "$18\r\n1.1000000000000001\r\n",
        ["ZADD", "z", "CH", "5", "a", "6", "d"] => ":2\r\n",
        ["ZADD", "z", "NX", "9", "a"] => ":0\r\n",
        ["ZADD", "z", "XX", "9", "e"] => ":0\r\n",
        ["ZADD", "z", "GT", "CH", "1", "a"] => ":0\r\n",
        ["ZADD", "z", "LT", "CH", "1", "a"] => ":1\r\n",
        ["ZADD", "z", "INCR", "10", "a"] => "$2\r\n11\r\n",
        ["ZADD", "z", "NX", "INCR", "10", "a"] => "$-1\r\n",
        ["ZADD", "z", "NX", "XX", "1", "a"] => "-ERR XX and NX options at the same time are not compatible\r\n",
        ["ZADD", "z", "NX", "GT", "1", "a"] => "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
        ["ZADD", "z", "INCR", "1", "a", "2", "b"] => "-ERR INCR option supports a single increment-element pair\r\n",
        ["ZADD", "z", "x", "a"] => "-ERR value is not a valid float\r\n",
        ["ZADD", "z", "1"] => "-ERR wrong number of arguments for 'zadd' command\r\n",
        ["ZADD", "z", "NX", "1"] => "-ERR syntax error\r\n",
        ["ZADD", "z", "1", "a", "2"] => "-ERR syntax error\r\n",
        ["ZADD", "z", "inf", "i", "-inf", "ni"] => ":2\r\n",
        ["ZSCORE", "z", "i"] => "$3\r\ninf\r\n",
        ["ZINCRBY", "z", "-inf", "i"] => "-ERR resulting score is not a number (NaN)\r\n",
        ["ZINCRBY", "z", "2.5", "b"] => "$3\r\n4.5\r\n",
        ["ZMSCORE", "z", "b", "zz"] => "*2\r\n$3\r\n4.5\r\n$-1\r\n",
        ["ZCARD", "z"] => ":6\r\n",
        ["ZREM", "z", "i", "ni", "zz"] => ":2\r\n",
        ["ZRANK", "z", "a"] => ":3\r\n",
        ["ZREVRANK", "z", "a"] => ":0\r\n",
        ["ZRANK", "z", "zz"] => "$-1\r\n",
        ["ZSCORE", "nokey", "a"] => "$-1\r\n",
        ["SET", "s", "x"] => "+OK\r\n",
        ["ZADD", "s", "1", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZADD", "e", "XX", "1", "a"] => ":0\r\n",
        ["EXISTS", "e"] => ":0\r\n",
    );
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["ZSCORE", "z", "b"]), ",4.5\r\n");
    assert_eq!(h.cmd(c, &["ZSCORE", "z", "zz"]), "_\r\n");
}

#[test]
fn ranges() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["ZADD", "z", "1", "one", "2", "two", "3", "three", "4", "four"]);
    script!(h, c,
        ["ZRANGE", "z", "0", "-1"] => "*4\r\n$3\r\none\r\n$3\r\ntwo\r\n$5\r\nthree\r\n$4\r\nfour\r\n",
        ["ZRANGE", "z", "0", "1", "WITHSCORES"] => "*4\r\n$3\r\none\r\n$1\r\n1\r\n$3\r\ntwo\r\n$1\r\n2\r\n",
        ["ZRANGE", "z", "0", "0", "REV"] => "*1\r\n$4\r\nfour\r\n",
        ["ZREVRANGE", "z", "0", "1"] => "*2\r\n$4\r\nfour\r\n$5\r\nthree\r\n",
        ["ZRANGE", "z", "(1", "3", "BYSCORE"] => "*2\r\n$3\r\ntwo\r\n$5\r\nthree\r\n",
        ["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"] => "*2\r\n$5\r\nthree\r\n$3\r\ntwo\r\n",
        ["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"] => "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
        ["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"] => "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "1"] => "*1\r\n$3\r\ntwo\r\n",
        ["ZRANGEBYSCORE", "z", "2", "(3"] => "*1\r\n$3\r\ntwo\r\n",
        ["ZRANGEBYSCORE", "z", "x", "3"] => "-ERR min or max is not a float\r\n",
        ["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "-1", "1"] => "*0\r\n",
        ["ZREVRANGEBYSCORE", "z", "3", "2"] => "*2\r\n$5\r\nthree\r\n$3\r\ntwo\r\n",
        ["ZCOUNT", "z", "(1", "+inf"] => ":3\r\n",
        ["ZCOUNT", "z", "5", "1"] => ":0\r\n",
        ["ZRANGE", "z", "a", "b"] => "-ERR value is not an integer or out of range\r\n",
        ["ZRANGE", "nokey", "0", "-1"] => "*0\r\n",
        ["ZRANGE", "z", "0", "-1", "FOO"] => "-ERR syntax error\r\n",
    );
    h.cmd(c, &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]);
    script!(h, c,
        ["ZRANGEBYLEX", "lex", "-", "[c"] => "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ["ZRANGEBYLEX", "lex", "(a", "(c"] => "*1\r\n$1\r\nb\r\n",
        ["ZREVRANGEBYLEX", "lex", "+", "(c"] => "*2\r\n$1\r\ne\r\n$1\r\nd\r\n",
        ["ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "2"] => "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ["ZRANGEBYLEX", "lex", "a", "c"] => "-ERR min or max not valid string range item\r\n",
        ["ZLEXCOUNT", "lex", "[b", "[d"] => ":3\r\n",
        ["ZLEXCOUNT", "lex", "+", "-"] => ":0\r\n",
        ["ZREMRANGEBYLEX", "lex", "[a", "[b"] => ":2\r\n",
        ["ZREMRANGEBYRANK", "lex", "0", "0"] => ":1\r\n",
        ["ZREMRANGEBYSCORE", "lex", "-inf", "(0"] => ":0\r\n",
        ["ZREMRANGEBYSCORE", "lex", "0", "0"] => ":2\r\n",
        ["EXISTS", "lex"] => ":0\r\n",
    );
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["ZRANGE", "z", "0", "0", "WITHSCORES"]), "*1\r\n*2\r\n$3\r\none\r\n,1\r\n");
}

#[test]
fn pops_and_stores() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    script!(h, c,
        ["ZPOPMIN", "z"] => "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        ["ZPOPMAX", "z", "5"] => "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n",
        ["ZPOPMAX", "z"] => "*0\r\n",
        ["ZPOPMIN", "z", "-1"] => "-ERR value is out of range, must be positive\r\n",
        ["ZADD", "z1", "1", "a", "2", "b"] => ":2\r\n",
        ["ZADD", "z2", "10", "b", "20", "c"] => ":2\r\n",
        ["SADD", "s", "a", "c"] => ":2\r\n",
        ["ZUNIONSTORE", "u", "2", "z1", "z2"] => ":3\r\n",
        ["ZRANGE", "u", "0", "-1", "WITHSCORES"] => "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\n12\r\n$1\r\nc\r\n$2\r\n20\r\n",
        ["ZINTERSTORE", "i", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"] => ":1\r\n",
        ["ZSCORE", "i", "b"] => "$1\r\n5\r\n",
        ["ZINTERSTORE", "i", "2", "z1", "s"] => ":1\r\n",
        ["ZSCORE", "i", "a"] => "$1\r\n2\r\n",
        ["ZUNIONSTORE", "u", "0", "z1"] => "-ERR at least 1 input key is needed for 'zunionstore' command\r\n",
        ["ZUNIONSTORE", "u", "3", "z1"] => "-ERR syntax error\r\n",
        ["ZUNIONSTORE", "u", "1", "z1", "WEIGHTS", "x"] => "-ERR weight value is not a float\r\n",
        ["ZUNIONSTORE", "u", "1", "z1", "AGGREGATE", "AVG"] => "-ERR syntax error\r\n",
        ["ZINTERSTORE", "i", "2", "z1", "nokey"] => ":0\r\n",
        ["EXISTS", "i"] => ":0\r\n",
    );
}

#[test]
fn big_zset_and_zscan() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..200 {
        h.cmd(c, &["ZADD", "z", &alloc::format!("{i}"), &alloc::format!("m{i}")]);
    }
    script!(h, c,
        ["OBJECT", "ENCODING", "z"] => "$8\r\nskiplist\r\n",
        ["ZRANK", "z", "m150"] => ":150\r\n",
        ["ZCOUNT", "z", "10", "(20"] => ":10\r\n",
        ["ZRANGE", "z", "100", "101"] => "*2\r\n$4\r\nm100\r\n$4\r\nm101\r\n",
    );
    let mut cursor = alloc::string::String::from("0");
    let mut n_total = 0;
    loop {
        let r = h.cmd(c, &["ZSCAN", "z", &cursor, "COUNT", "30"]);
        let parts: alloc::vec::Vec<&str> = r.split("\r\n").collect();
        cursor = parts[2].into();
        let n: usize = parts[3][1..].parse().unwrap();
        n_total += n / 2;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(n_total, 200);
    h.cmd(c, &["ZADD", "small", "1.5", "x"]);
    assert_eq!(h.cmd(c, &["ZSCAN", "small", "0"]), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nx\r\n$3\r\n1.5\r\n");
}

#[test]
fn reverse_ranges_with_limit_and_exclusive_bounds() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["ZADD", "z", "1", "one", "2", "two", "3", "three", "4", "four"]);
    h.cmd(c, &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]);
    script!(h, c,
        ["ZREVRANGEBYSCORE", "z", "(4", "(1", "LIMIT", "1", "1"] => "*1\r\n$3\r\ntwo\r\n",
        ["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "2"] => "*4\r\n$4\r\nfour\r\n$1\r\n4\r\n$5\r\nthree\r\n$1\r\n3\r\n",
        ["ZREVRANGEBYSCORE", "z", "4", "1", "LIMIT", "2", "-1"] => "*2\r\n$3\r\ntwo\r\n$3\r\none\r\n",
        ["ZREVRANGEBYSCORE", "z", "4", "1", "LIMIT", "0", "0"] => "*0\r\n",
        ["ZREVRANGEBYSCORE", "z", "4", "1", "LIMIT", "-1", "2"] => "*0\r\n",
        ["ZREVRANGEBYSCORE", "z", "(2", "(2"] => "*0\r\n",
        ["ZREVRANGEBYSCORE", "z", "10", "5"] => "*0\r\n",
        ["ZREVRANGEBYSCORE", "z", "1", "x"] => "-ERR min or max is not a float\r\n",
        ["ZCOUNT", "z", "(1", "(4"] => ":2\r\n",
        ["ZREVRANGEBYLEX", "lex", "(e", "[b", "LIMIT", "1", "2"] => "*2\r\n$1\r\nc\r\n$1\r\nb\r\n",
        ["ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", "3", "5"] => "*2\r\n$1\r\nb\r\n$1\r\na\r\n",
        ["ZREVRANGEBYLEX", "lex", "(c", "(c"] => "*0\r\n",
        ["ZREVRANGEBYLEX", "lex", "-", "+"] => "*0\r\n",
        ["ZREVRANGEBYLEX", "lex", "c", "a"] => "-ERR min or max not valid string range item\r\n",
        ["ZRANGEBYLEX", "lex", "[b", "(e", "LIMIT", "1", "10"] => "*2\r\n$1\r\nc\r\n$1\r\nd\r\n",
        ["ZRANGE", "lex", "[d", "[b", "BYLEX", "REV", "LIMIT", "0", "1"] => "*1\r\n$1\r\nd\r\n",
        ["ZLEXCOUNT", "lex", "(a", "(e"] => ":3\r\n",
        ["ZLEXCOUNT", "lex", "a", "e"] => "-ERR min or max not valid string range item\r\n",
        ["ZCOUNT", "z", "x", "1"] => "-ERR min or max is not a float\r\n",
        ["ZREMRANGEBYRANK", "z", "x", "1"] => "-ERR value is not an integer or out of range\r\n",
        ["ZREMRANGEBYSCORE", "z", "1", "x"] => "-ERR min or max is not a float\r\n",
        ["ZREMRANGEBYLEX", "lex", "a", "[b"] => "-ERR min or max not valid string range item\r\n",
        ["ZREMRANGEBYSCORE", "z", "(1", "(3"] => ":1\r\n",
        ["ZREMRANGEBYRANK", "z", "-1", "-1"] => ":1\r\n",
        ["ZRANGE", "z", "0", "-1"] => "*2\r\n$3\r\none\r\n$5\r\nthree\r\n",
        ["ZREMRANGEBYLEX", "lex", "(c", "+"] => ":2\r\n",
        ["ZRANGE", "lex", "+", "-", "BYLEX", "REV"] => "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
        ["SET", "str", "x"] => "+OK\r\n",
        ["ZREVRANGEBYSCORE", "str", "1", "0"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZREMRANGEBYSCORE", "str", "0", "1"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZCOUNT", "str", "0", "1"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
}

#[test]
fn zstore_reads_inputs_in_place() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["ZADD", "big", "1", "a", "2", "b", "3", "c", "4", "d"] => ":4\r\n",
        ["ZADD", "small", "10", "c", "20", "b"] => ":2\r\n",
        ["SADD", "set", "b", "c", "d"] => ":3\r\n",
        // The destination may be an input; the smallest input drives.
        ["ZINTERSTORE", "big", "3", "big", "set", "small", "WEIGHTS", "1", "100", "2"] => ":2\r\n",
        ["ZRANGE", "big", "0", "-1", "WITHSCORES"] => "*4\r\n$1\r\nc\r\n$3\r\n123\r\n$1\r\nb\r\n$3\r\n142\r\n",
        ["ZUNIONSTORE", "u", "2", "small", "set", "AGGREGATE", "MIN"] => ":3\r\n",
        ["ZRANGE", "u", "0", "-1", "WITHSCORES"] => "*6\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n1\r\n$1\r\nd\r\n$1\r\n1\r\n",
        ["SET", "str", "x"] => "+OK\r\n",
        ["ZUNIONSTORE", "u", "2", "small", "str"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZCARD", "u"] => ":3\r\n",
    );
}

/// RESP2 array of bulk strings.
fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{i}\r\n", i.len()));
    }
    s
}

#[test]
fn zunion_zinter_zdiff_and_zintercard() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
    h.cmd(c, &["ZADD", "b", "10", "y", "20", "z", "30", "w"]);
    h.cmd(c, &["SADD", "s", "x", "w"]);
    h.cmd(c, &["SET", "str", "v"]);
    h.cmd(c, &["ZADD", "inf1", "+inf", "k"]);
    h.cmd(c, &["ZADD", "inf2", "-inf", "k"]);
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    script!(h, c,
        ["ZUNION", "2", "a", "b", "WITHSCORES"] => bulks(&["x", "1", "y", "12", "z", "23", "w", "30"]),
        ["ZUNION", "2", "a", "b"] => bulks(&["x", "y", "z", "w"]),
        ["ZINTER", "2", "a", "b", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX", "WITHSCORES"] => bulks(&["y", "5", "z", "10"]),
        ["ZDIFF", "2", "a", "b", "WITHSCORES"] => bulks(&["x", "1"]),
        ["ZDIFF", "3", "a", "b", "s"] => "*0\r\n",
        ["ZDIFF", "2", "a", "a"] => "*0\r\n",
        ["ZUNION", "3", "a", "b", "s", "AGGREGATE", "MIN", "WITHSCORES"] => bulks(&["w", "1", "x", "1", "y", "2", "z", "3"]),
        ["ZINTER", "2", "a", "s", "WITHSCORES"] => bulks(&["x", "2"]),
        ["ZINTER", "2", "a", "nokey"] => "*0\r\n",
        ["ZINTERCARD", "2", "a", "b"] => ":2\r\n",
        ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"] => ":1\r\n",
        ["ZINTERCARD", "2", "a", "b", "LIMIT", "0"] => ":2\r\n",
        ["ZINTERCARD", "1", "nokey"] => ":0\r\n",
        // inf + -inf sums to 0; a weight of 0 makes inf NaN: 0 for the
        // first input, while a NaN from another input poisons the sum (0)
        // but loses MIN/MAX comparisons.
        ["ZUNION", "2", "inf1", "inf2", "WITHSCORES"] => bulks(&["k", "0"]),
        ["ZINTER", "2", "inf1", "inf2", "WEIGHTS", "0", "1", "WITHSCORES"] => bulks(&["k", "-inf"]),
        ["ZINTER", "2", "inf1", "inf2", "WEIGHTS", "1", "0", "WITHSCORES"] => bulks(&["k", "0"]),
        ["ZINTER", "2", "inf1", "inf2", "WEIGHTS", "1", "0", "AGGREGATE", "MIN", "WITHSCORES"] => bulks(&["k", "inf"]),
        // Errors, in Redis's order: numkeys, key types, then options.
        ["ZUNION", "0", "a"] => "-ERR at least 1 input key is needed for 'zunion' command\r\n",
        ["ZINTERCARD", "0", "a"] => "-ERR at least 1 input key is needed for 'zintercard' command\r\n",
        ["ZUNION", "x", "a"] => "-ERR value is not an integer or out of range\r\n",
        ["ZUNION", "2", "a"] => "-ERR syntax error\r\n",
        ["ZUNION", "2", "a", "str", "WEIGHTS", "x"] => wrongtype,
        ["ZUNION", "1", "a", "WEIGHTS", "nan"] => "-ERR weight value is not a float\r\n",
        ["ZUNION", "1", "a", "WEIGHTS", "1", "2"] => "-ERR syntax error\r\n",
        ["ZUNION", "1", "a", "AGGREGATE", "AVG"] => "-ERR syntax error\r\n",
        ["ZDIFF", "1", "a", "WEIGHTS", "1"] => "-ERR syntax error\r\n",
        ["ZDIFF", "1", "a", "AGGREGATE", "SUM"] => "-ERR syntax error\r\n",
        ["ZINTERSTORE", "d", "1", "a", "WITHSCORES"] => "-ERR syntax error\r\n",
        ["ZINTERCARD", "1", "a", "WITHSCORES"] => "-ERR syntax error\r\n",
        ["ZINTERCARD", "1", "a", "LIMIT"] => "-ERR syntax error\r\n",
        ["ZINTERCARD", "1", "a", "LIMIT", "-1"] => "-ERR LIMIT can't be negative\r\n",
        ["ZINTERCARD", "1", "a", "LIMIT", "x"] => "-ERR LIMIT can't be negative\r\n",
        // The STORE forms.
        ["ZDIFFSTORE", "d", "2", "a", "b"] => ":1\r\n",
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"] => bulks(&["x", "1"]),
        ["EXPIRE", "d", "100"] => ":1\r\n",
        ["ZUNIONSTORE", "d", "2", "a", "b"] => ":4\r\n",
        ["TTL", "d"] => ":-1\r\n",
        ["ZDIFFSTORE", "d", "1", "nokey"] => ":0\r\n",
        ["EXISTS", "d"] => ":0\r\n",
    );
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(
        h.cmd(c, &["ZINTER", "2", "a", "b", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n"
    );
    assert_eq!(h.cmd(c, &["ZDIFF", "2", "a", "b"]), "*1\r\n$1\r\nx\r\n");
}

#[test]
fn zrangestore() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    h.cmd(c, &["SET", "str", "v"]);
    script!(h, c,
        ["ZRANGESTORE", "d", "z", "1", "2"] => ":2\r\n",
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"] => bulks(&["b", "2", "c", "3"]),
        ["ZRANGESTORE", "d", "z", "[b", "[c", "BYLEX"] => ":2\r\n",
        ["ZRANGESTORE", "d", "z", "5", "0", "BYSCORE", "REV", "LIMIT", "0", "2"] => ":2\r\n",
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"] => bulks(&["c", "3", "d", "4"]),
        ["ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1"] => ":1\r\n",
        ["ZRANGE", "d", "0", "-1"] => bulks(&["b"]),
        ["ZRANGESTORE", "d", "str", "0", "-1"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"] => "-ERR syntax error\r\n",
        ["ZRANGESTORE", "d", "z", "0", "-1", "LIMIT", "1", "2"] => "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
        ["ZRANGESTORE", "d", "z", "0", "-1", "REV", "REV"] => "-ERR syntax error\r\n",
        ["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"] => "-ERR syntax error\r\n",
        ["ZREVRANGE", "z", "0", "-1", "REV"] => "-ERR syntax error\r\n",
        ["ZRANGEBYSCORE", "z", "0", "-1", "BYSCORE"] => "-ERR syntax error\r\n",
        ["EXISTS", "d"] => ":1\r\n",
        ["ZRANGESTORE", "d", "z", "5", "6"] => ":0\r\n",
        ["EXISTS", "d"] => ":0\r\n",
        ["ZRANGESTORE", "d", "z", "0", "0"] => ":1\r\n",
        ["ZRANGESTORE", "d", "nokey", "0", "-1"] => ":0\r\n",
        ["EXISTS", "d"] => ":0\r\n",
    );
}

#[test]
fn zrandmember() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    script!(h, c,
        ["ZRANDMEMBER", "nokey"] => "$-1\r\n",
        ["ZRANDMEMBER", "nokey", "5"] => "*0\r\n",
        ["ZRANDMEMBER", "z", "0"] => "*0\r\n",
        ["ZRANDMEMBER", "z", "1", "foo"] => "-ERR syntax error\r\n",
        ["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"] => "-ERR syntax error\r\n",
        ["ZRANDMEMBER", "z", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["ZRANDMEMBER", "z", "-9223372036854775808"] => "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        ["ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"] => "-ERR value is out of range\r\n",
    );
    let one = h.cmd(c, &["ZRANDMEMBER", "z"]);
    assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&one.as_str()), "{one}");
    // A count at least the size: every member once.
    let all = h.cmd(c, &["ZRANDMEMBER", "z", "10", "WITHSCORES"]);
    assert!(all.starts_with("*6\r\n"), "{all}");
    for pair in ["$1\r\na\r\n$1\r\n1\r\n", "$1\r\nb\r\n$1\r\n2\r\n", "$1\r\nc\r\n$1\r\n3\r\n"] {
        assert!(all.contains(pair), "{all}");
    }
    // Distinct members below the size; repetitions with a negative count.
    let two = h.cmd(c, &["ZRANDMEMBER", "z", "2"]);
    assert!(two.starts_with("*2\r\n"));
    let lines: Vec<&str> = two.split("\r\n").filter(|l| l.len() == 1).collect();
    assert!(lines.len() == 2 && lines[0] != lines[1], "{two}");
    let many = h.cmd(c, &["ZRANDMEMBER", "z", "-100"]);
    assert!(many.starts_with("*100\r\n"));
    for m in ["a", "b", "c"] {
        assert!(many.contains(&format!("\r\n{m}\r\n")), "every member shows up in 100 draws");
    }
    h.cmd(c, &["HELLO", "3"]);
    let r3 = h.cmd(c, &["ZRANDMEMBER", "z", "-2", "WITHSCORES"]);
    assert!(r3.starts_with("*2\r\n*2\r\n$1\r\n"), "{r3}");
    // A huge negative count stops at the client's output limit, which
    // closes the client.
    h.cmd(c, &["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"]);
    let r = h.cmd(c, &["ZRANDMEMBER", "z", "-4611686018427387903"]);
    assert!(r.len() < 2 << 20 && h.s.should_close(c), "{}", r.len());
}
