//! Data disks for appliances: QEMU's virtio-blk, attached the way the NIC
//! is (PCI or virtio-mmio), with the cache mode that honours the guest's
//! flushes and errors reported to the guest rather than pausing the VM.

use crate::network::Transport;
use std::path::{Path, PathBuf};

/// A disk image to attach.
#[derive(Clone, Debug)]
pub struct DiskAttachment {
    pub path: PathBuf,
    /// QEMU's image format, from the name: `qcow2` for `*.qcow2`, else `raw`.
    pub format: &'static str,
    /// Wrap the image in QEMU's `blkdebug` driver with this rules file
    /// (error injection for tests).
    pub blkdebug: Option<PathBuf>,
}

impl DiskAttachment {
    pub fn new(path: &Path) -> DiskAttachment {
        let format = if path.extension().is_some_and(|e| e == "qcow2") { "qcow2" } else { "raw" };
        DiskAttachment { path: path.to_path_buf(), format, blkdebug: None }
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
        let device = match transport {
            Transport::Pci => "virtio-blk-pci",
            Transport::Mmio => "virtio-blk-device",
        };
        vec![
            "-drive".into(),
            format!("{file},if=none,id=disk{index},cache=writeback,werror=report,rerror=report"),
            "-device".into(),
            format!("{device},drive=disk{index},serial=disk{index}"),
        ]
    }
}
