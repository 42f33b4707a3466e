//! Finding the network device: virtio-net on PCI (ECAM from ACPI's MCFG, or
//! the x86 configuration ports), else on a virtio-mmio slot from the command
//! line (`virtio_mmio.device=SIZE@ADDR:IRQ`, which QEMU appends for microvm
//! without ACPI) or from the ACPI DSDT (microvm with ACPI).

use crate::memory::KernelHardware;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use drivers::mmio::Slot;
use drivers::net::VirtioNet;
use drivers::virtio_drivers::transport::{DeviceType, SomeTransport};

/// The network device, its interrupt line and a description for the log.
pub struct Found {
    pub nic: VirtioNet<KernelHardware>,
    /// The interrupt line (a GSI on x86_64), if it has one.
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

#[cfg(target_arch = "x86_64")]
fn discover_pci(mtu: usize) -> Option<Found> {
    use drivers::pci::{self, ConfigSpace};
    let space = match crate::acpi::pci_ecam() {
        Some((base, start_bus, end_bus)) => ConfigSpace::Ecam { base, start_bus, end_bus },
        None if pci::port_io_present() => ConfigSpace::PortIo,
        None => return None,
    };
    log::debug!("pci: configuration space {space:x?}");
    // Firmware (SeaBIOS) assigned the BARs on PCs.
    let dev = pci::find_virtio::<KernelHardware>(space, DeviceType::Network, None)?;
    // The line firmware routed INTx to is also the I/O APIC input (QEMU's PIIX
    // and ICH9 drive both); without one, QEMU q35's ACPI routing: slots 1-24
    // swizzle INTA-D onto GSIs 16-19.
    let irq = match (dev.interrupt_pin, dev.interrupt_line) {
        (0, _) => None,
        (_, line @ 1..=23) => Some(u32::from(line)),
        (pin, _) => Some(16 + (u32::from(dev.function.device) + u32::from(pin) - 1) % 4),
    };
    let description = format!("virtio-net on PCI {} (interrupt pin {})", dev.function, dev.interrupt_pin);
    open(SomeTransport::Pci(dev.transport), mtu, irq, description)
}

#[cfg(not(target_arch = "x86_64"))]
fn discover_pci(_mtu: usize) -> Option<Found> {
    // aarch64: the ECAM window and BAR windows come from the device tree
    // (`drivers::pci::find_virtio` with `BarWindows`); not wired yet.
    None
}

fn discover_mmio(mtu: usize) -> Option<Found> {
    let cmdline = crate::CommandLine::get_global();
    let listed: Vec<Slot> = cmdline
        .kernel_params()
        .iter()
        .filter(|(k, _)| *k == "virtio_mmio.device")
        .filter_map(|(_, v)| drivers::mmio::parse_slot(v))
        .collect();
    #[cfg(target_arch = "x86_64")]
    let slots = if listed.is_empty() {
        crate::acpi::virtio_mmio_slots().into_iter().map(|(address, size, irq)| Slot { address, size, irq }).collect()
    } else {
        listed
    };
    // aarch64: the device tree's virtio-mmio nodes (not wired yet).
    #[cfg(not(target_arch = "x86_64"))]
    let slots = listed;
    log::debug!("virtio-mmio slots: {slots:x?}");
    for slot in slots {
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
