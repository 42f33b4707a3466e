//! The Redis appliance driven by real clients: one appliance per machine
//! (q35 on x86_64, virt on aarch64) behind passt, and in order
//!
//! 1. a scripted `redis-cli` session (`tests/redis/cli_session.redis`) whose
//!    output must equal `tests/redis/cli_session.expected` (recorded from
//!    Redis 7.0.15) byte for byte, then `redis-cli --pipe` with 5000 SETs;
//! 2. malformed RESP from raw TCP clients: Redis's protocol error, then the
//!    connection closes while another client keeps working;
//! 3. the redis-py suite in `tests/redis/` (pytest, from `target/venv`);
//! 4. a `redis-benchmark` smoke run (`-n 20000 -c 50`);
//! 5. `SHUTDOWN` from `redis-cli`: the appliance powers off with status 0.
//!
//! The clients come from `cargo xtask setup` (Debian's `redis-tools`, and a
//! Python virtual environment). Test names start with the architecture
//! (`cargo xtask test --arch` skips the other one).

use qemu_tests::network::PASST_BUFFERS;
use qemu_tests::redis::{HostRedis, RedisAppliance};
use qemu_tests::resp::{Client, Reply, status};
use qemu_tests::{Boot, Machine, python_venv, repo_root};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// For one client program (redis-cli, pytest, redis-benchmark) to finish.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);
/// Per-socket I/O timeout of the raw TCP clients.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// SETs sent with `redis-cli --pipe`.
const PIPED_SETS: usize = 5000;

/// Boots the Redis appliance on `machine` behind passt (its clock started
/// on a host second, for the wall-clock phase) and waits until it listens.
fn boot_redis(machine: &str) -> RedisAppliance {
    let redis =
        RedisAppliance::boot(machine, PASST_BUFFERS, Boot::host_aligned_clock).unwrap_or_else(|e| panic!("{e}"));
    assert!(redis.ready.ends_with(":6379"), "listens on the default port: {}", redis.ready);
    redis
}

/// Runs a client program with `stdin` as its input; fails after `timeout`.
fn run(cmd: &mut Command, stdin: Vec<u8>, timeout: Duration) -> Result<Output, String> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e} (install the test clients with `cargo xtask setup`)"))?;
    let mut input = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let out = out_reader.join().unwrap_or_default();
                return Err(format!(
                    "{what} did not finish within {timeout:?}; its output so far:\n{}",
                    String::from_utf8_lossy(&out)
                ));
            }
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    };
    let _ = writer.join();
    Ok(Output { status, stdout: out_reader.join().unwrap_or_default(), stderr: err_reader.join().unwrap_or_default() })
}

fn redis_cli(port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn redis_dir() -> PathBuf {
    repo_root().join("tests/redis")
}

/// Where two texts first differ, with a few lines of context.
fn first_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let at = (0..e.len().max(g.len())).find(|&i| e.get(i) != g.get(i)).unwrap_or(0);
    let from = at.saturating_sub(3);
    let show = |lines: &[&str]| {
        (from..(at + 4).min(lines.len())).map(|i| format!("{:4}: {}\n", i + 1, lines[i])).collect::<String>()
    };
    format!("first difference at line {}\n--- expected ---\n{}--- got ---\n{}", at + 1, show(&e), show(&g))
}

/// The commands of `cli_session.redis` piped into `redis-cli`: the output is
/// exactly what Redis 7.0.15 printed for them.
fn cli_session(port: u16) -> Result<(), String> {
    let script = std::fs::read(redis_dir().join("cli_session.redis")).map_err(|e| e.to_string())?;
    let expected = std::fs::read_to_string(redis_dir().join("cli_session.expected")).map_err(|e| e.to_string())?;
    let out = run(&mut redis_cli(port, &[]), script, CLIENT_TIMEOUT)?;
    let got = text(&out.stdout);
    if !out.status.success() || got != expected {
        return Err(format!(
            "redis-cli ({}) printed something else than Redis 7.0.15: {}\nstderr: {}",
            out.status,
            first_difference(&expected, &got),
            text(&out.stderr)
        ));
    }
    Ok(())
}

