#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::cell::RefCell;
use std::rc::Rc;

use super::harness::*;
use crate::CommandObserver;

type Log = Rc<RefCell<Vec<(usize, Vec<String>)>>>;

struct Recorder(Log);

impl CommandObserver for Recorder {
    fn on_write(&mut self, db: usize, argv: &[&[u8]]) {
        self.0.borrow_mut().push((db, argv.iter().map(|a| show(a)).collect()));
    }
}

fn cmds(log: &Log) -> Vec<String> {
    log.borrow().iter().map(|(db, a)| format!("{db}:{}", a.join(" "))).collect()
}

#[test]
fn observer_sees_replay_safe_writes() {
    let mut h = H::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let c = h.client();
    let now = h.now.unix_ms;
    h.cmd(c, &["SET", "a", "1"]);
    h.cmd(c, &["GET", "a"]);
    h.cmd(c, &["SET", "b", "2", "EX", "10"]);
    h.cmd(c, &["EXPIRE", "a", "5"]);
    h.cmd(c, &["SET", "f", "1.5"]);
    h.cmd(c, &["INCRBYFLOAT", "f", "1"]);
    h.cmd(c, &["SADD", "s", "x"]);
    h.cmd(c, &["SADD", "s", "x"]); // no change: not reported
    h.cmd(c, &["SELECT", "2"]);
    h.cmd(c, &["RPUSH", "l", "v"]);
    h.cmd(c, &["SELECT", "0"]);
    h.advance(6000);
    h.cmd(c, &["GET", "a"]); // lazily expired -> DEL
    assert_eq!(
        cmds(&log),
        vec![
            "0:SET a 1".to_string(),
            format!("0:SET b 2 PXAT {}", now + 10_000),
            format!("0:PEXPIREAT a {}", now + 5000),
            "0:SET f 1.5".to_string(),
            "0:SET f 2.5 KEEPTTL".to_string(),
            "0:SADD s x".to_string(),
            "2:RPUSH l v".to_string(),
            "0:DEL a".to_string(),
        ]
    );
}

#[test]
fn exec_is_wrapped_for_the_observer() {
    let mut h = H::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let c = h.client();
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["SET", "a", "1"]);
    h.cmd(c, &["GET", "a"]);
    h.cmd(c, &["INCR", "a"]);
    assert_eq!(h.cmd(c, &["EXEC"]), "*3\r\n+OK\r\n$1\r\n1\r\n:2\r\n");
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["GET", "a"]);
    h.cmd(c, &["EXEC"]);
    assert_eq!(cmds(&log), vec!["0:MULTI", "0:SET a 1", "0:INCR a", "0:EXEC"]);
}

#[test]
fn pipelining_mixed_inline_and_multibulk() {
    let mut h = H::new();
    let c = h.client();
    let mut input = b"SET a 1\r\nINCR a\n".to_vec();
    input.extend_from_slice(&enc(&[b"GET", b"a"]));
    input.extend_from_slice(b"PING\r\n");
    assert_eq!(show(&h.raw(c, &input)), "+OK\r\n:2\r\n$1\r\n2\r\n+PONG\r\n");
}

#[test]
fn restore_with_a_ttl_is_observed_with_an_absolute_one() {
    let mut h = H::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let c = h.client();
    let now = h.now.unix_ms;
    h.cmd(c, &["SET", "a", "hello"]);
    let dump = h.raw(c, &enc(&[b"DUMP", b"a"]));
    let payload = &dump[dump.iter().position(|&b| b == b'\n').unwrap() + 1..dump.len() - 2];
    assert_eq!(show(&h.raw(c, &enc(&[b"RESTORE", b"b", b"5000", payload]))), "+OK\r\n");
    assert_eq!(show(&h.raw(c, &enc(&[b"RESTORE", b"b", b"1", payload, b"REPLACE", b"ABSTTL"]))), "+OK\r\n");
    let log = log.borrow();
    assert_eq!(log.len(), 3, "{log:?}");
    let (_, restore) = &log[1];
    assert_eq!(restore.len(), 5);
    assert_eq!((restore[0].as_str(), restore[1].as_str()), ("RESTORE", "b"));
    assert_eq!(restore[2], format!("{}", now + 5000));
    assert_eq!(restore[4], "ABSTTL");
    // Already expired: the replaced key's deletion is what is observed.
    assert_eq!(log[2].1, vec!["DEL".to_string(), "b".to_string()]);
}

