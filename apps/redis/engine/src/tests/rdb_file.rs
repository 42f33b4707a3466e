//! RDB files: the writer's output loads back, into this server and (when
//! installed) into real Redis's checker.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use super::rdb_util::*;
use crate::rdb::SnapshotStep;

#[test]
fn empty_dataset_is_header_and_trailer() {
    let mut h = H::new();
    let file = save(&mut h.s, h.now, 1 << 20);
    assert!(file.starts_with(b"REDIS0010"));
    assert_eq!(file[file.len() - 9], 0xff);
    let mut fresh = fresh_server();
    let stats = load(&mut fresh, &file, h.now).unwrap();
    assert_eq!(stats.keys_loaded, 0);
    assert!(stats.checksum_verified);
    assert_eq!(stats.redis_ver.as_deref(), Some("7.0.15"));
}

#[test]
fn every_type_round_trips_with_ttls_and_dbs() {
    let mut h = H::new();
    let c = h.client();
    fill_sample(&mut h, c);
    let want = canon(&h.s, h.now.unix_ms);
    for step in [1usize, 7, 100, 1 << 20] {
        let file = save(&mut h.s, h.now, step);
        let mut fresh = fresh_server();
        let stats = load(&mut fresh, &file, h.now).unwrap();
        assert_eq!(stats.keys_loaded as usize, want.len());
        assert_eq!(canon(&fresh, h.now.unix_ms), want, "step {step}");
    }
    assert!(!h.s.snapshot_running());
    assert_eq!(h.s.snapshot_step(&mut Vec::new(), 10), SnapshotStep::Aborted, "none running");
}

/// Real Redis's `redis-check-rdb` accepts what the writer produces (every
/// type, TTLs, several databases, a small step size so SELECTDB repeats).
/// Skipped, saying so, where it is not installed.
#[test]
fn redis_check_rdb_accepts_our_file() {
    let tool = ["/usr/bin/redis-check-rdb", "/usr/local/bin/redis-check-rdb"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(tool) = tool else {
        std::println!("skipped: redis-check-rdb is not installed");
        return;
    };
    let mut h = H::new();
    let c = h.client();
    fill_sample(&mut h, c);
    // Changes while the snapshot runs: copy-on-write output and SELECTDB
    // back and forth in the file.
    h.s.snapshot_begin(h.now).unwrap();
    let mut file = Vec::new();
    assert_eq!(h.s.snapshot_step(&mut file, 64), SnapshotStep::More);
    h.cmd(c, &["DEL", "zbig"]);
    h.cmd(c, &["SELECT", "15"]);
    h.cmd(c, &["HSET", "h15", "new", "field"]);
    h.cmd(c, &["SELECT", "0"]);
    while h.s.snapshot_step(&mut file, 64) == SnapshotStep::More {}
    let path = std::env::temp_dir().join(format!("engine-check-{}.rdb", std::process::id()));
    std::fs::write(&path, &file).unwrap();
    // For checking by hand (e.g. loading it into redis-server).
    if let Ok(keep) = std::env::var("ENGINE_RDB_KEEP") {
        std::fs::write(keep, &file).unwrap();
    }
    let out = std::process::Command::new(tool).arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "redis-check-rdb failed:\n{text}");
    assert!(text.contains("RDB looks OK"), "{text}");
}
