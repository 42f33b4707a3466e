//! Power-cut property tests: seeded random runs of appends, commits,
//! snapshots, reopens and injected failures, with the power cut at random
//! points (between operations, or at the moment a chosen write or flush
//! fails: inside commits, snapshot writes, superblock flips and open), each
//! cut followed by recovery and a check against a model of what was
//! acknowledged.
//!
//! After each recovery:
//! * the snapshot verifies and is exactly one that `finish_snapshot`
//!   completed last, or one whose `finish_snapshot` failed since then (its
//!   superblock write may have landed);
//! * the records replayed are exactly the ones appended after that snapshot
//!   began, in order, each once, and never past a `new_chain` boundary;
//! * every record acknowledged (by `commit(true)` returning Ok) that belongs
//!   after that snapshot is among them.
//!
//! The model then forgets what was lost, so the next boot's records land
//! over the lost ones' bytes: the stale-record trap, cut after cut.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::sim::{Rng, SimDisk};
use crate::{StopReason, StoreError};

/// A snapshot the model knows: content is derived from `id`.
#[derive(Clone, Copy, Debug)]
struct Snap {
    id: u64,
    /// It holds the first `prefix` records of the history.
    prefix: usize,
    len: usize,
    /// A `new_chain` snapshot began when the history was this long: the
    /// chain after this snapshot ends there.
    boundary: Option<usize>,
}

fn record_bytes(id: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len.max(8)];
    v[..8].copy_from_slice(&id.to_le_bytes());
    Rng::new(id).fill(&mut v[8..]);
    v
}

fn snapshot_content(s: &Snap) -> Vec<u8> {
    let mut v = vec![0u8; s.len];
    if s.len > 0 {
        v[..8].copy_from_slice(&s.id.to_le_bytes());
        v[8..16].copy_from_slice(&(s.prefix as u64).to_le_bytes());
        Rng::new(!s.id).fill(&mut v[16..]);
    }
    v
}

/// How often the interesting things happened, so that a generator that
/// stopped reaching them fails the test.
#[derive(Default, Debug)]
pub struct Coverage {
    cases: u64,
    cuts: u64,
    cuts_at_failed_io: u64,
    cuts_mid_snapshot: u64,
    open_failures: u64,
    failed_finish_recovered: u64,
    recoveries_losing_unacked: u64,
    stale_stops: u64,
    torn_stops: u64,
    wrapping_commits: u64,
    log_full: u64,
    new_chains: u64,
}

#[derive(Clone, Copy)]
enum Sizes {
    Fixed(usize),
    Mixed,
    Big,
}

struct Case {
    seed: u64,
    rng: Rng,
    store: Option<Store<SimDisk>>,
    /// Every record appended and not lost.
    history: Vec<Vec<u8>>,
    /// Records acknowledged durable: a prefix of the history.
    acked: usize,
    /// Records written (commit returned Ok): a prefix of the history.
    committed: usize,
    completed: Snap,
    /// Snapshots whose finish failed since `completed`.
    maybe: Vec<Snap>,
    /// The snapshot being written, its content and how much of it went out.
    writing: Option<(Snap, Vec<u8>, usize)>,
    sizes: Sizes,
    next_id: u64,
    cov: Coverage,
}

impl Case {
    fn new(seed: u64) -> Case {
        let mut rng = Rng::new(seed);
        let sectors = SMALL + [0, 0, 8, 2048, 1000][rng.below(5) as usize];
        let store = Store::format(SimDisk::new(sectors), T0 + seed).unwrap();
        // Equal sizes put new records exactly over lost ones; big ones fill the log.
        let sizes = match rng.below(100) {
            0..25 => Sizes::Fixed(8 + rng.below(600) as usize),
            25..80 => Sizes::Mixed,
            _ => Sizes::Big,
        };
        Case {
            seed,
            rng,
            store: Some(store),
            history: Vec::new(),
            acked: 0,
            committed: 0,
            completed: Snap { id: 0, prefix: 0, len: 0, boundary: None },
            maybe: Vec::new(),
            writing: None,
            sizes,
            next_id: 1,
            cov: Coverage::default(),
        }
    }

