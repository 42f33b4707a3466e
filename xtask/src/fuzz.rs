//! `cargo xtask fuzz [--seconds N] [--runs N] [--max-len N] [--no-trace-cmp]
//! [--asan]`: builds the Redis
//! engine's libFuzzer target (`apps/redis/engine/fuzz`, `two_clients`)
//! without cargo-fuzz, runs it on the committed seed corpus and dictionary,
//! and reports executions, coverage and the outcome.
//!
//! The build uses the toolchain `setup` finds or installs (Debian's Rust
//! with `RUSTC_BOOTSTRAP=1` on a machine without nightly) and the flags
//! cargo-fuzz passes: sanitizer coverage (inline 8-bit counters, PC table,
//! compare tracing), `--cfg fuzzing`, debug assertions and overflow checks
//! at opt-level 3, for the host target so build scripts stay
//! uninstrumented. `--no-trace-cmp` leaves out compare tracing, which
//! takes about two thirds of the time: three times the executions, for long
//! runs on a corpus that runs with it have grown (it gets its own build
//! directory). `--max-len` lowers the longest input (default 4096 bytes).
//! `--asan` adds AddressSanitizer (3 to 4 times slower);
//! with Debian's Rust, which ships no sanitizer runtime, it links LLVM's
//! from Debian's `libclang-rt-N-dev`, installed when missing.
//!
//! The corpus lives in `target/fuzz/corpus/two_clients` (the seeds are
//! copied in; what the fuzzer adds stays there for the next run) and
//! crashes go to `target/fuzz/artifacts/two_clients/`, so runs never write
//! into the repository. One fuzzing process: the machines have 2 cores.

use crate::args::Args;
use crate::{Result, setup, step};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const TARGET: &str = "two_clients";
/// The fuzz crate, relative to the repository root.
const FUZZ_DIR: &str = "apps/redis/engine/fuzz";
/// The single-allocation limit: the target enforces the same figure in its
/// allocator (libFuzzer's needs a sanitizer's malloc hooks).
const MALLOC_LIMIT_MB: u32 = 16;
/// The whole process, libFuzzer's corpus included: the fuzzed server's
/// dataset is limited to 1 MiB.
const RSS_LIMIT_MB: u32 = 512;
/// Longest input: a few dozen commands.
const MAX_LEN: u64 = 4096;
/// One input running longer than this is reported as a hang.
const TIMEOUT_SECONDS: u32 = 10;

/// The sanitizer-coverage instrumentation cargo-fuzz uses.
const COVERAGE_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "--cfg",
    "fuzzing",
    "-Cdebug-assertions",
    "-Coverflow-checks",
    "-Copt-level=3",
];
/// Compare tracing: libFuzzer learns the constants the code compares with.
const TRACE_COMPARES: &str = "-Cllvm-args=-sanitizer-coverage-trace-compares";

