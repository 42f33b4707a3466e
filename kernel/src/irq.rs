//! Device interrupt lines shared by several drivers.
//!
//! PCI's legacy INTx lines are few (four per slot group, fewer after the
//! platform's routing), so the network card and a disk often share one.
//! The architecture code runs one handler per line; here every line a
//! driver asked for gets the same dispatcher, which asks each registered
//! driver to acknowledge its device. Acknowledging a device that did not
//! interrupt is a harmless register read, and a level-triggered line drops
//! once every device on it is acknowledged.

use crate::arch;
use spin::Mutex;

/// Drivers' acknowledge functions, and the lines routed to the dispatcher.
/// Taken only outside interrupt handlers (interrupts are only taken while
/// the CPU idles, never while this is held), so `dispatch` always gets it.
static SHARED: Mutex<Shared> = Mutex::new(Shared { acks: alloc::vec::Vec::new(), lines: alloc::vec::Vec::new() });

struct Shared {
    acks: alloc::vec::Vec<fn()>,
    lines: alloc::vec::Vec<u32>,
}

/// Routes `line` (level-triggered) to the dispatcher, and adds `ack` to the
/// functions it calls. Errors say why the line cannot interrupt (the
/// driver then polls).
pub(crate) fn share_line(line: u32, ack: fn()) -> Result<(), arch::IrqError> {
    let mut shared = SHARED.lock();
    if !shared.acks.iter().any(|&f| core::ptr::fn_addr_eq(f, ack)) {
        shared.acks.push(ack);
    }
    if !shared.lines.contains(&line) {
        arch::enable_device_irq(line, arch::Trigger::Level, dispatch)?;
        shared.lines.push(line);
    }
    Ok(())
}

/// The handler of every shared line: each driver acknowledges its devices.
fn dispatch() {
    if let Some(shared) = SHARED.try_lock() {
        for ack in &shared.acks {
            ack();
        }
    }
}
