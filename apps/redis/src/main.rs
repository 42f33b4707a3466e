//! The Redis appliance: one event loop binds the engine (`redis-engine`, a
//! sans-IO server) to the kernel's TCP sockets and timer.
//!
//! Each loop turn waits on a [`Poller`] (listener and every connection) until
//! something is ready or the next timer deadline (the engine's 10 Hz cron, a
//! blocked client's timeout), feeds what arrived into the engine, writes what
//! the engine queued for each client, and closes connections the engine is
//! done with. Options come from the kernel command line after `--`, in
//! redis-server's syntax: `-- --port 6379 --requirepass secret --maxmemory 64mb`.
//!
//! With a data disk attached ([`disk`]), the dataset is loaded from it at
//! boot and every turn ends with [`Server::end_turn`] before any reply is
//! written: with `appendfsync always`, no reply of a turn leaves before the
//! turn's writes are on the disk.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod disk;
mod loading;
mod outbound;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use kernel::net::{Interest, NetError, Poller, TcpListener, TcpStream};
use kernel::println;
use kernel::time::{Duration, Instant};
use redis_engine::{ClientId, Config, Server, Time};

kernel::app_main!(main);

/// Poller token of the listener; connections use their slot + 1.
const LISTENER: usize = 0;
/// Bytes read from a socket per call.
const READ_CHUNK: usize = 64 * 1024;
/// At most this much input per connection per loop turn, so one client
/// streaming a huge request cannot starve the others.
const READ_BUDGET: usize = 256 * 1024;
/// The engine's cron period (Redis's default `hz 10`).
const TICK: Duration = Duration::from_millis(100);
/// Redis's default `tcp-keepalive`: dead peers are found and dropped.
const TCP_KEEPALIVE: Duration = Duration::from_secs(300);
/// How long to wait for an address (DHCP) before serving anyway.
const ADDRESS_TIMEOUT: Duration = Duration::from_secs(30);

struct Connection {
    stream: TcpStream,
    id: ClientId,
    /// What the poller watches this connection for.
    interest: Interest,
    /// The client closed its side (FIN): answer what it sent, then close.
    eof: bool,
}

/// Open connections by poller slot, and the slot of each engine client.
#[derive(Default)]
struct Connections {
    slots: Vec<Option<Connection>>,
    by_client: BTreeMap<ClientId, usize>,
}

impl Connections {
    fn insert(&mut self, connection: Connection) -> usize {
        let slot = self.slots.iter().position(Option::is_none).unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        self.by_client.insert(connection.id, slot);
        self.slots[slot] = Some(connection);
        slot
    }

    fn remove(&mut self, slot: usize) -> Option<Connection> {
        let connection = self.slots.get_mut(slot)?.take()?;
        self.by_client.remove(&connection.id);
        Some(connection)
    }
}

fn now() -> Time {
    Time::new(kernel::time::unix_time().as_millis() as u64, Instant::now().as_nanos() / 1_000_000)
}

/// Monotonic microseconds: the clock commands are timed with (slow log,
/// latency monitor, commandstats).
fn monotonic_us() -> u64 {
    Instant::now().as_nanos() / 1_000
}

