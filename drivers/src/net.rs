//! The virtio-net device as a smoltcp [`Device`].
//!
//! Receive buffers are posted to the device up front and recycled after
//! smoltcp consumed their frame; transmit buffers stay owned by the driver
//! until the device reports them done. Neither path blocks: when the device
//! has nothing (or no free transmit descriptor) smoltcp is told so and the
//! kernel waits for the device's interrupt.
//!
//! smoltcp may answer a received frame (an ACK, a window update, an ARP
//! reply) through the transmit token that comes with it, without asking
//! whether a descriptor is free. Such a frame is not dropped when the ring
//! is full: it waits, in order, until the device completes earlier frames.
//! A lost window update would leave the peer waiting for its persist timer.

use crate::transport::WithoutEventIdx;
use crate::{Hardware, VirtioHal};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::SomeTransport;

/// Descriptors per virtqueue (QEMU's default queue size for virtio-net).
pub const QUEUE_SIZE: usize = 256;
/// Ethernet header bytes on top of the IP MTU.
const ETHERNET_HEADER: usize = 14;
/// Room for the virtio-net header in front of every frame.
const VIRTIO_HEADER: usize = 12;

type Raw<H> = VirtIONetRaw<VirtioHal<H>, WithoutEventIdx, QUEUE_SIZE>;
/// Transmit buffers the device holds (buffer, frame length), by token.
type InFlight = Vec<Option<(Box<[u8]>, usize)>>;

/// Counters for the log and for tuning.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_errors: u64,
    /// Frames that found the transmit ring full and waited for a descriptor.
    pub tx_deferred: u64,
    /// Frames dropped: the ring stayed full for a whole ring's worth of them.
    pub tx_dropped: u64,
}

/// A virtio-net device over any virtio transport.
pub struct VirtioNet<H: Hardware> {
    raw: Raw<H>,
    mtu: usize,
    buf_len: usize,
    /// Receive buffers the device holds, by descriptor token.
    rx_posted: Vec<Option<Box<[u8]>>>,
    /// Receive buffers smoltcp handed back, to post again.
    rx_free: Vec<Box<[u8]>>,
    /// Transmit buffers the device holds (buffer, frame length), by token.
    tx_inflight: InFlight,
    /// Frames built while the transmit ring was full (buffer, frame length),
    /// oldest first; sent before any newer frame.
    tx_waiting: VecDeque<(Box<[u8]>, usize)>,
    tx_free: Vec<Box<[u8]>>,
    stats: Stats,
    /// The headers of the last frame smoltcp consumed (see
    /// [`last_received_headers`](Self::last_received_headers)).
    rx_headers: RxHeaders,
}

/// Bytes kept of each received frame: Ethernet, IPv4 and TCP headers
/// without options (14 + 20 + 20) with room for TCP options.
const RX_HEADERS: usize = 128;

/// The start of the last received frame.
struct RxHeaders {
    bytes: [u8; RX_HEADERS],
    len: usize,
}

impl<H: Hardware> VirtioNet<H> {
    /// The first bytes (up to 128: the Ethernet, IP and TCP headers) of the
    /// last frame handed to smoltcp, so the network service can tell which
    /// connection the frame was for.
    pub fn last_received_headers(&self) -> &[u8] {
        &self.rx_headers.bytes[..self.rx_headers.len]
    }

    /// Initialises the device for IP packets of up to `mtu` bytes and posts
    /// all receive buffers.
    pub fn new(transport: SomeTransport<'static>, mtu: usize) -> Result<Self, virtio_drivers::Error> {
        // Without event indices: see `transport` for the crate bug this avoids.
        let raw = Raw::<H>::new(WithoutEventIdx(transport))?;
        // At least the 1526 bytes virtio-drivers insists on.
        let buf_len = (mtu + ETHERNET_HEADER + VIRTIO_HEADER).max(1526).next_multiple_of(64);
        let mut dev = VirtioNet {
            raw,
            mtu,
            buf_len,
            rx_posted: (0..QUEUE_SIZE).map(|_| None).collect(),
            rx_free: (0..QUEUE_SIZE).map(|_| vec![0u8; buf_len].into_boxed_slice()).collect(),
            rx_headers: RxHeaders { bytes: [0; RX_HEADERS], len: 0 },
            tx_inflight: (0..QUEUE_SIZE).map(|_| None).collect(),
            tx_waiting: VecDeque::new(),
            tx_free: Vec::new(),
            stats: Stats::default(),
        };
        dev.refill();
        dev.raw.enable_interrupts();
        Ok(dev)
    }

