//! BITFIELD and BITFIELD_RO: signed (i1..i64) and unsigned (u1..u63)
//! integers at arbitrary bit offsets of a string (`#N` offsets count in
//! units of the type's width), read with GET, written with SET and INCRBY
//! under the OVERFLOW WRAP|SAT|FAIL policy in force. The integer layout is
//! big-endian from bit 0, the most significant bit of the first byte, as
//! SETBIT numbers bits.

use alloc::vec::Vec;

use super::bitmap::{BAD_OFFSET, grow_for_bit};
use crate::notify::STRING;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::util::{eq_ic, parse_i64};

/// What an INCRBY or SET whose result does not fit does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Overflow {
    /// Keeps the low bits (two's complement for signed types).
    Wrap,
    /// Clamps to the type's minimum or maximum.
    Sat,
    /// Leaves the field unchanged and replies a null.
    Fail,
}

/// An integer type: signedness and width in bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Get,
    Set(i64),
    IncrBy(i64),
}

struct Op {
    kind: OpKind,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// Reads the `bits`-bit unsigned integer at bit `offset` of `v`; bits past
/// the end of `v` read as zero.
pub fn get_unsigned(v: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |acc, j| {
        let at = offset + j;
        let bit = v.get((at >> 3) as usize).is_some_and(|b| b & (0x80 >> (at & 7)) != 0);
        (acc << 1) | u64::from(bit)
    })
}

