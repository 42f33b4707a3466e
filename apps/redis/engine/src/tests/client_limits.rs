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
    // COMMAND INFO shows the flag.
    let info = h.cmd(c, &["COMMAND", "INFO", "shutdown"]);
    assert!(info.contains("+no_multi\r\n"), "{info}");
    let info = h.cmd(c, &["COMMAND", "INFO", "set"]);
    assert!(!info.contains("no_multi"), "{info}");
    // Without a data disk SAVE, BGSAVE and BGREWRITEAOF fail, as Redis's
    // do when saving fails: never a pretend OK.
    for cmd in ["SAVE", "BGSAVE", "BGREWRITEAOF"] {
        assert!(h.cmd(c, &[cmd]).starts_with("-ERR no data disk is attached"), "{cmd}");
    }
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
    let d = h.client();
    assert_eq!(h.cmd(d, &["CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0"]), "+OK\r\n");
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

fn assert_memory_consistent(h: &H) {
    let (total, buckets_ok) = h.s.recount_client_memory();
    assert_eq!(h.s.client_memory(), total);
    assert!(buckets_ok);
}

#[test]
fn client_memory_follows_buffers_and_transactions() {
    let mut cfg = crate::Config::default();
    cfg.client_overhead = 10_000;
    let mut h = H::with(cfg);
    assert_eq!(h.s.client_memory(), 0);
    let c = h.client();
    let base = h.s.client_memory();
    assert!(base >= 10_000);
    let used = h.s.used_memory();
    // A partial request is counted while it is assembled...
    h.s.feed(c, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n", h.now);
    h.s.feed(c, &vec![b'x'; 60_000], h.now);
    assert!(h.s.client_memory() >= base + 60_000);
    assert_eq!(h.s.used_memory() - used, h.s.client_memory() - base);
    assert_memory_consistent(&h);
    h.s.feed(c, &vec![b'x'; 40_000], h.now);
    h.s.feed(c, b"\r\n", h.now);
    assert_eq!(h.take(c), b"+OK\r\n");
    assert!(h.s.client_memory() < base + 20_000);
    // ...and so is pending output until it is consumed...
    h.s.feed(c, &enc(&[b"GET", b"k"]), h.now);
    assert!(h.s.client_memory() >= base + 100_000);
    assert_memory_consistent(&h);
    h.take(c);
    // ...and a queued transaction until EXEC.
    h.cmd(c, &["MULTI"]);
    let before = h.s.client_memory();
    let big = "y".repeat(50_000);
    h.cmd(c, &["SET", "a", &big]);
    h.cmd(c, &["SET", "b", &big]);
    assert!(h.s.client_memory() >= before + 100_000);
    let d = h.client();
    let list = h.cmd(d, &["CLIENT", "LIST", "ID", &c.0.to_string()]);
    assert!(list.contains(" multi=2 "), "{list}");
    assert!(!list.contains(" multi-mem=0 "), "{list}");
    assert_memory_consistent(&h);
    h.cmd(c, &["EXEC"]);
    assert!(h.s.client_memory() < before + 20_000);
    let mem = h.cmd(c, &["INFO", "memory"]);
    assert!(mem.contains(&format!("mem_clients_normal:{}\r\n", h.s.client_memory())), "{mem}");
    assert!(mem.contains("mem_clients_slaves:0\r\n"), "{mem}");
    // Disconnecting gives everything back.
    h.s.disconnect(c);
    h.s.disconnect(d);
    assert_eq!(h.s.client_memory(), 0);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, .. proptest::prelude::ProptestConfig::default() })]

    /// Whatever clients do, the running total equals a full recount.
    #[test]
    fn client_memory_total_matches_a_recount(ops in proptest::collection::vec((0usize..4, 0u8..19, 0usize..3000), 1..60)) {
        let mut cfg = crate::Config::default();
        cfg.output_pause_threshold = 2000;
        cfg.maxmemory_clients = crate::MemoryLimit::Bytes(400_000);
        let mut h = H::with(cfg);
        let mut ids: Vec<crate::ClientId> = (0..4).map(|_| h.client()).collect();
        for (who, op, n) in ops {
            let c = ids[who];
            let big = vec![b'v'; n];
            match op {
                0 => h.s.feed(c, &enc(&[b"SET", b"k", &big]), h.now),
                1 => h.s.feed(c, &enc(&[b"GET", b"k"]).repeat(n % 50 + 1), h.now),
                2 => h.s.feed(c, &enc(&[b"SUBSCRIBE", &big[..n % 20]]), h.now),
                3 => h.s.feed(c, &enc(&[b"PUBLISH", &big[..n % 20], &big]), h.now),
                4 => h.s.feed(c, &enc(&[b"MULTI"]), h.now),
                5 => h.s.feed(c, &enc(&[b"EXEC"]), h.now),
                6 => h.s.feed(c, &enc(&[b"WATCH", &big]), h.now),
                7 => h.s.feed(c, &enc(&[b"SET", b"k", &big])[..n / 2 + 1], h.now),
                8 => {
                    let pending = h.s.output(c).len();
                    h.s.consume_output(c, pending.min(n));
                }
                9 => h.s.feed(c, &enc(&[b"CLIENT", b"NO-EVICT", if n % 2 == 0 { b"on" } else { b"off" }]), h.now),
                10 => h.s.feed(c, &enc(&[b"BLPOP", b"list", b"1"]), h.now),
                11 => h.s.feed(c, &enc(&[b"RPUSH", b"list", &big]), h.now),
                12 => {
                    h.advance(n as u64);
                    h.tick();
                }
                13 => h.s.feed(c, &enc(&[b"CLIENT", b"SETNAME", &vec![b'n'; n % 100]]), h.now),
                14 => h.s.feed(c, &enc(&[b"UNSUBSCRIBE"]), h.now),
                15 => h.s.feed(c, &enc(&[b"RESET"]), h.now),
                16 => h.s.feed(c, &enc(&[b"HELLO", b"2", b"SETNAME", &vec![b'h'; n % 50 + 1]]), h.now),
                17 => h.s.feed(c, &enc(&[b"PSUBSCRIBE", &big[..n % 20]]), h.now),
                _ => {
                    h.s.disconnect(c);
                    ids[who] = h.client();
                }
            }
            let (total, buckets_ok) = h.s.recount_client_memory();
            proptest::prop_assert_eq!(h.s.client_memory(), total);
            proptest::prop_assert!(buckets_ok);
        }
    }
}

