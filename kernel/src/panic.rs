//! The panic handler: print the message and location, power off non-zero.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    if PANICKING.swap(true, Ordering::Relaxed) {
        // A panic while panicking (e.g. in the console): stop right here.
        crate::arch::power_off(crate::power::PANIC_STATUS);
    }
    let micros = crate::time::since_entry().as_micros();
    crate::console::write_fmt_unlocked(format_args!(
        "[{:5}.{:06}] KERNEL PANIC: {}\n",
        micros / 1_000_000,
        micros % 1_000_000,
        info
    ));
    crate::arch::power_off(crate::power::PANIC_STATUS)
}
