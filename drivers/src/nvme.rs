//! NVMe: namespace 1 of an NVMe controller as a block device, with several
//! commands in flight and completions reported by interrupt.
//!
//! An NVMe controller is driven through queues in memory the host owns: the
//! host writes 64-byte commands into a submission queue and tells the
//! controller how far it wrote by writing a *doorbell* register; the
//! controller writes 16-byte entries into a completion queue and raises an
//! interrupt. Queue 0 is the admin queue (identify, create queues); this
//! driver adds one I/O queue pair for reads, writes and flushes. References
//! are to the NVM Express Base Specification 2.0 and the NVM Command Set
//! Specification 1.0.
//!
//! Bring-up ([`Nvme::new`]): reset the controller, give it the admin queue,
//! enable it, identify the controller (serial number, volatile write
//! cache, largest transfer) and namespace 1 (size, block size), then create
//! the I/O queues. These steps raise no interrupt, so they poll with the
//! controller's own timeout (CAP.TO); I/O never waits here: a command is
//! submitted and [`Nvme::poll`] reports it when it is done.
//!
//! Requests are in 512-byte sectors, as for virtio-blk. A namespace with
//! larger blocks (4096 bytes is common) takes only requests that start and
//! end on its block boundaries; [`Nvme::block_size`] says which, and the
//! kernel's storage layer reads and rewrites whole blocks for the rest.
//!
//! Durability: with a volatile write cache (Identify Controller VWC), a
//! completed write may still sit in the cache and a FLUSH makes it durable;
//! without one a write is durable when it completes, and there is nothing
//! to flush ([`Nvme::has_write_cache`]).
//!
//! Interrupts: legacy INTx, the one vector of pin-based interrupts. The
//! line is level-triggered and stays asserted while a completion queue has
//! entries the host has not taken, so [`Nvme::ack_interrupt`] masks the
//! vector (INTMS) to let the line drop, and [`Nvme::poll`] unmasks it
//! (INTMC) once it has taken every completion; one arriving in between
//! asserts the line again when unmasked.

use crate::Hardware;
use crate::block::{Completion, Op, SECTOR};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;

/// Memory page size the driver sets (CC.MPS = 0): PRP entries point to
/// pages of this size.
const PAGE: usize = 4096;
/// Entries per I/O queue (fewer if CAP.MQES says so). A submission queue
/// is full with one entry empty, so one less is in flight at most.
const IO_ENTRIES: usize = 64;
/// Entries of the admin queues (bring-up uses one at a time).
const ADMIN_ENTRIES: usize = 8;
/// The I/O queue pair's identifier.
const IO_QUEUE: u16 = 1;
/// How long bring-up waits for one admin command.
const ADMIN_TIMEOUT_NS: u64 = 5_000_000_000;
/// Largest transfer this driver describes: one page of PRP list entries
/// (512) after the first page. Identify's MDTS may lower it.
const MAX_TRANSFER: usize = 512 * PAGE;

// Controller registers (base spec 3.1.4), offsets into BAR 0.
const REG_CAP: usize = 0x00;
const REG_INTMS: usize = 0x0C;
const REG_INTMC: usize = 0x10;
const REG_CC: usize = 0x14;
const REG_CSTS: usize = 0x1C;
const REG_AQA: usize = 0x24;
const REG_ASQ: usize = 0x28;
const REG_ACQ: usize = 0x30;
/// Where the doorbells start; CAP.DSTRD spaces them.
const REG_DOORBELLS: usize = 0x1000;

/// CC.EN: the controller processes commands.
const CC_ENABLE: u32 = 1;
/// CC.IOSQES = 6 and CC.IOCQES = 4: 64-byte commands, 16-byte completions.
/// (CC.CSS = 0: the NVM command set; CC.MPS = 0: 4 KiB pages; CC.AMS = 0:
/// round robin.)
const CC_ENTRY_SIZES: u32 = (6 << 16) | (4 << 20);
const CSTS_READY: u32 = 1;
const CSTS_FATAL: u32 = 1 << 1;
/// The one interrupt vector of pin-based interrupts, in INTMS/INTMC.
const VECTOR_0: u32 = 1;

