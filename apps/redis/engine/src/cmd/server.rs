//! Connection and server commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO,
//! RESET, CLIENT (its longer subcommands are in `cmd::client`), DBSIZE,
//! FLUSHDB/ALL, TIME, COMMAND, SHUTDOWN and SWAPDB.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{int_arg, sub_arity_error, text, unknown_subcommand};
use crate::commands::{CommandSpec, TABLE, flags};
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
    s.remove_monitor(c.cid);
    s.disable_tracking(c.cid);
    crate::cmd::pubsub::unsubscribe_from_all(s, c);
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

fn valid_client_name(n: &[u8]) -> bool {
    n.iter().all(|&b| (b'!'..=b'~').contains(&b))
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
        b"info" if argc == 2 => super::client::client_info(s, c),
        b"list" => super::client::client_list(s, c),
        b"kill" if argc >= 3 => super::client::client_kill(s, c),
        b"pause" if argc == 3 || argc == 4 => super::client::client_pause(s, c),
        b"unpause" if argc == 2 => {
            s.unpause_clients();
            c.out.ok();
        }
        b"unblock" if argc == 3 || argc == 4 => client_unblock(s, c),
        b"reply" if argc == 3 => client_reply(s, c),
        b"help" if argc == 2 => c.out.help(super::client::HELP),
        b"tracking" if argc >= 3 => super::client::client_tracking(s, c),
        b"caching" if argc == 3 => super::client::client_caching(s, c),
        b"getredir" if argc == 2 => super::client::client_getredir(s, c),
        b"trackinginfo" if argc == 2 => super::client::client_trackinginfo(s, c),
        b"id" | b"getname" | b"setname" | b"info" | b"kill" | b"reply" | b"help" | b"no-evict" | b"pause"
        | b"unpause" | b"unblock" | b"tracking" | b"caching" | b"getredir" | b"trackinginfo" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
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
    s.invalidate_tracking_on_flush();
    c.dirty += s.empty_databases(c.db..c.db + 1) + 1;
    c.out.ok();
}

pub fn flushall(s: &mut Server, c: &mut Ctx) {
    if !flush_args_ok(c) {
        return;
    }
    s.touch_all_watched(None);
    s.invalidate_tracking_on_flush();
    c.dirty += s.empty_databases(0..s.dbs.len()) + 1;
    // Redis 7.0 saves the (empty) dataset at once when save points are
    // set, which resets the dirty count; FLUSHALL is logged all the same.
    if s.save_points_active() && s.save_now().is_ok() {
        c.dirty = 0;
        s.dirty_since_save = 0;
    }
    c.force_propagation = true;
    c.out.ok();
}

/// ROLE: the appliance is always a master without replicas, at replication
/// offset 0 (as INFO replication says).
pub fn role(_s: &mut Server, c: &mut Ctx) {
    c.out.array(3);
    c.out.bulk(b"master");
    c.out.int(0);
    c.out.array(0);
}

/// CLUSTER, READONLY, READWRITE and ASKING answer what Redis answers when
/// it does not run in cluster mode, which the appliance never does.
pub fn cluster_disabled(_s: &mut Server, c: &mut Ctx) {
    c.out.err("ERR This instance has cluster support disabled");
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
    s.signal_all_waited_keys(a as usize);
    s.signal_all_waited_keys(b as usize);
    c.dirty += 1;
    c.out.ok();
}

pub fn time(s: &mut Server, c: &mut Ctx) {
    let us = s.unix_us();
    c.out.array(2);
    c.out.bulk_i64((us / 1_000_000) as i64);
    c.out.bulk_i64((us % 1_000_000) as i64);
}

pub fn shutdown(s: &mut Server, c: &mut Ctx) {
    let (mut nosave, mut save, mut force) = (false, false, false);
    for i in 1..c.argc() {
        match c.arg(i).to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"force" => force = true,
            b"now" => {}
            b"abort" => {
                // Nothing to abort: a shutdown here is never in progress
                // across commands.
                c.out.err("ERR No shutdown in progress.");
                return;
            }
            _ => {
                c.syntax_error();
                return;
            }
        }
    }
    if nosave && save {
        c.syntax_error();
        return;
    }
    // SHUTDOWN needs authentication when a password is set (it is flagged
    // no-auth only so it can report a proper error).
    if s.clients.get(&c.cid).is_some_and(|cl| !cl.authenticated) {
        c.out.err("NOAUTH Authentication required.");
        return;
    }
    // Like Redis: the log is flushed, and a snapshot is saved when asked
    // to or when save points are set (unless NOSAVE). A failed save stops
    // the shutdown unless FORCE.
    let flushed = s.flush_log();
    let saved = if save || (!nosave && s.save_points_active()) { s.save_now() } else { Ok(()) };
    if let Err(e) = flushed.and(saved)
        && !force
    {
        c.out.err(&alloc::format!("ERR Errors trying to SHUTDOWN. Check logs. ({e})"));
        return;
    }
    s.shutdown = true;
    // Redis closes the connection without a reply on success.
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.close_after_reply = true;
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

