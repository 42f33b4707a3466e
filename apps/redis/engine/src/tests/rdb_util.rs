//! Helpers for the RDB tests: a canonical copy of a dataset (to compare
//! two servers' datasets), whole-file save and load, sample data.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::collections::BTreeMap;

use super::harness::*;
use crate::rdb::{LoadError, LoadStats, SnapshotStep};
use crate::types::Value;
use crate::{ClientId, Config, Server, Time};

/// A value in comparable form: lists in order, the other containers sorted,
/// scores by their bits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CValue {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, u64)>),
    /// A stream by its DUMP payload (entries, tombstones, node layout,
    /// metadata and groups, in a deterministic order).
    Stream(Vec<u8>),
}

pub type Canon = BTreeMap<(usize, Vec<u8>), (CValue, Option<u64>)>;

pub fn canon_value(v: &Value) -> CValue {
    match v {
        Value::Str(s) => CValue::Str(s.clone()),
        Value::List(l) => CValue::List(l.iter().cloned().collect()),
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
            m.sort();
            CValue::Set(m)
        }
        Value::Hash(h) => {
            let mut m: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(f, v)| (f.to_vec(), v.clone())).collect();
            m.sort();
            CValue::Hash(m)
        }
        Value::ZSet(z) => {
            let mut m: Vec<(Vec<u8>, u64)> = z.iter().map(|(s, m)| (m.to_vec(), s.to_bits())).collect();
            m.sort();
            CValue::ZSet(m)
        }
        Value::Stream(_) => CValue::Stream(crate::rdb::dump(v)),
    }
}

/// The dataset as alive at `now_ms` (keys whose TTL passed left out).
pub fn canon(s: &Server, now_ms: u64) -> Canon {
    let mut out = Canon::new();
    for (i, d) in s.dbs.iter().enumerate() {
        for (k, e) in d.map().iter() {
            if e.expire_at.is_some_and(|t| t <= now_ms) {
                continue;
            }
            out.insert((i, k.to_vec()), (canon_value(&e.value), e.expire_at));
        }
    }
    out
}

/// Runs a snapshot to completion in steps of `step` bytes.
pub fn save(s: &mut Server, now: Time, step: usize) -> Vec<u8> {
    s.snapshot_begin(now).unwrap();
    let mut out = Vec::new();
    loop {
        match s.snapshot_step(&mut out, step) {
            SnapshotStep::More => {}
            SnapshotStep::Done => return out,
            SnapshotStep::Aborted => std::panic!("snapshot aborted"),
        }
    }
}

pub fn fresh_server() -> Server {
    Server::new(Config::default(), 7)
}

pub fn load(s: &mut Server, file: &[u8], now: Time) -> Result<LoadStats, LoadError> {
    let mut src: &[u8] = file;
    s.load_rdb(&mut src, now)
}

/// Keys of every type and encoding size, TTLs, several databases.
pub fn fill_sample(h: &mut H, c: ClientId) {
    let big = "x".repeat(300);
    let cmds: Vec<Vec<String>> = vec![
        vec!["SET".into(), "s".into(), "hello".into()],
        vec!["SET".into(), "n".into(), "-12345".into()],
        vec!["SET".into(), "big".into(), big.clone()],
        vec!["SET".into(), "bin".into(), "a\0b\r\n".into()],
        vec!["SET".into(), "ttl".into(), "v".into(), "PX".into(), "100000".into()],
        vec!["RPUSH".into(), "l".into(), "a".into(), "1".into(), big.clone()],
        vec!["SADD".into(), "iset".into(), "1".into(), "-5".into(), "5000000000".into()],
        vec!["SADD".into(), "sset".into(), "a".into(), "b".into(), "".into()],
        vec!["HSET".into(), "h".into(), "f".into(), "v".into(), "n".into(), "1".into()],
        vec!["HSET".into(), "hbig".into(), "f".into(), big.clone()],
        vec!["ZADD".into(), "z".into(), "1.5".into(), "a".into(), "-inf".into(), "b".into(), "inf".into(), "c".into()],
        vec!["EXPIRE".into(), "z".into(), "500".into()],
        vec!["SELECT".into(), "3".into()],
        vec!["SET".into(), "s".into(), "db3".into()],
        vec!["LPUSH".into(), "l3".into(), "x".into()],
        vec!["SELECT".into(), "15".into()],
        vec!["HSET".into(), "h15".into(), "a".into(), "b".into()],
        vec!["PEXPIRE".into(), "h15".into(), "123456".into()],
        vec!["SELECT".into(), "0".into()],
    ];
    for cmd in cmds {
        let a: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let r = h.cmd(c, &a);
        assert!(!r.starts_with('-'), "{cmd:?}: {r}");
    }
    for i in 0..600 {
        h.cmd(c, &["ZADD", "zbig", &format!("{i}.25"), &format!("m{i}")]);
        h.cmd(c, &["SADD", "setbig", &format!("{i}")]);
        h.cmd(c, &["HSET", "hlarge", &format!("f{i}"), &format!("{i}")]);
        h.cmd(c, &["RPUSH", "lbig", &format!("e{i}")]);
    }
}
