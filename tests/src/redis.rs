//! The Redis appliance booted behind passt, its port 6379 forwarded from a
//! free host port: what the Redis tests and `cargo xtask conformance` talk to.

use crate::network::{Backend, Forward, Network, Transport, free_port, loopback_only_cmdline};
use crate::{Boot, Machine};
use std::time::Duration;

/// A cold QEMU under TCG on a loaded 2-core machine.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// A booted Redis appliance; QEMU and passt stop when it is dropped.
pub struct RedisAppliance {
    pub machine: Machine,
    /// The host port forwarded to the appliance's 6379.
    pub port: u16,
    /// The console line saying it listens (`redis: ready, listening on ADDR:PORT`).
    pub ready: String,
    _network: Network,
}

impl RedisAppliance {
    /// Boots the Redis image on `machine` with the kernel parameters
    /// `kernel_args` (plus `--protected-mode no`: passt's connections come
    /// from the gateway), after `customize` adjusts the boot (memory, clock,
    /// disks), and waits until it listens.
    pub fn boot(
        machine: &str,
        kernel_args: &str,
        customize: impl FnOnce(Boot) -> Boot,
    ) -> Result<RedisAppliance, String> {
        let mut redis = RedisAppliance::start(machine, kernel_args, customize)?;
        redis.ready = redis.machine.wait_for("redis: ready, listening on ", BOOT_TIMEOUT).map_err(|e| e.to_string())?;
        Ok(redis)
    }

    /// [`boot`](Self::boot) without waiting: QEMU is started and `ready`
    /// is empty (for tests of what happens before the appliance is ready).
    pub fn start(
        machine: &str,
        kernel_args: &str,
        customize: impl FnOnce(Boot) -> Boot,
    ) -> Result<RedisAppliance, String> {
        let port = free_port();
        let network =
            Network::start(Backend::Passt, Transport::for_machine(machine), &[Forward { host: port, guest: 6379 }])?;
        let mut boot = customize(Boot::app("redis", machine)?.cmdline(&loopback_only_cmdline("redis", kernel_args)));
        boot.qemu_args.extend(network.qemu_args.iter().cloned());
        let machine = Machine::start(&boot).map_err(|e| e.to_string())?;
        Ok(RedisAppliance { machine, port, ready: String::new(), _network: network })
    }
}

/// Debian's real `redis-server` on a free host port: MIGRATE's target in
/// the tests, the maker of the benchmark's `dump.rdb`.
/// `/usr/bin/redis-check-rdb` is the server when called `redis-server`.
/// Killed when dropped.
pub struct HostRedis {
    child: std::process::Child,
    pub port: u16,
    /// A directory of its own, removed when dropped.
    scratch: Option<std::path::PathBuf>,
}

impl HostRedis {
    /// Starts it without persistence and waits (up to 30 s) until it answers.
    pub fn start() -> Result<HostRedis, String> {
        HostRedis::start_in(None, &[])
    }

    /// Starts it with `dir` as its `--dir` (a scratch directory if `None`)
    /// and `options` after the defaults (no save points, no AOF), and waits
    /// (up to 30 s) until it answers PING.
    pub fn start_in(dir: Option<&std::path::Path>, options: &[&str]) -> Result<HostRedis, String> {
        use std::process::{Command, Stdio};
        let port = free_port();
        let scratch = dir
            .is_none()
            .then(|| std::env::temp_dir().join(format!("appliance-host-redis-{}-{port}", std::process::id())));
        let dir = dir.map(|d| d.to_path_buf()).or(scratch.clone()).unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let link =
            std::env::temp_dir().join(format!("appliance-host-redis-{}-{port}.redis-server", std::process::id()));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/usr/bin/redis-check-rdb", &link)
            .map_err(|e| format!("{}: {e}", link.display()))?;
        let spawned = Command::new(&link)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn();
        let _ = std::fs::remove_file(&link);
        let child = spawned.map_err(|e| {
            format!("cannot run Debian's redis-server ({e}): install it with `apt-get install redis-tools`")
        })?;
        let mut redis = HostRedis { child, port, scratch };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !crate::resp::Client::connect(port)
            .and_then(|mut c| c.call(&["PING"]))
            .is_ok_and(|r| r == crate::resp::status("PONG"))
        {
            if let Ok(Some(status)) = redis.child.try_wait() {
                return Err(format!("the host's redis-server exited ({status})"));
            }
            if std::time::Instant::now() > deadline {
                return Err("the host's redis-server did not answer within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(redis)
    }
}

impl Drop for HostRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
