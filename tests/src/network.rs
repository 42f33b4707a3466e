//! Network back ends for QEMU guests, shared by `cargo xtask run` and the
//! integration tests.
//!
//! - **passt** (default): user-mode, no privileges, handles many simultaneous
//!   connections (QEMU's slirp `hostfwd` listens with a backlog of 1, so 50
//!   simultaneous connects stall). QEMU attaches to its unix socket with
//!   `-netdev stream`; passt answers the guest's DHCP and forwards
//!   `127.0.0.1:HOST` to the guest's `GUEST` port (`-t`).
//! - **user**: QEMU's built-in slirp with `hostfwd`, the fallback when passt
//!   is missing.
//! - **none**: no network device.
//!
//! [`EthernetPeer`] is a fourth, test-only back end: the test itself is the
//! other end of the guest's Ethernet link (QEMU's `-netdev stream` protocol:
//! each frame preceded by its length as a 32-bit big-endian number), so it
//! can send hand-made frames such as ICMP echo requests.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Which host-side network the guest gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Passt,
    User,
    /// A tap device in a network namespace (not implemented yet).
    Tap,
    None,
}

impl Backend {
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "passt" => Some(Backend::Passt),
            "user" | "slirp" => Some(Backend::User),
            "tap" => Some(Backend::Tap),
            "none" => Some(Backend::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Passt => "passt",
            Backend::User => "user",
            Backend::Tap => "tap",
            Backend::None => "none",
        }
    }
}

/// How the virtio-net device is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// virtio-net-pci (q35, pc, aarch64 virt).
    Pci,
    /// virtio-net-device on a virtio-mmio slot (microvm, aarch64 virt).
    Mmio,
}

impl Transport {
    pub fn parse(s: &str) -> Option<Transport> {
        match s {
            "pci" => Some(Transport::Pci),
            "mmio" => Some(Transport::Mmio),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Transport::Pci => "pci",
            Transport::Mmio => "mmio",
        }
    }

    /// The default transport of a machine profile (the first of its
    /// `transports`; PCI if the profile cannot be read).
    pub fn for_machine(machine: &str) -> Transport {
        crate::Profile::load(machine).ok().and_then(|p| p.transports.first().copied()).unwrap_or(Transport::Pci)
    }

    /// The QEMU `-device` for a NIC on netdev `n0`.
    pub fn device(self) -> &'static str {
        match self {
            // No option ROM: the kernel drives the device itself.
            Transport::Pci => "virtio-net-pci,netdev=n0,romfile=",
            Transport::Mmio => "virtio-net-device,netdev=n0",
        }
    }
}

/// A host port forwarded to a guest port (TCP, on 127.0.0.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    pub host: u16,
    pub guest: u16,
}

impl Forward {
    /// Parses `HOST:GUEST` (or just `PORT` for the same port on both).
    pub fn parse(s: &str) -> Option<Forward> {
        match s.split_once(':') {
            Some((h, g)) => Some(Forward { host: h.parse().ok()?, guest: g.parse().ok()? }),
            None => s.parse().ok().map(|p| Forward { host: p, guest: p }),
        }
    }
}

/// The default forwards of an app (`cargo xtask run` uses them when no
/// `--forward` is given).
pub fn default_forwards(app: &str) -> Vec<Forward> {
    match app {
        "echo" => vec![Forward { host: 7007, guest: 7 }],
        "redis" => vec![Forward { host: 6379, guest: 6379 }],
        _ => Vec::new(),
    }
}

/// The command line for `app` behind a back end of this module: they
/// forward only the host's loopback address to the guest, so the Redis
/// appliance may serve there without a password. Adds
/// `--protected-mode no` to its arguments (after the kernel's `--`) unless
/// they choose protected mode or a password themselves. Other apps' command
/// lines are returned as they are.
pub fn loopback_only_cmdline(app: &str, cmdline: &str) -> String {
    if app != "redis" || cmdline.contains("protected-mode") || cmdline.contains("requirepass") {
        return cmdline.to_string();
    }
    let separated = cmdline.split_whitespace().any(|word| word == "--");
    match (cmdline.trim().is_empty(), separated) {
        (true, _) => "-- --protected-mode no".to_string(),
        (false, true) => format!("{cmdline} --protected-mode no"),
        (false, false) => format!("{cmdline} -- --protected-mode no"),
    }
}

/// The kernel parameters that keep bulk transfers through passt fast:
/// Debian 12's passt stalls a connection for about 200 ms each time it has
/// filled the guest's receive window when that window is under 64 KiB
/// (without window scaling), and paces what the guest sends by its own
/// delayed ACKs, so with the kernel's small default buffers (16 KiB at
/// 128 MiB of RAM) a large upload crawls at about 100 KB/s and a 100 MiB
/// echo does not finish. Real TCP peers do neither. The default is small
/// because it costs every open connection, so launchers meant for bulk
/// work behind passt ask for 64 KiB each way.
pub const PASST_BUFFERS: &str = "net.rxbuf=64K net.txbuf=64K";

/// `cmdline` with [`PASST_BUFFERS`] among the kernel parameters (before
/// `--`), unless it sets the TCP buffers itself.
pub fn passt_cmdline(cmdline: &str) -> String {
    if cmdline.contains("net.rxbuf=") || cmdline.contains("net.txbuf=") {
        return cmdline.to_string();
    }
    format!("{PASST_BUFFERS} {cmdline}").trim_end().to_string()
}

/// Whether the passt binary runs.
pub fn passt_available() -> bool {
    Command::new("passt").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// A free TCP port on 127.0.0.1 (for tests; the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn unique_socket_path(what: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("appliance-{what}-{}-{n}.sock", std::process::id()))
}

