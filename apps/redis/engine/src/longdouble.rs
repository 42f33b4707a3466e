//! INCRBYFLOAT's and HINCRBYFLOAT's arithmetic: Redis computes them in C's
//! `long double`, which on x86_64 (Debian's Redis, the reference) is the
//! x87 80-bit extended format: a 64-bit significand, exponents down to
//! subnormals at 2^-16445. Its extra precision is why `0.1 + 0.2` gives
//! `0.3` in Redis where a `double` gives `0.30000000000000004`. This module
//! does that arithmetic in software, so the replies are Redis's on every
//! architecture:
//!
//! - [`parse`] reads a number as Redis's `string2ld` (`strtold`, the whole
//!   string, no leading space, no NaN, no overflow, no underflow to zero),
//!   correctly rounded (round half to even), decimal notation and
//!   `inf`/`infinity`.
//! - [`LongDouble::plus`] is the correctly rounded sum.
//! - [`LongDouble::to_human`] prints as Redis's `ld2string(LD_STR_HUMAN)`:
//!   `%.17Lf` (exact binary value rounded to 17 decimals), trailing zeros
//!   and a trailing dot removed.
//!
//! Exact values are held in a small arbitrary-precision integer ([`Big`]);
//! the numbers involved stay within a few thousand bits.

use alloc::vec;
use alloc::vec::Vec;

/// Significand bits of the x87 extended format.
const MANT_BITS: i32 = 64;
/// Exponent of the least significant bit of the smallest subnormal.
const MIN_LSB: i32 = -16445;
/// Largest exponent of a finite value's most significant bit.
const MAX_MSB: i32 = 16383;
/// Longest string `string2ld` accepts (Redis's `MAX_LONG_DOUBLE_CHARS`).
const MAX_CHARS: usize = 5 * 1024;

/// An x87 extended-precision value: `(-1)^neg × mant × 2^exp` when finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Finite { mant: u64, exp: i32 },
    Infinite,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble { neg: false, kind: Kind::Finite { mant: 0, exp: 0 } };

    pub fn is_finite(&self) -> bool {
        matches!(self.kind, Kind::Finite { .. })
    }

    /// `self + other`, correctly rounded; infinities add as IEEE says
    /// (`None` for `inf + -inf`, which is NaN).
    pub fn plus(self, other: LongDouble) -> Option<LongDouble> {
        let (a, b) = match (self.kind, other.kind) {
            (Kind::Infinite, Kind::Infinite) if self.neg != other.neg => return None,
            (Kind::Infinite, _) => return Some(self),
            (_, Kind::Infinite) => return Some(other),
            (Kind::Finite { mant: am, exp: ae }, Kind::Finite { mant: bm, exp: be }) => ((am, ae), (bm, be)),
        };
        if a.0 == 0 && b.0 == 0 {
            // +0 unless both are -0 (round to nearest).
            return Some(LongDouble { neg: self.neg && other.neg, kind: Kind::Finite { mant: 0, exp: 0 } });
        }
        let e = a.1.min(b.1);
        let x = Big::from_u64(a.0).shl((a.1 - e) as u32);
        let y = Big::from_u64(b.0).shl((b.1 - e) as u32);
        let (neg, sum) = if self.neg == other.neg {
            (self.neg, x.add(&y))
        } else if x >= y {
            (self.neg, x.sub(&y))
        } else {
            (other.neg, y.sub(&x))
        };
        if sum.is_zero() {
            return Some(LongDouble::ZERO);
        }
        Some(round(neg, &sum, e, false))
    }

    /// The value as Redis prints it (`ld2string` in human mode).
    pub fn to_human(self) -> Vec<u8> {
        let mut out = Vec::new();
        let (mant, exp) = match self.kind {
            Kind::Infinite => return if self.neg { b"-inf".to_vec() } else { b"inf".to_vec() },
            Kind::Finite { mant, exp } => (mant, exp),
        };
        let (int, frac17) = if exp >= 0 {
            (Big::from_u64(mant).shl(exp as u32), 0u64)
        } else {
            let shift = (-exp) as u32;
            let m = Big::from_u64(mant);
            let int = m.shr(shift);
            let frac = m.sub(&int.shl(shift));
            // 17 decimals of the fraction, rounded half to even.
            let scaled = frac.mul_small(100_000_000).mul_small(1_000_000_000);
            let q = scaled.shr(shift);
            let rem = scaled.sub(&q.shl(shift));
            let twice = rem.shl(1);
            let half = Big::from_u64(1).shl(shift);
            let mut q = q.to_u64();
            if twice > half || (twice == half && q % 2 == 1) {
                q += 1;
            }
            if q == 100_000_000_000_000_000 { (int.add(&Big::from_u64(1)), 0) } else { (int, q) }
        };
        if self.neg {
            out.push(b'-');
        }
        out.extend_from_slice(&int.to_decimal());
        let digits = alloc::format!("{frac17:017}");
        let digits = digits.trim_end_matches('0');
        if !digits.is_empty() {
            out.push(b'.');
            out.extend_from_slice(digits.as_bytes());
        }
        if out == b"-0" {
            out = b"0".to_vec();
        }
        out
    }
}

