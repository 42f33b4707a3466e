//! The pure pieces of the baseline's initramfs: a `newc` cpio writer, the
//! shared libraries and program interpreter an ELF file asks for, and the
//! dependencies and load order of Linux kernel modules (read from each
//! module's `.modinfo`, since Debian's kernel package ships no modules.dep).

use std::collections::{BTreeMap, BTreeSet};

/// One file-system object in the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir,
    File { data: Vec<u8>, executable: bool },
    Symlink(String),
    CharDevice { major: u32, minor: u32 },
}

/// An archive under construction: absolute paths to nodes. Parent
/// directories are added automatically.
#[derive(Default)]
pub struct Archive {
    nodes: BTreeMap<String, Node>,
}

impl Archive {
    pub fn add(&mut self, path: &str, node: Node) {
        let path = path.trim_start_matches('/');
        let mut parent = String::new();
        for part in path.split('/').take(path.split('/').count().saturating_sub(1)) {
            parent = if parent.is_empty() { part.to_string() } else { format!("{parent}/{part}") };
            self.nodes.entry(parent.clone()).or_insert(Node::Dir);
        }
        self.nodes.insert(path.to_string(), node);
    }

    /// The archive in the kernel's `newc` format (parents before children,
    /// because the paths are sorted and a parent is a prefix of its children).
    pub fn to_newc(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (path, node)) in self.nodes.iter().enumerate() {
            let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match node {
                Node::Dir => (0o040755, &[], (0, 0)),
                Node::File { data, executable: true } => (0o100755, data, (0, 0)),
                Node::File { data, executable: false } => (0o100644, data, (0, 0)),
                Node::Symlink(target) => (0o120777, target.as_bytes(), (0, 0)),
                Node::CharDevice { major, minor } => (0o020600, &[], (*major, *minor)),
            };
            let nlink = if matches!(node, Node::Dir) { 2 } else { 1 };
            write_entry(&mut out, ino as u32 + 1, mode, nlink, rdev, path, data);
        }
        write_entry(&mut out, 0, 0, 1, (0, 0), "TRAILER!!!", &[]);
        out
    }
}

fn write_entry(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, rdev: (u32, u32), name: &str, data: &[u8]) {
    let fields = [ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, rdev.0, rdev.1, name.len() as u32 + 1, 0];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    let padding = (4 - out.len() % 4) % 4;
    out.resize(out.len() + padding, 0);
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

fn c_string(b: &[u8], at: usize) -> Option<String> {
    let bytes = b.get(at..)?;
    let end = bytes.iter().position(|&c| c == 0)?;
    String::from_utf8(bytes[..end].to_vec()).ok()
}

fn check_elf64(elf: &[u8]) -> Result<(), String> {
    if elf.get(..4) == Some(b"\x7fELF") && elf.get(4) == Some(&2) && elf.get(5) == Some(&1) {
        Ok(())
    } else {
        Err("not a little-endian 64-bit ELF file".into())
    }
}

/// The `DT_NEEDED` entries (sonames) of a dynamically linked ELF file.
pub fn needed_libraries(elf: &[u8]) -> Result<Vec<String>, String> {
    check_elf64(elf)?;
    let bad = || "truncated ELF section table".to_string();
    let shoff = u64_at(elf, 0x28).ok_or_else(bad)?;
    let shentsize = u16_at(elf, 0x3a).ok_or_else(bad)? as usize;
    let shnum = u16_at(elf, 0x3c).ok_or_else(bad)? as usize;
    let section = |i: usize| {
        let at = shoff + i * shentsize;
        Some((u32_at(elf, at + 4)?, u64_at(elf, at + 24)?, u64_at(elf, at + 32)?, u32_at(elf, at + 40)? as usize))
    };
    const SHT_DYNAMIC: u32 = 6;
    let Some((_, offset, size, link)) = (0..shnum).filter_map(section).find(|s| s.0 == SHT_DYNAMIC) else {
        return Ok(Vec::new()); // statically linked
    };
    let (_, strtab, _, _) = section(link).ok_or_else(bad)?;
    let mut needed = Vec::new();
    for entry in (offset..offset + size).step_by(16) {
        match (u64_at(elf, entry), u64_at(elf, entry + 8)) {
            (Some(0), _) | (None, _) | (_, None) => break,
            (Some(1), Some(name)) => needed.push(c_string(elf, strtab + name).ok_or_else(bad)?),
            _ => {}
        }
    }
    Ok(needed)
}

/// The program interpreter (`PT_INTERP`), e.g. `/lib64/ld-linux-x86-64.so.2`.
pub fn interpreter(elf: &[u8]) -> Result<Option<String>, String> {
    check_elf64(elf)?;
    let bad = || "truncated ELF program headers".to_string();
    let phoff = u64_at(elf, 0x20).ok_or_else(bad)?;
    let phentsize = u16_at(elf, 0x36).ok_or_else(bad)? as usize;
    let phnum = u16_at(elf, 0x38).ok_or_else(bad)? as usize;
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        if u32_at(elf, at).ok_or_else(bad)? == PT_INTERP {
            return Ok(Some(c_string(elf, u64_at(elf, at + 8).ok_or_else(bad)?).ok_or_else(bad)?));
        }
    }
    Ok(None)
}