    fn s(&mut self) -> &mut Store<SimDisk> {
        self.store.as_mut().unwrap()
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn record_len(&mut self) -> usize {
        match (self.sizes, self.rng.below(100)) {
            (Sizes::Fixed(len), _) => len,
            (Sizes::Mixed, 0..70) => 8 + self.rng.below(200) as usize,
            (Sizes::Mixed, 70..95) => 200 + self.rng.below(4000) as usize,
            (Sizes::Mixed, _) => 4000 + self.rng.below(70_000) as usize,
            (Sizes::Big, _) => 2000 + self.rng.below(40_000) as usize,
        }
    }

    fn append(&mut self, len: usize) -> Result<(), StoreError> {
        let id = self.id();
        let record = record_bytes(id, len);
        let res = self.s().append(&record);
        match res {
            Ok(()) => self.history.push(record),
            Err(StoreError::LogFull) => self.cov.log_full += 1,
            Err(_) => {}
        }
        res
    }

    fn commit(&mut self, durable: bool) -> Result<(), StoreError> {
        let before = self.s().device().stats().writes;
        self.s().commit(durable)?;
        self.cov.wrapping_commits += (self.s().device().stats().writes - before == 2) as u64;
        self.committed = self.history.len();
        if durable {
            self.acked = self.history.len();
        }
        Ok(())
    }

    fn begin(&mut self, new_chain: bool) -> Result<(), StoreError> {
        self.s().begin_snapshot(new_chain)?;
        let big = self.rng.percent(5);
        let len = 16 + self.rng.below(if big { 400_000 } else { 64_000 }) as usize;
        let snap = Snap { id: self.id(), prefix: self.history.len(), len, boundary: None };
        if new_chain {
            self.cov.new_chains += 1;
            let at = self.history.len();
            for s in core::iter::once(&mut self.completed).chain(self.maybe.iter_mut()) {
                s.boundary = Some(s.boundary.map_or(at, |b| b.min(at)));
            }
        }
        self.writing = Some((snap, snapshot_content(&snap), 0));
        Ok(())
    }

    /// Writes the next piece of the snapshot, or all the rest.
    fn write_snapshot(&mut self, all: bool) -> Result<(), StoreError> {
        let Some((_, content, done)) = self.writing.as_mut() else { return Ok(()) };
        let left = content.len() - *done;
        let n = if all { left } else { (1 + self.rng.below(100_000) as usize).min(left) };
        let piece = content[*done..*done + n].to_vec();
        *done += n;
        let res = self.s().write_snapshot(&piece);
        if res.is_err() {
            self.writing = None;
        }
        res
    }

    fn finish(&mut self) -> Result<(), StoreError> {
        self.write_snapshot(true)?;
        let Some((snap, ..)) = self.writing.take() else { return Ok(()) };
        match self.s().finish_snapshot() {
            Ok(()) => {
                self.completed = snap;
                self.maybe.clear();
                Ok(())
            }
            Err(e) => {
                self.maybe.push(snap);
                Err(e)
            }
        }
    }

    /// One random operation; Err only for I/O errors.
    fn step(&mut self) -> Result<(), StoreError> {
        let res = match self.rng.below(100) {
            0..40 => {
                let n = 1 + self.rng.below(5);
                for _ in 0..n {
                    let len = self.record_len();
                    if self.append(len) == Err(StoreError::LogFull) {
                        if self.writing.is_none() {
                            self.begin(false)?;
                        }
                        break;
                    }
                }
                Ok(())
            }
            40..58 => self.commit(true),
            58..68 => self.commit(false),
            68..74 if self.writing.is_none() => {
                let new_chain = self.rng.percent(15);
                self.begin(new_chain)
            }
            74..86 => self.write_snapshot(false),
            86..93 if self.writing.is_some() => self.finish(),
            93 => {
                self.s().abort_snapshot();
                self.writing = None;
                Ok(())
            }
            _ => Ok(()),
        };
        match res {
            Err(StoreError::Io(_)) | Ok(()) => res,
            Err(StoreError::SnapshotFull) => unreachable!("snapshots fit"),
            Err(e) => panic!("seed {}: unexpected {e:?}", self.seed),
        }
    }

    /// Loses power now, boots, and checks what came back.
    fn cut(&mut self) {
        self.cov.cuts += 1;
        self.cov.cuts_mid_snapshot += self.writing.is_some() as u64;
        let seed = self.rng.next_u64();
        let mut disk = self.store.take().unwrap().into_device().power_cut(seed);
        // Sometimes open itself fails (at its superblock write or flush) and the power goes again.
        while self.rng.percent(10) {
            if self.rng.percent(50) {
                disk.fail_write_after(0);
            } else {
                disk.fail_flush_after(0);
            }
            match Store::open(disk) {
                Ok(_) => panic!("seed {}: open ignored a failed superblock write", self.seed),
                Err(e) => disk = e.device.power_cut(self.rng.next_u64()),
            }
            self.cov.open_failures += 1;
        }
        self.recover(disk, self.acked);
    }

    /// Opens `disk` and checks it against the model; `must` records of the
    /// history must be there (unless past the snapshot's chain).
    fn recover(&mut self, disk: SimDisk, must: usize) {
        let seed = self.seed;
        let mut s = Store::open(disk).unwrap_or_else(|e| panic!("seed {seed}: open: {e}"));
        s.verify_snapshot().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let bytes = snapshot_bytes(&mut s);
        let id = if bytes.is_empty() { 0 } else { u64::from_le_bytes(bytes[..8].try_into().unwrap()) };
        let snap = *core::iter::once(&self.completed)
            .chain(&self.maybe)
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("seed {seed}: snapshot {id} is not one that was finished"));
        assert!(bytes == snapshot_content(&snap), "seed {seed}: snapshot {id} damaged");
        if snap.id != self.completed.id {
            self.cov.failed_finish_recovered += 1;
        }
        let history = &self.history;
        let mut k = snap.prefix;
        let report = s
            .replay(|r| {
                if history.get(k).is_none_or(|h| h != r) {
                    return Err(k);
                }
                k += 1;
                Ok(())
            })
            .unwrap_or_else(|e| panic!("seed {seed}: record {e:?} of the history replayed wrongly"));
        let limit = snap.boundary.unwrap_or(history.len());
        assert!(k <= limit, "seed {seed}: replayed past a new chain's start ({k} > {limit})");
        let must = must.min(limit);
        assert!(
            k >= must || snap.prefix >= must,
            "seed {seed}: {must} records were acknowledged but only {k} came back (snapshot {id} holds {}; {report:?})",
            snap.prefix
        );
        match report.stop {
            StopReason::Stale { .. } => self.cov.stale_stops += 1,
            StopReason::Torn => self.cov.torn_stops += 1,
            _ => {}
        }
        if k < self.history.len() && k >= must {
            self.cov.recoveries_losing_unacked += 1;
        }
        self.history.truncate(k);
        self.acked = k;
        self.committed = k;
        self.completed = Snap { boundary: None, ..snap };
        self.maybe.clear();
        self.writing = None;
        self.store = Some(s);
    }

