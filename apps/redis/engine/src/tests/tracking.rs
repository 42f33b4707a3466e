//! Client-side caching: CLIENT TRACKING modes, invalidation pushes and
//! messages, the tracking table and its limit, and INFO/CLIENT fields.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::ClientId;

const INVALIDATE_K: &str = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";

fn id_of(h: &mut H, c: ClientId) -> String {
    h.cmd(c, &["CLIENT", "ID"]).trim_start_matches(':').trim_end().to_string()
}

fn info_field(h: &mut H, c: ClientId, field: &str) -> String {
    let info = h.cmd(c, &["INFO", "everything"]);
    let start = info.find(&format!("\r\n{field}:")).map(|i| i + field.len() + 3).unwrap();
    info[start..].split("\r\n").next().unwrap().to_string()
}

#[test]
fn resp3_default_mode_invalidates_read_keys_once() {
    let mut h = H::new();
    let reader = h.client();
    let writer = h.client();
    h.cmd(reader, &["HELLO", "3"]);
    assert_eq!(h.cmd(reader, &["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    h.cmd(writer, &["SET", "k", "1"]);
    // Not read yet: nothing to invalidate.
    h.cmd(writer, &["SET", "k", "2"]);
    assert_eq!(show(&h.take(reader)), "");
    h.cmd(reader, &["GET", "k"]);
    assert_eq!(info_field(&mut h, writer, "tracking_total_keys"), "1");
    assert_eq!(info_field(&mut h, writer, "tracking_clients"), "1");
    h.cmd(writer, &["SET", "k", "3"]);
    assert_eq!(show(&h.take(reader)), INVALIDATE_K);
    // Invalidated once: the key left the table.
    h.cmd(writer, &["SET", "k", "4"]);
    assert_eq!(show(&h.take(reader)), "");
    assert_eq!(info_field(&mut h, writer, "tracking_total_keys"), "0");
}

#[test]
fn own_write_is_invalidated_after_the_reply_unless_noloop() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["CLIENT", "TRACKING", "on"]);
    h.cmd(c, &["GET", "k"]);
    assert_eq!(h.cmd(c, &["SET", "k", "1"]), format!("+OK\r\n{INVALIDATE_K}"));
    h.cmd(c, &["CLIENT", "TRACKING", "on", "NOLOOP"]);
    h.cmd(c, &["GET", "k"]);
    assert_eq!(h.cmd(c, &["SET", "k", "2"]), "+OK\r\n");
}

#[test]
fn resp2_redirect_to_subscribed_client_and_broken_redirect() {
    let mut h = H::new();
    let c = h.client();
    let target = h.client();
    let writer = h.client();
    let tid = id_of(&mut h, target);
    h.cmd(target, &["SUBSCRIBE", "__redis__:invalidate"]);
    assert_eq!(h.cmd(c, &["CLIENT", "TRACKING", "on", "REDIRECT", &tid]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["CLIENT", "GETREDIR"]), format!(":{tid}\r\n"));
    h.cmd(c, &["GET", "k"]);
    h.cmd(writer, &["SET", "k", "v"]);
    assert_eq!(show(&h.take(target)), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n");
    // FLUSHALL: the null, as the tracking client's protocol writes it.
    h.cmd(writer, &["FLUSHALL"]);
    assert_eq!(show(&h.take(target)), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
    // The target goes away: a RESP3 client is told, and flagged R.
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["GET", "k"]);
    h.s.disconnect(target);
    h.cmd(writer, &["SET", "k", "v"]);
    assert_eq!(show(&h.take(c)), format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{tid}\r\n"));
    assert!(h.cmd(c, &["CLIENT", "INFO"]).contains(" flags=tR "));
}

#[test]
fn redirect_must_exist() {
    let mut h = H::new();
    let c = h.client();
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKING", "on", "REDIRECT", "9999"]),
        "-ERR The client ID you want redirect to does not exist\r\n"
    );
    assert_eq!(h.cmd(c, &["CLIENT", "GETREDIR"]), ":-1\r\n");
}

#[test]
fn bcast_prefixes_and_collisions() {
    let mut h = H::new();
    let c = h.client();
    let writer = h.client();
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(h.cmd(c, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:"]), "+OK\r\n");
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x"]),
        "-ERR Prefix 'a:x' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c", "PREFIX", "cd"]),
        "-ERR Prefix 'c' overlaps with another provided prefix 'cd'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKING", "on"]),
        "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );
    assert_eq!(info_field(&mut h, writer, "tracking_total_prefixes"), "2");
    h.cmd(writer, &["MSET", "b:2", "x", "a:1", "x", "z", "x"]);
    assert_eq!(
        show(&h.take(c)),
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\na:1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nb:2\r\n"
    );
    assert!(h.cmd(c, &["CLIENT", "INFO"]).contains(" flags=tB "));
    h.cmd(c, &["CLIENT", "TRACKING", "off"]);
    assert_eq!(info_field(&mut h, writer, "tracking_total_prefixes"), "0");
}