fn main(args: &[&str]) -> i32 {
    let mut config = match Config::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            println!("redis: bad option: {e}");
            println!("redis: usage: redis -- [--port N] [--requirepass PASS] [--maxmemory BYTES] [...]");
            return 2;
        }
    };
    budget_memory(&mut config);
    let port = config.port;
    let mut server = Server::new(config, kernel::random::seed());
    server.set_outbound(Box::new(outbound::KernelOutbound));
    server.set_clock(monotonic_us);
    server.set_wall_clock(|| kernel::time::unix_time().as_micros() as u64);
    let disk = match disk::open(now().unix_ms) {
        Ok(disk) => disk,
        Err(e) => {
            println!("redis: {e}");
            return 1;
        }
    };

    let mut listener = match TcpListener::bind_with_backlog(port, backlog()) {
        Ok(listener) => listener,
        Err(e) => {
            println!("redis: cannot listen on port {port}: {e}");
            return 1;
        }
    };
    listener.set_nonblocking(true);
    let address = kernel::net::wait_for_address(ADDRESS_TIMEOUT);
    // The port is open while the dataset loads: clients get -LOADING.
    let mut loading = loading::LoadingClients::new(&listener);
    if let Err(e) = load(&mut server, disk, &mut loading) {
        println!("redis: {e}");
        return 1;
    }
    match address {
        // Logged, so the line carries the time since the first instruction
        // (what `cargo xtask bench` reports as the guest's boot time).
        Ok((address, _)) => kernel::log::info!(target: "redis", "ready, listening on {address}:{port}"),
        Err(e) => println!("redis: no address yet ({e}); listening on port {port}"),
    }
    let mut connections = Connections::default();
    let mut poller = Poller::new();
    poller.register(&listener, LISTENER, Interest::READABLE);
    for waiting in loading.waiting {
        adopt(waiting, &mut server, &mut connections, &mut poller);
    }
    let mut events = Vec::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut flush_list: Vec<ClientId> = Vec::new();
    let mut next_tick = Instant::now() + TICK;

    while !server.shutdown_requested() {
        let timeout = wait_timeout(&server, next_tick);
        if let Err(e) = poller.wait(&mut events, Some(timeout)) {
            println!("redis: waiting for sockets failed: {e}");
            return 1;
        }
        for &event in &events {
            if event.token == LISTENER {
                accept_all(&listener, &mut server, &mut connections, &mut poller);
            } else if event.readable || event.hangup {
                read_from(event.token - 1, &mut server, &mut connections, &mut poller, &mut buf);
            }
        }
        // The periodic work, and at once when a blocked client's timeout
        // is due (not up to a tick later).
        let deadline_due = server.next_deadline().is_some_and(|d| d.mono_ms <= now().mono_ms);
        if Instant::now() >= next_tick {
            // INFO's used_cpu_sys: the whole appliance runs at one
            // privilege level, so all its busy time is "system" time.
            server.set_cpu_usage(kernel::time::cpu_time().as_micros() as u64, 0);
            server.tick(now());
            next_tick = Instant::now() + TICK;
        } else if deadline_due {
            server.tick(now());
        }
        // Persistence: this turn's writes reach the disk before any reply.
        server.end_turn(now());
        for message in server.take_persistence_messages() {
            kernel::log::info!(target: "redis", "{message}");
        }
        flush_list.clear();
        flush_list.extend(server.clients_with_output());
        for &id in &flush_list {
            flush(id, &mut server, &mut connections, &mut poller);
        }
    }
    // SHUTDOWN: deliver the replies already queued, then power off.
    server.end_turn(now());
    for slot in 0..connections.slots.len() {
        if let Some(mut c) = connections.remove(slot) {
            let _ = c.stream.write_all(server.output(c.id));
            let _ = c.stream.flush();
            c.stream.close();
        }
    }
    println!("redis: shutting down");
    0
}

/// Loads the dataset on the data disk, if one is attached, answering the
/// clients that connect meanwhile.
fn load(server: &mut Server, disk: disk::Opened, loading: &mut loading::LoadingClients) -> Result<(), String> {
    let (store, info, formatted) = match disk {
        disk::Opened::None => {
            println!("redis: no data disk attached: nothing will be kept across a restart");
            return Ok(());
        }
        disk::Opened::Existing(store, info) => (store, info, false),
        disk::Opened::Formatted(store, info) => (store, info, true),
    };
    if formatted {
        kernel::log::info!(target: "redis", "disk {}: blank, formatted", info.index);
    }
    let report = server
        .attach_storage_with_progress(Box::new(store), now(), &mut || {
            loading.serve();
            now()
        })
        .map_err(|e| format!("disk {}: {e}", info.index))?;
    kernel::log::info!(
        target: "redis",
        "disk {} ({} MiB): loaded {} keys from a {}-byte snapshot and {} logged commands in {} ms{}",
        info.index,
        info.sectors >> 11,
        report.keys,
        report.snapshot_bytes,
        report.log.commands,
        report.millis,
        if report.log.rolled_back > 0 { ", an unfinished transaction rolled back" } else { "" }
    );
    Ok(())
}

