#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

/// The fields of a CLIENT LIST / INFO line, by name.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f, ""));
            (String::from(k), String::from(v))
        })
        .collect()
}

fn field(line: &str, name: &str) -> String {
    fields(line).into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
}

/// The text of a bulk (RESP2 verbatim) reply.
fn bulk_text(reply: &str) -> String {
    let (_, rest) = reply.split_once("\r\n").expect("bulk header");
    String::from(rest.strip_suffix("\r\n").unwrap_or(rest))
}

#[test]
fn client_info_has_redis_fields_in_order() {
    let mut h = H::new();
    let c = h.client();
    let line = bulk_text(&h.cmd(c, &["CLIENT", "INFO"]));
    let names: Vec<String> = fields(&line).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp"
        ]
    );
    // The query buffer still holds the 26 bytes of this very command.
    assert_eq!(field(&line, "qbuf"), "26");
    assert_eq!(field(&line, "argv-mem"), "10");
    assert_eq!(field(&line, "flags"), "N");
    assert_eq!(field(&line, "cmd"), "client|info");
    assert_eq!(field(&line, "obl"), "0");
    assert_eq!(field(&line, "omem"), "0");
    // Flags in Redis's order: P (pub/sub) before x (MULTI).
    h.cmd(c, &["SUBSCRIBE", "ch"]);
    h.cmd(c, &["RESET"]);
    h.cmd(c, &["CLIENT", "NO-EVICT", "on"]);
    h.cmd(c, &["MULTI"]);
    // A reply the app has not taken yet.
    h.s.feed(c, &enc(&[b"PING"]), h.now);
    let other = h.client();
    let list = bulk_text(&h.cmd(other, &["CLIENT", "LIST"]));
    let first = list.lines().next().unwrap_or("");
    assert_eq!(field(first, "flags"), "xe");
    assert_eq!(field(first, "events"), "rw");
    assert_eq!(field(first, "obl"), "9");
    assert_eq!(field(first, "qbuf"), "0");
}

#[test]
fn client_kill_and_list_errors() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["CLIENT", "KILL"] => "-ERR wrong number of arguments for 'client|kill' command\r\n",
        ["CLIENT", "KILL", "ID", "10", "wrong_arg"] => "-ERR syntax error\r\n",
        ["CLIENT", "KILL", "ID", "str"] => "-ERR client-id should be greater than 0\r\n",
        ["CLIENT", "KILL", "ID", "0"] => "-ERR client-id should be greater than 0\r\n",
        ["CLIENT", "KILL", "TYPE", "wrong_type"] => "-ERR Unknown client type 'wrong_type'\r\n",
        ["CLIENT", "KILL", "USER", "wrong_user"] => "-ERR No such user 'wrong_user'\r\n",
        ["CLIENT", "KILL", "SKIPME", "yes_or_no"] => "-ERR syntax error\r\n",
        ["CLIENT", "KILL", "TYPE", "master"] => ":0\r\n",
        ["CLIENT", "KILL", "1.2.3.4:5"] => "-ERR No such client\r\n",
        ["CLIENT", "LIST", "TYPE", "nope"] => "-ERR Unknown client type 'nope'\r\n",
        ["CLIENT", "LIST", "ID", "0"] => "-ERR Invalid client ID\r\n",
        ["CLIENT", "LIST", "foo"] => "-ERR syntax error\r\n",
        // Redis 7.2's subcommands are not in 7.0.
        ["CLIENT", "setinfo", "lib-name", "x"] => "-ERR unknown subcommand 'setinfo'. Try CLIENT HELP.\r\n",
        ["CLIENT", "no-touch", "on"] => "-ERR unknown subcommand 'no-touch'. Try CLIENT HELP.\r\n",
    );
    let other = h.client();
    assert_eq!(h.cmd(c, &["CLIENT", "KILL", "USER", "default"]), ":1\r\n");
    assert!(h.s.should_close(other));
    assert!(!h.s.should_close(c));
}

