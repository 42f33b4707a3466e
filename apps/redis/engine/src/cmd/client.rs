//! CLIENT INFO / LIST lines (Redis 7.0's fields and flag letters), CLIENT
//! KILL's filters and errors, MONITOR, and the client-side caching
//! subcommands (TRACKING, CACHING, GETREDIR, TRACKINGINFO).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::text;
use crate::client::Client;
use crate::server::{Ctx, Server};
use crate::tracking::{ClientTracking, Tracking};
use crate::util::eq_ic;

/// CLIENT HELP: Redis 7.0's text for the subcommands there are.
pub const HELP: &[&[u8]] = &[
    b"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CACHING (YES|NO)",
    b"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    b"GETREDIR",
    b"    Return the client ID we are redirecting to when tracking is enabled.",
    b"GETNAME",
    b"    Return the name of the current connection.",
    b"ID",
    b"    Return the ID of the current connection.",
    b"INFO",
    b"    Return information about the current client connection.",
    b"KILL <ip:port>",
    b"    Kill connection made from <ip:port>.",
    b"KILL <option> <value> [<option> <value> [...]]",
    b"    Kill connections. Options are:",
    b"    * ADDR (<ip:port>|<unixsocket>:0)",
    b"      Kill connections made from the specified address",
    b"    * LADDR (<ip:port>|<unixsocket>:0)",
    b"      Kill connections made to specified local address",
    b"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    b"      Kill connections by type.",
    b"    * USER <username>",
    b"      Kill connections authenticated by <username>.",
    b"    * SKIPME (YES|NO)",
    b"      Skip killing current connection (default: yes).",
    b"LIST [options ...]",
    b"    Return information about client connections. Options:",
    b"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    b"      Return clients of specified type.",
    b"UNPAUSE",
    b"    Stop the current client pause, resuming traffic.",
    b"PAUSE <timeout> [WRITE|ALL]",
    b"    Suspend all, or just write, clients for <timeout> milliseconds.",
    b"REPLY (ON|OFF|SKIP)",
    b"    Control the replies sent to the current connection.",
    b"SETNAME <name>",
    b"    Assign the name <name> to the current connection.",
    b"UNBLOCK <clientid> [TIMEOUT|ERROR]",
    b"    Unblock the specified blocked client.",
    b"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    b"         [OPTIN] [OPTOUT] [NOLOOP]",
    b"    Control server assisted client side caching.",
    b"TRACKINGINFO",
    b"    Report tracking status for the current connection.",
    b"NO-EVICT (ON|OFF)",
    b"    Protect current client connection from eviction.",
    b"HELP",
    b"    Prints this help.",
];

/// Size of Redis's per-client static reply buffer: output up to it is
/// reported as `obl` (bytes in the buffer), beyond it as `oll`/`omem` (a
/// list of reply blocks), as CLIENT LIST shows them.
const REPLY_BUFFER: usize = 16 * 1024;

/// Redis's client types, as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn client_type(name: &[u8]) -> Option<ClientType> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Some(ClientType::Normal),
        b"slave" | b"replica" => Some(ClientType::Replica),
        b"pubsub" => Some(ClientType::PubSub),
        b"master" => Some(ClientType::Master),
        _ => None,
    }
}

/// A client's type (MONITOR clients count as normal ones, as in Redis).
fn type_of(cl: &Client) -> ClientType {
    if cl.sub_count() > 0 { ClientType::PubSub } else { ClientType::Normal }
}

/// The local address CLIENT LIST reports (the engine does not know which
/// interface a connection came in on).
fn local_addr(s: &Server) -> String {
    format!("0.0.0.0:{}", s.cfg.port)
}

/// What CLIENT LIST knows of the calling client from the command being
/// run: its output buffer is being written (not in its `Client`).
struct Caller {
    /// Bytes of the command's arguments (Redis's `argv-mem`).
    argv_mem: usize,
    out_len: usize,
    out_capacity: usize,
}

impl Caller {
    fn of(c: &Ctx) -> Caller {
        Caller {
            argv_mem: c.argv.iter().map(Vec::len).sum(),
            out_len: c.out.buf.len(),
            out_capacity: c.out.buf.capacity(),
        }
    }
}

