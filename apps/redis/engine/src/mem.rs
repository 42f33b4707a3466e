//! What an allocation really costs on the appliance's heap, so memory
//! accounting (what `maxmemory` and eviction look at) matches the heap.
//!
//! The model is the kernel's allocator (`kernel/src/memory/heap.rs`):
//! requests up to 2 KiB get a block of the smallest size class that fits
//! (16, 32, 48, ... 2048 bytes, no header); larger ones come from
//! `linked_list_allocator`, which rounds the size up to a multiple of 8
//! (at least 16) and keeps no header either. Free-list caching and
//! fragmentation are not modelled. The counting-allocator test
//! (`tests/memory_accounting.rs`) checks the accounting against this model.

use core::mem::size_of;

/// Block sizes of the heap's size classes.
const CLASS_SIZES: [usize; 24] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792,
    2048,
];
const LARGEST_CLASS: usize = CLASS_SIZES[CLASS_SIZES.len() - 1];

/// `CLASS_OF[size.div_ceil(16)]` is the index of the class for `size`.
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

/// Heap bytes taken by an allocation of `size` bytes (0: no allocation).
#[inline]
pub const fn block(size: usize) -> usize {
    if size == 0 {
        0
    } else if size <= LARGEST_CLASS {
        CLASS_SIZES[CLASS_OF[size.div_ceil(16)] as usize]
    } else {
        size.saturating_add(7) & !7
    }
}

/// Heap bytes of a `Vec<T>` (or `VecDeque<T>`, `Box<[T]>`) with capacity `cap`.
#[inline]
pub const fn array<T>(cap: usize) -> usize {
    block(cap.saturating_mul(size_of::<T>()))
}

/// Heap bytes of a `Box<T>`.
#[inline]
pub const fn boxed<T>() -> usize {
    block(size_of::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_to_their_block() {
        assert_eq!(block(0), 0);
        assert_eq!(block(1), 16);
        assert_eq!(block(16), 16);
        assert_eq!(block(17), 32);
        assert_eq!(block(129), 160);
        assert_eq!(block(2048), 2048);
        assert_eq!(block(2049), 2056);
        assert_eq!(array::<u64>(3), 32);
        for size in 1..=LARGEST_CLASS {
            let b = block(size);
            assert!(b >= size && CLASS_SIZES.contains(&b), "{size} -> {b}");
            assert!(CLASS_SIZES.iter().all(|&c| c < size || c >= b), "{size} -> {b} is not the smallest");
        }
    }
}