    pub fn mac_address(&self) -> [u8; 6] {
        self.raw.mac_address()
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Acknowledges the device's interrupt (de-asserting a level-triggered
    /// line). Returns whether the device had signalled anything.
    pub fn ack_interrupt(&mut self) -> bool {
        !self.raw.ack_interrupt().is_empty()
    }

    /// Whether a received frame is waiting.
    pub fn has_rx(&self) -> bool {
        self.raw.poll_receive().is_some()
    }

    /// Posts every free receive buffer to the device.
    fn refill(&mut self) {
        while let Some(mut buf) = self.rx_free.pop() {
            // SAFETY: the buffer is a heap allocation owned by `rx_posted`
            // until the device returns it through `receive_complete`; nothing
            // reads or writes it meanwhile.
            match unsafe { self.raw.receive_begin(&mut buf) } {
                Ok(token) if usize::from(token) < QUEUE_SIZE => self.rx_posted[usize::from(token)] = Some(buf),
                Ok(token) => {
                    // Cannot happen (tokens are descriptor indices); keep the
                    // buffer alive rather than free memory the device owns.
                    log::error!("virtio-net: receive token {token} out of range");
                    core::mem::forget(buf);
                }
                Err(_) => {
                    self.rx_free.push(buf);
                    break;
                }
            }
        }
    }

    /// Takes back transmit buffers the device is done with, then hands it
    /// the frames that were waiting for a descriptor.
    fn reclaim_tx(&mut self) {
        while let Some(token) = self.raw.poll_transmit() {
            let Some((buf, len)) = self.tx_inflight.get_mut(usize::from(token)).and_then(Option::take) else {
                log::error!("virtio-net: unknown transmit token {token}");
                return;
            };
            // SAFETY: the same buffer and length as passed to `transmit_begin`
            // for this token.
            if let Err(e) = unsafe { self.raw.transmit_complete(token, &buf[..len]) } {
                log::warn!("virtio-net: transmit completion: {e}");
            }
            self.tx_free.push(buf);
        }
        let mut sender = Sender { raw: &mut self.raw, tx_inflight: &mut self.tx_inflight, stats: &mut self.stats };
        while let Some((buf, len)) = self.tx_waiting.pop_front() {
            if let Err(frame) = sender.begin(buf, len) {
                self.tx_waiting.push_front(frame);
                break;
            }
        }
    }

    /// Housekeeping outside smoltcp's calls: recycle buffers both ways.
    pub fn service(&mut self) {
        self.reclaim_tx();
        self.refill();
    }

    /// Pops one received frame: (buffer, offset of the frame, frame length).
    fn pop_rx(&mut self) -> Option<(Box<[u8]>, usize, usize)> {
        loop {
            let token = self.raw.poll_receive()?;
            let Some(mut buf) = self.rx_posted.get_mut(usize::from(token)).and_then(Option::take) else {
                log::error!("virtio-net: unknown receive token {token}");
                return None;
            };
            // SAFETY: `buf` is the buffer posted with this token.
            match unsafe { self.raw.receive_complete(token, &mut buf) } {
                Ok((header, len)) if header + len <= buf.len() && len > 0 => {
                    self.stats.rx_packets += 1;
                    return Some((buf, header, len));
                }
                _ => {
                    self.stats.rx_errors += 1;
                    self.rx_free.push(buf);
                }
            }
        }
    }
}

impl<H: Hardware> Device for VirtioNet<H> {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a, H>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_, H>)> {
        self.reclaim_tx();
        if self.rx_free.len() >= QUEUE_SIZE / 4 {
            self.refill();
        }
        let (buf, offset, len) = self.pop_rx()?;
        let VirtioNet { raw, tx_inflight, tx_waiting, tx_free, rx_free, stats, buf_len, rx_headers, .. } = self;
        Some((
            RxToken { buf: Some(buf), offset, len, free: rx_free, headers: rx_headers },
            TxToken { sender: Sender { raw, tx_inflight, stats }, tx_waiting, tx_free, buf_len: *buf_len },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_, H>> {
        self.reclaim_tx();
        if !self.tx_waiting.is_empty() || !self.raw.can_send() {
            return None;
        }
        let VirtioNet { raw, tx_inflight, tx_waiting, tx_free, stats, buf_len, .. } = self;
        Some(TxToken { sender: Sender { raw, tx_inflight, stats }, tx_waiting, tx_free, buf_len: *buf_len })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + ETHERNET_HEADER;
        caps.max_burst_size = None;
        caps
    }
}

/// One received frame, lent to smoltcp.
pub struct RxToken<'a> {
    buf: Option<Box<[u8]>>,
    offset: usize,
    len: usize,
    free: &'a mut Vec<Box<[u8]>>,
    headers: &'a mut RxHeaders,
}

impl smoltcp::phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(mut self, f: F) -> R {
        let buf = self.buf.take().unwrap_or_default();
        let frame = buf.get(self.offset..self.offset + self.len).unwrap_or(&[]);
        let kept = frame.len().min(RX_HEADERS);
        self.headers.bytes[..kept].copy_from_slice(&frame[..kept]);
        self.headers.len = kept;
        let result = f(frame);
        self.free.push(buf);
        result
    }
}

impl Drop for RxToken<'_> {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            self.free.push(buf);
        }
    }
}

