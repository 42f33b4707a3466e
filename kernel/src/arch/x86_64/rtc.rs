//! The PC's CMOS real-time clock (MC146818 at I/O ports 0x70/0x71), read
//! once at boot for the wall-clock time.

use crate::time::CivilTime;
use x86_64::instructions::port::Port;

fn cmos(register: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 select and read a CMOS register; bit 7 of the
    // index keeps NMIs disabled as they already are. No memory is involved.
    unsafe {
        Port::<u8>::new(0x70).write(register | 0x80);
        Port::<u8>::new(0x71).read()
    }
}

fn update_in_progress() -> bool {
    cmos(0x0A) & 0x80 != 0
}

fn snapshot() -> [u8; 7] {
    [cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)]
}

/// The RTC's current date and time (UTC, as QEMU and cloud hosts keep it),
/// or `None` if it reads as nonsense.
pub fn read_rtc() -> Option<CivilTime> {
    // Read twice until two reads agree outside an update cycle (an update
    // takes ~2 ms; bounded so a missing RTC cannot hang the boot).
    let mut previous = None;
    for _ in 0..1000 {
        while update_in_progress() {
            core::hint::spin_loop();
        }
        let now = snapshot();
        if previous == Some(now) {
            return decode(now, cmos(0x0B));
        }
        previous = Some(now);
    }
    None
}

fn decode([sec, min, hour, day, month, year, century]: [u8; 7], status_b: u8) -> Option<CivilTime> {
    let binary = status_b & 0x04 != 0;
    let bcd = |v: u8| if binary { v } else { (v & 0x0F) + (v >> 4) * 10 };
    let mut h = bcd(hour & 0x7F);
    if status_b & 0x02 == 0 && hour & 0x80 != 0 {
        h = (h % 12) + 12; // 12-hour mode, PM
    }
    let century = match bcd(century) {
        c @ 19..=21 => u32::from(c),
        _ => 20,
    };
    let time = CivilTime {
        year: century * 100 + u32::from(bcd(year)),
        month: bcd(month),
        day: bcd(day),
        hour: h,
        minute: bcd(min),
        second: bcd(sec),
    };
    time.is_valid().then_some(time)
}
