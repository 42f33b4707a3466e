//! Connection and server commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO,
//! RESET, CLIENT, INFO, DBSIZE, FLUSHDB/ALL, TIME, COMMAND, CONFIG,
//! SHUTDOWN, SWAPDB and the persistence no-ops.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{int_arg, sub_arity_error, text, unknown_subcommand};
use crate::client::Client;
use crate::commands::{CommandSpec, TABLE, flags};
use crate::config::Config;
use crate::server::{Ctx, Server};
use crate::util::eq_ic;

pub const REDIS_VERSION: &str = "7.0.15";

pub fn ping(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 2 {
        c.out.err("ERR wrong number of arguments for 'ping' command");
        return;
    }
    let subscribed = s.clients.get(&c.cid).is_some_and(|cl| cl.in_resp2_pubsub());
    if subscribed {
        c.out.array(2);
        c.out.bulk(b"pong");
        let arg = c.arg(1).to_vec();
        c.out.bulk(&arg);
    } else if c.argc() == 2 {
        let arg = c.take_arg(1);
        c.out.bulk(&arg);
    } else {
        c.out.simple(b"PONG");
    }
}

pub fn echo(_s: &mut Server, c: &mut Ctx) {
    let arg = c.take_arg(1);
    c.out.bulk(&arg);
}

pub fn quit(s: &mut Server, c: &mut Ctx) {
    c.out.ok();
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.close_after_reply = true;
    }
}

pub fn select(s: &mut Server, c: &mut Ctx) {
    let Some(n) = int_arg(c, 1) else { return };
    if n < 0 || n as u64 >= s.dbs.len() as u64 {
        c.out.err("ERR DB index is out of range");
        return;
    }
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.db = n as usize;
    }
    c.db = n as usize;
    c.out.ok();
}

/// Checks a username/password pair against `requirepass`.
fn check_password(s: &Server, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &s.cfg.requirepass {
        None => true,
        Some(p) => secret_eq(p, pass),
    }
}

/// Compares a guess with a secret in time that depends only on the
/// secret's length: every byte of the secret is compared (against 0 past
/// the end of a shorter guess) and a length mismatch is folded in, with no
/// early exit.
fn secret_eq(secret: &[u8], guess: &[u8]) -> bool {
    let mut diff = u8::from(secret.len() != guess.len());
    for (i, &b) in secret.iter().enumerate() {
        diff |= b ^ guess.get(i).copied().unwrap_or(0);
        diff = core::hint::black_box(diff);
    }
    diff == 0
}

