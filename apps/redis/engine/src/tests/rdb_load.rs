//! Loading RDB files made by real Redis 7.0 (the fixtures in
//! `rdb_fixtures/`), and how the loader fails: truncation, corruption,
//! unsupported content, device errors, memory limits.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use super::rdb_util::*;
use crate::Config;
use crate::rdb::{LoadError, Source};
use crate::types::stream::StreamId;

const COMPACT: &[u8] = include_bytes!("rdb_fixtures/redis7-compact.rdb");
const PLAIN: &[u8] = include_bytes!("rdb_fixtures/redis7-plain.rdb");
const STREAM: &[u8] = include_bytes!("rdb_fixtures/redis7-stream.rdb");
const STREAM_GROUPS: &[u8] = include_bytes!("rdb_fixtures/redis7-stream-groups.rdb");
const COMMANDS: &str = include_str!("rdb_fixtures/commands.txt");

fn unescape(tok: &str) -> Vec<u8> {
    let b = tok.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'x' => {
                    out.push(u8::from_str_radix(&tok[i + 2..i + 4], 16).unwrap());
                    i += 4;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                }
                _ => {
                    out.push(b'\\');
                    i += 2;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One token of `commands.txt` as arguments (see its header).
fn expand(tok: &str) -> Vec<Vec<u8>> {
    if let Some(open) = tok.find('{')
        && let Some(len) = tok[open..].find('}')
        && let Some((a, b)) = tok[open + 1..open + len].split_once("..")
        && let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>())
    {
        let pattern = &tok[open..=open + len];
        let mut out = Vec::new();
        for n in a..=b {
            out.extend(tok.replace(pattern, &n.to_string()).split('~').map(unescape));
        }
        return out;
    }
    if let Some(rest) = tok.strip_prefix("REPEAT:") {
        let (n, text) = rest.split_once(':').unwrap();
        return vec![unescape(text).repeat(n.parse().unwrap())];
    }
    vec![unescape(tok)]
}

/// The fixtures' dataset, built by running `commands.txt` in the engine.
fn fixture_dataset() -> Canon {
    let mut h = H::new();
    let c = h.client();
    for line in COMMANDS.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let argv: Vec<Vec<u8>> = line.split_whitespace().flat_map(expand).collect();
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let reply = h.raw(c, &enc(&refs));
        assert!(!reply.starts_with(b"-"), "{line}: {}", show(&reply));
    }
    canon(&h.s, h.now.unix_ms)
}

fn types(codes: &[u8]) -> u32 {
    codes.iter().fold(0, |m, &c| m | 1 << c)
}

/// Both fixtures load to the dataset their commands make, with the
/// encodings they were made to have.
#[test]
fn redis7_fixtures_load_with_expected_content() {
    let want = fixture_dataset();
    assert_eq!(want.len(), 22);
    let now = H::new().now;
    for (name, file, checksum, codes) in [
        ("compact", COMPACT, true, &[0u8, 2, 5, 4, 11, 16, 17, 18][..]),
        ("plain", PLAIN, false, &[0u8, 2, 4, 5, 18][..]),
    ] {
        let mut s = fresh_server();
        let stats = load(&mut s, file, now).unwrap_or_else(|e| std::panic!("{name}: {e}"));
        assert_eq!(canon(&s, now.unix_ms), want, "{name}");
        assert_eq!(stats.keys_loaded, 22, "{name}");
        assert_eq!(stats.version, 10);
        assert_eq!(stats.functions_skipped, 1, "{name}: FUNCTION2");
        assert_eq!(stats.checksum_verified, checksum, "{name}");
        assert_eq!(stats.redis_ver.as_deref(), Some("7.0.15"));
        assert_eq!(stats.bytes, file.len() as u64);
        assert_eq!(stats.value_types, types(codes), "{name}: {:b}", stats.value_types);
        // Encodings follow the engine's thresholds, as Redis converts on load.
        let mut h = H { s, now };
        let c = h.client();
        assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "hash"]), "$8\r\nlistpack\r\n", "{name}");
        assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "bighash"]), "$9\r\nhashtable\r\n", "{name}");
        assert_eq!(h.cmd(c, &["OBJECT", "ENCODING", "intset"]), "$6\r\nintset\r\n", "{name}");
        assert_eq!(h.cmd(c, &["PTTL", "ttlkey"]), format!(":{}\r\n", 1_900_000_000_123 - now.unix_ms));
    }
}

