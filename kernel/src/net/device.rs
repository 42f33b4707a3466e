//! Finding the network device: virtio-net on PCI (the host bridge the
//! platform describes: ECAM from ACPI's MCFG or the x86 configuration ports;
//! on aarch64 the device tree's ECAM window, with BARs placed in its memory
//! windows), else on a virtio-mmio slot from the command line
//! (`virtio_mmio.device=SIZE@ADDR:IRQ`, which QEMU appends for microvm
//! without ACPI) or from the platform (the ACPI DSDT on microvm, the device
//! tree's `virtio,mmio` nodes on aarch64).

use crate::arch;
use crate::memory::KernelHardware;
use alloc::format;
use alloc::string::String;
use drivers::net::VirtioNet;
use drivers::virtio_drivers::transport::{DeviceType, SomeTransport};

/// The network device, its interrupt line and a description for the log.
pub struct Found {
    pub nic: VirtioNet<KernelHardware>,
    /// The interrupt line (a GSI on x86_64, a GIC INTID on aarch64), if it has one.
    pub irq: Option<u32>,
    pub description: String,
}

/// Finds and initialises the first virtio-net device.
pub fn discover(mtu: usize) -> Option<Found> {
    if let Some(found) = discover_pci(mtu) {
        return Some(found);
    }
    discover_mmio(mtu)
}

fn discover_pci(mtu: usize) -> Option<Found> {
    let mut host = arch::pci_host()?;
    log::debug!("pci: configuration space {:x?}, BAR windows {:x?}", host.space, host.bar_windows);
    let dev = drivers::pci::find_virtio::<KernelHardware>(host.space, DeviceType::Network, host.bar_windows.as_mut())?;
    let irq = arch::pci_interrupt(dev.function, dev.interrupt_pin, dev.interrupt_line);
    let description = format!("virtio-net on PCI {} (interrupt pin {})", dev.function, dev.interrupt_pin);
    open(SomeTransport::Pci(dev.transport), mtu, irq, description)
}

fn discover_mmio(mtu: usize) -> Option<Found> {
    for slot in crate::virtio::mmio_slots() {
        if let Some(transport) = drivers::mmio::probe::<KernelHardware>(&slot, DeviceType::Network) {
            let description = format!("virtio-net on virtio-mmio at {:#x}", slot.address);
            return open(SomeTransport::Mmio(transport), mtu, Some(slot.irq), description);
        }
    }
    None
}

fn open(transport: SomeTransport<'static>, mtu: usize, irq: Option<u32>, description: String) -> Option<Found> {
    match VirtioNet::new(transport, mtu) {
        Ok(nic) => Some(Found { nic, irq, description }),
        Err(e) => {
            log::error!("net: {description}: initialisation failed: {e}");
            None
        }
    }
}
