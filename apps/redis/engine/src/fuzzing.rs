//! The fuzz harness, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/two_clients.rs`) and the host tests that replay its
//! seed corpus (`tests/fuzz_inputs.rs`), with the invariants it checks:
//!
//! - every byte a client receives is a stream of well-formed RESP2/RESP3
//!   replies ([`ReplyStream`], a strict reply parser); an incomplete
//!   trailing reply only on a connection the server is closing;
//! - the dataset accounting stays consistent: `used_memory()` covers it,
//!   it never claims more than the heap holds, and FLUSHALL frees what it
//!   accounted for and brings it back to the empty baseline (the heap
//!   figures come from the fuzz target's counting allocator);
//! - under the hard ceiling (`maxmemory_ceiling`, which `maxmemory` is
//!   unless a fuzzed CONFIG SET lowers it; a command may pass a lowered
//!   `maxmemory`, as in Redis), writes never take the accounted memory more
//!   than a bounded slack past the limit: each byte a client sends may add
//!   at most [`SLACK_PER_INPUT_BYTE`] bytes past it (a command's own
//!   arguments are stored after the memory check, as in Redis), plus
//!   [`SLACK_FIXED`]; growth a short request chooses (SETRANGE, COPY,
//!   keyspace doubling...) must be checked before it happens;
//! - the engine never panics (the fuzzer catches that).
//!
//! Input format (the target's): a sequence of records `[control,
//! payload...]`; control bit 0 selects the client, bits 1..=6 give the
//! payload length (0..=63), bit 7 means "advance the clock by
//! `(control & 0x7f) * 37` ms and tick" before feeding the payload. A client
//! the server closes is disconnected once its output is drained and a new
//! one takes its place (a few times per input).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{ClientId, Config, OutputLimit, Server, Time};

/// `maxmemory` of the fuzzed server.
pub const MAXMEMORY: usize = 1024 * 1024;
/// Accounted bytes one input byte may add past `maxmemory` (a list element
/// sent inline as `x ` costs its 16-byte block plus its 24-byte handle).
pub const SLACK_PER_INPUT_BYTE: usize = 64;
/// Accounted bytes any step may add past `maxmemory` regardless of input.
pub const SLACK_FIXED: usize = 4096;
/// Replacement connections per input (after QUIT, CLIENT KILL, errors).
const MAX_RECONNECTS: usize = 8;

/// Live heap bytes, as the appliance's allocator would hand them out
/// (see [`crate::mem`]); `None` where nothing counts allocations.
pub type HeapProbe<'a> = Option<&'a dyn Fn() -> usize>;

/// The configuration the fuzz target runs.
pub fn config() -> Config {
    Config {
        output_pause_threshold: 4096,
        maxmemory: MAXMEMORY,
        // As the appliance (which sets it from its heap): CONFIG SET cannot
        // raise `maxmemory` past what the modelled heap holds. Without it a
        // fuzzed `CONFIG SET maxmemory 100gb` made SETRANGE's 50 MB growth
        // legitimate, past the target's single-allocation limit.
        maxmemory_ceiling: MAXMEMORY,
        // The appliance's clients cannot hold gigabytes: replies past this
        // close the client (so a reply buffer stays far below the target's
        // single-allocation limit once replies are bounded while built).
        output_limit_normal: OutputLimit { hard: 4 * MAXMEMORY, soft: 0, soft_seconds: 0 },
        // A full PFSELFTEST takes a third of a second: a few dozen in one
        // input would pass the target's time limit.
        pfselftest_elements: 10_000,
        ..Config::default()
    }
}

// ----- strict RESP reply parser ----------------------------------------

/// What a parsed reply contained.
#[derive(Default, Clone, Copy)]
struct Seen {
    resp3_types: bool,
    /// A HELLO reply that switched to RESP3 (a map with `proto` => 3).
    hello3: bool,
}

/// Deepest aggregate nesting accepted (the engine's deepest is COMMAND
/// DOCS/INFO inside EXEC).
const MAX_DEPTH: usize = 16;

