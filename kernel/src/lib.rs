//! The library kernel: it owns the machine after the boot path hands over.
//!
//! Start-up order ([`start`]): console, CPU exception handling, the
//! command line and log level, physical memory and the kernel's own page
//! tables, the heap, interrupts and the timer; then the one application runs.
//! Architecture-specific code sits behind [`arch`]; everything else is shared.
//!
//! Execution model: one CPU, one thread. Kernel and app code run with
//! interrupts disabled; interrupts are taken only while the CPU idles in
//! [`arch::wait_for_interrupt`], so handlers never race the code they interrupt
//! and need no locks against it.
//!
//! Host builds (`cargo test`) compile everything but the entry point, the
//! panic handler and the global allocator, so the pure logic (frame
//! allocator, page-table walk, command line, time) is unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(target_arch = "x86_64", feature(abi_x86_interrupt))]
#![allow(internal_features)]
#![feature(allow_internal_unsafe)]

extern crate alloc;

#[cfg(target_arch = "x86_64")]
mod acpi;
pub mod arch;
mod cmdline;
mod console;
mod irq;
pub mod memory;
pub mod net;
#[cfg(target_os = "none")]
mod panic;
pub mod power;
pub mod random;
mod selftest;
pub mod storage;
pub mod system;
pub mod time;
mod virtio;

pub use cmdline::CommandLine;
/// The `log` facade, so apps log through the kernel console with timestamps
/// (`kernel::log::info!`).
pub use log;

/// Declares an application's entry point. The app's `main` receives the
/// arguments given after `--` on the kernel command line and returns its exit
/// status; the kernel then powers the machine off with that status.
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// #![forbid(unsafe_code)]
/// kernel::app_main!(main);
/// fn main(args: &[&str]) -> i32 { 0 }
/// ```
///
/// It defines `kernel_main`, the function the boot path calls, so the only
/// unsafe step between firmware and app stays in `boot/`.
#[macro_export]
#[allow_internal_unsafe]
macro_rules! app_main {
    ($main:path) => {
        /// The kernel's first Rust function, called once by the boot path.
        #[unsafe(no_mangle)]
        fn kernel_main(info: &'static $crate::BootInfo) -> ! {
            $crate::start(info, $main)
        }
    };
}

pub use boot::BootInfo;

/// Brings the machine up, runs `app` with its arguments, and powers off with
/// the status it returns. Called by the `kernel_main` that [`app_main!`]
/// generates.
pub fn start(info: &'static BootInfo, app: fn(&[&str]) -> i32) -> ! {
    system::set_boot_info(info);
    arch::init_console(info);
    arch::init_cpu();
    let cmdline = cmdline::init(info.command_line.as_str());
    console::init_logger(cmdline.get("loglevel"));
    log::info!(
        "{} kernel {} booted by {} ({} MiB usable RAM)",
        arch::NAME,
        env!("CARGO_PKG_VERSION"),
        info.loader,
        info.usable_bytes() >> 20
    );
    memory::init(info);
    arch::init_interrupts(info);
    time::init();
    log::info!("kernel ready after {} us", time::since_entry().as_micros());

    if let Some(test) = cmdline.get("selftest") {
        selftest::run(test);
    }

    let args = cmdline.app_args();
    log::info!("starting the application with arguments {args:?}");
    let status = app(args);
    if let Some(stats) = net::statistics() {
        log::info!(
            "net: {} frames received ({} bad), {} sent, {} waited for a free transmit descriptor, {} dropped",
            stats.rx_packets,
            stats.rx_errors,
            stats.tx_packets,
            stats.tx_deferred,
            stats.tx_dropped
        );
    }
    power::exit(status)
}

#[doc(hidden)]
pub fn __console_write_fmt(args: core::fmt::Arguments) {
    console::write_fmt(args)
}
