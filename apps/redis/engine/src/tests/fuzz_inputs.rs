//! The fuzz target's inputs, generated here so they cannot drift: the seed
//! corpus (`fuzz/seeds/two_clients/`, one script per command family, in
//! the target's record format) and the libFuzzer dictionary
//! (`fuzz/two_clients.dict`: every command of the command table plus
//! subcommands, options and RESP tokens). The tests check the committed
//! files match; `UPDATE_FUZZ_INPUTS=1 cargo test -p redis-engine fuzz_inputs`
//! rewrites them. Every seed also runs through the harness's invariants,
//! and the strict reply parser is tested here.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::harness::enc;
use crate::commands::TABLE;
use crate::fuzzing::{self, ReplyStream};
use crate::{Server, Time};

use super::fuzz_seeds::{Seed, Step, seed, seeds};
use Step::{Cmd, Raw, Tick};

/// Encodes a script in the target's record format.
fn encode(seed: &Seed) -> Vec<u8> {
    let mut out = Vec::new();
    for step in &seed.steps {
        let (client, bytes) = match step {
            Cmd(c, args) => {
                let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
                (*c, enc(&a))
            }
            Raw(c, b) => (*c, b.to_vec()),
            Tick(ms) => {
                // Bit 7: advance (control & 0x7f) * 37 ms; the payload (client
                // 0's empty lines, which the server skips) sets bits 1..=6.
                let mut units = ms.div_ceil(37);
                while units > 0 {
                    let len = (units.min(126) / 2) as usize;
                    out.push(0x80 | (len as u8) << 1);
                    out.extend(std::iter::repeat_n(b'\n', len));
                    units = units.saturating_sub((len as u64 * 2).max(1));
                }
                continue;
            }
        };
        for piece in bytes.chunks(seed.chunk.clamp(1, 63)) {
            out.push(client as u8 | (piece.len() as u8) << 1);
            out.extend_from_slice(piece);
        }
    }
    out
}

/// Subcommands, options and values the fuzzer should try in commands.
const WORDS: &[&str] = &[
    // subcommands
    "getname",
    "setname",
    "id",
    "info",
    "list",
    "kill",
    "unblock",
    "no-evict",
    "help",
    "count",
    "docs",
    "getkeys",
    "get",
    "set",
    "resetstat",
    "encoding",
    "idletime",
    "freq",
    "refcount",
    "usage",
    "samples",
    "malloc-stats",
    "idx",
    "minmatchlen",
    "withmatchlen",
    "absttl",
    "idletime",
    "channels",
    "numsub",
    "numpat",
    // options
    "ex",
    "px",
    "exat",
    "pxat",
    "nx",
    "xx",
    "gt",
    "lt",
    "ch",
    "incr",
    "keepttl",
    "persist",
    "withscores",
    "limit",
    "match",
    "type",
    "byscore",
    "bylex",
    "rev",
    "left",
    "right",
    "before",
    "after",
    "rank",
    "maxlen",
    "weights",
    "aggregate",
    "sum",
    "min",
    "max",
    "async",
    "sync",
    "replace",
    "db",
    "bit",
    "byte",
    "withvalues",
    "timeout",
    "error",
    "auth",
    "default",
    "nosave",
    "save",
    "now",
    "force",
    "abort",
    "normal",
    "pubsub",
    "addr",
    "laddr",
    "skipme",
    "yes",
    "no",
    "on",
    "off",
    "keyspace",
    "memory",
    "stats",
    "server",
    "clients",
    "persistence",
    "everything",
    "string",
    "hash",
    "zset",
    // eviction policies
    "noeviction",
    "allkeys-lru",
    "volatile-lru",
    "allkeys-random",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lfu",
    "volatile-lfu",
    // values
    "0",
    "1",
    "2",
    "3",
    "-1",
    "-2",
    "100",
    "4096",
    "65536",
    "1000000",
    "4294967295",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "0.5",
    "1e308",
    "-1e308",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "(",
    "[",
    "(1",
    "[a",
    "-",
    "+",
    "*",
    "?",
    "[a-z]",
    "\\",
    "1kb",
    "1mb",
    "1gb",
    "secret",
    "127.0.0.1:1",
    "127.0.0.1:2",
];

/// RESP framing tokens.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"*",
    b"$",
    b"*1\r\n",
    b"*2\r\n",
    b"*3\r\n",
    b"*4\r\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"$0\r\n\r\n",
    b"$1\r\n",
    b"$3\r\n",
    b"$-1\r\n",
    b"$10000\r\n",
    b"$20000\r\n",
    b"*20\r\n",
    b"\"",
    b"'",
    b"\\x00",
    b"\\x",
    b"\"\"",
    b"\n",
];