/// Makes a client that connected while the dataset loaded an ordinary one.
fn adopt(waiting: loading::Waiting, server: &mut Server, connections: &mut Connections, poller: &mut Poller) {
    let loading::Waiting { mut stream, peer, pending, eof, .. } = waiting;
    match server.connect(&peer, now()) {
        Ok(id) => {
            stream.set_keepalive(Some(TCP_KEEPALIVE));
            if !pending.is_empty() {
                server.feed(id, &pending, now());
            }
            let slot = connections.insert(Connection { stream, id, interest: Interest::READABLE, eof });
            if let Some(c) = connections.slots[slot].as_mut() {
                poller.register(&c.stream, slot + 1, Interest::READABLE);
                watch(c, slot, server, poller);
            }
        }
        Err(refused) => {
            let _ = stream.write(&refused.reply);
            stream.close();
        }
    }
}

/// The heap's shares, in sixteenths: the dataset may take half
/// (`maxmemory`'s ceiling), clients five sixteenths (`maxmemory-clients`'
/// ceiling: their buffers in the engine and their TCP buffers in the
/// kernel), and the rest is left to connections not accepted yet (the
/// listen backlog), the kernel and the allocator's fragmentation. A
/// unikernel has no swap and no OOM killer: running out of heap powers it
/// off.
const DATASET_SIXTEENTHS: usize = 8;
const CLIENTS_SIXTEENTHS: usize = 5;
/// The backlog's share of the heap, in sixteenths, and Redis's default
/// `tcp-backlog`. Connections wait in the backlog from their SYN until
/// they are accepted, which behind Debian 12's passt lasts until the
/// client's first data.
const BACKLOG_SIXTEENTHS: usize = 2;
const TCP_BACKLOG: usize = 511;
/// What a connection costs the engine before it sends anything (the
/// client's state; its buffers are counted as they grow).
const ENGINE_CLIENT_COST: usize = 2 << 10;

/// Fits the configuration to the heap: `maxmemory` 0 (Redis's default,
/// unlimited) or above the dataset's share becomes that share, and so can
/// never be raised past it by `CONFIG SET`. The share is a hard limit: a
/// command may grow the dataset past a lower `maxmemory` (Redis checks it
/// only before a command), never past the share. Likewise `maxmemory-clients`
/// with the clients' share. Every connection is charged its TCP buffers,
/// and `maxclients` is lowered to what the clients' share can hold.
fn budget_memory(config: &mut Config) {
    let (_, heap) = kernel::system::heap_usage();
    let (rx, tx) = kernel::net::tcp_buffer_sizes().unwrap_or((0, 0));
    let clients = heap / 16 * CLIENTS_SIXTEENTHS;
    config.maxmemory_ceiling = heap / 16 * DATASET_SIXTEENTHS;
    config.maxmemory_clients_ceiling = clients;
    config.client_overhead = rx + tx;
    config.apply_ceilings();
    let per_client = rx + tx + ENGINE_CLIENT_COST;
    let fit = (clients / per_client).max(1);
    if config.maxclients > fit {
        config.maxclients = fit;
    }
    println!(
        "redis: maxmemory {} MiB, clients {} MiB of the {} MiB heap; maxclients {} ({} KiB per connection)",
        config.maxmemory >> 20,
        config.client_eviction_limit() >> 20,
        heap >> 20,
        config.maxclients,
        per_client >> 10,
    );
}

/// Redis's `tcp-backlog`, or fewer where the heap's share for connections
/// not accepted yet holds fewer (each holds its TCP buffers).
fn backlog() -> usize {
    let (_, heap) = kernel::system::heap_usage();
    let (rx, tx) = kernel::net::tcp_buffer_sizes().unwrap_or((1, 1));
    (heap / 16 * BACKLOG_SIXTEENTHS / (rx + tx)).clamp(1, TCP_BACKLOG)
}

/// Until the engine's next tick or a blocked client's timeout.
fn wait_timeout(server: &Server, next_tick: Instant) -> Duration {
    let mut timeout = next_tick.duration_since(Instant::now());
    if let Some(deadline) = server.next_deadline() {
        timeout = timeout.min(Duration::from_millis(deadline.mono_ms.saturating_sub(now().mono_ms)));
    }
    timeout
}

