//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS and
//! BITOP. Bit 0 is the most significant bit of the first byte, as in Redis;
//! offsets are bounded by `proto-max-bulk-len` and every growth passes the
//! memory check first.

use alloc::vec::Vec;

use super::int_arg;
use super::string::grow_string;
use crate::mem;
use crate::notify::{GENERIC, STRING};
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::util::{eq_ic, parse_i64};

/// Redis's error for a bad or too large bit offset.
pub(super) const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// Parses the bit offset at argument `i`: a non-negative integer whose byte
/// is within `proto-max-bulk-len`.
fn bit_offset(s: &Server, c: &mut Ctx, i: usize) -> Option<u64> {
    match parse_i64(c.arg(i)) {
        Some(v) if v >= 0 && ((v as u64) >> 3) < s.cfg.proto_max_bulk_len as u64 => Some(v as u64),
        _ => {
            c.out.err(BAD_OFFSET);
            None
        }
    }
}

/// Makes the string at `key` (absent, or a string: the caller checked)
/// long enough to hold bit `max_bit`. Returns whether that created it or
/// changed its length (Redis counts that as a change even when no bit
/// flips), or `None` after replying -OOM.
pub(super) fn grow_for_bit(s: &mut Server, c: &mut Ctx, key: &[u8], max_bit: u64) -> Option<bool> {
    let need = (max_bit >> 3) as usize + 1;
    let existed = s.peek(c.db, key).is_some();
    let old_len = grow_string(s, c, key, |len| len.max(need))?;
    Some(!existed || old_len < need)
}

/// WRONGTYPE unless `key` is missing or holds a string.
fn check_string(s: &mut Server, c: &mut Ctx, key: &[u8]) -> bool {
    match s.peek(c.db, key) {
        Some(v) if !matches!(v, Value::Str(_)) => {
            c.wrongtype();
            false
        }
        _ => true,
    }
}

pub fn setbit(s: &mut Server, c: &mut Ctx) {
    let Some(offset) = bit_offset(s, c, 2) else { return };
    let on = match c.arg(3) {
        b"1" => true,
        b"0" => false,
        _ => {
            c.out.err("ERR bit is not an integer or out of range");
            return;
        }
    };
    let key = c.arg(1).to_vec();
    if !check_string(s, c, &key) {
        return;
    }
    let Some(grew) = grow_for_bit(s, c, &key, offset) else { return };
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7) as u8);
    let old = {
        let Some(mut v) = s.write(c.db, &key) else { return };
        let Value::Str(cur) = &mut *v else { return };
        let old = cur[byte] & mask != 0;
        if on {
            cur[byte] |= mask;
        } else {
            cur[byte] &= !mask;
        }
        old
    };
    // Only a change counts: a new key, a longer string or a flipped bit.
    if grew || old != on {
        s.notify(STRING, "setbit", c.db, &key);
        s.modified(c, c.db, &key);
    }
    c.out.int(i64::from(old));
}

pub fn getbit(s: &mut Server, c: &mut Ctx) {
    let Some(offset) = bit_offset(s, c, 2) else { return };
    match s.read(c.db, &c.argv[1]) {
        None => c.out.int(0),
        Some(Value::Str(v)) => {
            let byte = (offset >> 3) as usize;
            let bit = v.get(byte).is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
            c.out.int(i64::from(bit));
        }
        Some(_) => c.wrongtype(),
    }
}

/// The string at argument 1 for a read-only bit command, looked up as a
/// read: `Ok(None)` when missing, `Err` after WRONGTYPE.
fn read_len(s: &mut Server, c: &mut Ctx) -> Result<Option<usize>, ()> {
    match s.read(c.db, &c.argv[1]) {
        None => Ok(None),
        Some(Value::Str(v)) => Ok(Some(v.len())),
        Some(_) => {
            c.wrongtype();
            Err(())
        }
    }
}

/// The stored bytes at argument 1 (looked up and type-checked before).
fn stored<'s>(s: &'s mut Server, c: &Ctx) -> &'s [u8] {
    match s.peek(c.db, &c.argv[1]) {
        Some(Value::Str(v)) => v.as_slice(),
        _ => &[],
    }
}