    fn run(mut self, steps: u64) -> Coverage {
        // Start somewhere in the ring, so that wrapping is common.
        if self.rng.percent(60) {
            let room = self.s().log_capacity() - 100_000;
            let target = self.rng.below(room);
            while self.s().log_bytes() < target {
                self.append(50_000).unwrap();
            }
            self.commit(false).unwrap();
            self.begin(false).unwrap();
            self.finish().unwrap();
        }
        // A failure armed: requests left before it fires are counted by the
        // disk; here, the operations left to wait for it, and whether the
        // power goes when it fires (or the run carries on and retries).
        let mut armed: Option<(u64, bool)> = None;
        for _ in 0..steps {
            if armed.is_none() {
                match self.rng.below(100) {
                    0..3 => self.cut(),
                    3..5 => {
                        // Clean shutdown and reopen: everything written is there.
                        let disk = self.store.take().unwrap().into_device();
                        self.recover(disk, self.committed);
                    }
                    5..9 => {
                        let n = self.rng.below(4);
                        if self.rng.percent(60) {
                            self.s().device().fail_write_after(n);
                        } else {
                            self.s().device().fail_flush_after(n);
                        }
                        armed = Some((1 + self.rng.below(20), self.rng.percent(75)));
                    }
                    _ => {}
                }
            }
            let res = self.step();
            if let Some((left, cut)) = armed {
                if res.is_err() {
                    armed = None;
                    if cut {
                        self.cov.cuts_at_failed_io += 1;
                        self.cut();
                    }
                } else if left == 1 {
                    armed = None;
                    self.s().device().clear_failures();
                } else {
                    armed = Some((left - 1, cut));
                }
            }
        }
        self.cut();
        self.cov.cases = 1;
        self.cov
    }
}

fn run_seeds(seeds: core::ops::Range<u64>, steps: u64) -> Coverage {
    let mut total = Coverage::default();
    for seed in seeds {
        let c = Case::new(seed).run(steps);
        total.cases += c.cases;
        total.cuts += c.cuts;
        total.cuts_at_failed_io += c.cuts_at_failed_io;
        total.cuts_mid_snapshot += c.cuts_mid_snapshot;
        total.open_failures += c.open_failures;
        total.failed_finish_recovered += c.failed_finish_recovered;
        total.recoveries_losing_unacked += c.recoveries_losing_unacked;
        total.stale_stops += c.stale_stops;
        total.torn_stops += c.torn_stops;
        total.wrapping_commits += c.wrapping_commits;
        total.log_full += c.log_full;
        total.new_chains += c.new_chains;
    }
    std::println!("{total:?}");
    total
}

fn check_coverage(c: &Coverage) {
    assert!(c.cuts_at_failed_io > c.cases / 4, "{c:?}");
    assert!(c.cuts_mid_snapshot > c.cases / 10, "{c:?}");
    assert!(c.open_failures > 0, "{c:?}");
    assert!(c.failed_finish_recovered > 0, "{c:?}");
    assert!(c.recoveries_losing_unacked > c.cases / 10, "{c:?}");
    assert!(c.stale_stops > 0 && c.torn_stops > 0, "{c:?}");
    assert!(c.wrapping_commits > c.cases / 4, "{c:?}");
    assert!(c.log_full > 0 && c.new_chains > c.cases / 4, "{c:?}");
}

// Four tests, so that the cases spread over the cores.

#[test]
fn power_cuts_0() {
    check_coverage(&run_seeds(0..500, 300));
}

#[test]
fn power_cuts_1() {
    check_coverage(&run_seeds(500..1000, 300));
}

#[test]
fn power_cuts_2() {
    check_coverage(&run_seeds(1000..1500, 300));
}

#[test]
fn power_cuts_3() {
    check_coverage(&run_seeds(1500..2000, 300));
}