/// Redis 7.0's ACL categories, in the order COMMAND INFO lists them.
const ACL_CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Commands whose ACL categories Redis 7.0 lists otherwise than their
/// group and flags give: containers (only `@slow`, their subcommands have
/// their own), and those Redis marks `@dangerous` or files elsewhere.
const ACL_CATEGORY_EXCEPTIONS: &[(&str, &[&str])] = &[
    ("asking", &["fast", "connection"]),
    ("client", &["slow"]),
    ("command", &["slow", "connection"]),
    ("config", &["slow"]),
    ("dbsize", &["keyspace", "read", "fast"]),
    ("flushall", &["keyspace", "write", "slow", "dangerous"]),
    ("flushdb", &["keyspace", "write", "slow", "dangerous"]),
    ("function", &["slow"]),
    ("info", &["slow", "dangerous"]),
    ("keys", &["keyspace", "read", "slow", "dangerous"]),
    ("lastsave", &["admin", "fast", "dangerous"]),
    ("latency", &["slow"]),
    ("memory", &["slow"]),
    ("migrate", &["keyspace", "write", "slow", "dangerous"]),
    ("object", &["slow"]),
    ("pubsub", &["slow"]),
    ("readonly", &["fast", "connection"]),
    ("readwrite", &["fast", "connection"]),
    ("restore", &["keyspace", "write", "slow", "dangerous"]),
    ("role", &["admin", "fast", "dangerous"]),
    ("slowlog", &["slow"]),
    ("sort", &["write", "set", "sortedset", "list", "slow", "dangerous"]),
    ("sort_ro", &["read", "set", "sortedset", "list", "slow", "dangerous"]),
    ("swapdb", &["keyspace", "write", "fast", "dangerous"]),
    ("wait", &["slow", "connection"]),
    ("xgroup", &["slow"]),
    ("xinfo", &["slow"]),
];

/// A command's ACL categories, as Redis 7.0's COMMAND lists them: for most
/// commands their group's category, read/write, fast/slow, blocking, and
/// admin with dangerous, in [`ACL_CATEGORIES`] order (the server and
/// cluster groups have no category); the others from
/// [`ACL_CATEGORY_EXCEPTIONS`].
fn acl_categories(spec: &CommandSpec) -> Vec<String> {
    if let Some((_, cats)) = ACL_CATEGORY_EXCEPTIONS.iter().find(|(name, _)| *name == spec.name) {
        return cats.iter().map(|cat| format!("@{cat}")).collect();
    }
    let group = match spec.group {
        "generic" => "keyspace",
        "sorted-set" => "sortedset",
        "transactions" => "transaction",
        "server" | "cluster" => "",
        other => other,
    };
    let f = spec.flags;
    let has = |cat: &str| match cat {
        "read" => f & flags::READONLY != 0,
        "write" => f & flags::WRITE != 0,
        "admin" | "dangerous" => f & flags::ADMIN != 0,
        "fast" => f & flags::FAST != 0,
        "slow" => f & flags::FAST == 0,
        "blocking" => f & flags::BLOCKING != 0,
        other => other == group,
    };
    ACL_CATEGORIES.iter().filter(|cat| has(cat)).map(|cat| format!("@{cat}")).collect()
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
        b"list" => command_list(c),
        b"getkeys" | b"getkeysandflags" if c.argc() >= 4 => {
            let args: Vec<Vec<u8>> = c.argv[2..].to_vec();
            let Some(spec) = s.lookup_command(&args[0]) else {
                c.out.err("ERR Invalid command specified");
                return;
            };
            let found = match crate::introspect::subcommands_of(spec.name) {
                Some(_) => subcommand_key_positions(spec.name, &args),
                None => command_key_positions(spec, &args).map(|p| (p, None)),
            };
            let (positions, sub_flags) = match found {
                Ok(found) => found,
                Err(e) => {
                    c.out.err(e);
                    return;
                }
            };
            let flags = sub.as_slice() == b"getkeysandflags";
            c.out.array(positions.len());
            for (n, i) in positions.into_iter().enumerate() {
                if flags {
                    let names = sub_flags.unwrap_or_else(|| crate::keyspecs::key_flags(spec.name, &args, n));
                    c.out.array(2);
                    c.out.bulk(&args[i]);
                    c.out.array(names.len());
                    for f in names {
                        c.out.simple(f.as_bytes());
                    }
                } else {
                    c.out.bulk(&args[i]);
                }
            }
        }
        b"help" if c.argc() == 2 => c.out.help(COMMAND_HELP),
        b"count" | b"help" | b"getkeys" | b"getkeysandflags" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

const COMMAND_HELP: &[&[u8]] = &[
    b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"(no subcommand)",
    b"    Return details about all Redis commands.",
    b"COUNT",
    b"    Return the total number of commands in this Redis server.",
    b"LIST",
    b"    Return a list of all commands in this Redis server.",
    b"INFO [<command-name> ...]",
    b"    Return details about multiple Redis commands.",
    b"    If no command names are given, documentation details for all",
    b"    commands are returned.",
    b"DOCS [<command-name> ...]",
    b"    Return documentation details about multiple Redis commands.",
    b"    If no command names are given, documentation details for all",
    b"    commands are returned.",
    b"GETKEYS <full-command>",
    b"    Return the keys from a full Redis command.",
    b"GETKEYSANDFLAGS <full-command>",
    b"    Return the keys and the access flags from a full Redis command.",
    b"HELP",
    b"    Prints this help.",
];

/// Where the keys are in `args` (a full command line of `spec`), or
/// COMMAND GETKEYS's error.
/// (Redis's `getKeysSubcommandImpl`: whether it has keys is checked before
/// its arity.)
fn command_key_positions(spec: &CommandSpec, args: &[Vec<u8>]) -> Result<Vec<usize>, &'static str> {
    let movable = spec.flags & flags::MOVABLE_KEYS != 0;
    if (spec.first_key == 0 && !movable) || crate::keyspecs::only_not_keys(spec.name) {
        return Err("ERR The command has no key arguments");
    }
    let argc = args.len() as i64;
    if (spec.arity > 0 && argc != i64::from(spec.arity)) || (spec.arity < 0 && argc < -i64::from(spec.arity)) {
        return Err("ERR Invalid number of arguments specified for command");
    }
    if let Some(positions) = crate::commands::movable_key_positions(spec.name, args) {
        return if positions.is_empty() { Err("ERR Invalid arguments specified for command") } else { Ok(positions) };
    }
    // PFMERGE's source keys are a key spec of their own starting at
    // argument 2: with none, Redis finds that spec's range empty, an error.
    if spec.name == "pfmerge" && args.len() < 3 {
        return Err("ERR Invalid arguments specified for command");
    }
    Ok(spec.key_positions(args.len()).collect())
}

