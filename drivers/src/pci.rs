//! PCI: configuration space access, enumeration, BAR assignment, and finding
//! virtio devices and NVMe controllers.
//!
//! Configuration space is reached through a PCIe ECAM window (from ACPI's
//! MCFG on x86_64 q35, from the device tree on aarch64 `virt`) or, on x86_64
//! machines without one (`-M pc`), through the legacy ports 0xCF8/0xCFC.
//! Firmware (SeaBIOS) has assigned BARs on x86 PCs; where nothing did (aarch64
//! `virt` has no firmware doing it), [`BarWindows`] gives the address ranges
//! to place them in.

use crate::{Hardware, VirtioHal};
use alloc::vec::Vec;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::pci::bus::{
    BarInfo, Command, ConfigurationAccess, DeviceFunction, DeviceFunctionInfo, HeaderType, MemoryBarType, PciRoot,
};
use virtio_drivers::transport::pci::{PciTransport, virtio_device_type};

/// How to reach configuration space.
#[derive(Clone, Copy, Debug)]
pub enum ConfigSpace {
    /// A PCIe ECAM window at physical `base` covering buses `start_bus..=end_bus`
    /// (`base` is the address of `start_bus`, as in ACPI's MCFG).
    Ecam { base: u64, start_bus: u8, end_bus: u8 },
    /// x86 configuration mechanism #1 (ports 0xCF8/0xCFC), buses 0-255.
    #[cfg(target_arch = "x86_64")]
    PortIo,
}

/// Configuration-space accessor for [`PciRoot`].
pub struct Cam {
    kind: CamKind,
}

#[derive(Clone, Copy)]
enum CamKind {
    /// Virtual address of `start_bus`'s configuration space.
    Ecam { base: usize, start_bus: u8, end_bus: u8 },
    #[cfg(target_arch = "x86_64")]
    PortIo,
}

impl Cam {
    /// Maps the configuration space (for ECAM) and returns an accessor.
    pub fn new<H: Hardware>(space: ConfigSpace) -> Cam {
        let kind = match space {
            ConfigSpace::Ecam { base, start_bus, end_bus } => {
                let buses = usize::from(end_bus.saturating_sub(start_bus)) + 1;
                CamKind::Ecam { base: H::map_device(base, buses << 20), start_bus, end_bus }
            }
            #[cfg(target_arch = "x86_64")]
            ConfigSpace::PortIo => CamKind::PortIo,
        };
        Cam { kind }
    }

    fn buses(&self) -> (u8, u8) {
        match self.kind {
            CamKind::Ecam { start_bus, end_bus, .. } => (start_bus, end_bus),
            #[cfg(target_arch = "x86_64")]
            CamKind::PortIo => (0, 255),
        }
    }

    /// The address of a dword register, or `None` outside the window.
    fn ecam_address(base: usize, start_bus: u8, end_bus: u8, df: DeviceFunction, reg: u8) -> Option<usize> {
        if df.bus < start_bus || df.bus > end_bus || !df.valid() {
            return None;
        }
        let offset = (usize::from(df.bus - start_bus) << 20)
            | (usize::from(df.device) << 15)
            | (usize::from(df.function) << 12)
            | usize::from(reg & 0xFC);
        Some(base + offset)
    }
}

#[cfg(target_arch = "x86_64")]
mod port {
    use virtio_drivers::transport::pci::bus::DeviceFunction;

    fn address(df: DeviceFunction, reg: u8) -> u32 {
        0x8000_0000
            | (u32::from(df.bus) << 16)
            | (u32::from(df.device & 0x1F) << 11)
            | (u32::from(df.function & 0x7) << 8)
            | u32::from(reg & 0xFC)
    }

    pub fn read(df: DeviceFunction, reg: u8) -> u32 {
        let value: u32;
        // SAFETY: ports 0xCF8/0xCFC are the PCI configuration mechanism on
        // every PC; accessing them touches no memory. The kernel runs one
        // thread with interrupts masked, so the address/data pair is not
        // interleaved with another access.
        unsafe {
            core::arch::asm!("out dx, eax", in("dx") 0xCF8u16, in("eax") address(df, reg), options(nomem, nostack, preserves_flags));
            core::arch::asm!("in eax, dx", in("dx") 0xCFCu16, out("eax") value, options(nomem, nostack, preserves_flags));
        }
        value
    }

    pub fn write(df: DeviceFunction, reg: u8, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            core::arch::asm!("out dx, eax", in("dx") 0xCF8u16, in("eax") address(df, reg), options(nomem, nostack, preserves_flags));
            core::arch::asm!("out dx, eax", in("dx") 0xCFCu16, in("eax") value, options(nomem, nostack, preserves_flags));
        }
    }
}

