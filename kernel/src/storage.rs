//! Block storage: the virtio-blk disks and NVMe namespaces attached to the
//! machine, for apps.
//!
//! Disks are found on first use: virtio-blk on PCI, then on virtio-mmio
//! slots (the same places [`crate::net`] looks for its card), then NVMe
//! controllers on PCI (namespace 1 of each), numbered in discovery order.
//! A [`Disk`] reads and writes whole 512-byte sectors. Writes are queued to
//! the device, several in flight, and return at once; [`Disk::flush`] waits
//! for all of them, then for the device's cache flush, and only then is
//! anything written durable.
//!
//! Durability, per device: one with a volatile write cache (virtio-blk with
//! `VIRTIO_BLK_F_FLUSH`, NVMe with VWC) makes writes durable by a cache
//! flush; an NVMe namespace without one has them durable when they
//! complete, so its flush only waits for them; a virtio-blk disk without
//! FLUSH cannot make anything durable ([`DiskInfo::can_flush`] is false).
//!
//! A device with blocks larger than a sector (NVMe namespaces formatted
//! with 4096-byte LBAs) takes only whole blocks: a request that covers part
//! of a block reads the block, changes its sectors and writes it whole.
//!
//! Two rules make queued writes behave like a disk's write cache:
//! - writes to the same sectors reach the device in the order they were
//!   made (virtio may complete requests in any order, so a write waits
//!   for an earlier one in flight on an overlapping range);
//! - a write the device failed is kept and tried again at every flush
//!   until it lands (unless a later write replaced those sectors), and
//!   each flush fails while one has not: a flush that returns `Ok` means
//!   every write made before it is durable. Nothing is silently lost.
//!
//! Execution model as in the network: one thread, interrupts masked. A
//! call that must wait for the device halts the CPU until an interrupt (its
//! handler only acknowledges the device, on a line it may share with the
//! network card) and then looks at the device's completed requests.

use crate::arch;
use crate::memory::KernelHardware;
use crate::time::{self, Duration, Instant};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use drivers::blk::{Completion, Op, SECTOR, VirtioBlk};
use drivers::nvme::Nvme;
use drivers::virtio_drivers::transport::{DeviceType, SomeTransport};
use spin::Mutex;

/// How long a request may take before the device is declared dead.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Without an interrupt line, how often to look at the device.
const POLL_INTERVAL: Duration = Duration::from_micros(100);
/// Largest single request (bigger writes are split).
const MAX_REQUEST: usize = 256 * 1024;
/// Write buffers kept for reuse per disk.
const SPARE_BUFFERS: usize = 16;

/// What is known about an attached disk.
#[derive(Clone, Debug)]
pub struct DiskInfo {
    /// Position in discovery order (what [`Disk::open`] takes).
    pub index: usize,
    /// Capacity in 512-byte sectors.
    pub sectors: u64,
    pub read_only: bool,
    /// Whether [`Disk::flush`] can make writes durable: the device flushes
    /// its volatile write cache on request, or has no such cache (writes
    /// are durable when they complete). Otherwise nothing can be called
    /// durable, and [`Disk::flush`] fails with [`DiskError::NoFlush`].
    pub can_flush: bool,
    /// Whether the device has a volatile write cache (a flush sends a
    /// cache flush command; without one it only waits for the writes).
    pub write_cache: bool,
    /// Bytes per device block (512, or 4096 for some NVMe namespaces):
    /// requests covering part of one read and rewrite it whole.
    pub block_size: usize,
    /// The device's identity string (QEMU: the drive's `serial=`), if any.
    pub serial: String,
    /// Where it was found, for logs.
    pub description: String,
}

/// Why a disk operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskError {
    /// No disk with that index is attached.
    NoDisk,
    /// The device reported an error, or stopped answering.
    Io,
    /// Outside the disk, or not whole sectors.
    OutOfRange,
    ReadOnly,
    /// The device cannot flush its cache, so writes cannot be made durable.
    NoFlush,
}

impl core::fmt::Display for DiskError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DiskError::NoDisk => "no such disk is attached",
            DiskError::Io => "the disk reported an I/O error",
            DiskError::OutOfRange => "request outside the disk",
            DiskError::ReadOnly => "the disk is read-only",
            DiskError::NoFlush => "the disk cannot flush its write cache, so nothing written to it can be made durable",
        })
    }
}

/// The driver of a disk.
enum Device {
    // Boxed: the drivers' state differs much in size, and disks are few.
    Virtio(Box<VirtioBlk<KernelHardware>>),
    Nvme(Box<Nvme<KernelHardware>>),
}

