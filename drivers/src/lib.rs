//! Device drivers and bus discovery (virtio, PCI, virtio-mmio), generic over
//! the [`Hardware`] trait that the kernel implements. Drivers never touch
//! page tables or interrupt controllers themselves.
#![no_std]

/// What a driver needs from the kernel.
pub trait Hardware {
    /// Maps `size` bytes of device registers at physical address `phys` and
    /// returns the virtual address to use.
    fn map_device(&self, phys: u64, size: usize) -> usize;
}
