#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;
use crate::{ClientId, Config};

#[test]
fn ping_echo_select_errors() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["PING"] => "+PONG\r\n",
        ["ping", "hi"] => "$2\r\nhi\r\n",
        ["PING", "a", "b"] => "-ERR wrong number of arguments for 'ping' command\r\n",
        ["ECHO", "x y"] => "$3\r\nx y\r\n",
        ["echo"] => "-ERR wrong number of arguments for 'echo' command\r\n",
        ["SELECT", "1"] => "+OK\r\n",
        ["SELECT", "16"] => "-ERR DB index is out of range\r\n",
        ["SELECT", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["FOO", "a", "b"] => "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
        ["foo"] => "-ERR unknown command 'foo', with args beginning with: \r\n",
        ["GET"] => "-ERR wrong number of arguments for 'get' command\r\n",
        ["DBSIZE"] => ":0\r\n",
        ["CONFIG", "GET"] => "-ERR wrong number of arguments for 'config|get' command\r\n",
        ["CONFIG", "NOPE"] => "-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n",
    );
    assert_eq!(h.line(c, "PING"), "+PONG\r\n");
    assert_eq!(h.line(c, "echo \"a b\""), "$3\r\na b\r\n");
}

#[test]
fn quit_closes_after_reply() {
    let mut h = H::new();
    let c = h.client();
    h.s.feed(c, b"QUIT\r\nPING\r\n", h.now);
    assert_eq!(h.s.output(c), b"+OK\r\n");
    assert!(h.s.should_close(c));
    assert!(h.s.clients_with_output().any(|x| x == c));
}

