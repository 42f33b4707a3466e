//! The operations one at a time: round trips, the ring, the limits, info,
//! I/O patterns, and the stale-record traps built by hand.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::log::{HEADER_LEN, MARKER_LEN};
use crate::{BlockDevice, StopReason, StoreError};

#[test]
fn format_then_open_round_trip() {
    let mut s = fresh(SMALL);
    let info = s.info();
    assert_eq!(info.generation, 1);
    assert_eq!(info.created_unix_ms, T0);
    assert_eq!(info.sector_count, SMALL);
    assert_eq!((info.active_slot, info.snapshot_len, info.log_bytes), (0, 0, 0));
    assert_eq!((info.epoch, info.reserved_epoch, info.next_seq), (1, 1, 0));
    assert_eq!(info.log_capacity, (768 << 10) - 512);
    assert_eq!(info.snapshot_capacity, 1152 << 10);
    assert_ne!(info.disk_id, 0);
    s.verify_snapshot().unwrap();
    let (recs, report) = replayed(&mut s);
    assert!(recs.is_empty());
    assert_eq!(report.stop, StopReason::NoRecord);
    for i in 0..3 {
        s.append(&payload(i, 10)).unwrap();
    }
    // Right after format no marker is needed: the log is in a fresh epoch.
    assert_eq!(s.log_bytes(), 3 * (HEADER_LEN as u64 + 10));
    s.commit(true).unwrap();

    let mut s = reopen(s);
    let info = s.info();
    assert_eq!(info.generation, 2, "open reserves an epoch with a superblock write");
    assert_eq!((info.epoch, info.reserved_epoch, info.next_seq), (1, 2, 3));
    assert_eq!(info.disk_id, fresh(SMALL).info().disk_id, "the id comes from the time and size");
    let (recs, report) = replayed(&mut s);
    assert_eq!(recs, (0..3).map(|i| payload(i, 10)).collect::<Vec<_>>());
    assert_eq!((report.records, report.bytes, report.markers), (3, 30, 0));
    s.append(&payload(3, 10)).unwrap();
    assert_eq!(s.log_bytes(), 4 * (HEADER_LEN as u64 + 10) + MARKER_LEN as u64);
    assert_eq!(s.info().epoch, 2);
    s.commit(true).unwrap();
    // In the same session, replay sees what was committed.
    assert_eq!(replayed(&mut s).0.len(), 4);

    let mut s = reopen(s);
    let (recs, report) = replayed(&mut s);
    assert_eq!(recs.len(), 4);
    assert_eq!(report.markers, 1);
    assert_eq!(s.info().reserved_epoch, 3);
    // Opening without writing anything leaves the chain as it was.
    let mut s = reopen(reopen(s));
    assert_eq!(replayed(&mut s).0.len(), 4);
    assert_eq!(s.info().generation, 5);
}

#[test]
fn snapshot_round_trip_in_chunks() {
    let mut s = fresh(SMALL);
    let mut rng = crate::sim::Rng::new(1);
    let mut data = vec![0u8; 300_000];
    rng.fill(&mut data);
    s.begin_snapshot(false).unwrap();
    assert!(s.snapshot_in_progress());
    assert_eq!(s.begin_snapshot(false), Err(StoreError::SnapshotInProgress));
    let mut at = 0;
    for piece in [1, 511, 70_000, 3, 131_072, 5000] {
        s.write_snapshot(&data[at..at + piece]).unwrap();
        at += piece;
    }
    s.write_snapshot(&data[at..]).unwrap();
    assert_eq!(s.snapshot_len(), 0, "the active snapshot is still the empty one");
    s.finish_snapshot().unwrap();
    assert!(!s.snapshot_in_progress());
    assert_eq!((s.info().active_slot, s.snapshot_len()), (1, 300_000));
    s.verify_snapshot().unwrap();
    assert_eq!(snapshot_bytes(&mut s), data);
    for (off, len) in [(0, 1), (1, 1000), (511, 2), (65_535, 70_000), (299_990, 100), (300_000, 5)] {
        let mut buf = vec![0u8; len];
        let n = s.read_snapshot(off, &mut buf).unwrap();
        let want = &data[(off as usize).min(data.len())..(off as usize + len).min(data.len())];
        assert_eq!(&buf[..n], want, "offset {off}");
    }
    let mut s = reopen(s);
    s.verify_snapshot().unwrap();
    assert_eq!(snapshot_bytes(&mut s), data);
    // The next one goes to the other slot; aborting leaves the active one.
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(b"half").unwrap();
    s.abort_snapshot();
    assert_eq!(s.finish_snapshot(), Err(StoreError::NoSnapshotInProgress));
    assert_eq!(s.write_snapshot(b"x"), Err(StoreError::NoSnapshotInProgress));
    s.begin_snapshot(false).unwrap();
    s.finish_snapshot().unwrap();
    assert_eq!((s.info().active_slot, s.snapshot_len()), (0, 0));
    s.verify_snapshot().unwrap();
}

