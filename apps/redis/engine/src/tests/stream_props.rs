//! The stream type against a simple model (a sorted vector of entries):
//! random XADD, XDEL, XTRIM (MAXLEN/MINID, exact and `~` with LIMIT) and
//! ranges in both directions, across node sizes; plus the memory total
//! returning to empty, and the RDB encoding round trip of what results.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use proptest::prelude::*;

use crate::types::Stream;
use crate::types::stream::{NodeLimits, StreamId, TrimTo};

#[derive(Debug, Clone)]
enum Op {
    /// Add with an ID this far past the last one (ms, seq steps).
    Add {
        ms_step: u64,
        seq_step: u64,
        fields: u8,
        same: bool,
    },
    /// Delete the n-th entry of the model (modulo its length), or a missing ID.
    Del(usize),
    TrimLen {
        max: u64,
        approx: bool,
        limit: u64,
    },
    /// Trim below the n-th entry's ID.
    TrimMin {
        nth: usize,
        approx: bool,
        limit: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..3, 0u64..3, 1u8..4, any::<bool>())
            .prop_map(|(ms_step, seq_step, fields, same)| Op::Add { ms_step, seq_step, fields, same }),
        2 => (0usize..1000).prop_map(Op::Del),
        1 => (0u64..40, any::<bool>(), 0u64..30).prop_map(|(max, approx, limit)| Op::TrimLen { max, approx, limit }),
        1 => (0usize..1000, any::<bool>(), 0u64..30).prop_map(|(nth, approx, limit)| Op::TrimMin { nth, approx, limit }),
    ]
}

type Model = Vec<(StreamId, Vec<Vec<u8>>)>;

fn items(n: usize, fields: u8, same: bool) -> Vec<Vec<u8>> {
    (0..fields)
        .flat_map(|f| {
            let field = if same { format!("f{f}") } else { format!("g{n}-{f}") };
            [field.into_bytes(), format!("{n}").into_bytes()]
        })
        .collect()
}

fn entries(st: &Stream, start: StreamId, end: StreamId, rev: bool) -> Model {
    st.range(start, end, rev).map(|e| (e.id, e.items.iter().map(|i| i.to_vec()).collect())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn stream_matches_a_sorted_vector(
        ops in prop::collection::vec(op(), 0..300),
        max_entries in 0usize..6,
        max_bytes in prop_oneof![Just(0usize), Just(60), Just(4096)],
        probes in prop::collection::vec((0usize..1000, 0usize..1000), 4),
    ) {
        let limits = NodeLimits { max_bytes, max_entries };
        let mut st = Stream::new();
        let mut model: Model = Vec::new();
        let mut last = StreamId::new(1, 0);
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Add { ms_step, seq_step, fields, same } => {
                    let id = StreamId::new(last.ms + ms_step, if ms_step > 0 { seq_step } else { last.seq + 1 + seq_step });
                    let it = items(n, fields, same);
                    st.append(id, it.clone(), limits).unwrap();
                    model.push((id, it));
                    last = id;
                    // Not greater than the last ID: refused, nothing changes.
                    prop_assert!(st.append(id, vec![b"f".to_vec(), b"v".to_vec()], limits).is_err());
                }
                Op::Del(i) => {
                    if model.is_empty() {
                        prop_assert!(!st.delete(StreamId::new(1, i as u64)));
                    } else {
                        let (id, _) = model.remove(i % model.len());
                        prop_assert!(st.delete(id));
                        prop_assert!(!st.delete(id), "deleted twice");
                        prop_assert!(st.max_deleted_id >= id);
                    }
                }
                Op::TrimLen { max, approx, limit } => {
                    let before = model.len();
                    let limit = if approx { limit } else { 0 };
                    let removed = st.trim(TrimTo::MaxLen(max), approx, limit) as usize;
                    let exact = before.saturating_sub(max as usize);
                    if approx {
                        prop_assert!(removed <= exact);
                        if limit > 0 { prop_assert!(removed as u64 <= limit); }
                    } else {
                        prop_assert_eq!(removed, exact);
                    }
                    model.drain(..removed);
                }
                Op::TrimMin { nth, approx, limit } => {
                    let min = model.get(nth % model.len().max(1)).map_or(StreamId::new(u64::MAX, 0), |e| e.0);
                    let limit = if approx { limit } else { 0 };
                    let removed = st.trim(TrimTo::MinId(min), approx, limit) as usize;
                    let exact = model.iter().take_while(|e| e.0 < min).count();
                    if approx {
                        prop_assert!(removed <= exact);
                    } else {
                        prop_assert_eq!(removed, exact);
                    }
                    model.drain(..removed);
                }
            }
            prop_assert_eq!(st.len(), model.len());
            prop_assert_eq!(st.first_id, model.first().map_or(StreamId::MIN, |e| e.0));
            if max_entries > 0 {
                prop_assert!(st.blocks().all(|(_, b)| b.entries.len() <= max_entries));
            }
        }
        prop_assert_eq!(entries(&st, StreamId::MIN, StreamId::MAX, false), model.clone());
        let mut rev = model.clone();
        rev.reverse();
        prop_assert_eq!(entries(&st, StreamId::MIN, StreamId::MAX, true), rev);
        for (a, b) in probes {
            let pick = |i: usize| model.get(i % model.len().max(1)).map_or(StreamId::new(1, i as u64), |e| e.0);
            let (lo, hi) = (pick(a).min(pick(b)), pick(a).max(pick(b)));
            let want: Model = model.iter().filter(|e| e.0 >= lo && e.0 <= hi).cloned().collect();
            prop_assert_eq!(entries(&st, lo, hi, false), want.clone());
            let mut want_rev = want;
            want_rev.reverse();
            prop_assert_eq!(entries(&st, lo, hi, true), want_rev);
            prop_assert_eq!(st.get(lo).map(|e| e.id), model.iter().find(|e| e.0 == lo).map(|e| e.0));
        }
        // The RDB body decodes to the same stream (entries, tombstones, nodes).
        let value = crate::types::Value::Stream(Box::new(st));
        let payload = crate::rdb::dump(&value);
        let back = crate::rdb::restore(&payload, 1, 1 << 30).unwrap();
        prop_assert_eq!(crate::rdb::dump(&back), payload);
        // Deleting everything gives back every byte charged.
        let crate::types::Value::Stream(mut st) = value else { unreachable!() };
        for (id, _) in &model {
            st.delete(*id);
        }
        prop_assert_eq!(st.len(), 0);
        prop_assert_eq!(st.mem(), 0);
        prop_assert_eq!(st.block_count(), 0);
    }
}
