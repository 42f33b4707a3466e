//! The data disk: the kernel's first disk (virtio-blk or NVMe) without a
//! partition table (the boot disk has one), as a `store::BlockDevice`,
//! opened for the engine's persistence, or formatted when it is blank. A
//! disk holding anything else is refused, never written.

use alloc::format;
use alloc::string::String;
use kernel::println;
use kernel::storage::{Disk, DiskError, DiskInfo};
use store::{BlockDevice, IoError, Store};

/// A kernel disk, as the store sees it.
pub struct KernelDisk(Disk);

fn io_error(e: DiskError) -> IoError {
    match e {
        DiskError::OutOfRange => IoError::OutOfRange,
        _ => IoError::Device,
    }
}

impl BlockDevice for KernelDisk {
    fn sector_count(&self) -> u64 {
        self.0.info().sectors
    }

    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.0.read(sector, buf).map_err(io_error)
    }

    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), IoError> {
        self.0.write(sector, buf).map_err(io_error)
    }

    fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(io_error)
    }
}

/// How the data disk was found.
pub enum Opened {
    /// No disk is attached: the appliance keeps nothing.
    None,
    Existing(Store<KernelDisk>, DiskInfo),
    /// The disk was blank and has been formatted.
    Formatted(Store<KernelDisk>, DiskInfo),
}

/// Opens the data disk for persistence: the first attached disk that does
/// not hold a partition table. A partitioned disk is the one the appliance
/// booted from (its image: GPT, EFI system partition), or another system's
/// disk: it is left alone, never written, and the next one is used. The
/// error says what was found and how to fix it.
pub fn open(now_unix_ms: u64) -> Result<Opened, String> {
    for info in kernel::storage::disks() {
        let name =
            if info.serial.is_empty() { format!("disk {}", info.index) } else { format!("disk {:?}", info.serial) };
        let mut device = KernelDisk(Disk::open(info.index).map_err(|e| format!("{name}: {e}"))?);
        let mut head = [0u8; 1024];
        if info.sectors >= 2 {
            device.read(0, &mut head).map_err(|e| format!("{name}: {e}"))?;
        }
        if holds_partition_table(&head) {
            println!("redis: {name} holds a partition table (the boot disk?): left alone");
            continue;
        }
        return open_data_disk(device, info, name, now_unix_ms);
    }
    Ok(Opened::None)
}

/// Whether the first two sectors of a disk hold a partition table: a GPT
/// header ("EFI PART" in sector 1) or an MBR (boot signature 0x55AA and at
/// least one partition entry). The store's own superblock, in sector 0,
/// has neither.
pub fn holds_partition_table(head: &[u8; 1024]) -> bool {
    let gpt = &head[512..520] == b"EFI PART";
    let signed = head[510..512] == [0x55, 0xAA];
    let entries = head[446..510].chunks(16).any(|entry| entry[4] != 0);
    gpt || (signed && entries)
}

fn open_data_disk(mut device: KernelDisk, info: DiskInfo, name: String, now_unix_ms: u64) -> Result<Opened, String> {
    if info.read_only {
        return Err(format!("{name} is read-only: attach it writable"));
    }
    if !info.can_flush {
        return Err(format!(
            "{name} cannot flush its write cache, so nothing written to it could be made durable: attach it with a cache mode that honours flushes (QEMU: cache=writeback or cache=none)"
        ));
    }
    let blank = Store::is_blank(&mut device).map_err(|e| format!("{name}: {e}"))?;
    if blank {
        let store = Store::format(device, now_unix_ms).map_err(|e| format!("{name}: formatting failed: {e}"))?;
        return Ok(Opened::Formatted(store, info));
    }
    match Store::open(device) {
        Ok(store) => Ok(Opened::Existing(store, info)),
        Err(e) => Err(format!(
            "{name} is not usable: {}. Nothing was written to it; attach a blank disk or one made by `cargo xtask disk create`",
            e.kind
        )),
    }
}
