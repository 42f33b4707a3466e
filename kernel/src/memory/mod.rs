//! Physical memory, the kernel's page tables and the heap.
//!
//! At boot, [`init`] turns the boot memory map into a frame allocator, builds
//! the kernel's own page tables (W^X: text read+execute, rodata read-only,
//! data/bss/heap/stack read+write+no-execute, a guard page under the boot
//! stack, the null page unmapped), switches to them, and gives the heap most
//! of the free memory.

mod frames;
mod hardware;
mod heap;
pub mod paging;

use crate::arch;
use boot::{BootInfo, MemoryKind};
use core::sync::atomic::{AtomicU64, Ordering};
pub use frames::FrameAllocator;
pub use hardware::KernelHardware;
pub use heap::usage as heap_usage;
use paging::{Attributes, PageTables};

pub const PAGE_SIZE: u64 = 4096;

/// Free frames left after the heap took its share: page tables, DMA buffers.
static FRAMES: spin::Mutex<FrameAllocator> = spin::Mutex::new(FrameAllocator::new());
/// Physical address of the active top-level page table.
static ROOT: AtomicU64 = AtomicU64::new(0);

/// Frames kept out of the heap for what is allocated by the page after
/// boot: virtio queues (a few pages per device) and page tables for device
/// windows. 1/64 of RAM, at least 512 KiB, at most 16 MiB; the heap gets the
/// rest, which matters most on small machines.
fn frame_reserve(total: u64) -> u64 {
    (total / 64).clamp(512 << 10, 16 << 20)
}

unsafe extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __boot_stack_guard: u8;
    static __boot_stack_bottom: u8;
    static __kernel_end: u8;
}

fn symbol(s: &u8) -> u64 {
    s as *const u8 as u64
}

pub(crate) fn init(info: &BootInfo) {
    let mut frames = FrameAllocator::new();
    for r in info.memory.iter().filter(|r| r.kind == MemoryKind::Usable) {
        frames.add(r.start, r.end);
    }
    let tables =
        build_kernel_tables(info, &mut frames).unwrap_or_else(|e| panic!("building the kernel page tables: {e:?}"));
    // SAFETY: the new tables map everything the kernel touches (its image with
    // the same addresses, all RAM, the devices in use) identically to the boot
    // tables, only with tighter rights.
    unsafe { arch::activate_page_tables(tables.root()) };
    ROOT.store(tables.root(), Ordering::Relaxed);

    let total = frames.free_bytes();
    let (heap_start, heap_size) = frames.take_largest(frame_reserve(total)).expect("no free memory for the heap");
    let size_classes = crate::CommandLine::get_global().get("heap") != Some("first-fit");
    // SAFETY: the range was just taken out of the frame allocator, so nothing
    // else uses it, and it is mapped read/write as ordinary RAM; no
    // allocation has happened yet.
    unsafe { heap::init(heap_start, heap_size, size_classes) };
    log::info!(
        "memory: heap {} KiB at {:#x} ({}), {} KiB of frames in reserve",
        heap_size >> 10,
        heap_start,
        if size_classes { "size classes in front of first-fit" } else { "first-fit only" },
        frames.free_bytes() >> 10
    );
    *FRAMES.lock() = frames;
}

fn build_kernel_tables(
    info: &BootInfo,
    frames: &mut FrameAllocator,
) -> Result<PageTables<arch::PageFormat>, paging::MapError> {
    let mut tables = PageTables::<arch::PageFormat>::new(frames)?;
    for r in info.memory.iter() {
        let attrs = match r.kind {
            MemoryKind::Usable | MemoryKind::FirmwareTables => Attributes::DATA,
            MemoryKind::Reserved => Attributes::DEVICE,
            MemoryKind::Kernel => continue,
        };
        tables.map(r.start, r.len(), attrs, frames)?;
    }
    for (start, size) in arch::device_windows() {
        tables.map(start, size, Attributes::DEVICE, frames)?;
    }
    // SAFETY: linker-script symbols; only their addresses are used.
    let (text, text_end, rodata, rodata_end, data, guard, stack, end) = unsafe {
        (
            symbol(&__text_start),
            symbol(&__text_end),
            symbol(&__rodata_start),
            symbol(&__rodata_end),
            symbol(&__data_start),
            symbol(&__boot_stack_guard),
            symbol(&__boot_stack_bottom),
            symbol(&__kernel_end),
        )
    };
    let (image_start, _) = info.kernel_image;
    // Headers/notes before the text are read-only data.
    tables.map(image_start, text - image_start, Attributes::READ_ONLY, frames)?;
    tables.map(text, text_end - text, Attributes::CODE, frames)?;
    tables.map(rodata, rodata_end - rodata, Attributes::READ_ONLY, frames)?;
    tables.map(data, guard - data, Attributes::DATA, frames)?;
    // [guard, stack) stays unmapped: a stack overflow faults instead of
    // silently overwriting the data below the stack.
    tables.map(stack, end - stack, Attributes::DATA, frames)?;
    // Null-pointer accesses fault.
    tables.unmap_page(0, frames)?;
    Ok(tables)
}

/// Maps `size` bytes of device registers at physical `phys` (uncached,
/// no-execute) and returns the address to access them at.
pub fn map_device(phys: u64, size: u64) -> usize {
    let mut frames = FRAMES.lock();
    let mut tables = PageTables::<arch::PageFormat>::from_root(ROOT.load(Ordering::Relaxed));
    tables
        .map(phys, size, Attributes::DEVICE, &mut frames)
        .unwrap_or_else(|e| panic!("mapping device memory {phys:#x}+{size:#x}: {e:?}"));
    arch::flush_tlb();
    phys as usize
}

/// Firmware tables (ACPI) at physical `phys`: maps `len` bytes and returns
/// them. The tables are never written, so the slice stays valid.
pub fn firmware_bytes(phys: u64, len: usize) -> &'static [u8] {
    let virt = map_device(phys, len as u64);
    // SAFETY: the range was just mapped (identity, for the kernel's
    // lifetime) and holds firmware tables, which nothing writes.
    unsafe { core::slice::from_raw_parts(virt as *const u8, len) }
}

/// Allocates `count` physically contiguous, zeroed frames (for DMA).
/// Returns the physical address (equal to the virtual one).
pub fn alloc_frames(count: u64) -> Option<u64> {
    let addr = FRAMES.lock().alloc(count, PAGE_SIZE)?;
    // SAFETY: the frames were just allocated and are mapped as RAM.
    unsafe { core::ptr::write_bytes(addr as usize as *mut u8, 0, (count * PAGE_SIZE) as usize) };
    Some(addr)
}

/// Returns frames from [`alloc_frames`].
pub fn free_frames(addr: u64, count: u64) {
    FRAMES.lock().free(addr, count)
}

/// Reads the (unmapped) null page: for the page-fault self-test.
pub(crate) fn read_null_page() -> u8 {
    // SAFETY: deliberately invalid: page 0 is unmapped, so this read faults
    // and the fault handler reports it and powers off; it never returns.
    unsafe { core::ptr::read_volatile(0x10 as *const u8) }
}
