//! Network settings from the kernel command line.
//!
//! | parameter | meaning | default |
//! | --- | --- | --- |
//! | `ip=ADDR/PREFIX` | static address (no DHCP) | DHCP |
//! | `gw=ADDR` | default gateway with `ip=` | none |
//! | `dns=ADDR[,ADDR...]` | DNS servers (also overrides DHCP's) | from DHCP |
//! | `mtu=BYTES` | IP MTU | 1500 |
//! | `net.rxbuf=BYTES` / `net.txbuf=BYTES` | TCP receive / send buffer per connection (K/M suffix) | heap / 8192, a power of two from 4K to 64K |
//! | `net.udpbuf=BYTES` | UDP buffer per socket, each way | 64K |
//! | `net.backlog=N` | default listen backlog | 128 |
//! | `net.synwait=SECONDS` | how long a half-open connection (SYN received, no ACK yet) may wait | 60 |
//!
//! Every connection's buffers are allocated when its SYN arrives and cost
//! memory for as long as it stays open, idle or not, so the default scales
//! with the heap: 16K each way at 128 MiB of RAM, 4K at 8 MiB, 64K from
//! 512 MiB up.
//!
//! Half-open connections: a full backlog drops the oldest of them, so SYNs
//! that are never completed cannot lock clients out; `net.synwait` frees
//! the rest. It is as long as Linux's (about a minute) because some peers
//! complete the handshake only with their first data: Debian 12's passt
//! does not acknowledge the guest's SYN-ACK of a connection whose client
//! has not sent anything yet.

use crate::CommandLine;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Static address and prefix length; `None` = DHCP.
    pub address: Option<(Ipv4Addr, u8)>,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub mtu: usize,
    pub tcp_rx: usize,
    pub tcp_tx: usize,
    pub udp_buf: usize,
    pub backlog: usize,
    /// How long a connection may stay half-open (SYN-RECEIVED).
    pub syn_wait: crate::time::Duration,
    /// At most this many closed connections may linger finishing their
    /// close handshake (each still holds its buffers); past it the oldest is
    /// reset. A sixteenth of the heap's worth.
    pub orphans: usize,
}

/// The default TCP buffer size (each way) for a heap of `heap` bytes.
fn default_tcp_buffer(heap: usize) -> usize {
    (heap / 8192).clamp(4 << 10, 64 << 10).next_power_of_two().min(64 << 10)
}

fn size(value: &str) -> Option<usize> {
    let (digits, mult) = match value.as_bytes().last()? {
        b'k' | b'K' => (&value[..value.len() - 1], 1 << 10),
        b'm' | b'M' => (&value[..value.len() - 1], 1 << 20),
        _ => (value, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

fn cidr(value: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, prefix) = value.split_once('/').unwrap_or((value, "24"));
    let prefix: u8 = prefix.parse().ok()?;
    (prefix <= 32).then_some((addr.parse().ok()?, prefix))
}

impl NetConfig {
    pub fn from_command_line(cmdline: &CommandLine) -> NetConfig {
        let (_, heap) = crate::memory::heap_usage();
        let tcp_buffer = default_tcp_buffer(heap);
        let mut config = NetConfig {
            address: None,
            gateway: None,
            dns: Vec::new(),
            mtu: 1500,
            tcp_rx: tcp_buffer,
            tcp_tx: tcp_buffer,
            udp_buf: 64 << 10,
            backlog: 128,
            syn_wait: crate::time::Duration::from_secs(60),
            orphans: 0,
        };
        let warn = |key: &str, value: &str| log::warn!("net: ignoring {key}={value} (not understood)");
        if let Some(v) = cmdline.get("ip") {
            match cidr(v) {
                Some(c) => config.address = Some(c),
                None => warn("ip", v),
            }
        }
        if let Some(v) = cmdline.get("gw") {
            match v.parse() {
                Ok(a) => config.gateway = Some(a),
                Err(_) => warn("gw", v),
            }
        }
        if let Some(v) = cmdline.get("dns") {
            for part in v.split(',') {
                match part.parse() {
                    Ok(a) => config.dns.push(a),
                    Err(_) => warn("dns", part),
                }
            }
        }
        let number = |key: &str, min: usize, max: usize, slot: &mut usize| {
            if let Some(v) = cmdline.get(key) {
                match size(v) {
                    Some(n) if (min..=max).contains(&n) => *slot = n,
                    _ => log::warn!("net: ignoring {key}={v} (expected {min}..={max})"),
                }
            }
        };
        number("mtu", 576, 65_000, &mut config.mtu);
        number("net.rxbuf", 1024, 16 << 20, &mut config.tcp_rx);
        number("net.txbuf", 1024, 16 << 20, &mut config.tcp_tx);
        number("net.udpbuf", 1024, 16 << 20, &mut config.udp_buf);
        number("net.backlog", 1, 65_535, &mut config.backlog);
        let mut syn_wait = 60;
        number("net.synwait", 1, 3600, &mut syn_wait);
        config.syn_wait = crate::time::Duration::from_secs(syn_wait as u64);
        config.orphans = (heap / 16 / (config.tcp_rx + config.tcp_tx)).max(16);
        config
    }
}
