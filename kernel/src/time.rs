//! Monotonic time: [`Instant`], [`sleep`], deadlines. Time counts from the
//! CPU's first instruction; sleeping arms the timer interrupt and halts the
//! CPU until it fires (no busy waiting).

use crate::arch;
pub use core::time::Duration;

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

/// Sleeps for at least `d`.
pub fn sleep(d: Duration) {
    sleep_until(Instant::now() + d)
}

/// Sleeps until `deadline`, halting the CPU between timer interrupts.
pub fn sleep_until(deadline: Instant) {
    while Instant::now() < deadline {
        arch::set_timer(Some(deadline.0));
        arch::wait_for_interrupt();
    }
    arch::set_timer(None);
}
