//! Point-in-time snapshots written in steps: whatever the dataset goes
//! through while the job runs, the file holds it exactly as it was at
//! `snapshot_begin`.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use super::rdb_util::*;
use crate::rdb::SnapshotStep;
use crate::util::Rng;
use crate::{ClientId, Config, EvictionPolicy};

/// Random commands over a small key space, so they collide: every data
/// type, TTLs, DEL/RENAME/MOVE/SWAPDB/COPY/SORT STORE/LMOVE/SMOVE,
/// *STORE commands, RESTORE, transactions.
struct Gen {
    rng: Rng,
}

impl Gen {
    fn n(&mut self, n: usize) -> usize {
        self.rng.below(n)
    }
    fn key(&mut self) -> String {
        format!("k{}", self.n(40))
    }
    fn db(&mut self) -> String {
        format!("{}", self.n(4))
    }
    fn member(&mut self) -> String {
        if self.n(3) == 0 { format!("{}", self.n(1000) as i64 - 500) } else { format!("m{}", self.n(40)) }
    }
    fn value(&mut self) -> String {
        match self.n(8) {
            0 => format!("{}", self.n(100_000)),
            1 => "v".repeat(self.n(300)),
            _ => format!("v{}", self.n(50)),
        }
    }
    fn score(&mut self) -> String {
        match self.n(10) {
            0 => "inf".into(),
            1 => "-inf".into(),
            _ => format!("{}.{}", self.n(100) as i64 - 50, self.n(10)),
        }
    }
    /// How many elements a command adds: mostly a few, sometimes past the
    /// compact encodings' thresholds.
    fn count(&mut self) -> usize {
        if self.n(30) == 0 { 520 + self.n(20) } else { 1 + self.n(6) }
    }
    fn cmd(&mut self) -> Vec<String> {
        let k = self.key();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
        let mut c: Vec<String> = match self.n(42) {
            0 => s(&["SET", &k, &self.value()]),
            1 => s(&["SET", &k, &self.value(), "PX", &format!("{}", 1 + self.n(400))]),
            2 => s(&["APPEND", &k, &self.value()]),
            3 => s(&["INCRBY", &k, &format!("{}", self.n(10))]),
            4 => s(&["SETRANGE", &k, &format!("{}", self.n(20)), "xyz"]),
            5 | 6 => s(&["DEL", &k, &self.key()]),
            7 => s(&["PEXPIRE", &k, &format!("{}", 1 + self.n(500))]),
            8 => s(&["EXPIRE", &k, &format!("{}", 100 + self.n(500))]),
            9 => s(&["PERSIST", &k]),
            10 => s(&["RENAME", &k, &self.key()]),
            11 => s(&["RENAMENX", &k, &self.key()]),
            12 => s(&["MOVE", &k, &self.db()]),
            13 => s(&["SWAPDB", &self.db(), &self.db()]),
            14 => s(&["COPY", &k, &self.key(), "DB", &self.db(), "REPLACE"]),
            15 => s(&["GETDEL", &k]),
            16 | 17 => {
                let mut v = s(&[if self.n(2) == 0 { "RPUSH" } else { "LPUSH" }, &k]);
                for _ in 0..self.count() {
                    v.push(self.value());
                }
                v
            }
            18 => s(&["LPOP", &k, &format!("{}", 1 + self.n(3))]),
            19 => s(&["LSET", &k, "0", &self.value()]),
            20 => s(&["LTRIM", &k, "1", "-2"]),
            21 => s(&["LMOVE", &k, &self.key(), "LEFT", "RIGHT"]),
            22 => s(&["LINSERT", &k, "BEFORE", "v1", &self.value()]),
            23 | 24 => {
                let mut v = s(&["SADD", &k]);
                for _ in 0..self.count() {
                    v.push(self.member());
                }
                v
            }
            25 => s(&["SREM", &k, &self.member(), &self.member()]),
            26 => s(&["SMOVE", &k, &self.key(), &self.member()]),
            27 => s(&["SPOP", &k]),
            28 => s(&["SUNIONSTORE", &k, &self.key(), &self.key()]),
            29 | 30 => {
                let mut v = s(&["HSET", &k]);
                for _ in 0..self.count() {
                    v.push(self.member());
                    v.push(self.value());
                }
                v
            }
            31 => s(&["HDEL", &k, &self.member()]),
            32 => s(&["HINCRBY", &k, &self.member(), "3"]),
            33 | 34 => {
                let mut v = s(&["ZADD", &k]);
                for _ in 0..self.count() {
                    v.push(self.score());
                    v.push(self.member());
                }
                v
            }
            35 => s(&["ZINCRBY", &k, "1.5", &self.member()]),
            36 => s(&["ZPOPMIN", &k]),
            37 => s(&["ZUNIONSTORE", &k, "2", &self.key(), &self.key()]),
            38 => s(&["SORT", &self.key(), "ALPHA", "STORE", &k]),
            39 => s(&["ZRANGESTORE", &k, &self.key(), "0", "-1"]),
            40 => s(&["SELECT", &self.db()]),
            _ => s(&["UNLINK", &k]),
        };
        if c.is_empty() {
            c.push("PING".into());
        }
        c
    }
}

