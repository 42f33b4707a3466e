//! The Redis appliance's UEFI disk image (`cargo xtask image --format uefi`)
//! booted as a hypervisor boots it: firmware and the disk on virtio-blk,
//! no `-kernel`, no `-append`. One boot per firmware path: OVMF (x86_64),
//! AAVMF and U-Boot's `bootefi` (aarch64).
//!
//! Each boot takes a copy of the image and stores a new command line in it
//! with `cargo xtask image config` (read back to check the round trip),
//! which sets a password: the appliance must then refuse PING without AUTH
//! (NOAUTH) and answer PONG after it, to a client behind passt. That the
//! password is demanded shows the command line came from the disk.

use qemu_tests::network::{Backend, Forward, Network, PASST_BUFFERS, Transport, free_port};
use qemu_tests::redis::BOOT_TIMEOUT;
use qemu_tests::resp::{Client, Reply, status};
use qemu_tests::{Arch, Boot, Firmware, Machine, repo_root, uefi_image_path};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `cargo xtask ARGS` (the xtask the workspace builds); its standard output.
fn xtask(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args(["run", "--quiet", "--package", "xtask", "--"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo xtask: {e}"));
    assert!(out.status.success(), "cargo xtask {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// A private copy of the built Redis disk image, removed when dropped.
struct ScratchImage(PathBuf);

impl ScratchImage {
    fn copy_of(arch: Arch, label: &str) -> ScratchImage {
        let built = uefi_image_path("redis", arch);
        assert!(
            built.exists(),
            "no {}: build it with `cargo xtask image --app redis --arch {arch} --format uefi`",
            built.display()
        );
        let dir = repo_root().join("target/firmware");
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join(format!("redis-{arch}-{label}-{}.img", std::process::id()));
        std::fs::copy(&built, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
        ScratchImage(copy)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Boots the Redis disk image for `arch` on `machine` through `firmware`
/// after storing a password in it; checks NOAUTH, AUTH and PONG; returns
/// the time from QEMU's start to the first PONG.
fn boots_from_disk_and_demands_the_stored_password(arch: Arch, machine: &str, label: &str, firmware: Firmware) {
    let image = ScratchImage::copy_of(arch, label);
    let path = image.path().to_str().expect("a UTF-8 path");

    // `image config` prints the stored line, and replaces it in place.
    let before = xtask(&["image", "config", path]);
    let cmdline = format!("{PASST_BUFFERS} -- --protected-mode no --requirepass secret");
    let mut args = vec!["image", "config", path, "--"];
    args.extend(cmdline.split(' '));
    assert_eq!(xtask(&args), cmdline, "image config prints the new command line (was {before:?})");
    assert_eq!(xtask(&["image", "config", path]), cmdline, "the new command line is stored");

    let port = free_port();
    let network = Network::start(Backend::Passt, Transport::Pci, &[Forward { host: port, guest: 6379 }])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut boot = Boot::disk_image(image.path(), machine, firmware).unwrap_or_else(|e| panic!("{e}"));
    if arch == Arch::Aarch64 {
        // With 128 MiB, AAVMF keeps runtime code 4 MiB into RAM, inside the
        // range the kernel is linked at (0x40200000..); with 256 MiB it
        // keeps the start of RAM free.
        boot = boot.memory(qemu_tests::firmware::AARCH64_MIN_MEMORY);
    }
    boot.qemu_args.extend(network.qemu_args.iter().cloned());
    let started = Instant::now();
    let mut vm = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("appliance loader: entering the kernel", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("redis: ready, listening on ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert!(vm.transcript().contains("appliance loader: kernel "), "the loader says what it loads");

    let mut client = Client::connect(port).unwrap_or_else(|e| panic!("connecting to the appliance: {e}"));
    match client.call(&["PING"]).unwrap() {
        Reply::Error(e) if e.starts_with("NOAUTH") => {}
        other => panic!("PING without AUTH: expected NOAUTH, got {other:?}\n{}", vm.transcript()),
    }
    assert_eq!(client.call(&["AUTH", "secret"]).unwrap(), status("OK"));
    assert_eq!(client.call(&["PING"]).unwrap(), status("PONG"));
    eprintln!("{label}: first PONG {:.1} s after QEMU started", started.elapsed().as_secs_f64());
    drop(vm);
    drop(network);
}

#[test]
fn x86_64_ovmf_boots_the_uefi_disk() {
    let firmware = Firmware::uefi(Arch::X86_64).unwrap_or_else(|e| panic!("{e}"));
    boots_from_disk_and_demands_the_stored_password(Arch::X86_64, "q35", "ovmf", firmware);
}

#[test]
fn aarch64_aavmf_boots_the_uefi_disk() {
    let firmware = Firmware::uefi(Arch::Aarch64).unwrap_or_else(|e| panic!("{e}"));
    boots_from_disk_and_demands_the_stored_password(Arch::Aarch64, "virt", "aavmf", firmware);
}

#[test]
fn aarch64_uboot_bootefi_boots_the_uefi_disk() {
    let firmware = Firmware::uboot(Arch::Aarch64).unwrap_or_else(|e| panic!("{e}"));
    boots_from_disk_and_demands_the_stored_password(Arch::Aarch64, "virt", "u-boot", firmware);
}
