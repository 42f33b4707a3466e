//! Regression tests for what the fuzz target (`fuzz/`, `cargo xtask fuzz`)
//! found.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;

/// CLIENT INFO/LIST run from buffered input (the client was blocked while
/// more commands waited behind BLPOP) read the client's pending input while
/// the buffer was taken out for parsing: `inbuf.len() - inpos` underflowed
/// (a panic with overflow checks, a huge `qbuf` without).
#[test]
fn client_info_runs_from_buffered_input() {
    let mut h = H::new();
    let a = h.client();
    let b = h.client();
    // A partial command is buffered, so the rest goes through the buffer.
    assert_eq!(h.raw(a, b"BLP"), b"");
    assert_eq!(h.raw(a, b"OP q 0\r\nCLIENT INFO\r\nCLIENT LIST\r\n"), b"");
    assert_eq!(h.cmd(b, &["RPUSH", "q", "x"]), ":1\r\n");
    let out = show(&h.take(a));
    assert!(out.starts_with("*2\r\n$1\r\nq\r\n$1\r\nx\r\n$"), "{out}");
    assert!(out.contains(" qbuf=0 ") && !out.contains("qbuf=1844"), "{out}");
    assert_eq!(out.matches("id=1 ").count(), 2, "{out}");
}

/// The fuzz harness models the appliance, whose `maxmemory` has a ceiling
/// (the heap's share): a fuzzed `CONFIG SET maxmemory 100gb` then
/// `SETRANGE huge 50000000 x` must meet `-OOM`, not grow a 50 MB string
/// (found after 28 million executions, when the harness had no ceiling).
#[test]
fn maxmemory_cannot_be_raised_past_the_ceiling_to_grow_a_value() {
    let mut h = H::with(crate::fuzzing::config());
    let c = h.client();
    assert_eq!(h.cmd(c, &["CONFIG", "SET", "maxmemory", "100gb"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n");
    let reply = h.cmd(c, &["SETRANGE", "huge", "50000000", "x"]);
    assert!(reply.starts_with("-OOM "), "{reply}");
    assert!(crate::fuzzing::two_clients(include_bytes!("fuzz_found/setrange-past-raised-maxmemory"), None).is_ok());
}

/// A replica (a client that sent SYNC) that then runs a write itself: the
/// write's propagation went straight into the replica's output buffer while
/// the buffer was lent to the running command, and the buffer's position
/// passed its end (found by `cargo xtask fuzz` within a minute of SYNC
/// existing). It goes through the running client's held pushes now.
#[test]
fn a_replica_runs_a_write() {
    let mut h = H::new();
    let c = h.client();
    let out = h.raw(c, b"SYNC\r\n");
    assert!(out.starts_with(b"$"), "{}", show(&out));
    let out = show(&h.raw(c, b"SET k v\r\nFLUSHALL\r\n"));
    assert!(out.contains("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"), "{out}");
    assert_eq!(out.matches("+OK\r\n").count(), 2, "{out}");
    assert!(crate::fuzzing::two_clients(include_bytes!("fuzz_found/sync-replica-runs-a-write"), None).is_ok());
}
