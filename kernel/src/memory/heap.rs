//! The kernel heap behind Rust's global allocator.
//!
//! Small blocks (up to 2 KiB, the bulk of a key-value workload: keys, small
//! values, request arguments) come from per-size-class free lists: O(1) to
//! allocate and free, refilled 32 KiB at a time from the backing heap.
//! Larger blocks come from `linked_list_allocator`, which is first-fit over
//! one free list, so its cost grows with the number of free holes; alone it
//! slows a Redis workload down as the keyspace grows. `heap=first-fit` on the
//! command line turns the size classes off (to measure the difference).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use linked_list_allocator::Heap;

/// Block sizes of the size classes, all multiples of 16 (so every block is
/// 16-byte aligned). Spacing grows with size to bound internal waste (~20%).
const CLASS_SIZES: [usize; 24] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792,
    2048,
];
const LARGEST_CLASS: usize = CLASS_SIZES[CLASS_SIZES.len() - 1];
const CLASS_ALIGN: usize = 16;
/// Bytes taken from the backing heap when a class runs empty.
const REFILL_BYTES: usize = 32 * 1024;

/// `CLASS_OF[(size + 15) / 16]` is the class index for `size`.
const CLASS_OF: [u8; LARGEST_CLASS / 16 + 1] = {
    let mut table = [0u8; LARGEST_CLASS / 16 + 1];
    let mut units = 0;
    let mut class = 0;
    while units < table.len() {
        while CLASS_SIZES[class] < units * 16 {
            class += 1;
        }
        table[units] = class as u8;
        units += 1;
    }
    table
};

fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(1);
    (size <= LARGEST_CLASS && layout.align() <= CLASS_ALIGN).then(|| CLASS_OF[size.div_ceil(16)] as usize)
}

struct State {
    backing: Heap,
    /// Head of each class's free list (0 = empty); each free block stores
    /// the address of the next one in its first word.
    free: [usize; CLASS_SIZES.len()],
    classes_enabled: bool,
}

impl State {
    fn alloc_small(&mut self, class: usize) -> *mut u8 {
        if self.free[class] == 0 {
            self.refill(class);
        }
        let block = self.free[class];
        if block == 0 {
            return null_mut();
        }
        // SAFETY: `block` heads this class's free list: an unused block of at
        // least 16 bytes whose first word holds the next free block.
        self.free[class] = unsafe { (block as *const usize).read() };
        block as *mut u8
    }

    fn free_small(&mut self, ptr: *mut u8, class: usize) {
        // SAFETY: `ptr` is a block of this class being freed, so it is ours
        // to reuse; its first word now links the free list.
        unsafe { (ptr as *mut usize).write(self.free[class]) };
        self.free[class] = ptr as usize;
    }

    /// Carves a chunk from the backing heap into free blocks of `class`.
    fn refill(&mut self, class: usize) {
        let size = CLASS_SIZES[class];
        let count = (REFILL_BYTES / size).max(1);
        let Ok(layout) = Layout::from_size_align(size * count, CLASS_ALIGN) else { return };
        let Ok(chunk) = self.backing.allocate_first_fit(layout) else { return };
        let base = chunk.as_ptr() as usize;
        for i in (0..count).rev() {
            self.free_small((base + i * size) as *mut u8, class);
        }
    }
}

struct KernelHeap(spin::Mutex<State>);

#[cfg_attr(target_os = "none", global_allocator)]
static HEAP: KernelHeap =
    KernelHeap(spin::Mutex::new(State { backing: Heap::empty(), free: [0; CLASS_SIZES.len()], classes_enabled: true }));

// SAFETY: every block handed out is either a size-class block (at least
// `layout.size()` bytes, 16-byte aligned, used by nobody else until freed) or
// comes from the backing `Heap` with `layout`; `dealloc` routes each block
// back the same way because the route depends only on the layout and on
// `classes_enabled`, which is fixed before the first allocation.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut state = self.0.lock();
        match class_of(layout) {
            Some(class) if state.classes_enabled => state.alloc_small(class),
            _ => state.backing.allocate_first_fit(layout).map_or(null_mut(), |p| p.as_ptr()),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut state = self.0.lock();
        match class_of(layout) {
            Some(class) if state.classes_enabled => state.free_small(ptr, class),
            _ => {
                if let Some(ptr) = NonNull::new(ptr) {
                    // SAFETY: `ptr` came from the backing heap with this layout.
                    unsafe { state.backing.deallocate(ptr, layout) }
                }
            }
        }
    }
}

/// Gives the heap the memory `[start, start + size)`; `size_classes` picks
/// whether small blocks use the size-class free lists.
///
/// # Safety
/// The range must be mapped read/write, unused by anything else, and given
/// only once, before the first allocation.
pub(super) unsafe fn init(start: u64, size: u64, size_classes: bool) {
    let mut state = HEAP.0.lock();
    state.classes_enabled = size_classes;
    // SAFETY: guaranteed by the caller.
    unsafe { state.backing.init(start as usize as *mut u8, size as usize) }
}

/// Heap usage: `(used bytes, total bytes)`. Blocks cached in the size-class
/// free lists count as used.
pub fn usage() -> (usize, usize) {
    let state = HEAP.0.lock();
    (state.backing.used(), state.backing.size())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_small_size_maps_to_the_smallest_class_that_fits() {
        for size in 1..=LARGEST_CLASS {
            let class = class_of(Layout::from_size_align(size, 8).unwrap()).unwrap();
            assert!(CLASS_SIZES[class] >= size, "size {size} fits class {}", CLASS_SIZES[class]);
            assert!(class == 0 || CLASS_SIZES[class - 1] < size, "size {size}: a smaller class fits");
        }
        assert_eq!(class_of(Layout::from_size_align(LARGEST_CLASS + 1, 8).unwrap()), None);
        assert_eq!(class_of(Layout::from_size_align(64, 4096).unwrap()), None, "over-aligned goes to the backing heap");
    }

    #[test]
    fn classes_recycle_blocks_and_refill_from_the_backing_heap() {
        #[repr(align(4096))]
        struct Arena([u8; 256 * 1024]);
        let arena: &'static mut Arena = Box::leak(Box::new(Arena([0; 256 * 1024])));
        let mut state = State { backing: Heap::empty(), free: [0; CLASS_SIZES.len()], classes_enabled: true };
        // SAFETY (test): the arena is leaked, so it outlives the heap.
        unsafe { state.backing.init(arena.0.as_mut_ptr(), arena.0.len()) };
        let class = class_of(Layout::from_size_align(100, 8).unwrap()).unwrap();
        let a = state.alloc_small(class);
        let b = state.alloc_small(class);
        assert!(!a.is_null() && !b.is_null() && a != b);
        assert_eq!(a as usize % CLASS_ALIGN, 0);
        assert_eq!(b as usize - a as usize, CLASS_SIZES[class], "blocks are carved in order");
        state.free_small(a, class);
        assert_eq!(state.alloc_small(class), a, "a freed block is reused first");
        // Exhaust the arena: allocation fails cleanly instead of corrupting.
        let mut count = 0;
        while !state.alloc_small(class).is_null() {
            count += 1;
        }
        assert!(count > 1000, "the 256 KiB arena held {count} blocks of {} bytes", CLASS_SIZES[class]);
    }
}
