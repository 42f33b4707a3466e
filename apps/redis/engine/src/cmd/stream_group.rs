//! Consumer group commands: XGROUP (CREATE, SETID, DESTROY,
//! CREATECONSUMER, DELCONSUMER, HELP), XACK, XPENDING, XCLAIM and
//! XAUTOCLAIM. XCLAIM and XAUTOCLAIM propagate, like Redis, one XCLAIM
//! per entry they change (see [`super::stream_read::xclaim_argv`]) and
//! never themselves.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::stream::{
    INVALID_ID, interval_arg, parse_id_ext, reply_id, strict_id_arg, subcommand_syntax_error, with_stream,
};
use super::stream_read::{setid_argv, xclaim_argv};
use super::text;
use crate::notify::STREAM;
use crate::server::{Ctx, Server};
use crate::types::stream::{Group, StreamId};
use crate::types::{Stream, Value};
use crate::util::{eq_ic, parse_i64};

/// XCLAIM/XAUTOCLAIM's key and group (arguments 1, 2), when the key holds
/// a stream with that group; otherwise `None` after replying NOGROUP (or
/// WRONGTYPE).
fn claim_target(s: &mut Server, c: &mut Ctx) -> Option<(Vec<u8>, Vec<u8>)> {
    let (key, name) = (c.argv[1].clone(), c.argv[2].clone());
    match s.peek(c.db, &key) {
        Some(Value::Stream(st)) if st.groups.contains_key(&name) => Some((key, name)),
        Some(Value::Stream(_)) | None => {
            nogroup_key_or_group(c, &key, &name);
            None
        }
        Some(_) => {
            c.wrongtype();
            None
        }
    }
}

fn nogroup_key_or_group(c: &mut Ctx, key: &[u8], group: &[u8]) {
    let msg = format!("NOGROUP No such key '{}' or consumer group '{}'", text(key), text(group));
    c.out.err(&msg);
}

