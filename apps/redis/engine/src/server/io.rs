//! A client's bytes in and out: feeding input into the request parser
//! (with the query-buffer limit and back-pressure) and handing replies to
//! the app (with the output limits).

use super::*;

impl Server {
    // ----- input --------------------------------------------------------

    /// Appends bytes read from the socket and runs every complete command.
    pub fn feed(&mut self, id: ClientId, input: &[u8], now: Time) {
        self.set_now(now);
        let cid = id.0;
        let pause = self.cfg.output_pause_threshold;
        let Some(c) = self.clients.get_mut(&cid) else { return };
        self.stats.net_input_bytes += input.len() as u64;
        if c.should_close() {
            return; // input after QUIT / errors is ignored
        }
        c.last_ms = now.mono_ms;
        if c.pending_input() == 0 && c.can_process(pause) {
            // Fast path: parse straight from the socket bytes.
            c.inbuf.clear();
            c.inpos = 0;
            let used = self.process_bytes(cid, input, false);
            let rest = input.get(used..).unwrap_or(&[]);
            if !rest.is_empty() {
                self.buffer_input(cid, rest);
            }
        } else if self.buffer_input(cid, input) {
            self.process_input(cid);
        }
        self.check_query_limit(cid);
        self.update_client_mem(cid);
        self.evict_clients_if_needed();
        self.run_resumed();
    }

    /// What counts against `client-query-buffer-limit`: unparsed input plus
    /// everything held for the request being assembled.
    pub(super) fn query_bytes(c: &Client) -> usize {
        c.pending_input() + c.parser.pending_bytes()
    }

    /// Appends unparsed bytes to the client's input buffer. When that would
    /// take it past `client-query-buffer-limit`, or the allocator refuses
    /// the room, the client is closed instead (false).
    pub(super) fn buffer_input(&mut self, cid: u64, bytes: &[u8]) -> bool {
        let limit = self.cfg.client_query_buffer_limit;
        let Some(c) = self.clients.get_mut(&cid) else { return false };
        if c.should_close() {
            return false;
        }
        if Self::query_bytes(c).saturating_add(bytes.len()) > limit || c.inbuf.try_reserve(bytes.len()).is_err() {
            self.close_for_query_limit(cid);
            return false;
        }
        c.inbuf.extend_from_slice(bytes);
        true
    }

    pub(super) fn check_query_limit(&mut self, cid: u64) {
        let limit = self.cfg.client_query_buffer_limit;
        if self.clients.get(&cid).is_some_and(|c| !c.close_now && Self::query_bytes(c) > limit) {
            self.close_for_query_limit(cid);
        }
    }

    /// Redis's "Closing client that reached max query buffer length": the
    /// client is closed without a reply.
    pub(super) fn close_for_query_limit(&mut self, cid: u64) {
        self.stats.client_query_buffer_limit_disconnections += 1;
        self.close_client_now(cid);
    }

