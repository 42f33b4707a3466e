//! The PVH boot ABI's structures (xen/include/public/arch-x86/hvm/start_info.h,
//! version 1): what a PVH loader leaves in memory for the kernel. The
//! kernel's PVH entry reads them; the UEFI loader writes them.

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;

/// `struct hvm_start_info`.
#[repr(C)]
pub struct StartInfo {
    pub magic: u32,
    pub version: u32,
    pub flags: u32,
    pub nr_modules: u32,
    pub modlist_paddr: u64,
    pub cmdline_paddr: u64,
    pub rsdp_paddr: u64,
    pub memmap_paddr: u64,
    pub memmap_entries: u32,
    pub reserved: u32,
}

/// `struct hvm_memmap_table_entry`: one E820 region (type 1 RAM, 2
/// reserved, 3 ACPI reclaimable, 4 ACPI NVS).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemmapEntry {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    pub reserved: u32,
}
