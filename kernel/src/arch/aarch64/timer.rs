//! Time on aarch64: the Arm generic timer.
//!
//! - The monotonic clock is the virtual counter (CNTVCT_EL0) scaled by its
//!   frequency (CNTFRQ_EL0), counted from the value at the first instruction.
//! - The EL1 virtual timer (CNTV_*_EL0) is used one-shot: its compare value
//!   is the next deadline; when it fires the interrupt handler disables it.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

const NANOS_PER_SECOND: u128 = 1_000_000_000;
/// CNTV_CTL_EL0.ENABLE (IMASK = 0: the interrupt is not masked).
const CTL_ENABLE: u64 = 1 << 0;

/// Counter value at the first instruction (from the boot path).
static ENTRY_TICKS: AtomicU64 = AtomicU64::new(0);
/// Counter frequency in Hz (0 = the clock is not started yet).
static FREQUENCY: AtomicU64 = AtomicU64::new(0);

fn counter() -> u64 {
    let ticks: u64;
    // SAFETY: reads the virtual counter (EL1 may always read it). The isb
    // keeps the read from being taken early, ahead of earlier instructions.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) ticks, options(nomem, nostack)) };
    ticks
}

/// Starts the monotonic clock: counts from `entry_ticks` at the counter's
/// frequency.
pub fn start_clock(entry_ticks: u64) {
    let frequency: u64;
    // SAFETY: reads the counter frequency the firmware (or QEMU) programmed.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) frequency, options(nomem, nostack)) };
    ENTRY_TICKS.store(entry_ticks, Ordering::Relaxed);
    FREQUENCY.store(frequency, Ordering::Relaxed);
}

/// Turns the virtual timer off (the interrupt controller side is set up by
/// `gic::init`).
pub fn init() {
    disable();
    log::debug!("timer: generic timer at {} MHz", FREQUENCY.load(Ordering::Relaxed) / 1_000_000);
}

/// Nanoseconds since the first instruction.
pub fn monotonic_nanos() -> u64 {
    let frequency = FREQUENCY.load(Ordering::Relaxed);
    if frequency == 0 {
        return 0;
    }
    let ticks = counter().wrapping_sub(ENTRY_TICKS.load(Ordering::Relaxed));
    (u128::from(ticks) * NANOS_PER_SECOND / u128::from(frequency)) as u64
}

/// Arms the one-shot timer interrupt for `deadline` (in `monotonic_nanos`
/// time), or disarms it with `None`. A deadline already past fires at once.
pub fn set_timer(deadline: Option<u64>) {
    let Some(deadline) = deadline else {
        disable();
        return;
    };
    let frequency = u128::from(FREQUENCY.load(Ordering::Relaxed));
    // Round up so that the interrupt never comes before the deadline.
    let ticks = (u128::from(deadline) * frequency).div_ceil(NANOS_PER_SECOND);
    let compare = u64::try_from(u128::from(ENTRY_TICKS.load(Ordering::Relaxed)) + ticks).unwrap_or(u64::MAX);
    // SAFETY: programs the EL1 virtual timer, which only this module uses:
    // it fires once the virtual counter reaches `compare`.
    unsafe {
        asm!(
            "msr cntv_cval_el0, {compare}",
            "msr cntv_ctl_el0, {enable}",
            "isb",
            compare = in(reg) compare,
            enable = in(reg) CTL_ENABLE,
            options(nomem, nostack),
        );
    }
}

/// Disables the virtual timer, which also drops its (level) interrupt.
pub fn disable() {
    // SAFETY: as in `set_timer`.
    unsafe { asm!("msr cntv_ctl_el0, xzr", "isb", options(nomem, nostack)) };
}

/// Nothing to refine: the generic timer counts at exactly the frequency
/// CNTFRQ_EL0 states (x86_64 refines its TSC's measured rate here).
pub fn refine_clock_rate() -> Option<u64> {
    None
}
