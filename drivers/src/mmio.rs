//! virtio-mmio: probing slots, and the `virtio_mmio.device=SIZE@ADDR:IRQ`
//! command-line entries that describe them (QEMU appends these for
//! `-M microvm`, as Linux expects).

use crate::Hardware;
use core::ptr::NonNull;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};

/// One virtio-mmio slot: registers at `address` (`size` bytes), interrupt `irq`
/// (a GSI on x86_64, an interrupt ID on aarch64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub address: u64,
    pub size: u64,
    pub irq: u32,
}

/// Parses the value of one `virtio_mmio.device=` parameter:
/// `SIZE@ADDR:IRQ`, with SIZE in bytes or with a K/M/G suffix and ADDR in
/// hex (`0x...`) or decimal, e.g. `512@0xfeb00e00:12`.
pub fn parse_slot(value: &str) -> Option<Slot> {
    let (size, rest) = value.split_once('@')?;
    let (address, irq) = rest.split_once(':')?;
    // A fourth `:ID` field (platform device id) may follow.
    let irq = irq.split(':').next()?;
    Some(Slot { address: parse_number(address)?, size: parse_size(size)?, irq: parse_number(irq)?.try_into().ok()? })
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    parse_number(digits)?.checked_mul(1 << shift)
}

/// Opens the virtio device in `slot` if it is one of type `wanted`.
pub fn probe<H: Hardware>(slot: &Slot, wanted: DeviceType) -> Option<MmioTransport<'static>> {
    let size = usize::try_from(slot.size).ok()?;
    if size < 0x100 {
        return None;
    }
    let virt = H::map_device(slot.address, size);
    let header = NonNull::new(virt as *mut VirtIOHeader)?;
    // SAFETY: the slot's registers were just mapped for the kernel's lifetime
    // and nothing else accesses them; the magic value, version and device ID
    // are checked before anything else is touched.
    let transport = match unsafe { MmioTransport::new(header, size) } {
        Ok(t) => t,
        Err(e) => {
            log::debug!("virtio-mmio at {:#x}: {e}", slot.address);
            return None;
        }
    };
    (transport.device_type() == wanted).then_some(transport)
}
