//! What the aarch64 code needs to know about the machine, read once from the
//! device tree at boot: where the UART and the interrupt controller are, the
//! virtual timer's interrupt, and how to reach PSCI firmware. Devices found
//! later (when the network starts) are looked up in the tree on demand: the
//! PCIe host bridge (`pci-host-ecam-generic`: its ECAM window, memory windows
//! for BARs, and INTx routing through `interrupt-map`) and the `virtio,mmio`
//! slots.

use alloc::vec::Vec;
use boot::{BootInfo, FirmwareTables};
use drivers::mmio::Slot;
use spin::Once;

/// Which GIC architecture the interrupt controller implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicVersion {
    /// GICv2: memory-mapped distributor and CPU interface.
    V2,
    /// GICv3: memory-mapped distributor and redistributors, CPU interface
    /// through `ICC_*_EL1` system registers.
    V3,
}

#[derive(Clone, Copy, Debug)]
pub struct Gic {
    pub version: GicVersion,
    /// Distributor registers `(base, size)`.
    pub distributor: (u64, u64),
    /// GICv2: the CPU interface; GICv3: the redistributor region.
    pub cpu: (u64, u64),
}

/// How PSCI calls reach the firmware (or the hypervisor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    Hvc,
    Smc,
}

#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// PL011 UART registers `(base, size)`.
    pub uart: (u64, u64),
    pub gic: Option<Gic>,
    /// INTID of the EL1 virtual timer (a PPI).
    pub virtual_timer_intid: u32,
    pub psci: Option<PsciConduit>,
    /// PL031 real-time clock registers `(base, size)`, if there is one.
    pub rtc: Option<(u64, u64)>,
}

/// QEMU `virt`'s layout, for a boot without a device tree.
const VIRT: Platform = Platform {
    uart: (0x0900_0000, 0x1000),
    gic: Some(Gic { version: GicVersion::V2, distributor: (0x0800_0000, 0x1_0000), cpu: (0x0801_0000, 0x1_0000) }),
    virtual_timer_intid: 27,
    psci: Some(PsciConduit::Hvc),
    rtc: Some((0x0901_0000, 0x1000)),
};

static PLATFORM: Once<Platform> = Once::new();
/// The address of a valid device tree blob, if the boot path passed one.
static TREE: Once<Option<usize>> = Once::new();

/// Reads the device tree (once) and returns what it says.
pub fn init(info: &BootInfo) -> &'static Platform {
    PLATFORM.call_once(|| {
        let address = match info.firmware {
            FirmwareTables::DeviceTree { address, .. } => Some(address as usize),
            _ => None,
        };
        // SAFETY: the boot path found a valid blob at this address and marked
        // it as firmware tables, so it stays intact and mapped.
        let tree = address.filter(|&a| unsafe { fdt::Fdt::from_ptr(a as *const u8) }.is_ok());
        TREE.call_once(|| tree);
        with_tree(read).unwrap_or(VIRT)
    })
}

/// Runs `f` on the device tree, if there is one.
fn with_tree<R>(f: impl FnOnce(&fdt::Fdt) -> R) -> Option<R> {
    let address = (*TREE.get()?)?;
    // SAFETY: `init` checked that a valid blob is at this address; it stays
    // intact and mapped (the boot path marked it as firmware tables).
    let fdt = unsafe { fdt::Fdt::from_ptr(address as *const u8) }.ok()?;
    Some(f(&fdt))
}

/// The platform read by [`init`] (QEMU `virt`'s layout before that).
pub fn get() -> &'static Platform {
    PLATFORM.get().unwrap_or(&VIRT)
}

fn read(fdt: &fdt::Fdt) -> Platform {
    Platform {
        uart: find_uart(fdt).unwrap_or(VIRT.uart),
        gic: find_gic(fdt),
        virtual_timer_intid: find_virtual_timer(fdt).unwrap_or(VIRT.virtual_timer_intid),
        psci: find_psci(fdt),
        rtc: fdt.find_compatible(&["arm,pl031"]).and_then(|node| reg(node, 0)),
    }
}

/// The `index`th `(address, size)` pair of a node's `reg` property.
fn reg(node: fdt::node::FdtNode, index: usize) -> Option<(u64, u64)> {
    let r = node.reg()?.nth(index)?;
    Some((r.starting_address as u64, r.size.unwrap_or(0) as u64))
}