/// COMMAND GETKEYS of a container command (`args[0]`): a subcommand is
/// looked up (Redis's `lookupCommand`), and only the few with a key have
/// any; the key's flags come with the positions.
fn subcommand_key_positions(
    container: &str,
    args: &[Vec<u8>],
) -> Result<(Vec<usize>, Option<&'static [&'static str]>), &'static str> {
    let Some(sub) = args.get(1) else { return Err("ERR The command has no key arguments") };
    let sub = String::from_utf8_lossy(sub).to_ascii_lowercase();
    let known = crate::introspect::subcommands_of(container).is_some_and(|(_, subs)| subs.contains(&sub.as_str()));
    if !known {
        return Err("ERR Invalid command specified");
    }
    let Some(&(_, _, arity, flags)) =
        crate::keyspecs::SUBCOMMAND_KEYS.iter().find(|(c, s, _, _)| *c == container && *s == sub)
    else {
        return Err("ERR The command has no key arguments");
    };
    let argc = args.len() as i64;
    if (arity > 0 && argc != i64::from(arity)) || (arity < 0 && argc < -i64::from(arity)) {
        return Err("ERR Invalid number of arguments specified for command");
    }
    Ok((Vec::from([2]), Some(flags)))
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN glob]:
/// the commands and their subcommands (`container|sub`).
fn command_list(c: &mut Ctx) {
    let filter = match c.argc() {
        2 => None,
        5 if eq_ic(c.arg(2), "filterby") => {
            let kind = c.arg(3).to_ascii_lowercase();
            if !matches!(kind.as_slice(), b"module" | b"aclcat" | b"pattern") {
                c.syntax_error();
                return;
            }
            Some((kind, c.arg(4).to_vec()))
        }
        _ => {
            c.syntax_error();
            return;
        }
    };
    let mut names: Vec<String> = Vec::new();
    for spec in TABLE {
        let subs = crate::introspect::subcommands_of(spec.name).map_or(&[][..], |(_, subs)| subs);
        let full =
            core::iter::once(String::from(spec.name)).chain(subs.iter().map(|sub| format!("{}|{sub}", spec.name)));
        for name in full {
            let keep = match &filter {
                None => true,
                Some((kind, v)) => match kind.as_slice() {
                    b"pattern" => crate::glob::matches(v, name.as_bytes(), true),
                    b"aclcat" => acl_categories(spec).iter().any(|cat| cat.as_bytes()[1..].eq_ignore_ascii_case(v)),
                    _ => false, // no modules
                },
            };
            if keep {
                names.push(name);
            }
        }
    }
    c.out.array(names.len());
    for n in names {
        c.out.bulk(n.as_bytes());
    }
}
