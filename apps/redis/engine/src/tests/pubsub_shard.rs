//! Shard pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARD*): its
//! own registry and counts beside channels and patterns, with Redis 7.0's
//! reply shapes.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

fn client_list_line(h: &mut H, c: crate::ClientId) -> String {
    h.cmd(c, &["CLIENT", "INFO"])
}

#[test]
fn resp2_shard_channels() {
    let mut h = H::new();
    let sub = h.client();
    let publ = h.client();
    assert_eq!(
        h.cmd(sub, &["SSUBSCRIBE", "a", "b", "a"]),
        "*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:2\r\n"
    );
    // Channel and pattern counts leave shard channels out, and back.
    assert_eq!(h.cmd(sub, &["SUBSCRIBE", "a"]), "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(h.cmd(sub, &["PSUBSCRIBE", "*"]), "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:2\r\n");
    assert_eq!(
        h.cmd(sub, &["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    // SPUBLISH reaches shard subscribers only; PUBLISH never reaches them.
    assert_eq!(h.cmd(publ, &["SPUBLISH", "a", "hi"]), ":1\r\n");
    assert_eq!(show(&h.take(sub)), "*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
    assert_eq!(h.cmd(publ, &["PUBLISH", "b", "x"]), ":1\r\n");
    assert_eq!(show(&h.take(sub)), "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\nb\r\n$1\r\nx\r\n");
    script!(h, publ,
        ["SPUBLISH", "zzz", "x"] => ":0\r\n",
        ["PUBSUB", "SHARDCHANNELS", "a*"] => "*1\r\n$1\r\na\r\n",
        ["PUBSUB", "SHARDCHANNELS", "z*"] => "*0\r\n",
        ["PUBSUB", "SHARDNUMSUB", "a", "c"] => "*4\r\n$1\r\na\r\n:1\r\n$1\r\nc\r\n:0\r\n",
        ["PUBSUB", "SHARDNUMSUB"] => "*0\r\n",
        ["PUBSUB", "NUMSUB", "b"] => "*2\r\n$1\r\nb\r\n:0\r\n",
        ["PUBSUB", "SHARDCHANNELS", "a", "b"] =>
            "-ERR unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try PUBSUB HELP.\r\n",
        ["SPUBLISH", "a"] => "-ERR wrong number of arguments for 'spublish' command\r\n",
    );
    let line = client_list_line(&mut h, publ);
    assert!(line.contains(" sub=0 psub=0 ssub=0 "), "{line}");
    let info = h.cmd(publ, &["INFO", "stats"]);
    assert!(info.contains("pubsubshard_channels:2\r\n"), "{info}");
    assert_eq!(
        h.cmd(sub, &["SUNSUBSCRIBE", "a", "nope"]),
        "*3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$12\r\nsunsubscribe\r\n$4\r\nnope\r\n:1\r\n"
    );
    h.cmd(sub, &["UNSUBSCRIBE"]);
    h.cmd(sub, &["PUNSUBSCRIBE"]);
    // Still in pub/sub mode with one shard channel left.
    assert!(h.cmd(sub, &["GET", "x"]).starts_with("-ERR Can't execute"));
    assert_eq!(h.cmd(sub, &["SUNSUBSCRIBE"]), "*3\r\n$12\r\nsunsubscribe\r\n$1\r\nb\r\n:0\r\n");
    assert_eq!(h.cmd(sub, &["SUNSUBSCRIBE"]), "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
    assert_eq!(h.cmd(sub, &["GET", "x"]), "$-1\r\n");
    assert_eq!(h.cmd(publ, &["PUBSUB", "SHARDCHANNELS"]), "*0\r\n");
}

#[test]
fn resp3_pushes_reset_and_disconnect() {
    let mut h = H::new();
    let sub = h.client();
    let publ = h.client();
    h.cmd(sub, &["HELLO", "3"]);
    assert_eq!(h.cmd(sub, &["SSUBSCRIBE", "ch"]), ">3\r\n$10\r\nssubscribe\r\n$2\r\nch\r\n:1\r\n");
    let line = client_list_line(&mut h, sub);
    assert!(line.contains(" flags=P ") && line.contains(" ssub=1 "), "{line}");
    assert_eq!(h.cmd(sub, &["GET", "x"]), "_\r\n");
    assert_eq!(h.cmd(publ, &["SPUBLISH", "ch", "m"]), ":1\r\n");
    assert_eq!(show(&h.take(sub)), ">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
    assert_eq!(h.cmd(sub, &["SPUBLISH", "ch", "self"]), ">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$4\r\nself\r\n:1\r\n");
    assert_eq!(h.cmd(sub, &["RESET"]), "+RESET\r\n");
    assert_eq!(h.cmd(publ, &["SPUBLISH", "ch", "m"]), ":0\r\n");
    let other = h.client();
    h.cmd(other, &["SSUBSCRIBE", "x"]);
    assert_eq!(h.cmd(publ, &["PUBSUB", "SHARDNUMSUB", "x"]), "*2\r\n$1\r\nx\r\n:1\r\n");
    h.s.disconnect(other);
    assert_eq!(h.cmd(publ, &["PUBSUB", "SHARDNUMSUB", "x"]), "*2\r\n$1\r\nx\r\n:0\r\n");
}

#[test]
fn ssubscribe_is_refused_inside_exec() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["MULTI"] => "+OK\r\n",
        ["SSUBSCRIBE", "a"] => "+QUEUED\r\n",
        ["EXEC"] => "*1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n",
        ["PUBSUB", "SHARDCHANNELS"] => "*0\r\n",
    );
}