/// Keys whose TTL passed at load time are skipped (Redis does that as a
/// master).
#[test]
fn expired_keys_are_skipped() {
    let mut s = fresh_server();
    let later = crate::Time { unix_ms: 1_900_000_000_000, mono_ms: 5 };
    let stats = load(&mut s, COMPACT, later).unwrap();
    assert_eq!((stats.keys_loaded, stats.keys_expired), (20, 2), "hash and db1's l expire exactly then");
    let stats = load(&mut fresh_server(), COMPACT, later.plus_ms(1000)).unwrap();
    assert_eq!((stats.keys_loaded, stats.keys_expired), (19, 3));
}

/// Real Redis 7.0's stream (type 19) loads, and is written back in the
/// very bytes Redis wrote it in.
#[test]
fn streams_load_from_real_redis() {
    let mut s = fresh_server();
    let stats = load(&mut s, STREAM, H::new().now).unwrap();
    assert_eq!(stats.keys_loaded, 2);
    let v = s.dbs[0].get(b"st").map(|e| &e.value).expect("the stream");
    let crate::types::Value::Stream(st) = v else { std::panic!("not a stream") };
    let entries: Vec<_> = st.range(StreamId::MIN, StreamId::MAX, false).map(|e| (e.id, e.items.to_vec())).collect();
    assert_eq!(
        entries,
        [(StreamId::new(1, 1), vec![b"a".to_vec().into_boxed_slice(), b"1".to_vec().into_boxed_slice()])]
    );
    assert_eq!((st.last_id, st.first_id, st.entries_added), (StreamId::new(1, 1), StreamId::new(1, 1), 1));
    let mut body = Vec::new();
    body.extend_from_slice(b"\x13\x02st");
    crate::rdb::object::put_body(&mut body, v);
    let at = STREAM.windows(body.len()).position(|w| w == body.as_slice());
    assert!(at.is_some(), "the engine's encoding {body:02x?} is not Redis's");
}

/// Real Redis's streams with several nodes, tombstones, consumer groups
/// (pending entries, consumers without any, an unknown read counter) and
/// an emptied stream with a set ID load, and each is written back byte for
/// byte as Redis wrote it: nodes, listpacks, metadata, PELs, times.
#[test]
fn stream_groups_round_trip_real_redis_bytes() {
    let mut s = fresh_server();
    let stats = load(&mut s, STREAM_GROUPS, H::new().now).unwrap();
    assert_eq!(stats.keys_loaded, 3);
    for key in [&b"st"[..], b"empty", b"dry"] {
        let v = &s.dbs[0].get(key).expect("stream").value;
        let mut record = vec![0x13, key.len() as u8];
        record.extend_from_slice(key);
        crate::rdb::object::put_body(&mut record, v);
        assert!(
            STREAM_GROUPS.windows(record.len()).any(|w| w == record.as_slice()),
            "{}",
            String::from_utf8_lossy(key)
        );
    }
    let crate::types::Value::Stream(st) = &s.dbs[0].get(b"st").unwrap().value else { std::panic!("not a stream") };
    assert_eq!((st.len(), st.max_deleted_id, st.entries_added), (7, StreamId::new(9, 0), 9));
    let g1 = st.groups.get(&b"g1"[..]).expect("group g1");
    assert_eq!(g1.pel().len(), 4);
    assert_eq!(g1.pel().get(&StreamId::new(1, 1)).unwrap().delivery_count, 7);
    assert_eq!(g1.pel().get(&StreamId::new(1, 1)).unwrap().consumer, b"bob");
    assert!(g1.consumer(b"carol").is_some_and(|c| c.pel.is_empty()));
}

