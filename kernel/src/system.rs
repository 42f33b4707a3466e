//! Facts about the running system, for apps (banners, INFO replies).

use spin::Once;

static BOOT_INFO: Once<&'static boot::BootInfo> = Once::new();

pub(crate) fn set_boot_info(info: &'static boot::BootInfo) {
    BOOT_INFO.call_once(|| info);
}

pub(crate) fn boot_info() -> &'static boot::BootInfo {
    BOOT_INFO.get().expect("boot info is recorded first thing at boot")
}

/// The CPU architecture (`x86_64`, `aarch64`).
pub fn arch() -> &'static str {
    crate::arch::NAME
}

/// Usable RAM reported by the firmware, in bytes.
pub fn memory_bytes() -> u64 {
    boot_info().usable_bytes()
}

/// The whole kernel command line.
pub fn command_line() -> &'static str {
    boot_info().command_line.as_str()
}

/// Heap usage: `(used bytes, total bytes)`.
pub fn heap_usage() -> (usize, usize) {
    crate::memory::heap_usage()
}

/// Which entry path booted the kernel.
pub fn loader() -> &'static str {
    boot_info().loader
}
