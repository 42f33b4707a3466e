//! The neutral boot information every entry path produces for the kernel.

use heapless::Vec;

/// What kind of memory a physical range is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    /// Free RAM the kernel may use for anything.
    Usable,
    /// RAM holding the kernel image, its boot stack and page tables.
    Kernel,
    /// Firmware tables (ACPI, device tree) the kernel still reads.
    FirmwareTables,
    /// Anything else: reserved by firmware, not RAM, or unusable.
    Reserved,
}

/// One physical memory range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    pub start: u64,
    pub end: u64,
    pub kind: MemoryKind,
}

impl MemoryRegion {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// The physical memory map, sorted by start address, without overlaps.
pub type MemoryMap = Vec<MemoryRegion, 128>;

/// Where the firmware describes the machine.
#[derive(Clone, Copy, Debug)]
pub enum FirmwareTables {
    /// ACPI, found through the RSDP at this physical address.
    Acpi { rsdp: u64 },
    /// A flattened device tree blob at this physical address.
    DeviceTree { address: u64, size: u64 },
    /// The loader told us nothing (fall back to the machine's known layout).
    None,
}

/// The kernel command line, copied out of loader memory.
pub type CommandLine = heapless::String<4096>;

/// Everything the kernel needs to know about the machine at boot.
#[derive(Debug)]
pub struct BootInfo {
    /// Which entry path booted us ("pvh", "linux-image", ...).
    pub loader: &'static str,
    /// Physical memory: usable RAM, with the kernel image and firmware tables
    /// carved out and marked.
    pub memory: MemoryMap,
    /// The command line as the loader passed it (may be empty).
    pub command_line: CommandLine,
    pub firmware: FirmwareTables,
    /// Physical range of the loaded kernel image (text to end of boot stack).
    pub kernel_image: (u64, u64),
    /// Value of the CPU's cycle/tick counter when the first instruction ran,
    /// so the kernel can report time since entry.
    pub entry_ticks: u64,
}

impl BootInfo {
    pub const fn empty(loader: &'static str) -> Self {
        BootInfo {
            loader,
            memory: Vec::new(),
            command_line: heapless::String::new(),
            firmware: FirmwareTables::None,
            kernel_image: (0, 0),
            entry_ticks: 0,
        }
    }

    /// Adds a region, then carves `[start, end)` out of usable RAM for every
    /// region of another kind so that usable ranges never overlap it.
    pub fn add_region(&mut self, region: MemoryRegion) {
        if region.is_empty() {
            return;
        }
        if region.kind != MemoryKind::Usable {
            self.carve(region.start, region.end);
        }
        let _ = self.memory.push(region);
        self.memory.sort_unstable_by_key(|r| r.start);
    }

    /// Removes `[start, end)` from every usable region (splitting as needed).
    fn carve(&mut self, start: u64, end: u64) {
        let mut result: MemoryMap = Vec::new();
        for r in self.memory.iter() {
            if r.kind != MemoryKind::Usable || r.end <= start || r.start >= end {
                let _ = result.push(*r);
                continue;
            }
            if r.start < start {
                let _ = result.push(MemoryRegion { start: r.start, end: start, kind: r.kind });
            }
            if r.end > end {
                let _ = result.push(MemoryRegion { start: end, end: r.end, kind: r.kind });
            }
        }
        self.memory = result;
    }

    /// Total bytes of usable RAM.
    pub fn usable_bytes(&self) -> u64 {
        self.memory.iter().filter(|r| r.kind == MemoryKind::Usable).map(|r| r.len()).sum()
    }
}
