//! The Redis appliance keeps its data on a data disk (virtio-blk or NVMe),
//! crash-safe, in Redis's own formats. Per architecture (q35 on x86_64,
//! virt on aarch64):
//!
//! 1. data of every type survives `SHUTDOWN` and a reboot (snapshots), and
//!    a `kill -9` of QEMU with `appendonly yes` (the log), on virtio-blk and
//!    on NVMe;
//! 2. `kill -9` of QEMU under write load with `appendfsync always`,
//!    repeatedly: after each reboot every acknowledged write is there, on
//!    virtio-blk and on NVMe (512-byte blocks on x86_64, 4096-byte blocks
//!    on aarch64, where the kernel rewrites whole blocks);
//! 3. `cargo xtask disk export` writes files that `redis-check-rdb` and
//!    `redis-check-aof` accept and Debian's real `redis-server` loads with
//!    the same data; a dump saved by real Redis boots the appliance;
//! 4. a disk too small for the dataset and an injected I/O error (QEMU's
//!    `blkdebug`) give `-MISCONF`, reads go on, and nothing acknowledged
//!    is lost; on NVMe the failed command's status is reported and the
//!    write absorbed.

use qemu_tests::datadisk;
use qemu_tests::disk::{DiskAttachment, Interface};
use qemu_tests::network::{PASST_BUFFERS, Transport};
use qemu_tests::redis::{BOOT_TIMEOUT, HostRedis, RedisAppliance};
use qemu_tests::resp::{Client, Reply, info_field, status};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Power-cut cycles per architecture in `cargo xtask test`
/// (`PERSISTENCE_CYCLES` changes it, for longer runs by hand).
const CYCLES: usize = 3;
/// Concurrent writers during the power cuts.
const WRITERS: usize = 3;

/// A scratch directory, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("appliance-persistence-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A blank disk (all zeros): the appliance formats it at first boot.
fn blank_disk(path: &Path, mib: u64) -> DiskAttachment {
    blank(path, mib, DiskAttachment::new)
}

/// A blank disk attached by `attach` (virtio-blk or NVMe).
fn blank(path: &Path, mib: u64, attach: impl Fn(&Path) -> DiskAttachment) -> DiskAttachment {
    std::fs::File::create(path).and_then(|f| f.set_len(mib << 20)).unwrap();
    attach(path)
}

