//! Redis's RDB format (version 10, Redis 7.0): whole dataset files and the
//! single values DUMP and RESTORE exchange. This module owns the format's
//! constants and primitives (length encoding, CRC64, the byte sinks and
//! inputs both directions use); [`object`] encodes and decodes one value,
//! [`encodings`] the compact blobs older and newer Redis versions embed
//! (listpack, ziplist, zipmap, intset, LZF), [`mod@write`] the point-in-time
//! snapshot writer and [`load`] the streaming loader.
//!
//! # File layout
//!
//! ```text
//! "REDIS" + 4 ASCII digits (version, "0010")
//! { opcode or value record }*
//! 0xFF (EOF), then the CRC64 of every byte before it, 8 bytes LE
//!       (versions >= 5; 0 means "checksum disabled")
//! ```
//!
//! Opcodes (a byte where a value type would be):
//!
//! | byte | name           | body |
//! |------|----------------|------|
//! | 0xFF | EOF            | the CRC64 trailer follows |
//! | 0xFE | SELECTDB       | length: database index of the records that follow |
//! | 0xFD | EXPIRETIME     | 4 bytes LE, unix seconds, for the next key |
//! | 0xFC | EXPIRETIME_MS  | 8 bytes LE, unix milliseconds, for the next key |
//! | 0xFB | RESIZEDB       | two lengths: keys, keys with a TTL (a sizing hint) |
//! | 0xFA | AUX            | two strings: name, value (unknown names are skipped) |
//! | 0xF9 | FREQ           | 1 byte: LFU counter of the next key |
//! | 0xF8 | IDLE           | length: LRU idle seconds of the next key |
//! | 0xF7 | MODULE_AUX     | module data outside the keyspace |
//! | 0xF6 | FUNCTION       | 7.0 release candidates' function library |
//! | 0xF5 | FUNCTION2      | string: a function library's source |
//!
//! A value record is `[EXPIRETIME_MS t] [IDLE|FREQ] type key value`, the
//! key a string and the value the type's body ([`object`]).
//!
//! # Lengths
//!
//! The top two bits of the first byte: `00` a 6-bit length; `01` a 14-bit
//! length (6 bits here, 8 in the next byte); `10`: 0x80 a 32-bit and 0x81 a
//! 64-bit length, big-endian, in the next bytes; `11` a specially encoded
//! string, the low 6 bits saying which: 0/1/2 an 8/16/32-bit little-endian
//! integer (the string is its decimal form), 3 LZF (compressed length,
//! original length, then the compressed bytes).
//!
//! # Value types
//!
//! | code | type | body |
//! |------|------|------|
//! | 0  | string | string |
//! | 1  | list | length, then that many strings |
//! | 2  | set | length, members |
//! | 3  | sorted set | length, (member, score as a 1-byte-length decimal string; 253 NaN, 254 +inf, 255 -inf) |
//! | 4  | hash | length, (field, value) pairs |
//! | 5  | sorted set 2 | length, (member, score as 8-byte LE double) |
//! | 6, 7 | module value | (not read) |
//! | 9  | hash zipmap | string holding a zipmap (Redis < 2.6) |
//! | 10 | list ziplist | string holding a ziplist (Redis < 3.2) |
//! | 11 | set intset | string holding an intset |
//! | 12 | sorted set ziplist | ziplist of member, score (Redis < 7.0) |
//! | 13 | hash ziplist | ziplist of field, value (Redis < 7.0) |
//! | 14 | list quicklist | length, nodes: strings holding ziplists (3.2 to 6.2) |
//! | 15, 19, 21 | stream | blocks of listpacks, metadata, consumer groups (see [`stream`]) |
//! | 16 | hash listpack | string holding a listpack of field, value |
//! | 17 | sorted set listpack | listpack of member, score |
//! | 18 | list quicklist 2 | length, nodes: (container length 1 plain / 2 packed, string) |
//! | 20 | set listpack | (Redis 7.2, RDB 11: not read) |
//!
//! The writer uses the plain encodings 0, 1, 2, 4, 5 (every Redis since
//! 2.x loads them) and, for streams, 19 (what Redis 7.0 writes); the
//! loader reads every code above but module values.

pub mod encodings;
pub mod load;
pub mod object;
pub mod stream;
pub mod write;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use load::{LoadStats, Source};
pub use object::{DecodeError, dump, dump_len, restore, verify};
pub use write::{SnapshotRunning, SnapshotStep};