/// The same expression on whichever driver `$dev` holds.
macro_rules! on_device {
    ($dev:expr, $d:ident => $e:expr) => {
        match $dev {
            Device::Virtio($d) => $e,
            Device::Nvme($d) => $e,
        }
    };
}

impl Device {
    fn in_flight(&self) -> usize {
        on_device!(self, d => d.in_flight())
    }

    fn can_submit(&self) -> bool {
        on_device!(self, d => d.can_submit())
    }

    fn ack_interrupt(&mut self) -> bool {
        on_device!(self, d => d.ack_interrupt())
    }

    fn poll(&mut self) -> Option<Completion> {
        on_device!(self, d => d.poll())
    }

    fn submit_read(&mut self, sector: u64, len: usize) -> Result<u16, DiskError> {
        on_device!(self, d => d.submit_read(sector, len).map_err(|_| DiskError::Io))
    }

    fn submit_write(&mut self, sector: u64, data: Vec<u8>) -> Result<u16, DiskError> {
        on_device!(self, d => d.submit_write(sector, data).map_err(|_| DiskError::Io))
    }

    fn submit_flush(&mut self) -> Result<u16, DiskError> {
        on_device!(self, d => d.submit_flush().map_err(|_| DiskError::Io))
    }
}

struct Attached {
    dev: Device,
    info: DiskInfo,
    /// Largest request: bigger reads and writes are split.
    max_request: usize,
    interrupts: bool,
    /// Writes the device holds: token -> (first sector, sector count).
    writing: BTreeMap<u16, (u64, u64)>,
    /// Sectors whose write failed and that no later write replaced, with
    /// their data: written again at the next flush.
    failed: BTreeMap<u64, [u8; SECTOR]>,
    /// Finished reads and identity requests not collected yet, by token.
    done: Vec<Completion>,
    spare: Vec<Vec<u8>>,
}

enum State {
    Unprobed,
    Probed(Vec<Attached>),
}

static DISKS: Mutex<State> = Mutex::new(State::Unprobed);

/// Runs `f` on the attached disks, finding them first if needed.
fn with_disks<R>(f: impl FnOnce(&mut Vec<Attached>) -> R) -> R {
    let mut state = DISKS.lock();
    if let State::Unprobed = *state {
        *state = State::Probed(discover());
    }
    match &mut *state {
        State::Probed(disks) => f(disks),
        State::Unprobed => f(&mut Vec::new()),
    }
}

/// The attached disks, in discovery order.
pub fn disks() -> Vec<DiskInfo> {
    with_disks(|disks| disks.iter().map(|d| d.info.clone()).collect())
}

/// Device interrupt: acknowledge every disk so a level-triggered line drops.
fn interrupt() {
    if let Some(mut state) = DISKS.try_lock()
        && let State::Probed(disks) = &mut *state
    {
        for d in disks.iter_mut() {
            d.dev.ack_interrupt();
        }
    }
}

