//! Host tests: unit tests of each operation, and power-cut property tests.

mod errors;
mod open;
mod powercut;
mod unit;

use alloc::vec::Vec;

use crate::sim::SimDisk;
use crate::{BlockDevice, ReplayReport, Store};

pub const T0: u64 = 1_700_000_000_000;
/// 4 MiB: the smallest disk (768 KiB log ring, 1152 KiB slots).
pub const SMALL: u64 = 8192;

pub fn fresh(sectors: u64) -> Store<SimDisk> {
    Store::format(SimDisk::new(sectors), T0).unwrap()
}

pub fn reopen(store: Store<SimDisk>) -> Store<SimDisk> {
    Store::open(store.into_device()).unwrap()
}

pub fn replayed<D: BlockDevice>(store: &mut Store<D>) -> (Vec<Vec<u8>>, ReplayReport) {
    let mut out = Vec::new();
    let report = store
        .replay(|r| {
            out.push(r.to_vec());
            Ok::<_, ()>(())
        })
        .unwrap();
    (out, report)
}

pub fn snapshot_bytes<D: BlockDevice>(store: &mut Store<D>) -> Vec<u8> {
    let mut buf = alloc::vec![0; store.snapshot_len() as usize];
    assert_eq!(store.read_snapshot(0, &mut buf).unwrap(), buf.len());
    buf
}

/// A payload that names itself: `n` as text, then filler.
pub fn payload(n: usize, len: usize) -> Vec<u8> {
    let mut v = alloc::format!("record {n}:").into_bytes();
    v.resize(len.max(v.len()), b'a' + (n % 26) as u8);
    v
}