/// XGROUP subcommand ...
pub fn xgroup(s: &mut Server, c: &mut Ctx) {
    let table = [("help", 2), ("create", -5), ("setid", -5), ("destroy", 4), ("createconsumer", 5), ("delconsumer", 5)];
    if !super::stream::subcommand_ok(c, &table) {
        return;
    }
    let sub = c.arg(1).to_ascii_lowercase();
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    let mut exists = false;
    let mut group_exists = false;
    if c.argc() >= 4 {
        let mut i = 5;
        while i < c.argc() {
            let create = sub == b"create";
            if create && eq_ic(c.arg(i), "mkstream") {
                mkstream = true;
                i += 1;
            } else if (create || sub == b"setid") && eq_ic(c.arg(i), "entriesread") && i + 1 < c.argc() {
                let Some(n) = super::int_arg(c, i + 1) else { return };
                if n < 0 && n != -1 {
                    return c.out.err("ERR value for ENTRIESREAD must be positive or -1");
                }
                entries_read = n;
                i += 2;
            } else {
                return subcommand_syntax_error(c);
            }
        }
        match s.peek(c.db, c.arg(2)) {
            None => {}
            Some(Value::Stream(st)) => {
                exists = true;
                group_exists = st.groups.contains_key(c.arg(3));
            }
            Some(_) => return c.wrongtype(),
        }
        if !mkstream {
            if !exists {
                return c.out.err(
                    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
                );
            }
            if !group_exists && matches!(sub.as_slice(), b"setid" | b"createconsumer" | b"delconsumer") {
                let msg =
                    format!("NOGROUP No such consumer group '{}' for key name '{}'", text(c.arg(3)), text(c.arg(2)));
                return c.out.err(&msg);
            }
        }
    }
    let key = c.arg(2).to_vec();
    let group = c.arg(3).to_vec();
    let now = c.now.unix_ms;
    match sub.as_slice() {
        b"help" if c.argc() == 2 => c.out.help(&[
            b"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"CREATE <key> <groupname> <id|$> [option]",
            b"    Create a new consumer group. Options are:",
            b"    * MKSTREAM",
            b"      Create the empty stream if it does not exist.",
            b"    * ENTRIESREAD entries_read",
            b"      Set the group's entries_read counter (internal use).",
            b"CREATECONSUMER <key> <groupname> <consumer>",
            b"    Create a new consumer in the specified group.",
            b"DELCONSUMER <key> <groupname> <consumer>",
            b"    Remove the specified consumer.",
            b"DESTROY <key> <groupname>",
            b"    Remove the specified group.",
            b"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            b"    Set the current group ID and entries_read counter.",
            b"HELP",
            b"    Print this help.",
        ]),
        b"create" if (5..=8).contains(&c.argc()) => {
            let id = if c.arg(4) == b"$" {
                match s.peek(c.db, &key) {
                    Some(Value::Stream(st)) => st.last_id,
                    _ => StreamId::MIN,
                }
            } else {
                let Some(id) = strict_id_arg(c, 4) else { return };
                id
            };
            if !exists {
                s.store(c.db, &key, Value::Stream(Stream::new().into()), false);
            }
            let created = with_stream(s, c.db, &key, |st| {
                if st.groups.contains_key(&group) {
                    return false;
                }
                st.groups.insert(group.clone(), Group::new(id, entries_read));
                true
            });
            if created == Some(true) {
                c.out.ok();
                s.modified(c, c.db, &key);
                s.notify(STREAM, "xgroup-create", c.db, &key);
            } else {
                c.out.err("BUSYGROUP Consumer Group name already exists");
            }
        }
        b"setid" if c.argc() == 5 || c.argc() == 7 => {
            let id = if c.arg(4) == b"$" {
                match s.peek(c.db, &key) {
                    Some(Value::Stream(st)) => st.last_id,
                    _ => StreamId::MIN,
                }
            } else {
                match parse_id_ext(c.arg(4), 0, false, false) {
                    Some((id, _)) => id,
                    None => return c.out.err(INVALID_ID),
                }
            };
            with_stream(s, c.db, &key, |st| {
                if let Some(g) = st.groups.get_mut(&group) {
                    g.last_id = id;
                    g.entries_read = entries_read;
                }
            });
            c.out.ok();
            s.modified(c, c.db, &key);
            s.notify(STREAM, "xgroup-setid", c.db, &key);
        }
        b"destroy" if c.argc() == 4 => {
            let removed = with_stream(s, c.db, &key, |st| st.groups.remove(&group).is_some()) == Some(true);
            if removed {
                c.out.int(1);
                s.modified(c, c.db, &key);
                s.notify(STREAM, "xgroup-destroy", c.db, &key);
                s.signal_key_created(c.db, &key);
            } else {
                c.out.int(0);
            }
        }
        b"createconsumer" if c.argc() == 5 => {
            let consumer = c.arg(4).to_vec();
            let created = with_stream(s, c.db, &key, |st| {
                st.groups.get_mut(&group).is_some_and(|g| g.create_consumer(&consumer, now))
            }) == Some(true);
            if created {
                s.modified(c, c.db, &key);
                s.notify(STREAM, "xgroup-createconsumer", c.db, &key);
            }
            c.out.int(i64::from(created));
        }
        b"delconsumer" if c.argc() == 5 => {
            let consumer = c.arg(4).to_vec();
            let pending =
                with_stream(s, c.db, &key, |st| st.groups.get_mut(&group).and_then(|g| g.delete_consumer(&consumer)))
                    .flatten();
            if pending.is_some() {
                s.modified(c, c.db, &key);
                s.notify(STREAM, "xgroup-delconsumer", c.db, &key);
            }
            c.out.int(pending.unwrap_or(0) as i64);
        }
        _ => subcommand_syntax_error(c),
    }
}