#[test]
fn optin_tracks_only_after_caching_yes() {
    let mut h = H::new();
    let c = h.client();
    let writer = h.client();
    h.cmd(c, &["HELLO", "3"]);
    assert_eq!(
        h.cmd(c, &["CLIENT", "CACHING", "yes"]),
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
    );
    h.cmd(c, &["CLIENT", "TRACKING", "on", "OPTIN"]);
    assert_eq!(
        h.cmd(c, &["CLIENT", "CACHING", "no"]),
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );
    h.cmd(c, &["GET", "k"]);
    h.cmd(writer, &["SET", "k", "1"]);
    assert_eq!(show(&h.take(c)), "");
    assert_eq!(h.cmd(c, &["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    h.cmd(c, &["GET", "k"]);
    h.cmd(writer, &["SET", "k", "2"]);
    assert_eq!(show(&h.take(c)), INVALIDATE_K);
    // CACHING applies to one command only.
    h.cmd(c, &["GET", "k"]);
    h.cmd(writer, &["SET", "k", "3"]);
    assert_eq!(show(&h.take(c)), "");
}

#[test]
fn optout_caching_no_skips_one_command() {
    let mut h = H::new();
    let c = h.client();
    let writer = h.client();
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["CLIENT", "TRACKING", "on", "OPTOUT"]);
    h.cmd(c, &["CLIENT", "CACHING", "no"]);
    h.cmd(c, &["GET", "k"]);
    h.cmd(writer, &["SET", "k", "1"]);
    assert_eq!(show(&h.take(c)), "");
    h.cmd(c, &["GET", "k"]);
    h.cmd(writer, &["SET", "k", "2"]);
    assert_eq!(show(&h.take(c)), INVALIDATE_K);
}

#[test]
fn exec_invalidations_follow_the_exec_reply() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["CLIENT", "TRACKING", "on"]);
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["GET", "k"]);
    h.cmd(c, &["SET", "k", "1"]);
    assert_eq!(h.cmd(c, &["EXEC"]), format!("*2\r\n_\r\n+OK\r\n{INVALIDATE_K}"));
}

#[test]
fn expiry_invalidates() {
    let mut h = H::new();
    let c = h.client();
    let other = h.client();
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["CLIENT", "TRACKING", "on"]);
    h.cmd(other, &["SET", "k", "v", "PX", "10"]);
    h.cmd(c, &["GET", "k"]);
    h.advance(50);
    h.cmd(other, &["GET", "k"]);
    assert_eq!(show(&h.take(c)), INVALIDATE_K);
}

#[test]
fn table_limit_evicts_with_invalidations() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["HELLO", "3"]);
    h.cmd(c, &["CLIENT", "TRACKING", "on"]);
    h.cmd(c, &["MGET", "a", "b", "c"]);
    assert_eq!(info_field(&mut h, c, "tracking_total_items"), "3");
    h.cmd(c, &["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    let out = h.cmd(c, &["PING"]);
    assert_eq!(out.matches("invalidate").count(), 2, "{out}");
    assert_eq!(info_field(&mut h, c, "tracking_total_keys"), "1");
}

/// The suite's "Tracking invalidation message of eviction keys should be
/// before response": SETBIT grows the dataset past a `maxmemory` set 100 KiB
/// above it (Redis checks the limit only before a command), and the next
/// command, GETBIT, first evicts the volatile key: its invalidation comes
/// before GETBIT's reply. The same with a hard ceiling far above the limit,
/// as on the appliance.
#[test]
fn eviction_before_a_command_is_invalidated_before_its_reply() {
    for ceiling in [0, 64 << 20] {
        let mut cfg = crate::Config::default();
        cfg.maxmemory_ceiling = ceiling;
        let mut h = H::with(cfg);
        let c = h.client();
        h.cmd(c, &["HELLO", "3"]);
        h.cmd(c, &["CLIENT", "TRACKING", "on"]);
        let used: usize = info_field(&mut h, c, "used_memory").parse().unwrap();
        let not_counted: usize = info_field(&mut h, c, "mem_not_counted_for_evict").parse().unwrap();
        let limit = used - not_counted + 100 * 1024;
        assert_eq!(h.cmd(c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]), "+OK\r\n");
        assert_eq!(h.cmd(c, &["CONFIG", "SET", "maxmemory-policy", "volatile-random"]), "+OK\r\n");
        assert_eq!(h.cmd(c, &["SETEX", "volatile-key", "10000", "x"]), "+OK\r\n");
        assert_eq!(h.cmd(c, &["GET", "volatile-key"]), "$1\r\nx\r\n");
        // 200 KB of growth in one command: it runs, past the limit.
        assert_eq!(h.cmd(c, &["SETBIT", "big-key", "1600000", "0"]), ":0\r\n", "ceiling {ceiling}");
        assert!(h.s.eviction_memory() > limit);
        assert_eq!(h.s.stats.evicted_keys, 0);
        assert_eq!(
            h.cmd(c, &["GETBIT", "big-key", "0"]),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$12\r\nvolatile-key\r\n:0\r\n",
            "ceiling {ceiling}"
        );
        assert_eq!(h.s.stats.evicted_keys, 1);
        // Still over the limit with nothing volatile left: a command that
        // may use memory is refused, others run.
        assert_eq!(h.cmd(c, &["SET", "k", "v"]), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
        assert_eq!(h.cmd(c, &["STRLEN", "big-key"]), ":200001\r\n");
    }
}

#[test]
fn trackinginfo_reports_mode() {
    let mut h = H::new();
    let c = h.client();
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKINGINFO"]),
        "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    );
    h.cmd(c, &["CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP"]);
    h.cmd(c, &["CLIENT", "CACHING", "yes"]);
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKINGINFO"]),
        "*6\r\n$5\r\nflags\r\n*4\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n"
    );
    assert_eq!(
        h.cmd(c, &["CLIENT", "TRACKING", "on", "OPTOUT"]),
        "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );
}
