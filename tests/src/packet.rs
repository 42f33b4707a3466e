//! Hand-made frames for tests that play the guest's neighbour on a raw
//! Ethernet link ([`EthernetPeer`](crate::network::EthernetPeer)): ARP, ICMP
//! echo, and a minimal TCP peer that can send what ordinary sockets cannot
//! (SYNs that are never completed, data and FIN in one segment).
//!
//! The link is 10.0.2.0/24: the test is 10.0.2.2, the guest 10.0.2.15
//! (boot it with `ip=10.0.2.15/24 gw=10.0.2.2`).

use crate::network::EthernetPeer;
use std::time::{Duration, Instant};

pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const PEER_IP: [u8; 4] = [10, 0, 2, 2];
pub const GUEST_IP: [u8; 4] = [10, 0, 2, 15];

const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
const PROTO_TCP: u8 = 6;

/// TCP flags.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// The Internet checksum (RFC 1071) of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

fn ethernet(dst_mac: [u8; 6], ethertype: [u8; 2], payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend(dst_mac);
    f.extend(PEER_MAC);
    f.extend(ethertype);
    f.extend(payload);
    f
}

/// An ARP request (`op` 1) or reply (`op` 2) from the peer.
pub fn arp(op: u16, dst_mac: [u8; 6], target_mac: [u8; 6], target_ip: [u8; 4]) -> Vec<u8> {
    let mut a = vec![0, 1, 0x08, 0x00, 6, 4];
    a.extend(op.to_be_bytes());
    a.extend(PEER_MAC);
    a.extend(PEER_IP);
    a.extend(target_mac);
    a.extend(target_ip);
    ethernet(dst_mac, ETHERTYPE_ARP, &a)
}

/// An IPv4 packet from the peer to the guest.
fn ipv4(guest_mac: [u8; 6], protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend(total.to_be_bytes());
    ip.extend([0, 0, 0x40, 0, 64, protocol, 0, 0]);
    ip.extend(PEER_IP);
    ip.extend(GUEST_IP);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend(payload);
    ethernet(guest_mac, ETHERTYPE_IPV4, &ip)
}

/// An ICMP echo request from the peer to the guest.
pub fn icmp_echo_request(guest_mac: [u8; 6], id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0];
    icmp.extend(id.to_be_bytes());
    icmp.extend(seq.to_be_bytes());
    icmp.extend(payload);
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(guest_mac, 1, &icmp)
}

/// One TCP segment from the peer's `src_port` to the guest's `dst_port`
/// (window 64 KiB, no options).
pub fn tcp_segment(
    guest_mac: [u8; 6],
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    data: &[u8],
) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20 + data.len());
    tcp.extend(src_port.to_be_bytes());
    tcp.extend(dst_port.to_be_bytes());
    tcp.extend(seq.to_be_bytes());
    tcp.extend(ack.to_be_bytes());
    tcp.extend([5 << 4, flags, 0xFF, 0xFF, 0, 0, 0, 0]);
    tcp.extend(data);
    let mut pseudo = Vec::with_capacity(12 + tcp.len());
    pseudo.extend(PEER_IP);
    pseudo.extend(GUEST_IP);
    pseudo.extend([0, PROTO_TCP]);
    pseudo.extend((tcp.len() as u16).to_be_bytes());
    pseudo.extend(&tcp);
    let c = checksum(&pseudo);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(guest_mac, PROTO_TCP, &tcp)
}

/// A TCP segment the guest sent to the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub data: Vec<u8>,
}

