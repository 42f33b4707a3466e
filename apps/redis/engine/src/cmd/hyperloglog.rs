//! HyperLogLog commands: PFADD, PFCOUNT (one key, with the cardinality
//! cached in the value's header, or the union of several), PFMERGE,
//! PFSELFTEST and PFDEBUG. The values are strings in Redis 7.0's exact
//! layout (`types::hll`); a string that is not one is refused with Redis's
//! WRONGTYPE message, and one whose sparse opcodes do not decode with
//! INVALIDOBJ.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::mem;
use crate::notify::STRING;
use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::types::hll::{self, Encoding};
use crate::util::eq_ic;

/// The `hll-sparse-max-bytes` setting.
fn sparse_max(s: &Server) -> usize {
    usize::try_from(s.cfg.tuning_value("hll-sparse-max-bytes")).unwrap_or(usize::MAX)
}

/// The HyperLogLog at argument `i`: `Ok(None)` when missing, `Ok(Some)`
/// with its encoding and capacity, `Err` after replying WRONGTYPE (another
/// type, or a string that is not a HyperLogLog).
fn lookup(s: &mut Server, c: &mut Ctx, i: usize, read: bool) -> Result<Option<(Encoding, usize)>, ()> {
    let value = if read { s.read(c.db, &c.argv[i]) } else { s.peek(c.db, &c.argv[i]) };
    match value {
        None => Ok(None),
        Some(Value::Str(v)) => match hll::encoding(v) {
            Some(e) => Ok(Some((e, v.capacity()))),
            None => {
                c.out.err(hll::NOT_HLL_ERR);
                Err(())
            }
        },
        Some(_) => {
            c.wrongtype();
            Err(())
        }
    }
}

/// The memory check before a HyperLogLog with `capacity` bytes allocated
/// grows to at most `bound` bytes; replies -OOM when refused.
fn reserve(s: &mut Server, c: &mut Ctx, capacity: usize, bound: usize) -> bool {
    let ok = s.reserve_growth(mem::block(bound).saturating_sub(mem::block(capacity)));
    if !ok {
        c.oom();
    }
    ok
}

/// The longest a HyperLogLog becomes when it may turn dense: a dense one,
/// or a sparse one of at most `sparse_max` bytes.
fn any_encoding_bound(sparse_max: usize) -> usize {
    hll::DENSE_LEN.max(sparse_max.min(hll::MAX_SPARSE_LEN) + hll::MAX_SPLIT_GROWTH)
}

/// Runs `f` on the stored bytes of the string at `key` (looked up and
/// checked before).
fn with_bytes<R>(s: &mut Server, db: usize, key: &[u8], f: impl FnOnce(&mut Vec<u8>) -> R) -> Option<R> {
    let mut value = s.write(db, key)?;
    match &mut *value {
        Value::Str(v) => Some(f(v)),
        _ => None,
    }
}

/// PFADD key [element ...]
pub fn pfadd(s: &mut Server, c: &mut Ctx) {
    let Ok(found) = lookup(s, c, 1, false) else { return };
    let max = sparse_max(s);
    let patterns: Vec<(usize, u8)> = c.argv[2..].iter().map(|e| hll::pattern(e)).collect();
    let (len, capacity) = match (found, s.peek(c.db, &c.argv[1])) {
        (Some(_), Some(Value::Str(v))) => (v.len(), v.capacity()),
        _ => (hll::new_sparse().len(), 0),
    };
    // The value stays sparse and short unless a register needs more than a
    // sparse opcode holds or the opcodes could pass `hll-sparse-max-bytes`.
    let sparse_growth = len + hll::MAX_SPLIT_GROWTH * patterns.len();
    let bound = if found.is_some_and(|(e, _)| e == Encoding::Dense) {
        hll::DENSE_LEN
    } else if sparse_growth <= max && patterns.iter().all(|&(_, n)| n <= hll::SPARSE_VAL_MAX_VALUE) {
        sparse_growth
    } else {
        any_encoding_bound(max)
    };
    if !reserve(s, c, capacity, bound) {
        return;
    }
    let key = c.arg(1).to_vec();
    let mut updated = 0u64;
    if s.peek(c.db, &key).is_none() {
        s.store(c.db, &key, Value::Str(hll::new_sparse()), false);
        updated += 1;
    }
    let added = with_bytes(s, c.db, &key, |v| {
        let mut changed = 0u64;
        for &(index, count) in &patterns {
            changed += u64::from(hll::raise(v, index, count, max)?);
        }
        if changed > 0 {
            hll::invalidate_cache(v);
        }
        Ok::<_, hll::Corrupt>(changed)
    });
    match added {
        Some(Ok(n)) => updated += n,
        _ => {
            c.out.err(hll::CORRUPT_ERR);
            return;
        }
    }
    if updated > 0 {
        s.modified(c, c.db, &key);
        s.notify(STRING, "pfadd", c.db, &key);
        c.dirty += updated - 1;
    }
    c.out.int(i64::from(updated > 0));
}