fn discover() -> Vec<Attached> {
    let mut found: Vec<(Device, Option<u32>, String)> = Vec::new();
    let mut virtio: Vec<(SomeTransport<'static>, Option<u32>, String)> = Vec::new();
    let mut host = arch::pci_host();
    if let Some(host) = host.as_mut() {
        for dev in
            drivers::pci::find_all_virtio::<KernelHardware>(host.space, DeviceType::Block, host.bar_windows.as_mut())
        {
            let irq = arch::pci_interrupt(dev.function, dev.interrupt_pin, dev.interrupt_line);
            let description = format!("virtio-blk on PCI {}", dev.function);
            virtio.push((SomeTransport::Pci(dev.transport), irq, description));
        }
    }
    for slot in crate::virtio::mmio_slots() {
        if let Some(transport) = drivers::mmio::probe::<KernelHardware>(&slot, DeviceType::Block) {
            let description = format!("virtio-blk on virtio-mmio at {:#x}", slot.address);
            virtio.push((SomeTransport::Mmio(transport), Some(slot.irq), description));
        }
    }
    for (transport, irq, description) in virtio {
        match VirtioBlk::<KernelHardware>::new(transport) {
            Ok(dev) => found.push((Device::Virtio(Box::new(dev)), irq, description)),
            Err(e) => log::error!("storage: {description}: initialisation failed: {e}"),
        }
    }
    if let Some(host) = host.as_mut() {
        for ctrl in drivers::pci::find_all_nvme::<KernelHardware>(host.space, host.bar_windows.as_mut()) {
            let irq = arch::pci_interrupt(ctrl.function, ctrl.interrupt_pin, ctrl.interrupt_line);
            match Nvme::<KernelHardware>::new(ctrl.registers, ctrl.size) {
                Ok(dev) => {
                    let description = format!("NVMe {:?} namespace 1 on PCI {}", dev.model(), ctrl.function);
                    found.push((Device::Nvme(Box::new(dev)), irq, description));
                }
                Err(e) => log::error!("storage: NVMe controller on PCI {}: {e}; not used", ctrl.function),
            }
        }
    }
    let mut disks = Vec::new();
    for (dev, irq, description) in found {
        let interrupts = match irq {
            Some(line) => match crate::irq::share_line(line, interrupt) {
                Ok(()) => true,
                Err(e) => {
                    log::warn!("storage: interrupt line {line}: {e}; polling instead");
                    false
                }
            },
            None => false,
        };
        let index = disks.len();
        let (info, max_request) = match &dev {
            Device::Virtio(d) => (
                DiskInfo {
                    index,
                    sectors: d.capacity(),
                    read_only: d.read_only(),
                    can_flush: d.can_flush(),
                    // Unknown to the guest: assume one (QEMU's default).
                    write_cache: true,
                    block_size: SECTOR,
                    serial: String::new(),
                    description,
                },
                MAX_REQUEST,
            ),
            Device::Nvme(d) => (
                DiskInfo {
                    index,
                    sectors: d.capacity(),
                    read_only: d.read_only(),
                    can_flush: true,
                    write_cache: d.has_write_cache(),
                    block_size: d.block_size(),
                    serial: String::from(d.serial()),
                    description,
                },
                MAX_REQUEST.min(d.max_transfer()) / d.block_size() * d.block_size(),
            ),
        };
        let mut disk = Attached {
            dev,
            info,
            max_request,
            interrupts,
            writing: BTreeMap::new(),
            failed: BTreeMap::new(),
            done: Vec::new(),
            spare: Vec::new(),
        };
        if let Device::Virtio(_) = disk.dev {
            disk.info.serial = read_serial(&mut disk);
        }
        log::info!(
            "storage: disk {index}: {}, {} MiB{}{}{}{}, {}",
            disk.info.description,
            (disk.info.sectors * SECTOR as u64) >> 20,
            if disk.info.serial.is_empty() { String::new() } else { format!(", serial {:?}", disk.info.serial) },
            if disk.info.block_size == SECTOR {
                String::new()
            } else {
                format!(", {}-byte blocks", disk.info.block_size)
            },
            if disk.info.read_only { ", read-only" } else { "" },
            match (disk.info.can_flush, disk.info.write_cache) {
                (false, _) => ", NO cache flush",
                (true, false) => ", no volatile write cache (writes durable on completion)",
                (true, true) => "",
            },
            match (irq, interrupts) {
                (Some(line), true) => format!("interrupt line {line}"),
                _ => String::from("polled"),
            }
        );
        disks.push(disk);
    }
    disks
}

impl Attached {
    /// Whether a write in flight covers any sector of `start..end`.
    fn writing_in(&self, start: u64, end: u64) -> bool {
        self.writing.values().any(|&(first, count)| first < end && start < first + count)
    }

    /// Submits a write of `data` at `sector` once no write in flight
    /// overlaps it (`None`: not yet). Sectors it covers are no longer
    /// owed a retry.
    fn submit_write(&mut self, sector: u64, data: &[u8]) -> Option<Result<(), DiskError>> {
        let end = sector + (data.len() / SECTOR) as u64;
        if self.writing_in(sector, end) || !self.dev.can_submit() {
            return None;
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(data);
        Some(match self.dev.submit_write(sector, buf) {
            Ok(token) => {
                self.writing.insert(token, (sector, end - sector));
                let replaced: Vec<u64> = self.failed.range(sector..end).map(|(&s, _)| s).collect();
                for s in replaced {
                    self.failed.remove(&s);
                }
                Ok(())
            }
            Err(e) => Err(e),
        })
    }

    /// A write finished: a failed one is kept for the next flush.
    fn write_done(&mut self, c: Completion, index: usize) {
        let Some((start, _)) = self.writing.remove(&c.token) else { return };
        if !c.ok {
            log::error!("storage: disk {index}: writing {} sectors at {start} failed", c.data.len() / SECTOR);
            for (i, chunk) in c.data.chunks_exact(SECTOR).enumerate() {
                let mut sector = [0u8; SECTOR];
                sector.copy_from_slice(chunk);
                self.failed.insert(start + i as u64, sector);
            }
        }
        if self.spare.len() < SPARE_BUFFERS {
            self.spare.push(c.data);
        }
    }
}

/// The device's identity string, asked for while discovering (nothing else
/// uses the device yet, so waiting here is plain polling with a timeout).
fn read_serial(disk: &mut Attached) -> String {
    let Device::Virtio(dev) = &mut disk.dev else { return String::new() };
    let Ok(token) = dev.submit_get_id() else { return String::new() };
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if let Some(c) = dev.poll() {
            if c.token == token && c.ok {
                let len = c.data.iter().position(|&b| b == 0).unwrap_or(c.data.len());
                return c.data[..len].iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '?' }).collect();
            }
            if c.token == token {
                return String::new();
            }
        }
        core::hint::spin_loop();
    }
    String::new()
}

