//! Keyspace notifications and the delivery of pub/sub pushes.
//!
//! `notify-keyspace-events` (its flag letters and canonical text), the one
//! publish path every pub/sub message takes (`Server::publish`), and
//! `Server::notify`, which commands call to emit Redis 7.0's
//! `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>` messages. With
//! the setting empty (the default) a notification costs one test.
//!
//! A command calls `s.notify(CLASS, "event", db, key)` where Redis 7.0
//! calls `notifyKeyspaceEvent` (after the change), and
//! `s.notify_removal(..)` after removing elements (it adds `del` when the
//! container emptied). `new` (key creation) comes from `Server::store`.
//!
//! Pushes (messages, subscribe confirmations) to the client whose command is
//! running are held aside and put in front of that command's reply when it
//! completes (Redis 7.0 writes them while the command runs, so before its
//! reply); they are delivered even when `CLIENT REPLY OFF|SKIP` drops the
//! reply itself.

use alloc::vec::Vec;

use crate::resp::Out;
use crate::server::Server;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key expired (on access or in the active expiry cycle).
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key was evicted for `maxmemory`.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: a read found no key (not part of `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events.
pub const MODULE: u32 = 1 << 13;
/// `n`: a key was created (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: alias for `g$lshzxetd`.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Event class letters in the order CONFIG GET lists them (within `A`'s
/// place), like Redis's `keyspaceEventsFlagsToString`.
const CLASS_LETTERS: &[(u32, u8)] = &[
    (GENERIC, b'g'),
    (STRING, b'$'),
    (LIST, b'l'),
    (SET, b's'),
    (HASH, b'h'),
    (ZSET, b'z'),
    (EXPIRED, b'x'),
    (EVICTED, b'e'),
    (STREAM, b't'),
    (MODULE, b'd'),
];

/// Parses a `notify-keyspace-events` value; `None` on an unknown letter.
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut flags = 0;
    for ch in s.bytes() {
        flags |= match ch {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            b'n' => NEW,
            _ => CLASS_LETTERS.iter().find(|(_, l)| *l == ch)?.0,
        };
    }
    Some(flags)
}

/// The canonical text of a flag set (what CONFIG GET shows).
pub fn flags_text(flags: u32) -> alloc::string::String {
    let mut s = alloc::string::String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (f, l) in CLASS_LETTERS {
            if flags & f != 0 {
                s.push(char::from(*l));
            }
        }
    }
    // Redis 7.0 lists `n` within the classes, so it is lost next to `A`.
    if flags & NEW != 0 && flags & ALL != ALL {
        s.push('n');
    }
    for (f, l) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & f != 0 {
            s.push(l);
        }
    }
    s
}

/// Writes one pub/sub message as `cid`'s protocol wants it.
fn write_message(out: &mut Out, pattern: Option<&[u8]>, channel: &[u8], msg: &[u8]) {
    match pattern {
        Some(p) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
            out.bulk(channel);
            out.bulk(msg);
        }
        None => {
            out.push(3);
            out.bulk(b"message");
            out.bulk(channel);
            out.bulk(msg);
        }
    }
}

impl Server {
    /// Writes a push (message or subscribe confirmation) for `cid`: held
    /// for the front of the running command's reply when `cid` is the
    /// client running it, else appended to its output. Never muted by
    /// `CLIENT REPLY`.
    pub(crate) fn push_to(&mut self, cid: u64, f: impl FnOnce(&mut Out)) {
        if self.running == Some(cid) {
            let resp = self.clients.get(&cid).map_or(2, |c| c.resp);
            let mut out = Out::with_buf(core::mem::take(&mut self.running_push), resp, usize::MAX);
            f(&mut out);
            self.running_push = out.buf;
        } else {
            self.write_push_to(cid, f);
        }
    }

    /// Publishes `msg` on `channel` to its subscribers and the clients whose
    /// patterns match; returns how many received it.
    pub(crate) fn publish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let receivers = self.pubsub.receivers(channel);
        for (cid, pattern) in &receivers {
            self.push_to(*cid, |out| write_message(out, pattern.as_deref(), channel, msg));
        }
        receivers.len()
    }

    /// Whether events of `class` are published at all.
    #[inline]
    pub(crate) fn notifies(&self, class: u32) -> bool {
        self.cfg.notify_keyspace_events & class != 0
    }

    /// Redis's `notifyKeyspaceEvent`: publishes `event` on `key` in `db`
    /// when `class` is enabled.
    #[inline]
    pub(crate) fn notify(&mut self, class: u32, event: &str, db: usize, key: &[u8]) {
        if self.notifies(class) {
            self.notify_slow(event, db, key);
        }
    }

    /// Notifies `event` for elements removed from the container at `key`,
    /// then `del` when that emptied (and so deleted) it.
    pub(crate) fn notify_removal(&mut self, class: u32, event: &str, db: usize, key: &[u8]) {
        if self.notifies(class | GENERIC) {
            self.notify(class, event, db, key);
            if self.dbs.get(db).is_some_and(|d| !d.map().contains_key(key)) {
                self.notify(GENERIC, "del", db, key);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn notify_slow(&mut self, event: &str, db: usize, key: &[u8]) {
        let flags = self.cfg.notify_keyspace_events;
        let mut chan = Vec::with_capacity(20 + key.len().max(event.len()));
        if flags & KEYSPACE != 0 {
            chan.extend_from_slice(alloc::format!("__keyspace@{db}__:").as_bytes());
            chan.extend_from_slice(key);
            self.publish(&chan, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            chan.clear();
            chan.extend_from_slice(alloc::format!("__keyevent@{db}__:{event}").as_bytes());
            self.publish(&chan, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_in_redis_order() {
        let text = |s: &str| flags_text(parse_flags(s).unwrap());
        assert_eq!(text("gKE"), "gKE");
        assert_eq!(text("$lshzxeKE"), "$lshzxeKE");
        assert_eq!(text("KA"), "AK");
        assert_eq!(text("EA"), "AE");
        assert_eq!(text("Ex"), "xE");
        assert_eq!(text("nmKtd"), "tdnKm");
        assert_eq!(text(""), "");
        assert_eq!(parse_flags("Kq"), None);
        assert_eq!(parse_flags("k"), None);
    }
}
