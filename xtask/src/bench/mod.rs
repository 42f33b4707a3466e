//! `cargo xtask bench`: builds the Redis appliance and a Linux baseline
//! appliance made of Debian packages, boots both under identical QEMU
//! settings and compares boot time, image size, minimum memory, throughput,
//! latency, QEMU's CPU cost and, with a data disk each, persistence (SET
//! with `appendfsync`, loading a dump at boot, SAVE). This file owns the
//! command's options and the order of the work.
//!
//! Building happens in the host's network namespace (apt needs the
//! network); the measurements run in a namespace the benchmark creates (when
//! root), where the tap back end lives and all traffic stays private.

mod baseline;
mod dataset;
mod initramfs;
mod measure;
mod network;
mod persistence;
mod report;

use crate::args::Args;
use crate::{Result, image, setup, step};
use dataset::DiskFormat;
use measure::{Appliance, Guest};
use network::{Backend, REDIS_PORT};
use qemu_tests::network::Transport;
use qemu_tests::{Accelerator, Arch, Profile, repo_root};
use report::{
    ApplianceResults, ArchResults, BootSample, CLIENTS, FirmwareBoot, IDLE_CONNECTIONS, MANY_CLIENTS,
    MANY_CLIENTS_TESTS, NetworkChoice, NetworkTrial, PIPELINES, Results, Sample, TESTS, many_clients_test,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Guest RAM for the boot and throughput runs, the same for both appliances.
const MEMORY_MIB: u32 = 256;
/// The largest memory the minimum-memory search tries.
const MAX_MEMORY_MIB: u32 = 2048;
/// SET/GET pairs an appliance must serve correctly to pass a memory probe.
const CHECK_PAIRS: u32 = 10_000;

/// How much to measure: the full run, or `--quick` for CI.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Settings {
    quick: bool,
    boots: u32,
    /// Throughput rounds, and persistence rounds.
    rounds: u32,
    requests: u32,
    trial_requests: u32,
    /// Requests per SET run with `appendfsync` (each waits for the disk).
    fsync_requests: u32,
    /// Keys in the dump the persistence round loads at boot and saves.
    dataset_keys: u64,
}

impl Settings {
    fn new(quick: bool) -> Settings {
        if quick {
            Settings {
                quick,
                boots: 1,
                rounds: 1,
                requests: 10_000,
                trial_requests: 10_000,
                fsync_requests: 5_000,
                dataset_keys: 100_000,
            }
        } else {
            Settings {
                quick,
                boots: 5,
                rounds: 3,
                requests: 100_000,
                trial_requests: 20_000,
                fsync_requests: 50_000,
                dataset_keys: 1_000_000,
            }
        }
    }
}

