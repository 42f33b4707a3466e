//! One value in RDB object format: the type byte and body a file record
//! holds, and the DUMP/RESTORE payload built on them (the object, the RDB
//! version as 2 bytes LE, then a CRC64 of everything before, 8 bytes LE).
//!
//! Encoding writes the plain types every Redis loads (string, list, set,
//! hash, zset with binary scores). Decoding reads every type code the
//! loader accepts (see the table in [`super`]), checked at every step:
//! it never trusts a claimed count for an allocation, allocates fallibly,
//! and charges what it produces to a budget.

use alloc::vec::Vec;

use super::LoadError::Corrupt;
use super::encodings::{self, Emit};
use super::*;
use crate::types::zset::AddOutcome;
use crate::types::{Container, Hash, List, Set, Value, ZSet};
use crate::util::{parse_f64, parse_i64};

/// The type code [`put_object`] writes for a value.
pub(crate) fn type_code(value: &Value) -> u8 {
    match value {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST,
        Value::Set(_) => TYPE_SET,
        Value::ZSet(_) => TYPE_ZSET_2,
        Value::Hash(_) => TYPE_HASH,
        Value::Stream(_) => super::stream::TYPE_STREAM_LISTPACKS_2,
    }
}

/// The value's body (after its type byte).
pub(crate) fn put_body(out: &mut impl Sink, value: &Value) {
    match value {
        Value::Str(s) => put_str(out, s),
        Value::List(l) => {
            put_len(out, l.len());
            for e in l.iter() {
                put_str(out, e);
            }
        }
        Value::Set(s) => {
            put_len(out, s.len());
            for m in s.iter() {
                put_str(out, m);
            }
        }
        Value::ZSet(z) => {
            put_len(out, z.len());
            for (score, m) in z.iter() {
                put_str(out, m);
                out.put(&score.to_le_bytes());
            }
        }
        Value::Hash(h) => {
            put_len(out, h.len());
            for (f, v) in h.iter() {
                put_str(out, f);
                put_str(out, v);
            }
        }
        Value::Stream(x) => super::stream::put_stream(out, x),
    }
}

/// Type byte and body.
pub(crate) fn put_object(out: &mut impl Sink, value: &Value) {
    out.put(&[type_code(value)]);
    put_body(out, value);
}

/// The size of [`dump`]'s payload, without building it.
pub fn dump_len(value: &Value) -> usize {
    let mut n = 0usize;
    put_object(&mut n, value);
    n.saturating_add(10)
}

/// The DUMP payload of a value.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    put_object(&mut out, value);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Whether a payload has a version this server reads and a valid CRC
/// (Redis's `verifyDumpPayload`).
pub fn verify(payload: &[u8]) -> bool {
    if payload.len() < 10 {
        return false;
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    version <= RDB_VERSION && crc64(body).to_le_bytes() == crc
}

/// Why a payload was not restored.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Malformed, or a type this server does not read.
    Bad,
    /// Decoding would take more than the memory budget.
    TooBig,
}

/// Decodes a verified payload (see [`verify`]) into a value, producing at
/// most `budget` bytes of strings. Containers get hash seed `seed`.
///
/// As Redis's `restoreCommand` does, the object is read from the whole
/// payload, trailer included, and whatever follows it is ignored: an
/// object may run into the version and checksum bytes, and bytes between
/// the object and the trailer are accepted.
pub fn restore(payload: &[u8], seed: u64, budget: usize) -> Result<Value, DecodeError> {
    let mut r = SliceInput { data: payload };
    let mut budget = budget;
    let decoded = read_byte(&mut r).and_then(|kind| read_object(&mut r, kind, seed, &mut budget));
    let value = decoded.map_err(|e| match e {
        LoadError::OutOfMemory => DecodeError::TooBig,
        _ => DecodeError::Bad,
    })?;
    // Like Redis, an empty container is not a value.
    if value.is_empty() {
        return Err(DecodeError::Bad);
    }
    Ok(value)
}

/// Makes room for one more element, fallibly.
fn room<C: Container>(c: &mut C) -> Result<(), LoadError> {
    if c.growth_bytes(1) > 0 {
        c.try_reserve(1).map_err(|_| LoadError::OutOfMemory)?;
    }
    Ok(())
}

