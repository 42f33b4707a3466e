//! The x86_64 legacy-BIOS loader: MBR boot code (`mbr.S`) and stage 2
//! (`stage2.S`), written as 16-bit assembly and linked by `bios.ld` into
//! flat bytes that `cargo xtask` (`xtask/src/diskimage/bios.rs`) writes to
//! a disk: the boot code into LBA 0, stage 2 into the BIOS boot partition
//! (LBA 34 onward).
//!
//! The same bytes boot a CD: `cargo xtask image --format iso` makes them
//! El Torito's "no emulation" boot image (boot code in the first 2048-byte
//! sector, stage 2 after it) and points them at CD sectors
//! (`xtask/src/diskimage/iso.rs`).
//!
//! Stage 2 reads the kernel ELF and the command line from the disk, loads
//! the ELF's segments and enters the kernel through its PVH entry point,
//! exactly as QEMU's `-kernel` does: the kernel's entry path is unchanged.
#![no_std]
#![no_main]

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(include_str!("mbr.S"), options(att_syntax));
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(include_str!("stage2.S"), options(att_syntax));

/// Nothing here calls into Rust; the handler only satisfies `no_std`.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
