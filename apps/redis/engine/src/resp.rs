//! RESP wire format: the streaming request parser (multibulk and inline
//! commands, with Redis 7's protocol errors) and the reply writer
//! (RESP2 and RESP3 encodings of every reply type).

use alloc::vec::Vec;

use crate::util::push_double_g17;

/// Longest inline command or multibulk/bulk header line (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;
/// Largest up-front allocation for a bulk argument whose bytes have not
/// arrived yet; it grows as they arrive (so a header alone reserves little).
const BULK_PREALLOC_MAX: usize = 16 * 1024;
/// Largest up-front allocation of argument slots for a multibulk request;
/// more are added as arguments arrive.
const ARGV_PREALLOC_MAX: usize = 16;
/// Arguments up to this size are allocated directly (infallibly: an
/// allocator that cannot give this much fails everywhere); bigger ones
/// grow fallibly.
const SMALL_ARG: usize = 4096;
/// Bytes counted for one argument besides its payload (its `Vec` header).
pub const ARG_OVERHEAD: usize = core::mem::size_of::<Vec<u8>>();

/// Malformed input; the connection is closed after the error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMultibulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    ExpectedDollar(u8),
    TooBigBulkCount,
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The error text after "-ERR " (no CRLF).
    pub fn message(&self) -> Vec<u8> {
        let text: &[u8] = match self {
            ProtocolError::TooBigInline => b"Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => b"Protocol error: unbalanced quotes in request",
            ProtocolError::TooBigMultibulkCount => b"Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => b"Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => b"Protocol error: unauthenticated multibulk length",
            ProtocolError::ExpectedDollar(c) => {
                let mut v = b"Protocol error: expected '$', got '".to_vec();
                v.push(*c);
                v.push(b'\'');
                return v;
            }
            ProtocolError::TooBigBulkCount => b"Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => b"Protocol error: invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => b"Protocol error: unauthenticated bulk length",
        };
        text.to_vec()
    }
}

/// Per-call limits the parser enforces.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub max_bulk_len: usize,
    /// Unauthenticated clients may only send small requests (like Redis).
    pub authenticated: bool,
    /// `client-query-buffer-limit`: bound on what the request being parsed
    /// holds ([`RequestParser::pending_bytes`]), plus the input not parsed
    /// yet when `input_buffered`; beyond it the parser answers
    /// [`Step::Overflow`]. It is checked whenever a bulk grows past 4 KiB
    /// and for every argument past the 16th, so a request may pass it by
    /// at most its first 16 small arguments (about 64 KiB).
    pub max_query: usize,
    /// Whether the input given to `parse` is held in the client's buffer
    /// (rather than borrowed from the caller), so its unparsed part counts
    /// against `max_query`.
    pub input_buffered: bool,
    /// What the request may hold before the client's memory passes
    /// `maxmemory-clients` (`usize::MAX`: no such limit). A bulk grows
    /// geometrically up to it but only by an eighth at a time beyond it, so
    /// one growth step cannot allocate far past the client memory limit
    /// before the client is evicted.
    pub mem_budget: usize,
}

impl ParseLimits {
    /// What `n` unparsed input bytes count against `max_query`.
    fn unparsed(&self, n: usize) -> usize {
        if self.input_buffered { n } else { 0 }
    }
}

/// Result of one parse step.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A complete command.
    Command(Vec<Vec<u8>>),
    /// Everything usable was absorbed; the rest is an incomplete line.
    NeedMore,
    Error(ProtocolError),
    /// The request outgrew `ParseLimits::max_query`, or memory for it could
    /// not be allocated: the client must be closed without a reply.
    Overflow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between commands.
    Start,
    /// Inside a multibulk, waiting for the next `$len` header.
    BulkHeader,
    /// Copying bulk payload bytes; this many remain.
    BulkData(usize),
    /// Skipping the CRLF after a bulk payload (not validated, like Redis).
    BulkCrlf(u8),
}

