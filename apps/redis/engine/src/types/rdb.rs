//! Values in Redis's RDB object format, for DUMP and RESTORE: the payload
//! is the object (type byte, then its body), the RDB version (2 bytes, LE)
//! and a CRC64 (Jones, 8 bytes, LE) of everything before it.
//!
//! DUMP writes the plain encodings every Redis loads (string, list, set,
//! zset with binary scores, hash). RESTORE also reads what Redis 7.0 DUMPs:
//! LZF-compressed and integer-encoded strings, intsets, listpack hashes
//! and sorted sets, and quicklists of listpacks. Decoding is checked at
//! every step (a payload is client data): it never trusts a claimed count
//! for an allocation, and the bytes it produces are charged to a budget.

use alloc::vec::Vec;

use super::{Hash, List, Set, Value, ZSet};
use crate::types::zset::AddOutcome;
use crate::util::{i64_bytes, parse_f64, parse_i64};

/// The RDB version of Redis 7.0, written in (and the newest accepted in)
/// payloads.
pub const RDB_VERSION: u16 = 10;

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;

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

pub fn crc64(data: &[u8]) -> u64 {
    data.iter().fold(0u64, |crc, &b| CRC_TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8))
}

/// Where an encoding goes: the payload, or a byte count (to check a
/// payload's size before building it).
trait Sink {
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

fn put_len(out: &mut impl Sink, len: usize) {
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

fn put_str(out: &mut impl Sink, s: &[u8]) {
    put_len(out, s.len());
    out.put(s);
}

fn put_object(out: &mut impl Sink, value: &Value) {
    match value {
        Value::Str(s) => {
            out.put(&[TYPE_STRING]);
            put_str(out, s);
        }
        Value::List(l) => {
            out.put(&[TYPE_LIST]);
            put_len(out, l.len());
            for e in l.iter() {
                put_str(out, e);
            }
        }
        Value::Set(s) => {
            out.put(&[TYPE_SET]);
            put_len(out, s.len());
            for m in s.iter() {
                put_str(out, m);
            }
        }
        Value::ZSet(z) => {
            out.put(&[TYPE_ZSET_2]);
            put_len(out, z.len());
            for (score, m) in z.iter() {
                put_str(out, m);
                out.put(&score.to_le_bytes());
            }
        }
        Value::Hash(h) => {
            out.put(&[TYPE_HASH]);
            put_len(out, h.len());
            for (f, v) in h.iter() {
                put_str(out, f);
                put_str(out, v);
            }
        }
    }
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

use DecodeError::{Bad, TooBig};

/// What each decoded element is charged besides its bytes: about what a
/// container spends on one (its slot, hash bucket, node or length).
const ELEMENT_COST: usize = 48;

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bytes still allowed: each string's length plus [`ELEMENT_COST`].
    budget: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(Bad)?;
        let s = self.data.get(self.pos..end).ok_or(Bad)?;
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes(1)?[0])
    }

    fn charge(&mut self, n: usize) -> Result<(), DecodeError> {
        charge(&mut self.budget, n)
    }

    /// A length, or (`Err(Ok(enc))`) the kind of a specially encoded string.
    fn len_or_enc(&mut self) -> Result<Result<u64, u8>, DecodeError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Ok(u64::from(b & 0x3f)),
            1 => Ok((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            3 => Err(b & 0x3f),
            _ => match b {
                0x80 => Ok(u64::from(u32::from_be_bytes(self.bytes(4)?.try_into().map_err(|_| Bad)?))),
                0x81 => Ok(u64::from_be_bytes(self.bytes(8)?.try_into().map_err(|_| Bad)?)),
                _ => return Err(Bad),
            },
        })
    }

    fn len(&mut self) -> Result<usize, DecodeError> {
        match self.len_or_enc()? {
            Ok(n) => usize::try_from(n).map_err(|_| Bad),
            Err(_) => Err(Bad),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, DecodeError> {
        let s = match self.len_or_enc()? {
            Ok(n) => {
                let n = usize::try_from(n).map_err(|_| Bad)?;
                let raw = self.bytes(n)?;
                self.charge(n)?;
                raw.to_vec()
            }
            Err(enc @ 0..=2) => {
                self.charge(0)?;
                let v = match enc {
                    0 => i64::from(self.byte()? as i8),
                    1 => i64::from(i16::from_le_bytes(self.bytes(2)?.try_into().map_err(|_| Bad)?)),
                    _ => i64::from(i32::from_le_bytes(self.bytes(4)?.try_into().map_err(|_| Bad)?)),
                };
                i64_bytes(v)
            }
            Err(3) => {
                let clen = self.len()?;
                let len = self.len()?;
                let compressed = self.bytes(clen)?;
                self.charge(len)?;
                lzf_decompress(compressed, len)?
            }
            Err(_) => return Err(Bad),
        };
        Ok(s)
    }
}

fn charge(budget: &mut usize, n: usize) -> Result<(), DecodeError> {
    *budget = budget.checked_sub(n.saturating_add(ELEMENT_COST)).ok_or(TooBig)?;
    Ok(())
}

/// LZF decompression of exactly `len` bytes (the budget was charged).
fn lzf_decompress(input: &[u8], len: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(len).map_err(|_| TooBig)?;
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1).ok_or(Bad)?;
            if out.len() + run.len() > len {
                return Err(Bad);
            }
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += usize::from(*input.get(ip).ok_or(Bad)?);
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip).ok_or(Bad)?) + 1;
            ip += 1;
            let start = out.len().checked_sub(back).ok_or(Bad)?;
            if out.len() + n + 2 > len {
                return Err(Bad);
            }
            for k in 0..n + 2 {
                out.push(out[start + k]);
            }
        }
    }
    if out.len() != len {
        return Err(Bad);
    }
    Ok(out)
}

