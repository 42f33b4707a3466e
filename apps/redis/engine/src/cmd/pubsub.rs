//! Pub/sub commands: channels (SUBSCRIBE/PUBLISH), patterns (PSUBSCRIBE)
//! and shard channels (SSUBSCRIBE/SPUBLISH, which patterns never reach).
//! Messages and subscribe confirmations are pushes (RESP3 push frames,
//! RESP2 arrays) written through `Server::push_to` / `Server::publish`, so
//! `CLIENT REPLY OFF|SKIP` does not drop them.

use alloc::vec::Vec;

use super::{sub_arity_error, unknown_subcommand};
use crate::bytemap::ByteMap;
use crate::client::Client;
use crate::server::{Ctx, Server};
use crate::util::eq_ic;

/// The three kinds of subscription, each with its own client set, server
/// registry and confirmation names.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribed(self, cl: &mut Client) -> &mut ByteMap<()> {
        match self {
            Kind::Channel => &mut cl.subs,
            Kind::Pattern => &mut cl.psubs,
            Kind::Shard => &mut cl.ssubs,
        }
    }
    fn names(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Kind::Channel => (b"subscribe", b"unsubscribe"),
            Kind::Pattern => (b"psubscribe", b"punsubscribe"),
            Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
        }
    }
    /// The count a confirmation reports: channels and patterns together,
    /// shard channels apart (Redis's clientSubscriptionsCount and
    /// clientShardSubscriptionsCount).
    fn count(self, s: &Server, cid: u64) -> usize {
        s.clients.get(&cid).map_or(0, |cl| match self {
            Kind::Shard => cl.ssubs.len(),
            _ => cl.subs.len() + cl.psubs.len(),
        })
    }
    fn register(self, s: &mut Server, name: &[u8], cid: u64, add: bool) {
        match (self, add) {
            (Kind::Channel, true) => s.pubsub.subscribe(name, cid),
            (Kind::Channel, false) => s.pubsub.unsubscribe(name, cid),
            (Kind::Pattern, true) => s.pubsub.psubscribe(name, cid),
            (Kind::Pattern, false) => s.pubsub.punsubscribe(name, cid),
            (Kind::Shard, true) => s.pubsub.ssubscribe(name, cid),
            (Kind::Shard, false) => s.pubsub.sunsubscribe(name, cid),
        }
    }
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

