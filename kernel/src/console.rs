//! The kernel console: formatted output and the `log` backend, over the
//! architecture's serial port. Lines carry the time since the first
//! instruction, like Linux's `[    0.123456]` prefix.

use core::fmt::{self, Write};
use log::{LevelFilter, Metadata, Record};

/// Serializes whole lines so that messages never interleave.
static LOCK: spin::Mutex<()> = spin::Mutex::new(());

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::arch::console_write(s.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console (used by `print!`-style helpers).
pub fn write_fmt(args: fmt::Arguments) {
    let _guard = LOCK.lock();
    let _ = Console.write_fmt(args);
}

/// Writes without taking the console lock: for the panic path (bare metal
/// only), where the lock may be held by the code that panicked.
#[cfg(target_os = "none")]
pub(crate) fn write_fmt_unlocked(args: fmt::Arguments) {
    let _ = Console.write_fmt(args);
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let micros = crate::time::since_entry().as_micros();
        let _guard = LOCK.lock();
        let _ = writeln!(
            Console,
            "[{:5}.{:06}] {:5} {}: {}",
            micros / 1_000_000,
            micros % 1_000_000,
            record.level(),
            record.target(),
            record.args()
        );
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs the logger with the level named by `loglevel=` (default `info`).
pub(crate) fn init_logger(level: Option<&str>) {
    const LEVELS: [(&str, &str, LevelFilter); 6] = [
        ("off", "0", LevelFilter::Off),
        ("error", "1", LevelFilter::Error),
        ("warn", "2", LevelFilter::Warn),
        ("info", "3", LevelFilter::Info),
        ("debug", "4", LevelFilter::Debug),
        ("trace", "5", LevelFilter::Trace),
    ];
    let filter = match level {
        None => LevelFilter::Info,
        Some(l) => match LEVELS.iter().find(|(name, n, _)| l.eq_ignore_ascii_case(name) || l == *n) {
            Some((_, _, filter)) => *filter,
            None => {
                write_fmt(format_args!("loglevel={l}: unknown level, using info (off|error|warn|info|debug|trace)\n"));
                LevelFilter::Info
            }
        },
    };
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(filter);
}

/// Prints to the console, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::__console_write_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the console, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::__console_write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