fn run(h: &mut H, c: ClientId, cmd: &[String]) {
    let a: Vec<&str> = cmd.iter().map(|x| x.as_str()).collect();
    h.cmd(c, &a);
}

/// Some random activity: commands (now and then a transaction, a DUMP and
/// RESTORE, a served BLPOP), time passing, ticks (active expiry, eviction).
fn churn(h: &mut H, g: &mut Gen, c: ClientId, waiter: ClientId, n: usize) {
    for _ in 0..n {
        match g.n(20) {
            0 => {
                run(h, c, &["MULTI".into()]);
                for _ in 0..1 + g.n(4) {
                    let cmd = g.cmd();
                    if cmd[0] != "SELECT" {
                        run(h, c, &cmd);
                    }
                }
                run(h, c, &["EXEC".into()]);
            }
            1 => {
                let (k, dst) = (g.key(), g.key());
                let dump = h.raw(c, &enc(&[b"DUMP", k.as_bytes()]));
                if dump.starts_with(b"$") && !dump.starts_with(b"$-1") {
                    let at = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
                    let payload = &dump[at..dump.len() - 2];
                    h.raw(c, &enc(&[b"RESTORE", dst.as_bytes(), b"0", payload, b"REPLACE"]));
                }
            }
            2 => {
                // A blocked client served by a later push.
                let k = g.key();
                h.cmd(waiter, &["BLPOP", &k, "0"]);
            }
            3 => h.advance(g.n(60) as u64),
            4 => h.tick(),
            _ => {
                let cmd = g.cmd();
                run(h, c, &cmd);
            }
        }
        h.take(waiter);
    }
}

/// Fills a server with random data, begins a snapshot, and keeps changing
/// the data between small snapshot steps; the file must load back into
/// exactly the dataset at the snapshot's start.
/// Returns the most copy-on-write output seen pending, and the keys
/// evicted and expired.
fn check_point_in_time(seed: u64, cfg: Config) -> (usize, u64, u64) {
    let mut h = H::with(cfg);
    let c = h.client();
    let waiter = h.client();
    let mut g = Gen { rng: Rng::new(seed) };
    churn(&mut h, &mut g, c, waiter, 400);
    let instant = h.now;
    let want = canon(&h.s, instant.unix_ms);
    h.s.snapshot_begin(instant).unwrap();
    assert!(h.s.snapshot_begin(instant).is_err(), "one at a time");
    let mut file = Vec::new();
    let mut steps = 0;
    let mut max_pending = 0;
    loop {
        let n = g.n(4);
        churn(&mut h, &mut g, c, waiter, n);
        max_pending = max_pending.max(h.s.snapshot_pending());
        let step = 1 + g.n(100);
        match h.s.snapshot_step(&mut file, step) {
            SnapshotStep::More => steps += 1,
            SnapshotStep::Done => break,
            SnapshotStep::Aborted => std::panic!("seed {seed}: aborted"),
        }
        assert!(steps < 1_000_000);
    }
    assert!(!h.s.snapshot_running());
    let mut fresh = fresh_server();
    let stats = load(&mut fresh, &file, instant).unwrap_or_else(|e| std::panic!("seed {seed}: {e}"));
    let got = canon(&fresh, instant.unix_ms);
    if got != want {
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        let differ: Vec<_> = want.keys().filter(|k| got.get(*k).is_some_and(|v| Some(v) != want.get(*k))).collect();
        std::panic!("seed {seed}: missing {missing:?}, extra {extra:?}, different {differ:?}");
    }
    assert_eq!(stats.keys_loaded as usize, want.len());
    assert!(steps > 5, "seed {seed}: the job ran in {steps} steps only");
    (max_pending, h.s.stats().evicted_keys, h.s.stats().expired_keys)
}