/// An attached disk, for reading and writing sectors.
pub struct Disk {
    index: usize,
    info: DiskInfo,
    max_request: usize,
}

impl Disk {
    /// Opens disk `index` (0 is the first attached).
    pub fn open(index: usize) -> Result<Disk, DiskError> {
        let (info, max_request) =
            with_disks(|disks| disks.get(index).map(|d| (d.info.clone(), d.max_request))).ok_or(DiskError::NoDisk)?;
        Ok(Disk { index, info, max_request })
    }

    pub fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn check(&self, sector: u64, len: usize) -> Result<(), DiskError> {
        let end = sector.checked_add((len / SECTOR) as u64);
        if !len.is_multiple_of(SECTOR) || end.is_none_or(|end| end > self.info.sectors) {
            return Err(DiskError::OutOfRange);
        }
        Ok(())
    }

    /// The whole device blocks covering the sectors `sector..end`.
    fn blocks_around(&self, sector: u64, end: u64) -> (u64, u64) {
        let per_block = (self.info.block_size / SECTOR) as u64;
        (sector / per_block * per_block, end.div_ceil(per_block) * per_block)
    }

    /// Reads whole sectors at `sector` into `buf`, waiting for the data.
    pub fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.check(sector, buf.len())?;
        let end = sector + (buf.len() / SECTOR) as u64;
        let (first, last) = self.blocks_around(sector, end);
        if (first, last) == (sector, end) {
            return self.read_blocks(sector, buf);
        }
        // Part of a block: read the blocks, keep the sectors asked for.
        let mut whole = vec![0u8; (last - first) as usize * SECTOR];
        self.read_blocks(first, &mut whole)?;
        let offset = (sector - first) as usize * SECTOR;
        buf.copy_from_slice(&whole[offset..offset + buf.len()]);
        Ok(())
    }

    /// [`Disk::read`] of whole device blocks.
    fn read_blocks(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let max = self.max_request;
        for (i, chunk) in buf.chunks_mut(max).enumerate() {
            let at = sector + (i * max / SECTOR) as u64;
            let end = at + (chunk.len() / SECTOR) as u64;
            // After the writes in flight on these sectors (reads see them).
            let token = self.wait_until(|d| {
                if d.writing_in(at, end) || !d.dev.can_submit() {
                    return None;
                }
                Some(d.dev.submit_read(at, chunk.len()))
            })??;
            let data = self.wait_until(|d| {
                let pos = d.done.iter().position(|c| c.token == token && c.op == Op::Read)?;
                let c = d.done.swap_remove(pos);
                Some(if c.ok { Ok(c.data) } else { Err(DiskError::Io) })
            })??;
            chunk.copy_from_slice(&data[..chunk.len()]);
            // Sectors whose write failed read as written (it will be retried).
            with_disks(|disks| {
                if let Some(d) = disks.get(self.index) {
                    for (&sector, bytes) in d.failed.range(at..end) {
                        let offset = (sector - at) as usize * SECTOR;
                        chunk[offset..offset + SECTOR].copy_from_slice(bytes);
                    }
                }
            });
        }
        Ok(())
    }

    /// Queues whole sectors to be written at `sector`; returns once the
    /// device has them (waiting only for a free slot in its queue). Later
    /// reads see the data; it is durable once [`Disk::flush`] returns `Ok`.
    pub fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError> {
        if self.info.read_only {
            return Err(DiskError::ReadOnly);
        }
        self.check(sector, buf.len())?;
        let end = sector + (buf.len() / SECTOR) as u64;
        let (first, last) = self.blocks_around(sector, end);
        if (first, last) == (sector, end) {
            return self.write_blocks(sector, buf);
        }
        // Part of a block: its other sectors are read (after the writes in
        // flight there) and written back unchanged with the new ones.
        let block = self.info.block_size;
        let mut whole = vec![0u8; (last - first) as usize * SECTOR];
        if first < sector {
            self.read_blocks(first, &mut whole[..block])?;
        }
        if end < last && !(first < sector && whole.len() == block) {
            let at = whole.len() - block;
            self.read_blocks(last - (block / SECTOR) as u64, &mut whole[at..])?;
        }
        let offset = (sector - first) as usize * SECTOR;
        whole[offset..offset + buf.len()].copy_from_slice(buf);
        self.write_blocks(first, &whole)
    }

    /// [`Disk::write`] of whole device blocks.
    fn write_blocks(&mut self, sector: u64, buf: &[u8]) -> Result<(), DiskError> {
        let max = self.max_request;
        for (i, chunk) in buf.chunks(max).enumerate() {
            let at = sector + (i * max / SECTOR) as u64;
            self.wait_until(|d| d.submit_write(at, chunk))??;
        }
        Ok(())
    }

    /// Waits for every queued write, then has the device flush its cache:
    /// on `Ok` everything written so far is durable. Writes the device
    /// failed are tried again first; while one does not land, this fails.
    pub fn flush(&mut self) -> Result<(), DiskError> {
        self.wait_until(|d| (d.dev.in_flight() == 0).then_some(()))?;
        let retry: Vec<(u64, [u8; SECTOR])> =
            with_disks(|disks| disks.get_mut(self.index).map(|d| core::mem::take(&mut d.failed).into_iter().collect()))
                .ok_or(DiskError::NoDisk)?;
        if !retry.is_empty() {
            log::warn!("storage: disk {}: writing {} failed sectors again", self.index, retry.len());
            // Runs of consecutive sectors, one write each (whole blocks:
            // failed writes and the writes replacing them were).
            let mut runs: Vec<(u64, Vec<u8>)> = Vec::new();
            for (sector, data) in &retry {
                match runs.last_mut() {
                    Some((start, run)) if *start + (run.len() / SECTOR) as u64 == *sector => {
                        run.extend_from_slice(data)
                    }
                    _ => runs.push((*sector, data.to_vec())),
                }
            }
            for (sector, run) in &runs {
                self.write(*sector, run)?;
            }
            self.wait_until(|d| (d.dev.in_flight() == 0).then_some(()))?;
            let still = with_disks(|disks| disks.get(self.index).map_or(0, |d| d.failed.len()));
            if still > 0 {
                return Err(DiskError::Io);
            }
        }
        if !self.info.can_flush {
            return Err(DiskError::NoFlush);
        }
        if !self.info.write_cache {
            // No volatile cache: the writes were durable when they completed.
            return Ok(());
        }
        let token = self.wait_until(|d| Some(d.dev.submit_flush()))??;
        self.wait_until(|d| {
            let pos = d.done.iter().position(|c| c.token == token && c.op == Op::Flush)?;
            Some(if d.done.swap_remove(pos).ok { Ok(()) } else { Err(DiskError::Io) })
        })?
    }

    /// Collects the device's finished requests and tries `ready` until it
    /// gives an answer, halting until the device interrupts in between.
    fn wait_until<R>(&mut self, mut ready: impl FnMut(&mut Attached) -> Option<R>) -> Result<R, DiskError> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let outcome = with_disks(|disks| {
                let d = disks.get_mut(self.index)?;
                while let Some(c) = d.dev.poll() {
                    match c.op {
                        Op::Write => d.write_done(c, self.index),
                        _ => d.done.push(c),
                    }
                }
                Some(ready(d).ok_or(d.interrupts))
            });
            let interrupts = match outcome {
                None => return Err(DiskError::NoDisk),
                Some(Ok(r)) => return Ok(r),
                Some(Err(interrupts)) => interrupts,
            };
            let now = Instant::now();
            if now >= deadline {
                log::error!("storage: disk {}: the device did not answer for {:?}", self.index, REQUEST_TIMEOUT);
                return Err(DiskError::Io);
            }
            // The completion interrupt wakes us; the timer bounds the wait
            // (and is all there is without an interrupt line).
            let wake = if interrupts { deadline } else { now + POLL_INTERVAL };
            let wake = time::clock_upkeep().map_or(wake, |tick| tick.min(wake));
            arch::set_timer(Some(wake.as_nanos()));
            time::idle_until_interrupt();
        }
    }
}