/// The RDB version of Redis 7.0: written in files and DUMP payloads, and
/// the newest read.
pub const RDB_VERSION: u16 = 10;

pub(crate) const OP_FUNCTION2: u8 = 0xF5;
pub(crate) const OP_FUNCTION_PRE_GA: u8 = 0xF6;
pub(crate) const OP_MODULE_AUX: u8 = 0xF7;
pub(crate) const OP_IDLE: u8 = 0xF8;
pub(crate) const OP_FREQ: u8 = 0xF9;
pub(crate) const OP_AUX: u8 = 0xFA;
pub(crate) const OP_RESIZEDB: u8 = 0xFB;
pub(crate) const OP_EXPIRETIME_MS: u8 = 0xFC;
pub(crate) const OP_EXPIRETIME: u8 = 0xFD;
pub(crate) const OP_SELECTDB: u8 = 0xFE;
pub(crate) const OP_EOF: u8 = 0xFF;

pub(crate) const TYPE_STRING: u8 = 0;
pub(crate) const TYPE_LIST: u8 = 1;
pub(crate) const TYPE_SET: u8 = 2;
pub(crate) const TYPE_ZSET: u8 = 3;
pub(crate) const TYPE_HASH: u8 = 4;
pub(crate) const TYPE_ZSET_2: u8 = 5;
pub(crate) const TYPE_HASH_ZIPMAP: u8 = 9;
pub(crate) const TYPE_LIST_ZIPLIST: u8 = 10;
pub(crate) const TYPE_SET_INTSET: u8 = 11;
pub(crate) const TYPE_ZSET_ZIPLIST: u8 = 12;
pub(crate) const TYPE_HASH_ZIPLIST: u8 = 13;
pub(crate) const TYPE_LIST_QUICKLIST: u8 = 14;
pub(crate) const TYPE_HASH_LISTPACK: u8 = 16;
pub(crate) const TYPE_ZSET_LISTPACK: u8 = 17;
pub(crate) const TYPE_LIST_QUICKLIST_2: u8 = 18;

/// What a value type code is, for error messages.
pub fn type_name(code: u8) -> &'static str {
    match code {
        TYPE_STRING => "string",
        TYPE_LIST | TYPE_LIST_ZIPLIST | TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => "list",
        TYPE_SET | TYPE_SET_INTSET => "set",
        TYPE_ZSET | TYPE_ZSET_2 | TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => "sorted set",
        TYPE_HASH | TYPE_HASH_ZIPMAP | TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => "hash",
        6 | 7 => "module value",
        15 | 19 | 21 => "stream",
        20 => "set listpack (Redis 7.2)",
        _ => "unknown",
    }
}

/// Why an RDB file (or a value in one) could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The device failed (passed through from [`Source::read`]).
    Io(String),
    /// The data ended in the middle of the file.
    Truncated,
    /// Not an RDB file: it does not start with `REDIS` and a version.
    BadMagic,
    /// A version this server does not read (newer than [`RDB_VERSION`]).
    UnsupportedVersion(u32),
    /// A value type this server has no counterpart for (streams, modules).
    UnsupportedType(u8),
    /// Module data outside the keyspace (MODULE_AUX).
    ModuleAux,
    /// Malformed content; says what was being read.
    Corrupt(&'static str),
    /// The CRC64 trailer does not match the data.
    Checksum { stored: u64, computed: u64 },
    /// SELECTDB names a database this server does not have.
    DbOutOfRange(u64),
    /// The same key twice in one database.
    DuplicateKey { db: usize },
    /// The data does not fit under `maxmemory`, or the allocator refused.
    OutOfMemory,
    /// Loading needs an empty dataset.
    NotEmpty,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "RDB read error: {e}"),
            LoadError::Truncated => f.write_str("truncated RDB file: the data ends before the EOF marker and checksum"),
            LoadError::BadMagic => f.write_str("not an RDB file: wrong signature (expected \"REDIS\" and a version)"),
            LoadError::UnsupportedVersion(v) => {
                write!(f, "can't handle RDB format version {v} (this server reads versions 1 to {RDB_VERSION})")
            }
            LoadError::UnsupportedType(t) => {
                write!(f, "unsupported RDB value type {t} ({}): this server can't load it", type_name(*t))
            }
            LoadError::ModuleAux => f.write_str("the RDB file holds module auxiliary data (no modules here)"),
            LoadError::Corrupt(what) => write!(f, "corrupt RDB file: bad {what}"),
            LoadError::Checksum { stored, computed } => {
                write!(f, "wrong RDB checksum: the file says {stored:016x}, its data gives {computed:016x}")
            }
            LoadError::DbOutOfRange(db) => {
                write!(f, "the RDB file selects database {db}, more than this server is configured to have")
            }
            LoadError::DuplicateKey { db } => write!(f, "duplicated key in database {db} of the RDB file"),
            LoadError::OutOfMemory => f.write_str("the RDB file's data does not fit in memory (maxmemory)"),
            LoadError::NotEmpty => f.write_str("an RDB file is only loaded into an empty dataset"),
        }
    }
}

