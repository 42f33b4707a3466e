//! LCS: the longest common subsequence of two strings (Redis 7.0's
//! dynamic-programming table, with LEN, IDX, MINMATCHLEN and WITHMATCHLEN).
//!
//! The table takes `(len(a) + 1) * (len(b) + 1)` 32-bit cells: transient
//! memory chosen by the data, not the request. Like Redis it is refused
//! above `proto-max-bulk-len`; it must also fit under the heap's hard
//! ceiling (`Config::maxmemory_ceiling`) next to the dataset (it is not worth
//! evicting keys for), and it is allocated fallibly. A `maxmemory` set below
//! the ceiling does not bound it: Redis checks that only before a command.

use alloc::vec::Vec;

use crate::server::{Ctx, Server};
use crate::types::Value;
use crate::util::eq_ic;

const TOO_BIG: &str = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
const NO_MEMORY: &str = "ERR Insufficient memory, failed allocating transient memory for LCS";

/// One matching range: start and end in `a`, then in `b` (inclusive).
struct Range {
    a: (usize, usize),
    b: (usize, usize),
}

impl Range {
    fn len(&self) -> usize {
        self.a.1 - self.a.0 + 1
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN].
pub fn lcs(s: &mut Server, c: &mut Ctx) {
    for i in 1..=2 {
        if matches!(s.read(c.db, &c.argv[i]), Some(v) if !matches!(v, Value::Str(_))) {
            c.out.err("ERR The specified keys must contain string values");
            return;
        }
    }
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0usize);
    let mut j = 3;
    while j < c.argc() {
        let opt = c.arg(j);
        if eq_ic(opt, "idx") {
            getidx = true;
        } else if eq_ic(opt, "len") {
            getlen = true;
        } else if eq_ic(opt, "withmatchlen") {
            withmatchlen = true;
        } else if eq_ic(opt, "minmatchlen") && j + 1 < c.argc() {
            let Some(n) = super::int_arg(c, j + 1) else { return };
            minmatchlen = usize::try_from(n).unwrap_or(0);
            j += 1;
        } else {
            c.syntax_error();
            return;
        }
        j += 1;
    }
    if getlen && getidx {
        c.out.err("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let d = &s.dbs[c.db];
    let string = |k: &[u8]| match d.get(k).map(|e| &e.value) {
        Some(Value::Str(v)) => v.as_slice(),
        _ => &[],
    };
    let (a, b) = (string(c.arg(1)), string(c.arg(2)));
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        c.out.err("ERR String too long for LCS");
        return;
    }
    let cells = (a.len() + 1).saturating_mul(b.len() + 1);
    let bytes = cells.saturating_mul(4);
    if bytes > s.cfg.proto_max_bulk_len {
        c.out.err(TOO_BIG);
        return;
    }
    let ceiling = s.cfg.maxmemory_ceiling;
    let mut table: Vec<u32> = Vec::new();
    if (ceiling > 0 && s.eviction_memory().saturating_add(crate::mem::block(bytes)) > ceiling)
        || table.try_reserve_exact(cells).is_err()
    {
        c.out.err(NO_MEMORY);
        return;
    }
    table.resize(cells, 0);
    let w = b.len() + 1;
    // table[i * w + j]: the LCS length of a[..i] and b[..j].
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[a.len() * w + b.len()] as usize;
    if getlen {
        c.out.int(total as i64);
        return;
    }
    // Walk back from the end, collecting the LCS and its matching ranges
    // (Redis's order: from the end of the strings).
    let mut result = alloc::vec![0u8; total];
    let mut ranges: Vec<Range> = Vec::new();
    let mut current: Option<Range> = None;
    let (mut i, mut j, mut idx) = (a.len(), b.len(), total);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            match &mut current {
                None => current = Some(Range { a: (i - 1, i - 1), b: (j - 1, j - 1) }),
                // Extend the range backwards while it stays contiguous.
                Some(r) if r.a.0 == i && r.b.0 == j => {
                    r.a.0 -= 1;
                    r.b.0 -= 1;
                }
                Some(_) => emit = true,
            }
            if current.as_ref().is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = current.is_some();
        }
        if emit
            && let Some(r) = current.take()
            && getidx
            && r.len() >= minmatchlen
        {
            ranges.push(r);
        }
    }
    drop(table);
    if !getidx {
        c.out.bulk(&result);
        return;
    }
    c.out.map(2);
    c.out.bulk(b"matches");
    c.out.array(ranges.len());
    for r in &ranges {
        c.out.array(2 + usize::from(withmatchlen));
        for (start, end) in [r.a, r.b] {
            c.out.array(2);
            c.out.int(start as i64);
            c.out.int(end as i64);
        }
        if withmatchlen {
            c.out.int(r.len() as i64);
        }
    }
    c.out.bulk(b"len");
    c.out.int(total as i64);
}