/// Folds the HyperLogLogs at arguments `from..` into `registers` (one byte
/// per register); missing keys count as empty. Whether any of them is
/// dense; `Err` after replying the error.
fn merge_args(s: &mut Server, c: &mut Ctx, from: usize, registers: &mut [u8]) -> Result<bool, ()> {
    let mut any_dense = false;
    for i in from..c.argc() {
        let Some((encoding, _)) = lookup(s, c, i, true)? else { continue };
        any_dense |= encoding == Encoding::Dense;
        let merged = match s.peek(c.db, &c.argv[i]) {
            Some(Value::Str(v)) => hll::merge_into(registers, v),
            _ => Ok(()),
        };
        if merged.is_err() {
            c.out.err(hll::CORRUPT_ERR);
            return Err(());
        }
    }
    Ok(any_dense)
}

/// PFCOUNT key [key ...]
pub fn pfcount(s: &mut Server, c: &mut Ctx) {
    if c.argc() > 2 {
        let mut registers = vec![0u8; hll::REGISTERS];
        if merge_args(s, c, 1, &mut registers).is_err() {
            return;
        }
        c.out.int(hll::count_registers(&registers) as i64);
        return;
    }
    let key = c.arg(1).to_vec();
    let Ok(found) = lookup(s, c, 1, true) else { return };
    if found.is_none() {
        c.out.int(0);
        return;
    }
    let Some(Value::Str(v)) = s.peek(c.db, &key) else { return };
    if let Some(card) = hll::cached_count(v) {
        c.out.int(card as i64);
        return;
    }
    let Ok(card) = hll::count(v) else {
        c.out.err(hll::CORRUPT_ERR);
        return;
    };
    // Caching the count changes the value: propagated like a write.
    with_bytes(s, c.db, &key, |v| hll::set_cached_count(v, card));
    s.modified(c, c.db, &key);
    if c.keep_argv {
        c.propagate_as(vec![c.argv.clone()]);
    }
    c.out.int(card as i64);
}

/// PFMERGE destkey [sourcekey ...]
pub fn pfmerge(s: &mut Server, c: &mut Ctx) {
    let mut registers = vec![0u8; hll::REGISTERS];
    // The destination is one of the inputs, so it is checked too.
    let Ok(any_dense) = merge_args(s, c, 1, &mut registers) else { return };
    let key = c.arg(1).to_vec();
    let max = sparse_max(s);
    let capacity = match s.peek(c.db, &key) {
        Some(Value::Str(v)) => v.capacity(),
        _ => 0,
    };
    if !reserve(s, c, capacity, any_encoding_bound(max)) {
        return;
    }
    if s.peek(c.db, &key).is_none() {
        s.store(c.db, &key, Value::Str(hll::new_sparse()), false);
    }
    let written = with_bytes(s, c.db, &key, |v| {
        if any_dense {
            hll::to_dense(v)?;
        }
        for (index, &count) in registers.iter().enumerate().filter(|(_, n)| **n > 0) {
            // Redis ignores a failure here: the inputs were checked.
            let _ = hll::raise(v, index, count, max);
        }
        hll::invalidate_cache(v);
        Ok::<_, hll::Corrupt>(())
    });
    if !matches!(written, Some(Ok(()))) {
        c.out.err(hll::CORRUPT_ERR);
        return;
    }
    s.modified(c, c.db, &key);
    s.notify(STRING, "pfadd", c.db, &key);
    c.out.ok();
}

