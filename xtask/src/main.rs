//! `cargo xtask`: the project's host tool.
//!
//! - `setup`: finds or installs the toolchain and QEMU.
//! - `image --app NAME --arch ARCH [--release] [--format elf|bios|uefi|qcow2|vmdk|vhd|gce|iso] [--size SIZE]
//!   [-- ARGS]`: builds a bootable image (see `formats.rs`); `image config PATH [-- ARGS]` prints or
//!   changes a raw disk image's command line.
//! - `run --image PATH [--firmware uefi|bios|uboot]`: boots a disk image through firmware (same options).
//! - `run --app NAME [--arch ARCH] [--machine M] [--memory SIZE] [--release] [--net B] [--transport T]
//!   [--forward HOST:GUEST]... [--disk [nvme:]PATH]... [-- KERNEL ARGS]`
//! - `test [--arch ARCH|all] [--no-bench]`: formatting, lints, host tests, QEMU-booted tests, and
//!   `bench --quick` as a smoke test.
//! - `lint`: formatting and clippy for host crates and both bare-metal targets.
//! - `fuzz [--seconds N] [--runs N] [--max-len N] [--no-trace-cmp] [--asan]`: the Redis engine's
//!   libFuzzer target.
//! - `bench [--arch ARCH|all] [--machine PROFILE] [--quick]`: the Redis appliance against a Debian Linux baseline.
//! - `disk create|info|export|import`: the Redis appliance's data disks (see `disk.rs`).
//! - `conformance [--arch ARCH|all] [--units core|types|extended|all|NAMES] [--profile default|needs]`: Redis's TCL
//!   suite against the appliance and Debian's real Redis, side by side.

mod args;
mod bench;
mod cargo;
mod conformance;
mod disk;
mod diskimage;
mod elf;
mod formats;
mod fuzz;
mod image;
mod setup;
mod toolchain;

use args::Args;
use qemu_tests::disk::{DiskAttachment, Interface};
use qemu_tests::network::{self, Backend, Forward, Network, Transport};
use qemu_tests::{Arch, Boot, Firmware, Profile};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command> [options]

commands:
  setup                                   install or find the toolchain and QEMU
  image --app NAME [--arch ARCH] [--release] [--format FORMAT] [--size SIZE] [-- KERNEL ARGS [-- APP ARGS]]
                                          build a bootable image, print its path and size; FORMAT:
                                          elf (default, for -kernel), bios or uefi (the raw GPT disk,
                                          command line stored in it; on x86_64 it boots with both),
                                          qcow2, vmdk, vhd, gce, iso (CD)
  image config PATH [-- ARGS]             print or replace the command line stored in a raw disk image
  run --app NAME [--arch ARCH] [--machine PROFILE] [--memory SIZE] [--release]
      [--net passt|user|tap|none] [--transport pci|mmio] [--forward HOST:GUEST]... [--disk [nvme:]PATH]...
      [-- KERNEL ARGS]
  run --image PATH [--firmware uefi|bios|uboot] [--arch ARCH] [same options, no -- ARGS]
                                          build and boot under QEMU, console on this terminal;
                                          apps with ports (echo: 7007->7) get a virtio-net NIC
                                          on passt forwarding 127.0.0.1:HOST to the guest;
                                          each --disk attaches a virtio-blk data disk
                                          (nvme:PATH: an NVMe one; nvme4k:PATH: 4096-byte blocks);
                                          --image boots a disk image through firmware, no -kernel
  test [--arch x86_64|aarch64|all] [--no-bench]
                                          formatting, lints, host tests, QEMU-booted tests and a
                                          benchmark smoke run (bench --quick)
  lint                                    cargo fmt --check and clippy (host and bare-metal)
  bench [--arch x86_64|aarch64|all] [--machine PROFILE] [--quick] [--network user|passt|tap]
                                          Redis appliance vs Debian Linux baseline (target/bench/)
  conformance [--arch ARCH|all] [--units core|types|extended|all|U1,U2] [--profile default|needs]
                                          Redis's TCL suite: the appliance beside Debian's real Redis
                                          (target/conformance/)
  fuzz [--seconds N] [--runs N] [--max-len N] [--no-trace-cmp] [--asan]
                                          the Redis engine's fuzz target (default 60 s, target/fuzz/)
  disk create PATH --size SIZE            an empty data disk for `run --disk` (raw; qcow2 if PATH ends in .qcow2)
  disk info PATH                          what is on a data disk
  disk export PATH [--rdb FILE] [--aof DIR]
                                          its dataset as a dump.rdb / a Redis 7.0 multi-part AOF directory
  disk import FILE.rdb PATH               seed a data disk with a dump from Redis

