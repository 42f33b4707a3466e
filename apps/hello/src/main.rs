//! The hello appliance: proves the kernel's services work end to end.
//! Prints a banner, uses the heap (`Vec`, `BTreeMap`), sleeps 50 ms on the
//! timer interrupt and checks the measured time, reads the wall clock, then
//! exits with status 0 (or 1 if a check failed).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use kernel::println;
use kernel::time::{Duration, Instant, sleep};

kernel::app_main!(main);

fn main(args: &[&str]) -> i32 {
    println!(
        "Hello from the {} appliance: {} MiB RAM, loaded by {}, command line \"{}\", app arguments {:?}",
        kernel::system::arch(),
        kernel::system::memory_bytes() >> 20,
        kernel::system::loader(),
        kernel::system::command_line(),
        args
    );
    let mut failures = 0;

    // The heap: a vector and an ordered map with a few thousand entries.
    let squares: Vec<u64> = (0..10_000u64).map(|i| i * i).collect();
    let mut words: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for i in 0..2_000u64 {
        words.insert(i * 7 % 2_000, alloc::format!("value-{i}").into_bytes());
    }
    let heap_ok = squares[9_999] == 99_980_001 && words.len() == 2_000 && words.keys().copied().eq(0..2_000);
    let (used, total) = kernel::system::heap_usage();
    println!("heap: {} KiB used of {} MiB: {}", used >> 10, total >> 20, verdict(heap_ok));
    failures += usize::from(!heap_ok);

    // The timer: sleep 50 ms and check the clock agrees within reason.
    let start = Instant::now();
    sleep(Duration::from_millis(50));
    let slept = start.elapsed();
    let timer_ok = slept >= Duration::from_millis(50) && slept < Duration::from_millis(500);
    println!("timer: slept 50 ms, measured {} us: {}", slept.as_micros(), verdict(timer_ok));
    failures += usize::from(!timer_ok);

    // The wall clock: read from the real-time clock at boot (QEMU's follows
    // the host's), so it must be well past 2020.
    let unix = kernel::time::unix_time().as_secs();
    let clock_ok = unix > 1_600_000_000;
    println!("wall clock: {unix} s since the Unix epoch: {}", verdict(clock_ok));
    failures += usize::from(!clock_ok);

    // Storage: on every attached disk, write a pattern over the last 64
    // KiB (several requests in flight), flush, read it back, and put the
    // old contents back.
    for info in kernel::storage::disks() {
        let ok = disk_round_trip(info.index).unwrap_or_else(|e| {
            println!("disk {}: {e}", info.index);
            false
        });
        println!(
            "disk {}: {} MiB, serial {:?}, flush {}: write, flush, read back: {}",
            info.index,
            info.sectors >> 11,
            info.serial,
            if info.can_flush { "supported" } else { "NOT supported" },
            verdict(ok)
        );
        failures += usize::from(!ok);
    }

    if failures == 0 {
        println!("hello: all checks passed");
        0
    } else {
        println!("hello: {failures} check(s) failed");
        1
    }
}

fn disk_round_trip(index: usize) -> Result<bool, kernel::storage::DiskError> {
    const SECTORS: u64 = 128;
    let mut disk = kernel::storage::Disk::open(index)?;
    let first = disk.info().sectors.saturating_sub(SECTORS);
    let mut saved = alloc::vec![0u8; SECTORS as usize * 512];
    disk.read(first, &mut saved)?;
    let pattern: Vec<u8> = (0..saved.len()).map(|i| (i * 31 + index * 7 + 1) as u8).collect();
    // One write per 4 KiB, so several are in flight at once.
    for (i, chunk) in pattern.chunks(4096).enumerate() {
        disk.write(first + (i * 8) as u64, chunk)?;
    }
    disk.flush()?;
    let mut back = alloc::vec![0u8; pattern.len()];
    disk.read(first, &mut back)?;
    // One sector alone (part of a block on a disk with 4 KiB blocks): the
    // sectors around it keep what they held.
    let one = [0xA5u8; 512];
    disk.write(first + 3, &one)?;
    let mut block = alloc::vec![0u8; 4096];
    disk.read(first, &mut block)?;
    let mut expected = pattern[..4096].to_vec();
    expected[3 * 512..4 * 512].copy_from_slice(&one);
    disk.write(first, &saved)?;
    disk.flush()?;
    Ok(back == pattern && block == expected)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "FAILED" }
}
