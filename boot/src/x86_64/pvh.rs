//! Reads the PVH `hvm_start_info` the loader left in memory.
//! Layout: xen/include/public/arch-x86/hvm/start_info.h.

use crate::info::{BootInfo, FirmwareTables, MemoryKind, MemoryRegion};
use crate::pvh_abi::{MemmapEntry, START_INFO_MAGIC, StartInfo};
use core::ptr::addr_of;

unsafe extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
    static boot_entry_tsc: u64;
}

static mut BOOT_INFO: BootInfo = BootInfo::empty("pvh");

/// The Rust half of the PVH entry, called once by `entry.S` in long mode on
/// the boot stack, with the first 4 GiB identity-mapped.
#[unsafe(no_mangle)]
extern "C" fn pvh_main(start_info_addr: u32) -> ! {
    // SAFETY: called once, before anything else runs; nothing else holds a
    // reference to BOOT_INFO yet.
    let info = unsafe { &mut *core::ptr::addr_of_mut!(BOOT_INFO) };
    // SAFETY: linker-script symbols; only their addresses are taken. The entry
    // counter was written by entry.S before paging was enabled.
    unsafe {
        info.kernel_image = (addr_of!(__kernel_start) as u64, addr_of!(__kernel_end) as u64);
        info.entry_ticks = core::ptr::read_volatile(addr_of!(boot_entry_tsc));
    }

    // SAFETY: the loader passes the physical address of a start_info structure
    // in ebx; physical memory below 4 GiB is identity-mapped, and we check the
    // magic before trusting anything else in it.
    let start = unsafe { &*(start_info_addr as usize as *const StartInfo) };
    if start_info_addr != 0 && start.magic == START_INFO_MAGIC {
        if start.version >= 1 && start.memmap_paddr != 0 {
            // SAFETY: version >= 1 start info carries a memory map of
            // `memmap_entries` entries at `memmap_paddr`, identity-mapped.
            let entries = unsafe {
                core::slice::from_raw_parts(
                    start.memmap_paddr as usize as *const MemmapEntry,
                    start.memmap_entries as usize,
                )
            };
            for e in entries {
                let kind = match e.kind {
                    1 => MemoryKind::Usable,
                    3 => MemoryKind::FirmwareTables,
                    _ => MemoryKind::Reserved,
                };
                info.add_region(MemoryRegion { start: e.addr, end: e.addr + e.size, kind });
            }
        }
        if start.cmdline_paddr != 0 {
            // SAFETY: a NUL-terminated string the loader placed in low memory.
            let cmdline = unsafe { core::ffi::CStr::from_ptr(start.cmdline_paddr as usize as *const _) };
            if let Ok(s) = cmdline.to_str() {
                let _ = info.command_line.push_str(s);
            }
        }
        if start.rsdp_paddr != 0 {
            info.firmware = FirmwareTables::Acpi { rsdp: start.rsdp_paddr };
        }
    }
    // The first MiB holds the real-mode IVT, BIOS data and the loader's own
    // structures (start info, command line): never hand it out.
    info.add_region(MemoryRegion { start: 0, end: 0x10_0000, kind: MemoryKind::Reserved });
    let (kstart, kend) = info.kernel_image;
    info.add_region(MemoryRegion { start: kstart, end: kend, kind: MemoryKind::Kernel });

    crate::enter_kernel(info)
}
