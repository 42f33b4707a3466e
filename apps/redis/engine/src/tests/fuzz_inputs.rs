//! The fuzz target's inputs, generated here so they cannot drift: the seed
//! corpus (`fuzz/seeds/two_clients/`, one script per command family, in
//! the target's record format) and the libFuzzer dictionary
//! (`fuzz/two_clients.dict`: every command of the command table plus
//! subcommands, options and RESP tokens). The tests check the committed
//! files match; `UPDATE_FUZZ_INPUTS=1 cargo test -p redis-engine fuzz_inputs`
//! rewrites them. Every seed also runs through the harness's invariants,
//! and the strict reply parser is tested here.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::harness::enc;
use crate::commands::TABLE;
use crate::fuzzing::{self, ReplyStream};
use crate::{Server, Time};

/// One step of a seed script.
enum Step {
    /// A command from client 0 or 1, as a RESP multibulk.
    Cmd(usize, &'static [&'static str]),
    /// Raw bytes from a client (inline commands, malformed input).
    Raw(usize, &'static [u8]),
    /// The clock advances by about this many ms, and the server ticks.
    Tick(u64),
}

use Step::{Cmd, Raw, Tick};

struct Seed {
    name: &'static str,
    /// Largest payload per record (63 is the format's maximum; smaller
    /// values split commands at odd places).
    chunk: usize,
    /// Whether replies may say "unknown command" (malformed input).
    malformed: bool,
    steps: Vec<Step>,
}

fn seed(name: &'static str, steps: Vec<Step>) -> Seed {
    Seed { name, chunk: 63, malformed: false, steps }
}