/// One CLIENT LIST / CLIENT INFO line (without the trailing newline), with
/// Redis 7.0's fields in its order; `caller` when `cl` runs this command.
fn client_line(s: &Server, cl: &Client, caller: Option<&Caller>) -> String {
    let now = s.now.mono_ms;
    let mut flags = String::new();
    for (on, letter) in [
        (cl.monitor, 'O'),
        (cl.sub_count() > 0, 'P'),
        (cl.multi.is_some(), 'x'),
        (cl.blocked.is_some() || cl.postponed.is_some(), 'b'),
        (cl.tracking.is_some(), 't'),
        (cl.tracking.as_ref().is_some_and(|t| t.broken_redirect), 'R'),
        (cl.tracking.as_ref().is_some_and(|t| t.bcast), 'B'),
        (cl.cas_dirty, 'd'),
        (cl.close_after_reply, 'c'),
        (cl.close_now, 'A'),
        (cl.no_evict, 'e'),
    ] {
        if on {
            flags.push(letter);
        }
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let multi = cl.multi.as_ref().map_or(-1, |m| m.queued.len() as i64);
    let name = cl.name.as_deref().map(text).unwrap_or_default();
    let (out_len, out_capacity) = caller.map_or((cl.out.len(), cl.out.capacity()), |o| (o.out_len, o.out_capacity));
    let pending_out = out_len.saturating_sub(cl.out_pos);
    let (oll, omem) = if pending_out > REPLY_BUFFER {
        ((pending_out - REPLY_BUFFER).div_ceil(REPLY_BUFFER), out_capacity.saturating_sub(REPLY_BUFFER))
    } else {
        (0, 0)
    };
    let rbs = out_capacity.clamp(1024, REPLY_BUFFER);
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events={} cmd={}{}{} user=default redir={} resp={}",
        cl.id,
        cl.peer,
        local_addr(s),
        cl.id + 7,
        name,
        now.saturating_sub(cl.created_ms) / 1000,
        now.saturating_sub(cl.last_ms) / 1000,
        flags,
        cl.db,
        cl.subs.len(),
        cl.psubs.len(),
        cl.ssubs.len(),
        multi,
        cl.pending_input() + cl.qbuf_batch,
        cl.inbuf.capacity().saturating_sub(cl.inbuf.len()),
        caller.map_or_else(|| cl.parser.pending_bytes(), |o| o.argv_mem),
        cl.multi.as_ref().map_or(0, crate::client::Multi::memory),
        rbs,
        rbs,
        pending_out.min(REPLY_BUFFER),
        oll,
        omem,
        s.memory_of(cl),
        // Reading, and writing while output waits for the socket.
        if caller.is_none() && pending_out > 0 { "rw" } else { "r" },
        cl.last_cmd,
        if cl.last_sub.is_empty() { "" } else { "|" },
        text(&cl.last_sub),
        redirect_of(cl),
        cl.resp
    )
}

pub fn client_info(s: &mut Server, c: &mut Ctx) {
    let caller = Caller::of(c);
    let line = s.clients.get(&c.cid).map(|cl| client_line(s, cl, Some(&caller))).unwrap_or_default();
    let mut t = line.into_bytes();
    t.push(b'\n');
    c.out.verbatim(&t);
}

/// CLIENT LIST [TYPE type] [ID id ...].
pub fn client_list(s: &mut Server, c: &mut Ctx) {
    let argc = c.argc();
    let mut type_filter: Option<ClientType> = None;
    let mut ids: Option<Vec<u64>> = None;
    if argc == 4 && eq_ic(c.arg(2), "type") {
        match client_type(c.arg(3)) {
            Some(t) => type_filter = Some(t),
            None => {
                let bad = text(c.arg(3));
                c.out.err(&format!("ERR Unknown client type '{bad}'"));
                return;
            }
        }
    } else if argc > 3 && eq_ic(c.arg(2), "id") {
        let mut v = Vec::new();
        for j in 3..argc {
            match crate::util::parse_i64(c.arg(j)) {
                Some(n) if n > 0 => v.push(n as u64),
                _ => {
                    c.out.err("ERR Invalid client ID");
                    return;
                }
            }
        }
        ids = Some(v);
    } else if argc != 2 {
        c.syntax_error();
        return;
    }
    let caller = Caller::of(c);
    let mut list: Vec<&Client> = s
        .clients
        .values()
        .filter(|cl| !cl.hidden)
        .filter(|cl| ids.as_ref().is_none_or(|ids| ids.contains(&cl.id)))
        .filter(|cl| type_filter.is_none_or(|t| type_of(cl) == t))
        .collect();
    list.sort_by_key(|cl| cl.id);
    let mut t = String::new();
    for cl in list {
        let own = (cl.id == c.cid).then_some(&caller);
        t.push_str(&client_line(s, cl, own));
        t.push('\n');
    }
    c.out.verbatim(t.as_bytes());
}