/// Parses `s` as Redis's `string2ld`; `None` where Redis answers "not a
/// valid float". Hexadecimal floats (which `strtold` also reads) are not
/// accepted.
pub fn parse(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_CHARS {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(LongDouble { neg, kind: Kind::Infinite });
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return parse_hex(neg, &body[2..]);
    }
    // digits [. digits] [(e|E) [sign] digits]
    let mut i = 0;
    let mut digits = Vec::new();
    let mut frac_digits: i64 = 0;
    let mut seen_digit = false;
    while i < body.len() && body[i].is_ascii_digit() {
        digits.push(body[i] - b'0');
        seen_digit = true;
        i += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            digits.push(body[i] - b'0');
            frac_digits += 1;
            seen_digit = true;
            i += 1;
        }
    }
    if !seen_digit {
        return None;
    }
    let mut exp10: i64 = 0;
    if i < body.len() && (body[i] | 0x20) == b'e' {
        exp10 = parse_exponent(body, &mut i)?;
    }
    if i != body.len() {
        return None;
    }
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(LongDouble { neg, kind: Kind::Finite { mant: 0, exp: 0 } });
    };
    let digits = &digits[first..];
    let exp10 = exp10 - frac_digits;
    // The value is about 10^(magnitude - 1): far outside the format's
    // range it over- or underflows (both invalid for string2ld).
    let magnitude = exp10 + digits.len() as i64;
    if magnitude > 4934 {
        return None;
    }
    if magnitude < -4952 {
        return None;
    }
    let mut n = Big::zero();
    for chunk in digits.chunks(9) {
        let mut v = 0u32;
        for &d in chunk {
            v = v * 10 + u32::from(d);
        }
        n = n.mul_small(10u32.pow(chunk.len() as u32)).add(&Big::from_u64(u64::from(v)));
    }
    let value = if exp10 >= 0 {
        round(neg, &n.mul_pow10(exp10 as u32), 0, false)
    } else {
        // n / 10^k with enough quotient bits for a correctly rounded
        // 64-bit significand, the remainder kept as a sticky bit.
        let d = Big::from_u64(1).mul_pow10((-exp10) as u32);
        let shift = (MANT_BITS + 3 + d.bits() as i32 - n.bits() as i32).max(0) as u32;
        let (q, rem) = n.shl(shift).div_rem(&d);
        round(neg, &q, -(shift as i32), !rem.is_zero())
    };
    match value.kind {
        Kind::Infinite => None,
        Kind::Finite { mant: 0, .. } => None,
        Kind::Finite { .. } => Some(value),
    }
}

