//! The architecture facade: the one place that picks x86_64 or aarch64.
//!
//! Each architecture module provides the same items:
//! - `NAME`, `PageFormat` (a [`crate::memory::paging::EntryFormat`])
//! - `init_console(&BootInfo)`, `console_write(&[u8])`: the serial console
//! - `init_cpu()`: exception vectors with handlers that report faults
//! - `device_windows()`: fixed device ranges the kernel maps at boot
//! - `activate_page_tables(root)`, `flush_tlb()`
//! - `init_interrupts(&BootInfo)`: interrupt controller and timer
//! - `monotonic_nanos()`, `set_timer(Option<u64>)`, `wait_for_interrupt()`
//! - `read_wall_clock() -> Option<u64>`: the real-time clock, in Unix seconds
//! - `power_off(status) -> !`

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::*;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;
