//! The Redis engine served over the host's TCP stack, for quick
//! iteration on behaviour (Redis's TCL suite, redis-cli) without building
//! and booting an image: `cargo run --release -p redis-engine --example
//! host_server -- --port 6390 [redis options]`.
//!
//! This is a development tool, not the product: the appliance's event loop
//! (`apps/redis/src/main.rs`) is what the conformance runs and the QEMU
//! tests judge. Here each connection has a reader thread and a writer
//! thread, and one thread owns the engine; replies are handed to the
//! writer at once, so output-buffer limits and TCP back-pressure behave
//! differently from the appliance.

use redis_engine::{ClientId, Config, ConnectError, LinkError, Outbound, OutboundLink, Server, Time};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The engine's periodic work (expiry, timeouts), as in the appliance.
const TICK: Duration = Duration::from_millis(100);

enum Event {
    Accepted(TcpStream),
    Data(u64, Vec<u8>),
    Closed(u64),
}

struct Connection {
    id: ClientId,
    writer: Sender<Vec<u8>>,
    /// Input received while the engine did not want any.
    held: Vec<u8>,
    eof: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("host_server: {e}");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(("127.0.0.1", config.port)).unwrap_or_else(|e| {
        eprintln!("host_server: cannot listen on 127.0.0.1:{}: {e}", config.port);
        std::process::exit(1);
    });
    eprintln!("host_server: listening on 127.0.0.1:{}", config.port);
    let (events, inbox) = mpsc::channel();
    let accepted = events.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if accepted.send(Event::Accepted(stream)).is_err() {
                return;
            }
        }
    });
    let mut server = Server::new(config, 0x5eed);
    server.set_outbound(Box::new(HostOutbound));
    server.set_clock(monotonic_us);
    server.set_wall_clock(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
    });
    serve(server, events, inbox);
}

/// Monotonic microseconds since the first call: the clock commands are
/// timed with (slow log, latency monitor, commandstats).
fn monotonic_us() -> u64 {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// MIGRATE's connections, over the host's TCP stack.
struct HostOutbound;

impl Outbound for HostOutbound {
    fn connect(&mut self, host: &[u8], port: u16, timeout_ms: u64) -> Result<Box<dyn OutboundLink>, ConnectError> {
        use std::io::ErrorKind;
        use std::net::ToSocketAddrs;
        let host = std::str::from_utf8(host).map_err(|_| ConnectError::BadAddress)?;
        let addr = (host, port).to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or(ConnectError::BadAddress)?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(timeout_ms.max(1))).map_err(|e| {
            match e.kind() {
                // What a non-blocking connect fails with at once.
                ErrorKind::NetworkUnreachable | ErrorKind::AddrNotAvailable | ErrorKind::InvalidInput => {
                    ConnectError::BadAddress
                }
                _ => ConnectError::Failed(link_error(e)),
            }
        })?;
        let _ = stream.set_nodelay(true);
        Ok(Box::new(HostLink { stream, pending: Vec::new() }))
    }
}

struct HostLink {
    stream: TcpStream,
    /// Bytes read past the last line returned.
    pending: Vec<u8>,
}

/// A socket error as a [`LinkError`].
fn link_error(e: std::io::Error) -> LinkError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => LinkError::TimedOut,
        _ => LinkError::Closed,
    }
}

impl OutboundLink for HostLink {
    fn send(&mut self, data: &[u8], timeout_ms: u64) -> Result<(), LinkError> {
        self.stream.set_write_timeout(Some(Duration::from_millis(timeout_ms.max(1)))).map_err(link_error)?;
        self.stream.write_all(data).map_err(link_error)
    }

    fn read_line(&mut self, timeout_ms: u64) -> Result<Vec<u8>, LinkError> {
        let deadline = Instant::now() + Duration::from_millis(timeout_ms.max(1));
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(line) = redis_engine::split_line(&mut self.pending) {
                return Ok(line);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::TimedOut);
            }
            self.stream.set_read_timeout(Some(left)).map_err(link_error)?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(LinkError::Closed),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) => return Err(link_error(e)),
            }
        }
    }
}