/// Parses the BIT|BYTE unit at argument `i`: true for BIT; `None` after
/// a syntax error.
fn unit_arg(c: &mut Ctx, i: usize) -> Option<bool> {
    if eq_ic(c.arg(i), "bit") {
        Some(true)
    } else if eq_ic(c.arg(i), "byte") {
        Some(false)
    } else {
        c.syntax_error();
        None
    }
}

/// The inclusive bit range that `start..=end` (bytes, or bits when
/// `is_bit`; negative counts from the end) selects in a string of `len`
/// bytes, as Redis clamps it; `None` when empty.
fn bit_range(start: i64, end: i64, len: usize, is_bit: bool) -> Option<(u64, u64)> {
    let total = if is_bit { (len as i64).saturating_mul(8) } else { len as i64 };
    let norm = |i: i64| if i < 0 { total.saturating_add(i).max(0) } else { i };
    let (start, end) = (norm(start), norm(end).min(total - 1));
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if is_bit { (start, end) } else { (start * 8, end * 8 + 7) })
}

/// The bits of byte `i` that lie within the bit range `first..=last`.
fn range_mask(i: usize, first: u64, last: u64) -> u8 {
    let lo = if i as u64 == first >> 3 { first & 7 } else { 0 };
    let hi = if i as u64 == last >> 3 { last & 7 } else { 7 };
    (0xFFu8 >> lo) & (0xFFu8 << (7 - hi))
}

/// Number of set bits in `bytes`.
fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 =
        words.by_ref().map(|w| u64::from(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones())).sum();
    n += words.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
    n
}

/// Number of set bits among bits `first..=last` of `v`.
fn count_bits(v: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let edge = |i: usize| u64::from((v[i] & range_mask(i, first, last)).count_ones());
    if fb == lb { edge(fb) } else { edge(fb) + popcount(&v[fb + 1..lb]) + edge(lb) }
}

/// Position of the first bit equal to `bit` among bits `first..=last` of `v`.
fn find_bit(v: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let skip = if bit { 0u8 } else { 0xFF };
    let mut i = fb;
    while i <= lb {
        let byte = if bit { v[i] } else { !v[i] };
        let found = byte & range_mask(i, first, last);
        if found != 0 {
            return Some(i as u64 * 8 + u64::from(found.leading_zeros()));
        }
        i += 1;
        // Whole bytes holding only the other bit value, a word at a time.
        if i < lb {
            let middle = &v[i..lb];
            let word = u64::from_ne_bytes([skip; 8]);
            let words =
                middle.chunks_exact(8).take_while(|w| u64::from_ne_bytes((*w).try_into().unwrap_or([0; 8])) == word);
            i += words.count() * 8;
            i += v[i..lb].iter().take_while(|&&b| b == skip).count();
        }
    }
    None
}

