//! Device interrupts on aarch64: GIC shared peripheral interrupts (SPIs),
//! routed to the boot CPU, and a small registry of handlers by INTID.
//!
//! A device interrupt runs its registered handler (which must acknowledge the
//! device, so a level-triggered line drops), then the IRQ path signals
//! end-of-interrupt to the GIC (see `exceptions::irq_exception`). The handler
//! runs inside `wait_for_interrupt`, so it never races kernel or app code.

use super::gic::{self, SpiError};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// How many device interrupts can have handlers at once.
const HANDLERS: usize = 16;

/// How a device signals its interrupt line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Edge,
    /// Level-triggered (PCI INTx, virtio-mmio): the handler must acknowledge
    /// the device or the interrupt fires again after end-of-interrupt.
    Level,
}

/// Why a device interrupt could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqError {
    /// Not an SPI of this GIC (INTIDs 32 up to the given limit).
    NoSuchLine(u32, u32),
    /// No interrupt controller in the device tree.
    NoController,
    /// All handler slots are in use.
    NoSlot,
}

impl core::fmt::Display for IrqError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            IrqError::NoSuchLine(intid, limit) => {
                write!(f, "INTID {intid} is not a shared peripheral interrupt of this GIC (32-{})", limit - 1)
            }
            IrqError::NoController => f.write_str("no interrupt controller"),
            IrqError::NoSlot => write!(f, "all {HANDLERS} device interrupt handlers are in use"),
        }
    }
}

/// Registered INTIDs (0 = free slot) and their handlers, as `fn()` addresses.
static LINES: [AtomicU32; HANDLERS] = [const { AtomicU32::new(0) }; HANDLERS];
static FUNCTIONS: [AtomicUsize; HANDLERS] = [const { AtomicUsize::new(0) }; HANDLERS];

/// Routes SPI `intid` to this CPU and calls `handler` each time it fires
/// (inside `wait_for_interrupt`). The line starts unmasked.
pub fn enable_device_irq(intid: u32, trigger: Trigger, handler: fn()) -> Result<(), IrqError> {
    // Replace the handler of a line registered before, else take a free slot.
    let slot = LINES
        .iter()
        .position(|l| l.load(Ordering::Acquire) == intid)
        .or_else(|| {
            LINES.iter().position(|l| l.compare_exchange(0, intid, Ordering::AcqRel, Ordering::Acquire).is_ok())
        })
        .ok_or(IrqError::NoSlot)?;
    if let Err(e) = gic::configure_spi(intid, trigger == Trigger::Edge) {
        LINES[slot].store(0, Ordering::Release);
        return Err(match e {
            SpiError::NoController => IrqError::NoController,
            SpiError::OutOfRange(limit) => IrqError::NoSuchLine(intid, limit),
        });
    }
    FUNCTIONS[slot].store(handler as usize, Ordering::Release);
    gic::set_spi_enabled(intid, true);
    Ok(())
}

/// Stops SPI `intid` from interrupting (it stays configured).
pub fn mask_device_irq(intid: u32) {
    gic::set_spi_enabled(intid, false)
}

/// Lets SPI `intid` interrupt again after [`mask_device_irq`].
pub fn unmask_device_irq(intid: u32) {
    gic::set_spi_enabled(intid, true)
}

/// Calls the handler registered for `intid`; `false` if there is none.
pub(super) fn dispatch(intid: u32) -> bool {
    let Some(slot) = LINES.iter().position(|l| l.load(Ordering::Acquire) == intid) else {
        return false;
    };
    let handler = FUNCTIONS[slot].load(Ordering::Acquire);
    if handler == 0 {
        return false;
    }
    // SAFETY: non-zero entries are `fn()` pointers stored by
    // `enable_device_irq`.
    let handler: fn() = unsafe { core::mem::transmute::<usize, fn()>(handler) };
    handler();
    true
}
