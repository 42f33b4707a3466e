//! The streaming RDB loader: reads a file written by Redis 7.0 or 6.2 (or
//! older, down to version 1), or by [`super::write`], from a [`Source`]
//! into an empty dataset. Only one value is in memory at a time besides
//! what was loaded; the CRC64 trailer is checked as the bytes stream by.
//!
//! What is read: every opcode, every string/list/set/hash/sorted set type
//! and encoding (see the table in [`super`]). What is refused, with an
//! error naming it: module values and module AUX data, streams, versions
//! newer than 10. Function libraries (FUNCTION2, and the 7.0 release
//! candidates' FUNCTION) are skipped and counted: the engine has no Lua.
//! LFU counters (FREQ) are ignored (no LFU here); IDLE sets the key's LRU
//! clock. Keys already expired at load time, and empty containers, are
//! skipped, as Redis does as a master.
//!
//! Memory: the loaded data is held under `maxmemory` (each value is
//! decoded against the room left, and the total is checked after each
//! key); large allocations are fallible. Either failure ends the load with
//! [`LoadError::OutOfMemory`], and a failed load leaves the dataset empty.

use alloc::string::String;
use alloc::vec::Vec;

use super::object::read_object;
use super::*;
use crate::Time;
use crate::server::Server;

/// Where the loader reads an RDB file from.
pub trait Source {
    /// Reads up to `buf.len()` bytes; 0 means the end of the data. Device
    /// errors pass through as [`LoadError::Io`].
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LoadError>;
}

/// A file already in memory.
impl Source for &[u8] {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LoadError> {
        let n = buf.len().min(self.len());
        buf[..n].copy_from_slice(&self[..n]);
        *self = &self[n..];
        Ok(n)
    }
}

/// What a load found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoadStats {
    /// The file's RDB version.
    pub version: u32,
    pub keys_loaded: u64,
    /// Keys whose TTL had passed at load time (not loaded).
    pub keys_expired: u64,
    /// Empty containers (not loaded; old Redis versions could save them).
    pub empty_keys_skipped: u64,
    /// Function libraries skipped (no Lua engine here).
    pub functions_skipped: u64,
    /// Whether a CRC64 trailer was checked (false: version < 5, or the
    /// file was saved with `rdbchecksum no`, which writes 0).
    pub checksum_verified: bool,
    /// Bytes read, trailer included.
    pub bytes: u64,
    /// The `redis-ver` AUX field, if any.
    pub redis_ver: Option<String>,
    /// The value type codes read (bit n: a value of type n), i.e. which
    /// encodings the file used.
    pub value_types: u32,
}

const BUF_SIZE: usize = 16 * 1024;

/// A [`Source`] behind a buffer, keeping the CRC64 of what was consumed.
struct Stream<'a> {
    src: &'a mut dyn Source,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    crc: u64,
    consumed: u64,
}

impl Stream<'_> {
    fn fill(src: &mut dyn Source, buf: &mut [u8]) -> Result<usize, LoadError> {
        let n = src.read(buf)?;
        if n == 0 {
            return Err(LoadError::Truncated);
        }
        if n > buf.len() {
            return Err(LoadError::Io(String::from("the source reported more bytes than asked for")));
        }
        Ok(n)
    }
}

impl Input for Stream<'_> {
    fn read_exact(&mut self, out: &mut [u8]) -> Result<(), LoadError> {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.end {
                if out.len() - done >= self.buf.len() {
                    // A large read goes straight to its destination.
                    let n = Self::fill(self.src, &mut out[done..])?;
                    self.crc = crc64_update(self.crc, &out[done..done + n]);
                    done += n;
                    continue;
                }
                self.end = Self::fill(self.src, &mut self.buf)?;
                self.pos = 0;
            }
            let n = (self.end - self.pos).min(out.len() - done);
            let chunk = &self.buf[self.pos..self.pos + n];
            out[done..done + n].copy_from_slice(chunk);
            self.crc = crc64_update(self.crc, chunk);
            self.pos += n;
            done += n;
        }
        self.consumed += out.len() as u64;
        Ok(())
    }
}

/// What AUX field names are read with (they are short).
const AUX_NAME_BUDGET: usize = 64 * 1024;

impl Server {
    /// Loads an RDB file as a stream (a dump.rdb from real Redis 7.0/6.2 or
    /// from [`snapshot_step`](Self::snapshot_step)) into the (empty)
    /// dataset. See [`crate::rdb::load`] for what it accepts; on an error
    /// the dataset is left empty.
    pub fn load_rdb(&mut self, src: &mut dyn Source, now: Time) -> Result<LoadStats, LoadError> {
        self.load_rdb_expiring_before(src, now, now.unix_ms)
    }

    /// Loads a snapshot that a log of writes follows (the data disk's, like
    /// Redis's AOF base): keys whose TTL passed are kept, because the log's
    /// commands ran while they were alive (one may extend a TTL); they
    /// expire once the log is replayed.
    pub(crate) fn load_rdb_base(&mut self, src: &mut dyn Source, now: Time) -> Result<LoadStats, LoadError> {
        self.load_rdb_expiring_before(src, now, 0)
    }

    fn load_rdb_expiring_before(
        &mut self,
        src: &mut dyn Source,
        now: Time,
        expired_before_ms: u64,
    ) -> Result<LoadStats, LoadError> {
        self.set_now(now);
        if self.dbs.iter().any(|d| !d.is_empty()) {
            return Err(LoadError::NotEmpty);
        }
        let mut r = Stream { src, buf: Vec::new(), pos: 0, end: 0, crc: 0, consumed: 0 };
        r.buf.try_reserve_exact(BUF_SIZE).map_err(|_| LoadError::OutOfMemory)?;
        r.buf.resize(BUF_SIZE, 0);
        let mut stats = LoadStats::default();
        let result = self.load_stream(&mut r, expired_before_ms, &mut stats);
        stats.bytes = r.consumed;
        match result {
            Ok(()) => Ok(stats),
            Err(e) => {
                for d in self.dbs.iter_mut().filter(|d| !d.is_empty()) {
                    d.clear();
                }
                Err(e)
            }
        }
    }

