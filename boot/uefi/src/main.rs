//! The UEFI loader: an EFI application (`/EFI/BOOT/BOOTX64.EFI` or
//! `BOOTAA64.EFI`) that reads `\APPLIANCE\KERNEL` and `\APPLIANCE\CMDLINE`
//! from the volume it was loaded from and enters the kernel exactly as
//! QEMU's direct boot does: through PVH on x86_64, through the arm64
//! `Image` protocol on aarch64. The kernel's entry paths do not change.
//!
//! On the host (for `cargo test`) only the pure parts build: ELF and
//! device-tree parsing and the memory map conversion.

#![cfg_attr(target_os = "uefi", no_std, no_main)]

extern crate alloc;

#[cfg(any(test, all(target_os = "uefi", target_arch = "x86_64")))]
mod elf;
#[cfg(any(test, all(target_os = "uefi", target_arch = "aarch64")))]
mod fdt;
#[cfg(any(test, target_os = "uefi"))]
mod memmap;

#[cfg(all(target_os = "uefi", target_arch = "aarch64"))]
#[path = "aarch64.rs"]
mod arch;
#[cfg(all(target_os = "uefi", target_arch = "x86_64"))]
#[path = "x86_64.rs"]
mod arch;
#[cfg(target_os = "uefi")]
mod efi;

/// The size of `\APPLIANCE\CMDLINE`: the command line, NUL-padded.
#[cfg(target_os = "uefi")]
const CMDLINE_BYTES: usize = 4096;

#[cfg(target_os = "uefi")]
#[global_allocator]
static ALLOCATOR: efi::PoolAllocator = efi::PoolAllocator;

/// The firmware calls this with our image handle and its system table.
#[cfg(target_os = "uefi")]
#[unsafe(no_mangle)]
extern "efiapi" fn efi_main(image: efi::Handle, system_table: *mut efi::SystemTable) -> efi::Status {
    efi::init(system_table);
    match load(image) {
        Ok(never) => match never {},
        Err(message) => {
            efi::print(&alloc::format!("appliance loader: {message}\n"));
            efi::LOAD_ERROR
        }
    }
}

#[cfg(target_os = "uefi")]
fn load(image: efi::Handle) -> Result<core::convert::Infallible, alloc::string::String> {
    let block = efi::read_file(image, "\\APPLIANCE\\CMDLINE")?;
    if block.len() != CMDLINE_BYTES {
        return Err(alloc::format!("\\APPLIANCE\\CMDLINE is {} bytes, not {CMDLINE_BYTES}", block.len()));
    }
    let end = block.iter().position(|&b| b == 0).ok_or("\\APPLIANCE\\CMDLINE has no terminating NUL")?;
    let cmdline = core::str::from_utf8(&block[..end]).map_err(|_| "\\APPLIANCE\\CMDLINE is not UTF-8")?;
    let kernel = efi::File::open(image, "\\APPLIANCE\\KERNEL")?;
    efi::print(&alloc::format!(
        "appliance loader: kernel {} KiB, command line \"{cmdline}\"\n",
        kernel.size().div_ceil(1024)
    ));
    arch::boot(image, kernel, cmdline)
}

#[cfg(target_os = "uefi")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Formatting straight to the console: the allocator may be gone.
    let _ = core::fmt::Write::write_fmt(&mut efi::Console, format_args!("appliance loader: panic: {info}\n"));
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(not(target_os = "uefi"))]
fn main() {
    eprintln!("the UEFI loader runs under firmware: build a disk with `cargo xtask image --format uefi`");
    std::process::exit(2);
}
