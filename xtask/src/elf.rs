//! Turning the linker's ELF into what a loader boots: a flat binary of the
//! loadable segments, or a minimal ELF with only the program headers QEMU's
//! loader reads (no sections, symbols or debug info).

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;

#[derive(Clone, Copy, Debug)]
struct Segment {
    kind: u32,
    flags: u32,
    offset: u64,
    paddr: u64,
    vaddr: u64,
    file_size: u64,
    mem_size: u64,
    align: u64,
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

/// The ELF header fields we keep, and the loadable/note segments.
fn parse(elf: &[u8]) -> Result<(u16, u64, Vec<Segment>), String> {
    if elf.get(..4) != Some(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err("not a little-endian 64-bit ELF file".into());
    }
    let bad = || "truncated ELF header".to_string();
    let machine = u16_at(elf, 18).ok_or_else(bad)?;
    let entry = u64_at(elf, 24).ok_or_else(bad)?;
    let phoff = u64_at(elf, 32).ok_or_else(bad)? as usize;
    let phentsize = u16_at(elf, 54).ok_or_else(bad)? as usize;
    let phnum = u16_at(elf, 56).ok_or_else(bad)? as usize;
    let mut segments = Vec::new();
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let bad = || format!("truncated program header {i}");
        let segment = Segment {
            kind: u32_at(elf, at).ok_or_else(bad)?,
            flags: u32_at(elf, at + 4).ok_or_else(bad)?,
            offset: u64_at(elf, at + 8).ok_or_else(bad)?,
            vaddr: u64_at(elf, at + 16).ok_or_else(bad)?,
            paddr: u64_at(elf, at + 24).ok_or_else(bad)?,
            file_size: u64_at(elf, at + 32).ok_or_else(bad)?,
            mem_size: u64_at(elf, at + 40).ok_or_else(bad)?,
            align: u64_at(elf, at + 48).ok_or_else(bad)?,
        };
        if segment.offset + segment.file_size > elf.len() as u64 {
            return Err(format!("segment {i} extends past the end of the file"));
        }
        if segment.kind == PT_LOAD || segment.kind == PT_NOTE {
            segments.push(segment);
        }
    }
    Ok((machine, entry, segments))
}

fn data<'a>(elf: &'a [u8], s: &Segment) -> &'a [u8] {
    &elf[s.offset as usize..(s.offset + s.file_size) as usize]
}

/// The loadable segments laid out from the lowest physical address, with
/// the file-backed bytes only (zero-initialised memory at the end is left
/// to the kernel's own size field and the loader).
pub fn flat_binary(elf: &[u8]) -> Result<Vec<u8>, String> {
    flat_image(elf).map(|(_, image)| image)
}

/// [`flat_binary`], with the physical address its first byte loads at.
pub fn flat_image(elf: &[u8]) -> Result<(u64, Vec<u8>), String> {
    let (_, _, segments) = parse(elf)?;
    let loads: Vec<&Segment> = segments.iter().filter(|s| s.kind == PT_LOAD && s.file_size > 0).collect();
    let base = loads.iter().map(|s| s.paddr).min().ok_or("no loadable segments")?;
    let end = loads.iter().map(|s| s.paddr + s.file_size).max().unwrap_or(base);
    let mut image = vec![0u8; (end - base) as usize];
    for s in loads {
        let at = (s.paddr - base) as usize;
        image[at..at + s.file_size as usize].copy_from_slice(data(elf, s));
    }
    Ok((base, image))
}