#[test]
fn snapshot_moves_the_chain_start() {
    let mut s = fresh(SMALL);
    s.append(b"before 1").unwrap();
    s.commit(true).unwrap();
    s.append(b"before 2 (buffered)").unwrap();
    s.begin_snapshot(false).unwrap();
    s.append(b"during").unwrap();
    s.commit(false).unwrap();
    s.write_snapshot(b"state after before 2").unwrap();
    s.finish_snapshot().unwrap();
    assert_eq!(s.log_bytes(), HEADER_LEN as u64 + 6);
    s.append(b"after").unwrap();
    s.commit(true).unwrap();
    let mut s = reopen(s);
    assert_eq!(snapshot_bytes(&mut s), b"state after before 2");
    assert_eq!(replayed(&mut s).0, [b"during".to_vec(), b"after".to_vec()]);
}

#[test]
fn records_buffered_before_a_snapshot_are_never_written_after_it() {
    let mut s = fresh(SMALL);
    s.append(b"committed").unwrap();
    s.commit(true).unwrap();
    // Most of the ring's worth of records, buffered only.
    for i in 0..600 {
        s.append(&payload(i, 1000)).unwrap();
    }
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(b"all of them").unwrap();
    s.append(b"after").unwrap();
    s.finish_snapshot().unwrap();
    assert_eq!(s.log_bytes(), HEADER_LEN as u64 + 5);
    // Another ring's worth after the snapshot: the buffered bytes before it
    // are not written, so the commit writes less than the ring.
    for i in 0..600 {
        s.append(&payload(i, 1000)).unwrap();
    }
    let before = s.device().stats().sectors_written;
    s.commit(true).unwrap();
    let written = s.device().stats().sectors_written - before;
    assert!(written <= 600 * 1040 / 512 + 2, "{written}");
    let mut s = reopen(s);
    let (recs, _) = replayed(&mut s);
    assert_eq!(recs.len(), 601);
    assert_eq!(recs[0], b"after");
}

#[test]
fn new_chain_snapshots() {
    let mut s = fresh(SMALL);
    s.append(b"a").unwrap();
    s.commit(true).unwrap();
    let epoch = s.info().reserved_epoch;
    s.begin_snapshot(true).unwrap();
    assert_eq!(s.info().reserved_epoch, epoch + 1);
    s.append(b"c").unwrap();
    s.commit(true).unwrap();
    // Before the flip, recovery sees the old snapshot and old chain only.
    let mut before = Store::open(s.device().clone().power_cut(1)).unwrap();
    assert_eq!(before.snapshot_len(), 0);
    let (recs, report) = replayed(&mut before);
    assert_eq!(recs, [b"a".to_vec()]);
    assert!(matches!(report.stop, StopReason::Stale { .. }), "{report:?}");
    s.write_snapshot(b"a and unlogged b").unwrap();
    s.finish_snapshot().unwrap();
    let mut s = Store::open(s.into_device().power_cut(2)).unwrap();
    assert_eq!(snapshot_bytes(&mut s), b"a and unlogged b");
    assert_eq!(replayed(&mut s).0, [b"c".to_vec()]);
    // A new chain right after open needs no marker.
    s.begin_snapshot(true).unwrap();
    s.append(b"d").unwrap();
    assert_eq!(s.log_bytes(), 2 * (HEADER_LEN as u64 + 1));
    s.commit(true).unwrap();
    s.finish_snapshot().unwrap();
    assert_eq!(s.log_bytes(), HEADER_LEN as u64 + 1);
    let mut s = reopen(s);
    assert_eq!(replayed(&mut s).0, [b"d".to_vec()]);
}

#[test]
fn ring_wraps_around_many_times() {
    let mut s = fresh(SMALL);
    let ring = s.info().geometry.log_ring_bytes();
    let mut rng = crate::sim::Rng::new(7);
    let mut since_snapshot: Vec<Vec<u8>> = Vec::new();
    let mut written = 0u64;
    let mut wrapping_commits = 0;
    let mut n = 0;
    while written < 4 * ring {
        let len = rng.below(20_000) as usize;
        let p = payload(n, len);
        n += 1;
        match s.append(&p) {
            Ok(()) => {
                written += (HEADER_LEN + p.len()) as u64;
                since_snapshot.push(p);
            }
            Err(StoreError::LogFull) => {
                // Snapshot; everything appended so far is in it.
                s.begin_snapshot(false).unwrap();
                s.write_snapshot(&(n as u64).to_le_bytes()).unwrap();
                s.finish_snapshot().unwrap();
                since_snapshot.clear();
                continue;
            }
            Err(e) => panic!("{e}"),
        }
        if rng.percent(30) {
            let before = s.device().stats().writes;
            s.commit(true).unwrap();
            let writes = s.device().stats().writes - before;
            assert!(writes <= 2);
            wrapping_commits += (writes == 2) as u32;
        }
    }
    s.commit(true).unwrap();
    assert!(wrapping_commits >= 3, "{wrapping_commits}");
    let mut s = reopen(s);
    assert_eq!(replayed(&mut s).0, since_snapshot);
    // And once more after the marker, across a cut.
    s.append(b"tail").unwrap();
    s.commit(true).unwrap();
    since_snapshot.push(b"tail".to_vec());
    let mut s = Store::open(s.into_device().power_cut(3)).unwrap();
    assert_eq!(replayed(&mut s).0, since_snapshot);
}

