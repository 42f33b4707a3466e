//! Turning UEFI's memory map into what the kernel's boot paths read: the
//! E820-style table of PVH's `hvm_start_info` (x86_64) and the RAM ranges
//! of the device tree's /memory node (aarch64).

/// UEFI memory types that are RAM the kernel may use once boot services are
/// gone: loader code/data, boot services code/data, conventional memory.
/// (Runtime services memory stays reserved: the firmware's runtime code and
/// data live there, and a later kernel might call it.)
pub fn is_ram(efi_type: u32) -> bool {
    matches!(efi_type, 1 | 2 | 3 | 4 | 7)
}

#[cfg(any(test, target_arch = "x86_64"))]
pub use boot::pvh_abi::MemmapEntry;

#[cfg(any(test, target_arch = "x86_64"))]
/// The E820 type of a UEFI memory type: RAM 1, ACPI reclaimable 3, ACPI
/// NVS 4, everything else reserved (2).
pub fn e820_type(efi_type: u32) -> u32 {
    match efi_type {
        t if is_ram(t) => 1,
        9 => 3,
        10 => 4,
        _ => 2,
    }
}

#[cfg(any(test, target_arch = "x86_64"))]
/// Fills `out` with the E820 form of the `count` regions `region(i)`
/// returns (start, pages, UEFI type), in address order (UEFI does not
/// promise one: they are picked smallest first), merging neighbours of the
/// same type. Returns the count, or `None` if `out` is too small.
/// Allocates nothing (it runs after ExitBootServices).
pub fn to_e820(count: usize, region: impl Fn(usize) -> (u64, u64, u32), out: &mut [MemmapEntry]) -> Option<usize> {
    let mut n = 0;
    let mut previous: Option<u64> = None;
    loop {
        // The region with the lowest start above the previous one.
        let next = (0..count).map(&region).filter(|r| r.1 > 0 && previous.is_none_or(|p| r.0 > p)).min_by_key(|r| r.0);
        let Some((start, pages, efi_type)) = next else { return Some(n) };
        previous = Some(start);
        let (kind, size) = (e820_type(efi_type), pages * 4096);
        if n > 0 {
            let last = &mut out[n - 1];
            if last.kind == kind && last.addr + last.size == start {
                last.size += size;
                continue;
            }
        }
        *out.get_mut(n)? = MemmapEntry { addr: start, size, kind, reserved: 0 };
        n += 1;
    }
}

#[cfg(any(test, target_arch = "aarch64"))]
/// The RAM ranges (start, end) of `regions` (start, pages, UEFI type),
/// sorted and with touching ranges merged.
pub fn ram_ranges(regions: impl Iterator<Item = (u64, u64, u32)>) -> alloc::vec::Vec<(u64, u64)> {
    let mut ranges: alloc::vec::Vec<(u64, u64)> =
        regions.filter(|r| is_ram(r.2) && r.1 > 0).map(|(start, pages, _)| (start, start + pages * 4096)).collect();
    ranges.sort_unstable();
    let mut merged: alloc::vec::Vec<(u64, u64)> = alloc::vec::Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uefi_types_become_e820_types_and_neighbours_merge() {
        let map = [
            (0x200000, 256, 4), // boot services data: RAM too, merges (listed out of order)
            (0, 160, 7),        // conventional
            (0xA0000, 96, 0),   // reserved
            (0x100000, 256, 2), // loader data
            (0x300000, 16, 9),  // ACPI reclaim
            (0x310000, 4, 10),  // ACPI NVS
            (0x314000, 2, 5),   // runtime code: reserved
            (0x316000, 0, 7),   // empty: skipped
        ];
        let mut out = [MemmapEntry::default(); 8];
        let n = to_e820(map.len(), |i| map[i], &mut out).unwrap();
        let got: Vec<(u64, u64, u32)> = out[..n].iter().map(|e| (e.addr, e.size, e.kind)).collect();
        assert_eq!(
            got,
            [
                (0, 0xA0000, 1),
                (0xA0000, 0x60000, 2),
                (0x100000, 0x200000, 1),
                (0x300000, 0x10000, 3),
                (0x310000, 0x4000, 4),
                (0x314000, 0x2000, 2)
            ]
        );
        let mut small = [MemmapEntry::default(); 2];
        assert_eq!(to_e820(map.len(), |i| map[i], &mut small), None);
        assert_eq!(core::mem::size_of::<MemmapEntry>(), 24);
    }

    #[test]
    fn ram_ranges_are_sorted_and_merged() {
        let map = [
            (0x4800_0000, 16, 7),
            (0x4000_0000, 512, 2),
            (0x4020_0000, 1024, 4),
            (0x4060_0000, 8, 6),
            (0x4060_8000, 100, 7),
        ];
        assert_eq!(
            ram_ranges(map.into_iter()),
            [(0x4000_0000, 0x4060_0000), (0x4060_8000, 0x4060_8000 + 100 * 4096), (0x4800_0000, 0x4801_0000)]
        );
    }
}