/// What the measuring process gets from the building one.
#[derive(Debug, Serialize, Deserialize)]
struct Plan {
    settings: Settings,
    network: Option<Backend>,
    /// The directory holding the persistence round's `dump.rdb`.
    dump: PathBuf,
    arches: Vec<ArchPlan>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ArchPlan {
    arch: String,
    /// The QEMU machine profile (qemu/NAME.toml) both appliances boot on.
    machine: String,
    ours: std::result::Result<Appliance, String>,
    /// Our appliance's disk image, once per firmware that boots it.
    #[serde(default)]
    ours_disks: Vec<Appliance>,
    linux: Appliance,
    /// The baseline's initramfs that mounts a data disk.
    linux_disk_initrd: PathBuf,
    linux_packages: Vec<String>,
}

pub fn run(args: &mut Args) -> Result<ExitCode> {
    if let Some(plan) = args.value("--measure")? {
        args.finish()?;
        return measure_plan(Path::new(&plan));
    }
    let machine = args.value("--machine")?.map(|name| Profile::load(&name)).transpose()?;
    let arches: Vec<Arch> = match (args.value("--arch")?.as_deref(), &machine) {
        (None, Some(profile)) => vec![profile.arch],
        (None, None) => vec![Arch::host()],
        (Some("all"), _) => Arch::ALL.to_vec(),
        (Some(name), _) => vec![
            Arch::parse(name).ok_or_else(|| format!("unknown architecture '{name}': use x86_64, aarch64 or all"))?,
        ],
    };
    if let Some(profile) = &machine
        && arches != [profile.arch]
    {
        return Err(format!(
            "--machine {} is an {} machine: drop --arch or pass --arch {}",
            profile.name, profile.arch, profile.arch
        ));
    }
    let settings = Settings::new(args.flag("--quick"));
    let network = match args.value("--network")? {
        None => None,
        Some(name) => Some(
            Backend::parse(&name)
                .ok_or_else(|| format!("unknown network back end '{name}': use user, passt or tap"))?,
        ),
    };
    args.finish()?;
    ensure_tools(&arches)?;

    let dump = dataset::dump_dir(settings.dataset_keys)?;
    let mut plan = Plan { settings, network, dump, arches: Vec::new() };
    for arch in arches {
        let profile = match &machine {
            Some(profile) => profile.clone(),
            None => Profile::load(arch.default_machine())?,
        };
        let transport = profile.transports.first().copied().unwrap_or(Transport::Pci);
        let linux = baseline::build(arch, transport)?;
        let ours = build_ours(arch);
        if let Err(reason) = &ours {
            step(&format!("the Redis appliance for {arch} is not built yet: {reason}"));
        }
        let ours_disks = match &ours {
            Ok(appliance) => build_our_disks(arch, appliance)?,
            Err(_) => Vec::new(),
        };
        plan.arches.push(ArchPlan {
            arch: arch.name().into(),
            machine: profile.name.clone(),
            ours,
            ours_disks,
            linux: Appliance {
                name: "linux".into(),
                size: linux.size(),
                kernel: linux.kernel,
                initrd: Some(linux.initrd),
                cmdline: linux.cmdline,
                firmware: None,
            },
            linux_disk_initrd: linux.disk_initrd,
            linux_packages: linux.packages,
        });
    }
    let plan_path = bench_dir().join("plan.json");
    let json = serde_json::to_string_pretty(&plan).map_err(|e| format!("encoding the plan: {e}"))?;
    std::fs::write(&plan_path, json).map_err(|e| format!("writing {}: {e}", plan_path.display()))?;

    if !network::namespaces_available() {
        step("not root: measuring in this network namespace (user and passt back ends only)");
        return measure_plan(&plan_path);
    }
    let namespace = network::Namespace::create()?;
    step(&format!("measuring inside network namespace {}", namespace.name));
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let status = namespace
        .wrap(&exe)
        .arg("bench")
        .arg("--measure")
        .arg(&plan_path)
        .status()
        .map_err(|e| format!("cannot run ip netns exec: {e}"))?;
    drop(namespace);
    if status.success() { Ok(ExitCode::SUCCESS) } else { Err("the benchmark failed (see above)".into()) }
}

pub fn bench_dir() -> PathBuf {
    repo_root().join("target/bench")
}

/// Installs what the benchmark runs (when root), or says how.
fn ensure_tools(arches: &[Arch]) -> Result<()> {
    let tools = [
        ("redis-benchmark", "redis-tools"),
        ("passt", "passt"),
        ("zstd", "zstd"),
        ("dpkg-deb", "dpkg"),
        ("ip", "iproute2"),
        ("busybox", "busybox-static"),      // udhcpd for the tap back end
        ("redis-check-rdb", "redis-tools"), // Debian's redis-server, for the dump
        ("mkfs.ext4", "e2fsprogs"),         // the baseline's data disks
    ];
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(tool, _)| Command::new(tool).arg("--version").output().is_err())
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        setup::apt_install(&missing, None)?;
    }
    for &arch in arches {
        setup::ensure_qemu(arch)?;
    }
    std::fs::create_dir_all(bench_dir()).map_err(|e| format!("creating {}: {e}", bench_dir().display()))
}

/// Our appliance: the `redis` app's release image.
fn build_ours(arch: Arch) -> std::result::Result<Appliance, String> {
    if !repo_root().join("apps/redis/src/main.rs").exists() {
        return Err("apps/redis/src/main.rs does not exist yet".into());
    }
    let image = image::build("redis", arch, true)?;
    let size = std::fs::metadata(&image).map_err(|e| format!("{}: {e}", image.display()))?.len();
    Ok(Appliance {
        name: "appliance".into(),
        kernel: image,
        initrd: None,
        // The benchmark network is private to this run (a namespace or the
        // host's loopback), so the appliance serves without a password.
        cmdline: format!("-- --port {REDIS_PORT} --protected-mode no"),
        size,
        firmware: None,
    })
}

