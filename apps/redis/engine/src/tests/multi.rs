#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn multi_exec_discard() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["EXEC"] => "-ERR EXEC without MULTI\r\n",
        ["DISCARD"] => "-ERR DISCARD without MULTI\r\n",
        ["MULTI"] => "+OK\r\n",
        ["MULTI"] => "-ERR MULTI calls can not be nested\r\n",
        ["SET", "a", "1"] => "+QUEUED\r\n",
        ["INCR", "a"] => "+QUEUED\r\n",
        ["LPUSH", "a", "x"] => "+QUEUED\r\n",
        ["GET", "a"] => "+QUEUED\r\n",
        ["EXEC"] => "*4\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n",
        ["MULTI"] => "+OK\r\n",
        ["SET", "a", "5"] => "+QUEUED\r\n",
        ["DISCARD"] => "+OK\r\n",
        ["GET", "a"] => "$1\r\n2\r\n",
        ["MULTI"] => "+OK\r\n",
        ["SET", "a"] => "-ERR wrong number of arguments for 'set' command\r\n",
        ["NOPE"] => "-ERR unknown command 'NOPE', with args beginning with: \r\n",
        ["SET", "a", "9"] => "+QUEUED\r\n",
        ["EXEC"] => "-EXECABORT Transaction discarded because of previous errors.\r\n",
        ["GET", "a"] => "$1\r\n2\r\n",
        ["MULTI"] => "+OK\r\n",
        ["WATCH", "a"] => "-ERR WATCH inside MULTI is not allowed\r\n",
        ["EXEC"] => "*0\r\n",
    );
}

#[test]
fn watch() {
    let mut h = H::new();
    let a = h.client();
    let b = h.client();
    script!(h, a,
        ["SET", "k", "1"] => "+OK\r\n",
        ["WATCH", "k"] => "+OK\r\n",
        ["MULTI"] => "+OK\r\n",
        ["INCR", "k"] => "+QUEUED\r\n",
    );
    assert_eq!(h.cmd(b, &["SET", "k", "100"]), "+OK\r\n");
    assert_eq!(h.cmd(a, &["EXEC"]), "*-1\r\n");
    assert_eq!(h.cmd(a, &["GET", "k"]), "$3\r\n100\r\n");
    // Unmodified watch succeeds; UNWATCH clears.
    script!(h, a,
        ["WATCH", "k"] => "+OK\r\n",
        ["MULTI"] => "+OK\r\n",
        ["INCR", "k"] => "+QUEUED\r\n",
        ["EXEC"] => "*1\r\n:101\r\n",
        ["WATCH", "k"] => "+OK\r\n",
        ["UNWATCH"] => "+OK\r\n",
    );
    h.cmd(b, &["SET", "k", "0"]);
    script!(h, a,
        ["MULTI"] => "+OK\r\n",
        ["EXEC"] => "*0\r\n",
    );
    // FLUSHALL touches watched keys.
    h.cmd(a, &["WATCH", "k"]);
    h.cmd(b, &["FLUSHALL"]);
    h.cmd(a, &["MULTI"]);
    assert_eq!(h.cmd(a, &["EXEC"]), "*-1\r\n");
    // Expiry of a watched key aborts too.
    h.cmd(a, &["SET", "t", "1", "PX", "100"]);
    h.cmd(a, &["WATCH", "t"]);
    h.advance(200);
    h.cmd(a, &["MULTI"]);
    h.cmd(a, &["PING"]);
    assert_eq!(h.cmd(a, &["EXEC"]), "*-1\r\n");
    // In RESP3 the aborted EXEC is a null.
    h.cmd(a, &["HELLO", "3"]);
    h.cmd(a, &["WATCH", "k"]);
    h.cmd(b, &["SET", "k", "1"]);
    h.cmd(a, &["MULTI"]);
    assert_eq!(h.cmd(a, &["EXEC"]), "_\r\n");
}

#[test]
fn oom_in_multi_aborts() {
    let cfg = crate::Config::from_args(&["--maxmemory", "1"]).unwrap();
    let mut h = H::with(cfg);
    let c = h.client();
    script!(h, c,
        ["MULTI"] => "+OK\r\n",
        ["GET", "a"] => "+QUEUED\r\n",
        ["SET", "a", "1"] => "-OOM command not allowed when used memory > 'maxmemory'.\r\n",
        ["EXEC"] => "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
}

/// `maxmemory` lowered between MULTI and EXEC: a transaction with a
/// command that may use memory is refused as a whole (Redis 7.0's
/// `EXECABORT ... OOM`); one with only reads runs.
#[test]
fn exec_over_maxmemory_aborts_unless_read_only() {
    let mut h = H::new();
    let (c, admin) = (h.client(), h.client());
    h.cmd(c, &["SET", "x", "value"]);
    script!(h, c,
        ["MULTI"] => "+OK\r\n",
        ["GET", "x"] => "+QUEUED\r\n",
        ["PING"] => "+QUEUED\r\n",
    );
    assert_eq!(h.cmd(admin, &["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["EXEC"]), "*2\r\n$5\r\nvalue\r\n+PONG\r\n");
    assert_eq!(h.cmd(admin, &["CONFIG", "SET", "maxmemory", "0"]), "+OK\r\n");
    script!(h, c,
        ["MULTI"] => "+OK\r\n",
        ["SET", "y", "1"] => "+QUEUED\r\n",
        ["GET", "y"] => "+QUEUED\r\n",
    );
    assert_eq!(h.cmd(admin, &["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
    assert_eq!(
        h.cmd(c, &["EXEC"]),
        "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "y"]), ":0\r\n");
}
