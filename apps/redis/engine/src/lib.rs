//! Redis-compatible protocol and keyspace engine, sans-IO: the embedding
//! application feeds socket bytes in with [`Server::feed`] (while
//! [`Server::wants_input`]), writes [`Server::output`] back, and calls
//! [`Server::tick`] periodically.
//!
//! Client memory is bounded: `client-query-buffer-limit` covers the request
//! being assembled, replies stop at the client's output cap, all clients
//! together are held under `maxmemory-clients` by eviction, and a refused
//! allocation on a client's path closes that client.
//!
//! Persistence, still without I/O: [`Server::snapshot_begin`] and
//! [`Server::snapshot_step`] write a point-in-time RDB file (Redis 7.0's
//! format) in steps between event-loop turns, and [`Server::load_rdb`]
//! reads one from an [`rdb::Source`] (see [`rdb`]).
//!
//! Plain `no_std` + `alloc`; no I/O, clocks or OS: time comes in as [`Time`].
//!
//! ```
//! use redis_engine::{Config, Server, Time};
//!
//! let mut config = Config::from_args(&["--port", "6379", "--maxmemory", "64mb"]).unwrap();
//! // What the heap allows: maxmemory and maxmemory-clients can never be
//! // unlimited or set above these; each connection also costs the app
//! // (socket buffers) this much, counted in client memory.
//! config.maxmemory_ceiling = 80 << 20;
//! config.maxmemory_clients_ceiling = 32 << 20;
//! config.client_overhead = 8 << 10;
//! let mut server = Server::new(config, 0x1234);
//! let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 0 };
//! // Protected mode (on by default, as in Redis) refuses non-loopback
//! // peers unless a password is set or `--protected-mode no` is given.
//! assert!(server.connect("10.0.0.2:40000", now).is_err());
//! let client = server.connect("127.0.0.1:40000", now).unwrap();
//! // The app reads a socket only while the engine wants its input (so a
//! // client that is blocked or not reading its replies is held back by TCP).
//! assert!(server.wants_input(client));
//! server.feed(client, b"SET greeting hello\r\nGET greeting\r\n", now);
//! // The app writes whatever is pending for each client with output...
//! let ready: Vec<_> = server.clients_with_output().collect();
//! assert_eq!(ready, vec![client]);
//! let out = server.output(client).to_vec();
//! assert_eq!(out, b"+OK\r\n$5\r\nhello\r\n");
//! // ...reports how much the socket accepted...
//! server.consume_output(client, out.len());
//! // ...closes when asked to (after QUIT, protocol errors, CLIENT KILL)...
//! assert!(!server.should_close(client));
//! // ...and calls tick() about ten times a second (sleeping until
//! // next_deadline() at the latest while clients are blocked).
//! server.tick(Time { unix_ms: now.unix_ms + 100, mono_ms: 100 });
//! server.disconnect(client);
//! ```
#![no_std]
#![forbid(unsafe_code)]
extern crate alloc;

#[cfg(test)]
extern crate std;

pub mod blocking;
pub mod bytemap;
pub mod client;
pub mod cmd;
pub mod commands;
pub mod config;
pub mod db;
pub mod fuzzing;
pub mod geohash;
pub mod glob;
pub mod idqueue;
pub mod introspect;
pub mod keyspecs;
pub mod latency;
pub mod lfu;
pub mod longdouble;
pub mod mem;
pub mod notify;
pub mod persist;
pub mod pubsub;
pub mod rdb;
pub mod replica;
pub mod resp;
pub mod server;
pub mod slowlog;
pub mod stat_config;
pub mod tracking;
pub mod types;
pub mod util;

#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::vec::Vec;

pub use config::{Config, EvictionPolicy, Fsync, MemoryLimit, OutputLimit};
pub use server::Server;

/// A point in time: wall clock for EXPIREAT/TIME, monotonic for timeouts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    pub unix_ms: u64,
    pub mono_ms: u64,
}

impl Time {
    pub fn new(unix_ms: u64, mono_ms: u64) -> Time {
        Time { unix_ms, mono_ms }
    }
    /// The same instant plus `ms` on both clocks.
    pub fn plus_ms(self, ms: u64) -> Time {
        Time { unix_ms: self.unix_ms.saturating_add(ms), mono_ms: self.mono_ms.saturating_add(ms) }
    }
}

/// Identifies a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// A refused connection: send `reply`, then close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub reply: Vec<u8>,
}

/// Hook that receives every executed write command as it is propagated
/// (the form the log on a data disk and the replicas get: relative TTLs
/// made absolute, expirations and evictions as DEL, transactions in
/// MULTI/EXEC).
pub trait CommandObserver {
    fn on_write(&mut self, db: usize, argv: &[&[u8]]);
}

/// Outgoing connections, which the app provides for MIGRATE: connect to
/// `host:port` within `timeout_ms` (an app without name resolution takes
/// numeric addresses only). The server waits meanwhile, as Redis's MIGRATE
/// blocks it. The engine keeps the links it gets open between calls and
/// drops (closes) them as Redis closes its cached MIGRATE sockets.
pub trait Outbound {
    fn connect(&mut self, host: &[u8], port: u16, timeout_ms: u64) -> Result<Box<dyn OutboundLink>, ConnectError>;
}

/// Why an [`Outbound`] connection was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The address cannot be used at all (not resolvable, not numeric where
    /// names are not resolved, no route): Redis's connect call fails at
    /// once, and MIGRATE answers "error or timeout connecting".
    BadAddress,
    /// Refused, or not established within the timeout. Redis's blocking
    /// connect does not report these: writing the request fails instead
    /// (retried once on a new connection unless it timed out).
    Failed(LinkError),
}

/// One outgoing connection; dropping it closes it. Each call may take up
/// to `timeout_ms` (Redis's `connSyncWrite` and `connSyncReadLine`).
pub trait OutboundLink {
    /// Sends all of `data`.
    fn send(&mut self, data: &[u8], timeout_ms: u64) -> Result<(), LinkError>;
    /// Reads one line, up to and without its `\n` (and a `\r` before it).
    fn read_line(&mut self, timeout_ms: u64) -> Result<Vec<u8>, LinkError>;
}

/// Takes the first complete line off `pending` (bytes an [`OutboundLink`]
/// has read), without its `\n` and a `\r` before it; `None` until one has
/// arrived.
pub fn split_line(pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let end = pending.iter().position(|&b| b == b'\n')?;
    let mut line: Vec<u8> = pending.drain(..=end).collect();
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(line)
}

/// Why an [`OutboundLink`] call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The timeout passed first.
    TimedOut,
    /// The connection failed or was closed by the peer.
    Closed,
}
