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

    /// How far the appliance's wall clock is from the host's, once the
    /// kernel has aligned it to its real-time clock's first tick (waited
    /// for, up to 5 s): see [`clock_offset`].
    pub fn clock_offset(&mut self) -> Result<ClockOffset, String> {
        const ALIGNED: &str = "wall clock aligned to the real-time clock's tick";
        if !self.machine.transcript().contains(ALIGNED) {
            // A clock that never ticks is measured as it is.
            let _ = self.machine.wait_for(ALIGNED, Duration::from_secs(5));
        }
        clock_offset(self.port)
    }
}

/// A guest clock compared with the host's.
#[derive(Clone, Copy, Debug)]
pub struct ClockOffset {
    /// Guest time minus host time, in seconds (negative: the guest is behind).
    pub seconds: f64,
    /// How uncertain that is: half the round trip of the best sample.
    pub within: f64,
}

impl ClockOffset {
    /// True when the guest is certainly behind the host (Redis's tests that
    /// compute an absolute expiry from the host's clock fail then).
    pub fn behind(&self) -> bool {
        self.seconds + self.within < 0.0
    }
}

/// Redis's TIME on the server at 127.0.0.1:`port`, asked a few times; the
/// answer with the shortest round trip, compared with the middle of that
/// round trip on the host's clock.
pub fn clock_offset(port: u16) -> Result<ClockOffset, String> {
    use std::io::{Read, Write};
    use std::time::{Instant, SystemTime, UNIX_EPOCH};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connecting: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut best: Option<ClockOffset> = None;
    for _ in 0..8 {
        let host_before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let sent = Instant::now();
        stream.write_all(b"TIME\r\n").map_err(|e| format!("sending TIME: {e}"))?;
        // `*2\r\n$N\r\nSECONDS\r\n$N\r\nMICROS\r\n`: read until both numbers are in.
        let mut reply = Vec::new();
        let numbers = loop {
            let mut chunk = [0u8; 64];
            let n = stream.read(&mut chunk).map_err(|e| format!("reading TIME's reply: {e}"))?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            reply.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&reply).to_string();
            let lines: Vec<&str> = text.split("\r\n").collect();
            if lines.len() >= 6 {
                break (lines[2].parse::<u64>(), lines[4].parse::<u64>());
            }
        };
        let round_trip = sent.elapsed().as_secs_f64();
        let (Ok(secs), Ok(micros)) = numbers else {
            return Err(format!("TIME answered {:?}", String::from_utf8_lossy(&reply)));
        };
        let guest = secs as f64 + micros as f64 / 1e6;
        let host = host_before.as_secs_f64() + round_trip / 2.0;
        let sample = ClockOffset { seconds: guest - host, within: round_trip / 2.0 };
        if best.is_none_or(|b| sample.within < b.within) {
            best = Some(sample);
        }
    }
    best.ok_or_else(|| "no TIME answers".to_string())
}

/// Debian's Redis server binary: `redis-tools` installs it as
/// `redis-check-rdb`; called `redis-server`, it is the server.
pub const REAL_SERVER: &str = "/usr/bin/redis-check-rdb";

/// Debian's real `redis-server` ([`REAL_SERVER`]) on a free host port:
/// MIGRATE's target in the tests, the maker of the benchmark's `dump.rdb`,
/// the reference `cargo xtask conformance` runs the suite against. Killed
/// when dropped.
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
        std::os::unix::fs::symlink(REAL_SERVER, &link).map_err(|e| format!("{}: {e}", link.display()))?;
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
