//! Refining the TSC's rate against the ACPI power-management timer, as
//! Linux does a second after boot.
//!
//! The boot calibration measures the TSC over 10 ms of the PIT; a few
//! microseconds between reading the PIT and the TSC at either end make that
//! rate off by hundreds of parts per million (230 ppm measured under QEMU's
//! TCG: the wall clock, which counts on from the real-time clock with the
//! TSC, lost 0.8 s an hour). The PM timer counts at exactly 3.579545 MHz and
//! is read in one port access, so over a window of more than a second the
//! rate comes out within a few ppm. The window starts at the idle loops'
//! first call and must end before the timer wraps (24 bits: 4.7 s).
//! Machines without a PM timer (`microvm`'s hardware-reduced ACPI) keep the
//! boot calibration.

use super::apic;
use spin::Mutex;
use x86_64::instructions::port::Port;

const PM_TIMER_HZ: u64 = 3_579_545;
/// How long the refinement window lasts (well inside the 24-bit wrap).
const WINDOW_NS: u64 = 1_500_000_000;

enum Refinement {
    /// The idle loops have not called yet.
    NotStarted,
    /// Counting since (TSC, PM timer) = `from`; due at `due_ns`.
    Counting { port: u16, mask: u32, from: (u64, u32), due_ns: u64 },
    /// Done, or no PM timer.
    Over,
}

static STATE: Mutex<Refinement> = Mutex::new(Refinement::NotStarted);

/// The ACPI PM timer's I/O port and counter mask (24 or 32 bits), from the
/// FADT: `PM_TMR_BLK` (offset 76), or the I/O-space `X_PM_TMR_BLK` (offset
/// 208); `TMR_VAL_EXT` (bit 8 of the flags at offset 112) for 32 bits.
fn pm_timer() -> Option<(u16, u32)> {
    let fadt = crate::acpi::find(b"FACP")?;
    let u32_at = |at: usize| fadt.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut port = u32_at(76).unwrap_or(0);
    if port == 0 && fadt.get(208) == Some(&1) {
        port = u32_at(212).unwrap_or(0);
    }
    let port = u16::try_from(port).ok().filter(|&p| p != 0)?;
    let wide = u32_at(112).unwrap_or(0) & (1 << 8) != 0;
    Some((port, if wide { u32::MAX } else { 0x00FF_FFFF }))
}

/// One (TSC, PM timer) pair taken as close together as the machine allows:
/// of a few reads, the one with the fewest TSC ticks around it, stamped at
/// their middle.
fn read_pair(port: u16, mask: u32) -> (u64, u32) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..8 {
        let before = apic::rdtsc();
        // SAFETY: reading the PM timer's counter port has no side effects.
        let count = unsafe { Port::<u32>::new(port).read() } & mask;
        let after = apic::rdtsc();
        let spread = after.wrapping_sub(before);
        if spread < best.0 {
            best = (spread, before + spread / 2, count);
        }
    }
    (best.1, best.2)
}

/// Called from the idle loops until it returns `None`: starts the window,
/// and once it has lasted [`WINDOW_NS`] sets the TSC's rate from it.
/// Returns when to call again (in [`apic::monotonic_nanos`] time).
pub fn refine_clock_rate() -> Option<u64> {
    let mut state = STATE.lock();
    match *state {
        Refinement::Over => None,
        Refinement::NotStarted => {
            let Some((port, mask)) = pm_timer() else {
                *state = Refinement::Over;
                return None;
            };
            let from = read_pair(port, mask);
            let due_ns = apic::monotonic_nanos() + WINDOW_NS;
            *state = Refinement::Counting { port, mask, from, due_ns };
            Some(due_ns)
        }
        Refinement::Counting { port, mask, from, due_ns } => {
            if apic::monotonic_nanos() < due_ns {
                return Some(due_ns);
            }
            *state = Refinement::Over;
            let (tsc, count) = read_pair(port, mask);
            let ticks = u64::from(count.wrapping_sub(from.1) & mask);
            let tsc_ticks = tsc.wrapping_sub(from.0);
            let old_hz = apic::tsc_rate();
            // The old rate's idea of the window; far off means the timer
            // wrapped (a late call) or is not a PM timer: keep the old rate.
            let window_ns = u128::from(ticks) * 1_000_000_000 / u128::from(PM_TIMER_HZ);
            let tsc_window_ns = u128::from(tsc_ticks) * 1_000_000_000 / u128::from(old_hz.max(1));
            if ticks == 0 || window_ns.abs_diff(tsc_window_ns) > window_ns / 50 {
                log::warn!(
                    "timer calibration: the ACPI PM timer counted {window_ns} ns against the TSC's {tsc_window_ns} ns; \
                     keeping the boot calibration"
                );
                return None;
            }
            let hz = (u128::from(tsc_ticks) * u128::from(PM_TIMER_HZ) / u128::from(ticks)) as u64;
            apic::set_tsc_rate(hz);
            let ppm = (i128::from(hz) - i128::from(old_hz)) * 1_000_000 / i128::from(old_hz.max(1));
            log::info!("timer calibration refined against the ACPI PM timer: TSC {} kHz ({ppm:+} ppm)", hz / 1000);
            None
        }
    }
}