// Admin commands (base spec 5).
const ADMIN_CREATE_SQ: u8 = 0x01;
const ADMIN_CREATE_CQ: u8 = 0x05;
const ADMIN_IDENTIFY: u8 = 0x06;
const ADMIN_SET_FEATURES: u8 = 0x09;
const IDENTIFY_NAMESPACE: u32 = 0x00;
const IDENTIFY_CONTROLLER: u32 = 0x01;
const FEATURE_NUMBER_OF_QUEUES: u32 = 0x07;
// NVM commands (command set spec 3).
const IO_FLUSH: u8 = 0x00;
const IO_WRITE: u8 = 0x01;
const IO_READ: u8 = 0x02;
/// The namespace this driver uses.
const NAMESPACE: u32 = 1;

/// Why a request was not submitted (nothing reached the device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every command slot is in use: wait for a completion.
    Full,
    /// Outside the namespace, empty, too long, or not whole blocks.
    OutOfRange,
    /// The buffer is not 4-byte aligned (PRP entries need it; the kernel
    /// heap's blocks always are).
    Unaligned,
    ReadOnly,
    /// FLUSH without a volatile write cache: there is nothing to flush.
    NoWriteCache,
}

/// One command in flight: its buffer is the device's until it completes.
struct Request {
    op: Op,
    data: Vec<u8>,
}

/// An NVMe controller's namespace 1.
pub struct Nvme<H: Hardware> {
    regs: Registers,
    admin: Queue<H>,
    io: Queue<H>,
    /// One page of PRP list per command slot.
    prp_lists: Dma<H>,
    /// Commands in flight, by command identifier.
    slots: Vec<Option<Request>>,
    count: usize,
    /// The interrupt handler masked the vector; `poll` unmasks it.
    masked: bool,
    block_size: usize,
    blocks: u64,
    read_only: bool,
    write_cache: bool,
    max_transfer: usize,
    serial: String,
    model: String,
}

impl<H: Hardware> Nvme<H> {
    /// Resets and enables the controller whose registers (BAR 0, `size`
    /// bytes) are mapped at `registers`, identifies it and namespace 1, and
    /// creates the I/O queues. The error says what the controller lacks.
    pub fn new(registers: usize, size: usize) -> Result<Self, String> {
        // CAP (3.1.4.1): MQES (largest queue, 0's based), TO (ready
        // timeout in 500 ms units), DSTRD (doorbell stride, 4 << DSTRD
        // bytes), CSS (bit 37: the NVM command set), MPSMIN (smallest page,
        // 4 KiB << MPSMIN).
        let mut regs = Registers { base: registers, size, stride: 4 };
        if size < REG_DOORBELLS {
            return Err(format!("BAR 0 is {size} bytes, smaller than the registers"));
        }
        let cap = regs.read64(REG_CAP);
        let max_entries = (cap & 0xFFFF) as usize + 1;
        let timeout_ns = ((cap >> 24) & 0xFF).max(1) * 500_000_000;
        regs.stride = 4 << ((cap >> 32) & 0xF);
        if cap & (1 << 37) == 0 {
            return Err(String::from("the controller does not offer the NVM command set"));
        }
        if (cap >> 48) & 0xF != 0 {
            return Err(format!(
                "the controller's smallest memory page is {} bytes, not 4096",
                4096u64 << ((cap >> 48) & 0xF)
            ));
        }
        if REG_DOORBELLS + 4 * regs.stride > size {
            return Err(String::from("BAR 0 is too small for the I/O queue's doorbells"));
        }

        // Every queue's memory first: once the controller has an address,
        // nothing it may use is freed unless it is reset first.
        let entries = IO_ENTRIES.min(max_entries);
        let depth = entries - 1;
        let admin = Queue::<H>::new(0, ADMIN_ENTRIES)?;
        let io = Queue::<H>::new(IO_QUEUE, entries)?;
        let prp_lists = Dma::<H>::new(depth)?;

        // Reset (3.5.1): clearing CC.EN aborts everything and the
        // controller drops CSTS.RDY once it is idle; only then may the
        // admin queue registers change. (One still becoming ready from an
        // earlier enable finishes that first.)
        let cc = regs.read32(REG_CC);
        if cc & CC_ENABLE != 0 && regs.read32(REG_CSTS) & CSTS_READY == 0 {
            let _ = wait_ready::<H>(&regs, true, timeout_ns);
        }
        regs.write32(REG_CC, cc & !CC_ENABLE);
        wait_ready::<H>(&regs, false, timeout_ns)?;

        // The admin queues: sizes in AQA (0's based), addresses in ASQ/ACQ.
        let last = (ADMIN_ENTRIES - 1) as u32;
        regs.write32(REG_AQA, (last << 16) | last);
        regs.write64(REG_ASQ, admin.sq.phys);
        regs.write64(REG_ACQ, admin.cq.phys);
        // No interrupts while bring-up polls.
        regs.write32(REG_INTMS, VECTOR_0);
        // Enable, and wait until the controller is ready for commands.
        // From here on, dropping `dev` (on an error) resets the controller
        // before its queues are freed.
        regs.write32(REG_CC, CC_ENTRY_SIZES | CC_ENABLE);
        let mut dev = Nvme {
            regs,
            admin,
            io,
            prp_lists,
            slots: (0..depth).map(|_| None).collect(),
            count: 0,
            masked: true,
            block_size: SECTOR,
            blocks: 0,
            read_only: false,
            write_cache: true,
            max_transfer: MAX_TRANSFER,
            serial: String::new(),
            model: String::new(),
        };
        wait_ready::<H>(&dev.regs, true, timeout_ns)?;
        dev.identify()?;

        // One I/O queue pair (Set Features, Number of Queues, 0's based
        // counts), the completion queue first: the submission queue names
        // it. The completion queue is physically contiguous (PC) and
        // interrupts (IEN) on vector 0.
        dev.admin_command(ADMIN_SET_FEATURES, 0, 0, [FEATURE_NUMBER_OF_QUEUES, 0, 0])?;
        let size_and_id = ((entries as u32 - 1) << 16) | u32::from(IO_QUEUE);
        let cq = dev.io.cq.phys;
        dev.admin_command(ADMIN_CREATE_CQ, 0, cq, [size_and_id, 0b11, 0])?;
        let sq = dev.io.sq.phys;
        dev.admin_command(ADMIN_CREATE_SQ, 0, sq, [size_and_id, (u32::from(IO_QUEUE) << 16) | 1, 0])?;
        dev.unmask();
        Ok(dev)
    }

