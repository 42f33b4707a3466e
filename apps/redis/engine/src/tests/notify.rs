//! Keyspace notifications (one test per event class, checked against
//! Redis 7.0.15's event sequences) and CLIENT REPLY.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;
use crate::{ClientId, Config};

/// A server with `notify-keyspace-events` set to `flags`, a client, and a
/// second client subscribed to every keyspace channel of every database.
fn setup(flags: &str) -> (H, ClientId, ClientId) {
    let mut h = H::new();
    let c = h.client();
    let sub = h.client();
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "notify-keyspace-events", flags]), "+OK\r\n");
    assert_eq!(h.cmd(sub, &["PSUBSCRIBE", "__key*__:*"]), "*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n");
    (h, c, sub)
}

/// The messages `sub` received since last asked, as "channel message".
fn events(h: &mut H, sub: ClientId) -> Vec<String> {
    let out = show(&h.take(sub));
    let tokens: Vec<&str> = out.split("\r\n").collect();
    let mut got = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "*4" && tokens.get(i + 2) == Some(&"pmessage") {
            // *4 $8 pmessage $n pattern $n channel $n message
            got.push(format!("{} {}", tokens[i + 6], tokens[i + 8]));
            i += 9;
        } else {
            assert!(tokens[i].is_empty(), "unexpected output {out:?}");
            i += 1;
        }
    }
    got
}

/// Runs `cmd` and returns the events it caused on db 0, keyevent side
/// only ("event key"), checking each has its keyspace twin first.
fn run(h: &mut H, c: ClientId, sub: ClientId, cmd: &[&str]) -> Vec<String> {
    h.cmd(c, cmd);
    let all = events(h, sub);
    assert!(all.len().is_multiple_of(2), "{cmd:?}: {all:?}");
    all.chunks(2)
        .map(|pair| {
            let (space, event) = (&pair[0], &pair[1]);
            let (ch, ev) = space.split_once(' ').unwrap();
            let key = ch.strip_prefix("__keyspace@0__:").unwrap();
            assert_eq!(*event, format!("__keyevent@0__:{ev} {key}"), "{cmd:?}");
            format!("{ev} {key}")
        })
        .collect()
}

macro_rules! expect_events {
    ($h:expr, $c:expr, $sub:expr, $( [$($arg:expr),*] => [$($ev:expr),*] ),* $(,)?) => {
        $(
            {
                let got = run(&mut $h, $c, $sub, &[$($arg),*]);
                let want: Vec<String> = vec![$(String::from($ev)),*];
                assert_eq!(got, want, "command {:?}", [$($arg),*]);
            }
        )*
    };
}

#[test]
fn config_flags_parse_and_print_like_redis() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["CONFIG", "GET", "notify-keyspace-events"] => "*2\r\n$22\r\nnotify-keyspace-events\r\n$0\r\n\r\n",
        ["CONFIG", "SET", "notify-keyspace-events", "gKE"] => "+OK\r\n",
        ["CONFIG", "GET", "notify-keyspace-events"] => "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\ngKE\r\n",
        ["CONFIG", "SET", "notify-keyspace-events", "KA"] => "+OK\r\n",
        ["CONFIG", "GET", "notify-keyspace-events"] => "*2\r\n$22\r\nnotify-keyspace-events\r\n$2\r\nAK\r\n",
        ["CONFIG", "SET", "notify-keyspace-events", "Enxm"] => "+OK\r\n",
        ["CONFIG", "GET", "notify-keyspace-events"] => "*2\r\n$22\r\nnotify-keyspace-events\r\n$4\r\nxnEm\r\n",
        ["CONFIG", "SET", "notify-keyspace-events", "Kq"] => "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n",
        ["CONFIG", "GET", "notify-keyspace-events"] => "*2\r\n$22\r\nnotify-keyspace-events\r\n$4\r\nxnEm\r\n",
    );
    let cfg = Config::from_args(&["--notify-keyspace-events", "Elg"]).unwrap();
    assert_eq!(cfg.get("notify-keyspace-events").as_deref(), Some("glE"));
}

