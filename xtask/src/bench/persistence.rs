//! The persistence round: each appliance boots with a virtio-blk data disk
//! of its own format (the same size and QEMU settings for both) and Redis's
//! persistence options, the same words for both on their command lines:
//!
//! - SET throughput with `--appendonly yes` and each `appendfsync` policy,
//!   at every pipeline depth, one boot on an empty disk per policy;
//! - one boot on a disk holding a dump of N keys saved by real Redis: QEMU
//!   launch to the first PONG (then DBSIZE must be N), the load time the
//!   server reports, and how long SAVE of the loaded dataset takes.
//!
//! Save points are off (`--save` with no value) so no background save
//! disturbs the measurements.

use super::dataset::{self, DiskFormat};
use super::measure::{Appliance, Guest};
use super::network::Backend;
use super::report::{CLIENTS, FSYNC_POLICIES, LoadSample, PIPELINES, Sample, fsync_test};
use super::{Run, Settings, Timeouts, benchmark};
use crate::Result;
use qemu_tests::Profile;
use qemu_tests::resp::{Client, Reply, info_field, status};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Guest RAM for the persistence round, the same for both appliances: the
/// appliance keeps half its heap for the dataset, and 1,000,000 keys take
/// about 120 MiB of it (too close to the ceiling at 256 MiB).
pub const MEMORY_MIB: u32 = 512;

/// What the round needs besides the appliance.
pub struct Setup<'a> {
    pub profile: &'a Profile,
    pub backend: Backend,
    pub settings: Settings,
    pub timeouts: Timeouts,
    /// The directory holding the dump to load (`settings.dataset_keys` keys).
    pub dump: &'a Path,
}

/// The Redis options of the throughput boots, after the appliance's own.
fn fsync_options(policy: &str) -> String {
    format!("--save --appendonly yes --appendfsync {policy}")
}

/// The Redis options of the boot that loads the dump (from the RDB file
/// alone: with `appendonly yes` Redis would read its AOF instead).
const LOAD_OPTIONS: &str = "--save --appendonly no";

/// `appliance` with `options` added to its Redis arguments: after the
/// command line's `--` (the words the appliance, or the baseline's init,
/// hands to Redis), which is added if there is none yet.
pub fn with_redis_options(appliance: &Appliance, options: &str) -> Appliance {
    let has_separator = appliance.cmdline.split_whitespace().any(|w| w == "--");
    let separator = if has_separator { "" } else { " --" };
    Appliance { cmdline: format!("{}{separator} {options}", appliance.cmdline), ..appliance.clone() }
}

/// One round for one appliance: the SET samples of every policy and depth,
/// and one load-and-save sample.
pub fn round(
    appliance: &Appliance,
    format: DiskFormat,
    setup: &Setup,
    round: u32,
) -> Result<(Vec<Sample>, LoadSample)> {
    let mut samples = Vec::new();
    for policy in FSYNC_POLICIES {
        samples.extend(fsync_samples(appliance, format, setup, policy, round)?);
    }
    let load = load_and_save(appliance, format, setup)?;
    Ok((samples, load))
}

/// Boots on an empty disk with `appendfsync policy`; SET at every depth.
fn fsync_samples(
    appliance: &Appliance,
    format: DiskFormat,
    setup: &Setup,
    policy: &str,
    round: u32,
) -> Result<Vec<Sample>> {
    let disk = dataset::make_disk(format, &format!("{}.img", appliance.name), None)?;
    let booted = with_redis_options(appliance, &fsync_options(policy));
    let mut guest = Guest::start_with_disk(&booted, setup.profile, setup.backend, MEMORY_MIB, &disk.path)?;
    guest.wait_pong(setup.timeouts.boot)?;
    check_fsync_policy(guest.endpoint, policy, setup.timeouts.benchmark).map_err(|e| guest.failure(&e))?;
    let requests = setup.settings.fsync_requests;
    PIPELINES
        .iter()
        .map(|&pipeline| {
            let run = Run { round, requests, clients: CLIENTS, pipeline };
            benchmark(&mut guest, "set", fsync_test(policy), run, setup.timeouts.benchmark)
        })
        .collect()
}

/// Checks that the server logs its writes with `appendfsync policy`, as
/// its command line asked.
fn check_fsync_policy(endpoint: SocketAddr, policy: &str, timeout: Duration) -> Result<()> {
    let mut client = connect(endpoint, timeout)?;
    let enabled = info_field(&mut client, "persistence", "aof_enabled")?;
    let config = call(&mut client, &["CONFIG", "GET", "appendfsync"])?;
    let expected = Reply::Array(Some(["appendfsync", policy].map(|s| Reply::Bulk(Some(s.into()))).into()));
    if enabled == 1 && config == expected {
        Ok(())
    } else {
        Err(format!("asked for appendfsync {policy}, the server has aof_enabled:{enabled} and {config:?}"))
    }
}