#[test]
fn log_full_is_exact_and_a_snapshot_frees_it() {
    let mut s = fresh(SMALL);
    let cap = s.log_capacity();
    let mut appended = Vec::new();
    loop {
        let p = payload(appended.len(), 4000);
        if s.append(&p).is_err() {
            break;
        }
        appended.push(p);
        if appended.len() % 10 == 0 {
            s.commit(true).unwrap();
        }
    }
    let room = cap - s.log_bytes();
    assert!(room < HEADER_LEN as u64 + 4000);
    assert!(room >= HEADER_LEN as u64, "a 4000-byte record would have fit");
    let last = vec![b'z'; (room - HEADER_LEN as u64) as usize];
    s.append(&last).unwrap();
    appended.push(last);
    assert_eq!(s.log_bytes(), cap);
    assert_eq!(s.append(b""), Err(StoreError::LogFull));
    s.commit(true).unwrap();
    let mut s = reopen(s);
    let (recs, report) = replayed(&mut s);
    assert_eq!(recs, appended);
    assert_eq!(report.stop, StopReason::Full);
    // Full after open too: no room for the marker.
    assert_eq!(s.append(b""), Err(StoreError::LogFull));
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(b"everything").unwrap();
    s.finish_snapshot().unwrap();
    assert_eq!(s.log_bytes(), 0);
    s.append(b"next").unwrap();
    s.commit(true).unwrap();
    let mut s = reopen(s);
    assert_eq!(replayed(&mut s).0, [b"next".to_vec()]);
}

#[test]
fn snapshot_full_abandons_the_snapshot() {
    let mut s = fresh(SMALL);
    let cap = s.info().snapshot_capacity as usize;
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(&vec![1; cap - 10]).unwrap();
    assert_eq!(s.write_snapshot(&[2; 11]), Err(StoreError::SnapshotFull));
    assert!(!s.snapshot_in_progress());
    assert_eq!(s.snapshot_len(), 0);
    // Exactly full is fine.
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(&vec![3; cap - 1]).unwrap();
    s.write_snapshot(&[4]).unwrap();
    s.finish_snapshot().unwrap();
    assert_eq!(s.snapshot_len(), cap as u64);
    let mut s = reopen(s);
    s.verify_snapshot().unwrap();
}

#[test]
fn corrupt_snapshot_is_an_error_not_an_empty_one() {
    let mut s = fresh(SMALL);
    s.begin_snapshot(false).unwrap();
    s.write_snapshot(&[7; 10_000]).unwrap();
    s.finish_snapshot().unwrap();
    let slot = s.info().geometry.slot_start[s.info().active_slot as usize];
    let mut disk = s.into_device();
    disk.corrupt(slot as usize * 512 + 5000, &[8]);
    let mut s = Store::open(disk).unwrap();
    let err = s.verify_snapshot().unwrap_err();
    assert!(matches!(err, StoreError::SnapshotCorrupt { slot: 1, len: 10_000, .. }), "{err:?}");
    let msg = alloc::format!("{err}");
    assert!(msg.contains("damaged") && msg.contains("10000 bytes"), "{msg}");
    assert_eq!(s.snapshot_len(), 10_000);
}

