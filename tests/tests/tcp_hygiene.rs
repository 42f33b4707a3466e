//! The Redis appliance's TCP behaviour against a peer that ordinary sockets
//! cannot play: the test is the guest's neighbour on a raw Ethernet link
//! (QEMU's stream netdev) and sends hand-made segments.
//!
//! - A SYN flood (SYNs that are never completed) does not lock real clients
//!   out, during the flood or after it, and the half-open connections are
//!   given up after `net.synwait` (set to 10 s here; 60 s by default).
//! - Commands that arrive in the same segment as the client's FIN are
//!   answered before the connection closes, as Redis does.

use qemu_tests::network::{EthernetPeer, Transport};
use qemu_tests::packet::{ACK, FIN, Link, PSH, RST, SYN, Segment};
use qemu_tests::{Boot, Machine};
use std::time::{Duration, Instant};

/// Generous: a cold QEMU under TCG on a loaded 2-core machine.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// For one handshake or one reply on the raw link.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);
const REDIS: u16 = 6379;
/// SYNs in the flood: several times the default backlog (128).
const FLOOD: u16 = 1000;
/// The appliance's `net.synwait` in this test.
const SYN_WAIT: Duration = Duration::from_secs(10);

fn boot(machine: &str, transport: Transport) -> (Machine, Link) {
    let peer = EthernetPeer::listen().expect("unix socket for the Ethernet link");
    let mut boot = Boot::app("redis", machine)
        .unwrap_or_else(|e| panic!("{e}"))
        .cmdline(&format!("ip=10.0.2.15/24 gw=10.0.2.2 net.synwait={} -- --requirepass secret", SYN_WAIT.as_secs()))
        .memory("128M");
    boot.qemu_args = peer.qemu_args(transport);
    let mut m = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    let mut peer = peer;
    peer.accept(BOOT_TIMEOUT).expect("QEMU connects to the link");
    m.wait_for("redis: ready, listening on 10.0.2.15:6379", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let link = Link::resolve(peer, REPLY_TIMEOUT).unwrap_or_else(|e| panic!("{e}\n{}", m.transcript()));
    (m, link)
}

/// Sends `request` with FIN in one segment on a new connection from
/// `port`; returns everything the guest sent back up to its own FIN.
fn request_with_fin(link: &mut Link, port: u16, request: &[u8]) -> Result<Vec<u8>, String> {
    let (seq, mut ack) = link.connect(port, REDIS, REPLY_TIMEOUT)?;
    link.send_tcp(port, REDIS, seq, ack, ACK | PSH | FIN, request)?;
    let mut reply = Vec::new();
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(s) = link.recv_tcp(left)? else {
            return Err(format!("no FIN from the guest; it sent {:?}", String::from_utf8_lossy(&reply)));
        };
        if s.dst_port != port {
            continue;
        }
        if s.flags & RST != 0 {
            return Err(format!("reset after {:?}", String::from_utf8_lossy(&reply)));
        }
        if s.seq == ack && !s.data.is_empty() {
            reply.extend_from_slice(&s.data);
            ack = ack.wrapping_add(s.data.len() as u32);
        }
        let fin = s.flags & FIN != 0 && s.seq.wrapping_add(s.data.len() as u32) == ack;
        if fin {
            ack = ack.wrapping_add(1);
        }
        link.send_tcp(port, REDIS, seq.wrapping_add(request.len() as u32 + 1), ack, ACK, &[])?;
        if fin {
            return Ok(reply);
        }
    }
}

const REQUEST: &[u8] = b"AUTH secret\r\nPING\r\nSET k v\r\nGET k\r\n";
const REPLY: &[u8] = b"+OK\r\n+PONG\r\n+OK\r\n$1\r\nv\r\n";

/// A flood port's SYN-ACK (the guest still holds that half-open connection).
fn is_flood_synack(s: &Segment, first_port: u16) -> bool {
    s.flags & (SYN | ACK) == SYN | ACK && (first_port..first_port + FLOOD).contains(&s.dst_port)
}

fn syn_flood_and_fin_with_data(machine: &str, transport: Transport) {
    let (mut m, mut link) = boot(machine, transport);
    let fail = |what: String, m: &mut Machine| -> ! { panic!("{machine}: {what}\n{}", m.transcript()) };

    // Commands and FIN in one segment: every reply, then the guest's FIN.
    match request_with_fin(&mut link, 40000, REQUEST) {
        Ok(reply) if reply == REPLY => {}
        Ok(reply) => fail(format!("FIN with commands got {:?}", String::from_utf8_lossy(&reply)), &mut m),
        Err(e) => fail(format!("FIN with commands: {e}"), &mut m),
    }

    // The flood: SYNs from many ports, never completed.
    let first_port = 20000;
    for port in first_port..first_port + FLOOD {
        link.send_tcp(port, REDIS, 0x5000_0000, 0, SYN, &[]).unwrap_or_else(|e| fail(e, &mut m));
    }
    let flood_end = Instant::now();
    // A real client during the flood: its SYN comes after a thousand others.
    match request_with_fin(&mut link, 40001, REQUEST) {
        Ok(reply) if reply == REPLY => {}
        Ok(reply) => fail(format!("a client during the flood got {:?}", String::from_utf8_lossy(&reply)), &mut m),
        Err(e) => fail(format!("a client during the flood: {e}"), &mut m),
    }
    eprintln!("{machine}: a client served {:.1} s after a {FLOOD}-SYN flood", flood_end.elapsed().as_secs_f64());

    // The half-open connections are given up after net.synwait: their
    // SYN-ACK retransmissions stop. Wait for the guest to fall silent on
    // the flood's ports (a quiet stretch of 5 s), at most 3 x synwait.
    let deadline = flood_end + 3 * SYN_WAIT;
    let mut last_synack = flood_end;
    loop {
        let now = Instant::now();
        if now.duration_since(last_synack) >= Duration::from_secs(5) && now >= flood_end + SYN_WAIT {
            break;
        }
        if now >= deadline {
            fail(
                format!(
                    "SYN-ACKs to the flood's ports still came {:.1} s after it",
                    last_synack.duration_since(flood_end).as_secs_f64()
                ),
                &mut m,
            );
        }
        if let Ok(Some(s)) = link.recv_tcp(Duration::from_millis(500))
            && is_flood_synack(&s, first_port)
        {
            last_synack = Instant::now();
        }
    }
    eprintln!(
        "{machine}: last SYN-ACK to the flood {:.1} s after it",
        last_synack.duration_since(flood_end).as_secs_f64()
    );

    // After the flood: a new client is served at once.
    match request_with_fin(&mut link, 40002, REQUEST) {
        Ok(reply) if reply == REPLY => {}
        Ok(reply) => fail(format!("a client after the flood got {:?}", String::from_utf8_lossy(&reply)), &mut m),
        Err(e) => fail(format!("a client after the flood: {e}"), &mut m),
    }
    assert!(!m.transcript().contains("KERNEL PANIC"), "{}", m.transcript());
}

#[test]
fn x86_64_q35_redis_survives_a_syn_flood_and_answers_commands_sent_with_fin() {
    syn_flood_and_fin_with_data("q35", Transport::Pci);
}

#[test]
fn aarch64_virt_redis_survives_a_syn_flood_and_answers_commands_sent_with_fin() {
    syn_flood_and_fin_with_data("virt", Transport::Pci);
}