    /// Identify Controller (base spec 5.17.2.1) and Identify Namespace 1
    /// (command set spec 4.1.5.1).
    fn identify(&mut self) -> Result<(), String> {
        let page = Dma::<H>::new(1)?;
        self.admin_command(ADMIN_IDENTIFY, 0, page.phys, [IDENTIFY_CONTROLLER, 0, 0])?;
        let ctrl = page.bytes();
        self.serial = ascii(&ctrl[4..24]);
        self.model = ascii(&ctrl[24..64]);
        // MDTS: the largest transfer in minimum pages, a power of two (0: no limit).
        let mdts = ctrl[77];
        if mdts != 0 && mdts < 20 {
            self.max_transfer = MAX_TRANSFER.min(PAGE << mdts);
        }
        self.write_cache = ctrl[525] & 1 != 0;
        let namespaces = u32::from_le_bytes([ctrl[516], ctrl[517], ctrl[518], ctrl[519]]);
        if namespaces < NAMESPACE {
            return Err(String::from("the controller has no namespace 1"));
        }

        page.clear();
        self.admin_command(ADMIN_IDENTIFY, NAMESPACE, page.phys, [IDENTIFY_NAMESPACE, 0, 0])?;
        let ns = page.bytes();
        // NSZE: size in logical blocks; 0 if the namespace is not active.
        let blocks = u64::from_le_bytes(ns[0..8].try_into().unwrap_or_default());
        if blocks == 0 {
            return Err(String::from("namespace 1 is not active (size 0)"));
        }
        // FLBAS: the LBA format in use (bits 3:0, and 6:5 above 16
        // formats); each format gives the metadata bytes per block (MS)
        // and the block size as a power of two (LBADS).
        let flbas = ns[26];
        let format = usize::from(flbas & 0xF) | (usize::from((flbas >> 5) & 0b11) << 4);
        let at = 128 + 4 * format;
        let lbaf = u32::from_le_bytes([ns[at], ns[at + 1], ns[at + 2], ns[at + 3]]);
        let metadata = lbaf & 0xFFFF;
        let lbads = (lbaf >> 16) & 0xFF;
        if metadata != 0 {
            return Err(format!(
                "namespace 1 keeps {metadata} bytes of metadata per block, which this driver does not handle: format it with an LBA format without metadata"
            ));
        }
        if !(9..=12).contains(&lbads) {
            return Err(format!(
                "namespace 1 has {}-byte blocks; this driver handles 512 to 4096 (format it with 512- or 4096-byte LBAs)",
                1u64.checked_shl(lbads).unwrap_or(0)
            ));
        }
        self.block_size = 1 << lbads;
        self.blocks = blocks;
        // NSATTR bit 0: write protected.
        self.read_only = ns[99] & 1 != 0;
        Ok(())
    }

