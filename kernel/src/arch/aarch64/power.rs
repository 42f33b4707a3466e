//! Powering off: QEMU semihosting first (it makes QEMU exit with the status),
//! then PSCI SYSTEM_OFF, then halting.

use super::devicetree::{self, PsciConduit};
use core::arch::{asm, global_asm};

/// Semihosting operation SYS_EXIT; on AArch64 its parameter points to a
/// block of (reason, exit status).
const SYS_EXIT: u64 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;
/// PSCI 0.2+ SYSTEM_OFF function ID.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

// A semihosting call: `hlt #0xf000` with the operation in x0 and its
// parameter in x1. QEMU traps it when run with `-semihosting-config
// enable=on`; otherwise it is an undefined instruction, which the exception
// handler recognises by its address and skips.
global_asm!(
    r#"
.pushsection .text.semihosting, "ax"
.global semihosting_call
semihosting_call:
    hlt     #0xf000
    ret
.popsection
"#
);

unsafe extern "C" {
    fn semihosting_call(operation: u64, parameter: u64) -> u64;
}

/// Address of the semihosting `hlt` instruction.
pub fn semihosting_hlt_address() -> u64 {
    semihosting_call as *const () as u64
}

/// Powers the machine off with exit `status` (QEMU's exit status with
/// semihosting on).
pub fn power_off(status: u8) -> ! {
    let block: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, u64::from(status)];
    // SAFETY: SYS_EXIT only reads the two-word block, which lives until the
    // call returns (it does not, unless semihosting is off).
    unsafe { semihosting_call(SYS_EXIT, block.as_ptr() as u64) };

    match devicetree::get().psci {
        // SAFETY: PSCI SYSTEM_OFF through the conduit the device tree names;
        // it does not return on success, and may clobber the caller-saved
        // registers if it fails.
        Some(PsciConduit::Hvc) => unsafe {
            asm!("hvc #0", inout("x0") PSCI_SYSTEM_OFF => _, clobber_abi("C"), options(nostack))
        },
        // SAFETY: as above, through the secure monitor.
        Some(PsciConduit::Smc) => unsafe {
            asm!("smc #0", inout("x0") PSCI_SYSTEM_OFF => _, clobber_abi("C"), options(nostack))
        },
        None => {}
    }
    loop {
        // SAFETY: masks all exceptions and waits; nothing is left to run.
        unsafe { asm!("msr daifset, #0xf", "wfi", options(nomem, nostack)) };
    }
}
