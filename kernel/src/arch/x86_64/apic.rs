//! Interrupt controllers and time on x86_64.
//!
//! - The legacy 8259 PICs are remapped out of the exception range and masked.
//! - The I/O APIC starts with every input masked; drivers unmask theirs.
//! - The local APIC timer, in one-shot mode, wakes the CPU at the next
//!   deadline. Its rate, and the TSC's, are measured against the PIT (a
//!   1.193182 MHz clock every PC-compatible machine has) at boot.
//! - The monotonic clock is the TSC scaled to nanoseconds.

use super::cpu::{SPURIOUS_VECTOR, TIMER_VECTOR};
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::instructions::port::Port;
use x86_64::structures::idt::InterruptStackFrame;

const LAPIC_BASE: usize = 0xFEE0_0000;
const IOAPIC_BASE: usize = 0xFEC0_0000;

// Local APIC register offsets.
const LAPIC_EOI: usize = 0xB0;
const LAPIC_SPURIOUS: usize = 0xF0;
const LAPIC_LVT_TIMER: usize = 0x320;
const LAPIC_TIMER_INITIAL: usize = 0x380;
const LAPIC_TIMER_CURRENT: usize = 0x390;
const LAPIC_TIMER_DIVIDE: usize = 0x3E0;
const LVT_MASKED: u32 = 1 << 16;

const PIT_HZ: u64 = 1_193_182;
/// Calibration window: 10 ms of PIT ticks.
const CALIBRATION_PIT_TICKS: u16 = 11_932;

/// The clock's base: the TSC value at the first instruction (from the boot
/// path), and at which [`monotonic_nanos`] read [`NANOS_AT_BASE`] when the
/// rate was last refined ([`set_tsc_rate`]).
static TSC_AT_ENTRY: AtomicU64 = AtomicU64::new(0);
static NANOS_AT_BASE: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick as a 32.32 fixed-point multiplier (0 = not calibrated).
static TSC_NS_MULT: AtomicU64 = AtomicU64::new(0);
/// Local APIC timer ticks (after the divide-by-16) per millisecond.
static LAPIC_TICKS_PER_MS: AtomicU64 = AtomicU64::new(0);

fn lapic_read(reg: usize) -> u32 {
    // SAFETY: the local APIC register page is mapped as device memory and
    // `reg` is a register offset inside it.
    unsafe { ((LAPIC_BASE + reg) as *const u32).read_volatile() }
}

fn lapic_write(reg: usize, value: u32) {
    // SAFETY: as in `lapic_read`.
    unsafe { ((LAPIC_BASE + reg) as *mut u32).write_volatile(value) }
}

fn ioapic_write(reg: u32, value: u32) {
    // SAFETY: the I/O APIC's select/window registers are mapped device memory.
    unsafe {
        (IOAPIC_BASE as *mut u32).write_volatile(reg);
        ((IOAPIC_BASE + 0x10) as *mut u32).write_volatile(value);
    }
}

fn ioapic_read(reg: u32) -> u32 {
    // SAFETY: as in `ioapic_write`.
    unsafe {
        (IOAPIC_BASE as *mut u32).write_volatile(reg);
        ((IOAPIC_BASE + 0x10) as *const u32).read_volatile()
    }
}

fn outb(port: u16, value: u8) {
    // SAFETY: only called for the PIC and PIT ports, which have no effect on
    // memory safety.
    unsafe { Port::<u8>::new(port).write(value) }
}

fn inb(port: u16) -> u8 {
    // SAFETY: as in `outb`.
    unsafe { Port::<u8>::new(port).read() }
}

pub(super) fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn init_interrupts(info: &boot::BootInfo) {
    TSC_AT_ENTRY.store(info.entry_ticks, Ordering::Relaxed);
    disable_pic();
    mask_ioapic();
    // Software-enable the local APIC with its spurious vector.
    lapic_write(LAPIC_SPURIOUS, 0x100 | u32::from(SPURIOUS_VECTOR));
    lapic_write(LAPIC_TIMER_DIVIDE, 0b0011); // divide by 16
    calibrate();
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
}

/// Remaps the 8259 PICs to vectors 0x20-0x2F (so a stray legacy interrupt
/// cannot look like an exception) and masks all their inputs.
fn disable_pic() {
    for (command, data, offset, cascade) in [(0x20, 0x21, 0x20, 4), (0xA0, 0xA1, 0x28, 2)] {
        outb(command, 0x11); // initialise, expect ICW4
        outb(data, offset);
        outb(data, cascade);
        outb(data, 0x01); // 8086 mode
        outb(data, 0xFF); // mask everything
    }
}

fn mask_ioapic() {
    let entries = ((ioapic_read(1) >> 16) & 0xFF) + 1;
    for i in 0..entries {
        ioapic_write(0x10 + 2 * i, 1 << 16);
        ioapic_write(0x11 + 2 * i, 0);
    }
}

/// Reads PIT channel 0's current count (it counts down).
fn read_pit_count() -> u16 {
    outb(0x43, 0b0000_0000); // latch channel 0
    let low = inb(0x40);
    let high = inb(0x40);
    u16::from_le_bytes([low, high])
}