#[test]
fn io_is_batched() {
    let mut s = fresh(SMALL);
    let st = s.device().stats();
    for i in 0..20 {
        s.append(&payload(i, 30)).unwrap();
    }
    s.commit(true).unwrap();
    let d = s.device().stats();
    assert_eq!((d.writes - st.writes, d.flushes - st.flushes), (1, 1));
    assert_eq!(d.sectors_written - st.sectors_written, 3, "20 x 70 bytes");
    // Nothing new: no write, no flush.
    s.commit(true).unwrap();
    assert_eq!(s.device().stats(), d);
    // The next commit rewrites the partly filled sector only.
    s.append(b"x").unwrap();
    s.commit(false).unwrap();
    let e = s.device().stats();
    assert_eq!((e.writes - d.writes, e.sectors_written - d.sectors_written, e.flushes), (1, 1, d.flushes));
    s.commit(true).unwrap();
    assert_eq!(s.device().stats().flushes, e.flushes + 1);

    // Snapshots go out in 64 KiB writes, however small the pieces.
    let st = s.device().stats();
    s.begin_snapshot(false).unwrap();
    for _ in 0..1024 {
        s.write_snapshot(&[5; 1000]).unwrap();
    }
    s.finish_snapshot().unwrap();
    let d = s.device().stats();
    assert_eq!(d.writes - st.writes, 1_024_000u64.div_ceil(65536) + 1, "chunks and a superblock");
    assert_eq!(d.flushes - st.flushes, 2);

    // Replay and open read the log in 64 KiB pieces.
    for i in 0..400 {
        s.append(&payload(i, 1000)).unwrap();
    }
    s.commit(true).unwrap();
    let mut s = reopen(s);
    let st = s.device().stats();
    replayed(&mut s);
    let reads = s.device().stats().reads - st.reads;
    assert!(reads <= 400 * 1040 / 65536 + 2, "{reads}");
}

#[test]
fn stale_record_after_a_torn_one_is_not_replayed() {
    // Boot 1: r0..r2 durable, r3..r5 written but not flushed; the crash
    // tears r3 and leaves r4 and r5 intact. r4 starts a sector, so that no
    // later commit's zero padding reaches it.
    let mut s = fresh(SMALL);
    for i in 0..3 {
        s.append(&payload(i, 200)).unwrap();
    }
    s.commit(true).unwrap();
    let r3_pos = s.log_bytes();
    let r3_len = (r3_pos as usize + HEADER_LEN).next_multiple_of(512) - (r3_pos as usize + HEADER_LEN);
    let r3_len = if r3_len < MARKER_LEN { r3_len + 512 } else { r3_len };
    s.append(&payload(3, r3_len)).unwrap();
    for i in 4..6 {
        s.append(&payload(i, 200)).unwrap();
    }
    s.commit(false).unwrap();
    let ring = s.info().geometry.log_start as usize * 512;
    let mut disk = s.into_device();
    disk.flush().unwrap();
    let byte = ring + r3_pos as usize + HEADER_LEN + 10;
    let torn = disk.image()[byte] ^ 0xff;
    disk.corrupt(byte, &[torn]);
    // Boot 2: the chain ends at r3. A record is written that ends exactly
    // where the old r4 starts, then the power goes.
    let mut s = Store::open(disk).unwrap();
    let (recs, report) = replayed(&mut s);
    assert_eq!(recs.len(), 3);
    assert_eq!(report.stop, StopReason::Torn);
    let replacement = payload(30, r3_len - MARKER_LEN);
    s.append(&replacement).unwrap();
    s.commit(true).unwrap();
    let r4_pos = r3_pos + (HEADER_LEN + r3_len) as u64;
    assert_eq!((s.log_bytes(), r4_pos % 512), (r4_pos, 0));
    // Boot 3: the old r4 sits intact right where the next record would be;
    // it is not replayed.
    let mut s = Store::open(s.into_device().power_cut(9)).unwrap();
    let (recs, report) = replayed(&mut s);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[3], replacement);
    assert_eq!(report.stop, StopReason::Stale { epoch: 1, seq: 4 });
}

#[test]
fn records_of_an_earlier_format_are_not_replayed() {
    let mut s = fresh(SMALL);
    s.append(b"old format").unwrap();
    s.commit(true).unwrap();
    let old_id = s.info().disk_id;
    // Same clock, same size: the id would be the same, and is changed.
    let mut s = Store::format(s.into_device(), T0).unwrap();
    assert_ne!(s.info().disk_id, old_id);
    let (recs, report) = replayed(&mut s);
    assert!(recs.is_empty());
    assert_eq!(report.stop, StopReason::OtherDisk);
    let mut s = reopen(s);
    assert!(replayed(&mut s).0.is_empty());
}

#[test]
fn info_tracks_the_state() {
    let mut s = fresh(2 * SMALL);
    let i = s.info();
    assert_eq!(i.sector_count, 2 * SMALL);
    assert_eq!(i.geometry.log_start, 2048);
    s.append(&[0; 60]).unwrap();
    assert_eq!((s.info().buffered_bytes, s.buffered_bytes()), (100, 100));
    s.commit(false).unwrap();
    assert_eq!((s.info().buffered_bytes, s.info().log_bytes), (0, 100));
    s.begin_snapshot(false).unwrap();
    assert!(s.info().snapshot_in_progress);
    s.write_snapshot(b"abc").unwrap();
    s.finish_snapshot().unwrap();
    let i = s.info();
    assert_eq!((i.generation, i.active_slot, i.snapshot_len), (2, 1, 3));
    assert_eq!(i.snapshot_crc, crate::crc::crc32c(b"abc"));
    assert_eq!((i.log_bytes, i.next_seq), (0, 1));
}