#[test]
fn monitor_shows_commands_as_redis_does() {
    let mut h = H::new();
    let m = h.client();
    let c = h.client();
    assert_eq!(h.cmd(m, &["MONITOR"]), "+OK\r\n");
    // A second MONITOR is ignored without a reply.
    assert_eq!(h.cmd(m, &["MONITOR"]), "");
    h.cmd(c, &["SET", "k", "a\"b\\\r\n\x01"]);
    h.cmd(c, &["SELECT", "3"]);
    // Admin commands are not shown.
    h.cmd(c, &["CONFIG", "GET", "hz"]);
    // Secrets are not shown, even when the command fails.
    h.cmd(c, &["AUTH", "not-real"]);
    h.cmd(c, &["AUTH", "user", "not-a-password"]);
    h.cmd(c, &["HELLO", "2", "AUTH", "not-real", "not-a-password", "SETNAME", "x"]);
    let out = show(&h.take(m));
    let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[2].ends_with("\"AUTH\" \"(redacted)\""), "{}", lines[2]);
    assert!(lines[3].ends_with("\"AUTH\" \"(redacted)\" \"(redacted)\""), "{}", lines[3]);
    assert!(
        lines[4].ends_with("\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"x\""),
        "{}",
        lines[4]
    );
    // Arguments as sent (here in capitals), quoted like sdscatrepr.
    assert_eq!(lines[0], "+1700000000.000000 [0 127.0.0.1:50000] \"SET\" \"k\" \"a\\\"b\\\\\\r\\n\\x01\"");
    assert!(lines[1].ends_with("[3 127.0.0.1:50000] \"SELECT\" \"3\""), "{}", lines[1]);

    // MULTI, then the queued commands when EXEC runs them, then EXEC.
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["INCR", "n"]);
    h.cmd(c, &["EXEC"]);
    let out = show(&h.take(m));
    let cmds: Vec<&str> = out.lines().map(|l| l.rsplit("] ").next().unwrap_or("")).collect();
    assert_eq!(cmds, ["\"MULTI\"", "\"INCR\" \"n\"", "\"EXEC\""]);
    // A transaction that failed to queue: MULTI and EXEC only.
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["NOSUCH"]);
    assert!(h.cmd(c, &["EXEC"]).starts_with("-EXECABORT"));
    let out = show(&h.take(m));
    let cmds: Vec<&str> = out.lines().map(|l| l.rsplit("] ").next().unwrap_or("")).collect();
    assert_eq!(cmds, ["\"MULTI\"", "\"EXEC\""]);

    let list = bulk_text(&h.cmd(c, &["CLIENT", "LIST", "ID", "1"]));
    assert_eq!(field(&list, "flags"), "O");
    h.take(m);
    // A MONITOR client may not use the keyspace (Redis sees a replica);
    // what it runs is shown to it too.
    assert_eq!(h.cmd(m, &["GET", "k"]), "-ERR Replica can't interact with the keyspace\r\n");
    let own = h.cmd(m, &["PING"]);
    assert!(own.starts_with("+PONG\r\n+1700000000.000000 [0 127.0.0.1:50000] \"PING\"\r\n"), "{own}");
    // RESET leaves monitor mode; so does disconnecting.
    assert_eq!(h.cmd(m, &["RESET"]), "+RESET\r\n");
    h.cmd(c, &["PING"]);
    assert_eq!(h.take(m), b"");
    h.cmd(m, &["MONITOR"]);
    h.s.disconnect(m);
    h.cmd(c, &["PING"]);
    assert!(h.s.monitors.is_empty());
    // Not inside a transaction.
    h.cmd(c, &["MULTI"]);
    h.cmd(c, &["MONITOR"]);
    assert_eq!(h.cmd(c, &["EXEC"]), "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n");
}