/// The dictionary file's text.
fn dictionary() -> String {
    let mut entries: BTreeSet<Vec<u8>> = BTreeSet::new();
    for c in TABLE {
        entries.insert(c.name.as_bytes().to_vec());
    }
    for p in crate::config::all_names() {
        entries.insert(p.as_bytes().to_vec());
    }
    entries.extend(WORDS.iter().map(|w| w.as_bytes().to_vec()));
    entries.extend(TOKENS.iter().map(|t| t.to_vec()));
    let mut text = String::from(
        "# libFuzzer dictionary for the two_clients target: every command of the engine's\n\
         # command table, configuration parameters, subcommands, options and RESP tokens.\n\
         # Generated by apps/redis/engine/src/tests/fuzz_inputs.rs; do not edit\n\
         # (UPDATE_FUZZ_INPUTS=1 cargo test -p redis-engine fuzz_inputs rewrites it).\n",
    );
    for e in entries {
        text.push('"');
        for &b in &e {
            match b {
                b'"' | b'\\' => text.push_str(&format!("\\{}", b as char)),
                0x20..=0x7e => text.push(b as char),
                _ => text.push_str(&format!("\\x{b:02X}")),
            }
        }
        text.push_str("\"\n");
    }
    text
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_FUZZ_INPUTS").is_some_and(|v| v == "1")
}

const REGENERATE: &str = "run `UPDATE_FUZZ_INPUTS=1 cargo test -p redis-engine fuzz_inputs` and commit the result";

#[test]
fn committed_dictionary_matches_the_command_table() {
    let path = fuzz_dir().join("two_clients.dict");
    let want = dictionary();
    if updating() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "{} is out of date: {REGENERATE}", path.display());
}