/// `redis-cli --pipe` with thousands of SETs in RESP, then DBSIZE.
fn cli_pipe(port: u16) -> Result<(), String> {
    let flushed = run(&mut redis_cli(port, &["FLUSHALL"]), Vec::new(), CLIENT_TIMEOUT)?;
    if text(&flushed.stdout) != "OK\n" {
        return Err(format!("FLUSHALL: {:?}", text(&flushed.stdout)));
    }
    let mut protocol = Vec::new();
    for i in 0..PIPED_SETS {
        let (key, value) = (format!("pipe:{i}"), format!("value-{i}"));
        protocol
            .extend(format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n", key.len(), value.len()).bytes());
    }
    let out = run(&mut redis_cli(port, &["--pipe"]), protocol, CLIENT_TIMEOUT)?;
    let summary = format!("errors: 0, replies: {PIPED_SETS}");
    if !out.status.success() || !text(&out.stdout).lines().any(|l| l == summary) {
        return Err(format!(
            "redis-cli --pipe ({}) did not report {summary:?}:\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        ));
    }
    let dbsize = run(&mut redis_cli(port, &["DBSIZE"]), Vec::new(), CLIENT_TIMEOUT)?;
    if text(&dbsize.stdout) != format!("{PIPED_SETS}\n") {
        return Err(format!("DBSIZE after the pipe: {:?}, not {PIPED_SETS}", text(&dbsize.stdout)));
    }
    let last = format!("pipe:{}", PIPED_SETS - 1);
    let get = run(&mut redis_cli(port, &["GET", &last]), Vec::new(), CLIENT_TIMEOUT)?;
    if text(&get.stdout) != format!("value-{}\n", PIPED_SETS - 1) {
        return Err(format!("GET {last}: {:?}", text(&get.stdout)));
    }
    Ok(())
}

fn connect(port: u16) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Sends `request` and reads until the server closes the connection.
fn send_until_closed(port: u16, request: &[u8]) -> Result<String, String> {
    let mut stream = connect(port)?;
    stream.write_all(request).map_err(|e| format!("send: {e}"))?;
    let mut reply = Vec::new();
    match stream.read_to_end(&mut reply) {
        Ok(_) => Ok(text(&reply)),
        // A reset after the reply also means closed (the rest of a large request was unread).
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !reply.is_empty() => Ok(text(&reply)),
        Err(e) => Err(format!(
            "the server did not close the connection after {:?}: {e} (read {:?})",
            text(request),
            text(&reply)
        )),
    }
}

/// One request/reply on an open connection.
fn ask(stream: &mut TcpStream, request: &[u8], expected: &str) -> Result<(), String> {
    stream.write_all(request).map_err(|e| format!("send: {e}"))?;
    let mut reply = vec![0; expected.len()];
    stream.read_exact(&mut reply).map_err(|e| format!("reading the reply to {:?}: {e}", text(request)))?;
    if reply != expected.as_bytes() {
        return Err(format!("{:?} got {:?}, not {expected:?}", text(request), text(&reply)));
    }
    Ok(())
}

/// Malformed RESP: each gets Redis's protocol error and the connection is
/// closed, while a client connected all along keeps working.
fn malformed_resp(port: u16) -> Result<(), String> {
    let mut bystander = connect(port)?;
    ask(&mut bystander, b"*3\r\n$3\r\nSET\r\n$9\r\nbystander\r\n$2\r\nok\r\n", "+OK\r\n")?;
    let cases: [(&[u8], &str); 5] = [
        (b"*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"PING\r\n*1\r\n$x\r\nPING\r\n", "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"),
        (b"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*2\r\n$3\r\nGET\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"SET \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
    ];
    for (request, expected) in cases {
        let reply = send_until_closed(port, request)?;
        if reply != expected {
            return Err(format!("{:?} got {reply:?}, not {expected:?} and a close", text(request)));
        }
        ask(&mut bystander, b"*1\r\n$4\r\nPING\r\n", "+PONG\r\n")?;
    }
    // An inline request longer than 64 KiB without a newline.
    let reply = send_until_closed(port, &[b'x'; 70_000])?;
    if reply != "-ERR Protocol error: too big inline request\r\n" {
        return Err(format!("a 70000-byte inline request got {reply:?}"));
    }
    ask(&mut bystander, b"*2\r\n$3\r\nGET\r\n$9\r\nbystander\r\n", "$2\r\nok\r\n")?;
    let mut newcomer = connect(port)?;
    ask(&mut newcomer, b"PING\r\n", "+PONG\r\n")
}

/// The suite's modes (conftest.py's MODES: RESP2 and RESP3, with and
/// without hiredis); each test runs once per mode.
const PYTHON_MODES: usize = 4;

/// The redis-py tests (`def test_` lines) and the places a test may skip
/// itself (`tests/redis/FILE.py:LINE` of every `pytest.skip(` call: a mode
/// the test does not apply to, with the reason).
fn python_tests(dir: &Path) -> (usize, Vec<String>) {
    let mut tests = 0;
    let mut skips = Vec::new();
    for path in std::fs::read_dir(dir).expect("tests/redis").flatten().map(|e| e.path()) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !name.starts_with("test_") || !name.ends_with(".py") {
            continue;
        }
        for (i, line) in std::fs::read_to_string(&path).unwrap_or_default().lines().enumerate() {
            let line = line.trim_start();
            tests += usize::from(line.starts_with("def test_"));
            if line.starts_with("pytest.skip(") {
                skips.push(format!("tests/redis/{name}:{}", i + 1));
            }
        }
    }
    (tests, skips)
}

/// Skips pytest reports (`-rs`: `SKIPPED [N] FILE:LINE: reason`) that do
/// not come from one of `allowed`'s `pytest.skip(` calls.
fn unexpected_skips(stdout: &str, allowed: &[String]) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("SKIPPED ["))
        .filter(|l| {
            let location = l.split("] ").nth(1).and_then(|rest| rest.split(": ").next()).unwrap_or("");
            !allowed.iter().any(|a| a == location)
        })
        .map(str::to_string)
        .collect()
}

/// The number before `word` in pytest's summary line (`12 passed, 1 skipped in 3.1s`).
fn summary_count(summary: &str, word: &str) -> usize {
    summary
        .split(", ")
        .flat_map(|part| part.split(" in ").next())
        .find_map(|part| part.strip_suffix(word).and_then(|n| n.trim().parse().ok()))
        .unwrap_or(0)
}

/// The redis-py suite in tests/redis against the appliance: every test passes.
fn python_suite(port: u16) -> Result<(), String> {
    let python = python_venv().join("bin/python");
    if !python.exists() {
        return Err(format!("no {}: make the Python test environment with `cargo xtask setup`", python.display()));
    }
    let (tests, skips) = python_tests(&redis_dir());
    let expected = tests * PYTHON_MODES;
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pytest", "tests/redis", "-q", "-rs", "-p", "no:cacheprovider"])
        .current_dir(repo_root())
        .env("REDIS_HOST", "127.0.0.1")
        .env("REDIS_PORT", port.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run(&mut cmd, Vec::new(), CLIENT_TIMEOUT)?;
    let stdout = text(&out.stdout);
    let summary = stdout.lines().rev().find(|l| l.contains(" in ") && l.contains("passed")).unwrap_or("");
    let (passed, skipped) = (summary_count(summary, " passed"), summary_count(summary, " skipped"));
    let unexpected = unexpected_skips(&stdout, &skips);
    if !out.status.success() || passed + skipped != expected || !unexpected.is_empty() || expected == 0 {
        return Err(format!(
            "pytest ({}) did not pass all {expected} runs of {tests} tests in {PYTHON_MODES} modes (skips only \
             where a test calls pytest.skip: {unexpected:?}):\n{stdout}{}",
            out.status,
            text(&out.stderr)
        ));
    }
    eprintln!("pytest: {summary}");
    Ok(())
}

/// A short redis-benchmark run: every test completes at a non-zero rate.
fn benchmark(port: u16) -> Result<(), String> {
    const TESTS: [&str; 5] = ["SET", "GET", "INCR", "LPUSH", "LPOP"];
    let port = port.to_string();
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p", &port, "-n", "20000", "-c", "50", "-q", "-t", "set,get,incr,lpush,lpop"]);
    let out = run(&mut cmd, Vec::new(), CLIENT_TIMEOUT)?;
    let stdout = text(&out.stdout);
    // Progress lines end in \r; each result line is "SET: 9474.18 requests per second, p50=4.303 msec".
    let results: Vec<(&str, f64)> = stdout
        .split(['\r', '\n'])
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(": ")?;
            let (rate, _) = rest.split_once(" requests per second")?;
            Some((name, rate.parse::<f64>().ok()?))
        })
        .collect();
    for name in TESTS {
        match results.iter().find(|(n, _)| *n == name) {
            Some((_, rate)) if *rate > 0.0 => eprintln!("redis-benchmark: {name}: {rate:.0} requests per second"),
            other => {
                return Err(format!(
                    "redis-benchmark ({}): {name}: {other:?}; output:\n{}{}",
                    out.status,
                    stdout.replace('\r', "\n"),
                    text(&out.stderr)
                ));
            }
        }
    }
    if !out.status.success() {
        return Err(format!("redis-benchmark exited with {}", out.status));
    }
    Ok(())
}

/// The console so far (the lines not yet read are collected for a moment).
/// How far the appliance's wall clock may be from the host's, booted with
/// the clock started on a host second: QEMU's start-up delay (tens of ms)
/// plus the kernel's alignment step, with room for a loaded machine. Redis's
/// expiry tests need well under 500 ms.
const CLOCK_TOLERANCE_MS: f64 = 250.0;

/// TIME agrees with the host's clock, and a key set to expire at an
/// absolute host time (PXAT) has the TTL the host expects.
fn clock_agrees_with_the_host(port: u16) -> Result<(), String> {
    let unix_ms = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1e3;
    let offset = qemu_tests::redis::clock_offset(port)?.seconds * 1e3;
    if offset.abs() > CLOCK_TOLERANCE_MS {
        return Err(format!(
            "the appliance's clock is {offset:.0} ms off the host's (more than {CLOCK_TOLERANCE_MS} ms)"
        ));
    }
    let mut stream = connect(port)?;
    let at = unix_ms() as u64 + 10_000;
    ask(&mut stream, format!("SET clock:k v PXAT {at}\r\n").as_bytes(), "+OK\r\n")?;
    stream.write_all(b"PTTL clock:k\r\n").map_err(|e| format!("PTTL: {e}"))?;
    let reply = read_reply(&mut stream, 1)?;
    let pttl: i64 = reply.trim_start_matches(':').trim().parse().map_err(|_| format!("PTTL replied {reply:?}"))?;
    if !(10_000 - 2 * CLOCK_TOLERANCE_MS as i64..=10_000 + CLOCK_TOLERANCE_MS as i64).contains(&pttl) {
        return Err(format!("PXAT now+10 s gave PTTL {pttl} ms"));
    }
    eprintln!("wall clock: {offset:.1} ms from the host's; PXAT now+10 s gave PTTL {pttl} ms");
    // INFO's CPU time is the appliance's busy time: some, after the
    // earlier phases, and less than its uptime.
    let info = text(&run(&mut redis_cli(port, &["INFO", "everything"]), Vec::new(), CLIENT_TIMEOUT)?.stdout);
    let field = |name: &str| -> Option<f64> {
        info.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
    };
    let (Some(cpu), Some(uptime)) = (field("used_cpu_sys"), field("uptime_in_seconds")) else {
        return Err(format!("INFO has no used_cpu_sys or uptime_in_seconds:\n{info}"));
    };
    if !(cpu > 0.0 && cpu <= uptime + 1.0) {
        return Err(format!("used_cpu_sys {cpu} s after {uptime} s of uptime"));
    }
    eprintln!("INFO: used_cpu_sys {cpu} s in {uptime} s of uptime");
    Ok(())
}

/// Reads until `lines` CRLF-terminated lines have arrived.
fn read_reply(stream: &mut TcpStream, lines: usize) -> Result<String, String> {
    let mut reply = Vec::new();
    let mut chunk = [0u8; 256];
    while reply.windows(2).filter(|w| w == b"\r\n").count() < lines {
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("connection closed after {:?}", text(&reply))),
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("reading a reply: {e}")),
        }
    }
    Ok(text(&reply))
}

