//! Per-connection state: buffers, parser, selected db, protocol version,
//! authentication, transaction, subscriptions, tracking mode and blocking
//! state.

use alloc::string::String;
use alloc::vec::Vec;

use crate::blocking::Blocked;
use crate::bytemap::ByteMap;
use crate::resp::{ARG_OVERHEAD, RequestParser};

/// A MULTI block being queued.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<Vec<Vec<u8>>>,
    /// A command failed to queue: EXEC must abort.
    pub failed: bool,
    /// Heap bytes of the queued arguments (see [`argv_memory`]).
    args_mem: usize,
}

/// Heap bytes of a command's arguments: one `Vec` header per slot plus
/// each argument's capacity.
pub fn argv_memory(argv: &[Vec<u8>]) -> usize {
    argv.len() * ARG_OVERHEAD + argv.iter().map(|a| a.capacity()).sum::<usize>()
}

impl Multi {
    /// Queues a command; false when the allocator refused the room.
    pub fn queue(&mut self, argv: Vec<Vec<u8>>) -> bool {
        if self.queued.try_reserve(1).is_err() {
            return false;
        }
        self.args_mem += argv_memory(&argv) + (argv.capacity() - argv.len()) * ARG_OVERHEAD;
        self.queued.push(argv);
        true
    }

    /// Heap bytes held by the queued commands. O(1).
    pub fn memory(&self) -> usize {
        self.queued.capacity() * core::mem::size_of::<Vec<Vec<u8>>>() + self.args_mem
    }
}

pub struct Client {
    pub id: u64,
    pub peer: String,
    pub name: Option<Vec<u8>>,
    pub db: usize,
    /// 2 or 3.
    pub resp: u8,
    pub authenticated: bool,
    pub parser: RequestParser,
    /// Unparsed input; bytes before `inpos` are consumed.
    pub inbuf: Vec<u8>,
    pub inpos: usize,
    /// Pending output; bytes before `out_pos` were written.
    pub out: Vec<u8>,
    pub out_pos: usize,
    /// Close once the output is flushed (QUIT, protocol error).
    pub close_after_reply: bool,
    /// Close now, dropping output (CLIENT KILL, output limit, idle timeout).
    pub close_now: bool,
    pub created_ms: u64,
    pub last_ms: u64,
    pub multi: Option<Multi>,
    pub watched: Vec<(usize, Vec<u8>)>,
    /// A WATCHed key changed: EXEC fails.
    pub cas_dirty: bool,
    pub subs: ByteMap<()>,
    pub psubs: ByteMap<()>,
    /// Shard channels (SSUBSCRIBE).
    pub ssubs: ByteMap<()>,
    pub blocked: Option<Blocked>,
    /// The timing of the command it is blocked in, recorded once served.
    pub blocked_call: Option<alloc::boxed::Box<crate::latency::BlockedCall>>,
    /// Mono time the soft output limit was first exceeded.
    pub soft_since: Option<u64>,
    /// Position in the server's list of clients with output (if listed).
    pub dirty_pos: Option<usize>,
    pub last_cmd: &'static str,
    /// The lowercased subcommand of the last command when it was a container
    /// command (`client|list`, as CLIENT LIST shows it); empty otherwise.
    pub last_sub: Vec<u8>,
    /// Internal client (replay): not listed, not counted.
    pub hidden: bool,
    /// `CLIENT REPLY OFF`: replies are dropped (pushes still go out).
    pub reply_off: bool,
    /// `CLIENT REPLY SKIP`: the reply of the running command is dropped /
    /// that of the next one will be.
    pub reply_skip: bool,
    pub reply_skip_next: bool,
    /// `CLIENT NO-EVICT on`: exempt from `maxmemory-clients` eviction.
    pub no_evict: bool,
    /// `CLIENT TRACKING on`: the tracking mode (see [`crate::tracking`]).
    pub tracking: Option<alloc::boxed::Box<crate::tracking::ClientTracking>>,
    /// In MONITOR mode: receives a line for every command run.
    pub monitor: bool,
    /// A command held back by CLIENT PAUSE, run once the pause ends.
    pub postponed: Option<Vec<Vec<u8>>>,
    /// While its input is being run: the bytes of the batch being parsed
    /// (Redis's query buffer still holds them; CLIENT LIST's `qbuf`).
    pub qbuf_batch: usize,
    /// Bytes of the WATCHed key names.
    pub watched_bytes: usize,
    /// [`extra_memory`](Client::extra_memory) as last refreshed (by the
    /// code that subscribes, watches or names the client).
    pub extra_mem: usize,
    /// Memory last counted for this client in the server's total.
    pub mem: usize,
    /// Whether `mem` is also counted as belonging to a closing client.
    pub mem_closing: bool,
    /// Eviction bucket and position in it, while evictable.
    pub mem_bucket: Option<(u8, u32)>,
}

