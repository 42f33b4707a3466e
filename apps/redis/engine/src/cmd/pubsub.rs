//! Pub/sub commands. Messages and subscribe confirmations are pushes
//! (RESP3 push frames, RESP2 arrays) written through
//! `Server::push_to` / `Server::publish`, so `CLIENT REPLY OFF|SKIP`
//! does not drop them.

use alloc::vec::Vec;

use super::{sub_arity_error, unknown_subcommand};
use crate::server::{Ctx, Server};
use crate::util::eq_ic;

fn sub_count(s: &Server, cid: u64) -> usize {
    s.clients.get(&cid).map(|cl| cl.sub_count()).unwrap_or(0)
}

/// A (un)subscribe confirmation for the client running the command.
fn confirm(s: &mut Server, c: &Ctx, kind: &[u8], name: Option<&[u8]>, count: usize) {
    s.push_to(c.cid, |out| {
        out.push(3);
        out.bulk(kind);
        match name {
            Some(n) => out.bulk(n),
            None => out.null(),
        }
        out.int(count as i64);
    });
}

fn subscribe_generic(s: &mut Server, c: &mut Ctx, pattern: bool) {
    for i in 1..c.argc() {
        let name = c.arg(i).to_vec();
        let added = match s.clients.get_mut(&c.cid) {
            Some(cl) => {
                let set = if pattern { &mut cl.psubs } else { &mut cl.subs };
                if set.contains_key(&name) {
                    false
                } else {
                    set.insert(&name, ());
                    true
                }
            }
            None => false,
        };
        if added {
            if pattern {
                s.pubsub.psubscribe(&name, c.cid);
            } else {
                s.pubsub.subscribe(&name, c.cid);
            }
        }
        let n = sub_count(s, c.cid);
        confirm(s, c, if pattern { b"psubscribe" } else { b"subscribe" }, Some(&name), n);
    }
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.refresh_extra_memory();
    }
}

pub fn subscribe(s: &mut Server, c: &mut Ctx) {
    subscribe_generic(s, c, false);
}

pub fn psubscribe(s: &mut Server, c: &mut Ctx) {
    subscribe_generic(s, c, true);
}

fn unsubscribe_one(s: &mut Server, c: &mut Ctx, name: &[u8], pattern: bool, reply: bool) {
    let removed = match s.clients.get_mut(&c.cid) {
        Some(cl) => {
            let set = if pattern { &mut cl.psubs } else { &mut cl.subs };
            set.remove(name).is_some()
        }
        None => false,
    };
    if removed {
        if pattern {
            s.pubsub.punsubscribe(name, c.cid);
        } else {
            s.pubsub.unsubscribe(name, c.cid);
        }
        if let Some(cl) = s.clients.get_mut(&c.cid) {
            cl.refresh_extra_memory();
        }
    }
    if reply {
        let n = sub_count(s, c.cid);
        confirm(s, c, if pattern { b"punsubscribe" } else { b"unsubscribe" }, Some(name), n);
    }
}

/// Drops every channel (or pattern) subscription of the current client.
pub fn unsubscribe_all(s: &mut Server, c: &mut Ctx, pattern: bool, reply: bool) {
    let names: Vec<Vec<u8>> = match s.clients.get(&c.cid) {
        Some(cl) => {
            let set = if pattern { &cl.psubs } else { &cl.subs };
            set.keys().map(|k| k.to_vec()).collect()
        }
        None => Vec::new(),
    };
    if names.is_empty() && reply {
        let n = sub_count(s, c.cid);
        confirm(s, c, if pattern { b"punsubscribe" } else { b"unsubscribe" }, None, n);
        return;
    }
    for n in names {
        unsubscribe_one(s, c, &n, pattern, reply);
    }
}

fn unsubscribe_generic(s: &mut Server, c: &mut Ctx, pattern: bool) {
    if c.argc() == 1 {
        unsubscribe_all(s, c, pattern, true);
        return;
    }
    for i in 1..c.argc() {
        let name = c.arg(i).to_vec();
        unsubscribe_one(s, c, &name, pattern, true);
    }
}

pub fn unsubscribe(s: &mut Server, c: &mut Ctx) {
    unsubscribe_generic(s, c, false);
}

pub fn punsubscribe(s: &mut Server, c: &mut Ctx) {
    unsubscribe_generic(s, c, true);
}

pub fn publish(s: &mut Server, c: &mut Ctx) {
    let channel = c.arg(1).to_vec();
    let msg = c.arg(2).to_vec();
    let n = s.publish(&channel, &msg);
    c.out.int(n as i64);
    // Replicas get every PUBLISH (their subscribers hear it too); the log
    // does not keep it.
    c.force_propagation = true;
    c.replicas_only = true;
}

pub fn pubsub(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"channels" if c.argc() <= 3 => {
            let pat = if c.argc() == 3 { Some(c.arg(2).to_vec()) } else { None };
            let names: Vec<Vec<u8>> = s
                .pubsub
                .channels
                .keys()
                .filter(|ch| pat.as_ref().is_none_or(|p| crate::glob::matches(p, ch, false)))
                .map(|ch| ch.to_vec())
                .collect();
            c.out.array(names.len());
            for n in names {
                c.out.bulk(&n);
            }
        }
        // A flat array of channel/count pairs, in RESP3 too (as Redis 7.0).
        b"numsub" => {
            c.out.array((c.argc() - 2) * 2);
            for i in 2..c.argc() {
                let ch = c.arg(i).to_vec();
                let n = s.pubsub.channels.get(&ch).map(|v| v.len()).unwrap_or(0);
                c.out.bulk(&ch);
                c.out.int(n as i64);
            }
        }
        b"numpat" if c.argc() == 2 => c.out.int(s.pubsub.patterns.len() as i64),
        b"help" if c.argc() == 2 => {
            c.out.array(1);
            c.out.simple(b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are: CHANNELS [<pattern>] NUMSUB [<channel> ...] NUMPAT HELP");
        }
        b"shardchannels" => c.out.array(0),
        b"shardnumsub" => {
            c.out.array((c.argc() - 2) * 2);
            for i in 2..c.argc() {
                let ch = c.arg(i).to_vec();
                c.out.bulk(&ch);
                c.out.int(0);
            }
        }
        b"channels" | b"numpat" | b"help" => sub_arity_error(c),
        _ => {
            if eq_ic(&sub, "") {
                sub_arity_error(c);
            } else {
                unknown_subcommand(c);
            }
        }
    }
}
