//! x86_64: PVH boot, as QEMU's `-kernel` does it. The ELF's loadable
//! segments go to their physical addresses, a `hvm_start_info` with the
//! command line, the ACPI RSDP and an E820 memory map goes below 4 GiB, and
//! after ExitBootServices a trampoline leaves long mode and jumps to the
//! 32-bit PVH entry with ebx = start info.

use crate::{efi, elf, memmap};
use alloc::format;
use alloc::string::String;
use boot::pvh_abi::{START_INFO_MAGIC, StartInfo};
use core::convert::Infallible;

/// The highest address of the low block (start info, command line, memory
/// map, trampoline): the PVH entry runs in 32-bit mode.
const BELOW_4_GIB: u64 = 0xFFFF_FFFF;
/// Pages of the low block: trampoline and GDT, start info, command line,
/// then the memory map (4 pages: 682 entries).
const TRAMPOLINE_PAGE: u64 = 0;
const START_INFO_PAGE: u64 = 1;
const CMDLINE_PAGE: u64 = 2;
const MEMMAP_PAGE: u64 = 3;
const MEMMAP_PAGES: u64 = 4;
const LOW_PAGES: u64 = MEMMAP_PAGE + MEMMAP_PAGES;
/// Where the GDT and its pointer sit in the trampoline page.
const GDT_OFFSET: u64 = 0x800;
const GDT_POINTER_OFFSET: u64 = 0x840;

unsafe extern "C" {
    static pvh_trampoline_start: u8;
    static pvh_trampoline_end: u8;
}

// The trampoline, copied to the low block and entered with rdi = PVH entry,
// rsi = start info, rdx = GDT pointer (all below 4 GiB, identity-mapped).
// Long mode is left the way the architecture allows it: from a 32-bit
// compatibility-mode code segment, turn paging off (which clears EFER.LMA),
// then clear EFER.LME. The CPU is then in 32-bit protected mode with flat
// segments, as PVH requires.
core::arch::global_asm!(
    ".text",
    ".global pvh_trampoline_start",
    ".global pvh_trampoline_end",
    ".code64",
    "pvh_trampoline_start:",
    "    cli",
    // Our GDT: 0x08 32-bit code, 0x10 32-bit data (flat 4 GiB).
    "    lgdt (%rdx)",
    // A far return into the 32-bit code segment (compatibility mode).
    "    leaq 1f(%rip), %rax",
    "    pushq $0x08",
    "    pushq %rax",
    "    lretq",
    ".code32",
    "1:  movw $0x10, %ax",
    "    movw %ax, %ds",
    "    movw %ax, %es",
    "    movw %ax, %ss",
    "    movw %ax, %fs",
    "    movw %ax, %gs",
    // CR0.PG off: paging (and with it long mode) stops; this code and its
    // data are identity-mapped, so the next fetch is the same bytes.
    "    movl %cr0, %eax",
    "    andl $0x7fffffff, %eax",
    "    movl %eax, %cr0",
    // EFER.LME off (MSR 0xC0000080, bit 8).
    "    movl $0xc0000080, %ecx",
    "    rdmsr",
    "    andl $0xfffffeff, %eax",
    "    wrmsr",
    // CR4 as after reset (PAE and the rest off); the kernel sets what it uses.
    "    xorl %eax, %eax",
    "    movl %eax, %cr4",
    // PVH: ebx = start info, enter at the 32-bit entry point.
    "    movl %esi, %ebx",
    "    jmp *%edi",
    ".code64",
    "pvh_trampoline_end:",
    options(att_syntax)
);

fn status(s: efi::Status) -> String {
    format!("EFI status {:#x}", s & (usize::MAX >> 1))
}