fn subscribe_generic(s: &mut Server, c: &mut Ctx, kind: Kind) {
    for i in 1..c.argc() {
        let name = c.arg(i).to_vec();
        let added = match s.clients.get_mut(&c.cid) {
            Some(cl) => {
                let set = kind.subscribed(cl);
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
            kind.register(s, &name, c.cid, true);
        }
        let n = kind.count(s, c.cid);
        confirm(s, c, kind.names().0, Some(&name), n);
    }
    if let Some(cl) = s.clients.get_mut(&c.cid) {
        cl.refresh_extra_memory();
    }
}

pub fn subscribe(s: &mut Server, c: &mut Ctx) {
    subscribe_generic(s, c, Kind::Channel);
}

pub fn psubscribe(s: &mut Server, c: &mut Ctx) {
    subscribe_generic(s, c, Kind::Pattern);
}

pub fn ssubscribe(s: &mut Server, c: &mut Ctx) {
    // Inside EXEC the client expects one reply per command (Redis's
    // CLIENT_DENY_BLOCKING check, which SUBSCRIBE skips for MULTI).
    if c.in_exec {
        c.out.err("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_generic(s, c, Kind::Shard);
}

fn unsubscribe_one(s: &mut Server, c: &mut Ctx, name: &[u8], kind: Kind, reply: bool) {
    let removed = s.clients.get_mut(&c.cid).is_some_and(|cl| kind.subscribed(cl).remove(name).is_some());
    if removed {
        kind.register(s, name, c.cid, false);
        if let Some(cl) = s.clients.get_mut(&c.cid) {
            cl.refresh_extra_memory();
        }
    }
    if reply {
        let n = kind.count(s, c.cid);
        confirm(s, c, kind.names().1, Some(name), n);
    }
}

/// Drops every subscription of `kind` of the current client.
fn unsubscribe_all(s: &mut Server, c: &mut Ctx, kind: Kind, reply: bool) {
    let names: Vec<Vec<u8>> = match s.clients.get_mut(&c.cid) {
        Some(cl) => kind.subscribed(cl).keys().map(|k| k.to_vec()).collect(),
        None => Vec::new(),
    };
    if names.is_empty() && reply {
        let n = kind.count(s, c.cid);
        confirm(s, c, kind.names().1, None, n);
        return;
    }
    for n in names {
        unsubscribe_one(s, c, &n, kind, reply);
    }
}

/// Drops every subscription of the current client, silently (RESET).
pub fn unsubscribe_from_all(s: &mut Server, c: &mut Ctx) {
    for kind in [Kind::Channel, Kind::Shard, Kind::Pattern] {
        unsubscribe_all(s, c, kind, false);
    }
}

fn unsubscribe_generic(s: &mut Server, c: &mut Ctx, kind: Kind) {
    if c.argc() == 1 {
        unsubscribe_all(s, c, kind, true);
        return;
    }
    for i in 1..c.argc() {
        let name = c.arg(i).to_vec();
        unsubscribe_one(s, c, &name, kind, true);
    }
}

pub fn unsubscribe(s: &mut Server, c: &mut Ctx) {
    unsubscribe_generic(s, c, Kind::Channel);
}

pub fn punsubscribe(s: &mut Server, c: &mut Ctx) {
    unsubscribe_generic(s, c, Kind::Pattern);
}

pub fn sunsubscribe(s: &mut Server, c: &mut Ctx) {
    unsubscribe_generic(s, c, Kind::Shard);
}

pub fn publish(s: &mut Server, c: &mut Ctx) {
    let channel = c.arg(1).to_vec();
    let msg = c.arg(2).to_vec();
    let n = s.publish(&channel, &msg);
    c.out.int(n as i64);
    propagate_to_replicas(c);
}

/// Replicas get every PUBLISH and SPUBLISH (their subscribers hear it
/// too); the log does not keep them.
fn propagate_to_replicas(c: &mut Ctx) {
    c.force_propagation = true;
    c.replicas_only = true;
}

/// SPUBLISH: delivers `smessage` pushes to the shard channel's subscribers.
pub fn spublish(s: &mut Server, c: &mut Ctx) {
    let (channel, msg) = (c.arg(1), c.arg(2));
    let receivers = s.pubsub.shard_receivers(channel);
    for &cid in &receivers {
        s.push_to(cid, |out| {
            out.push(3);
            out.bulk(b"smessage");
            out.bulk(channel);
            out.bulk(msg);
        });
    }
    c.out.int(receivers.len() as i64);
    propagate_to_replicas(c);
}

/// PUBSUB CHANNELS / SHARDCHANNELS: the active channels of `map` matching
/// the optional pattern at `argv[2]`.
fn channel_list(c: &mut Ctx, map: &ByteMap<crate::idqueue::IdQueue>) {
    let pat = if c.argc() == 3 { Some(c.arg(2)) } else { None };
    let names: Vec<&[u8]> = map.keys().filter(|ch| pat.is_none_or(|p| crate::glob::matches(p, ch, false))).collect();
    c.out.array(names.len());
    for n in names {
        c.out.bulk(n);
    }
}

/// PUBSUB NUMSUB / SHARDNUMSUB: a flat array of channel/count pairs, in
/// RESP3 too (as Redis 7.0).
fn numsub(c: &mut Ctx, map: &ByteMap<crate::idqueue::IdQueue>) {
    c.out.array((c.argc() - 2) * 2);
    for i in 2..c.argc() {
        let channel = c.arg(i).to_vec();
        let n = map.get(&channel).map_or(0, |v| v.len());
        c.out.bulk(&channel);
        c.out.int(n as i64);
    }
}

pub fn pubsub(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"channels" if c.argc() <= 3 => channel_list(c, &s.pubsub.channels),
        b"shardchannels" if c.argc() <= 3 => channel_list(c, &s.pubsub.shard_channels),
        b"numsub" => numsub(c, &s.pubsub.channels),
        b"shardnumsub" => numsub(c, &s.pubsub.shard_channels),
        b"numpat" if c.argc() == 2 => c.out.int(s.pubsub.patterns.len() as i64),
        b"help" if c.argc() == 2 => c.out.help(&[
            b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"CHANNELS [<pattern>]",
            b"    Return the currently active channels matching a <pattern> (default: '*').",
            b"NUMPAT",
            b"    Return number of subscriptions to patterns.",
            b"NUMSUB [<channel> ...]",
            b"    Return the number of subscribers for the specified channels, excluding",
            b"    pattern subscriptions(default: no channels).",
            b"SHARDCHANNELS [<pattern>]",
            b"    Return the currently active shard level channels matching a <pattern> (default: '*').",
            b"SHARDNUMSUB [<shardchannel> ...]",
            b"    Return the number of subscribers for the specified shard level channel(s)",
            b"HELP",
            b"    Prints this help.",
        ]),
        b"channels" | b"shardchannels" => {
            let name = super::text(c.arg(1));
            c.out.err(&alloc::format!(
                "ERR unknown subcommand or wrong number of arguments for '{name}'. Try PUBSUB HELP."
            ));
        }
        b"numpat" | b"help" => sub_arity_error(c),
        _ => {
            if eq_ic(&sub, "") {
                sub_arity_error(c);
            } else {
                unknown_subcommand(c);
            }
        }
    }
}
