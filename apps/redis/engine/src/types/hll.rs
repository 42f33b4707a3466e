//! HyperLogLog values, byte for byte as Redis 7.0 stores them in a string:
//! a 16-byte header (`HYLL`, the encoding, three unused bytes, the cached
//! cardinality as 8 little-endian bytes whose top bit says "stale"), then
//! 16384 registers of 6 bits, either dense (packed from each byte's least
//! significant bit) or sparse (ZERO, XZERO and VAL run-length opcodes).
//! Elements are hashed with MurmurHash64A and Redis's seed; cardinality is
//! Ertl's estimator over the register histogram, as Redis 7.0 computes it.
//! So a value written by real Redis reads the same here, and vice versa.
//! The PF* commands (`cmd::hyperloglog`) work on these bytes.

use alloc::vec;
use alloc::vec::Vec;

/// log2 of the number of registers.
const P: u32 = 14;
/// Registers per HyperLogLog.
pub const REGISTERS: usize = 1 << P;
/// Hash bits left once the register index is taken.
const Q: usize = 64 - P as usize;
/// Bytes of the header.
pub const HEADER_LEN: usize = 16;
/// Bytes of a dense HyperLogLog, header included.
pub const DENSE_LEN: usize = HEADER_LEN + (REGISTERS * 6).div_ceil(8);
/// Largest register value a sparse VAL opcode holds.
pub const SPARSE_VAL_MAX_VALUE: u8 = 32;
/// Longest a valid sparse HyperLogLog can be: every opcode covers at
/// least one register per byte.
pub const MAX_SPARSE_LEN: usize = HEADER_LEN + REGISTERS;
/// Most bytes one register update adds to a sparse HyperLogLog (an XZERO
/// split into XZERO, VAL, XZERO).
pub const MAX_SPLIT_GROWTH: usize = 3;
/// Longest run of one VAL, ZERO and XZERO opcode.
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// The header's encoding byte.
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// Where the encoding byte and the cached cardinality are.
const ENCODING_AT: usize = 4;
const CARD_AT: usize = 8;
/// Redis's seed for MurmurHash64A.
const HASH_SEED: u64 = 0xadc8_3b19;
/// 0.5 / ln(2), the estimator's constant for an unbounded register count.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Redis's reply for a structure that does not decode.
pub const CORRUPT_ERR: &str = "INVALIDOBJ Corrupted HLL object detected";
/// Redis's reply for a string that is not a HyperLogLog.
pub const NOT_HLL_ERR: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

/// How the registers are stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Encoding {
    Dense,
    Sparse,
}

/// The sparse opcodes do not describe exactly 16384 registers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version, reading 8-byte blocks little-endian (as
/// Redis's endian-neutral variant does).
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in blocks.by_ref() {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^ (h >> R)
}

/// The register `element` maps to and the length of its hash's `0...01`
/// pattern (1..=51), the value that register must at least hold.
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HyperLogLog: sparse, one XZERO run over every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = vec![0u8; HEADER_LEN];
    v[..4].copy_from_slice(b"HYLL");
    v[ENCODING_AT] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(run));
        left -= run;
    }
    v
}

/// The encoding of `v` if it is a HyperLogLog as Redis checks it (header,
/// magic, known encoding, a dense one's exact length); `None` otherwise.
pub fn encoding(v: &[u8]) -> Option<Encoding> {
    if v.len() < HEADER_LEN || &v[..4] != b"HYLL" {
        return None;
    }
    match v[ENCODING_AT] {
        DENSE if v.len() == DENSE_LEN => Some(Encoding::Dense),
        SPARSE => Some(Encoding::Sparse),
        _ => None,
    }
}

/// The cached cardinality, unless it is marked stale.
pub fn cached_count(v: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(v[CARD_AT..HEADER_LEN].try_into().unwrap_or([0xFF; 8]));
    (card >> 63 == 0).then_some(card)
}

