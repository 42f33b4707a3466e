//! The socket API apps use: TCP listeners with a backlog, TCP streams, UDP
//! sockets, and a [`Poller`] that waits for readiness on many of them. No
//! smoltcp types appear here; addresses are `core::net` types.
//!
//! Every object is a small handle (an id) into the stack's tables; the
//! sockets themselves live in the stack. Dropping a stream closes it (the
//! close handshake finishes in the background); dropping a listener resets
//! the connections it had not handed out yet.

use super::{Stack, block_until, with_stack};
use crate::time::{Duration, Instant};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address};

/// Listening sockets kept armed per listener: smoltcp has no backlog, so a
/// SYN needs a socket in LISTEN; the stack re-arms after every packet.
const ARMED: usize = 2;
/// Ephemeral ports for outgoing connections and `UdpSocket::bind(0)`.
const EPHEMERAL: core::ops::RangeInclusive<u16> = 49152..=65535;

/// What went wrong with a network operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// No network device (or it failed to start).
    NoDevice,
    /// Non-blocking mode: the operation would have to wait.
    WouldBlock,
    /// A timeout passed.
    TimedOut,
    /// The peer reset the connection (or it was aborted).
    ConnectionReset,
    /// The connection could not be made.
    ConnectionRefused,
    /// Writing after this side shut down writing, or after the peer went away.
    BrokenPipe,
    /// The stream or socket no longer exists.
    NotConnected,
    /// Another listener or socket uses this port.
    AddrInUse,
    /// No address is configured yet (DHCP pending), or the destination is
    /// not reachable.
    Unaddressable,
    /// A bad argument (port 0 where one is needed, a datagram too large).
    InvalidInput,
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str(match self {
            NetError::NoDevice => "no network device",
            NetError::WouldBlock => "operation would block",
            NetError::TimedOut => "timed out",
            NetError::ConnectionReset => "connection reset",
            NetError::ConnectionRefused => "connection refused",
            NetError::BrokenPipe => "broken pipe",
            NetError::NotConnected => "not connected",
            NetError::AddrInUse => "address in use",
            NetError::Unaddressable => "no route or no address",
            NetError::InvalidInput => "invalid input",
        })
    }
}

/// Which directions [`TcpStream::shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

struct Listener {
    port: u16,
    backlog: usize,
    /// Sockets in LISTEN.
    armed: Vec<SocketHandle>,
    /// Sockets that received a SYN and wait for `accept`.
    pending: VecDeque<SocketHandle>,
}

struct Stream {
    handle: SocketHandle,
    /// The peer's address and port and ours, as received frames name them.
    flow: Option<Flow>,
    /// When data (or a FIN) last arrived for it, in [`Tables::arrivals`]'
    /// sequence (0: before it was a stream). Ready streams are reported
    /// oldest first, so an app serves its clients in the order their input
    /// came, as Linux's epoll does.
    arrival: u64,
    /// The peer's FIN was seen (so a later CLOSED is an orderly end).
    fin_seen: bool,
    read_shut: bool,
    write_shut: bool,
}

/// The app-facing tables, inside the stack.
#[derive(Default)]
pub(crate) struct Tables {
    next_id: u64,
    listeners: BTreeMap<u64, Listener>,
    streams: BTreeMap<u64, Stream>,
    udp: BTreeMap<u64, (SocketHandle, u16)>,
    next_ephemeral: u16,
    /// Streams by flow, for [`note_arrival`].
    by_flow: BTreeMap<Flow, u64>,
    /// Frames with data or a FIN for a stream, counted.
    arrivals: u64,
}

/// A TCP flow: the peer's IPv4 address and port, and our port.
pub(crate) type Flow = ([u8; 4], u16, u16);

/// The flow of an Ethernet frame carrying an IPv4 TCP segment with data or
/// a FIN (from its first bytes: the headers).
pub(crate) fn flow_with_input(frame: &[u8]) -> Option<Flow> {
    const ETHERNET: usize = 14;
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = frame.get(ETHERNET..)?;
    let ip_header = usize::from(ip.first()? & 0x0f) * 4;
    if *ip.get(9)? != 6 || ip_header < 20 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let tcp = ip.get(ip_header..)?;
    let tcp_header = usize::from(tcp.get(12)? >> 4) * 4;
    let fin = tcp.get(13)? & 0x01 != 0;
    let payload = total.saturating_sub(ip_header + tcp_header);
    if payload == 0 && !fin {
        return None;
    }
    let source: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
    Some((source, u16::from_be_bytes([tcp[0], tcp[1]]), u16::from_be_bytes([tcp[2], tcp[3]])))
}

