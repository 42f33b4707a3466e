//! Number parsing and formatting with Redis's exact rules (`string2ll`,
//! `strtod` checks, `%.17g`), plus the PRNG. INCRBYFLOAT's long-double
//! arithmetic and output are in [`crate::longdouble`].

use alloc::vec::Vec;
use core::fmt::Write;

/// Strict integer parsing like Redis's `string2ll`: no spaces, no `+`, no
/// leading zeros, no `-0`, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a double like Redis's `string2d`: the whole string must be a
/// number, no leading space, no NaN, no overflow to infinity, no underflow.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let first = *s.first()?;
    if first.is_ascii_whitespace() || first == 0x0b {
        return None;
    }
    let text = core::str::from_utf8(s).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    let first_alpha = unsigned.as_bytes().first().is_some_and(|c| c.is_ascii_alphabetic());
    if v.is_infinite() && !first_alpha {
        return None; // overflow (ERANGE)
    }
    if v == 0.0 {
        let mantissa = unsigned.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c)) {
            return None; // underflow (ERANGE)
        }
    }
    Some(v)
}

/// A small fixed buffer implementing `fmt::Write`, to format numbers
/// without allocating.
pub struct StackBuf {
    buf: [u8; 400],
    len: usize,
}

impl StackBuf {
    pub fn new() -> StackBuf {
        StackBuf { buf: [0; 400], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for StackBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let bytes = s.as_bytes();
        let end = self.len.checked_add(bytes.len()).ok_or(core::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// Appends the decimal form of `v`.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Decimal form of `v` as a new vector.
pub fn i64_bytes(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    push_i64(&mut out, v);
    out
}

/// Appends `v` formatted like C's `printf("%.17g")`, with Redis's
/// "inf"/"-inf" spelling for infinities.
pub fn push_double_g17(out: &mut Vec<u8>, v: f64) {
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    let mut sb = StackBuf::new();
    // 17 significant digits in scientific form, correctly rounded.
    if write!(sb, "{:.16e}", v).is_err() {
        return;
    }
    let text = sb.as_bytes();
    let (negative, text) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let epos = text.iter().position(|&c| c == b'e').unwrap_or(text.len());
    let mut digits: Vec<u8> = text[..epos].iter().copied().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 =
        core::str::from_utf8(text.get(epos + 1..).unwrap_or(b"0")).ok().and_then(|e| e.parse().ok()).unwrap_or(0);
    if negative {
        out.push(b'-');
    }
    // %g removes trailing zeros from the significant digits.
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        push_i64(out, i64::from(e));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        for i in 0..int_len {
            out.push(*digits.get(i).unwrap_or(&b'0'));
        }
        if digits.len() > int_len {
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(&digits);
    }
}

/// `%.17g` form of `v` as a new vector.
pub fn double_bytes(v: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    push_double_g17(&mut out, v);
    out
}

/// A small deterministic PRNG (splitmix64), seeded by the embedder.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0; returns 0 for `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// ASCII case-insensitive equality, for option names.
pub fn eq_ic(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> alloc::string::String {
        alloc::string::String::from_utf8(double_bytes(v)).unwrap()
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"1 "), None);
        assert_eq!(parse_i64(b""), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"99999999999999999999999"), None);
    }

    #[test]
    fn strtod_rules() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"0e-400"), Some(0.0));
        assert_eq!(parse_f64(b"abc"), None);
        assert_eq!(parse_f64(b""), None);
    }

    #[test]
    fn percent_17g() {
        assert_eq!(g(1.0), "1");
        assert_eq!(g(-2.0), "-2");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1.1), "1.1000000000000001");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1.0000000000000001e-05");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(123456789.0), "123456789");
        assert_eq!(g(1.0e100), "1e+100");
        assert_eq!(g(-1.5e-7), "-1.4999999999999999e-07");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
    }
}
