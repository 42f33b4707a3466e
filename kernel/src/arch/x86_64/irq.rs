//! Device interrupts on x86_64: I/O APIC routing of a GSI to one of 16
//! vectors, and a small registry of handlers.
//!
//! A device interrupt runs its registered handler (which must acknowledge the
//! device, so a level-triggered line drops), then signals end-of-interrupt to
//! the local APIC. The handler runs inside `wait_for_interrupt`, so it never
//! races kernel or app code; the CPU then returns from `wait_for_interrupt`
//! and the code that was waiting polls whatever the device made ready.
//!
//! I/O APICs come from ACPI's MADT when there is one; otherwise the standard
//! address 0xFEC00000 (GSIs 0-23), plus microvm's second I/O APIC at
//! 0xFEC10000 (GSIs 24-47) when it answers.

use super::apic;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;
use x86_64::structures::idt::{InterruptDescriptorTable, InterruptStackFrame};

/// The first vector for device interrupts, and how many there are.
pub const DEVICE_VECTOR_BASE: u8 = 0x30;
const DEVICE_VECTORS: usize = 16;

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
    /// No I/O APIC input with this GSI.
    NoSuchLine(u32),
    /// All device vectors are in use.
    NoVector,
}

impl core::fmt::Display for IrqError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            IrqError::NoSuchLine(gsi) => write!(f, "no I/O APIC input for GSI {gsi}"),
            IrqError::NoVector => write!(f, "all {DEVICE_VECTORS} device interrupt vectors are in use"),
        }
    }
}

/// Handlers by vector index (0 = free), as `fn()` addresses.
static HANDLERS: [AtomicUsize; DEVICE_VECTORS] = [const { AtomicUsize::new(0) }; DEVICE_VECTORS];

#[derive(Clone, Copy, Debug)]
struct IoApic {
    base: usize,
    gsi_base: u32,
    inputs: u32,
}

impl IoApic {
    fn read(&self, reg: u32) -> u32 {
        // SAFETY: `base` is an I/O APIC's register page, mapped as device
        // memory (inside `device_windows`, or by `map_device`); the
        // select/window pair is not interleaved (one thread, interrupts masked).
        unsafe {
            (self.base as *mut u32).write_volatile(reg);
            ((self.base + 0x10) as *const u32).read_volatile()
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            (self.base as *mut u32).write_volatile(reg);
            ((self.base + 0x10) as *mut u32).write_volatile(value);
        }
    }

    /// Opens the I/O APIC at physical `base` if one answers there.
    fn probe(base: u64, gsi_base: u32) -> Option<IoApic> {
        let base = crate::memory::map_device(base, 0x1000);
        let probe = IoApic { base, gsi_base, inputs: 0 };
        let version = probe.read(1);
        let inputs = ((version >> 16) & 0xFF) + 1;
        // Real I/O APICs have version 0x1X or 0x20; nothing decoded reads as
        // all ones or all zeros.
        (matches!(version & 0xFF, 0x10..=0x20) && inputs > 1).then_some(IoApic { inputs, ..probe })
    }
}

static IOAPICS: Mutex<Option<heapless::Vec<IoApic, 4>>> = Mutex::new(None);

fn with_ioapic<R>(gsi: u32, f: impl FnOnce(&IoApic, u32) -> R) -> Option<R> {
    let mut guard = IOAPICS.lock();
    let ioapics = guard.get_or_insert_with(discover);
    ioapics.iter().find(|a| gsi >= a.gsi_base && gsi < a.gsi_base + a.inputs).map(|a| f(a, gsi - a.gsi_base))
}

fn discover() -> heapless::Vec<IoApic, 4> {
    let mut found = heapless::Vec::new();
    let listed = crate::acpi::ioapics();
    let candidates: &[(u64, u32)] =
        if listed.is_empty() { &[(0xFEC0_0000, 0), (0xFEC1_0000, 24)] } else { listed.as_slice() };
    for &(base, gsi_base) in candidates {
        if let Some(ioapic) = IoApic::probe(base, gsi_base) {
            log::debug!("I/O APIC at {base:#x}: GSIs {}-{}", gsi_base, gsi_base + ioapic.inputs - 1);
            let _ = found.push(ioapic);
        }
    }
    found
}

/// Routes interrupt line `gsi` to a free vector and calls `handler` each
/// time it fires (inside `wait_for_interrupt`). The line starts unmasked.
pub fn enable_device_irq(gsi: u32, trigger: Trigger, handler: fn()) -> Result<(), IrqError> {
    let index = HANDLERS
        .iter()
        .position(|h| h.compare_exchange(0, handler as usize, Ordering::AcqRel, Ordering::Acquire).is_ok())
        .ok_or(IrqError::NoVector)?;
    let vector = u32::from(DEVICE_VECTOR_BASE) + index as u32;
    // Fixed delivery, physical destination APIC 0 (the boot CPU); level
    // lines active-low as ACPI describes PCI and virtio interrupts (QEMU's
    // I/O APIC ignores the polarity bit).
    let low = match trigger {
        Trigger::Edge => vector,
        Trigger::Level => vector | (1 << 15) | (1 << 13),
    };
    let routed = with_ioapic(gsi, |ioapic, pin| {
        ioapic.write(0x11 + 2 * pin, 0);
        ioapic.write(0x10 + 2 * pin, low);
    });
    if routed.is_none() {
        HANDLERS[index].store(0, Ordering::Release);
        return Err(IrqError::NoSuchLine(gsi));
    }
    Ok(())
}

fn set_masked(gsi: u32, masked: bool) {
    with_ioapic(gsi, |ioapic, pin| {
        let low = ioapic.read(0x10 + 2 * pin);
        let low = if masked { low | (1 << 16) } else { low & !(1 << 16) };
        ioapic.write(0x10 + 2 * pin, low);
    });
}

/// Stops interrupt line `gsi` from interrupting (it stays routed).
pub fn mask_device_irq(gsi: u32) {
    set_masked(gsi, true)
}

/// Lets interrupt line `gsi` interrupt again after [`mask_device_irq`].
pub fn unmask_device_irq(gsi: u32) {
    set_masked(gsi, false)
}

fn dispatch(index: usize) {
    let handler = HANDLERS[index].load(Ordering::Acquire);
    if handler != 0 {
        // SAFETY: non-zero entries are `fn()` pointers stored by
        // `enable_device_irq`.
        let handler: fn() = unsafe { core::mem::transmute::<usize, fn()>(handler) };
        handler();
    }
    apic::end_of_interrupt();
}

macro_rules! device_stubs {
    ($($index:literal)*) => {
        [$({
            extern "x86-interrupt" fn stub(_frame: InterruptStackFrame) {
                dispatch($index)
            }
            stub as extern "x86-interrupt" fn(InterruptStackFrame)
        }),*]
    };
}

/// Installs the device vectors in the IDT.
pub(super) fn install(idt: &mut InterruptDescriptorTable) {
    let stubs = device_stubs!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    for (i, stub) in stubs.into_iter().enumerate() {
        idt[DEVICE_VECTOR_BASE + i as u8].set_handler_fn(stub);
    }
}
