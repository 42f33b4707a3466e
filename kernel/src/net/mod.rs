//! Networking: the virtio-net device, smoltcp (Ethernet, ARP, IPv4, ICMP
//! echo, TCP, UDP, DHCPv4) and the socket API apps use ([`TcpListener`],
//! [`TcpStream`], [`UdpSocket`], [`Poller`]).
//!
//! The stack starts when an app first uses it (an app without networking
//! needs no network device). Configuration comes from the command line (see
//! [`config`]): DHCP by default, or `ip=ADDR/PREFIX gw=GATEWAY dns=...`.
//!
//! Execution model: everything runs on the one thread with interrupts
//! masked. The device's interrupt handler only acknowledges the device; the
//! code that waits for network events (a blocking socket call or
//! [`Poller::wait`]) polls the interface, and when nothing it waits for is
//! ready, arms the timer for smoltcp's next deadline and halts until the
//! next interrupt.

pub mod config;
mod device;
mod socket;

pub use core::net::{Ipv4Addr, SocketAddrV4};
pub use socket::{Event, Interest, NetError, Poller, Shutdown, Source, TcpListener, TcpStream, UdpSocket};

use crate::memory::KernelHardware;
use crate::{arch, time};
use alloc::vec;
use alloc::vec::Vec;
use config::NetConfig;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use drivers::net::VirtioNet;
use smoltcp::iface::{Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::{dhcpv4, tcp};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};
use spin::Mutex;

/// How long a closed connection may linger (finishing its close handshake)
/// before it is reset and its memory freed.
const ORPHAN_LINGER: time::Duration = time::Duration::from_secs(30);
/// Without a usable interrupt line, how often to poll the device.
const POLL_INTERVAL: time::Duration = time::Duration::from_millis(1);

enum State {
    Uninitialised,
    Unavailable,
    Up(alloc::boxed::Box<Stack>),
}

static STACK: Mutex<State> = Mutex::new(State::Uninitialised);
/// The device's interrupt line, for masking it from the handler.
static IRQ_LINE: AtomicU32 = AtomicU32::new(u32::MAX);
/// The handler could not acknowledge the device and masked its line.
static NEEDS_UNMASK: AtomicBool = AtomicBool::new(false);

/// The network stack: interface, sockets, device, and the app-facing tables.
pub(crate) struct Stack {
    iface: Interface,
    pub(crate) sockets: SocketSet<'static>,
    nic: VirtioNet<KernelHardware>,
    interrupts: bool,
    dhcp: Option<SocketHandle>,
    pub(crate) config: NetConfig,
    address: Option<(Ipv4Addr, u8)>,
    gateway: Option<Ipv4Addr>,
    dns: Vec<Ipv4Addr>,
    pub(crate) tables: socket::Tables,
    /// Closed connections finishing their handshake: (socket, reset deadline).
    orphans: alloc::collections::VecDeque<(SocketHandle, time::Instant)>,
}

fn smol_now() -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(time::since_entry().as_micros() as i64)
}

fn ipv4(a: Ipv4Address) -> Ipv4Addr {
    Ipv4Addr::from(a.octets())
}

/// Runs `f` on the stack, starting it first if needed.
pub(crate) fn with_stack<R>(f: impl FnOnce(&mut Stack) -> R) -> Result<R, NetError> {
    let mut guard = STACK.lock();
    if matches!(*guard, State::Uninitialised) {
        *guard = match Stack::start() {
            Some(stack) => State::Up(alloc::boxed::Box::new(stack)),
            None => State::Unavailable,
        };
    }
    match &mut *guard {
        State::Up(stack) => Ok(f(stack)),
        _ => Err(NetError::NoDevice),
    }
}

/// Starts the network if it is not running. Apps need not call this (the
/// first socket does), but it lets DHCP begin early.
pub fn start() -> Result<(), NetError> {
    with_stack(|_| ())
}

/// The interface's IPv4 address and prefix length, once configured.
pub fn address() -> Option<(Ipv4Addr, u8)> {
    with_stack(|s| s.address).ok().flatten()
}

/// The receive and send buffer sizes of each TCP connection (what one
/// connection costs in memory, open or idle, beyond the app's own state).
pub fn tcp_buffer_sizes() -> Result<(usize, usize), NetError> {
    with_stack(|s| (s.config.tcp_rx, s.config.tcp_tx))
}

/// The DNS servers (from `dns=` or DHCP).
pub fn dns_servers() -> Vec<Ipv4Addr> {
    with_stack(|s| s.dns.clone()).unwrap_or_default()
}

/// The network device's frame counters, if the stack is running (it is not
/// started by asking).
pub fn statistics() -> Option<drivers::net::Stats> {
    match &*STACK.lock() {
        State::Up(stack) => Some(stack.nic.stats()),
        _ => None,
    }
}

/// Waits up to `timeout` for an address (DHCP); returns it.
pub fn wait_for_address(timeout: time::Duration) -> Result<(Ipv4Addr, u8), NetError> {
    let deadline = time::Instant::now() + timeout;
    block_until(Some(deadline), |s| s.address)?.ok_or(NetError::TimedOut)
}