/// Notes that a frame with input for `flow` was just processed: its
/// stream's input is now the newest.
pub(crate) fn note_arrival(stack: &mut Stack, flow: Flow) {
    let tables = &mut stack.tables;
    if let Some(&id) = tables.by_flow.get(&flow)
        && let Some(stream) = tables.streams.get_mut(&id)
    {
        tables.arrivals += 1;
        stream.arrival = tables.arrivals;
    }
}

/// The flow of a connected socket, as [`flow_with_input`] reads it from
/// frames the peer sends.
fn flow_of(socket: &tcp::Socket) -> Option<Flow> {
    let remote = socket.remote_endpoint()?;
    let local = socket.local_endpoint()?;
    let IpAddress::Ipv4(address) = remote.addr;
    Some((address.octets(), remote.port, local.port))
}

impl Tables {
    /// Adds a stream for `handle`'s connection; returns its id.
    fn add_stream(&mut self, handle: SocketHandle, flow: Option<Flow>) -> u64 {
        let id = self.id();
        if let Some(flow) = flow {
            self.by_flow.insert(flow, id);
        }
        self.streams
            .insert(id, Stream { handle, flow, arrival: 0, fin_seen: false, read_shut: false, write_shut: false });
        id
    }

    fn remove_stream(&mut self, id: u64) -> Option<Stream> {
        let stream = self.streams.remove(&id)?;
        if let Some(flow) = stream.flow
            && self.by_flow.get(&flow) == Some(&id)
        {
            self.by_flow.remove(&flow);
        }
        Some(stream)
    }
}

impl Tables {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

fn endpoint(addr: SocketAddrV4) -> IpEndpoint {
    IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from(addr.ip().octets())), addr.port())
}

fn socket_addr(ep: IpEndpoint) -> SocketAddrV4 {
    let ip = match ep.addr {
        IpAddress::Ipv4(a) => Ipv4Addr::from(a.octets()),
    };
    SocketAddrV4::new(ip, ep.port)
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

fn new_tcp_socket(stack: &Stack) -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(vec![0u8; stack.config.tcp_rx]);
    let tx = tcp::SocketBuffer::new(vec![0u8; stack.config.tcp_tx]);
    tcp::Socket::new(rx, tx)
}

/// A socket in LISTEN on `port`. Its timeout bounds how long it may then
/// wait in SYN-RECEIVED for the handshake's last ACK (smoltcp counts it from
/// the SYN); [`try_accept`] lifts it once the connection is established.
fn arm(stack: &mut Stack, port: u16) -> Option<SocketHandle> {
    let mut socket = new_tcp_socket(stack);
    socket.listen(port).ok()?;
    socket.set_timeout(Some(smol_duration(stack.config.syn_wait)));
    Some(stack.sockets.add(socket))
}

fn smol_duration(d: Duration) -> smoltcp::time::Duration {
    smoltcp::time::Duration::from_micros(d.as_micros() as u64)
}

/// With the backlog full, frees the slot of the oldest connection still
/// half-open (SYN-RECEIVED), so that a flood of SYNs that are never
/// completed cannot lock real clients out until the half-open ones time out.
/// Returns whether a slot was freed.
fn drop_oldest_half_open(
    sockets: &mut smoltcp::iface::SocketSet<'static>,
    pending: &mut VecDeque<SocketHandle>,
) -> bool {
    let Some(index) = pending.iter().position(|&h| sockets.get::<tcp::Socket>(h).state() == tcp::State::SynReceived)
    else {
        return false;
    };
    if let Some(handle) = pending.remove(index) {
        sockets.remove(handle);
    }
    true
}

