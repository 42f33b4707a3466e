//! Rewriting a flattened device tree (the devicetree specification's
//! DTB format, v17) for the kernel: `/chosen/bootargs` set to the command
//! line, and one `/memory` node holding the RAM UEFI reports (replacing the
//! firmware's memory nodes). The blob is parsed into a tree and written
//! out again with a fresh strings block, so a property or string that did
//! not exist before is no special case.

use alloc::vec::Vec;

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
const HEADER_BYTES: usize = 40;

#[derive(Debug, PartialEq)]
pub struct Node {
    pub name: Vec<u8>,
    pub props: Vec<(Vec<u8>, Vec<u8>)>,
    pub children: Vec<Node>,
}

impl Node {
    fn prop(&self, name: &[u8]) -> Option<&[u8]> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    fn set_prop(&mut self, name: &[u8], value: Vec<u8>) {
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some(prop) => prop.1 = value,
            None => self.props.push((name.to_vec(), value)),
        }
    }

    fn is_memory(&self) -> bool {
        self.prop(b"device_type") == Some(b"memory\0")
    }
}

fn be32(blob: &[u8], at: usize) -> Result<u32, &'static str> {
    let bytes = blob.get(at..at + 4).ok_or("the device tree is truncated")?;
    Ok(u32::from_be_bytes(bytes.try_into().expect("4 bytes")))
}

fn c_string(blob: &[u8], at: usize) -> Result<&[u8], &'static str> {
    let rest = blob.get(at..).ok_or("the device tree is truncated")?;
    let len = rest.iter().position(|&b| b == 0).ok_or("an unterminated string in the device tree")?;
    Ok(&rest[..len])
}

/// A parsed blob: the root node, the memory reservation block (raw,
/// terminator included) and the boot CPU.
pub struct Tree {
    pub root: Node,
    reservations: Vec<u8>,
    boot_cpuid: u32,
}

/// The size the blob at the start of `bytes` claims (its `totalsize`).
pub fn total_size(header: &[u8]) -> Result<usize, &'static str> {
    if be32(header, 0)? != MAGIC {
        return Err("the device tree has no FDT magic");
    }
    Ok(be32(header, 4)? as usize)
}

pub fn parse(blob: &[u8]) -> Result<Tree, &'static str> {
    let size = total_size(blob)?;
    let blob = blob.get(..size).ok_or("the device tree is truncated")?;
    let (structs, strings, reservations) =
        (be32(blob, 8)? as usize, be32(blob, 12)? as usize, be32(blob, 16)? as usize);
    if be32(blob, 24)? > 17 {
        return Err("the device tree's format is newer than version 17");
    }
    // Reservation entries (address, size), ending with a zero pair.
    let mut end = reservations;
    loop {
        let entry = blob.get(end..end + 16).ok_or("the device tree's reservation block is truncated")?;
        end += 16;
        if entry.iter().all(|&b| b == 0) {
            break;
        }
    }
    let mut pos = structs;
    let root = parse_node(blob, strings, &mut pos)?;
    if next_token(blob, &mut pos)? != END {
        return Err("the device tree has more than one root node");
    }
    Ok(Tree { root, reservations: blob[reservations..end].to_vec(), boot_cpuid: be32(blob, 28)? })
}

fn next_token(blob: &[u8], pos: &mut usize) -> Result<u32, &'static str> {
    loop {
        let t = be32(blob, *pos)?;
        *pos += 4;
        if t != NOP {
            return Ok(t);
        }
    }
}

fn parse_node(blob: &[u8], strings: usize, pos: &mut usize) -> Result<Node, &'static str> {
    if next_token(blob, pos)? != BEGIN_NODE {
        return Err("the device tree's structure does not start with a node");
    }
    let name = c_string(blob, *pos)?.to_vec();
    *pos = (*pos + name.len() + 1).next_multiple_of(4);
    let mut node = Node { name, props: Vec::new(), children: Vec::new() };
    loop {
        let before = *pos;
        match next_token(blob, pos)? {
            PROP => {
                let len = be32(blob, *pos)? as usize;
                let name = c_string(blob, strings + be32(blob, *pos + 4)? as usize)?.to_vec();
                let value = blob.get(*pos + 8..*pos + 8 + len).ok_or("a device tree property is truncated")?;
                node.props.push((name, value.to_vec()));
                *pos = (*pos + 8 + len).next_multiple_of(4);
            }
            BEGIN_NODE => {
                *pos = before;
                node.children.push(parse_node(blob, strings, pos)?);
            }
            END_NODE => return Ok(node),
            _ => return Err("an unknown token in the device tree"),
        }
    }
}