#[test]
fn maxmemory_clients_config() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["CONFIG", "GET", "maxmemory-clients"] => "*2\r\n$17\r\nmaxmemory-clients\r\n$1\r\n0\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "10%"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory-clients"] => "*2\r\n$17\r\nmaxmemory-clients\r\n$3\r\n10%\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "2mb"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory-clients"] => "*2\r\n$17\r\nmaxmemory-clients\r\n$7\r\n2097152\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "101%"] => "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "lots"] => "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "-1%"] => "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "0"] => "+OK\r\n",
    );
    let mut cfg = crate::Config::from_args(&["--maxmemory", "10mb", "--maxmemory-clients", "5%"]).unwrap();
    assert_eq!(cfg.maxmemory_clients, crate::MemoryLimit::Percent(5));
    assert_eq!(cfg.client_eviction_limit(), 10 * 1024 * 1024 / 20);
    cfg.maxmemory = 0;
    assert_eq!(cfg.client_eviction_limit(), 0, "a percentage of no maxmemory is no limit");
    cfg.maxmemory_clients = crate::MemoryLimit::Bytes(1000);
    assert_eq!(cfg.client_eviction_limit(), 128 * 1024, "Redis's floor");
}

/// Starts a SET whose value is `n` bytes and sends only the first `sent`.
fn partial_set(h: &mut H, c: crate::ClientId, n: usize, sent: usize) {
    h.s.feed(c, format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${n}\r\n").as_bytes(), h.now);
    h.s.feed(c, &vec![b'x'; sent], h.now);
}

#[test]
fn the_biggest_clients_are_evicted_past_maxmemory_clients() {
    let mut h = H::new();
    let admin = h.client();
    assert_eq!(h.cmd(admin, &["CONFIG", "SET", "maxmemory-clients", "1mb"]), "+OK\r\n");
    let a = h.client();
    let b = h.client();
    let c = h.client();
    partial_set(&mut h, a, 2_000_000, 300_000);
    partial_set(&mut h, b, 2_000_000, 350_000);
    assert!(!h.s.should_close(a) && !h.s.should_close(b));
    // C grows biggest and takes the total past the limit: C goes.
    partial_set(&mut h, c, 2_000_000, 100_000);
    assert!(!h.s.should_close(c));
    h.s.feed(c, &vec![b'x'; 600_000], h.now);
    assert!(h.s.should_close(c));
    assert_eq!(h.s.output(c), b"");
    assert!(!h.s.should_close(a) && !h.s.should_close(b));
    assert!(h.s.client_memory() - h.s.closing_mem < 1024 * 1024);
    let stats = h.cmd(admin, &["INFO", "stats"]);
    assert!(stats.contains("evicted_keys:0\r\nevicted_clients:1\r\n"), "{stats}");
    assert_eq!(h.s.stats().evicted_clients, 1);
    // Disconnecting the evicted client is the app's job; the total drops.
    h.s.disconnect(c);
    assert_memory_consistent(&h);
    assert!(h.s.client_memory() < 1024 * 1024);
}

#[test]
fn no_evict_clients_are_exempt() {
    let mut h = H::new();
    let admin = h.client();
    assert_eq!(h.cmd(admin, &["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert!(h.cmd(admin, &["CLIENT", "INFO"]).contains(" flags=e "));
    assert_eq!(h.cmd(admin, &["CLIENT", "NO-EVICT", "maybe"]), "-ERR syntax error\r\n");
    assert_eq!(h.cmd(admin, &["CONFIG", "SET", "maxmemory-clients", "512kb"]), "+OK\r\n");
    let small = h.client();
    // The exempt client's own request takes the total past the limit: the
    // only evictable client goes, the exempt one stays.
    partial_set(&mut h, admin, 2_000_000, 700_000);
    assert!(!h.s.should_close(admin));
    assert!(h.s.should_close(small));
    assert_eq!(h.s.stats().evicted_clients, 1);
    // Once its request is done, a new big client is evicted as usual...
    h.s.feed(admin, &vec![b'x'; 1_300_000], h.now);
    h.s.feed(admin, b"\r\n", h.now);
    assert_eq!(h.take(admin), b"+OK\r\n");
    let d = h.client();
    partial_set(&mut h, d, 2_000_000, 700_000);
    assert!(!h.s.should_close(admin));
    assert!(h.s.should_close(d));
    // ...and without the exemption the admin goes like anyone else.
    assert_eq!(h.cmd(admin, &["CLIENT", "NO-EVICT", "off"]), "+OK\r\n");
    partial_set(&mut h, admin, 2_000_000, 700_000);
    assert!(h.s.should_close(admin));
    assert_memory_consistent(&h);
}

#[test]
fn output_cap_is_at_most_maxmemory_clients() {
    let mut cfg = crate::Config::default();
    cfg.maxmemory_clients = crate::MemoryLimit::Bytes(256 * 1024);
    cfg.output_pause_threshold = usize::MAX;
    let mut h = H::with(cfg);
    let c = h.client();
    h.cmd(c, &["SET", "small", &"s".repeat(100_000)]);
    assert_eq!(h.cmd(c, &["GET", "small"]).len(), 100_000 + 11);
    h.cmd(c, &["SET", "big", &"b".repeat(300_000)]);
    h.s.feed(c, &enc(&[b"GET", b"big"]), h.now);
    assert!(h.s.should_close(c));
    assert_eq!(h.s.output(c), b"");
    assert_eq!(h.s.stats().client_output_buffer_limit_disconnections, 1);
}

#[test]
fn growth_steps_stay_near_the_client_memory_limit() {
    let limit = 4 * 1024 * 1024;
    let mut cfg = crate::Config::default();
    cfg.maxmemory_clients = crate::MemoryLimit::Bytes(limit);
    cfg.output_pause_threshold = usize::MAX;
    let mut h = H::with(cfg);
    let c = h.client();
    assert_eq!(h.cmd(c, &["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    // An exempt client receiving a bulk far past the limit: beyond the
    // limit its buffer grows by small steps instead of doubling.
    partial_set(&mut h, c, 64 * 1024 * 1024, 0);
    let chunk = vec![b'x'; 65536];
    let mut received = 0;
    while received < 16 * 1024 * 1024 {
        h.s.feed(c, &chunk, h.now);
        received += chunk.len();
        let held = h.s.clients[&c.0].parser.pending_bytes();
        assert!(held <= limit.max(received + received / 8) + 1024, "held {held} for {received} received");
    }
    assert!(!h.s.should_close(c));
    h.s.disconnect(c);
    // Output capacity never passes the cap either.
    let d = h.client();
    h.cmd(d, &["SET", "v", &"v".repeat(1000)]);
    h.s.feed(d, &enc(&[b"GET", b"v"]).repeat(2500), h.now);
    assert!(!h.s.should_close(d));
    assert!(h.s.output(d).len() > 2 * 1024 * 1024);
    assert!(out_capacity(&h, d) <= limit, "{}", out_capacity(&h, d));
    h.s.feed(d, &enc(&[b"GET", b"v"]).repeat(2000), h.now);
    assert!(h.s.should_close(d));
}

#[test]
fn an_app_obeying_wants_input_keeps_buffers_bounded() {
    let pause = 16 * 1024;
    let mut cfg = crate::Config::default();
    cfg.output_pause_threshold = pause;
    let mut h = H::with(cfg);
    let c = h.client();
    h.cmd(c, &["SET", "k", &"v".repeat(100)]);
    // A client pipelining 20 000 GETs without reading replies.
    let n = 20_000;
    let socket = enc(&[b"GET", b"k"]).repeat(n);
    let reply_len = 100 + 8;
    let chunk = 4096;
    let mut sent = 0;
    let mut replies = 0;
    let mut rounds = 0;
    while replies < n * reply_len {
        rounds += 1;
        assert!(rounds < 100_000);
        // The app reads only when asked to...
        while sent < socket.len() && h.s.wants_input(c) {
            let end = (sent + chunk).min(socket.len());
            h.s.feed(c, &socket[sent..end], h.now);
            sent = end;
            let cl = &h.s.clients[&c.0];
            assert!(cl.pending_input() + cl.parser.pending_bytes() <= chunk, "input {}", cl.pending_input());
            assert!(h.s.output(c).len() < pause + reply_len);
        }
        // ...and so the client cannot get far ahead of its reader.
        assert!(sent < socket.len() || replies + h.s.output(c).len() >= (n - 200) * reply_len);
        // The reader drains a little at a time.
        let take = h.s.output(c).len().min(5000);
        h.s.consume_output(c, take);
        replies += take;
    }
    assert_eq!(sent, socket.len());
    assert_eq!(h.s.output(c), b"");
    assert!(!h.s.should_close(c));
}

#[test]
fn blocked_and_closing_clients_want_no_input() {
    let mut h = H::new();
    let c = h.client();
    assert!(h.s.wants_input(c));
    assert_eq!(h.cmd(c, &["BLPOP", "l", "0"]), "");
    // Blocked: one read is buffered, then reading stops.
    assert!(h.s.wants_input(c));
    h.s.feed(c, &enc(&[b"PING"]), h.now);
    assert!(!h.s.wants_input(c));
    // A push serves it; the buffered PING runs; reading resumes.
    let d = h.client();
    h.cmd(d, &["RPUSH", "l", "x"]);
    assert_eq!(h.take(c), b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n+PONG\r\n");
    assert!(h.s.wants_input(c));
    h.cmd(c, &["QUIT"]);
    assert!(!h.s.wants_input(c));
    assert!(!h.s.wants_input(crate::ClientId(999)));
}

#[test]
fn maxmemory_never_exceeds_its_ceiling() {
    let mb = 1024 * 1024;
    // Startup: unlimited or too big becomes the ceiling.
    for args in [&[][..], &["--maxmemory", "1gb"][..]] {
        let mut cfg = crate::Config::from_args(args).unwrap();
        cfg.maxmemory_ceiling = 10 * mb;
        let h = H::with(cfg);
        assert_eq!(h.s.config().maxmemory, 10 * mb, "{args:?}");
    }
    let mut cfg = crate::Config::from_args(&["--maxmemory", "5mb"]).unwrap();
    cfg.maxmemory_ceiling = 10 * mb;
    let mut h = H::with(cfg);
    assert_eq!(h.s.config().maxmemory, 5 * mb);
    let c = h.client();
    script!(h, c,
        ["CONFIG", "SET", "maxmemory", "0"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n",
        ["CONFIG", "SET", "maxmemory", "3mb"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$7\r\n3145728\r\n",
        ["CONFIG", "SET", "maxmemory", "20mb"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n",
    );
    // Without a ceiling, 0 still means no limit.
    let mut h = H::new();
    let c = h.client();
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "maxmemory", "0"]), "+OK\r\n");
    assert_eq!(h.s.config().maxmemory, 0);
}

#[test]
fn maxmemory_clients_never_exceeds_its_ceiling() {
    let mb = 1024 * 1024;
    let mut cfg = crate::Config::from_args(&["--maxmemory", "100mb"]).unwrap();
    cfg.maxmemory_clients_ceiling = 2 * mb;
    let mut h = H::with(cfg);
    assert_eq!(h.s.config().maxmemory_clients, crate::MemoryLimit::Bytes(2 * mb));
    assert_eq!(h.s.config().client_eviction_limit(), 2 * mb);
    let c = h.client();
    script!(h, c,
        ["CONFIG", "SET", "maxmemory-clients", "1mb"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory-clients"] => "*2\r\n$17\r\nmaxmemory-clients\r\n$7\r\n1048576\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "0"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory-clients"] => "*2\r\n$17\r\nmaxmemory-clients\r\n$7\r\n2097152\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "1gb"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory-clients"] => "*2\r\n$17\r\nmaxmemory-clients\r\n$7\r\n2097152\r\n",
        ["CONFIG", "SET", "maxmemory-clients", "50%"] => "+OK\r\n",
    );
    // 50% of 100mb is above the ceiling: the ceiling applies.
    assert_eq!(h.s.config().client_eviction_limit(), 2 * mb);
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "maxmemory-clients", "1%"]), "+OK\r\n");
    assert_eq!(h.s.config().client_eviction_limit(), mb);
    // And clients are evicted at it.
    let d = h.client();
    partial_set(&mut h, d, 10 * mb, 3 * mb / 2);
    assert!(h.s.should_close(d));
}

#[test]
fn protected_mode_refuses_remote_peers_without_a_password() {
    let denied = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
    let mut h = H::new();
    assert!(h.s.config().protected_mode);
    for peer in ["10.0.2.2:5000", "192.168.1.1:1", "[2001:db8::1]:80", "localhost:1", "garbage"] {
        let r = h.s.connect(peer, h.now).unwrap_err();
        assert_eq!(show(&r.reply), denied, "{peer}");
    }
    for peer in ["127.0.0.1:1", "127.1.2.3:9", "[::1]:6379", "::1", "[::ffff:127.0.0.1]:2"] {
        assert!(h.s.connect(peer, h.now).is_ok(), "{peer}");
    }
    let c = h.client();
    let stats = h.cmd(c, &["INFO", "stats"]);
    assert!(stats.contains("rejected_connections:5\r\n"), "{stats}");
    assert!(stats.contains("total_connections_received:6\r\n"), "{stats}");
    // Turning it off (from loopback) or setting a password lets them in.
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "protected-mode", "no"]), "+OK\r\n");
    assert!(h.s.connect("10.0.2.2:5000", h.now).is_ok());
    h.cmd(c, &["CONFIG", "SET", "protected-mode", "yes"]);
    assert!(h.s.connect("10.0.2.2:5000", h.now).is_err());
    h.cmd(c, &["CONFIG", "SET", "requirepass", "secret"]);
    let remote = h.s.connect("10.0.2.2:5001", h.now).unwrap();
    assert_eq!(h.cmd(remote, &["PING"]), "-NOAUTH Authentication required.\r\n");
}

#[test]
fn auth_compares_the_whole_password() {
    let cfg = crate::Config::from_args(&["--requirepass", "s3cret"]).unwrap();
    let mut h = H::with(cfg);
    let c = h.client();
    let wrong = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    for guess in ["", "s", "s3cre", "s3cret\0", "s3cretX", "S3cret", "s3creT", "x3cret"] {
        assert_eq!(h.cmd(c, &["AUTH", guess]), wrong, "{guess:?}");
        assert_eq!(h.cmd(c, &["AUTH", "default", guess]), wrong, "{guess:?}");
    }
    assert_eq!(h.cmd(c, &["AUTH", "other", "s3cret"]), wrong);
    assert_eq!(h.cmd(c, &["AUTH", "s3cret"]), "+OK\r\n");
    let d = h.client();
    assert!(h.cmd(d, &["HELLO", "3", "AUTH", "default", "s3cret"]).starts_with('%'));
}

#[test]
fn scan_with_a_huge_count_is_bounded_by_the_output_cap() {
    let mut h = with_output_cap(64 * 1024);
    let c = h.client();
    for i in 0..5000 {
        h.s.feed(c, &enc(&[b"SET", format!("key:{i:06}").as_bytes(), b"v"]), h.now);
    }
    h.take(c);
    // A modest reply is served.
    let reply = h.cmd(c, &["SCAN", "0", "COUNT", "100"]);
    assert!(reply.starts_with("*2\r\n"), "{reply}");
    // All 5000 keys would need more than the cap: closed, nothing sent.
    let d = h.client();
    h.s.feed(d, &enc(&[b"SCAN", b"0", b"COUNT", b"1000000000"]), h.now);
    assert!(h.s.should_close(d));
    assert_eq!(h.s.output(d), b"");
    // Under a bigger cap the same SCAN returns every key.
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0"]), "+OK\r\n");
    let e = h.client();
    let reply = h.cmd(e, &["SCAN", "0", "COUNT", "1000000000"]);
    assert!(reply.starts_with("*2\r\n$1\r\n0\r\n*5000\r\n"), "{}", &reply[..40]);
}
