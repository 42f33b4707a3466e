//! MIGRATE's outgoing connections over the kernel's TCP sockets: connect,
//! send the request, read until the engine has every reply, each step
//! within the command's timeout. The event loop waits meanwhile, as
//! Redis's MIGRATE blocks its server; the other connections' data stays
//! queued in their sockets.

use alloc::vec::Vec;
use kernel::net::{Interest, Ipv4Addr, Poller, SocketAddrV4, TcpStream};
use kernel::time::{Duration, Instant};
use redis_engine::{Outbound, OutboundError};

pub struct KernelOutbound;

impl Outbound for KernelOutbound {
    fn exchange(
        &mut self,
        host: &[u8],
        port: u16,
        request: &[u8],
        complete: &dyn Fn(&[u8]) -> bool,
        timeout_ms: u64,
    ) -> Result<Vec<u8>, OutboundError> {
        let timeout = Duration::from_millis(timeout_ms.max(1));
        // No name resolution in the appliance: numeric IPv4 addresses only.
        let ip: Ipv4Addr =
            core::str::from_utf8(host).ok().and_then(|h| h.parse().ok()).ok_or(OutboundError::Connect)?;
        let mut stream =
            TcpStream::connect(SocketAddrV4::new(ip, port), Some(timeout)).map_err(|_| OutboundError::Connect)?;
        stream.set_nonblocking(true);
        let mut poller = Poller::new();
        let mut events = Vec::new();

        let deadline = Instant::now() + timeout;
        let mut rest = request;
        while !rest.is_empty() {
            match stream.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(kernel::net::NetError::WouldBlock) => {
                    poller.register(&stream, 0, Interest::WRITABLE);
                    wait(&mut poller, &mut events, deadline).ok_or(OutboundError::Write)?;
                }
                Err(_) => return Err(OutboundError::Write),
            }
        }

        let deadline = Instant::now() + timeout;
        let mut read = Vec::new();
        let mut buf = [0u8; 4096];
        while !complete(&read) {
            match stream.read(&mut buf) {
                Ok(0) => return Err(OutboundError::Read),
                Ok(n) => read.extend_from_slice(&buf[..n]),
                Err(kernel::net::NetError::WouldBlock) => {
                    poller.register(&stream, 0, Interest::READABLE);
                    wait(&mut poller, &mut events, deadline).ok_or(OutboundError::Read)?;
                }
                Err(_) => return Err(OutboundError::Read),
            }
        }
        Ok(read)
    }
}

/// Waits for the registered stream until `deadline`; `None` once it passed.
fn wait(poller: &mut Poller, events: &mut Vec<kernel::net::Event>, deadline: Instant) -> Option<()> {
    let left = deadline.duration_since(Instant::now());
    if left.is_zero() {
        return None;
    }
    poller.wait(events, Some(left)).ok()?;
    Some(())
}
