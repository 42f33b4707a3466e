//! I/O errors surface as errors, leave the state consistent, and can be retried.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::{IoError, OpenErrorKind, ReplayError, StoreError};

fn with_records(n: usize) -> (Store<crate::sim::SimDisk>, Vec<Vec<u8>>) {
    let mut s = fresh(SMALL);
    let recs: Vec<_> = (0..n).map(|i| payload(i, 300)).collect();
    for r in &recs {
        s.append(r).unwrap();
    }
    s.commit(true).unwrap();
    (s, recs)
}

#[test]
fn commit_write_and_flush_failures_are_retried() {
    let (mut s, mut recs) = with_records(3);
    for (i, fail) in [(10, "write"), (11, "flush"), (12, "write"), (13, "flush")] {
        let r = payload(i, 700);
        s.append(&r).unwrap();
        recs.push(r);
        if fail == "write" {
            s.device().fail_write_after(0);
        } else {
            s.device().fail_flush_after(0);
        }
        assert_eq!(s.commit(true), Err(StoreError::Io(IoError::Device)));
        if fail == "write" {
            assert_eq!(s.buffered_bytes(), 740, "still buffered");
        }
        s.commit(true).unwrap();
        assert_eq!(s.buffered_bytes(), 0);
    }
    // Durable: everything survives any cut.
    let mut s = Store::open(s.into_device().power_cut(5)).unwrap();
    assert_eq!(replayed(&mut s).0, recs);
}

#[test]
fn a_full_device_fails_commits_until_it_has_room() {
    let (mut s, mut recs) = with_records(2);
    s.device().set_full(true);
    s.append(b"while full").unwrap();
    recs.push(b"while full".to_vec());
    let err = s.commit(true).unwrap_err();
    assert_eq!(err, StoreError::Io(IoError::NoSpace));
    assert!(format!("{err}").contains("out of space"));
    assert_eq!(s.begin_snapshot(true), Err(StoreError::Io(IoError::NoSpace)));
    assert!(!s.snapshot_in_progress());
    s.device().set_full(false);
    s.commit(true).unwrap();
    let mut s = reopen(s);
    assert_eq!(replayed(&mut s).0, recs);
}

#[test]
fn snapshot_write_failures_abandon_the_snapshot() {
    let (mut s, recs) = with_records(2);
    s.begin_snapshot(false).unwrap();
    s.device().fail_write_after(0);
    assert_eq!(s.write_snapshot(&vec![1; 200_000]), Err(StoreError::Io(IoError::Device)));
    assert!(!s.snapshot_in_progress());
    // Failing the data flush in finish.
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(b"tiny").unwrap();
    s.device().fail_flush_after(0);
    assert!(s.finish_snapshot().is_err());
    assert!(!s.snapshot_in_progress());
    assert_eq!(s.info().generation, 1);
    let mut s = Store::open(s.into_device().power_cut(1)).unwrap();
    s.verify_snapshot().unwrap();
    assert_eq!(s.snapshot_len(), 0);
    assert_eq!(replayed(&mut s).0, recs);
}

/// A superblock write fails but lands: the other copy names the new
/// snapshot's slot. The next snapshot goes to that same slot, so the store
/// must first write a superblock that names the active one again.
#[test]
fn failed_superblock_write_is_superseded_before_its_slot_is_reused() {
    let (mut s, recs) = with_records(2);
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(b"first").unwrap();
    s.finish_snapshot().unwrap();
    s.append(b"after first").unwrap();
    s.commit(true).unwrap();
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(&vec![2; 100_000]).unwrap();
    s.device().set_failed_write_landing(100);
    s.device().fail_write_after(1); // the rest of the data goes, the superblock fails
    assert!(s.finish_snapshot().is_err());
    assert_eq!(s.snapshot_len(), 5);
    // Either snapshot may be found now.
    let mut maybe = Store::open(s.device().clone().power_cut(2)).unwrap();
    maybe.verify_snapshot().unwrap();
    assert_eq!(maybe.snapshot_len(), 100_000, "the failed write landed");
    assert!(replayed(&mut maybe).0.is_empty(), "\"after first\" is in the snapshot");
    // The next snapshot overwrites that slot; a cut in the middle must find
    // the snapshot that is active.
    let generation = s.info().generation;
    s.begin_snapshot(false).unwrap();
    assert_eq!(s.info().generation, generation + 1, "a superblock naming the active snapshot went first");
    s.write_snapshot(&vec![3; 300_000]).unwrap();
    for seed in 0..20 {
        let mut after = Store::open(s.device().clone().power_cut(seed)).unwrap();
        after.verify_snapshot().unwrap();
        assert_eq!(snapshot_bytes(&mut after), b"first");
        assert_eq!(replayed(&mut after).0, [b"after first".to_vec()]);
    }
    s.finish_snapshot().unwrap();
    let mut s = Store::open(s.into_device().power_cut(3)).unwrap();
    s.verify_snapshot().unwrap();
    assert_eq!(s.snapshot_len(), 300_000);
    assert!(replayed(&mut s).0.is_empty());
    let _ = recs;
}

#[test]
fn open_fails_cleanly_when_the_epoch_cannot_be_reserved() {
    let (s, recs) = with_records(2);
    let mut d = s.into_device();
    d.fail_write_after(0);
    let err = Store::open(d).err().unwrap();
    assert_eq!(err.kind, OpenErrorKind::Io(IoError::Device));
    let mut d = err.device;
    d.fail_flush_after(0);
    let err = Store::open(d).err().unwrap();
    assert_eq!(err.kind, OpenErrorKind::Io(IoError::Device));
    let mut s = Store::open(err.device.power_cut(4)).unwrap();
    assert_eq!(replayed(&mut s).0, recs);
}

#[test]
fn replay_errors() {
    let (mut s, _) = with_records(5);
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(b"state").unwrap();
    s.finish_snapshot().unwrap();
    for i in 0..5 {
        s.append(&payload(i, 300)).unwrap();
    }
    s.commit(true).unwrap();
    let mut s = reopen(s);
    s.device().fail_read_after(0);
    let err = s.replay(|_| Ok::<_, ()>(())).unwrap_err();
    assert_eq!(err, ReplayError::Store(StoreError::Io(IoError::Device)));
    let mut seen = 0;
    let err = s
        .replay(|r| {
            seen += 1;
            if r.starts_with(b"record 2:") { Err("bad command") } else { Ok(()) }
        })
        .unwrap_err();
    assert_eq!(err, ReplayError::App("bad command"));
    assert_eq!(format!("{err}"), "replaying the log: bad command");
    assert_eq!(seen, 3);
    // Reading the snapshot fails cleanly too.
    s.device().fail_read_after(0);
    assert_eq!(s.verify_snapshot(), Err(StoreError::Io(IoError::Device)));
}

#[test]
fn failed_new_chain_reservation_changes_nothing() {
    let (mut s, mut recs) = with_records(2);
    s.device().fail_flush_after(0);
    assert!(s.begin_snapshot(true).is_err());
    assert!(!s.snapshot_in_progress());
    s.append(b"more").unwrap();
    recs.push(b"more".to_vec());
    s.commit(true).unwrap();
    let mut s = Store::open(s.into_device().power_cut(8)).unwrap();
    assert_eq!(replayed(&mut s).0, recs);
}