#[test]
fn nothing_is_published_without_a_class_or_a_channel_kind() {
    for flags in ["", "KE", "A"] {
        let (mut h, c, sub) = setup(flags);
        h.cmd(c, &["SET", "k", "v"]);
        h.cmd(c, &["DEL", "k"]);
        assert_eq!(events(&mut h, sub), Vec::<String>::new(), "{flags:?}");
    }
}

#[test]
fn keyspace_and_keyevent_channels() {
    let (mut h, c, sub) = setup("K$");
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(events(&mut h, sub), ["__keyspace@0__:k set"]);
    h.cmd(c, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    h.cmd(c, &["SELECT", "3"]);
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(events(&mut h, sub), ["__keyevent@3__:set k"]);
}

#[test]
fn generic_events() {
    let (mut h, c, sub) = setup("KEg");
    h.cmd(c, &["MSET", "a", "1", "b", "2"]);
    expect_events!(h, c, sub,
        ["DEL", "a", "nope"] => ["del a"],
        ["UNLINK", "b"] => ["del b"],
        ["SET", "r1", "v"] => [],
        ["RENAME", "r1", "r2"] => ["rename_from r1", "rename_to r2"],
    );
    // MOVE's second half is an event of the target database.
    h.cmd(c, &["MOVE", "r2", "5"]);
    assert_eq!(
        events(&mut h, sub),
        [
            "__keyspace@0__:r2 move_from",
            "__keyevent@0__:move_from r2",
            "__keyspace@5__:r2 move_to",
            "__keyevent@5__:move_to r2"
        ]
    );
    expect_events!(h, c, sub,
        ["SET", "c", "v"] => [],
        ["COPY", "c", "d"] => ["copy_to d"],
        ["EXPIRE", "d", "100"] => ["expire d"],
        ["EXPIRE", "d", "100", "NX"] => [],
        ["PERSIST", "d"] => ["persist d"],
        ["PERSIST", "d"] => [],
        ["EXPIRE", "d", "-1"] => ["del d"],
        ["SET", "s", "v", "EX", "100"] => ["expire s"],
        ["GETEX", "s", "PERSIST"] => ["persist s"],
        ["GETDEL", "s"] => ["del s"],
        ["SET", "p", "v", "PXAT", "1"] => ["expire p"],
        ["GETEX", "c", "PXAT", "1"] => ["del c"],
    );
}

#[test]
fn string_events() {
    let (mut h, c, sub) = setup("KE$");
    expect_events!(h, c, sub,
        ["SET", "k", "v"] => ["set k"],
        ["SET", "k", "v", "NX"] => [],
        ["SETNX", "n", "v"] => ["set n"],
        ["SETEX", "e", "100", "v"] => ["set e"],
        ["MSET", "a", "1", "b", "2"] => ["set a", "set b"],
        ["GETSET", "a", "3"] => ["set a"],
        ["APPEND", "a", "x"] => ["append a"],
        ["INCR", "i"] => ["incrby i"],
        ["DECRBY", "i", "3"] => ["incrby i"],
        ["INCRBYFLOAT", "i", "1.5"] => ["incrbyfloat i"],
        ["SETRANGE", "r", "2", "xy"] => ["setrange r"],
        ["SETRANGE", "r", "0", ""] => [],
        ["SETBIT", "bits", "3", "1"] => ["setbit bits"],
        ["GET", "k"] => [],
    );
}

#[test]
fn list_events() {
    let (mut h, c, sub) = setup("KEgl");
    expect_events!(h, c, sub,
        ["LPUSH", "l", "a", "b", "c"] => ["lpush l"],
        ["RPUSH", "l", "d"] => ["rpush l"],
        ["RPUSHX", "nol", "d"] => [],
        ["LPOP", "l"] => ["lpop l"],
        ["RPOP", "l", "1"] => ["rpop l"],
        ["LSET", "l", "0", "q"] => ["lset l"],
        ["LINSERT", "l", "BEFORE", "q", "p"] => ["linsert l"],
        ["LINSERT", "l", "BEFORE", "zz", "p"] => [],
        ["LREM", "l", "0", "p"] => ["lrem l"],
        ["LREM", "l", "0", "zz"] => [],
        ["LTRIM", "l", "0", "0"] => ["ltrim l"],
        ["RPUSH", "l2", "a", "b"] => ["rpush l2"],
        // The push side first, then the pop side, then the emptied list.
        ["LMOVE", "l2", "l3", "LEFT", "RIGHT"] => ["rpush l3", "lpop l2"],
        ["RPOPLPUSH", "l2", "l3"] => ["lpush l3", "rpop l2", "del l2"],
        ["BLPOP", "l3", "0"] => ["lpop l3"],
        ["RPUSH", "l4", "a", "b"] => ["rpush l4"],
        ["LMPOP", "2", "nol", "l4", "RIGHT", "COUNT", "5"] => ["rpop l4", "del l4"],
        ["LTRIM", "l", "1", "0"] => ["ltrim l", "del l"],
    );
}

#[test]
fn blocked_pops_notify_when_served() {
    let (mut h, c, sub) = setup("KEgl");
    let waiter = h.client();
    h.cmd(waiter, &["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"]);
    assert_eq!(run(&mut h, c, sub, &["RPUSH", "src", "x"]), ["rpush src", "lpush dst", "lpop src", "del src"]);
    assert_eq!(show(&h.take(waiter)), "$1\r\nx\r\n");
    h.cmd(waiter, &["BLMPOP", "0", "1", "src", "RIGHT"]);
    assert_eq!(run(&mut h, c, sub, &["RPUSH", "src", "y"]), ["rpush src", "rpop src", "del src"]);
    h.cmd(waiter, &["BZPOPMIN", "z", "0"]);
    h.cmd(c, &["CONFIG", "SET", "notify-keyspace-events", "KEgz"]);
    assert_eq!(run(&mut h, c, sub, &["ZADD", "z", "1", "a", "2", "b"]), ["zadd z", "zpopmin z"]);
}

#[test]
fn set_events() {
    let (mut h, c, sub) = setup("KEgs");
    expect_events!(h, c, sub,
        ["SADD", "s", "a", "b", "c"] => ["sadd s"],
        ["SADD", "s", "a"] => [],
        ["SREM", "s", "x"] => [],
        ["SREM", "s", "a"] => ["srem s"],
        ["SPOP", "s"] => ["spop s"],
        ["SPOP", "s", "5"] => ["spop s", "del s"],
        ["SADD", "s1", "a", "b"] => ["sadd s1"],
        ["SADD", "s2", "b", "c"] => ["sadd s2"],
        // Only an actual addition notifies the destination.
        ["SMOVE", "s1", "s2", "b"] => ["srem s1"],
        ["SMOVE", "s1", "s2", "a"] => ["srem s1", "del s1", "sadd s2"],
        ["SUNIONSTORE", "d", "s2", "none"] => ["sunionstore d"],
        ["SINTERSTORE", "d", "s2", "none"] => ["del d"],
        ["SINTERSTORE", "d", "s2", "none"] => [],
        ["SDIFFSTORE", "d", "s2", "none"] => ["sdiffstore d"],
        ["SINTERSTORE", "d", "s2", "s2"] => ["sinterstore d"],
    );
}

#[test]
fn zset_events() {
    let (mut h, c, sub) = setup("KEgz");
    expect_events!(h, c, sub,
        ["ZADD", "z", "1", "a", "2", "b"] => ["zadd z"],
        ["ZADD", "z", "1", "a"] => [],
        ["ZADD", "z", "XX", "5", "a"] => ["zadd z"],
        ["ZINCRBY", "z", "2", "a"] => ["zincr z"],
        ["ZREM", "z", "x"] => [],
        ["ZREM", "z", "a"] => ["zrem z"],
        ["ZADD", "z", "3", "c", "4", "d", "5", "e", "6", "f"] => ["zadd z"],
        ["ZREMRANGEBYSCORE", "z", "3", "3"] => ["zremrangebyscore z"],
        ["ZREMRANGEBYRANK", "z", "0", "0"] => ["zremrangebyrank z"],
        ["ZREMRANGEBYLEX", "z", "[x", "+"] => [],
        ["ZPOPMIN", "z"] => ["zpopmin z"],
        ["ZPOPMAX", "z", "5"] => ["zpopmax z", "del z"],
        ["ZADD", "za", "1", "a", "2", "b"] => ["zadd za"],
        ["ZUNIONSTORE", "zd", "2", "za", "none"] => ["zunionstore zd"],
        ["ZINTERSTORE", "zd", "2", "za", "none"] => ["del zd"],
        ["ZDIFFSTORE", "zd", "1", "za"] => ["zdiffstore zd"],
        ["ZRANGESTORE", "zr", "za", "0", "0"] => ["zrangestore zr"],
        ["ZMPOP", "1", "zr", "MIN"] => ["zpopmin zr", "del zr"],
        ["BZPOPMAX", "za", "0"] => ["zpopmax za"],
    );
}

#[test]
fn hash_events() {
    let (mut h, c, sub) = setup("KEgh");
    expect_events!(h, c, sub,
        ["HSET", "h", "f", "v", "g", "w"] => ["hset h"],
        ["HMSET", "h", "x", "1"] => ["hset h"],
        ["HSETNX", "h", "f", "v"] => [],
        ["HSETNX", "h", "n", "v"] => ["hset h"],
        ["HINCRBY", "h", "x", "5"] => ["hincrby h"],
        ["HINCRBYFLOAT", "h", "x", "1.5"] => ["hincrbyfloat h"],
        ["HDEL", "h", "nope"] => [],
        ["HDEL", "h", "f"] => ["hdel h"],
        ["HDEL", "h", "g", "x", "n"] => ["hdel h", "del h"],
    );
}

#[test]
fn new_key_events_come_first() {
    let (mut h, c, sub) = setup("KEn$ls");
    expect_events!(h, c, sub,
        ["SET", "k", "v"] => ["new k", "set k"],
        ["SET", "k", "w"] => ["set k"],
        ["RPUSH", "l", "a"] => ["new l", "rpush l"],
        ["RPUSH", "l", "b"] => ["rpush l"],
        ["SADD", "s", "a"] => ["new s", "sadd s"],
    );
}

#[test]
fn keymiss_events_on_read_lookups() {
    let (mut h, c, sub) = setup("KEm");
    expect_events!(h, c, sub,
        ["GET", "nope"] => ["keymiss nope"],
        ["SET", "k", "v"] => [],
        ["GET", "k"] => [],
        // A write lookup is no miss.
        ["INCR", "counter"] => [],
        ["SINTERSTORE", "d", "none", "k"] => ["keymiss none"],
    );
}

#[test]
fn expired_events_on_access_and_in_the_active_cycle() {
    let (mut h, c, sub) = setup("Ex");
    h.cmd(c, &["SET", "lazy", "v", "PX", "100"]);
    h.cmd(c, &["SET", "active", "v", "PX", "100"]);
    h.advance(200);
    assert_eq!(h.cmd(c, &["GET", "lazy"]), "$-1\r\n");
    assert_eq!(events(&mut h, sub), ["__keyevent@0__:expired lazy"]);
    h.tick();
    assert_eq!(events(&mut h, sub), ["__keyevent@0__:expired active"]);
    // A SET with a time already past: the key is gone at once.
    h.cmd(c, &["SET", "past", "v", "PXAT", "1"]);
    assert_eq!(events(&mut h, sub), ["__keyevent@0__:expired past"]);
    assert_eq!(h.cmd(c, &["EXISTS", "past"]), ":0\r\n");
}

#[test]
fn evicted_events() {
    let (mut h, c, sub) = setup("Ee");
    h.cmd(c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
    assert_eq!(events(&mut h, sub), ["__keyevent@0__:evicted k"]);
}

/// A RESP3 client subscribed to its own events gets them as pushes ahead
/// of its command's reply.
#[test]
fn own_events_come_before_the_reply() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    h.cmd(c, &["SUBSCRIBE", "__keyevent@0__:set"]);
    assert_eq!(h.cmd(c, &["SET", "k", "v"]), ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n+OK\r\n");
}

#[test]
fn client_reply_off_skip_on() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["CLIENT", "REPLY", "OFF"] => "",
        ["PING"] => "",
        ["SET", "k", "v"] => "",
        ["NOSUCHCOMMAND"] => "",
        ["CLIENT", "REPLY", "SKIP"] => "",
        ["CLIENT", "REPLY", "ON"] => "+OK\r\n",
        ["GET", "k"] => "$1\r\nv\r\n",
        ["CLIENT", "REPLY", "SKIP"] => "",
        ["PING"] => "",
        ["PING"] => "+PONG\r\n",
        ["CLIENT", "REPLY", "SKIP"] => "",
        ["CLIENT", "REPLY", "ON"] => "+OK\r\n",
        ["CLIENT", "REPLY", "MAYBE"] => "-ERR syntax error\r\n",
        ["CLIENT", "REPLY"] => "-ERR wrong number of arguments for 'client|reply' command\r\n",
    );
}