/// Log replay: commands may span records, a transaction left open at the
/// end is rolled back, and a command cut short at the end is dropped (as
/// Redis loads an AOF with `aof-load-truncated yes`).
#[test]
fn replay_rolls_back_an_open_transaction_and_drops_a_cut_command() {
    use crate::persist::aof::{Replayer, encode};
    let mut h = H::new();
    let mut replayer = Replayer::new(h.now);
    let mut first = Vec::new();
    encode(&mut first, &[b"SELECT", b"1"]);
    encode(&mut first, &[b"SET", b"a", b"1"]);
    encode(&mut first, &[b"RPUSH", b"l", b"x"]);
    let split = first.len() - 5;
    replayer.feed(&mut h.s, &first[..split]).unwrap();
    replayer.feed(&mut h.s, &first[split..]).unwrap();
    let mut second = Vec::new();
    encode(&mut second, &[b"MULTI"]);
    encode(&mut second, &[b"SET", b"b", b"2"]);
    encode(&mut second, &[b"DEL", b"a"]);
    replayer.feed(&mut h.s, &second).unwrap();
    replayer.feed(&mut h.s, b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nval").unwrap();
    let stats = replayer.finish();
    assert_eq!((stats.records, stats.commands, stats.rolled_back), (4, 2, 2));
    assert!(stats.truncated_bytes > 0);
    let c = h.client();
    assert_eq!(h.cmd(c, &["SELECT", "1"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["GET", "a"]), "$1\r\n1\r\n", "the open transaction's DEL is not applied");
    assert_eq!(h.cmd(c, &["LRANGE", "l", "0", "-1"]), "*1\r\n$1\r\nx\r\n", "a command across two records");
    assert_eq!(h.cmd(c, &["EXISTS", "b", "c"]), ":0\r\n");
    // The internal replay client is not visible.
    assert_eq!(h.s.client_count(), 1);
}

/// PUBLISH and SPUBLISH reach the replicas (their subscribers hear it) but not the log
/// or the observer, as Redis's PROPAGATE_REPL: alone, and inside EXEC,
/// where each side counts its own writes to decide on MULTI/EXEC.
#[test]
fn publish_is_propagated_to_replicas_only() {
    let mut h = H::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let replica = h.client();
    let c = h.client();
    assert!(h.raw(replica, b"SYNC\r\n").starts_with(b"$"));

    h.cmd(c, &["PUBLISH", "ch", "hello"]);
    h.cmd(c, &["SPUBLISH", "sh", "hi"]);
    let stream = show(&h.take(replica));
    assert_eq!(
        stream,
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n\
         *3\r\n$8\r\nSPUBLISH\r\n$2\r\nsh\r\n$2\r\nhi\r\n"
    );
    assert!(cmds(&log).is_empty(), "{:?}", cmds(&log));

    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["SET", "k", "v"]);
    h.cmd(c, &["PUBLISH", "ch", "x"]);
    h.cmd(c, &["EXEC"]);
    let stream = show(&h.take(replica));
    let words: Vec<&str> = stream.split("\r\n").filter(|w| !w.starts_with(['*', '$']) && !w.is_empty()).collect();
    assert_eq!(words, ["MULTI", "SET", "k", "v", "PUBLISH", "ch", "x", "EXEC"]);
    assert_eq!(cmds(&log), ["0:SET k v"]);
}