/// Moves listening sockets that took a SYN to their listener's pending queue
/// and arms new ones, up to the backlog. Called after every received packet.
pub(crate) fn rearm_listeners(stack: &mut Stack) {
    if stack.tables.listeners.is_empty() {
        return;
    }
    let ids: Vec<u64> = stack.tables.listeners.keys().copied().collect();
    for id in ids {
        let Some(listener) = stack.tables.listeners.get_mut(&id) else { continue };
        let mut i = 0;
        let mut taken = false;
        while i < listener.armed.len() {
            let handle = listener.armed[i];
            if stack.sockets.get::<tcp::Socket>(handle).state() == tcp::State::Listen {
                i += 1;
            } else {
                listener.pending.push_back(listener.armed.swap_remove(i));
                taken = true;
            }
        }
        if !taken && listener.armed.len() >= ARMED.min(listener.backlog) {
            continue;
        }
        // Drop pending sockets that were reset before being accepted.
        let sockets = &mut stack.sockets;
        listener.pending.retain(|&h| {
            let state = sockets.get::<tcp::Socket>(h).state();
            if matches!(state, tcp::State::Listen | tcp::State::Closed) {
                sockets.remove(h);
                false
            } else {
                true
            }
        });
        // A backlog full of half-open connections: make room to arm again,
        // or the next SYN would find no listening socket and get RST.
        while listener.armed.len() < ARMED.min(listener.backlog)
            && listener.pending.len() >= listener.backlog
            && drop_oldest_half_open(&mut stack.sockets, &mut listener.pending)
        {}
        let (port, backlog) = (listener.port, listener.backlog);
        while let Some(listener) = stack.tables.listeners.get(&id)
            && listener.armed.len() < ARMED.min(backlog)
            && listener.pending.len() < backlog
        {
            let Some(handle) = arm(stack, port) else { break };
            if let Some(listener) = stack.tables.listeners.get_mut(&id) {
                listener.armed.push(handle);
            }
        }
    }
}

/// A TCP port accepting connections.
pub struct TcpListener {
    id: u64,
    port: u16,
    nonblocking: bool,
}

impl TcpListener {
    /// Listens on `port` with the default backlog (`net.backlog=`, 128).
    pub fn bind(port: u16) -> Result<TcpListener, NetError> {
        let backlog = with_stack(|s| s.config.backlog)?;
        Self::bind_with_backlog(port, backlog)
    }

    /// Listens on `port`; up to `backlog` connections may wait for
    /// [`accept`](Self::accept) (more are refused).
    pub fn bind_with_backlog(port: u16, backlog: usize) -> Result<TcpListener, NetError> {
        if port == 0 || backlog == 0 {
            return Err(NetError::InvalidInput);
        }
        let id = with_stack(|stack| {
            if stack.tables.listeners.values().any(|l| l.port == port) {
                return Err(NetError::AddrInUse);
            }
            let id = stack.tables.id();
            stack.tables.listeners.insert(id, Listener { port, backlog, armed: Vec::new(), pending: VecDeque::new() });
            for _ in 0..ARMED.min(backlog) {
                let handle = arm(stack, port).ok_or(NetError::InvalidInput)?;
                if let Some(l) = stack.tables.listeners.get_mut(&id) {
                    l.armed.push(handle);
                }
            }
            Ok(id)
        })??;
        Ok(TcpListener { id, port, nonblocking: false })
    }

    pub fn local_port(&self) -> u16 {
        self.port
    }

    /// In non-blocking mode, [`accept`](Self::accept) returns
    /// [`NetError::WouldBlock`] instead of waiting.
    pub fn set_nonblocking(&mut self, nonblocking: bool) {
        self.nonblocking = nonblocking;
    }

    /// Takes the next established connection, waiting for one unless
    /// non-blocking. Streams start with Nagle's algorithm off (most servers
    /// answer requests; [`TcpStream::set_nodelay`] turns it back on).
    pub fn accept(&self) -> Result<(TcpStream, SocketAddrV4), NetError> {
        if self.nonblocking {
            return with_stack(|s| try_accept(s, self.id))?.unwrap_or(Err(NetError::WouldBlock));
        }
        block_until(None, |s| try_accept(s, self.id))?.unwrap_or(Err(NetError::TimedOut))
    }
}