/// Streaming request parser. Feed it the unconsumed input; it remembers how
/// far it got, copies every payload byte once, and never rescans a partial
/// line from its start.
#[derive(Debug)]
pub struct RequestParser {
    state: State,
    args_left: usize,
    argv: Vec<Vec<u8>>,
    /// Sum of the capacities of the arguments in `argv`.
    argv_bytes: usize,
    cur: Vec<u8>,
    /// Bytes of the pending partial line already searched for its delimiter.
    scanned: usize,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestParser {
    pub fn new() -> RequestParser {
        RequestParser {
            state: State::Start,
            args_left: 0,
            argv: Vec::new(),
            argv_bytes: 0,
            cur: Vec::new(),
            scanned: 0,
        }
    }

    /// True when no command is partially parsed.
    pub fn is_idle(&self) -> bool {
        self.state == State::Start
    }

    /// Heap bytes held for the request being parsed: the argument slots
    /// (one `Vec` header each, by capacity), the capacity of every
    /// assembled argument and of the one being received. O(1).
    pub fn pending_bytes(&self) -> usize {
        self.argv.capacity() * ARG_OVERHEAD + self.argv_bytes + self.cur.capacity()
    }

    /// Drops the partial request and its memory.
    pub fn reset(&mut self) {
        *self = RequestParser::new();
    }

    /// Whether the held bytes plus `unparsed` input bytes exceed `max`.
    fn over(&self, unparsed: usize, max: usize) -> bool {
        self.pending_bytes().saturating_add(unparsed) > max
    }

    /// Makes room in `cur` for `n` more payload bytes of a bulk of `total`
    /// bytes, growing geometrically (doubling within `mem_budget`, by an
    /// eighth beyond it) but never past `total` nor past what `max_query`
    /// leaves (counting `unparsed` input bytes). False when even the exact
    /// need does not fit or the allocator refuses.
    #[inline]
    fn grow_cur(&mut self, n: usize, total: usize, unparsed: usize, lim: &ParseLimits) -> bool {
        self.cur.len() + n <= self.cur.capacity() || self.grow_cur_slow(n, total, unparsed, lim)
    }

    #[cold]
    #[inline(never)]
    fn grow_cur_slow(&mut self, n: usize, total: usize, unparsed: usize, lim: &ParseLimits) -> bool {
        let max = lim.max_query;
        let cap = self.cur.capacity();
        let need = self.cur.len() + n;
        let others = self.pending_bytes() - cap + unparsed;
        let budget = max.saturating_sub(others);
        if need > budget {
            return false;
        }
        let room = lim.mem_budget.saturating_sub(others);
        let step = if cap.saturating_mul(2) <= room { cap } else { (cap / 8).max(room.saturating_sub(cap)) };
        let target = cap.saturating_add(step).max(need).min(total).min(budget);
        self.cur.try_reserve_exact(target - self.cur.len()).is_ok()
    }

    /// Finds `delim` in `input[start..]`, resuming the previous search.
    fn find(&mut self, input: &[u8], start: usize, delim: u8) -> Option<usize> {
        let from = start + self.scanned;
        let hay = input.get(from..).unwrap_or(&[]);
        match hay.iter().position(|&c| c == delim) {
            Some(off) => Some(from + off),
            None => {
                self.scanned = input.len().saturating_sub(start);
                None
            }
        }
    }

    /// The `\r` ending the header line (`*N` or `$N`) that starts at `pos`,
    /// once the byte after it has arrived too; else `NeedMore` (remembering
    /// how far was scanned), or `too_big` when no line end came within
    /// `INLINE_MAX` bytes.
    fn header_end(&mut self, input: &[u8], pos: usize, too_big: ProtocolError) -> Result<usize, Step> {
        let Some(cr) = self.find(input, pos, b'\r') else {
            return Err(if input.len() - pos > INLINE_MAX { Step::Error(too_big) } else { Step::NeedMore });
        };
        if cr + 1 >= input.len() {
            // Need the byte after '\r' too; resume at '\r'.
            self.scanned = cr - pos;
            return Err(Step::NeedMore);
        }
        self.scanned = 0;
        Ok(cr)
    }

    /// Parses from `input`, returning how many bytes were consumed and what
    /// was found. Call again with the unconsumed rest (plus any new bytes)
    /// after a `Command`.
    pub fn parse(&mut self, input: &[u8], lim: &ParseLimits) -> (usize, Step) {
        let mut pos = 0usize;
        loop {
            match self.state {
                State::Start => {
                    let Some(&first) = input.get(pos) else {
                        return (pos, Step::NeedMore);
                    };
                    if first == b'*' {
                        let cr = match self.header_end(input, pos, ProtocolError::TooBigMultibulkCount) {
                            Ok(cr) => cr,
                            Err(step) => return (pos, step),
                        };
                        let n = match crate::util::parse_i64(&input[pos + 1..cr]) {
                            Some(n) if n <= i64::from(i32::MAX) => n,
                            _ => return (pos, Step::Error(ProtocolError::InvalidMultibulkLength)),
                        };
                        if n > 10 && !lim.authenticated {
                            return (pos, Step::Error(ProtocolError::UnauthenticatedMultibulkLength));
                        }
                        pos = cr + 2;
                        if n <= 0 {
                            continue; // empty command: ignored
                        }
                        self.args_left = n as usize;
                        // At most 16 slots (384 bytes) up front.
                        self.argv = Vec::with_capacity(self.args_left.min(ARGV_PREALLOC_MAX));
                        self.state = State::BulkHeader;
                    } else {
                        let Some(nl) = self.find(input, pos, b'\n') else {
                            if input.len() - pos > INLINE_MAX {
                                return (pos, Step::Error(ProtocolError::TooBigInline));
                            }
                            return (pos, Step::NeedMore);
                        };
                        self.scanned = 0;
                        let mut line = &input[pos..nl];
                        if line.last() == Some(&b'\r') {
                            line = &line[..line.len() - 1];
                        }
                        let Some(args) = split_args(line) else {
                            return (pos, Step::Error(ProtocolError::UnbalancedQuotes));
                        };
                        pos = nl + 1;
                        if !args.is_empty() {
                            return (pos, Step::Command(args));
                        }
                    }
                }
                State::BulkHeader => {
                    if pos >= input.len() {
                        return (pos, Step::NeedMore);
                    }
                    let cr = match self.header_end(input, pos, ProtocolError::TooBigBulkCount) {
                        Ok(cr) => cr,
                        Err(step) => return (pos, step),
                    };
                    if input[pos] != b'$' {
                        return (pos, Step::Error(ProtocolError::ExpectedDollar(input[pos])));
                    }
                    let len = match crate::util::parse_i64(&input[pos + 1..cr]) {
                        Some(n) if n >= 0 && (n as u64) <= lim.max_bulk_len as u64 => n as usize,
                        _ => return (pos, Step::Error(ProtocolError::InvalidBulkLength)),
                    };
                    if len > 16384 && !lim.authenticated {
                        return (pos, Step::Error(ProtocolError::UnauthenticatedBulkLength));
                    }
                    pos = cr + 2;
                    // Exact when the payload is here already; otherwise a
                    // small start that grows with what really arrives.
                    let first = len.min((input.len() - pos).max(BULK_PREALLOC_MAX));
                    if first <= SMALL_ARG {
                        self.cur = Vec::with_capacity(first); // the common, small case
                    } else if !self.grow_cur(first, len, lim.unparsed(input.len() - pos), lim) {
                        return (pos, Step::Overflow);
                    }
                    self.state = State::BulkData(len);
                }
                State::BulkData(remaining) => {
                    let avail = input.len() - pos;
                    let n = remaining.min(avail);
                    let total = self.cur.len() + remaining;
                    if !self.grow_cur(n, total, lim.unparsed(avail - n), lim) {
                        return (pos, Step::Overflow);
                    }
                    self.cur.extend_from_slice(&input[pos..pos + n]);
                    pos += n;
                    if n < remaining {
                        self.state = State::BulkData(remaining - n);
                        return (pos, Step::NeedMore);
                    }
                    self.state = State::BulkCrlf(2);
                }
                State::BulkCrlf(remaining) => {
                    let avail = input.len() - pos;
                    let n = usize::from(remaining).min(avail);
                    pos += n;
                    if n < usize::from(remaining) {
                        self.state = State::BulkCrlf(remaining - n as u8);
                        return (pos, Step::NeedMore);
                    }
                    if self.argv.len() == self.argv.capacity() && self.argv.try_reserve(1).is_err() {
                        return (pos, Step::Overflow);
                    }
                    let arg = core::mem::take(&mut self.cur);
                    self.argv_bytes += arg.capacity();
                    self.argv.push(arg);
                    self.args_left -= 1;
                    if self.args_left == 0 {
                        self.state = State::Start;
                        self.argv_bytes = 0;
                        return (pos, Step::Command(core::mem::take(&mut self.argv)));
                    }
                    // Bulks past SMALL_ARG were checked as they grew; the
                    // argument count is checked past the preallocated slots.
                    if self.argv.len() > ARGV_PREALLOC_MAX && self.over(lim.unparsed(input.len() - pos), lim.max_query)
                    {
                        return (pos, Step::Overflow);
                    }
                    self.state = State::BulkHeader;
                }
            }
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits an inline command line like Redis's `sdssplitargs` (quotes and
/// escapes as redis-cli understands them). `None` means unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // C string semantics: a NUL byte ends the line.
    let line = match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0usize;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }
        let mut inq = false;
        let mut insq = false;
        let mut cur = Vec::new();
        loop {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3)))
                {
                    cur.push(h * 16 + l);
                    p += 4;
                    continue;
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            p += 1;
        }
        args.push(cur);
    }
}