/// BITCOUNT key [start end [BYTE|BIT]]
pub fn bitcount(s: &mut Server, c: &mut Ctx) {
    let Ok(found) = read_len(s, c) else { return };
    let Some(len) = found else {
        c.out.int(0);
        return;
    };
    let argc = c.argc();
    let range = match argc {
        2 => (len > 0).then(|| (0, len as u64 * 8 - 1)),
        4 | 5 => {
            let Some(start) = int_arg(c, 2) else { return };
            let Some(end) = int_arg(c, 3) else { return };
            if start < 0 && end < 0 && start > end {
                c.out.int(0);
                return;
            }
            let is_bit = argc == 5 && {
                let Some(b) = unit_arg(c, 4) else { return };
                b
            };
            bit_range(start, end, len, is_bit)
        }
        _ => {
            c.syntax_error();
            return;
        }
    };
    let n = match range {
        Some((first, last)) => count_bits(stored(s, c), first, last),
        None => 0,
    };
    c.out.int(n as i64);
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
pub fn bitpos(s: &mut Server, c: &mut Ctx) {
    let Some(bit) = int_arg(c, 2) else { return };
    if bit != 0 && bit != 1 {
        c.out.err("ERR The bit argument must be 1 or 0.");
        return;
    }
    let bit = bit == 1;
    let Ok(found) = read_len(s, c) else { return };
    // A missing key is an endless run of zeros.
    let Some(len) = found else {
        c.out.int(if bit { -1 } else { 0 });
        return;
    };
    let argc = c.argc();
    let (range, end_given) = match argc {
        3 => ((len > 0).then(|| (0, len as u64 * 8 - 1)), false),
        4..=6 => {
            let Some(start) = int_arg(c, 3) else { return };
            let is_bit = argc == 6 && {
                let Some(b) = unit_arg(c, 5) else { return };
                b
            };
            let end = if argc >= 5 {
                let Some(end) = int_arg(c, 4) else { return };
                end
            } else {
                len as i64 - 1
            };
            (bit_range(start, end, len, is_bit), argc >= 5)
        }
        _ => {
            c.syntax_error();
            return;
        }
    };
    let Some((first, last)) = range else {
        c.out.int(-1);
        return;
    };
    let pos = match find_bit(stored(s, c), bit, first, last) {
        Some(p) => p as i64,
        // Looking for a clear bit without an explicit end: the string is
        // taken as padded with zeros on the right.
        None if !bit && !end_given => last as i64 + 1,
        None => -1,
    };
    c.out.int(pos);
}

/// The operations of BITOP.
#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
pub fn bitop(s: &mut Server, c: &mut Ctx) {
    let op = c.arg(1);
    let op = if eq_ic(op, "and") {
        BitOp::And
    } else if eq_ic(op, "or") {
        BitOp::Or
    } else if eq_ic(op, "xor") {
        BitOp::Xor
    } else if eq_ic(op, "not") {
        BitOp::Not
    } else {
        c.syntax_error();
        return;
    };
    if op == BitOp::Not && c.argc() != 4 {
        c.out.err("ERR BITOP NOT must be called with a single source key.");
        return;
    }
    // First pass: type checks and the longest source.
    let mut max_len = 0;
    for i in 3..c.argc() {
        match s.read(c.db, &c.argv[i]) {
            None => {}
            Some(Value::Str(v)) => max_len = max_len.max(v.len()),
            Some(_) => {
                c.wrongtype();
                return;
            }
        }
    }
    let dest = c.arg(2).to_vec();
    if max_len == 0 {
        if s.delete(c.db, &dest) {
            s.notify(GENERIC, "del", c.db, &dest);
            s.modified(c, c.db, &dest);
        }
        c.out.int(0);
        return;
    }
    let mut out = Vec::new();
    if !s.reserve_growth(mem::block(max_len)) || out.try_reserve_exact(max_len).is_err() {
        c.oom();
        return;
    }
    out.resize(max_len, 0);
    // Second pass: each source folded into the result, shorter ones
    // padded with zeros.
    for i in 3..c.argc() {
        let src = match s.peek(c.db, &c.argv[i]) {
            Some(Value::Str(v)) => v.as_slice(),
            _ => &[],
        };
        fold(&mut out, src, if i == 3 { None } else { Some(op) });
    }
    if op == BitOp::Not {
        out.iter_mut().for_each(|b| *b = !*b);
    }
    s.store(c.db, &dest, Value::Str(out), false);
    s.notify(STRING, "set", c.db, &dest);
    s.modified(c, c.db, &dest);
    c.out.int(max_len as i64);
}

/// Combines `src` (zero-padded to `acc`'s length) into `acc`: copies it for
/// the first source (`op` None).
fn fold(acc: &mut [u8], src: &[u8], op: Option<BitOp>) {
    let n = src.len().min(acc.len());
    let (within, beyond) = acc.split_at_mut(n);
    match op {
        None | Some(BitOp::Not) => within.copy_from_slice(&src[..n]),
        Some(BitOp::And) => {
            within.iter_mut().zip(src).for_each(|(a, b)| *a &= b);
            beyond.fill(0);
        }
        Some(BitOp::Or) => within.iter_mut().zip(src).for_each(|(a, b)| *a |= b),
        Some(BitOp::Xor) => within.iter_mut().zip(src).for_each(|(a, b)| *a ^= b),
    }
}
