//! Boot tests: the hello appliance on every machine profile, the command
//! line, the log level, and clear reports of panics and CPU faults.

use qemu_tests::disk::DiskAttachment;
use qemu_tests::{Boot, Machine};
use std::time::Duration;

/// Generous: a cold QEMU under TCG on a loaded 2-core machine.
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

fn boot(machine: &str, cmdline: &str) -> Machine {
    let boot = Boot::app("hello", machine).unwrap_or_else(|e| panic!("{e}")).cmdline(cmdline);
    Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"))
}

fn hello_passes(machine: &str) {
    let mut m = boot(machine, "loglevel=info -- first second");
    let banner = m.wait_for("Hello from the", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let arch = qemu_tests::Profile::load(machine).unwrap().arch;
    assert!(banner.contains(&format!("the {arch} appliance")), "banner names the architecture: {banner}");
    assert!(banner.contains(r#"app arguments ["first", "second"]"#), "app arguments reach main: {banner}");
    m.wait_for("heap: ", BOOT_TIMEOUT).map(|l| assert!(l.ends_with(": ok"), "{l}")).unwrap_or_else(|e| panic!("{e}"));
    m.wait_for("timer: slept 50 ms", BOOT_TIMEOUT)
        .map(|l| assert!(l.ends_with(": ok"), "{l}"))
        .unwrap_or_else(|e| panic!("{e}"));
    m.wait_for("wall clock: ", BOOT_TIMEOUT)
        .map(|l| assert!(l.ends_with(": ok"), "{l}"))
        .unwrap_or_else(|e| panic!("{e}"));
    m.wait_for("hello: all checks passed", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let status = m.wait_for_exit(BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 0, "clean exit powers off with status 0\n{}", m.transcript());
}

/// Two virtio-blk disks on the machine's transports (one on each where it
/// has both): the kernel finds both, and hello writes, flushes and reads
/// back sectors on each, with several writes in flight.
fn disks_work(machine: &str) {
    let profile = qemu_tests::Profile::load(machine).unwrap();
    two_disks_work(machine, "virtio", |index, path| {
        DiskAttachment::new(path).qemu_args(index, profile.transports[index % profile.transports.len()])
    });
}

/// Two NVMe controllers, namespaces of 512- and 4096-byte blocks: the
/// kernel lists each with its serial and size, and hello's round trip
/// (whole blocks, then one sector inside a block) works on both.
fn nvme_disks_work(machine: &str) {
    let m = two_disks_work(machine, "nvme", |index, path| {
        DiskAttachment::nvme(path, [512, 4096][index]).qemu_args(index, qemu_tests::network::Transport::Pci)
    });
    for (index, line) in [(0, "disk 0: NVMe"), (1, "disk 1: NVMe")] {
        let listed =
            m.transcript().lines().find(|l| l.contains(line)).unwrap_or_else(|| panic!("{line}\n{}", m.transcript()));
        assert!(listed.contains(&format!("serial \"disk{index}\"")), "{listed}");
        assert_eq!(listed.contains("4096-byte blocks"), index == 1, "{listed}");
    }
}

/// Boots hello with a 64 MiB and a 16 MiB disk attached by `attach` (its
/// QEMU arguments for disk `index` at a path; `kind` names the scratch
/// directory): both are found with their serials, and pass hello's write,
/// flush and read-back.
fn two_disks_work(machine: &str, kind: &str, attach: impl Fn(usize, &std::path::Path) -> Vec<String>) -> Machine {
    let dir = std::env::temp_dir().join(format!("appliance-disks-{kind}-{machine}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut boot = Boot::app("hello", machine).unwrap_or_else(|e| panic!("{e}")).cmdline("");
    for (index, size) in [(0usize, 64u64 << 20), (1, 16 << 20)] {
        let path = dir.join(format!("disk{index}.img"));
        std::fs::File::create(&path).and_then(|f| f.set_len(size)).unwrap();
        boot.qemu_args.extend(attach(index, &path));
    }
    let mut m = Machine::start(&boot).unwrap_or_else(|e| panic!("{e}"));
    for (index, mib) in [(0, 64), (1, 16)] {
        let line = m.wait_for(&format!("disk {index}: {mib} MiB"), BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        assert!(line.starts_with(&format!("disk {index}: {mib} MiB, serial \"disk{index}\"")), "{line}");
        assert!(line.contains("flush supported") && line.ends_with(": ok"), "{line}");
    }
    m.wait_for("hello: all checks passed", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.wait_for_exit(BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}")), 0);
    let _ = std::fs::remove_dir_all(&dir);
    m
}

fn reports_failure(machine: &str, selftest: &str, expected: &[&str]) {
    let mut m = boot(machine, &format!("selftest={selftest}"));
    let line = m.wait_for("KERNEL PANIC", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let status = m.wait_for_exit(BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    // The panic message may continue on the next line (file:line, then the message).
    let report = m.transcript()[m.transcript().find(&line).unwrap()..].to_string();
    for needle in expected {
        assert!(report.contains(needle), "the report names {needle:?}:\n{report}");
    }
    assert_eq!(status, 101, "a panic powers off with status 101\n{}", m.transcript());
}

fn log_level_is_honoured(machine: &str) {
    let mut m = boot(machine, "loglevel=warn");
    m.wait_for("hello: all checks passed", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.wait_for_exit(BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}")), 0);
    assert!(!m.transcript().contains(" INFO "), "loglevel=warn hides info lines:\n{}", m.transcript());
    let mut m = boot(machine, "loglevel=debug");
    m.wait_for(" DEBUG ", BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
}

macro_rules! machine_tests {
    ($module:ident, $machine:literal) => {
        mod $module {
            use super::*;

            #[test]
            fn hello_boots_and_exits_cleanly() {
                hello_passes($machine);
            }

            #[test]
            fn panic_is_reported_with_nonzero_status() {
                reports_failure($machine, "panic", &["selftest.rs", "deliberate panic"]);
            }

            #[test]
            fn page_fault_is_reported_with_the_address() {
                reports_failure($machine, "pagefault", &["page fault", "address 0x10", "not mapped"]);
            }

            #[test]
            fn stack_overflow_is_reported() {
                reports_failure($machine, "stackoverflow", &["CPU exception"]);
            }

            #[test]
            fn running_out_of_memory_names_the_size() {
                reports_failure($machine, "oom", &["memory allocation of 1099511627776 bytes failed"]);
            }

            #[test]
            fn two_disks_write_flush_and_read_back() {
                disks_work($machine);
            }

            #[test]
            fn nvme_disks_are_listed_with_serial_and_size_and_work() {
                nvme_disks_work($machine);
            }

            #[test]
            fn log_level_comes_from_the_command_line() {
                log_level_is_honoured($machine);
            }
        }
    };
}

machine_tests!(x86_64_q35, "q35");
machine_tests!(aarch64_virt, "virt");

#[test]
fn x86_64_microvm_boots() {
    hello_passes("microvm");
}

#[test]
fn x86_64_microvm_disks_on_virtio_mmio() {
    disks_work("microvm");
}

#[test]
fn aarch64_virt_gicv3_cpu_max_boots() {
    hello_passes("virt-gicv3");
}