/// Hands built frames to the device and tracks them until completion.
struct Sender<'a, H: Hardware> {
    raw: &'a mut Raw<H>,
    tx_inflight: &'a mut InFlight,
    stats: &'a mut Stats,
}

impl<H: Hardware> Sender<'_, H> {
    /// Gives the device `buf[..len]`; hands the frame back if the ring is full.
    fn begin(&mut self, buf: Box<[u8]>, len: usize) -> Result<(), (Box<[u8]>, usize)> {
        // SAFETY: on success the buffer moves into `tx_inflight` (its heap
        // memory does not move) and stays untouched there until `reclaim_tx`
        // completes it; on failure the device did not take it.
        match unsafe { self.raw.transmit_begin(&buf[..len]) } {
            Ok(token) if usize::from(token) < QUEUE_SIZE => {
                self.stats.tx_packets += 1;
                self.tx_inflight[usize::from(token)] = Some((buf, len));
                Ok(())
            }
            Ok(token) => {
                // Cannot happen (tokens are descriptor indices); keep the
                // buffer alive rather than free memory the device reads.
                log::error!("virtio-net: transmit token {token} out of range");
                core::mem::forget(buf);
                Ok(())
            }
            Err(_) => Err((buf, len)),
        }
    }
}

/// Permission to send one frame.
pub struct TxToken<'a, H: Hardware> {
    sender: Sender<'a, H>,
    tx_waiting: &'a mut VecDeque<(Box<[u8]>, usize)>,
    tx_free: &'a mut Vec<Box<[u8]>>,
    buf_len: usize,
}

impl<H: Hardware> smoltcp::phy::TxToken for TxToken<'_, H> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, len: usize, f: F) -> R {
        let needed = len + VIRTIO_HEADER;
        let mut buf = match self.tx_free.pop() {
            Some(buf) if buf.len() >= needed => buf,
            _ => vec![0u8; needed.max(self.buf_len)].into_boxed_slice(),
        };
        let header = self.sender.raw.fill_buffer_header(&mut buf).unwrap_or(VIRTIO_HEADER);
        let total = header + len;
        let result = f(&mut buf[header..total]);
        // Frames leave in the order they were built.
        let sent = if self.tx_waiting.is_empty() { self.sender.begin(buf, total) } else { Err((buf, total)) };
        if let Err(frame) = sent {
            if self.tx_waiting.len() < QUEUE_SIZE {
                self.sender.stats.tx_deferred += 1;
                self.tx_waiting.push_back(frame);
            } else {
                self.sender.stats.tx_dropped += 1;
                log::debug!("virtio-net: transmit ring and queue full, dropped a frame");
                self.tx_free.push(frame.0);
            }
        }
        result
    }
}
