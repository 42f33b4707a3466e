//! DUMP and RESTORE: a key's value as a Redis RDB payload and back (the
//! format is in [`crate::rdb`]).

use alloc::vec;

use super::int_arg;
use crate::rdb::{self, DecodeError};
use crate::server::{Ctx, Server};
use crate::util::{eq_ic, i64_bytes};

pub fn dump(s: &mut Server, c: &mut Ctx) {
    match s.read(c.db, &c.argv[1]) {
        None => c.out.null(),
        // A payload past the client's output limit is not built: the
        // client is closed by that limit.
        Some(v) if rdb::dump_len(v) > c.out.room_left() => c.out.set_overflowed(),
        Some(v) => {
            let payload = rdb::dump(v);
            c.out.bulk(&payload);
        }
    }
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ
/// frequency]: IDLETIME applies under an LRU policy, FREQ under an LFU one.
pub fn restore(s: &mut Server, c: &mut Ctx) {
    let (mut replace, mut absttl, mut idle, mut freq) = (false, false, None::<i64>, None::<i64>);
    let mut j = 4;
    while j < c.argc() {
        let more = j + 1 < c.argc();
        if eq_ic(c.arg(j), "replace") {
            replace = true;
        } else if eq_ic(c.arg(j), "absttl") {
            absttl = true;
        } else if eq_ic(c.arg(j), "idletime") && more && freq.is_none() {
            let Some(n) = int_arg(c, j + 1) else { return };
            if n < 0 {
                c.out.err("ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = Some(n);
            j += 1;
        } else if eq_ic(c.arg(j), "freq") && more && idle.is_none() {
            let Some(n) = int_arg(c, j + 1) else { return };
            if !(0..=255).contains(&n) {
                c.out.err("ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = Some(n);
            j += 1;
        } else {
            c.syntax_error();
            return;
        }
        j += 1;
    }
    let key = c.arg(1).to_vec();
    if !replace && s.exists(c.db, &key) {
        c.out.err("BUSYKEY Target key name already exists.");
        return;
    }
    let Some(ttl) = int_arg(c, 2) else { return };
    if ttl < 0 {
        c.out.err("ERR Invalid TTL value, must be >= 0");
        return;
    }
    if !rdb::verify(c.arg(3)) {
        c.out.err("ERR DUMP payload version or checksum are wrong");
        return;
    }
    // The strings a payload decodes to (LZF can expand them) are bounded
    // like one bulk string and by the heap's hard ceiling (a `maxmemory`
    // below it is checked only before the command, as in Redis).
    let ceiling = s.cfg.maxmemory_ceiling;
    let budget = if ceiling > 0 { s.cfg.proto_max_bulk_len.min(ceiling) } else { s.cfg.proto_max_bulk_len };
    let seed = s.new_seed();
    let value = match rdb::restore(c.arg(3), seed, budget) {
        Ok(v) => v,
        Err(DecodeError::Bad) => {
            c.out.err("ERR Bad data format");
            return;
        }
        Err(DecodeError::TooBig) => {
            c.oom();
            return;
        }
    };
    if !s.reserve_growth(value.mem()) {
        c.oom();
        return;
    }
    let deleted = replace && s.delete(c.db, &key);
    let now = s.now.unix_ms as i64;
    let at = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t.saturating_add(now)),
    };
    if at.is_some_and(|t| t <= s.expiry_now() as i64) {
        if deleted {
            s.modified(c, c.db, &key);
            c.propagate_as(vec![vec![b"DEL".to_vec(), key]]);
        }
        c.out.ok();
        return;
    }
    s.store(c.db, &key, value, false);
    s.set_expire(c.db, &key, at.map(|t| t as u64));
    // A relative TTL propagates as the absolute time it became.
    if let Some(t) = at
        && !absttl
        && c.keep_argv
    {
        let mut argv = c.argv.clone();
        argv[2] = i64_bytes(t);
        argv.push(b"ABSTTL".to_vec());
        c.propagate_as(vec![argv]);
    }
    // IDLETIME sets the access time under an LRU policy, FREQ the access
    // counter under an LFU one (Redis's `objectSetLRUOrLFU`).
    let lfu = s.cfg.maxmemory_policy.is_lfu();
    let lru = match (idle, freq) {
        (Some(idle), _) if !lfu => Some(s.lru_clock().wrapping_sub(u32::try_from(idle).unwrap_or(u32::MAX))),
        (_, Some(freq)) if lfu => Some(crate::lfu::field(crate::lfu::minutes(s.now.mono_ms), freq as u32)),
        _ => None,
    };
    if let Some(lru) = lru
        && let Some(d) = s.dbs.get_mut(c.db)
        && let Some(slot) = d.map().slot_of(&key)
    {
        d.touch_lru(slot, lru);
    }
    s.modified(c, c.db, &key);
    c.out.ok();
}