fn try_accept(stack: &mut Stack, id: u64) -> Option<Result<(TcpStream, SocketAddrV4), NetError>> {
    let Some(listener) = stack.tables.listeners.get_mut(&id) else { return Some(Err(NetError::NotConnected)) };
    let index = listener.pending.iter().position(|&h| {
        let state = stack.sockets.get::<tcp::Socket>(h).state();
        !matches!(state, tcp::State::Listen | tcp::State::SynReceived | tcp::State::SynSent | tcp::State::Closed)
    })?;
    let handle = listener.pending.remove(index)?;
    let socket = stack.sockets.get_mut::<tcp::Socket>(handle);
    socket.set_nagle_enabled(false);
    // Established: the half-open timeout no longer applies (see `arm`).
    socket.set_timeout(None);
    let peer = socket.remote_endpoint().map(socket_addr).unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    let flow = flow_of(socket);
    let stream_id = stack.tables.add_stream(handle, flow);
    // A slot in the backlog is free again.
    rearm_listeners(stack);
    Some(Ok((TcpStream { id: stream_id, peer, nonblocking: false, read_timeout: None }, peer)))
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let _ = with_stack(|stack| {
            if let Some(listener) = stack.tables.listeners.remove(&self.id) {
                for handle in listener.armed {
                    stack.sockets.remove(handle);
                }
                for handle in listener.pending {
                    stack.sockets.get_mut::<tcp::Socket>(handle).abort();
                    stack.orphan(handle);
                }
            }
        });
    }
}

/// A TCP connection.
pub struct TcpStream {
    id: u64,
    peer: SocketAddrV4,
    nonblocking: bool,
    read_timeout: Option<Duration>,
}

enum Progress<T> {
    Done(Result<T, NetError>),
    Wait,
}

