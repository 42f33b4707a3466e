//! Where virtio-mmio devices sit: the command line's
//! `virtio_mmio.device=SIZE@ADDR:IRQ` entries (which QEMU appends for
//! microvm without ACPI) or, without any, the slots the platform describes
//! (the ACPI DSDT on microvm, the device tree's `virtio,mmio` nodes on
//! aarch64). The network card and the disks are looked for there.

use crate::arch;
use alloc::vec::Vec;
use drivers::mmio::Slot;

/// The virtio-mmio slots to probe, command line first.
pub(crate) fn mmio_slots() -> Vec<Slot> {
    let cmdline = crate::CommandLine::get_global();
    let listed: Vec<Slot> = cmdline
        .kernel_params()
        .iter()
        .filter(|(k, _)| *k == "virtio_mmio.device")
        .filter_map(|(_, v)| drivers::mmio::parse_slot(v))
        .collect();
    let slots = if listed.is_empty() { arch::virtio_mmio_slots() } else { listed };
    log::debug!("virtio-mmio slots: {slots:x?}");
    slots
}