/// CLIENT KILL addr | CLIENT KILL [ID id] [TYPE type] [ADDR addr]
/// [LADDR addr] [USER user] [SKIPME yes|no], with Redis 7.0's errors.
pub fn client_kill(s: &mut Server, c: &mut Ctx) {
    let argc = c.argc();
    let old_form = argc == 3;
    let mut id: Option<u64> = None;
    let mut addr: Option<Vec<u8>> = None;
    let mut laddr: Option<Vec<u8>> = None;
    let mut typ: Option<ClientType> = None;
    let mut skipme = !old_form;
    if old_form {
        addr = Some(c.arg(2).to_vec());
    }
    let mut i = 2;
    while !old_form && i < argc {
        if i + 1 >= argc {
            c.syntax_error();
            return;
        }
        let opt = c.arg(i).to_ascii_lowercase();
        let val = c.arg(i + 1);
        match opt.as_slice() {
            b"id" => match crate::util::parse_i64(val) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => {
                    c.out.err("ERR client-id should be greater than 0");
                    return;
                }
            },
            b"type" => match client_type(val) {
                Some(t) => typ = Some(t),
                None => {
                    let bad = text(val);
                    c.out.err(&format!("ERR Unknown client type '{bad}'"));
                    return;
                }
            },
            b"addr" => addr = Some(val.to_vec()),
            b"laddr" => laddr = Some(val.to_vec()),
            // Every client is the default user, the only one there is.
            b"user" if val == b"default" => {}
            b"user" => {
                let bad = text(val);
                c.out.err(&format!("ERR No such user '{bad}'"));
                return;
            }
            b"skipme" if eq_ic(val, "yes") => skipme = true,
            b"skipme" if eq_ic(val, "no") => skipme = false,
            _ => {
                c.syntax_error();
                return;
            }
        }
        i += 2;
    }
    let laddr_ok = laddr.is_none_or(|a| a.as_slice() == local_addr(s).as_bytes());
    let victims: Vec<u64> = s
        .clients
        .values()
        .filter(|cl| !(cl.hidden || (skipme && cl.id == c.cid)))
        .filter(|cl| id.is_none_or(|x| x == cl.id))
        .filter(|cl| addr.as_ref().is_none_or(|a| a.as_slice() == cl.peer.as_bytes()))
        .filter(|_| laddr_ok)
        .filter(|cl| typ.is_none_or(|t| type_of(cl) == t))
        .map(|cl| cl.id)
        .collect();
    for &v in &victims {
        if v == c.cid {
            if let Some(cl) = s.clients.get_mut(&v) {
                cl.close_after_reply = true;
            }
        } else {
            s.close_client_now(v);
        }
    }
    if !old_form {
        c.out.int(victims.len() as i64);
    } else if victims.is_empty() {
        c.out.err("ERR No such client");
    } else {
        c.out.ok();
    }
}

