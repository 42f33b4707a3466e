//! SORT and SORT_RO (Redis 7.0's `sortCommandGeneric`): the elements of a
//! list, set or sorted set, sorted numerically or ALPHA (byte order, as
//! Redis in the C locale), by themselves or by `BY` pattern keys, with
//! LIMIT, GET patterns (`#`, `key*`, `key*->field`) and STORE into a list.

use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::server::{Ctx, Server};
use crate::types::{List, Value};
use crate::util::{eq_ic, parse_f64, parse_i64};

/// The value `pattern` names for `elem`: `#` is the element itself; the
/// first `*` is replaced by the element; `->field` after it reads a hash
/// field. `None` for a missing key or field, another type, or a pattern
/// without `*`.
fn lookup_by_pattern(s: &mut Server, db: usize, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after.windows(2).position(|w| w == b"->").filter(|&i| i + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(i) => (&after[..i], Some(&after[i + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    match (s.peek(db, &key)?, field) {
        (Value::Str(v), None) => Some(v.clone()),
        (Value::Hash(h), Some(f)) => h.get(f).cloned(),
        _ => None,
    }
}

struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The BY value of an ALPHA sort by pattern.
    by: Option<Vec<u8>>,
}

pub fn sort(s: &mut Server, c: &mut Ctx) {
    sort_generic(s, c, false);
}

pub fn sort_ro(s: &mut Server, c: &mut Ctx) {
    sort_generic(s, c, true);
}

fn sort_generic(s: &mut Server, c: &mut Ctx, readonly: bool) {
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut sortby: Option<Vec<u8>> = None;
    let mut store: Option<Vec<u8>> = None;
    let mut gets: Vec<Vec<u8>> = Vec::new();
    let mut j = 2;
    while j < c.argc() {
        let left = c.argc() - j - 1;
        let opt = c.arg(j);
        if eq_ic(opt, "asc") {
            desc = false;
        } else if eq_ic(opt, "desc") {
            desc = true;
        } else if eq_ic(opt, "alpha") {
            alpha = true;
        } else if eq_ic(opt, "limit") && left >= 2 {
            let (Some(a), Some(b)) = (parse_i64(c.arg(j + 1)), parse_i64(c.arg(j + 2))) else {
                c.not_integer();
                return;
            };
            (limit_start, limit_count) = (a, b);
            j += 2;
        } else if !readonly && eq_ic(opt, "store") && left >= 1 {
            store = Some(c.arg(j + 1).to_vec());
            j += 1;
        } else if eq_ic(opt, "by") && left >= 1 {
            let p = c.arg(j + 1).to_vec();
            if !p.contains(&b'*') {
                dontsort = true;
            }
            sortby = Some(p);
            j += 1;
        } else if eq_ic(opt, "get") && left >= 1 {
            gets.push(c.arg(j + 1).to_vec());
            j += 1;
        } else {
            c.syntax_error();
            return;
        }
        j += 1;
    }
    let key = c.arg(1).to_vec();
    let kind = match s.read(c.db, &key) {
        None | Some(Value::List(_)) => 0,
        Some(Value::Set(_)) => 1,
        Some(Value::ZSet(_)) => 2,
        Some(_) => {
            c.wrongtype();
            return;
        }
    };
    // A set has no order of its own: stored results are sorted ALPHA.
    if dontsort && kind == 1 && store.is_some() {
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let len = match s.peek(c.db, &key) {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(x)) => x.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    let mut start = limit_start.clamp(0, len);
    let count = limit_count.clamp(-1, len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    // Load the elements; lists and sorted sets that need no sorting load
    // just the LIMIT range, in their own order (reversed by DESC).
    let ranged = dontsort && kind != 1;
    let elems: Vec<Vec<u8>> = match s.peek(c.db, &key) {
        Some(Value::List(l)) if ranged => {
            let n = if end >= start { (end - start + 1) as usize } else { 0 };
            if desc {
                l.iter().rev().skip(start as usize).take(n).cloned().collect()
            } else {
                l.iter().skip(start as usize).take(n).cloned().collect()
            }
        }
        Some(Value::ZSet(z)) if ranged => {
            if end >= start {
                z.range_by_rank(start as usize, end as usize, desc).into_iter().map(|(_, m)| m.to_vec()).collect()
            } else {
                Vec::new()
            }
        }
        Some(Value::List(l)) => l.iter().cloned().collect(),
        Some(Value::Set(x)) => x.iter().map(|m| m.to_vec()).collect(),
        Some(Value::ZSet(z)) => z.iter().map(|(_, m)| m.to_vec()).collect(),
        _ => Vec::new(),
    };
    if ranged {
        end -= start;
        start = 0;
    }
    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, by: None }).collect();
    if !dontsort {
        let mut conversion_error = false;
        for it in items.iter_mut() {
            let byval = match &sortby {
                Some(p) => match lookup_by_pattern(s, c.db, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    it.by = Some(byval);
                }
            } else {
                match parse_f64(&byval) {
                    Some(v) => it.score = v,
                    None => conversion_error = true,
                }
            }
        }
        if conversion_error {
            c.out.err("ERR One or more scores can't be converted into double");
            return;
        }
        let by_pattern = sortby.is_some();
        items.sort_by(|a, b| {
            let ord = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                match (&a.by, &b.by) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc { ord.reverse() } else { ord }
        });
    }
    let range: &[Item] = if end >= start { items.get(start as usize..=end as usize).unwrap_or(&[]) } else { &[] };
    let per_item = gets.len().max(1);
    match store {
        None => {
            c.out.array(range.len() * per_item);
            for it in range {
                if c.out.overflowed() {
                    break;
                }
                if gets.is_empty() {
                    c.out.bulk(&it.elem);
                }
                for g in &gets {
                    match lookup_by_pattern(s, c.db, g, &it.elem) {
                        Some(v) => c.out.bulk(&v),
                        None => c.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut out: Vec<Vec<u8>> = Vec::new();
            // Bytes collected in `out`, and how many of them were checked.
            let (mut bytes, mut checked) = (0usize, 0usize);
            for it in range {
                if gets.is_empty() {
                    bytes += it.elem.len();
                    out.push(it.elem.clone());
                }
                for g in &gets {
                    let v = lookup_by_pattern(s, c.db, g, &it.elem).unwrap_or_default();
                    bytes += v.len();
                    out.push(v);
                }
                // GET patterns can multiply the data: check as it grows,
                // all of it (none is in the dataset yet).
                if bytes - checked > 1 << 20 {
                    if !s.reserve_growth(bytes) {
                        c.oom();
                        return;
                    }
                    checked = bytes;
                }
            }
            let n = out.len();
            if n > 0 {
                if !s.exists(c.db, &dst) && !s.reserve_new_key(c.db) {
                    c.oom();
                    return;
                }
                let mut l = List::new();
                for v in out {
                    l.push(false, v);
                }
                s.store(c.db, &dst, Value::List(l.into()), false);
                s.modified(c, c.db, &dst);
                c.dirty += n as u64 - 1;
            } else if s.delete(c.db, &dst) {
                s.modified(c, c.db, &dst);
            }
            c.out.int(n as i64);
        }
    }
}