fn is_compatible(node: fdt::node::FdtNode, with: &[&str]) -> bool {
    node.compatible().is_some_and(|c| c.all().any(|s| with.contains(&s)))
}

/// The console UART: `/chosen/stdout-path` if it names a PL011, else the
/// first PL011 in the tree.
fn find_uart(fdt: &fdt::Fdt) -> Option<(u64, u64)> {
    let stdout = fdt
        .find_node("/chosen")
        .and_then(|c| c.property("stdout-path"))
        .and_then(|p| p.as_str())
        // "path:options" (e.g. "serial0:115200n8"): only the path names the node.
        .and_then(|path| fdt.find_node(path.split(':').next().unwrap_or(path)))
        .filter(|node| is_compatible(*node, &["arm,pl011"]));
    reg(stdout.or_else(|| fdt.find_compatible(&["arm,pl011"]))?, 0)
}

fn find_gic(fdt: &fdt::Fdt) -> Option<Gic> {
    if let Some(node) = fdt.find_compatible(&["arm,gic-v3"]) {
        return Some(Gic { version: GicVersion::V3, distributor: reg(node, 0)?, cpu: reg(node, 1)? });
    }
    let node = fdt.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic", "arm,cortex-a7-gic"])?;
    Some(Gic { version: GicVersion::V2, distributor: reg(node, 0)?, cpu: reg(node, 1)? })
}

/// The timer node lists four interrupts (secure physical, non-secure
/// physical, virtual, hypervisor), each as three cells: type (0 = SPI,
/// 1 = PPI), number, flags. The third is the EL1 virtual timer.
fn find_virtual_timer(fdt: &fdt::Fdt) -> Option<u32> {
    let node = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"])?;
    let cells = node.property("interrupts")?.value;
    let cell = |i: usize| -> Option<u32> { Some(u32::from_be_bytes(cells.get(i * 4..i * 4 + 4)?.try_into().ok()?)) };
    let (kind, number) = (cell(6)?, cell(7)?);
    // PPIs are INTIDs 16-31, SPIs start at 32.
    Some(if kind == 1 { 16 + number } else { 32 + number })
}

fn find_psci(fdt: &fdt::Fdt) -> Option<PsciConduit> {
    let node = fdt.find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])?;
    match node.property("method")?.as_str()? {
        "hvc" => Some(PsciConduit::Hvc),
        "smc" => Some(PsciConduit::Smc),
        _ => None,
    }
}

