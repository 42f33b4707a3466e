//! XREAD and XREADGROUP, and serving the clients they block (Redis's
//! `serveClientsBlockedOnStreamKey`): a blocked reader is served when its
//! stream gets an entry past its ID; a blocked XREADGROUP gets an error
//! when the key is deleted or no longer a stream, or its group destroyed.
//!
//! Group reads propagate as Redis does: each delivered entry as an XCLAIM
//! that recreates its pending entry, NOACK reads as XGROUP SETID (and a
//! consumer they create as XGROUP CREATECONSUMER); never XREADGROUP.

use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::int_arg;
use super::stream::{id_bytes, reply_entry, reply_id, with_stream};
use crate::blocking::{BlockOp, Blocked};
use crate::notify::STREAM;
use crate::resp::Out;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::types::stream::{Group, Stream, StreamId};
use crate::util::eq_ic;

/// XREADGROUP's group, consumer and NOACK.
#[derive(Debug, Clone)]
pub struct GroupRead {
    pub group: Vec<u8>,
    pub consumer: Vec<u8>,
    pub noack: bool,
}

/// Default COUNT of a blocked read (Redis's XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

type Argv = Vec<Vec<u8>>;

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID
/// LASTID group-last-id`: recreates a pending entry exactly (Redis's
/// `streamPropagateXCLAIM`).
pub(crate) fn xclaim_argv(key: &[u8], group_name: &[u8], g: &Group, id: StreamId) -> Option<Argv> {
    let n = g.pel().get(&id)?;
    Some(vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group_name.to_vec(),
        n.consumer.clone(),
        b"0".to_vec(),
        id_bytes(id),
        b"TIME".to_vec(),
        n.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        n.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        id_bytes(g.last_id),
    ])
}