pub fn run(args: &mut Args) -> Result<ExitCode> {
    let seconds = number(args.value("--seconds")?, "--seconds")?;
    let runs = number(args.value("--runs")?, "--runs")?;
    let max_len = number(args.value("--max-len")?, "--max-len")?.unwrap_or(MAX_LEN);
    let trace_compares = !args.flag("--no-trace-cmp");
    let asan = args.flag("--asan");
    args.finish()?;
    // Without a limit, a minute.
    let seconds = if seconds.is_none() && runs.is_none() { Some(60) } else { seconds };

    let root = qemu_tests::repo_root();
    let work = root.join("target/fuzz");
    let binary = build(&root, &work, asan, trace_compares)?;
    let corpus = work.join("corpus").join(TARGET);
    let seeds = root.join(FUZZ_DIR).join("seeds").join(TARGET);
    let copied = copy_seeds(&seeds, &corpus)?;
    let artifacts = work.join("artifacts").join(TARGET);
    std::fs::create_dir_all(&artifacts).map_err(|e| format!("creating {}: {e}", artifacts.display()))?;
    let dict = root.join(FUZZ_DIR).join(format!("{TARGET}.dict"));

    let mut command = Command::new(&binary);
    command
        .arg(&corpus)
        .arg(format!("-dict={}", dict.display()))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(format!("-malloc_limit_mb={MALLOC_LIMIT_MB}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-max_len={max_len}"))
        .arg(format!("-timeout={TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1")
        .arg(format!("-max_total_time={}", seconds.unwrap_or(0)));
    if let Some(runs) = runs {
        command.arg(format!("-runs={runs}"));
    }
    if asan {
        // Debian's runtime is linked as a shared library, after libc.
        command.env("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0");
    }
    let limit = match (seconds, runs) {
        (Some(s), Some(r)) => format!("{s} s or {r} runs"),
        (Some(s), None) => format!("{s} s"),
        (None, Some(r)) => format!("{r} runs"),
        (None, None) => unreachable!(),
    };
    step(&format!(
        "fuzzing {TARGET} for {limit}: corpus {} ({copied} seeds copied in), -malloc_limit_mb={MALLOC_LIMIT_MB} \
         -rss_limit_mb={RSS_LIMIT_MB} -max_len={max_len}{}{}",
        corpus.display(),
        if trace_compares { "" } else { ", no compare tracing" },
        if asan { ", AddressSanitizer" } else { "" }
    ));
    let log_path = work.join(format!("{TARGET}.log"));
    let report = run_fuzzer(command, &log_path)?;

    println!(
        "fuzz: {} executions in {} s ({} exec/s), coverage: {} edges, {} features, corpus {} inputs, peak RSS {} MB",
        report.executions.map_or("?".into(), |n| n.to_string()),
        report.seconds.map_or("?".into(), |n| n.to_string()),
        report.exec_per_sec.map_or("?".into(), |n| n.to_string()),
        report.cov.map_or("?".into(), |n| n.to_string()),
        report.features.map_or("?".into(), |n| n.to_string()),
        report.corpus.map_or("?".into(), |n| n.to_string()),
        report.peak_rss_mb.map_or("?".into(), |n| n.to_string()),
    );
    println!("fuzz: full log in {}", log_path.display());
    match (&report.artifact, report.success) {
        (None, true) => {
            println!("fuzz: no crash");
            Ok(ExitCode::SUCCESS)
        }
        (Some(path), _) => Err(format!(
            "the fuzzer found a failing input: {path}\n  reproduce with: {} {path}\n  minimise with: {} \
             -minimize_crash=1 -runs=100000 {path}",
            binary.display(),
            binary.display()
        )),
        (None, false) => Err(format!("the fuzzer failed without writing an input; see {}", log_path.display())),
    }
}

fn number(value: Option<String>, name: &str) -> Result<Option<u64>> {
    value.map(|v| v.parse::<u64>().map_err(|_| format!("{name} needs a whole number, not '{v}'"))).transpose()
}

/// `rustc -vV`'s value for `key` (`host`, `LLVM version`).
fn rustc_info(rustc: &Path, key: &str) -> Result<String> {
    let out = Command::new(rustc).arg("-vV").output().map_err(|e| format!("cannot run {}: {e}", rustc.display()))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")).map(str::to_string))
        .ok_or_else(|| format!("`{} -vV` does not say its {key}", rustc.display()))
}

/// Builds the fuzz target; returns the binary.
fn build(root: &Path, work: &Path, asan: bool, trace_compares: bool) -> Result<PathBuf> {
    let tc = setup::ensure_toolchain()?;
    let host = rustc_info(&tc.rustc, "host")?;
    let mut flags: Vec<String> = COVERAGE_FLAGS.iter().map(|f| f.to_string()).collect();
    if trace_compares {
        flags.push(TRACE_COMPARES.to_string());
    }
    if asan {
        flags.extend(asan_flags(&tc.rustc)?);
    }
    let mut target_dir = String::from("build");
    if asan {
        target_dir.push_str("-asan");
    }
    if !trace_compares {
        target_dir.push_str("-no-trace-cmp");
    }
    let target_dir = work.join(target_dir);
    step(&format!("building the fuzz target {TARGET} with {} ({host})", tc.description));
    let status = tc
        .cargo()
        .args(["build", "--release", "--locked", "--bin", TARGET, "--target", &host, "--manifest-path"])
        .arg(root.join(FUZZ_DIR).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", flags.join(" "))
        .status()
        .map_err(|e| format!("cannot run {}: {e}", tc.cargo.display()))?;
    if !status.success() {
        return Err(format!("building the fuzz target failed ({status})"));
    }
    Ok(target_dir.join(host).join("release").join(TARGET))
}

/// AddressSanitizer: rustc's own runtime when its sysroot has one (rustup's
/// nightly), else LLVM's from Debian (the version rustc was built with).
fn asan_flags(rustc: &Path) -> Result<Vec<String>> {
    let mut flags = vec!["-Zsanitizer=address".to_string()];
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .map_err(|e| format!("cannot run {}: {e}", rustc.display()))?;
    let host = rustc_info(rustc, "host")?;
    let own = std::fs::read_dir(sysroot.join("lib/rustlib").join(&host).join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with("_rt.asan.a"));
    if own {
        return Ok(flags);
    }
    let llvm = rustc_info(rustc, "LLVM version")?;
    let major = llvm.split('.').next().unwrap_or_default();
    let dir = PathBuf::from(format!("/usr/lib/llvm-{major}/lib/clang/{major}/lib/linux"));
    let arch = host.split('-').next().unwrap_or_default();
    let runtime = dir.join(format!("libclang_rt.asan-{arch}.so"));
    if !runtime.exists() {
        let package = format!("libclang-rt-{major}-dev");
        step(&format!("rustc has no AddressSanitizer runtime; installing LLVM {major}'s ({package})"));
        setup::apt_install(&[&package], None)?;
        if !runtime.exists() {
            return Err(format!("{package} is installed but {} is missing", runtime.display()));
        }
    }
    flags.push("-Zexternal-clangrt".into());
    flags.push(format!("-Clink-arg={}", runtime.display()));
    flags.push(format!("-Clink-arg=-Wl,-rpath,{}", dir.display()));
    Ok(flags)
}

/// Copies the committed seeds into the working corpus; returns how many.
fn copy_seeds(seeds: &Path, corpus: &Path) -> Result<usize> {
    std::fs::create_dir_all(corpus).map_err(|e| format!("creating {}: {e}", corpus.display()))?;
    let entries = std::fs::read_dir(seeds).map_err(|e| format!("reading {}: {e}", seeds.display()))?;
    let mut n = 0;
    for entry in entries.flatten() {
        let to = corpus.join(format!("seed-{}", entry.file_name().to_string_lossy()));
        std::fs::copy(entry.path(), &to).map_err(|e| format!("copying {}: {e}", entry.path().display()))?;
        n += 1;
    }
    Ok(n)
}

/// What libFuzzer reported.
#[derive(Default, Debug, PartialEq)]
struct Report {
    executions: Option<u64>,
    seconds: Option<u64>,
    exec_per_sec: Option<u64>,
    cov: Option<u64>,
    features: Option<u64>,
    corpus: Option<u64>,
    peak_rss_mb: Option<u64>,
    /// The input that made the target fail.
    artifact: Option<String>,
    success: bool,
}

impl Report {
    /// Reads one line of libFuzzer's output.
    fn read(&mut self, line: &str) {
        let value = |key: &str| -> Option<u64> {
            let rest = line.split(key).nth(1)?;
            let word = rest.split_whitespace().next()?;
            word[..word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len())].parse().ok()
        };
        if let Some(path) = line.split("Test unit written to ").nth(1) {
            self.artifact = Some(path.trim().to_string());
        } else if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            self.executions = n.trim().parse().ok();
        } else if let Some(n) = line.strip_prefix("stat::average_exec_per_sec:") {
            self.exec_per_sec = n.trim().parse().ok();
        } else if let Some(n) = line.strip_prefix("stat::peak_rss_mb:") {
            self.peak_rss_mb = n.trim().parse().ok();
        } else if line.starts_with("Done ") {
            self.executions = value("Done ").or(self.executions);
            self.seconds = value(" runs in ");
        } else if line.starts_with('#') && line.contains(" cov: ") {
            self.cov = value(" cov: ").or(self.cov);
            self.features = value(" ft: ").or(self.features);
            self.corpus = value(" corp: ").or(self.corpus);
            if self.executions.is_none() || line.contains("DONE") {
                self.executions = line[1..].split_whitespace().next().and_then(|n| n.parse().ok()).or(self.executions);
            }
        }
    }

    /// Lines worth showing on the terminal (the log has everything).
    fn shows(line: &str) -> bool {
        let event = line.split_whitespace().nth(1).unwrap_or_default();
        let progress = line.starts_with('#') && matches!(event, "NEW" | "REDUCE")
            || line.trim_start().starts_with("NEW_FUNC")
            || line.starts_with("WARNING: Failed to find function");
        // The recommended dictionary, one entry a line.
        let dictionary = line.starts_with('"') || line.starts_with("###### ");
        !progress && !dictionary
    }
}

