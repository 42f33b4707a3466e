//! Persistence end to end on a simulated disk (`store::sim::SimDisk`):
//! random workloads with `appendfsync always`, background snapshots and
//! rewrites stepping between turns, power cuts at random turns (with the
//! disk's unflushed writes landing in any subset), and recovery that must
//! give back exactly what was acknowledged.
#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use std::cell::RefCell;
use std::rc::Rc;

use store::sim::{Rng, SimDisk};
use store::{BlockDevice, IoError, Store};

use super::harness::enc;
use super::rdb_util::{canon, fresh_server, load, save};
use crate::{ClientId, Config, Server, Time};

/// A simulated disk the test keeps a handle on while the server owns the
/// store over it (to cut the power under it).
#[derive(Clone)]
struct Shared(Rc<RefCell<SimDisk>>);

impl BlockDevice for Shared {
    fn sector_count(&self) -> u64 {
        self.0.borrow().sector_count()
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.0.borrow_mut().read(sector, buf)
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), IoError> {
        self.0.borrow_mut().write(sector, buf)
    }
    fn flush(&mut self) -> Result<(), IoError> {
        self.0.borrow_mut().flush()
    }
}

const SECTORS: u64 = 16 << 11; // 16 MiB

fn config(fsync: &str) -> Config {
    Config::from_args(&["--appendonly", "yes", "--appendfsync", fsync, "--save", ""]).unwrap()
}

/// A server on `disk` with what is on it loaded.
fn boot(disk: &Shared, cfg: Config, now: Time) -> Server {
    let mut s = Server::new(cfg, 7);
    let store = match Store::open(disk.clone()) {
        Ok(store) => store,
        Err(e) => std::panic!("open: {}", e.kind),
    };
    s.attach_storage(Box::new(store), now).unwrap();
    // Small steps, so snapshots span many turns of writes.
    s.set_snapshot_step(1500);
    s
}

/// One random write (or a persistence command) as a command line.
fn random_command(rng: &mut Rng, n: u64) -> Vec<String> {
    let key = format!("k{}", rng.below(40));
    let v = format!("v{n}");
    let cmd: Vec<String> = match rng.below(20) {
        0..=4 => vec!["SET".into(), key, v],
        5 => vec!["INCR".into(), format!("n{}", rng.below(5))],
        6 => vec!["RPUSH".into(), format!("l{}", rng.below(5)), v.clone(), v],
        7 => vec!["LPOP".into(), format!("l{}", rng.below(5))],
        8 => vec!["HSET".into(), format!("h{}", rng.below(5)), format!("f{}", rng.below(9)), v],
        9 => vec!["SADD".into(), format!("s{}", rng.below(5)), v],
        10 => vec!["ZADD".into(), format!("z{}", rng.below(5)), format!("{}", rng.below(100)), v],
        11 => vec!["DEL".into(), key],
        12 => vec!["PEXPIRE".into(), key, format!("{}", 1 + rng.below(3000))],
        13 => vec!["SELECT".into(), format!("{}", rng.below(3))],
        14 => vec!["RENAME".into(), key, format!("k{}", rng.below(40))],
        15 => vec!["BGSAVE".into()],
        16 => vec!["BGREWRITEAOF".into()],
        17 if rng.below(10) == 0 => vec!["FLUSHALL".into()],
        17 => vec!["SET".into(), key, "x".repeat(rng.below(3000) as usize)],
        18 if rng.below(8) == 0 => vec!["SAVE".into()],
        18 => vec!["APPEND".into(), key, v],
        _ => vec!["SET".into(), key, v, "PX".into(), format!("{}", 1 + rng.below(5000))],
    };
    cmd
}

fn feed(s: &mut Server, c: ClientId, cmd: &[String], now: Time) {
    let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
    s.feed(c, &enc(&args), now);
}

/// A command and when it ran.
type Timed = (Time, Vec<String>);

/// The server whose dataset is `got` among the saved dataset `file` plus
/// each prefix of `cmds` (run on a connection in database `db`), if any.
fn durable_prefix(
    file: &[u8],
    db: usize,
    cmds: &[(Time, Vec<String>)],
    got: &super::rdb_util::Canon,
    now: Time,
) -> Option<Server> {
    let mut server = fresh_server();
    load(&mut server, file, now).unwrap();
    let c = server.connect("127.0.0.1:3", now).unwrap();
    feed(&mut server, c, &["SELECT".to_string(), db.to_string()], now);
    for i in 0..=cmds.len() {
        if canon(&server, now.unix_ms) == *got {
            return Some(server);
        }
        if let Some((at, cmd)) = cmds.get(i) {
            feed(&mut server, c, cmd, *at);
        }
    }
    None
}

/// The keys on which two datasets differ, values shortened.
fn difference(got: &super::rdb_util::Canon, want: &super::rdb_util::Canon) -> String {
    let short = |v: Option<&(super::rdb_util::CValue, Option<u64>)>| {
        let text = format!("{v:?}");
        text.chars().take(160).collect::<String>()
    };
    let mut out = String::new();
    for key in got.keys().chain(want.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (g, w) = (got.get(key), want.get(key));
        if g != w {
            out += &format!(
                "db {} key {:?}:\n  recovered {}\n  expected  {}\n",
                key.0,
                String::from_utf8_lossy(&key.1),
                short(g),
                short(w)
            );
        }
    }
    out
}

