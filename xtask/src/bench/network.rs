//! The network back ends the benchmark compares, and the network namespace
//! it creates for them. QEMU's user network (slirp) and passt come from the
//! shared harness (`qemu_tests::network`, as `cargo xtask run` uses them),
//! with a host port forwarded to the guest's Redis port; the tap back end is
//! this file's: a tap device inside the namespace, with busybox `udhcpd`
//! answering the guest's DHCP, and clients connecting to the guest directly.
//! Both appliances configure their network by DHCP, so every back end gives
//! them the same set-up.

use crate::Result;
use qemu_tests::Profile;
use qemu_tests::network::{self as shared, Forward, Network, Transport};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const REDIS_PORT: u16 = 6379;
/// The guest's address on the tap back end (what udhcpd hands out).
const TAP_GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
const TAP_HOST: &str = "10.0.2.2/24";
/// The MAC address QEMU gives a guest's first NIC.
const QEMU_MAC: &str = "52:54:00:12:34:56";

/// The tap device inside the benchmark's namespace.
const TAP: &str = "benchtap0";
/// A veth pair whose address and default route give passt a "host
/// interface" to copy inside the otherwise empty namespace.
const VETH: (&str, &str) = ("benchveth0", "benchveth1");

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    User,
    Passt,
    Tap,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::User, Backend::Passt, Backend::Tap];

    pub fn name(self) -> &'static str {
        match self {
            Backend::User => "user",
            Backend::Passt => "passt",
            Backend::Tap => "tap",
        }
    }

    pub fn parse(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Why this back end cannot be used here, if it cannot.
    pub fn unavailable(self) -> Option<String> {
        match self {
            Backend::User => None,
            Backend::Passt if !shared::passt_available() => {
                Some("passt is not installed (apt-get install passt)".into())
            }
            Backend::Passt => None,
            Backend::Tap if !Path::new("/sys/class/net").join(TAP).exists() => {
                Some("needs root: the tap device lives in a network namespace the benchmark creates".into())
            }
            Backend::Tap => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Backend::User => "QEMU user network (slirp), 127.0.0.1 port forwarded to the guest (hostfwd)",
            Backend::Passt => "passt over a UNIX socket (-netdev stream), 127.0.0.1 port forwarded to the guest (-t)",
            Backend::Tap => {
                "tap device in the benchmark's network namespace, DHCP from udhcpd, clients connect directly"
            }
        }
    }
}

/// A back end attached for one boot: QEMU's arguments, where clients
/// connect, and what must live as long as the guest (passt).
pub struct Attachment {
    pub qemu_args: Vec<String>,
    pub endpoint: SocketAddr,
    _network: Option<Network>,
}

/// Sets up `backend` for one boot on `profile` (its default NIC transport,
/// the same for both appliances).
pub fn attach(backend: Backend, profile: &Profile) -> Result<Attachment> {
    let transport = profile.transports.first().copied().unwrap_or(Transport::Pci);
    let shared_backend = match backend {
        Backend::User => shared::Backend::User,
        Backend::Passt => shared::Backend::Passt,
        Backend::Tap => {
            let qemu_args = vec![
                "-netdev".into(),
                format!("tap,id=n0,ifname={TAP},script=no,downscript=no"),
                "-device".into(),
                transport.device().into(),
            ];
            let endpoint = SocketAddr::V4(SocketAddrV4::new(TAP_GUEST, REDIS_PORT));
            return Ok(Attachment { qemu_args, endpoint, _network: None });
        }
    };
    let port = shared::free_port();
    let network = Network::start(shared_backend, transport, &[Forward { host: port, guest: REDIS_PORT }])?;
    let endpoint = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    Ok(Attachment { qemu_args: network.qemu_args.clone(), endpoint, _network: Some(network) })
}

/// A network namespace for the measurements, deleted when dropped:
/// loopback, the tap device with its DHCP server, and the veth pair passt
/// needs.
pub struct Namespace {
    pub name: String,
    dhcp: Option<Child>,
}

