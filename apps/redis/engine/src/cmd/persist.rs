//! SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, SYNC, WAIT and DEBUG RELOAD: the
//! commands of [`crate::persist`] and [`crate::replica`]. Without a data disk they fail as Redis's do when it
//! cannot save (an error; nothing is pretended).

use crate::persist::JobKind;
use crate::server::{Ctx, Server};
use crate::util::eq_ic;

pub fn save(s: &mut Server, c: &mut Ctx) {
    match s.save_now() {
        Ok(()) => c.out.ok(),
        Err(e) => c.out.err(&alloc::format!("ERR {e}")),
    }
}

/// BGSAVE [SCHEDULE].
pub fn bgsave(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 2 || (c.argc() == 2 && !eq_ic(c.arg(1), "schedule")) {
        c.syntax_error();
        return;
    }
    match s.start_background(JobKind::Save) {
        Ok(true) => c.out.simple(b"Background saving started"),
        Ok(false) if c.argc() == 2 => c.out.simple(b"Background saving scheduled"),
        Ok(false) => c.out.err("ERR Background save already in progress"),
        Err(e) => c.out.err(&alloc::format!("ERR {e}")),
    }
}

pub fn bgrewriteaof(s: &mut Server, c: &mut Ctx) {
    match s.start_background(JobKind::Rewrite) {
        Ok(true) => c.out.simple(b"Background append only file rewriting started"),
        Ok(false) => c.out.simple(b"Background append only file rewriting scheduled"),
        Err(e) => c.out.err(&alloc::format!("ERR {e}")),
    }
}

/// SYNC: the dataset, then the replication stream (see [`crate::replica`]).
pub fn sync(s: &mut Server, c: &mut Ctx) {
    match s.full_sync_payload() {
        Ok(rdb) => {
            c.out.raw(alloc::format!("${}\r\n", rdb.len()).as_bytes());
            c.out.raw(&rdb);
            s.add_replica(c.cid);
        }
        Err(e) => c.out.err(e),
    }
}

/// WAIT numreplicas timeout: how many replicas acknowledged this client's
/// writes. Replicas here receive the SYNC stream and never acknowledge
/// (no REPLCONF ACK), so that is always 0: answered at once when 0 is
/// enough (or inside MULTI), else after the timeout in milliseconds (0:
/// never), as Redis does when its replicas do not answer.
pub fn wait(s: &mut Server, c: &mut Ctx) {
    let Some(wanted) = crate::util::parse_i64(c.arg(1)) else {
        c.not_integer();
        return;
    };
    let Some(timeout) = crate::util::parse_i64(c.arg(2)) else {
        c.out.err("ERR timeout is not an integer or out of range");
        return;
    };
    if timeout < 0 {
        c.out.err("ERR timeout is negative");
        return;
    }
    let acknowledged = 0;
    if wanted <= acknowledged || c.in_exec {
        c.out.int(acknowledged);
        return;
    }
    let deadline = (timeout > 0).then(|| s.now.mono_ms.saturating_add(timeout as u64));
    let b = crate::blocking::Blocked {
        db: c.db,
        keys: alloc::vec::Vec::new(),
        op: crate::blocking::BlockOp::Wait,
        deadline,
    };
    s.block_client(c.cid, b);
}

pub fn lastsave(s: &mut Server, c: &mut Ctx) {
    c.out.int(s.last_save_unix() as i64);
}

/// DEBUG: only what makes sense in an appliance. RELOAD saves, empties
/// the dataset and loads it back from the disk.
pub fn debug(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"reload" => match s.reload_from_disk() {
            Ok(()) => c.out.ok(),
            Err(e) => c.out.err(&alloc::format!("ERR Error trying to load the RDB dump: {e}")),
        },
        b"help" => c.out.help(&[
            b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"RELOAD",
            b"    Save the dataset to the data disk, empty it, and load it back.",
            b"HELP",
            b"    Print this help.",
        ]),
        _ => {
            let name = alloc::string::String::from_utf8_lossy(c.arg(1)).into_owned();
            c.out.err(&alloc::format!(
                "ERR unknown subcommand '{}'. Try DEBUG HELP.",
                name.chars().take(128).collect::<alloc::string::String>()
            ));
        }
    }
}
