//! Stream commands end to end: replies, blocking reads (served, timed
//! out, refused when the stream goes away), and propagation: what the
//! log and replicas receive replays into the very same streams.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::cell::RefCell;
use std::rc::Rc;

use super::harness::*;
use super::rdb_util::canon;
use crate::CommandObserver;

type Log = Rc<RefCell<Vec<(usize, Vec<Vec<u8>>)>>>;

struct Recorder(Log);

impl CommandObserver for Recorder {
    fn on_write(&mut self, db: usize, argv: &[&[u8]]) {
        self.0.borrow_mut().push((db, argv.iter().map(|a| a.to_vec()).collect()));
    }
}

#[test]
fn xadd_xrange_and_errors() {
    let mut h = H::new();
    let c = h.client();
    assert_eq!(h.cmd(c, &["XADD", "s", "1-1", "a", "1"]), "$3\r\n1-1\r\n");
    assert_eq!(h.cmd(c, &["XADD", "s", "1-*", "b", "2"]), "$3\r\n1-2\r\n");
    assert_eq!(
        h.cmd(c, &["XADD", "s", "1-1", "a", "1"]),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(h.cmd(c, &["XADD", "s", "0-0", "a", "1"]), "-ERR The ID specified in XADD must be greater than 0-0\r\n");
    assert_eq!(h.cmd(c, &["XADD", "s", "1-1", "a"]), "-ERR wrong number of arguments for 'xadd' command\r\n");
    assert_eq!(h.cmd(c, &["XADD", "nope", "NOMKSTREAM", "*", "a", "1"]), "$-1\r\n");
    assert_eq!(h.cmd(c, &["XRANGE", "s", "(1-1", "+"]), "*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(h.cmd(c, &["XREVRANGE", "s", "+", "-", "COUNT", "1"]).lines().nth(1), Some("*2"));
    assert_eq!(h.cmd(c, &["XRANGE", "s", "-", "+", "COUNT", "0"]), "*-1\r\n");
    assert_eq!(h.cmd(c, &["XLEN", "s"]), ":2\r\n");
    assert_eq!(h.cmd(c, &["TYPE", "s"]), "+stream\r\n");
    assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "s"]), "$6\r\nstream\r\n");
    assert_eq!(h.cmd(c, &["XDEL", "s", "1-1", "5-5"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["XRANGE", "s", "x", "+"]), "-ERR Invalid stream ID specified as stream command argument\r\n");
    h.cmd(c, &["SET", "str", "v"]);
    assert!(h.cmd(c, &["XADD", "str", "*", "a", "1"]).starts_with("-WRONGTYPE"));
    // An emptied stream stays (XADD MAXLEN 0 keeps the key).
    assert_eq!(h.cmd(c, &["XTRIM", "s", "MAXLEN", "0"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "s"]), ":1\r\n");
}