/// Reads the field of type `ty` at `offset`, sign-extended when signed.
pub fn get_field(v: &[u8], offset: u64, ty: FieldType) -> i64 {
    let raw = get_unsigned(v, offset, ty.bits);
    if ty.signed && ty.bits < 64 {
        let shift = 64 - ty.bits;
        ((raw << shift) as i64) >> shift
    } else {
        raw as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset` of `v` (which
/// must be long enough).
pub fn set_field(v: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let at = offset + j;
        let mask = 0x80u8 >> (at & 7);
        let byte = &mut v[(at >> 3) as usize];
        if value >> (u64::from(bits) - 1 - j) & 1 != 0 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// The result of storing `current + delta` (`current` being the field's
/// value, or for SET the new value with `delta` 0) into a field of type
/// `ty` under `overflow`: the value to store (as the field's bits read
/// back), or `None` for FAIL on overflow. Unsigned SET values are taken as
/// their 64-bit two's complement, as Redis does.
pub fn apply(ty: FieldType, current: i64, delta: i64, overflow: Overflow) -> Option<i64> {
    let bits = ty.bits;
    let fits: Result<i64, bool> = if ty.signed {
        let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
        let min = -max - 1;
        match current.checked_add(delta) {
            Some(sum) if sum > max => Err(true),
            Some(sum) if sum < min => Err(false),
            Some(sum) => Ok(sum),
            None => Err(delta > 0),
        }
    } else {
        let max = (1u64 << bits) - 1;
        let value = current as u64;
        if value > max {
            Err(true)
        } else {
            match value.checked_add_signed(delta) {
                Some(sum) if sum > max => Err(true),
                Some(sum) => Ok(sum as i64),
                None => Err(delta > 0),
            }
        }
    };
    match (fits, overflow) {
        (Ok(v), _) => Some(v),
        (Err(_), Overflow::Fail) => None,
        (Err(up), Overflow::Sat) => Some(match (ty.signed, up) {
            (true, true) if bits == 64 => i64::MAX,
            (true, true) => (1i64 << (bits - 1)) - 1,
            (true, false) if bits == 64 => i64::MIN,
            (true, false) => -(1i64 << (bits - 1)),
            (false, true) => ((1u64 << bits) - 1) as i64,
            (false, false) => 0,
        }),
        (Err(_), Overflow::Wrap) => {
            let sum = (current as u64).wrapping_add(delta as u64);
            let shift = 64 - bits;
            Some(if ty.signed { ((sum << shift) as i64) >> shift } else { ((sum << shift) >> shift) as i64 })
        }
    }
}

/// Parses a type argument like `i8` or `u16`.
fn parse_type(arg: &[u8]) -> Option<FieldType> {
    let (&sign, digits) = arg.split_first()?;
    let bits = parse_i64(digits)?;
    match sign {
        b'i' if (1..=64).contains(&bits) => Some(FieldType { signed: true, bits: bits as u32 }),
        b'u' if (1..=63).contains(&bits) => Some(FieldType { signed: false, bits: bits as u32 }),
        _ => None,
    }
}

/// Parses an offset argument: bits, or `#N` for N fields of `bits`.
fn parse_offset(arg: &[u8], bits: u32, max_bulk: usize) -> Option<u64> {
    let (units, n) = match arg.strip_prefix(b"#") {
        Some(n) => (u64::from(bits), n),
        None => (1, arg),
    };
    let offset = u64::try_from(parse_i64(n)?).ok()?.checked_mul(units)?;
    ((offset >> 3) < max_bulk as u64 && offset <= i64::MAX as u64).then_some(offset)
}

/// Parses the subcommands from argument 2 on; `None` after replying the
/// error.
fn parse_ops(s: &Server, c: &mut Ctx) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 2;
    while i < c.argc() {
        let remaining = c.argc() - i - 1;
        let sub = c.arg(i);
        let kind_args = if eq_ic(sub, "get") && remaining >= 2 {
            2
        } else if (eq_ic(sub, "set") || eq_ic(sub, "incrby")) && remaining >= 3 {
            3
        } else if eq_ic(sub, "overflow") && remaining >= 1 {
            let mode = c.arg(i + 1);
            overflow = if eq_ic(mode, "wrap") {
                Overflow::Wrap
            } else if eq_ic(mode, "sat") {
                Overflow::Sat
            } else if eq_ic(mode, "fail") {
                Overflow::Fail
            } else {
                c.out.err("ERR Invalid OVERFLOW type specified");
                return None;
            };
            i += 2;
            continue;
        } else {
            c.syntax_error();
            return None;
        };
        let Some(ty) = parse_type(c.arg(i + 1)) else {
            c.out.err(
                "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
            );
            return None;
        };
        let Some(offset) = parse_offset(c.arg(i + 2), ty.bits, s.cfg.proto_max_bulk_len) else {
            c.out.err(BAD_OFFSET);
            return None;
        };
        let kind = if kind_args == 2 {
            OpKind::Get
        } else {
            let n = super::int_arg(c, i + 3)?;
            if eq_ic(c.arg(i), "set") { OpKind::Set(n) } else { OpKind::IncrBy(n) }
        };
        ops.push(Op { kind, ty, offset, overflow });
        i += 1 + kind_args;
    }
    Some(ops)
}

pub fn bitfield(s: &mut Server, c: &mut Ctx) {
    bitfield_generic(s, c, false);
}

pub fn bitfield_ro(s: &mut Server, c: &mut Ctx) {
    bitfield_generic(s, c, true);
}

fn bitfield_generic(s: &mut Server, c: &mut Ctx, read_only: bool) {
    let Some(ops) = parse_ops(s, c) else { return };
    let highest_write =
        ops.iter().filter(|op| op.kind != OpKind::Get).map(|op| op.offset + u64::from(op.ty.bits) - 1).max();
    let Some(max_bit) = highest_write else {
        // Only GETs: a read, of a missing key as zeros.
        let bytes = match s.read(c.db, &c.argv[1]) {
            None => &[][..],
            Some(Value::Str(v)) => v.as_slice(),
            Some(_) => {
                c.wrongtype();
                return;
            }
        };
        c.out.array(ops.len());
        for op in &ops {
            c.out.int(get_field(bytes, op.offset, op.ty));
        }
        return;
    };
    if read_only {
        c.out.err("ERR BITFIELD_RO only supports the GET subcommand");
        return;
    }
    let key = c.arg(1).to_vec();
    if let Some(v) = s.peek(c.db, &key)
        && !matches!(v, Value::Str(_))
    {
        c.wrongtype();
        return;
    }
    let Some(grew) = grow_for_bit(s, c, &key, max_bit) else { return };
    let Some(mut value) = s.write(c.db, &key) else { return };
    let Value::Str(bytes) = &mut *value else { return };
    c.out.array(ops.len());
    let mut changes = 0;
    for op in &ops {
        let old = get_field(bytes, op.offset, op.ty);
        let (new, reply) = match op.kind {
            OpKind::Get => {
                c.out.int(old);
                continue;
            }
            OpKind::Set(v) => (apply(op.ty, v, 0, op.overflow), old),
            OpKind::IncrBy(by) => {
                let new = apply(op.ty, old, by, op.overflow);
                (new, new.unwrap_or(0))
            }
        };
        match new {
            Some(new) => {
                c.out.int(reply);
                set_field(bytes, op.offset, op.ty.bits, new as u64);
                if grew || new != old {
                    changes += 1;
                }
            }
            None => c.out.null(),
        }
    }
    drop(value);
    // Redis counts each changed field (and any field of a grown string).
    if changes > 0 {
        s.notify(STRING, "setbit", c.db, &key);
        s.modified(c, c.db, &key);
        c.dirty += changes - 1;
    }
}