    /// Runs one admin command and waits for it (bring-up only, polled with
    /// a timeout: nothing else uses the controller yet). Returns the
    /// completion's command-specific dword.
    fn admin_command(&mut self, opcode: u8, nsid: u32, prp1: u64, cdw: [u32; 3]) -> Result<u32, String> {
        let mut cmd = [0u32; 16];
        let id = self.admin.sq_tail;
        cmd[0] = u32::from(opcode) | (u32::from(id) << 16);
        cmd[1] = nsid;
        cmd[6] = prp1 as u32;
        cmd[7] = (prp1 >> 32) as u32;
        cmd[10..13].copy_from_slice(&cdw);
        self.admin.push(&self.regs, &cmd);
        let deadline = H::now_nanos() + ADMIN_TIMEOUT_NS;
        loop {
            if let Some(done) = self.admin.pop(&self.regs) {
                if done.id != id {
                    continue;
                }
                if done.status != 0 {
                    return Err(format!("admin command {opcode:#04x} failed: {}", describe(done.status)));
                }
                return Ok(done.result);
            }
            if H::now_nanos() > deadline {
                return Err(format!("admin command {opcode:#04x} did not complete within 5 s"));
            }
            core::hint::spin_loop();
        }
    }

    /// Size in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.blocks * (self.block_size / SECTOR) as u64
    }

    /// Bytes per logical block: requests start and end on these boundaries.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the controller has a volatile write cache (Identify VWC):
    /// then a write is durable only after a FLUSH; without one it is
    /// durable when it completes.
    pub fn has_write_cache(&self) -> bool {
        self.write_cache
    }

    /// The controller's serial number (QEMU: the device's `serial=`).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Largest single transfer in bytes.
    pub fn max_transfer(&self) -> usize {
        self.max_transfer
    }

    /// Commands in flight.
    pub fn in_flight(&self) -> usize {
        self.count
    }

    /// Whether another command fits now.
    pub fn can_submit(&self) -> bool {
        self.count < self.slots.len()
    }

    /// The interrupt handler's part: masks the vector so the level-triggered
    /// line drops (the completions stay queued for [`Nvme::poll`], which
    /// unmasks). Returns whether a completion is waiting.
    pub fn ack_interrupt(&mut self) -> bool {
        self.regs.write32(REG_INTMS, VECTOR_0);
        self.masked = true;
        self.io.pending()
    }

    fn unmask(&mut self) {
        self.regs.write32(REG_INTMC, VECTOR_0);
        self.masked = false;
    }

    /// Starts reading `len` bytes (whole blocks) at `sector`.
    pub fn submit_read(&mut self, sector: u64, len: usize) -> Result<u16, Refused> {
        self.check_range(sector, len)?;
        self.submit(Op::Read, IO_READ, sector, alloc::vec![0; len])
    }

    /// Starts writing `data` (whole blocks) at `sector`; the buffer comes
    /// back with the completion.
    pub fn submit_write(&mut self, sector: u64, data: Vec<u8>) -> Result<u16, Refused> {
        if self.read_only {
            return Err(Refused::ReadOnly);
        }
        self.check_range(sector, data.len())?;
        self.submit(Op::Write, IO_WRITE, sector, data)
    }

    /// Starts a FLUSH: when it completes, every write completed before it
    /// was submitted is on stable storage. Only with a volatile write cache.
    pub fn submit_flush(&mut self) -> Result<u16, Refused> {
        if !self.write_cache {
            return Err(Refused::NoWriteCache);
        }
        self.submit(Op::Flush, IO_FLUSH, 0, Vec::new())
    }

    fn check_range(&self, sector: u64, len: usize) -> Result<(), Refused> {
        let per_block = (self.block_size / SECTOR) as u64;
        let end = sector.checked_add((len / SECTOR) as u64);
        if len == 0
            || len > self.max_transfer
            || !len.is_multiple_of(self.block_size)
            || !sector.is_multiple_of(per_block)
            || end.is_none_or(|end| end > self.capacity())
        {
            return Err(Refused::OutOfRange);
        }
        Ok(())
    }

    fn submit(&mut self, op: Op, opcode: u8, sector: u64, data: Vec<u8>) -> Result<u16, Refused> {
        let slot = self.slots.iter().position(Option::is_none).ok_or(Refused::Full)?;
        // Command dword 0: opcode, PRPs for data (PSDT = 0), and the command
        // identifier the completion will carry (the slot).
        let mut cmd = [0u32; 16];
        cmd[0] = u32::from(opcode) | ((slot as u32) << 16);
        cmd[1] = NAMESPACE;
        if !data.is_empty() {
            let (prp1, prp2) = self.prps(slot, &data)?;
            cmd[6] = prp1 as u32;
            cmd[7] = (prp1 >> 32) as u32;
            cmd[8] = prp2 as u32;
            cmd[9] = (prp2 >> 32) as u32;
            // Starting block, and the number of blocks (0's based).
            let lba = sector / (self.block_size / SECTOR) as u64;
            cmd[10] = lba as u32;
            cmd[11] = (lba >> 32) as u32;
            cmd[12] = (data.len() / self.block_size - 1) as u32;
        }
        // The buffer moves into its slot; its heap block stays where the
        // PRPs point until the completion hands it back.
        self.slots[slot] = Some(Request { op, data });
        self.count += 1;
        self.io.push(&self.regs, &cmd);
        Ok(slot as u16)
    }

    /// The Physical Region Page entries for `data` (base spec 4.1.1): PRP1
    /// is the first byte (any dword-aligned offset into its page); PRP2 is
    /// the second page when the data ends there, else the address of a list
    /// of the remaining pages (this slot's list page).
    fn prps(&mut self, slot: usize, data: &[u8]) -> Result<(u64, u64), Refused> {
        let start = data.as_ptr() as usize;
        if !start.is_multiple_of(4) {
            return Err(Refused::Unaligned);
        }
        let end = start + data.len();
        let first = H::virt_to_phys(start);
        let next_page = (start / PAGE + 1) * PAGE;
        if end <= next_page {
            return Ok((first, 0));
        }
        if end <= next_page + PAGE {
            return Ok((first, H::virt_to_phys(next_page)));
        }
        let list = self.prp_lists.virt + slot * PAGE;
        for (i, page) in (next_page..end).step_by(PAGE).enumerate() {
            // SAFETY: `check_range` bounds the transfer to MAX_TRANSFER, so
            // at most 512 entries: they fit this slot's page of the list
            // area, which the device reads only while this slot's command
            // is in flight (it is not yet submitted).
            unsafe { ((list + i * 8) as *mut u64).write_volatile(H::virt_to_phys(page)) };
        }
        Ok((first, self.prp_lists.phys + (slot * PAGE) as u64))
    }

    /// Takes the next finished command, if any. A command the controller
    /// failed comes back with `ok == false` and its status logged. Once
    /// none is left, the interrupt is unmasked.
    pub fn poll(&mut self) -> Option<Completion> {
        loop {
            let Some(done) = self.io.pop(&self.regs) else {
                if self.masked {
                    self.unmask();
                }
                return None;
            };
            let Some(request) = self.slots.get_mut(usize::from(done.id)).and_then(Option::take) else {
                log::error!("nvme: the controller completed unknown command {}", done.id);
                continue;
            };
            self.count -= 1;
            let ok = done.status == 0;
            if !ok {
                log::error!("nvme: {:?} command {} failed: {}", request.op, done.id, describe(done.status));
            }
            return Some(Completion { token: done.id, op: request.op, ok, data: request.data });
        }
    }
}

