//! Stream commands on entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL,
//! XTRIM, XSETID, and XINFO; plus the ID parsing and entry replies the
//! other stream modules share. Reading with blocking is in
//! [`super::stream_read`], consumer groups in [`super::stream_group`].

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::{check_type, int_arg, text};
use crate::notify::STREAM;
use crate::resp::Out;
use crate::server::{Ctx, Server};
use crate::types::stream::{AddError, Entry, NodeLimits, StreamId, TrimTo};
use crate::types::{Stream, Value};
use crate::util::{eq_ic, parse_i64};

pub(crate) const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// An unsigned decimal (Redis's `string2ull`).
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// Parses an ID (Redis's `streamGenericParseIDOrReply`): `ms-seq`, `ms`
/// (sequence `missing_seq`), `-` and `+` unless `strict`; `ms-*` when
/// `seq_star` (then `.1` is false: the sequence is to be generated).
pub(crate) fn parse_id_ext(arg: &[u8], missing_seq: u64, strict: bool, seq_star: bool) -> Option<(StreamId, bool)> {
    if arg.len() > 127 {
        return None;
    }
    match arg {
        b"-" if !strict => return Some((StreamId::MIN, true)),
        b"+" if !strict => return Some((StreamId::MAX, true)),
        b"-" | b"+" => return None,
        _ => {}
    }
    match arg.iter().position(|&b| b == b'-') {
        Some(dash) => {
            let ms = parse_u64(&arg[..dash])?;
            let rest = &arg[dash + 1..];
            if seq_star && rest == b"*" {
                return Some((StreamId::new(ms, 0), false));
            }
            Some((StreamId::new(ms, parse_u64(rest)?), true))
        }
        None => Some((StreamId::new(parse_u64(arg)?, missing_seq), true)),
    }
}

/// A strict ID argument, replying the error when invalid.
pub(crate) fn strict_id_arg(c: &mut Ctx, i: usize) -> Option<StreamId> {
    let id = parse_id_ext(c.arg(i), 0, true, false).map(|(id, _)| id);
    if id.is_none() {
        c.out.err(INVALID_ID);
    }
    id
}

/// A range bound (XRANGE, XPENDING, XAUTOCLAIM): `(` makes it exclusive.
/// `Err` after replying.
pub(crate) fn interval_arg(c: &mut Ctx, i: usize, missing_seq: u64, start: bool) -> Result<StreamId, ()> {
    let a = c.arg(i);
    let exclusive = a.len() > 1 && a[0] == b'(';
    let parsed = if exclusive {
        parse_id_ext(&a[1..], missing_seq, true, false)
    } else {
        parse_id_ext(a, missing_seq, false, false)
    };
    let Some((id, _)) = parsed else {
        c.out.err(INVALID_ID);
        return Err(());
    };
    if !exclusive {
        return Ok(id);
    }
    let moved = if start { id.next() } else { id.prev() };
    moved.ok_or_else(|| {
        c.out.err(if start { "ERR invalid start ID for the interval" } else { "ERR invalid end ID for the interval" })
    })
}

pub(crate) fn id_bytes(id: StreamId) -> Vec<u8> {
    id.to_string().into_bytes()
}

pub(crate) fn reply_id(out: &mut Out, id: StreamId) {
    out.bulk(&id_bytes(id));
}

/// `[id, [field, value, ...]]`.
pub(crate) fn reply_entry(out: &mut Out, e: &Entry) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.items.len());
    for item in e.items.iter() {
        out.bulk(item);
    }
}

/// The entries of `[start, end]` (up to `count`, 0: all) as an array.
pub(crate) fn reply_range(out: &mut Out, st: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) {
    let at = out.begin_deferred();
    let mut n = 0;
    for e in st.range(start, end, rev) {
        if out.overflowed() {
            break;
        }
        reply_entry(out, e);
        n += 1;
        if n == count {
            break;
        }
    }
    out.finish_array(at, n);
}

/// The `stream-node-max-bytes` / `-entries` settings.
pub(crate) fn node_limits(s: &Server) -> NodeLimits {
    let get = |name: &str| {
        crate::config::TUNING.iter().position(|p| p.name == name).and_then(|i| s.config().tuning.get(i).copied())
    };
    NodeLimits {
        max_bytes: get("stream-node-max-bytes").map_or(4096, |v| v.max(0) as usize),
        max_entries: get("stream-node-max-entries").map_or(100, |v| v.max(0) as usize),
    }
}

