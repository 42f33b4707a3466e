//! The physical frame allocator: free physical memory as a short sorted list
//! of page-aligned ranges. Allocation is first-fit from low addresses (so
//! early page tables land in memory the boot mapping covers); freeing merges
//! neighbours. Contiguous multi-frame allocations serve DMA buffers.

use super::PAGE_SIZE;

#[derive(Clone, Copy, Debug)]
struct Range {
    start: u64,
    end: u64,
}

const MAX_RANGES: usize = 64;

pub struct FrameAllocator {
    free: heapless::Vec<Range, MAX_RANGES>,
}

impl Default for FrameAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameAllocator {
    pub const fn new() -> Self {
        FrameAllocator { free: heapless::Vec::new() }
    }

    /// Adds `[start, end)` as free memory (rounded inwards to whole pages).
    pub fn add(&mut self, start: u64, end: u64) {
        let start = start.next_multiple_of(PAGE_SIZE);
        let end = end & !(PAGE_SIZE - 1);
        if start < end {
            self.insert(Range { start, end });
        }
    }

    fn insert(&mut self, range: Range) {
        let at = self.free.iter().position(|r| r.start > range.start).unwrap_or(self.free.len());
        if self.free.insert(at, range).is_err() {
            log::warn!("frame allocator: more than {MAX_RANGES} free ranges, dropping {range:x?}");
            return;
        }
        // Merge with the following and the preceding range where they touch.
        if at + 1 < self.free.len() && self.free[at].end == self.free[at + 1].start {
            self.free[at].end = self.free[at + 1].end;
            self.free.remove(at + 1);
        }
        if at > 0 && self.free[at - 1].end == self.free[at].start {
            self.free[at - 1].end = self.free[at].end;
            self.free.remove(at);
        }
    }

    /// Allocates `count` contiguous frames aligned to `align` bytes (a power
    /// of two, at least one page). Returns the physical address.
    pub fn alloc(&mut self, count: u64, align: u64) -> Option<u64> {
        let size = count * PAGE_SIZE;
        let align = align.max(PAGE_SIZE);
        let (index, start) = self.free.iter().enumerate().find_map(|(i, r)| {
            let start = r.start.next_multiple_of(align);
            (start + size <= r.end).then_some((i, start))
        })?;
        let range = self.free[index];
        self.free.remove(index);
        self.add(range.start, start);
        self.add(start + size, range.end);
        Some(start)
    }

    /// Returns `count` frames starting at `start` to the free list.
    pub fn free(&mut self, start: u64, count: u64) {
        self.add(start, start + count * PAGE_SIZE);
    }

    /// Takes the largest free range for the heap, leaving at least `reserve`
    /// bytes of free frames behind. Returns `(start, size)`.
    pub fn take_largest(&mut self, reserve: u64) -> Option<(u64, u64)> {
        let total = self.free_bytes();
        let (index, range) = self.free.iter().copied().enumerate().max_by_key(|(_, r)| r.end - r.start)?;
        let others = total - (range.end - range.start);
        let keep = reserve.saturating_sub(others).next_multiple_of(PAGE_SIZE);
        let size = (range.end - range.start).checked_sub(keep)?;
        if size == 0 {
            return None;
        }
        self.free.remove(index);
        self.add(range.start + size, range.end);
        Some((range.start, size))
    }

    pub fn free_bytes(&self) -> u64 {
        self.free.iter().map(|r| r.end - r.start).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn allocates_first_fit_and_aligns() {
        let mut frames = FrameAllocator::new();
        frames.add(0x1000, 0x10_0000);
        assert_eq!(frames.alloc(1, PAGE_SIZE), Some(0x1000));
        assert_eq!(frames.alloc(2, 0x1_0000), Some(0x1_0000), "64 KiB alignment skips ahead");
        // The gap left by alignment is still free and used first.
        assert_eq!(frames.alloc(1, PAGE_SIZE), Some(0x2000));
        assert_eq!(frames.free_bytes(), 0x10_0000 - 0x1000 - 4 * PAGE_SIZE);
    }

    #[test]
    fn rounds_partial_pages_inwards() {
        let mut frames = FrameAllocator::new();
        frames.add(0x1001, 0x3fff);
        assert_eq!(frames.free_bytes(), PAGE_SIZE, "only the whole page 0x2000-0x3000 is usable");
    }

    #[test]
    fn freeing_merges_neighbours() {
        let mut frames = FrameAllocator::new();
        frames.add(0, 16 * PAGE_SIZE);
        let a = frames.alloc(4, PAGE_SIZE).unwrap();
        let b = frames.alloc(4, PAGE_SIZE).unwrap();
        frames.free(a, 4);
        frames.free(b, 4);
        assert_eq!(frames.free.len(), 1, "one contiguous range again: {:?}", frames.free);
        assert_eq!(frames.alloc(16, PAGE_SIZE), Some(0));
    }

    #[test]
    fn exhaustion_returns_none() {
        let mut frames = FrameAllocator::new();
        frames.add(0, 2 * PAGE_SIZE);
        assert!(frames.alloc(3, PAGE_SIZE).is_none());
        assert!(frames.alloc(2, PAGE_SIZE).is_some());
        assert!(frames.alloc(1, PAGE_SIZE).is_none());
    }

    #[test]
    fn heap_takes_the_largest_range_but_leaves_the_reserve() {
        let mut frames = FrameAllocator::new();
        frames.add(MIB, 2 * MIB); // 1 MiB
        frames.add(16 * MIB, 80 * MIB); // 64 MiB
        let (start, size) = frames.take_largest(4 * MIB).unwrap();
        assert_eq!(start, 16 * MIB);
        assert_eq!(size, 61 * MIB, "3 MiB stay behind, plus the 1 MiB range = the 4 MiB reserve");
        assert_eq!(frames.free_bytes(), 4 * MIB);
    }
}