/// Measures the TSC and the local APIC timer against 10 ms of PIT channel 0,
/// read back by polling its counter (this needs only the PIT itself, not the
/// port-0x61 gate that `microvm` lacks). Polling is fine here: it runs once,
/// before any timer exists.
fn calibrate() {
    outb(0x43, 0b0011_0100); // channel 0, low then high byte, mode 2 (rate generator)
    outb(0x40, 0xFF);
    outb(0x40, 0xFF);

    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    let mut previous = read_pit_count();
    let tsc_start = rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL, u32::MAX);
    let mut pit_elapsed: u64 = 0;
    // Bounded: with no PIT the count never moves; give up after ~10^9 TSC
    // ticks and fall back to QEMU's nominal rates.
    let mut ok = true;
    while pit_elapsed < u64::from(CALIBRATION_PIT_TICKS) {
        let now = read_pit_count();
        pit_elapsed += u64::from(previous.wrapping_sub(now));
        previous = now;
        if pit_elapsed == 0 && rdtsc() - tsc_start > 1_000_000_000 {
            ok = false;
            break;
        }
    }
    let tsc_elapsed = rdtsc() - tsc_start;
    let lapic_elapsed = u64::from(u32::MAX - lapic_read(LAPIC_TIMER_CURRENT));
    lapic_write(LAPIC_TIMER_INITIAL, 0);

    let window_ns = pit_elapsed * 1_000_000_000 / PIT_HZ;
    let (tsc_hz, lapic_per_ms) = if ok && window_ns > 0 && tsc_elapsed > 0 && lapic_elapsed > 0 {
        (tsc_elapsed * 1_000_000_000 / window_ns, lapic_elapsed * 1_000_000 / window_ns)
    } else {
        log::warn!("timer calibration: the PIT does not count, assuming a 1 GHz TSC and APIC timer");
        (1_000_000_000, 1_000_000_000 / 16 / 1000)
    };
    TSC_NS_MULT.store(ns_per_tick(tsc_hz), Ordering::Relaxed);
    LAPIC_TICKS_PER_MS.store(lapic_per_ms.max(1), Ordering::Relaxed);
    log::debug!("timer calibration: TSC {} MHz, APIC timer {} kHz", tsc_hz / 1_000_000, lapic_per_ms);
}

/// Nanoseconds since the first instruction (0 until the timer is calibrated).
pub fn monotonic_nanos() -> u64 {
    nanos_at(rdtsc())
}

/// [`monotonic_nanos`] at TSC value `tsc`: the nanoseconds at the clock's
/// base plus the ticks since, at the current rate.
fn nanos_at(tsc: u64) -> u64 {
    let mult = TSC_NS_MULT.load(Ordering::Relaxed);
    let ticks = tsc.wrapping_sub(TSC_AT_ENTRY.load(Ordering::Relaxed));
    NANOS_AT_BASE.load(Ordering::Relaxed) + ((u128::from(ticks) * u128::from(mult)) >> 32) as u64
}

/// Sets the TSC's rate to `tsc_hz` from now on, keeping the clock
/// continuous: the base moves to now, at the time the old rate gives.
pub(super) fn set_tsc_rate(tsc_hz: u64) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let now = rdtsc();
        let nanos = nanos_at(now);
        TSC_AT_ENTRY.store(now, Ordering::Relaxed);
        NANOS_AT_BASE.store(nanos, Ordering::Relaxed);
        TSC_NS_MULT.store(ns_per_tick(tsc_hz), Ordering::Relaxed);
    });
}

/// The TSC's rate as calibrated so far, in Hz.
pub(super) fn tsc_rate() -> u64 {
    ns_per_tick(TSC_NS_MULT.load(Ordering::Relaxed))
}

/// Nanoseconds per tick of a `hz` clock as a 32.32 fixed-point multiplier
/// ([`TSC_NS_MULT`]), and back: the conversion is its own inverse.
fn ns_per_tick(hz: u64) -> u64 {
    (1_000_000_000u64 << 32) / hz.max(1)
}

/// Arms the one-shot timer interrupt for `deadline` (in `monotonic_nanos`
/// time), or disarms it with `None`. A deadline already past fires at once.
pub fn set_timer(deadline: Option<u64>) {
    let Some(deadline) = deadline else {
        lapic_write(LAPIC_TIMER_INITIAL, 0);
        return;
    };
    let delta_ns = deadline.saturating_sub(monotonic_nanos());
    let per_ms = LAPIC_TICKS_PER_MS.load(Ordering::Relaxed);
    let ticks = (u128::from(delta_ns) * u128::from(per_ms) / 1_000_000).clamp(1, u128::from(u32::MAX)) as u32;
    lapic_write(LAPIC_LVT_TIMER, u32::from(TIMER_VECTOR)); // one-shot, unmasked
    lapic_write(LAPIC_TIMER_INITIAL, ticks);
}

/// Signals end-of-interrupt to the local APIC (device interrupt handlers).
pub(super) fn end_of_interrupt() {
    lapic_write(LAPIC_EOI, 0);
}

pub(super) extern "x86-interrupt" fn timer_interrupt(_frame: InterruptStackFrame) {
    lapic_write(LAPIC_EOI, 0);
}
