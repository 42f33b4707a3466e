//! `cargo xtask conformance [--arch ARCH|all] [--units core|types|extended|all|U1,U2...] [--profile default|needs]`:
//! Redis's own TCL test suite, unit by unit, against the booted appliance
//! and, in the same run, against Debian's real `redis-server`, so every
//! figure stands beside the real thing.
//!
//! - The suite comes from Debian's `redis` source package, the version of
//!   the installed `redis-tools` ([`suite`]), unpacked under
//!   `target/conformance/`.
//! - Real Redis is Debian's own binary: `redis-tools` ships it as
//!   `redis-check-rdb`, which runs as the server when called
//!   `redis-server` (Debian's `redis-server` package is only that link and
//!   a service), so nothing is installed or started system-wide.
//! - Both run in the suite's external-server mode (`--singledb --durable
//!   --ignore-encoding --ignore-digest`, `slow` tests denied). The
//!   `default` profile denies every `needs:*` tag; `needs` denies only
//!   `needs:debug`.
//! - `tests/conformance/skip.txt` lists tests that are not run against the
//!   appliance, each with the reason (they fail against real Redis in this
//!   mode too, or are impossible in an appliance). `known-failures.txt`
//!   lists the tests that pass against real Redis and still fail against
//!   the appliance (open work). The run fails when a test passes against
//!   real Redis and fails against the appliance without being listed, or
//!   when a listed known failure passes (so the list only shrinks).
//! - A unit that kills the appliance counts its remaining tests as failed;
//!   the appliance is rebooted for the next unit.
//!
//! It prints one table (unit, real Redis, appliance, skipped) and writes
//! every unit's output and the failures under `target/conformance/`.

mod outcome;
mod suite;

use crate::args::Args;
use crate::{Result, image, setup, step};
use outcome::{Listed, UnitRun};
use qemu_tests::Arch;
use qemu_tests::disk::DiskAttachment;
use qemu_tests::network::{PASST_BUFFERS, Transport};
use qemu_tests::redis::{HostRedis, RedisAppliance};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The core units: the data types and the server behaviour every client
/// relies on. Real Redis 7.0 passes about 970 tests in them in this mode.
pub const CORE_UNITS: &[&str] = &[
    "unit/protocol",
    "unit/keyspace",
    "unit/quit",
    "unit/info-command",
    "unit/type/string",
    "unit/type/incr",
    "unit/type/list",
    "unit/type/list-3",
    "unit/type/set",
    "unit/type/zset",
    "unit/type/hash",
    "unit/expire",
    "unit/multi",
    "unit/pubsub",
    "unit/introspection",
];

/// The units of Redis 7's further data types and introspection commands
/// (streams, bitmaps, HyperLogLog, geo, tracking, SLOWLOG...): `--units
/// types`; `cargo xtask test` runs them beside the core units.
pub const TYPE_UNITS: &[&str] = &[
    "unit/sort",
    "unit/dump",
    "unit/bitops",
    "unit/bitfield",
    "unit/hyperloglog",
    "unit/geo",
    "unit/type/stream",
    "unit/type/stream-cgroups",
    "unit/pubsubshard",
    "unit/slowlog",
    "unit/latency-monitor",
    "unit/introspection-2",
    "unit/tracking",
];

/// Units beyond the core (the data types above, persistence, scripting,
/// ACLs...), run with `--units extended`.
pub const EXTENDED_UNITS: &[&str] = &[
    "unit/auth",
    "unit/scan",
    "unit/info",
    "unit/other",
    "unit/sort",
    "unit/dump",
    "unit/bitops",
    "unit/bitfield",
    "unit/geo",
    "unit/hyperloglog",
    "unit/type/stream",
    "unit/type/stream-cgroups",
    "unit/type/list-2",
    "unit/tracking",
    "unit/pubsubshard",
    "unit/latency-monitor",
    "unit/slowlog",
    "unit/introspection-2",
    "unit/limits",
    "unit/maxmemory",
    "unit/querybuf",
    "unit/lazyfree",
    "unit/networking",
    "unit/client-eviction",
    "unit/acl",
    "unit/acl-v2",
    "unit/functions",
    "unit/scripting",
];

