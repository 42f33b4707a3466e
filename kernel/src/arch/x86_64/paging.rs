//! x86_64 4-level page-table entries, and switching to new tables.

use crate::memory::paging::{Attributes, EntryFormat, MemoryType, Rights};
use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const WRITE_THROUGH: u64 = 1 << 3;
const CACHE_DISABLE: u64 = 1 << 4;
const HUGE: u64 = 1 << 7;
const GLOBAL: u64 = 1 << 8;
const NO_EXECUTE: u64 = 1 << 63;
const ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;

pub struct PageFormat;

impl EntryFormat for PageFormat {
    fn largest_leaf_depth() -> usize {
        2 // 2 MiB pages; 1 GiB pages are not on every CPU model QEMU offers
    }

    fn table(table: u64) -> u64 {
        table | PRESENT | WRITABLE
    }

    fn leaf(phys: u64, depth: usize, attrs: Attributes) -> u64 {
        let mut entry = phys | PRESENT | GLOBAL;
        if depth < 3 {
            entry |= HUGE;
        }
        entry |= match attrs.rights {
            Rights::ReadOnly => NO_EXECUTE,
            Rights::ReadWrite => WRITABLE | NO_EXECUTE,
            Rights::ReadExecute => 0,
        };
        if attrs.memory == MemoryType::Device {
            entry |= CACHE_DISABLE | WRITE_THROUGH;
        }
        entry
    }

    fn is_present(entry: u64) -> bool {
        entry & PRESENT != 0
    }

    fn is_table(entry: u64, depth: usize) -> bool {
        depth == 0 || entry & HUGE == 0
    }

    fn address(entry: u64) -> u64 {
        // A huge page's bit 12 is the PAT bit, not address; leaves we make
        // never set it, and huge pages are 2 MiB aligned anyway.
        entry & ADDRESS
    }

    fn attributes(entry: u64) -> Attributes {
        let rights = match (entry & WRITABLE != 0, entry & NO_EXECUTE != 0) {
            (true, _) => Rights::ReadWrite,
            (false, true) => Rights::ReadOnly,
            (false, false) => Rights::ReadExecute,
        };
        let memory = if entry & CACHE_DISABLE != 0 { MemoryType::Device } else { MemoryType::Normal };
        Attributes { rights, memory }
    }
}

/// Switches to the page tables rooted at `root`.
///
/// # Safety
/// The tables must map the running code, its stack and data at their current
/// addresses.
pub unsafe fn activate_page_tables(root: u64) {
    let frame = PhysFrame::containing_address(PhysAddr::new(root));
    // SAFETY: guaranteed by the caller. CR4.PGE is enabled after the switch so
    // that global entries from the boot tables cannot linger.
    unsafe {
        Cr3::write(frame, Cr3Flags::empty());
        x86_64::registers::control::Cr4::update(|f| f.insert(x86_64::registers::control::Cr4Flags::PAGE_GLOBAL));
    }
}

/// Discards all cached translations (after changing the active tables).
pub fn flush_tlb() {
    // Global pages survive a CR3 reload; toggling CR4.PGE flushes them too.
    use x86_64::registers::control::{Cr4, Cr4Flags};
    // SAFETY: toggling PGE only flushes the TLB; the tables are unchanged.
    unsafe {
        Cr4::update(|f| f.remove(Cr4Flags::PAGE_GLOBAL));
        Cr4::update(|f| f.insert(Cr4Flags::PAGE_GLOBAL));
    }
}
