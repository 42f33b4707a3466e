//! Correctly rounded `sin`, `cos` and `asin` for the geo distances, so
//! they agree with Redis's (glibc's, which rounds correctly in all but
//! rare cases) instead of differing in the last bit about once in fifty
//! calls like a plain `libm` port. Each is evaluated in double-double
//! arithmetic (about 106 bits) and rounded once; arguments far outside
//! what the geo code passes fall back to `libm`.

/// An unevaluated sum `hi + lo` with `|lo| <= ulp(hi) / 2`.
#[derive(Clone, Copy, Debug)]
struct Dd {
    hi: f64,
    lo: f64,
}

/// π/2 as three doubles (about 160 bits).
const PIO2_1: f64 = f64::from_bits(0x3ff9_21fb_5444_2d18);
const PIO2_2: f64 = f64::from_bits(0x3c91_a626_3314_5c07);
const PIO2_3: f64 = f64::from_bits(0xb91f_1976_b7ed_8fbc);

/// Largest argument reduced here (a few thousand quadrants: `k * π/2`
/// stays exact enough with a three-part π/2).
const MAX_REDUCED: f64 = 1.0e4;

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd { hi: s, lo: (a - (s - bb)) + (b - bb) }
}

fn quick_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd { hi: s, lo: b - (s - a) }
}

/// Dekker's split of a double into two 26-bit halves.
fn split(a: f64) -> (f64, f64) {
    let t = 134_217_729.0 * a;
    let hi = t - (t - a);
    (hi, a - hi)
}

/// The exact product `a * b` as a double-double.
fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    Dd { hi: p, lo: ((ah * bh - p) + ah * bl + al * bh) + al * bl }
}

impl Dd {
    fn from(v: f64) -> Dd {
        Dd { hi: v, lo: 0.0 }
    }
    fn add(self, y: Dd) -> Dd {
        let s = two_sum(self.hi, y.hi);
        let t = two_sum(self.lo, y.lo);
        let r = quick_two_sum(s.hi, s.lo + t.hi);
        quick_two_sum(r.hi, r.lo + t.lo)
    }
    fn neg(self) -> Dd {
        Dd { hi: -self.hi, lo: -self.lo }
    }
    fn sub(self, y: Dd) -> Dd {
        self.add(y.neg())
    }
    fn mul(self, y: Dd) -> Dd {
        let p = two_prod(self.hi, y.hi);
        quick_two_sum(p.hi, p.lo + (self.hi * y.lo + self.lo * y.hi))
    }
    fn mul_f(self, b: f64) -> Dd {
        let p = two_prod(self.hi, b);
        quick_two_sum(p.hi, p.lo + self.lo * b)
    }
    fn div(self, y: Dd) -> Dd {
        let q1 = self.hi / y.hi;
        let r = self.sub(y.mul_f(q1));
        let q2 = r.hi / y.hi;
        let r = r.sub(y.mul_f(q2));
        let q3 = r.hi / y.hi;
        quick_two_sum(q1, q2).add(Dd::from(q3))
    }
    /// Division by a double: two quotient terms (about 104 bits).
    fn div_f(self, b: f64) -> Dd {
        let q1 = self.hi / b;
        let p = two_prod(q1, b);
        let r = ((self.hi - p.hi) - p.lo) + self.lo;
        quick_two_sum(q1, r / b)
    }
    /// The value rounded to the nearest double.
    fn round(self) -> f64 {
        self.hi + self.lo
    }
}

/// `sqrt(v)` to double-double precision (one Newton correction of the
/// correctly rounded square root).
fn sqrt_dd(v: f64) -> Dd {
    let s = libm::sqrt(v);
    if s == 0.0 {
        return Dd::from(s);
    }
    let sq = two_prod(s, s);
    let rest = Dd::from(v).sub(sq);
    quick_two_sum(s, rest.hi / (2.0 * s))
}

/// Sums a Taylor series `first + first * r2 / (d(n)) + ...` (each term
/// the previous one times `-r2 / ((n + 1)(n + 2))`) until its terms
/// vanish at 106 bits.
fn taylor(first: Dd, r2: Dd, mut n: f64) -> Dd {
    let (mut sum, mut term) = (first, first);
    let scale = first.hi.abs().max(f64::MIN_POSITIVE);
    while term.hi.abs() > 1e-36 * scale {
        term = term.mul(r2).div_f(-(n + 1.0) * (n + 2.0));
        sum = sum.add(term);
        n += 2.0;
    }
    sum
}

/// sin of a reduced argument (|r| <= π/4 or a little more).
fn sin_reduced(r: Dd) -> Dd {
    taylor(r, r.mul(r), 1.0)
}

/// cos of a reduced argument.
fn cos_reduced(r: Dd) -> Dd {
    taylor(Dd::from(1.0), r.mul(r), 0.0)
}

