//! virtio-drivers' [`Hal`] for any [`Hardware`].

use crate::Hardware;
use core::marker::PhantomData;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// Adapts the kernel's [`Hardware`] to virtio-drivers.
pub struct VirtioHal<H: Hardware>(PhantomData<H>);

// SAFETY: `dma_alloc` returns zeroed, page-aligned, physically contiguous
// memory that stays valid until `dma_dealloc`; addresses are translated by the
// kernel, which keeps device and heap memory mapped for the kernel's lifetime.
// The machines this runs on are cache-coherent for device DMA, so `share` and
// `unshare` need no copies or cache maintenance.
unsafe impl<H: Hardware> Hal for VirtioHal<H> {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        match H::dma_alloc(pages) {
            Some((phys, virt)) => (phys, NonNull::new(virt as *mut u8).unwrap_or(NonNull::dangling())),
            // virtio-drivers treats physical address 0 as failure.
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: virtio-drivers passes back exactly what `dma_alloc` returned,
        // once the device no longer uses it.
        unsafe { H::dma_free(paddr, vaddr.as_ptr() as usize, pages) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        NonNull::new(H::map_device(paddr, size) as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        H::virt_to_phys(buffer.as_ptr() as *mut u8 as usize)
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