/// A new ELF holding only the loadable segments and notes.
pub fn loadable_elf(elf: &[u8]) -> Result<Vec<u8>, String> {
    let (machine, entry, segments) = parse(elf)?;
    let headers = EHDR_SIZE + PHDR_SIZE * segments.len();
    let mut out = vec![0u8; headers];
    // ELF header: magic, 64-bit, little-endian, version 1, System V ABI.
    out[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out[18..20].copy_from_slice(&machine.to_le_bytes());
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[24..32].copy_from_slice(&entry.to_le_bytes());
    out[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes()); // program headers follow
    out[52..54].copy_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
    out[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
    out[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes()); // section header size (no sections)

    for (i, s) in segments.iter().enumerate() {
        // Keep each segment's offset congruent to its address modulo the page
        // size, as loaders that map files expect.
        let page = 4096u64;
        let mut offset = out.len() as u64;
        if s.kind == PT_LOAD {
            offset = offset.next_multiple_of(page) + s.vaddr % page;
        }
        out.resize(offset as usize, 0);
        out.extend_from_slice(data(elf, s));
        let at = EHDR_SIZE + i * PHDR_SIZE;
        let fields: [(usize, &[u8]); 8] = [
            (0, &s.kind.to_le_bytes()),
            (4, &s.flags.to_le_bytes()),
            (8, &offset.to_le_bytes()),
            (16, &s.vaddr.to_le_bytes()),
            (24, &s.paddr.to_le_bytes()),
            (32, &s.file_size.to_le_bytes()),
            (40, &s.mem_size.to_le_bytes()),
            (48, &s.align.to_le_bytes()),
        ];
        for (field, bytes) in fields {
            out[at + field..at + field + bytes.len()].copy_from_slice(bytes);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny ELF with one loadable segment at 0x1000 holding "abc" (plus
    /// 5 bytes of bss) and one note.
    fn sample() -> Vec<u8> {
        let mut elf = vec![0u8; 0x200];
        elf[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        elf[18..20].copy_from_slice(&62u16.to_le_bytes());
        elf[24..32].copy_from_slice(&0x1000u64.to_le_bytes());
        elf[32..40].copy_from_slice(&64u64.to_le_bytes());
        elf[54..56].copy_from_slice(&56u16.to_le_bytes());
        elf[56..58].copy_from_slice(&2u16.to_le_bytes());
        let mut phdr = |i: usize, kind: u32, offset: u64, addr: u64, filesz: u64, memsz: u64| {
            let at = 64 + i * 56;
            elf[at..at + 4].copy_from_slice(&kind.to_le_bytes());
            elf[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            elf[at + 16..at + 24].copy_from_slice(&addr.to_le_bytes());
            elf[at + 24..at + 32].copy_from_slice(&addr.to_le_bytes());
            elf[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            elf[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        };
        phdr(0, PT_LOAD, 0x100, 0x1000, 3, 8);
        phdr(1, PT_NOTE, 0x180, 0x0f00, 4, 4);
        elf[0x100..0x103].copy_from_slice(b"abc");
        elf[0x180..0x184].copy_from_slice(b"note");
        elf
    }

    #[test]
    fn flat_binary_holds_only_the_loaded_bytes() {
        assert_eq!(flat_binary(&sample()).unwrap(), b"abc");
        assert_eq!(flat_image(&sample()).unwrap(), (0x1000, b"abc".to_vec()));
    }

    #[test]
    fn loadable_elf_round_trips_segments() {
        let out = loadable_elf(&sample()).unwrap();
        let (machine, entry, segments) = parse(&out).unwrap();
        assert_eq!((machine, entry, segments.len()), (62, 0x1000, 2));
        let load = segments.iter().find(|s| s.kind == PT_LOAD).unwrap();
        assert_eq!((load.paddr, load.file_size, load.mem_size), (0x1000, 3, 8));
        assert_eq!(data(&out, load), b"abc");
        assert_eq!(load.offset % 4096, 0x1000 % 4096);
        let note = segments.iter().find(|s| s.kind == PT_NOTE).unwrap();
        assert_eq!(data(&out, note), b"note");
    }

    #[test]
    fn rejects_what_is_not_an_elf() {
        assert!(flat_binary(b"MZ\x90\x00").is_err());
        let mut truncated = sample();
        truncated.truncate(0x101);
        assert!(loadable_elf(&truncated).is_err());
    }
}
