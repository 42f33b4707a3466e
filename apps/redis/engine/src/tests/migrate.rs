//! MIGRATE against a second engine in the same process: the target sees
//! the AUTH, SELECT and RESTORE commands the source sends, over an
//! [`Outbound`] that feeds them to it (each link is one client of the
//! target, so a SELECT lasts as long as the connection).

#[allow(unused_imports)]
use std::{prelude::rust_2024::*, vec};

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::harness::*;
use crate::{ConnectError, LinkError, Outbound, OutboundLink};

/// The target server, reachable at 10.0.0.2 on any port (anything else
/// refuses).
struct Net {
    target: Shared<H>,
    /// Requests seen, for the tests to inspect.
    sent: Shared<Vec<u8>>,
    /// Read nothing back (a target that does not answer).
    silent: bool,
    /// Connections made.
    connects: Rc<Cell<usize>>,
    /// Held by every open link: its count minus one is how many are open.
    open: Rc<()>,
    /// Bumped to make the target drop every connection made before.
    generation: Rc<Cell<u64>>,
}

struct Link {
    target: Shared<H>,
    client: crate::ClientId,
    sent: Shared<Vec<u8>>,
    silent: bool,
    _open: Rc<()>,
    generation: Rc<Cell<u64>>,
    born: u64,
    pending: Vec<u8>,
}

impl Outbound for Net {
    fn connect(&mut self, host: &[u8], port: u16, _timeout_ms: u64) -> Result<Box<dyn OutboundLink>, ConnectError> {
        if host != b"10.0.0.2" {
            return Err(ConnectError::BadAddress);
        }
        // Nothing listens on port 1.
        if port == 1 {
            self.connects.set(self.connects.get() + 1);
            return Err(ConnectError::Failed(LinkError::Closed));
        }
        self.connects.set(self.connects.get() + 1);
        let client = self.target.borrow_mut().client();
        Ok(Box::new(Link {
            target: self.target.clone(),
            client,
            sent: self.sent.clone(),
            silent: self.silent,
            _open: self.open.clone(),
            generation: self.generation.clone(),
            born: self.generation.get(),
            pending: Vec::new(),
        }))
    }
}

impl OutboundLink for Link {
    fn send(&mut self, data: &[u8], _timeout_ms: u64) -> Result<(), LinkError> {
        self.sent.borrow_mut().extend_from_slice(data);
        if self.born == self.generation.get() && !self.silent {
            let reply = self.target.borrow_mut().raw(self.client, data);
            self.pending.extend_from_slice(&reply);
        }
        Ok(())
    }

    fn read_line(&mut self, _timeout_ms: u64) -> Result<Vec<u8>, LinkError> {
        match crate::split_line(&mut self.pending) {
            Some(line) => Ok(line),
            None if self.silent => Err(LinkError::TimedOut),
            None => Err(LinkError::Closed),
        }
    }
}

type Shared<T> = Rc<RefCell<T>>;

/// A source server linked to a target; the requests sent are recorded.
fn pair() -> (H, Shared<H>, Shared<Vec<u8>>) {
    let (h, net) = linked(false);
    (h, net.target, net.sent)
}

/// What a test can watch of the network: the target, what was sent, how
/// many connections were made and are open, and the target's generation.
struct Watch {
    target: Shared<H>,
    sent: Shared<Vec<u8>>,
    connects: Rc<Cell<usize>>,
    open: Rc<()>,
    generation: Rc<Cell<u64>>,
}

impl Watch {
    fn open(&self) -> usize {
        Rc::strong_count(&self.open) - 2
    }
}

fn linked(silent: bool) -> (H, Watch) {
    let mut source = H::new();
    let net = Net {
        target: Rc::new(RefCell::new(H::new())),
        sent: Rc::default(),
        silent,
        connects: Rc::default(),
        open: Rc::new(()),
        generation: Rc::default(),
    };
    let watch = Watch {
        target: net.target.clone(),
        sent: net.sent.clone(),
        connects: net.connects.clone(),
        open: net.open.clone(),
        generation: net.generation.clone(),
    };
    source.s.set_outbound(Box::new(net));
    (source, watch)
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
    let (mut h, net) = linked(true);
    let c = h.client();
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "k", "0", "10"]),
        "-IOERR error or timeout reading to target instance\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "k"]), ":1\r\n");
    // A timeout is not retried, and the connection is closed.
    assert_eq!((net.connects.get(), net.open()), (1, 0));
    assert!(h.cmd(c, &["INFO", "stats"]).contains("migrate_cached_sockets:0\r\n"));
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

fn cached_sockets(h: &mut H, c: crate::ClientId) -> String {
    let info = h.cmd(c, &["INFO", "stats"]);
    info.lines().find(|l| l.starts_with("migrate_cached_sockets:")).unwrap_or("none").to_string()
}

