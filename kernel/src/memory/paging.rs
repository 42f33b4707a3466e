//! The kernel's page tables: which physical ranges are mapped, with which
//! rights (the W^X policy). The walk is shared; the architecture encodes the
//! entries ([`EntryFormat`]) and switches to the tables.
//!
//! Both architectures use four levels of 512 entries over 4 KiB pages, and
//! the kernel runs identity-mapped (virtual address = physical address).

use super::{FrameAllocator, PAGE_SIZE};

/// Access rights of a mapping. Writable mappings are never executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rights {
    ReadOnly,
    ReadWrite,
    ReadExecute,
}

/// Caching behaviour of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryType {
    /// Ordinary cached RAM.
    Normal,
    /// Device registers: uncached, accesses not merged or reordered.
    Device,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub rights: Rights,
    pub memory: MemoryType,
}

impl Attributes {
    pub const DATA: Attributes = Attributes { rights: Rights::ReadWrite, memory: MemoryType::Normal };
    pub const DEVICE: Attributes = Attributes { rights: Rights::ReadWrite, memory: MemoryType::Device };
    pub const CODE: Attributes = Attributes { rights: Rights::ReadExecute, memory: MemoryType::Normal };
    pub const READ_ONLY: Attributes = Attributes { rights: Rights::ReadOnly, memory: MemoryType::Normal };
}

/// How an architecture encodes page-table entries. Depth 0 is the top-level
/// table; a leaf at depth 3 maps 4 KiB, at depth 2 2 MiB, at depth 1 1 GiB.
pub trait EntryFormat {
    /// The shallowest depth at which this CPU supports leaf (block) entries.
    fn largest_leaf_depth() -> usize;
    /// An entry pointing to the next-level table at `table`.
    fn table(table: u64) -> u64;
    /// A leaf entry mapping `phys` at `depth` with `attrs`.
    fn leaf(phys: u64, depth: usize, attrs: Attributes) -> u64;
    fn is_present(entry: u64) -> bool;
    /// Whether a present entry at `depth` points to a table (not a leaf).
    fn is_table(entry: u64, depth: usize) -> bool;
    /// The physical address an entry points to.
    fn address(entry: u64) -> u64;
    /// The attributes of a present leaf entry.
    fn attributes(entry: u64) -> Attributes;
}

const ENTRIES: usize = 512;

fn leaf_size(depth: usize) -> u64 {
    PAGE_SIZE << (9 * (3 - depth))
}

fn index(addr: u64, depth: usize) -> usize {
    ((addr >> (12 + 9 * (3 - depth))) as usize) & (ENTRIES - 1)
}

/// Why a mapping could not be made.
#[derive(Debug)]
pub enum MapError {
    OutOfFrames,
}

/// A tree of page tables rooted at `root` (a physical address), in memory
/// that is identity-mapped while it is being edited.
pub struct PageTables<F: EntryFormat> {
    root: u64,
    format: core::marker::PhantomData<F>,
}

impl<F: EntryFormat> PageTables<F> {
    /// Creates an empty tree.
    pub fn new(frames: &mut FrameAllocator) -> Result<Self, MapError> {
        Ok(PageTables { root: Self::new_table(frames)?, format: core::marker::PhantomData })
    }