fn stream_op<T>(
    stack: &mut Stack,
    id: u64,
    op: impl FnOnce(&mut Stream, &mut tcp::Socket<'static>) -> Progress<T>,
) -> Progress<T> {
    match stack.tables.streams.get_mut(&id) {
        Some(stream) => {
            let handle = stream.handle;
            op(stream, stack.sockets.get_mut::<tcp::Socket>(handle))
        }
        None => Progress::Done(Err(NetError::NotConnected)),
    }
}

fn try_read(stream: &mut Stream, socket: &mut tcp::Socket<'static>, buf: &mut [u8]) -> Progress<usize> {
    if stream.read_shut || buf.is_empty() {
        return Progress::Done(Ok(0));
    }
    if socket.can_recv() {
        return Progress::Done(socket.recv_slice(buf).map_err(|_| NetError::ConnectionReset));
    }
    if socket.may_recv() {
        return Progress::Wait;
    }
    match socket.state() {
        tcp::State::Closed if !stream.fin_seen && !stream.write_shut => Progress::Done(Err(NetError::ConnectionReset)),
        _ => {
            stream.fin_seen = true;
            Progress::Done(Ok(0))
        }
    }
}

fn try_write(stream: &mut Stream, socket: &mut tcp::Socket<'static>, buf: &[u8]) -> Progress<usize> {
    if stream.write_shut {
        return Progress::Done(Err(NetError::BrokenPipe));
    }
    match socket.state() {
        tcp::State::Closed => return Progress::Done(Err(NetError::ConnectionReset)),
        _ if !socket.may_send() => return Progress::Done(Err(NetError::BrokenPipe)),
        _ => {}
    }
    if buf.is_empty() {
        return Progress::Done(Ok(0));
    }
    if socket.can_send() {
        return Progress::Done(socket.send_slice(buf).map_err(|_| NetError::BrokenPipe));
    }
    Progress::Wait
}

impl TcpStream {
    /// Connects to `addr`, waiting until the connection is established (or
    /// `timeout` passes).
    pub fn connect(addr: SocketAddrV4, timeout: Option<Duration>) -> Result<TcpStream, NetError> {
        let id = with_stack(|stack| {
            let mut socket = new_tcp_socket(stack);
            let port = ephemeral_port(stack);
            socket.connect(stack.iface.context(), endpoint(addr), port).map_err(|_| NetError::Unaddressable)?;
            socket.set_nagle_enabled(false);
            let flow = (addr.ip().octets(), addr.port(), port);
            let handle = stack.sockets.add(socket);
            Ok(stack.tables.add_stream(handle, Some(flow)))
        })??;
        let stream = TcpStream { id, peer: addr, nonblocking: false, read_timeout: None };
        let result = block_until(deadline(timeout), |stack| {
            match stream_op(stack, id, |_, socket| match socket.state() {
                tcp::State::SynSent | tcp::State::SynReceived => Progress::Wait,
                tcp::State::Closed => Progress::Done(Err(NetError::ConnectionRefused)),
                _ => Progress::Done(Ok(())),
            }) {
                Progress::Done(r) => Some(r),
                Progress::Wait => None,
            }
        })?;
        match result {
            Some(Ok(())) => Ok(stream),
            Some(Err(e)) => Err(e),
            None => Err(NetError::TimedOut),
        }
    }

    /// Runs `op` until it is done: once in non-blocking mode, else waiting
    /// for network events in between (up to `timeout`).
    fn run<T>(
        &self,
        timeout: Option<Duration>,
        mut op: impl FnMut(&mut Stream, &mut tcp::Socket<'static>) -> Progress<T>,
    ) -> Result<T, NetError> {
        let id = self.id;
        let first = with_stack(|stack| stream_op(stack, id, &mut op))?;
        match first {
            Progress::Done(r) => return r,
            Progress::Wait if self.nonblocking => return Err(NetError::WouldBlock),
            Progress::Wait => {}
        }
        let result = block_until(deadline(timeout), |stack| match stream_op(stack, id, &mut op) {
            Progress::Done(r) => Some(r),
            Progress::Wait => None,
        })?;
        result.unwrap_or(Err(NetError::TimedOut))
    }

    /// Reads what has arrived (at least one byte, waiting unless
    /// non-blocking); `Ok(0)` at the end of the stream.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.run(self.read_timeout, |stream, socket| try_read(stream, socket, buf))
    }

    /// Queues as much of `buf` as fits in the send buffer (at least one byte,
    /// waiting unless non-blocking).
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
        self.run(None, |stream, socket| try_write(stream, socket, buf))
    }

    /// Writes all of `buf` (in non-blocking mode, fails with `WouldBlock`
    /// if it does not fit at once; use [`write`](Self::write) there).
    pub fn write_all(&mut self, mut buf: &[u8]) -> Result<(), NetError> {
        while !buf.is_empty() {
            let n = self.write(buf)?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Waits until everything written has been acknowledged by the peer.
    pub fn flush(&mut self) -> Result<(), NetError> {
        self.run(None, |_, socket| {
            if socket.send_queue() == 0 {
                Progress::Done(Ok(()))
            } else if socket.state() == tcp::State::Closed {
                Progress::Done(Err(NetError::ConnectionReset))
            } else {
                Progress::Wait
            }
        })
    }

    /// Closes one or both directions. Shutting down writing sends FIN after
    /// the queued data; reading returns end-of-stream afterwards.
    pub fn shutdown(&mut self, how: Shutdown) -> Result<(), NetError> {
        with_stack(|stack| {
            stream_op(stack, self.id, |stream, socket| {
                if matches!(how, Shutdown::Read | Shutdown::Both) {
                    stream.read_shut = true;
                }
                if matches!(how, Shutdown::Write | Shutdown::Both) && !stream.write_shut {
                    stream.write_shut = true;
                    socket.close();
                }
                Progress::Done(Ok(()))
            })
        })
        .map(|p| match p {
            Progress::Done(r) => r,
            Progress::Wait => Ok(()),
        })?
    }

    /// Closes the stream (the same as dropping it).
    pub fn close(self) {}

    /// Resets the connection (RST) instead of closing it gracefully.
    pub fn abort(self) {
        let _ = with_stack(|stack| {
            stream_op(stack, self.id, |_, socket| {
                socket.abort();
                Progress::<()>::Done(Ok(()))
            })
        });
    }

    pub fn peer_addr(&self) -> SocketAddrV4 {
        self.peer
    }

    pub fn local_addr(&self) -> Option<SocketAddrV4> {
        with_stack(|stack| {
            let handle = stack.tables.streams.get(&self.id)?.handle;
            stack.sockets.get::<tcp::Socket>(handle).local_endpoint().map(socket_addr)
        })
        .ok()
        .flatten()
    }

    /// In non-blocking mode, reads and writes that would wait return
    /// [`NetError::WouldBlock`].
    pub fn set_nonblocking(&mut self, nonblocking: bool) {
        self.nonblocking = nonblocking;
    }

    /// A blocking read gives up with [`NetError::TimedOut`] after `timeout`.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// `true` sends small writes at once (Nagle's algorithm off, the
    /// default for accepted streams).
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.configure(|socket| socket.set_nagle_enabled(!nodelay));
    }

    /// Keep-alive, as Linux does it for Redis's `tcp-keepalive`: the peer
    /// is probed after every `idle / 3` of silence, and a peer
    /// that sends nothing for `2 * idle` (no ACK to probes or to data sent
    /// in the meantime: that is also the retransmission limit) is dropped;
    /// reads then fail with `ConnectionReset`. `None` turns both off.
    pub fn set_keepalive(&mut self, idle: Option<Duration>) {
        self.configure(|socket| {
            let idle = idle.map(smol_duration);
            socket.set_keep_alive(idle.map(|i| i / 3));
            socket.set_timeout(idle.map(|i| i * 2));
        });
    }

    fn configure(&mut self, f: impl FnOnce(&mut tcp::Socket<'static>)) {
        let _ = with_stack(|stack| {
            if let Some(stream) = stack.tables.streams.get(&self.id) {
                f(stack.sockets.get_mut::<tcp::Socket>(stream.handle));
            }
        });
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let _ = with_stack(|stack| {
            if let Some(stream) = stack.tables.remove_stream(self.id) {
                stack.sockets.get_mut::<tcp::Socket>(stream.handle).close();
                stack.orphan(stream.handle);
            }
        });
    }
}

fn ephemeral_port(stack: &mut Stack) -> u16 {
    let span = EPHEMERAL.end() - EPHEMERAL.start() + 1;
    let seed = (crate::arch::monotonic_nanos() % u64::from(span)) as u16;
    if stack.tables.next_ephemeral == 0 {
        stack.tables.next_ephemeral = seed;
    }
    stack.tables.next_ephemeral = (stack.tables.next_ephemeral + 1) % span;
    EPHEMERAL.start() + stack.tables.next_ephemeral
}

/// A UDP socket bound to a local port.
pub struct UdpSocket {
    id: u64,
    port: u16,
    nonblocking: bool,
    read_timeout: Option<Duration>,
}

impl UdpSocket {
    /// Binds `port` (0 picks a free ephemeral port).
    pub fn bind(port: u16) -> Result<UdpSocket, NetError> {
        let (id, port) = with_stack(|stack| {
            let port = if port == 0 { ephemeral_port(stack) } else { port };
            if stack.tables.udp.values().any(|&(_, p)| p == port) {
                return Err(NetError::AddrInUse);
            }
            let size = stack.config.udp_buf;
            let packets = (size / 512).clamp(8, 1024);
            let rx = udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; packets], vec![0u8; size]);
            let tx = udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; packets], vec![0u8; size]);
            let mut socket = udp::Socket::new(rx, tx);
            socket.bind(IpListenEndpoint { addr: None, port }).map_err(|_| NetError::InvalidInput)?;
            let handle = stack.sockets.add(socket);
            let id = stack.tables.id();
            stack.tables.udp.insert(id, (handle, port));
            Ok((id, port))
        })??;
        Ok(UdpSocket { id, port, nonblocking: false, read_timeout: None })
    }

    pub fn local_port(&self) -> u16 {
        self.port
    }

    pub fn set_nonblocking(&mut self, nonblocking: bool) {
        self.nonblocking = nonblocking;
    }

    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    fn run<T>(
        &self,
        timeout: Option<Duration>,
        mut op: impl FnMut(&mut udp::Socket<'static>) -> Progress<T>,
    ) -> Result<T, NetError> {
        let id = self.id;
        let mut step = move |stack: &mut Stack| match stack.tables.udp.get(&id) {
            Some(&(handle, _)) => op(stack.sockets.get_mut::<udp::Socket>(handle)),
            None => Progress::Done(Err(NetError::NotConnected)),
        };
        match with_stack(&mut step)? {
            Progress::Done(r) => return r,
            Progress::Wait if self.nonblocking => return Err(NetError::WouldBlock),
            Progress::Wait => {}
        }
        let result = block_until(deadline(timeout), |stack| match step(stack) {
            Progress::Done(r) => Some(r),
            Progress::Wait => None,
        })?;
        result.unwrap_or(Err(NetError::TimedOut))
    }

    /// Sends one datagram to `addr`.
    pub fn send_to(&self, buf: &[u8], addr: SocketAddrV4) -> Result<usize, NetError> {
        if addr.port() == 0 || addr.ip().is_unspecified() {
            return Err(NetError::InvalidInput);
        }
        self.run(None, |socket| {
            if buf.len() > socket.payload_send_capacity() {
                return Progress::Done(Err(NetError::InvalidInput));
            }
            match socket.send_slice(buf, endpoint(addr)) {
                Ok(()) => Progress::Done(Ok(buf.len())),
                Err(udp::SendError::BufferFull) => Progress::Wait,
                Err(udp::SendError::Unaddressable) => Progress::Done(Err(NetError::Unaddressable)),
            }
        })
    }

    /// Receives one datagram (truncated to `buf`); returns its length and
    /// sender.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), NetError> {
        self.run(self.read_timeout, |socket| match socket.recv_slice(buf) {
            Ok((n, meta)) => Progress::Done(Ok((n, socket_addr(meta.endpoint)))),
            Err(udp::RecvError::Exhausted) => Progress::Wait,
            Err(udp::RecvError::Truncated) => {
                Progress::Done(Ok((buf.len(), SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))))
            }
        })
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let _ = with_stack(|stack| {
            if let Some((handle, _)) = stack.tables.udp.remove(&self.id) {
                stack.sockets.remove(handle);
            }
        });
    }
}