/// PFSELFTEST: Redis's self-test of the register packing and of the
/// estimate's error, on dense and sparse HyperLogLogs at once.
pub fn pfselftest(s: &mut Server, c: &mut Ctx) {
    let (max, elements) = (sparse_max(s), s.cfg.pfselftest_elements);
    let result = selftest(|| s.rng.next_u64(), max, elements);
    match result {
        Ok(()) => c.out.ok(),
        Err(msg) => c.out.err(&format!("ERR TESTFAILED {msg}")),
    }
}

/// The checks of PFSELFTEST, with `random` as the source of randomness,
/// adding `elements` elements (Redis: 10 000 000) after one round over the
/// registers per 10 000 of them: the failure's description when one fails.
pub fn selftest(
    mut random: impl FnMut() -> u64,
    sparse_max: usize,
    elements: u64,
) -> Result<(), alloc::string::String> {
    // Registers read back what was written, neighbours untouched.
    let mut dense = vec![0u8; hll::DENSE_LEN - hll::HEADER_LEN];
    let mut expected = vec![0u8; hll::REGISTERS];
    for _ in 0..(elements / 10_000).max(1) {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = (random() & 63) as u8;
            hll::dense_put(&mut dense, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = hll::dense_get(&dense, i);
            if got != e {
                return Err(format!("Register {i} should be {e} but is {got}"));
            }
        }
    }
    // The error stays within six standard errors, dense and sparse agree.
    let mut dense = hll::new_sparse();
    hll::to_dense(&mut dense).map_err(|_| "corrupt")?;
    let mut sparse = hll::new_sparse();
    let relative_error = 1.04 / libm::sqrt(hll::REGISTERS as f64);
    let seed = random();
    let mut checkpoint = 1u64;
    for j in 1..=elements {
        let element = (j ^ seed).to_le_bytes();
        let _ = hll::add(&mut dense, &element, sparse_max);
        let _ = hll::add(&mut sparse, &element, sparse_max);
        if j != checkpoint {
            continue;
        }
        if j < (sparse_max / 2) as u64 && hll::encoding(&sparse) != Some(Encoding::Sparse) {
            return Err("sparse encoding not used".into());
        }
        let card = hll::count(&dense).map_err(|_| "corrupt")?;
        if hll::count(&sparse) != Ok(card) {
            return Err("dense/sparse disagree".into());
        }
        let error = checkpoint.abs_diff(card);
        let max_error = if j == 10 { 1 } else { libm::ceil(relative_error * 6.0 * checkpoint as f64) as u64 };
        if error > max_error {
            return Err(format!("Too big error. card:{checkpoint} abserr:{error}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(s: &mut Server, c: &mut Ctx) {
    let key = c.arg(2).to_vec();
    let Ok(found) = lookup(s, c, 2, false) else { return };
    let Some((encoding, capacity)) = found else {
        c.out.err("ERR The specified key does not exist");
        return;
    };
    let sub = c.arg(1).to_vec();
    if eq_ic(&sub, "getreg") || eq_ic(&sub, "todense") {
        let convert = encoding == Encoding::Sparse;
        if convert {
            if !reserve(s, c, capacity, hll::DENSE_LEN) {
                return;
            }
            if with_bytes(s, c.db, &key, hll::to_dense) != Some(Ok(())) {
                c.out.err(hll::CORRUPT_ERR);
                return;
            }
            // Propagated, so replicas change encoding too.
            s.modified(c, c.db, &key);
        }
        if eq_ic(&sub, "todense") {
            c.out.int(i64::from(convert));
            return;
        }
        let Some(Value::Str(v)) = s.peek(c.db, &key) else { return };
        c.out.array(hll::REGISTERS);
        for i in 0..hll::REGISTERS {
            c.out.int(i64::from(hll::dense_get(&v[hll::HEADER_LEN..], i)));
        }
    } else if eq_ic(&sub, "decode") {
        if encoding != Encoding::Sparse {
            c.out.err("ERR HLL encoding is not sparse");
            return;
        }
        let Some(Value::Str(v)) = s.peek(c.db, &key) else { return };
        c.out.bulk(&hll::decode(v));
    } else if eq_ic(&sub, "encoding") {
        c.out.simple(if encoding == Encoding::Dense { b"dense" } else { b"sparse" });
    } else {
        c.out.err(&format!("ERR Unknown PFDEBUG subcommand '{}'", super::text(&sub)));
    }
}