/// XADD/XTRIM's parsed options (Redis's `streamAddTrimArgs`).
struct TrimArgs {
    to: Option<TrimTo>,
    approx: bool,
    limit: u64,
    /// Index of the MAXLEN/MINID value (its `~` is one before).
    arg_at: usize,
    nomkstream: bool,
    /// XADD's explicit ID and whether its sequence was given.
    id: Option<(StreamId, bool)>,
}

/// Parses XADD (`xadd`) or XTRIM options from argument 2; XADD's ID is at
/// the returned index. `Err` after replying.
fn parse_trim_args(s: &Server, c: &mut Ctx, xadd: bool) -> Result<(TrimArgs, usize), ()> {
    let mut a = TrimArgs { to: None, approx: false, limit: 0, arg_at: 0, nomkstream: false, id: None };
    let mut limit_given = false;
    let mut i = 2;
    while i < c.argc() {
        let more = c.argc() - 1 - i;
        let opt = c.arg(i);
        if xadd && opt == b"*" {
            break;
        } else if (eq_ic(opt, "maxlen") || eq_ic(opt, "minid")) && more > 0 {
            let maxlen = eq_ic(opt, "maxlen");
            if a.to.is_some() {
                c.out.err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return Err(());
            }
            a.approx = false;
            let next = c.arg(i + 1);
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let n = int_arg(c, i + 1).ok_or(())?;
                if n < 0 {
                    c.out.err("ERR The MAXLEN argument must be >= 0.");
                    return Err(());
                }
                a.to = Some(TrimTo::MaxLen(n as u64));
            } else {
                a.to = Some(TrimTo::MinId(strict_id_arg(c, i + 1).ok_or(())?));
            }
            i += 1;
            a.arg_at = i;
        } else if eq_ic(opt, "limit") && more > 0 {
            let n = int_arg(c, i + 1).ok_or(())?;
            if n < 0 {
                c.out.err("ERR The LIMIT argument must be >= 0.");
                return Err(());
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            match parse_id_ext(opt, 0, true, true) {
                Some(id) => a.id = Some(id),
                None => {
                    c.out.err(INVALID_ID);
                    return Err(());
                }
            }
            break;
        } else {
            c.syntax_error();
            return Err(());
        }
        i += 1;
    }
    if a.limit > 0 && a.to.is_none() {
        c.out.err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return Err(());
    }
    if !xadd && a.to.is_none() {
        c.out.err("ERR syntax error, XTRIM must be called with a trimming strategy");
        return Err(());
    }
    if s.is_replaying() {
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            c.out.err("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return Err(());
        }
    } else if a.approx {
        let per_node = node_limits(s).max_entries as u64;
        a.limit = per_node.saturating_mul(100);
        if a.limit == 0 {
            a.limit = 10000;
        }
        a.limit = a.limit.min(1_000_000);
    } else {
        a.limit = 0;
    }
    Ok((a, i))
}

/// After a `~` trim, the propagated command trims exactly to where this
/// one stopped (Redis's `streamRewriteApproxSpecifier`/`TrimArgument`).
fn rewrite_approx_trim(c: &mut Ctx, st: &Stream, a: &TrimArgs) {
    if !a.approx {
        return;
    }
    c.argv[a.arg_at - 1] = b"=".to_vec();
    c.argv[a.arg_at] = match a.to {
        Some(TrimTo::MaxLen(_)) => st.len().to_string().into_bytes(),
        _ => id_bytes(st.first_edge_id(false)),
    };
}