/// Which readiness a [`Poller`] registration asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    pub readable: bool,
    pub writable: bool,
}

impl Interest {
    pub const READABLE: Interest = Interest { readable: true, writable: false };
    pub const WRITABLE: Interest = Interest { readable: false, writable: true };
    pub const BOTH: Interest = Interest { readable: true, writable: true };
}

/// One ready source from [`Poller::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The token given at registration.
    pub token: usize,
    /// Reading (or accepting) will not block: data, end-of-stream or an error.
    pub readable: bool,
    /// Writing will not block: buffer space, or an error to report.
    pub writable: bool,
    /// The peer closed its side or the connection is gone.
    pub hangup: bool,
}

#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Listener,
    Stream,
    Udp,
}

mod sealed {
    pub trait Sealed {
        fn source_key(&self) -> (super::Kind, u64);
    }
}

/// Something a [`Poller`] can watch: [`TcpListener`], [`TcpStream`],
/// [`UdpSocket`].
pub trait Source: sealed::Sealed {}

impl Source for TcpListener {}
impl Source for TcpStream {}
impl Source for UdpSocket {}

impl sealed::Sealed for TcpListener {
    fn source_key(&self) -> (Kind, u64) {
        (Kind::Listener, self.id)
    }
}

impl sealed::Sealed for TcpStream {
    fn source_key(&self) -> (Kind, u64) {
        (Kind::Stream, self.id)
    }
}