/// The elements of a listpack, as strings (integers in decimal).
fn listpack(lp: &[u8], budget: &mut usize) -> Result<Vec<Vec<u8>>, DecodeError> {
    let total = u32::from_le_bytes(lp.get(0..4).ok_or(Bad)?.try_into().map_err(|_| Bad)?) as usize;
    if total != lp.len() || lp.len() < 7 || lp[lp.len() - 1] != 0xff {
        return Err(Bad);
    }
    let mut out = Vec::new();
    let mut p = 6;
    let get = |i: usize| lp.get(i).copied().ok_or(Bad);
    let int = |from: usize, n: usize| -> Result<i64, DecodeError> {
        let b = lp.get(from..from + n).ok_or(Bad)?;
        let mut v: u64 = 0;
        for (k, &x) in b.iter().enumerate() {
            v |= u64::from(x) << (8 * k);
        }
        let shift = 64 - 8 * n as u32;
        Ok(((v << shift) as i64) >> shift)
    };
    while get(p)? != 0xff {
        let b = get(p)?;
        let (elem, size): (Vec<u8>, usize) = if b & 0x80 == 0 {
            (i64_bytes(i64::from(b & 0x7f)), 1)
        } else if b & 0xc0 == 0x80 {
            let n = usize::from(b & 0x3f);
            (lp.get(p + 1..p + 1 + n).ok_or(Bad)?.to_vec(), 1 + n)
        } else if b & 0xe0 == 0xc0 {
            let v = (i64::from(b & 0x1f) << 8) | i64::from(get(p + 1)?);
            (i64_bytes((v << 51) >> 51), 2)
        } else if b & 0xf0 == 0xe0 {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(get(p + 1)?);
            (lp.get(p + 2..p + 2 + n).ok_or(Bad)?.to_vec(), 2 + n)
        } else {
            match b {
                0xf0 => {
                    let n = int(p + 1, 4)? as u32 as usize;
                    (lp.get(p + 5..p.saturating_add(5).saturating_add(n)).ok_or(Bad)?.to_vec(), 5 + n)
                }
                0xf1 => (i64_bytes(int(p + 1, 2)?), 3),
                0xf2 => (i64_bytes(int(p + 1, 3)?), 4),
                0xf3 => (i64_bytes(int(p + 1, 4)?), 5),
                0xf4 => (i64_bytes(int(p + 1, 8)?), 9),
                _ => return Err(Bad),
            }
        };
        charge(budget, elem.len())?;
        let backlen = match size {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        p = p.checked_add(size + backlen).ok_or(Bad)?;
        out.push(elem);
    }
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    if p != lp.len() - 1 || (count != u16::MAX && out.len() != usize::from(count)) {
        return Err(Bad);
    }
    Ok(out)
}

/// The members of an intset, in decimal.
fn intset(blob: &[u8], budget: &mut usize) -> Result<Vec<Vec<u8>>, DecodeError> {
    let header = blob.get(0..8).ok_or(Bad)?;
    let width = u32::from_le_bytes(header[0..4].try_into().map_err(|_| Bad)?) as usize;
    let count = u32::from_le_bytes(header[4..8].try_into().map_err(|_| Bad)?) as usize;
    if !matches!(width, 2 | 4 | 8) || blob.len() != 8 + width.checked_mul(count).ok_or(Bad)? {
        return Err(Bad);
    }
    // (At most 20 digits and a sign each.)
    charge(budget, count.saturating_mul(21 + ELEMENT_COST).saturating_sub(ELEMENT_COST))?;
    Ok(blob[8..]
        .chunks_exact(width)
        .map(|c| {
            let v = match width {
                2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
                4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            };
            i64_bytes(v)
        })
        .collect())
}

fn zset_add(z: &mut ZSet, member: &[u8], score: f64) -> Result<(), DecodeError> {
    if score.is_nan() || z.set(member, score) != AddOutcome::Added {
        return Err(Bad);
    }
    Ok(())
}

fn hash_set(h: &mut Hash, field: &[u8], value: Vec<u8>) -> Result<(), DecodeError> {
    if !h.set(field, value) {
        return Err(Bad);
    }
    Ok(())
}

/// Decodes a verified payload (see [`verify`]) into a value, producing at
/// most `budget` bytes of strings. Containers get hash seed `seed`.
pub fn restore(payload: &[u8], seed: u64, budget: usize) -> Result<Value, DecodeError> {
    let body = payload.get(..payload.len().checked_sub(10).ok_or(Bad)?).ok_or(Bad)?;
    let mut r = Reader { data: body, pos: 0, budget };
    let kind = r.byte()?;
    let value = match kind {
        TYPE_STRING => Value::Str(r.string()?),
        TYPE_LIST => {
            let mut l = List::new();
            for _ in 0..r.len()? {
                l.push_back(r.string()?);
            }
            Value::List(l.into())
        }
        TYPE_SET => {
            let mut s = Set::new(seed);
            for _ in 0..r.len()? {
                if !s.add(&r.string()?) {
                    return Err(Bad);
                }
            }
            Value::Set(s.into())
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let mut z = ZSet::new(seed);
            for _ in 0..r.len()? {
                let m = r.string()?;
                let score = if kind == TYPE_ZSET_2 {
                    f64::from_le_bytes(r.bytes(8)?.try_into().map_err(|_| Bad)?)
                } else {
                    let n = usize::from(r.byte()?);
                    match n {
                        253 => f64::NAN,
                        254 => f64::INFINITY,
                        255 => f64::NEG_INFINITY,
                        _ => parse_f64(r.bytes(n)?).ok_or(Bad)?,
                    }
                };
                zset_add(&mut z, &m, score)?;
            }
            Value::ZSet(z.into())
        }
        TYPE_HASH => {
            let mut h = Hash::new(seed);
            for _ in 0..r.len()? {
                let f = r.string()?;
                hash_set(&mut h, &f, r.string()?)?;
            }
            Value::Hash(h.into())
        }
        TYPE_SET_INTSET => {
            let mut s = Set::new(seed);
            for m in intset(&r.string()?, &mut r.budget)? {
                if !s.add(&m) {
                    return Err(Bad);
                }
            }
            Value::Set(s.into())
        }
        TYPE_HASH_LISTPACK | TYPE_ZSET_LISTPACK => {
            let blob = r.string()?;
            let items = listpack(&blob, &mut r.budget)?;
            if items.len() % 2 != 0 {
                return Err(Bad);
            }
            if kind == TYPE_HASH_LISTPACK {
                let mut h = Hash::new(seed);
                for pair in items.chunks_exact(2) {
                    hash_set(&mut h, &pair[0], pair[1].clone())?;
                }
                Value::Hash(h.into())
            } else {
                let mut z = ZSet::new(seed);
                for pair in items.chunks_exact(2) {
                    let score = match parse_i64(&pair[1]) {
                        Some(i) => i as f64,
                        None => parse_f64(&pair[1]).ok_or(Bad)?,
                    };
                    zset_add(&mut z, &pair[0], score)?;
                }
                Value::ZSet(z.into())
            }
        }
        TYPE_LIST_QUICKLIST_2 => {
            let mut l = List::new();
            for _ in 0..r.len()? {
                let container = r.len()?;
                let blob = r.string()?;
                match container {
                    1 => l.push_back(blob),
                    2 => {
                        for e in listpack(&blob, &mut r.budget)? {
                            l.push_back(e);
                        }
                    }
                    _ => return Err(Bad),
                }
            }
            Value::List(l.into())
        }
        _ => return Err(Bad),
    };
    // Nothing may follow the object, and (like Redis) it may not be empty.
    if r.pos != body.len() || value.is_empty() {
        return Err(Bad);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_jones() {
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
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
            let bytes: Vec<u8> =
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
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

    #[test]
    fn lzf_literals_and_back_references() {
        assert_eq!(lzf_decompress(&[0x01, b'a', b'b'], 2), Ok(b"ab".to_vec()));
        assert_eq!(lzf_decompress(&[0x01, b'a', b'b', 0x20, 0x01], 5), Ok(b"ababa".to_vec()));
        assert_eq!(lzf_decompress(&[0x20, 0x05], 3), Err(Bad));
    }
}