/// A client's reply buffer plus the protocol version its replies use.
///
/// It may carry a byte cap: an append that would take `buf` past it (or
/// that the allocator cannot make room for) is dropped, and so is every
/// later one; [`overflowed`](Out::overflowed) then reports it, and the
/// server closes the client. Each reply element is appended whole or not
/// at all.
#[derive(Debug)]
pub struct Out {
    pub buf: Vec<u8>,
    /// 2 or 3.
    pub resp: u8,
    /// Largest allowed `buf.len()` (`usize::MAX`: none).
    limit: usize,
    overflowed: bool,
    /// Error replies written and not yet counted (see
    /// [`take_errors`](Out::take_errors)), and the code of the last one.
    errors: u32,
    error_code: ErrorCode,
}

/// An error reply's code for INFO errorstats, as Redis takes it: the text
/// before the first space within its first 32 bytes, else `ERR`.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode {
    bytes: [u8; 32],
    len: u8,
}

impl Default for ErrorCode {
    fn default() -> Self {
        ErrorCode::of(b"ERR")
    }
}

impl ErrorCode {
    fn of(msg: &[u8]) -> ErrorCode {
        let head = &msg[..msg.len().min(32)];
        let code = match head.iter().position(|&b| b == b' ') {
            Some(n) if n > 0 => &head[..n],
            _ => b"ERR",
        };
        let mut bytes = [0u8; 32];
        bytes[..code.len()].copy_from_slice(code);
        ErrorCode { bytes, len: code.len() as u8 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl Default for Out {
    fn default() -> Self {
        Out::new(2)
    }
}

/// `prefix`, the decimal `n` and CRLF, formatted on the stack (right
/// aligned in `bytes`, starting at `start`).
struct Header {
    bytes: [u8; 24],
    start: usize,
}

impl Header {
    #[inline]
    fn new(prefix: u8, n: i64) -> Header {
        let mut bytes = [0u8; 24];
        bytes[22] = b'\r';
        bytes[23] = b'\n';
        let mut i = 22;
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            bytes[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if n < 0 {
            i -= 1;
            bytes[i] = b'-';
        }
        i -= 1;
        bytes[i] = prefix;
        Header { bytes, start: i }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    /// The number alone.
    fn digits(&self) -> &[u8] {
        &self.bytes[self.start + 1..22]
    }
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Out {
    pub fn new(resp: u8) -> Out {
        Out { buf: Vec::new(), resp, limit: usize::MAX, overflowed: false, errors: 0, error_code: ErrorCode::default() }
    }

    /// Wraps an existing buffer; appends may take it to `limit` bytes
    /// (`usize::MAX` for no cap).
    pub fn with_buf(buf: Vec<u8>, resp: u8, limit: usize) -> Out {
        Out { buf, resp, limit, overflowed: false, errors: 0, error_code: ErrorCode::default() }
    }

    /// An append was dropped: the cap was reached or memory ran out.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Bytes that may still be appended under the cap.
    pub fn room_left(&self) -> usize {
        if self.overflowed { 0 } else { self.limit.saturating_sub(self.buf.len()) }
    }

    /// Records that a reply could not be built within the cap (for a
    /// command that gives up before appending it).
    pub fn set_overflowed(&mut self) {
        self.overflowed = true;
    }

    /// Room for `n` more bytes, reserved fallibly; false (and overflowed
    /// from then on) when they would pass the cap or cannot be allocated.
    #[inline]
    fn room(&mut self, n: usize) -> bool {
        if self.overflowed || self.buf.len().saturating_add(n) > self.limit {
            self.overflowed = true;
            return false;
        }
        if self.buf.capacity() - self.buf.len() < n {
            // Amortised doubling, but never reserving past the cap.
            let need = self.buf.len() + n;
            let target = self.buf.capacity().saturating_mul(2).max(need).max(64).min(self.limit);
            if self.buf.try_reserve_exact(target - self.buf.len()).is_err() {
                self.overflowed = true;
                return false;
            }
        }
        true
    }

    /// Appends the concatenation of `parts`, all or nothing.
    #[inline]
    fn put(&mut self, parts: &[&[u8]]) {
        let n = parts.iter().map(|p| p.len()).sum();
        if self.room(n) {
            for p in parts {
                self.buf.extend_from_slice(p);
            }
        }
    }

    /// `+`/`-` line: `text` with CR and LF replaced by spaces.
    fn line(&mut self, prefix: u8, text: &[u8]) {
        if self.room(text.len() + 3) {
            self.buf.push(prefix);
            self.buf.extend(text.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
            self.buf.extend_from_slice(b"\r\n");
        }
    }

    fn header(&mut self, prefix: u8, n: usize) {
        let h = Header::new(prefix, len_i64(n));
        self.put(&[h.as_bytes()]);
    }

    pub fn is_resp3(&self) -> bool {
        self.resp >= 3
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.put(&[bytes]);
    }

    pub fn ok(&mut self) {
        self.put(&[b"+OK\r\n"]);
    }

    /// `+text`.
    pub fn simple(&mut self, text: &[u8]) {
        self.line(b'+', text);
    }

    /// A HELP reply: one status line per entry.
    pub fn help(&mut self, lines: &[&[u8]]) {
        self.array(lines.len());
        for line in lines {
            self.simple(line);
        }
    }

    /// `-CODE message`; `msg` includes the code, e.g. "ERR syntax error".
    /// Newlines are replaced by spaces so the protocol stays valid.
    pub fn error(&mut self, msg: &[u8]) {
        self.errors = self.errors.saturating_add(1);
        self.error_code = ErrorCode::of(msg);
        self.line(b'-', msg);
    }

    /// How many error replies were written since the last call, and the
    /// code of the last one (INFO's error counters).
    pub fn take_errors(&mut self) -> (u32, ErrorCode) {
        (core::mem::take(&mut self.errors), self.error_code)
    }

    pub fn err(&mut self, msg: &str) {
        self.error(msg.as_bytes());
    }

    pub fn int(&mut self, v: i64) {
        let h = Header::new(b':', v);
        self.put(&[h.as_bytes()]);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        let h = Header::new(b'$', len_i64(data.len()));
        self.put(&[h.as_bytes(), data, b"\r\n"]);
    }

    pub fn bulk_i64(&mut self, v: i64) {
        let h = Header::new(b':', v);
        self.bulk(h.digits());
    }

    /// Null bulk string (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        if self.is_resp3() {
            self.put(&[b"_\r\n"]);
        } else {
            self.put(&[b"$-1\r\n"]);
        }
    }

    /// Null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        if self.is_resp3() {
            self.put(&[b"_\r\n"]);
        } else {
            self.put(&[b"*-1\r\n"]);
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n);
    }

    /// A map of `n` pairs (RESP2: flat array of 2n).
    pub fn map(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'%', n);
        } else {
            self.header(b'*', n.saturating_mul(2));
        }
    }

    pub fn set(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'~', n);
        } else {
            self.header(b'*', n);
        }
    }

    /// Out-of-band push frame (pub/sub messages).
    pub fn push(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'>', n);
        } else {
            self.header(b'*', n);
        }
    }

    /// A double: RESP3 `,x`, RESP2 bulk string, formatted like `%.17g`.
    pub fn double(&mut self, v: f64) {
        let mut tmp = Vec::with_capacity(24);
        push_double_g17(&mut tmp, v);
        if self.is_resp3() {
            self.put(&[b",", &tmp, b"\r\n"]);
        } else {
            self.bulk(&tmp);
        }
    }

    pub fn boolean(&mut self, v: bool) {
        if self.is_resp3() {
            self.put(&[if v { b"#t\r\n" } else { b"#f\r\n" }]);
        } else {
            self.put(&[if v { b":1\r\n" } else { b":0\r\n" }]);
        }
    }

    /// Verbatim text (RESP3 `=`, RESP2 bulk).
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.is_resp3() {
            let h = Header::new(b'=', len_i64(text.len() + 4));
            self.put(&[h.as_bytes(), b"txt:", text, b"\r\n"]);
        } else {
            self.bulk(text);
        }
    }

    /// Starts an aggregate whose length is not known yet.
    pub fn begin_deferred(&self) -> usize {
        self.buf.len()
    }

    fn finish_deferred(&mut self, start: usize, prefix: u8, n: usize) {
        let h = Header::new(prefix, len_i64(n));
        if self.room(h.as_bytes().len()) {
            let start = start.min(self.buf.len());
            self.buf.splice(start..start, h.as_bytes().iter().copied());
        }
    }

    pub fn finish_array(&mut self, start: usize, n: usize) {
        self.finish_deferred(start, b'*', n);
    }

    pub fn finish_map(&mut self, start: usize, n: usize) {
        if self.is_resp3() {
            self.finish_deferred(start, b'%', n);
        } else {
            self.finish_deferred(start, b'*', n.saturating_mul(2));
        }
    }

    pub fn finish_set(&mut self, start: usize, n: usize) {
        let prefix = if self.is_resp3() { b'~' } else { b'*' };
        self.finish_deferred(start, prefix, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const LIM: ParseLimits = ParseLimits {
        max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
        max_query: usize::MAX,
        input_buffered: true,
        mem_budget: usize::MAX,
    };

    fn parse_all(input: &[u8]) -> (Vec<Step>, usize) {
        let mut p = RequestParser::new();
        let mut pos = 0;
        let mut out = Vec::new();
        loop {
            let (n, step) = p.parse(&input[pos..], &LIM);
            pos += n;
            match step {
                Step::NeedMore => break,
                Step::Error(_) => {
                    out.push(step);
                    break;
                }
                s => out.push(s),
            }
        }
        (out, pos)
    }

    fn cmd(args: &[&[u8]]) -> Step {
        Step::Command(args.iter().map(|a| a.to_vec()).collect())
    }

    #[test]
    fn multibulk_and_inline() {
        let (steps, pos) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n  set a  'b c' \"d\\x41\\n\"\r\n");
        assert_eq!(steps, vec![cmd(&[b"GET", b"k"]), cmd(&[b"PING"]), cmd(&[b"set", b"a", b"b c", b"dA\n"])]);
        assert_eq!(pos, 52);
    }

    #[test]
    fn empty_commands_are_skipped() {
        let (steps, _) = parse_all(b"*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(steps, vec![cmd(&[b"PING"])]);
    }

    #[test]
    fn protocol_errors() {
        let e = |i: &[u8]| parse_all(i).0.pop().unwrap();
        assert_eq!(e(b"*x\r\n"), Step::Error(ProtocolError::InvalidMultibulkLength));
        assert_eq!(e(b"*3000000000\r\n"), Step::Error(ProtocolError::InvalidMultibulkLength));
        assert_eq!(e(b"*1\r\nx\r\n"), Step::Error(ProtocolError::ExpectedDollar(b'x')));
        assert_eq!(e(b"*1\r\n$-1\r\n"), Step::Error(ProtocolError::InvalidBulkLength));
        assert_eq!(e(b"*1\r\n$abc\r\n"), Step::Error(ProtocolError::InvalidBulkLength));
        assert_eq!(e(b"set \"a\r\n"), Step::Error(ProtocolError::UnbalancedQuotes));
        assert_eq!(e(b"set \"a\"b\r\n"), Step::Error(ProtocolError::UnbalancedQuotes));
        let big = vec![b'a'; INLINE_MAX + 1];
        assert_eq!(e(&big), Step::Error(ProtocolError::TooBigInline));
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(e(&big), Step::Error(ProtocolError::TooBigMultibulkCount));
    }

    #[test]
    fn unauthenticated_limits() {
        let lim = ParseLimits {
            max_bulk_len: 1 << 20,
            authenticated: false,
            max_query: usize::MAX,
            input_buffered: true,
            mem_budget: usize::MAX,
        };
        let mut p = RequestParser::new();
        assert_eq!(p.parse(b"*11\r\n", &lim).1, Step::Error(ProtocolError::UnauthenticatedMultibulkLength));
        let mut p = RequestParser::new();
        assert_eq!(p.parse(b"*1\r\n$20000\r\n", &lim).1, Step::Error(ProtocolError::UnauthenticatedBulkLength));
    }

    #[test]
    fn split_at_every_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\n";
        let (expected, _) = parse_all(input);
        let mut p = RequestParser::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut got = Vec::new();
        for &b in input.iter() {
            buf.push(b);
            loop {
                let (n, step) = p.parse(&buf, &LIM);
                buf.drain(..n);
                match step {
                    Step::NeedMore => break,
                    s => got.push(s),
                }
            }
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn reply_encodings() {
        let mut o = Out::new(2);
        o.null();
        o.map(1);
        o.double(1.5);
        o.boolean(true);
        assert_eq!(o.buf, b"$-1\r\n*2\r\n$3\r\n1.5\r\n:1\r\n");
        let mut o = Out::new(3);
        o.null();
        o.map(1);
        o.double(1.5);
        o.boolean(true);
        assert_eq!(o.buf, b"_\r\n%1\r\n,1.5\r\n#t\r\n");
        let mut o = Out::new(2);
        o.bulk(b"x");
        let s = o.begin_deferred();
        o.int(1);
        o.int(2);
        o.finish_array(s, 2);
        assert_eq!(o.buf, b"$1\r\nx\r\n*2\r\n:1\r\n:2\r\n");
    }
}