    fn load_stream(&mut self, r: &mut Stream<'_>, now_ms: u64, stats: &mut LoadStats) -> Result<(), LoadError> {
        let magic: [u8; 9] = read_array(r).map_err(|e| match e {
            LoadError::Truncated => LoadError::BadMagic,
            e => e,
        })?;
        if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
            return Err(LoadError::BadMagic);
        }
        let version = magic[5..].iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        stats.version = version;
        if version < 1 || version > u32::from(RDB_VERSION) {
            return Err(LoadError::UnsupportedVersion(version));
        }
        let mut db = 0usize;
        // Set by opcodes before a key, for that key.
        let mut expire: Option<i64> = None;
        let mut idle: Option<u64> = None;
        let mut freq: Option<u8> = None;
        loop {
            match read_byte(r)? {
                OP_EXPIRETIME => expire = Some(i64::from(i32::from_le_bytes(read_array(r)?)) * 1000),
                OP_EXPIRETIME_MS => expire = Some(i64::from_le_bytes(read_array(r)?)),
                OP_FREQ => freq = Some(read_byte(r)?),
                OP_IDLE => idle = Some(read_len(r)?),
                OP_EOF => break,
                OP_SELECTDB => {
                    let n = read_len(r)?;
                    db = usize::try_from(n).ok().filter(|&i| i < self.dbs.len()).ok_or(LoadError::DbOutOfRange(n))?;
                }
                OP_RESIZEDB => {
                    // A sizing hint; the keyspace grows as keys arrive.
                    read_len(r)?;
                    read_len(r)?;
                }
                OP_AUX => {
                    let name = read_string(r, &mut { AUX_NAME_BUDGET })?;
                    if name == b"redis-ver" {
                        let v = read_string(r, &mut { AUX_NAME_BUDGET })?;
                        stats.redis_ver = Some(String::from_utf8_lossy(&v).into_owned());
                    } else {
                        skip_string(r)?;
                    }
                }
                OP_MODULE_AUX => return Err(LoadError::ModuleAux),
                OP_FUNCTION2 => {
                    skip_string(r)?;
                    stats.functions_skipped += 1;
                }
                OP_FUNCTION_PRE_GA => {
                    // Name, engine, [description], code.
                    skip_string(r)?;
                    skip_string(r)?;
                    if read_len(r)? != 0 {
                        skip_string(r)?;
                    }
                    skip_string(r)?;
                    stats.functions_skipped += 1;
                }
                kind => {
                    self.load_key(r, kind, db, expire.take(), (idle.take(), freq.take()), now_ms, stats)?;
                }
            }
        }
        if version >= 5 {
            let computed = r.crc;
            let stored = u64::from_le_bytes(read_array(r)?);
            if stored != 0 && stored != computed {
                return Err(LoadError::Checksum { stored, computed });
            }
            stats.checksum_verified = stored != 0;
        }
        Ok(())
    }

    /// The bytes the dataset may still grow by under `maxmemory`.
    fn load_room(&self) -> usize {
        match self.cfg.maxmemory {
            0 => usize::MAX,
            max => max.saturating_sub(self.eviction_memory()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn load_key(
        &mut self,
        r: &mut Stream<'_>,
        kind: u8,
        db: usize,
        expire: Option<i64>,
        (idle, freq): (Option<u64>, Option<u8>),
        now_ms: u64,
        stats: &mut LoadStats,
    ) -> Result<(), LoadError> {
        let mut budget = self.load_room();
        if let Some(bit) = 1u32.checked_shl(u32::from(kind)) {
            stats.value_types |= bit;
        }
        let key = read_string(r, &mut budget)?;
        let seed = self.new_seed();
        let value = read_object(r, kind, seed, &mut budget)?;
        if value.is_empty() {
            stats.empty_keys_skipped += 1;
            return Ok(());
        }
        if expire.is_some_and(|t| t <= now_ms as i64) {
            stats.keys_expired += 1;
            return Ok(());
        }
        // The idle time counts under an LRU policy, the access counter
        // under an LFU one (Redis's `objectSetLRUOrLFU`).
        let lru = match (idle, freq) {
            (Some(secs), _) if !self.cfg.maxmemory_policy.is_lfu() => {
                self.lru_clock().wrapping_sub(u32::try_from(secs).unwrap_or(u32::MAX))
            }
            (_, Some(freq)) if self.cfg.maxmemory_policy.is_lfu() => {
                crate::lfu::field(crate::lfu::minutes(self.now.mono_ms), u32::from(freq))
            }
            _ => self.new_key_lru(),
        };
        let d = &mut self.dbs[db];
        if d.map().contains_key(&key) {
            return Err(LoadError::DuplicateKey { db });
        }
        d.try_reserve_keys(1).map_err(|_| LoadError::OutOfMemory)?;
        let slot = d.add(key.into_boxed_slice(), value, lru);
        if let Some(t) = expire {
            d.set_expire_at(slot, Some(t as u64));
        }
        stats.keys_loaded += 1;
        if self.cfg.maxmemory > 0 && self.eviction_memory() > self.cfg.maxmemory {
            return Err(LoadError::OutOfMemory);
        }
        Ok(())
    }
}
