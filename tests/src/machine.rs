//! Booting an appliance under QEMU and watching its serial console.

use crate::firmware::Firmware;
use crate::profile::{Accelerator, Arch, ExitConvention, Profile};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// What to boot, and how.
#[derive(Clone, Debug)]
pub struct Boot {
    pub profile: Profile,
    /// The kernel image (`-kernel`), or with firmware, the disk image it boots.
    pub image: PathBuf,
    /// Guest RAM, in QEMU's syntax (`128M`); the profile's default if `None`.
    pub memory: Option<String>,
    /// The kernel command line (kernel parameters, then `--` and app
    /// arguments); with firmware, the one stored in the disk image counts.
    pub cmdline: String,
    /// Extra QEMU arguments (devices, network back ends).
    pub qemu_args: Vec<String>,
    /// Start the guest's real-time clock on a host second (see
    /// [`Boot::host_aligned_clock`]).
    pub align_clock: bool,
    /// How QEMU starts the guest: `-kernel`, or firmware booting `image` as a disk.
    pub firmware: Firmware,
}

impl Boot {
    /// Boots `app`'s image (from `cargo xtask image`) on machine `machine`.
    pub fn app(app: &str, machine: &str) -> Result<Boot, String> {
        let profile = Profile::load(machine)?;
        let image = crate::image_path(app, profile.arch);
        if !image.exists() {
            return Err(format!(
                "no image {}: build it with `cargo xtask image --app {app} --arch {}`",
                image.display(),
                profile.arch
            ));
        }
        Ok(Boot {
            profile,
            image,
            memory: None,
            cmdline: String::new(),
            qemu_args: Vec::new(),
            align_clock: false,
            firmware: Firmware::Direct,
        })
    }

    /// Boots the disk image `image` on `machine` through `firmware`, as a
    /// hypervisor would (the command line is the one stored in the image).
    pub fn disk_image(image: &std::path::Path, machine: &str, firmware: Firmware) -> Result<Boot, String> {
        let profile = Profile::load(machine)?;
        if !image.exists() {
            return Err(format!("no disk image {}: build one with `cargo xtask image --format uefi`", image.display()));
        }
        Ok(Boot {
            profile,
            image: image.to_path_buf(),
            memory: None,
            cmdline: String::new(),
            qemu_args: Vec::new(),
            align_clock: false,
            firmware,
        })
    }

    pub fn cmdline(mut self, cmdline: &str) -> Boot {
        self.cmdline = cmdline.to_string();
        self
    }

    /// QEMU's emulated real-time clocks (the PC's CMOS clock, Arm's PL031)
    /// count whole seconds from the instant QEMU starts, so their ticks fall
    /// anywhere within the host's seconds and the guest's wall clock is up to
    /// a second behind the host's. With this, [`command`](Self::command)
    /// waits for the host's next second and starts the guest's clock at it
    /// (`-rtc base=`): the guest's ticks then fall on the host's, and the
    /// kernel, which aligns its wall clock to the first tick it sees, agrees
    /// with the host within QEMU's start-up jitter (tens of milliseconds,
    /// ahead rather than behind). For runs that compare the guest's
    /// time with the host's (Redis's PXAT and EXPIREAT tests, clients).
    pub fn host_aligned_clock(mut self) -> Boot {
        self.align_clock = true;
        self
    }

    pub fn memory(mut self, memory: &str) -> Boot {
        self.memory = Some(memory.to_string());
        self
    }

    /// The QEMU command line. The console is the guest's first serial port,
    /// on QEMU's standard output.
    pub fn command(&self, serial: &str) -> Command {
        let arch = self.profile.arch;
        let mut cmd = Command::new(arch.qemu_binary());
        cmd.args(&self.profile.args)
            .args(["-accel", Accelerator::detect(arch).qemu_arg()])
            .args(["-m", self.memory.as_deref().unwrap_or(&self.profile.memory)])
            .args(["-smp", "1", "-display", "none", "-monitor", "none", "-no-reboot"])
            .args(["-serial", serial]);
        if let Firmware::Direct = self.firmware {
            cmd.arg("-kernel").arg(&self.image).args(["-append", &self.cmdline]);
        } else {
            cmd.args(self.firmware.qemu_args(arch, &self.image));
        }
        cmd.args(if self.align_clock { rtc_at_next_host_second(qemu_clock_start_lead(arch)) } else { Vec::new() })
            .args(&self.qemu_args);
        cmd
    }
}

/// Why a machine did not do what a test expected; shows the console output.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub transcript: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        writeln!(f, "{}", self.message)?;
        writeln!(f, "--- serial console ---")?;
        f.write_str(&self.transcript)?;
        write!(f, "--- end of console ---")
    }
}

impl std::error::Error for Failure {}