fn accept_all(listener: &TcpListener, server: &mut Server, connections: &mut Connections, poller: &mut Poller) {
    loop {
        let (mut stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(NetError::WouldBlock) => return,
            Err(e) => {
                println!("redis: accept failed: {e}");
                return;
            }
        };
        stream.set_nonblocking(true);
        match server.connect(&format!("{peer}"), now()) {
            Ok(id) => {
                stream.set_keepalive(Some(TCP_KEEPALIVE));
                let slot = connections.insert(Connection { stream, id, interest: Interest::READABLE, eof: false });
                if let Some(c) = &connections.slots[slot] {
                    poller.register(&c.stream, slot + 1, Interest::READABLE);
                }
            }
            Err(refused) => {
                // maxclients: tell the client why, then close.
                let _ = stream.write(&refused.reply);
                stream.close();
            }
        }
    }
}

fn read_from(slot: usize, server: &mut Server, connections: &mut Connections, poller: &mut Poller, buf: &mut [u8]) {
    let Some(connection) = connections.slots.get_mut(slot).and_then(Option::as_mut) else { return };
    let mut budget = READ_BUDGET;
    while budget > 0 {
        match connection.stream.read(buf) {
            Ok(0) => {
                // The client closed its side. Like Redis, answer the
                // commands that came with the FIN before closing: `flush`
                // closes once the replies are out (now, if there are none).
                connection.eof = true;
                let id = connection.id;
                if server.output(id).is_empty() {
                    close(slot, id, server, connections, poller);
                } else {
                    watch(connection, slot, server, poller);
                }
                return;
            }
            Err(NetError::ConnectionReset) | Err(NetError::NotConnected) | Err(NetError::BrokenPipe) => {
                // The client vanished: nothing can be delivered any more.
                let id = connection.id;
                close(slot, id, server, connections, poller);
                return;
            }
            Ok(n) => {
                server.feed(connection.id, &buf[..n], now());
                budget = budget.saturating_sub(n);
                if !server.wants_input(connection.id) {
                    // Paused (blocked, or its replies are not being read):
                    // leave the rest in the socket, where TCP's window
                    // holds the client back, until it can go on.
                    watch(connection, slot, server, poller);
                    return;
                }
            }
            Err(_) => return, // WouldBlock: all read for now
        }
    }
}

/// Writes what the engine queued for `id`; closes the connection when the
/// engine is done with it and everything is delivered.
fn flush(id: ClientId, server: &mut Server, connections: &mut Connections, poller: &mut Poller) {
    let Some(&slot) = connections.by_client.get(&id) else { return };
    let Some(connection) = connections.slots[slot].as_mut() else { return };
    let mut failed = false;
    loop {
        let output = server.output(id);
        if output.is_empty() {
            break;
        }
        match connection.stream.write(output) {
            Ok(0) | Err(NetError::WouldBlock) => break,
            Ok(n) => server.consume_output(id, n),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    let pending = !server.output(id).is_empty();
    if failed || (!pending && (server.should_close(id) || connection.eof)) {
        close(slot, id, server, connections, poller);
    } else {
        watch(connection, slot, server, poller);
    }
}

/// Watches the connection for what it can use: input while the engine
/// wants it (until the client closed its side), writability only while
/// output waits for send space.
fn watch(connection: &mut Connection, slot: usize, server: &mut Server, poller: &mut Poller) {
    let readable = !connection.eof && server.wants_input(connection.id);
    let interest = Interest { readable, writable: !server.output(connection.id).is_empty() };
    if interest != connection.interest {
        connection.interest = interest;
        poller.register(&connection.stream, slot + 1, interest);
    }
}

/// Closes the connection in `slot` and forgets its client.
fn close(slot: usize, id: ClientId, server: &mut Server, connections: &mut Connections, poller: &mut Poller) {
    if let Some(c) = connections.remove(slot) {
        poller.deregister(&c.stream);
        c.stream.close();
    }
    server.disconnect(id);
}
