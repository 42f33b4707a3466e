//! x86_64: COM1 console, GDT/TSS/IDT, local APIC timer, I/O APIC (device
//! interrupts in `irq`), 4-level paging, power-off through QEMU's
//! `isa-debug-exit` device, and where devices are (from ACPI, `platform`).

mod apic;
mod cpu;
mod irq;
mod paging;
mod platform;
mod rtc;
mod serial;
mod tsc_refine;

pub use apic::{init_interrupts, monotonic_nanos, set_timer};
pub use cpu::{init_cpu, wait_for_interrupt};
pub use irq::{IrqError, Trigger, enable_device_irq, mask_device_irq, unmask_device_irq};
pub use paging::{PageFormat, activate_page_tables, flush_tlb};
pub use platform::{pci_host, pci_interrupt, virtio_mmio_slots};
pub use serial::{console_write, init_console};
pub use tsc_refine::refine_clock_rate;

/// Seconds since the Unix epoch from the CMOS clock, or `None` if it reads
/// as nonsense.
pub fn read_wall_clock() -> Option<u64> {
    rtc::read_rtc().map(|t| t.unix_seconds())
}

pub const NAME: &str = "x86_64";

/// Fixed device ranges mapped at boot: the I/O APIC, HPET and local APIC
/// live in the 20 MiB below 4 GiB.
pub fn device_windows() -> [(u64, u64); 1] {
    [(0xFEC0_0000, 0x0140_0000)]
}

/// Powers the machine off with exit `status` (QEMU exits with
/// `(status + 1) * 2 + 1` through `isa-debug-exit`; `cargo xtask` decodes it).
pub fn power_off(status: u8) -> ! {
    use ::x86_64::instructions::port::Port;
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device when present (it ends
    // the VM); on hardware without it the write is ignored.
    unsafe { Port::<u32>::new(0xf4).write(u32::from(status) + 1) };
    // No debug-exit device: halt with interrupts off.
    loop {
        ::x86_64::instructions::interrupts::disable();
        ::x86_64::instructions::hlt();
    }
}
