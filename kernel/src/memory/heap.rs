//! The kernel heap behind Rust's global allocator.
//!
//! Kept behind this one module so that the allocator can be replaced (size
//! classes in front, or another allocator) when a workload measures it:
//! `linked_list_allocator` is first-fit over a free list, so its cost grows
//! with the number of free blocks.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use linked_list_allocator::Heap;

struct KernelHeap(spin::Mutex<Heap>);

#[cfg_attr(target_os = "none", global_allocator)]
static HEAP: KernelHeap = KernelHeap(spin::Mutex::new(Heap::empty()));

// SAFETY: every block handed out comes from the one `Heap`, which returns
// blocks of at least `layout.size()` bytes at `layout.align()`, and each block
// is returned to the same heap with the same layout.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.lock().allocate_first_fit(layout).map_or(null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: `ptr` was returned by `alloc` above with this layout.
            unsafe { self.0.lock().deallocate(ptr, layout) }
        }
    }
}

/// Gives the heap the memory `[start, start + size)`.
///
/// # Safety
/// The range must be mapped read/write, unused by anything else, and given
/// only once.
pub(super) unsafe fn init(start: u64, size: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { HEAP.0.lock().init(start as usize as *mut u8, size as usize) }
}

/// Heap usage: `(used bytes, total bytes)`.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.0.lock();
    (heap.used(), heap.size())
}