/// Caches `card` in the header.
pub fn set_cached_count(v: &mut [u8], card: u64) {
    v[CARD_AT..HEADER_LEN].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(v: &mut [u8]) {
    v[HEADER_LEN - 1] |= 0x80;
}

// ----- dense registers ------------------------------------------------------

/// Register `i` of the dense register bytes `r`.
pub fn dense_get(r: &[u8], i: usize) -> u8 {
    let (byte, shift) = (i * 6 / 8, (i * 6) & 7);
    let b0 = u16::from(r[byte]);
    let b1 = u16::from(r.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & 63) as u8
}

/// Sets register `i` of the dense register bytes `r` to `value` (< 64).
pub fn dense_put(r: &mut [u8], i: usize, value: u8) {
    let (byte, shift) = (i * 6 / 8, (i * 6) & 7);
    let v = u16::from(value);
    r[byte] = (u16::from(r[byte]) & !(63 << shift) | (v << shift)) as u8;
    if let Some(b) = r.get_mut(byte + 1) {
        *b = (u16::from(*b) & !(63 >> (8 - shift)) | (v >> (8 - shift))) as u8;
    }
}

/// Raises register `i` of `r` to `count`; whether it was lower.
fn dense_raise(r: &mut [u8], i: usize, count: u8) -> bool {
    let raise = dense_get(r, i) < count;
    if raise {
        dense_put(r, i, count);
    }
    raise
}

/// Calls `f` with each register value of the dense register bytes, in
/// order (four registers per three bytes).
fn each_dense(r: &[u8], mut f: impl FnMut(usize, u8)) {
    for (k, b) in r.chunks_exact(3).enumerate() {
        let (b0, b1, b2) = (b[0], b[1], b[2]);
        f(4 * k, b0 & 63);
        f(4 * k + 1, (b0 >> 6 | b1 << 2) & 63);
        f(4 * k + 2, (b1 >> 4 | b2 << 4) & 63);
        f(4 * k + 3, b2 >> 2);
    }
}

// ----- sparse opcodes -------------------------------------------------------

fn is_xzero(op: u8) -> bool {
    op & 0xC0 == 0x40
}

fn is_zero(op: u8) -> bool {
    op & 0xC0 == 0
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1F) + 1
}

fn val_len(op: u8) -> usize {
    usize::from(op & 3) + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    0x80 | (value - 1) << 2 | (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, (l & 0xFF) as u8]
}

/// One sparse opcode: a run of zero registers (ZERO, one byte; XZERO, two)
/// or of registers with one value (VAL).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Run {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Run {
    /// Decodes the opcode at `p` of `v` (a byte past the end reads as 0,
    /// like the terminator Redis's strings carry); with its length in bytes.
    fn at(v: &[u8], p: usize) -> (Run, usize) {
        let op = v[p];
        if is_zero(op) {
            (Run::Zero(usize::from(op & 0x3F) + 1), 1)
        } else if is_xzero(op) {
            let low = usize::from(v.get(p + 1).copied().unwrap_or(0));
            (Run::XZero((usize::from(op & 0x3F) << 8 | low) + 1), 2)
        } else {
            (Run::Val(val_value(op), val_len(op)), 1)
        }
    }

    pub fn registers(self) -> usize {
        match self {
            Run::Zero(n) | Run::XZero(n) | Run::Val(_, n) => n,
        }
    }

    fn value(self) -> u8 {
        match self {
            Run::Val(v, _) => v,
            _ => 0,
        }
    }
}

/// The runs of a sparse HyperLogLog `v`, with the first register of each;
/// `Err` if they do not cover exactly the 16384 registers (checked as they
/// go, so no run is reported past the last register).
pub fn sparse_runs(v: &[u8], mut f: impl FnMut(usize, Run)) -> Result<(), Corrupt> {
    let mut p = HEADER_LEN;
    let mut first = 0;
    while p < v.len() {
        let (run, bytes) = Run::at(v, p);
        if first + run.registers() > REGISTERS {
            return Err(Corrupt);
        }
        f(first, run);
        first += run.registers();
        p += bytes;
    }
    if first == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

// ----- updates --------------------------------------------------------------

/// Converts `v` to the dense encoding (nothing to do when it is dense).
pub fn to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[ENCODING_AT] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&v[..HEADER_LEN]);
    dense[ENCODING_AT] = DENSE;
    let registers = &mut dense[HEADER_LEN..];
    sparse_runs(v, |first, run| {
        if let Run::Val(value, len) = run {
            (first..first + len).for_each(|i| dense_put(registers, i, value));
        }
    })?;
    *v = dense;
    Ok(())
}

/// Adds `element` to the HyperLogLog `v` (dense or sparse; a sparse one
/// longer than `sparse_max` bytes, or needing a register above 32, turns
/// dense). Whether a register changed; `Err` when `v` is corrupt.
pub fn add(v: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    raise(v, index, count, sparse_max)
}

/// Raises register `index` of `v` to `count` if it is lower; whether it was.
pub fn raise(v: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if v[ENCODING_AT] == DENSE {
        return Ok(dense_raise(&mut v[HEADER_LEN..], index, count));
    }
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    sparse_raise(v, index, count, sparse_max)
}

/// Turns `v` dense, then raises the register.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    Ok(dense_raise(&mut v[HEADER_LEN..], index, count))
}