impl ConfigurationAccess for Cam {
    fn read_word(&self, df: DeviceFunction, reg: u8) -> u32 {
        match self.kind {
            CamKind::Ecam { base, start_bus, end_bus } => match Self::ecam_address(base, start_bus, end_bus, df, reg) {
                // SAFETY: the address lies in the ECAM window mapped in `Cam::new`.
                Some(addr) => unsafe { (addr as *const u32).read_volatile() },
                None => u32::MAX,
            },
            #[cfg(target_arch = "x86_64")]
            CamKind::PortIo => port::read(df, reg),
        }
    }

    fn write_word(&mut self, df: DeviceFunction, reg: u8, data: u32) {
        match self.kind {
            CamKind::Ecam { base, start_bus, end_bus } => {
                if let Some(addr) = Self::ecam_address(base, start_bus, end_bus, df, reg) {
                    // SAFETY: as in `read_word`.
                    unsafe { (addr as *mut u32).write_volatile(data) }
                }
            }
            #[cfg(target_arch = "x86_64")]
            CamKind::PortIo => port::write(df, reg, data),
        }
    }

    unsafe fn unsafe_clone(&self) -> Self {
        Cam { kind: self.kind }
    }
}

/// Whether a PCI host bridge answers on the x86 configuration ports.
#[cfg(target_arch = "x86_64")]
pub fn port_io_present() -> bool {
    let host = DeviceFunction { bus: 0, device: 0, function: 0 };
    port::read(host, 0) & 0xFFFF != 0xFFFF
}

/// An address range to place BARs in: `[next, end)`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub next: u64,
    pub end: u64,
}

impl Window {
    fn take(&mut self, size: u64) -> Option<u64> {
        let start = self.next.checked_next_multiple_of(size.max(16))?;
        let end = start.checked_add(size)?;
        (end <= self.end).then(|| {
            self.next = end;
            start
        })
    }
}

/// Memory windows for BARs that no firmware assigned.
#[derive(Clone, Copy, Debug, Default)]
pub struct BarWindows {
    pub mem32: Option<Window>,
    pub mem64: Option<Window>,
}

/// A virtio device found on PCI, ready for a driver.
pub struct PciVirtio {
    pub transport: PciTransport,
    pub function: DeviceFunction,
    /// Legacy interrupt pin: 1 = INTA .. 4 = INTD, 0 = none.
    pub interrupt_pin: u8,
    /// The interrupt line firmware wrote (0xFF or 0 = not assigned).
    pub interrupt_line: u8,
}

/// Every function on every bus reachable from the root (following bridges).
fn functions(root: &PciRoot<Cam>, cam: &Cam, first_bus: u8, last_bus: u8) -> Vec<(DeviceFunction, DeviceFunctionInfo)> {
    let mut found = Vec::new();
    let mut buses = alloc::vec![first_bus];
    let mut seen = [false; 256];
    while let Some(bus) = buses.pop() {
        if seen[usize::from(bus)] || bus > last_bus {
            continue;
        }
        seen[usize::from(bus)] = true;
        for (df, info) in root.enumerate_bus(bus) {
            if info.header_type == HeaderType::PciPciBridge {
                let secondary = (cam.read_word(df, 0x18) >> 8) as u8;
                if secondary > bus {
                    buses.push(secondary);
                }
            }
            found.push((df, info));
        }
    }
    found
}

/// Gives every unassigned memory BAR of `df` an address from `windows`.
fn assign_bars(root: &mut PciRoot<Cam>, df: DeviceFunction, windows: &mut BarWindows) {
    let mut index = 0u8;
    while index < 6 {
        let info = match root.bar_info(df, index) {
            Ok(Some(info)) => info,
            Ok(None) => {
                index += 1;
                continue;
            }
            Err(e) => {
                log::warn!("pci {df}: BAR {index}: {e:?}");
                return;
            }
        };
        let step = if info.takes_two_entries() { 2 } else { 1 };
        if let BarInfo::Memory { address_type, address, size, .. } = info
            && address == 0
            && size > 0
        {
            let placed = match address_type {
                MemoryBarType::Width64 => windows
                    .mem64
                    .as_mut()
                    .and_then(|w| w.take(size))
                    .or_else(|| windows.mem32.as_mut().and_then(|w| w.take(size))),
                _ => windows.mem32.as_mut().and_then(|w| w.take(size)),
            };
            match (placed, address_type) {
                (Some(addr), MemoryBarType::Width64) => root.set_bar_64(df, index, addr),
                (Some(addr), _) => match u32::try_from(addr) {
                    Ok(addr) => root.set_bar_32(df, index, addr),
                    Err(_) => log::warn!("pci {df}: BAR {index} placed above 4 GiB"),
                },
                (None, _) => log::warn!("pci {df}: no room for BAR {index} ({size:#x} bytes)"),
            }
        }
        index += step;
    }
}