/// Boots the appliance with `disk` and the Redis options `redis_args`.
fn boot(machine: &str, disk: &DiskAttachment, redis_args: &str) -> RedisAppliance {
    let transport = Transport::for_machine(machine);
    RedisAppliance::boot(machine, &format!("{PASST_BUFFERS} -- {redis_args}"), |b| {
        let mut b = b.host_aligned_clock();
        b.qemu_args.extend(disk.qemu_args(0, transport));
        b
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn client(redis: &RedisAppliance) -> Client {
    Client::connect(redis.port).unwrap_or_else(|e| panic!("connect: {e}"))
}

fn call(c: &mut Client, args: &[&str]) -> Reply {
    c.call(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn ok(c: &mut Client, args: &[&str]) {
    assert_eq!(call(c, args), status("OK"), "{args:?}");
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

fn big_value() -> String {
    (0..200_000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect()
}

/// A dataset of every type and both kinds of encoding (small ones real
/// Redis keeps as listpacks and intsets, big ones as hash tables and
/// quicklists), a TTL, and a second database.
fn fill(c: &mut Client) {
    ok(c, &["SELECT", "0"]);
    ok(c, &["SET", "str", "hello world"]);
    ok(c, &["SET", "int", "12345"]);
    ok(c, &["SET", "big", &big_value()]);
    call(c, &["RPUSH", "list", "a", "b", "c", "1", "2", "3"]);
    let items: Vec<String> = (0..1000).map(|i| format!("item-{i}")).collect();
    let mut args = vec!["RPUSH", "biglist"];
    args.extend(items.iter().map(String::as_str));
    call(c, &args);
    call(c, &["HSET", "hash", "f1", "v1", "f2", "v2"]);
    for i in 0..600 {
        call(c, &["HSET", "bighash", &format!("field-{i}"), &format!("value-{i}")]);
    }
    call(c, &["SADD", "set", "x", "y", "z"]);
    call(c, &["SADD", "intset", "1", "2", "3", "-40"]);
    for i in 0..600 {
        call(c, &["SADD", "bigset", &format!("member-{i}")]);
    }
    call(c, &["ZADD", "zset", "1", "a", "2.5", "b", "-3", "c"]);
    for i in 0..300 {
        call(c, &["ZADD", "bigzset", &format!("{}", i as f64 / 4.0), &format!("m{i}")]);
    }
    ok(c, &["SET", "ttl", "expires", "PX", "600000"]);
    ok(c, &["SELECT", "3"]);
    ok(c, &["SET", "elsewhere", "db3"]);
    ok(c, &["SELECT", "0"]);
}

/// Checks the dataset [`fill`] made.
fn check(c: &mut Client) {
    ok(c, &["SELECT", "0"]);
    assert_eq!(call(c, &["GET", "str"]), bulk("hello world"));
    assert_eq!(call(c, &["GET", "int"]), bulk("12345"));
    assert_eq!(call(c, &["GET", "big"]), bulk(&big_value()));
    let list = ["a", "b", "c", "1", "2", "3"].map(bulk).into_iter().collect();
    assert_eq!(call(c, &["LRANGE", "list", "0", "-1"]), Reply::Array(Some(list)));
    let biglist = (0..1000).map(|i| bulk(&format!("item-{i}"))).collect();
    assert_eq!(call(c, &["LRANGE", "biglist", "0", "-1"]), Reply::Array(Some(biglist)));
    assert_eq!(call(c, &["HGET", "hash", "f2"]), bulk("v2"));
    assert_eq!(call(c, &["HLEN", "bighash"]), Reply::Int(600));
    assert_eq!(call(c, &["HGET", "bighash", "field-599"]), bulk("value-599"));
    assert_eq!(call(c, &["SCARD", "set"]), Reply::Int(3));
    assert_eq!(call(c, &["SISMEMBER", "intset", "-40"]), Reply::Int(1));
    assert_eq!(call(c, &["SCARD", "bigset"]), Reply::Int(600));
    assert_eq!(call(c, &["SISMEMBER", "bigset", "member-300"]), Reply::Int(1));
    let zset = ["c", "-3", "a", "1", "b", "2.5"].map(bulk).into_iter().collect();
    assert_eq!(call(c, &["ZRANGE", "zset", "0", "-1", "WITHSCORES"]), Reply::Array(Some(zset)));
    assert_eq!(call(c, &["ZCARD", "bigzset"]), Reply::Int(300));
    assert_eq!(call(c, &["ZSCORE", "bigzset", "m299"]), bulk("74.75"));
    match call(c, &["PTTL", "ttl"]) {
        // The guests' clocks follow the host's within QEMU's start-up
        // jitter (see `Boot::host_aligned_clock`).
        Reply::Int(ms) => assert!(ms > 0 && ms <= 601_000, "the TTL survives: {ms} ms left"),
        other => panic!("PTTL ttl: {other:?}"),
    }
    ok(c, &["SELECT", "3"]);
    assert_eq!(call(c, &["GET", "elsewhere"]), bulk("db3"));
    ok(c, &["SELECT", "0"]);
}

fn shutdown(mut redis: RedisAppliance, args: &[&str]) {
    let mut c = client(&redis);
    let mut cmd = vec!["SHUTDOWN"];
    cmd.extend_from_slice(args);
    // Redis closes the connection without a reply on success.
    assert!(c.call(&cmd).is_err(), "SHUTDOWN replies only on failure");
    let status = redis.machine.wait_for_exit(BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 0, "{}", redis.machine.transcript());
}

// ----- 1. SHUTDOWN and reboot; kill -9 with the log on ------------------------

fn survives_reboots(machine: &str, attach: impl Fn(&Path) -> DiskAttachment) {
    let kind = attach(Path::new("")).interface.name();
    let scratch = Scratch::new(&format!("reboot-{machine}-{kind}"));
    let disk = blank(&scratch.path("data.img"), 64, attach);

    // Snapshots only (Redis's defaults): SHUTDOWN saves.
    let redis = boot(machine, &disk, "");
    let mut c = client(&redis);
    fill(&mut c);
    assert!(info_field(&mut c, "persistence", "rdb_changes_since_last_save").unwrap() > 0);
    shutdown(redis, &[]);

    let redis = boot(machine, &disk, "");
    let mut c = client(&redis);
    check(&mut c);
    assert_eq!(info_field(&mut c, "persistence", "rdb_changes_since_last_save").unwrap(), 0);
    // BGSAVE runs while clients are served, then LASTSAVE moves.
    let before = match call(&mut c, &["LASTSAVE"]) {
        Reply::Int(t) => t,
        other => panic!("LASTSAVE: {other:?}"),
    };
    ok(&mut c, &["SET", "after-bgsave", "yes"]);
    assert_eq!(call(&mut c, &["BGSAVE"]), status("Background saving started"));
    assert_eq!(call(&mut c, &["PING"]), status("PONG"));
    wait_until(&mut c, "rdb_bgsave_in_progress", 0);
    assert_eq!(info_field(&mut c, "persistence", "rdb_saves").unwrap(), 1);
    match call(&mut c, &["LASTSAVE"]) {
        Reply::Int(t) => assert!(t >= before, "LASTSAVE {t} after {before}"),
        other => panic!("LASTSAVE: {other:?}"),
    }
    // NOSAVE: what came after the snapshot is not kept.
    ok(&mut c, &["SET", "unsaved", "lost"]);
    shutdown(redis, &["NOSAVE"]);

    // The log: everything acknowledged survives a kill, no SHUTDOWN.
    let mut redis = boot(machine, &disk, "--appendonly yes --appendfsync always");
    let mut c = client(&redis);
    check(&mut c);
    assert_eq!(call(&mut c, &["GET", "after-bgsave"]), bulk("yes"));
    assert_eq!(call(&mut c, &["GET", "unsaved"]), Reply::Bulk(None));
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled").unwrap(), 1);
    ok(&mut c, &["SET", "logged", "1"]);
    call(&mut c, &["RPUSH", "list", "4"]);
    ok(&mut c, &["MULTI"]);
    assert_eq!(call(&mut c, &["INCR", "counter"]), status("QUEUED"));
    assert_eq!(call(&mut c, &["DEL", "str"]), status("QUEUED"));
    assert!(matches!(call(&mut c, &["EXEC"]), Reply::Array(Some(_))));
    redis.machine.kill();
    drop(redis);

    let redis = boot(machine, &disk, "--appendonly yes");
    let mut c = client(&redis);
    assert_eq!(call(&mut c, &["GET", "logged"]), bulk("1"));
    assert_eq!(call(&mut c, &["LINDEX", "list", "-1"]), bulk("4"));
    assert_eq!(call(&mut c, &["GET", "counter"]), bulk("1"));
    assert_eq!(call(&mut c, &["EXISTS", "str"]), Reply::Int(0));
    // BGREWRITEAOF compacts the log into a snapshot; the data stays.
    assert_eq!(call(&mut c, &["BGREWRITEAOF"]), status("Background append only file rewriting started"));
    wait_until(&mut c, "aof_rewrite_in_progress", 0);
    assert_eq!(info_field(&mut c, "persistence", "aof_rewrites").unwrap(), 1);
    // DEBUG RELOAD: save, empty, load back.
    ok(&mut c, &["DEBUG", "RELOAD"]);
    assert_eq!(call(&mut c, &["GET", "counter"]), bulk("1"));
    assert_eq!(call(&mut c, &["HLEN", "bighash"]), Reply::Int(600));
    shutdown(redis, &[]);
}

/// A disk with a partition table (the disk an image boots from, in a
/// cloud as virtio-blk or NVMe beside the data disk) comes first: the
/// appliance leaves it untouched and keeps its data on the next disk.
fn partitioned_disk_is_left_alone(machine: &str) {
    let scratch = Scratch::new(&format!("partitioned-{machine}"));
    let boot_disk_path = scratch.path("boot.img");
    let mut boot_disk = vec![0u8; 4 << 20];
    boot_disk[512..520].copy_from_slice(b"EFI PART");
    for (i, b) in boot_disk[1024..8192].iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    std::fs::write(&boot_disk_path, &boot_disk).unwrap();
    let data = blank(&scratch.path("data.img"), 64, DiskAttachment::new);
    let transport = Transport::for_machine(machine);
    let boot_with_both = || {
        RedisAppliance::boot(machine, &format!("{PASST_BUFFERS} --"), |b| {
            let mut b = b.host_aligned_clock();
            b.qemu_args.extend(DiskAttachment::new(&boot_disk_path).qemu_args(0, transport));
            b.qemu_args.extend(data.qemu_args(1, transport));
            b
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let redis = boot_with_both();
    // Printed while the disks are opened, before the port listens.
    assert!(redis.machine.transcript().contains("holds a partition table"), "{}", redis.machine.transcript());
    let mut c = client(&redis);
    ok(&mut c, &["SET", "kept", "on the data disk"]);
    shutdown(redis, &[]);
    assert!(std::fs::read(&boot_disk_path).unwrap() == boot_disk, "the partitioned disk was written");

    let redis = boot_with_both();
    let mut c = client(&redis);
    assert_eq!(call(&mut c, &["GET", "kept"]), bulk("on the data disk"));
    shutdown(redis, &[]);
    assert!(std::fs::read(&boot_disk_path).unwrap() == boot_disk, "the partitioned disk was written");
}

/// Waits (polling INFO, up to a minute) until a persistence field reads `value`.
fn wait_until(c: &mut Client, field: &str, value: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = info_field(c, "persistence", field).unwrap_or_else(|e| panic!("{e}"));
        if now == value {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{field} stayed {now}, not {value}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ----- 2. kill -9 under write load, repeatedly ---------------------------------

fn acknowledged_writes_survive_power_cuts(machine: &str, attach: impl Fn(&Path) -> DiskAttachment) {
    let cycles = std::env::var("PERSISTENCE_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(CYCLES);
    let kind = attach(Path::new("")).interface.name();
    let scratch = Scratch::new(&format!("cuts-{machine}-{kind}"));
    let disk = blank(&scratch.path("data.img"), 32, attach);
    let mut acked: Vec<Vec<Option<u64>>> = Vec::new();
    for cycle in 0..cycles {
        let mut redis = boot(machine, &disk, "--appendonly yes --appendfsync always");
        if let Interface::Nvme { block_size } = disk.interface {
            // The kernel found an NVMe namespace with those blocks.
            let transcript = redis.machine.transcript();
            let line = transcript.lines().find(|l| l.contains("storage: disk 0: ")).unwrap_or("no disk line");
            assert!(line.contains("disk 0: NVMe"), "{line}");
            assert_eq!(line.contains(&format!("{block_size}-byte blocks")), block_size != 512, "{line}");
        }
        let mut c = client(&redis);
        // Everything acknowledged in the earlier cycles is there.
        for (earlier, writers) in acked.iter().enumerate() {
            for (id, last) in writers.iter().enumerate() {
                let Some(last) = *last else { continue };
                let keys: Vec<String> = (0..=last).map(|n| format!("c{earlier}w{id}:{n}")).collect();
                for chunk in keys.chunks(500) {
                    let mut args = vec!["MGET"];
                    args.extend(chunk.iter().map(String::as_str));
                    let Reply::Array(Some(values)) = call(&mut c, &args) else { panic!("MGET") };
                    for (key, value) in chunk.iter().zip(values) {
                        let n = key.rsplit(':').next().unwrap();
                        assert_eq!(
                            value,
                            bulk(n),
                            "cycle {cycle}: acknowledged {key} after the cut in cycle {earlier}"
                        );
                    }
                }
            }
        }
        // Write until the power is cut, at a different point each cycle.
        let stop = Arc::new(AtomicBool::new(false));
        let port = redis.port;
        let threads: Vec<_> = (0..WRITERS)
            .map(|id| {
                let stop = stop.clone();
                std::thread::spawn(move || writer_with_prefix(port, cycle, id, stop))
            })
            .collect();
        // Cut once the writers are under way (their progress shows in
        // INFO), after a number of turns that varies with the cycle.
        let target = 200 + 150 * cycle as u64;
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while info_field(&mut c, "stats", "total_commands_processed").unwrap_or(0) < target {
            assert!(std::time::Instant::now() < deadline, "the writers made no progress");
            std::thread::sleep(Duration::from_millis(10));
        }
        redis.machine.kill();
        stop.store(true, Ordering::Relaxed);
        acked.push(threads.into_iter().map(|t| t.join().unwrap()).collect());
        drop(redis);
    }
    let redis = boot(machine, &disk, "--appendonly yes");
    let mut c = client(&redis);
    let total: u64 = acked.iter().flatten().map(|a| a.map_or(0, |n| n + 1)).sum();
    assert!(total > 0, "some writes were acknowledged");
    for (cycle, writers) in acked.iter().enumerate() {
        for (id, last) in writers.iter().enumerate() {
            if let Some(last) = last {
                assert_eq!(call(&mut c, &["GET", &format!("c{cycle}w{id}:{last}")]), bulk(&last.to_string()));
            }
        }
    }
    println!("{machine}, {kind}: {cycles} power cuts, {total} acknowledged writes, none lost");
}

/// Writes `c{cycle}w{id}:{n}` = n for n = 0, 1, ... until the connection
/// dies; returns the last n whose OK arrived.
fn writer_with_prefix(port: u16, cycle: usize, id: usize, stop: Arc<AtomicBool>) -> Option<u64> {
    let mut c = Client::connect(port).ok()?;
    let mut acked = None;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("c{cycle}w{id}:{n}");
        match c.call(&["SET", &key, &n.to_string()]) {
            Ok(r) if r == status("OK") => acked = Some(n),
            _ => break,
        }
        n += 1;
    }
    acked
}

// ----- 3. real Redis's files, both ways ----------------------------------------

/// Debian's real Redis on `data_dir`, with `extra` options.
fn real_redis(data_dir: &Path, extra: &[&str]) -> HostRedis {
    HostRedis::start_in(Some(data_dir), extra).unwrap_or_else(|e| panic!("{e}"))
}

fn tool_accepts(tool: &str, args: &[&Path]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} {args:?} refused the file:\n{text}");
}

fn files_move_between_the_appliance_and_real_redis(machine: &str) {
    let scratch = Scratch::new(&format!("files-{machine}"));
    let disk_path = scratch.path("data.img");
    println!("{}", datadisk::create(&disk_path, 64 << 20).unwrap());
    let disk = DiskAttachment::new(&disk_path);

    // The appliance's data (a snapshot plus logged writes) out to real Redis.
    let redis = boot(machine, &disk, "--appendonly yes");
    let mut c = client(&redis);
    fill(&mut c);
    ok(&mut c, &["SAVE"]);
    ok(&mut c, &["SET", "after-save", "logged"]);
    drop(c);
    shutdown(redis, &["NOSAVE"]);
    let rdb = scratch.path("dump.rdb");
    let aof = scratch.path("aof");
    println!("{}", datadisk::export(&disk_path, Some(&rdb), Some(&aof)).unwrap());
    tool_accepts("redis-check-rdb", &[&rdb]);
    tool_accepts("redis-check-aof", &[&aof.join("appendonly.aof.manifest")]);
    let rdb_dir = scratch.path("real-rdb");
    std::fs::create_dir_all(&rdb_dir).unwrap();
    std::fs::copy(&rdb, rdb_dir.join("dump.rdb")).unwrap();
    let real = real_redis(&rdb_dir, &[]);
    let mut c = Client::connect(real.port).unwrap();
    check(&mut c);
    assert_eq!(call(&mut c, &["GET", "after-save"]), bulk("logged"));
    drop(real);
    let real = real_redis(&scratch.0, &["--appendonly", "yes", "--appenddirname", "aof"]);
    let mut c = Client::connect(real.port).unwrap();
    check(&mut c);
    assert_eq!(call(&mut c, &["GET", "after-save"]), bulk("logged"));
    drop(real);

    // A dump saved by real Redis boots the appliance with its data.
    let real_dir = scratch.path("real-save");
    std::fs::create_dir_all(&real_dir).unwrap();
    let real = real_redis(&real_dir, &[]);
    let mut c = Client::connect(real.port).unwrap();
    fill(&mut c);
    ok(&mut c, &["SAVE"]);
    drop(real);
    // (A qcow2 image: import and boot go through qemu-img and QEMU's qcow2.)
    let seeded = scratch.path("seeded.qcow2");
    datadisk::create(&seeded, 64 << 20).unwrap();
    assert_eq!(datadisk::import(&real_dir.join("dump.rdb"), &seeded).unwrap(), 14);
    let redis = boot(machine, &DiskAttachment::new(&seeded), "");
    let mut c = client(&redis);
    check(&mut c);
}

/// Clients that connect while a large dataset loads get `-LOADING`, then
/// the data.
fn clients_get_loading_while_the_dataset_loads(machine: &str) {
    const KEYS: u64 = 500_000;
    let scratch = Scratch::new(&format!("loading-{machine}"));
    let dir = scratch.path("real");
    std::fs::create_dir_all(&dir).unwrap();
    let real = real_redis(&dir, &["--enable-debug-command", "yes"]);
    let mut c = Client::connect(real.port).unwrap();
    ok(&mut c, &["DEBUG", "POPULATE", &KEYS.to_string()]);
    ok(&mut c, &["SAVE"]);
    drop(real);
    let path = scratch.path("big.img");
    datadisk::create(&path, 256 << 20).unwrap();
    assert_eq!(datadisk::import(&dir.join("dump.rdb"), &path).unwrap(), KEYS);
    let disk = DiskAttachment::new(&path);
    let redis = RedisAppliance::start(machine, PASST_BUFFERS, |b| {
        let mut b = b.memory("512M");
        b.qemu_args.extend(disk.qemu_args(0, Transport::for_machine(machine)));
        b
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let (port, mut machine_) = (redis.port, redis.machine);
    // Connect once the appliance has its address (passt's first attempt
    // to reach a guest without one is retried only seconds later): the
    // load takes seconds.
    machine_.wait_for("net: address", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + BOOT_TIMEOUT;
    let mut c = loop {
        if let Ok(mut c) = Client::connect(port)
            && let Ok(reply) = c.call(&["PING"])
        {
            let loaded = machine_.wait_for("loaded", BOOT_TIMEOUT).unwrap_or_default();
            assert_eq!(
                reply,
                Reply::Error("LOADING Redis is loading the dataset in memory".into()),
                "the first PING comes while loading ({loaded})"
            );
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "the port never answered");
        std::thread::sleep(Duration::from_millis(5));
    };
    machine_.wait_for("redis: ready, listening on", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call(&mut c, &["PING"]), status("PONG"), "the same connection is served once loaded");
    assert_eq!(call(&mut c, &["DBSIZE"]), Reply::Int(KEYS as i64));
    assert_eq!(call(&mut c, &["GET", "key:4242"]), bulk("value:4242"));
}

// ----- 4. a full disk, an I/O error --------------------------------------------

fn errors_stop_writes_and_lose_nothing(machine: &str) {
    let scratch = Scratch::new(&format!("errors-{machine}"));
    // A disk whose snapshot slots (about 2.5 MiB) cannot hold 4 MiB.
    let small = blank_disk(&scratch.path("small.img"), 8);
    let redis = boot(machine, &small, "");
    let mut c = client(&redis);
    let mib = "x".repeat(1 << 20);
    for i in 0..4 {
        ok(&mut c, &["SET", &format!("big{i}"), &mib]);
    }
    match call(&mut c, &["SAVE"]) {
        Reply::Error(e) => assert!(e.starts_with("ERR"), "{e}"),
        other => panic!("SAVE of 4 MiB on an 8 MiB disk: {other:?}"),
    }
    assert_eq!(call(&mut c, &["BGSAVE"]), status("Background saving started"));
    wait_until(&mut c, "rdb_bgsave_in_progress", 0);
    assert!(info_text(&mut c).contains("rdb_last_bgsave_status:err"));
    match call(&mut c, &["SET", "refused", "1"]) {
        Reply::Error(e) => assert!(e.starts_with("MISCONF"), "{e}"),
        other => panic!("a write after a failed snapshot: {other:?}"),
    }
    assert_eq!(call(&mut c, &["STRLEN", "big0"]), Reply::Int(1 << 20), "reads go on");
    ok(&mut c, &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]);
    call(&mut c, &["DEL", "big1", "big2", "big3"]);
    ok(&mut c, &["SAVE"]);
    ok(&mut c, &["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]);
    ok(&mut c, &["SET", "accepted", "1"]);
    shutdown(redis, &[]);
    let redis = boot(machine, &small, "");
    let mut c = client(&redis);
    assert_eq!(call(&mut c, &["STRLEN", "big0"]), Reply::Int(1 << 20));
    assert_eq!(call(&mut c, &["GET", "accepted"]), bulk("1"));
    drop(redis);

    // A sector of the log that fails one write (blkdebug): the kernel
    // writes it again at the next flush, and no client notices.
    let (transient, rules) = flaky_disk(&scratch, "transient", "on");
    let mut redis = boot(machine, &transient, "--appendonly yes --appendfsync always");
    let (acked, refused) = write_through_errors(&redis, 300);
    assert_eq!((acked.len(), refused), (300, 0), "a transient error is absorbed");
    redis.machine.wait_for("failed sectors again", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    redis.machine.kill();
    drop(redis);
    all_there(machine, &transient.path, &acked);
    drop(rules);

    // A sector of the log that fails every write, under appendfsync
    // always: the write that hits it is not acknowledged, later writes get
    // MISCONF, reads go on, and after a reboot on a healthy device nothing
    // acknowledged is lost.
    let (broken, _rules) = flaky_disk(&scratch, "broken", "off");
    let mut redis = boot(machine, &broken, "--appendonly yes --appendfsync always");
    let (acked, refused) = write_through_errors(&redis, 400);
    assert!(refused > 0, "writes were refused ({} acknowledged)", acked.len());
    assert!(!acked.is_empty(), "writes were acknowledged before the error");
    let mut c = client(&redis);
    assert_eq!(call(&mut c, &["STRLEN", &acked[0]]), Reply::Int(1000), "reads go on");
    assert!(info_text(&mut c).contains("aof_last_write_status:err"));
    // The console says why.
    redis.machine.wait_for("cannot write the log", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    redis.machine.kill();
    drop(redis);
    all_there(machine, &broken.path, &acked);
}

/// An NVMe data disk whose log sector fails one write (blkdebug): the
/// controller's error status is reported, the kernel writes the sectors
/// again at the next flush, and no client notices; after a kill every
/// acknowledged write is there.
fn nvme_write_errors_are_reported_and_retried(machine: &str, block_size: u32) {
    let scratch = Scratch::new(&format!("nvme-errors-{machine}"));
    let (mut disk, _rules) = flaky_disk(&scratch, "transient", "on");
    disk.interface = Interface::Nvme { block_size };
    let mut redis = boot(machine, &disk, "--appendonly yes --appendfsync always");
    let (acked, refused) = write_through_errors(&redis, 300);
    assert_eq!((acked.len(), refused), (300, 0), "a transient error is absorbed");
    redis.machine.wait_for("failed sectors again", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let transcript = redis.machine.transcript();
    let error = transcript.lines().find(|l| l.contains("nvme: Write command")).unwrap_or("no NVMe error line");
    assert!(error.contains("failed: status type"), "{error}");
    redis.machine.kill();
    drop(redis);
    all_there(machine, &disk.path, &acked);
}

/// A fresh data disk behind blkdebug, whose writes to one sector of the
/// log (128 KiB in) fail: once (`once` = "on") or always ("off"). Reads
/// of it work (a disk with 4 KiB blocks reads the block before writing
/// part of it).
fn flaky_disk(scratch: &Scratch, name: &str, once: &str) -> (DiskAttachment, PathBuf) {
    let path = scratch.path(&format!("{name}.img"));
    datadisk::create(&path, 32 << 20).unwrap();
    let log_sector = datadisk::log_region_sector(&path).unwrap() + 256;
    let rules = scratch.path(&format!("{name}.blkdebug"));
    std::fs::write(
        &rules,
        format!(
            "[inject-error]\nevent = \"write_aio\"\niotype = \"write\"\nerrno = \"5\"\nsector = \"{log_sector}\"\nonce = \"{once}\"\n"
        ),
    )
    .unwrap();
    let mut disk = DiskAttachment::new(&path);
    disk.blkdebug = Some(rules.clone());
    (disk, rules)
}

/// 1000-byte SETs until `want` are acknowledged (or 5 times as many were
/// tried): the acknowledged keys, and how many got MISCONF.
fn write_through_errors(redis: &RedisAppliance, want: usize) -> (Vec<String>, usize) {
    let mut c = client(redis);
    let value = "v".repeat(1000);
    let (mut acked, mut refused) = (Vec::new(), 0);
    for n in 0..want * 5 {
        if acked.len() == want {
            break;
        }
        let key = format!("k{n}");
        match c.call(&["SET", &key, &value]) {
            Ok(r) if r == status("OK") => acked.push(key),
            Ok(Reply::Error(e)) if e.starts_with("MISCONF") => refused += 1,
            Ok(other) => panic!("SET during the I/O error: {other:?}"),
            // The write hit the error: its connection closes without OK.
            Err(_) => c = client(redis),
        }
    }
    (acked, refused)
}

/// Boots on `path` (no error injection) and checks every acknowledged key.
fn all_there(machine: &str, path: &Path, acked: &[String]) {
    let redis = boot(machine, &DiskAttachment::new(path), "--appendonly yes");
    let mut c = client(&redis);
    for key in acked {
        assert_eq!(call(&mut c, &["STRLEN", key]), Reply::Int(1000), "acknowledged {key}");
    }
}

fn info_text(c: &mut Client) -> String {
    match call(c, &["INFO", "persistence"]) {
        Reply::Bulk(Some(t)) => String::from_utf8_lossy(&t).into_owned(),
        other => panic!("INFO: {other:?}"),
    }
}

macro_rules! persistence_tests {
    ($module:ident, $machine:literal, nvme_block_size = $block_size:literal) => {
        mod $module {
            use super::*;

            #[test]
            fn data_survives_shutdown_reboot_and_kill() {
                survives_reboots($machine, DiskAttachment::new);
            }

            #[test]
            fn data_survives_shutdown_reboot_and_kill_on_nvme() {
                survives_reboots($machine, |path| DiskAttachment::nvme(path, $block_size));
            }

            #[test]
            fn acknowledged_writes_survive_repeated_power_cuts() {
                acknowledged_writes_survive_power_cuts($machine, DiskAttachment::new);
            }

            #[test]
            fn acknowledged_writes_survive_repeated_power_cuts_on_nvme() {
                acknowledged_writes_survive_power_cuts($machine, |path| DiskAttachment::nvme(path, $block_size));
            }

            #[test]
            fn exported_files_load_into_real_redis_and_real_dumps_boot() {
                files_move_between_the_appliance_and_real_redis($machine);
            }

            #[test]
            fn clients_get_loading_then_the_data() {
                clients_get_loading_while_the_dataset_loads($machine);
            }

            #[test]
            fn nvme_write_error_is_reported_and_absorbed() {
                super::nvme_write_errors_are_reported_and_retried($machine, $block_size);
            }

            #[test]
            fn a_partitioned_boot_disk_is_left_alone() {
                partitioned_disk_is_left_alone($machine);
            }

            #[test]
            fn full_disk_and_io_errors_give_misconf_and_lose_nothing() {
                errors_stop_writes_and_lose_nothing($machine);
            }
        }
    };
}

persistence_tests!(x86_64_q35, "q35", nvme_block_size = 512);
persistence_tests!(aarch64_virt, "virt", nvme_block_size = 4096);
