//! Monotonic time: [`Instant`], [`sleep`], deadlines. Time counts from the
//! CPU's first instruction; sleeping arms the timer interrupt and halts the
//! CPU until it fires (no busy waiting).

use crate::arch;
use core::sync::atomic::{AtomicU64, Ordering};
pub use core::time::Duration;

/// Unix time, in nanoseconds, at the instant `monotonic_nanos` was zero.
static UNIX_AT_ENTRY: AtomicU64 = AtomicU64::new(0);

/// The real-time clock counts whole seconds, so the second read at boot may
/// already be up to a second old. Until the clock's next tick is seen, this
/// holds the second read at boot; then it is zero.
static SECOND_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// When the clock was last read while waiting for its tick (monotonic ns).
static LAST_READ: AtomicU64 = AtomicU64::new(0);
/// How often idle waits wake to read the clock until it ticks: also the
/// precision the wall clock is set to.
const TICK_WATCH: Duration = Duration::from_millis(2);
/// How long after boot idle waits keep watching for the tick.
const TICK_WATCH_LIMIT: Duration = Duration::from_secs(5);
/// Wall time steps forward only if the tick was seen at most this long after
/// the previous read (else the next tick is awaited).
const TICK_WATCH_SLACK: u64 = 2 * TICK_WATCH.as_nanos() as u64;

/// Reads the real-time clock; [`unix_time`] counts on from it with the
/// monotonic clock. Within the first second, idle waits watch for the
/// clock's next tick ([`watch_clock_tick`]) and align the sub-second part
/// once (wall time then steps forward by less than a second, never back);
/// after that, wall time never jumps while the appliance runs.
pub(crate) fn init() {
    match arch::read_wall_clock() {
        Some(seconds) => {
            let now = arch::monotonic_nanos();
            UNIX_AT_ENTRY.store(seconds.saturating_mul(1_000_000_000).saturating_sub(now), Ordering::Relaxed);
            SECOND_AT_BOOT.store(seconds, Ordering::Relaxed);
            LAST_READ.store(now, Ordering::Relaxed);
            log::info!("wall clock: {seconds} s since the Unix epoch");
        }
        None => log::warn!("no real-time clock: wall time starts at the Unix epoch"),
    }
}

/// The clocks' upkeep in the first seconds, called from the idle loops:
/// aligning the wall clock to the real-time clock's first tick
/// ([`watch_clock_tick`]) and refining the monotonic clock's measured rate
/// (`arch::refine_clock_rate`). Returns when to call again (the idle loops
/// wake for it), `None` once both are done.
pub(crate) fn clock_upkeep() -> Option<Instant> {
    let tick = watch_clock_tick();
    let refine = arch::refine_clock_rate().map(Instant);
    [tick, refine].into_iter().flatten().min()
}

/// Until the real-time clock's seconds first change after boot: reads it,
/// and at the change sets the wall clock's sub-second part. Returns when
/// to call again, `None` once aligned.
fn watch_clock_tick() -> Option<Instant> {
    let boot_second = SECOND_AT_BOOT.load(Ordering::Relaxed);
    if boot_second == 0 {
        return None;
    }
    let now = arch::monotonic_nanos();
    if now > TICK_WATCH_LIMIT.as_nanos() as u64 {
        // A clock whose seconds do not move: stop waking for it.
        SECOND_AT_BOOT.store(0, Ordering::Relaxed);
        log::warn!("wall clock: the real-time clock did not tick; sub-second not aligned");
        return None;
    }
    let previous = LAST_READ.swap(now, Ordering::Relaxed);
    if now.saturating_sub(previous) >= TICK_WATCH.as_nanos() as u64 / 2
        && let Some(second) = arch::read_wall_clock()
        && second != boot_second
    {
        if now - previous <= TICK_WATCH_SLACK {
            // The tick happened between the previous read and this one:
            // taken as right after the previous read, so that the wall
            // clock is never behind the real-time clock, and ahead of it
            // by at most the interval between the two reads.
            let entry = second.saturating_mul(1_000_000_000).saturating_sub(previous);
            let stepped = entry.saturating_sub(UNIX_AT_ENTRY.load(Ordering::Relaxed));
            UNIX_AT_ENTRY.fetch_max(entry, Ordering::Relaxed);
            SECOND_AT_BOOT.store(0, Ordering::Relaxed);
            log::info!(
                "wall clock aligned to the real-time clock's tick: +{} us (within {} us)",
                stepped / 1000,
                (now - previous) / 1000
            );
            return None;
        }
        // Seen too late to place it: wait for the next tick.
        SECOND_AT_BOOT.store(second, Ordering::Relaxed);
    } else if now.saturating_sub(previous) < TICK_WATCH.as_nanos() as u64 / 2 {
        // Read too recently: keep the earlier read's time.
        LAST_READ.store(previous, Ordering::Relaxed);
    }
    Some(Instant(now) + TICK_WATCH)
}