impl Client {
    pub fn new(id: u64, peer: String, now_ms: u64, seed: u64) -> Client {
        let mut c = Client {
            id,
            peer,
            name: None,
            db: 0,
            resp: 2,
            authenticated: false,
            parser: RequestParser::new(),
            inbuf: Vec::new(),
            inpos: 0,
            out: Vec::new(),
            out_pos: 0,
            close_after_reply: false,
            close_now: false,
            created_ms: now_ms,
            last_ms: now_ms,
            multi: None,
            watched: Vec::new(),
            cas_dirty: false,
            subs: ByteMap::new(seed),
            psubs: ByteMap::new(seed ^ 1),
            ssubs: ByteMap::new(seed ^ 2),
            blocked: None,
            blocked_call: None,
            soft_since: None,
            dirty_pos: None,
            last_cmd: "NULL",
            last_sub: Vec::new(),
            hidden: false,
            no_evict: false,
            monitor: false,
            tracking: None,
            postponed: None,
            qbuf_batch: 0,
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            watched_bytes: 0,
            extra_mem: 0,
            mem: 0,
            mem_closing: false,
            mem_bucket: None,
        };
        c.refresh_extra_memory();
        c
    }

    /// Heap bytes this client holds, besides the fixed per-client cost:
    /// input buffer, partial request, output buffer, queued transaction,
    /// and the cached [`extra_memory`](Client::extra_memory). O(1).
    pub fn buffers_memory(&self) -> usize {
        self.inbuf.capacity()
            + self.parser.pending_bytes()
            + self.out.capacity()
            + self.multi.as_ref().map_or(0, Multi::memory)
            + self.extra_mem
    }

    /// Heap bytes of what changes only with a few commands: subscriptions,
    /// WATCHed keys, name, address and tracking mode. O(1) (but for a
    /// tracking client's BCAST prefixes).
    pub fn extra_memory(&self) -> usize {
        self.subs.overhead_bytes()
            + self.psubs.overhead_bytes()
            + self.ssubs.overhead_bytes()
            + self.watched.capacity() * core::mem::size_of::<(usize, Vec<u8>)>()
            + self.watched_bytes
            + self.name.as_ref().map_or(0, Vec::capacity)
            + self.peer.capacity()
            + self.tracking.as_ref().map_or(0, |t| t.memory())
    }

    /// Recomputes `extra_mem`; call after changing subscriptions, WATCHed
    /// keys, the name or the tracking mode.
    pub fn refresh_extra_memory(&mut self) {
        self.extra_mem = self.extra_memory();
    }

    pub fn pending_output(&self) -> usize {
        self.out.len() - self.out_pos
    }

    pub fn pending_input(&self) -> usize {
        self.inbuf.len() - self.inpos
    }

    /// All subscriptions: channels, patterns and shard channels. A client
    /// with any is in pub/sub mode (Redis's CLIENT_PUBSUB flag).
    pub fn sub_count(&self) -> usize {
        self.subs.len() + self.psubs.len() + self.ssubs.len()
    }

    /// RESP2 subscribed mode restricts commands.
    pub fn in_resp2_pubsub(&self) -> bool {
        self.resp == 2 && self.sub_count() > 0
    }

    pub fn should_close(&self) -> bool {
        self.close_now || self.close_after_reply
    }

    /// May the next command be parsed and run now?
    pub fn can_process(&self, pause_threshold: usize) -> bool {
        !self.close_after_reply
            && !self.close_now
            && self.blocked.is_none()
            && self.postponed.is_none()
            && self.pending_output() < pause_threshold
    }
}