impl sealed::Sealed for UdpSocket {
    fn source_key(&self) -> (Kind, u64) {
        (Kind::Udp, self.id)
    }
}

/// Level-triggered readiness for many sources at once (like `poll(2)`):
/// register sources with a token, then [`wait`](Self::wait). A source that
/// is dropped is forgotten automatically.
#[derive(Default)]
pub struct Poller {
    registrations: BTreeMap<(Kind, u64), (usize, Interest)>,
}

/// (readable, writable, hangup) of one source, or `None` if it is gone.
fn readiness(stack: &mut Stack, kind: Kind, id: u64) -> Option<(bool, bool, bool)> {
    match kind {
        Kind::Listener => {
            let listener = stack.tables.listeners.get(&id)?;
            let ready = listener.pending.iter().any(|&h| {
                let state = stack.sockets.get::<tcp::Socket>(h).state();
                !matches!(
                    state,
                    tcp::State::Listen | tcp::State::SynReceived | tcp::State::SynSent | tcp::State::Closed
                )
            });
            Some((ready, false, false))
        }
        Kind::Stream => {
            let stream = stack.tables.streams.get(&id)?;
            let socket = stack.sockets.get::<tcp::Socket>(stream.handle);
            let closed = socket.state() == tcp::State::Closed;
            let readable = socket.can_recv() || !socket.may_recv() || stream.read_shut;
            let writable = socket.can_send() || !socket.may_send() || closed;
            Some((readable, writable, !socket.may_recv() || closed))
        }
        Kind::Udp => {
            let &(handle, _) = stack.tables.udp.get(&id)?;
            let socket = stack.sockets.get::<udp::Socket>(handle);
            Some((socket.can_recv(), socket.can_send(), false))
        }
    }
}

