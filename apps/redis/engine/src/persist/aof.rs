//! The log's records in Redis's AOF form, and replaying them.
//!
//! A record holds one event-loop turn's writes as RESP arrays, exactly as
//! Redis appends them to its AOF: commands in their deterministic form
//! (relative expiries made absolute, expirations and evictions as DEL),
//! transactions between MULTI and EXEC, and a `SELECT` whenever the
//! database differs from the previous command's. The first record after a
//! snapshot starts with a `SELECT`, so the records concatenated after a
//! snapshot form a valid Redis 7.0 incremental AOF file.
//!
//! Replay feeds the commands back through the engine in order. Like
//! Redis's loader with `aof-load-truncated yes`, a command cut short at
//! the very end is dropped, and a transaction left open at the end is
//! rolled back (its commands are never applied).

use alloc::vec::Vec;

use crate::Time;
use crate::resp::{ParseLimits, RequestParser, Step};
use crate::server::Server;
use crate::util::i64_bytes;

/// Appends `argv` as a RESP array.
pub fn encode(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.push(b'*');
    out.extend_from_slice(&i64_bytes(argv.len() as i64));
    out.extend_from_slice(b"\r\n");
    for arg in argv {
        out.push(b'$');
        out.extend_from_slice(&i64_bytes(arg.len() as i64));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// What replaying the log found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    pub records: u64,
    pub commands: u64,
    /// Commands of a transaction left open at the end (not applied).
    pub rolled_back: u64,
    /// Bytes of a command cut short at the end (ignored).
    pub truncated_bytes: u64,
}

/// Replays records into a server, carrying the database and any open
/// transaction from one record to the next.
pub struct Replayer {
    parser: RequestParser,
    /// Input of a command that continues in the next record.
    partial: Vec<u8>,
    db: usize,
    /// Commands of an open transaction (MULTI seen, EXEC not yet).
    multi: Option<Vec<Vec<Vec<u8>>>>,
    pub(crate) stats: ReplayStats,
    now: Time,
}

impl Replayer {
    pub fn new(now: Time) -> Replayer {
        Replayer {
            parser: RequestParser::new(),
            partial: Vec::new(),
            db: 0,
            multi: None,
            stats: ReplayStats::default(),
            now,
        }
    }

    /// Replays one record.
    pub fn feed(&mut self, server: &mut Server, record: &[u8]) -> Result<(), ReplayError> {
        self.stats.records += 1;
        let limits = ParseLimits {
            max_bulk_len: usize::MAX,
            authenticated: true,
            max_query: usize::MAX,
            input_buffered: false,
            mem_budget: usize::MAX,
        };
        let mut input = core::mem::take(&mut self.partial);
        input.extend_from_slice(record);
        let mut pos = 0;
        loop {
            let (used, step) = self.parser.parse(&input[pos..], &limits);
            pos += used;
            match step {
                Step::Command(argv) => self.command(server, argv)?,
                Step::NeedMore => break,
                Step::Error(_) | Step::Overflow => return Err(ReplayError::Malformed { record: self.stats.records }),
            }
        }
        // The parser keeps what it absorbed of an unfinished command; the
        // unparsed tail (a partial line) waits for the next record.
        self.partial = input[pos..].to_vec();
        Ok(())
    }

    fn command(&mut self, server: &mut Server, argv: Vec<Vec<u8>>) -> Result<(), ReplayError> {
        let Some(name) = argv.first() else { return Ok(()) };
        if name.eq_ignore_ascii_case(b"SELECT") {
            let db = argv.get(1).and_then(|a| crate::util::parse_i64(a)).and_then(|d| usize::try_from(d).ok());
            match db {
                Some(db) if db < server.dbs.len() => self.db = db,
                _ => return Err(ReplayError::BadDatabase { record: self.stats.records }),
            }
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"MULTI") {
            self.multi = Some(Vec::new());
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"EXEC") {
            if let Some(queued) = self.multi.take() {
                for argv in queued {
                    self.run(server, &argv);
                }
            }
            return Ok(());
        }
        match self.multi.as_mut() {
            Some(queued) => queued.push(argv),
            None => self.run(server, &argv),
        }
        Ok(())
    }

    fn run(&mut self, server: &mut Server, argv: &[Vec<u8>]) {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        server.replay(self.db, &refs, self.now);
        self.stats.commands += 1;
    }

    /// The end of the log: a transaction still open is rolled back, a
    /// command cut short is dropped.
    pub fn finish(mut self) -> ReplayStats {
        if let Some(queued) = self.multi.take() {
            self.stats.rolled_back = queued.len() as u64;
        }
        self.stats.truncated_bytes = (self.partial.len() + self.parser.pending_bytes()) as u64;
        self.stats
    }
}

/// A record the engine cannot replay: the log is damaged in a way its
/// checksums did not catch, or was not written by this engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    Malformed { record: u64 },
    BadDatabase { record: u64 },
}

impl core::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReplayError::Malformed { record } => write!(f, "log record {record} is not valid RESP"),
            ReplayError::BadDatabase { record } => {
                write!(f, "log record {record} selects a database that does not exist")
            }
        }
    }
}