impl Tree {
    /// The blob for this tree (version 17).
    pub fn to_blob(&self) -> Vec<u8> {
        let mut structs = Vec::new();
        let mut strings: Vec<u8> = Vec::new();
        write_node(&self.root, &mut structs, &mut strings);
        structs.extend(END.to_be_bytes());
        let reservations = HEADER_BYTES.next_multiple_of(8);
        let structs_at = reservations + self.reservations.len();
        let strings_at = structs_at + structs.len();
        let total = strings_at + strings.len();
        let mut blob = Vec::with_capacity(total);
        for field in [
            MAGIC,
            total as u32,
            structs_at as u32,
            strings_at as u32,
            reservations as u32,
            17,
            16,
            self.boot_cpuid,
            strings.len() as u32,
            structs.len() as u32,
        ] {
            blob.extend(field.to_be_bytes());
        }
        blob.resize(reservations, 0);
        blob.extend(&self.reservations);
        blob.extend(structs);
        blob.extend(strings);
        blob
    }

    /// Sets `/chosen/bootargs` (making `/chosen` if needed).
    pub fn set_bootargs(&mut self, cmdline: &str) {
        let mut value = cmdline.as_bytes().to_vec();
        value.push(0);
        match self.root.children.iter_mut().find(|c| c.name == b"chosen") {
            Some(chosen) => chosen.set_prop(b"bootargs", value),
            None => self.root.children.push(Node {
                name: b"chosen".to_vec(),
                props: alloc::vec![(b"bootargs".to_vec(), value)],
                children: Vec::new(),
            }),
        }
    }

    /// Replaces the memory nodes under the root with one `/memory@BASE`
    /// whose `reg` lists `ranges` (start, end), in the root's cell sizes.
    pub fn set_memory(&mut self, ranges: &[(u64, u64)]) -> Result<(), &'static str> {
        let cells = |name: &[u8], default: u32| match self.root.prop(name) {
            Some(v) if v.len() == 4 => u32::from_be_bytes(v.try_into().expect("4 bytes")),
            _ => default,
        };
        let (address_cells, size_cells) = (cells(b"#address-cells", 2), cells(b"#size-cells", 1));
        let mut reg = Vec::new();
        for &(start, end) in ranges {
            for (value, cells) in [(start, address_cells), (end - start, size_cells)] {
                match cells {
                    1 => reg.extend(
                        u32::try_from(value).map_err(|_| "RAM above 4 GiB with 1-cell addresses")?.to_be_bytes(),
                    ),
                    2 => reg.extend(value.to_be_bytes()),
                    _ => return Err("the device tree's root has unusual #address-cells or #size-cells"),
                }
            }
        }
        let base = ranges.first().map_or(0, |r| r.0);
        let mut name = b"memory@".to_vec();
        let mut digits = Vec::new();
        let mut v = base;
        loop {
            digits.push(b"0123456789abcdef"[(v & 0xf) as usize]);
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        name.extend(digits.iter().rev());
        let node = Node {
            name,
            props: alloc::vec![(b"device_type".to_vec(), b"memory\0".to_vec()), (b"reg".to_vec(), reg)],
            children: Vec::new(),
        };
        let at = self.root.children.iter().position(Node::is_memory).unwrap_or(0);
        self.root.children.retain(|c| !c.is_memory());
        self.root.children.insert(at.min(self.root.children.len()), node);
        Ok(())
    }
}

