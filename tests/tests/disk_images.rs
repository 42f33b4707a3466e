//! The Redis appliance's disk images (`cargo xtask image --format ...`)
//! booted as a hypervisor boots them: firmware and the disk on virtio-blk,
//! no `-kernel`, no `-append`. One boot per firmware path: OVMF and SeaBIOS
//! (x86_64, the same disk), AAVMF and U-Boot's `bootefi` (aarch64); and
//! one per converted format, booted by QEMU in that format: qcow2, VMDK
//! and VHD, the raw disk out of GCE's archive, and the ISO as a CD-ROM
//! (UEFI only so far).
//!
//! The raw disk's boots take a copy of the image and store a new command
//! line in it with `cargo xtask image config` (read back to check the round
//! trip); the converted formats are built with it (`image ... -- ARGS`).
//! It sets a password: the appliance must then refuse PING without AUTH
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
fn copy_of_built_image(arch: Arch, label: &str) -> ScratchFile {
    let built = uefi_image_path("redis", arch);
    assert!(
        built.exists(),
        "no {}: build it with `cargo xtask image --app redis --arch {arch} --format uefi`",
        built.display()
    );
    let dir = repo_root().join("target/firmware");
    std::fs::create_dir_all(&dir).unwrap();
    ScratchFile::copy_of(&built, dir.join(format!("redis-{arch}-{label}-{}.img", std::process::id())))
}

/// The command line every test stores: passt's buffers, a password.
fn stored_cmdline() -> String {
    format!("{PASST_BUFFERS} -- --protected-mode no --requirepass secret")
}

/// Stores [`stored_cmdline`] in the raw disk `path` with `image config`.
fn configure(path: &Path) {
    let path = path.to_str().expect("a UTF-8 path");
    // `image config` prints the stored line, and replaces it in place.
    let before = xtask(&["image", "config", path]);
    let cmdline = stored_cmdline();
    let mut args = vec!["image", "config", path, "--"];
    args.extend(cmdline.split(' '));
    assert_eq!(xtask(&args), cmdline, "image config prints the new command line (was {before:?})");
    assert_eq!(xtask(&["image", "config", path]), cmdline, "the new command line is stored");
}

/// The line each loader prints when it hands over to the kernel.
fn loader_line(firmware: &Firmware) -> &'static str {
    match firmware {
        Firmware::Bios => "BIOS loader: loading the kernel from disk... ok, entering it",
        _ => "appliance loader: entering the kernel",
    }
}