#[test]
fn snapshot_is_point_in_time_under_random_writes() {
    let (mut cow, mut expired) = (0, 0);
    for seed in 0..24 {
        let (pending, _, exp) = check_point_in_time(seed, Config::default());
        cow += usize::from(pending > 0);
        expired += exp;
    }
    assert!(cow > 12, "copy-on-write happened in {cow} runs of 24");
    assert!(expired > 100, "{expired} keys expired");
}

/// The same with eviction: keys the walk has not reached are evicted
/// (they are written first).
#[test]
fn snapshot_is_point_in_time_under_eviction() {
    for (seed, policy) in
        [EvictionPolicy::AllKeysRandom, EvictionPolicy::AllKeysLru, EvictionPolicy::VolatileTtl].into_iter().enumerate()
    {
        let mut evicted = 0;
        for round in 0..4u64 {
            let mut cfg = Config::default();
            cfg.maxmemory = 140 * 1024;
            cfg.maxmemory_policy = policy;
            evicted += check_point_in_time(100 + seed as u64 * 10 + round, cfg).1;
        }
        assert!(evicted > 5, "{policy:?}: {evicted} keys evicted");
    }
}

/// Begins a snapshot and writes its header and a first small step.
fn begin(h: &mut H) -> Vec<u8> {
    h.s.snapshot_begin(h.now).unwrap();
    let mut file = Vec::new();
    assert_eq!(h.s.snapshot_step(&mut file, 1), SnapshotStep::More);
    file
}

fn finish(h: &mut H, mut file: Vec<u8>, step: usize) -> Vec<u8> {
    loop {
        match h.s.snapshot_step(&mut file, step) {
            SnapshotStep::More => {}
            SnapshotStep::Done => return file,
            SnapshotStep::Aborted => std::panic!("aborted"),
        }
    }
}

/// SWAPDB while the job runs: each database's state moves with its data,
/// and the file has the keys under the index they had at the instant.
#[test]
fn swapdb_carries_the_snapshot_state() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..50 {
        h.cmd(c, &["SET", &format!("a{i}"), "db0"]);
        h.cmd(c, &["SELECT", "1"]);
        h.cmd(c, &["SET", &format!("b{i}"), "db1"]);
        h.cmd(c, &["SELECT", "0"]);
    }
    let instant = h.now;
    let want = canon(&h.s, instant.unix_ms);
    let file = begin(&mut h);
    h.cmd(c, &["SWAPDB", "0", "1"]);
    // db 0 now holds the b keys: change some, add some.
    for i in 0..50 {
        h.cmd(c, &["SET", &format!("b{i}"), "changed"]);
        h.cmd(c, &["SET", &format!("n{i}"), "new"]);
        h.cmd(c, &["DEL", &format!("a{i}")]);
    }
    h.cmd(c, &["SWAPDB", "1", "2"]);
    let file = finish(&mut h, file, 16);
    let mut fresh = fresh_server();
    load(&mut fresh, &file, instant).unwrap();
    assert_eq!(canon(&fresh, instant.unix_ms), want);
}