/// How long one unit may run before it is stopped and counted as hung.
const UNIT_TIMEOUT: Duration = Duration::from_secs(600);
/// The suite's own per-test timeout (it reports a TIMEOUT and moves on).
/// hyperloglog's "Fuzzing dense/sparse encoding" test makes about 5,000
/// round trips, many carrying thousands of PFADD elements: 58 s against
/// the x86_64 appliance under TCG, over 60 s on aarch64.
pub(crate) const TEST_TIMEOUT_SECONDS: u32 = 240;

/// Which `needs:*` tags are denied.
#[derive(Clone, Copy, PartialEq)]
pub enum Profile {
    /// Every `needs:*` tag denied: what external-server mode runs by default.
    Default,
    /// Only `needs:debug` denied (replication, SAVE, CONFIG RESETSTAT... run).
    Needs,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Needs => "needs",
        }
    }

    fn denied_tags(self) -> &'static [&'static str] {
        match self {
            Profile::Default => &[
                "slow",
                "needs:debug",
                "needs:repl",
                "needs:save",
                "needs:config-maxmemory",
                "needs:config-resetstat",
                "needs:reset",
                "needs:latency",
                "needs:local-process",
                "needs:pfdebug",
            ],
            Profile::Needs => &["slow", "needs:debug"],
        }
    }
}