impl core::error::Error for LoadError {}

/// CRC-64/Jones (reflected, as Redis's `crc64`), table-driven.
const CRC_TABLE: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x95AC_9329_AC4B_C9B5 } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Continues a CRC64 over more data (start from 0).
pub fn crc64_update(crc: u64, data: &[u8]) -> u64 {
    data.iter().fold(crc, |crc, &b| CRC_TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8))
}

pub fn crc64(data: &[u8]) -> u64 {
    crc64_update(0, data)
}

/// Where an encoding goes: bytes, or a byte count (to size an encoding
/// before building it).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for usize {
    fn put(&mut self, bytes: &[u8]) {
        *self = self.saturating_add(bytes.len());
    }
}

pub(crate) fn put_len(out: &mut impl Sink, len: usize) {
    if len < 1 << 6 {
        out.put(&[len as u8]);
    } else if len < 1 << 14 {
        out.put(&[0x40 | (len >> 8) as u8, len as u8]);
    } else if let Ok(l) = u32::try_from(len) {
        out.put(&[0x80]);
        out.put(&l.to_be_bytes());
    } else {
        out.put(&[0x81]);
        out.put(&(len as u64).to_be_bytes());
    }
}

pub(crate) fn put_str(out: &mut impl Sink, s: &[u8]) {
    put_len(out, s.len());
    out.put(s);
}

/// Where encoded data is read from: a payload in memory, or a file read
/// as a stream ([`load`]).
pub(crate) trait Input {
    /// Fills `buf` completely, or fails ([`LoadError::Truncated`] when the
    /// data ends first).
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), LoadError>;
    /// The bytes left, when known: lets a claimed length be refused before
    /// anything is allocated for it.
    fn remaining(&self) -> Option<usize> {
        None
    }
}

/// A payload in memory.
pub(crate) struct SliceInput<'a> {
    pub data: &'a [u8],
}

impl Input for SliceInput<'_> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), LoadError> {
        if buf.len() > self.data.len() {
            return Err(LoadError::Truncated);
        }
        let (head, rest) = self.data.split_at(buf.len());
        buf.copy_from_slice(head);
        self.data = rest;
        Ok(())
    }
    fn remaining(&self) -> Option<usize> {
        Some(self.data.len())
    }
}

/// What each decoded element is charged besides its bytes: about what a
/// container spends on one (its slot, hash bucket, node or length).
pub(crate) const ELEMENT_COST: usize = 48;

/// Takes `n` bytes (plus [`ELEMENT_COST`]) from a decoding budget.
pub(crate) fn charge(budget: &mut usize, n: usize) -> Result<(), LoadError> {
    *budget = budget.checked_sub(n.saturating_add(ELEMENT_COST)).ok_or(LoadError::OutOfMemory)?;
    Ok(())
}

