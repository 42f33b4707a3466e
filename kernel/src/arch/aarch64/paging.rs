//! aarch64 stage-1 translation table descriptors (4 KiB granule, 48-bit
//! addresses, four levels: the same shape as x86_64's tables), and switching
//! to new tables.
//!
//! MAIR_EL1 (set up by the boot path) holds the memory types the entries
//! index: attribute 0 = normal write-back memory, attribute 1 = device nGnRE.

use crate::memory::paging::{Attributes, EntryFormat, MemoryType, Rights};
use core::arch::asm;

const VALID: u64 = 1 << 0;
/// Bit 1: at depth 0-2 a table (1) or a block (0); at depth 3 must be 1 (page).
const TABLE_OR_PAGE: u64 = 1 << 1;
const ATTR_NORMAL: u64 = 0 << 2; // AttrIndx = 0
const ATTR_DEVICE: u64 = 1 << 2; // AttrIndx = 1
const ATTR_INDEX: u64 = 0b111 << 2;
/// AP[2]: read-only (AP[1] = 0: EL0 has no access at all).
const READ_ONLY: u64 = 1 << 7;
const INNER_SHAREABLE: u64 = 0b11 << 8;
/// Access flag: set, so that the first access does not fault.
const ACCESSED: u64 = 1 << 10;
/// Privileged (EL1) execute-never.
const PXN: u64 = 1 << 53;
/// Unprivileged (EL0) execute-never.
const UXN: u64 = 1 << 54;
const ADDRESS: u64 = 0x0000_FFFF_FFFF_F000;

pub struct PageFormat;

impl EntryFormat for PageFormat {
    fn largest_leaf_depth() -> usize {
        1 // 1 GiB blocks (level 1) exist with the 4 KiB granule
    }

    fn table(table: u64) -> u64 {
        table | TABLE_OR_PAGE | VALID
    }

    fn leaf(phys: u64, depth: usize, attrs: Attributes) -> u64 {
        // Level-3 entries are "pages" (0b11), higher ones "blocks" (0b01).
        let mut entry = phys | VALID | ACCESSED | UXN;
        if depth == 3 {
            entry |= TABLE_OR_PAGE;
        }
        entry |= match attrs.memory {
            MemoryType::Normal => ATTR_NORMAL | INNER_SHAREABLE,
            MemoryType::Device => ATTR_DEVICE,
        };
        // W^X: code is read-only, everything else is never executed.
        entry |= match attrs.rights {
            Rights::ReadOnly => READ_ONLY | PXN,
            Rights::ReadWrite => PXN,
            Rights::ReadExecute => READ_ONLY,
        };
        entry
    }

    fn is_present(entry: u64) -> bool {
        entry & VALID != 0
    }

    fn is_table(entry: u64, depth: usize) -> bool {
        depth < 3 && entry & TABLE_OR_PAGE != 0
    }

    fn address(entry: u64) -> u64 {
        entry & ADDRESS
    }

    fn attributes(entry: u64) -> Attributes {
        let rights = match (entry & READ_ONLY != 0, entry & PXN != 0) {
            (false, _) => Rights::ReadWrite,
            (true, true) => Rights::ReadOnly,
            (true, false) => Rights::ReadExecute,
        };
        let memory = if entry & ATTR_INDEX == ATTR_DEVICE { MemoryType::Device } else { MemoryType::Normal };
        Attributes { rights, memory }
    }
}

/// Switches to the page tables rooted at `root`.
///
/// # Safety
/// The tables must map the running code, its stack and data at their current
/// addresses.
pub unsafe fn activate_page_tables(root: u64) {
    // SAFETY: guaranteed by the caller. The barrier makes the table writes
    // visible to the table walker before TTBR0 points at them; then every
    // translation cached from the old tables is discarded.
    unsafe {
        asm!(
            "dsb ishst",
            "msr ttbr0_el1, {root}",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            root = in(reg) root,
            options(nostack),
        );
    }
}

/// Discards all cached translations (after changing the active tables).
pub fn flush_tlb() {
    // SAFETY: only invalidates TLB entries; the tables themselves are
    // unchanged, so every later access finds the same or a newer mapping.
    unsafe { asm!("dsb ishst", "tlbi vmalle1", "dsb ish", "isb", options(nostack)) };
}