/// Parses a frame from the guest as a TCP segment to the peer.
pub fn parse_tcp(frame: &[u8]) -> Option<Segment> {
    if frame.len() < 34 || frame[12..14] != ETHERTYPE_IPV4 || frame[23] != PROTO_TCP || frame[30..34] != PEER_IP {
        return None;
    }
    let ihl = usize::from(frame[14] & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
    let ip = frame.get(14..14 + total)?;
    let tcp = ip.get(ihl..)?;
    let offset = usize::from(tcp.get(12)? >> 4) * 4;
    Some(Segment {
        src_port: u16::from_be_bytes([tcp[0], tcp[1]]),
        dst_port: u16::from_be_bytes([tcp[2], tcp[3]]),
        seq: u32::from_be_bytes(tcp[4..8].try_into().ok()?),
        ack: u32::from_be_bytes(tcp[8..12].try_into().ok()?),
        flags: tcp[13],
        data: tcp.get(offset..)?.to_vec(),
    })
}

/// The guest's ARP request for the peer's address, if `frame` is one.
fn asks_for_peer(frame: &[u8]) -> Option<[u8; 6]> {
    let is_request = frame.len() >= 42 && frame[12..14] == ETHERTYPE_ARP && frame[20..22] == [0, 1];
    (is_request && frame[38..42] == PEER_IP).then(|| frame[22..28].try_into().expect("six bytes"))
}

/// The peer's side of the link: answers the guest's ARP requests for the
/// peer's address while it waits for frames.
pub struct Link {
    pub peer: EthernetPeer,
    pub guest_mac: [u8; 6],
}

impl Link {
    /// Resolves the guest's MAC address with ARP.
    pub fn resolve(mut peer: EthernetPeer, timeout: Duration) -> Result<Link, String> {
        let deadline = Instant::now() + timeout;
        let mut asked = Instant::now() - Duration::from_secs(10);
        loop {
            if Instant::now() >= deadline {
                return Err("the guest did not answer ARP".into());
            }
            if asked.elapsed() >= Duration::from_secs(1) {
                peer.send(&arp(1, [0xFF; 6], [0; 6], GUEST_IP)).map_err(|e| e.to_string())?;
                asked = Instant::now();
            }
            let Some(f) = peer.recv(Duration::from_millis(500)).map_err(|e| e.to_string())? else { continue };
            if f.len() >= 42 && f[12..14] == ETHERTYPE_ARP && f[20..22] == [0, 2] && f[28..32] == GUEST_IP {
                let guest_mac = f[22..28].try_into().expect("six bytes");
                return Ok(Link { peer, guest_mac });
            }
        }
    }

    pub fn send_tcp(
        &mut self,
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) -> Result<(), String> {
        let frame = tcp_segment(self.guest_mac, src_port, dst_port, seq, ack, flags, data);
        self.peer.send(&frame).map_err(|e| e.to_string())
    }

    /// The next frame from the guest that is not an ARP request for the
    /// peer's address (those are answered), or `None` after `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let Some(frame) = self.peer.recv(left).map_err(|e| e.to_string())? else { return Ok(None) };
            match asks_for_peer(&frame) {
                Some(mac) => self.peer.send(&arp(2, mac, mac, GUEST_IP)).map_err(|e| e.to_string())?,
                None => return Ok(Some(frame)),
            }
        }
    }

    /// The next TCP segment from the guest, or `None` after `timeout`.
    /// Other frames are dropped, ARP requests for the peer answered.
    pub fn recv_tcp(&mut self, timeout: Duration) -> Result<Option<Segment>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(frame) = self.recv(left)? else { return Ok(None) };
            if let Some(segment) = parse_tcp(&frame) {
                return Ok(Some(segment));
            }
        }
    }

    /// Opens a connection from `src_port` (SYN, SYN-ACK, ACK); returns the
    /// next sequence numbers (ours, the guest's). Segments for other ports
    /// are dropped while it waits.
    pub fn connect(&mut self, src_port: u16, dst_port: u16, timeout: Duration) -> Result<(u32, u32), String> {
        let iss = 0x1000_0000u32.wrapping_add(u32::from(src_port) << 8);
        self.send_tcp(src_port, dst_port, iss, 0, SYN, &[])?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(s) = self.recv_tcp(left)? else {
                return Err(format!("no SYN-ACK for port {src_port} within {timeout:?}"));
            };
            if s.dst_port != src_port {
                continue;
            }
            if s.flags & RST != 0 {
                return Err(format!("the guest reset the connection from port {src_port}"));
            }
            if s.flags & (SYN | ACK) == SYN | ACK && s.ack == iss.wrapping_add(1) {
                let (ours, theirs) = (iss.wrapping_add(1), s.seq.wrapping_add(1));
                self.send_tcp(src_port, dst_port, ours, theirs, ACK, &[])?;
                return Ok((ours, theirs));
            }
        }
    }
}
