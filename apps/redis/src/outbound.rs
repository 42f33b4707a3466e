//! MIGRATE's outgoing connections over the kernel's TCP sockets: connect,
//! then send requests and read reply lines, each step within the command's
//! timeout. The event loop waits meanwhile, as Redis's MIGRATE blocks its
//! server; the other connections' data stays queued in their sockets. The
//! engine keeps a connection open between MIGRATE calls (Redis's 10 s
//! cache) and drops it to close it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use kernel::net::{Event, Interest, Ipv4Addr, NetError, Poller, SocketAddrV4, TcpStream};
use kernel::time::{Duration, Instant};
use redis_engine::{ConnectError, LinkError, Outbound, OutboundLink};

pub struct KernelOutbound;

impl Outbound for KernelOutbound {
    fn connect(&mut self, host: &[u8], port: u16, timeout_ms: u64) -> Result<Box<dyn OutboundLink>, ConnectError> {
        // No name resolution in the appliance: numeric IPv4 addresses only.
        let ip: Ipv4Addr =
            core::str::from_utf8(host).ok().and_then(|h| h.parse().ok()).ok_or(ConnectError::BadAddress)?;
        let timeout = Duration::from_millis(timeout_ms.max(1));
        let mut stream = TcpStream::connect(SocketAddrV4::new(ip, port), Some(timeout)).map_err(|e| match e {
            NetError::TimedOut => ConnectError::Failed(LinkError::TimedOut),
            NetError::ConnectionRefused | NetError::ConnectionReset => ConnectError::Failed(LinkError::Closed),
            // No address or route yet, a bad port: the connect call fails.
            _ => ConnectError::BadAddress,
        })?;
        stream.set_nonblocking(true);
        Ok(Box::new(KernelLink { stream, poller: Poller::new(), events: Vec::new(), pending: Vec::new() }))
    }
}

struct KernelLink {
    stream: TcpStream,
    poller: Poller,
    events: Vec<Event>,
    /// Bytes read past the last line returned.
    pending: Vec<u8>,
}

impl KernelLink {
    /// Waits until the stream is ready for `interest`, until `deadline`.
    fn wait(&mut self, interest: Interest, deadline: Instant) -> Result<(), LinkError> {
        let left = deadline.duration_since(Instant::now());
        if left.is_zero() {
            return Err(LinkError::TimedOut);
        }
        self.poller.register(&self.stream, 0, interest);
        self.poller.wait(&mut self.events, Some(left)).map_err(|_| LinkError::Closed)?;
        Ok(())
    }
}

fn deadline(timeout_ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(timeout_ms.max(1))
}

impl OutboundLink for KernelLink {
    fn send(&mut self, data: &[u8], timeout_ms: u64) -> Result<(), LinkError> {
        let deadline = deadline(timeout_ms);
        let mut rest = data;
        while !rest.is_empty() {
            match self.stream.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(NetError::WouldBlock) => self.wait(Interest::WRITABLE, deadline)?,
                Err(_) => return Err(LinkError::Closed),
            }
        }
        Ok(())
    }

    fn read_line(&mut self, timeout_ms: u64) -> Result<Vec<u8>, LinkError> {
        let deadline = deadline(timeout_ms);
        let mut buf = [0u8; 4096];
        loop {
            if let Some(line) = redis_engine::split_line(&mut self.pending) {
                return Ok(line);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(LinkError::Closed),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(NetError::WouldBlock) => self.wait(Interest::READABLE, deadline)?,
                Err(_) => return Err(LinkError::Closed),
            }
        }
    }
}
