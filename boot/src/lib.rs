//! Boot entry paths: everything between the firmware or loader and the kernel's
//! first Rust function.
//!
//! Each entry path (PVH on x86_64, the arm64 `Image` protocol on aarch64) brings
//! the CPU into a sane state (long mode / MMU on, a stack, cleared BSS), reads
//! what its loader handed over and turns it into one neutral [`BootInfo`], then
//! calls the kernel's `kernel_main`. A new entry path (for example the
//! `bootloader_api` disk-image entry) only has to produce a `BootInfo`.
#![cfg_attr(not(test), no_std)]

mod info;
pub mod pvh_abi;
pub use info::{BootInfo, CommandLine, FirmwareTables, MemoryKind, MemoryMap, MemoryRegion};

// The entry paths exist only in bare-metal builds; host builds (unit tests)
// see just the neutral boot information.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
mod aarch64;
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
mod x86_64;

#[cfg(target_os = "none")]
unsafe extern "Rust" {
    /// The kernel's first Rust function, defined by the `kernel` crate.
    fn kernel_main(info: &'static BootInfo) -> !;
}

#[cfg(target_os = "none")]
/// Hands the finished boot information to the kernel. Called once per boot by
/// the entry path.
fn enter_kernel(info: &'static BootInfo) -> ! {
    // SAFETY: `kernel_main` is the kernel's entry point with exactly this
    // signature; the boot path calls it once, with the CPU fully set up.
    unsafe { kernel_main(info) }
}