fn wait_for_path(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A running network back end; stops it when dropped.
pub struct Network {
    pub backend: Backend,
    /// QEMU arguments: the netdev and the NIC.
    pub qemu_args: Vec<String>,
    /// What is in use, for the user.
    pub description: String,
    helper: Option<Child>,
    socket: Option<PathBuf>,
}

impl Network {
    /// Starts `backend` with `forwards`, for a NIC on `transport`.
    pub fn start(backend: Backend, transport: Transport, forwards: &[Forward]) -> Result<Network, String> {
        let device = ["-device".to_string(), transport.device().to_string()];
        let listing = forwards
            .iter()
            .map(|f| format!("127.0.0.1:{} -> guest {}", f.host, f.guest))
            .collect::<Vec<_>>()
            .join(", ");
        match backend {
            Backend::None => Ok(Network {
                backend,
                qemu_args: vec!["-nic".into(), "none".into()],
                description: "no network".into(),
                helper: None,
                socket: None,
            }),
            Backend::User => {
                let mut netdev = "user,id=n0".to_string();
                for f in forwards {
                    netdev.push_str(&format!(",hostfwd=tcp:127.0.0.1:{}-:{}", f.host, f.guest));
                }
                let mut qemu_args = vec!["-netdev".to_string(), netdev];
                qemu_args.extend(device);
                Ok(Network {
                    backend,
                    qemu_args,
                    description: format!(
                        "QEMU user-mode networking (slirp; backlog 1, slow with many simultaneous connects): {listing}"
                    ),
                    helper: None,
                    socket: None,
                })
            }
            Backend::Passt => {
                let socket = unique_socket_path("passt");
                let _ = std::fs::remove_file(&socket);
                let mut cmd = Command::new("passt");
                // Foreground, quit when QEMU disconnects, quiet.
                cmd.args(["-f", "-1", "-q", "-s"]).arg(&socket);
                for f in forwards {
                    cmd.args(["-t", &format!("127.0.0.1/{}:{}", f.host, f.guest)]);
                }
                if forwards.is_empty() {
                    cmd.args(["-t", "none"]);
                }
                // For debugging: PASST_PCAP=FILE has passt capture the
                // guest's traffic (passt runs as nobody: FILE must be writable).
                if let Some(pcap) = std::env::var_os("PASST_PCAP") {
                    cmd.arg("--pcap").arg(pcap);
                }
                cmd.args(["-u", "none"]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
                let child = cmd.spawn().map_err(|e| {
                    format!("cannot start passt: {e} (install it: apt-get install passt, or `cargo xtask setup`)")
                })?;
                let mut network = Network {
                    backend,
                    qemu_args: Vec::new(),
                    description: format!("passt (DHCP, {listing})"),
                    helper: Some(child),
                    socket: Some(socket.clone()),
                };
                if !wait_for_path(&socket, Duration::from_secs(10)) {
                    // Say why: passt prints the reason (e.g. a port in use) and exits.
                    let mut reason = String::new();
                    if let Some(child) = network.helper.as_mut() {
                        let _ = child.kill();
                        if let Some(mut stderr) = child.stderr.take() {
                            let _ = std::io::Read::read_to_string(&mut stderr, &mut reason);
                        }
                    }
                    return Err(format!(
                        "passt did not create its socket {}: {}",
                        socket.display(),
                        reason.trim().lines().last().unwrap_or("no message (is a forwarded port already in use?)")
                    ));
                }
                network.qemu_args = vec![
                    "-netdev".to_string(),
                    format!("stream,id=n0,server=off,addr.type=unix,addr.path={}", socket.display()),
                ];
                network.qemu_args.extend(device);
                Ok(network)
            }
            Backend::Tap => Err("--net tap is not implemented yet; use --net passt (the default) or --net user".into()),
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Some(child) = &mut self.helper {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// The other end of the guest's Ethernet link, played by the test.
pub struct EthernetPeer {
    listener: UnixListener,
    stream: Option<UnixStream>,
    path: PathBuf,
    pending: Vec<u8>,
}

impl EthernetPeer {
    /// Listens on a fresh unix socket; QEMU connects with [`qemu_args`](Self::qemu_args).
    pub fn listen() -> std::io::Result<EthernetPeer> {
        let path = unique_socket_path("ether");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        Ok(EthernetPeer { listener, stream: None, path, pending: Vec::new() })
    }

    pub fn qemu_args(&self, transport: Transport) -> Vec<String> {
        vec![
            "-netdev".into(),
            format!("stream,id=n0,server=off,addr.type=unix,addr.path={}", self.path.display()),
            "-device".into(),
            transport.device().into(),
        ]
    }

    /// Waits for QEMU to connect.
    pub fn accept(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.listener.set_nonblocking(true)?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false)?;
                    self.stream = Some(stream);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn stream(&mut self) -> std::io::Result<&mut UnixStream> {
        self.stream.as_mut().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotConnected, "QEMU not connected"))
    }

    /// Sends one Ethernet frame to the guest.
    pub fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        let stream = self.stream()?;
        stream.write_all(&(frame.len() as u32).to_be_bytes())?;
        stream.write_all(frame)
    }

    /// Receives the next frame from the guest, or `None` after `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.pending.len() >= 4 {
                let len = u32::from_be_bytes(self.pending[..4].try_into().unwrap()) as usize;
                if self.pending.len() >= 4 + len {
                    let frame = self.pending[4..4 + len].to_vec();
                    self.pending.drain(..4 + len);
                    return Ok(Some(frame));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let stream = self.stream()?;
            stream.set_read_timeout(Some(left))?;
            let mut buf = [0u8; 65536];
            match stream.read(&mut buf) {
                Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "QEMU disconnected")),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for EthernetPeer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
