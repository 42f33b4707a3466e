//! MIGRATE against a second engine in the same process: the target sees
//! the AUTH, SELECT and RESTORE commands the source sends, over an
//! [`Outbound`] that feeds them to it.

#[allow(unused_imports)]
use std::{prelude::rust_2024::*, vec};

use std::cell::RefCell;
use std::rc::Rc;

use super::harness::*;
use crate::{Outbound, OutboundError};

/// The target server, reachable as 10.0.0.2:6379 (anything else refuses).
struct Link {
    target: Shared<H>,
    /// Requests seen, for the tests to inspect.
    sent: Shared<Vec<u8>>,
    /// Read nothing back (a target that does not answer).
    silent: bool,
}

impl Outbound for Link {
    fn exchange(
        &mut self,
        host: &[u8],
        port: u16,
        request: &[u8],
        complete: &dyn Fn(&[u8]) -> bool,
        _timeout_ms: u64,
    ) -> Result<Vec<u8>, OutboundError> {
        if (host, port) != (&b"10.0.0.2"[..], 6379) {
            return Err(OutboundError::Connect);
        }
        self.sent.borrow_mut().extend_from_slice(request);
        if self.silent {
            return Err(OutboundError::Read);
        }
        let mut target = self.target.borrow_mut();
        let c = target.client();
        let reply = target.raw(c, request);
        assert!(complete(&reply), "the source must accept the whole reply: {}", show(&reply));
        Ok(reply)
    }
}

type Shared<T> = Rc<RefCell<T>>;

/// A source server linked to a target; the requests sent are recorded.
fn pair() -> (H, Shared<H>, Shared<Vec<u8>>) {
    let mut source = H::new();
    let target = Rc::new(RefCell::new(H::new()));
    let sent = Rc::new(RefCell::new(Vec::new()));
    source.s.set_outbound(Box::new(Link { target: target.clone(), sent: sent.clone(), silent: false }));
    (source, target, sent)
}

#[test]
fn keys_move_with_their_values_and_ttls() {
    let (mut h, target, _) = pair();
    let c = h.client();
    h.cmd(c, &["SET", "s", "value"]);
    h.cmd(c, &["PEXPIRE", "s", "50000"]);
    h.cmd(c, &["RPUSH", "l", "a", "b"]);
    h.cmd(c, &["HSET", "hh", "f", "v"]);
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "s", "3", "1000"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "s"]), ":0\r\n");
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "", "3", "1000", "COPY", "KEYS", "l", "hh", "gone"]),
        "+OK\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "l", "hh"]), ":2\r\n", "COPY keeps the keys");

    let mut t = target.borrow_mut();
    let tc = t.client();
    t.cmd(tc, &["SELECT", "3"]);
    assert_eq!(t.cmd(tc, &["GET", "s"]), "$5\r\nvalue\r\n");
    let pttl: i64 = t.cmd(tc, &["PTTL", "s"])[1..].trim().parse().unwrap();
    assert!((49_000..=50_000).contains(&pttl), "{pttl}");
    assert_eq!(t.cmd(tc, &["LRANGE", "l", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(t.cmd(tc, &["HGET", "hh", "f"]), "$1\r\nv\r\n");
}

#[test]
fn target_errors_and_unreachable_targets_keep_the_keys() {
    let (mut h, target, sent) = pair();
    let c = h.client();
    h.cmd(c, &["SET", "k", "mine"]);
    {
        let mut t = target.borrow_mut();
        let tc = t.client();
        t.cmd(tc, &["SET", "k", "theirs"]);
    }
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "1000"]),
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":1\r\n");
    assert!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "1000", "AUTH", "pw"])
            .starts_with("-ERR Target instance replied with error: ERR AUTH")
    );
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.9", "6379", "k", "0", "1000"]),
        "-IOERR error or timeout connecting to the client\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":1\r\n");
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "1000", "REPLACE"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":0\r\n");
    let sent = show(&sent.borrow());
    assert!(sent.contains("$4\r\nAUTH\r\n$2\r\npw\r\n"), "{sent}");
    assert!(sent.contains("$7\r\nREPLACE\r\n"), "{sent}");
}

#[test]
fn a_silent_target_is_an_io_error() {
    let mut h = H::new();
    let target = Rc::new(RefCell::new(H::new()));
    h.s.set_outbound(Box::new(Link { target, sent: Rc::default(), silent: true }));
    let c = h.client();
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "10"]),
        "-IOERR error or timeout reading to target instance\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":1\r\n");
}

#[test]
fn argument_errors_and_missing_keys() {
    let (mut h, _, sent) = pair();
    let c = h.client();
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "nokey", "0", "1000"]), "+NOKEY\r\n");
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "soon"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "1", "FAST"]), "-ERR syntax error\r\n");
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "1", "KEYS", "a"]),
        "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
    );
    assert!(sent.borrow().is_empty(), "nothing is sent when no key is moved");
}

/// The source propagates the DEL of what left, never MIGRATE itself.
#[test]
fn moved_keys_are_propagated_as_del() {
    let (mut h, _, _) = pair();
    let replica = h.client();
    assert!(h.raw(replica, b"SYNC\r\n").starts_with(b"$"));
    let c = h.client();
    h.cmd(c, &["MSET", "a", "1", "b", "2"]);
    h.take(replica);
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "", "0", "1000", "KEYS", "a", "b"]), "+OK\r\n");
    assert_eq!(show(&h.take(replica)), "*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n");
}