fn now(started: Instant) -> Time {
    let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    Time::new(unix_ms, started.elapsed().as_millis() as u64 + 1)
}

/// This process's (system, user) CPU time in microseconds, from Linux's
/// `/proc/self/stat` (stime and utime, in the fixed 100 Hz USER_HZ ticks).
fn cpu_usage() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((stime * 10_000, utime * 10_000))
}

fn serve(mut server: Server, events: Sender<Event>, inbox: Receiver<Event>) {
    let started = Instant::now();
    let mut connections: HashMap<u64, Connection> = HashMap::new();
    let mut next_token = 0u64;
    let mut next_tick = Instant::now() + TICK;
    while !server.shutdown_requested() {
        let mut wait = next_tick.saturating_duration_since(Instant::now());
        if let Some(deadline) = server.next_deadline() {
            wait = wait.min(Duration::from_millis(deadline.mono_ms.saturating_sub(now(started).mono_ms)));
        }
        match inbox.recv_timeout(wait) {
            Ok(Event::Accepted(stream)) => {
                let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
                match server.connect(&peer, now(started)) {
                    Ok(id) => {
                        next_token += 1;
                        let writer = spawn_connection(next_token, stream, events.clone());
                        connections.insert(next_token, Connection { id, writer, held: Vec::new(), eof: false });
                    }
                    Err(refused) => {
                        let mut stream = stream;
                        let _ = stream.write_all(&refused.reply);
                    }
                }
            }
            Ok(Event::Data(token, data)) => {
                if let Some(c) = connections.get_mut(&token) {
                    c.held.extend_from_slice(&data);
                }
            }
            Ok(Event::Closed(token)) => {
                if let Some(c) = connections.get_mut(&token) {
                    c.eof = true;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let deadline_due = server.next_deadline().is_some_and(|d| d.mono_ms <= now(started).mono_ms);
        if Instant::now() >= next_tick {
            if let Some((sys_us, user_us)) = cpu_usage() {
                server.set_cpu_usage(sys_us, user_us);
            }
            server.tick(now(started));
            next_tick = Instant::now() + TICK;
        } else if deadline_due {
            server.tick(now(started));
        }
        // Feed held input to clients that want it, deliver output, close.
        // (Feeding one client may unblock another: repeat until none wants more.)
        let mut fed = true;
        while fed {
            fed = false;
            for c in connections.values_mut() {
                if !c.held.is_empty() && server.wants_input(c.id) {
                    let input = std::mem::take(&mut c.held);
                    server.feed(c.id, &input, now(started));
                    fed = true;
                }
            }
        }
        let mut gone = Vec::new();
        let with_output: Vec<ClientId> = server.clients_with_output().collect();
        for (&token, c) in connections.iter_mut() {
            let out = server.output(c.id);
            if !out.is_empty() || with_output.contains(&c.id) {
                let n = out.len();
                let _ = c.writer.send(out.to_vec());
                server.consume_output(c.id, n);
            }
            if server.should_close(c.id) || (c.eof && c.held.is_empty()) {
                gone.push(token);
            }
        }
        for token in gone {
            if let Some(c) = connections.remove(&token) {
                server.disconnect(c.id);
            }
        }
    }
}

/// Starts the reader and writer threads of one connection; returns the
/// writer's queue (dropping it closes the connection once written).
fn spawn_connection(token: u64, stream: TcpStream, events: Sender<Event>) -> Sender<Vec<u8>> {
    let _ = stream.set_nodelay(true);
    let mut reader = stream.try_clone().expect("clone the socket");
    thread::spawn(move || {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = events.send(Event::Closed(token));
                    return;
                }
                Ok(n) => {
                    if events.send(Event::Data(token, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let (writer, queue) = mpsc::channel::<Vec<u8>>();
    let mut stream = stream;
    thread::spawn(move || {
        for chunk in queue {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = stream.shutdown(Shutdown::Both);
    });
    writer
}