/// The big-endian 32-bit cells of a property.
fn cells(node: fdt::node::FdtNode, name: &str) -> Option<Vec<u32>> {
    let value = node.property(name)?.value;
    Some(value.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// A single-cell property such as `#address-cells`.
fn cell(node: fdt::node::FdtNode, name: &str) -> Option<usize> {
    cells(node, name)?.first().map(|&c| c as usize)
}

/// A number of up to two cells (more are truncated to the low 64 bits).
fn number(cells: &[u32]) -> u64 {
    cells.iter().fold(0, |n, &c| n << 32 | u64::from(c))
}

/// The INTID of a GIC interrupt specifier `(type, number, flags)`: type 0 is
/// an SPI (INTIDs from 32), type 1 a PPI (INTIDs 16-31).
fn gic_intid(specifier: &[u32]) -> Option<u32> {
    match specifier {
        [0, number, ..] => Some(32 + number),
        [1, number, ..] => Some(16 + number),
        _ => None,
    }
}

/// A generic PCIe host bridge (`pci-host-ecam-generic`).
#[derive(Clone, Copy, Debug)]
pub struct PciHostBridge {
    /// The ECAM window's physical address (that of the first bus).
    pub ecam: u64,
    /// The buses the window covers.
    pub buses: (u8, u8),
    /// The 32-bit and 64-bit memory windows for BARs, `(base, size)`, with
    /// PCI addresses equal to CPU addresses.
    pub mem32: Option<(u64, u64)>,
    pub mem64: Option<(u64, u64)>,
}

const PCI_HOST_COMPATIBLE: &[&str] = &["pci-host-ecam-generic"];

/// The first PCIe host bridge in the device tree.
pub fn pci_host_bridge() -> Option<PciHostBridge> {
    with_tree(|fdt| {
        let node = fdt.find_compatible(PCI_HOST_COMPATIBLE)?;
        let (ecam, size) = reg(node, 0)?;
        let window_buses = (size >> 20).clamp(1, 256);
        let (first, last) = match cells(node, "bus-range").as_deref() {
            Some([first, last, ..]) => (*first as u64, *last as u64),
            _ => (0, window_buses - 1),
        };
        // The window's first bus is the first of `bus-range`; never go past it.
        let last = last.min(first + window_buses - 1).min(255);
        let mut bridge = PciHostBridge { ecam, buses: (first as u8, last as u8), mem32: None, mem64: None };

        // `ranges`: (PCI address: 3 cells, CPU address: the parent's
        // #address-cells, size: this node's #size-cells). The first PCI cell
        // holds the space code in bits 24-25: 1 = I/O, 2 = 32-bit memory,
        // 3 = 64-bit memory. The bridge is a child of the root (as on `virt`).
        let parent_cells = fdt.find_node("/").and_then(|root| cell(root, "#address-cells")).unwrap_or(2);
        let size_cells = cell(node, "#size-cells").unwrap_or(2);
        let entry = 3 + parent_cells + size_cells;
        let ranges = cells(node, "ranges").unwrap_or_default();
        for range in ranges.chunks_exact(entry) {
            let pci = number(&range[1..3]);
            let cpu = number(&range[3..3 + parent_cells]);
            let size = number(&range[3 + parent_cells..]);
            let space = (range[0] >> 24) & 0b11;
            if space < 2 || size == 0 {
                continue; // configuration or I/O space: not used
            }
            if pci != cpu {
                log::warn!("pci: memory window {cpu:#x} is PCI address {pci:#x}: translated windows are not supported");
                continue;
            }
            let slot = if space == 2 { &mut bridge.mem32 } else { &mut bridge.mem64 };
            // The first window of each kind (prefetchable or not alike).
            slot.get_or_insert((cpu, size));
        }
        Some(bridge)
    })
    .flatten()
}

/// The GIC INTID that legacy interrupt `pin` (1 = INTA .. 4 = INTD) of PCI
/// function `bus:device.function` raises, from the host bridge's
/// `interrupt-map` (masked by `interrupt-map-mask`). A device behind a
/// PCI-to-PCI bridge is looked up by its own address (no swizzling through
/// bridges: QEMU `virt` puts devices on the root bus).
pub fn pci_intx(bus: u8, device: u8, function: u8, pin: u8) -> Option<u32> {
    with_tree(|fdt| {
        let node = fdt.find_compatible(PCI_HOST_COMPATIBLE)?;
        let address_cells = cell(node, "#address-cells").unwrap_or(3);
        let interrupt_cells = cell(node, "#interrupt-cells").unwrap_or(1);
        let child_cells = address_cells + interrupt_cells;
        let mut child = alloc::vec![0u32; child_cells];
        if address_cells > 0 {
            child[0] = u32::from(bus) << 16 | u32::from(device) << 11 | u32::from(function) << 8;
        }
        child[address_cells] = u32::from(pin);
        let mask = cells(node, "interrupt-map-mask").unwrap_or_else(|| alloc::vec![u32::MAX; child_cells]);
        let map = cells(node, "interrupt-map")?;

        // Each entry: child unit address and interrupt, the parent
        // controller's phandle, then the parent unit address (its
        // #address-cells, 0 if absent) and interrupt (its #interrupt-cells).
        let mut at = 0;
        while at + child_cells < map.len() {
            let parent = fdt.find_phandle(map[at + child_cells])?;
            let parent_address = cell(parent, "#address-cells").unwrap_or(0);
            let parent_interrupt = cell(parent, "#interrupt-cells")?;
            let specifier_at = at + child_cells + 1 + parent_address;
            let specifier = map.get(specifier_at..specifier_at + parent_interrupt)?;
            let matches = (0..child_cells).all(|i| child[i] & mask.get(i).copied().unwrap_or(u32::MAX) == map[at + i]);
            if matches {
                return gic_intid(specifier);
            }
            at = specifier_at + parent_interrupt;
        }
        None
    })
    .flatten()
}

/// Every `virtio,mmio` node: its registers and interrupt (as a GIC INTID).
pub fn virtio_mmio_slots() -> Vec<Slot> {
    with_tree(|fdt| {
        fdt.all_nodes()
            .filter(|node| is_compatible(*node, &["virtio,mmio"]))
            .filter_map(|node| {
                let (address, size) = reg(node, 0)?;
                let irq = gic_intid(&cells(node, "interrupts")?)?;
                Some(Slot { address, size, irq })
            })
            .collect()
    })
    .unwrap_or_default()
}
