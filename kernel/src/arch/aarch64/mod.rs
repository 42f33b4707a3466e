//! aarch64 (QEMU `virt` and similar device-tree machines): PL011 console,
//! EL1 exception vectors, GICv2/GICv3, the generic timer, 4-level stage-1
//! paging, and power-off through semihosting or PSCI. Where the devices are
//! comes from the device tree the boot path hands over; device interrupts are
//! GIC SPIs (`irq`).

mod devicetree;
mod exceptions;
mod gic;
mod irq;
mod paging;
mod power;
mod rtc;
mod serial;
mod timer;

pub use exceptions::{init_cpu, wait_for_interrupt};
pub use irq::{IrqError, Trigger, enable_device_irq, mask_device_irq, unmask_device_irq};
pub use paging::{PageFormat, activate_page_tables, flush_tlb};
pub use power::power_off;
pub use rtc::read_wall_clock;
pub use serial::console_write;
pub use timer::{monotonic_nanos, refine_clock_rate, set_timer};

pub const NAME: &str = "aarch64";

/// Reads the device tree, starts the clock (so that log lines carry times
/// from the start) and sets up the UART.
pub fn init_console(info: &boot::BootInfo) {
    let platform = devicetree::init(info);
    timer::start_clock(info.entry_ticks);
    serial::init(platform.uart.0);
}

/// Device ranges mapped at boot: the UART, the interrupt controller's
/// distributor and CPU interface (GICv2) or redistributors (GICv3), and the
/// real-time clock. Absent ones are empty ranges.
pub fn device_windows() -> [(u64, u64); 4] {
    let platform = devicetree::get();
    let (distributor, cpu) = platform.gic.map_or(((0, 0), (0, 0)), |g| (g.distributor, g.cpu));
    [platform.uart, distributor, cpu, platform.rtc.unwrap_or((0, 0))]
}

/// Sets up the interrupt controller with the virtual timer's interrupt, and
/// the timer itself (off until the first `set_timer`).
pub fn init_interrupts(info: &boot::BootInfo) {
    timer::start_clock(info.entry_ticks);
    timer::init();
    let platform = devicetree::get();
    match &platform.gic {
        Some(gic) => gic::init(gic, platform.virtual_timer_intid),
        None => log::error!("no interrupt controller in the device tree: the timer cannot wake the CPU"),
    }
}

/// The PCIe host bridge from the device tree. Nothing assigned BARs (QEMU
/// boots the kernel directly), so its memory windows come along.
pub fn pci_host() -> Option<super::PciHost> {
    use drivers::pci::{BarWindows, ConfigSpace, Window};
    let bridge = devicetree::pci_host_bridge()?;
    let window = |w: Option<(u64, u64)>| w.map(|(base, size)| Window { next: base, end: base + size });
    Some(super::PciHost {
        space: ConfigSpace::Ecam { base: bridge.ecam, start_bus: bridge.buses.0, end_bus: bridge.buses.1 },
        bar_windows: Some(BarWindows { mem32: window(bridge.mem32), mem64: window(bridge.mem64) }),
    })
}

/// The GIC INTID of a PCI function's legacy interrupt `pin`, from the host
/// bridge's `interrupt-map` (the Interrupt Line register means nothing here).
pub fn pci_interrupt(function: super::PciFunction, pin: u8, _line: u8) -> Option<u32> {
    devicetree::pci_intx(function.bus, function.device, function.function, pin)
}

/// The device tree's virtio-mmio slots.
pub fn virtio_mmio_slots() -> alloc::vec::Vec<drivers::mmio::Slot> {
    devicetree::virtio_mmio_slots()
}