/// A 200-byte value.
const BIG: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn seeds() -> Vec<Seed> {
    vec![
        seed(
            "strings",
            vec![
                Cmd(0, &["SET", "k", "v"]),
                Cmd(0, &["GET", "k"]),
                Cmd(0, &["SET", "k", "v2", "NX"]),
                Cmd(0, &["SET", "k", "v3", "XX", "GET", "KEEPTTL"]),
                Cmd(0, &["SET", "t", "1", "EX", "100"]),
                Cmd(0, &["SET", "t", "1", "PX", "100000", "GET"]),
                Cmd(0, &["SET", "t", "1", "EXAT", "1800000000"]),
                Cmd(0, &["SET", "t", "1", "PXAT", "1800000000000"]),
                Cmd(1, &["SETNX", "n", "1"]),
                Cmd(1, &["SETEX", "e", "10", "v"]),
                Cmd(1, &["PSETEX", "e", "10000", "v"]),
                Cmd(0, &["MSET", "a", "1", "b", "2"]),
                Cmd(0, &["MGET", "a", "b", "missing"]),
                Cmd(0, &["MSETNX", "c", "3", "a", "9"]),
                Cmd(1, &["GETSET", "a", "10"]),
                Cmd(1, &["GETDEL", "b"]),
                Cmd(1, &["GETEX", "a", "EX", "50"]),
                Cmd(1, &["GETEX", "a", "PERSIST"]),
                Cmd(0, &["APPEND", "s", "hello"]),
                Cmd(0, &["APPEND", "s", BIG]),
                Cmd(0, &["STRLEN", "s"]),
                Cmd(0, &["GETRANGE", "s", "0", "3"]),
                Cmd(0, &["SUBSTR", "s", "-3", "-1"]),
                Cmd(0, &["SETRANGE", "s", "10", "xyz"]),
                Cmd(0, &["LCS", "s", "k"]),
                Cmd(1, &["LCS", "s", "k", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"]),
                Cmd(1, &["LCS", "k", "s", "LEN"]),
                Cmd(1, &["SET", "n", "-9223372036854775808"]),
                Cmd(1, &["INCR", "i"]),
                Cmd(1, &["DECR", "i"]),
                Cmd(1, &["INCRBY", "i", "9223372036854775807"]),
                Cmd(1, &["INCR", "i"]),
                Cmd(1, &["DECRBY", "i", "5"]),
                Cmd(1, &["INCRBYFLOAT", "f", "1.5e3"]),
                Cmd(1, &["INCRBYFLOAT", "f", "inf"]),
                Cmd(0, &["SETBIT", "bits", "7", "1"]),
                Cmd(0, &["GETBIT", "bits", "7"]),
                Cmd(0, &["BITCOUNT", "bits"]),
                Cmd(0, &["BITCOUNT", "bits", "0", "-1", "BIT"]),
                Cmd(0, &["INCR", "s"]),
            ],
        ),
        seed(
            "string_growth",
            vec![
                Cmd(0, &["SETRANGE", "big", "100000", "x"]),
                Cmd(0, &["APPEND", "big", "yyyy"]),
                Cmd(0, &["SETBIT", "big", "2000000", "1"]),
                Cmd(1, &["SETRANGE", "huge", "50000000", "x"]),
                Cmd(1, &["SETBIT", "huge", "4294967295", "1"]),
                Cmd(0, &["STRLEN", "big"]),
                Cmd(0, &["GETRANGE", "big", "99990", "100010"]),
                Cmd(0, &["BITCOUNT", "big", "0", "-1"]),
                Cmd(0, &["COPY", "big", "big2"]),
                Cmd(0, &["INFO", "memory"]),
            ],
        ),
        seed(
            "lists",
            vec![
                Cmd(0, &["RPUSH", "l", "a", "b", "c", "d"]),
                Cmd(0, &["LPUSH", "l", "z"]),
                Cmd(0, &["LPUSHX", "l", "y"]),
                Cmd(0, &["RPUSHX", "nol", "y"]),
                Cmd(0, &["LLEN", "l"]),
                Cmd(0, &["LRANGE", "l", "0", "-1"]),
                Cmd(0, &["LINDEX", "l", "-1"]),
                Cmd(0, &["LSET", "l", "0", "first"]),
                Cmd(0, &["LINSERT", "l", "BEFORE", "c", "bc"]),
                Cmd(0, &["LINSERT", "l", "AFTER", "c", "cd"]),
                Cmd(1, &["LREM", "l", "-1", "a"]),
                Cmd(1, &["LPOS", "l", "c", "RANK", "1", "COUNT", "0", "MAXLEN", "10"]),
                Cmd(1, &["LMOVE", "l", "l2", "LEFT", "RIGHT"]),
                Cmd(1, &["RPOPLPUSH", "l", "l2"]),
                Cmd(1, &["LPOP", "l"]),
                Cmd(1, &["RPOP", "l", "2"]),
                Cmd(1, &["LTRIM", "l2", "0", "0"]),
                Cmd(1, &["LRANGE", "l2", "-100", "100"]),
                Cmd(0, &["LPUSH", "k", "v"]),
                Cmd(0, &["SET", "str", "v"]),
                Cmd(0, &["LPUSH", "str", "v"]),
            ],
        ),
        seed(
            "hashes",
            vec![
                Cmd(0, &["HSET", "h", "f1", "v1", "f2", "v2"]),
                Cmd(0, &["HSETNX", "h", "f1", "x"]),
                Cmd(0, &["HMSET", "h", "f3", "3", "f4", "4.5"]),
                Cmd(0, &["HGET", "h", "f1"]),
                Cmd(0, &["HMGET", "h", "f1", "nope"]),
                Cmd(1, &["HINCRBY", "h", "f3", "10"]),
                Cmd(1, &["HINCRBYFLOAT", "h", "f4", "0.25"]),
                Cmd(1, &["HEXISTS", "h", "f2"]),
                Cmd(1, &["HLEN", "h"]),
                Cmd(1, &["HSTRLEN", "h", "f1"]),
                Cmd(1, &["HKEYS", "h"]),
                Cmd(1, &["HVALS", "h"]),
                Cmd(1, &["HGETALL", "h"]),
                Cmd(0, &["HSCAN", "h", "0", "MATCH", "f*", "COUNT", "2"]),
                Cmd(0, &["HRANDFIELD", "h", "-5", "WITHVALUES"]),
                Cmd(0, &["HDEL", "h", "f1", "f2"]),
                Cmd(0, &["HSET", "h", "long", BIG]),
                Cmd(0, &["OBJECT", "ENCODING", "h"]),
            ],
        ),
        seed(
            "sets",
            vec![
                Cmd(0, &["SADD", "s1", "1", "2", "3"]),
                Cmd(0, &["SADD", "s2", "3", "4", "a"]),
                Cmd(0, &["SREM", "s1", "1"]),
                Cmd(0, &["SISMEMBER", "s1", "2"]),
                Cmd(0, &["SMISMEMBER", "s1", "2", "9"]),
                Cmd(0, &["SMEMBERS", "s1"]),
                Cmd(0, &["SCARD", "s2"]),
                Cmd(1, &["SPOP", "s2"]),
                Cmd(1, &["SRANDMEMBER", "s1", "-5"]),
                Cmd(1, &["SMOVE", "s1", "s3", "2"]),
                Cmd(1, &["SINTER", "s1", "s2"]),
                Cmd(1, &["SUNION", "s1", "s2", "s3"]),
                Cmd(1, &["SDIFF", "s2", "s1"]),
                Cmd(0, &["SINTERSTORE", "d1", "s1", "s2"]),
                Cmd(0, &["SUNIONSTORE", "d2", "s1", "s2", "s3"]),
                Cmd(0, &["SDIFFSTORE", "d3", "s2", "s1"]),
                Cmd(0, &["SINTERCARD", "2", "s1", "s2", "LIMIT", "1"]),
                Cmd(0, &["SSCAN", "s2", "0", "COUNT", "10"]),
                Cmd(0, &["OBJECT", "ENCODING", "s2"]),
            ],
        ),
        seed(
            "zsets",
            vec![
                Cmd(0, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
                Cmd(0, &["ZADD", "z", "NX", "CH", "5", "d"]),
                Cmd(0, &["ZADD", "z", "XX", "GT", "INCR", "1", "a"]),
                Cmd(0, &["ZINCRBY", "z", "-inf", "b"]),
                Cmd(0, &["ZSCORE", "z", "a"]),
                Cmd(0, &["ZMSCORE", "z", "a", "nope"]),
                Cmd(0, &["ZCARD", "z"]),
                Cmd(0, &["ZCOUNT", "z", "(1", "+inf"]),
                Cmd(0, &["ZLEXCOUNT", "z", "-", "+"]),
                Cmd(1, &["ZRANK", "z", "c"]),
                Cmd(1, &["ZREVRANK", "z", "c"]),
                Cmd(1, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
                Cmd(1, &["ZRANGE", "z", "(1", "5", "BYSCORE", "REV", "LIMIT", "0", "2"]),
                Cmd(1, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "1"]),
                Cmd(1, &["ZREVRANGEBYSCORE", "z", "+inf", "-inf"]),
                Cmd(1, &["ZRANGEBYLEX", "z", "[a", "(c"]),
                Cmd(1, &["ZREVRANGEBYLEX", "z", "+", "-"]),
                Cmd(1, &["ZREVRANGE", "z", "0", "1"]),
                Cmd(0, &["ZADD", "y", "1", "a", "10", "x"]),
                Cmd(0, &["ZUNIONSTORE", "u", "2", "z", "y", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"]),
                Cmd(0, &["ZINTERSTORE", "i", "2", "z", "y", "AGGREGATE", "SUM"]),
                Cmd(0, &["ZDIFFSTORE", "d", "2", "z", "y"]),
                Cmd(1, &["ZUNION", "2", "z", "y", "WEIGHTS", "2", "inf", "WITHSCORES"]),
                Cmd(1, &["ZINTER", "2", "z", "y", "AGGREGATE", "MIN", "WITHSCORES"]),
                Cmd(1, &["ZDIFF", "2", "z", "y", "WITHSCORES"]),
                Cmd(1, &["ZINTERCARD", "2", "z", "y", "LIMIT", "1"]),
                Cmd(0, &["ZRANGESTORE", "r", "z", "(1", "+inf", "BYSCORE", "REV", "LIMIT", "0", "2"]),
                Cmd(1, &["ZRANDMEMBER", "z", "-5", "WITHSCORES"]),
                Cmd(1, &["ZRANDMEMBER", "z", "2"]),
                Cmd(0, &["ZSCAN", "z", "0"]),
                Cmd(0, &["ZPOPMIN", "z"]),
                Cmd(0, &["ZPOPMAX", "z", "2"]),
                Cmd(0, &["ZREMRANGEBYRANK", "u", "0", "0"]),
                Cmd(0, &["ZREMRANGEBYSCORE", "u", "-inf", "(2"]),
                Cmd(0, &["ZREMRANGEBYLEX", "y", "-", "+"]),
                Cmd(0, &["ZREM", "u", "x"]),
            ],
        ),
        seed(
            "keys",
            vec![
                Cmd(0, &["MSET", "a", "1", "b", "2", "c", "3"]),
                Cmd(0, &["EXISTS", "a", "b", "nope"]),
                Cmd(0, &["TYPE", "a"]),
                Cmd(0, &["KEYS", "*"]),
                Cmd(0, &["SCAN", "0", "MATCH", "?", "COUNT", "100", "TYPE", "string"]),
                Cmd(0, &["RENAME", "a", "a2"]),
                Cmd(0, &["RENAMENX", "b", "a2"]),
                Cmd(0, &["RANDOMKEY"]),
                Cmd(0, &["TOUCH", "a2", "b"]),
                Cmd(0, &["COPY", "b", "b2", "DB", "1", "REPLACE"]),
                Cmd(0, &["MOVE", "c", "2"]),
                Cmd(0, &["OBJECT", "IDLETIME", "b"]),
                Cmd(0, &["OBJECT", "FREQ", "b"]),
                Cmd(0, &["MEMORY", "USAGE", "b", "SAMPLES", "0"]),
                Cmd(0, &["MEMORY", "MALLOC-STATS"]),
                Cmd(0, &["DUMP", "b"]),
                Cmd(0, &["RESTORE", "b", "0", "payload", "REPLACE", "IDLETIME", "10"]),
                // A payload DUMPed by Redis 7.0 (the string "hello").
                Raw(1, b"*5\r\n$7\r\nRESTORE\r\n$1\r\nr\r\n$1\r\n0\r\n$17\r\n\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a\r\n$6\r\nABSTTL\r\n"),
                Cmd(0, &["DEL", "a2"]),
                Cmd(0, &["UNLINK", "b"]),
                Cmd(1, &["SELECT", "2"]),
                Cmd(1, &["GET", "c"]),
                Cmd(1, &["DBSIZE"]),
                Cmd(1, &["SWAPDB", "0", "2"]),
                Cmd(1, &["FLUSHDB", "ASYNC"]),
                Cmd(1, &["SELECT", "0"]),
                Cmd(1, &["FLUSHALL", "SYNC"]),
                Cmd(1, &["DBSIZE"]),
            ],
        ),
        seed(
            "expiry",
            vec![
                Cmd(0, &["SET", "a", "1"]),
                Cmd(0, &["EXPIRE", "a", "100", "NX"]),
                Cmd(0, &["PEXPIRE", "a", "500", "LT"]),
                Cmd(0, &["TTL", "a"]),
                Cmd(0, &["PTTL", "a"]),
                Cmd(0, &["EXPIRETIME", "a"]),
                Cmd(0, &["PEXPIRETIME", "a"]),
                Cmd(0, &["SET", "b", "2"]),
                Cmd(0, &["EXPIREAT", "b", "1700000001", "GT"]),
                Cmd(0, &["SET", "c", "3"]),
                Cmd(0, &["PEXPIREAT", "c", "1"]),
                Cmd(0, &["SET", "d", "4", "PX", "50"]),
                Cmd(0, &["PERSIST", "d"]),
                Cmd(1, &["SET", "e", "5", "PX", "100"]),
                Tick(600),
                Cmd(1, &["GET", "a"]),
                Tick(2000),
                Cmd(1, &["EXISTS", "a", "b", "c", "d", "e"]),
                Cmd(1, &["DBSIZE"]),
            ],
        ),
        seed(
            "pubsub",
            vec![
                Cmd(0, &["SUBSCRIBE", "news", "sport"]),
                Cmd(0, &["PSUBSCRIBE", "n*"]),
                Cmd(1, &["PUBLISH", "news", "hello"]),
                Cmd(1, &["PUBSUB", "CHANNELS", "*"]),
                Cmd(1, &["PUBSUB", "NUMSUB", "news", "x"]),
                Cmd(1, &["PUBSUB", "NUMPAT"]),
                Cmd(0, &["PING", "in pubsub"]),
                Cmd(0, &["GET", "k"]),
                Cmd(0, &["UNSUBSCRIBE", "news"]),
                Cmd(0, &["PUNSUBSCRIBE"]),
                Cmd(0, &["UNSUBSCRIBE"]),
                Cmd(1, &["PUBLISH", "news", "nobody"]),
            ],
        ),
        seed(
            "pubsub_resp3",
            vec![
                Cmd(0, &["HELLO", "3"]),
                Cmd(0, &["SUBSCRIBE", "ch"]),
                Cmd(0, &["GET", "k"]),
                Cmd(1, &["PUBLISH", "ch", "msg"]),
                Cmd(0, &["PUBLISH", "ch", "self"]),
                Cmd(0, &["PSUBSCRIBE", "*"]),
                Cmd(1, &["PUBLISH", "other", "m"]),
                Cmd(0, &["RESET"]),
                Cmd(1, &["PUBLISH", "ch", "gone"]),
            ],
        ),
        // Queues an unknown command on purpose.
        Seed {
            malformed: true,
            ..seed(
                "multi",
                vec![
                    Cmd(0, &["MULTI"]),
                    Cmd(0, &["SET", "k", "1"]),
                    Cmd(0, &["INCR", "k"]),
                    Cmd(0, &["LPUSH", "k", "x"]),
                    Cmd(0, &["EXEC"]),
                    Cmd(0, &["MULTI"]),
                    Cmd(0, &["NOSUCHCMD"]),
                    Cmd(0, &["EXEC"]),
                    Cmd(0, &["MULTI"]),
                    Cmd(0, &["GET", "k"]),
                    Cmd(0, &["DISCARD"]),
                    Cmd(0, &["EXEC"]),
                    Cmd(0, &["MULTI"]),
                    Cmd(0, &["MULTI"]),
                    Cmd(0, &["HELLO", "3"]),
                    Cmd(0, &["CONFIG", "GET", "maxmemory"]),
                    Cmd(0, &["SUBSCRIBE", "c"]),
                    Cmd(0, &["EXEC"]),
                ],
            )
        },
        seed(
            "watch",
            vec![
                Cmd(0, &["WATCH", "k", "j"]),
                Cmd(1, &["SET", "k", "changed"]),
                Cmd(0, &["MULTI"]),
                Cmd(0, &["SET", "k", "mine"]),
                Cmd(0, &["EXEC"]),
                Cmd(0, &["WATCH", "k"]),
                Cmd(0, &["UNWATCH"]),
                Cmd(0, &["MULTI"]),
                Cmd(0, &["SET", "k", "mine"]),
                Cmd(0, &["EXEC"]),
                Cmd(0, &["SET", "w", "1", "PX", "10"]),
                Cmd(0, &["WATCH", "w"]),
                Tick(200),
                Cmd(0, &["MULTI"]),
                Cmd(0, &["GET", "w"]),
                Cmd(0, &["EXEC"]),
            ],
        ),
        seed(
            "notify",
            vec![
                Cmd(0, &["CONFIG", "SET", "notify-keyspace-events", "KEAnm"]),
                Cmd(1, &["PSUBSCRIBE", "__key*__:*"]),
                Cmd(0, &["HELLO", "3"]),
                Cmd(0, &["SUBSCRIBE", "__keyevent@0__:set"]),
                Cmd(0, &["SET", "k", "v", "PX", "10"]),
                Cmd(0, &["GET", "missing"]),
                Cmd(0, &["RPUSH", "l", "a", "b"]),
                Cmd(0, &["LMOVE", "l", "m", "LEFT", "RIGHT"]),
                Cmd(0, &["SADD", "s", "a"]),
                Cmd(0, &["SMOVE", "s", "t", "a"]),
                Cmd(0, &["ZADD", "z", "1", "a"]),
                Cmd(0, &["ZPOPMIN", "z"]),
                Cmd(0, &["HSET", "h", "f", "v"]),
                Cmd(0, &["HDEL", "h", "f"]),
                Cmd(0, &["MULTI"]),
                Cmd(0, &["SET", "j", "1"]),
                Cmd(0, &["RENAME", "j", "i"]),
                Cmd(0, &["EXEC"]),
                Tick(200),
                Cmd(0, &["CLIENT", "REPLY", "OFF"]),
                Cmd(0, &["SET", "k", "w"]),
                Cmd(0, &["CLIENT", "REPLY", "SKIP"]),
                Cmd(0, &["CLIENT", "REPLY", "ON"]),
                Cmd(0, &["CLIENT", "REPLY", "SKIP"]),
                Cmd(0, &["INCR", "n"]),
                Cmd(0, &["GET", "n"]),
                Cmd(0, &["CONFIG", "SET", "notify-keyspace-events", ""]),
            ],
        ),
        seed(
            "blocking",
            vec![
                Cmd(0, &["BLPOP", "q1", "q2", "0"]),
                Cmd(1, &["RPUSH", "q2", "a", "b"]),
                Cmd(0, &["BRPOP", "q2", "0.5"]),
                Cmd(0, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]),
                Cmd(1, &["LPUSH", "src", "m"]),
                Cmd(0, &["BRPOPLPUSH", "dst", "src", "1"]),
                Cmd(0, &["BLPOP", "empty", "0.1"]),
                Tick(400),
                Cmd(1, &["MULTI"]),
                Cmd(1, &["BLPOP", "empty", "0"]),
                Cmd(1, &["EXEC"]),
                Cmd(0, &["BLMOVE", "none", "dst", "RIGHT", "LEFT", "0"]),
                Cmd(1, &["SET", "dst", "string"]),
                Cmd(1, &["RPUSH", "none", "x"]),
                Cmd(0, &["PING"]),
            ],
        ),
        seed(
            "blocking_mpop",
            vec![
                Cmd(0, &["BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "2"]),
                Cmd(1, &["BZPOPMIN", "z1", "l1", "0"]),
                Cmd(1, &["RPUSH", "l2", "a", "b", "c"]),
                Cmd(0, &["LMPOP", "1", "l2", "RIGHT"]),
                Cmd(0, &["BZMPOP", "0.1", "1", "z1", "MAX", "COUNT", "3"]),
                Cmd(1, &["ZADD", "z1", "1", "m", "2", "n"]),
                Cmd(1, &["ZMPOP", "1", "z1", "MIN", "COUNT", "5"]),
                Cmd(0, &["BZPOPMAX", "z2", "0"]),
                Cmd(1, &["ZADD", "z3", "3", "q"]),
                Cmd(1, &["RENAME", "z3", "z2"]),
                Cmd(0, &["BLPOP", "moved", "0"]),
                Cmd(1, &["MULTI"]),
                Cmd(1, &["RPUSH", "tmp", "x"]),
                Cmd(1, &["RENAME", "tmp", "moved"]),
                Cmd(1, &["EXEC"]),
                Tick(200),
            ],
        ),
        seed(
            "sort",
            vec![
                Cmd(0, &["RPUSH", "l", "3", "1", "2"]),
                Cmd(0, &["MSET", "w_1", "9", "w_2", "8"]),
                Cmd(0, &["HSET", "h_1", "f", "x"]),
                Cmd(1, &["BLPOP", "out", "0"]),
                Cmd(
                    0,
                    &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f", "LIMIT", "0", "2", "DESC", "STORE", "out"],
                ),
                Cmd(0, &["SORT_RO", "l", "ALPHA", "BY", "nosort"]),
                Cmd(0, &["SORT", "nokey", "STORE", "out"]),
            ],
        ),
        seed(
            "blocking_disconnect",
            vec![
                Cmd(0, &["BLPOP", "q", "0"]),
                Cmd(0, &["GET", "pipelined"]),
                Cmd(1, &["CLIENT", "KILL", "ID", "1"]),
                Cmd(1, &["RPUSH", "q", "x"]),
                Cmd(0, &["BLPOP", "q", "0"]),
                Cmd(1, &["CLIENT", "UNBLOCK", "3", "TIMEOUT"]),
                Cmd(1, &["LLEN", "q"]),
            ],
        ),
        seed(
            "server",
            vec![
                Cmd(0, &["PING"]),
                Cmd(0, &["ECHO", "hi"]),
                Cmd(0, &["TIME"]),
                Cmd(0, &["LASTSAVE"]),
                Cmd(0, &["SAVE"]),
                Cmd(0, &["BGSAVE"]),
                Cmd(0, &["INFO"]),
                Cmd(0, &["INFO", "keyspace"]),
                Cmd(0, &["DBSIZE"]),
                Cmd(1, &["COMMAND", "COUNT"]),
                Cmd(1, &["COMMAND", "INFO", "get", "set"]),
                Cmd(1, &["COMMAND", "DOCS", "lpush"]),
                Cmd(1, &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]),
                Cmd(1, &["COMMAND", "LIST"]),
                Cmd(1, &["FUNCTION", "LIST"]),
                Cmd(1, &["FUNCTION", "FLUSH", "ASYNC"]),
            ],
        ),
        seed(
            "config",
            vec![
                Cmd(0, &["CONFIG", "GET", "*"]),
                Cmd(0, &["CONFIG", "GET", "maxmemory*", "hz"]),
                Cmd(0, &["CONFIG", "SET", "hash-max-ziplist-entries", "4", "zset-max-listpack-value", "1kb"]),
                Cmd(0, &["CONFIG", "GET", "*-max-*"]),
                Cmd(0, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
                Cmd(0, &["CONFIG", "SET", "maxmemory", "100kb"]),
                Cmd(0, &["CONFIG", "SET", "timeout", "1"]),
                Cmd(0, &["CONFIG", "SET", "client-output-buffer-limit", "normal 4096 0 0"]),
                Cmd(0, &["CONFIG", "SET", "hz", "100"]),
                Cmd(0, &["CONFIG", "RESETSTAT"]),
                Cmd(0, &["CONFIG", "SET", "nosuch", "1"]),
                Cmd(1, &["LRANGE", "l", "0", "-1"]),
                Tick(3000),
                Cmd(1, &["PING"]),
            ],
        ),
        seed(
            "clients",
            vec![
                Cmd(0, &["CLIENT", "SETNAME", "first"]),
                Cmd(0, &["CLIENT", "GETNAME"]),
                Cmd(0, &["CLIENT", "ID"]),
                Cmd(0, &["CLIENT", "INFO"]),
                Cmd(1, &["CLIENT", "LIST"]),
                Cmd(1, &["CLIENT", "LIST", "TYPE", "normal"]),
                Cmd(1, &["CLIENT", "KILL", "127.0.0.1:1"]),
                Cmd(0, &["PING"]),
                Cmd(1, &["CLIENT", "NO-EVICT", "on"]),
                Cmd(1, &["CLIENT", "HELP"]),
                Cmd(1, &["QUIT"]),
                Cmd(1, &["PING"]),
            ],
        ),
        seed(
            "monitor",
            vec![
                Cmd(1, &["MONITOR"]),
                Cmd(0, &["SET", "k", "a\"b\r\n\x01"]),
                Cmd(0, &["MULTI"]),
                Cmd(0, &["INCR", "k"]),
                Cmd(0, &["EXEC"]),
                Cmd(0, &["CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"]),
                Cmd(0, &["CONFIG", "GET", "*of", "key-load-delay", "MAXMEMORY"]),
                Cmd(0, &["CLIENT", "KILL", "TYPE", "pubsub", "USER", "default", "SKIPME", "no"]),
                Cmd(0, &["INFO", "commandstats", "errorstats", "cpu"]),
                Cmd(1, &["RESET"]),
                Cmd(0, &["GET", "k"]),
                Cmd(0, &["CLIENT", "PAUSE", "50", "WRITE"]),
                Cmd(1, &["SET", "x", "y"]),
                Cmd(1, &["GET", "x"]),
                Tick(100),
                Cmd(0, &["CLIENT", "PAUSE", "100000"]),
                Cmd(1, &["PING"]),
                Cmd(0, &["CLIENT", "UNPAUSE"]),
                Cmd(1, &["BLPOP", "nolist", "0"]),
                Cmd(0, &["CLIENT", "UNBLOCK", "2", "ERROR"]),
                Cmd(1, &["BLPOP", "nolist", "0"]),
                Cmd(0, &["CLIENT", "UNBLOCK", "2"]),
            ],
        ),
        seed(
            "auth",
            vec![
                Cmd(0, &["CONFIG", "SET", "requirepass", "secret"]),
                Cmd(1, &["GET", "k"]),
                Cmd(1, &["AUTH", "wrong"]),
                Cmd(1, &["AUTH", "default", "secret"]),
                Cmd(1, &["GET", "k"]),
                Cmd(0, &["RESET"]),
                Cmd(0, &["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "c0"]),
                Cmd(0, &["CONFIG", "SET", "requirepass", ""]),
                Cmd(0, &["AUTH", "x"]),
            ],
        ),
        seed(
            "auth_limits",
            vec![
                Cmd(0, &["CONFIG", "SET", "requirepass", "pw"]),
                Raw(1, b"*20\r\n"),
                Raw(0, b"*2\r\n$3\r\nGET\r\n$20000\r\n"),
            ],
        ),
        seed(
            "hello_resp3",
            vec![
                Cmd(0, &["HELLO"]),
                Cmd(0, &["HELLO", "3", "SETNAME", "r3"]),
                Cmd(0, &["HSET", "h", "a", "1"]),
                Cmd(0, &["HGETALL", "h"]),
                Cmd(0, &["ZADD", "z", "1.5", "m"]),
                Cmd(0, &["ZSCORE", "z", "m"]),
                Cmd(0, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
                Cmd(0, &["SADD", "s", "x"]),
                Cmd(0, &["SMEMBERS", "s"]),
                Cmd(0, &["GET", "nope"]),
                Cmd(0, &["SMISMEMBER", "s", "x", "y"]),
                Cmd(0, &["CONFIG", "GET", "port"]),
                Cmd(0, &["CLIENT", "INFO"]),
                Cmd(0, &["INCRBYFLOAT", "f", "2"]),
                Cmd(0, &["HELLO", "4"]),
                Cmd(0, &["HELLO", "2"]),
                Cmd(0, &["HGETALL", "h"]),
                Cmd(1, &["HELLO", "3"]),
                Cmd(1, &["BLPOP", "nothing", "0.1"]),
                Tick(300),
            ],
        ),
        Seed {
            name: "inline",
            chunk: 63,
            malformed: false,
            steps: vec![
                Raw(0, b"PING\r\n"),
                Raw(0, b"set key \"a b\\x41\\n\" \r\n"),
                Raw(0, b"  get   key\n"),
                Raw(1, b"SET 'single quoted' 'it\\'s'\r\n"),
                Raw(1, b"mget key 'single quoted'\r\n"),
                Raw(0, b"\r\n\r\n\n"),
                Raw(1, b"rpush list a b c d e f g h i j k l m n o p\r\nlrange list 0 -1\r\n"),
                Raw(0, b"echo \"\\t\\r\\a\\b\"\r\n"),
            ],
        },
        Seed {
            name: "split_every_byte",
            chunk: 1,
            malformed: false,
            steps: vec![
                Cmd(0, &["SET", "k", "hello"]),
                Cmd(1, &["GET", "k"]),
                Raw(0, b"APPEND k world\r\n"),
                Cmd(1, &["LPUSH", "l", "1", "2"]),
            ],
        },
        Seed {
            name: "split_odd",
            chunk: 7,
            malformed: false,
            steps: vec![
                Cmd(0, &["HSET", "h", "field", "value"]),
                Cmd(1, &["SUBSCRIBE", "x"]),
                Cmd(0, &["PUBLISH", "x", "a message longer than one record"]),
                Cmd(0, &["ZADD", "z", "1", "one", "2", "two"]),
                Cmd(0, &["ZRANGE", "z", "0", "-1"]),
            ],
        },
        Seed {
            name: "malformed_multibulk",
            chunk: 63,
            malformed: true,
            steps: vec![Cmd(0, &["SET", "k", "v"]), Raw(0, b"*x\r\n"), Raw(1, b"*3000000000\r\n")],
        },
        Seed {
            name: "malformed_bulk",
            chunk: 63,
            malformed: true,
            steps: vec![Raw(0, b"*1\r\nx\r\n"), Raw(1, b"*2\r\n$3\r\nGET\r\n$-1\r\n")],
        },
        Seed {
            name: "malformed_quotes",
            chunk: 63,
            malformed: true,
            steps: vec![Raw(0, b"set \"a\r\n"), Raw(1, b"set \"a\"b\r\n")],
        },
        Seed {
            name: "malformed_mixed",
            chunk: 63,
            malformed: true,
            steps: vec![
                Raw(0, b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"),
                Raw(0, b"*2\r\n$3\r\nGET\r\n$1\r\nkXX"),
                Raw(1, b"NOSUCH arg1 arg2\r\n"),
                Raw(1, b"\x00\xff\r\n"),
                Raw(0, b"*1\r\n$4\r\nPING\r\n"),
            ],
        },
        seed(
            "eviction",
            vec![
                Cmd(0, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
                Cmd(0, &["CONFIG", "SET", "maxmemory", "200kb"]),
                Cmd(0, &["SETRANGE", "a", "60000", "x"]),
                Cmd(0, &["SETRANGE", "b", "60000", "x"]),
                Cmd(0, &["SETRANGE", "c", "60000", "x"]),
                Cmd(1, &["GET", "a"]),
                Cmd(1, &["SET", "d", BIG, "EX", "1"]),
                Cmd(1, &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]),
                Tick(100),
                Cmd(1, &["DBSIZE"]),
                Cmd(1, &["INFO", "stats"]),
            ],
        ),
        seed(
            "oom",
            vec![
                Cmd(0, &["SETRANGE", "a", "400000", "x"]),
                Cmd(0, &["SETRANGE", "b", "400000", "x"]),
                Cmd(0, &["SET", "c", "1"]),
                Cmd(0, &["COPY", "a", "a2"]),
                Cmd(0, &["SUNIONSTORE", "s", "a"]),
                Cmd(0, &["APPEND", "a", BIG]),
                Cmd(1, &["DEL", "a"]),
                Cmd(1, &["SET", "c", "1"]),
                Cmd(1, &["MULTI"]),
                Cmd(1, &["SETRANGE", "b", "900000", "y"]),
                Cmd(1, &["EXEC"]),
            ],
        ),
        seed(
            "output_backpressure",
            vec![
                Cmd(0, &["RPUSH", "l", BIG, BIG, BIG, BIG, BIG, BIG, BIG, BIG]),
                Cmd(1, &["LRANGE", "l", "0", "-1"]),
                Cmd(1, &["LRANGE", "l", "0", "-1"]),
                Cmd(1, &["LRANGE", "l", "0", "-1"]),
                Cmd(1, &["LRANGE", "l", "0", "-1"]),
                Cmd(0, &["CONFIG", "SET", "client-output-buffer-limit", "normal 2000 0 0"]),
                Cmd(1, &["LRANGE", "l", "0", "-1"]),
                Cmd(1, &["PING"]),
            ],
        ),
        seed(
            "shutdown",
            vec![
                Cmd(0, &["SET", "k", "v"]),
                Cmd(1, &["SHUTDOWN", "NOW", "BOGUS"]),
                Cmd(1, &["SHUTDOWN", "NOSAVE"]),
                Cmd(0, &["GET", "k"]),
            ],
        ),
    ]
}

/// Encodes a script in the target's record format.
fn encode(seed: &Seed) -> Vec<u8> {
    let mut out = Vec::new();
    for step in &seed.steps {
        let (client, bytes) = match step {
            Cmd(c, args) => {
                let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
                (*c, enc(&a))
            }
            Raw(c, b) => (*c, b.to_vec()),
            Tick(ms) => {
                // Bit 7: advance (control & 0x7f) * 37 ms; the payload (client
                // 0's empty lines, which the server skips) sets bits 1..=6.
                let mut units = ms.div_ceil(37);
                while units > 0 {
                    let len = (units.min(126) / 2) as usize;
                    out.push(0x80 | (len as u8) << 1);
                    out.extend(std::iter::repeat_n(b'\n', len));
                    units = units.saturating_sub((len as u64 * 2).max(1));
                }
                continue;
            }
        };
        for piece in bytes.chunks(seed.chunk.clamp(1, 63)) {
            out.push(client as u8 | (piece.len() as u8) << 1);
            out.extend_from_slice(piece);
        }
    }
    out
}

/// Subcommands, options and values the fuzzer should try in commands.
const WORDS: &[&str] = &[
    // subcommands
    "getname",
    "setname",
    "id",
    "info",
    "list",
    "kill",
    "unblock",
    "no-evict",
    "help",
    "count",
    "docs",
    "getkeys",
    "get",
    "set",
    "resetstat",
    "encoding",
    "idletime",
    "freq",
    "refcount",
    "usage",
    "samples",
    "malloc-stats",
    "idx",
    "minmatchlen",
    "withmatchlen",
    "absttl",
    "idletime",
    "channels",
    "numsub",
    "numpat",
    // options
    "ex",
    "px",
    "exat",
    "pxat",
    "nx",
    "xx",
    "gt",
    "lt",
    "ch",
    "incr",
    "keepttl",
    "persist",
    "withscores",
    "limit",
    "match",
    "type",
    "byscore",
    "bylex",
    "rev",
    "left",
    "right",
    "before",
    "after",
    "rank",
    "maxlen",
    "weights",
    "aggregate",
    "sum",
    "min",
    "max",
    "async",
    "sync",
    "replace",
    "db",
    "bit",
    "byte",
    "withvalues",
    "timeout",
    "error",
    "auth",
    "default",
    "nosave",
    "save",
    "now",
    "force",
    "abort",
    "normal",
    "pubsub",
    "addr",
    "laddr",
    "skipme",
    "yes",
    "no",
    "on",
    "off",
    "keyspace",
    "memory",
    "stats",
    "server",
    "clients",
    "persistence",
    "everything",
    "string",
    "hash",
    "zset",
    // eviction policies
    "noeviction",
    "allkeys-lru",
    "volatile-lru",
    "allkeys-random",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lfu",
    "volatile-lfu",
    // values
    "0",
    "1",
    "2",
    "3",
    "-1",
    "-2",
    "100",
    "4096",
    "65536",
    "1000000",
    "4294967295",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "0.5",
    "1e308",
    "-1e308",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "(",
    "[",
    "(1",
    "[a",
    "-",
    "+",
    "*",
    "?",
    "[a-z]",
    "\\",
    "1kb",
    "1mb",
    "1gb",
    "secret",
    "127.0.0.1:1",
    "127.0.0.1:2",
];

/// RESP framing tokens.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"*",
    b"$",
    b"*1\r\n",
    b"*2\r\n",
    b"*3\r\n",
    b"*4\r\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"$0\r\n\r\n",
    b"$1\r\n",
    b"$3\r\n",
    b"$-1\r\n",
    b"$10000\r\n",
    b"$20000\r\n",
    b"*20\r\n",
    b"\"",
    b"'",
    b"\\x00",
    b"\\x",
    b"\"\"",
    b"\n",
];

/// The dictionary file's text.
fn dictionary() -> String {
    let mut entries: BTreeSet<Vec<u8>> = BTreeSet::new();
    for c in TABLE {
        entries.insert(c.name.as_bytes().to_vec());
    }
    for p in crate::config::all_names() {
        entries.insert(p.as_bytes().to_vec());
    }
    entries.extend(WORDS.iter().map(|w| w.as_bytes().to_vec()));
    entries.extend(TOKENS.iter().map(|t| t.to_vec()));
    let mut text = String::from(
        "# libFuzzer dictionary for the two_clients target: every command of the engine's\n\
         # command table, configuration parameters, subcommands, options and RESP tokens.\n\
         # Generated by apps/redis/engine/src/tests/fuzz_inputs.rs; do not edit\n\
         # (UPDATE_FUZZ_INPUTS=1 cargo test -p redis-engine fuzz_inputs rewrites it).\n",
    );
    for e in entries {
        text.push('"');
        for &b in &e {
            match b {
                b'"' | b'\\' => text.push_str(&format!("\\{}", b as char)),
                0x20..=0x7e => text.push(b as char),
                _ => text.push_str(&format!("\\x{b:02X}")),
            }
        }
        text.push_str("\"\n");
    }
    text
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_FUZZ_INPUTS").is_some_and(|v| v == "1")
}

const REGENERATE: &str = "run `UPDATE_FUZZ_INPUTS=1 cargo test -p redis-engine fuzz_inputs` and commit the result";

#[test]
fn committed_dictionary_matches_the_command_table() {
    let path = fuzz_dir().join("two_clients.dict");
    let want = dictionary();
    if updating() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "{} is out of date: {REGENERATE}", path.display());
}

#[test]
fn committed_seeds_match_the_generator() {
    let dir = fuzz_dir().join("seeds/two_clients");
    let want: Vec<(String, Vec<u8>)> = seeds().iter().map(|s| (s.name.to_string(), encode(s))).collect();
    if updating() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &want {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut have: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    have.sort();
    let mut want = want;
    want.sort();
    assert!(have == want, "{} is out of date: {REGENERATE}", dir.display());
}

#[test]
fn seeds_cover_every_command() {
    let mut used = BTreeSet::new();
    for s in seeds() {
        for step in &s.steps {
            match step {
                Cmd(_, args) => {
                    used.insert(args[0].to_ascii_lowercase());
                }
                Raw(_, bytes) => {
                    for line in bytes.split(|&b| b == b'\n') {
                        if let Some(word) = line.split(|&b| b == b' ').find(|w| !w.is_empty()) {
                            used.insert(String::from_utf8_lossy(word).trim().to_ascii_lowercase());
                        }
                    }
                }
                Tick(_) => {}
            }
        }
    }
    let missing: Vec<&str> = TABLE.iter().map(|c| c.name).filter(|n| !used.contains(*n)).collect();
    assert!(missing.is_empty(), "no seed runs {missing:?}");
}

/// The seeds do what they are meant to: their commands are known (except
/// in the malformed ones), and the harness's invariants hold on them.
#[test]
fn seeds_run_cleanly_through_the_harness() {
    for s in seeds() {
        let input = encode(&s);
        if let Err(e) = fuzzing::two_clients(&input, None) {
            std::panic!("seed {}: {e}", s.name);
        }
        let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
        let mut server = Server::new(fuzzing::config(), 1);
        let ids = [server.connect("127.0.0.1:1", now).unwrap(), server.connect("127.0.0.1:2", now).unwrap()];
        let mut out = Vec::new();
        for step in &s.steps {
            match step {
                Cmd(c, args) => {
                    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
                    server.feed(ids[*c], &enc(&a), now);
                }
                Raw(c, bytes) => server.feed(ids[*c], bytes, now),
                Tick(_) => {}
            }
            for id in ids {
                out.extend_from_slice(server.output(id));
                let n = server.output(id).len();
                server.consume_output(id, n);
            }
        }
        let text = String::from_utf8_lossy(&out);
        assert!(s.malformed || !text.contains("unknown command"), "seed {}: {text}", s.name);
    }
}

#[test]
fn reply_parser_accepts_every_reply_type() {
    let ok: &[&[u8]] = &[
        b"+OK\r\n",
        b"-ERR syntax error\r\n",
        b"-WRONGTYPE Operation\r\n",
        b":0\r\n:-12\r\n",
        b"$0\r\n\r\n$3\r\na\r\n\r\n$-1\r\n",
        b"*-1\r\n*0\r\n*2\r\n$1\r\nx\r\n*1\r\n:1\r\n",
        b"_\r\n#t\r\n#f\r\n,1.5\r\n,-inf\r\n,nan\r\n,1e+300\r\n(123456789012345678901234567890\r\n",
        b"%1\r\n$1\r\nk\r\n~2\r\n:1\r\n:2\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n",
        b"=8\r\ntxt:abcd\r\n!7\r\nERR bad\r\n",
    ];
    for bytes in ok {
        fuzzing::check_replies(bytes).unwrap_or_else(|e| std::panic!("{:?}: {e}", show(bytes)));
    }
}

#[test]
fn reply_parser_rejects_malformed_replies() {
    let bad: &[&[u8]] = &[
        b"+OK\n",
        b"+O\rK\r\n",
        b"-\r\n",
        b"-err lowercase\r\n",
        b":\r\n",
        b":01\r\n",
        b":-0\r\n",
        b":1x\r\n",
        b"$3\r\nab\r\n",
        b"$1\r\nab\r\n",
        b"$-2\r\n",
        b"*-2\r\n",
        b"%-1\r\n",
        b"*1\r\n",
        b"$3\r\nabc",
        b"x\r\n",
        b"_x\r\n",
        b"#x\r\n",
        b",1.2.3\r\n",
        b">0\r\n",
        b"=2\r\nab\r\n",
        b"!3\r\nerr\r\n",
    ];
    for bytes in bad {
        assert!(fuzzing::check_replies(bytes).is_err(), "accepted {:?}", show(bytes));
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn reply_stream_tracks_the_protocol() {
    // RESP3 types only after a HELLO 3 reply.
    let mut s = ReplyStream::new();
    assert!(s.push(b"+OK\r\n_\r\n").is_err());
    let mut s = ReplyStream::new();
    s.push(b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n_\r\n").unwrap();
    assert_eq!(s.replies, 2);
    // Split anywhere, a reply is checked once complete.
    let mut s = ReplyStream::new();
    for b in b"*2\r\n$5\r\nhello\r\n:1\r\n" {
        s.push(&[*b]).unwrap();
    }
    assert_eq!((s.replies, s.pending()), (1, 0));
    s.push(b"$5\r\nhel").unwrap();
    assert!(s.finish(false).is_err());
    assert!(s.finish(true).is_ok());
}

/// Plain, empty and truncated inputs pass the harness.
#[test]
fn harness_runs_plain_inputs() {
    let s = seed("t", vec![Cmd(0, &["SET", "k", "v"]), Cmd(1, &["GET", "k"])]);
    fuzzing::two_clients(&encode(&s), None).unwrap();
    fuzzing::two_clients(&[], None).unwrap();
    fuzzing::two_clients(&[0xff, 0xfe, 0x81], None).unwrap();
}