/// The modules a kernel module depends on (its `.modinfo` `depends=` entry).
pub fn module_depends(ko: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"\0depends=";
    let Some(at) = ko.windows(KEY.len()).position(|w| w == KEY) else {
        return Vec::new();
    };
    let value = &ko[at + KEY.len()..];
    let end = value.iter().position(|&c| c == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).split(',').filter(|m| !m.is_empty()).map(str::to_string).collect()
}

/// The order to load `roots` and everything they depend on: each module
/// after its dependencies, each once. Fails on an unknown module.
pub fn load_order(roots: &[&str], depends: &BTreeMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    fn visit(
        module: &str,
        depends: &BTreeMap<String, Vec<String>>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) -> Result<(), String> {
        if !seen.insert(module.to_string()) {
            return Ok(());
        }
        let deps = depends.get(module).ok_or_else(|| format!("kernel module {module} is not in the package"))?;
        for dep in deps {
            visit(dep, depends, seen, order)?;
        }
        order.push(module.to_string());
        Ok(())
    }
    let (mut seen, mut order) = (BTreeSet::new(), Vec::new());
    for root in roots {
        visit(root, depends, &mut seen, &mut order)?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_has_parents_headers_padding_and_trailer() {
        let mut archive = Archive::default();
        archive.add("/bin/busybox", Node::File { data: b"abc".to_vec(), executable: true });
        archive.add("/bin/sh", Node::Symlink("busybox".into()));
        archive.add("/dev/console", Node::CharDevice { major: 5, minor: 1 });
        let bytes = archive.to_newc();
        assert_eq!(bytes.len() % 4, 0);
        let text = String::from_utf8_lossy(&bytes);
        // bin (dir) comes before bin/busybox; names are NUL-terminated.
        assert!(text.find("bin\0").unwrap() < text.find("bin/busybox\0").unwrap());
        assert!(text.contains("TRAILER!!!\0"));
        // The first header: magic, inode 1, a directory.
        assert_eq!(&bytes[..6], b"070701");
        assert_eq!(&bytes[6..14], b"00000001");
        assert_eq!(&bytes[14..22], b"000041ed");
        // The device node carries its major and minor numbers.
        let dev = text.find("dev/console").unwrap();
        let header = &text[dev - 110..dev];
        assert_eq!(&header[78..86], "00000005");
        assert_eq!(&header[86..94], "00000001");
    }

    #[test]
    fn this_test_binary_needs_libc_and_has_an_interpreter() {
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let needed = needed_libraries(&elf).unwrap();
        assert!(needed.iter().any(|n| n.starts_with("libc.so")), "{needed:?}");
        assert!(interpreter(&elf).unwrap().is_some_and(|i| i.contains("ld-linux")));
        assert!(needed_libraries(b"not an elf").is_err());
    }

    #[test]
    fn module_depends_reads_modinfo() {
        let ko = b"\x7fELF junk\0license=GPL\0depends=virtio_ring,virtio,net_failover\0retpoline=Y\0";
        assert_eq!(module_depends(ko), ["virtio_ring", "virtio", "net_failover"]);
        assert!(module_depends(b"\0depends=\0").is_empty());
        assert!(module_depends(b"nothing").is_empty());
    }

    #[test]
    fn load_order_puts_dependencies_first_once() {
        let deps: BTreeMap<String, Vec<String>> = [
            ("virtio_net", vec!["virtio_ring", "virtio", "net_failover"]),
            ("net_failover", vec!["failover"]),
            ("failover", vec![]),
            ("virtio", vec!["virtio_ring"]),
            ("virtio_ring", vec![]),
            ("virtio_pci", vec!["virtio_ring", "virtio"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
        .collect();
        let order = load_order(&["virtio_net", "virtio_pci"], &deps).unwrap();
        assert_eq!(order, ["virtio_ring", "virtio", "failover", "net_failover", "virtio_net", "virtio_pci"]);
        assert!(load_order(&["missing"], &deps).unwrap_err().contains("missing"));
    }
}
