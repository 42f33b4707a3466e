//! Round-trip property: random datasets of every type and encoding size
//! (small and past the compact thresholds, integers, long and binary
//! strings, infinite scores), with TTLs, over several databases, written
//! in random step sizes and loaded back, are equal.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use proptest::prelude::*;

use super::harness::*;
use super::rdb_util::*;
use crate::types::{Hash, List, Set, Value, ZSet};
use crate::util::Rng;

/// An element: binary, an integer, a long repetitive string, or short.
fn element(r: &mut Rng) -> Vec<u8> {
    match r.below(6) {
        0 => (0..r.below(20)).map(|_| r.next_u64() as u8).collect(),
        1 => format!("{}", r.next_u64() as i64 >> r.below(64)).into_bytes(),
        2 => vec![b'a' + r.below(3) as u8; 60 + r.below(200)],
        _ => format!("e{}", r.below(2000)).into_bytes(),
    }
}

fn value(kind: u8, large: bool, seed: u64) -> Value {
    let mut r = Rng::new(seed);
    let n = if large { 513 + r.below(200) } else { 1 + r.below(12) };
    match kind {
        0 => Value::Str(element(&mut r)),
        1 => {
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(element(&mut r));
            }
            Value::List(l.into())
        }
        2 => {
            let mut s = Set::new(seed);
            let ints = r.below(2) == 0;
            while s.len() < n {
                let m = if ints { format!("{}", r.next_u64() as i64 >> 20).into_bytes() } else { element(&mut r) };
                s.add(&m);
            }
            Value::Set(s.into())
        }
        3 => {
            let mut h = Hash::new(seed);
            while h.len() < n {
                h.set(&element(&mut r), element(&mut r));
            }
            Value::Hash(h.into())
        }
        _ => {
            let mut z = ZSet::new(seed);
            while z.len() < n {
                let score = match r.below(10) {
                    0 => f64::INFINITY,
                    1 => f64::NEG_INFINITY,
                    2 => (r.below(100) as f64) - 50.0,
                    _ => f64::from_bits(r.next_u64() >> 2) * if r.below(2) == 0 { 1.0 } else { -1.0 },
                };
                z.set(&element(&mut r), score);
            }
            Value::ZSet(z.into())
        }
    }
}

type KeySpec = (usize, Vec<u8>, u8, bool, u64, Option<u64>);

fn key_spec() -> impl Strategy<Value = KeySpec> {
    (
        0usize..4,
        prop::collection::vec(any::<u8>(), 0..12),
        0u8..5,
        prop::bool::weighted(0.15),
        any::<u64>(),
        prop::option::weighted(0.3, 1u64..10_000_000),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_datasets_round_trip(keys in prop::collection::vec(key_spec(), 0..40), step in 1usize..5000) {
        let mut h = H::new();
        let now = h.now;
        for (db, key, kind, large, seed, ttl) in keys {
            let slot = h.s.dbs[db].set(&key, value(kind, large, seed), false, 0);
            h.s.dbs[db].set_expire_at(slot, ttl.map(|t| now.unix_ms + t));
        }
        let want = canon(&h.s, now.unix_ms);
        let file = save(&mut h.s, now, step);
        let mut fresh = fresh_server();
        let stats = load(&mut fresh, &file, now).unwrap();
        prop_assert_eq!(stats.keys_loaded as usize, want.len());
        prop_assert!(stats.checksum_verified);
        prop_assert_eq!(canon(&fresh, now.unix_ms), want);
    }
}
