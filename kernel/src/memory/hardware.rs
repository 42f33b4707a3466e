//! The kernel's side of [`drivers::Hardware`]: device mappings and DMA memory
//! from the frame allocator. Memory is identity-mapped, so physical and
//! virtual addresses are the same.

use crate::memory;

/// Hardware access for the drivers crate.
pub struct KernelHardware;

impl drivers::Hardware for KernelHardware {
    fn map_device(phys: u64, size: usize) -> usize {
        memory::map_device(phys, size as u64)
    }

    fn dma_alloc(pages: usize) -> Option<(u64, usize)> {
        let phys = memory::alloc_frames(pages as u64)?;
        Some((phys, phys as usize))
    }

    unsafe fn dma_free(phys: u64, _virt: usize, pages: usize) {
        memory::free_frames(phys, pages as u64)
    }

    fn virt_to_phys(virt: usize) -> u64 {
        virt as u64
    }

    fn now_nanos() -> u64 {
        crate::time::Instant::now().as_nanos()
    }
}
