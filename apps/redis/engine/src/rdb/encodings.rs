//! The compact blobs an RDB value may embed, decoded into their elements:
//! listpack (Redis 7.0 hashes, sorted sets, list nodes), ziplist (the same
//! before 7.0, and list nodes from 3.2 to 6.2), zipmap (hashes before
//! 2.6), intset (integer sets) and LZF (compressed strings).
//!
//! Every decoder checks each step against the blob's bounds (a blob is
//! file or client data) and charges each element it produces to a budget
//! (bytes plus a per-element cost) before handing it to `emit`.

use alloc::vec::Vec;

use super::{LoadError, charge};
use crate::util::i64_bytes;

use LoadError::Corrupt;

/// Receives the decoded elements, in order.
pub(crate) type Emit<'a> = &'a mut dyn FnMut(Vec<u8>) -> Result<(), LoadError>;

/// LZF decompression of exactly `len` bytes (the budget was charged).
pub fn lzf_decompress(input: &[u8], len: usize) -> Result<Vec<u8>, LoadError> {
    const BAD: LoadError = Corrupt("LZF-compressed string");
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(len).map_err(|_| LoadError::OutOfMemory)?;
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1).ok_or(BAD)?;
            if out.len() + run.len() > len {
                return Err(BAD);
            }
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += usize::from(*input.get(ip).ok_or(BAD)?);
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip).ok_or(BAD)?) + 1;
            ip += 1;
            let start = out.len().checked_sub(back).ok_or(BAD)?;
            if out.len() + n + 2 > len {
                return Err(BAD);
            }
            for k in 0..n + 2 {
                out.push(out[start + k]);
            }
        }
    }
    if out.len() != len {
        return Err(BAD);
    }
    Ok(out)
}

/// A little-endian signed integer of `n` (1..=8) bytes at `from`.
fn le_int(blob: &[u8], from: usize, n: usize, what: &'static str) -> Result<i64, LoadError> {
    let b = blob.get(from..from.checked_add(n).ok_or(Corrupt(what))?).ok_or(Corrupt(what))?;
    let mut v: u64 = 0;
    for (k, &x) in b.iter().enumerate() {
        v |= u64::from(x) << (8 * k);
    }
    let shift = 64 - 8 * n as u32;
    Ok(((v << shift) as i64) >> shift)
}

fn bytes<'a>(blob: &'a [u8], from: usize, n: usize, what: &'static str) -> Result<&'a [u8], LoadError> {
    blob.get(from..from.checked_add(n).ok_or(Corrupt(what))?).ok_or(Corrupt(what))
}

fn u32_le(blob: &[u8], at: usize, what: &'static str) -> Result<u32, LoadError> {
    Ok(u32::from_le_bytes(bytes(blob, at, 4, what)?.try_into().map_err(|_| Corrupt(what))?))
}