pub fn run(args: &mut Args) -> Result<ExitCode> {
    let arches: Vec<Arch> = match args.value("--arch")?.as_deref() {
        None => vec![Arch::host()],
        Some("all") => Arch::ALL.to_vec(),
        Some(name) => {
            vec![Arch::parse(name).ok_or_else(|| format!("unknown --arch '{name}': use x86_64, aarch64 or all"))?]
        }
    };
    let units = units_option(args.value("--units")?.as_deref())?;
    let profile = match args.value("--profile")?.as_deref() {
        None | Some("default") => Profile::Default,
        Some("needs") => Profile::Needs,
        Some(other) => return Err(format!("unknown --profile '{other}': use default or needs")),
    };
    args.finish()?;
    let failed = conform(&arches, &units, profile)?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The units `--units` names: comma-separated groups (`core`, `types`,
/// `extended`, `all`) and unit names (`type/list` or `unit/type/list`).
fn units_option(value: Option<&str>) -> Result<Vec<String>> {
    let mut units: Vec<String> = Vec::new();
    for name in value.unwrap_or("core").split(',').filter(|n| !n.is_empty()) {
        let group: &[&str] = match name {
            "core" => CORE_UNITS,
            "types" => TYPE_UNITS,
            "extended" => EXTENDED_UNITS,
            "all" => &[CORE_UNITS, EXTENDED_UNITS].concat(),
            unit => {
                let unit = if unit.starts_with("unit/") { unit.to_string() } else { format!("unit/{unit}") };
                if !units.contains(&unit) {
                    units.push(unit);
                }
                continue;
            }
        };
        for unit in group {
            if !units.iter().any(|u| u == unit) {
                units.push(unit.to_string());
            }
        }
    }
    if units.is_empty() {
        return Err("--units names no unit: use core, types, extended, all or unit names".into());
    }
    Ok(units)
}

/// Runs the units against real Redis and each architecture's appliance,
/// prints the table and writes the reports; true when a test failed
/// that is not a listed known failure (or a known failure passed).
pub fn conform(arches: &[Arch], units: &[String], profile: Profile) -> Result<bool> {
    setup::ensure_redis_tools()?;
    for &arch in arches {
        setup::ensure_qemu(arch)?;
    }
    setup::ensure_passt()?;
    ensure_tclsh()?;
    let root = qemu_tests::repo_root();
    let work = root.join("target/conformance");
    let suite = suite::fetch(&work)?;
    let skips = Listed::read(&root.join("tests/conformance/skip.txt"))?;
    let known = Listed::read(&root.join("tests/conformance/known-failures.txt"))?;
    let out = work.join(profile.name());
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;

    step(&format!("real Redis: Debian's {} ({} units, profile {})", suite.version, units.len(), profile.name()));
    let real = {
        // Its log beside the run's, its (unused) data directory in `work`.
        let data = work.join("real-data");
        let log = work.join("real-redis.log");
        let log = log.to_str().ok_or("the work directory's path is not UTF-8")?;
        let server = HostRedis::start_in(Some(&data), &["--logfile", log])?;
        let runner = Runner { suite: &suite.dir, port: server.port, profile, logs: out.join("real"), skips: None };
        units.iter().map(|u| runner.run(u, &mut || Ok(()))).collect::<Result<Vec<_>>>()?
    };

    let mut failed = false;
    let mut report = String::new();
    for &arch in arches {
        image::build("redis", arch, false)?;
        step(&format!("the appliance on {arch}: {} units", units.len()));
        // The `needs` profile runs SAVE, BGSAVE, DEBUG RELOAD...: the
        // appliance gets a (blank) data disk there.
        let disk = (profile == Profile::Needs).then(|| out.join(format!("{}-data.img", arch.name())));
        let mut appliance = Appliance::boot(arch, disk.as_deref())?;
        let logs = out.join(arch.name());
        let mut results = Vec::new();
        for unit in units {
            let runner =
                Runner { suite: &suite.dir, port: appliance.port, profile, logs: logs.clone(), skips: Some(&skips) };
            let mut alive = || appliance.check_alive();
            let mut run = runner.run(unit, &mut alive)?;
            if !appliance.answers_ping() {
                run.died = true;
                step(&format!("{unit} took the appliance down; rebooting it"));
                appliance.save_console(&logs, unit);
                appliance = Appliance::boot(arch, disk.as_deref())?;
            }
            results.push(run);
        }
        let table = outcome::table(arch, &real, &results, &skips, &known);
        println!("{}", table.text);
        report.push_str(&table.text);
        report.push_str(&table.details);
        failed |= table.failed;
    }
    let path = out.join("report.txt");
    std::fs::write(&path, &report).map_err(|e| format!("writing {}: {e}", path.display()))?;
    step(&format!("report with every failure: {}; each unit's output: {}/<arch>/", path.display(), out.display()));
    Ok(failed)
}

fn ensure_tclsh() -> Result<()> {
    if Command::new("tclsh").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().is_ok_and(|mut c| {
        drop(c.stdin.take());
        c.wait().is_ok_and(|s| s.success())
    }) {
        return Ok(());
    }
    step("tclsh (Redis's test suite runs on Tcl) is missing; installing tcl");
    setup::apt_install(&["tcl"], None)
}

/// One run of the suite's test helper on one unit.
struct Runner<'a> {
    suite: &'a Path,
    port: u16,
    profile: Profile,
    logs: PathBuf,
    /// Tests not to run (the appliance's skip list); `None` for real Redis.
    skips: Option<&'a Listed>,
}

impl Runner<'_> {
    /// Runs `unit`; `alive` is polled while it runs and ends the run early
    /// (as a crash) when it fails.
    fn run(&self, unit: &str, alive: &mut dyn FnMut() -> Result<()>) -> Result<UnitRun> {
        let mut cmd = Command::new("tclsh");
        cmd.current_dir(self.suite)
            .args(["tests/test_helper.tcl", "--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--singledb", "--durable", "--ignore-encoding", "--ignore-digest", "--clients", "1"])
            .args(["--timeout", &TEST_TIMEOUT_SECONDS.to_string()]);
        for tag in self.profile.denied_tags() {
            cmd.args(["--tags", &format!("-{tag}")]);
        }
        if let Some(skips) = self.skips {
            for test in skips.tests_of(unit) {
                cmd.args(["--skiptest", test]);
            }
        }
        cmd.args(["--single", unit]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let started = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("cannot run tclsh: {e}"))?;
        let (text, hung) = collect(child, alive)?;
        std::fs::create_dir_all(&self.logs).map_err(|e| format!("creating {}: {e}", self.logs.display()))?;
        let log = self.logs.join(format!("{}.log", unit.trim_start_matches("unit/").replace('/', "_")));
        std::fs::write(&log, &text).map_err(|e| format!("writing {}: {e}", log.display()))?;
        let run = UnitRun::parse(unit, &text, hung, started.elapsed());
        eprintln!("  {unit}: {} passed, {} failed ({:.0} s)", run.passed.len(), run.failed.len(), run.seconds);
        Ok(run)
    }
}