#[test]
fn config_set_checks_names_before_values() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["CONFIG", "SET", "maxmemory", "10000001", "maxmemory", "10000002"] =>
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n",
        ["CONFIG", "SET", "hash-max-listpack-entries", "1", "HASH-MAX-ZIPLIST-ENTRIES", "2"] =>
            "-ERR CONFIG SET failed (possibly related to argument 'HASH-MAX-ZIPLIST-ENTRIES') - duplicate parameter\r\n",
        ["CONFIG", "SET", "maxmemory", "1", "NoSuch", "2"] =>
            "-ERR Unknown option or number of arguments for CONFIG SET - 'NoSuch'\r\n",
        ["CONFIG", "SET", "daemonize", "yes"] =>
            "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n",
        ["CONFIG", "SET", "maxmemory", "1", "hz"] => "-ERR syntax error\r\n",
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
        // Setting the port or bind to what they are is fine; changing them
        // fails as Redis's apply step does, and nothing else is changed.
        ["CONFIG", "SET", "port", "6379", "bind", "* -::*"] => "+OK\r\n",
        ["CONFIG", "SET", "maxmemory", "1mb", "port", "7000"] =>
            "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port: the listening socket cannot change at run time\r\n",
        ["CONFIG", "GET", "maxmemory"] => "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
        ["CONFIG", "SET", "maxmemory", "10000001", "repl-backlog-size", "10000002", "save", "3000 5"] => "+OK\r\n",
        ["CONFIG", "GET", "repl-backlog-size"] => "*2\r\n$17\r\nrepl-backlog-size\r\n$8\r\n10000002\r\n",
        ["CONFIG", "SET", "slaveof", "no one"] => "+OK\r\n",
        ["CONFIG", "SET", "replicaof", "127.0.0.1 6379"] =>
            "-ERR CONFIG SET failed (possibly related to argument 'replicaof') - replication is not supported by this server\r\n",
    );
}

/// The names in a CONFIG GET reply, in order.
fn config_names(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    lines.iter().skip(2).step_by(4).map(|s| String::from(*s)).filter(|s| !s.is_empty()).collect()
}