/// A command that blocks keeps its CLIENT REPLY state for the reply it
/// gets when served or timed out.
#[test]
fn client_reply_applies_to_blocked_commands() {
    let mut h = H::new();
    let c = h.client();
    let p = h.client();
    assert_eq!(h.cmd(c, &["CLIENT", "REPLY", "SKIP"]), "");
    assert_eq!(h.cmd(c, &["BLPOP", "q", "0"]), "");
    h.cmd(p, &["RPUSH", "q", "x"]);
    assert_eq!(show(&h.take(c)), "");
    assert_eq!(h.cmd(c, &["PING"]), "+PONG\r\n");
    assert_eq!(h.cmd(c, &["CLIENT", "REPLY", "SKIP"]), "");
    assert_eq!(h.cmd(c, &["BLPOP", "q", "0.1"]), "");
    h.advance(200);
    h.tick();
    assert_eq!(show(&h.take(c)), "");
    assert_eq!(h.cmd(c, &["PING"]), "+PONG\r\n");
    assert_eq!(h.cmd(c, &["CLIENT", "REPLY", "OFF"]), "");
    assert_eq!(h.cmd(c, &["BLPOP", "q", "0"]), "");
    h.cmd(p, &["RPUSH", "q", "y"]);
    assert_eq!(h.cmd(c, &["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(h.cmd(p, &["LLEN", "q"]), ":0\r\n");
}

/// Under CLIENT REPLY OFF, subscribe confirmations and messages (pushes)
/// still go out, and so do keyspace events.
#[test]
fn client_reply_off_keeps_pushes() {
    let mut h = H::new();
    let c = h.client();
    let p = h.client();
    script!(h, c,
        ["CLIENT", "REPLY", "OFF"] => "",
        ["SUBSCRIBE", "ch"] => "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
        ["PING"] => "",
    );
    assert_eq!(h.cmd(p, &["PUBLISH", "ch", "hi"]), ":1\r\n");
    assert_eq!(show(&h.take(c)), "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    h.cmd(p, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    assert_eq!(h.cmd(c, &["PSUBSCRIBE", "*"]), "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:2\r\n");
    h.cmd(p, &["SET", "k", "v"]);
    assert_eq!(show(&h.take(c)), "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n");
    // RESP3 and publishing to itself: the message, no reply.
    h.cmd(c, &["UNSUBSCRIBE"]);
    h.cmd(c, &["PUNSUBSCRIBE"]);
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["SUBSCRIBE", "me"]);
    assert_eq!(h.cmd(c, &["PUBLISH", "me", "x"]), ">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$1\r\nx\r\n");
}

/// SMOVE of a member the destination already has changes only the source
/// (a WATCH on the destination stays valid).
#[test]
fn smove_touches_the_destination_only_when_it_adds() {
    let mut h = H::new();
    let c = h.client();
    let other = h.client();
    h.cmd(c, &["SADD", "src", "a", "b"]);
    h.cmd(c, &["SADD", "dst", "a"]);
    h.cmd(c, &["WATCH", "dst"]);
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["SADD", "dst", "c"]);
    assert_eq!(h.cmd(other, &["SMOVE", "src", "dst", "a"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["EXEC"]), "*1\r\n:1\r\n");
    h.cmd(c, &["WATCH", "dst"]);
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["SCARD", "dst"]);
    assert_eq!(h.cmd(other, &["SMOVE", "src", "dst", "b"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["EXEC"]), "*-1\r\n");
}