/// FLUSHALL and FLUSHDB abort the job (as Redis kills its child); the app
/// learns it from the next step, and may begin another.
#[test]
fn flushes_abort_the_snapshot() {
    for flush in [&["FLUSHALL"][..], &["FLUSHDB"], &["FLUSHDB", "ASYNC"]] {
        let mut h = H::new();
        let c = h.client();
        h.cmd(c, &["SELECT", "5"]);
        h.cmd(c, &["SET", "a", "1"]);
        h.cmd(c, &["SELECT", "0"]);
        let mut file = begin(&mut h);
        assert!(h.s.snapshot_running());
        h.cmd(c, flush);
        assert!(!h.s.snapshot_running(), "{flush:?}");
        assert_eq!(h.s.snapshot_step(&mut file, 100), SnapshotStep::Aborted);
        assert_eq!(h.s.snapshot_step(&mut file, 100), SnapshotStep::Aborted);
        // A new one starts from the flushed data.
        let want = canon(&h.s, h.now.unix_ms);
        let file = save(&mut h.s, h.now, 7);
        let mut fresh = fresh_server();
        load(&mut fresh, &file, h.now).unwrap();
        assert_eq!(canon(&fresh, h.now.unix_ms), want);
    }
    // snapshot_abort from the app.
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["SET", "a", "1"]);
    let mut file = begin(&mut h);
    h.s.snapshot_abort();
    assert!(!h.s.snapshot_running());
    assert_eq!(h.s.snapshot_step(&mut file, 100), SnapshotStep::Aborted);
    assert_eq!(h.s.snapshot_pending(), 0);
}

/// Copy-on-write output is emitted at the start of the next steps, before
/// the walk goes on, so it is bounded by what changed between steps.
#[test]
fn pending_output_goes_first() {
    let mut h = H::new();
    let c = h.client();
    let v = "x".repeat(1000);
    for i in 0..100 {
        h.cmd(c, &["SET", &format!("k{i}"), &v]);
    }
    let instant = h.now;
    let want = canon(&h.s, instant.unix_ms);
    let mut file = begin(&mut h);
    for i in 0..100 {
        h.cmd(c, &["APPEND", &format!("k{i}"), "y"]);
    }
    // Each key was copied once (the walk had not reached it), before the
    // change: about 100 records of 1000 bytes.
    let pending = h.s.snapshot_pending();
    assert!((100 * 1000..100 * 1100).contains(&pending), "{pending}");
    for i in 0..100 {
        h.cmd(c, &["APPEND", &format!("k{i}"), "z"]);
    }
    assert_eq!(h.s.snapshot_pending(), pending, "copied once");
    let header = file.len();
    loop {
        let before = file.len();
        let step = h.s.snapshot_step(&mut file, 4096);
        assert!(file.len() - before <= 4096 + 16, "{}", file.len() - before);
        if h.s.snapshot_pending() > 0 {
            assert_eq!(step, SnapshotStep::More);
        }
        if step == SnapshotStep::Done {
            break;
        }
    }
    // The walk found every key copied already: after the copies, only
    // SELECTDB 0 + RESIZEDB 100 0 (6 bytes) and the EOF + CRC64 trailer.
    assert_eq!(file.len(), header + 6 + pending + 9);
    let mut fresh = fresh_server();
    load(&mut fresh, &file, instant).unwrap();
    assert_eq!(canon(&fresh, instant.unix_ms), want);
}

/// Keys deleted then created again (reusing their slab slots), renamed
/// over, or expired at the instant: the file has exactly the instant's.
#[test]
fn reused_slots_and_expired_keys() {
    let mut h = H::new();
    let c = h.client();
    for i in 0..40 {
        h.cmd(c, &["SET", &format!("k{i}"), "old"]);
    }
    h.cmd(c, &["SET", "gone", "x", "PX", "10"]);
    h.cmd(c, &["SET", "stays", "x", "PX", "1000"]);
    h.advance(10);
    let instant = h.now;
    let want = canon(&h.s, instant.unix_ms);
    assert!(!want.contains_key(&(0, b"gone".to_vec())) && want.contains_key(&(0, b"stays".to_vec())));
    let file = begin(&mut h);
    for i in (0..40).rev() {
        h.cmd(c, &["DEL", &format!("k{i}")]);
        h.cmd(c, &["SET", &format!("new{i}"), "new"]);
    }
    h.cmd(c, &["RENAME", "new3", "k7"]);
    h.advance(5000);
    h.tick();
    h.cmd(c, &["SET", "k1", "again"]);
    let file = finish(&mut h, file, 10);
    let mut fresh = fresh_server();
    let stats = load(&mut fresh, &file, instant).unwrap();
    assert_eq!(canon(&fresh, instant.unix_ms), want);
    assert_eq!(stats.keys_loaded, 41);
}