/// Runs seeded cases: each a few hundred turns with power cuts; after each
/// cut the recovered dataset must equal a reference server that ran
/// exactly the acknowledged commands.
fn power_cut_cases(fsync: &str, cases: u64, errors: bool) {
    // `PERSIST_CASES=N` runs more, for long runs by hand.
    let cases = std::env::var("PERSIST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    let (mut cuts, mut keys, mut snapshots, mut failed_turns, mut lost_unsure) = (0u64, 0usize, 0u64, 0u64, 0u64);
    let trace: Option<u64> = std::env::var("PERSIST_TRACE").ok().and_then(|v| v.parse().ok());
    for case in 0..cases {
        let mut rng = Rng::new(0xD15C ^ case);
        let mut now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1_000 };
        let disk = Shared(Rc::new(RefCell::new(SimDisk::new(SECTORS))));
        drop(Store::format(disk.clone(), now.unix_ms).unwrap());
        // The reference runs the commands whose replies were delivered.
        let mut reference = Server::new(Config::default(), 7);
        let mut rc = reference.connect("127.0.0.1:1", now).unwrap();
        let mut s = boot(&disk, config(fsync), now);
        let mut c = s.connect("127.0.0.1:2", now).unwrap();
        let mut n = 0u64;
        // The dataset without the turn whose record could not be made
        // durable (its client was disconnected, never answered): until a
        // retry writes it, a power cut may lose it.
        // With it, the commands of the unacknowledged turn(s) and when they
        // ran: any prefix of them may have become durable.
        let mut unsure: Option<(Vec<u8>, Vec<Timed>)> = None;
        // The database the reference's connection is in.
        let mut ref_db = 0usize;
        let mut first_db = 0usize;
        for turn in 0..300u64 {
            if errors && rng.below(40) == 0 {
                let mut d = disk.0.borrow_mut();
                if rng.below(2) == 0 { d.fail_flush_after(rng.below(3)) } else { d.fail_write_after(rng.below(3)) }
            }
            if s.persistence_denies_writes().is_some() {
                // Writes are refused until the log is written again: let
                // time pass (the tick retries).
                if trace == Some(case) {
                    std::println!("turn {turn}: writes refused");
                }
                now = now.plus_ms(100);
                s.tick(now);
                reference.tick(now);
                s.end_turn(now);
            } else {
                let cmds: Vec<Vec<String>> = (0..1 + rng.below(4)).map(|_| random_command(&mut rng, turn)).collect();
                for cmd in &cmds {
                    n += 1;
                    if trace == Some(case) {
                        std::println!("turn {turn} busy={} {:?}", s.persistence_busy(), cmd);
                    }
                    feed(&mut s, c, cmd, now);
                }
                s.end_turn(now);
                let failed = s.should_close(c);
                if trace == Some(case) {
                    std::println!(
                        "turn {turn} end: failed={failed} denies={}",
                        s.persistence_denies_writes().is_some()
                    );
                }
                if failed {
                    // Not acknowledged: the connection closed instead.
                    failed_turns += 1;
                    if unsure.is_none() {
                        unsure = Some((save(&mut reference, now, usize::MAX), Vec::new()));
                        first_db = ref_db;
                    }
                    if let Some((_, pending)) = unsure.as_mut() {
                        pending.extend(cmds.iter().map(|cmd| (now, cmd.clone())));
                    }
                    s.disconnect(c);
                    c = s.connect("127.0.0.1:2", now).unwrap();
                } else {
                    // The turn's replies are delivered: it is acknowledged.
                    let out = s.output(c).len();
                    s.consume_output(c, out);
                }
                for cmd in &cmds {
                    feed(&mut reference, rc, cmd, now);
                    if cmd[0] == "SELECT" {
                        ref_db = cmd[1].parse().unwrap();
                    }
                }
                let out = reference.output(rc).len();
                reference.consume_output(rc, out);
                if failed {
                    // The reference's connection restarts with the appliance's.
                    reference.disconnect(rc);
                    rc = reference.connect("127.0.0.1:1", now).unwrap();
                    ref_db = 0;
                }
                now = now.plus_ms(rng.below(40));
                if rng.below(4) == 0 {
                    s.tick(now);
                    reference.tick(now);
                }
            }
            if s.persistence_denies_writes().is_none() {
                unsure = None;
            }
            if s.persistence_busy() {
                snapshots += 1;
            }
            if rng.below(60) == 0 {
                if trace == Some(case) {
                    std::println!("turn {turn}: power cut");
                }
                // Power cut: whatever was not flushed lands in part.
                let cut = disk.0.replace(SimDisk::new(8)).power_cut(case * 1000 + turn);
                disk.0.replace(cut);
                s = boot(&disk, config(fsync), now);
                c = s.connect("127.0.0.1:2", now).unwrap();
                let want = canon(&reference, now.unix_ms);
                let got = canon(&s, now.unix_ms);
                if got != want {
                    // Commands never acknowledged may be lost, from any
                    // point on (a crash in the middle of a pipeline).
                    let Some(prefix) =
                        unsure.as_ref().and_then(|(file, cmds)| durable_prefix(file, first_db, cmds, &got, now))
                    else {
                        std::panic!(
                            "case {case}, turn {turn}, {n} commands: recovered != acknowledged\n{}",
                            difference(&got, &want)
                        );
                    };
                    reference = prefix;
                    lost_unsure += 1;
                }
                unsure = None;
                cuts += 1;
                keys += got.len();
                // The reference's connection (its SELECT) restarts too.
                reference.disconnect(rc);
                rc = reference.connect("127.0.0.1:1", now).unwrap();
                ref_db = 0;
            }
        }
    }
    // The cases must exercise what they claim to.
    assert!(cuts >= cases * 3, "{cuts} power cuts");
    assert!(keys >= cuts as usize * 10, "{keys} keys recovered over {cuts} cuts");
    assert!(snapshots >= cases * 10, "{snapshots} turns with a background snapshot running");
    if errors {
        assert!(failed_turns >= cases, "{failed_turns} turns hit an injected error");
    }
    std::println!(
        "{cases} cases: {cuts} power cuts, {keys} keys recovered, {snapshots} turns during snapshots, {failed_turns} turns failed by injected errors ({lost_unsure} of them lost at a cut)"
    );
}