    /// Closes a client at once (output dropped, like Redis's
    /// `freeClientAsync`): releases its buffers, its partial request and its
    /// queued transaction, and stops it waiting on keys so it cannot take
    /// data it will never deliver. The app closes the socket and then calls
    /// [`disconnect`](Self::disconnect).
    pub(crate) fn close_client_now(&mut self, cid: u64) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        c.close_now = true;
        c.inbuf = Vec::new();
        c.inpos = 0;
        c.parser.reset();
        c.out = Vec::new();
        c.out_pos = 0;
        c.multi = None;
        if let Some(b) = c.blocked.take() {
            self.blocking.remove(cid, &b);
        }
        self.mark_dirty(cid);
        self.update_client_mem(cid);
    }

    /// Runs buffered input of `cid` as far as possible.
    pub(super) fn process_input(&mut self, cid: u64) {
        self.run_postponed(cid);
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let buf = core::mem::take(&mut c.inbuf);
        // While the buffer is out, the client has no pending input (CLIENT
        // INFO may look at it): inpos must not point past the empty inbuf.
        let start = core::mem::take(&mut c.inpos);
        let used = self.process_bytes(cid, buf.get(start..).unwrap_or(&[]), true);
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.should_close() {
            c.inbuf = Vec::new();
            c.inpos = 0;
        } else {
            c.inbuf = buf;
            c.inpos = start + used;
            Self::compact_input(c);
        }
        self.update_client_mem(cid);
    }

    /// Drops consumed input: all of it once everything is consumed (and
    /// the buffer's memory after a burst), else the consumed prefix when it
    /// is more than half (amortized O(1) per byte).
    pub(super) fn compact_input(c: &mut Client) {
        if c.inpos >= c.inbuf.len() {
            c.inbuf.clear();
            c.inpos = 0;
            if c.inbuf.capacity() > INBUF_KEEP {
                c.inbuf = Vec::new(); // a burst is over: give its memory back
            }
        } else if c.inpos > c.inbuf.len() / 2 {
            c.inbuf.drain(..c.inpos);
            c.inpos = 0;
        }
    }

    /// Parses and executes commands from `data` (the client's own input
    /// buffer when `buffered`, else the caller's bytes); returns bytes
    /// consumed.
    pub(super) fn process_bytes(&mut self, cid: u64, data: &[u8], buffered: bool) -> usize {
        if let Some(c) = self.clients.get_mut(&cid) {
            c.qbuf_batch = data.len();
        }
        let used = self.process_batch(cid, data, buffered);
        if let Some(c) = self.clients.get_mut(&cid) {
            c.qbuf_batch = 0;
        }
        used
    }

    /// [`process_bytes`](Self::process_bytes)'s loop.
    pub(super) fn process_batch(&mut self, cid: u64, data: &[u8], buffered: bool) -> usize {
        let mut pos = 0usize;
        loop {
            let pause = self.cfg.output_pause_threshold;
            let max_bulk_len = self.cfg.proto_max_bulk_len;
            let max_query = self.cfg.client_query_buffer_limit;
            let Some(c) = self.clients.get_mut(&cid) else { return data.len() };
            if !c.can_process(pause) {
                return pos;
            }
            let mem_budget = match self.caps.evict {
                0 => usize::MAX,
                limit => {
                    let others = self.clients_mem.saturating_sub(self.closing_mem + c.mem);
                    let own = c.mem.saturating_sub(c.parser.pending_bytes());
                    limit.saturating_sub(others + own)
                }
            };
            let lim = ParseLimits {
                max_bulk_len,
                authenticated: c.authenticated,
                max_query,
                input_buffered: buffered,
                mem_budget,
            };
            let (n, step) = c.parser.parse(data.get(pos..).unwrap_or(&[]), &lim);
            pos += n;
            match step {
                Step::NeedMore => return pos,
                Step::Overflow => {
                    self.close_for_query_limit(cid);
                    return data.len();
                }
                Step::Error(e) => {
                    let mut msg = b"ERR ".to_vec();
                    msg.extend_from_slice(&e.message());
                    c.parser.reset();
                    let mut out = Self::client_out(self.caps, c);
                    out.error(&msg);
                    c.close_after_reply = true;
                    self.restore_out(cid, out);
                    self.mark_dirty(cid);
                    return data.len();
                }
                Step::Command(argv) => self.process_command(cid, argv),
            }
        }
    }

    /// Processes input of clients that became runnable (unblocked, output
    /// drained) until none is left.
    pub(super) fn run_resumed(&mut self) {
        let mut rounds = 0;
        while !self.resume.is_empty() && rounds < 1000 {
            rounds += 1;
            let list = core::mem::take(&mut self.resume);
            for cid in list {
                self.process_input(cid);
            }
        }
    }

    // ----- output -------------------------------------------------------

    /// Pending bytes for the client's socket.
    pub fn output(&mut self, id: ClientId) -> &[u8] {
        match self.clients.get(&id.0) {
            Some(c) => c.out.get(c.out_pos..).unwrap_or(&[]),
            None => &[],
        }
    }

    /// `n` bytes of `output()` were written to the socket. Also resumes
    /// parsing input that was held back by the output-size pause.
    pub fn consume_output(&mut self, id: ClientId, n: usize) {
        let cid = id.0;
        let pause = self.cfg.output_pause_threshold;
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let n = n.min(c.pending_output());
        c.out_pos += n;
        self.stats.net_output_bytes += n as u64;
        if c.out_pos >= c.out.len() {
            c.out.clear();
            c.out_pos = 0;
            if c.out.capacity() > 64 * 1024 {
                c.out.shrink_to(16 * 1024);
            }
        } else if c.out_pos > 64 * 1024 && c.out_pos > c.out.len() / 2 {
            c.out.drain(..c.out_pos);
            c.out_pos = 0;
        }
        let resume = c.pending_input() > 0 && c.can_process(pause);
        let idle = c.pending_output() == 0 && !c.should_close();
        if idle && let Some(pos) = c.dirty_pos {
            self.remove_dirty_at(pos);
        }
        self.update_client_mem(cid);
        if resume {
            self.process_input(cid);
            self.check_query_limit(cid);
            self.run_resumed();
        }
    }

    /// Whether the app should read more from this client's socket now.
    ///
    /// False while the client cannot run commands (blocked, output above
    /// `output_pause_threshold`, closing) and already has unprocessed input
    /// buffered, and for closing or unknown clients: the app should then
    /// leave the socket unread so TCP back-pressure holds the client,
    /// instead of buffering its input here. It turns true again once the
    /// buffered input has run, which can happen in
    /// [`consume_output`](Self::consume_output), [`tick`](Self::tick)
    /// (a block timing out) or another client's [`feed`](Self::feed) (a
    /// push serving a blocked client); the app re-checks after those.
    pub fn wants_input(&self, id: ClientId) -> bool {
        let pause = self.cfg.output_pause_threshold;
        self.clients.get(&id.0).is_some_and(|c| !c.should_close() && (c.pending_input() == 0 || c.can_process(pause)))
    }

    /// Clients that have output to write or must be closed.
    pub fn clients_with_output(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.dirty
            .iter()
            .copied()
            .filter(|id| self.clients.get(id).is_some_and(|c| c.pending_output() > 0 || c.should_close()))
            .map(ClientId)
    }

    /// Close this connection once `output()` is flushed.
    pub fn should_close(&self, id: ClientId) -> bool {
        self.clients.get(&id.0).is_none_or(|c| c.should_close())
    }

    pub(crate) fn mark_dirty(&mut self, cid: u64) {
        if let Some(c) = self.clients.get_mut(&cid)
            && c.dirty_pos.is_none()
            && !c.hidden
        {
            c.dirty_pos = Some(self.dirty.len());
            self.dirty.push(cid);
        }
    }

    pub(super) fn remove_dirty_at(&mut self, pos: usize) {
        if pos >= self.dirty.len() {
            return;
        }
        let removed = self.dirty.swap_remove(pos);
        if let Some(c) = self.clients.get_mut(&removed) {
            c.dirty_pos = None;
        }
        if let Some(&moved) = self.dirty.get(pos)
            && let Some(c) = self.clients.get_mut(&moved)
        {
            c.dirty_pos = Some(pos);
        }
    }

    /// Appends the reply of a command that was blocked to its client's
    /// buffer; dropped under `CLIENT REPLY OFF|SKIP`, like the reply it
    /// would have had at once (and a pending SKIP then moves on).
    pub(crate) fn write_to(&mut self, cid: u64, f: impl FnOnce(&mut Out)) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        let muted = c.reply_off || c.reply_skip;
        c.reply_skip = core::mem::take(&mut c.reply_skip_next);
        if !muted {
            self.write_push_to(cid, f);
        }
    }

    /// Appends a push (pub/sub) to another client's buffer.
    pub(crate) fn write_push_to(&mut self, cid: u64, f: impl FnOnce(&mut Out)) {
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.close_now {
            return;
        }
        let mut out = Self::client_out(self.caps, c);
        f(&mut out);
        self.restore_out(cid, out);
        self.settle_client(cid);
    }

    /// The client's output buffer as an [`Out`] capped so that its pending
    /// output stays within the hard limit of its class (normal or pub/sub)
    /// and `maxmemory-clients`. Give it back with
    /// [`restore_out`](Self::restore_out).
    pub(super) fn client_out(caps: ClientCaps, c: &mut Client) -> Out {
        let cap = if c.hidden {
            usize::MAX
        } else if c.sub_count() > 0 {
            caps.pubsub_out
        } else {
            caps.normal_out
        };
        Out::with_buf(core::mem::take(&mut c.out), c.resp, c.out_pos.saturating_add(cap))
    }

    /// Puts a client's output buffer back; when a reply did not fit under
    /// its cap the client is closed at once, output dropped (Redis's output
    /// buffer hard limit).
    pub(crate) fn restore_out(&mut self, cid: u64, mut out: Out) {
        self.count_errors(&mut out);
        let overflowed = out.overflowed();
        let Some(c) = self.clients.get_mut(&cid) else { return };
        if c.close_now {
            return; // closed meanwhile (e.g. evicted): output is dropped
        }
        c.out = out.buf;
        if overflowed {
            self.stats.client_output_buffer_limit_disconnections += 1;
            self.close_client_now(cid);
        }
    }
}