fn write_node(node: &Node, out: &mut Vec<u8>, strings: &mut Vec<u8>) {
    out.extend(BEGIN_NODE.to_be_bytes());
    out.extend(&node.name);
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    for (name, value) in &node.props {
        out.extend(PROP.to_be_bytes());
        out.extend((value.len() as u32).to_be_bytes());
        out.extend((string_offset(strings, name) as u32).to_be_bytes());
        out.extend(value);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    for child in &node.children {
        write_node(child, out, strings);
    }
    out.extend(END_NODE.to_be_bytes());
}

/// The offset of `name` in the strings block, adding it if new.
fn string_offset(strings: &mut Vec<u8>, name: &[u8]) -> usize {
    let mut at = 0;
    while at < strings.len() {
        let len = strings[at..].iter().position(|&b| b == 0).unwrap_or(strings.len() - at);
        if &strings[at..at + len] == name {
            return at;
        }
        at += len + 1;
    }
    strings.extend(name);
    strings.push(0);
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, props: &[(&str, &[u8])], children: Vec<Node>) -> Node {
        Node {
            name: name.as_bytes().to_vec(),
            props: props.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.to_vec())).collect(),
            children,
        }
    }

    fn firmware_tree(chosen: Option<Node>) -> Tree {
        let mut children = vec![
            node(
                "memory@40000000",
                &[("reg", &[0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0]), ("device_type", b"memory\0")],
                vec![],
            ),
            node("pl011@9000000", &[("compatible", b"arm,pl011\0")], vec![]),
        ];
        children.extend(chosen);
        let root = node("", &[("#address-cells", &[0, 0, 0, 2]), ("#size-cells", &[0, 0, 0, 2])], children);
        let reservations = [&0x4800_0000u64.to_be_bytes()[..], &0x1000u64.to_be_bytes(), &[0; 16]].concat();
        Tree { root, reservations, boot_cpuid: 0 }
    }

    #[test]
    fn round_trips_and_skips_nops() {
        let tree = firmware_tree(Some(node("chosen", &[("stdout-path", b"/pl011@9000000\0")], vec![])));
        let blob = tree.to_blob();
        let back = parse(&blob).unwrap();
        assert_eq!(back.root, tree.root);
        assert_eq!(back.reservations, tree.reservations);
        assert_eq!(total_size(&blob).unwrap(), blob.len());
        // A NOP token before the root node is skipped.
        let structs = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
        let mut with_nop = blob[..structs].to_vec();
        with_nop.extend(NOP.to_be_bytes());
        with_nop.extend(&blob[structs..]);
        let delta = 4u32;
        for field in [4, 12] {
            let v = u32::from_be_bytes(with_nop[field..field + 4].try_into().unwrap()) + delta;
            with_nop[field..field + 4].copy_from_slice(&v.to_be_bytes());
        }
        assert_eq!(parse(&with_nop).unwrap().root, tree.root);
    }

    #[test]
    fn sets_bootargs_whether_or_not_chosen_or_the_property_exist() {
        for chosen in [
            None,
            Some(node("chosen", &[], vec![])),
            Some(node("chosen", &[("bootargs", b"old\0"), ("x", b"1\0")], vec![])),
        ] {
            let mut tree = parse(&firmware_tree(chosen).to_blob()).unwrap();
            tree.set_bootargs("net.rxbuf=64K -- --requirepass secret");
            let back = parse(&tree.to_blob()).unwrap();
            let chosen = back.root.children.iter().find(|c| c.name == b"chosen").unwrap();
            assert_eq!(chosen.prop(b"bootargs").unwrap(), b"net.rxbuf=64K -- --requirepass secret\0");
            assert_eq!(chosen.props.iter().filter(|p| p.0 == b"bootargs").count(), 1);
        }
    }

    #[test]
    fn replaces_the_memory_nodes_with_uefis_ram() {
        let mut tree = firmware_tree(None);
        tree.root.children.push(node("memory@80000000", &[("device_type", b"memory\0"), ("reg", &[1; 16])], vec![]));
        tree.set_memory(&[(0x4000_0000, 0x4400_0000), (0x4410_0000, 0x4800_0000)]).unwrap();
        let back = parse(&tree.to_blob()).unwrap();
        let memory: Vec<&Node> = back.root.children.iter().filter(|c| c.is_memory()).collect();
        assert_eq!(memory.len(), 1);
        assert_eq!(memory[0].name, b"memory@40000000");
        let reg: Vec<u64> =
            memory[0].prop(b"reg").unwrap().chunks(8).map(|c| u64::from_be_bytes(c.try_into().unwrap())).collect();
        assert_eq!(reg, [0x4000_0000, 0x0400_0000, 0x4410_0000, 0x03f0_0000]);
        assert_eq!(back.root.children[0].name, b"memory@40000000", "in the first memory node's place");
    }

    #[test]
    fn refuses_what_is_not_a_device_tree() {
        assert!(parse(&[0u8; 64]).is_err());
        let mut blob = firmware_tree(None).to_blob();
        blob.truncate(60);
        assert!(parse(&blob).is_err());
    }
}
