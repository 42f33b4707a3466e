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
