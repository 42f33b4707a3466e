//! aarch64 entry through the arm64 Linux `Image` protocol:
//! `qemu-system-aarch64 -M virt -kernel Image` (and U-Boot's `booti`) start
//! the image here.
//!
//! `entry.S` holds the 64-byte `Image` header, drops from EL2 to EL1 if
//! needed, enables FP/SIMD, turns on the MMU with a static identity map and
//! the caches, sets up the boot stack, zeroes BSS and calls [`image_main`],
//! which reads the device tree the loader passed in `x0` into a [`BootInfo`].

use crate::info::{BootInfo, FirmwareTables, MemoryKind, MemoryRegion};
use core::ptr::addr_of;

core::arch::global_asm!(include_str!("entry.S"));

unsafe extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

static mut BOOT_INFO: BootInfo = BootInfo::empty("linux-image");

/// The Rust half of the `Image` entry, called once by `entry.S` at EL1 on
/// the boot stack, with the MMU on and the first 8 GiB identity-mapped.
/// `dtb` is the device tree's physical address, `entry_ticks` the virtual
/// counter at the first instruction.
#[unsafe(no_mangle)]
extern "C" fn image_main(dtb: u64, entry_ticks: u64) -> ! {
    // SAFETY: called once, before anything else runs; nothing else holds a
    // reference to BOOT_INFO yet.
    let info = unsafe { &mut *core::ptr::addr_of_mut!(BOOT_INFO) };
    info.entry_ticks = entry_ticks;
    // Linker-script symbols: only their addresses are taken.
    info.kernel_image = (addr_of!(__kernel_start) as u64, addr_of!(__kernel_end) as u64);

    // SAFETY: the loader passes the physical address of the device tree in
    // x0; RAM is identity-mapped, and `from_ptr` checks the magic before it
    // trusts the header's size.
    if let Ok(fdt) = unsafe { fdt::Fdt::from_ptr(dtb as usize as *const u8) } {
        read_device_tree(info, &fdt, dtb);
    }

    let (kstart, kend) = info.kernel_image;
    info.add_region(MemoryRegion { start: kstart, end: kend, kind: MemoryKind::Kernel });
    crate::enter_kernel(info)
}

/// Fills the memory map, command line and firmware pointer from the device tree.
fn read_device_tree(info: &mut BootInfo, fdt: &fdt::Fdt, dtb: u64) {
    // RAM: every node with `device_type = "memory"` (usually `/memory@...`).
    for node in fdt.all_nodes() {
        let is_memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
        if !is_memory {
            continue;
        }
        for r in node.reg().into_iter().flatten() {
            let start = r.starting_address as u64;
            let size = r.size.unwrap_or(0) as u64;
            info.add_region(MemoryRegion { start, end: start + size, kind: MemoryKind::Usable });
        }
    }

    // Memory the firmware keeps for itself: the header's reservation block
    // and the children of /reserved-memory.
    for r in fdt.memory_reservations() {
        let start = r.address() as u64;
        info.add_region(MemoryRegion { start, end: start + r.size() as u64, kind: MemoryKind::Reserved });
    }
    if let Some(reserved) = fdt.find_node("/reserved-memory") {
        for child in reserved.children() {
            for r in child.reg().into_iter().flatten() {
                let start = r.starting_address as u64;
                let end = start + r.size.unwrap_or(0) as u64;
                info.add_region(MemoryRegion { start, end, kind: MemoryKind::Reserved });
            }
        }
    }

    if let Some(args) = fdt.find_node("/chosen").and_then(|c| c.property("bootargs")).and_then(|p| p.as_str()) {
        let _ = info.command_line.push_str(args);
    }

    // The blob itself: the kernel reads it again later (console, interrupt
    // controller, timer), so it must never be handed out as free memory.
    let (address, size) = move_below_kernel(info, dtb, fdt.total_size() as u64);
    info.add_region(MemoryRegion { start: address, end: address + size, kind: MemoryKind::FirmwareTables });
    info.firmware = FirmwareTables::DeviceTree { address, size };
}

/// Reads the big-endian header field at byte `offset` of the blob at `dtb`.
fn header_field(dtb: u64, offset: u64) -> u64 {
    // SAFETY: the header (40 bytes) was validated by `Fdt::from_ptr`.
    u64::from(u32::from_be(unsafe { ((dtb + offset) as usize as *const u32).read_unaligned() }))
}

/// QEMU puts the device tree in the middle of RAM (at 64 MiB on a 128 MiB
/// machine), which would split free memory in two. If the RAM just below the
/// kernel image is free, the blob moves there, so that free memory stays in
/// one piece. QEMU also pads the blob to 1 MiB: only the used part (header,
/// reservations, structure and strings blocks, in that order in blobs made by
/// dtc and libfdt) is copied, and the copy's `totalsize` says so. Returns the
/// blob's (new) address and size.
fn move_below_kernel(info: &BootInfo, dtb: u64, total_size: u64) -> (u64, u64) {
    let (memory_reservations, structure, strings) =
        (header_field(dtb, 16), header_field(dtb, 8), header_field(dtb, 12));
    let used = (structure + header_field(dtb, 36)).max(strings + header_field(dtb, 32));
    if !(memory_reservations < structure && memory_reservations < strings && used <= total_size) {
        return (dtb, total_size); // an unusual layout: leave it alone
    }
    let (kernel_start, _) = info.kernel_image;
    let Some(target) = kernel_start.checked_sub(used).map(|a| a & !0xFFF) else { return (dtb, total_size) };
    let overlaps = target < dtb + total_size && dtb < kernel_start;
    // The kernel region is not carved out yet: free RAM still spans it.
    let free = info.memory.iter().any(|r| r.kind == MemoryKind::Usable && r.start <= target && kernel_start <= r.end);
    if overlaps || !free {
        return (dtb, total_size);
    }
    // SAFETY: both ranges are identity-mapped RAM and do not overlap; the
    // target is free RAM below the kernel (the loader's code that ran there
    // is finished) and nothing else has been placed in it. The new totalsize
    // (header offset 4) covers every block, as checked above.
    unsafe {
        core::ptr::copy_nonoverlapping(dtb as usize as *const u8, target as usize as *mut u8, used as usize);
        ((target + 4) as usize as *mut u32).write_unaligned((used as u32).to_be());
    }
    (target, used)
}
