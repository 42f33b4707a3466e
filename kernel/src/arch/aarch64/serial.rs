//! The console: an Arm PL011 UART (on QEMU `virt` at 0x0900_0000), found
//! through the device tree.

use core::sync::atomic::{AtomicUsize, Ordering};

// PL011 register offsets and bits (Arm PrimeCell UART (PL011) TRM).
const DR: usize = 0x00; // data register
const FR: usize = 0x18; // flag register
const LCR_H: usize = 0x2C; // line control
const CR: usize = 0x30; // control
const IMSC: usize = 0x38; // interrupt mask set/clear
const FR_BUSY: u32 = 1 << 3;
const FR_TXFF: u32 = 1 << 5; // transmit FIFO full
const LCR_H_FEN: u32 = 1 << 4; // FIFOs on
const LCR_H_WLEN_8: u32 = 0b11 << 5; // 8 data bits (no parity, 1 stop bit)
const CR_UARTEN: u32 = 1 << 0;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;

/// Base address of the UART registers (0 until `init`: output is dropped).
static BASE: AtomicUsize = AtomicUsize::new(0);

fn read(reg: usize) -> u32 {
    // SAFETY: BASE is the PL011 found in the device tree, mapped as device
    // memory (by the early boot map, then by `device_windows`); `reg` is a
    // register offset inside its 4 KiB page.
    unsafe { ((BASE.load(Ordering::Relaxed) + reg) as *const u32).read_volatile() }
}

fn write(reg: usize, value: u32) {
    // SAFETY: as in `read`.
    unsafe { ((BASE.load(Ordering::Relaxed) + reg) as *mut u32).write_volatile(value) }
}

/// Sets the UART up for polled output. The baud rate divisors are left as
/// the firmware set them (QEMU ignores them).
pub fn init(base: u64) {
    BASE.store(base as usize, Ordering::Relaxed);
    // Let the firmware's last characters drain, then disable the UART while
    // reprogramming it, as the TRM asks.
    while read(FR) & FR_BUSY != 0 {
        core::hint::spin_loop();
    }
    write(CR, 0);
    write(LCR_H, LCR_H_WLEN_8 | LCR_H_FEN);
    write(IMSC, 0); // no UART interrupts: the console is polled
    write(CR, CR_UARTEN | CR_TXE | CR_RXE);
}

/// Writes bytes, translating `\n` to `\r\n`. Needs no lock: each byte is one
/// register write, and the UART has no other state.
pub fn console_write(bytes: &[u8]) {
    if BASE.load(Ordering::Relaxed) == 0 {
        return;
    }
    for &b in bytes {
        if b == b'\n' {
            put(b'\r');
        }
        put(b);
    }
}

fn put(byte: u8) {
    // Wait for room in the transmit FIFO.
    while read(FR) & FR_TXFF != 0 {
        core::hint::spin_loop();
    }
    write(DR, u32::from(byte));
}