#[test]
fn config_get_patterns_aliases_and_hidden_parameters() {
    let mut h = H::new();
    let c = h.client();
    let all = config_names(&h.cmd(c, &["CONFIG", "GET", "*"]));
    assert!(!all.iter().any(|n| n == "key-load-delay"));
    assert!(all.iter().any(|n| n == "slaveof") && all.iter().any(|n| n == "replicaof"));
    assert!(all.iter().any(|n| n == "list-max-ziplist-size") && all.iter().any(|n| n == "list-max-listpack-size"));
    // Every name CONFIG GET * reports can be set back to its value.
    let reply = h.cmd(c, &["CONFIG", "GET", "*"]);
    let parts: Vec<&str> = reply.split("\r\n").collect();
    let pairs: Vec<(String, String)> =
        parts[1..].chunks(4).filter(|p| p.len() == 4).map(|p| (String::from(p[1]), String::from(p[3]))).collect();
    for (name, value) in &pairs {
        if matches!(name.as_str(), "databases" | "daemonize" | "requirepass") {
            continue;
        }
        assert_eq!(h.cmd(c, &["CONFIG", "SET", name, value]), "+OK\r\n", "{name} {value}");
    }
    assert_eq!(h.cmd(c, &["CONFIG", "GET", "*"]), reply);
    // Exact names: hidden ones too, reported as asked.
    assert_eq!(h.cmd(c, &["CONFIG", "GET", "key-load-delay"]), "*2\r\n$14\r\nkey-load-delay\r\n$1\r\n0\r\n");
    assert_eq!(h.cmd(c, &["CONFIG", "GET", "HZ"]), "*2\r\n$2\r\nHZ\r\n$2\r\n10\r\n");
    // Several arguments, no duplicates.
    let names = config_names(&h.cmd(c, &["CONFIG", "GET", "maxmemory", "maxmemory*", "bind", "*of"]));
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    for n in ["maxmemory", "maxmemory-samples", "maxmemory-clients", "maxmemory-policy", "bind", "slaveof", "replicaof"]
    {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
}

/// The section titles of an INFO reply, in order.
fn sections(reply: &str) -> Vec<String> {
    reply.lines().filter_map(|l| l.strip_prefix("# ")).map(String::from).collect()
}

#[test]
fn info_sections_and_counters() {
    let mut h = H::new();
    let c = h.client();
    let default = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(sections(&h.cmd(c, &["INFO"])), default);
    assert_eq!(sections(&h.cmd(c, &["INFO", "default"])), default);
    let all = sections(&h.cmd(c, &["INFO", "all"]));
    assert_eq!(all.len(), default.len() + 2);
    assert_eq!(all[8], "Commandstats");
    assert_eq!(all[10], "Latencystats");
    assert_eq!(sections(&h.cmd(c, &["INFO", "everything"])), all);
    assert_eq!(sections(&h.cmd(c, &["INFO", "cpu", "all"])), all);
    assert_eq!(sections(&h.cmd(c, &["INFO", "keyspace", "CPU", "sentinel"])), ["CPU", "Keyspace"]);
    assert_eq!(sections(&h.cmd(c, &["INFO", "cpu", "default"])), default);

    h.cmd(c, &["CONFIG", "RESETSTAT"]);
    h.cmd(c, &["SET", "k", "v"]);
    h.cmd(c, &["LPUSH", "k", "x"]);
    h.cmd(c, &["GET"]);
    h.cmd(c, &["NOSUCH"]);
    h.cmd(c, &["CONFIG", "GET", "hz"]);
    h.cmd(c, &["CONFIG", "SET", "hz", "x"]);
    h.cmd(c, &["CONFIG", "NOSUCH"]);
    let stats = h.cmd(c, &["INFO", "commandstats", "errorstats"]);
    // Container commands count per subcommand; unknown ones nowhere.
    assert!(
        stats.contains("cmdstat_config|get:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0\r\n"),
        "{stats}"
    );
    assert!(
        stats.contains("cmdstat_config|set:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=1\r\n"),
        "{stats}"
    );
    assert!(stats.contains("cmdstat_config|resetstat:calls=1,"), "{stats}");
    assert!(!stats.contains("cmdstat_config:"), "{stats}");
    assert!(
        stats.contains("cmdstat_set:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0\r\n"),
        "{stats}"
    );
    assert!(
        stats.contains("cmdstat_lpush:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=1\r\n"),
        "{stats}"
    );
    assert!(
        stats.contains("cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n"),
        "{stats}"
    );
    assert!(stats.contains("errorstat_WRONGTYPE:count=1\r\n"), "{stats}");
    assert!(stats.contains("errorstat_ERR:count=4\r\n"), "{stats}");
    assert!(h.cmd(c, &["INFO", "stats"]).contains("total_error_replies:5\r\n"));
    assert!(!stats.contains("cmdstat_config|nosuch"));

    // CPU time only as the app reports it; children never run.
    let cpu = h.cmd(c, &["INFO", "cpu"]);
    assert!(!cpu.contains("used_cpu_user:") && cpu.contains("used_cpu_user_children:0.000000\r\n"), "{cpu}");
    h.s.set_cpu_usage(1_500_000, 2_000_001);
    h.cmd(c, &["CONFIG", "RESETSTAT"]);
    let cpu = h.cmd(c, &["INFO", "cpu"]);
    assert!(cpu.contains("used_cpu_sys:1.500000\r\nused_cpu_user:2.000001\r\n"), "{cpu}");
    // The peak is at least what is in use.
    let mem = h.cmd(c, &["INFO", "memory"]);
    let num = |name: &str| -> usize {
        mem.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    assert!(num("used_memory_peak:") >= num("used_memory:") && num("used_memory:") > 0, "{mem}");
}

#[test]
fn client_pause_write_holds_back_writes_until_unpause() {
    let mut h = H::new();
    let admin = h.client();
    let c = h.client();
    let w = h.client();
    h.cmd(w, &["MULTI"]);
    assert_eq!(h.cmd(w, &["SET", "k", "1"]), "+QUEUED\r\n");
    script!(h, admin,
        ["CLIENT", "PAUSE", "10", "SOME"] => "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n",
        ["CLIENT", "PAUSE", "-1"] => "-ERR timeout is negative\r\n",
        ["CLIENT", "PAUSE", "x"] => "-ERR timeout is not an integer or out of range\r\n",
        ["CLIENT", "PAUSE", "60000", "WRITE"] => "+OK\r\n",
    );
    // Reads run; a write waits, and so does what the client sent after it.
    assert_eq!(h.cmd(c, &["GET", "k"]), "$-1\r\n");
    assert_eq!(h.cmd(c, &["PUBLISH", "ch", "m"]), "");
    assert_eq!(h.cmd(c, &["GET", "k"]), "");
    assert!(h.cmd(admin, &["INFO", "clients"]).contains("blocked_clients:1\r\n"));
    let list = bulk_text(&h.cmd(admin, &["CLIENT", "LIST", "ID", "2"]));
    assert_eq!(field(&list, "flags"), "b");
    // Refused commands answer at once.
    assert_eq!(h.cmd(admin, &["SET", "k"]), "-ERR wrong number of arguments for 'set' command\r\n");
    // A transaction that writes waits at EXEC; one that only reads does not.
    let t = h.client();
    h.cmd(t, &["MULTI"]);
    assert_eq!(h.cmd(t, &["GET", "k"]), "+QUEUED\r\n");
    assert_eq!(h.cmd(t, &["EXEC"]), "*1\r\n$-1\r\n");
    assert_eq!(h.cmd(w, &["EXEC"]), "");
    // Inside MULTI a write waits too, before being queued.
    h.cmd(t, &["MULTI"]);
    assert_eq!(h.cmd(t, &["INCR", "n"]), "");
    assert_eq!(h.cmd(admin, &["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(show(&h.take(c)), ":0\r\n$-1\r\n");
    assert_eq!(show(&h.take(w)), "*1\r\n+OK\r\n");
    assert_eq!(show(&h.take(t)), "+QUEUED\r\n");
    assert_eq!(h.cmd(t, &["EXEC"]), "*1\r\n:1\r\n");
    assert!(h.cmd(admin, &["INFO", "clients"]).contains("blocked_clients:0\r\n"));

    // A client killed while held back never runs its command.
    h.cmd(admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    assert_eq!(h.cmd(c, &["SET", "killed", "1"]), "");
    assert_eq!(h.cmd(admin, &["CLIENT", "KILL", "ID", "2"]), ":1\r\n");
    assert!(h.cmd(admin, &["INFO", "clients"]).contains("blocked_clients:0\r\n"));
    h.cmd(admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(h.cmd(admin, &["EXISTS", "killed"]), ":0\r\n");
}

#[test]
fn client_pause_all_ends_by_itself() {
    let mut h = H::new();
    let admin = h.client();
    let c = h.client();
    assert_eq!(h.cmd(admin, &["CLIENT", "PAUSE", "100"]), "+OK\r\n");
    assert_eq!(h.cmd(c, &["PING"]), "");
    assert_eq!(h.s.next_deadline().map(|t| t.mono_ms), Some(h.now.mono_ms + 100));
    h.advance(50);
    h.tick();
    assert_eq!(h.take(c), b"");
    h.advance(60);
    h.tick();
    assert_eq!(show(&h.take(c)), "+PONG\r\n");
    assert_eq!(h.cmd(c, &["PING"]), "+PONG\r\n");
}

#[test]
fn client_unblock_ends_a_wait_on_keys() {
    let mut h = H::new();
    let admin = h.client();
    let c = h.client();
    assert_eq!(h.cmd(c, &["BLPOP", "l", "0"]), "");
    script!(h, admin,
        ["CLIENT", "UNBLOCK", "2", "NOW"] => "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
        ["CLIENT", "UNBLOCK", "x"] => "-ERR value is not an integer or out of range\r\n",
        ["CLIENT", "UNBLOCK", "1"] => ":0\r\n",
        ["CLIENT", "UNBLOCK", "2"] => ":1\r\n",
        ["CLIENT", "UNBLOCK", "2"] => ":0\r\n",
    );
    assert_eq!(show(&h.take(c)), "*-1\r\n");
    assert_eq!(h.cmd(c, &["BLPOP", "l", "10"]), "");
    assert_eq!(h.cmd(admin, &["CLIENT", "UNBLOCK", "2", "ERROR"]), ":1\r\n");
    assert_eq!(show(&h.take(c)), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(h.s.next_deadline(), None);
    assert_eq!(h.cmd(admin, &["LPUSH", "l", "a"]), ":1\r\n");
    assert_eq!(h.take(c), b"");
}

#[test]
fn info_reports_instantaneous_rates_from_tick_samples() {
    let mut h = H::new();
    let c = h.client();
    h.tick();
    for _ in 0..16 {
        for _ in 0..10 {
            h.cmd(c, &["PING"]);
        }
        h.advance(100);
        h.tick();
    }
    let info = h.cmd(c, &["INFO", "stats"]);
    // 10 commands per 100 ms: 14 bytes in (*1 $4 PING) and 7 out (+PONG) each.
    assert!(info.contains("instantaneous_ops_per_sec:100\r\n"), "{info}");
    assert!(info.contains("instantaneous_input_kbps:1.37\r\n"), "{info}");
    assert!(info.contains("instantaneous_output_kbps:0.68\r\n"), "{info}");
}

#[test]
fn role_and_the_cluster_mode_commands_answer_as_a_master_without_cluster() {
    let mut h = H::new();
    let c = h.client();
    let disabled = "-ERR This instance has cluster support disabled\r\n";
    script!(h, c,
        ["ROLE"] => "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n",
        ["ROLE", "x"] => "-ERR wrong number of arguments for 'role' command\r\n",
        ["CLUSTER", "INFO"] => disabled,
        ["CLUSTER", "HELP"] => disabled,
        ["CLUSTER"] => "-ERR wrong number of arguments for 'cluster' command\r\n",
        ["READONLY"] => disabled,
        ["READWRITE"] => disabled,
        ["ASKING"] => disabled,
        ["READONLY", "x"] => "-ERR wrong number of arguments for 'readonly' command\r\n",
    );
}

/// The ACL categories COMMAND INFO lists: Redis's names only (no group
/// such as `@server`), in Redis's order, with its exceptions.
#[test]
fn command_info_lists_redis_acl_categories_in_redis_order() {
    let mut h = H::new();
    let c = h.client();
    let categories = |h: &mut H, name: &str| {
        let info = h.cmd(c, &["COMMAND", "INFO", name]);
        let cats: Vec<String> =
            info.split("\r\n").filter(|l| l.starts_with("+@")).map(|l| l[1..].to_string()).collect();
        cats.join(" ")
    };
    assert_eq!(categories(&mut h, "get"), "@read @string @fast");
    assert_eq!(categories(&mut h, "del"), "@keyspace @write @slow");
    assert_eq!(categories(&mut h, "blpop"), "@write @list @slow @blocking");
    assert_eq!(categories(&mut h, "time"), "@fast");
    assert_eq!(categories(&mut h, "role"), "@admin @fast @dangerous");
    assert_eq!(categories(&mut h, "flushall"), "@keyspace @write @slow @dangerous");
    assert_eq!(categories(&mut h, "readonly"), "@fast @connection");
}
