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
//! - `refine_clock_rate() -> Option<u64>`: called from the idle loops until
//!   `None`, with the `monotonic_nanos` time to call again; refines a
//!   measured clock rate against a better reference (x86_64's TSC)
//! - `read_wall_clock() -> Option<u64>`: the real-time clock, in Unix seconds
//! - `power_off(status) -> !`
//!
//! Device interrupts (the network stack uses them):
//! - `Trigger` (`Edge`, `Level`) and `IrqError` (with `Display`)
//! - `enable_device_irq(line: u32, Trigger, handler: fn()) -> Result<(), IrqError>`:
//!   routes interrupt `line` (a GSI through the I/O APIC on x86_64; a GIC
//!   SPI interrupt ID on aarch64) to the boot CPU and unmasks it. On each
//!   interrupt, inside `wait_for_interrupt`, the arch code calls `handler`
//!   (which acknowledges the device, so a level-triggered line drops), then
//!   signals end-of-interrupt to the controller.
//! - `mask_device_irq(line)`, `unmask_device_irq(line)`
//!
//! Where devices are (what the platform's firmware tables say: ACPI on
//! x86_64, the device tree on aarch64); the drivers' generic functions do
//! the rest (`kernel/src/net/device.rs`):
//! - `pci_host() -> Option<PciHost>`: how to reach PCI configuration space,
//!   and where to place BARs when no firmware assigned them
//! - `pci_interrupt(PciFunction, pin, line) -> Option<u32>`: the interrupt
//!   line (as `enable_device_irq` takes it) of a function's INTx `pin`
//!   (1-4), given the Interrupt Line register's value `line`
//! - `virtio_mmio_slots() -> Vec<drivers::mmio::Slot>`: the virtio-mmio slots
//!   the platform describes (the command line's `virtio_mmio.device=`
//!   entries take precedence; `net/device.rs` reads those)

pub use drivers::virtio_drivers::transport::pci::bus::DeviceFunction as PciFunction;

/// A PCI host bridge the platform describes.
#[derive(Clone, Copy, Debug)]
pub struct PciHost {
    pub space: drivers::pci::ConfigSpace,
    /// Where to place BARs that no firmware assigned (`None`: firmware did).
    pub bar_windows: Option<drivers::pci::BarWindows>,
}

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::*;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;