pub fn auth(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 3 {
        c.syntax_error();
        return;
    }
    let (user, pass) = if c.argc() == 2 {
        if s.cfg.requirepass.is_none() {
            c.out.err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        (b"default".to_vec(), c.arg(1).to_vec())
    } else {
        (c.arg(1).to_vec(), c.arg(2).to_vec())
    };
    if check_password(s, &user, &pass) {
        if let Some(cl) = s.clients.get_mut(&c.cid) {
            cl.authenticated = true;
        }
        c.out.ok();
    } else {
        c.out.err("WRONGPASS invalid username-password pair or user is disabled.");
    }
}

pub fn hello(s: &mut Server, c: &mut Ctx) {
    let mut ver: Option<i64> = None;
    let mut i = 1;
    if c.argc() >= 2 {
        match crate::util::parse_i64(c.arg(1)) {
            Some(v) => ver = Some(v),
            None => {
                c.out.err("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
        i = 2;
        if !(2..=3).contains(&ver.unwrap_or(2)) {
            c.out.err("NOPROTO unsupported protocol version");
            return;
        }
    }
    let mut auth: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut name: Option<Vec<u8>> = None;
    while i < c.argc() {
        let more = c.argc() - i - 1;
        if eq_ic(c.arg(i), "auth") && more >= 2 {
            auth = Some((c.arg(i + 1).to_vec(), c.arg(i + 2).to_vec()));
            i += 3;
        } else if eq_ic(c.arg(i), "setname") && more >= 1 {
            name = Some(c.arg(i + 1).to_vec());
            i += 2;
        } else {
            let opt = text(c.arg(i));
            c.out.err(&format!("ERR Syntax error in HELLO option '{opt}'"));
            return;
        }
    }
    if let Some((user, pass)) = auth {
        if !check_password(s, &user, &pass) {
            c.out.err("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        if let Some(cl) = s.clients.get_mut(&c.cid) {
            cl.authenticated = true;
        }
    }
    let authed = s.clients.get(&c.cid).is_some_and(|cl| cl.authenticated);
    if !authed {
        c.out.err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(n) = &name
        && !valid_client_name(n)
    {
        c.out.err("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    let Some(cl) = s.clients.get_mut(&c.cid) else { return };
    if let Some(n) = name {
        cl.name = if n.is_empty() { None } else { Some(n) };
        cl.refresh_extra_memory();
    }
    if let Some(v) = ver {
        cl.resp = v as u8;
        c.out.resp = v as u8;
    }
    let id = cl.id as i64;
    let proto = i64::from(cl.resp);
    c.out.map(7);
    c.out.bulk(b"server");
    c.out.bulk(b"redis");
    c.out.bulk(b"version");
    c.out.bulk(REDIS_VERSION.as_bytes());
    c.out.bulk(b"proto");
    c.out.int(proto);
    c.out.bulk(b"id");
    c.out.int(id);
    c.out.bulk(b"mode");
    c.out.bulk(b"standalone");
    c.out.bulk(b"role");
    c.out.bulk(b"master");
    c.out.bulk(b"modules");
    c.out.array(0);
}

pub fn reset(s: &mut Server, c: &mut Ctx) {
    s.unwatch_all(c.cid);
    crate::cmd::pubsub::unsubscribe_all(s, c, false, false);
    crate::cmd::pubsub::unsubscribe_all(s, c, true, false);
    let needs_auth = s.cfg.requirepass.is_some();
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.multi = None;
        cl.db = 0;
        cl.resp = 2;
        cl.name = None;
        cl.authenticated = !needs_auth;
        cl.refresh_extra_memory();
    }
    c.db = 0;
    c.out.resp = 2;
    c.out.simple(b"RESET");
}

fn valid_client_name(n: &[u8]) -> bool {
    n.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// One CLIENT LIST / CLIENT INFO line (without the trailing newline).
fn client_line(s: &Server, cl: &Client) -> String {
    let now = s.now.mono_ms;
    let mut flags = String::new();
    if cl.multi.is_some() {
        flags.push('x');
    }
    if cl.blocked.is_some() {
        flags.push('b');
    }
    if cl.sub_count() > 0 {
        flags.push('P');
    }
    if cl.close_after_reply {
        flags.push('c');
    }
    if cl.close_now {
        flags.push('A');
    }
    if cl.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let multi = cl.multi.as_ref().map(|m| m.queued.len() as i64).unwrap_or(-1);
    let name = cl.name.as_deref().map(text).unwrap_or_default();
    let qbuf = cl.pending_input();
    let omem = cl.out.capacity();
    let multi_mem = cl.multi.as_ref().map_or(0, crate::client::Multi::memory);
    format!(
        "id={} addr={} laddr=0.0.0.0:{} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub=0 multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={}{}{} user=default redir=-1 resp={}",
        cl.id,
        cl.peer,
        s.cfg.port,
        cl.id + 7,
        name,
        now.saturating_sub(cl.created_ms) / 1000,
        now.saturating_sub(cl.last_ms) / 1000,
        flags,
        cl.db,
        cl.subs.len(),
        cl.psubs.len(),
        multi,
        qbuf,
        cl.inbuf.capacity().saturating_sub(cl.inbuf.len()),
        cl.parser.pending_bytes(),
        multi_mem,
        cl.inbuf.capacity(),
        omem,
        s.memory_of(cl),
        cl.last_cmd,
        if cl.last_sub.is_empty() { "" } else { "|" },
        text(&cl.last_sub),
        cl.resp
    )
}

pub fn client(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    let argc = c.argc();
    match sub.as_slice() {
        b"id" if argc == 2 => c.out.int(c.cid as i64),
        b"getname" if argc == 2 => match s.clients.get(&c.cid).and_then(|cl| cl.name.clone()) {
            Some(n) => c.out.bulk(&n),
            None => c.out.null(),
        },
        b"setname" if argc == 3 => {
            let n = c.arg(2).to_vec();
            if !valid_client_name(&n) {
                c.out.err("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            if let Some(cl) = s.clients.get_mut(&c.cid) {
                cl.name = if n.is_empty() { None } else { Some(n) };
                cl.refresh_extra_memory();
            }
            c.out.ok();
        }
        b"setinfo" if argc == 4 => c.out.ok(),
        b"no-evict" if argc == 3 => {
            let on = eq_ic(c.arg(2), "on");
            if !on && !eq_ic(c.arg(2), "off") {
                c.syntax_error();
                return;
            }
            if let Some(cl) = s.clients.get_mut(&c.cid) {
                cl.no_evict = on;
            }
            s.update_client_mem(c.cid);
            c.out.ok();
        }
        b"no-touch" if argc == 3 => {
            if eq_ic(c.arg(2), "on") || eq_ic(c.arg(2), "off") {
                c.out.ok();
            } else {
                c.syntax_error();
            }
        }
        b"info" if argc == 2 => {
            let line = s.clients.get(&c.cid).map(|cl| client_line(s, cl)).unwrap_or_default();
            let mut t = line.into_bytes();
            t.push(b'\n');
            c.out.verbatim(&t);
        }
        b"list" => {
            let mut type_filter: Option<Vec<u8>> = None;
            let mut ids: Option<Vec<u64>> = None;
            let mut i = 2;
            while i < argc {
                if eq_ic(c.arg(i), "type") && i + 1 < argc {
                    let t = c.arg(i + 1).to_ascii_lowercase();
                    if !matches!(t.as_slice(), b"normal" | b"pubsub" | b"master" | b"replica" | b"slave") {
                        let bad = text(c.arg(i + 1));
                        c.out.err(&format!("ERR Unknown client type '{bad}'"));
                        return;
                    }
                    type_filter = Some(t);
                    i += 2;
                } else if eq_ic(c.arg(i), "id") && i + 1 < argc {
                    let mut v = Vec::new();
                    for j in i + 1..argc {
                        match crate::util::parse_i64(c.arg(j)) {
                            Some(n) if n > 0 => v.push(n as u64),
                            _ => {
                                c.out.err("ERR Invalid client ID");
                                return;
                            }
                        }
                    }
                    ids = Some(v);
                    i = argc;
                } else {
                    c.syntax_error();
                    return;
                }
            }
            let mut list: Vec<&Client> = s.clients.values().filter(|cl| !cl.hidden).collect();
            list.sort_by_key(|cl| cl.id);
            let mut t = String::new();
            for cl in list {
                if let Some(ids) = &ids
                    && !ids.contains(&cl.id)
                {
                    continue;
                }
                if let Some(tf) = &type_filter {
                    let is_pubsub = cl.sub_count() > 0;
                    let want_pubsub = tf.as_slice() == b"pubsub";
                    let want_normal = tf.as_slice() == b"normal";
                    if (want_pubsub && !is_pubsub) || (want_normal && is_pubsub) || (!want_pubsub && !want_normal) {
                        continue;
                    }
                }
                t.push_str(&client_line(s, cl));
                t.push('\n');
            }
            c.out.verbatim(t.as_bytes());
        }
        b"kill" if argc >= 3 => client_kill(s, c),
        b"unblock" if argc == 3 || argc == 4 => client_unblock(s, c),
        b"reply" if argc == 3 => client_reply(s, c),
        b"help" if argc == 2 => {
            let lines: &[&[u8]] = &[
                b"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"ID",
                b"GETNAME",
                b"SETNAME <name>",
                b"INFO",
                b"LIST [TYPE (NORMAL|PUBSUB)] [ID <id> [<id> ...]]",
                b"KILL <ip:port> | KILL [ID <id>] [ADDR <ip:port>] [TYPE <type>] [SKIPME (YES|NO)]",
                b"HELP",
            ];
            c.out.help(lines);
        }
        b"id" | b"getname" | b"setname" | b"info" | b"kill" | b"reply" | b"help" | b"setinfo" | b"no-evict"
        | b"no-touch" | b"unblock" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

/// `CLIENT REPLY ON|OFF|SKIP`: only ON replies (OK).
fn client_reply(s: &mut Server, c: &mut Ctx) {
    let mode = c.arg(2).to_ascii_lowercase();
    let Some(cl) = s.clients.get_mut(&c.cid) else { return };
    match mode.as_slice() {
        b"on" => {
            cl.reply_off = false;
            cl.reply_skip = false;
            c.out.ok();
        }
        b"off" => cl.reply_off = true,
        b"skip" => cl.reply_skip_next |= !cl.reply_off,
        _ => c.syntax_error(),
    }
}

/// CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: 1 when the client was blocked.
fn client_unblock(s: &mut Server, c: &mut Ctx) {
    let mut error = false;
    if c.argc() == 4 {
        if eq_ic(c.arg(3), "timeout") {
            error = false;
        } else if eq_ic(c.arg(3), "error") {
            error = true;
        } else {
            c.out.err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    let Some(id) = crate::util::parse_i64(c.arg(2)) else {
        c.not_integer();
        return;
    };
    let done = u64::try_from(id).is_ok_and(|id| s.unblock_on_request(id, error));
    c.out.int(i64::from(done));
}

fn client_kill(s: &mut Server, c: &mut Ctx) {
    let argc = c.argc();
    let mut victims: Vec<u64> = Vec::new();
    if argc == 3 {
        // Old form: CLIENT KILL addr:port
        let addr = c.arg(2).to_vec();
        match s.clients.values().find(|cl| !cl.hidden && cl.peer.as_bytes() == addr.as_slice()) {
            Some(cl) => victims.push(cl.id),
            None => {
                c.out.err("ERR No such client");
                return;
            }
        }
        kill_clients(s, c, &victims);
        c.out.ok();
        return;
    }
    let mut id: Option<u64> = None;
    let mut addr: Option<Vec<u8>> = None;
    let mut typ: Option<Vec<u8>> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < argc {
        if i + 1 >= argc {
            c.syntax_error();
            return;
        }
        let opt = c.arg(i).to_ascii_lowercase();
        let val = c.arg(i + 1).to_vec();
        match opt.as_slice() {
            b"id" => match crate::util::parse_i64(&val) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => {
                    c.out.err("ERR client-id should be greater than 0");
                    return;
                }
            },
            b"addr" => addr = Some(val),
            b"laddr" | b"user" => {}
            b"type" => typ = Some(val.to_ascii_lowercase()),
            b"skipme" => {
                if eq_ic(&val, "yes") {
                    skipme = true;
                } else if eq_ic(&val, "no") {
                    skipme = false;
                } else {
                    c.syntax_error();
                    return;
                }
            }
            _ => {
                c.syntax_error();
                return;
            }
        }
        i += 2;
    }
    for cl in s.clients.values() {
        if cl.hidden || (skipme && cl.id == c.cid) {
            continue;
        }
        if id.is_some_and(|x| x != cl.id) {
            continue;
        }
        if addr.as_ref().is_some_and(|a| a.as_slice() != cl.peer.as_bytes()) {
            continue;
        }
        if let Some(t) = &typ {
            let is_pubsub = cl.sub_count() > 0;
            let ok = match t.as_slice() {
                b"pubsub" => is_pubsub,
                b"normal" => !is_pubsub,
                _ => false,
            };
            if !ok {
                continue;
            }
        }
        victims.push(cl.id);
    }
    kill_clients(s, c, &victims);
    c.out.int(victims.len() as i64);
}

fn kill_clients(s: &mut Server, c: &mut Ctx, victims: &[u64]) {
    for &v in victims {
        if v == c.cid {
            if let Some(cl) = s.clients.get_mut(&v) {
                cl.close_after_reply = true;
            }
        } else {
            s.close_client_now(v);
        }
    }
}

fn human_bytes(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Builds the INFO text for the requested sections.
pub fn info_text(s: &Server, sections: &[Vec<u8>]) -> String {
    let all = sections.iter().any(|x| x.as_slice() == b"all" || x.as_slice() == b"everything");
    let default = sections.is_empty() || sections.iter().any(|x| x.as_slice() == b"default");
    let want = |name: &str| all || default || sections.iter().any(|x| x.as_slice() == name.as_bytes());
    let mut t = String::new();
    let uptime_ms = s.now.mono_ms.saturating_sub(s.started.mono_ms);
    if want("server") {
        let _ = write!(
            t,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:unikernel\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:sans-io\r\natomicvar_api:none\r\ngcc_version:0.0.0\r\nprocess_id:1\r\nprocess_supervised:no\r\nrun_id:{:040x}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:/redis-server\r\nconfig_file:\r\nio_threads_active:0\r\n\r\n",
            s.started.unix_ms as u128 * 0x9e37_79b9,
            s.cfg.port,
            s.now.unix_ms.saturating_mul(1000),
            uptime_ms / 1000,
            uptime_ms / 86_400_000,
            s.cfg.hz,
            s.cfg.hz,
            s.lru_clock()
        );
    }
    if want("clients") {
        let pubsub = s.clients.values().filter(|c| !c.hidden && c.sub_count() > 0).count();
        let _ = write!(
            t,
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:{}\r\npubsub_clients:{}\r\n\r\n",
            s.client_count(),
            s.cfg.maxclients,
            s.blocking.blocked_clients,
            s.blocking.timeouts.len(),
            pubsub
        );
    }
    if want("memory") {
        let used = s.used_memory();
        let dataset = s.dataset_memory();
        let _ = write!(
            t,
            "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{used}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{used}\r\nused_memory_peak_human:{}\r\nused_memory_dataset:{dataset}\r\ntotal_system_memory:0\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:1.00\r\nmem_clients_slaves:0\r\nmem_clients_normal:{}\r\nmem_allocator:rust-alloc\r\nlazyfree_pending_objects:0\r\n\r\n",
            human_bytes(used),
            human_bytes(used),
            human_bytes(used),
            s.cfg.maxmemory,
            human_bytes(s.cfg.maxmemory),
            s.cfg.maxmemory_policy.name(),
            s.client_memory()
        );
    }
    if want("persistence") {
        let _ = write!(
            t,
            "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\naof_enabled:{}\r\naof_rewrite_in_progress:0\r\naof_last_write_status:ok\r\n\r\n",
            s.dirty_since_save,
            s.started.unix_ms / 1000,
            u8::from(s.cfg.appendonly)
        );
    }
    if want("stats") {
        let st = &s.stats;
        let _ = write!(
            t,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\ntotal_error_replies:{}\r\n\r\n",
            st.connections_received,
            st.commands_processed,
            st.net_input_bytes,
            st.net_output_bytes,
            st.rejected_connections,
            st.expired_keys,
            st.evicted_keys,
            st.evicted_clients,
            st.keyspace_hits,
            st.keyspace_misses,
            s.pubsub.channels.len(),
            s.pubsub.patterns.len(),
            st.error_replies
        );
    }
    if want("replication") {
        t.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n\r\n");
    }
    if want("cpu") {
        t.push_str("# CPU\r\nused_cpu_sys:0.000000\r\nused_cpu_user:0.000000\r\n\r\n");
    }
    if want("keyspace") {
        t.push_str("# Keyspace\r\n");
        for (i, d) in s.dbs.iter().enumerate() {
            if !d.is_empty() {
                let _ = write!(t, "db{i}:keys={},expires={},avg_ttl=0\r\n", d.len(), d.expires_count());
            }
        }
        t.push_str("\r\n");
    }
    // Sections are separated by a blank line; the text ends with one CRLF.
    while t.ends_with("\r\n\r\n") {
        t.truncate(t.len() - 2);
    }
    t
}

pub fn info(s: &mut Server, c: &mut Ctx) {
    let sections: Vec<Vec<u8>> = c.argv.iter().skip(1).map(|a| a.to_ascii_lowercase()).collect();
    let t = info_text(s, &sections);
    c.out.verbatim(t.as_bytes());
}

pub fn dbsize(s: &mut Server, c: &mut Ctx) {
    let n = s.dbs.get(c.db).map(|d| d.len()).unwrap_or(0);
    c.out.int(n as i64);
}

fn flush_args_ok(c: &mut Ctx) -> bool {
    if c.argc() > 2 || (c.argc() == 2 && !eq_ic(c.arg(1), "sync") && !eq_ic(c.arg(1), "async")) {
        c.syntax_error();
        return false;
    }
    true
}

pub fn flushdb(s: &mut Server, c: &mut Ctx) {
    if !flush_args_ok(c) {
        return;
    }
    s.touch_all_watched(Some(c.db));
    if let Some(d) = s.dbs.get_mut(c.db) {
        c.dirty += d.len() as u64 + 1;
        d.clear();
    }
    c.out.ok();
}

pub fn flushall(s: &mut Server, c: &mut Ctx) {
    if !flush_args_ok(c) {
        return;
    }
    s.touch_all_watched(None);
    for d in s.dbs.iter_mut() {
        c.dirty += d.len() as u64;
        d.clear();
    }
    c.dirty += 1;
    c.out.ok();
}

pub fn swapdb(s: &mut Server, c: &mut Ctx) {
    let (Some(a), Some(b)) = (crate::util::parse_i64(c.arg(1)), crate::util::parse_i64(c.arg(2))) else {
        c.out.err("ERR invalid first DB index");
        return;
    };
    let n = s.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        c.out.err("ERR DB index is out of range");
        return;
    }
    s.touch_all_watched(Some(a as usize));
    s.touch_all_watched(Some(b as usize));
    s.dbs.swap(a as usize, b as usize);
    s.touch_all_watched(Some(a as usize));
    s.touch_all_watched(Some(b as usize));
    s.signal_existing_waited_keys(a as usize);
    s.signal_existing_waited_keys(b as usize);
    c.dirty += 1;
    c.out.ok();
}

pub fn time(s: &mut Server, c: &mut Ctx) {
    let us = s.now.unix_ms.saturating_mul(1000);
    c.out.array(2);
    c.out.bulk_i64((us / 1_000_000) as i64);
    c.out.bulk_i64((us % 1_000_000) as i64);
}

pub fn shutdown(s: &mut Server, c: &mut Ctx) {
    let mut i = 1;
    while i < c.argc() {
        let a = c.arg(i).to_ascii_lowercase();
        if !matches!(a.as_slice(), b"nosave" | b"save" | b"now" | b"force" | b"abort") {
            c.syntax_error();
            return;
        }
        i += 1;
    }
    // SHUTDOWN needs authentication when a password is set (it is flagged
    // no-auth only so it can report a proper error).
    if s.clients.get(&c.cid).is_some_and(|cl| !cl.authenticated) {
        c.out.err("NOAUTH Authentication required.");
        return;
    }
    s.shutdown = true;
    // Redis closes the connection without a reply on success.
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.close_after_reply = true;
    }
}

pub fn lastsave(s: &mut Server, c: &mut Ctx) {
    c.out.int((s.started.unix_ms / 1000) as i64);
}

pub fn save(s: &mut Server, c: &mut Ctx) {
    s.dirty_since_save = 0;
    if c.spec.name == "bgsave" {
        c.out.simple(b"Background saving started");
    } else {
        c.out.ok();
    }
}

/// FUNCTION: the appliance has no scripting engine, so no library can
/// ever be loaded. FLUSH (which the test suite's external-server mode sends
/// before every server block) and LIST answer as Redis does with no
/// libraries; LOAD and the other subcommands are unknown.
pub fn function(_s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"help" => c.out.help(&[
            b"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"LIST [WITHCODE] [LIBRARYNAME <pattern>]",
            b"    Return general information on all the libraries (none: this server has no scripting engine).",
            b"FLUSH [ASYNC|SYNC]",
            b"    Delete all the libraries (there are none).",
            b"HELP",
            b"    Print this help.",
        ]),
        b"flush" => {
            if c.argc() > 3 || (c.argc() == 3 && !eq_ic(c.arg(2), "sync") && !eq_ic(c.arg(2), "async")) {
                c.out.err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
                return;
            }
            c.out.ok();
        }
        b"list" => {
            let mut i = 2;
            while i < c.argc() {
                if eq_ic(c.arg(i), "withcode") {
                    i += 1;
                } else if eq_ic(c.arg(i), "libraryname") && i + 1 < c.argc() {
                    i += 2;
                } else {
                    c.out.err("ERR Unknown argument");
                    return;
                }
            }
            c.out.array(0);
        }
        _ => super::unknown_subcommand(c),
    }
}

// ----- COMMAND ----------------------------------------------------------

fn acl_categories(spec: &CommandSpec) -> Vec<String> {
    let mut v = Vec::new();
    v.push(format!("@{}", if spec.group == "sorted-set" { "sortedset" } else { spec.group }));
    if spec.flags & flags::WRITE != 0 {
        v.push(String::from("@write"));
    }
    if spec.flags & flags::READONLY != 0 {
        v.push(String::from("@read"));
    }
    if spec.flags & flags::FAST != 0 {
        v.push(String::from("@fast"));
    } else {
        v.push(String::from("@slow"));
    }
    if spec.flags & flags::BLOCKING != 0 {
        v.push(String::from("@blocking"));
    }
    if spec.flags & flags::ADMIN != 0 {
        v.push(String::from("@admin"));
        v.push(String::from("@dangerous"));
    }
    v
}

fn command_info_entry(c: &mut Ctx, spec: &CommandSpec) {
    c.out.array(10);
    c.out.bulk(spec.name.as_bytes());
    c.out.int(i64::from(spec.arity));
    let names: Vec<&str> = flags::NAMES.iter().filter(|(f, _)| spec.flags & f != 0).map(|(_, n)| *n).collect();
    c.out.set(names.len());
    for n in names {
        c.out.simple(n.as_bytes());
    }
    c.out.int(i64::from(spec.first_key));
    c.out.int(i64::from(spec.last_key));
    c.out.int(i64::from(spec.step));
    let cats = acl_categories(spec);
    c.out.set(cats.len());
    for cat in cats {
        c.out.simple(cat.as_bytes());
    }
    c.out.set(0); // tips
    c.out.array(0); // key specs
    c.out.array(0); // subcommands
}

fn command_docs_entry(c: &mut Ctx, spec: &CommandSpec) {
    c.out.bulk(spec.name.as_bytes());
    c.out.map(4);
    c.out.bulk(b"summary");
    let summary = format!("{} command", spec.name.to_ascii_uppercase());
    c.out.bulk(summary.as_bytes());
    c.out.bulk(b"since");
    c.out.bulk(b"1.0.0");
    c.out.bulk(b"group");
    c.out.bulk(spec.group.as_bytes());
    c.out.bulk(b"complexity");
    c.out.bulk(b"");
}

pub fn command(s: &mut Server, c: &mut Ctx) {
    if c.argc() == 1 {
        c.out.array(TABLE.len());
        for spec in TABLE {
            command_info_entry(c, spec);
        }
        return;
    }
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"count" if c.argc() == 2 => c.out.int(TABLE.len() as i64),
        b"info" => {
            if c.argc() == 2 {
                c.out.array(TABLE.len());
                for spec in TABLE {
                    command_info_entry(c, spec);
                }
                return;
            }
            let names: Vec<Vec<u8>> = c.argv[2..].to_vec();
            c.out.array(names.len());
            for n in names {
                match s.lookup_command(&n) {
                    Some(spec) => command_info_entry(c, spec),
                    None => c.out.null_array(),
                }
            }
        }
        b"docs" => {
            if c.argc() == 2 {
                c.out.map(TABLE.len());
                for spec in TABLE {
                    command_docs_entry(c, spec);
                }
                return;
            }
            let specs: Vec<&'static CommandSpec> =
                c.argv[2..].to_vec().iter().filter_map(|n| s.lookup_command(n)).collect();
            c.out.map(specs.len());
            for spec in specs {
                command_docs_entry(c, spec);
            }
        }
        b"list" => {
            let mut filter: Option<(Vec<u8>, Vec<u8>)> = None;
            if c.argc() == 5 && eq_ic(c.arg(2), "filterby") {
                filter = Some((c.arg(3).to_ascii_lowercase(), c.arg(4).to_vec()));
            } else if c.argc() != 2 {
                c.syntax_error();
                return;
            }
            let names: Vec<&str> = TABLE
                .iter()
                .filter(|spec| match &filter {
                    None => true,
                    Some((k, v)) => match k.as_slice() {
                        b"pattern" => crate::glob::matches(v, spec.name.as_bytes(), true),
                        b"aclcat" => acl_categories(spec).iter().any(|cat| cat.as_bytes()[1..].eq_ignore_ascii_case(v)),
                        _ => false,
                    },
                })
                .map(|spec| spec.name)
                .collect();
            c.out.array(names.len());
            for n in names {
                c.out.bulk(n.as_bytes());
            }
        }
        b"getkeys" if c.argc() >= 3 => {
            let args: Vec<Vec<u8>> = c.argv[2..].to_vec();
            let Some(spec) = s.lookup_command(&args[0]) else {
                c.out.err("ERR Invalid command specified");
                return;
            };
            let argc = args.len() as i64;
            if (spec.arity > 0 && argc != i64::from(spec.arity)) || (spec.arity < 0 && argc < -i64::from(spec.arity)) {
                c.out.err("ERR Invalid number of arguments specified for command");
                return;
            }
            if let Some(positions) = crate::commands::movable_key_positions(spec.name, &args) {
                if positions.is_empty() {
                    c.out.err("ERR Invalid arguments specified for command");
                    return;
                }
                c.out.array(positions.len());
                for i in positions {
                    c.out.bulk(&args[i]);
                }
                return;
            }
            if spec.first_key == 0 {
                c.out.err("ERR The command has no key arguments");
                return;
            }
            let last = if spec.last_key < 0 { argc + i64::from(spec.last_key) } else { i64::from(spec.last_key) };
            let mut keys = Vec::new();
            let mut i = i64::from(spec.first_key);
            while i <= last && i < argc {
                keys.push(args[i as usize].clone());
                i += i64::from(spec.step.max(1));
            }
            c.out.array(keys.len());
            for k in keys {
                c.out.bulk(&k);
            }
        }
        b"help" => {
            c.out.array(1);
            c.out.simple(b"COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS]");
        }
        b"count" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

// ----- CONFIG -----------------------------------------------------------

pub fn config(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"get" => {
            if c.argc() < 3 {
                sub_arity_error(c);
                return;
            }
            let mut pairs: Vec<(&str, String)> = Vec::new();
            for i in 2..c.argc() {
                let pat = c.arg(i).to_ascii_lowercase();
                for name in crate::config::all_names() {
                    let hit = if pat.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                        crate::glob::matches(&pat, name.as_bytes(), true)
                    } else {
                        pat.as_slice() == name.as_bytes()
                    };
                    if hit
                        && !pairs.iter().any(|(n, _)| *n == name)
                        && let Some(v) = s.cfg.get(name)
                    {
                        pairs.push((name, v));
                    }
                }
            }
            c.out.map(pairs.len());
            for (n, v) in pairs {
                c.out.bulk(n.as_bytes());
                c.out.bulk(v.as_bytes());
            }
        }
        b"set" => {
            if c.argc() < 4 || !c.argc().is_multiple_of(2) {
                sub_arity_error(c);
                return;
            }
            let mut new_cfg: Config = s.cfg.clone();
            for i in (2..c.argc()).step_by(2) {
                let name = text(c.arg(i)).to_ascii_lowercase();
                let value = text(c.arg(i + 1));
                if !crate::config::all_names().any(|n| n == name) {
                    c.out.err(&format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'"));
                    return;
                }
                if Config::is_immutable(&name) {
                    c.out.err(&format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                    ));
                    return;
                }
                if let Err(e) = new_cfg.set(&name, &value) {
                    c.out.err(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"));
                    return;
                }
            }
            s.set_config(new_cfg);
            c.out.ok();
            if s.cfg.maxmemory > 0 {
                s.evict_if_needed();
            }
        }
        b"resetstat" if c.argc() == 2 => {
            s.stats = Default::default();
            c.out.ok();
        }
        b"rewrite" if c.argc() == 2 => c.out.err("ERR The server is running without a config file"),
        b"help" if c.argc() == 2 => {
            let lines: &[&[u8]] = &[
                b"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"GET <pattern>",
                b"SET <directive> <value>",
                b"RESETSTAT",
                b"HELP",
            ];
            c.out.help(lines);
        }
        b"resetstat" | b"rewrite" | b"help" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}