/// MONITOR: from now on the client receives a line for every command run
/// (see [`Server::feed_monitors`]). Ignored when already monitoring; not
/// allowed inside a transaction (it could not reply per command).
pub fn monitor(s: &mut Server, c: &mut Ctx) {
    if c.in_exec {
        c.out.err("ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if s.clients.get(&c.cid).is_some_and(|cl| cl.monitor) {
        return;
    }
    s.add_monitor(c.cid);
    c.out.ok();
}

/// CLIENT PAUSE timeout [WRITE|ALL].
pub fn client_pause(s: &mut Server, c: &mut Ctx) {
    let all = if c.argc() == 4 {
        if eq_ic(c.arg(3), "all") {
            true
        } else if eq_ic(c.arg(3), "write") {
            false
        } else {
            c.out.err("ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    } else {
        true
    };
    let Some(ms) = crate::util::parse_i64(c.arg(2)) else {
        c.out.err("ERR timeout is not an integer or out of range");
        return;
    };
    if ms < 0 {
        c.out.err("ERR timeout is negative");
        return;
    }
    let end = s.now.mono_ms.saturating_add(ms as u64);
    s.pause_clients(end, all);
    c.out.ok();
}

// ----- client-side caching (see crate::tracking) ---------------------------

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP], with Redis 7.0's checks in its order.
pub fn client_tracking(s: &mut Server, c: &mut Ctx) {
    let mut mode = ClientTracking::default();
    let mut j = 3;
    while j < c.argc() {
        let opt = c.arg(j).to_ascii_lowercase();
        let more = j + 1 < c.argc();
        match opt.as_slice() {
            b"redirect" if more => {
                j += 1;
                if mode.redirect != 0 {
                    c.out.err("ERR A client can only redirect to a single other client");
                    return;
                }
                let Some(id) = crate::util::parse_i64(c.arg(j)) else {
                    c.not_integer();
                    return;
                };
                if id == 0 || u64::try_from(id).ok().is_none_or(|id| !s.clients.contains_key(&id)) {
                    c.out.err("ERR The client ID you want redirect to does not exist");
                    return;
                }
                mode.redirect = id as u64;
            }
            b"bcast" => mode.bcast = true,
            b"optin" => mode.optin = true,
            b"optout" => mode.optout = true,
            b"noloop" => mode.noloop = true,
            b"prefix" if more => {
                j += 1;
                mode.prefixes.push(c.arg(j).to_vec());
            }
            _ => {
                c.syntax_error();
                return;
            }
        }
        j += 1;
    }
    if eq_ic(c.arg(2), "off") {
        s.disable_tracking(c.cid);
        c.out.ok();
        return;
    }
    if !eq_ic(c.arg(2), "on") {
        c.syntax_error();
        return;
    }
    let current = s.clients.get(&c.cid).and_then(|cl| cl.tracking.as_deref());
    let error = if !mode.bcast && !mode.prefixes.is_empty() {
        Some("ERR PREFIX option requires BCAST mode to be enabled".into())
    } else if current.is_some_and(|t| t.bcast != mode.bcast) {
        Some(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
                .into(),
        )
    } else if mode.bcast && (mode.optin || mode.optout) {
        Some("ERR OPTIN and OPTOUT are not compatible with BCAST".into())
    } else if mode.optin && mode.optout {
        Some("ERR You can't specify both OPTIN mode and OPTOUT mode".into())
    } else if current.is_some_and(|t| (mode.optin && t.optout) || (mode.optout && t.optin)) {
        Some(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
                .into(),
        )
    } else if mode.bcast {
        let existing = current.map_or(&[][..], |t| t.prefixes.as_slice());
        Tracking::prefix_collision(existing, &mode.prefixes)
    } else {
        None
    };
    if let Some(e) = error {
        c.out.err(&e);
        return;
    }
    s.enable_tracking(c.cid, mode);
    c.out.ok();
}

/// CLIENT CACHING YES|NO: for the next command or transaction in OPTIN /
/// OPTOUT mode.
pub fn client_caching(s: &mut Server, c: &mut Ctx) {
    let Some(t) = s.clients.get_mut(&c.cid).and_then(|cl| cl.tracking.as_mut()) else {
        c.out.err(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        );
        return;
    };
    if eq_ic(c.arg(2), "yes") {
        if !t.optin {
            c.out.err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if eq_ic(c.arg(2), "no") {
        if !t.optout {
            c.out.err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        c.syntax_error();
        return;
    }
    t.caching = true;
    c.out.ok();
}

/// The redirect id CLIENT GETREDIR and TRACKINGINFO report: -1 when not
/// tracking.
fn redirect_of(cl: &Client) -> i64 {
    cl.tracking.as_ref().map_or(-1, |t| t.redirect as i64)
}

pub fn client_getredir(s: &mut Server, c: &mut Ctx) {
    let redir = s.clients.get(&c.cid).map_or(-1, redirect_of);
    c.out.int(redir);
}

/// CLIENT TRACKINGINFO: flags, redirect and prefixes.
pub fn client_trackinginfo(s: &mut Server, c: &mut Ctx) {
    let Some(cl) = s.clients.get(&c.cid) else { return };
    let t = cl.tracking.as_deref();
    let mut flags: Vec<&[u8]> = alloc::vec![if t.is_some() { b"on" } else { b"off" }];
    if let Some(t) = t {
        for (on, name) in [
            (t.bcast, &b"bcast"[..]),
            (t.optin, b"optin"),
            (t.optin && t.caching, b"caching-yes"),
            (t.optout, b"optout"),
            (t.optout && t.caching, b"caching-no"),
            (t.noloop, b"noloop"),
            (t.broken_redirect, b"broken_redirect"),
        ] {
            if on {
                flags.push(name);
            }
        }
    }
    c.out.map(3);
    c.out.bulk(b"flags");
    c.out.set(flags.len());
    for f in flags {
        c.out.bulk(f);
    }
    c.out.bulk(b"redirect");
    c.out.int(redirect_of(cl));
    c.out.bulk(b"prefixes");
    let prefixes = t.map_or(&[][..], |t| t.prefixes.as_slice());
    c.out.array(prefixes.len());
    for p in prefixes {
        c.out.bulk(p);
    }
}