/// Our appliance as a disk image (`image --format uefi`, the same command
/// line), once per firmware that boots it on `arch`.
fn build_our_disks(arch: Arch, ours: &Appliance) -> Result<Vec<Appliance>> {
    let disk = bench_dir().join(format!("redis-{arch}-disk.img"));
    image::build_disk("redis", arch, true, crate::diskimage::DEFAULT_SIZE, &ours.cmdline, &disk)?;
    let size = std::fs::metadata(&disk).map_err(|e| format!("{}: {e}", disk.display()))?.len();
    let firmwares: &[&str] = match arch {
        Arch::X86_64 => &["uefi", "bios"],
        Arch::Aarch64 => &["uefi", "uboot"],
    };
    Ok(firmwares
        .iter()
        .map(|firmware| Appliance {
            name: format!("appliance ({firmware} disk)"),
            kernel: disk.clone(),
            initrd: None,
            cmdline: String::new(),
            size,
            firmware: Some(firmware.to_string()),
        })
        .collect())
}

/// The measuring half: runs the plan, writes and prints the report.
fn measure_plan(path: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let plan: Plan =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}; rerun `cargo xtask bench`", path.display()))?;
    let mut results = Results { quick: plan.settings.quick, environment: environment(), arches: Vec::new() };
    let mut failed = false;
    for arch_plan in &plan.arches {
        let (arch_results, ok) = measure_arch(arch_plan, &plan)?;
        failed |= !ok;
        results.arches.push(arch_results);
        report::write(&results, &bench_dir())?;
    }
    println!("{}", report::table(&results));
    step(&format!("raw results, table and chart: {}/{{results.json,report.txt,chart.svg}}", bench_dir().display()));
    if failed { Err("an appliance failed to boot or serve (see the table)".into()) } else { Ok(ExitCode::SUCCESS) }
}

/// One appliance under measurement: what to boot, and what we found.
struct Subject {
    appliance: Option<Appliance>,
    /// What to boot with a data disk, and the disk's format.
    with_disk: Option<(Appliance, DiskFormat)>,
    results: ApplianceResults,
}

impl Subject {
    fn active(&self) -> Option<&Appliance> {
        self.appliance.as_ref().filter(|_| self.results.status.is_none())
    }

    fn active_with_disk(&self) -> Option<&(Appliance, DiskFormat)> {
        self.with_disk.as_ref().filter(|_| self.results.status.is_none())
    }

    fn fail(&mut self, error: String) {
        step(&format!("{} failed: {error}", self.results.name));
        self.results.status = Some(format!("failed: {}", error.lines().next().unwrap_or_default()));
    }
}

