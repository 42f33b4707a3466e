//! The PL031 real-time clock (QEMU `virt` and many Arm boards): its data
//! register counts seconds since the Unix epoch.

use super::devicetree;

/// RTCDR: the current time in seconds.
const DATA_REGISTER: u64 = 0x000;

/// Seconds since the Unix epoch, or `None` without an RTC.
pub fn read_wall_clock() -> Option<u64> {
    let (base, _) = devicetree::get().rtc?;
    // SAFETY: the PL031's registers are mapped as device memory at boot
    // (`device_windows`), and reading RTCDR has no side effects.
    let seconds = unsafe { ((base + DATA_REGISTER) as usize as *const u32).read_volatile() };
    Some(u64::from(seconds))
}