pub fn boot(image: efi::Handle, mut file: efi::File, cmdline: &str) -> Result<Infallible, String> {
    // Claim the segments' physical range from the headers first, before the
    // firmware can hand that memory out for the file buffer.
    let mut head = [0u8; 4096];
    let head_len = head.len().min(file.size());
    file.read(&mut head[..head_len])?;
    let (lo, hi) = elf::load_span(&head[..head_len])?;
    let (lo, hi) = (lo & !(efi::PAGE - 1), hi.next_multiple_of(efi::PAGE));
    efi::allocate_at(lo, ((hi - lo) / efi::PAGE) as usize, efi::LOADER_DATA).map_err(|s| {
        format!(
            "cannot place the kernel at {lo:#x}..{hi:#x}, where it is linked: the firmware holds that memory ({}{})",
            status(s),
            efi::describe(lo, hi)
        )
    })?;
    let mut kernel = alloc::vec![0u8; file.size()];
    kernel[..head_len].copy_from_slice(&head[..head_len]);
    file.read(&mut kernel[head_len..])?;
    drop(file);
    let elf = elf::parse(&kernel)?;
    // The segments, at their physical addresses (the kernel is linked there),
    // all inside the range just claimed.
    for s in &elf.segments {
        // SAFETY: [paddr, paddr + mem_size) lies in the pages just allocated
        // (identity-mapped under UEFI); the source range was bounds-checked
        // by elf::parse.
        unsafe {
            let dest = s.paddr as usize as *mut u8;
            core::ptr::copy_nonoverlapping(kernel.as_ptr().add(s.offset), dest, s.file_size);
            core::ptr::write_bytes(dest.add(s.file_size), 0, s.mem_size as usize - s.file_size);
        }
    }

    let low = efi::allocate_below(BELOW_4_GIB, LOW_PAGES as usize, efi::LOADER_CODE)
        .map_err(|s| format!("no memory below 4 GiB for the PVH start info ({})", status(s)))?;
    let page = |n: u64| low + n * efi::PAGE;
    // SAFETY: the low block is LOW_PAGES pages we own, identity-mapped; the
    // trampoline is the code between the two symbols (under a page).
    unsafe {
        let start = core::ptr::addr_of!(pvh_trampoline_start);
        let len = core::ptr::addr_of!(pvh_trampoline_end) as usize - start as usize;
        assert!(len < GDT_OFFSET as usize);
        core::ptr::copy_nonoverlapping(start, page(TRAMPOLINE_PAGE) as usize as *mut u8, len);
        let gdt: [u64; 3] = [0, 0x00cf_9a00_0000_ffff, 0x00cf_9200_0000_ffff];
        let gdt_at = page(TRAMPOLINE_PAGE) + GDT_OFFSET;
        core::ptr::write(gdt_at as usize as *mut [u64; 3], gdt);
        let pointer = (page(TRAMPOLINE_PAGE) + GDT_POINTER_OFFSET) as usize as *mut u8;
        pointer.cast::<u16>().write_unaligned(23);
        pointer.add(2).cast::<u64>().write_unaligned(gdt_at);
        // The command line, NUL-terminated (CMDLINE guarantees it fits).
        let line = page(CMDLINE_PAGE) as usize as *mut u8;
        core::ptr::copy_nonoverlapping(cmdline.as_ptr(), line, cmdline.len());
        line.add(cmdline.len()).write(0);
    }
    let rsdp = efi::configuration_table(efi::ACPI_20_TABLE).or_else(|| efi::configuration_table(efi::ACPI_10_TABLE));

    let mut map = efi::MemoryMap::new();
    map.refresh().map_err(|s| format!("cannot read the memory map ({})", status(s)))?;
    let capacity = (MEMMAP_PAGES * efi::PAGE) as usize / core::mem::size_of::<memmap::MemmapEntry>();
    if map.len() + 64 > capacity {
        return Err(format!("the firmware's memory map has {} entries, more than {capacity} fit", map.len()));
    }
    efi::print(&format!(
        "appliance loader: entering the kernel at {:#x} (PVH), start info at {:#x}\n",
        elf.pvh_entry,
        page(START_INFO_PAGE)
    ));
    efi::exit_boot_services(image, &mut map).map_err(|s| format!("ExitBootServices failed ({})", status(s)))?;

    // Boot services are gone: nothing below allocates or prints.
    // SAFETY: the memory map pages are ours and hold `capacity` entries.
    let entries =
        unsafe { core::slice::from_raw_parts_mut(page(MEMMAP_PAGE) as usize as *mut memmap::MemmapEntry, capacity) };
    let count = memmap::to_e820(
        map.len(),
        |i| {
            let d = map.get(i);
            (d.start, d.pages, d.kind)
        },
        entries,
    )
    .unwrap_or(capacity);
    let info = StartInfo {
        magic: START_INFO_MAGIC,
        version: 1,
        flags: 0,
        nr_modules: 0,
        modlist_paddr: 0,
        cmdline_paddr: page(CMDLINE_PAGE),
        rsdp_paddr: rsdp.unwrap_or(0),
        memmap_paddr: page(MEMMAP_PAGE),
        memmap_entries: count as u32,
        reserved: 0,
    };
    // SAFETY: the start info page is ours; the trampoline was copied to an
    // executable (LoaderCode) page below 4 GiB, identity-mapped, and takes
    // its arguments in rdi, rsi, rdx (System V).
    unsafe {
        core::ptr::write(page(START_INFO_PAGE) as usize as *mut StartInfo, info);
        let trampoline: extern "sysv64" fn(u64, u64, u64) -> ! =
            core::mem::transmute(page(TRAMPOLINE_PAGE) as usize as *const u8);
        trampoline(u64::from(elf.pvh_entry), page(START_INFO_PAGE), page(TRAMPOLINE_PAGE) + GDT_POINTER_OFFSET)
    }
}
