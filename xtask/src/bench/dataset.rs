//! The persistence round's data on the host: a `dump.rdb` of N keys saved
//! by Debian's real Redis (made once, kept under
//! `target/bench/persistence/`), and for every boot a fresh data disk in
//! each appliance's format: the appliance's own (`qemu_tests::datadisk`,
//! seeded with the dump through `datadisk::import`) and, for Linux, an ext4
//! image made with `mkfs.ext4` (`-d` puts the dump in its root directory,
//! Redis's `--dir`).

use super::bench_dir;
use crate::Result;
use qemu_tests::datadisk;
use qemu_tests::resp::{Reply, encode, read_reply, status};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The size of every data disk (sparse files, so cheap to make).
pub const DISK_BYTES: u64 = 1 << 30;
/// How long the host's Redis may take to start, fill and save the dataset.
const HOST_REDIS_TIMEOUT: Duration = Duration::from_secs(120);
/// How often to retry connecting to the host's Redis while it starts.
const CONNECT_RETRY: Duration = Duration::from_millis(10);

/// Which format a data disk has: each appliance reads its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskFormat {
    /// The Redis appliance's store (`cargo xtask disk create`).
    Appliance,
    /// ext4, for the Linux baseline.
    Ext4,
}

/// Where the persistence round keeps its files.
fn persistence_dir() -> PathBuf {
    bench_dir().join("persistence")
}

/// `result`, its error naming `path`.
fn at<T>(path: &Path, result: std::io::Result<T>) -> Result<T> {
    result.map_err(|e| format!("{}: {e}", path.display()))
}

/// The directory holding a `dump.rdb` of `keys` keys (DEBUG POPULATE's:
/// `key:I` set to `value:I`), saved by Debian's Redis; made if missing.
pub fn dump_dir(keys: u64) -> Result<PathBuf> {
    let dir = persistence_dir().join(format!("dump-{keys}"));
    if dir.join("dump.rdb").exists() {
        return Ok(dir);
    }
    let partial = persistence_dir().join(format!("dump-{keys}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    at(&partial, std::fs::create_dir_all(&partial))?;
    save_with_host_redis(keys, &partial)?;
    at(&dir, std::fs::rename(&partial, &dir))?;
    Ok(dir)
}

/// Debian's real Redis on the host, on a UNIX socket; killed when dropped.
struct HostRedis {
    child: Child,
    socket: PathBuf,
}

impl Drop for HostRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Starts Debian's `redis-server` with `dir` as its `--dir`.
/// `/usr/bin/redis-check-rdb` is the server when called `redis-server`.
fn start_host_redis(dir: &Path) -> Result<HostRedis> {
    let link = persistence_dir().join("redis-server");
    if std::fs::symlink_metadata(&link).is_err() {
        at(&link, std::os::unix::fs::symlink("/usr/bin/redis-check-rdb", &link))?;
    }
    let socket = std::env::temp_dir().join(format!("appliance-bench-redis-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    let log = persistence_dir().join("host-redis.log");
    let child = Command::new(&link)
        .args(["--port", "0", "--unixsocket"])
        .arg(&socket)
        .arg("--dir")
        .arg(dir)
        .args(["--save", "", "--appendonly", "no", "--enable-debug-command", "local"])
        .args(["--daemonize", "no", "--logfile"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("cannot run Debian's redis-server ({e}): install it with `apt-get install redis-tools`")
        })?;
    Ok(HostRedis { child, socket })
}

/// Connects to the host's Redis once it listens (or fails at `deadline`).
fn connect_host_redis(redis: &mut HostRedis, deadline: Instant) -> Result<UnixStream> {
    loop {
        if let Ok(stream) = UnixStream::connect(&redis.socket) {
            at(&redis.socket, stream.set_read_timeout(Some(HOST_REDIS_TIMEOUT)))?;
            return Ok(stream);
        }
        if let Ok(Some(status)) = redis.child.try_wait() {
            return Err(format!("the host's redis-server exited ({status}); see {}", persistence_dir().display()));
        }
        if Instant::now() > deadline {
            return Err(format!("the host's redis-server did not listen on {}", redis.socket.display()));
        }
        std::thread::sleep(CONNECT_RETRY);
    }
}

/// Sends one command and checks that the reply is `expected`.
fn expect(stream: &mut UnixStream, args: &[&str], expected: Reply) -> Result<()> {
    use std::io::Write;
    let words: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    stream.write_all(&encode(&words)).map_err(|e| format!("{args:?}: {e}"))?;
    let reply = read_reply(stream).map_err(|e| format!("{args:?}: {e}"))?;
    if reply == expected { Ok(()) } else { Err(format!("{args:?} answered {reply:?}")) }
}

/// Fills an empty Redis on the host with `keys` keys and saves them as
/// `dir/dump.rdb`.
fn save_with_host_redis(keys: u64, dir: &Path) -> Result<()> {
    crate::step(&format!("making a {keys}-key dump.rdb with Debian's redis-server in {}", dir.display()));
    let mut redis = start_host_redis(dir)?;
    let mut stream = connect_host_redis(&mut redis, Instant::now() + HOST_REDIS_TIMEOUT)?;
    expect(&mut stream, &["DEBUG", "POPULATE", &keys.to_string()], status("OK"))?;
    expect(&mut stream, &["DBSIZE"], Reply::Int(keys as i64))?;
    expect(&mut stream, &["SAVE"], status("OK"))?;
    if dir.join("dump.rdb").exists() { Ok(()) } else { Err(format!("SAVE left no {}/dump.rdb", dir.display())) }
}

/// A data disk image for one boot, deleted when dropped.
pub struct ScratchDisk {
    pub path: PathBuf,
}

impl Drop for ScratchDisk {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A fresh `format` disk named `name` (in `target/bench/persistence/`):
/// empty, or holding the `dump.rdb` in `dump`.
pub fn make_disk(format: DiskFormat, name: &str, dump: Option<&Path>) -> Result<ScratchDisk> {
    at(&persistence_dir(), std::fs::create_dir_all(persistence_dir()))?;
    let disk = ScratchDisk { path: persistence_dir().join(name) };
    let _ = std::fs::remove_file(&disk.path);
    match format {
        DiskFormat::Appliance => {
            datadisk::create(&disk.path, DISK_BYTES)?;
            if let Some(dir) = dump {
                datadisk::import(&dir.join("dump.rdb"), &disk.path)?;
            }
        }
        DiskFormat::Ext4 => {
            let file = at(&disk.path, std::fs::File::create(&disk.path))?;
            at(&disk.path, file.set_len(DISK_BYTES))?;
            mkfs_ext4(&disk.path, dump)?;
        }
    }
    Ok(disk)
}

/// `mkfs.ext4` on the image at `path`, copying `contents` into it. The
/// inode tables and journal are written now, so the guest's kernel has no
/// lazy initialisation to do in the background while it is measured.
fn mkfs_ext4(path: &Path, contents: Option<&Path>) -> Result<()> {
    let mut command = Command::new("mkfs.ext4");
    command.args(["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"]);
    if let Some(dir) = contents {
        command.arg("-d").arg(dir);
    }
    let out = command
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run mkfs.ext4 ({e}): install it with `apt-get install e2fsprogs`"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("mkfs.ext4 {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim()))
    }
}