/// XACK key group id [id ...]
pub fn xack(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    let group = c.arg(2).to_vec();
    let found = match s.peek(c.db, &key) {
        None => false,
        Some(Value::Stream(st)) => st.groups.contains_key(&group),
        Some(_) => return c.wrongtype(),
    };
    if !found {
        return c.out.int(0);
    }
    let mut ids = Vec::with_capacity(c.argc() - 3);
    for i in 3..c.argc() {
        let Some(id) = strict_id_arg(c, i) else { return };
        ids.push(id);
    }
    let acked = with_stream(s, c.db, &key, |st| {
        let g = st.groups.get_mut(&group)?;
        Some(ids.iter().filter(|id| g.unassign(**id).is_some()).count())
    })
    .flatten()
    .unwrap_or(0);
    if acked > 0 {
        s.modified(c, c.db, &key);
        c.dirty += acked as u64 - 1;
    }
    c.out.int(acked as i64);
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(s: &mut Server, c: &mut Ctx) {
    let argc = c.argc();
    if argc != 3 && !(6..=9).contains(&argc) {
        return c.syntax_error();
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut minidle = 0i64;
        if eq_ic(c.arg(3), "idle") {
            let Some(n) = super::int_arg(c, 4) else { return };
            minidle = n;
            if argc < 8 {
                return c.syntax_error();
            }
            at += 2;
        }
        let Some(count) = super::int_arg(c, at + 2) else { return };
        let Ok(start) = interval_arg(c, at, 0, true) else { return };
        let Ok(end) = interval_arg(c, at + 1, u64::MAX, false) else { return };
        let consumer = (at + 3 < argc).then(|| c.arg(at + 3).to_vec());
        range = Some((start, end, count.max(0) as usize, minidle, consumer));
    }
    let key = c.argv[1].clone();
    let name = c.argv[2].clone();
    let now = c.now.unix_ms;
    let g = match s.read(c.db, &key) {
        Some(Value::Stream(st)) => st.groups.get(&name),
        None => None,
        Some(_) => return c.wrongtype(),
    };
    let Some(g) = g else { return nogroup_key_or_group(c, &key, &name) };
    let Some((start, end, count, minidle, consumer)) = range else {
        c.out.array(4);
        c.out.int(g.pel().len() as i64);
        match (g.pel().first_key_value(), g.pel().last_key_value()) {
            (Some((first, _)), Some((last, _))) => {
                reply_id(&mut c.out, *first);
                reply_id(&mut c.out, *last);
                let owners: Vec<_> = g.consumers().iter().filter(|(_, cs)| !cs.pel.is_empty()).collect();
                c.out.array(owners.len());
                for (name, cs) in owners {
                    c.out.array(2);
                    c.out.bulk(name);
                    c.out.bulk(cs.pel.len().to_string().as_bytes());
                }
            }
            _ => {
                c.out.null();
                c.out.null();
                c.out.null_array();
            }
        }
        return;
    };
    let ids: Vec<StreamId> = match &consumer {
        Some(name) => match g.consumer(name) {
            Some(cs) if start <= end => {
                cs.pel.iter_from(&start).map(|(id, _)| *id).take_while(|id| *id <= end).collect()
            }
            Some(_) => Vec::new(),
            None => return c.out.array(0),
        },
        None if start <= end => g.pel().iter_from(&start).map(|(id, _)| *id).take_while(|id| *id <= end).collect(),
        None => Vec::new(),
    };
    let at = c.out.begin_deferred();
    let mut n = 0;
    for id in ids {
        if n == count {
            break;
        }
        let Some(nack) = g.pel().get(&id) else { continue };
        let idle = now as i64 - nack.delivery_time as i64;
        if minidle > 0 && idle < minidle {
            continue;
        }
        n += 1;
        c.out.array(4);
        reply_id(&mut c.out, id);
        c.out.bulk(&nack.consumer);
        c.out.int(idle.max(0));
        c.out.int(nack.delivery_count as i64);
    }
    c.out.finish_array(at, n);
}

/// An integer option of XCLAIM, with its own error message.
fn claim_int(c: &mut Ctx, i: usize, msg: &str) -> Option<i64> {
    let v = parse_i64(c.arg(i));
    if v.is_none() {
        c.out.err(msg);
    }
    v
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
pub fn xclaim(s: &mut Server, c: &mut Ctx) {
    let Some((key, name)) = claim_target(s, c) else { return };
    let Some(minidle) = claim_int(c, 4, "ERR Invalid min-idle-time argument for XCLAIM") else { return };
    let minidle = minidle.max(0) as u64;
    let mut ids = Vec::new();
    let mut j = 5;
    while j < c.argc() {
        match parse_id_ext(c.arg(j), 0, true, false) {
            Some((id, _)) => ids.push((id, j)),
            None => break,
        }
        j += 1;
    }
    let now = c.now.unix_ms;
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retrycount: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < c.argc() {
        let more = c.argc() - 1 - j;
        let opt = c.arg(j).to_vec();
        if eq_ic(&opt, "force") {
            force = true;
        } else if eq_ic(&opt, "justid") {
            justid = true;
        } else if eq_ic(&opt, "idle") && more > 0 {
            j += 1;
            let Some(v) = claim_int(c, j, "ERR Invalid IDLE option argument for XCLAIM") else { return };
            delivery = Some(now as i64 - v);
        } else if eq_ic(&opt, "time") && more > 0 {
            j += 1;
            let Some(v) = claim_int(c, j, "ERR Invalid TIME option argument for XCLAIM") else { return };
            delivery = Some(v);
        } else if eq_ic(&opt, "retrycount") && more > 0 {
            j += 1;
            let Some(v) = claim_int(c, j, "ERR Invalid RETRYCOUNT option argument for XCLAIM") else { return };
            retrycount = Some(v);
        } else if eq_ic(&opt, "lastid") && more > 0 {
            j += 1;
            let Some(id) = strict_id_arg(c, j) else { return };
            last_id = id;
        } else {
            return c.out.err(&format!("ERR Unrecognized XCLAIM option '{}'", text(&opt)));
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(d) if d >= 0 && d as u64 <= now => d as u64,
        _ => now,
    };
    let consumer = c.argv[3].clone();
    let mut props = Vec::new();
    let mut created = false;
    let out = &mut c.out;
    let at = out.begin_deferred();
    let mut n = 0usize;
    let mut dirty = 0u64;
    with_stream(s, c.db, &key, |st| {
        let mut propagate_last_id = false;
        if let Some(g) = st.groups.get_mut(&name)
            && last_id > g.last_id
        {
            g.last_id = last_id;
            propagate_last_id = true;
        }
        for (id, _) in &ids {
            let exists = st.contains(*id);
            let Some(g) = st.groups.get_mut(&name) else { return };
            let pending = g.pel().contains_key(id);
            if !exists {
                if pending {
                    props.extend(xclaim_argv(&key, &name, g, *id));
                    propagate_last_id = false;
                    g.unassign(*id);
                    dirty += 1;
                }
                continue;
            }
            if !pending && !force {
                continue;
            }
            let (old_time, old_count, owned) = match g.pel().get(id) {
                Some(nk) => (nk.delivery_time, nk.delivery_count, true),
                None => (now, 1, false),
            };
            if owned && minidle > 0 && (now as i64 - old_time as i64) < minidle as i64 {
                continue;
            }
            created |= g.touch_consumer(&consumer, now);
            let count = match retrycount {
                Some(r) if r >= 0 => r as u64,
                _ if !justid => old_count + 1,
                _ => old_count,
            };
            g.assign(*id, &consumer, delivery, count);
            props.extend(xclaim_argv(&key, &name, g, *id));
            propagate_last_id = false;
            dirty += 1;
            if justid {
                reply_id(out, *id);
            } else if let Some(e) = st.get(*id) {
                super::stream::reply_entry(out, e);
            }
            n += 1;
        }
        if propagate_last_id && let Some(g) = st.groups.get(&name) {
            props.push(setid_argv(&key, &name, g));
            dirty += 1;
        }
    });
    c.out.finish_array(at, n);
    finish_claim(s, c, &key, created, dirty, props);
}

/// What XCLAIM and XAUTOCLAIM do after claiming: the consumer's creation
/// event, the changes counted, and the XCLAIMs (not the command) to
/// propagate.
fn finish_claim(s: &mut Server, c: &mut Ctx, key: &[u8], created: bool, dirty: u64, props: Vec<Vec<Vec<u8>>>) {
    if created {
        s.notify(STREAM, "xgroup-createconsumer", c.db, key);
    }
    if dirty > 0 {
        s.modified(c, c.db, key);
        c.dirty += dirty - 1;
    }
    c.propagate_as(props);
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(s: &mut Server, c: &mut Ctx) {
    let Some(minidle) = claim_int(c, 4, "ERR Invalid min-idle-time argument for XAUTOCLAIM") else { return };
    let minidle = minidle.max(0);
    let Ok(start) = interval_arg(c, 5, 0, true) else { return };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < c.argc() {
        let more = c.argc() - 1 - j;
        if eq_ic(c.arg(j), "count") && more > 0 {
            let max = i64::MAX / 16;
            match parse_i64(c.arg(j + 1)) {
                Some(n) if (1..=max).contains(&n) => count = n,
                Some(_) => return c.out.err("ERR COUNT must be > 0"),
                None => return c.not_integer(),
            }
            j += 1;
        } else if eq_ic(c.arg(j), "justid") {
            justid = true;
        } else {
            return c.syntax_error();
        }
        j += 1;
    }
    let Some((key, name)) = claim_target(s, c) else { return };
    let consumer = c.argv[3].clone();
    let now = c.now.unix_ms;
    let mut count = count as u64;
    let mut attempts = count.saturating_mul(10);
    let mut props = Vec::new();
    let mut deleted = Vec::new();
    let mut created = false;
    let mut dirty = 0u64;
    let mut claimed = 0usize;
    let mut end = StreamId::MIN;
    let mut body = crate::resp::Out::new(c.out.resp);
    with_stream(s, c.db, &key, |st| {
        let mut cursor = start;
        loop {
            let next = st
                .groups
                .get(&name)
                .and_then(|g| g.pel().iter_from(&cursor).next().map(|(id, n)| (*id, n.delivery_time)));
            let Some((id, time)) = next else {
                end = StreamId::MIN;
                break;
            };
            if attempts == 0 || count == 0 {
                end = id;
                break;
            }
            attempts -= 1;
            cursor = match id.next() {
                Some(n) => n,
                None => StreamId::MAX,
            };
            let exists = st.contains(id);
            let Some(g) = st.groups.get_mut(&name) else { break };
            if !exists {
                props.extend(xclaim_argv(&key, &name, g, id));
                g.unassign(id);
                deleted.push(id);
                dirty += 1;
                count -= 1;
            } else if minidle == 0 || now as i64 - time as i64 >= minidle {
                created |= g.touch_consumer(&consumer, now);
                let old = g.pel().get(&id).map_or(0, |n| n.delivery_count);
                g.assign(id, &consumer, now, if justid { old } else { old + 1 });
                props.extend(xclaim_argv(&key, &name, g, id));
                dirty += 1;
                count -= 1;
                claimed += 1;
                if justid {
                    reply_id(&mut body, id);
                } else if let Some(e) = st.get(id) {
                    super::stream::reply_entry(&mut body, e);
                }
            }
            if id == StreamId::MAX {
                end = StreamId::MIN;
                break;
            }
        }
    });
    c.out.array(3);
    reply_id(&mut c.out, end);
    c.out.array(claimed);
    c.out.raw(&body.buf);
    c.out.array(deleted.len());
    for id in deleted {
        reply_id(&mut c.out, id);
    }
    finish_claim(s, c, &key, created, dirty, props);
}
