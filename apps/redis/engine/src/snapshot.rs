//! Dataset snapshot as replayable commands (like an AOF rewrite): the
//! persistence layer writes these, then appends what `CommandObserver`
//! reports.

use alloc::vec::Vec;

use crate::server::Server;
use crate::types::Value;
use crate::util::{double_bytes, i64_bytes};

/// Elements per emitted RPUSH/HSET/SADD/ZADD command.
const BATCH: usize = 64;

pub(crate) fn emit(s: &Server, f: &mut dyn FnMut(usize, &[&[u8]])) {
    let now = s.now.unix_ms;
    for (db, d) in s.dbs.iter().enumerate() {
        for (key, e) in d.map().iter() {
            if e.expire_at.is_some_and(|t| t <= now) {
                continue;
            }
            match &e.value {
                Value::Str(v) => f(db, &[b"SET", key, v]),
                Value::List(l) => {
                    let items: Vec<&[u8]> = l.iter().map(|x| x.as_slice()).collect();
                    for chunk in items.chunks(BATCH) {
                        let mut argv: Vec<&[u8]> = alloc::vec![b"RPUSH", key];
                        argv.extend_from_slice(chunk);
                        f(db, &argv);
                    }
                }
                Value::Hash(h) => {
                    let items: Vec<(&[u8], &Vec<u8>)> = h.iter().collect();
                    for chunk in items.chunks(BATCH) {
                        let mut argv: Vec<&[u8]> = alloc::vec![b"HSET", key];
                        for (fld, v) in chunk {
                            argv.push(fld);
                            argv.push(v);
                        }
                        f(db, &argv);
                    }
                }
                Value::Set(set) => {
                    let items: Vec<&[u8]> = set.iter().collect();
                    for chunk in items.chunks(BATCH) {
                        let mut argv: Vec<&[u8]> = alloc::vec![b"SADD", key];
                        argv.extend_from_slice(chunk);
                        f(db, &argv);
                    }
                }
                Value::ZSet(z) => {
                    let items: Vec<(Vec<u8>, &[u8])> = z.iter().map(|(sc, m)| (double_bytes(sc), m)).collect();
                    for chunk in items.chunks(BATCH) {
                        let mut argv: Vec<&[u8]> = alloc::vec![b"ZADD", key];
                        for (sc, m) in chunk {
                            argv.push(sc);
                            argv.push(m);
                        }
                        f(db, &argv);
                    }
                }
            }
            if let Some(t) = e.expire_at {
                let ts = i64_bytes(t as i64);
                f(db, &[b"PEXPIREAT", key, &ts]);
            }
        }
    }
}
