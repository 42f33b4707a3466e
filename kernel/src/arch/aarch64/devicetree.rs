//! What the aarch64 code needs to know about the machine, read once from the
//! device tree at boot: where the UART and the interrupt controller are, the
//! virtual timer's interrupt, and how to reach PSCI firmware.

use boot::{BootInfo, FirmwareTables};
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

/// Reads the device tree (once) and returns what it says.
pub fn init(info: &BootInfo) -> &'static Platform {
    PLATFORM.call_once(|| match info.firmware {
        // SAFETY: the boot path found a valid blob at this address and marked
        // it as firmware tables, so it stays intact and mapped.
        FirmwareTables::DeviceTree { address, .. } => {
            match unsafe { fdt::Fdt::from_ptr(address as usize as *const u8) } {
                Ok(fdt) => read(&fdt),
                Err(_) => VIRT,
            }
        }
        _ => VIRT,
    })
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
