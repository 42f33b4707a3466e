//! Ending the appliance: power off with an exit status.

/// Exit status reported when the kernel panics.
pub const PANIC_STATUS: u8 = 101;

/// Powers the machine off. Under QEMU, `status` becomes QEMU's exit status
/// (as decoded by `cargo xtask run`); statuses are clamped to 0..=125.
pub fn exit(status: i32) -> ! {
    let status = status.clamp(0, 125) as u8;
    log::info!("powering off (exit status {status})");
    crate::arch::power_off(status)
}
