//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

use alloc::vec::Vec;

use crate::server::{Ctx, Server};

pub fn multi(s: &mut Server, c: &mut Ctx) {
    if s.clients.get(&c.cid).is_some_and(|cl| cl.multi.is_some()) {
        c.out.err("ERR MULTI calls can not be nested");
        return;
    }
    s.begin_multi(c.cid);
    c.out.ok();
}

pub fn discard(s: &mut Server, c: &mut Ctx) {
    let Some(cl) = s.clients.get_mut(&c.cid) else { return };
    if cl.multi.take().is_none() {
        c.out.err("ERR DISCARD without MULTI");
        return;
    }
    s.unwatch_all(c.cid);
    c.out.ok();
}

pub fn exec(s: &mut Server, c: &mut Ctx) {
    let Some(cl) = s.clients.get_mut(&c.cid) else { return };
    let Some(m) = cl.multi.take() else {
        c.out.err("ERR EXEC without MULTI");
        return;
    };
    if m.failed {
        s.unwatch_all(c.cid);
        c.out.err("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    // Watched keys whose TTL passed count as modified.
    let watched: Vec<(usize, Vec<u8>)> = cl.watched.clone();
    for (db, key) in &watched {
        s.expire_if_needed(*db, key);
    }
    if s.clients.get(&c.cid).is_some_and(|cl| cl.cas_dirty) {
        s.unwatch_all(c.cid);
        c.out.null_array();
        return;
    }
    s.unwatch_all(c.cid);
    if s.exec_out_of_memory(c.db, &m.queued) {
        let mut msg = b"EXECABORT Transaction discarded because of: ".to_vec();
        msg.extend_from_slice(crate::server::OOM_ERROR);
        c.out.error(&msg);
        return;
    }
    c.out.array(m.queued.len());
    s.begin_exec_propagation();
    for argv in m.queued {
        let Some(spec) = argv.first().and_then(|n| s.lookup_command(n)) else {
            c.out.err("ERR unknown command");
            continue;
        };
        if !s.make_room_in_exec(c.db, spec, &argv) {
            c.out.error(crate::server::OOM_ERROR);
            continue;
        }
        let out = core::mem::take(&mut c.out);
        c.out = s.call(c.cid, spec, argv, out, true);
        // SELECT inside the transaction changes the db for what follows.
        if let Some(cl) = s.clients.get(&c.cid) {
            c.db = cl.db;
        }
    }
    s.end_exec_propagation(c.db);
}

pub fn watch(s: &mut Server, c: &mut Ctx) {
    if s.clients.get(&c.cid).is_some_and(|cl| cl.multi.is_some()) {
        c.out.err("ERR WATCH inside MULTI is not allowed");
        return;
    }
    for i in 1..c.argc() {
        let key = c.arg(i).to_vec();
        // Drop an already-expired key first so its later deletion does not
        // count as a modification.
        s.expire_if_needed(c.db, &key);
        s.watch_key(c.cid, c.db, &key);
    }
    c.out.ok();
}

pub fn unwatch(s: &mut Server, c: &mut Ctx) {
    s.unwatch_all(c.cid);
    c.out.ok();
}