impl Poller {
    pub fn new() -> Poller {
        Poller::default()
    }

    /// Watches `source` for `interest`, reporting it as `token`. Registering
    /// again replaces the token and interest.
    pub fn register(&mut self, source: &impl Source, token: usize, interest: Interest) {
        self.registrations.insert(source.source_key(), (token, interest));
    }

    /// Stops watching `source`.
    pub fn deregister(&mut self, source: &impl Source) {
        self.registrations.remove(&source.source_key());
    }

    /// How many sources are registered.
    pub fn len(&self) -> usize {
        self.registrations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.registrations.is_empty()
    }

    /// Waits until at least one registered source is ready or `timeout`
    /// passes (`None` = no limit, zero = just check). Fills `events` (cleared
    /// first) and returns how many there are.
    pub fn wait(&mut self, events: &mut Vec<Event>, timeout: Option<Duration>) -> Result<usize, NetError> {
        events.clear();
        let mut gone = Vec::new();
        let registrations = &self.registrations;
        let mut ready: Vec<(u64, Event)> = Vec::new();
        block_until(deadline(timeout), |stack| {
            ready.clear();
            gone.clear();
            for (&(kind, id), &(token, interest)) in registrations {
                match readiness(stack, kind, id) {
                    None => gone.push((kind, id)),
                    Some((readable, writable, hangup)) => {
                        let readable = readable && interest.readable;
                        let writable = writable && interest.writable;
                        if readable || writable {
                            let arrival = match kind {
                                Kind::Stream => stack.tables.streams.get(&id).map_or(0, |s| s.arrival),
                                _ => 0,
                            };
                            ready.push((arrival, Event { token, readable, writable, hangup }));
                        }
                    }
                }
            }
            (!ready.is_empty()).then_some(())
        })?;
        // Oldest input first (a stable sort: equal ones in registration order).
        ready.sort_by_key(|&(arrival, _)| arrival);
        events.extend(ready.iter().map(|&(_, event)| event));
        for key in gone {
            self.registrations.remove(&key);
        }
        Ok(events.len())
    }
}

#[cfg(test)]
mod tests {
    use super::flow_with_input;

    /// An Ethernet frame with an IPv4 TCP segment from 10.0.2.2:40000 to
    /// port 6379 with `payload` bytes and the given TCP flags.
    fn frame(payload: usize, flags: u8) -> alloc::vec::Vec<u8> {
        let mut f = alloc::vec![0u8; 14 + 20 + 20];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&((20 + 20 + payload) as u16).to_be_bytes());
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 0, 2, 2]);
        f[34..36].copy_from_slice(&40000u16.to_be_bytes());
        f[36..38].copy_from_slice(&6379u16.to_be_bytes());
        f[46] = 5 << 4;
        f[47] = flags;
        f
    }

    #[test]
    fn flows_of_frames_with_input() {
        assert_eq!(flow_with_input(&frame(5, 0x18)), Some(([10, 0, 2, 2], 40000, 6379)));
        assert_eq!(flow_with_input(&frame(0, 0x11)), Some(([10, 0, 2, 2], 40000, 6379)), "a FIN is input");
        assert_eq!(flow_with_input(&frame(0, 0x10)), None, "a bare ACK is not");
        let mut udp = frame(5, 0);
        udp[23] = 17;
        assert_eq!(flow_with_input(&udp), None);
        let mut arp = frame(5, 0x18);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(flow_with_input(&arp), None);
        assert_eq!(flow_with_input(&frame(5, 0x18)[..40]), None, "cut short");
    }
}