fn console(m: &mut Machine) -> String {
    match m.wait_for("\u{0}no such line\u{0}", Duration::from_millis(500)) {
        Ok(_) => m.transcript().to_string(),
        Err(failure) => failure.transcript,
    }
}

/// A client run against the appliance's forwarded port.
type Phase = fn(u16) -> Result<(), String>;

/// MIGRATE from the appliance to Debian's real redis-server on the host:
/// the appliance connects out (passt maps the gateway address to the
/// host's loopback), real Redis accepts the RESTORE payloads (our DUMP
/// format), and the keys leave the appliance.
fn migrate_to_a_real_redis(redis: &mut RedisAppliance) -> Result<(), String> {
    let target = HostRedis::start()?;
    let transcript = redis.machine.transcript();
    let gateway = transcript
        .split("gateway ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| c == ',' || c.is_whitespace()).next())
        .ok_or("the console names no gateway")?
        .to_string();
    let mut appliance = Client::connect(redis.port).map_err(|e| e.to_string())?;
    let call = |c: &mut Client, args: &[&str]| c.call(args).map_err(|e| format!("{args:?}: {e}"));
    call(&mut appliance, &["DEL", "m:s", "m:z"])?;
    call(&mut appliance, &["SET", "m:s", "moved"])?;
    call(&mut appliance, &["PEXPIRE", "m:s", "600000"])?;
    call(&mut appliance, &["ZADD", "m:z", "1", "a", "2.5", "b"])?;
    let port = target.port.to_string();
    let reply = call(&mut appliance, &["MIGRATE", &gateway, &port, "", "4", "10000", "KEYS", "m:s", "m:z"])?;
    if reply != status("OK") {
        return Err(format!("MIGRATE to {gateway}:{port} answered {reply:?}"));
    }
    if call(&mut appliance, &["EXISTS", "m:s", "m:z"])? != Reply::Int(0) {
        return Err("the keys are still on the appliance".into());
    }
    let mut real = Client::connect(target.port).map_err(|e| e.to_string())?;
    call(&mut real, &["SELECT", "4"])?;
    let got = (
        call(&mut real, &["GET", "m:s"])?,
        call(&mut real, &["ZSCORE", "m:z", "b"])?,
        call(&mut real, &["PTTL", "m:s"])?,
    );
    match got {
        (Reply::Bulk(Some(v)), Reply::Bulk(Some(score)), Reply::Int(ttl))
            if v == b"moved" && score == b"2.5" && (1..=600_000).contains(&ttl) =>
        {
            Ok(())
        }
        other => Err(format!("real Redis holds {other:?}")),
    }
}

/// How fast the appliance's wall clock may drift from the host's while it
/// serves: real Redis's clock is the host's own. (Before x86_64 refined its
/// TSC rate against the ACPI PM timer, it drifted 230 ppm.)
const CLOCK_DRIFT_MAX_PPM: f64 = 50.0;

/// Boots one appliance and runs every client against it in turn, then
/// shuts it down with SHUTDOWN.
fn redis_serves_its_clients_then_shuts_down(machine: &str) {
    let mut redis = boot_redis(machine);
    let port = redis.port;
    const REFINED: &str = "timer calibration refined against the ACPI PM timer";
    if machine == "q35" && !redis.machine.transcript().contains(REFINED) {
        // x86_64 refines its TSC's rate 1.5 s after boot (q35 has the PM
        // timer it takes as reference): drift counts from then.
        redis.machine.wait_for(REFINED, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{machine}: {e}"));
    }
    let first_offset = redis.clock_offset().unwrap_or_else(|e| panic!("{machine}: {e}"));
    let first_measured = Instant::now();
    let phases: [(&str, Phase); 6] = [
        ("redis-cli session", cli_session),
        ("redis-cli --pipe", cli_pipe),
        ("malformed RESP", malformed_resp),
        ("redis-py suite", python_suite),
        ("redis-benchmark", benchmark),
        ("wall clock and CPU time", clock_agrees_with_the_host),
    ];
    for (name, phase) in phases {
        let started = Instant::now();
        if let Err(e) = phase(port) {
            panic!(
                "{machine}: {name} failed: {e}\n--- serial console ---\n{}--- end of console ---",
                console(&mut redis.machine)
            );
        }
        eprintln!("{machine}: {name} passed in {:.1} s", started.elapsed().as_secs_f64());
    }
    // The phases took a minute or more: long enough to see a drift.
    let offset = qemu_tests::redis::clock_offset(port).unwrap_or_else(|e| panic!("{machine}: {e}"));
    let elapsed = first_measured.elapsed().as_secs_f64();
    let ppm = (offset.seconds - first_offset.seconds) / elapsed * 1e6;
    let uncertainty_ppm = (offset.within + first_offset.within) / elapsed * 1e6;
    eprintln!("{machine}: wall clock drift {ppm:+.1} ppm (±{uncertainty_ppm:.1}) over {elapsed:.0} s");
    assert!(
        ppm.abs() <= CLOCK_DRIFT_MAX_PPM + uncertainty_ppm,
        "{machine}: the appliance's clock drifted {ppm:+.1} ppm from the host's over {elapsed:.0} s"
    );
    if let Err(e) = migrate_to_a_real_redis(&mut redis) {
        panic!(
            "{machine}: MIGRATE failed: {e}\n--- serial console ---\n{}--- end of console ---",
            console(&mut redis.machine)
        );
    }

    // SHUTDOWN: redis-cli sees the connection close (and exits 0), the appliance powers off with 0.
    let out = run(&mut redis_cli(port, &["SHUTDOWN"]), Vec::new(), CLIENT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "redis-cli SHUTDOWN: {}: {}{}", out.status, text(&out.stdout), text(&out.stderr));
    let status = redis.machine.wait_for_exit(Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    let transcript = redis.machine.transcript();
    assert_eq!(status, 0, "exit status after SHUTDOWN\n{transcript}");
    assert!(transcript.contains("redis: shutting down"), "{transcript}");
    assert!(!transcript.contains("KERNEL PANIC"), "{transcript}");
}

#[test]
fn x86_64_q35_redis_serves_cli_python_and_benchmark_clients_then_shuts_down() {
    redis_serves_its_clients_then_shuts_down("q35");
}

#[test]
fn aarch64_virt_redis_serves_cli_python_and_benchmark_clients_then_shuts_down() {
    redis_serves_its_clients_then_shuts_down("virt");
}