/// Every truncation fails cleanly (and leaves an empty dataset); so does
/// any corrupted byte under a checksum, and without one the loader never
/// panics.
#[test]
fn truncated_and_corrupted_files_fail_cleanly() {
    let now = H::new().now;
    for cut in (0..COMPACT.len()).filter(|i| i % 13 == 0 || *i < 300 || COMPACT.len() - i < 40) {
        let mut s = fresh_server();
        let err = load(&mut s, &COMPACT[..cut], now).unwrap_err();
        assert!(matches!(err, LoadError::Truncated | LoadError::BadMagic | LoadError::Corrupt(_)), "{cut}: {err:?}");
        assert!(s.dbs.iter().all(|d| d.is_empty()));
    }
    let mut flipped = 0;
    for i in (9..COMPACT.len() - 8).step_by(97) {
        let mut bad = COMPACT.to_vec();
        bad[i] ^= 0x5a;
        let mut s = fresh_server();
        if load(&mut s, &bad, now).is_err() {
            flipped += 1;
        }
    }
    assert_eq!(flipped, (9..COMPACT.len() - 8).step_by(97).count(), "the CRC catches every flip");
    for i in (9..PLAIN.len()).step_by(53) {
        let mut bad = PLAIN.to_vec();
        bad[i] ^= 0xa5;
        let _ = load(&mut fresh_server(), &bad, now);
    }
    let mut bad = COMPACT.to_vec();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(matches!(load(&mut fresh_server(), &bad, now), Err(LoadError::Checksum { .. })));
    let msg = format!("{}", load(&mut fresh_server(), &bad, now).unwrap_err());
    assert!(msg.contains("checksum"), "{msg}");
}

#[test]
fn headers_that_are_refused() {
    let now = H::new().now;
    let mut file = COMPACT.to_vec();
    file[5..9].copy_from_slice(b"0011");
    let err = load(&mut fresh_server(), &file, now).unwrap_err();
    assert_eq!(err, LoadError::UnsupportedVersion(11));
    assert!(format!("{err}").contains("version 11"));
    for bad in [&b"RUBBISH00"[..], b"REDIS00x0", b"redis0010", b""] {
        assert_eq!(load(&mut fresh_server(), bad, now).unwrap_err(), LoadError::BadMagic, "{bad:?}");
    }
    // Only into an empty dataset.
    let mut s = fresh_server();
    load(&mut s, COMPACT, now).unwrap();
    assert_eq!(load(&mut s, COMPACT, now).unwrap_err(), LoadError::NotEmpty);
}

/// A source that hands out a few bytes at a time, then fails.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
    fail_at: Option<usize>,
    pos: usize,
}

impl Source for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LoadError> {
        if self.fail_at.is_some_and(|f| self.pos >= f) {
            return Err(LoadError::Io("disk on fire".into()));
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn sources_that_trickle_or_fail() {
    let now = H::new().now;
    let want = fixture_dataset();
    for chunk in [1, 3, 4096, 100_000] {
        let mut s = fresh_server();
        let mut src = Trickle { data: COMPACT, chunk, fail_at: None, pos: 0 };
        s.load_rdb(&mut src, now).unwrap();
        assert_eq!(canon(&s, now.unix_ms), want, "chunk {chunk}");
    }
    let mut s = fresh_server();
    let mut src = Trickle { data: COMPACT, chunk: 100, fail_at: Some(5000), pos: 0 };
    let err = s.load_rdb(&mut src, now).unwrap_err();
    assert_eq!(err, LoadError::Io("disk on fire".into()));
    assert!(format!("{err}").contains("disk on fire"));
    assert!(s.dbs.iter().all(|d| d.is_empty()));
}

/// Data bigger than maxmemory fails cleanly (and leaves nothing loaded);
/// it loads once the limit allows it.
#[test]
fn loading_respects_maxmemory() {
    let now = H::new().now;
    let mut cfg = Config::default();
    cfg.maxmemory = 120 * 1024;
    let mut s = crate::Server::new(cfg.clone(), 1);
    assert_eq!(load(&mut s, COMPACT, now).unwrap_err(), LoadError::OutOfMemory);
    assert!(s.dbs.iter().all(|d| d.is_empty()));
    assert!(format!("{}", LoadError::OutOfMemory).contains("maxmemory"));
    // A string claiming 1 GiB is refused before anything is allocated for
    // it; an LZF string claiming more than LZF can expand to is corrupt.
    let huge = |body: &[u8]| {
        let mut file = b"REDIS0010\x00\x01k".to_vec();
        file.extend_from_slice(body);
        file.extend_from_slice(&[0xff; 9]);
        load(&mut crate::Server::new(cfg.clone(), 1), &file, now).unwrap_err()
    };
    assert_eq!(huge(b"\x80\x40\x00\x00\x00abc"), LoadError::OutOfMemory);
    assert_eq!(huge(b"\xc3\x04\x80\x40\x00\x00\x00\x01\x61"), LoadError::Corrupt("LZF-compressed string length"));
    cfg.maxmemory = 4 << 20;
    let mut s = crate::Server::new(cfg, 1);
    load(&mut s, COMPACT, now).unwrap();
    assert!(s.used_memory() <= 4 << 20);
}