/// Boots the disk `image` (holding [`stored_cmdline`]) for `arch` on
/// `machine` through `firmware`; checks NOAUTH, AUTH and PONG, and prints
/// the time from QEMU's start to the first PONG.
fn boots_and_demands_the_stored_password(image: &Path, arch: Arch, machine: &str, label: &str, firmware: Firmware) {
    let port = free_port();
    let network = Network::start(Backend::Passt, Transport::Pci, &[Forward { host: port, guest: 6379 }])
        .unwrap_or_else(|e| panic!("{e}"));
    let handover = loader_line(&firmware);
    let mut boot = Boot::disk_image(image, machine, firmware).unwrap_or_else(|e| panic!("{e}"));
    if arch == Arch::Aarch64 {
        // With 128 MiB, AAVMF keeps runtime code 4 MiB into RAM, inside the
        // range the kernel is linked at (0x40200000..); with 256 MiB it
        // keeps the start of RAM free.
        boot = boot.memory(qemu_tests::firmware::AARCH64_MIN_MEMORY);
    }
    boot.qemu_args.extend(network.qemu_args.iter().cloned());
    let started = Instant::now();
    let mut vm = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for(handover, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    vm.wait_for("redis: ready, listening on ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    // The boot disk has a partition table: the appliance leaves it alone
    // (a CD-ROM it does not see at all).
    if !qemu_tests::firmware::is_iso(image) {
        assert!(vm.transcript().contains("holds a partition table"), "{}", vm.transcript());
    }

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

/// The raw disk through `firmware`, with its command line set by `image config`.
fn raw_disk_boots(arch: Arch, machine: &str, label: &str, firmware: Firmware) {
    let image = copy_of_built_image(arch, label);
    configure(&image.0);
    boots_and_demands_the_stored_password(&image.0, arch, machine, label, firmware);
}

/// `cargo xtask image --format FORMAT -- ARGS` for Redis on `arch`; returns
/// the file it wrote (the last word of its output line, before the size).
fn build_format(arch: Arch, format: &str) -> PathBuf {
    let cmdline = stored_cmdline();
    let mut args = vec!["image", "--app", "redis", "--arch", arch.name(), "--format", format, "--"];
    args.extend(cmdline.split(' '));
    let out = xtask(&args);
    let path = out.lines().last().and_then(|l| l.split(" (").next()).unwrap_or_default();
    PathBuf::from(path)
}

#[test]
fn x86_64_ovmf_boots_the_uefi_disk() {
    let firmware = Firmware::uefi(Arch::X86_64).unwrap_or_else(|e| panic!("{e}"));
    raw_disk_boots(Arch::X86_64, "q35", "ovmf", firmware);
}

#[test]
fn x86_64_seabios_boots_the_same_disk() {
    let firmware = Firmware::bios(Arch::X86_64).unwrap_or_else(|e| panic!("{e}"));
    raw_disk_boots(Arch::X86_64, "q35", "seabios", firmware);
}

#[test]
fn aarch64_aavmf_boots_the_uefi_disk() {
    let firmware = Firmware::uefi(Arch::Aarch64).unwrap_or_else(|e| panic!("{e}"));
    raw_disk_boots(Arch::Aarch64, "virt", "aavmf", firmware);
}

#[test]
fn aarch64_uboot_bootefi_boots_the_uefi_disk() {
    let firmware = Firmware::uboot(Arch::Aarch64).unwrap_or_else(|e| panic!("{e}"));
    raw_disk_boots(Arch::Aarch64, "virt", "u-boot", firmware);
}

/// qcow2 (OVMF), VMDK (SeaBIOS) and VHD (OVMF), each booted by QEMU in its
/// own format.
#[test]
fn x86_64_qcow2_vmdk_and_vhd_boot_in_their_own_formats() {
    for (format, firmware) in [("qcow2", "uefi"), ("vmdk", "bios"), ("vhd", "uefi")] {
        let image = ScratchFile(build_format(Arch::X86_64, format));
        assert_eq!(qemu_tests::firmware::disk_format(&image.0), if format == "vhd" { "vpc" } else { format });
        let firmware = match firmware {
            "uefi" => Firmware::uefi(Arch::X86_64),
            _ => Firmware::bios(Arch::X86_64),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        boots_and_demands_the_stored_password(&image.0, Arch::X86_64, "q35", format, firmware);
    }
}

#[test]
fn aarch64_qcow2_boots_with_aavmf() {
    let image = ScratchFile(build_format(Arch::Aarch64, "qcow2"));
    let firmware = Firmware::uefi(Arch::Aarch64).unwrap_or_else(|e| panic!("{e}"));
    boots_and_demands_the_stored_password(&image.0, Arch::Aarch64, "virt", "qcow2", firmware);
}

/// The same ISO file written to a USB stick: a copy attached as a disk
/// (virtio-blk), which firmware boots through the MBR in its system area.
fn iso_as_a_disk(iso: &Path) -> ScratchFile {
    ScratchFile::copy_of(iso, iso.with_extension("stick.img"))
}

/// The ISO boots as a CD-ROM with UEFI firmware on both architectures,
/// and with a BIOS on x86_64: the same CD with OVMF and with SeaBIOS, then
/// the same file as a USB stick's disk with both.
#[test]
fn x86_64_iso_boots_as_a_cd_and_as_a_usb_stick_with_ovmf_and_seabios() {
    let image = ScratchFile(build_format(Arch::X86_64, "iso"));
    let stick = iso_as_a_disk(&image.0);
    for (path, medium) in [(&image.0, "cd"), (&stick.0, "stick")] {
        let firmware = Firmware::uefi(Arch::X86_64).unwrap_or_else(|e| panic!("{e}"));
        boots_and_demands_the_stored_password(path, Arch::X86_64, "q35", &format!("iso-{medium}-ovmf"), firmware);
        let firmware = Firmware::bios(Arch::X86_64).unwrap_or_else(|e| panic!("{e}"));
        boots_and_demands_the_stored_password(path, Arch::X86_64, "q35", &format!("iso-{medium}-seabios"), firmware);
    }
}

#[test]
fn aarch64_iso_boots_as_a_cd_and_as_a_usb_stick_with_aavmf() {
    let image = ScratchFile(build_format(Arch::Aarch64, "iso"));
    let stick = iso_as_a_disk(&image.0);
    for (path, label) in [(&image.0, "iso-cd"), (&stick.0, "iso-stick")] {
        let firmware = Firmware::uefi(Arch::Aarch64).unwrap_or_else(|e| panic!("{e}"));
        boots_and_demands_the_stored_password(path, Arch::Aarch64, "virt", label, firmware);
    }
}

/// GCE's archive holds exactly `disk.raw`, a whole number of GiB, and
/// that disk boots with OVMF.
#[test]
fn x86_64_gce_archive_holds_a_whole_gib_disk_that_boots() {
    let archive = ScratchFile(build_format(Arch::X86_64, "gce"));
    let listing = Command::new("tar").arg("-tvzf").arg(&archive.0).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let entries: Vec<&str> = listing.lines().collect();
    assert_eq!(entries.len(), 1, "one file: {listing}");
    assert!(entries[0].ends_with(" disk.raw"), "{listing}");
    let dir = repo_root().join(format!("target/firmware/gce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = ScratchFile(dir.clone());
    let ok = Command::new("tar").arg("-xzf").arg(&archive.0).arg("-C").arg(&dir).status().unwrap();
    assert!(ok.success());
    let disk = dir.join("disk.raw");
    let size = std::fs::metadata(&disk).unwrap().len();
    assert!(size > 0 && size.is_multiple_of(1 << 30), "disk.raw is {size} bytes, not a whole number of GiB");
    let firmware = Firmware::uefi(Arch::X86_64).unwrap_or_else(|e| panic!("{e}"));
    boots_and_demands_the_stored_password(&disk, Arch::X86_64, "q35", "gce", firmware);
}

/// A file or directory a test made, removed when dropped.
struct ScratchFile(PathBuf);

impl ScratchFile {
    /// A copy of `from` at `to`.
    fn copy_of(from: &Path, to: PathBuf) -> ScratchFile {
        let copy = ScratchFile(to);
        std::fs::copy(from, &copy.0).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        copy
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
