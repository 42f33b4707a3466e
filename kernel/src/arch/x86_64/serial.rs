//! The COM1 serial console (a 16550 UART at I/O port 0x3F8).

use uart_16550::SerialPort;

const COM1: u16 = 0x3F8;

pub fn init_console(_info: &boot::BootInfo) {
    // SAFETY: COM1 is the standard PC serial port at 0x3F8.
    let mut port = unsafe { SerialPort::new(COM1) };
    port.init();
}

/// Writes bytes, translating `\n` to `\r\n`. Needs no lock: the port is
/// stateless apart from its hardware FIFO.
pub fn console_write(bytes: &[u8]) {
    // SAFETY: as above; `SerialPort` holds only the port numbers.
    let mut port = unsafe { SerialPort::new(COM1) };
    for &b in bytes {
        if b == b'\n' {
            port.send(b'\r');
        }
        port.send(b);
    }
}
