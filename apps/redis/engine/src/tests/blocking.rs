#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn blpop_served_by_push_fifo() {
    let mut h = H::new();
    let a = h.client();
    let b = h.client();
    let p = h.client();
    assert_eq!(h.cmd(a, &["BLPOP", "q", "0"]), "");
    h.advance(10);
    assert_eq!(h.cmd(b, &["BLPOP", "q", "other", "0"]), "");
    // While blocked, further input is buffered.
    h.s.feed(a, &enc(&[b"PING"]), h.now);
    assert_eq!(h.s.output(a), b"");
    assert_eq!(h.cmd(p, &["RPUSH", "q", "x", "y", "z"]), ":3\r\n");
    assert_eq!(show(&h.take(a)), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n");
    assert_eq!(show(&h.take(b)), "*2\r\n$1\r\nq\r\n$1\r\ny\r\n");
    assert_eq!(h.cmd(p, &["LRANGE", "q", "0", "-1"]), "*1\r\n$1\r\nz\r\n");
    // Data already there: no blocking.
    assert_eq!(h.cmd(a, &["BRPOP", "q", "0"]), "*2\r\n$1\r\nq\r\n$1\r\nz\r\n");
}

#[test]
fn timeouts_and_deadline() {
    let mut h = H::new();
    let a = h.client();
    assert_eq!(h.cmd(a, &["BLPOP", "q", "1.5"]), "");
    let d = h.s.next_deadline().unwrap();
    assert_eq!(d.mono_ms, h.now.mono_ms + 1500);
    h.advance(1000);
    h.tick();
    assert_eq!(h.take(a), b"");
    h.advance(600);
    h.tick();
    assert_eq!(show(&h.take(a)), "*-1\r\n");
    assert!(h.s.next_deadline().is_none());
    // Like Redis 7.0, a timed-out BLMOVE replies a null array too.
    assert_eq!(h.cmd(a, &["BLMOVE", "q", "d", "LEFT", "RIGHT", "0.1"]), "");
    h.advance(100);
    h.tick();
    assert_eq!(show(&h.take(a)), "*-1\r\n");
    h.cmd(a, &["HELLO", "3"]);
    h.cmd(a, &["BLPOP", "q", "0.01"]);
    h.advance(20);
    h.tick();
    assert_eq!(show(&h.take(a)), "_\r\n");
    script!(h, a,
        ["BLPOP", "q", "x"] => "-ERR timeout is not a float or out of range\r\n",
        ["BLPOP", "q", "-1"] => "-ERR timeout is negative\r\n",
        // What does not fit Redis's long long comes out negative.
        ["BLPOP", "q", "inf"] => "-ERR timeout is negative\r\n",
        ["BLPOP", "q", "1e20"] => "-ERR timeout is negative\r\n",
    );
    // Timeouts are rounded up to whole milliseconds; a tiny negative one
    // rounds to 0 (forever).
    assert_eq!(h.cmd(a, &["BLPOP", "q", "0.0001"]), "");
    assert_eq!(h.s.next_deadline().unwrap().mono_ms, h.now.mono_ms + 1);
    h.advance(1);
    h.tick();
    assert_eq!(show(&h.take(a)), "_\r\n");
    assert_eq!(h.cmd(a, &["BLPOP", "q", "-0.0001"]), "");
    assert!(h.s.next_deadline().is_none());
}

#[test]
fn blmove_and_multi() {
    let mut h = H::new();
    let a = h.client();
    let p = h.client();
    assert_eq!(h.cmd(a, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]), "");
    assert_eq!(h.cmd(p, &["LPUSH", "src", "v"]), ":1\r\n");
    assert_eq!(show(&h.take(a)), "$1\r\nv\r\n");
    assert_eq!(h.cmd(p, &["LRANGE", "dst", "0", "-1"]), "*1\r\n$1\r\nv\r\n");
    assert_eq!(h.cmd(p, &["EXISTS", "src"]), ":0\r\n");
    // Chain: a client blocked on dst gets the moved element.
    let b = h.client();
    assert_eq!(h.cmd(b, &["BLPOP", "chain", "0"]), "");
    assert_eq!(h.cmd(a, &["BLMOVE", "src", "chain", "LEFT", "LEFT", "0"]), "");
    h.cmd(p, &["RPUSH", "src", "w"]);
    assert_eq!(show(&h.take(a)), "$1\r\nw\r\n");
    assert_eq!(show(&h.take(b)), "*2\r\n$5\r\nchain\r\n$1\r\nw\r\n");
    // Inside MULTI a blocking pop does not block.
    script!(h, a,
        ["MULTI"] => "+OK\r\n",
        ["BLPOP", "empty", "0"] => "+QUEUED\r\n",
        ["EXEC"] => "*1\r\n*-1\r\n",
    );
    // A blocked client that disconnects is forgotten.
    assert_eq!(h.cmd(a, &["BLPOP", "gone", "0"]), "");
    h.s.disconnect(a);
    assert_eq!(h.cmd(p, &["RPUSH", "gone", "1"]), ":1\r\n");
    assert_eq!(h.cmd(p, &["LLEN", "gone"]), ":1\r\n");
    let info = h.cmd(p, &["INFO", "clients"]);
    assert!(info.contains("blocked_clients:0"), "{info}");
}

#[test]
fn wrongtype_while_blocking() {
    let mut h = H::new();
    let a = h.client();
    h.cmd(a, &["SET", "s", "x"]);
    assert_eq!(
        h.cmd(a, &["BLPOP", "s", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

/// Clients that leave the queue of a key (disconnect, timeout) are taken
/// out without disturbing the order of the others: still served FIFO.
#[test]
fn leaving_clients_keep_the_fifo_order_of_the_rest() {
    let mut h = H::new();
    let waiters: Vec<_> = (0..40).map(|_| h.client()).collect();
    for (i, &w) in waiters.iter().enumerate() {
        let timeout = if i % 5 == 1 { "1" } else { "0" };
        assert_eq!(h.cmd(w, &["BLPOP", "q", timeout]), "");
        h.advance(1);
    }
    for (i, &w) in waiters.iter().enumerate() {
        if i % 5 == 3 {
            h.s.disconnect(w);
        }
    }
    h.advance(2000);
    h.tick();
    let stay: Vec<_> = waiters.iter().enumerate().filter(|(i, _)| i % 5 != 1 && i % 5 != 3).map(|(_, &w)| w).collect();
    for (i, &w) in waiters.iter().enumerate() {
        if i % 5 == 1 {
            assert_eq!(show(&h.take(w)), "*-1\r\n");
        }
    }
    assert_eq!(h.s.blocking.waiting[0].get(b"q").map(|q| q.len()), Some(stay.len()));
    let p = h.client();
    let items: Vec<String> = (0..stay.len() + 1).map(|i| format!("{i}")).collect();
    let mut push = vec!["RPUSH", "q"];
    push.extend(items.iter().map(|s| s.as_str()));
    assert_eq!(h.cmd(p, &push), format!(":{}\r\n", items.len()));
    for (n, &w) in stay.iter().enumerate() {
        let v = format!("{n}");
        assert_eq!(show(&h.take(w)), format!("*2\r\n$1\r\nq\r\n${}\r\n{v}\r\n", v.len()));
    }
    assert_eq!(h.cmd(p, &["LLEN", "q"]), ":1\r\n");
    assert!(h.s.blocking.waiting[0].get(b"q").is_none());
    assert_eq!(h.s.blocking.blocked_clients, 0);
}
