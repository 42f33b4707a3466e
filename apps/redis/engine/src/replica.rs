//! `SYNC`: a connection that asks for the replication stream gets the
//! dataset as an RDB payload (`$<len>\r\n` then the file, as Redis sends
//! it), then every write in the form Redis propagates it (the same commands
//! the log gets: absolute TTLs, expirations as DEL, transactions in
//! MULTI/EXEC), each database change preceded by a SELECT. This is what
//! Redis's own test suite reads to check propagation, and what a replica
//! would load; the appliance has no replication beyond it (no PSYNC, no
//! backlog, no REPLCONF ACKs).

use alloc::vec::Vec;

use crate::persist::aof::encode;
use crate::rdb::SnapshotStep;
use crate::server::Server;
use crate::util::i64_bytes;

/// A connection receiving the replication stream.
pub(crate) struct Replica {
    pub(crate) cid: u64,
    /// The database the stream is in (`None`: the next write is preceded
    /// by a SELECT).
    db: Option<usize>,
}

impl Server {
    /// The dataset as an RDB file, for a replica's full synchronization.
    /// A background snapshot running is finished first.
    pub(crate) fn full_sync_payload(&mut self) -> Result<Vec<u8>, &'static str> {
        self.finish_background_snapshot();
        self.snapshot_begin(self.now).map_err(|_| "ERR a snapshot is already running")?;
        let mut rdb = Vec::new();
        loop {
            match self.snapshot_step(&mut rdb, 4 << 20) {
                SnapshotStep::More => {}
                SnapshotStep::Done => return Ok(rdb),
                SnapshotStep::Aborted => return Err("ERR the snapshot was aborted"),
            }
        }
    }

    /// Makes `cid` a replica: writes from now on go to it.
    pub(crate) fn add_replica(&mut self, cid: u64) {
        if !self.replicas.iter().any(|r| r.cid == cid) {
            self.replicas.push(Replica { cid, db: None });
        }
    }

    /// Whether the client sent SYNC (what it receives is the stream).
    pub fn is_replica(&self, id: crate::ClientId) -> bool {
        self.replicas.iter().any(|r| r.cid == id.0)
    }

    pub(crate) fn remove_replica(&mut self, cid: u64) {
        self.replicas.retain(|r| r.cid != cid);
    }

    /// Sends one propagated write to every replica.
    pub(crate) fn feed_replicas(&mut self, db: usize, argv: &[&[u8]]) {
        if self.replicas.is_empty() {
            return;
        }
        let mut targets = core::mem::take(&mut self.replicas);
        for r in targets.iter_mut() {
            let mut bytes = Vec::new();
            if r.db != Some(db) {
                encode(&mut bytes, &[b"SELECT", &i64_bytes(db as i64)]);
                r.db = Some(db);
            }
            encode(&mut bytes, argv);
            self.push_to(r.cid, |out| out.raw(&bytes));
        }
        self.replicas = targets;
    }
}
