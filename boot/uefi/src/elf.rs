//! Reading the x86_64 kernel ELF: its loadable segments and the PVH entry
//! point from its Xen note (XEN_ELFNOTE_PHYS32_ENTRY), as QEMU's PVH boot
//! reads them.

use alloc::vec::Vec;

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;

/// A loadable segment: `file_size` bytes from `offset` in the file go to
/// physical `paddr`; the rest up to `mem_size` is zero (bss).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub paddr: u64,
    pub offset: usize,
    pub file_size: usize,
    pub mem_size: u64,
}

#[derive(Debug)]
pub struct Kernel {
    pub segments: Vec<Segment>,
    /// The 32-bit PVH entry point.
    pub pvh_entry: u32,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The physical range the loadable segments cover, from the start of the
/// file alone (the ELF header and program headers must lie in `head`):
/// so the range can be claimed before the rest of the file is read.
pub fn load_span(head: &[u8]) -> Result<(u64, u64), &'static str> {
    if head.get(..6) != Some(b"\x7fELF\x02\x01") || u16_at(head, 18) != Some(62) {
        return Err("\\APPLIANCE\\KERNEL is not an x86_64 ELF file");
    }
    let bad = "\\APPLIANCE\\KERNEL's program headers are not at its start";
    let (phoff, phentsize, phnum) =
        (u64_at(head, 32).ok_or(bad)? as usize, u16_at(head, 54).ok_or(bad)? as usize, u16_at(head, 56).ok_or(bad)?);
    let (mut lo, mut hi) = (u64::MAX, 0);
    for i in 0..usize::from(phnum) {
        let ph = head.get(phoff + i * phentsize..phoff + (i + 1) * phentsize).ok_or(bad)?;
        let (paddr, mem_size) = (u64_at(ph, 24).ok_or(bad)?, u64_at(ph, 40).ok_or(bad)?);
        if u32_at(ph, 0) == Some(PT_LOAD) && mem_size > 0 {
            lo = lo.min(paddr);
            hi = hi.max(paddr.checked_add(mem_size).ok_or(bad)?);
        }
    }
    if lo >= hi {
        return Err("\\APPLIANCE\\KERNEL has no loadable segments");
    }
    Ok((lo, hi))
}

pub fn parse(elf: &[u8]) -> Result<Kernel, &'static str> {
    // e_ident: magic, ELFCLASS64, little-endian; e_machine EM_X86_64 (62).
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") || u16_at(elf, 18) != Some(62) {
        return Err("\\APPLIANCE\\KERNEL is not an x86_64 ELF file");
    }
    let bad = "\\APPLIANCE\\KERNEL has a damaged program header";
    let (phoff, phentsize, phnum) =
        (u64_at(elf, 32).ok_or(bad)? as usize, u16_at(elf, 54).ok_or(bad)? as usize, u16_at(elf, 56).ok_or(bad)?);
    let mut segments = Vec::new();
    let mut pvh_entry = None;
    for i in 0..usize::from(phnum) {
        let ph = elf.get(phoff + i * phentsize..phoff + (i + 1) * phentsize).ok_or(bad)?;
        let (kind, offset, paddr) = (u32_at(ph, 0).ok_or(bad)?, u64_at(ph, 8).ok_or(bad)?, u64_at(ph, 24).ok_or(bad)?);
        let (file_size, mem_size) = (u64_at(ph, 32).ok_or(bad)?, u64_at(ph, 40).ok_or(bad)?);
        let data = elf.get(offset as usize..(offset + file_size) as usize).ok_or(bad)?;
        match kind {
            PT_LOAD if mem_size > 0 => {
                if file_size > mem_size {
                    return Err(bad);
                }
                segments.push(Segment { paddr, offset: offset as usize, file_size: file_size as usize, mem_size })
            }
            PT_NOTE => pvh_entry = pvh_entry.or(find_pvh_note(data)),
            _ => {}
        }
    }
    let pvh_entry = pvh_entry.ok_or("\\APPLIANCE\\KERNEL has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)")?;
    if segments.is_empty() {
        return Err("\\APPLIANCE\\KERNEL has no loadable segments");
    }
    Ok(Kernel { segments, pvh_entry })
}

/// The entry in a note segment's "Xen" note of type 18, if there is one.
fn find_pvh_note(mut notes: &[u8]) -> Option<u32> {
    while notes.len() >= 12 {
        let (name_size, desc_size, kind) = (u32_at(notes, 0)? as usize, u32_at(notes, 4)? as usize, u32_at(notes, 8)?);
        let desc_at = 12 + name_size.next_multiple_of(4);
        let next = desc_at + desc_size.next_multiple_of(4);
        if kind == XEN_ELFNOTE_PHYS32_ENTRY && notes.get(12..12 + name_size)? == b"Xen\0" && desc_size >= 4 {
            return u32_at(notes, desc_at);
        }
        notes = notes.get(next..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF with a note segment (another note, then the PVH one) and one
    /// loadable segment of 16 file bytes and 4096 memory bytes.
    fn kernel_elf() -> Vec<u8> {
        let mut elf = vec![0u8; 0x400];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[18..20].copy_from_slice(&62u16.to_le_bytes());
        elf[32..40].copy_from_slice(&64u64.to_le_bytes());
        elf[54..56].copy_from_slice(&56u16.to_le_bytes());
        elf[56..58].copy_from_slice(&2u16.to_le_bytes());
        let mut notes = Vec::new();
        for (name, kind, desc) in [(&b"GNU\0"[..], 3u32, 0xdead_beefu32), (b"Xen\0", 18, 0x0020_1000)] {
            notes.extend(4u32.to_le_bytes());
            notes.extend(4u32.to_le_bytes());
            notes.extend(kind.to_le_bytes());
            notes.extend(name);
            notes.extend(desc.to_le_bytes());
        }
        elf[0x200..0x200 + notes.len()].copy_from_slice(&notes);
        let phdr = |elf: &mut Vec<u8>, at: usize, kind: u32, offset: u64, paddr: u64, filesz: u64, memsz: u64| {
            elf[at..at + 4].copy_from_slice(&kind.to_le_bytes());
            elf[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            elf[at + 24..at + 32].copy_from_slice(&paddr.to_le_bytes());
            elf[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            elf[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        };
        phdr(&mut elf, 64, PT_NOTE, 0x200, 0x20_0000, notes.len() as u64, notes.len() as u64);
        phdr(&mut elf, 120, PT_LOAD, 0x300, 0x20_1000, 16, 4096);
        elf
    }

    #[test]
    fn finds_the_segments_and_the_pvh_entry() {
        let kernel = parse(&kernel_elf()).unwrap();
        assert_eq!(kernel.pvh_entry, 0x0020_1000);
        assert_eq!(kernel.segments, [Segment { paddr: 0x20_1000, offset: 0x300, file_size: 16, mem_size: 4096 }]);
        assert_eq!(load_span(&kernel_elf()[..0x100]), Ok((0x20_1000, 0x20_2000)));
        assert!(load_span(&kernel_elf()[..100]).is_err(), "the program headers are cut off");
    }

    #[test]
    fn refuses_other_files() {
        assert!(parse(b"MZ\x90\x00").unwrap_err().contains("not an x86_64 ELF"));
        let mut elf = kernel_elf();
        elf[64..68].copy_from_slice(&0u32.to_le_bytes()); // the note segment is gone
        assert!(parse(&elf).unwrap_err().contains("no PVH entry note"));
    }
}
