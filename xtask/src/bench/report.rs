//! The benchmark's results and their three forms: the table printed at the
//! end (also written to `target/bench/report.txt`), the raw JSON
//! (`results.json`) and an SVG chart (`chart.svg`).

use super::measure::median;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// The commands redis-benchmark runs, and the pipeline depths.
pub const TESTS: [&str; 5] = ["set", "get", "incr", "lpush", "lpop"];
pub const PIPELINES: [u32; 2] = [1, 16];
/// The many-clients round: these tests at -P 1 with this many clients.
pub const MANY_CLIENTS: u32 = 1000;
pub const MANY_CLIENTS_TESTS: [&str; 2] = ["set", "get"];
/// Idle connections opened to measure what one costs.
pub const IDLE_CONNECTIONS: u32 = 200;
/// redis-benchmark's clients (`-c`) in every round but the many-clients one.
pub const CLIENTS: u32 = 50;
/// The persistence round's `appendfsync` policies (SET at every depth).
pub const FSYNC_POLICIES: [&str; 2] = ["always", "everysec"];

/// The sample name of `test` in the many-clients round.
pub fn many_clients_test(test: &str) -> String {
    format!("{test} -c {MANY_CLIENTS}")
}

/// The sample name of SET with `appendonly yes` and this `appendfsync`.
pub fn fsync_test(policy: &str) -> String {
    format!("set appendfsync {policy}")
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub quick: bool,
    pub environment: Environment,
    pub arches: Vec<ArchResults>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Environment {
    pub machine: String,
    pub host_cpus: usize,
    pub host_memory_mib: u64,
    pub host_kernel: String,
    pub date: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ArchResults {
    pub arch: String,
    pub qemu_version: String,
    pub accelerator: String,
    pub machine_profile: String,
    /// Guest RAM for the boot and throughput runs (both appliances).
    pub memory_mib: u32,
    /// Guest RAM for the persistence round (both appliances).
    #[serde(default)]
    pub persistence_memory_mib: u32,
    /// The persistence round's data disks.
    #[serde(default)]
    pub persistence_disk: String,
    pub network: NetworkChoice,
    /// Our appliance first, then the Linux baseline.
    pub appliances: Vec<ApplianceResults>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NetworkChoice {
    pub backend: String,
    pub description: String,
    pub why: String,
    pub trials: Vec<NetworkTrial>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NetworkTrial {
    pub backend: String,
    pub appliance: String,
    /// Requests/s of SET and GET at -P 1, when it worked.
    pub set_rps: Option<f64>,
    pub get_rps: Option<f64>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ApplianceResults {
    pub name: String,
    pub description: String,
    /// `None` when measured; otherwise why not (not built yet, or failed).
    pub status: Option<String>,
    pub image_bytes: Option<u64>,
    pub boots: Vec<BootSample>,
    pub min_memory_mib: Option<u32>,
    pub min_memory_note: Option<String>,
    pub samples: Vec<Sample>,
    /// INFO's `used_memory` per idle connection, one per throughput round.
    #[serde(default)]
    pub idle_connection_bytes: Vec<f64>,
    /// Boots that loaded a dataset from the data disk, then saved it.
    #[serde(default)]
    pub loads: Vec<LoadSample>,
    /// Boots of the appliance's disk image through firmware, beside the
    /// `boots` through `-kernel`.
    #[serde(default)]
    pub firmware_boots: Vec<FirmwareBoot>,
}

/// One boot of the appliance's disk image through firmware.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FirmwareBoot {
    /// `uefi`, `bios` or `uboot`.
    pub firmware: String,
    /// QEMU launch to the first PONG.
    pub pong_s: f64,
}

/// One boot of the persistence round that loads a dump and saves it again.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LoadSample {
    pub keys: u64,
    /// QEMU launch to the first PONG (then DBSIZE = `keys`).
    pub pong_s: f64,
    /// The load time the server reports: INFO's `loading_time_ms` where it
    /// has one (the appliance), else Redis's `DB loaded from disk` log line.
    pub server_s: Option<f64>,
    /// From sending SAVE to its `+OK`, as the host's client sees it.
    pub save_s: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BootSample {
    /// QEMU launch to the first PONG through the network back end.
    pub pong_s: f64,
    /// The guest's kernel timestamp of its `listening on` line.
    pub guest_s: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sample {
    pub round: u32,
    pub test: String,
    pub pipeline: u32,
    pub requests: u32,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// QEMU's user + system CPU seconds per 100,000 requests.
    pub cpu_s_per_100k: f64,
}

/// Median, minimum and maximum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

fn spread(values: &[f64]) -> Option<Spread> {
    Some(Spread {
        median: median(values)?,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

impl ApplianceResults {
    pub fn pong(&self) -> Option<Spread> {
        spread(&self.boots.iter().map(|b| b.pong_s).collect::<Vec<_>>())
    }

    pub fn guest_boot(&self) -> Option<Spread> {
        spread(&self.boots.iter().filter_map(|b| b.guest_s).collect::<Vec<_>>())
    }

    /// The median of `field` over the load samples.
    pub fn median_load(&self, field: fn(&LoadSample) -> Option<f64>) -> Option<f64> {
        median(&self.loads.iter().filter_map(field).collect::<Vec<_>>())
    }

    /// The median of `field` over the samples of one test and pipeline depth.
    pub fn median_of(&self, test: &str, pipeline: u32, field: fn(&Sample) -> f64) -> Option<f64> {
        let values: Vec<f64> =
            self.samples.iter().filter(|s| s.test == test && s.pipeline == pipeline).map(field).collect();
        median(&values)
    }
}

/// One table row: a metric, both values, and how to compare them.
struct Row {
    metric: String,
    ours: Option<f64>,
    linux: Option<f64>,
    format: fn(f64) -> String,
    /// Higher is better (throughput) or lower is better (time, bytes).
    higher_is_better: bool,
    target: Option<f64>,
    /// Extra text after the value (min/max).
    ours_extra: String,
    linux_extra: String,
}

fn seconds(v: f64) -> String {
    if v < 1.0 { format!("{:.1} ms", v * 1000.0) } else { format!("{v:.2} s") }
}
fn mib(v: f64) -> String {
    format!("{:.2} MiB", v / (1024.0 * 1024.0))
}
fn kib(v: f64) -> String {
    format!("{:.1} KiB", v / 1024.0)
}
fn whole_mib(v: f64) -> String {
    format!("{v:.0} MiB")
}
fn rps(v: f64) -> String {
    format!("{v:.0}/s")
}
fn millis(v: f64) -> String {
    format!("{v:.3} ms")
}
fn cpu(v: f64) -> String {
    format!("{v:.2} s")
}

/// The factor by which ours is better (>1) or worse (<1).
fn ratio(row: &Row) -> Option<f64> {
    let (ours, linux) = (row.ours?, row.linux?);
    if ours <= 0.0 || linux <= 0.0 {
        return None;
    }
    Some(if row.higher_is_better { ours / linux } else { linux / ours })
}

fn rows(arch: &ArchResults) -> Vec<Row> {
    let none = ApplianceResults::default();
    let ours = arch.appliances.first().unwrap_or(&none);
    let linux = arch.appliances.get(1).unwrap_or(&none);
    let extra = |s: Option<Spread>| s.map(|s| format!(" ({}..{})", seconds(s.min), seconds(s.max))).unwrap_or_default();
    let mut rows = vec![
        Row {
            metric: "boot to first PONG (median, min..max)".into(),
            ours: ours.pong().map(|s| s.median),
            linux: linux.pong().map(|s| s.median),
            format: seconds,
            higher_is_better: false,
            target: Some(20.0),
            ours_extra: extra(ours.pong()),
            linux_extra: extra(linux.pong()),
        },
        Row {
            metric: "guest boot to listening (median)".into(),
            ours: ours.guest_boot().map(|s| s.median),
            linux: linux.guest_boot().map(|s| s.median),
            format: seconds,
            higher_is_better: false,
            target: None,
            ours_extra: String::new(),
            linux_extra: String::new(),
        },
        simple(
            "image size (shipped bytes)",
            ours.image_bytes.map(|b| b as f64),
            linux.image_bytes.map(|b| b as f64),
            mib,
            Some(20.0),
        ),
        simple("minimum memory", ours.min_memory_mib, linux.min_memory_mib, whole_mib, Some(8.0)),
    ];
    for pipeline in PIPELINES {
        for test in TESTS {
            let target = (["get", "set"].contains(&test)).then_some(1.5);
            rows.push(Row {
                metric: format!("{} -P {pipeline} requests/s", test.to_uppercase()),
                ours: ours.median_of(test, pipeline, |s| s.rps),
                linux: linux.median_of(test, pipeline, |s| s.rps),
                format: rps,
                higher_is_better: true,
                target,
                ours_extra: String::new(),
                linux_extra: String::new(),
            });
        }
    }
    for test in MANY_CLIENTS_TESTS {
        let name = many_clients_test(test);
        rows.push(Row {
            metric: format!("{} -P 1 requests/s", name.to_uppercase()),
            ours: ours.median_of(&name, 1, |s| s.rps),
            linux: linux.median_of(&name, 1, |s| s.rps),
            format: rps,
            higher_is_better: true,
            target: None,
            ours_extra: String::new(),
            linux_extra: String::new(),
        });
    }
    rows.extend(persistence_rows(ours, linux));
    rows.push(simple(
        "memory per idle connection (INFO used_memory)",
        median(&ours.idle_connection_bytes),
        median(&linux.idle_connection_bytes),
        kib,
        None,
    ));
    for test in ["get", "set"] {
        for (name, field) in [("p50", (|s: &Sample| s.p50_ms) as fn(&Sample) -> f64), ("p99", |s: &Sample| s.p99_ms)] {
            rows.push(Row {
                metric: format!("{} -P 1 latency {name}", test.to_uppercase()),
                ours: ours.median_of(test, 1, field),
                linux: linux.median_of(test, 1, field),
                format: millis,
                higher_is_better: false,
                target: None,
                ours_extra: String::new(),
                linux_extra: String::new(),
            });
        }
    }
    for pipeline in PIPELINES {
        for test in TESTS {
            rows.push(Row {
                metric: format!("{} -P {pipeline} QEMU CPU per 100k req", test.to_uppercase()),
                ours: ours.median_of(test, pipeline, |s| s.cpu_s_per_100k),
                linux: linux.median_of(test, pipeline, |s| s.cpu_s_per_100k),
                format: cpu,
                higher_is_better: false,
                target: None,
                ours_extra: String::new(),
                linux_extra: String::new(),
            });
        }
    }
    rows
}

/// One figure of a load sample, if it has it.
type LoadField = fn(&LoadSample) -> Option<f64>;

/// The persistence round's rows: SET throughput per `appendfsync` policy
/// and depth, then loading and saving the dataset.
fn persistence_rows(ours: &ApplianceResults, linux: &ApplianceResults) -> Vec<Row> {
    let mut rows = Vec::new();
    for policy in FSYNC_POLICIES {
        for pipeline in PIPELINES {
            let test = fsync_test(policy);
            rows.push(Row {
                metric: format!("SET -P {pipeline} appendfsync {policy} requests/s"),
                ours: ours.median_of(&test, pipeline, |s| s.rps),
                linux: linux.median_of(&test, pipeline, |s| s.rps),
                format: rps,
                higher_is_better: true,
                target: None,
                ours_extra: String::new(),
                linux_extra: String::new(),
            });
        }
    }
    let keys = ours.loads.iter().chain(&linux.loads).map(|l| l.keys.to_string()).next().unwrap_or("N".into());
    let loads: [(String, LoadField); 3] = [
        (format!("boot to PONG with {keys} keys loaded"), |l| Some(l.pong_s)),
        (format!("server's own load time, {keys} keys"), |l| l.server_s),
        (format!("SAVE of {keys} keys"), |l| Some(l.save_s)),
    ];
    for (metric, field) in loads {
        rows.push(simple(&metric, ours.median_load(field), linux.median_load(field), seconds, None));
    }
    rows
}

fn simple<T: Into<f64>>(
    metric: &str,
    ours: Option<T>,
    linux: Option<T>,
    format: fn(f64) -> String,
    target: Option<f64>,
) -> Row {
    Row {
        metric: metric.into(),
        ours: ours.map(Into::into),
        linux: linux.map(Into::into),
        format,
        higher_is_better: false,
        target,
        ours_extra: String::new(),
        linux_extra: String::new(),
    }
}

/// How the table shows a missing value: why the appliance has none.
fn missing(appliance: Option<&ApplianceResults>) -> String {
    match appliance.and_then(|a| a.status.as_deref()) {
        Some(status) if status.starts_with("not built yet") => "pending".into(),
        Some(_) => "failed".into(),
        None => "-".into(),
    }
}

/// The table for every architecture, with the environment it ran in.
pub fn table(results: &Results) -> String {
    let env = &results.environment;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "host: {} ({} CPUs, {} MiB), Linux {}, {}{}",
        env.machine,
        env.host_cpus,
        env.host_memory_mib,
        env.host_kernel,
        env.date,
        if results.quick { " (--quick: one boot, one short round; no memory search)" } else { "" }
    );
    for arch in &results.arches {
        let _ = writeln!(
            out,
            "\n{}: {}, {} acceleration, machine {}, -smp 1, -m {}M, network {} ({})",
            arch.arch,
            arch.qemu_version,
            arch.accelerator,
            arch.machine_profile,
            arch.memory_mib,
            arch.network.backend,
            arch.network.why
        );
        if arch.persistence_memory_mib > 0 {
            let _ = writeln!(
                out,
                "  persistence rows: -m {}M, data disk {}",
                arch.persistence_memory_mib, arch.persistence_disk
            );
        }
        for appliance in &arch.appliances {
            if let Some(status) = &appliance.status {
                let _ = writeln!(out, "  {}: {status}", appliance.name);
            }
        }
        let header = ["metric", "appliance", "linux (Debian)", "ratio", "target"];
        let mut lines = vec![header.map(str::to_string).to_vec()];
        for row in rows(arch) {
            let value = |v: Option<f64>, extra: &str, who: usize| {
                v.map(|v| format!("{}{extra}", (row.format)(v))).unwrap_or_else(|| missing(arch.appliances.get(who)))
            };
            lines.push(vec![
                row.metric.clone(),
                value(row.ours, &row.ours_extra, 0),
                value(row.linux, &row.linux_extra, 1),
                ratio(&row).map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".into()),
                row.target.map(|t| format!(">= {t}x")).unwrap_or_default(),
            ]);
        }
        let widths: Vec<usize> =
            (0..header.len()).map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0)).collect();
        for line in &lines {
            let cells: Vec<String> = line.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
        }
        if let Some(ours) = arch.appliances.first().filter(|a| !a.firmware_boots.is_empty()) {
            let direct = ours.pong().map(|s| format!("{:.2} s", s.median)).unwrap_or_else(|| "-".into());
            let through: Vec<String> =
                ours.firmware_boots.iter().map(|b| format!("{} {:.2} s", b.firmware, b.pong_s)).collect();
            let _ = writeln!(
                out,
                "  appliance boot to first PONG from its disk image: {} (-kernel: {direct})",
                through.join(", ")
            );
        }
    }
    out
}

/// Writes `results.json`, `report.txt` and `chart.svg` into `dir`.
pub fn write(results: &Results, dir: &Path) -> crate::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(results).map_err(|e| format!("encoding results: {e}"))?;
    for (name, text) in [("results.json", json), ("report.txt", table(results)), ("chart.svg", svg(results))] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

const OURS_COLOR: &str = "#2b7bb9";
const LINUX_COLOR: &str = "#d9822b";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A bar chart: per architecture, one pair of bars (ours, Linux) per table
/// row, each scaled to the larger of the two, labelled with its value.
pub fn svg(results: &Results) -> String {
    const ROW: f64 = 34.0;
    const LABEL: f64 = 300.0;
    const BAR: f64 = 380.0;
    let mut body = String::new();
    let mut y = 50.0;
    for arch in &results.arches {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{y}" font-weight="bold">{} (network: {}, {})</text>"#,
            escape(&arch.arch),
            escape(&arch.network.backend),
            escape(&arch.accelerator)
        );
        y += 14.0;
        for row in rows(arch) {
            let scale = row.ours.unwrap_or(0.0).max(row.linux.unwrap_or(0.0));
            let _ = writeln!(body, r#"<text x="10" y="{}">{}</text>"#, y + 16.0, escape(&row.metric));
            for (i, (value, color, who)) in
                [(row.ours, OURS_COLOR, 0), (row.linux, LINUX_COLOR, 1)].into_iter().enumerate()
            {
                let bar_y = y + 4.0 + i as f64 * 13.0;
                let text = match value {
                    Some(v) => {
                        let width = if scale > 0.0 { (v / scale * BAR).max(1.0) } else { 1.0 };
                        let _ = writeln!(
                            body,
                            r#"<rect x="{LABEL}" y="{bar_y}" width="{width:.1}" height="11" fill="{color}"/>"#
                        );
                        (row.format)(v)
                    }
                    None => missing(arch.appliances.get(who)),
                };
                let _ = writeln!(
                    body,
                    r#"<text x="{}" y="{}" font-size="10">{}</text>"#,
                    LABEL + BAR + 8.0,
                    bar_y + 9.5,
                    escape(&text)
                );
            }
            y += ROW;
        }
        y += 20.0;
    }
    let width = LABEL + BAR + 140.0;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="14" font-weight="bold">Redis appliance vs Debian Linux + redis-server</text>
<rect x="{LABEL}" y="28" width="10" height="10" fill="{OURS_COLOR}"/><text x="{}" y="37">appliance</text>
<rect x="{}" y="28" width="10" height="10" fill="{LINUX_COLOR}"/><text x="{}" y="37">linux (Debian)</text>
{body}</svg>
"#,
        LABEL + 14.0,
        LABEL + 100.0,
        LABEL + 114.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(test: &str, pipeline: u32, rps: f64) -> Sample {
        Sample {
            round: 0,
            test: test.into(),
            pipeline,
            requests: 1000,
            rps,
            p50_ms: 1.0,
            p99_ms: 2.0,
            cpu_s_per_100k: 3.0,
        }
    }

    fn example() -> Results {
        let ours = ApplianceResults {
            name: "appliance".into(),
            image_bytes: Some(1 << 20),
            boots: vec![BootSample { pong_s: 0.1, guest_s: Some(0.01) }],
            min_memory_mib: Some(8),
            samples: vec![sample("get", 1, 30000.0), sample("get", 1, 40000.0)],
            ..Default::default()
        };
        let linux = ApplianceResults {
            name: "linux".into(),
            image_bytes: Some(20 << 20),
            boots: vec![BootSample { pong_s: 4.0, guest_s: None }, BootSample { pong_s: 2.0, guest_s: Some(1.5) }],
            min_memory_mib: Some(64),
            samples: vec![sample("get", 1, 20000.0)],
            ..Default::default()
        };
        Results {
            quick: false,
            environment: Environment { machine: "Test CPU <x>".into(), ..Default::default() },
            arches: vec![ArchResults { arch: "x86_64".into(), appliances: vec![ours, linux], ..Default::default() }],
        }
    }

    #[test]
    fn firmware_boots_are_reported_beside_the_direct_boot() {
        let mut results = example();
        assert!(!table(&results).contains("from its disk image"), "no line without firmware boots");
        results.arches[0].appliances[0].firmware_boots = vec![
            FirmwareBoot { firmware: "uefi".into(), pong_s: 3.5 },
            FirmwareBoot { firmware: "bios".into(), pong_s: 0.75 },
        ];
        let table = table(&results);
        let line = table.lines().find(|l| l.contains("from its disk image")).unwrap();
        assert!(line.ends_with("uefi 3.50 s, bios 0.75 s (-kernel: 0.10 s)"), "{line}");
    }

    #[test]
    fn spreads_and_medians() {
        let results = example();
        let linux = &results.arches[0].appliances[1];
        assert_eq!(linux.pong(), Some(Spread { median: 3.0, min: 2.0, max: 4.0 }));
        assert_eq!(linux.guest_boot().map(|s| s.median), Some(1.5));
        assert_eq!(results.arches[0].appliances[0].median_of("get", 1, |s| s.rps), Some(35000.0));
        assert_eq!(linux.median_of("set", 1, |s| s.rps), None);
    }

    #[test]
    fn table_shows_values_ratios_and_targets() {
        let table = table(&example());
        let boot = table.lines().find(|l| l.contains("boot to first PONG")).unwrap();
        assert!(boot.contains("100.0 ms") && boot.contains("3.00 s (2.00 s..4.00 s)") && boot.contains("30.00x"));
        let get = table.lines().find(|l| l.contains("GET -P 1 requests/s")).unwrap();
        assert!(get.contains("35000/s") && get.contains("1.75x") && get.contains(">= 1.5x"), "{get}");
        let memory = table.lines().find(|l| l.contains("minimum memory")).unwrap();
        assert!(memory.contains("8.00x"));
    }

    #[test]
    fn persistence_rows_compare_fsync_loading_and_saving() {
        let mut results = example();
        let [ours, linux] = &mut results.arches[0].appliances[..] else { panic!() };
        ours.samples.push(sample(&fsync_test("always"), 1, 20000.0));
        linux.samples.push(sample(&fsync_test("always"), 1, 2000.0));
        ours.loads.push(LoadSample { keys: 1000, pong_s: 0.5, server_s: Some(0.25), save_s: 0.1 });
        linux.loads.push(LoadSample { keys: 1000, pong_s: 5.0, server_s: None, save_s: 0.4 });
        results.arches[0].persistence_memory_mib = 512;
        let table = table(&results);
        assert!(table.contains("persistence rows: -m 512M"));
        let always = table.lines().find(|l| l.contains("SET -P 1 appendfsync always")).unwrap();
        assert!(always.contains("20000/s") && always.contains("10.00x"), "{always}");
        let load = table.lines().find(|l| l.contains("boot to PONG with 1000 keys loaded")).unwrap();
        assert!(load.contains("500.0 ms") && load.contains("5.00 s") && load.contains("10.00x"), "{load}");
        let own = table.lines().find(|l| l.contains("server's own load time")).unwrap();
        assert!(own.contains("250.0 ms") && own.contains(" - "), "{own}");
        let save = table.lines().find(|l| l.contains("SAVE of 1000 keys")).unwrap();
        assert!(save.contains("4.00x"), "{save}");
    }

    #[test]
    fn pending_appliance_is_marked() {
        let mut results = example();
        let ours = &mut results.arches[0].appliances[0];
        *ours = ApplianceResults {
            name: "appliance".into(),
            status: Some("not built yet: no app".into()),
            ..Default::default()
        };
        let table = table(&results);
        assert!(table.contains("appliance: not built yet: no app"));
        assert!(table.lines().find(|l| l.contains("image size")).unwrap().contains("pending"));
        assert!(svg(&results).contains(">pending</text>"));
    }

    #[test]
    fn svg_is_well_formed_and_escaped() {
        let svg = svg(&example());
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(svg.contains("fill=\"#2b7bb9\""));
        assert!(!svg.contains("<x>"));
    }

    #[test]
    fn json_round_trips() {
        let results = example();
        let json = serde_json::to_string(&results).unwrap();
        let back: Results = serde_json::from_str(&json).unwrap();
        assert_eq!(back.arches[0].appliances[1].boots.len(), 2);
        assert_eq!(back.arches[0].appliances[0].min_memory_mib, Some(8));
    }
}