/// Boots on a disk holding the dump: the time to the first PONG (with
/// every key loaded), the server's own load time, then SAVE's time.
fn load_and_save(appliance: &Appliance, format: DiskFormat, setup: &Setup) -> Result<LoadSample> {
    let keys = setup.settings.dataset_keys;
    let disk = dataset::make_disk(format, &format!("{}.img", appliance.name), Some(setup.dump))?;
    let booted = with_redis_options(appliance, LOAD_OPTIONS);
    let mut guest = Guest::start_with_disk(&booted, setup.profile, setup.backend, MEMORY_MIB, &disk.path)?;
    // Loading comes on top of booting.
    let pong = guest.wait_pong(setup.timeouts.boot * 2)?;
    let mut client = connect(guest.endpoint, setup.timeouts.benchmark).map_err(|e| guest.failure(&e))?;
    let dbsize = call(&mut client, &["DBSIZE"]).map_err(|e| guest.failure(&e))?;
    if dbsize != Reply::Int(keys as i64) {
        return Err(
            guest.failure(&format!("{}: DBSIZE is {dbsize:?} after the first PONG, not {keys}", appliance.name))
        );
    }
    let server_s = server_load_seconds(&mut guest, &mut client);
    let started = Instant::now();
    let saved = call(&mut client, &["SAVE"]).map_err(|e| guest.failure(&e))?;
    let save_s = started.elapsed().as_secs_f64();
    if saved != status("OK") {
        return Err(guest.failure(&format!("{}: SAVE answered {saved:?}", appliance.name)));
    }
    crate::step(&format!(
        "{}: {keys} keys loaded, PONG after {:.2} s (server: {}), SAVE in {save_s:.2} s",
        appliance.name,
        pong.as_secs_f64(),
        server_s.map_or("-".into(), |s| format!("{s:.2} s"))
    ));
    Ok(LoadSample { keys, pong_s: pong.as_secs_f64(), server_s, save_s })
}

/// A RESP client for the guest, with `timeout` for every reply.
fn connect(endpoint: SocketAddr, timeout: Duration) -> Result<Client> {
    let stream = TcpStream::connect_timeout(&endpoint, timeout).map_err(|e| format!("connect {endpoint}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(Client { stream })
}

fn call(client: &mut Client, args: &[&str]) -> Result<Reply> {
    client.call(args).map_err(|e| format!("{args:?}: {e}"))
}

/// The console line in which Redis reports its load time.
const REDIS_LOADED: &str = "DB loaded from disk:";
/// How long to wait for that line once the server answers.
const LOG_PATIENCE: Duration = Duration::from_secs(2);

/// The load time the server reports: INFO persistence's `loading_time_ms`
/// (the appliance's; Redis 7.0 has no such field), else Redis's log line.
fn server_load_seconds(guest: &mut Guest, client: &mut Client) -> Option<f64> {
    if let Ok(ms) = info_field(client, "persistence", "loading_time_ms") {
        return Some(ms as f64 / 1000.0);
    }
    redis_load_seconds(&guest.wait_line(REDIS_LOADED, LOG_PATIENCE)?)
}

/// The seconds in Redis's `DB loaded from disk: 0.532 seconds` log line.
fn redis_load_seconds(line: &str) -> Option<f64> {
    line.split(REDIS_LOADED).nth(1)?.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appliance(cmdline: &str) -> Appliance {
        Appliance {
            name: "a".into(),
            kernel: "k".into(),
            initrd: None,
            cmdline: cmdline.into(),
            size: 1,
            firmware: None,
        }
    }

    #[test]
    fn options_go_after_the_separator() {
        let ours = with_redis_options(&appliance("-- --port 6379"), &fsync_options("always"));
        assert_eq!(ours.cmdline, "-- --port 6379 --save --appendonly yes --appendfsync always");
        let linux = with_redis_options(&appliance("console=ttyS0 quiet"), LOAD_OPTIONS);
        assert_eq!(linux.cmdline, "console=ttyS0 quiet -- --save --appendonly no");
    }

    #[test]
    fn reads_redis_load_time() {
        let line = "19501:M 01 Dec 2026 14:53:57.540 * DB loaded from disk: 0.532 seconds";
        assert_eq!(redis_load_seconds(line), Some(0.532));
        assert_eq!(redis_load_seconds("DB saved on disk"), None);
    }
}