#[test]
fn blocking_xread_is_served_by_xadd_or_times_out() {
    let mut h = H::new();
    let (a, b) = (h.client(), h.client());
    h.cmd(a, &["XADD", "s", "1-1", "f", "v"]);
    assert_eq!(h.cmd(b, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]), "");
    assert_eq!(h.cmd(a, &["XADD", "s", "2-1", "f", "w"]), "$3\r\n2-1\r\n");
    assert_eq!(show(&h.take(b)), "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n");
    assert_eq!(h.cmd(b, &["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]), "");
    h.advance(150);
    h.tick();
    assert_eq!(show(&h.take(b)), "*-1\r\n");
    // Inside MULTI a blocking read does not block.
    h.cmd(b, &["MULTI"]);
    h.cmd(b, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(h.cmd(b, &["EXEC"]), "*1\r\n*-1\r\n");
}

#[test]
fn blocked_xreadgroup_gets_an_error_when_its_stream_goes() {
    let mut h = H::new();
    let (a, b) = (h.client(), h.client());
    h.cmd(a, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(h.cmd(b, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]), "");
    h.cmd(a, &["DEL", "s"]);
    assert_eq!(show(&h.take(b)), "-UNBLOCKED the stream key no longer exists\r\n");
    h.cmd(a, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    h.cmd(b, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    h.cmd(a, &["SET", "s", "string now"]);
    assert_eq!(show(&h.take(b)), "-UNBLOCKED the stream key no longer exists\r\n");
    h.cmd(a, &["DEL", "s"]);
    h.cmd(a, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    h.cmd(b, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    h.cmd(a, &["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(show(&h.take(b)), "-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
    // A plain XREAD keeps waiting through a type change.
    h.cmd(a, &["DEL", "s"]);
    h.cmd(b, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    h.cmd(a, &["SET", "s", "x"]);
    h.cmd(a, &["DEL", "s"]);
    assert_eq!(show(&h.take(b)), "");
    h.cmd(a, &["XADD", "s", "5-5", "f", "v"]);
    assert!(show(&h.take(b)).contains("5-5"));
}

#[test]
fn consumer_groups_pending_and_claims() {
    let mut h = H::new();
    let c = h.client();
    for i in 1..=4 {
        h.cmd(c, &["XADD", "s", &format!("{i}-0"), "f", &format!("{i}")]);
    }
    h.cmd(c, &["XGROUP", "CREATE", "s", "g", "0"]);
    assert!(h.cmd(c, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"]).contains("2-0"));
    assert!(h.cmd(c, &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]).contains("4-0"));
    assert_eq!(
        h.cmd(c, &["XPENDING", "s", "g"]),
        "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n*2\r\n$3\r\nbob\r\n$1\r\n2\r\n"
    );
    assert_eq!(h.cmd(c, &["XACK", "s", "g", "1-0", "1-0", "9-0"]), ":1\r\n");
    h.advance(100);
    assert_eq!(
        h.cmd(c, &["XCLAIM", "s", "g", "carol", "50", "2-0", "3-0", "JUSTID"]),
        "*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n"
    );
    h.cmd(c, &["XDEL", "s", "4-0"]);
    // XAUTOCLAIM: 4-0 is gone (reported as deleted), the rest is claimed.
    assert_eq!(
        h.cmd(c, &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "JUSTID"]),
        "*3\r\n$3\r\n0-0\r\n*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n*1\r\n$3\r\n4-0\r\n"
    );
    assert!(h.cmd(c, &["XINFO", "GROUPS", "s"]).contains("lag"));
    assert_eq!(h.cmd(c, &["XGROUP", "DELCONSUMER", "s", "g", "dave"]), ":2\r\n");
    assert_eq!(h.cmd(c, &["XPENDING", "s", "g"]), "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
}

/// The dataset, less what Redis 7.0 does not propagate either (consumers'
/// seen times, groups' read counters: a replica estimates those).
fn comparable(h: &mut H) -> super::rdb_util::Canon {
    for d in h.s.dbs.iter_mut() {
        let keys: Vec<Vec<u8>> = d.map().iter().map(|(k, _)| k.to_vec()).collect();
        for k in keys {
            if let Some(mut v) = d.value_mut(&k)
                && let crate::types::Value::Stream(st) = &mut *v
            {
                st.groups.values_mut().for_each(|g| g.forget_unpropagated());
            }
        }
    }
    canon(&h.s, h.now.unix_ms)
}

/// Every write of a stream session, propagated as Redis propagates it
/// (XADD with its ID and `~` trims made exact, group reads and claims as
/// XCLAIM/XGROUP SETID), replays into the same streams: entries, nodes,
/// tombstones, groups, pending entries and their delivery times.
#[test]
fn propagated_stream_writes_replay_to_the_same_dataset() {
    let mut h = H::new();
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    h.s.set_observer(Box::new(Recorder(log.clone())));
    let (c, b) = (h.client(), h.client());
    h.cmd(c, &["CONFIG", "SET", "stream-node-max-entries", "3"]);
    h.cmd(c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    h.cmd(c, &["XGROUP", "CREATE", "s", "quiet", "$"]);
    h.cmd(b, &["XREADGROUP", "GROUP", "g", "waiter", "BLOCK", "0", "STREAMS", "s", ">"]);
    for i in 0..20 {
        h.cmd(c, &["XADD", "s", "*", "f", &format!("{i}")]);
        h.advance(1);
    }
    h.cmd(c, &["XADD", "s", "MAXLEN", "~", "10", "*", "x", "y"]);
    h.cmd(c, &["XTRIM", "s", "MINID", "~", "0-1"]);
    h.cmd(c, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"]);
    h.cmd(c, &["XREADGROUP", "GROUP", "quiet", "nobody", "NOACK", "COUNT", "2", "STREAMS", "s", ">"]);
    h.advance(500);
    h.cmd(c, &["XCLAIM", "s", "g", "bob", "100", "0-1", "LASTID", "0-2"]);
    let alice = h.cmd(c, &["XPENDING", "s", "g", "-", "+", "10", "alice"]);
    let first = alice.split("\r\n").nth(3).unwrap_or_default().to_string();
    h.cmd(c, &["XCLAIM", "s", "g", "bob", "100", &first, "RETRYCOUNT", "5"]);
    let second =
        h.cmd(c, &["XRANGE", "s", "-", "+", "COUNT", "2"]).split("\r\n").nth(8).unwrap_or_default().to_string();
    h.cmd(c, &["XDEL", "s", &second]);
    h.cmd(c, &["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "10"]);
    h.cmd(c, &["XACK", "s", "g", &first]);
    h.cmd(c, &["XGROUP", "CREATECONSUMER", "s", "g", "idle"]);
    h.cmd(c, &["XSETID", "s", "99999999999999-0"]);
    let want = comparable(&mut h);

    let mut r = H::new();
    r.now = h.now;
    let rc = r.client();
    r.cmd(rc, &["CONFIG", "SET", "stream-node-max-entries", "3"]);
    for (db, argv) in log.borrow().iter() {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let reply = r.s.replay(*db, &refs, r.now);
        assert!(!reply.starts_with(b"-"), "{}: {}", show(&argv.join(&b' ')), show(&reply));
    }
    assert_eq!(comparable(&mut r), want);
    let names: Vec<String> = log.borrow().iter().map(|(_, a)| show(&a[0]).to_ascii_uppercase()).collect();
    assert!(!names.iter().any(|n| n == "XREADGROUP" || n == "XAUTOCLAIM"), "{names:?}");
}
