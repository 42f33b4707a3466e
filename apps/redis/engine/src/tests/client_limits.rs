//! Client-side memory safety: commands refused inside MULTI, the query
//! buffer limit, bounded replies, client memory accounting and eviction,
//! input back-pressure, the maxmemory ceilings and protected mode.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn no_multi_commands_abort_the_transaction() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["MULTI"] => "+OK\r\n",
        ["SET", "a", "1"] => "+QUEUED\r\n",
        ["SHUTDOWN"] => "-ERR Command not allowed inside a transaction\r\n",
        ["SAVE"] => "-ERR Command not allowed inside a transaction\r\n",
        ["EXEC"] => "-EXECABORT Transaction discarded because of previous errors.\r\n",
        ["GET", "a"] => "$-1\r\n",
    );
    assert!(!h.s.shutdown_requested());
    assert!(!h.s.should_close(c));
    // Outside MULTI, SAVE still works and COMMAND INFO shows the flag.
    assert_eq!(h.cmd(c, &["SAVE"]), "+OK\r\n");
    let info = h.cmd(c, &["COMMAND", "INFO", "shutdown"]);
    assert!(info.contains("+no_multi\r\n"), "{info}");
    let info = h.cmd(c, &["COMMAND", "INFO", "bgsave"]);
    assert!(!info.contains("no_multi"), "{info}");
}

fn with_query_limit(limit: usize) -> H {
    let mut cfg = crate::Config::default();
    cfg.client_query_buffer_limit = limit;
    H::with(cfg)
}

/// Bytes the parser and input buffer hold for a client.
fn query_held(h: &H, c: crate::ClientId) -> usize {
    h.s.clients.get(&c.0).map_or(0, |cl| cl.pending_input() + cl.parser.pending_bytes())
}

#[test]
fn query_limit_counts_assembled_empty_arguments() {
    let limit = 1024 * 1024;
    let mut h = with_query_limit(limit);
    let c = h.client();
    h.s.feed(c, b"*2000000000\r\n", h.now);
    let chunk = b"$0\r\n\r\n".repeat(10_000);
    let mut fed = 0;
    while !h.s.should_close(c) {
        h.s.feed(c, &chunk, h.now);
        fed += chunk.len();
        assert!(query_held(&h, c) <= limit, "held {} after {fed} bytes", query_held(&h, c));
        assert!(fed < 10 * limit, "never closed");
    }
    // Each empty argument costs at least its header: closed after about
    // limit / 24 arguments, i.e. well before `limit` bytes of input.
    assert!(fed < limit / 2, "closed only after {fed} bytes");
    // Closed without a reply, everything released, later input ignored.
    assert_eq!(h.s.output(c), b"");
    assert_eq!(query_held(&h, c), 0);
    h.s.feed(c, b"PING\r\n", h.now);
    assert_eq!(h.s.output(c), b"");
    assert_eq!(h.s.stats().client_query_buffer_limit_disconnections, 1);
}

