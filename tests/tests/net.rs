//! Network tests: the echo appliance behind passt on x86_64 q35
//! (virtio-net-pci) and microvm (virtio-mmio), and on aarch64 virt with
//! either transport (GICv2, and GICv3 on `virt-gicv3`): DHCP, a static
//! `ip=`, 50 concurrent clients each echoing 1 MiB while others reset or go
//! silent, clients connecting while the guest boots, and ICMP echo checked
//! on the raw Ethernet link. Test names start
//! with the architecture (`cargo xtask test --arch` skips the other one).

use qemu_tests::network::{Backend, EthernetPeer, Forward, Network, Transport, free_port, passt_cmdline};
use qemu_tests::packet::{GUEST_IP, Link, PEER_IP, PEER_MAC, checksum, icmp_echo_request};
use qemu_tests::{Boot, Machine, console_timestamp};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Generous: a cold QEMU under TCG on a loaded 2-core machine.
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// Per-socket I/O timeout for the clients.
const IO_TIMEOUT: Duration = Duration::from_secs(120);

struct Echo {
    machine: Machine,
    port: u16,
    _network: Network,
}

/// Boots the echo appliance on `machine` behind passt, with its NIC on
/// `transport`, and waits for its address.
fn boot_echo(machine: &str, transport: Transport, cmdline: &str, extra_qemu: &[&str]) -> (Echo, String) {
    boot_echo_on(Backend::Passt, machine, transport, cmdline, extra_qemu)
}

/// [`boot_echo`] on another network back end.
fn boot_echo_on(
    backend: Backend,
    machine: &str,
    transport: Transport,
    cmdline: &str,
    extra_qemu: &[&str],
) -> (Echo, String) {
    let port = free_port();
    let network =
        Network::start(backend, transport, &[Forward { host: port, guest: 7 }]).unwrap_or_else(|e| panic!("{e}"));
    let mut boot = Boot::app("echo", machine).unwrap_or_else(|e| panic!("{e}")).cmdline(&passt_cmdline(cmdline));
    boot.qemu_args = network.qemu_args.clone();
    boot.qemu_args.extend(extra_qemu.iter().map(|s| s.to_string()));
    let mut m = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    let address = wait_for_both(&mut m, "net: address ", "echo: listening on TCP port 7");
    (Echo { machine: m, port, _network: network }, address)
}

/// Waits for two console lines that may come in either order; returns the first.
fn wait_for_both(m: &mut Machine, first: &str, second: &str) -> String {
    let line = m.wait_for(first, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    if !m.transcript().contains(second) {
        m.wait_for(second, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    }
    line
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the forwarded port");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Deterministic pseudo-random bytes (xorshift64*), different per seed.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len.div_ceil(8))
        .flat_map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes()
        })
        .take(len)
        .collect()
}

/// Sends `data`, half-closes, and returns everything echoed until EOF.
fn echo_through(port: u16, data: &[u8]) -> Vec<u8> {
    let mut stream = connect(port);
    let mut reader = stream.try_clone().unwrap();
    let expected = data.len();
    let receiver = std::thread::spawn(move || {
        // Room for all of it up front: no reallocation stalls the reader.
        let mut got = Vec::with_capacity(expected);
        reader.read_to_end(&mut got).map(|_| got)
    });
    stream.write_all(data).expect("send");
    stream.shutdown(Shutdown::Write).expect("half-close");
    receiver.join().unwrap().expect("receive the echo")
}

fn small_echo_works(port: u16) {
    let got = echo_through(port, b"hello, appliance\n");
    assert_eq!(got, b"hello, appliance\n");
}