/// The elements of a listpack, as strings (integers in decimal). Returns
/// how many there were.
pub(crate) fn listpack(lp: &[u8], budget: &mut usize, emit: Emit<'_>) -> Result<usize, LoadError> {
    const W: &str = "listpack";
    let total = u32_le(lp, 0, W)? as usize;
    if total != lp.len() || lp.len() < 7 || lp[lp.len() - 1] != 0xff {
        return Err(Corrupt(W));
    }
    let get = |i: usize| lp.get(i).copied().ok_or(Corrupt(W));
    let mut p = 6;
    let mut count = 0usize;
    while get(p)? != 0xff {
        let b = get(p)?;
        let (elem, size): (Vec<u8>, usize) = if b & 0x80 == 0 {
            (i64_bytes(i64::from(b & 0x7f)), 1)
        } else if b & 0xc0 == 0x80 {
            let n = usize::from(b & 0x3f);
            (bytes(lp, p + 1, n, W)?.to_vec(), 1 + n)
        } else if b & 0xe0 == 0xc0 {
            let v = (i64::from(b & 0x1f) << 8) | i64::from(get(p + 1)?);
            (i64_bytes((v << 51) >> 51), 2)
        } else if b & 0xf0 == 0xe0 {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(get(p + 1)?);
            (bytes(lp, p + 2, n, W)?.to_vec(), 2 + n)
        } else {
            match b {
                0xf0 => {
                    let n = u32_le(lp, p + 1, W)? as usize;
                    (bytes(lp, p + 5, n, W)?.to_vec(), 5 + n)
                }
                0xf1 => (i64_bytes(le_int(lp, p + 1, 2, W)?), 3),
                0xf2 => (i64_bytes(le_int(lp, p + 1, 3, W)?), 4),
                0xf3 => (i64_bytes(le_int(lp, p + 1, 4, W)?), 5),
                0xf4 => (i64_bytes(le_int(lp, p + 1, 8, W)?), 9),
                _ => return Err(Corrupt(W)),
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
        p = p.checked_add(size + backlen).ok_or(Corrupt(W))?;
        emit(elem)?;
        count += 1;
    }
    let header = u16::from_le_bytes([lp[4], lp[5]]);
    if p != lp.len() - 1 || (header != u16::MAX && count != usize::from(header)) {
        return Err(Corrupt(W));
    }
    Ok(count)
}

/// The elements of a ziplist (Redis before 7.0), as strings. Returns how
/// many there were.
pub(crate) fn ziplist(zl: &[u8], budget: &mut usize, emit: Emit<'_>) -> Result<usize, LoadError> {
    const W: &str = "ziplist";
    let total = u32_le(zl, 0, W)? as usize;
    let tail = u32_le(zl, 4, W)? as usize;
    if total != zl.len() || zl.len() < 11 || zl[zl.len() - 1] != 0xff || tail >= zl.len() {
        return Err(Corrupt(W));
    }
    let get = |i: usize| zl.get(i).copied().ok_or(Corrupt(W));
    let mut p = 10;
    let mut count = 0usize;
    while get(p)? != 0xff {
        // The previous entry's length: 1 byte, or 0xFE and 4 bytes.
        p += match get(p)? {
            0..=253 => 1,
            254 => 5,
            _ => return Err(Corrupt(W)),
        };
        let enc = get(p)?;
        let (elem, size): (Vec<u8>, usize) = match enc >> 6 {
            0 => {
                let n = usize::from(enc & 0x3f);
                (bytes(zl, p + 1, n, W)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (usize::from(enc & 0x3f) << 8) | usize::from(get(p + 1)?);
                (bytes(zl, p + 2, n, W)?.to_vec(), 2 + n)
            }
            2 => {
                let n = u32::from_be_bytes(bytes(zl, p + 1, 4, W)?.try_into().map_err(|_| Corrupt(W))?) as usize;
                (bytes(zl, p + 5, n, W)?.to_vec(), 5 + n)
            }
            _ => match enc {
                0xc0 => (i64_bytes(le_int(zl, p + 1, 2, W)?), 3),
                0xd0 => (i64_bytes(le_int(zl, p + 1, 4, W)?), 5),
                0xe0 => (i64_bytes(le_int(zl, p + 1, 8, W)?), 9),
                0xf0 => (i64_bytes(le_int(zl, p + 1, 3, W)?), 4),
                0xfe => (i64_bytes(le_int(zl, p + 1, 1, W)?), 2),
                0xf1..=0xfd => (i64_bytes(i64::from(enc & 0x0f) - 1), 1),
                _ => return Err(Corrupt(W)),
            },
        };
        charge(budget, elem.len())?;
        p = p.checked_add(size).ok_or(Corrupt(W))?;
        emit(elem)?;
        count += 1;
    }
    let header = u16::from_le_bytes([zl[8], zl[9]]);
    if p != zl.len() - 1 || (header != u16::MAX && count != usize::from(header)) {
        return Err(Corrupt(W));
    }
    Ok(count)
}

/// The fields and values of a zipmap (hashes saved by Redis before 2.6),
/// alternating. Returns the number of pairs.
pub(crate) fn zipmap(zm: &[u8], budget: &mut usize, emit: Emit<'_>) -> Result<usize, LoadError> {
    const W: &str = "zipmap";
    if zm.len() < 2 || zm[zm.len() - 1] != 0xff {
        return Err(Corrupt(W));
    }
    let get = |i: usize| zm.get(i).copied().ok_or(Corrupt(W));
    // A length: one byte below 254, or 254 and 4 bytes (LE).
    let len_at = |p: usize| -> Result<(usize, usize), LoadError> {
        match get(p)? {
            n @ 0..=253 => Ok((usize::from(n), 1)),
            254 => Ok((u32_le(zm, p + 1, W)? as usize, 5)),
            _ => Err(Corrupt(W)),
        }
    };
    let mut p = 1;
    let mut pairs = 0usize;
    while get(p)? != 0xff {
        let (klen, s) = len_at(p)?;
        let key = bytes(zm, p + s, klen, W)?;
        p += s + klen;
        let (vlen, s) = len_at(p)?;
        let free = usize::from(get(p + s)?);
        let val = bytes(zm, p + s + 1, vlen, W)?;
        p += s + 1 + vlen + free;
        charge(budget, key.len())?;
        charge(budget, val.len())?;
        emit(key.to_vec())?;
        emit(val.to_vec())?;
        pairs += 1;
    }
    if p != zm.len() - 1 || pairs == 0 || (zm[0] < 254 && usize::from(zm[0]) != pairs) {
        return Err(Corrupt(W));
    }
    Ok(pairs)
}

/// The members of an intset, in decimal. Returns how many there were.
pub(crate) fn intset(blob: &[u8], budget: &mut usize, emit: Emit<'_>) -> Result<usize, LoadError> {
    const W: &str = "intset";
    let width = u32_le(blob, 0, W)? as usize;
    let count = u32_le(blob, 4, W)? as usize;
    if !matches!(width, 2 | 4 | 8)
        || blob.len() != width.checked_mul(count).and_then(|n| n.checked_add(8)).ok_or(Corrupt(W))?
    {
        return Err(Corrupt(W));
    }
    for c in blob[8..].chunks_exact(width) {
        let v = i64_bytes(le_int(c, 0, width, W)?);
        charge(budget, v.len())?;
        emit(v)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn all(
        f: fn(&[u8], &mut usize, Emit<'_>) -> Result<usize, LoadError>,
        blob: &[u8],
    ) -> Result<Vec<Vec<u8>>, LoadError> {
        let mut out = Vec::new();
        let mut budget = 1 << 20;
        f(blob, &mut budget, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn lzf_literals_and_back_references() {
        assert_eq!(lzf_decompress(&[0x01, b'a', b'b'], 2), Ok(b"ab".to_vec()));
        assert_eq!(lzf_decompress(&[0x01, b'a', b'b', 0x20, 0x01], 5), Ok(b"ababa".to_vec()));
        assert!(lzf_decompress(&[0x20, 0x05], 3).is_err());
    }

    /// A ziplist with every entry encoding: short, 14-bit and 32-bit
    /// strings, immediate, 8/16/24/32/64-bit integers.
    #[test]
    fn ziplist_every_encoding() {
        let long14 = vec![b'x'; 100];
        let entries: Vec<Vec<u8>> = vec![
            [&[0x03u8][..], b"abc"].concat(),
            [&[0x40u8, 100][..], &long14].concat(),
            [&[0x80u8, 0, 0, 0, 2][..], b"hi"].concat(),
            vec![0xf1],                         // 0
            vec![0xfd],                         // 12
            vec![0xfe, 0x80],                   // -128
            vec![0xc0, 0x39, 0x30],             // 12345
            vec![0xf0, 0xff, 0xff, 0x7f],       // 8388607
            vec![0xd0, 0x00, 0x00, 0x00, 0x80], // i32::MIN
            [&[0xe0u8][..], &i64::MAX.to_le_bytes()].concat(),
        ];
        let mut body = Vec::new();
        let mut prev = 0usize;
        for e in &entries {
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(254);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let mut zl = Vec::new();
        zl.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
        zl.extend_from_slice(&10u32.to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(0xff);
        let got = all(ziplist, &zl).unwrap();
        let want: Vec<Vec<u8>> = vec![
            b"abc".to_vec(),
            long14,
            b"hi".to_vec(),
            b"0".to_vec(),
            b"12".to_vec(),
            b"-128".to_vec(),
            b"12345".to_vec(),
            b"8388607".to_vec(),
            b"-2147483648".to_vec(),
            b"9223372036854775807".to_vec(),
        ];
        assert_eq!(got, want);
        for i in 0..zl.len() {
            let _ = all(ziplist, &zl[..i]);
            let mut bad = zl.clone();
            bad[i] ^= 0xa5;
            let _ = all(ziplist, &bad);
        }
    }

    #[test]
    fn zipmap_pairs_with_free_space() {
        let mut zm = vec![2u8, 3];
        zm.extend_from_slice(b"foo");
        zm.extend_from_slice(&[3, 2]);
        zm.extend_from_slice(b"bar\0\0");
        zm.push(5);
        zm.extend_from_slice(b"hello");
        zm.extend_from_slice(&[5, 0]);
        zm.extend_from_slice(b"world");
        zm.push(0xff);
        let got = all(zipmap, &zm).unwrap();
        assert_eq!(got, vec![b"foo".to_vec(), b"bar".to_vec(), b"hello".to_vec(), b"world".to_vec()]);
        zm[0] = 3;
        assert!(all(zipmap, &zm).is_err());
        assert!(all(zipmap, &[0, 0xff]).is_err(), "empty");
    }
}
