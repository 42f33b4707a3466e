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
//!
//! Device interrupts (the network stack uses them; x86_64 implements them,
//! an architecture without them gets a polled network stack until it does,
//! see the `cfg(not(target_arch = "x86_64"))` shims in `net/mod.rs`):
//! - `Trigger` (`Edge`, `Level`) and `IrqError` (with `Display`)
//! - `enable_device_irq(line: u32, Trigger, handler: fn()) -> Result<(), IrqError>`:
//!   routes interrupt `line` (a GSI through the I/O APIC on x86_64; a GIC
//!   SPI interrupt ID on aarch64) to the boot CPU and unmasks it. On each
//!   interrupt, inside `wait_for_interrupt`, the arch code calls `handler`
//!   (which acknowledges the device, so a level-triggered line drops), then
//!   signals end-of-interrupt to the controller.
//! - `mask_device_irq(line)`, `unmask_device_irq(line)`
//!
//! Device discovery beyond that is not arch code: x86_64 reads ACPI
//! (`crate::acpi`), aarch64 will read the device tree for the PCIe ECAM
//! window, its memory windows for BARs (`drivers::pci::BarWindows`) and the
//! virtio-mmio nodes, feeding the same `drivers` functions
//! (`kernel/src/net/device.rs`).

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::*;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;