fn run_fuzzer(mut command: Command, log_path: &Path) -> Result<Report> {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the fuzz target: {e}"))?;
    let mut log = std::fs::File::create(log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let mut report = Report::default();
    let stderr = child.stderr.take().expect("piped");
    for line in BufReader::new(stderr).split(b'\n').map_while(|l| l.ok()) {
        let line = String::from_utf8_lossy(&line);
        let _ = writeln!(log, "{line}");
        report.read(&line);
        if Report::shows(&line) {
            eprintln!("  {line}");
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for the fuzz target: {e}"))?;
    report.success = status.success();
    if report.executions.is_some() && report.seconds.is_some() && report.exec_per_sec.is_none() {
        report.exec_per_sec = Some(report.executions.unwrap_or(0) / report.seconds.unwrap_or(1).max(1));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::Report;

    #[test]
    fn reads_libfuzzer_output() {
        let mut r = Report::default();
        for line in [
            "#2\tINITED cov: 1510 ft: 5480 corp: 31/3200b exec/s: 0 rss: 31Mb",
            "#1048576\tpulse  cov: 2000 ft: 9000 corp: 900/60Kb lim: 4096 exec/s: 11000 rss: 60Mb",
            "Done 660000 runs in 61 second(s)",
            "stat::number_of_executed_units: 660001",
            "stat::average_exec_per_sec:     10819",
            "stat::peak_rss_mb:              64",
        ] {
            r.read(line);
        }
        assert_eq!(
            r,
            Report {
                executions: Some(660001),
                seconds: Some(61),
                exec_per_sec: Some(10819),
                cov: Some(2000),
                features: Some(9000),
                corpus: Some(900),
                peak_rss_mb: Some(64),
                artifact: None,
                success: false,
            }
        );
        r.read("artifact_prefix='a/'; Test unit written to a/crash-0123");
        assert_eq!(r.artifact.as_deref(), Some("a/crash-0123"));
        assert!(!Report::shows("#300\tNEW    cov: 1 ft: 2 corp: 3/4b"));
        assert!(Report::shows("#1048576\tpulse  cov: 2000"));
    }
}