/// Device interrupt: acknowledge the device so its level-triggered line
/// drops. The waiting code polls the stack after `wait_for_interrupt`.
fn interrupt() {
    match STACK.try_lock() {
        Some(mut guard) => {
            if let State::Up(stack) = &mut *guard {
                stack.nic.ack_interrupt();
            }
        }
        // Cannot happen in this execution model (the stack is never locked
        // while the CPU waits); should it, keep the line quiet until polled.
        None => {
            mask_irq(IRQ_LINE.load(Ordering::Relaxed));
            NEEDS_UNMASK.store(true, Ordering::Release);
        }
    }
}

fn enable_irq(line: u32) -> bool {
    match crate::irq::share_line(line, interrupt) {
        Ok(()) => true,
        Err(e) => {
            log::warn!("net: interrupt line {line}: {e}; polling instead");
            false
        }
    }
}

fn mask_irq(line: u32) {
    arch::mask_device_irq(line)
}

fn unmask_irq(line: u32) {
    arch::unmask_device_irq(line)
}

impl Stack {
    fn start() -> Option<Stack> {
        let config = NetConfig::from_command_line(crate::CommandLine::get_global());
        let Some(found) = device::discover(config.mtu) else {
            log::warn!("net: no virtio-net device found");
            return None;
        };
        let mut nic = found.nic;
        let mac = nic.mac_address();
        let interrupts = match found.irq {
            Some(line) => {
                IRQ_LINE.store(line, Ordering::Relaxed);
                enable_irq(line)
            }
            None => false,
        };
        log::info!(
            "net: {}, MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, MTU {}, {}",
            found.description,
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5],
            config.mtu,
            match (found.irq, interrupts) {
                (Some(line), true) => alloc::format!("interrupt line {line}"),
                _ => alloc::string::String::from("polled"),
            }
        );
        let mut iface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        iface_config.random_seed =
            arch::monotonic_nanos() ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 0]);
        let iface = Interface::new(iface_config, &mut nic, smol_now());
        let mut stack = Stack {
            iface,
            sockets: SocketSet::new(vec![]),
            nic,
            interrupts,
            dhcp: None,
            address: None,
            gateway: None,
            dns: config.dns.clone(),
            config,
            tables: socket::Tables::default(),
            orphans: alloc::collections::VecDeque::new(),
        };
        match stack.config.address {
            Some((addr, prefix)) => {
                let gateway = stack.config.gateway;
                stack.set_address(Some((addr, prefix)), gateway);
                stack.log_address("static");
            }
            None => {
                let dhcp = dhcpv4::Socket::new();
                stack.dhcp = Some(stack.sockets.add(dhcp));
                log::info!("net: requesting an address with DHCP");
            }
        }
        Some(stack)
    }

    fn set_address(&mut self, address: Option<(Ipv4Addr, u8)>, gateway: Option<Ipv4Addr>) {
        self.address = address;
        self.gateway = gateway;
        self.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            if let Some((a, p)) = address {
                let _ = addrs.push(IpCidr::Ipv4(Ipv4Cidr::new(Ipv4Address::from(a.octets()), p)));
            }
        });
        let routes = self.iface.routes_mut();
        routes.remove_default_ipv4_route();
        if let Some(gw) = gateway {
            let _ = routes.add_default_ipv4_route(Ipv4Address::from(gw.octets()));
        }
    }

    fn log_address(&self, how: &str) {
        let Some((addr, prefix)) = self.address else { return };
        let gateway = self.gateway.map_or(alloc::string::String::from("none"), |g| alloc::format!("{g}"));
        log::info!("net: address {addr}/{prefix} ({how}), gateway {gateway}, DNS {:?}", self.dns);
    }

    fn poll_dhcp(&mut self) {
        let Some(handle) = self.dhcp else { return };
        match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            None => {}
            Some(dhcpv4::Event::Configured(lease)) => {
                let address = (ipv4(lease.address.address()), lease.address.prefix_len());
                let gateway = lease.router.map(ipv4);
                if self.config.dns.is_empty() {
                    self.dns = lease.dns_servers.iter().copied().map(ipv4).collect();
                }
                if self.address != Some(address) || self.gateway != gateway {
                    self.set_address(Some(address), gateway);
                    self.log_address("DHCP lease");
                }
            }
            Some(dhcpv4::Event::Deconfigured) if self.address.is_some() => {
                log::warn!("net: DHCP lease lost");
                self.set_address(None, None);
            }
            Some(dhcpv4::Event::Deconfigured) => {}
        }
    }

    /// Processes everything the device has, sends what the sockets have,
    /// runs DHCP and the bookkeeping of listeners and closed connections.
    pub(crate) fn poll(&mut self) {
        // Acknowledge the device before looking at its rings, on every poll
        // and not only in the interrupt handler: a level-triggered line that
        // was raised before it was routed (frames queued while the driver
        // started) is never delivered on q35, and would stay asserted with
        // every later interrupt lost behind it. Reading the status drops the
        // line; anything the device does after this raises it again.
        self.nic.ack_interrupt();
        if NEEDS_UNMASK.swap(false, Ordering::Acquire) {
            unmask_irq(IRQ_LINE.load(Ordering::Relaxed));
        }
        let now = smol_now();
        self.nic.service();
        for _round in 0..16 {
            let mut received = 0;
            while received < 64 {
                match self.iface.poll_ingress_single(now, &mut self.nic, &mut self.sockets) {
                    PollIngressSingleResult::None => break,
                    PollIngressSingleResult::PacketProcessed | PollIngressSingleResult::SocketStateChanged => {
                        received += 1;
                        if let Some(flow) = socket::flow_with_input(self.nic.last_received_headers()) {
                            socket::note_arrival(self, flow);
                        }
                        // A SYN may just have taken a listening socket: arm
                        // another before the next packet (smoltcp has no
                        // backlog and would answer a second SYN with RST).
                        socket::rearm_listeners(self);
                    }
                }
            }
            // Each egress pass sends at most one packet per socket.
            for _ in 0..64 {
                if self.iface.poll_egress(now, &mut self.nic, &mut self.sockets) == PollResult::None {
                    break;
                }
            }
            if received < 64 && !self.nic.has_rx() {
                break;
            }
        }
        self.poll_dhcp();
        self.reap_orphans();
    }

    /// When the stack next needs polling without device activity.
    fn next_wake(&mut self) -> Option<time::Instant> {
        let now = smol_now();
        let at = self.iface.poll_at(now, &self.sockets).map(|at| {
            // `at` may be in the past ("poll now"); smoltcp's `Instant - Instant`
            // is an absolute difference, so compare first.
            let ahead = if at > now { (at - now).total_micros() } else { 0 };
            time::Instant::now() + time::Duration::from_micros(ahead)
        });
        if self.interrupts {
            at
        } else {
            let poll = time::Instant::now() + POLL_INTERVAL;
            Some(at.map_or(poll, |at| at.min(poll)))
        }
    }

    /// Takes over a socket the app closed: it delivers what was written and
    /// finishes its handshake (or is reset after [`ORPHAN_LINGER`], or when
    /// the peer sends more data) and is then removed.
    pub(crate) fn orphan(&mut self, handle: SocketHandle) {
        if self.orphans.len() >= self.config.orphans {
            // Orphans are in the order they were closed: reset the oldest
            // (no RST: its buffers are what must go now).
            if let Some((oldest, _)) = self.orphans.pop_front() {
                self.sockets.remove(oldest);
            }
        }
        self.orphans.push_back((handle, time::Instant::now() + ORPHAN_LINGER));
    }

    fn reap_orphans(&mut self) {
        let now = time::Instant::now();
        let sockets = &mut self.sockets;
        self.orphans.retain(|&(handle, deadline)| {
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            match socket.state() {
                tcp::State::Closed | tcp::State::TimeWait => {
                    sockets.remove(handle);
                    false
                }
                _ if now >= deadline => {
                    // Sends RST at the next egress; removed next time.
                    socket.abort();
                    true
                }
                _ => {
                    // Nobody reads a closed connection. Data that arrives
                    // once what was written is delivered gets a reset, as
                    // on Linux, so a peer that keeps writing (a client after
                    // its protocol error) is stopped at once.
                    let mut received = false;
                    while socket.can_recv() {
                        match socket.recv(|data| (data.len(), !data.is_empty())) {
                            Ok(got) => received |= got,
                            Err(_) => break,
                        }
                    }
                    if received && socket.send_queue() == 0 {
                        socket.abort();
                    }
                    true
                }
            }
        });
    }
}

/// Polls the stack until `check` returns `Some`, halting between events; gives
/// up at `deadline` (returning `None`).
pub(crate) fn block_until<R>(
    deadline: Option<time::Instant>,
    mut check: impl FnMut(&mut Stack) -> Option<R>,
) -> Result<Option<R>, NetError> {
    loop {
        let wake = with_stack(|stack| {
            stack.poll();
            match check(stack) {
                Some(r) => Ok(r),
                None => Err(stack.next_wake()),
            }
        })?;
        let wake = match wake {
            Ok(r) => return Ok(Some(r)),
            Err(wake) => wake,
        };
        let now = time::Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        let wake = [wake, deadline, time::clock_upkeep()].into_iter().flatten().min();
        match wake {
            // smoltcp wants to run again right away (e.g. the transmit ring
            // was full): the device's completion interrupt wakes us, the
            // timer bounds the wait.
            Some(at) if at <= now => arch::set_timer(Some((now + time::Duration::from_micros(200)).as_nanos())),
            Some(at) => arch::set_timer(Some(at.as_nanos())),
            None => arch::set_timer(None),
        }
        time::idle_until_interrupt();
    }
}
