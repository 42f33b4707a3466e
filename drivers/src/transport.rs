//! A virtio transport that hides `VIRTIO_F_EVENT_IDX` (feature bit 29) from
//! the driver.
//!
//! virtio-drivers 0.13 decides whether to notify the device with
//! `avail_idx >= avail_event + 1` when event indices are negotiated. The
//! virtio spec's test is `(u16)(new - event - 1) < (u16)(new - old)`: the
//! crate's version can skip a needed notification when the 16-bit ring index
//! wraps (after 65,536 buffers on one queue), leaving the device unaware of
//! new buffers. Without event indices the crate uses the device's "no notify"
//! flag, which has no such edge. Everything else passes straight through (the
//! trait's default `begin_init` negotiates over the masked feature bits).

use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, SomeTransport, Transport};
use virtio_drivers::{PhysAddr, Result};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// `VIRTIO_F_EVENT_IDX` (the virtio spec's `VIRTIO_RING_F_EVENT_IDX`).
const EVENT_IDX: u64 = 1 << 29;

/// A transport whose device never offers event indices.
pub struct WithoutEventIdx(pub SomeTransport<'static>);

impl Transport for WithoutEventIdx {
    fn device_type(&self) -> DeviceType {
        self.0.device_type()
    }

    fn read_device_features(&mut self) -> u64 {
        self.0.read_device_features() & !EVENT_IDX
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.0.write_driver_features(driver_features & !EVENT_IDX)
    }

    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.0.max_queue_size(queue)
    }

    fn notify(&mut self, queue: u16) {
        self.0.notify(queue)
    }

    fn get_status(&self) -> DeviceStatus {
        self.0.get_status()
    }

    fn set_status(&mut self, status: DeviceStatus) {
        self.0.set_status(status)
    }

    fn set_guest_page_size(&mut self, guest_page_size: u32) {
        self.0.set_guest_page_size(guest_page_size)
    }

    fn requires_legacy_layout(&self) -> bool {
        self.0.requires_legacy_layout()
    }

    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        self.0.queue_set(queue, size, descriptors, driver_area, device_area)
    }

    fn queue_unset(&mut self, queue: u16) {
        self.0.queue_unset(queue)
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.0.queue_used(queue)
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        self.0.ack_interrupt()
    }

    fn read_config_generation(&self) -> u32 {
        self.0.read_config_generation()
    }

    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T> {
        self.0.read_config_space(offset)
    }

    fn write_config_space<T: IntoBytes + Immutable>(&mut self, offset: usize, value: T) -> Result<()> {
        self.0.write_config_space(offset, value)
    }
}
