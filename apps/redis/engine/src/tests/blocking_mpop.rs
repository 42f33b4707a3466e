//! LMPOP/BLMPOP/ZMPOP/BZMPOP/BZPOPMIN/BZPOPMAX, CLIENT UNBLOCK, and the
//! ways a blocked client is woken (a list or sorted set key is created by
//! any command, served after EXEC) or not.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::cell::RefCell;
use std::rc::Rc;

use super::harness::*;
use crate::{CommandObserver, script};

type Log = Rc<RefCell<Vec<String>>>;

struct Recorder(Log);

impl CommandObserver for Recorder {
    fn on_write(&mut self, _db: usize, argv: &[&[u8]]) {
        self.0.borrow_mut().push(argv.iter().map(|a| show(a)).collect::<Vec<_>>().join(" "));
    }
}

const NULL_ARRAY: &str = "*-1\r\n";

#[test]
fn lmpop_replies_and_errors() {
    let mut h = H::new();
    let a = h.client();
    h.cmd(a, &["RPUSH", "l2", "a", "b", "c"]);
    h.cmd(a, &["SET", "s", "x"]);
    script!(h, a,
        ["LMPOP", "2", "nokey", "l2", "LEFT"] => "*2\r\n$2\r\nl2\r\n*1\r\n$1\r\na\r\n",
        ["LMPOP", "1", "l2", "right", "COUNT", "10"] => "*2\r\n$2\r\nl2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n",
        ["EXISTS", "l2"] => ":0\r\n",
        ["LMPOP", "2", "nokey", "l2", "LEFT"] => NULL_ARRAY,
        ["LMPOP", "2", "nokey", "s", "LEFT"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["LMPOP", "0", "l", "LEFT"] => "-ERR numkeys should be greater than 0\r\n",
        ["LMPOP", "x", "l", "LEFT"] => "-ERR numkeys should be greater than 0\r\n",
        ["LMPOP", "2", "l", "LEFT"] => "-ERR syntax error\r\n",
        ["LMPOP", "9223372036854775807", "l", "LEFT"] => "-ERR syntax error\r\n",
        ["LMPOP", "1", "l", "UP"] => "-ERR syntax error\r\n",
        ["LMPOP", "1", "l", "LEFT", "COUNT", "0"] => "-ERR count should be greater than 0\r\n",
        ["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"] => "-ERR syntax error\r\n",
        ["LMPOP", "1", "l", "LEFT", "COUNT"] => "-ERR syntax error\r\n",
        ["LMPOP", "1", "l"] => "-ERR wrong number of arguments for 'lmpop' command\r\n",
        ["BLMPOP", "-1", "1", "l", "LEFT"] => "-ERR timeout is negative\r\n",
        ["BLMPOP", "x", "1", "l", "LEFT"] => "-ERR timeout is not a float or out of range\r\n",
        // Argument errors come before the timeout's.
        ["BLMPOP", "x", "0", "l", "LEFT"] => "-ERR numkeys should be greater than 0\r\n",
        // Movable keys.
        ["COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"] => "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ["COMMAND", "GETKEYS", "ZMPOP", "5", "a", "MIN"] => "-ERR Invalid arguments specified for command\r\n",
        ["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "x", "STORE", "def"] => "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n",
    );
}

#[test]
fn blmpop_blocks_and_is_served_with_count() {
    let mut h = H::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let a = h.client();
    let p = h.client();
    assert_eq!(h.cmd(a, &["BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "2"]), "");
    h.cmd(p, &["RPUSH", "k2", "a", "b", "c"]);
    assert_eq!(show(&h.take(a)), "*2\r\n$2\r\nk2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
    assert_eq!(*log.borrow(), vec!["RPUSH k2 a b c".to_string(), "RPOP k2 2".to_string()]);
    // Data there: pops without blocking, propagated as [LR]POP with count.
    assert_eq!(h.cmd(a, &["BLMPOP", "0", "1", "k2", "LEFT", "COUNT", "5"]), "*2\r\n$2\r\nk2\r\n*1\r\n$1\r\na\r\n");
    assert_eq!(log.borrow().last().map(String::as_str), Some("LPOP k2 1"));
    // Timeout, in RESP2 and RESP3.
    assert_eq!(h.cmd(a, &["BLMPOP", "0.5", "1", "k", "LEFT"]), "");
    h.advance(500);
    h.tick();
    assert_eq!(show(&h.take(a)), NULL_ARRAY);
    h.cmd(a, &["HELLO", "3"]);
    assert_eq!(h.cmd(a, &["BLMPOP", "0.5", "1", "k", "LEFT"]), "");
    h.advance(500);
    h.tick();
    assert_eq!(show(&h.take(a)), "_\r\n");
    // Inside MULTI it does not block.
    script!(h, p,
        ["MULTI"] => "+OK\r\n",
        ["BLMPOP", "0", "1", "k", "LEFT"] => "+QUEUED\r\n",
        ["BZMPOP", "0", "1", "k", "MIN"] => "+QUEUED\r\n",
        ["BZPOPMIN", "k", "0"] => "+QUEUED\r\n",
        ["BZPOPMAX", "k", "0"] => "+QUEUED\r\n",
        ["BLMOVE", "k", "d", "LEFT", "LEFT", "0"] => "+QUEUED\r\n",
        ["EXEC"] => "*5\r\n*-1\r\n*-1\r\n*-1\r\n*-1\r\n$-1\r\n",
    );
}

#[test]
fn zmpop_and_bzpop_replies() {
    let mut h = H::new();
    let a = h.client();
    h.cmd(a, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    h.cmd(a, &["SET", "s", "x"]);
    script!(h, a,
        ["ZMPOP", "2", "nokey", "z", "MIN"] => "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        ["ZMPOP", "1", "z", "max", "COUNT", "1"] => "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
        ["BZPOPMAX", "nokey", "z", "0"] => "*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n",
        ["EXISTS", "z"] => ":0\r\n",
        ["ZMPOP", "1", "z", "MIN"] => NULL_ARRAY,
        ["ZMPOP", "2", "nokey", "s", "MIN"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["BZPOPMIN", "s", "0"] => "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ["ZMPOP", "1", "z", "LEFT"] => "-ERR syntax error\r\n",
        ["ZMPOP", "0", "z", "MIN"] => "-ERR numkeys should be greater than 0\r\n",
        ["ZMPOP", "1", "z", "MIN", "COUNT", "-1"] => "-ERR count should be greater than 0\r\n",
        ["BZPOPMIN", "z", "-1"] => "-ERR timeout is negative\r\n",
        ["BZMPOP", "x", "1", "z", "MIN"] => "-ERR timeout is not a float or out of range\r\n",
    );
    h.cmd(a, &["HELLO", "3"]);
    h.cmd(a, &["ZADD", "z", "1.5", "a", "2", "b"]);
    script!(h, a,
        ["BZPOPMIN", "z", "0"] => "*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n",
        ["ZMPOP", "1", "z", "MIN"] => "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n",
        ["ZMPOP", "1", "z", "MIN"] => "_\r\n",
    );
}

#[test]
fn bzpop_and_bzmpop_block_and_are_served() {
    let mut h = H::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let a = h.client();
    let b = h.client();
    let p = h.client();
    assert_eq!(h.cmd(a, &["BZPOPMIN", "z1", "z2", "0"]), "");
    assert_eq!(h.cmd(b, &["BZMPOP", "1", "1", "z2", "MAX", "COUNT", "5"]), "");
    h.cmd(p, &["ZADD", "z2", "1", "x", "2", "y", "3", "w"]);
    assert_eq!(show(&h.take(a)), "*3\r\n$2\r\nz2\r\n$1\r\nx\r\n$1\r\n1\r\n");
    assert_eq!(show(&h.take(b)), "*2\r\n$2\r\nz2\r\n*2\r\n*2\r\n$1\r\nw\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n");
    assert_eq!(h.cmd(p, &["EXISTS", "z2"]), ":0\r\n");
    assert_eq!(
        *log.borrow(),
        vec!["ZADD z2 1 x 2 y 3 w".to_string(), "ZPOPMIN z2".to_string(), "ZPOPMAX z2 2".to_string()]
    );
    // Timeout.
    assert_eq!(h.cmd(a, &["BZPOPMAX", "z", "0.01"]), "");
    h.advance(10);
    h.tick();
    assert_eq!(show(&h.take(a)), NULL_ARRAY);
}

/// A key only serves the clients waiting for the type it holds, in the
/// order they blocked.
#[test]
fn clients_are_served_by_the_type_they_wait_for() {
    let mut h = H::new();
    let z = h.client();
    let l = h.client();
    let p = h.client();
    assert_eq!(h.cmd(z, &["BZPOPMIN", "k", "0"]), "");
    assert_eq!(h.cmd(l, &["BLPOP", "k", "0"]), "");
    h.cmd(p, &["RPUSH", "k", "v"]);
    assert_eq!(show(&h.take(l)), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert_eq!(h.take(z), b"");
    h.cmd(p, &["ZADD", "k", "1", "m"]);
    assert_eq!(show(&h.take(z)), "*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n1\r\n");
}

#[test]
fn created_keys_wake_blocked_clients() {
    let mut h = H::new();
    let a = h.client();
    let p = h.client();
    // RENAME
    h.cmd(p, &["RPUSH", "src", "a", "b"]);
    assert_eq!(h.cmd(a, &["BLMPOP", "0", "1", "dst", "LEFT", "COUNT", "1"]), "");
    h.cmd(p, &["RENAME", "src", "dst"]);
    assert_eq!(show(&h.take(a)), "*2\r\n$3\r\ndst\r\n*1\r\n$1\r\na\r\n");
    // MOVE from another database.
    assert_eq!(h.cmd(a, &["BLPOP", "m", "0"]), "");
    script!(h, p,
        ["SELECT", "1"] => "+OK\r\n",
        ["RPUSH", "m", "x"] => ":1\r\n",
        ["MOVE", "m", "0"] => ":1\r\n",
        ["SELECT", "0"] => "+OK\r\n",
    );
    assert_eq!(show(&h.take(a)), "*2\r\n$1\r\nm\r\n$1\r\nx\r\n");
    // COPY
    assert_eq!(h.cmd(a, &["BZPOPMAX", "zc", "0"]), "");
    h.cmd(p, &["ZADD", "zsrc", "5", "q"]);
    h.cmd(p, &["COPY", "zsrc", "zc"]);
    assert_eq!(show(&h.take(a)), "*3\r\n$2\r\nzc\r\n$1\r\nq\r\n$1\r\n5\r\n");
    // LMOVE
    assert_eq!(h.cmd(a, &["BLPOP", "lm", "0"]), "");
    h.cmd(p, &["LMOVE", "dst", "lm", "LEFT", "LEFT"]);
    assert_eq!(show(&h.take(a)), "*2\r\n$2\r\nlm\r\n$1\r\nb\r\n");
    // ZUNIONSTORE
    assert_eq!(h.cmd(a, &["BZPOPMIN", "zu", "0"]), "");
    h.cmd(p, &["ZUNIONSTORE", "zu", "1", "zsrc"]);
    assert_eq!(show(&h.take(a)), "*3\r\n$2\r\nzu\r\n$1\r\nq\r\n$1\r\n5\r\n");
    // RESTORE
    h.cmd(p, &["RPUSH", "dumped", "r"]);
    let reply = h.raw(p, &enc(&[b"DUMP", b"dumped"]));
    let header = reply.iter().position(|&b| b == b'\n').expect("a bulk reply");
    let len: usize = show(&reply[1..header - 1]).parse().expect("a bulk length");
    let payload = reply[header + 1..header + 1 + len].to_vec();
    assert_eq!(h.cmd(a, &["BLPOP", "restored", "0"]), "");
    let reply = h.raw(p, &enc(&[b"RESTORE", b"restored", b"0", &payload]));
    assert_eq!(show(&reply), "+OK\r\n");
    assert_eq!(show(&h.take(a)), "*2\r\n$8\r\nrestored\r\n$1\r\nr\r\n");
    // SUNIONSTORE makes a set: a list waiter stays blocked.
    assert_eq!(h.cmd(a, &["BLPOP", "su", "0"]), "");
    h.cmd(p, &["SADD", "sset", "1"]);
    h.cmd(p, &["SUNIONSTORE", "su", "sset"]);
    assert_eq!(h.take(a), b"");
    h.cmd(p, &["DEL", "su"]);
    h.cmd(p, &["RPUSH", "su", "ok"]);
    assert_eq!(show(&h.take(a)), "*2\r\n$2\r\nsu\r\n$2\r\nok\r\n");
}

#[test]
fn swapdb_wakes_blocked_clients() {
    let mut h = H::new();
    let a = h.client();
    let p = h.client();
    assert_eq!(h.cmd(a, &["BLPOP", "k", "0"]), "");
    script!(h, p,
        ["SELECT", "1"] => "+OK\r\n",
        ["RPUSH", "k", "v"] => ":1\r\n",
        ["SWAPDB", "0", "1"] => "+OK\r\n",
    );
    assert_eq!(show(&h.take(a)), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

#[test]
fn transactions_serve_after_exec_and_only_what_is_left() {
    let mut h = H::new();
    let a = h.client();
    let p = h.client();
    // LPUSH + DEL inside MULTI: nothing left, the client stays blocked.
    assert_eq!(h.cmd(a, &["BLMPOP", "0", "1", "k", "LEFT"]), "");
    script!(h, p,
        ["MULTI"] => "+OK\r\n",
        ["LPUSH", "k", "a"] => "+QUEUED\r\n",
        ["DEL", "k"] => "+QUEUED\r\n",
        ["SET", "k", "str"] => "+QUEUED\r\n",
        ["EXEC"] => "*3\r\n:1\r\n:1\r\n+OK\r\n",
    );
    assert_eq!(h.take(a), b"");
    assert!(h.cmd(p, &["INFO", "clients"]).contains("blocked_clients:1"));
    h.cmd(p, &["DEL", "k"]);
    // Pushes inside MULTI are served after EXEC: the client sees the end state.
    script!(h, p,
        ["MULTI"] => "+OK\r\n",
        ["RPUSH", "k", "a", "b"] => "+QUEUED\r\n",
        ["RPOP", "k"] => "+QUEUED\r\n",
        ["RPUSH", "k", "c"] => "+QUEUED\r\n",
        ["EXEC"] => "*3\r\n:2\r\n$1\r\nb\r\n:2\r\n",
    );
    assert_eq!(show(&h.take(a)), "*2\r\n$1\r\nk\r\n*1\r\n$1\r\na\r\n");
    assert_eq!(h.cmd(p, &["LRANGE", "k", "0", "-1"]), "*1\r\n$1\r\nc\r\n");
}

#[test]
fn client_unblock() {
    let mut h = H::new();
    let a = h.client();
    let p = h.client();
    let id = h.cmd(a, &["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end().to_string();
    assert_eq!(h.cmd(a, &["BLMPOP", "0", "1", "k", "LEFT"]), "");
    assert_eq!(h.cmd(p, &["CLIENT", "UNBLOCK", &id]), ":1\r\n");
    assert_eq!(show(&h.take(a)), NULL_ARRAY);
    assert_eq!(h.cmd(a, &["BZPOPMIN", "k", "0"]), "");
    assert_eq!(h.cmd(p, &["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
    assert_eq!(show(&h.take(a)), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    script!(h, p,
        ["CLIENT", "UNBLOCK", &id] => ":0\r\n",
        ["CLIENT", "UNBLOCK", "asd"] => "-ERR value is not an integer or out of range\r\n",
        ["CLIENT", "UNBLOCK", &id, "x"] => "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
    );
    // Still usable.
    assert_eq!(h.cmd(a, &["BLPOP", "k", "0"]), "");
    h.cmd(p, &["RPUSH", "k", "v"]);
    assert_eq!(show(&h.take(a)), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
}
