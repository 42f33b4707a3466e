//! The echo appliance: a TCP echo server (RFC 862) on the port given as the
//! first app argument (default 7). One event loop serves every client: a
//! [`Poller`] watches the listener and all streams; a client that is slow to
//! read gets its echo queued (and is not read from until it drains), so one
//! client never stalls another; one that resets or half-closes is dropped or
//! finished on its own.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use kernel::net::{Event, Interest, NetError, Poller, Shutdown, TcpListener, TcpStream};
use kernel::println;

kernel::app_main!(main);

/// Token of the listener; streams use their slot index + 1.
const LISTENER: usize = 0;
/// Bytes read per call.
const CHUNK: usize = 16 * 1024;

struct Client {
    stream: TcpStream,
    /// Echo bytes not yet accepted by the send buffer.
    pending: Vec<u8>,
    /// The client half-closed: finish the echo, then close.
    eof: bool,
}

fn main(args: &[&str]) -> i32 {
    let port = match args.first().map(|a| a.parse::<u16>()) {
        None => 7,
        Some(Ok(p)) if p != 0 => p,
        Some(_) => {
            println!("echo: usage: echo [PORT]");
            return 2;
        }
    };
    let mut listener = match TcpListener::bind(port) {
        Ok(l) => l,
        Err(e) => {
            println!("echo: cannot listen on port {port}: {e}");
            return 1;
        }
    };
    listener.set_nonblocking(true);
    println!("echo: listening on TCP port {port}");

    let mut poller = Poller::new();
    poller.register(&listener, LISTENER, Interest::READABLE);
    let mut clients: Vec<Option<Client>> = Vec::new();
    let mut events = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let mut served: u64 = 0;
    loop {
        if let Err(e) = poller.wait(&mut events, None) {
            println!("echo: wait failed: {e}");
            return 1;
        }
        for &event in &events {
            if event.token == LISTENER {
                accept_all(&listener, &mut poller, &mut clients, &mut served);
                continue;
            }
            let slot = event.token - 1;
            let done = match clients.get_mut(slot).and_then(Option::as_mut) {
                Some(client) => serve(client, event, &mut buf),
                None => false,
            };
            if done {
                clients[slot] = None;
            } else if let Some(client) = &clients[slot] {
                // Read only while nothing is queued; watch for writability
                // while something is.
                let interest = if client.pending.is_empty() { Interest::READABLE } else { Interest::WRITABLE };
                poller.register(&client.stream, event.token, interest);
            }
        }
    }
}

fn accept_all(listener: &TcpListener, poller: &mut Poller, clients: &mut Vec<Option<Client>>, served: &mut u64) {
    loop {
        match listener.accept() {
            Ok((mut stream, _peer)) => {
                stream.set_nonblocking(true);
                let slot = match clients.iter().position(Option::is_none) {
                    Some(i) => i,
                    None => {
                        clients.push(None);
                        clients.len() - 1
                    }
                };
                poller.register(&stream, slot + 1, Interest::READABLE);
                clients[slot] = Some(Client { stream, pending: Vec::new(), eof: false });
                *served += 1;
                if served.is_power_of_two() {
                    println!("echo: {served} connections so far");
                }
            }
            Err(NetError::WouldBlock) => return,
            Err(e) => {
                println!("echo: accept: {e}");
                return;
            }
        }
    }
}

/// Handles one readiness event; returns whether the client is finished.
fn serve(client: &mut Client, event: Event, buf: &mut [u8]) -> bool {
    // Drain what is queued first.
    if !client.pending.is_empty() {
        match client.stream.write(&client.pending) {
            Ok(n) => {
                client.pending.drain(..n);
            }
            Err(NetError::WouldBlock) => return false,
            Err(_) => return true,
        }
        if !client.pending.is_empty() {
            return false;
        }
    }
    if client.eof {
        let _ = client.stream.shutdown(Shutdown::Write);
        return true;
    }
    if !event.readable && !event.hangup {
        return false;
    }
    // Echo what has arrived, as long as the send buffer takes it.
    loop {
        let n = match client.stream.read(buf) {
            Ok(0) => {
                client.eof = true;
                if client.pending.is_empty() {
                    let _ = client.stream.shutdown(Shutdown::Write);
                    return true;
                }
                return false;
            }
            Ok(n) => n,
            Err(NetError::WouldBlock) => return false,
            Err(_) => return true,
        };
        let mut data = &buf[..n];
        while !data.is_empty() {
            match client.stream.write(data) {
                Ok(written) => data = &data[written..],
                Err(NetError::WouldBlock) => {
                    client.pending.extend_from_slice(data);
                    return false;
                }
                Err(_) => return true,
            }
        }
    }
}