pub(crate) fn read_byte<I: Input + ?Sized>(r: &mut I) -> Result<u8, LoadError> {
    let mut b = [0u8];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

pub(crate) fn read_array<const N: usize, I: Input + ?Sized>(r: &mut I) -> Result<[u8; N], LoadError> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

/// A length, or (`Err(kind)`) the kind of a specially encoded string.
pub(crate) fn read_len_or_enc<I: Input + ?Sized>(r: &mut I) -> Result<Result<u64, u8>, LoadError> {
    let b = read_byte(r)?;
    Ok(match b >> 6 {
        0 => Ok(u64::from(b & 0x3f)),
        1 => Ok((u64::from(b & 0x3f) << 8) | u64::from(read_byte(r)?)),
        3 => Err(b & 0x3f),
        _ => match b {
            0x80 => Ok(u64::from(u32::from_be_bytes(read_array(r)?))),
            0x81 => Ok(u64::from_be_bytes(read_array(r)?)),
            _ => return Err(LoadError::Corrupt("length encoding")),
        },
    })
}

pub(crate) fn read_len<I: Input + ?Sized>(r: &mut I) -> Result<u64, LoadError> {
    read_len_or_enc(r)?.map_err(|_| LoadError::Corrupt("length"))
}

/// A length that must fit in memory's address space.
pub(crate) fn read_count<I: Input + ?Sized>(r: &mut I) -> Result<usize, LoadError> {
    usize::try_from(read_len(r)?).map_err(|_| LoadError::Corrupt("length"))
}

/// Reads `n` raw bytes into a new vector, allocating fallibly and, when
/// the input's size is unknown, only as the bytes arrive (a corrupt length
/// cannot make it allocate more than the data holds).
pub(crate) fn read_vec<I: Input + ?Sized>(r: &mut I, n: usize) -> Result<Vec<u8>, LoadError> {
    const CHUNK: usize = 1 << 20;
    if r.remaining().is_some_and(|left| n > left) {
        return Err(LoadError::Truncated);
    }
    let mut v: Vec<u8> = Vec::new();
    let first = if r.remaining().is_some() { n } else { n.min(CHUNK) };
    v.try_reserve_exact(first).map_err(|_| LoadError::OutOfMemory)?;
    while v.len() < n {
        let take = (n - v.len()).min(CHUNK.max(v.len()));
        v.try_reserve(take).map_err(|_| LoadError::OutOfMemory)?;
        let at = v.len();
        v.resize(at + take, 0);
        r.read_exact(&mut v[at..])?;
    }
    Ok(v)
}

/// A string (raw, integer or LZF-encoded), its length charged to `budget`.
pub(crate) fn read_string<I: Input + ?Sized>(r: &mut I, budget: &mut usize) -> Result<Vec<u8>, LoadError> {
    match read_len_or_enc(r)? {
        Ok(n) => {
            let n = usize::try_from(n).map_err(|_| LoadError::Corrupt("string length"))?;
            // A length past the end of known input is corrupt data, not a
            // value too big for memory.
            if r.remaining().is_some_and(|left| n > left) {
                return Err(LoadError::Truncated);
            }
            charge(budget, n)?;
            read_vec(r, n)
        }
        Err(enc @ 0..=2) => {
            charge(budget, 0)?;
            let v = match enc {
                0 => i64::from(read_byte(r)? as i8),
                1 => i64::from(i16::from_le_bytes(read_array(r)?)),
                _ => i64::from(i32::from_le_bytes(read_array(r)?)),
            };
            Ok(crate::util::i64_bytes(v))
        }
        Err(3) => {
            let clen = read_count(r)?;
            let len = read_count(r)?;
            // LZF expands 3 bytes to at most 264: a longer claim is corrupt
            // (and must not reserve memory).
            if len / 88 > clen {
                return Err(LoadError::Corrupt("LZF-compressed string length"));
            }
            if r.remaining().is_some_and(|left| clen > left) {
                return Err(LoadError::Truncated);
            }
            charge(budget, len)?;
            let compressed = read_vec(r, clen)?;
            encodings::lzf_decompress(&compressed, len)
        }
        Err(_) => Err(LoadError::Corrupt("string encoding")),
    }
}

/// Skips a string, reading it at most one chunk at a time.
pub(crate) fn skip_string<I: Input + ?Sized>(r: &mut I) -> Result<(), LoadError> {
    let n = match read_len_or_enc(r)? {
        Ok(n) => n,
        Err(0) => 1,
        Err(1) => 2,
        Err(2) => 4,
        Err(3) => {
            let clen = read_len(r)?;
            read_len(r)?;
            clen
        }
        Err(_) => return Err(LoadError::Corrupt("string encoding")),
    };
    let mut left = n;
    let mut buf = [0u8; 512];
    while left > 0 {
        let take = left.min(buf.len() as u64) as usize;
        r.read_exact(&mut buf[..take])?;
        left -= take as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_jones() {
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64_update(crc64(b"1234"), b"56789"), crc64(b"123456789"));
    }

    #[test]
    fn lengths_round_trip() {
        for n in [0usize, 1, 63, 64, 16383, 16384, u32::MAX as usize, u32::MAX as usize + 1] {
            let mut v = Vec::new();
            put_len(&mut v, n);
            let mut size = 0usize;
            put_len(&mut size, n);
            assert_eq!(size, v.len());
            let mut r = SliceInput { data: &v };
            assert_eq!(read_len(&mut r), Ok(n as u64));
            assert!(r.data.is_empty());
        }
    }
}