/// 50 clients each send 1 MiB of random bytes at once and must get exactly
/// the same bytes back, while one client resets mid-stream and another
/// connects, sends a little and then goes silent without reading.
fn fifty_clients(machine: &str, transport: Transport) {
    const CLIENTS: usize = 50;
    const SIZE: usize = 1 << 20;
    let (mut echo, _) = boot_echo(machine, transport, "", &[]);
    let port = echo.port;

    // The silent one: sends 64 KiB, never reads, stays connected throughout.
    let mut silent = connect(port);
    silent.write_all(&random_bytes(999, 64 << 10)).unwrap();

    let resetter = std::thread::spawn(move || {
        let mut stream = connect(port);
        stream.write_all(&random_bytes(1000, 256 << 10)).unwrap();
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).unwrap();
        // Closing with unread data makes the host send RST.
        drop(stream);
    });

    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            std::thread::spawn(move || {
                let data = random_bytes(i as u64, SIZE);
                let got = echo_through(port, &data);
                (got.len(), got == data)
            })
        })
        .collect();
    let results: Vec<(usize, bool)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let elapsed = started.elapsed();
    resetter.join().unwrap();
    for (i, (len, same)) in results.iter().enumerate() {
        assert!(*same, "client {i}: got {len} bytes back, not the {SIZE} sent\n{}", echo.machine.transcript());
    }
    eprintln!(
        "{machine} ({transport:?}): {CLIENTS} clients x {} KiB echoed in {:.1} s ({:.2} MB/s each way)",
        SIZE >> 10,
        elapsed.as_secs_f64(),
        (CLIENTS * SIZE) as f64 / elapsed.as_secs_f64() / 1e6
    );
    // The server still serves new clients, and the silent one is still there.
    small_echo_works(port);
    silent.write_all(b"x").expect("the silent client is still connected");
    echo.machine.wait_for("echo: 32 connections so far", Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
}

/// Clients that connect from before QEMU starts (as a boot-time probe or a
/// retrying client does) must not stall the guest. On q35 the frames they
/// cause arrive while the driver starts, and a level-triggered interrupt
/// raised before its line was routed used to be lost for good: DHCP then
/// waited for its 10 s retry and every request for a timer.
fn connections_during_boot_do_not_stall(machine: &str, transport: Transport) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let port = free_port();
    let network = Network::start(Backend::Passt, transport, &[Forward { host: port, guest: 7 }])
        .unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut probes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                probes.push(std::thread::spawn(move || {
                    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return };
                    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                    let _ = s.write_all(b"probe\n");
                    let _ = s.read(&mut [0u8; 16]);
                }));
                std::thread::sleep(Duration::from_millis(10));
            }
            probes.into_iter().for_each(|p| drop(p.join()));
        })
    };
    let mut boot = Boot::app("echo", machine).unwrap_or_else(|e| panic!("{e}")).cmdline(&passt_cmdline(""));
    boot.qemu_args = network.qemu_args.clone();
    let mut m = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    let address = m.wait_for("net: address ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    stop.store(true, Ordering::Relaxed);
    flood.join().unwrap();
    // The guest's own clock: DHCP's first retry would come at 10 s.
    let at = console_timestamp(&address).unwrap_or_else(|| panic!("no timestamp on {address:?}"));
    assert!(at < 8.0, "DHCP finished {at} s after boot under a connection flood\n{}", m.transcript());
    // Interrupts (not timers) drive the device: 300 round trips take well
    // under a second each way, not 100 ms apiece.
    let mut stream = connect(port);
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    for i in 0..300u32 {
        let line = format!("round trip {i}\n");
        stream.write_all(line.as_bytes()).unwrap();
        let mut got = vec![0u8; line.len()];
        stream.read_exact(&mut got).unwrap_or_else(|e| panic!("round trip {i}: {e}\n{}", m.transcript()));
        assert_eq!(got, line.as_bytes());
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(15), "300 round trips took {elapsed:?}\n{}", m.transcript());
    eprintln!("{machine} ({transport:?}): address at {at} s under the flood, 300 round trips in {elapsed:?}");
}

#[test]
fn x86_64_q35_connections_during_boot_do_not_stall() {
    connections_during_boot_do_not_stall("q35", Transport::Pci);
}

#[test]
fn aarch64_virt_pci_connections_during_boot_do_not_stall() {
    connections_during_boot_do_not_stall("virt", Transport::Pci);
}