/// Measures both appliances of one architecture; `false` if one failed.
fn measure_arch(plan: &ArchPlan, whole: &Plan) -> Result<(ArchResults, bool)> {
    let arch = Arch::parse(&plan.arch).ok_or_else(|| format!("bad architecture {} in the plan", plan.arch))?;
    let profile = Profile::load(&plan.machine)?;
    let settings = whole.settings;
    let ours = Subject {
        appliance: plan.ours.as_ref().ok().cloned(),
        with_disk: plan.ours.as_ref().ok().map(|a| (a.clone(), DiskFormat::Appliance)),
        results: ApplianceResults {
            name: "appliance".into(),
            description: "Redis appliance image (cargo xtask image --app redis --release)".into(),
            status: plan.ours.as_ref().err().map(|e| format!("not built yet: {e}")),
            image_bytes: plan.ours.as_ref().ok().map(|a| a.size),
            ..Default::default()
        },
    };
    let linux_with_disk = Appliance { initrd: Some(plan.linux_disk_initrd.clone()), ..plan.linux.clone() };
    let linux = Subject {
        appliance: Some(plan.linux.clone()),
        with_disk: Some((linux_with_disk, DiskFormat::Ext4)),
        results: ApplianceResults {
            name: "linux".into(),
            description: format!("Debian kernel + initramfs: {}", plan.linux_packages.join(", ")),
            image_bytes: Some(plan.linux.size),
            ..Default::default()
        },
    };
    let mut subjects = [ours, linux];
    let timeouts = Timeouts::for_arch(arch);

    let network = choose_network(&subjects, &profile, whole.network, settings, timeouts);
    let backend =
        Backend::parse(&network.backend).ok_or_else(|| format!("no network back end works: {}", network.why))?;
    step(&format!("{arch}: network back end {} ({})", backend.name(), network.why));

    for i in 0..settings.boots {
        for subject in subjects.iter_mut() {
            let Some(appliance) = subject.active().cloned() else { continue };
            step(&format!("{arch}: boot {} of {} ({})", i + 1, settings.boots, appliance.name));
            match boot_once(&appliance, &profile, backend, timeouts) {
                Ok(sample) => subject.results.boots.push(sample),
                Err(e) => subject.fail(e),
            }
        }
    }
    // Our disk image through each firmware, once (firmware dominates it).
    for disk in &plan.ours_disks {
        let firmware = disk.firmware.clone().unwrap_or_default();
        if subjects[0].active().is_none() {
            break;
        }
        step(&format!("{arch}: boot of the disk image through {firmware}"));
        match boot_once(disk, &profile, backend, timeouts) {
            Ok(sample) => subjects[0].results.firmware_boots.push(FirmwareBoot { firmware, pong_s: sample.pong_s }),
            Err(e) => subjects[0].fail(format!("booting the disk image through {firmware}: {e}")),
        }
    }
    for subject in subjects.iter_mut() {
        let Some(appliance) = subject.active().cloned() else { continue };
        if settings.quick {
            subject.results.min_memory_note = Some("not searched with --quick".into());
            continue;
        }
        // A probe that has not answered long after a normal boot has failed.
        let slowest = subject.results.pong().map_or(timeouts.boot, |s| Duration::from_secs_f64(s.max * 5.0 + 10.0));
        match minimum_memory(&appliance, &profile, backend, slowest.min(timeouts.boot)) {
            Ok(Some(mib)) => subject.results.min_memory_mib = Some(mib),
            Ok(None) => subject.results.min_memory_note = Some(format!("did not pass with {MAX_MEMORY_MIB} MiB")),
            Err(e) => subject.fail(e),
        }
    }
    for round in 0..settings.rounds {
        for subject in subjects.iter_mut() {
            let Some(appliance) = subject.active().cloned() else { continue };
            step(&format!("{arch}: throughput round {} of {} ({})", round + 1, settings.rounds, appliance.name));
            match throughput_round(&appliance, &profile, backend, settings, round, timeouts) {
                Ok((samples, idle)) => {
                    subject.results.samples.extend(samples);
                    subject.results.idle_connection_bytes.push(idle);
                }
                Err(e) => subject.fail(e),
            }
        }
    }
    let setup = persistence::Setup { profile: &profile, backend, settings, timeouts, dump: &whole.dump };
    for round in 0..settings.rounds {
        for subject in subjects.iter_mut() {
            let Some((appliance, format)) = subject.active_with_disk().cloned() else { continue };
            step(&format!("{arch}: persistence round {} of {} ({})", round + 1, settings.rounds, appliance.name));
            match persistence::round(&appliance, format, &setup, round) {
                Ok((samples, load)) => {
                    subject.results.samples.extend(samples);
                    subject.results.loads.push(load);
                }
                Err(e) => subject.fail(e),
            }
        }
    }
    let ok = subjects.iter().all(|s| s.results.status.as_deref().is_none_or(|s| s.starts_with("not built yet")));
    let results = ArchResults {
        arch: arch.name().into(),
        qemu_version: qemu_version(arch),
        accelerator: Accelerator::detect(arch).qemu_arg().into(),
        machine_profile: format!("{} ({})", profile.name, profile.description),
        memory_mib: MEMORY_MIB,
        persistence_memory_mib: persistence::MEMORY_MIB,
        persistence_disk: format!(
            "{} MiB virtio-blk each, raw image, cache=writeback (the appliance's store; ext4 for Linux)",
            dataset::DISK_BYTES >> 20
        ),
        network,
        appliances: subjects.map(|s| s.results).into(),
    };
    Ok((results, ok))
}

/// Deadlines scaled to the architecture (aarch64 is emulated on x86_64).
#[derive(Clone, Copy)]
struct Timeouts {
    boot: Duration,
    benchmark: Duration,
}

impl Timeouts {
    fn for_arch(arch: Arch) -> Timeouts {
        let factor = if arch == Arch::host() { 1 } else { 3 };
        Timeouts { boot: Duration::from_secs(60 * factor), benchmark: Duration::from_secs(600 * factor) }
    }
}

