//! x86_64 legacy-BIOS boot: the Redis appliance boots from a raw disk
//! through SeaBIOS (q35's default firmware) and the project's BIOS loader
//! (`boot/bios`), with no `-kernel`, serves a real client behind passt,
//! and runs with the command line stored on the disk.
//!
//! The disk is the minimal test layout of `xtask/src/diskimage/bios.rs`
//! (included below): a protective MBR, the loader, then the command line
//! and the kernel ELF as contiguous runs of sectors from LBA 8192, where
//! the ESP's files will be. It needs `cargo xtask image --app redis --arch
//! x86_64` (which also builds the loader).

#[allow(dead_code)]
#[path = "../../xtask/src/diskimage/bios.rs"]
mod bios;

use qemu_tests::network::PASST_BUFFERS;
use qemu_tests::redis::{BOOT_TIMEOUT, RedisAppliance};
use qemu_tests::resp::{Client, Reply, status};
use qemu_tests::{Accelerator, Arch, Boot, Machine, image_path};
use std::time::Duration;

/// What a boot took, from QEMU's start.
struct Timings {
    first_kernel_line: Duration,
    first_pong: Duration,
}

/// The BIOS loader's progress line on the serial console.
const LOADER_LINE: &str = "BIOS loader: loading the kernel from disk... ok, entering it";

/// Boots Redis with `customize`, requiring the password `secret`: checks
/// the loader's line (if `through_bios`), the kernel's first line and the
/// app's arguments, then that a client is refused before AUTH and gets
/// PONG after it.
fn boot_and_ping(through_bios: bool, kernel_args: &str, customize: impl FnOnce(Boot) -> Boot) -> Timings {
    let mut redis = RedisAppliance::start("q35", kernel_args, customize).unwrap_or_else(|e| panic!("{e}"));
    let m = &mut redis.machine;
    if through_bios {
        let line = m.wait_for("BIOS loader: ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(line, LOADER_LINE, "{}", m.transcript());
    }
    let banner = m.wait_for("x86_64 kernel ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let first_kernel_line = m.uptime();
    assert!(banner.contains("x86_64 kernel") && banner.contains("booted by pvh"), "{banner}");
    let usable_mib: u64 = banner
        .split('(')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no usable RAM figure in {banner:?}"));
    assert!((100..=128).contains(&usable_mib), "the memory map reaches the kernel: {banner}");
    let args = m.wait_for("starting the application with arguments", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert!(args.ends_with(r#"["--requirepass", "secret"]"#), "the stored command line is used: {args}");
    m.wait_for("redis: ready, listening on ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));

    let mut client = Client::connect(redis.port).unwrap_or_else(|e| panic!("connecting: {e}"));
    match client.call(&["PING"]) {
        Ok(Reply::Error(e)) => assert!(e.starts_with("NOAUTH"), "{e}"),
        other => panic!("PING without AUTH: {other:?}"),
    }
    assert_eq!(client.call(&["AUTH", "secret"]).unwrap(), status("OK"));
    assert_eq!(client.call(&["PING"]).unwrap(), status("PONG"));
    Timings { first_kernel_line, first_pong: redis.machine.uptime() }
}

#[test]
fn x86_64_redis_boots_from_a_bios_disk_with_its_stored_command_line() {
    let kernel_path = image_path("redis", Arch::X86_64);
    let kernel = std::fs::read(&kernel_path).unwrap_or_else(|e| {
        panic!("{}: {e}: build it with `cargo xtask image --app redis --arch x86_64`", kernel_path.display())
    });
    let cmdline = format!("{PASST_BUFFERS} -- --requirepass secret");
    let (disk, _) = bios::test_disk(&loader(), &kernel, &cmdline).unwrap_or_else(|e| panic!("{e}"));
    let path = std::env::temp_dir().join(format!("appliance-bios-disk-{}.img", std::process::id()));
    std::fs::write(&path, &disk).unwrap();

    let bios = boot_and_ping(true, "", |boot| boot.bios_disk(&path));
    let _ = std::fs::remove_file(&path);
    // The same appliance through QEMU's -kernel (PVH), for comparison.
    let pvh = boot_and_ping(false, &cmdline, |boot| boot);
    eprintln!(
        "boot times from QEMU's start ({}): BIOS disk: first kernel line {:.2} s, first PONG {:.2} s; \
         -kernel (PVH): {:.2} s, {:.2} s",
        Accelerator::detect(Arch::X86_64).qemu_arg(),
        bios.first_kernel_line.as_secs_f64(),
        bios.first_pong.as_secs_f64(),
        pvh.first_kernel_line.as_secs_f64(),
        pvh.first_pong.as_secs_f64()
    );
}

/// Boots `disk` through SeaBIOS (no network) and waits for a console line
/// containing `needle`; returns it.
fn bios_console_line(disk: &[u8], name: &str, needle: &str) -> String {
    let path = std::env::temp_dir().join(format!("appliance-bios-{name}-{}.img", std::process::id()));
    std::fs::write(&path, disk).unwrap();
    let boot = Boot::app("redis", "q35").unwrap_or_else(|e| panic!("{e}")).bios_disk(&path);
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