/// `XGROUP SETID key group last-id ENTRIESREAD n` (Redis's
/// `streamPropagateGroupID`).
pub(crate) fn setid_argv(key: &[u8], group_name: &[u8], g: &Group) -> Argv {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group_name.to_vec(),
        id_bytes(g.last_id),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

/// The entries after `gt` (up to `count`, 0: all) as an array; for a
/// group, advances its last ID and read counter and, unless NOACK, makes
/// them pending for the consumer (which exists). Returns the commands to
/// propagate. Redis's `streamReplyWithRange` with a group.
fn read_new(
    out: &mut Out,
    st: &mut Stream,
    key: &[u8],
    gt: StreamId,
    count: usize,
    group: Option<&GroupRead>,
    now: u64,
) -> Vec<Argv> {
    let mut props = Vec::new();
    let Some(start) = gt.next() else {
        out.array(0);
        return props;
    };
    let ids: Vec<StreamId> = {
        let it = st.range(start, StreamId::MAX, false).map(|e| e.id);
        if count > 0 { it.take(count).collect() } else { it.collect() }
    };
    out.array(ids.len());
    let mut propagate_last_id = false;
    for id in ids {
        if let Some(gr) = group {
            let last = st.groups.get(&gr.group).map_or(StreamId::MAX, |g| g.last_id);
            if id > last {
                let tombstones = st.range_has_tombstones(id, StreamId::MAX);
                let estimate = st.estimate_entries_read(id);
                let added = st.entries_added;
                if let Some(g) = st.groups.get_mut(&gr.group) {
                    if g.entries_read >= 0 && !tombstones {
                        g.entries_read += 1;
                    } else if added > 0 {
                        g.entries_read = estimate.map_or(-1, |n| n as i64);
                    }
                    g.last_id = id;
                }
                propagate_last_id |= gr.noack;
            }
        }
        if let Some(e) = st.get(id) {
            reply_entry(out, e);
        }
        if let Some(gr) = group.filter(|gr| !gr.noack)
            && let Some(g) = st.groups.get_mut(&gr.group)
        {
            g.assign(id, &gr.consumer, now, 1);
            props.extend(xclaim_argv(key, &gr.group, g, id));
        }
    }
    if let Some(gr) = group
        && propagate_last_id
        && let Some(g) = st.groups.get(&gr.group)
    {
        props.push(setid_argv(key, &gr.group, g));
    }
    props
}

/// XREADGROUP with an ID: the consumer's own pending entries from `start`
/// (a deleted one as `[id, nil]`); each counts as delivered again.
fn read_history(out: &mut Out, st: &mut Stream, gr: &GroupRead, start: StreamId, count: usize, now: u64) {
    let ids: Vec<StreamId> = match st.groups.get(&gr.group).and_then(|g| g.consumer(&gr.consumer)) {
        Some(c) => {
            let it = c.pel.iter_from(&start).map(|(id, _)| *id);
            if count > 0 { it.take(count).collect() } else { it.collect() }
        }
        None => Vec::new(),
    };
    out.array(ids.len());
    for id in ids {
        match st.get(id) {
            Some(e) => {
                reply_entry(out, e);
                if let Some(g) = st.groups.get_mut(&gr.group) {
                    g.redeliver(id, now);
                }
            }
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
            }
        }
    }
}

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
pub fn xread(s: &mut Server, c: &mut Ctx) {
    read_generic(s, c, false);
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
pub fn xreadgroup(s: &mut Server, c: &mut Ctx) {
    read_generic(s, c, true);
}

fn read_generic(s: &mut Server, c: &mut Ctx, xreadgroup: bool) {
    let mut timeout: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_at = 0;
    let mut group: Option<GroupRead> = None;
    let mut noack = false;
    let mut i = 1;
    while i < c.argc() {
        let more = c.argc() - i - 1;
        let o = c.arg(i);
        if eq_ic(o, "block") && more > 0 {
            i += 1;
            let Some(ms) = parse_block_ms(c, i) else { return };
            timeout = Some(ms);
        } else if eq_ic(o, "count") && more > 0 {
            i += 1;
            let Some(n) = int_arg(c, i) else { return };
            count = n.max(0) as usize;
        } else if eq_ic(o, "streams") && more > 0 {
            streams_at = i + 1;
            if !(c.argc() - streams_at).is_multiple_of(2) {
                return c
                    .out
                    .err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
            }
            break;
        } else if eq_ic(o, "group") && more >= 2 {
            if !xreadgroup {
                return c.out.err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            }
            group = Some(GroupRead { group: c.arg(i + 1).to_vec(), consumer: c.arg(i + 2).to_vec(), noack: false });
            i += 2;
        } else if eq_ic(o, "noack") {
            if !xreadgroup {
                return c.out.err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
            }
            noack = true;
        } else {
            return c.syntax_error();
        }
        i += 1;
    }
    if streams_at == 0 {
        return c.syntax_error();
    }
    if xreadgroup && group.is_none() {
        return c.out.err("ERR Missing GROUP option for XREADGROUP");
    }
    if let Some(g) = group.as_mut() {
        g.noack = noack;
    }
    let n = (c.argc() - streams_at) / 2;
    let keys: Vec<Vec<u8>> = c.argv[streams_at..streams_at + n].to_vec();
    // Per stream: the ID entries must be greater than; `None` for `>`.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(n);
    for (k, key) in keys.iter().enumerate() {
        let arg = c.arg(streams_at + n + k).to_vec();
        let st = match s.read(c.db, key) {
            None => None,
            Some(Value::Stream(st)) => Some(st),
            Some(_) => return c.wrongtype(),
        };
        if let Some(g) = &group
            && st.is_none_or(|st| !st.groups.contains_key(&g.group))
        {
            let msg = format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                super::text(key),
                super::text(&g.group)
            );
            return c.out.err(&msg);
        }
        if arg == b"$" {
            if xreadgroup {
                return c.out.err(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                );
            }
            ids.push(Some(st.map_or(StreamId::MIN, |st| st.last_id)));
        } else if arg == b">" {
            if !xreadgroup {
                return c.out.err(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                );
            }
            ids.push(None);
        } else {
            let Some((id, _)) = super::stream::parse_id_ext(&arg, 0, true, false) else {
                return c.out.err(super::stream::INVALID_ID);
            };
            ids.push(Some(id));
        }
    }
    let now = c.now.unix_ms;
    let at = c.out.begin_deferred();
    let mut served = 0usize;
    let mut props: Vec<Argv> = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        let Some(Value::Stream(st)) = s.read(c.db, key) else { continue };
        let history = group.is_some() && ids[k].is_some();
        let gt = match (&group, ids[k]) {
            (Some(g), None) => st.groups.get(&g.group).map_or(StreamId::MAX, |g| g.last_id),
            (_, Some(id)) => id,
            (None, None) => continue,
        };
        let has_new = st.last_live_id().is_some_and(|max| max > gt);
        if !history && !has_new {
            continue;
        }
        served += 1;
        if !c.out.is_resp3() {
            c.out.array(2);
        }
        c.out.bulk(key);
        if let Some(g) = &group {
            let created = with_stream(s, c.db, key, |st| {
                st.groups.get_mut(&g.group).is_some_and(|grp| grp.touch_consumer(&g.consumer, now))
            });
            if created == Some(true) {
                s.notify(STREAM, "xgroup-createconsumer", c.db, key);
                if g.noack {
                    props.push(createconsumer_argv(key, g));
                }
            }
        }
        let out = &mut c.out;
        let g = group.as_ref();
        let more = with_stream(s, c.db, key, |st| {
            if history {
                if let Some(start) = gt.next() {
                    read_history(out, st, g.expect("group"), start, count, now);
                } else {
                    out.array(0);
                }
                Vec::new()
            } else {
                read_new(out, st, key, gt, count, g, now)
            }
        });
        props.extend(more.unwrap_or_default());
    }
    if served > 0 {
        if c.out.is_resp3() {
            c.out.finish_map(at, served)
        } else {
            c.out.finish_array(at, served)
        }
        if group.is_some() {
            c.dirty += 1;
        }
        c.propagate_as(props);
        return;
    }
    c.propagate_as(props);
    let Some(ms) = timeout else { return c.out.null_array() };
    if c.in_exec {
        return c.out.null_array();
    }
    let deadline = if ms == 0 { None } else { Some(s.now.mono_ms.saturating_add(ms as u64)) };
    let mut bkeys: Vec<Vec<u8>> = Vec::new();
    let mut bids: Vec<StreamId> = Vec::new();
    for (k, key) in keys.into_iter().enumerate() {
        if !bkeys.contains(&key) {
            bkeys.push(key);
            bids.push(ids[k].unwrap_or(StreamId::MAX));
        }
    }
    let count = if count > 0 { count } else { BLOCKED_DEFAULT_COUNT };
    let op = BlockOp::XRead { ids: bids, count, group };
    s.block_client(c.cid, Blocked { db: c.db, keys: bkeys, op, deadline });
}