/// Boots once: QEMU launch to first PONG, and the guest's own boot time.
fn boot_once(appliance: &Appliance, profile: &Profile, backend: Backend, timeouts: Timeouts) -> Result<BootSample> {
    let mut guest = Guest::start(appliance, profile, backend, MEMORY_MIB)?;
    let pong = guest.wait_pong(timeouts.boot)?;
    let guest_s = guest.guest_ready_seconds(Duration::from_secs(2));
    Ok(BootSample { pong_s: pong.as_secs_f64(), guest_s })
}

/// The smallest `-m` (MiB) with which the appliance boots and serves
/// `CHECK_PAIRS` SET/GET pairs correctly.
fn minimum_memory(
    appliance: &Appliance,
    profile: &Profile,
    backend: Backend,
    timeout: Duration,
) -> Result<Option<u32>> {
    let probe = |mib: u32| -> Result<bool> {
        let mut guest = Guest::start(appliance, profile, backend, mib)?;
        let passed =
            guest.wait_pong(timeout).is_ok() && measure::check_set_get(guest.endpoint, CHECK_PAIRS, timeout).is_ok();
        step(&format!("{} with -m {mib}M: {}", appliance.name, if passed { "serves" } else { "fails" }));
        Ok(passed)
    };
    // Find a passing upper bound by doubling, then search below it.
    let mut hi = 128;
    while !probe(hi)? {
        if hi >= MAX_MEMORY_MIB {
            return Ok(None);
        }
        hi *= 2;
    }
    let lo = if hi == 128 { 1 } else { hi / 2 + 1 };
    measure::smallest_passing(lo, hi, |mib| if mib == hi { Ok(true) } else { probe(mib) })
}

/// One boot, then every command at every pipeline depth with 50 clients,
/// SET and GET with 1000 clients, and the memory of idle connections;
/// records requests/s, latency and QEMU's CPU seconds per 100,000 requests.
fn throughput_round(
    appliance: &Appliance,
    profile: &Profile,
    backend: Backend,
    settings: Settings,
    round: u32,
    timeouts: Timeouts,
) -> Result<(Vec<Sample>, f64)> {
    let mut guest = Guest::start(appliance, profile, backend, MEMORY_MIB)?;
    guest.wait_pong(timeouts.boot)?;
    let mut samples = Vec::new();
    let requests = settings.requests;
    for pipeline in PIPELINES {
        for test in TESTS {
            let run = Run { round, requests, clients: CLIENTS, pipeline };
            samples.push(benchmark(&mut guest, test, test.into(), run, timeouts.benchmark)?);
        }
    }
    // Not in --quick (the CI smoke run): a burst of 1000 connects through
    // passt can overflow the appliance's backlog (see the robustness issue).
    let many_clients: &[&str] = if settings.quick { &[] } else { &MANY_CLIENTS_TESTS };
    for &test in many_clients {
        let run = Run { round, requests, clients: MANY_CLIENTS, pipeline: 1 };
        samples.push(benchmark(&mut guest, test, many_clients_test(test), run, timeouts.benchmark)?);
    }
    let idle = measure::idle_connection_bytes(guest.endpoint, IDLE_CONNECTIONS, timeouts.benchmark)
        .map_err(|e| guest.failure(&e))?;
    step(&format!("{}: {:.0} bytes per idle connection (INFO used_memory)", appliance.name, idle));
    Ok((samples, idle))
}

/// One redis-benchmark run's shape.
#[derive(Clone, Copy)]
struct Run {
    round: u32,
    requests: u32,
    clients: u32,
    pipeline: u32,
}

/// Runs redis-benchmark's `test` against `guest` and records it as the
/// sample `label`, with QEMU's CPU seconds per 100,000 requests.
fn benchmark(guest: &mut Guest, test: &str, label: String, run: Run, timeout: Duration) -> Result<Sample> {
    let before = guest.cpu_seconds()?;
    let row = measure::redis_benchmark(guest.endpoint, test, run.requests, (run.clients, run.pipeline), timeout)
        .map_err(|e| guest.failure(&e))?;
    let cpu = guest.cpu_seconds()? - before;
    step(&format!("{} {label} -P {}: {:.0} requests/s, QEMU CPU {cpu:.2} s", guest.name, run.pipeline, row.rps));
    Ok(Sample {
        round: run.round,
        test: label,
        pipeline: run.pipeline,
        requests: run.requests,
        rps: row.rps,
        p50_ms: row.p50_ms,
        p99_ms: row.p99_ms,
        cpu_s_per_100k: cpu * 100_000.0 / f64::from(run.requests),
    })
}

