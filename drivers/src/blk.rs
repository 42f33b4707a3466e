//! The virtio-blk device, with several requests in flight.
//!
//! virtio-drivers' `VirtIOBlk` waits for each request by spinning on the
//! used ring and cannot issue a flush without waiting, so this driver drives
//! the queue itself: a request is submitted (its header, data and status
//! buffers owned by the driver until the device is done) and completes
//! later, reported by [`VirtioBlk::poll`]; the kernel halts until the
//! device's interrupt in between. With indirect descriptors each request
//! takes one ring slot, so up to [`QUEUE_SIZE`] requests are in flight.
//!
//! Durability needs `VIRTIO_BLK_F_FLUSH`: without it a write is durable
//! only if the host's cache is write-through, which the guest cannot know,
//! so [`VirtioBlk::can_flush`] tells the kernel and it refuses to promise
//! durability. (virtio-drivers' `flush()` quietly does nothing then.)

pub use crate::block::{Completion, Op, SECTOR};
use crate::transport::WithoutEventIdx;
use crate::{Hardware, VirtioHal};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use bitflags::bitflags;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{SomeTransport, Transport};
use virtio_drivers::{Error, Result};

/// Ring slots of the request queue (QEMU offers up to 256).
pub const QUEUE_SIZE: usize = 64;

bitflags! {
    /// The feature bits this driver understands (virtio 1.2, 5.2.3).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Features: u64 {
        const RO = 1 << 5;
        const FLUSH = 1 << 9;
        const INDIRECT_DESC = 1 << 28;
        const VERSION_1 = 1 << 32;
    }
}

// Request types (virtio 1.2, 5.2.6).
const TYPE_IN: u32 = 0;
const TYPE_OUT: u32 = 1;
const TYPE_FLUSH: u32 = 4;
const TYPE_GET_ID: u32 = 8;
/// The device's status byte for success.
const STATUS_OK: u8 = 0;
/// Bytes of the identity string `GET_ID` returns.
const ID_BYTES: usize = 20;

/// The buffers of one request, owned here while the device uses them.
/// Boxed, so their addresses stay put while the request is in flight.
struct Request {
    op: Op,
    header: Box<[u8; 16]>,
    data: Vec<u8>,
    status: Box<[u8; 1]>,
}

type Queue<H> = VirtQueue<VirtioHal<H>, QUEUE_SIZE>;

/// A virtio block device over any virtio transport.
pub struct VirtioBlk<H: Hardware> {
    transport: WithoutEventIdx,
    queue: Queue<H>,
    capacity: u64,
    features: Features,
    /// Requests the device holds, by token.
    in_flight: Vec<Option<Request>>,
    count: usize,
}

impl<H: Hardware> VirtioBlk<H> {
    /// Negotiates features, reads the capacity and sets up the request queue.
    pub fn new(transport: SomeTransport<'static>) -> Result<Self> {
        // Without event indices: see `transport` for the crate bug this avoids.
        let mut transport = WithoutEventIdx(transport);
        let features = transport.begin_init(Features::all());
        let low: u32 = transport.read_config_space(0)?;
        let high: u32 = transport.read_config_space(4)?;
        let queue = Queue::<H>::new(&mut transport, 0, features.contains(Features::INDIRECT_DESC), false)?;
        transport.finish_init();
        let mut dev = VirtioBlk {
            transport,
            queue,
            capacity: u64::from(low) | (u64::from(high) << 32),
            features,
            in_flight: (0..QUEUE_SIZE).map(|_| None).collect(),
            count: 0,
        };
        dev.queue.set_dev_notify(true);
        Ok(dev)
    }