fn createconsumer_argv(key: &[u8], g: &GroupRead) -> Argv {
    vec![b"XGROUP".to_vec(), b"CREATECONSUMER".to_vec(), key.to_vec(), g.group.clone(), g.consumer.clone()]
}

/// BLOCK's milliseconds (Redis's `getTimeoutFromObjectOrReply` in ms).
fn parse_block_ms(c: &mut Ctx, i: usize) -> Option<i64> {
    match crate::util::parse_i64(c.arg(i)) {
        Some(ms) if ms < 0 => {
            c.out.err("ERR timeout is negative");
            None
        }
        Some(ms) => Some(ms),
        None => {
            c.out.err("ERR timeout is not an integer or out of range");
            None
        }
    }
}

impl Server {
    /// Serves client `cid`, blocked in XREAD/XREADGROUP on `key`, if it
    /// can be: true when it was unblocked (served or refused).
    pub(crate) fn serve_stream_reader(&mut self, cid: u64, db: usize, key: &[u8]) -> bool {
        let Some(b) = self.clients.get(&cid).and_then(|c| c.blocked.as_ref()) else { return false };
        let BlockOp::XRead { ids, count, group } = &b.op else { return false };
        let Some(k) = b.keys.iter().position(|x| x == key) else { return false };
        let (mut gt, count, group) = (ids[k], *count, group.clone());
        let resp3 = self.clients.get(&cid).is_some_and(|c| c.resp >= 3);
        let now = self.now.unix_ms;
        let error = match self.peek(db, key) {
            Some(Value::Stream(st)) => match &group {
                Some(g) => match st.groups.get(&g.group) {
                    None => Some("NOGROUP the consumer group this client was blocked on no longer exists"),
                    Some(grp) => {
                        gt = grp.last_id;
                        None
                    }
                },
                None => None,
            },
            _ if group.is_some() => Some("UNBLOCKED the stream key no longer exists"),
            _ => return false,
        };
        if error.is_none() && !matches!(self.peek(db, key), Some(Value::Stream(st)) if st.last_id > gt) {
            return false;
        }
        let Some(b) = self.clients.get_mut(&cid).and_then(|c| c.blocked.take()) else { return false };
        self.blocking.remove(cid, &b);
        if let Some(msg) = error {
            self.write_to(cid, |out| out.err(msg));
            self.count_unblocked_failure("xreadgroup");
            return true;
        }
        let mut props = Vec::new();
        if let Some(g) = &group {
            let created = with_stream(self, db, key, |st| {
                st.groups.get_mut(&g.group).is_some_and(|grp| grp.touch_consumer(&g.consumer, now))
            });
            if created == Some(true) {
                self.notify(STREAM, "xgroup-createconsumer", db, key);
                if g.noack {
                    props.push(createconsumer_argv(key, g));
                }
            }
        }
        let mut out = Out::new(if resp3 { 3 } else { 2 });
        if resp3 {
            out.map(1);
        } else {
            out.array(1);
            out.array(2);
        }
        out.bulk(key);
        let more = with_stream(self, db, key, |st| read_new(&mut out, st, key, gt, count, group.as_ref(), now));
        props.extend(more.unwrap_or_default());
        for argv in &props {
            self.propagate(db, argv);
        }
        self.write_to(cid, |o| o.raw(&out.buf));
        true
    }
}
