//! Just enough ACPI for device discovery on x86_64: the RSDP (from the boot
//! loader, or found by scanning the BIOS area as QEMU's PVH start info may
//! leave it 0), the RSDT/XSDT, MCFG (the PCIe ECAM window) and MADT (the I/O
//! APICs). Tables are read in place, physical == virtual.

use crate::memory;
use alloc::vec::Vec;
use boot::FirmwareTables;
use spin::Once;

const HEADER_LEN: usize = 36;

/// The physical addresses of all tables listed in the RSDT/XSDT.
static TABLES: Once<Vec<u64>> = Once::new();

/// Maps `len` bytes at physical `phys` and returns them.
fn bytes(phys: u64, len: usize) -> &'static [u8] {
    memory::firmware_bytes(phys, len)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

fn checksum_ok(b: &[u8]) -> bool {
    b.iter().fold(0u8, |sum, &x| sum.wrapping_add(x)) == 0
}

/// The RSDP's physical address.
fn rsdp() -> Option<u64> {
    if let FirmwareTables::Acpi { rsdp } = crate::system::boot_info().firmware
        && rsdp != 0
    {
        return Some(rsdp);
    }
    // The BIOS read-only area, on 16-byte boundaries.
    let area = bytes(0xE_0000, 0x2_0000);
    (0..area.len() - 20)
        .step_by(16)
        .find(|&at| &area[at..at + 8] == b"RSD PTR " && checksum_ok(&area[at..at + 20]))
        .map(|at| 0xE_0000 + at as u64)
}

/// A table's bytes, given its physical address (length from its header).
fn table(phys: u64) -> &'static [u8] {
    let len = u32_at(bytes(phys, HEADER_LEN), 4) as usize;
    bytes(phys, len.clamp(HEADER_LEN, 1 << 20))
}

fn tables() -> &'static [u64] {
    TABLES.call_once(|| {
        let Some(rsdp_addr) = rsdp() else {
            log::debug!("acpi: no RSDP");
            return Vec::new();
        };
        let rsdp = bytes(rsdp_addr, 36);
        let (root, entry_size) = if rsdp[15] >= 2 && u64_at(rsdp, 24) != 0 {
            (u64_at(rsdp, 24), 8)
        } else {
            (u64::from(u32_at(rsdp, 16)), 4)
        };
        let root = table(root);
        let entries = root[HEADER_LEN..].chunks_exact(entry_size);
        let list: Vec<u64> =
            entries.map(|e| if entry_size == 8 { u64_at(e, 0) } else { u64::from(u32_at(e, 0)) }).collect();
        log::debug!("acpi: RSDP at {rsdp_addr:#x}, {} tables", list.len());
        list
    })
}

/// The first table with signature `sig`.
pub fn find(sig: &[u8; 4]) -> Option<&'static [u8]> {
    tables().iter().map(|&phys| table(phys)).find(|t| &t[..4] == sig && checksum_ok(t))
}

/// The PCIe ECAM window of PCI segment 0: (base address, first bus, last bus).
pub fn pci_ecam() -> Option<(u64, u8, u8)> {
    let mcfg = find(b"MCFG")?;
    mcfg.get(44..)?.chunks_exact(16).find(|e| u16::from_le_bytes([e[8], e[9]]) == 0).map(|e| {
        // MCFG gives the address of bus 0; the window starts at `start`.
        let (start, end) = (e[10], e[11]);
        (u64_at(e, 0) + (u64::from(start) << 20), start, end)
    })
}

/// The I/O APICs from the MADT: (register address, first GSI).
pub fn ioapics() -> Vec<(u64, u32)> {
    let Some(madt) = find(b"APIC") else { return Vec::new() };
    let mut found = Vec::new();
    let mut at = 44;
    while at + 2 <= madt.len() {
        let (kind, len) = (madt[at], usize::from(madt[at + 1]));
        if len < 2 || at + len > madt.len() {
            break;
        }
        if kind == 1 && len >= 12 {
            found.push((u64::from(u32_at(madt, at + 4)), u32_at(madt, at + 8)));
        }
        at += len;
    }
    found
}

/// The DSDT (from the FADT).
fn dsdt() -> Option<&'static [u8]> {
    let fadt = find(b"FACP")?;
    let x_dsdt = if fadt.len() >= 148 { u64_at(fadt, 140) } else { 0 };
    let phys = if x_dsdt != 0 { x_dsdt } else { u64::from(u32_at(fadt, 40)) };
    (phys != 0).then(|| table(phys))
}

/// virtio-mmio slots described in the DSDT (QEMU microvm with ACPI): devices
/// with `_HID "LNRO0005"` whose `_CRS` holds a Memory32Fixed range and an
/// extended interrupt. This scans the AML bytes for those resource
/// descriptors after each such `_HID` instead of interpreting AML, which is
/// enough for the flat device list QEMU generates. Returns
/// `(address, size, interrupt)`.
pub fn virtio_mmio_slots() -> Vec<(u64, u64, u32)> {
    const HID: &[u8] = b"\x0dLNRO0005\x00";
    let Some(dsdt) = dsdt() else { return Vec::new() };
    let starts: Vec<usize> = dsdt.windows(HID.len()).enumerate().filter(|(_, w)| *w == HID).map(|(i, _)| i).collect();
    let mut slots = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(dsdt.len()).min(start + 256);
        let device = &dsdt[start..end];
        let memory = device.windows(12).find(|w| w[0] == 0x86 && w[1] == 0x09 && w[2] == 0x00);
        let irq = device.windows(9).find(|w| w[0] == 0x89 && w[1] >= 6 && w[2] == 0x00 && w[4] >= 1);
        if let (Some(m), Some(i)) = (memory, irq) {
            slots.push((u64::from(u32_at(m, 4)), u64::from(u32_at(m, 8)), u32_at(i, 5)));
        }
    }
    slots
}