#[test]
fn bulk_header_alone_reserves_little() {
    let mut h = H::new();
    let c = h.client();
    h.s.feed(c, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n", h.now);
    assert!(!h.s.should_close(c));
    assert!(query_held(&h, c) <= 32 * 1024, "held {}", query_held(&h, c));
    // The payload arriving in pieces grows the buffer with it.
    h.s.feed(c, &vec![b'x'; 100_000], h.now);
    let held = query_held(&h, c);
    assert!((100_000..=250_000).contains(&held), "held {held}");
    // A multibulk count alone preallocates a bounded number of slots.
    let d = h.client();
    h.s.feed(d, b"*1000000\r\n", h.now);
    assert!(query_held(&h, d) <= 1024, "held {}", query_held(&h, d));
}

#[test]
fn query_limit_bounds_a_bulk_being_received() {
    let limit = 1024 * 1024;
    let mut h = with_query_limit(limit);
    // A value that fits is stored, whatever the chunking.
    let c = h.client();
    let fits = enc(&[b"SET", b"k", &vec![b'v'; limit - 4096]]);
    for piece in fits.chunks(1000) {
        h.s.feed(c, piece, h.now);
    }
    assert_eq!(h.take(c), b"+OK\r\n");
    assert_eq!(h.cmd(c, &["STRLEN", "k"]), format!(":{}\r\n", limit - 4096));
    // One that does not is refused while it arrives, not after.
    let d = h.client();
    let too_big = enc(&[b"SET", b"k2", &vec![b'v'; 2 * limit]]);
    let mut fed = 0;
    for piece in too_big.chunks(1000) {
        h.s.feed(d, piece, h.now);
        fed += piece.len();
        assert!(query_held(&h, d) <= limit);
        if h.s.should_close(d) {
            break;
        }
    }
    assert!(h.s.should_close(d));
    assert!(fed <= limit + 1000, "closed after {fed} bytes");
    assert_eq!(h.s.output(d), b"");
    assert_eq!(h.cmd(c, &["EXISTS", "k2"]), ":0\r\n");
}

#[test]
fn query_limit_bounds_input_buffered_by_a_blocked_client() {
    let limit = 1024 * 1024;
    let mut h = with_query_limit(limit);
    let c = h.client();
    assert_eq!(h.cmd(c, &["BLPOP", "list", "0"]), "");
    let pipe = enc(&[b"PING"]).repeat(10_000);
    let mut fed = 0;
    while !h.s.should_close(c) && fed <= 2 * limit {
        h.s.feed(c, &pipe, h.now);
        fed += pipe.len();
        assert!(query_held(&h, c) <= limit);
    }
    assert!(h.s.should_close(c));
    // No longer waiting: a push is not handed to the closed client.
    let d = h.client();
    assert_eq!(h.cmd(d, &["RPUSH", "list", "a"]), ":1\r\n");
    assert_eq!(h.cmd(d, &["LLEN", "list"]), ":1\r\n");
}

#[test]
fn a_pipeline_bigger_than_the_limit_in_one_feed_is_served() {
    let limit = 1024 * 1024;
    let mut cfg = crate::Config::default();
    cfg.client_query_buffer_limit = limit;
    cfg.output_pause_threshold = usize::MAX;
    let mut h = H::with(cfg);
    let c = h.client();
    let n = 2 * limit / 14 + 1;
    let pipe = enc(&[b"PING"]).repeat(n);
    assert!(pipe.len() > 2 * limit);
    let out = h.raw(c, &pipe);
    assert!(!h.s.should_close(c));
    assert_eq!(out.len(), n * 7);
}

fn with_output_cap(cap: usize) -> H {
    let mut cfg = crate::Config::default();
    cfg.output_limit_normal.hard = cap;
    cfg.output_limit_pubsub.hard = cap;
    cfg.output_pause_threshold = usize::MAX;
    H::with(cfg)
}

/// Capacity of a client's output buffer.
fn out_capacity(h: &H, c: crate::ClientId) -> usize {
    h.s.clients.get(&c.0).map_or(0, |cl| cl.out.capacity())
}

#[test]
fn negative_random_counts_stop_at_the_output_cap() {
    let cap = 256 * 1024;
    let mut h = with_output_cap(cap);
    let c = h.client();
    h.cmd(c, &["SADD", "s", "a", "b", "c"]);
    h.cmd(c, &["HSET", "h", "f", "v", "g", "w"]);
    let started = std::time::Instant::now();
    for cmd in [&["SRANDMEMBER", "s", "-1000000000"][..], &["HRANDFIELD", "h", "-1000000000", "WITHVALUES"]] {
        let d = h.client();
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        h.s.feed(d, &enc(&args), h.now);
        assert!(h.s.should_close(d), "{cmd:?}");
        assert_eq!(h.s.output(d), b"", "{cmd:?}");
    }
    // A billion picks would take minutes; stopping at the cap takes ms.
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
    assert_eq!(h.s.stats().client_output_buffer_limit_disconnections, 2);
}

#[test]
fn big_replies_are_cut_at_the_output_cap() {
    let cap = 64 * 1024;
    let mut h = with_output_cap(cap);
    let c = h.client();
    let member = vec![b'm'; 100];
    for i in 0..2000 {
        let name = format!("{i:04}").into_bytes();
        let mut m = member.clone();
        m.extend_from_slice(&name);
        h.s.feed(c, &enc(&[b"SET", &m, b"v"]), h.now);
        h.s.feed(c, &enc(&[b"RPUSH", b"l", &m]), h.now);
        h.s.feed(c, &enc(&[b"SADD", b"s", &m]), h.now);
        h.s.feed(c, &enc(&[b"HSET", b"h", &m, b"v"]), h.now);
        h.s.feed(c, &enc(&[b"ZADD", b"z", b"1", &m]), h.now);
        h.take(c);
    }
    let cmds: &[&[&str]] = &[
        &["KEYS", "*"],
        &["LRANGE", "l", "0", "-1"],
        &["SMEMBERS", "s"],
        &["SUNION", "s", "s"],
        &["HGETALL", "h"],
        &["HKEYS", "h"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZRANGEBYSCORE", "z", "-inf", "+inf"],
    ];
    for (i, cmd) in cmds.iter().enumerate() {
        let d = h.client();
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        h.s.feed(d, &enc(&args), h.now);
        assert!(h.s.should_close(d), "{cmd:?}");
        assert_eq!(h.s.output(d), b"", "{cmd:?}");
        assert_eq!(out_capacity(&h, d), 0, "{cmd:?}");
        assert_eq!(h.s.stats().client_output_buffer_limit_disconnections, i as u64 + 1);
    }
    // The same replies fit under a bigger cap.
    h.s.cfg.output_limit_normal.hard = 4 * 1024 * 1024;
    let d = h.client();
    let reply = h.cmd(d, &["LRANGE", "l", "0", "-1"]);
    assert!(reply.starts_with("*2000\r\n"));
    assert!(!h.s.should_close(d));
}

#[test]
fn output_never_grows_past_the_cap() {
    let cap = 64 * 1024;
    let mut h = with_output_cap(cap);
    let c = h.client();
    h.cmd(c, &["SET", "k", &"x".repeat(1000)]);
    // A pipeline of GETs whose replies are never read: the buffer stops at
    // the cap and the client is closed.
    let d = h.client();
    let pipe = enc(&[b"GET", b"k"]).repeat(200);
    h.s.feed(d, &pipe, h.now);
    assert!(h.s.should_close(d));
    assert_eq!(h.s.output(d), b"");
    // Pub/sub messages to a subscriber that does not read.
    let sub = h.client();
    h.cmd(sub, &["SUBSCRIBE", "ch"]);
    let msg = vec![b'p'; 1000];
    let mut sent = 0;
    while !h.s.should_close(sub) {
        h.s.feed(c, &enc(&[b"PUBLISH", b"ch", &msg]), h.now);
        h.take(c);
        sent += 1;
        assert!(h.s.output(sub).len() <= cap);
        assert!(sent < 1000, "never closed");
    }
    assert!(sent > 50);
    assert_eq!(h.s.output(sub), b"");
    // Nothing is delivered to it any more.
    assert_eq!(h.cmd(c, &["PUBLISH", "ch", "x"]), ":1\r\n");
    assert_eq!(h.s.output(sub), b"");
}