/// DHCP gives the address, the NIC is found on `transport` and interrupts
/// (not polling) drive it, and a small echo comes back.
fn dhcp_lease_is_obtained_and_logged(machine: &str, transport: Transport) {
    let (echo, address) = boot_echo(machine, transport, "", &[]);
    assert!(address.contains("(DHCP lease)"), "the address comes from DHCP: {address}");
    let ip = address.split("net: address ").nth(1).and_then(|r| r.split('/').next()).unwrap_or("");
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "the log shows the leased address: {address}");
    let transcript = echo.machine.transcript();
    let found = match transport {
        Transport::Pci => "net: virtio-net on PCI",
        Transport::Mmio => "net: virtio-net on virtio-mmio",
    };
    let nic = transcript.lines().find(|l| l.contains(found)).unwrap_or_else(|| panic!("{found}:\n{transcript}"));
    assert!(nic.contains("interrupt line"), "the NIC interrupts: {nic}");
    small_echo_works(echo.port);
}

#[test]
fn x86_64_q35_dhcp_lease_is_obtained_and_logged() {
    dhcp_lease_is_obtained_and_logged("q35", Transport::Pci);
}

#[test]
fn x86_64_microvm_dhcp_lease_is_obtained_and_logged() {
    dhcp_lease_is_obtained_and_logged("microvm", Transport::Mmio);
}

#[test]
fn aarch64_virt_pci_dhcp_lease_is_obtained_and_logged() {
    dhcp_lease_is_obtained_and_logged("virt", Transport::Pci);
}

#[test]
fn aarch64_virt_mmio_dhcp_lease_is_obtained_and_logged() {
    dhcp_lease_is_obtained_and_logged("virt", Transport::Mmio);
}

#[test]
fn aarch64_virt_gicv3_pci_dhcp_lease_is_obtained_and_logged() {
    dhcp_lease_is_obtained_and_logged("virt-gicv3", Transport::Pci);
}

#[test]
fn aarch64_virt_gicv3_mmio_dhcp_lease_is_obtained_and_logged() {
    dhcp_lease_is_obtained_and_logged("virt-gicv3", Transport::Mmio);
}

#[test]
fn x86_64_q35_pci_fifty_clients_echo_1mib_each() {
    fifty_clients("q35", Transport::Pci);
}

#[test]
fn x86_64_microvm_mmio_fifty_clients_echo_1mib_each() {
    fifty_clients("microvm", Transport::Mmio);
}

#[test]
fn aarch64_virt_pci_fifty_clients_echo_1mib_each() {
    fifty_clients("virt", Transport::Pci);
}

#[test]
fn aarch64_virt_mmio_fifty_clients_echo_1mib_each() {
    fifty_clients("virt", Transport::Mmio);
}

/// Without ACPI, microvm describes its virtio-mmio slots on the kernel
/// command line (`virtio_mmio.device=`).
/// One 100 MiB stream through QEMU's user networking (~72,000 full-size frames each way, so both
/// virtqueues' 16-bit ring indices wrap) comes back exactly.
fn long_stream_comes_back_exactly(machine: &str, transport: Transport) {
    // Through QEMU's user networking: Debian 12's passt (2023-03) resets a
    // connection whose guest window stays shut for seconds, which a host
    // reader starved by the other tests' guests on two cores causes (about
    // one run in two); this test is about the guest's rings and the bytes.
    let (echo, _) = boot_echo_on(Backend::User, machine, transport, "", &[]);
    // 100 MiB is ~72,000 full-size frames each way.
    let data = random_bytes(7, 100 << 20);
    let started = Instant::now();
    let got = echo_through(echo.port, &data);
    assert_eq!(got.len(), data.len(), "the whole stream comes back ({:?})", started.elapsed());
    assert!(got == data, "the echoed bytes are exactly the bytes sent");
}

#[test]
fn x86_64_q35_pci_long_stream_comes_back_exactly() {
    long_stream_comes_back_exactly("q35", Transport::Pci);
}

#[test]
fn aarch64_virt_pci_long_stream_comes_back_exactly() {
    long_stream_comes_back_exactly("virt", Transport::Pci);
}