/// As Redis, the connection is kept per host:port as typed, SELECT is sent
/// only when the database changes, and an idle connection is closed after
/// more than 10 s.
#[test]
fn connections_are_cached_for_ten_seconds() {
    let (mut h, net) = linked(false);
    let c = h.client();
    h.cmd(c, &["MSET", "a", "1", "b", "2", "d", "3", "e", "4"]);
    assert_eq!(cached_sockets(&mut h, c), "migrate_cached_sockets:0");
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "a", "3", "1000"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "b", "3", "1000"]), "+OK\r\n");
    assert_eq!((net.connects.get(), net.open()), (1, 1));
    assert_eq!(cached_sockets(&mut h, c), "migrate_cached_sockets:1");
    let sent = show(&std::mem::take(&mut *net.sent.borrow_mut()));
    assert_eq!(sent.matches("SELECT").count(), 1, "{sent}");
    // Another database selects again; another spelling of the port is
    // another connection.
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "d", "4", "1000"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "06379", "e", "4", "1000"]), "+OK\r\n");
    let sent = show(&net.sent.borrow());
    assert_eq!(sent.matches("SELECT").count(), 2, "{sent}");
    assert_eq!((net.connects.get(), net.open()), (2, 2));
    {
        let mut t = net.target.borrow_mut();
        let tc = t.client();
        assert_eq!(t.cmd(tc, &["SELECT", "3"]), "+OK\r\n");
        assert_eq!(t.cmd(tc, &["MGET", "a", "b"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(t.cmd(tc, &["SELECT", "4"]), "+OK\r\n");
        assert_eq!(t.cmd(tc, &["MGET", "d", "e"]), "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
    }
    // Unused for 10 s: still open; for more: closed by the tick.
    h.advance(10_000);
    h.tick();
    assert_eq!(net.open(), 2);
    h.advance(1_000);
    h.tick();
    assert_eq!(net.open(), 0);
    assert_eq!(cached_sockets(&mut h, c), "migrate_cached_sockets:0");
}

/// A cached connection the target has closed fails on its first reply:
/// the command is retried once on a new connection.
#[test]
fn a_closed_cached_connection_is_replaced() {
    let (mut h, net) = linked(false);
    let c = h.client();
    h.cmd(c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "a", "0", "1000"]), "+OK\r\n");
    net.generation.set(1);
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "b", "0", "1000"]), "+OK\r\n");
    assert_eq!((net.connects.get(), net.open()), (2, 1));
    assert_eq!(h.cmd(c, &["EXISTS", "a", "b"]), ":0\r\n");
    // The stale connection had its database selected; the new one
    // selects it again.
    assert_eq!(show(&net.sent.borrow()).matches("SELECT").count(), 2);
}

/// The first error of the target is the reply; later keys that arrive are
/// still deleted, and the next call selects the database again.
#[test]
fn the_first_target_error_is_reported() {
    let (mut h, net) = linked(false);
    let c = h.client();
    h.cmd(c, &["MSET", "a", "1", "b", "2", "x", "3"]);
    {
        let mut t = net.target.borrow_mut();
        let tc = t.client();
        t.cmd(tc, &["MSET", "a", "1", "b", "2"]);
    }
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "", "0", "1000", "KEYS", "a", "x", "b"]),
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(h.cmd(c, &["EXISTS", "a", "b", "x"]), ":2\r\n");
    assert_eq!(net.open(), 1, "a target error keeps the connection");
    h.cmd(c, &["SET", "y", "1"]);
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", "6379", "y", "0", "1000"]), "+OK\r\n");
    assert_eq!(show(&net.sent.borrow()).matches("SELECT").count(), 2);
}

/// At most 64 connections are cached: a random one makes room.
#[test]
fn at_most_64_connections_are_cached() {
    let (mut h, net) = linked(false);
    let c = h.client();
    for port in 1000..1070 {
        h.cmd(c, &["SET", "k", "v"]);
        let port = port.to_string();
        assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", &port, "k", "0", "1000", "REPLACE"]), "+OK\r\n");
    }
    assert_eq!((net.connects.get(), net.open()), (70, 64));
    assert_eq!(cached_sockets(&mut h, c), "migrate_cached_sockets:64");
}

/// As in Redis, whose blocking connect reports only an unusable address: a
/// refused connection fails when the request is written (retried once), and
/// the port is read with atoi.
#[test]
fn a_refused_connection_is_a_write_error() {
    let (mut h, net) = linked(false);
    let c = h.client();
    h.cmd(c, &["SET", "k", "v"]);
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "1", "k", "0", "100"]),
        "-IOERR error or timeout writing to target instance\r\n"
    );
    assert_eq!((net.connects.get(), net.open()), (2, 0));
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "-1", "k", "0", "100"]),
        "-IOERR error or timeout connecting to the client\r\n"
    );
    assert_eq!(h.cmd(c, &["MIGRATE", "10.0.0.2", " 6379x", "k", "0", "100", "COPY"]), "+OK\r\n");
    // 65537 is port 1 to the resolver.
    assert_eq!(
        h.cmd(c, &["MIGRATE", "10.0.0.2", "65537", "k", "0", "100"]),
        "-IOERR error or timeout writing to target instance\r\n"
    );
    assert_eq!(cached_sockets(&mut h, c), "migrate_cached_sockets:1");
}