fn list_push(l: &mut List, e: Vec<u8>) -> Result<(), LoadError> {
    room(l)?;
    l.push_back(e);
    Ok(())
}

fn set_add(s: &mut Set, m: &[u8]) -> Result<(), LoadError> {
    room(s)?;
    if !s.add(m) {
        return Err(Corrupt("set (duplicate member)"));
    }
    Ok(())
}

fn zset_add(z: &mut ZSet, member: &[u8], score: f64) -> Result<(), LoadError> {
    room(z)?;
    if score.is_nan() || z.set(member, score) != AddOutcome::Added {
        return Err(Corrupt("sorted set (duplicate member or NaN score)"));
    }
    Ok(())
}

fn hash_set(h: &mut Hash, field: &[u8], value: Vec<u8>) -> Result<(), LoadError> {
    room(h)?;
    if !h.set(field, value) {
        return Err(Corrupt("hash (duplicate field)"));
    }
    Ok(())
}

/// A sorted set score stored as a string (ziplist/listpack entries).
fn score_of(s: &[u8]) -> Result<f64, LoadError> {
    match parse_i64(s) {
        Some(i) => Ok(i as f64),
        None => parse_f64(s).ok_or(Corrupt("sorted set score")),
    }
}

type Decoder = fn(&[u8], &mut usize, Emit<'_>) -> Result<usize, LoadError>;

/// Calls `pair` with each (first, second) of a blob holding alternating
/// elements.
fn pairs(
    blob: &[u8],
    decode: Decoder,
    budget: &mut usize,
    pair: &mut dyn FnMut(Vec<u8>, Vec<u8>) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut first: Option<Vec<u8>> = None;
    decode(blob, budget, &mut |e| match first.take() {
        None => {
            first = Some(e);
            Ok(())
        }
        Some(f) => pair(f, e),
    })?;
    if first.is_some() {
        return Err(Corrupt("pairs (odd element count)"));
    }
    Ok(())
}

/// Reads the body of a value of type `kind`. Containers get hash seed
/// `seed`; every string is charged to `budget`. The value may be empty
/// (callers decide: RESTORE refuses it, a file's loader skips the key).
pub(crate) fn read_object<I: Input + ?Sized>(
    r: &mut I,
    kind: u8,
    seed: u64,
    budget: &mut usize,
) -> Result<Value, LoadError> {
    Ok(match kind {
        TYPE_STRING => Value::Str(read_string(r, budget)?),
        TYPE_LIST => {
            let mut l = List::new();
            for _ in 0..read_len(r)? {
                list_push(&mut l, read_string(r, budget)?)?;
            }
            Value::List(l.into())
        }
        TYPE_SET => {
            let mut s = Set::new(seed);
            for _ in 0..read_len(r)? {
                set_add(&mut s, &read_string(r, budget)?)?;
            }
            Value::Set(s.into())
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let mut z = ZSet::new(seed);
            for _ in 0..read_len(r)? {
                let m = read_string(r, budget)?;
                let score = if kind == TYPE_ZSET_2 {
                    f64::from_le_bytes(read_array(r)?)
                } else {
                    match read_byte(r)? {
                        253 => f64::NAN,
                        254 => f64::INFINITY,
                        255 => f64::NEG_INFINITY,
                        n => {
                            let mut buf = [0u8; 252];
                            let text = &mut buf[..usize::from(n)];
                            r.read_exact(text)?;
                            parse_f64(text).ok_or(Corrupt("sorted set score"))?
                        }
                    }
                };
                zset_add(&mut z, &m, score)?;
            }
            Value::ZSet(z.into())
        }
        TYPE_HASH => {
            let mut h = Hash::new(seed);
            for _ in 0..read_len(r)? {
                let f = read_string(r, budget)?;
                hash_set(&mut h, &f, read_string(r, budget)?)?;
            }
            Value::Hash(h.into())
        }
        TYPE_SET_INTSET => {
            let blob = read_string(r, budget)?;
            let mut s = Set::new(seed);
            encodings::intset(&blob, budget, &mut |m| set_add(&mut s, &m))?;
            Value::Set(s.into())
        }
        TYPE_HASH_ZIPMAP | TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let blob = read_string(r, budget)?;
            let decode: Decoder = match kind {
                TYPE_HASH_ZIPMAP => encodings::zipmap,
                TYPE_HASH_ZIPLIST => encodings::ziplist,
                _ => encodings::listpack,
            };
            let mut h = Hash::new(seed);
            pairs(&blob, decode, budget, &mut |f, v| hash_set(&mut h, &f, v))?;
            Value::Hash(h.into())
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let blob = read_string(r, budget)?;
            let decode: Decoder = if kind == TYPE_ZSET_ZIPLIST { encodings::ziplist } else { encodings::listpack };
            let mut z = ZSet::new(seed);
            pairs(&blob, decode, budget, &mut |m, s| zset_add(&mut z, &m, score_of(&s)?))?;
            Value::ZSet(z.into())
        }
        TYPE_LIST_ZIPLIST => {
            let blob = read_string(r, budget)?;
            let mut l = List::new();
            encodings::ziplist(&blob, budget, &mut |e| list_push(&mut l, e))?;
            Value::List(l.into())
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let mut l = List::new();
            for _ in 0..read_len(r)? {
                // Quicklist 2 says what each node holds: 1 one plain
                // element, 2 a listpack. Quicklist (1) nodes are ziplists.
                let container = if kind == TYPE_LIST_QUICKLIST_2 { read_len(r)? } else { 0 };
                let blob = read_string(r, budget)?;
                match container {
                    0 => {
                        encodings::ziplist(&blob, budget, &mut |e| list_push(&mut l, e))?;
                    }
                    1 => list_push(&mut l, blob)?,
                    2 => {
                        encodings::listpack(&blob, budget, &mut |e| list_push(&mut l, e))?;
                    }
                    _ => return Err(Corrupt("quicklist node container")),
                }
            }
            Value::List(l.into())
        }
        super::stream::TYPE_STREAM_LISTPACKS
        | super::stream::TYPE_STREAM_LISTPACKS_2
        | super::stream::TYPE_STREAM_LISTPACKS_3 => Value::Stream(super::stream::read_stream(r, kind, budget)?.into()),
        other => return Err(LoadError::UnsupportedType(other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    /// Every one-byte corruption (and truncation) of real payloads, with a
    /// valid trailer, decodes or is refused: never a panic.
    #[test]
    fn corrupted_payloads_never_panic() {
        let payloads = [
            "00c3094064016161e057000161610a00e8a3b507b06df271",
            "120102c32040cc17cc00000005008161020101ded402f270110104e0b478797ae0a8020201b6ff0a00530c39de8349742d",
            "0bc32630040800000005200301fbff80000001200b400000024004200001a086a01102f2052a200900000a00020675fa9ac181ea",
            "11c32d361f360000000800816302dffd0281610283312e3504816202020181640297312e30e005000731652b33303018ff0a00a035a55f50156ce6",
            "1018180000000600816602817602816e027b01816d02dfff02ff0a0060aee297111ed058",
            "050201790000000000000040c3094064017878e05700017878000000000000f03f0a00f19cd866895aeb8b",
        ];
        let seal = |body: &[u8]| {
            let mut p = body.to_vec();
            p.extend_from_slice(&RDB_VERSION.to_le_bytes());
            let crc = crc64(&p);
            p.extend_from_slice(&crc.to_le_bytes());
            p
        };
        for hex in payloads {
            let bytes = unhex(hex);
            let body = &bytes[..bytes.len() - 10];
            assert!(restore(&seal(body), 1, 1 << 20).is_ok(), "{hex}");
            for i in 0..body.len() {
                for v in [0u8, 1, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc3, 0xf0, 0xf4, 0xfe, 0xff] {
                    let mut b = body.to_vec();
                    b[i] = v;
                    let _ = restore(&seal(&b), 1, 1 << 20);
                }
                let _ = restore(&seal(&body[..i]), 1, 1 << 20);
            }
        }
    }
}