#[test]
fn protocol_errors_close_connection() {
    let cases: &[(&[u8], &str)] = &[
        (b"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"SET \"a\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
    ];
    for (input, expected) in cases {
        let mut h = H::new();
        let c = h.client();
        let mut bytes = b"PING\r\n".to_vec();
        bytes.extend_from_slice(input);
        let got = show(&h.raw(c, &bytes));
        assert_eq!(got, alloc::format!("+PONG\r\n{expected}"));
        assert!(h.s.should_close(c));
        // Further input is ignored.
        assert_eq!(h.raw(c, b"PING\r\n"), b"");
    }
}

#[test]
fn auth_and_noauth() {
    let cfg = Config::from_args(&["--requirepass", "secret"]).unwrap();
    let mut h = H::with(cfg);
    let c = h.client();
    script!(h, c,
        ["GET", "k"] => "-NOAUTH Authentication required.\r\n",
        ["AUTH", "wrong"] => "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        ["AUTH", "default", "wrong"] => "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        ["AUTH", "secret"] => "+OK\r\n",
        ["GET", "k"] => "$-1\r\n",
    );
    let d = h.client();
    script!(h, d,
        ["HELLO", "3"] => "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
        ["AUTH", "default", "secret"] => "+OK\r\n",
        ["RESET"] => "+RESET\r\n",
        ["PING"] => "-NOAUTH Authentication required.\r\n",
    );
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["AUTH", "x"] => "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
}

#[test]
fn unauthenticated_big_requests_rejected() {
    let cfg = Config::from_args(&["--requirepass", "secret"]).unwrap();
    let mut h = H::with(cfg);
    let c = h.client();
    let got = show(&h.raw(c, b"*100\r\n"));
    assert_eq!(got, "-ERR Protocol error: unauthenticated multibulk length\r\n");
}

#[test]
fn hello_resp3() {
    let mut h = H::new();
    let c = h.client();
    let got = h.cmd(c, &["HELLO", "3", "SETNAME", "me"]);
    assert_eq!(
        got,
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    );
    script!(h, c,
        ["CLIENT", "GETNAME"] => "$2\r\nme\r\n",
        ["GET", "nokey"] => "_\r\n",
        ["HELLO", "4"] => "-NOPROTO unsupported protocol version\r\n",
        ["HELLO", "x"] => "-ERR Protocol version is not an integer or out of range\r\n",
        ["HELLO", "2", "FOO"] => "-ERR Syntax error in HELLO option 'FOO'\r\n",
    );
    let got = h.cmd(c, &["HELLO", "2"]);
    assert!(got.starts_with("*14\r\n"), "{got}");
    assert_eq!(h.cmd(c, &["GET", "nokey"]), "$-1\r\n");
}

#[test]
fn client_commands() {
    let mut h = H::new();
    let a = h.client();
    let b = h.client();
    script!(h, a,
        ["CLIENT", "ID"] => ":1\r\n",
        ["CLIENT", "SETNAME", "bad name"] => "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        ["CLIENT", "SETNAME", "alpha"] => "+OK\r\n",
        ["CLIENT", "GETNAME"] => "$5\r\nalpha\r\n",
        ["CLIENT", "KILL", "ID", "99"] => ":0\r\n",
        ["CLIENT", "FOO"] => "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
    );
    let list = h.cmd(a, &["CLIENT", "LIST"]);
    assert!(list.contains("id=1 addr=127.0.0.1:50000"), "{list}");
    assert!(list.contains("name=alpha"), "{list}");
    // Like Redis 7: a container command shows with its subcommand.
    assert!(list.lines().any(|l| l.starts_with("id=1 ") && l.contains(" cmd=client|list ")), "{list}");
    assert!(list.contains("id=2 "), "{list}");
    let info = h.cmd(a, &["CLIENT", "INFO"]);
    assert!(info.contains("id=1 ") && info.contains(" cmd=client|info "), "{info}");
    assert_eq!(h.cmd(a, &["CLIENT", "KILL", "ID", "2"]), ":1\r\n");
    assert!(h.s.should_close(b));
    assert!(h.s.clients_with_output().any(|x| x == b));
    h.s.disconnect(b);
    assert_eq!(h.s.client_count(), 1);
}

#[test]
fn maxclients_refuses() {
    let cfg = Config::from_args(&["--maxclients", "1"]).unwrap();
    let mut h = H::with(cfg);
    let _a = h.client();
    let r = h.s.connect("x:1", h.now).unwrap_err();
    assert_eq!(r.reply, b"-ERR max number of clients reached\r\n");
}

#[test]
fn info_config_command_time() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["SET", "a", "1"]);
    let info = h.cmd(c, &["INFO"]);
    assert!(info.contains("redis_version:7.0.15\r\n"), "{info}");
    assert!(info.ends_with("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n"), "{info}");
    let len: usize = info[1..info.find("\r\n").unwrap()].parse().unwrap();
    assert_eq!(len + info.find("\r\n").unwrap() + 4, info.len());
    assert!(info.contains("connected_clients:1"), "{info}");
    let mem = h.cmd(c, &["INFO", "memory"]);
    assert!(mem.contains("used_memory:") && !mem.contains("# Server"), "{mem}");
    script!(h, c,
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
        ["CONFIG", "SET", "maxmemory", "10mb"] => "+OK\r\n",
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n",
        ["CONFIG", "SET", "maxmemory", "lots"] => "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n",
        ["CONFIG", "SET", "nope", "1"] => "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n",
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"] => "+OK\r\n",
        ["CONFIG", "SET", "save", ""] => "+OK\r\n",
        ["CONFIG", "GET", "appendonly"] => "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    );
    let g = h.cmd(c, &["CONFIG", "GET", "maxmemory*"]);
    assert!(g.starts_with("*8\r\n"), "{g}");
    let count = h.cmd(c, &["COMMAND", "COUNT"]);
    assert!(count.starts_with(':'));
    let info = h.cmd(c, &["COMMAND", "INFO", "get"]);
    assert!(
        info.starts_with("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"),
        "{info}"
    );
    let docs = h.cmd(c, &["COMMAND", "DOCS", "set"]);
    assert!(docs.starts_with("*2\r\n$3\r\nset\r\n"), "{docs}");
    let all = h.cmd(c, &["COMMAND"]);
    assert!(all.starts_with('*'));
    let docs = h.cmd(c, &["COMMAND", "DOCS"]);
    assert!(docs.starts_with('*'));
    let keys = h.cmd(c, &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]);
    assert_eq!(keys, "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    let t = h.cmd(c, &["TIME"]);
    assert_eq!(t, "*2\r\n$10\r\n1700000000\r\n$1\r\n0\r\n");
    // With a wall clock, TIME reads it afresh, to the microsecond.
    h.s.set_wall_clock(|| 1_700_000_001_023_456);
    assert_eq!(h.cmd(c, &["TIME"]), "*2\r\n$10\r\n1700000001\r\n$5\r\n23456\r\n");
    assert_eq!(h.cmd(c, &["SHUTDOWN"]), "");
    assert!(h.s.shutdown_requested());
}