ARCH is x86_64 or aarch64 (default: this machine's). Machine profiles live in qemu/.";

/// Host crates whose unit tests run on this machine (the bare-metal crates
/// are exercised by the QEMU-booted tests in `qemu-tests`).
const HOST_TESTED: &[&str] = &["redis-engine", "store", "xtask", "kernel", "boot", "uefi-loader"];

/// A failure with a message that says what to do next.
pub type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let mut args = Args::from_env();
    let result = match args.command().as_deref() {
        Some("setup") => setup::run(&args).map(|_| ExitCode::SUCCESS),
        Some("image") => image_command(&mut args),
        Some("run") => run_command(&mut args),
        Some("test") => test_command(&mut args),
        Some("lint") => lint(),
        Some("bench") => bench::run(&mut args),
        Some("fuzz") => fuzz::run(&mut args),
        Some("conformance") => conformance::run(&mut args),
        Some("disk") => disk::run(&mut args),
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a step, so every command says what it is doing.
pub fn step(message: &str) {
    eprintln!("==> {message}");
}

fn arch_option(args: &mut Args) -> Result<Arch> {
    match args.value("--arch")? {
        None => Ok(Arch::host()),
        Some(name) => Arch::parse(&name)
            .ok_or_else(|| format!("unknown architecture '{name}': use --arch x86_64 or --arch aarch64")),
    }
}

fn app_option(args: &mut Args) -> Result<String> {
    let app = args.value("--app")?.ok_or("missing --app NAME (for example --app hello)")?;
    image::check_app(&app)?;
    Ok(app)
}

fn image_command(args: &mut Args) -> Result<ExitCode> {
    if args.subcommand("config") {
        return image_config(args);
    }
    let app = app_option(args)?;
    let arch = arch_option(args)?;
    let release = args.flag("--release");
    let format = formats::Format::parse(&args.value("--format")?.unwrap_or_else(|| "elf".into()))?;
    format.check_arch(arch)?;
    let size = match args.value("--size")? {
        None => None,
        Some(s) => Some(
            qemu_tests::datadisk::parse_size(&s)
                .ok_or_else(|| format!("bad --size '{s}': use for example 64M or 1G"))?,
        ),
    };
    let cmdline = args.rest().join(" ");
    args.finish()?;
    let image = if format == formats::Format::Elf {
        if size.is_some() || !cmdline.is_empty() {
            return Err("--size and `-- ARGS` are for disk images: add --format uefi (or another disk format)".into());
        }
        image::build(&app, arch, release)?
    } else {
        let raw_size = format.raw_size(size.unwrap_or(diskimage::DEFAULT_SIZE));
        match format.file_name(&app, arch) {
            None => image::build_uefi(&app, arch, release, raw_size, &cmdline)?,
            Some(name) => {
                // The raw disk it is made from is this format's own.
                let out = qemu_tests::image_dir().join(name);
                let raw = out.with_file_name(format!("{app}-{arch}-{}.raw.tmp", format.name()));
                image::build_disk(&app, arch, release, raw_size, &cmdline, &raw)?;
                step(&format!("converting to {}: {}", format.name(), out.display()));
                let converted = format.convert(&raw, &out);
                let _ = std::fs::remove_file(&raw);
                converted?;
                out
            }
        }
    };
    let size = std::fs::metadata(&image).map(|m| m.len()).unwrap_or(0);
    println!("{} ({} KiB)", image.display(), size.div_ceil(1024));
    Ok(ExitCode::SUCCESS)
}

/// `image config PATH [-- ARGS]`: prints the command line stored in a disk
/// image, or replaces it (in place, without rebuilding).
fn image_config(args: &mut Args) -> Result<ExitCode> {
    let path = args.positional().ok_or("missing PATH: `cargo xtask image config PATH [-- ARGS]`")?;
    let had_rest = args.separated();
    let cmdline = args.rest().join(" ");
    args.finish()?;
    let path = std::path::PathBuf::from(path);
    let files = diskimage::locate(&path)?;
    step(&format!(
        "{}: /APPLIANCE/KERNEL at LBA {} ({} bytes), /APPLIANCE/CMDLINE at LBA {}",
        path.display(),
        files.kernel.lba,
        files.kernel.bytes,
        files.cmdline.lba
    ));
    if had_rest {
        diskimage::write_cmdline(&path, &cmdline)?;
        step(&format!("{}: command line set", path.display()));
    }
    println!("{}", diskimage::read_cmdline(&path)?);
    Ok(ExitCode::SUCCESS)
}

fn run_command(args: &mut Args) -> Result<ExitCode> {
    // `--image PATH`: a disk image booted through firmware; its file name
    // (NAME-ARCH-uefi.img) names the app, for the default port forwards.
    let disk_image = args.value("--image")?.map(std::path::PathBuf::from);
    let firmware_name = args.value("--firmware")?;
    let app = match &disk_image {
        None if firmware_name.is_some() => return Err("--firmware boots a disk image: add --image PATH".into()),
        None => app_option(args)?,
        Some(path) => {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.split('-').next().unwrap_or_default().to_string()
        }
    };
    let machine = args.value("--machine")?;
    let transport = match args.value("--transport")? {
        None => None,
        Some(t) => Some(Transport::parse(&t).ok_or_else(|| format!("unknown transport '{t}': use pci or mmio"))?),
    };
    let arch = match (&machine, args.value("--arch")?) {
        (_, Some(name)) => {
            Arch::parse(&name).ok_or_else(|| format!("unknown architecture '{name}': use x86_64 or aarch64"))?
        }
        (Some(m), None) => Profile::load(m)?.arch,
        (None, None) => match &disk_image {
            Some(path) if qemu_tests::firmware::disk_format(path) == "raw" && !qemu_tests::firmware::is_iso(path) => {
                diskimage::arch_of(path)?
            }
            // qcow2, VMDK, VHD, ISO: the architecture from the name `image` gave it.
            Some(path) => path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split(['-', '.']).find_map(Arch::parse))
                .ok_or_else(|| format!("{}: which architecture? add --arch x86_64|aarch64", path.display()))?,
            None => Arch::host(),
        },
    };
    // Without --machine, the architecture's machine for the transport (on
    // x86_64, virtio-mmio needs microvm; aarch64 virt has both).
    let machine = match (machine, transport) {
        (Some(m), _) => m,
        (None, Some(t)) => arch.default_machine_for(t).to_string(),
        (None, None) => arch.default_machine().to_string(),
    };
    let profile = Profile::load(&machine)?;
    if profile.arch != arch {
        return Err(format!("machine '{}' is {}, not {arch}: pick another --machine", profile.name, profile.arch));
    }
    let offered = profile.transports.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or ");
    let transport = match transport {
        None => profile.transports.first().copied().unwrap_or(Transport::Pci),
        Some(t) if profile.transports.contains(&t) => t,
        Some(t) => {
            return Err(format!(
                "machine '{}' has no {} transport for virtio-net: use --transport {offered} or another --machine",
                profile.name,
                t.name()
            ));
        }
    };
    let mut forwards = Vec::new();
    while let Some(spec) = args.value("--forward")? {
        forwards.push(Forward::parse(&spec).ok_or_else(|| format!("bad --forward '{spec}': use HOST:GUEST"))?);
    }
    if forwards.is_empty() {
        forwards = network::default_forwards(&app);
    }
    let backend = match args.value("--net")? {
        Some(name) => {
            Backend::parse(&name).ok_or_else(|| format!("unknown --net '{name}': use passt, tap, user or none"))?
        }
        // An app with no ports to forward runs without a NIC.
        None if forwards.is_empty() => Backend::None,
        None => Backend::Passt,
    };
    let mut disks = Vec::new();
    while let Some(spec) = args.value("--disk")? {
        let disk = DiskAttachment::parse(&spec)?;
        let path = &disk.path;
        if !path.exists() {
            return Err(format!(
                "no disk image {}: make one with `cargo xtask disk create {} --size 1G`",
                path.display(),
                path.display()
            ));
        }
        if disk.interface != Interface::Virtio && !profile.transports.contains(&Transport::Pci) {
            return Err(format!(
                "--disk {spec}: NVMe needs PCI, which {} lacks: use --machine q35 or virt",
                profile.name
            ));
        }
        disks.push(disk);
    }
    let memory = args.value("--memory")?;
    let release = args.flag("--release");
    let cmdline = args.rest().join(" ");
    if disk_image.is_some() && args.separated() {
        return Err("a disk image boots with the command line stored in it: change that with \
                    `cargo xtask image config PATH -- ARGS`"
            .into());
    }
    args.finish()?;

    setup::ensure_qemu(arch)?;
    let backend = if backend == Backend::Passt && setup::ensure_passt().is_err() {
        step("passt is not available: falling back to QEMU user-mode networking (slirp)");
        Backend::User
    } else {
        backend
    };
    let (image, firmware) = match disk_image {
        None => (image::build(&app, arch, release)?, Firmware::Direct),
        Some(path) => {
            let firmware = match firmware_name.as_deref().unwrap_or("uefi") {
                "uefi" => {
                    setup::ensure_uefi_firmware(arch)?;
                    Firmware::uefi(arch)?
                }
                "uboot" => {
                    setup::ensure_uboot()?;
                    Firmware::uboot(arch)?
                }
                "bios" => Firmware::bios(arch)?,
                other => {
                    return Err(format!("unknown --firmware '{other}': use uefi, bios (x86_64) or uboot (aarch64)"));
                }
            };
            let format = qemu_tests::firmware::disk_format(&path);
            if format == "raw" && !qemu_tests::firmware::is_iso(&path) {
                step(&format!(
                    "disk image {} ({arch}), command line {:?}",
                    path.display(),
                    diskimage::read_cmdline(&path)?
                ));
            } else {
                step(&format!("disk image {} ({arch}, {format})", path.display()));
            }
            (path, firmware)
        }
    };
    let network = Network::start(backend, transport, &forwards)?;
    step(&format!("network: {}", network.description));
    let cmdline = match backend {
        Backend::Passt => network::passt_cmdline(&network::loopback_only_cmdline(&app, &cmdline)),
        Backend::User => network::loopback_only_cmdline(&app, &cmdline),
        _ => cmdline,
    };
    let mut qemu_args = network.qemu_args.clone();
    for (index, disk) in disks.iter().enumerate() {
        step(&format!("disk {index}: {} ({}, {})", disk.path.display(), disk.format, disk.interface.name()));
        qemu_args.extend(disk.qemu_args(index, transport));
    }
    // A user compares the appliance's clock with the host's (TIME, PXAT).
    let boot = Boot { profile: profile.clone(), image, memory, cmdline, qemu_args, align_clock: true, firmware };
    step(&format!(
        "booting {app} on {} ({}, {} acceleration); the console follows, Ctrl-A X quits",
        profile.name,
        profile.description,
        qemu_tests::Accelerator::detect(arch).qemu_arg()
    ));
    let status = boot
        .command("mon:stdio")
        .status()
        .map_err(|e| format!("cannot start {}: {e}; run `cargo xtask setup`", arch.qemu_binary()))?;
    drop(network);
    let code = status.code().unwrap_or(-1);
    match profile.exit.decode(code) {
        Some(guest) => {
            step(&format!("{app} powered off with exit status {guest}"));
            Ok(ExitCode::from(guest.clamp(0, 255) as u8))
        }
        None => Err(format!("QEMU exited with status {code} without the guest powering off")),
    }
}

fn test_command(args: &mut Args) -> Result<ExitCode> {
    let arches: Vec<Arch> = match args.value("--arch")?.as_deref() {
        None | Some("all") => Arch::ALL.to_vec(),
        Some(name) => vec![Arch::parse(name).ok_or_else(|| format!("unknown architecture '{name}'"))?],
    };
    let bench_smoke = !args.flag("--no-bench");
    args.finish()?;
    setup::run_quietly()?;
    lint()?;

    step("host unit tests");
    let mut host_tests = vec!["test"];
    for package in HOST_TESTED {
        host_tests.extend(["-p", package]);
    }
    // The kernel crate uses unstable features (the x86 interrupt ABI), which
    // a stable host compiler accepts with RUSTC_BOOTSTRAP, as for the image.
    let mut totals = cargo::test(&host_tests, &[("RUSTC_BOOTSTRAP", "1")])?;
    // A minute of the engine's fuzz target: it must find nothing.
    step("fuzzing the Redis engine: cargo xtask fuzz --seconds 60");
    run_self(&["fuzz", "--seconds", "60"], "`cargo xtask fuzz --seconds 60`")?;
    totals.passed += 1;

    for &arch in &arches {
        image::build("hello", arch, false)?;
        // The network tests (tests/tests/net.rs) boot the echo appliance.
        image::build("echo", arch, false)?;
        // tests/tests/redis.rs boots the Redis appliance.
        image::build("redis", arch, false)?;
        // tests/tests/disk_images.rs boots its disk image through firmware (and
        // stores its own command line in a copy).
        image::build_uefi("redis", arch, false, diskimage::DEFAULT_SIZE, "")?;
    }
    step(&format!("QEMU-booted tests ({})", arches.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")));
    let filters: Vec<String> = Arch::ALL
        .iter()
        .filter(|a| !arches.contains(a))
        .flat_map(|a| ["--skip".to_string(), a.name().to_string()])
        .collect();
    let mut test_args = vec!["test", "-p", "qemu-tests", "--"];
    test_args.extend(filters.iter().map(String::as_str));
    totals.add(cargo::test(&test_args, &[])?);
    // Redis's own test suite, beside Debian's real Redis: a test that
    // passes there must pass against the appliance (or be listed, with
    // its reason, in tests/conformance/).
    let arch_names: Vec<&str> = arches.iter().map(|a| a.name()).collect();
    let arch_arg = if arches.len() == Arch::ALL.len() { "all".to_string() } else { arch_names.join(",") };
    step(&format!("Redis's TCL suite: cargo xtask conformance --units core,types --arch {arch_arg}"));
    run_self(
        &["conformance", "--units", "core,types", "--arch", &arch_arg],
        "`cargo xtask conformance --units core,types`",
    )?;
    totals.passed += 1;
    if bench_smoke {
        // The benchmark is checked to still work, not timed: its ratios
        // are reported, only a failure to build, boot or serve fails here.
        for &arch in &arches {
            step(&format!("benchmark smoke run: cargo xtask bench --quick --arch {arch}"));
            bench_quick(arch)?;
            totals.passed += 1;
        }
    }
    step("all tests passed");
    // One closing line for the whole run (CI reads the last result line).
    println!("summary: {} passed, 0 failed, {} skipped", totals.passed, totals.ignored);
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask bench --quick --arch ARCH`, as its own process (the
/// benchmark re-enters this binary inside a network namespace).
fn bench_quick(arch: Arch) -> Result<()> {
    let what = format!("`cargo xtask bench --quick --arch {arch}`");
    run_self(&["bench", "--quick", "--arch", arch.name()], &what).map_err(|e| format!("{e}; `--no-bench` skips it"))
}

/// Runs this binary with `args` as its own process; `what` names it in errors.
/// Runs another xtask command through cargo (as `cargo xtask` does), not
/// this process's executable: a test that runs `cargo xtask` may have
/// rebuilt and so replaced that file meanwhile.
fn run_self(args: &[&str], what: &str) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(qemu_tests::repo_root())
        .args(["run", "--quiet", "--package", "xtask", "--"])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

fn lint() -> Result<ExitCode> {
    step("cargo fmt --check");
    cargo::run(&["fmt", "--all", "--check"])
        .map_err(|e| format!("{e}\nrun `cargo fmt --all` to fix the formatting"))?;
    step("clippy: host crates");
    cargo::run(&["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"])?;
    for arch in Arch::ALL {
        step(&format!("clippy: kernel and apps for {arch}"));
        image::clippy(arch)?;
        step(&format!("clippy: the UEFI loader for {arch}"));
        image::clippy_loader(arch)?;
    }
    Ok(ExitCode::SUCCESS)
}