    /// Size in sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn read_only(&self) -> bool {
        self.features.contains(Features::RO)
    }

    /// Whether the device takes FLUSH requests (without them nothing
    /// written can be called durable).
    pub fn can_flush(&self) -> bool {
        self.features.contains(Features::FLUSH)
    }

    /// Requests the device holds.
    pub fn in_flight(&self) -> usize {
        self.count
    }

    /// Whether another request fits in the ring now.
    pub fn can_submit(&self) -> bool {
        self.queue.available_desc() >= if self.features.contains(Features::INDIRECT_DESC) { 1 } else { 3 }
    }

    /// Acknowledges the device's interrupt (de-asserting a level-triggered
    /// line). Returns whether the device had signalled anything.
    pub fn ack_interrupt(&mut self) -> bool {
        !self.transport.ack_interrupt().is_empty()
    }

    /// Starts reading `len` bytes (whole sectors) at `sector`.
    pub fn submit_read(&mut self, sector: u64, len: usize) -> Result<u16> {
        self.check_range(sector, len)?;
        self.submit(Op::Read, TYPE_IN, sector, vec![0; len])
    }

    /// Starts writing `data` (whole sectors) at `sector`; the buffer comes
    /// back with the completion.
    pub fn submit_write(&mut self, sector: u64, data: Vec<u8>) -> Result<u16> {
        if self.read_only() {
            return Err(Error::Unsupported);
        }
        self.check_range(sector, data.len())?;
        self.submit(Op::Write, TYPE_OUT, sector, data)
    }

    /// Starts a flush: when it completes, every write completed before it
    /// was submitted is on stable storage.
    pub fn submit_flush(&mut self) -> Result<u16> {
        if !self.can_flush() {
            return Err(Error::Unsupported);
        }
        self.submit(Op::Flush, TYPE_FLUSH, 0, Vec::new())
    }

    /// Starts reading the device's identity string (its serial number).
    pub fn submit_get_id(&mut self) -> Result<u16> {
        self.submit(Op::GetId, TYPE_GET_ID, 0, vec![0; ID_BYTES])
    }

    fn check_range(&self, sector: u64, len: usize) -> Result<()> {
        let sectors = (len / SECTOR) as u64;
        if len == 0 || !len.is_multiple_of(SECTOR) || sector.checked_add(sectors).is_none_or(|end| end > self.capacity)
        {
            return Err(Error::InvalidParam);
        }
        Ok(())
    }

    fn submit(&mut self, op: Op, kind: u32, sector: u64, data: Vec<u8>) -> Result<u16> {
        let mut header = Box::new([0u8; 16]);
        header[..4].copy_from_slice(&kind.to_le_bytes());
        header[8..].copy_from_slice(&sector.to_le_bytes());
        let mut request = Request { op, header, data, status: Box::new([0xff]) };
        let Request { header, data, status, .. } = &mut request;
        // SAFETY: the header, data and status buffers are heap blocks that
        // move into `in_flight` below (the blocks themselves do not move)
        // and stay untouched there until `poll` pops this token with the
        // same buffers; on error the device did not take them.
        let token = unsafe {
            match op {
                Op::Write => self.queue.add(&[&header[..], &data[..]], &mut [&mut status[..]])?,
                Op::Flush => self.queue.add(&[&header[..]], &mut [&mut status[..]])?,
                Op::Read | Op::GetId => self.queue.add(&[&header[..]], &mut [&mut data[..], &mut status[..]])?,
            }
        };
        let Some(slot) = self.in_flight.get_mut(usize::from(token)) else {
            // Cannot happen (tokens are descriptor indices); keep the
            // buffers alive rather than free memory the device uses.
            log::error!("virtio-blk: token {token} out of range");
            core::mem::forget(request);
            return Err(Error::WrongToken);
        };
        *slot = Some(request);
        self.count += 1;
        if self.queue.should_notify() {
            self.transport.notify(0);
        }
        Ok(token)
    }

    /// Takes the next finished request, if any.
    pub fn poll(&mut self) -> Option<Completion> {
        let token = self.queue.peek_used()?;
        let Some(mut request) = self.in_flight.get_mut(usize::from(token)).and_then(Option::take) else {
            log::error!("virtio-blk: the device completed unknown token {token}");
            return None;
        };
        self.count -= 1;
        let Request { op, header, data, status } = &mut request;
        // SAFETY: the same buffers that `submit` added with this token.
        let popped = unsafe {
            match op {
                Op::Write => self.queue.pop_used(token, &[&header[..], &data[..]], &mut [&mut status[..]]),
                Op::Flush => self.queue.pop_used(token, &[&header[..]], &mut [&mut status[..]]),
                Op::Read | Op::GetId => {
                    self.queue.pop_used(token, &[&header[..]], &mut [&mut data[..], &mut status[..]])
                }
            }
        };
        let ok = popped.is_ok() && status[0] == STATUS_OK;
        Some(Completion { token, op: *op, ok, data: core::mem::take(data) })
    }
}
