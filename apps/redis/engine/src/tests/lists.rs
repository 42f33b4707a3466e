#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn push_pop_range() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["RPUSH", "l", "a", "b", "c"] => ":3\r\n",
        ["LPUSH", "l", "z"] => ":4\r\n",
        ["LRANGE", "l", "0", "-1"] => "*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ["LRANGE", "l", "-2", "100"] => "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ["LRANGE", "l", "5", "10"] => "*0\r\n",
        ["LRANGE", "nokey", "0", "-1"] => "*0\r\n",
        ["LLEN", "l"] => ":4\r\n",
        ["LINDEX", "l", "0"] => "$1\r\nz\r\n",
        ["LINDEX", "l", "-1"] => "$1\r\nc\r\n",
        ["LINDEX", "l", "10"] => "$-1\r\n",
        ["LPOP", "l"] => "$1\r\nz\r\n",
        ["RPOP", "l", "2"] => "*2\r\n$1\r\nc\r\n$1\r\nb\r\n",
        ["LPOP", "l", "0"] => "*0\r\n",
        ["LPOP", "l", "-1"] => "-ERR value is out of range, must be positive\r\n",
        ["LPOP", "l", "1", "2"] => "-ERR wrong number of arguments for 'lpop' command\r\n",
        ["RPOP", "l"] => "$1\r\na\r\n",
        ["EXISTS", "l"] => ":0\r\n",
        ["LPOP", "l"] => "$-1\r\n",
        ["LPOP", "l", "2"] => "*-1\r\n",
        ["LPUSHX", "l", "a"] => ":0\r\n",
        ["RPUSH", "l", "a"] => ":1\r\n",
        ["RPUSHX", "l", "b", "c"] => ":3\r\n",
        ["SET", "s", "x"] => "+OK\r\n",
        ["LPUSH", "s", "a"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["LLEN", "s"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["OBJECT", "ENCODING", "l"] => "$9\r\nquicklist\r\n",
    );
}

#[test]
fn set_insert_rem_trim_pos() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["LSET", "nokey", "0", "x"] => "-ERR no such key\r\n",
        ["RPUSH", "l", "a", "b", "a", "c", "a"] => ":5\r\n",
        ["LSET", "l", "1", "B"] => "+OK\r\n",
        ["LSET", "l", "10", "B"] => "-ERR index out of range\r\n",
        ["LINSERT", "l", "BEFORE", "B", "x"] => ":6\r\n",
        ["LINSERT", "l", "AFTER", "nope", "x"] => ":-1\r\n",
        ["LINSERT", "l", "MIDDLE", "B", "x"] => "-ERR syntax error\r\n",
        ["LINSERT", "nokey", "AFTER", "B", "x"] => ":0\r\n",
        ["LPOS", "l", "a"] => ":0\r\n",
        ["LPOS", "l", "a", "RANK", "2"] => ":3\r\n",
        ["LPOS", "l", "a", "RANK", "-1"] => ":5\r\n",
        ["LPOS", "l", "a", "COUNT", "0"] => "*3\r\n:0\r\n:3\r\n:5\r\n",
        ["LPOS", "l", "a", "COUNT", "2", "RANK", "-1"] => "*2\r\n:5\r\n:3\r\n",
        ["LPOS", "l", "a", "MAXLEN", "1", "COUNT", "0"] => "*1\r\n:0\r\n",
        ["LPOS", "l", "zz"] => "$-1\r\n",
        ["LPOS", "l", "a", "RANK", "0"] => "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
        ["LPOS", "l", "a", "COUNT", "-1"] => "-ERR COUNT can't be negative\r\n",
        ["LPOS", "l", "a", "MAXLEN", "-1"] => "-ERR MAXLEN can't be negative\r\n",
        ["LPOS", "l", "a", "FOO", "1"] => "-ERR syntax error\r\n",
        ["LREM", "l", "-1", "a"] => ":1\r\n",
        ["LRANGE", "l", "0", "-1"] => "*5\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nB\r\n$1\r\na\r\n$1\r\nc\r\n",
        ["LREM", "l", "0", "a"] => ":2\r\n",
        ["LTRIM", "l", "1", "-1"] => "+OK\r\n",
        ["LRANGE", "l", "0", "-1"] => "*2\r\n$1\r\nB\r\n$1\r\nc\r\n",
        ["LTRIM", "l", "5", "10"] => "+OK\r\n",
        ["EXISTS", "l"] => ":0\r\n",
    );
}

#[test]
fn lmove_rpoplpush() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["RPUSH", "a", "1", "2", "3"] => ":3\r\n",
        ["LMOVE", "a", "b", "LEFT", "RIGHT"] => "$1\r\n1\r\n",
        ["RPOPLPUSH", "a", "b"] => "$1\r\n3\r\n",
        ["LRANGE", "b", "0", "-1"] => "*2\r\n$1\r\n3\r\n$1\r\n1\r\n",
        ["LMOVE", "a", "a", "LEFT", "RIGHT"] => "$1\r\n2\r\n",
        ["LMOVE", "nokey", "b", "LEFT", "RIGHT"] => "$-1\r\n",
        ["LMOVE", "a", "b", "UP", "RIGHT"] => "-ERR syntax error\r\n",
        ["SET", "s", "x"] => "+OK\r\n",
        ["LMOVE", "a", "s", "LEFT", "RIGHT"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["LLEN", "a"] => ":1\r\n",
    );
}