/// Tries every available back end with every buildable appliance (SET and
/// GET at -P 1) and picks the fastest that works for all of them, unless
/// `--network` forced one. `--quick` skips the comparison and uses passt
/// (the fastest here; `cargo xtask run`'s default), or slirp without it.
fn choose_network(
    subjects: &[Subject],
    profile: &Profile,
    forced: Option<Backend>,
    settings: Settings,
    timeouts: Timeouts,
) -> NetworkChoice {
    if let Some(backend) = forced {
        return NetworkChoice {
            backend: backend.name().into(),
            description: backend.describe().into(),
            why: "chosen with --network".into(),
            trials: Vec::new(),
        };
    }
    if settings.quick {
        let backend = if Backend::Passt.unavailable().is_none() { Backend::Passt } else { Backend::User };
        return NetworkChoice {
            backend: backend.name().into(),
            description: backend.describe().into(),
            why: "--quick: not compared, the default back end".into(),
            trials: Vec::new(),
        };
    }
    let mut trials = Vec::new();
    let mut best: Option<(Backend, f64)> = None;
    for backend in Backend::ALL {
        let mut scores = Vec::new();
        for appliance in subjects.iter().filter_map(Subject::active) {
            let mut trial = NetworkTrial {
                backend: backend.name().into(),
                appliance: appliance.name.clone(),
                ..Default::default()
            };
            match backend
                .unavailable()
                .map_or_else(|| try_backend(appliance, profile, backend, settings, timeouts), Err)
            {
                Ok((set, get)) => {
                    step(&format!("network {}: {} SET {set:.0}/s, GET {get:.0}/s", backend.name(), appliance.name));
                    scores.push((set * get).sqrt());
                    (trial.set_rps, trial.get_rps) = (Some(set), Some(get));
                }
                Err(e) => {
                    step(&format!(
                        "network {}: {} does not work: {}",
                        backend.name(),
                        appliance.name,
                        e.lines().next().unwrap_or_default()
                    ));
                    trial.error = Some(e);
                }
            }
            trials.push(trial);
        }
        let all_worked =
            !scores.is_empty() && trials.iter().filter(|t| t.backend == backend.name()).all(|t| t.error.is_none());
        let score = scores.iter().map(|s| s.ln()).sum::<f64>() / scores.len().max(1) as f64;
        if all_worked && best.is_none_or(|(_, b)| score > b) {
            best = Some((backend, score));
        }
    }
    match best {
        Some((backend, _)) => NetworkChoice {
            backend: backend.name().into(),
            description: backend.describe().into(),
            why: "fastest SET/GET -P 1 of the back ends that work for every appliance".into(),
            trials,
        },
        None => NetworkChoice {
            backend: String::new(),
            description: String::new(),
            why: "every back end failed".into(),
            trials,
        },
    }
}

fn try_backend(
    appliance: &Appliance,
    profile: &Profile,
    backend: Backend,
    settings: Settings,
    timeouts: Timeouts,
) -> Result<(f64, f64)> {
    let mut guest = Guest::start(appliance, profile, backend, MEMORY_MIB)?;
    guest.wait_pong(timeouts.boot)?;
    // A back end that cannot carry 50 clients (slirp) makes redis-benchmark
    // spin on reconnects: give up long before the full benchmark's deadline.
    let deadline = timeouts.benchmark / 10;
    let run = |test| measure::redis_benchmark(guest.endpoint, test, settings.trial_requests, (CLIENTS, 1), deadline);
    Ok((run("set")?.rps, run("get")?.rps))
}

fn qemu_version(arch: Arch) -> String {
    Command::new(arch.qemu_binary())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// The host: CPU model, CPU count, memory, kernel and date.
fn environment() -> report::Environment {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let machine = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
        .unwrap_or("unknown CPU")
        .trim()
        .to_string();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let output = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    report::Environment {
        machine,
        host_cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        host_memory_mib: memory_kib / 1024,
        host_kernel: output("uname", &["-r"]),
        date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    }
}
