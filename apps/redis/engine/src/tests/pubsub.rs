#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn resp2_pubsub() {
    let mut h = H::new();
    let sub = h.client();
    let publ = h.client();
    assert_eq!(
        h.cmd(sub, &["SUBSCRIBE", "news", "sport"]),
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n"
    );
    assert_eq!(h.cmd(sub, &["PSUBSCRIBE", "n*"]), "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n");
    assert_eq!(
        h.cmd(sub, &["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(h.cmd(sub, &["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(h.cmd(publ, &["PUBLISH", "news", "hello"]), ":2\r\n");
    assert!(h.s.clients_with_output().any(|c| c == sub));
    assert_eq!(
        show(&h.take(sub)),
        "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    );
    script!(h, publ,
        ["PUBSUB", "CHANNELS"] => "*2\r\n$4\r\nnews\r\n$5\r\nsport\r\n",
        ["PUBSUB", "CHANNELS", "s*"] => "*1\r\n$5\r\nsport\r\n",
        ["PUBSUB", "NUMSUB", "news", "none"] => "*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n",
        ["PUBSUB", "NUMPAT"] => ":1\r\n",
        ["PUBLISH", "zzz", "x"] => ":0\r\n",
    );
    assert_eq!(h.cmd(sub, &["UNSUBSCRIBE", "news"]), "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n");
    assert_eq!(h.cmd(sub, &["PUNSUBSCRIBE"]), "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:1\r\n");
    assert_eq!(h.cmd(sub, &["UNSUBSCRIBE"]), "*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:0\r\n");
    assert_eq!(h.cmd(sub, &["UNSUBSCRIBE"]), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    assert_eq!(h.cmd(sub, &["GET", "x"]), "$-1\r\n");
    h.s.disconnect(sub);
    assert_eq!(h.cmd(publ, &["PUBLISH", "sport", "x"]), ":0\r\n");
}

#[test]
fn resp3_push_frames() {
    let mut h = H::new();
    let sub = h.client();
    let publ = h.client();
    h.cmd(sub, &["HELLO", "3"]);
    assert_eq!(h.cmd(sub, &["SUBSCRIBE", "ch"]), ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // RESP3 clients may run normal commands while subscribed.
    assert_eq!(h.cmd(sub, &["GET", "x"]), "_\r\n");
    assert_eq!(h.cmd(publ, &["PUBLISH", "ch", "m"]), ":1\r\n");
    assert_eq!(show(&h.take(sub)), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
    // Publishing to itself lands in its own reply stream.
    assert_eq!(h.cmd(sub, &["PUBLISH", "ch", "self"]), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nself\r\n:1\r\n");
    assert_eq!(h.cmd(sub, &["RESET"]), "+RESET\r\n");
    assert_eq!(h.cmd(publ, &["PUBLISH", "ch", "m"]), ":0\r\n");
}

/// Unsubscribing or disconnecting takes one client out of a channel without
/// disturbing the delivery order of the others (subscription order).
#[test]
fn subscribers_leave_and_order_stays() {
    let mut h = H::new();
    let subs: Vec<_> = (0..50).map(|_| h.client()).collect();
    for &c in &subs {
        h.cmd(c, &["SUBSCRIBE", "ch"]);
        h.cmd(c, &["PSUBSCRIBE", "c*"]);
    }
    for (i, &c) in subs.iter().enumerate() {
        match i % 4 {
            1 => {
                h.cmd(c, &["UNSUBSCRIBE", "ch"]);
            }
            2 => h.s.disconnect(c),
            3 => {
                h.cmd(c, &["PUNSUBSCRIBE"]);
            }
            _ => {}
        }
    }
    let ids = |keep: &dyn Fn(usize) -> bool| -> Vec<u64> {
        subs.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, c)| c.0).collect()
    };
    let direct: Vec<u64> = h.s.pubsub.receivers(b"ch").iter().filter(|(_, p)| p.is_none()).map(|(c, _)| *c).collect();
    assert_eq!(direct, ids(&|i| i % 4 == 0 || i % 4 == 3));
    let by_pattern: Vec<u64> =
        h.s.pubsub.receivers(b"ch").iter().filter(|(_, p)| p.is_some()).map(|(c, _)| *c).collect();
    assert_eq!(by_pattern, ids(&|i| i % 4 == 0 || i % 4 == 1));
    let p = h.client();
    assert_eq!(h.cmd(p, &["PUBSUB", "NUMSUB", "ch"]), "*2\r\n$2\r\nch\r\n:25\r\n");
    assert_eq!(h.cmd(p, &["PUBLISH", "ch", "m"]), ":51\r\n");
    for &c in &subs {
        h.cmd(c, &["UNSUBSCRIBE"]);
        h.cmd(c, &["PUNSUBSCRIBE"]);
    }
    assert_eq!(h.cmd(p, &["PUBSUB", "NUMSUB", "ch"]), "*2\r\n$2\r\nch\r\n:0\r\n");
    assert_eq!(h.cmd(p, &["PUBSUB", "NUMPAT"]), ":0\r\n");
}

/// PUBSUB NUMSUB and SHARDNUMSUB answer a flat array in RESP3 too, as Redis
/// 7.0 does (clients such as redis-py parse it as a list).
#[test]
fn numsub_is_a_flat_array_in_resp3() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["PUBSUB", "NUMSUB", "a"]), "*2\r\n$1\r\na\r\n:0\r\n");
    assert_eq!(h.cmd(c, &["PUBSUB", "SHARDNUMSUB", "a"]), "*2\r\n$1\r\na\r\n:0\r\n");
}