#[test]
fn committed_seeds_match_the_generator() {
    let dir = fuzz_dir().join("seeds/two_clients");
    let want: Vec<(String, Vec<u8>)> = seeds().iter().map(|s| (s.name.to_string(), encode(s))).collect();
    if updating() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &want {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut have: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    have.sort();
    let mut want = want;
    want.sort();
    assert!(have == want, "{} is out of date: {REGENERATE}", dir.display());
}

#[test]
fn seeds_cover_every_command() {
    let mut used = BTreeSet::new();
    for s in seeds() {
        for step in &s.steps {
            match step {
                Cmd(_, args) => {
                    used.insert(args[0].to_ascii_lowercase());
                }
                Raw(_, bytes) => {
                    for line in bytes.split(|&b| b == b'\n') {
                        if let Some(word) = line.split(|&b| b == b' ').find(|w| !w.is_empty()) {
                            used.insert(String::from_utf8_lossy(word).trim().to_ascii_lowercase());
                        }
                    }
                }
                Tick(_) => {}
            }
        }
    }
    let missing: Vec<&str> = TABLE.iter().map(|c| c.name).filter(|n| !used.contains(*n)).collect();
    assert!(missing.is_empty(), "no seed runs {missing:?}");
}

/// The seeds do what they are meant to: their commands are known (except
/// in the malformed ones), and the harness's invariants hold on them.
#[test]
fn seeds_run_cleanly_through_the_harness() {
    for s in seeds() {
        let input = encode(&s);
        if let Err(e) = fuzzing::two_clients(&input, None) {
            std::panic!("seed {}: {e}", s.name);
        }
        let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
        let mut server = Server::new(fuzzing::config(), 1);
        let ids = [server.connect("127.0.0.1:1", now).unwrap(), server.connect("127.0.0.1:2", now).unwrap()];
        let mut out = Vec::new();
        for step in &s.steps {
            match step {
                Cmd(c, args) => {
                    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
                    server.feed(ids[*c], &enc(&a), now);
                }
                Raw(c, bytes) => server.feed(ids[*c], bytes, now),
                Tick(_) => {}
            }
            for id in ids {
                out.extend_from_slice(server.output(id));
                let n = server.output(id).len();
                server.consume_output(id, n);
            }
        }
        let text = String::from_utf8_lossy(&out);
        assert!(s.malformed || !text.contains("unknown command"), "seed {}: {text}", s.name);
    }
}

#[test]
fn reply_parser_accepts_every_reply_type() {
    let ok: &[&[u8]] = &[
        b"+OK\r\n",
        b"-ERR syntax error\r\n",
        b"-WRONGTYPE Operation\r\n",
        b":0\r\n:-12\r\n",
        b"$0\r\n\r\n$3\r\na\r\n\r\n$-1\r\n",
        b"*-1\r\n*0\r\n*2\r\n$1\r\nx\r\n*1\r\n:1\r\n",
        b"_\r\n#t\r\n#f\r\n,1.5\r\n,-inf\r\n,nan\r\n,1e+300\r\n(123456789012345678901234567890\r\n",
        b"%1\r\n$1\r\nk\r\n~2\r\n:1\r\n:2\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n",
        b"=8\r\ntxt:abcd\r\n!7\r\nERR bad\r\n",
    ];
    for bytes in ok {
        fuzzing::check_replies(bytes).unwrap_or_else(|e| std::panic!("{:?}: {e}", show(bytes)));
    }
}

#[test]
fn reply_parser_rejects_malformed_replies() {
    let bad: &[&[u8]] = &[
        b"+OK\n",
        b"+O\rK\r\n",
        b"-\r\n",
        b"-err lowercase\r\n",
        b":\r\n",
        b":01\r\n",
        b":-0\r\n",
        b":1x\r\n",
        b"$3\r\nab\r\n",
        b"$1\r\nab\r\n",
        b"$-2\r\n",
        b"*-2\r\n",
        b"%-1\r\n",
        b"*1\r\n",
        b"$3\r\nabc",
        b"x\r\n",
        b"_x\r\n",
        b"#x\r\n",
        b",1.2.3\r\n",
        b">0\r\n",
        b"=2\r\nab\r\n",
        b"!3\r\nerr\r\n",
    ];
    for bytes in bad {
        assert!(fuzzing::check_replies(bytes).is_err(), "accepted {:?}", show(bytes));
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn reply_stream_tracks_the_protocol() {
    // RESP3 types only after a HELLO 3 reply.
    let mut s = ReplyStream::new();
    assert!(s.push(b"+OK\r\n_\r\n").is_err());
    let mut s = ReplyStream::new();
    s.push(b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n_\r\n").unwrap();
    assert_eq!(s.replies, 2);
    // Split anywhere, a reply is checked once complete.
    let mut s = ReplyStream::new();
    for b in b"*2\r\n$5\r\nhello\r\n:1\r\n" {
        s.push(&[*b]).unwrap();
    }
    assert_eq!((s.replies, s.pending()), (1, 0));
    s.push(b"$5\r\nhel").unwrap();
    assert!(s.finish(false).is_err());
    assert!(s.finish(true).is_ok());
}

/// Plain, empty and truncated inputs pass the harness.
#[test]
fn harness_runs_plain_inputs() {
    let s = seed("t", vec![Cmd(0, &["SET", "k", "v"]), Cmd(1, &["GET", "k"])]);
    fuzzing::two_clients(&encode(&s), None).unwrap();
    fuzzing::two_clients(&[], None).unwrap();
    fuzzing::two_clients(&[0xff, 0xfe, 0x81], None).unwrap();
}

/// A HELLO 3 whose reply CLIENT REPLY OFF dropped still makes the client
/// RESP3: its later pushes are `>` frames, which the harness must accept
/// (CI's fuzzer found the harness inferring the protocol from replies only).
#[test]
fn harness_knows_a_silent_hello_3() {
    let s = seed(
        "t",
        vec![
            Cmd(0, &["CLIENT", "REPLY", "OFF"]),
            Cmd(0, &["HELLO", "3"]),
            Cmd(0, &["CLIENT", "REPLY", "ON"]),
            Cmd(0, &["SSUBSCRIBE", "x"]),
            Cmd(0, &["SUBSCRIBE", "y"]),
        ],
    );
    fuzzing::two_clients(&encode(&s), None).unwrap();
}

/// A client blocked on a stream, with a SET pipelined behind: FLUSHALL
/// wakes it and the SET then runs. The harness's closing FLUSHALL check
/// must not count that key as memory FLUSHALL failed to free (found by
/// the fuzzer).
#[test]
fn harness_closing_flushall_ignores_woken_pipelines() {
    let s = seed(
        "t",
        vec![
            Cmd(0, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
            Cmd(1, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]),
            Cmd(1, &["SET", "k", "v"]),
        ],
    );
    fuzzing::two_clients(&encode(&s), None).unwrap();
}

/// A RESP3 tracking client redirecting to a RESP2 subscriber: FLUSHALL's
/// invalidation null reaches the subscriber in RESP2 (found by the fuzzer).
#[test]
fn flush_invalidation_to_a_resp2_redirect_target_is_resp2() {
    let s = seed(
        "t",
        vec![
            Cmd(1, &["SUBSCRIBE", "__redis__:invalidate"]),
            Cmd(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "2", "OPTIN"]),
            Cmd(0, &["HELLO", "3"]),
            Cmd(0, &["FLUSHALL"]),
        ],
    );
    fuzzing::two_clients(&encode(&s), None).unwrap();
}