#[test]
fn flush_and_dbsize() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["SET", "a", "1"] => "+OK\r\n",
        ["SELECT", "2"] => "+OK\r\n",
        ["SET", "b", "1"] => "+OK\r\n",
        ["DBSIZE"] => ":1\r\n",
        ["FLUSHDB"] => "+OK\r\n",
        ["DBSIZE"] => ":0\r\n",
        ["SELECT", "0"] => "+OK\r\n",
        ["DBSIZE"] => ":1\r\n",
        ["FLUSHALL", "ASYNC"] => "+OK\r\n",
        ["DBSIZE"] => ":0\r\n",
        ["FLUSHALL", "x"] => "-ERR syntax error\r\n",
    );
}

#[test]
fn output_backpressure_and_limit() {
    let mut cfg = Config::default();
    cfg.output_pause_threshold = 1024;
    cfg.output_limit_normal.hard = 64 * 1024;
    let mut h = H::with(cfg);
    let c = h.client();
    let big = alloc::vec![b'x'; 1000];
    h.s.feed(c, &enc(&[b"SET", b"k", &big]), h.now);
    h.take(c);
    // Ten GETs pipelined: parsing pauses once >1 KiB is pending.
    let mut pipe = Vec::new();
    for _ in 0..10 {
        pipe.extend_from_slice(&enc(&[b"GET", b"k"]));
    }
    h.s.feed(c, &pipe, h.now);
    let first = h.s.output(c).len();
    assert!(first < 3000, "paused after ~2 replies, got {first}");
    let mut total = 0;
    loop {
        let n = h.s.output(c).len();
        if n == 0 {
            break;
        }
        total += n;
        h.s.consume_output(c, n);
    }
    assert_eq!(total, 10 * (1000 + 9));
    // Hard limit: a huge reply without reading disconnects.
    let big = alloc::vec![b'y'; 40 * 1024];
    h.s.feed(c, &enc(&[b"SET", b"big", &big]), h.now);
    h.take(c);
    let mut huge = Vec::new();
    huge.extend_from_slice(&enc(&[b"GET", b"big"]));
    h.s.feed(c, &huge, h.now);
    h.s.feed(c, &huge, h.now); // paused: stays buffered
    assert!(!h.s.should_close(c));
    // A second client publishing into a subscriber's buffer.
    let sub = h.client();
    h.cmd(sub, &["SUBSCRIBE", "ch"]);
    let p = h.client();
    for _ in 0..3 {
        h.s.feed(p, &enc(&[b"PUBLISH", b"ch", &big]), h.now);
        h.take(p);
    }
    assert!(!h.s.should_close(sub));
    let _ = ClientId(0);
}

#[test]
fn hard_output_limit_disconnects() {
    let mut cfg = Config::default();
    cfg.output_limit_normal.hard = 10 * 1024;
    cfg.output_pause_threshold = usize::MAX;
    let mut h = H::with(cfg);
    let c = h.client();
    let big = alloc::vec![b'x'; 20 * 1024];
    h.s.feed(c, &enc(&[b"SET", b"k", &big]), h.now);
    h.take(c);
    h.s.feed(c, &enc(&[b"GET", b"k"]), h.now);
    assert!(h.s.should_close(c));
    assert_eq!(h.s.output(c), b"");
}