/// Time since the Unix epoch (from the real-time clock read at boot).
pub fn unix_time() -> Duration {
    Duration::from_nanos(UNIX_AT_ENTRY.load(Ordering::Relaxed).saturating_add(arch::monotonic_nanos()))
}

/// A point in monotonic time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    pub fn now() -> Instant {
        Instant(arch::monotonic_nanos())
    }

    /// Time since `earlier` (zero if `earlier` is later).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        u64::try_from(d.as_nanos()).ok().and_then(|n| self.0.checked_add(n)).map(Instant)
    }

    /// Nanoseconds since the first instruction.
    pub fn as_nanos(&self) -> u64 {
        self.0
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d).unwrap_or(Instant(u64::MAX))
    }
}

impl core::ops::Sub for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

/// Time since the CPU's first instruction.
pub fn since_entry() -> Duration {
    Duration::from_nanos(arch::monotonic_nanos())
}

/// Nanoseconds the CPU has spent halted, waiting for an interrupt.
static IDLE_NANOS: AtomicU64 = AtomicU64::new(0);

/// Halts the CPU until the next interrupt, counting the time as idle.
pub(crate) fn idle_until_interrupt() {
    let start = arch::monotonic_nanos();
    arch::wait_for_interrupt();
    IDLE_NANOS.fetch_add(arch::monotonic_nanos().saturating_sub(start), Ordering::Relaxed);
}

/// CPU time used since the first instruction: everything but the time
/// spent halted waiting for interrupts (one CPU, one privilege level: the
/// kernel, its drivers and the app together).
pub fn cpu_time() -> Duration {
    Duration::from_nanos(arch::monotonic_nanos().saturating_sub(IDLE_NANOS.load(Ordering::Relaxed)))
}

/// Sleeps for at least `d`.
pub fn sleep(d: Duration) {
    sleep_until(Instant::now() + d)
}

/// Sleeps until `deadline`, halting the CPU between timer interrupts.
pub fn sleep_until(deadline: Instant) {
    while Instant::now() < deadline {
        let wake = clock_upkeep().map_or(deadline, |tick| tick.min(deadline));
        arch::set_timer(Some(wake.0));
        idle_until_interrupt();
    }
    arch::set_timer(None);
}

/// A calendar date and time of day (UTC), as real-time clocks report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    pub year: u32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl CivilTime {
    pub fn is_valid(&self) -> bool {
        (1970..10_000).contains(&self.year)
            && (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 61
    }

    /// Seconds since 1970-01-01 00:00:00 UTC (days-from-civil, proleptic
    /// Gregorian calendar).
    pub fn unix_seconds(&self) -> u64 {
        let (month, day) = (u64::from(self.month), u64::from(self.day));
        let year = u64::from(self.year) - u64::from(month <= 2);
        let era = year / 400;
        let year_of_era = year - era * 400;
        let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        days * 86_400 + u64::from(self.hour) * 3600 + u64::from(self.minute) * 60 + u64::from(self.second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(year: u32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> CivilTime {
        CivilTime { year, month, day, hour, minute, second }
    }

    #[test]
    fn unix_seconds_of_known_dates() {
        assert_eq!(civil(1970, 1, 1, 0, 0, 0).unix_seconds(), 0);
        assert_eq!(civil(2000, 3, 1, 0, 0, 0).unix_seconds(), 951_868_800);
        assert_eq!(civil(2024, 2, 29, 12, 30, 15).unix_seconds(), 1_709_209_815);
        assert_eq!(civil(2026, 11, 22, 15, 48, 41).unix_seconds(), 1_795_362_521);
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(!civil(2026, 13, 1, 0, 0, 0).is_valid());
        assert!(!civil(2026, 0, 1, 0, 0, 0).is_valid());
        assert!(!civil(2026, 1, 1, 24, 0, 0).is_valid());
        assert!(!civil(1969, 12, 31, 0, 0, 0).is_valid());
        assert!(civil(2026, 12, 31, 23, 59, 60).is_valid(), "leap second");
    }

    #[test]
    fn instants_saturate_instead_of_overflowing() {
        let early = Instant(5);
        let late = Instant(10);
        assert_eq!(late - early, Duration::from_nanos(5));
        assert_eq!(early - late, Duration::ZERO);
        assert_eq!(Instant(u64::MAX - 1) + Duration::from_secs(1), Instant(u64::MAX));
    }
}