impl<H: Hardware> Drop for Nvme<H> {
    /// Resets the controller, so it stops using the queues before they are
    /// freed.
    fn drop(&mut self) {
        let cc = self.regs.read32(REG_CC);
        self.regs.write32(REG_CC, cc & !CC_ENABLE);
        let _ = wait_ready::<H>(&self.regs, false, ADMIN_TIMEOUT_NS);
    }
}

/// Waits (polling, as nothing interrupts for it) until CSTS.RDY is `ready`,
/// up to the controller's CAP.TO.
fn wait_ready<H: Hardware>(regs: &Registers, ready: bool, timeout_ns: u64) -> Result<(), String> {
    let deadline = H::now_nanos() + timeout_ns;
    loop {
        let csts = regs.read32(REG_CSTS);
        if csts == u32::MAX {
            return Err(String::from("the controller stopped answering (CSTS reads all ones)"));
        }
        // A fatal status clears with the reset, so it matters only when
        // becoming ready.
        if ready && csts & CSTS_FATAL != 0 {
            return Err(String::from("the controller reports a fatal status (CSTS.CFS)"));
        }
        if (csts & CSTS_READY != 0) == ready {
            return Ok(());
        }
        if H::now_nanos() > deadline {
            return Err(format!(
                "CSTS.RDY did not become {} within the controller's timeout ({} ms)",
                u8::from(ready),
                timeout_ns / 1_000_000
            ));
        }
        core::hint::spin_loop();
    }
}