/// `x` reduced by the nearest multiple `k` of π/2: (r, k mod 4).
fn reduce(x: f64) -> (Dd, u32) {
    let k = libm::rint(x / PIO2_1);
    let r = Dd::from(x).sub(two_prod(k, PIO2_1)).sub(two_prod(k, PIO2_2)).sub(Dd::from(k * PIO2_3));
    (r, (k as i64).rem_euclid(4) as u32)
}

/// sin(x) (`want_cos` false) or cos(x) in double-double: cos(x) is
/// sin(x + π/2), one quadrant on.
fn sin_or_cos_dd(x: f64, want_cos: bool) -> Dd {
    let (r, quadrant) = reduce(x);
    match (quadrant + u32::from(want_cos)) % 4 {
        0 => sin_reduced(r),
        1 => cos_reduced(r),
        2 => sin_reduced(r).neg(),
        _ => cos_reduced(r).neg(),
    }
}

fn in_range(x: f64) -> bool {
    x.abs() <= MAX_REDUCED
}

/// sin(x), correctly rounded (but for vanishingly rare hard cases).
pub fn sin(x: f64) -> f64 {
    if !in_range(x) || x == 0.0 {
        return libm::sin(x);
    }
    sin_or_cos_dd(x, false).round()
}

/// cos(x), correctly rounded (but for vanishingly rare hard cases).
pub fn cos(x: f64) -> f64 {
    if !in_range(x) {
        return libm::cos(x);
    }
    sin_or_cos_dd(x, true).round()
}

/// asin of a double-double in [-0.5, 0.5]: one Newton step on sin from
/// libm's estimate doubles its precision.
fn asin_small(v: Dd) -> Dd {
    let y0 = libm::asin(v.hi);
    let (s, c) = (sin_or_cos_dd(y0, false), sin_or_cos_dd(y0, true));
    Dd::from(y0).add(v.sub(s).div(c))
}

/// asin(x), correctly rounded (but for vanishingly rare hard cases).
pub fn asin(x: f64) -> f64 {
    if !(-1.0..=1.0).contains(&x) || x == 0.0 {
        return libm::asin(x);
    }
    let a = x.abs();
    let y = if a <= 0.5 {
        asin_small(Dd::from(a))
    } else {
        // asin(a) = π/2 - 2 asin(sqrt((1 - a) / 2)); 1 - a is exact here.
        let t = asin_small(sqrt_dd((1.0 - a) / 2.0));
        quick_two_sum(PIO2_1, PIO2_2).sub(t.mul_f(2.0))
    };
    let r = y.round();
    if x < 0.0 { -r } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Arguments where a plain libm port is off by one bit, with their
    /// correctly rounded results (from a 300-bit reference).
    const ROUNDED: &[(&str, f64, f64)] = &[
        ("asin", -0.8668335684942101, -1.0488161501900504),
        ("sin", 2.42389776509485, 0.65764992563806),
        ("sin", -0.8241253460349305, -0.7339539988100514),
        ("sin", 0.7836783216933831, 0.7058896242949707),
        ("asin", 0.7932812592043494, 0.9161794602976966),
        ("asin", -0.8281698772632109, -0.9758344689753004),
        ("sin", -2.0538422903514304, -0.885584247695158),
        ("cos", -0.8036850898220962, 0.6940584631070515),
        ("cos", -2.416224212638374, -0.7482550449143542),
        ("cos", -2.5291574800270045, -0.8182505572464583),
        ("asin", 0.8988683661906762, 1.1171802872109573),
        ("cos", 2.415912194268947, -0.7480480120211201),
    ];

    #[test]
    fn correctly_rounded_where_libm_is_not() {
        for &(f, x, want) in ROUNDED {
            let got = match f {
                "sin" => sin(x),
                "cos" => cos(x),
                _ => asin(x),
            };
            assert_eq!(got.to_bits(), want.to_bits(), "{f}({x})");
        }
    }

    #[test]
    fn exact_cases() {
        assert_eq!(sin(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(sin(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(cos(0.0), 1.0);
        assert_eq!(asin(1.0), PIO2_1);
        assert_eq!(asin(-1.0), -PIO2_1);
        assert!(asin(1.5).is_nan());
    }

    proptest! {
        /// Within one ulp of libm everywhere the geo code calls them.
        #[test]
        fn within_an_ulp_of_libm(x in -4.0f64..4.0, a in -1.0f64..=1.0) {
            let close = |p: f64, q: f64| p == q || (p.to_bits() as i64 - q.to_bits() as i64).abs() <= 1;
            prop_assert!(close(sin(x), libm::sin(x)), "sin {}", x);
            prop_assert!(close(cos(x), libm::cos(x)), "cos {}", x);
            prop_assert!(close(asin(a), libm::asin(a)), "asin {}", a);
        }
    }
}
