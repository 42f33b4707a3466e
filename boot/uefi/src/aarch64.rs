//! aarch64: the arm64 `Image` protocol, as QEMU's `-kernel` does it. The
//! Image goes to RAM base + text_offset (where the kernel is linked), the
//! firmware's device tree is copied with /chosen/bootargs and /memory set,
//! and after ExitBootServices the caches are cleaned, the MMU and caches
//! turned off, and the kernel entered with x0 = device tree, x1-x3 = 0.

use crate::{efi, fdt, memmap};
use alloc::format;
use alloc::string::String;
use core::convert::Infallible;

/// The 2 MiB-aligned RAM base the kernel is linked for (targets/aarch64/kernel.ld:
/// 0x40200000 = this + the header's text_offset).
const RAM_BASE: u64 = 0x4000_0000;
const IMAGE_MAGIC: &[u8; 4] = b"ARM\x64";

unsafe extern "C" {
    /// Cleans and invalidates the data cache to the point of coherency
    /// over `count` (start, end) ranges, turns the MMU and caches off at the
    /// current exception level, invalidates the instruction cache, and jumps
    /// to `entry` with x0 = `dtb` and x1-x3 = 0.
    fn appliance_handover(ranges: *const [u64; 2], count: usize, dtb: u64, entry: u64) -> !;
}

core::arch::global_asm!(
    ".text",
    ".global appliance_handover",
    "appliance_handover:",
    "    msr     daifset, #0xf",
    // The smallest data cache line: 4 << CTR_EL0.DminLine bytes.
    "    mrs     x4, ctr_el0",
    "    ubfx    x4, x4, #16, #4",
    "    mov     x5, #4",
    "    lsl     x4, x5, x4",
    "    sub     x6, x4, #1",
    // Clean and invalidate every line of RAM the kernel may use, so nothing
    // dirty is left to be written back over what it writes with caches off.
    // From here on nothing is written to memory (no stack).
    "1:  cbz     x1, 4f",
    "    ldp     x7, x8, [x0], #16",
    "    bic     x7, x7, x6",
    "2:  cmp     x7, x8",
    "    b.hs    3f",
    "    dc      civac, x7",
    "    add     x7, x7, x4",
    "    b       2b",
    "3:  sub     x1, x1, #1",
    "    b       1b",
    "4:  dsb     sy",
    // SCTLR_ELx.M (bit 0), C (bit 2), I (bit 12) off at the current EL
    // (EL2 under some firmware, EL1 under others).
    "    mrs     x9, CurrentEL",
    "    ubfx    x9, x9, #2, #2",
    "    cmp     x9, #2",
    "    b.ne    5f",
    "    mrs     x9, sctlr_el2",
    "    bic     x9, x9, #1",
    "    bic     x9, x9, #(1 << 2)",
    "    bic     x9, x9, #(1 << 12)",
    "    msr     sctlr_el2, x9",
    "    b       6f",
    "5:  mrs     x9, sctlr_el1",
    "    bic     x9, x9, #1",
    "    bic     x9, x9, #(1 << 2)",
    "    bic     x9, x9, #(1 << 12)",
    "    msr     sctlr_el1, x9",
    "6:  isb",
    // Instructions cached with the MMU on are stale for the new image.
    "    ic      iallu",
    "    dsb     nsh",
    "    isb",
    "    mov     x9, x3",
    "    mov     x0, x2",
    "    mov     x1, xzr",
    "    mov     x2, xzr",
    "    mov     x3, xzr",
    "    br      x9",
);

fn status(s: efi::Status) -> String {
    format!("EFI status {:#x}", s & (usize::MAX >> 1))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

pub fn boot(image: efi::Handle, mut file: efi::File, cmdline: &str) -> Result<Infallible, String> {
    // The 64-byte Image header: text_offset at 8, image_size at 16, magic
    // at 56. The rest is read straight to its place, before anything else
    // can take that memory.
    let mut header = [0u8; 64];
    let len = file.size();
    if len < header.len() {
        return Err("\\APPLIANCE\\KERNEL is not an arm64 Image (too short)".into());
    }
    file.read(&mut header)?;
    if &header[56..60] != IMAGE_MAGIC {
        return Err("\\APPLIANCE\\KERNEL is not an arm64 Image (no ARM\\x64 magic)".into());
    }
    let (text_offset, image_size) = (u64_at(&header, 8), u64_at(&header, 16));
    let dest = RAM_BASE + text_offset;
    let size = image_size.max(len as u64).next_multiple_of(efi::PAGE);
    efi::allocate_at(dest, (size / efi::PAGE) as usize, efi::LOADER_DATA).map_err(|s| {
        format!(
            "cannot place the kernel at {dest:#x}..{:#x}, where it is linked: the firmware holds that memory \
             ({}{}); give the machine more RAM (AAVMF keeps it free from 256 MiB)",
            dest + size,
            status(s),
            efi::describe(dest, dest + size)
        )
    })?;
    // SAFETY: [dest, dest + size) was just allocated to us (identity-mapped).
    unsafe {
        let at = dest as usize as *mut u8;
        core::ptr::copy_nonoverlapping(header.as_ptr(), at, header.len());
        file.read_to(at.add(header.len()), len - header.len())?;
        core::ptr::write_bytes(at.add(len), 0, size as usize - len);
    }
    drop(file);

    let Some(firmware_dtb) = efi::configuration_table(efi::DEVICE_TREE) else {
        return Err("no device tree: ACPI-only machines are not supported yet".into());
    };
    // SAFETY: the firmware's device tree blob: its header first, then as
    // many bytes as the header's totalsize says.
    let blob = unsafe {
        let header = core::slice::from_raw_parts(firmware_dtb as usize as *const u8, 40);
        let total = fdt::total_size(header)?;
        core::slice::from_raw_parts(firmware_dtb as usize as *const u8, total)
    };
    let mut tree = fdt::parse(blob)?;
    tree.set_bootargs(cmdline);
    let mut map = efi::MemoryMap::new();
    map.refresh().map_err(|s| format!("cannot read the memory map ({})", status(s)))?;
    // RAM stays RAM whatever is allocated from here on, so the ranges hold.
    let ram = memmap::ram_ranges(map.iter().map(|d| (d.start, d.pages, d.kind)));
    let ranges: alloc::vec::Vec<[u64; 2]> = ram.iter().map(|&(start, end)| [start, end]).collect();
    tree.set_memory(&ram)?;
    let dtb = tree.to_blob();
    let dtb_pages = dtb.len().div_ceil(efi::PAGE as usize);
    let dtb_at = efi::allocate_below(u64::MAX, dtb_pages, efi::LOADER_DATA)
        .map_err(|s| format!("no memory for the device tree ({})", status(s)))?;
    // SAFETY: dtb_pages pages at dtb_at were just allocated to us.
    unsafe { core::ptr::copy_nonoverlapping(dtb.as_ptr(), dtb_at as usize as *mut u8, dtb.len()) };

    efi::print(&format!(
        "appliance loader: entering the kernel at {dest:#x} (arm64 Image), device tree at {dtb_at:#x}\n"
    ));
    efi::exit_boot_services(image, &mut map).map_err(|s| format!("ExitBootServices failed ({})", status(s)))?;
    // SAFETY: boot services are gone and nothing else runs; `ram` (still
    // allocated) lists RAM the firmware identity-maps, the kernel image and
    // the device tree included.
    unsafe { appliance_handover(ranges.as_ptr(), ranges.len(), dtb_at, dest) }
}