    /// An existing tree, e.g. the active one.
    pub fn from_root(root: u64) -> Self {
        PageTables { root, format: core::marker::PhantomData }
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    fn new_table(frames: &mut FrameAllocator) -> Result<u64, MapError> {
        let table = frames.alloc(1, PAGE_SIZE).ok_or(MapError::OutOfFrames)?;
        // SAFETY: a freshly allocated, identity-mapped frame that nothing else uses.
        unsafe { core::ptr::write_bytes(table as usize as *mut u8, 0, PAGE_SIZE as usize) };
        Ok(table)
    }

    fn entries(table: u64) -> *mut u64 {
        table as usize as *mut u64
    }

    /// Maps `[phys, phys + size)` at the same virtual address with `attrs`,
    /// using the largest leaves alignment allows. Replaces existing mappings;
    /// a larger leaf in the way is split so that its other pages keep their
    /// mapping.
    pub fn map(
        &mut self,
        phys: u64,
        size: u64,
        attrs: Attributes,
        frames: &mut FrameAllocator,
    ) -> Result<(), MapError> {
        let mut addr = phys & !(PAGE_SIZE - 1);
        let end = (phys + size).next_multiple_of(PAGE_SIZE);
        while addr < end {
            let depth = (F::largest_leaf_depth()..=3)
                .find(|&d| addr.is_multiple_of(leaf_size(d)) && addr + leaf_size(d) <= end)
                .unwrap_or(3);
            self.set(addr, depth, Some(F::leaf(addr, depth, attrs)), frames)?;
            addr += leaf_size(depth);
        }
        Ok(())
    }

    /// Removes the mapping of the 4 KiB page at `addr` (e.g. a stack guard).
    pub fn unmap_page(&mut self, addr: u64, frames: &mut FrameAllocator) -> Result<(), MapError> {
        self.set(addr, 3, None, frames)
    }

    /// Writes the entry for `addr` at `depth`, creating or splitting tables
    /// on the way down.
    fn set(&mut self, addr: u64, depth: usize, leaf: Option<u64>, frames: &mut FrameAllocator) -> Result<(), MapError> {
        let mut table = self.root;
        for d in 0..depth {
            let slot = Self::entries(table).wrapping_add(index(addr, d));
            // SAFETY: `table` is a page-table frame of this tree (identity-mapped)
            // and `index` is below 512.
            let entry = unsafe { slot.read_volatile() };
            table = if F::is_present(entry) && F::is_table(entry, d) {
                F::address(entry)
            } else {
                let next = Self::new_table(frames)?;
                if F::is_present(entry) {
                    // Split the leaf: the new table maps the same memory in
                    // smaller pieces with the same attributes.
                    Self::split(entry, d, next);
                }
                // SAFETY: as above; the new table is complete before it is linked.
                unsafe { slot.write_volatile(F::table(next)) };
                next
            };
        }
        let slot = Self::entries(table).wrapping_add(index(addr, depth));
        // SAFETY: as above.
        unsafe { slot.write_volatile(leaf.unwrap_or(0)) };
        Ok(())
    }

    /// Fills `table` (depth `depth + 1`) with leaves equivalent to the leaf
    /// `entry` at `depth`.
    fn split(entry: u64, depth: usize, table: u64) {
        let (base, attrs, child) = (F::address(entry), F::attributes(entry), depth + 1);
        for i in 0..ENTRIES {
            let leaf = F::leaf(base + i as u64 * leaf_size(child), child, attrs);
            // SAFETY: `table` is a fresh, identity-mapped table frame.
            unsafe { Self::entries(table).add(i).write_volatile(leaf) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simple encoding for testing the walk: bit 0 present, bit 1 table,
    /// bits 2-3 rights, bit 4 device, address in bits 12-51.
    struct TestFormat;

    impl EntryFormat for TestFormat {
        fn largest_leaf_depth() -> usize {
            1
        }
        fn table(table: u64) -> u64 {
            table | 0b11
        }
        fn leaf(phys: u64, _depth: usize, attrs: Attributes) -> u64 {
            let rights = match attrs.rights {
                Rights::ReadOnly => 0,
                Rights::ReadWrite => 1,
                Rights::ReadExecute => 2,
            };
            phys | 1 | (rights << 2) | (u64::from(attrs.memory == MemoryType::Device) << 4)
        }
        fn is_present(entry: u64) -> bool {
            entry & 1 != 0
        }
        fn is_table(entry: u64, _depth: usize) -> bool {
            entry & 2 != 0
        }
        fn address(entry: u64) -> u64 {
            entry & 0x000F_FFFF_FFFF_F000
        }
        fn attributes(entry: u64) -> Attributes {
            let rights = [Rights::ReadOnly, Rights::ReadWrite, Rights::ReadExecute][((entry >> 2) & 3) as usize];
            let memory = if entry & 0x10 != 0 { MemoryType::Device } else { MemoryType::Normal };
            Attributes { rights, memory }
        }
    }

    /// Page-table frames in host memory (leaked for the test's duration):
    /// the walk dereferences table addresses, and host addresses serve as
    /// well as identity-mapped physical ones.
    fn host_frames(pages: usize) -> FrameAllocator {
        #[repr(align(4096))]
        struct Page(#[allow(dead_code)] [u8; 4096]);
        let memory: &'static mut [Page] = (0..pages).map(|_| Page([0; 4096])).collect::<Vec<_>>().leak();
        let start = memory.as_ptr() as u64;
        let mut frames = FrameAllocator::new();
        frames.add(start, start + pages as u64 * PAGE_SIZE);
        frames
    }

    /// Walks to the leaf mapping `addr`: (physical address, attributes, depth).
    fn translate(tables: &PageTables<TestFormat>, addr: u64) -> Option<(u64, Attributes, usize)> {
        let mut table = tables.root();
        for depth in 0..4 {
            // SAFETY (test): `table` is a table frame in host memory.
            let entry = unsafe { (table as *const u64).add(index(addr, depth)).read() };
            if !TestFormat::is_present(entry) {
                return None;
            }
            if depth == 3 || !TestFormat::is_table(entry, depth) {
                let offset = addr & (leaf_size(depth) - 1);
                return Some((TestFormat::address(entry) + offset, TestFormat::attributes(entry), depth));
            }
            table = TestFormat::address(entry);
        }
        None
    }

    const GIB: u64 = 1 << 30;
    const MIB2: u64 = 2 << 20;

    #[test]
    fn uses_the_largest_leaves_alignment_allows() {
        let mut frames = host_frames(64);
        let mut t = PageTables::<TestFormat>::new(&mut frames).unwrap();
        // 1 GiB + 2 MiB + 4 KiB starting at 1 GiB: one 1 GiB block, one 2 MiB, one 4 KiB page.
        t.map(GIB, GIB + MIB2 + PAGE_SIZE, Attributes::DATA, &mut frames).unwrap();
        assert_eq!(translate(&t, GIB + 12345).map(|(p, _, d)| (p, d)), Some((GIB + 12345, 1)));
        assert_eq!(translate(&t, 2 * GIB + 5).map(|(p, _, d)| (p, d)), Some((2 * GIB + 5, 2)));
        assert_eq!(translate(&t, 2 * GIB + MIB2 + 7).map(|(p, _, d)| (p, d)), Some((2 * GIB + MIB2 + 7, 3)));
        assert_eq!(translate(&t, 2 * GIB + MIB2 + PAGE_SIZE), None, "nothing past the end");
        assert_eq!(translate(&t, GIB - 1), None, "nothing before the start");
    }

    #[test]
    fn kernel_style_layout_keeps_wx_and_the_guard_page() {
        let mut frames = host_frames(64);
        let mut t = PageTables::<TestFormat>::new(&mut frames).unwrap();
        let text = 0x20_0000;
        t.map(text, 0x3000, Attributes::CODE, &mut frames).unwrap();
        t.map(text + 0x3000, 0x1000, Attributes::READ_ONLY, &mut frames).unwrap();
        t.map(text + 0x5000, 0x1000, Attributes::DATA, &mut frames).unwrap(); // 0x4000 = guard
        let rights = |a| translate(&t, a).map(|(_, attrs, _)| attrs.rights);
        assert_eq!(rights(text + 0x2fff), Some(Rights::ReadExecute));
        assert_eq!(rights(text + 0x3000), Some(Rights::ReadOnly));
        assert_eq!(rights(text + 0x4000), None, "the guard page stays unmapped");
        assert_eq!(rights(text + 0x5000), Some(Rights::ReadWrite));
    }

    #[test]
    fn remapping_inside_a_block_splits_it_and_keeps_the_rest() {
        let mut frames = host_frames(64);
        let mut t = PageTables::<TestFormat>::new(&mut frames).unwrap();
        t.map(0, 2 * GIB, Attributes::DATA, &mut frames).unwrap();
        assert_eq!(translate(&t, GIB + 0x1000).map(|(_, _, d)| d), Some(1));
        t.map(GIB + 0x1000, 0x1000, Attributes::DEVICE, &mut frames).unwrap();
        let (phys, attrs, depth) = translate(&t, GIB + 0x1000).unwrap();
        assert_eq!((phys, attrs, depth), (GIB + 0x1000, Attributes::DEVICE, 3));
        // Neighbours inside the old block keep their mapping and attributes.
        assert_eq!(translate(&t, GIB).map(|(p, a, _)| (p, a)), Some((GIB, Attributes::DATA)));
        assert_eq!(translate(&t, GIB + 0x2000).map(|(p, a, _)| (p, a)), Some((GIB + 0x2000, Attributes::DATA)));
        assert_eq!(translate(&t, GIB + 0x40_0000).map(|(p, a, _)| (p, a)), Some((GIB + 0x40_0000, Attributes::DATA)));
        t.unmap_page(GIB + 0x2000, &mut frames).unwrap();
        assert_eq!(translate(&t, GIB + 0x2000), None);
        assert!(translate(&t, GIB + 0x3000).is_some());
    }

    #[test]
    fn running_out_of_table_frames_is_an_error() {
        let mut frames = host_frames(2);
        let mut t = PageTables::<TestFormat>::new(&mut frames).unwrap();
        assert!(matches!(t.map(0x1000, 0x1000, Attributes::DATA, &mut frames), Err(MapError::OutOfFrames)));
    }
}
