//! Data disks for appliances: QEMU's virtio-blk, attached the way the NIC
//! is (PCI or virtio-mmio), or an NVMe controller on PCI (as clouds attach
//! data disks), with the cache mode that honours the guest's flushes and
//! errors reported to the guest rather than pausing the VM.

use crate::network::Transport;
use std::path::{Path, PathBuf};

/// How the guest sees a disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    /// virtio-blk, on the machine's transport (PCI or virtio-mmio).
    Virtio,
    /// An NVMe controller on PCI, the image its namespace 1 with logical
    /// blocks of `block_size` bytes (512 or 4096).
    Nvme { block_size: u32 },
}

impl Interface {
    /// The prefix of `--disk` that selects it: `virtio`, `nvme`, `nvme4k`
    /// (other block sizes: `nvme{size}`).
    pub fn name(self) -> String {
        match self {
            Interface::Virtio => String::from("virtio"),
            Interface::Nvme { block_size: 512 } => String::from("nvme"),
            Interface::Nvme { block_size: 4096 } => String::from("nvme4k"),
            Interface::Nvme { block_size } => format!("nvme{block_size}"),
        }
    }
}

/// A disk image to attach.
#[derive(Clone, Debug)]
pub struct DiskAttachment {
    pub path: PathBuf,
    pub interface: Interface,
    /// QEMU's image format, from the name: `qcow2` for `*.qcow2`, else `raw`.
    pub format: &'static str,
    /// Wrap the image in QEMU's `blkdebug` driver with this rules file
    /// (error injection for tests).
    pub blkdebug: Option<PathBuf>,
}

impl DiskAttachment {
    pub fn new(path: &Path) -> DiskAttachment {
        let format = if path.extension().is_some_and(|e| e == "qcow2") { "qcow2" } else { "raw" };
        DiskAttachment { path: path.to_path_buf(), interface: Interface::Virtio, format, blkdebug: None }
    }

    /// The image as an NVMe namespace with `block_size`-byte blocks.
    pub fn nvme(path: &Path, block_size: u32) -> DiskAttachment {
        DiskAttachment { interface: Interface::Nvme { block_size }, ..DiskAttachment::new(path) }
    }

    /// A disk from the command line: `PATH` or `virtio:PATH` (virtio-blk),
    /// `nvme:PATH` (NVMe, 512-byte blocks) or `nvme4k:PATH` (4096-byte).
    pub fn parse(spec: &str) -> Result<DiskAttachment, String> {
        let (interface, path) = match spec.split_once(':') {
            Some(("virtio", path)) => (Interface::Virtio, path),
            Some(("nvme", path)) => (Interface::Nvme { block_size: 512 }, path),
            Some(("nvme4k", path)) => (Interface::Nvme { block_size: 4096 }, path),
            Some((kind, _)) if !Path::new(spec).exists() && kind.chars().all(|c| c.is_ascii_alphanumeric()) => {
                return Err(format!(
                    "unknown disk interface '{kind}' in --disk {spec}: use --disk PATH (virtio-blk), --disk nvme:PATH or --disk nvme4k:PATH (NVMe with 4096-byte blocks)"
                ));
            }
            _ => (Interface::Virtio, spec),
        };
        Ok(DiskAttachment { interface, ..DiskAttachment::new(Path::new(path)) })
    }

    /// The QEMU arguments for disk number `index` (its drive id and serial
    /// are `disk{index}`).
    ///
    /// `cache=writeback` is QEMU's default: the guest sees a volatile write
    /// cache, and each virtio-blk FLUSH becomes an fdatasync of the image,
    /// so what the guest flushed survives the host crashing too.
    /// `werror=report,rerror=report`: an I/O error (a full host file system
    /// included) is the guest's to handle; QEMU's default would pause it.
    pub fn qemu_args(&self, index: usize, transport: Transport) -> Vec<String> {
        let file = match &self.blkdebug {
            // The format driver fires blkdebug's events on its child.
            Some(rules) => format!(
                "driver={},file.driver=blkdebug,file.config={},file.image.driver=file,file.image.filename={}",
                self.format,
                rules.display(),
                self.path.display()
            ),
            None => format!("file={},format={}", self.path.display(), self.format),
        };
        // QEMU's NVMe controller always reports a volatile write cache and
        // turns a FLUSH into an fdatasync, as virtio-blk does.
        let device = match (self.interface, transport) {
            (Interface::Virtio, Transport::Pci) => String::from("virtio-blk-pci"),
            (Interface::Virtio, Transport::Mmio) => String::from("virtio-blk-device"),
            (Interface::Nvme { block_size: 512 }, _) => String::from("nvme"),
            (Interface::Nvme { block_size }, _) => {
                format!("nvme,logical_block_size={block_size},physical_block_size={block_size}")
            }
        };
        vec![
            "-drive".into(),
            format!("{file},if=none,id=disk{index},cache=writeback,werror=report,rerror=report"),
            "-device".into(),
            format!("{device},drive=disk{index},serial=disk{index}"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_specs_name_the_interface() {
        let plain = DiskAttachment::parse("data.img").unwrap();
        assert_eq!((plain.interface, plain.path.as_path()), (Interface::Virtio, Path::new("data.img")));
        let nvme = DiskAttachment::parse("nvme:dir/data.qcow2").unwrap();
        assert_eq!(nvme.interface, Interface::Nvme { block_size: 512 });
        assert_eq!((nvme.path.as_path(), nvme.format), (Path::new("dir/data.qcow2"), "qcow2"));
        let big = DiskAttachment::parse("nvme4k:data.img").unwrap();
        assert_eq!(big.interface.name(), "nvme4k");
        let args = big.qemu_args(1, Transport::Pci).join(" ");
        assert!(
            args.contains("-device nvme,logical_block_size=4096,physical_block_size=4096,drive=disk1,serial=disk1")
        );
        let err = DiskAttachment::parse("scsi:data.img").unwrap_err();
        assert!(err.contains("unknown disk interface 'scsi'") && err.contains("--disk nvme:PATH"), "{err}");
    }
}