impl Namespace {
    pub fn create() -> Result<Namespace> {
        remove_stale();
        let name = format!("appliance-bench-{}", std::process::id());
        ip(&["netns", "add", &name])?;
        let mut ns = Namespace { name, dhcp: None };
        let n = ns.name.as_str();
        let (a, b) = VETH;
        // QEMU gives the first NIC this MAC; a permanent neighbour entry
        // spares the boot probe the ARP failures (and their back-off) of
        // connecting before the guest is up.
        let neighbour = TAP_GUEST.to_string();
        let steps: [&[&str]; 10] = [
            &["-n", n, "link", "set", "lo", "up"],
            &["-n", n, "tuntap", "add", "dev", TAP, "mode", "tap"],
            &["-n", n, "addr", "add", TAP_HOST, "dev", TAP],
            &["-n", n, "link", "set", TAP, "up"],
            &["-n", n, "neigh", "add", &neighbour, "lladdr", QEMU_MAC, "dev", TAP, "nud", "permanent"],
            &["-n", n, "link", "add", a, "type", "veth", "peer", "name", b],
            &["-n", n, "addr", "add", "10.0.3.1/24", "dev", a],
            &["-n", n, "link", "set", a, "up"],
            &["-n", n, "link", "set", b, "up"],
            &["-n", n, "route", "add", "default", "via", "10.0.3.2"],
        ];
        for args in steps {
            ip(args)?;
        }
        ns.dhcp = Some(ns.start_dhcp()?);
        Ok(ns)
    }

    /// `program` run inside the namespace.
    pub fn wrap(&self, program: &Path) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    fn file(&self, what: &str) -> PathBuf {
        std::env::temp_dir().join(format!("{}-udhcpd.{what}", self.name))
    }

    /// busybox udhcpd on the tap device, handing out the one guest address.
    fn start_dhcp(&self) -> Result<Child> {
        let (config, leases) = (self.file("conf"), self.file("leases"));
        std::fs::write(&leases, "").map_err(|e| format!("writing {}: {e}", leases.display()))?;
        std::fs::write(&config, udhcpd_config(&leases, &self.file("pid")))
            .map_err(|e| format!("writing {}: {e}", config.display()))?;
        self.wrap(Path::new("busybox"))
            .args(["udhcpd", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start busybox udhcpd: {e}; install it with `apt-get install busybox-static`"))
    }
}

/// The udhcpd configuration for the tap device.
fn udhcpd_config(leases: &Path, pidfile: &Path) -> String {
    format!(
        "start {TAP_GUEST}\nend {TAP_GUEST}\ninterface {TAP}\nmax_leases 1\nlease_file {}\npidfile {}\n\
         opt subnet 255.255.255.0\nopt router 10.0.2.2\nopt lease 86400\n",
        leases.display(),
        pidfile.display()
    )
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Some(dhcp) = &mut self.dhcp {
            let _ = dhcp.kill();
            let _ = dhcp.wait();
        }
        for what in ["conf", "leases", "pid"] {
            let _ = std::fs::remove_file(self.file(what));
        }
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Whether network namespaces can be created here (root with `ip`).
pub fn namespaces_available() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        && Command::new("ip").arg("-V").output().is_ok()
}

/// Deletes namespaces left by benchmark runs whose process is gone.
fn remove_stale() {
    for entry in std::fs::read_dir("/run/netns").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name.strip_prefix("appliance-bench-") else { continue };
        if !PathBuf::from("/proc").join(pid).exists() {
            // Its udhcpd (left by a killed run) would outlive the namespace.
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &name]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").arg(pid).status();
                }
            }
            let _ = ip(&["netns", "del", &name]);
        }
    }
}

fn ip(args: &[&str]) -> Result<()> {
    let out =
        Command::new("ip").args(args).output().map_err(|e| format!("cannot run ip: {e}; apt-get install iproute2"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`ip {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_round_trip_names() {
        for backend in Backend::ALL {
            assert_eq!(Backend::parse(backend.name()), Some(backend));
        }
        assert_eq!(Backend::parse("vde"), None);
    }

    #[test]
    fn tap_uses_the_profiles_nic_and_connects_directly() {
        let profile = Profile::load("q35").unwrap();
        let attachment = attach(Backend::Tap, &profile).unwrap();
        assert_eq!(attachment.qemu_args[1], format!("tap,id=n0,ifname={TAP},script=no,downscript=no"));
        assert_eq!(attachment.qemu_args[3], "virtio-net-pci,netdev=n0,romfile=");
        assert_eq!(attachment.endpoint.to_string(), "10.0.2.15:6379");
    }

    #[test]
    fn udhcpd_hands_out_one_address_on_the_tap() {
        let config = udhcpd_config(Path::new("/tmp/l"), Path::new("/tmp/p"));
        assert!(config.contains("start 10.0.2.15\nend 10.0.2.15\n"));
        assert!(config.contains(&format!("interface {TAP}\n")));
        assert!(config.contains("opt router 10.0.2.2\n"));
    }
}
