//! Where devices are on x86_64, from ACPI: the PCIe ECAM window (MCFG), or
//! the legacy configuration ports; INTx routing; the virtio-mmio slots of
//! microvm (DSDT).

use super::super::{PciFunction, PciHost};
use alloc::vec::Vec;
use drivers::mmio::Slot;
use drivers::pci::{self, ConfigSpace};

/// PCI configuration space: ECAM from ACPI's MCFG, else the x86 ports if a
/// host bridge answers there. Firmware (SeaBIOS) assigned the BARs on PCs.
pub fn pci_host() -> Option<PciHost> {
    let space = match crate::acpi::pci_ecam() {
        Some((base, start_bus, end_bus)) => ConfigSpace::Ecam { base, start_bus, end_bus },
        None if pci::port_io_present() => ConfigSpace::PortIo,
        None => return None,
    };
    Some(PciHost { space, bar_windows: None })
}

/// The GSI of a function's INTx `pin`. The line firmware routed INTx to is
/// also the I/O APIC input (QEMU's PIIX and ICH9 drive both); without one,
/// QEMU q35's ACPI routing: slots 1-24 swizzle INTA-D onto GSIs 16-19.
pub fn pci_interrupt(function: PciFunction, pin: u8, line: u8) -> Option<u32> {
    match (pin, line) {
        (0, _) => None,
        (_, line @ 1..=23) => Some(u32::from(line)),
        (pin, _) => Some(16 + (u32::from(function.device) + u32::from(pin) - 1) % 4),
    }
}

/// microvm's virtio-mmio slots from the ACPI DSDT (none without ACPI).
pub fn virtio_mmio_slots() -> Vec<Slot> {
    crate::acpi::virtio_mmio_slots().into_iter().map(|(address, size, irq)| Slot { address, size, irq }).collect()
}