/// The standard (non-bridge) functions on the bus, with the root to
/// configure them and a second accessor for reads the root does not offer.
///
/// BARs no firmware assigned are placed from `windows` for every function
/// seen, not only the ones the caller wants: callers look for one kind of
/// device at a time with windows that start afresh, so the first call
/// places every device, later calls find them all placed and never reuse
/// an address.
fn standard_functions<H: Hardware>(
    space: ConfigSpace,
    windows: Option<&mut BarWindows>,
) -> (PciRoot<Cam>, Cam, Vec<(DeviceFunction, DeviceFunctionInfo)>) {
    let cam = Cam::new::<H>(space);
    let (first_bus, last_bus) = cam.buses();
    // Both accessors are plain register accesses; nothing caches
    // configuration space.
    let reader = Cam { kind: cam.kind };
    let mut root = PciRoot::new(cam);
    let mut found = functions(&root, &reader, first_bus, last_bus);
    found.retain(|(df, info)| {
        log::debug!("pci {df}: {info}");
        info.header_type == HeaderType::Standard
    });
    if let Some(windows) = windows {
        for (df, _) in &found {
            assign_bars(&mut root, *df, windows);
        }
    }
    (root, reader, found)
}

/// Turns on a function's memory decoding and DMA (bus mastering), with its
/// legacy interrupt left enabled. Returns its interrupt (pin, line).
fn enable(root: &mut PciRoot<Cam>, reader: &Cam, df: DeviceFunction) -> (u8, u8) {
    let (_, command) = root.get_status_command(df);
    root.set_command(df, (command | Command::MEMORY_SPACE | Command::BUS_MASTER) - Command::INTERRUPT_DISABLE);
    let irq = reader.read_word(df, 0x3C);
    ((irq >> 8) as u8, irq as u8)
}

/// Finds every virtio device of type `wanted`, in bus order, each with its
/// transport ready for a driver (see [`standard_functions`] for BARs).
pub fn find_all_virtio<H: Hardware>(
    space: ConfigSpace,
    wanted: DeviceType,
    windows: Option<&mut BarWindows>,
) -> Vec<PciVirtio> {
    let (mut root, reader, functions) = standard_functions::<H>(space, windows);
    let mut found = Vec::new();
    for (df, info) in functions {
        if virtio_device_type(&info) != Some(wanted) {
            continue;
        }
        let (interrupt_pin, interrupt_line) = enable(&mut root, &reader, df);
        match PciTransport::new::<VirtioHal<H>, _>(&mut root, df) {
            Ok(transport) => found.push(PciVirtio { transport, function: df, interrupt_pin, interrupt_line }),
            Err(e) => log::warn!("pci {df}: virtio transport: {e}"),
        }
    }
    found
}

/// An NVMe controller found on PCI (class 01h, subclass 08h, programming
/// interface 02h), its registers (BAR 0) mapped and bus mastering on.
pub struct PciNvme {
    pub function: DeviceFunction,
    /// Virtual address of the controller's registers.
    pub registers: usize,
    /// Bytes mapped there.
    pub size: usize,
    /// Legacy interrupt pin: 1 = INTA .. 4 = INTD, 0 = none.
    pub interrupt_pin: u8,
    /// The interrupt line firmware wrote (0xFF or 0 = not assigned).
    pub interrupt_line: u8,
}

/// Finds every NVMe controller, in bus order (see [`standard_functions`]
/// for BARs).
pub fn find_all_nvme<H: Hardware>(space: ConfigSpace, windows: Option<&mut BarWindows>) -> Vec<PciNvme> {
    let (mut root, reader, functions) = standard_functions::<H>(space, windows);
    let mut found = Vec::new();
    for (df, info) in functions {
        if (info.class, info.subclass, info.prog_if) != (0x01, 0x08, 0x02) {
            continue;
        }
        // The registers are BAR 0 (with BAR 1 its upper half: 64 bits).
        let (address, size) = match root.bar_info(df, 0) {
            Ok(Some(BarInfo::Memory { address, size, .. })) if address != 0 && size > 0 => (address, size),
            other => {
                log::warn!("pci {df}: NVMe controller without a usable BAR 0 ({other:?})");
                continue;
            }
        };
        let (interrupt_pin, interrupt_line) = enable(&mut root, &reader, df);
        let size = size as usize;
        found.push(PciNvme {
            function: df,
            registers: H::map_device(address, size),
            size,
            interrupt_pin,
            interrupt_line,
        });
    }
    found
}

/// Finds the first virtio device of type `wanted` (see [`find_all_virtio`]).
pub fn find_virtio<H: Hardware>(
    space: ConfigSpace,
    wanted: DeviceType,
    windows: Option<&mut BarWindows>,
) -> Option<PciVirtio> {
    find_all_virtio::<H>(space, wanted, windows).into_iter().next()
}
