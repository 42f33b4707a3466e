//! Device drivers and bus discovery (virtio, NVMe, PCI, virtio-mmio), generic over
//! the [`Hardware`] trait that the kernel implements. Drivers never touch
//! page tables or interrupt controllers themselves.
//!
//! - [`pci`]: configuration space (PCIe ECAM or x86 port I/O), enumeration
//!   behind bridges, BAR assignment where no firmware did it, and finding
//!   virtio devices and NVMe controllers with their legacy interrupt pins.
//! - [`mmio`]: probing virtio-mmio slots, and parsing the Linux-style
//!   `virtio_mmio.device=SIZE@ADDR:IRQ` command-line entries.
//! - [`net`]: the virtio-net device as a smoltcp `phy::Device`.
//! - [`blk`]: the virtio-blk device, requests completed by interrupt.
//! - [`nvme`]: an NVMe controller's first namespace, the same way.
//! - [`block`]: what both block drivers hand back.
//! - [`VirtioHal`]: virtio-drivers' `Hal` on top of any [`Hardware`].
#![no_std]

extern crate alloc;

pub mod blk;
pub mod block;
mod hal;
pub mod mmio;
pub mod net;
pub mod nvme;
pub mod pci;
mod transport;

pub use hal::VirtioHal;

/// What a driver needs from the kernel. All functions are static (no
/// receiver) because virtio-drivers' `Hal` is, and drivers are generic over
/// the implementing type.
pub trait Hardware: 'static {
    /// Maps `size` bytes of device registers at physical address `phys`
    /// (uncached) and returns the virtual address to use.
    fn map_device(phys: u64, size: usize) -> usize;

    /// Allocates `pages` physically contiguous, zeroed 4 KiB pages that
    /// devices may read and write (DMA). Returns `(physical, virtual)`
    /// addresses, or `None` when memory is exhausted.
    fn dma_alloc(pages: usize) -> Option<(u64, usize)>;

    /// Frees memory from [`Hardware::dma_alloc`].
    ///
    /// # Safety
    ///
    /// `phys`, `virt` and `pages` must be exactly what one `dma_alloc` call
    /// returned, and nothing (CPU or device) may use the memory afterwards.
    unsafe fn dma_free(phys: u64, virt: usize, pages: usize);

    /// The physical address devices use for the kernel virtual address
    /// `virt` (any heap or static buffer).
    fn virt_to_phys(virt: usize) -> u64;

    /// A monotonic clock in nanoseconds, for the timeouts of controller
    /// bring-up (steps that raise no interrupt).
    fn now_nanos() -> u64;
}
pub use virtio_drivers;