/// Waits for the test helper, polling `alive` once a second; returns its
/// output and whether it had to be stopped.
fn collect(mut child: Child, alive: &mut dyn FnMut() -> Result<()>) -> Result<(String, bool)> {
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let mut stopped = None;
    loop {
        if child.try_wait().map_err(|e| format!("waiting for tclsh: {e}"))?.is_some() {
            break;
        }
        if started.elapsed() > UNIT_TIMEOUT {
            stopped = Some(format!("stopped after {} s", UNIT_TIMEOUT.as_secs()));
        } else if let Err(why) = alive() {
            stopped = Some(why);
        }
        if stopped.is_some() {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut text = out.join().unwrap_or_default();
    text.push_str(&err.join().unwrap_or_default());
    if let Some(why) = &stopped {
        text.push_str(&format!("\n[conformance] unit {why}\n"));
    }
    Ok((text, stopped.is_some()))
}

/// The booted appliance behind passt, its port forwarded from the host.
struct Appliance {
    redis: RedisAppliance,
    port: u16,
}

/// Boots until the appliance's clock is not behind the host's.
const CLOCK_ATTEMPTS: u32 = 3;

/// Size of the blank data disk of the `needs` profile.
const DATA_DISK_BYTES: u64 = 256 << 20;

impl Appliance {
    /// Boots the appliance; with `disk`, on a blank data disk made there.
    fn boot(arch: Arch, disk: Option<&Path>) -> Result<Appliance> {
        let machine = arch.default_machine();
        let mut attachment = None;
        if let Some(path) = disk {
            std::fs::File::create(path)
                .and_then(|f| f.set_len(DATA_DISK_BYTES))
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            attachment = Some(DiskAttachment::new(path).qemu_args(0, Transport::for_machine(machine)));
        }
        // Redis's tests compare expiry times with the host's clock: the
        // guest's clock starts at one of the host's seconds, but how late
        // QEMU creates its real-time clock depends on the machine's load. A
        // guest clock behind the host's is booted again (the disk is blank
        // until the suite writes to it).
        let mut attempt = 1;
        loop {
            let args = attachment.clone().unwrap_or_default();
            let mut redis = RedisAppliance::boot(machine, PASST_BUFFERS, |b| {
                let mut b = b.host_aligned_clock();
                b.qemu_args.extend(args);
                b
            })?;
            let offset = redis.clock_offset()?;
            let verdict = match (offset.behind(), attempt == CLOCK_ATTEMPTS) {
                (false, _) => "",
                (true, false) => ": behind, booting it again",
                (true, true) => ": behind, so tests of absolute expiry times may fail",
            };
            step(&format!(
                "appliance clock {:+.1} ms from the host's (within {:.1} ms){verdict}",
                offset.seconds * 1e3,
                offset.within * 1e3
            ));
            if !offset.behind() || attempt == CLOCK_ATTEMPTS {
                return Ok(Appliance { port: redis.port, redis });
            }
            attempt += 1;
        }
    }

    /// Err once QEMU has exited (the appliance panicked or powered off).
    fn check_alive(&mut self) -> Result<()> {
        match self.redis.machine.poll_exit() {
            Some(status) => Err(format!("ended: the appliance stopped (QEMU exit status {status})")),
            None => Ok(()),
        }
    }

    fn answers_ping(&mut self) -> bool {
        self.check_alive().is_ok() && ping(self.port)
    }

    fn save_console(&self, logs: &Path, unit: &str) {
        let path = logs.join(format!("{}.console.txt", unit.trim_start_matches("unit/").replace('/', "_")));
        let _ = std::fs::write(path, self.redis.machine.transcript());
    }
}

/// True when a Redis server on 127.0.0.1:`port` answers PING within 5 s.
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reply = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// The tests a unit run passed, as a set (for the comparisons).
fn names(tests: &[String]) -> BTreeSet<&str> {
    tests.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_option_expands_groups_and_names_once() {
        let units = units_option(Some("core,types,type/list,unit/geo,bitops")).unwrap();
        assert_eq!(units.len(), CORE_UNITS.len() + TYPE_UNITS.len(), "{units:?}");
        assert_eq!(units.first().map(String::as_str), Some(CORE_UNITS[0]));
        assert_eq!(units_option(None).unwrap().len(), CORE_UNITS.len());
        assert_eq!(units_option(Some("scan")).unwrap(), ["unit/scan"]);
        assert!(units_option(Some(",")).is_err());
    }
}
