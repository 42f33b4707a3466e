//! The x86_64 legacy-BIOS loader (`boot/bios`) says what went wrong: a
//! kernel that is not an ELF file, a missing stage 2. (The Redis disk
//! image booting through SeaBIOS is in disk_images.rs.)
//!
//! The disks are the minimal test layout of `xtask/src/diskimage/bios.rs`
//! (included below): a protective MBR, the loader, then the command line
//! and the kernel as contiguous runs of sectors from LBA 8192, as in the
//! ESP. It needs `cargo xtask image --app redis --arch x86_64` (which also
//! builds the loader).

#[allow(dead_code)]
#[path = "../../xtask/src/diskimage/bios.rs"]
mod bios;

use qemu_tests::redis::BOOT_TIMEOUT;
use qemu_tests::{Arch, Boot, Firmware, Machine, image_path};

/// Boots `disk` through SeaBIOS (no network) and waits for a console line
/// containing `needle`; returns it.
fn bios_console_line(disk: &[u8], name: &str, needle: &str) -> String {
    let path = std::env::temp_dir().join(format!("appliance-bios-{name}-{}.img", std::process::id()));
    std::fs::write(&path, disk).unwrap();
    let boot = Boot::disk_image(&path, "q35", Firmware::Bios).unwrap_or_else(|e| panic!("{e}"));
    let mut m = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    let line = m.wait_for(needle, BOOT_TIMEOUT);
    let _ = std::fs::remove_file(&path);
    line.unwrap_or_else(|e| panic!("{e}"))
}

fn loader() -> bios::Loader {
    bios::Loader::read(&bios::loader_path()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn x86_64_bios_loader_reports_a_kernel_that_is_not_an_elf() {
    let (disk, _) = bios::test_disk(&loader(), &b"not an ELF file ".repeat(4096), "").unwrap();
    let line = bios_console_line(&disk, "not-elf", "BIOS loader: ");
    assert_eq!(line, "BIOS loader: loading the kernel from disk... failed: the kernel is not a valid x86_64 ELF file");
}

#[test]
fn x86_64_mbr_reports_a_missing_stage2() {
    let kernel = std::fs::read(image_path("redis", Arch::X86_64)).unwrap_or_else(|e| panic!("{e}"));
    let (mut disk, _) = bios::test_disk(&loader(), &kernel, "").unwrap();
    disk[34 * bios::SECTOR..35 * bios::SECTOR].fill(0);
    assert_eq!(bios_console_line(&disk, "no-stage2", "MBR: "), "MBR: no stage 2 at LBA 34");
}
