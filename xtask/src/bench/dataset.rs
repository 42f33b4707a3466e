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
use qemu_tests::redis::HostRedis;
use qemu_tests::resp::{Client, Reply, status};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The size of every data disk (sparse files, so cheap to make).
pub const DISK_BYTES: u64 = 1 << 30;

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

/// Sends one command and checks that the reply is `expected`.
fn expect(client: &mut Client, args: &[&str], expected: Reply) -> Result<()> {
    let reply = client.call(args).map_err(|e| format!("{args:?}: {e}"))?;
    if reply == expected { Ok(()) } else { Err(format!("{args:?} answered {reply:?}")) }
}

/// Fills an empty Redis on the host with `keys` keys and saves them as
/// `dir/dump.rdb`.
fn save_with_host_redis(keys: u64, dir: &Path) -> Result<()> {
    crate::step(&format!("making a {keys}-key dump.rdb with Debian's redis-server in {}", dir.display()));
    let redis = HostRedis::start_in(Some(dir), &["--enable-debug-command", "local"])?;
    let mut stream = Client::connect(redis.port).map_err(|e| format!("the host's redis-server: {e}"))?;
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