/// A running appliance. Killed when dropped.
pub struct Machine {
    child: Child,
    lines: Receiver<String>,
    transcript: String,
    exit: ExitConvention,
    started: Instant,
}

impl Machine {
    /// Starts QEMU with the console captured.
    pub fn start(boot: &Boot) -> Result<Machine, Failure> {
        let started = Instant::now();
        let mut child =
            boot.command("stdio").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(
                |e| Failure {
                    message: format!(
                        "cannot start {}: {e} (install QEMU with `cargo xtask setup`)",
                        boot.profile.arch.qemu_binary()
                    ),
                    transcript: String::new(),
                },
            )?;
        let (sender, lines) = channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let err_sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
                let line = String::from_utf8_lossy(&line).trim_end_matches('\r').to_string();
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if err_sender.send(format!("qemu: {line}")).is_err() {
                    break;
                }
            }
        });
        Ok(Machine { child, lines, transcript: String::new(), exit: boot.profile.exit, started })
    }

    /// Time since QEMU was started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn fail(&self, message: String) -> Failure {
        Failure { message, transcript: self.transcript.clone() }
    }

    fn record(&mut self, line: &str) {
        self.transcript.push_str(line);
        self.transcript.push('\n');
    }

    /// Waits until a console line contains `needle`; returns that line.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, Failure> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.record(&line);
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.fail(format!("no console line containing {needle:?} within {timeout:?}")));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok().and_then(|s| s.code());
                    return Err(
                        self.fail(format!("the machine stopped (QEMU status {status:?}) before printing {needle:?}"))
                    );
                }
            }
        }
    }

    /// Waits for the machine to power off; returns the guest's exit status.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Result<i32, Failure> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.record(&line),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.fail(format!("the machine did not power off within {timeout:?}")));
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = self.child.wait().map_err(|e| self.fail(format!("waiting for QEMU: {e}")))?;
        let code = status.code().unwrap_or(-1);
        self.exit.decode(code).ok_or_else(|| self.fail(format!("QEMU itself failed (exit status {code})")))
    }

    /// Records what the console printed so far, without waiting; once QEMU
    /// has stopped, its exit status.
    /// Kills QEMU at once (SIGKILL), as a host crash or a `kill -9` would:
    /// whatever the guest had not flushed to its disks may be lost.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn poll_exit(&mut self) -> Option<i32> {
        while let Ok(line) = self.lines.try_recv() {
            self.record(&line);
        }
        self.child.try_wait().ok().flatten().map(|status| status.code().unwrap_or(-1))
    }

    /// Everything the console printed so far.
    pub fn transcript(&self) -> &str {
        &self.transcript
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long before the host's second the guest's clock starts at QEMU is
/// launched. The PC's CMOS clock counts from the instant QEMU creates it,
/// some tens of milliseconds after launch: launching this much early makes
/// its ticks fall on (or a little before) the host's, never after (Redis's
/// tests accept a clock slightly ahead, a TTL a little short, but not one
/// behind). Arm's PL031 ticks on the host's own seconds and takes the
/// offset from the second it is created in: launched early, it would run a
/// whole second ahead, so it is launched on the second.
fn qemu_clock_start_lead(arch: Arch) -> Duration {
    match arch {
        Arch::X86_64 => Duration::from_millis(150),
        Arch::Aarch64 => Duration::ZERO,
    }
}

/// Waits until `lead` before one of the host clock's whole seconds;
/// returns the QEMU arguments that start the guest's real-time clock at
/// that second (UTC).
fn rtc_at_next_host_second(lead: Duration) -> Vec<String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut second = now.as_secs() + 1;
    if Duration::from_secs(second) - now < lead {
        second += 1;
    }
    std::thread::sleep(Duration::from_secs(second) - lead - now);
    vec!["-rtc".into(), format!("base={}", utc_datetime(second))]
}

/// `YYYY-MM-DDTHH:MM:SS` for Unix time `secs` (the proleptic Gregorian
/// calendar, from the days since the epoch: Howard Hinnant's algorithm).
fn utc_datetime(secs: u64) -> String {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// `[    5.140900] text` → 5.1409: the timestamp our kernel and Linux both
/// put in front of a console line.
pub fn console_timestamp(line: &str) -> Option<f64> {
    let start = line.find('[')?;
    let end = start + line[start..].find(']')?;
    line[start + 1..end].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_timestamps() {
        assert_eq!(console_timestamp("[    5.140900] redis-server: listening on port 6379"), Some(5.1409));
        assert_eq!(console_timestamp("[  0.012345] redis: listening on 6379"), Some(0.012345));
        assert_eq!(console_timestamp("listening on 6379"), None);
    }

    #[test]
    fn utc_datetimes() {
        assert_eq!(utc_datetime(0), "1970-01-01T00:00:00");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(utc_datetime(1_796_124_869), "2026-12-01T11:34:29");
    }
}