/// Runs `f` on the stream at `key` (which the caller checked is one).
pub(crate) fn with_stream<R>(s: &mut Server, db: usize, key: &[u8], f: impl FnOnce(&mut Stream) -> R) -> Option<R> {
    let mut v = s.write(db, key)?;
    match &mut *v {
        Value::Stream(st) => Some(f(st)),
        _ => None,
    }
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
pub fn xadd(s: &mut Server, c: &mut Ctx) {
    let Ok((args, idpos)) = parse_trim_args(s, c, true) else { return };
    let field_pos = idpos + 1;
    if c.argc() < field_pos + 2 || (c.argc() - field_pos) % 2 == 1 {
        c.out.err("ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if let Some((id, true)) = args.id
        && id.is_zero()
    {
        c.out.err("ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    let key = c.arg(1).to_vec();
    let Ok(exists) = check_type::<Stream>(s, c, &key) else { return };
    if !exists && args.nomkstream {
        c.out.null();
        return;
    }
    let (last, now) = match s.peek(c.db, &key) {
        Some(Value::Stream(st)) => (st.last_id, c.now.unix_ms),
        _ => (StreamId::MIN, c.now.unix_ms),
    };
    if last == StreamId::MAX {
        c.out.err("ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    let id = match args.id {
        Some((id, true)) => Some(id),
        Some((id, false)) if id.ms == last.ms => last.next().filter(|n| n.ms == last.ms),
        Some((id, false)) => Some(id),
        None => {
            if now > last.ms {
                Some(StreamId::new(now, 0))
            } else {
                last.next()
            }
        }
    };
    let too_small = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    let Some(id) = id.filter(|id| *id > last) else {
        c.out.err(too_small);
        return;
    };
    let items: Vec<Vec<u8>> = (field_pos..c.argc()).map(|i| c.take_arg(i)).collect();
    let bytes: usize = items.iter().map(|i| crate::mem::block(i.len()) + 16).sum();
    if !s.reserve_growth(bytes) {
        c.oom();
        return;
    }
    if !exists {
        s.store(c.db, &key, Value::Stream(Stream::new().into()), false);
    }
    let limits = node_limits(s);
    let added = with_stream(s, c.db, &key, |st| st.append(id, items, limits));
    match added {
        Some(Ok(())) => {}
        Some(Err(AddError::NotGreater)) | None => {
            c.out.err(too_small);
            return;
        }
        Some(Err(AddError::TooLarge)) => {
            c.out.err("ERR Elements are too large to be stored");
            return;
        }
    }
    reply_id(&mut c.out, id);
    s.modified(c, c.db, &key);
    s.notify(STREAM, "xadd", c.db, &key);
    if let Some(to) = args.to {
        let trimmed = with_stream(s, c.db, &key, |st| st.trim(to, args.approx, args.limit)).unwrap_or(0);
        if trimmed > 0 {
            s.notify(STREAM, "xtrim", c.db, &key);
        }
        if let Some(Value::Stream(st)) = s.peek(c.db, &key) {
            rewrite_approx_trim(c, st, &args);
        }
    }
    if !matches!(args.id, Some((_, true))) {
        c.argv[idpos] = id_bytes(id);
    }
    s.signal_key_created(c.db, &key);
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(s: &mut Server, c: &mut Ctx) {
    let Ok((args, _)) = parse_trim_args(s, c, false) else { return };
    let key = c.arg(1).to_vec();
    match check_type::<Stream>(s, c, &key) {
        Err(()) => return,
        Ok(false) => return c.out.int(0),
        Ok(true) => {}
    }
    let Some(to) = args.to else { return };
    let trimmed = with_stream(s, c.db, &key, |st| st.trim(to, args.approx, args.limit)).unwrap_or(0);
    if trimmed > 0 {
        s.notify(STREAM, "xtrim", c.db, &key);
        if let Some(Value::Stream(st)) = s.peek(c.db, &key) {
            rewrite_approx_trim(c, st, &args);
        }
        s.modified(c, c.db, &key);
        c.dirty += trimmed - 1;
    }
    c.out.int(trimmed as i64);
}

pub fn xlen(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Stream(st)) => c.out.int(st.len() as i64),
        Some(_) => c.wrongtype(),
    }
}

fn range_generic(s: &mut Server, c: &mut Ctx, rev: bool) {
    let (start_at, end_at) = if rev { (3, 2) } else { (2, 3) };
    let Ok(start) = interval_arg(c, start_at, 0, true) else { return };
    let Ok(end) = interval_arg(c, end_at, u64::MAX, false) else { return };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < c.argc() {
        if eq_ic(c.arg(j), "count") && j + 1 < c.argc() {
            let Some(n) = int_arg(c, j + 1) else { return };
            count = n.max(0);
            j += 2;
        } else {
            return c.syntax_error();
        }
    }
    let key = c.argv[1].clone();
    match s.read(c.db, &key) {
        None => c.out.array(0),
        Some(Value::Stream(st)) => {
            if count == 0 {
                c.out.null_array();
            } else {
                reply_range(&mut c.out, st, start, end, count.max(0) as usize, rev);
            }
        }
        Some(_) => c.wrongtype(),
    }
}

/// XRANGE key start end [COUNT count]
pub fn xrange(s: &mut Server, c: &mut Ctx) {
    range_generic(s, c, false);
}

/// XREVRANGE key end start [COUNT count]
pub fn xrevrange(s: &mut Server, c: &mut Ctx) {
    range_generic(s, c, true);
}

/// XDEL key id [id ...]
pub fn xdel(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(1).to_vec();
    match check_type::<Stream>(s, c, &key) {
        Err(()) => return,
        Ok(false) => return c.out.int(0),
        Ok(true) => {}
    }
    let mut ids = Vec::with_capacity(c.argc() - 2);
    for i in 2..c.argc() {
        let Some(id) = strict_id_arg(c, i) else { return };
        ids.push(id);
    }
    let deleted = with_stream(s, c.db, &key, |st| ids.iter().filter(|id| st.delete(**id)).count()).unwrap_or(0);
    if deleted > 0 {
        s.modified(c, c.db, &key);
        c.dirty += deleted as u64 - 1;
        s.notify(STREAM, "xdel", c.db, &key);
    }
    c.out.int(deleted as i64);
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(s: &mut Server, c: &mut Ctx) {
    let Some(id) = strict_id_arg(c, 2) else { return };
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < c.argc() {
        let more = c.argc() - 1 - i;
        if eq_ic(c.arg(i), "entriesadded") && more > 0 {
            let Some(n) = int_arg(c, i + 1) else { return };
            if n < 0 {
                return c.out.err("ERR entries_added must be positive");
            }
            entries_added = n;
        } else if eq_ic(c.arg(i), "maxdeletedid") && more > 0 {
            let Some(m) = strict_id_arg(c, i + 1) else { return };
            if id < m {
                return c.out.err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
            }
            max_deleted = m;
        } else {
            return c.syntax_error();
        }
        i += 2;
    }
    let key = c.arg(1).to_vec();
    let st = match s.peek(c.db, &key) {
        None => return c.out.err("ERR no such key"),
        Some(Value::Stream(st)) => st,
        Some(_) => return c.wrongtype(),
    };
    if !st.is_empty() {
        if st.last_live_id().is_some_and(|max| id < max) {
            return c.out.err("ERR The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added != -1 && st.len() as u64 > entries_added as u64 {
            return c.out.err("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    with_stream(s, c.db, &key, |st| {
        st.last_id = id;
        if entries_added != -1 {
            st.entries_added = entries_added as u64;
        }
        if !max_deleted.is_zero() {
            st.max_deleted_id = max_deleted;
        }
    });
    c.out.ok();
    s.modified(c, c.db, &key);
    s.notify(STREAM, "xsetid", c.db, &key);
}

fn reply_lag(out: &mut Out, st: &Stream, g: &crate::types::stream::Group) {
    match st.group_lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

fn reply_entries_read(out: &mut Out, g: &crate::types::stream::Group) {
    if g.entries_read >= 0 { out.int(g.entries_read) } else { out.null() }
}

/// XINFO STREAM key [FULL [COUNT count]] | GROUPS key | CONSUMERS key group | HELP
pub fn xinfo(s: &mut Server, c: &mut Ctx) {
    if !subcommand_ok(c, &[("help", 2), ("stream", -3), ("groups", 3), ("consumers", 4)]) {
        return;
    }
    let sub = c.arg(1).to_ascii_lowercase();
    if sub == b"help" {
        return c.out.help(&[
            b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"CONSUMERS <key> <groupname>",
            b"    Show consumers of <groupname>.",
            b"GROUPS <key>",
            b"    Show the stream consumer groups.",
            b"STREAM <key> [FULL [COUNT <count>]",
            b"    Show information about the stream.",
            b"HELP",
            b"    Print this help.",
        ]);
    }
    if c.argc() < 3 {
        return subcommand_syntax_error(c);
    }
    let key = c.argv[2].clone();
    let now = c.now.unix_ms;
    let st = match s.read(c.db, &key) {
        None => return c.out.err("ERR no such key"),
        Some(Value::Stream(st)) => st,
        Some(_) => return c.wrongtype(),
    };
    match sub.as_slice() {
        b"consumers" if c.argc() == 4 => {
            let Some(g) = st.groups.get(c.arg(3)) else {
                let msg = format!("NOGROUP No such consumer group '{}' for key name '{}'", text(c.arg(3)), text(&key));
                return c.out.err(&msg);
            };
            c.out.array(g.consumers().len());
            for (name, cons) in g.consumers().iter() {
                c.out.map(3);
                c.out.bulk(b"name");
                c.out.bulk(name);
                c.out.bulk(b"pending");
                c.out.int(cons.pel.len() as i64);
                c.out.bulk(b"idle");
                c.out.int(now.saturating_sub(cons.seen_time) as i64);
            }
        }
        b"groups" if c.argc() == 3 => {
            c.out.array(st.groups.len());
            for (name, g) in st.groups.iter() {
                c.out.map(6);
                c.out.bulk(b"name");
                c.out.bulk(name);
                c.out.bulk(b"consumers");
                c.out.int(g.consumers().len() as i64);
                c.out.bulk(b"pending");
                c.out.int(g.pel().len() as i64);
                c.out.bulk(b"last-delivered-id");
                reply_id(&mut c.out, g.last_id);
                c.out.bulk(b"entries-read");
                reply_entries_read(&mut c.out, g);
                c.out.bulk(b"lag");
                reply_lag(&mut c.out, st, g);
            }
        }
        b"stream" => {
            let optc = c.argc() - 3;
            let mut full = false;
            let mut count: i64 = 10;
            if optc > 0 {
                if (optc != 1 && optc != 3) || !eq_ic(c.arg(3), "full") {
                    return subcommand_syntax_error(c);
                }
                full = true;
                if optc == 3 {
                    if !eq_ic(c.arg(4), "count") {
                        return subcommand_syntax_error(c);
                    }
                    let Some(n) = int_arg(c, 5) else { return };
                    count = if n < 0 { 10 } else { n };
                }
            }
            let st = match s.peek(c.db, &key) {
                Some(Value::Stream(st)) => st,
                _ => return,
            };
            stream_info(&mut c.out, st, full, count as usize);
        }
        _ => subcommand_syntax_error(c),
    }
}

fn stream_info(out: &mut Out, st: &Stream, full: bool, count: usize) {
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(st.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(st.block_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(st.radix_tree_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, st.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, st.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(st.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, st.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(st.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            out.bulk(name);
            match st.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some(e) => reply_entry(out, e),
                None => out.null(),
            }
        }
        return;
    }
    out.bulk(b"entries");
    reply_range(out, st, StreamId::MIN, StreamId::MAX, count, false);
    out.bulk(b"groups");
    out.array(st.groups.len());
    for (name, g) in st.groups.iter() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, st, g);
        out.bulk(b"pel-count");
        out.int(g.pel().len() as i64);
        out.bulk(b"pending");
        let shown = if count == 0 { g.pel().len() } else { g.pel().len().min(count) };
        out.array(shown);
        for (id, n) in g.pel().iter().take(shown) {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&n.consumer);
            out.int(n.delivery_time as i64);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers().len());
        for (cname, cons) in g.consumers().iter() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(cons.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(cons.pel.len() as i64);
            out.bulk(b"pending");
            let shown = if count == 0 { cons.pel.len() } else { cons.pel.len().min(count) };
            out.array(shown);
            for id in cons.pel.keys().take(shown) {
                let n = g.pel().get(id);
                out.array(3);
                reply_id(out, *id);
                out.int(n.map_or(0, |n| n.delivery_time as i64));
                out.int(n.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
}

/// Checks a container command's subcommand against `(name, arity)`
/// pairs, replying Redis's unknown-subcommand or arity error (`false`).
pub(crate) fn subcommand_ok(c: &mut Ctx, table: &[(&str, i32)]) -> bool {
    let sub = c.arg(1).to_ascii_lowercase();
    let Some(&(_, arity)) = table.iter().find(|(name, _)| name.as_bytes() == sub.as_slice()) else {
        super::unknown_subcommand(c);
        return false;
    };
    let argc = c.argc() as i32;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        super::sub_arity_error(c);
        return false;
    }
    true
}

/// Redis's `addReplySubcommandSyntaxError`.
pub(crate) fn subcommand_syntax_error(c: &mut Ctx) {
    let sub = text(c.arg(1));
    let cmd = c.spec.name.to_ascii_uppercase();
    c.out.err(&format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."));
}