enum Parse {
    /// A complete reply of this many bytes.
    Done(usize),
    Incomplete,
}

fn bad<T>(at: usize, what: &str) -> Result<T, String> {
    Err(format!("malformed reply at byte {at}: {what}"))
}

/// The line starting at `pos` (without CRLF) and the position after it;
/// `None` when the CRLF has not arrived. A bare CR or LF is an error.
fn line(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, String> {
    let rest = buf.get(pos..).unwrap_or(&[]);
    match rest.iter().position(|&c| c == b'\r' || c == b'\n') {
        None => Ok(None),
        Some(i) if rest[i] == b'\n' => bad(pos + i, "LF without CR"),
        Some(i) if i + 1 == rest.len() => Ok(None),
        Some(i) if rest[i + 1] != b'\n' => bad(pos + i, "CR without LF"),
        Some(i) => Ok(Some((&rest[..i], pos + i + 2))),
    }
}

/// A canonical decimal integer (what the engine writes: no `+`, no
/// leading zeros, no `-0`).
fn canonical_int(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits == b"0" || digits[0] != b'0')
        && !(s.len() != digits.len() && digits == b"0");
    if !canonical {
        return None;
    }
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// A length or count header: -1 (RESP2 null) or a canonical count.
fn length(s: &[u8], at: usize, null_ok: bool) -> Result<Option<usize>, String> {
    match canonical_int(s) {
        Some(-1) if null_ok => Ok(None),
        Some(n) if n >= 0 => Ok(Some(n as usize)),
        _ => bad(at, "bad length"),
    }
}

/// An error line: a code of capitals (ERR, WRONGTYPE, OOM...) and text.
fn check_error(text: &[u8], at: usize) -> Result<(), String> {
    let code_len = text.iter().position(|&c| c == b' ').unwrap_or(text.len());
    let code = &text[..code_len];
    let ok = code.first().is_some_and(u8::is_ascii_uppercase)
        && code.iter().all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if ok { Ok(()) } else { bad(at, "error reply without an error code") }
}

fn check_double(text: &[u8], at: usize) -> Result<(), String> {
    let special = matches!(text, b"inf" | b"-inf" | b"nan");
    let number = !text.is_empty()
        && text.iter().all(|&c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        && core::str::from_utf8(text).ok().and_then(|t| t.parse::<f64>().ok()).is_some_and(f64::is_finite);
    if special || number { Ok(()) } else { bad(at, "bad double") }
}

/// Parses one reply at `pos`.
fn parse(buf: &[u8], pos: usize, depth: usize, seen: &mut Seen) -> Result<Parse, String> {
    if depth > MAX_DEPTH {
        return bad(pos, "nested too deep");
    }
    let Some(&kind) = buf.get(pos) else { return Ok(Parse::Incomplete) };
    let Some((text, end)) = line(buf, pos + 1)? else { return Ok(Parse::Incomplete) };
    if !matches!(kind, b'+' | b'-' | b':' | b'$' | b'*') {
        seen.resp3_types = true;
    }
    match kind {
        b'+' => Ok(Parse::Done(end)),
        b'-' => check_error(text, pos).map(|_| Parse::Done(end)),
        b':' | b'(' => match canonical_int(text) {
            Some(_) => Ok(Parse::Done(end)),
            // Big numbers may exceed i64.
            None if kind == b'(' && text.iter().all(|c| c.is_ascii_digit() || *c == b'-') => Ok(Parse::Done(end)),
            None => bad(pos, "bad integer"),
        },
        b'_' if text.is_empty() => Ok(Parse::Done(end)),
        b'#' if text == b"t" || text == b"f" => Ok(Parse::Done(end)),
        b',' => check_double(text, pos).map(|_| Parse::Done(end)),
        b'$' | b'!' | b'=' => {
            let Some(n) = length(text, pos, kind == b'$')? else { return Ok(Parse::Done(end)) };
            let Some(data) = buf.get(end..end.saturating_add(n)) else { return Ok(Parse::Incomplete) };
            match buf.get(end + n..end + n + 2) {
                None | Some([b'\r']) => return Ok(Parse::Incomplete),
                Some(b"\r\n") => {}
                Some(_) => return bad(end + n, "bulk payload not followed by CRLF"),
            }
            if kind == b'=' && (n < 4 || data[3] != b':') {
                return bad(pos, "verbatim string without a format");
            }
            if kind == b'!' {
                check_error(data, end)?;
            }
            Ok(Parse::Done(end + n + 2))
        }
        b'*' | b'~' | b'%' | b'>' => {
            let Some(n) = length(text, pos, kind == b'*')? else { return Ok(Parse::Done(end)) };
            if kind == b'>' && n == 0 {
                return bad(pos, "empty push");
            }
            let items = if kind == b'%' { n.saturating_mul(2) } else { n };
            let mut at = end;
            let mut proto_key = false;
            for i in 0..items {
                let start = at;
                match parse(buf, at, depth + 1, seen)? {
                    Parse::Incomplete => return Ok(Parse::Incomplete),
                    Parse::Done(next) => at = next,
                }
                if kind == b'%' {
                    let item = &buf[start..at];
                    if i % 2 == 0 {
                        proto_key = item == b"$5\r\nproto\r\n";
                    } else if proto_key && item == b":3\r\n" {
                        seen.hello3 = true;
                    }
                }
            }
            Ok(Parse::Done(at))
        }
        _ => bad(pos, "unknown reply type"),
    }
}

/// The bytes one client received, checked reply by reply.
#[derive(Default)]
pub struct ReplyStream {
    buf: Vec<u8>,
    /// Start of the first reply not complete yet.
    pos: usize,
    /// The client switched to RESP3 (HELLO 3): RESP3 types may follow.
    resp3: bool,
    /// Parse again once this many bytes are pending.
    retry_at: usize,
    pub replies: usize,
}

impl ReplyStream {
    pub fn new() -> ReplyStream {
        ReplyStream::default()
    }

    /// Appends received bytes and checks every reply they complete (once
    /// enough arrived: a long reply arriving in pieces is not re-parsed from
    /// its start for each piece).
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        if self.pending() >= self.retry_at {
            self.check()?;
        }
        Ok(())
    }

    /// Checks every complete reply.
    fn check(&mut self) -> Result<(), String> {
        loop {
            let mut seen = Seen::default();
            match parse(&self.buf, self.pos, 0, &mut seen)? {
                Parse::Incomplete => break,
                Parse::Done(end) => {
                    if seen.resp3_types && !self.resp3 && !seen.hello3 {
                        let reply = String::from_utf8_lossy(&self.buf[self.pos..end.min(self.pos + 200)]);
                        return Err(format!("RESP3 reply to a RESP2 client: {reply:?}"));
                    }
                    self.resp3 |= seen.hello3;
                    self.pos = end;
                    self.replies += 1;
                }
            }
        }
        // An incomplete reply: parse it again once twice as much arrived.
        self.retry_at = if self.pending() < 1024 { 0 } else { self.pending() * 2 };
        // Keep memory bounded: drop what was checked.
        if self.pos > 4096 && self.pos > self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        Ok(())
    }

    /// Bytes of an incomplete trailing reply.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The stream ended: only a connection the server closed may end
    /// inside a reply.
    pub fn finish(&mut self, closing: bool) -> Result<(), String> {
        self.check()?;
        if self.pending() == 0 || closing {
            Ok(())
        } else {
            let tail = String::from_utf8_lossy(&self.buf[self.pos..self.buf.len().min(self.pos + 200)]);
            Err(format!("{} bytes of an incomplete reply on an open connection: {tail:?}", self.pending()))
        }
    }
}

/// Checks a whole reply buffer (all replies complete, RESP3 allowed).
pub fn check_replies(bytes: &[u8]) -> Result<usize, String> {
    let mut s = ReplyStream { resp3: true, ..ReplyStream::default() };
    s.buf.extend_from_slice(bytes);
    s.finish(false)?;
    Ok(s.replies)
}

// ----- the harness -------------------------------------------------------

/// One connection slot of the harness.
struct Conn {
    id: Option<ClientId>,
    stream: ReplyStream,
    /// It sent SYNC: what it receives is a replication stream (an RDB
    /// payload, then commands), not replies, and is not checked.
    replica: bool,
}

/// The bound of the hard ceiling (`maxmemory_ceiling`; none when 0: a
/// command may grow past `maxmemory` as in Redis), tracked across steps.
#[derive(Default)]
struct MemoryBound {
    /// Input bytes fed since the accounted memory was last under the limit.
    fed_since_under: usize,
}

impl MemoryBound {
    /// Checks the bound after a step in which clients sent `fed` bytes.
    fn check(&mut self, s: &Server, used: usize, fed: usize) -> Result<(), String> {
        let max = s.cfg.maxmemory_ceiling;
        self.fed_since_under = self.fed_since_under.saturating_add(fed);
        if max == 0 || used <= max {
            self.fed_since_under = 0;
            return Ok(());
        }
        let slack = SLACK_FIXED + SLACK_PER_INPUT_BYTE.saturating_mul(self.fed_since_under);
        if used > max.saturating_add(slack) {
            return Err(format!(
                "accounted memory {used} exceeds the maxmemory ceiling {max} by {} (allowed: {slack} slack for {} \
                 input bytes)",
                used - max,
                self.fed_since_under
            ));
        }
        Ok(())
    }
}

/// The accounting checks after each step: the ceiling's bound, and the
/// datasets never accounted at more than the whole heap.
fn check_step(s: &Server, bound: &mut MemoryBound, base: usize, fed: usize, heap: HeapProbe) -> Result<(), String> {
    let dataset = s.dataset_memory();
    bound.check(s, dataset + base, fed)?;
    if let Some(heap) = heap
        && dataset > heap()
    {
        return Err(format!("dataset accounted at {dataset} bytes, more than the whole heap ({})", heap()));
    }
    Ok(())
}

/// Writes back part of each client's output, like a slow socket, checking
/// what was written; replaces clients the server closed.
fn write_back(s: &mut Server, conns: &mut [Conn], all: bool, reconnects: &mut usize, now: Time) -> Result<(), String> {
    for (slot, conn) in conns.iter_mut().enumerate() {
        let Some(id) = conn.id else { continue };
        conn.replica |= s.is_replica(id);
        let out = s.output(id);
        let n = if all { out.len() } else { (out.len() / 2 + 1).min(out.len()) };
        if !conn.replica {
            conn.stream.push(&out[..n])?;
        }
        s.consume_output(id, n);
        if s.should_close(id) && s.output(id).is_empty() {
            if !conn.replica {
                conn.stream.finish(true)?;
            }
            s.disconnect(id);
            conn.id = None;
            conn.stream = ReplyStream::new();
            conn.replica = false;
            if *reconnects < MAX_RECONNECTS {
                *reconnects += 1;
                match s.connect(if slot == 0 { "127.0.0.1:1" } else { "127.0.0.1:2" }, now) {
                    Ok(id) => conn.id = Some(id),
                    Err(refused) => conn.stream.push(&refused.reply)?,
                }
            }
        }
    }
    Ok(())
}

/// Runs one fuzz input (see the module doc) and checks the invariants.
pub fn two_clients(data: &[u8], heap: HeapProbe) -> Result<(), String> {
    let mut now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
    let mut s = Server::new(config(), 0x5eed);
    let mut conns = [
        Conn {
            id: Some(s.connect("127.0.0.1:1", now).map_err(|_| "refused")?),
            stream: ReplyStream::new(),
            replica: false,
        },
        Conn {
            id: Some(s.connect("127.0.0.1:2", now).map_err(|_| "refused")?),
            stream: ReplyStream::new(),
            replica: false,
        },
    ];
    let mut bound = MemoryBound::default();
    // The fixed baseline `maxmemory` is enforced on besides the datasets.
    let base = s.eviction_memory() - s.dataset_memory();
    let mut reconnects = 0;
    let mut pos = 0;
    while pos < data.len() && !s.shutdown_requested() {
        let control = data[pos];
        pos += 1;
        let slot = usize::from(control & 1);
        let len = usize::from((control >> 1) & 0x3f);
        let end = (pos + len).min(data.len());
        if control & 0x80 != 0 {
            now = now.plus_ms(u64::from(control & 0x7f) * 37);
            s.tick(now);
        }
        if let Some(id) = conns[slot].id {
            s.feed(id, &data[pos..end], now);
            // A HELLO 3 whose reply CLIENT REPLY OFF|SKIP dropped switches
            // the protocol all the same: ask the server, not only the replies.
            conns[slot].stream.resp3 |= s.clients.get(&id.0).is_some_and(|c| c.resp == 3);
        }
        write_back(&mut s, &mut conns, false, &mut reconnects, now)?;
        check_step(&s, &mut bound, base, end - pos, heap)?;
        pos = end;
        let _ = s.clients_with_output().count();
        let _ = s.next_deadline();
    }
    // Time passes (blocked clients time out), then every client reads all.
    now = now.plus_ms(60_000);
    s.tick(now);
    for _ in 0..64 {
        write_back(&mut s, &mut conns, true, &mut reconnects, now)?;
        if conns.iter().all(|c| c.id.is_none_or(|id| s.output(id).is_empty())) {
            break;
        }
    }
    for conn in &mut conns {
        if let Some(id) = conn.id
            && !conn.replica
        {
            conn.stream.finish(s.should_close(id))?;
        }
    }
    check_step(&s, &mut bound, base, 0, heap)?;
    if s.used_memory() < s.eviction_memory() {
        return Err(format!("used_memory {} below the datasets' {}", s.used_memory(), s.eviction_memory()));
    }
    // The fuzz clients go first: a client blocked on a stream FLUSHALL
    // deletes would be woken by it and then run the commands it pipelined
    // behind (a SET that refills the dataset), which is right but not what
    // this check measures.
    for conn in &mut conns {
        if let Some(id) = conn.id.take() {
            s.disconnect(id);
        }
    }
    flushall_frees_what_was_accounted(&mut s, now, heap)
}

/// FLUSHALL brings the dataset accounting back to the empty baseline, and
/// the heap it frees is what the accounting said the datasets held.
fn flushall_frees_what_was_accounted(s: &mut Server, now: Time, heap: HeapProbe) -> Result<(), String> {
    s.replay(0, &[b"PING"], now); // creates the internal client first
    // FLUSHALL's own statistics (its first latency histogram, a slow log
    // entry that may push out an older one, a latency event) are not the
    // datasets: turn them off so the measured heap is the datasets alone.
    s.replay(
        0,
        &[
            b"CONFIG",
            b"SET",
            b"latency-tracking",
            b"no",
            b"slowlog-log-slower-than",
            b"-1",
            b"latency-monitor-threshold",
            b"0",
        ],
        now,
    );
    // Likewise the tracking table FLUSHALL empties (key names clients
    // cache): empty it first, as FLUSHALL would.
    s.invalidate_tracking_on_flush();
    let accounted = s.dataset_memory();
    let before = heap.map(|h| h());
    let reply = s.replay(0, &[b"FLUSHALL"], now);
    if reply != b"+OK\r\n" {
        return Err(format!("FLUSHALL replied {:?}", String::from_utf8_lossy(&reply)));
    }
    drop(reply);
    let after = heap.map(|h| h());
    if s.dataset_memory() != 0 {
        return Err(format!("dataset_memory is {} after FLUSHALL, not 0", s.dataset_memory()));
    }
    if let (Some(before), Some(after)) = (before, after) {
        let freed = before.saturating_sub(after);
        if freed != accounted {
            return Err(format!("FLUSHALL freed {freed} heap bytes; the datasets were accounted at {accounted}"));
        }
    }
    Ok(())
}