/// [`raise`] on a sparse `v`, editing its opcodes in place as Redis does
/// (so the bytes match Redis's): the run holding the register is split
/// into at most three opcodes, then equal adjacent VALs are merged.
fn sparse_raise(v: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    // Find the opcode covering `index`.
    let mut p = HEADER_LEN;
    let mut first = 0;
    let mut prev = None;
    let mut found = None;
    while p < v.len() {
        let (run, bytes) = Run::at(v, p);
        if index < first + run.registers() {
            found = Some((run, bytes));
            break;
        }
        prev = Some(p);
        p += bytes;
        first += run.registers();
    }
    let Some((run, bytes)) = found else { return Err(Corrupt) };
    if p + bytes > v.len() {
        return Err(Corrupt);
    }
    let last = first + run.registers() - 1;
    match run {
        Run::Val(old, _) if old >= count => return Ok(false),
        Run::Val(_, 1) | Run::Zero(1) => v[p] = val_op(count, 1),
        _ => {
            // The run split around the register: before, it, after.
            let mut seq = [0u8; 5];
            let mut n = 0;
            if index != first {
                n += put_run(&mut seq[n..], run, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                n += put_run(&mut seq[n..], run, last - index);
            }
            if n > bytes && v.len() + (n - bytes) > sparse_max {
                return promote(v, index, count);
            }
            if n > bytes {
                v.reserve_exact(n - bytes);
            }
            v.splice(p..p + bytes, seq[..n].iter().copied());
        }
    }
    merge_vals(v, prev.unwrap_or(HEADER_LEN));
    invalidate_cache(v);
    Ok(true)
}

/// Writes at the start of `out` the opcode for `len` registers of the run
/// `run` being split (its value, or zeros); returns its size.
fn put_run(out: &mut [u8], run: Run, len: usize) -> usize {
    match run {
        Run::Val(value, _) => {
            out[0] = val_op(value, len);
            1
        }
        _ if len > SPARSE_ZERO_MAX_LEN => {
            out[..2].copy_from_slice(&xzero_op(len));
            2
        }
        _ => {
            out[0] = (len - 1) as u8;
            1
        }
    }
}

/// Merges equal adjacent VAL opcodes (up to the longest VAL run), looking
/// at five opcodes from `p`, as Redis does after an update.
fn merge_vals(v: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let op = v[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if let Some(&next) = v.get(p + 1)
            && is_val(next)
            && val_value(op) == val_value(next)
        {
            let len = val_len(op) + val_len(next);
            if len <= SPARSE_VAL_MAX_LEN {
                v[p + 1] = val_op(val_value(op), len);
                v.remove(p);
                continue;
            }
        }
        p += 1;
    }
}

// ----- counting and merging -------------------------------------------------

/// Folds the HyperLogLog `v` into `max` (one byte per register): each
/// register becomes the larger of the two.
pub fn merge_into(max: &mut [u8], v: &[u8]) -> Result<(), Corrupt> {
    if v[ENCODING_AT] == DENSE {
        each_dense(&v[HEADER_LEN..], |i, r| max[i] = max[i].max(r));
        return Ok(());
    }
    sparse_runs(v, |first, run| {
        if let Run::Val(value, len) = run {
            max[first..first + len].iter_mut().for_each(|m| *m = (*m).max(value));
        }
    })
}

/// The cardinality estimate of the HyperLogLog `v`.
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let mut histogram = [0u32; 64];
    if v[ENCODING_AT] == DENSE {
        each_dense(&v[HEADER_LEN..], |_, r| histogram[usize::from(r)] += 1);
    } else {
        sparse_runs(v, |_, run| histogram[usize::from(run.value())] += run.registers() as u32)?;
    }
    Ok(estimate(&histogram))
}

/// The cardinality estimate of registers held one per byte (a merge).
pub fn count_registers(registers: &[u8]) -> u64 {
    let mut histogram = [0u32; 64];
    registers.iter().for_each(|&r| histogram[usize::from(r & 63)] += 1);
    estimate(&histogram)
}

/// Ertl's improved estimator ("New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284) over the register histogram,
/// with Redis 7.0's arithmetic.
fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for &h in histogram[1..=Q].iter().rev() {
        z += f64::from(h);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    libm::round(ALPHA_INF * m * m / z) as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = libm::sqrt(x);
        let before = z;
        y *= 0.5;
        z -= libm::pow(1.0 - x, 2.0) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// PFDEBUG DECODE's text of a sparse HyperLogLog: `z:LEN`, `Z:LEN` and
/// `v:VALUE,LEN` per opcode.
pub fn decode(v: &[u8]) -> Vec<u8> {
    let mut out = alloc::string::String::new();
    let mut p = HEADER_LEN;
    while p < v.len() {
        let (run, bytes) = Run::at(v, p);
        let text = match run {
            Run::Zero(n) => alloc::format!("z:{n} "),
            Run::XZero(n) => alloc::format!("Z:{n} "),
            Run::Val(value, n) => alloc::format!("v:{value},{n} "),
        };
        out.push_str(&text);
        p += bytes;
    }
    out.trim_end_matches(' ').as_bytes().to_vec()
}