/// A completion status (base spec 4.6.1.2) in words: its type and code,
/// named for the common ones.
fn describe(status: u16) -> String {
    let code = status & 0xFF;
    let kind = (status >> 8) & 0x7;
    let name = match (kind, code) {
        (0, 0x01) => "invalid command opcode",
        (0, 0x02) => "invalid field in command",
        (0, 0x04) => "data transfer error",
        (0, 0x06) => "internal error",
        (0, 0x0B) => "invalid namespace or format",
        (0, 0x80) => "LBA out of range",
        (0, 0x81) => "capacity exceeded",
        (2, 0x80) => "write fault",
        (2, 0x81) => "unrecovered read error",
        (2, 0x82) => "end-to-end guard check error",
        (2, 0x86) => "access denied",
        _ => "",
    };
    format!("status type {kind}, code {code:#04x}{}{}", if name.is_empty() { "" } else { ": " }, name)
}

/// An Identify string: ASCII, padded with spaces.
fn ascii(bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' }).collect();
    String::from(text.trim())
}

/// The controller's registers.
struct Registers {
    base: usize,
    size: usize,
    /// Bytes between doorbells (4 << CAP.DSTRD).
    stride: usize,
}

impl Registers {
    fn read32(&self, offset: usize) -> u32 {
        debug_assert!(offset + 4 <= self.size);
        // SAFETY: `base` maps `size` bytes of the controller's registers
        // (uncached) for the kernel's lifetime and every offset used is a
        // register inside them.
        unsafe { ((self.base + offset) as *const u32).read_volatile() }
    }

    fn write32(&self, offset: usize, value: u32) {
        debug_assert!(offset + 4 <= self.size);
        // SAFETY: as in `read32`.
        unsafe { ((self.base + offset) as *mut u32).write_volatile(value) }
    }

    /// A 64-bit register as two 32-bit accesses, low half first (not
    /// every platform passes 64-bit accesses to devices).
    fn read64(&self, offset: usize) -> u64 {
        u64::from(self.read32(offset)) | (u64::from(self.read32(offset + 4)) << 32)
    }

    fn write64(&self, offset: usize, value: u64) {
        self.write32(offset, value as u32);
        self.write32(offset + 4, (value >> 32) as u32);
    }

    /// Tells the controller the submission queue's new tail (doorbell 2y).
    fn ring_submission(&self, queue: u16, tail: u16) {
        dma_barrier();
        self.write32(REG_DOORBELLS + 2 * usize::from(queue) * self.stride, u32::from(tail));
    }

    /// Tells the controller the completion queue's new head (doorbell 2y+1):
    /// the entries before it are free again.
    fn ring_completion(&self, queue: u16, head: u16) {
        self.write32(REG_DOORBELLS + (2 * usize::from(queue) + 1) * self.stride, u32::from(head));
    }
}