#[test]
fn acknowledged_writes_survive_power_cuts_with_always() {
    power_cut_cases("always", 300, false);
}

#[test]
fn io_errors_lose_nothing_acknowledged() {
    power_cut_cases("always", 300, true);
}

/// A server on a fresh simulated disk with `args` (Redis options).
fn fresh(args: &[&str], now: Time) -> (Server, Shared) {
    let disk = Shared(Rc::new(RefCell::new(SimDisk::new(SECTORS))));
    drop(Store::format(disk.clone(), now.unix_ms).unwrap());
    let mut s = Server::new(Config::from_args(args).unwrap(), 7);
    let store = Store::open(disk.clone()).unwrap_or_else(|e| std::panic!("open: {}", e.kind));
    s.attach_storage(Box::new(store), now).unwrap();
    (s, disk)
}

fn info_field(s: &mut Server, c: ClientId, field: &str, now: Time) -> u64 {
    feed(s, c, &["INFO".to_string(), "persistence".to_string()], now);
    let out = String::from_utf8_lossy(s.output(c)).into_owned();
    let n = out.len();
    s.consume_output(c, n);
    let prefix = format!("{field}:");
    out.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap()
}

/// `appendfsync everysec`: each turn's record is written at once but
/// flushed only by the once-a-second tick.
#[test]
fn everysec_flushes_once_a_second() {
    let mut now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1_000 };
    let (mut s, disk) = fresh(&["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""], now);
    let c = s.connect("127.0.0.1:2", now).unwrap();
    feed(&mut s, c, &["SET".into(), "k".into(), "v".into()], now);
    s.end_turn(now);
    assert!(disk.0.borrow().unflushed_writes() > 0, "the record is written, not flushed");
    now = now.plus_ms(500);
    s.tick(now);
    assert!(disk.0.borrow().unflushed_writes() > 0, "not before a second");
    now = now.plus_ms(600);
    s.tick(now);
    assert_eq!(disk.0.borrow().unflushed_writes(), 0, "flushed after a second");
    // Survives a power cut now.
    let cut = disk.0.replace(SimDisk::new(8)).power_cut(1);
    disk.0.replace(cut);
    let s = boot(&disk, config("everysec"), now);
    assert_eq!(canon(&s, now.unix_ms).len(), 1);
}

/// The log is rewritten automatically once it has grown past
/// `auto-aof-rewrite-min-size` by `auto-aof-rewrite-percentage`.
#[test]
fn the_log_is_rewritten_when_it_grows() {
    let mut now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1_000 };
    let args = ["--appendonly", "yes", "--save", "", "--auto-aof-rewrite-min-size", "64kb"];
    let (mut s, _disk) = fresh(&args, now);
    let c = s.connect("127.0.0.1:2", now).unwrap();
    let value = "v".repeat(1000);
    for i in 0..200 {
        feed(&mut s, c, &["SET".into(), format!("k{}", i % 10), value.clone()], now);
        s.end_turn(now);
        now = now.plus_ms(1);
        s.tick(now);
        while s.persistence_busy() {
            s.end_turn(now);
        }
    }
    let out = s.output(c).len();
    s.consume_output(c, out);
    assert!(info_field(&mut s, c, "aof_rewrites", now) >= 1, "the log was rewritten");
    // The rewrite compacted it: 10 keys, far less than 200 writes.
    assert!(info_field(&mut s, c, "aof_current_size", now) < 64 * 1024 + 20_000);
}