#[test]
fn x86_64_microvm_without_acpi_finds_the_nic_on_the_command_line() {
    let (echo, address) = boot_echo("microvm", Transport::Mmio, "loglevel=debug", &["-machine", "acpi=off"]);
    assert!(address.contains("(DHCP lease)"), "{address}");
    assert!(echo.machine.transcript().contains("virtio-net on virtio-mmio"), "{}", echo.machine.transcript());
    small_echo_works(echo.port);
}

/// The test plays the guest's neighbour on a raw Ethernet link (QEMU's
/// stream netdev): it resolves the guest's MAC with ARP and pings it. This
/// needs no privileges (no tap, no namespace) and checks the static `ip=`
/// configuration too (there is no DHCP server on this link).
fn static_ip_answers_arp_and_icmp_echo(machine: &str, transport: Transport) {
    let mut peer = EthernetPeer::listen().expect("unix socket for the Ethernet link");
    let mut boot = Boot::app("echo", machine).unwrap_or_else(|e| panic!("{e}")).cmdline("ip=10.0.2.15/24 gw=10.0.2.2");
    boot.qemu_args = peer.qemu_args(transport);
    let mut m = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    peer.accept(BOOT_TIMEOUT).expect("QEMU connects to the link");
    let line = wait_for_both(&mut m, "net: address ", "echo: listening");
    assert!(line.contains("net: address 10.0.2.15/24 (static), gateway 10.0.2.2"), "{line}");

    // ARP: who has 10.0.2.15? (The link answers the guest's own ARP requests.)
    let mut link = Link::resolve(peer, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}\n{}", m.transcript()));
    let guest_mac = link.guest_mac;
    assert_eq!(guest_mac, [0x52, 0x54, 0, 0x12, 0x34, 0x56], "QEMU's default MAC");

    for seq in 1..=3u16 {
        let payload = random_bytes(u64::from(seq), 56);
        let sent = Instant::now();
        link.peer.send(&icmp_echo_request(guest_mac, 0x4242, seq, &payload)).unwrap();
        let reply = loop {
            assert!(sent.elapsed() < Duration::from_secs(30), "no echo reply to ping {seq}\n{}", m.transcript());
            let Some(f) = link.recv(Duration::from_secs(5)).unwrap() else { continue };
            if f.len() >= 42 && f[12..14] == [0x08, 0x00] && f[23] == 1 && f[34] == 0 {
                break f;
            }
        };
        let rtt = sent.elapsed();
        assert_eq!(&reply[0..6], &PEER_MAC, "addressed to us");
        assert_eq!(&reply[26..30], &GUEST_IP, "from the guest");
        assert_eq!(&reply[30..34], &PEER_IP, "to us");
        assert_eq!(&reply[38..40], &0x4242u16.to_be_bytes(), "same identifier");
        assert_eq!(&reply[40..42], &seq.to_be_bytes(), "same sequence number");
        assert_eq!(&reply[42..], &payload[..], "same payload");
        assert_eq!(checksum(&reply[34..]), 0, "valid ICMP checksum");
        eprintln!("ping {seq}: reply in {} us", rtt.as_micros());
    }
    assert!(!m.transcript().contains("DHCP"), "a static address means no DHCP:\n{}", m.transcript());
}

#[test]
fn x86_64_q35_static_ip_answers_arp_and_icmp_echo() {
    static_ip_answers_arp_and_icmp_echo("q35", Transport::Pci);
}

#[test]
fn x86_64_microvm_static_ip_answers_arp_and_icmp_echo() {
    static_ip_answers_arp_and_icmp_echo("microvm", Transport::Mmio);
}

#[test]
fn aarch64_virt_pci_static_ip_answers_arp_and_icmp_echo() {
    static_ip_answers_arp_and_icmp_echo("virt", Transport::Pci);
}

#[test]
fn aarch64_virt_mmio_static_ip_answers_arp_and_icmp_echo() {
    static_ip_answers_arp_and_icmp_echo("virt", Transport::Mmio);
}