/// Makes this CPU's writes to memory (commands, PRP lists, data) visible
/// to the device before a later register write, and the device's writes
/// (a completion's phase tag, then its fields and the data) visible in
/// order to later reads.
fn dma_barrier() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction; it touches no memory or registers.
    unsafe {
        core::arch::asm!("dsb sy", options(nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

/// Zeroed, physically contiguous pages the device reads and writes.
struct Dma<H: Hardware> {
    phys: u64,
    virt: usize,
    pages: usize,
    _hardware: PhantomData<H>,
}

impl<H: Hardware> Dma<H> {
    fn new(pages: usize) -> Result<Self, String> {
        let (phys, virt) = H::dma_alloc(pages).ok_or_else(|| format!("no memory for {pages} DMA pages"))?;
        Ok(Dma { phys, virt, pages, _hardware: PhantomData })
    }

    /// The first page (after a command that filled it has completed).
    fn bytes(&self) -> &[u8] {
        // SAFETY: `dma_alloc` gave at least one page at `virt`, valid until
        // drop; the device is done writing it (its command completed).
        unsafe { core::slice::from_raw_parts(self.virt as *const u8, PAGE) }
    }

    fn clear(&self) {
        // SAFETY: as in `bytes`; no command uses the page now.
        unsafe { core::ptr::write_bytes(self.virt as *mut u8, 0, PAGE) }
    }
}

impl<H: Hardware> Drop for Dma<H> {
    fn drop(&mut self) {
        // SAFETY: exactly what `dma_alloc` returned; the controller was
        // reset (`Nvme::drop`) or never given these pages.
        unsafe { H::dma_free(self.phys, self.virt, self.pages) }
    }
}

/// A completion entry's fields (base spec 4.6).
struct Done {
    /// Dword 0, command specific.
    result: u32,
    /// The command identifier.
    id: u16,
    /// The status field without the phase tag; 0 is success.
    status: u16,
}

/// A submission queue and its completion queue.
struct Queue<H: Hardware> {
    id: u16,
    entries: usize,
    sq: Dma<H>,
    cq: Dma<H>,
    sq_tail: u16,
    cq_head: u16,
    /// The phase tag of new completions: the controller writes 1 in its
    /// first pass through the queue, 0 in the second, and so on, so an
    /// entry is new when its tag matches this.
    phase: bool,
}

impl<H: Hardware> Queue<H> {
    fn new(id: u16, entries: usize) -> Result<Self, String> {
        Ok(Queue {
            id,
            entries,
            sq: Dma::new((entries * 64).div_ceil(PAGE))?,
            cq: Dma::new((entries * 16).div_ceil(PAGE))?,
            sq_tail: 0,
            cq_head: 0,
            phase: true,
        })
    }

    /// Writes a command at the tail and rings the doorbell. The caller
    /// keeps fewer commands in flight than entries, so the slot is free.
    fn push(&mut self, regs: &Registers, cmd: &[u32; 16]) {
        let entry = self.sq.virt + usize::from(self.sq_tail) * 64;
        for (i, &dword) in cmd.iter().enumerate() {
            // SAFETY: entry `sq_tail` lies inside the queue's pages, and the
            // controller reads it only after the doorbell below.
            unsafe { ((entry + 4 * i) as *mut u32).write_volatile(dword) };
        }
        self.sq_tail = ((usize::from(self.sq_tail) + 1) % self.entries) as u16;
        regs.ring_submission(self.id, self.sq_tail);
    }

    fn head_dword3(&self) -> u32 {
        // SAFETY: entry `cq_head` lies inside the completion queue's pages;
        // the controller writes it, hence the volatile read.
        unsafe { ((self.cq.virt + usize::from(self.cq_head) * 16 + 12) as *const u32).read_volatile() }
    }

    /// Whether a new completion waits at the head.
    fn pending(&self) -> bool {
        (self.head_dword3() >> 16) & 1 == u32::from(self.phase)
    }

    /// Takes the completion at the head, if new, and frees its entry.
    fn pop(&mut self, regs: &Registers) -> Option<Done> {
        let dword3 = self.head_dword3();
        if (dword3 >> 16) & 1 != u32::from(self.phase) {
            return None;
        }
        // The rest of the entry (and a read's data) after its phase tag.
        dma_barrier();
        // SAFETY: as in `head_dword3`.
        let result = unsafe { ((self.cq.virt + usize::from(self.cq_head) * 16) as *const u32).read_volatile() };
        self.cq_head += 1;
        if usize::from(self.cq_head) == self.entries {
            self.cq_head = 0;
            self.phase = !self.phase;
        }
        regs.ring_completion(self.id, self.cq_head);
        Some(Done { result, id: dword3 as u16, status: (dword3 >> 17) as u16 & 0x7FFF })
    }
}
