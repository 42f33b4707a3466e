//! The Redis appliance's data disks on the host: making them, reading
//! what is on them, and moving datasets between them and real Redis's
//! files. `cargo xtask disk` is the command line over this; the tests use
//! it directly.
//!
//! The disk's layout is the `store` crate's; the files are written and read
//! by the same engine code the appliance runs (`redis-engine`).

use redis_engine::rdb::SnapshotStep;
use redis_engine::rdb::{LoadError, Source};
use redis_engine::{Config, Server, Time};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use store::{BlockDevice, IoError, SECTOR, Store};

type Result<T> = std::result::Result<T, String>;

/// A disk image file as a block device.
pub struct FileDisk {
    file: File,
    sectors: u64,
}

impl FileDisk {
    pub fn open(path: &Path) -> Result<FileDisk> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let len = file.metadata().map_err(|e| format!("{}: {e}", path.display()))?.len();
        Ok(FileDisk { file, sectors: len / SECTOR as u64 })
    }
}

impl BlockDevice for FileDisk {
    fn sector_count(&self) -> u64 {
        self.sectors
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> std::result::Result<(), IoError> {
        self.file.read_exact_at(buf, sector * SECTOR as u64).map_err(|_| IoError::Device)
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> std::result::Result<(), IoError> {
        self.file.write_all_at(buf, sector * SECTOR as u64).map_err(|_| IoError::Device)
    }
    fn flush(&mut self) -> std::result::Result<(), IoError> {
        self.file.sync_data().map_err(|_| IoError::Device)
    }
}

/// A disk image as a raw file: qcow2 images go through a raw copy made
/// with `qemu-img` (and written back after a change).
struct RawView {
    raw: PathBuf,
    qcow2: Option<PathBuf>,
}

impl RawView {
    fn open(path: &Path) -> Result<RawView> {
        if !path.exists() {
            return Err(format!(
                "no disk image {}: make one with `cargo xtask disk create PATH --size 1G`",
                path.display()
            ));
        }
        if !is_qcow2(path) {
            return Ok(RawView { raw: path.to_path_buf(), qcow2: None });
        }
        let raw = std::env::temp_dir().join(format!("appliance-disk-{}.raw", std::process::id()));
        qemu_img(&["convert", "-f", "qcow2", "-O", "raw", &path.to_string_lossy(), &raw.to_string_lossy()])?;
        Ok(RawView { raw, qcow2: Some(path.to_path_buf()) })
    }

    /// Writes a changed raw copy back into the qcow2 image.
    fn commit(&self) -> Result<()> {
        if let Some(qcow2) = &self.qcow2 {
            qemu_img(&["convert", "-f", "raw", "-O", "qcow2", &self.raw.to_string_lossy(), &qcow2.to_string_lossy()])?;
        }
        Ok(())
    }
}

impl Drop for RawView {
    fn drop(&mut self) {
        if self.qcow2.is_some() {
            let _ = std::fs::remove_file(&self.raw);
        }
    }
}

fn is_qcow2(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "qcow2")
}

fn qemu_img(args: &[&str]) -> Result<()> {
    let status = Command::new("qemu-img")
        .args(args)
        .status()
        .map_err(|e| format!("cannot run qemu-img ({e}): install Debian's qemu-utils (`cargo xtask setup`)"))?;
    if status.success() { Ok(()) } else { Err(format!("qemu-img {} failed ({status})", args.join(" "))) }
}

/// `1G`, `512M`, `64MiB`, `4096K`, or bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let lower = s.trim().to_ascii_lowercase();
    let lower = lower.trim_end_matches("ib").trim_end_matches('b');
    let (digits, mul) = match lower.chars().last()? {
        'k' => (&lower[..lower.len() - 1], 1u64 << 10),
        'm' => (&lower[..lower.len() - 1], 1 << 20),
        'g' => (&lower[..lower.len() - 1], 1 << 30),
        't' => (&lower[..lower.len() - 1], 1 << 40),
        _ => (lower, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn now() -> Time {
    let ms = unix_ms();
    Time::new(ms, ms)
}

/// Makes an empty, formatted data disk of `bytes` at `path` (qcow2 when
/// the name ends in `.qcow2`, else raw); says what it made.
pub fn create(path: &Path, bytes: u64) -> Result<String> {
    if path.exists() {
        return Err(format!("{} exists: remove it first, or pick another name", path.display()));
    }
    let bytes = bytes / SECTOR as u64 * SECTOR as u64;
    let raw = if is_qcow2(path) {
        std::env::temp_dir().join(format!("appliance-disk-{}.raw", std::process::id()))
    } else {
        path.to_path_buf()
    };
    File::create(&raw).and_then(|f| f.set_len(bytes)).map_err(|e| format!("cannot create {}: {e}", raw.display()))?;
    let formatted = FileDisk::open(&raw).and_then(|d| Store::format(d, unix_ms()).map_err(|e| format!("{e}")));
    let store = match formatted {
        Ok(store) => store,
        Err(e) => {
            let _ = std::fs::remove_file(&raw);
            return Err(e);
        }
    };
    let info = store.info();
    drop(store);
    if is_qcow2(path) {
        let converted =
            qemu_img(&["convert", "-f", "raw", "-O", "qcow2", &raw.to_string_lossy(), &path.to_string_lossy()]);
        let _ = std::fs::remove_file(&raw);
        converted?;
    }
    Ok(format!(
        "{}: {} MiB data disk: snapshots up to {} MiB, log {} MiB",
        path.display(),
        bytes >> 20,
        info.snapshot_capacity >> 20,
        info.log_capacity >> 20
    ))
}

fn open_store(raw: &Path) -> Result<Store<FileDisk>> {
    let disk = FileDisk::open(raw)?;
    Store::open(disk).map_err(|e| format!("{}: {}", raw.display(), e.kind))
}

/// The first sector of the log region of the (raw) disk at `path`.
pub fn log_region_sector(path: &Path) -> Result<u64> {
    Ok(open_store(path)?.info().geometry.log_start)
}

/// A description of what is on the disk at `path`.
pub fn info(path: &Path) -> Result<String> {
    let view = RawView::open(path)?;
    let mut store = open_store(&view.raw)?;
    let mut text = format!("{}: appliance data disk\n{:#?}\n", path.display(), store.info());
    let (records, bytes) = log_size(&mut store)?;
    text.push_str(&format!("log: {records} records, {bytes} bytes after the snapshot\n"));
    let server = load(store)?;
    let keys: Vec<String> = (0..server.config().databases)
        .filter_map(|db| Some((db, server.db_size(db))).filter(|(_, n)| *n > 0))
        .map(|(db, n)| format!("db{db}={n}"))
        .collect();
    text.push_str(&format!("dataset: {}", if keys.is_empty() { String::from("empty") } else { keys.join(", ") }));
    Ok(text)
}

fn log_size(store: &mut Store<FileDisk>) -> Result<(u64, u64)> {
    let (mut records, mut bytes) = (0u64, 0u64);
    store
        .replay(|r: &[u8]| {
            records += 1;
            bytes += r.len() as u64;
            Ok::<(), String>(())
        })
        .map_err(|e| format!("reading the log: {e}"))?;
    Ok((records, bytes))
}

/// The disk's dataset in an engine (snapshot, then log), as the appliance
/// loads it.
pub fn load(store: Store<FileDisk>) -> Result<Server> {
    let mut server = Server::new(Config::default(), 1);
    server.attach_storage(Box::new(store), now()).map_err(|e| format!("loading the disk: {e}"))?;
    Ok(server)
}

/// Writes the engine's dataset as an RDB file; returns its size.
pub fn write_rdb(server: &mut Server, path: &Path) -> Result<u64> {
    let mut file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    server.snapshot_begin(now()).map_err(|_| String::from("a snapshot is already running"))?;
    let mut chunk = Vec::new();
    let mut total = 0u64;
    loop {
        chunk.clear();
        let step = server.snapshot_step(&mut chunk, 4 << 20);
        file.write_all(&chunk).map_err(|e| format!("writing {}: {e}", path.display()))?;
        total += chunk.len() as u64;
        match step {
            SnapshotStep::More => {}
            SnapshotStep::Done => break,
            SnapshotStep::Aborted => return Err(String::from("the snapshot was aborted")),
        }
    }
    file.sync_all().map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(total)
}

/// Writes the dataset on the disk at `path` as an RDB file (`rdb`) and/or
/// a Redis 7.0 multi-part AOF directory (`aof`); says what it wrote.
pub fn export(path: &Path, rdb: Option<&Path>, aof: Option<&Path>) -> Result<String> {
    if rdb.is_none() && aof.is_none() {
        return Err(String::from("say what to export: --rdb FILE and/or --aof DIR"));
    }
    let view = RawView::open(path)?;
    let mut said = Vec::new();
    if let Some(dir) = aof {
        // Redis 7.0's multi-part AOF: the snapshot as the base (an RDB
        // file), the log's records as the one incremental file.
        let mut store = open_store(&view.raw)?;
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let base = dir.join("appendonly.aof.1.base.rdb");
        if store.snapshot_len() > 0 {
            let mut out = File::create(&base).map_err(|e| format!("{}: {e}", base.display()))?;
            let mut buf = vec![0u8; 1 << 20];
            let mut offset = 0u64;
            loop {
                let n = store.read_snapshot(offset, &mut buf).map_err(|e| format!("reading the snapshot: {e}"))?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n]).map_err(|e| format!("{}: {e}", base.display()))?;
                offset += n as u64;
            }
        } else {
            write_rdb(&mut Server::new(Config::default(), 1), &base)?;
        }
        let incr = dir.join("appendonly.aof.1.incr.aof");
        let mut out = File::create(&incr).map_err(|e| format!("{}: {e}", incr.display()))?;
        store
            .replay(|r: &[u8]| out.write_all(r).map_err(|e| format!("{}: {e}", incr.display())))
            .map_err(|e| format!("exporting the log: {e}"))?;
        std::fs::write(
            dir.join("appendonly.aof.manifest"),
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        )
        .map_err(|e| format!("{}: {e}", dir.display()))?;
        said.push(format!("{}: appendonly.aof.manifest, {} and {}", dir.display(), base.display(), incr.display()));
    }
    if let Some(file) = rdb {
        let mut server = load(open_store(&view.raw)?)?;
        let bytes = write_rdb(&mut server, file)?;
        said.push(format!("{}: {bytes} bytes", file.display()));
    }
    Ok(said.join("\n"))
}

/// An RDB file on the host as the loader's byte stream.
struct FileSource(File);

impl Source for FileSource {
    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, LoadError> {
        self.0.read(buf).map_err(|e| LoadError::Io(e.to_string()))
    }
}

/// Seeds the disk at `path` (blank, or made by [`create`]) with the RDB
/// file `rdb`; returns how many keys it holds.
pub fn import(rdb: &Path, path: &Path) -> Result<u64> {
    // The dump must load here first: the appliance must be able to boot it.
    let file = File::open(rdb).map_err(|e| format!("cannot open {}: {e}", rdb.display()))?;
    let mut check = Server::new(Config::default(), 1);
    let stats = check.load_rdb(&mut FileSource(file), now()).map_err(|e| format!("{}: {e}", rdb.display()))?;
    drop(check);
    let view = RawView::open(path)?;
    let mut disk = FileDisk::open(&view.raw)?;
    let blank = Store::is_blank(&mut disk).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut store = if blank {
        Store::format(disk, unix_ms()).map_err(|e| format!("{e}"))?
    } else {
        Store::open(disk).map_err(|e| format!("{}: {}", path.display(), e.kind))?
    };
    store.begin_snapshot(true).map_err(|e| format!("{e}"))?;
    let mut file = File::open(rdb).map_err(|e| format!("cannot open {}: {e}", rdb.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| format!("{}: {e}", rdb.display()))?;
        if n == 0 {
            break;
        }
        store.write_snapshot(&buf[..n]).map_err(|e| format!("{e}"))?;
    }
    store.finish_snapshot().map_err(|e| format!("{e}"))?;
    drop(store);
    view.commit()?;
    Ok(stats.keys_loaded)
}
