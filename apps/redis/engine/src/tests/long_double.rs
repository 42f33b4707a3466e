//! INCRBYFLOAT and HINCRBYFLOAT compute in x87 extended precision, as
//! Redis's `long double` on x86_64: every expected reply below was captured
//! from Debian's Redis 7.0.15 (`SET k A`, `INCRBYFLOAT k B`).

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;

/// (stored value, increment, Redis's reply: the new value, or its error).
const CASES: &[(&str, &str, &str)] = &[
    ("0.1", "0.2", "0.3"),
    ("10.5", "0.1", "10.6"),
    (
        "1e300",
        "0.1",
        "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144",
    ),
    ("-0", "-0", "0"),
    ("0.1", "-0.1", "0"),
    ("5.0e3", "2.0e-2", "5000.02000000000000002"),
    ("1.1", "2.2", "3.3"),
    ("0.3", "0.6", "0.9"),
    ("17179869184", "1.5", "17179869185.5"),
    ("1e-20", "1", "1"),
    ("3.141592653589793238462643383279", "0", "3.14159265358979324"),
    ("-1.5", "0.25", "-1.25"),
    ("0x1p-3", "0x.8", "0.625"),
    ("-0x10.8p-2", "1", "-3.125"),
    ("1.5e-4951", "0", "ERR value is not a valid float"),
    ("1e4932", "1e4932", "ERR increment would produce NaN or Infinity"),
    ("1e-4960", "1", "ERR value is not a valid float"),
    ("123456789012345678901234567890", "1", "123456789012345678899921813504"),
    ("9223372036854775807", "1", "9223372036854775808"),
    ("0.1", "1e-17", "0.10000000000000001"),
    ("2.5e-17", "0", "0.00000000000000002"),
    ("1.5e-17", "0", "0.00000000000000002"),
    ("inf", "1", "ERR increment would produce NaN or Infinity"),
    ("1", "nan", "ERR value is not a valid float"),
    ("1.", "2.", "3"),
    (".5", "1e", "ERR value is not a valid float"),
    (" 1", "1", "ERR value is not a valid float"),
    ("abc", "1", "ERR value is not a valid float"),
];

fn expected_reply(expected: &str, hash: bool) -> String {
    match expected.strip_prefix("ERR ") {
        // HINCRBYFLOAT words a bad stored value its own way.
        Some("value is not a valid float") if hash => "-ERR hash value is not a float\r\n".to_string(),
        Some(_) => format!("-{expected}\r\n"),
        None => format!("${}\r\n{expected}\r\n", expected.len()),
    }
}

#[test]
fn incrbyfloat_matches_redis_long_double_results() {
    let mut h = H::new();
    let c = h.client();
    for &(stored, by, expected) in CASES {
        h.cmd(c, &["SET", "k", stored]);
        assert_eq!(
            h.cmd(c, &["INCRBYFLOAT", "k", by]),
            expected_reply(expected, false),
            "SET k {stored:?}; INCRBYFLOAT k {by:?}"
        );
    }
}

#[test]
fn hincrbyfloat_matches_redis_long_double_results() {
    let mut h = H::new();
    let c = h.client();
    for &(stored, by, expected) in CASES {
        h.cmd(c, &["HSET", "h", "f", stored]);
        let got = h.cmd(c, &["HINCRBYFLOAT", "h", "f", by]);
        // An invalid increment is refused before the stored value is read.
        let want = match by {
            "nan" | "1e" => "-ERR value is not a valid float\r\n".to_string(),
            _ => expected_reply(expected, true),
        };
        assert_eq!(got, want, "HSET h f {stored:?}; HINCRBYFLOAT h f {by:?}");
    }
}

/// The reply is stored and propagated as the value itself.
#[test]
fn the_stored_value_is_the_reply() {
    let mut h = H::new();
    let c = h.client();
    h.cmd(c, &["SET", "k", "0.1"]);
    h.cmd(c, &["INCRBYFLOAT", "k", "0.2"]);
    assert_eq!(h.cmd(c, &["GET", "k"]), "$3\r\n0.3\r\n");
}