/// A hexadecimal float after `0x`: hex digits [. hex digits] [(p|P)
/// [sign] decimal exponent of 2]. Exact in binary, so only its length can
/// round it.
fn parse_hex(neg: bool, body: &[u8]) -> Option<LongDouble> {
    let mut n = Big::zero();
    let mut e2: i64 = 0;
    let mut seen_digit = false;
    let mut i = 0;
    let mut in_fraction = false;
    while i < body.len() {
        let b = body[i];
        if b == b'.' && !in_fraction {
            in_fraction = true;
        } else if let Some(d) = (b as char).to_digit(16) {
            seen_digit = true;
            // Digits past the format's reach only matter as sticky bits,
            // which an exact significand this long never needs: cap the size.
            if n.bits() < 20_000 {
                n = n.mul_small(16).add(&Big::from_u64(u64::from(d)));
                if in_fraction {
                    e2 -= 4;
                }
            } else if !in_fraction {
                e2 += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    if i < body.len() && (body[i] | 0x20) == b'p' {
        e2 += parse_exponent(body, &mut i)?;
    }
    if i != body.len() {
        return None;
    }
    if n.is_zero() {
        return Some(LongDouble { neg, kind: Kind::Finite { mant: 0, exp: 0 } });
    }
    let msb = e2 + i64::from(n.bits()) - 1;
    if msb > i64::from(MAX_MSB) || msb < i64::from(MIN_LSB) - 2 {
        return None;
    }
    let value = round(neg, &n, e2 as i32, false);
    match value.kind {
        Kind::Finite { mant, .. } if mant != 0 => Some(value),
        _ => None,
    }
}

/// The exponent after the `e` or `p` at `body[*i]`: [sign] decimal digits,
/// saturated (anything that large over- or underflows anyway). Moves `*i`
/// past it; `None` without digits.
fn parse_exponent(body: &[u8], i: &mut usize) -> Option<i64> {
    *i += 1;
    let neg = match body.get(*i) {
        Some(b'-') => true,
        Some(b'+') => false,
        _ => {
            *i -= 1;
            false
        }
    };
    *i += 1;
    let start = *i;
    let mut exp: i64 = 0;
    while *i < body.len() && body[*i].is_ascii_digit() {
        exp = (exp * 10 + i64::from(body[*i] - b'0')).min(1 << 40);
        *i += 1;
    }
    if *i == start {
        return None;
    }
    Some(if neg { -exp } else { exp })
}

/// Rounds `n × 2^e` (plus a nonzero amount below its last bit when
/// `sticky`) to the extended format, half to even; infinite on overflow.
fn round(neg: bool, n: &Big, e: i32, sticky: bool) -> LongDouble {
    if n.is_zero() {
        return LongDouble { neg, kind: Kind::Finite { mant: 0, exp: 0 } };
    }
    let msb = e + n.bits() as i32 - 1;
    let mut lsb = (msb - (MANT_BITS - 1)).max(MIN_LSB);
    let shift = lsb - e;
    let mut mant = if shift <= 0 {
        debug_assert!(!sticky, "sticky bits below an exact significand");
        n.shl((-shift) as u32).to_u64()
    } else {
        let shift = shift as u32;
        let q = n.shr(shift);
        let guard = n.bit(shift - 1);
        let rest = sticky || n.any_below(shift - 1);
        let mut q = q.to_u128();
        if guard && (rest || q & 1 == 1) {
            q += 1;
        }
        if q >> MANT_BITS != 0 {
            q >>= 1;
            lsb += 1;
        }
        q as u64
    };
    if mant != 0 && lsb + (MANT_BITS - 1) - mant.leading_zeros() as i32 > MAX_MSB {
        return LongDouble { neg, kind: Kind::Infinite };
    }
    if mant == 0 {
        lsb = 0;
        mant = 0;
    }
    LongDouble { neg, kind: Kind::Finite { mant, exp: lsb } }
}

/// A nonnegative integer, little-endian 32-bit limbs, no leading zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

impl Big {
    fn zero() -> Big {
        Big(Vec::new())
    }

    fn from_u64(v: u64) -> Big {
        Big(vec![v as u32, (v >> 32) as u32]).trimmed()
    }

    fn trimmed(mut self) -> Big {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        self
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> u32 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u32 - 1) * 32 + (32 - top.leading_zeros()),
        }
    }

    fn bit(&self, i: u32) -> bool {
        self.0.get((i / 32) as usize).is_some_and(|&l| l >> (i % 32) & 1 == 1)
    }

    /// Whether any bit below bit `i` is set.
    fn any_below(&self, i: u32) -> bool {
        let whole = (i / 32) as usize;
        self.0.iter().take(whole).any(|&l| l != 0)
            || (!i.is_multiple_of(32) && self.0.get(whole).is_some_and(|&l| l & ((1u32 << (i % 32)) - 1) != 0))
    }

    /// The low 64 bits.
    fn to_u64(&self) -> u64 {
        self.to_u128() as u64
    }

    /// The low 128 bits.
    fn to_u128(&self) -> u128 {
        self.0.iter().take(4).enumerate().fold(0u128, |acc, (i, &l)| acc | (u128::from(l) << (32 * i)))
    }

    fn shl(&self, n: u32) -> Big {
        if self.is_zero() {
            return Big::zero();
        }
        let (limbs, bits) = ((n / 32) as usize, n % 32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &l in &self.0 {
            if bits == 0 {
                out.push(l);
            } else {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        out.push(carry);
        Big(out).trimmed()
    }

    fn shr(&self, n: u32) -> Big {
        let (limbs, bits) = ((n / 32) as usize, n % 32);
        if limbs >= self.0.len() {
            return Big::zero();
        }
        let src = &self.0[limbs..];
        let out = (0..src.len())
            .map(|i| {
                let hi = src.get(i + 1).copied().unwrap_or(0);
                if bits == 0 { src[i] } else { (src[i] >> bits) | (hi << (32 - bits)) }
            })
            .collect();
        Big(out).trimmed()
    }

    fn add(&self, other: &Big) -> Big {
        let (long, short) = if self.0.len() >= other.0.len() { (self, other) } else { (other, self) };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = 0u64;
        for (i, &l) in long.0.iter().enumerate() {
            let sum = u64::from(l) + u64::from(short.0.get(i).copied().unwrap_or(0)) + carry;
            out.push(sum as u32);
            carry = sum >> 32;
        }
        out.push(carry as u32);
        Big(out).trimmed()
    }

    /// `self - other`; `other` must not be larger.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for (i, &l) in self.0.iter().enumerate() {
            let mut d = i64::from(l) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(d < 0);
            if d < 0 {
                d += 1 << 32;
            }
            out.push(d as u32);
        }
        debug_assert_eq!(borrow, 0, "Big::sub underflow");
        Big(out).trimmed()
    }

    fn mul_small(&self, m: u32) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = 0u64;
        for &l in &self.0 {
            let p = u64::from(l) * u64::from(m) + carry;
            out.push(p as u32);
            carry = p >> 32;
        }
        out.push(carry as u32);
        Big(out).trimmed()
    }

    fn mul_pow10(&self, mut k: u32) -> Big {
        let mut n = self.clone();
        while k >= 9 {
            n = n.mul_small(1_000_000_000);
            k -= 9;
        }
        n.mul_small(10u32.pow(k))
    }

    /// Quotient and remainder (binary long division; the quotients needed
    /// here have under 70 bits).
    fn div_rem(&self, d: &Big) -> (Big, Big) {
        if self < d {
            return (Big::zero(), self.clone());
        }
        let mut rem = self.clone();
        let mut q = Big::zero();
        let mut i = self.bits() - d.bits();
        loop {
            let shifted = d.shl(i);
            if rem >= shifted {
                rem = rem.sub(&shifted);
                q = q.add(&Big::from_u64(1).shl(i));
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
        (q, rem)
    }

    /// Divides in place by `d`, returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem as u32
    }

    fn to_decimal(&self) -> Vec<u8> {
        if self.is_zero() {
            return b"0".to_vec();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut out = alloc::format!("{}", chunks.pop().unwrap_or(0)).into_bytes();
        for c in chunks.iter().rev() {
            out.extend_from_slice(alloc::format!("{c:09}").as_bytes());
        }
        out
    }
}
