//! x86_64 PVH entry: `qemu-system-x86_64 -kernel image.elf` (on `q35`, `pc` and
//! `microvm`) and Firecracker-style loaders start the image here.
//!
//! The loader finds the entry point through the `XEN_ELFNOTE_PHYS32_ENTRY` ELF
//! note and jumps to it in 32-bit protected mode, paging off, with `ebx`
//! holding the physical address of an `hvm_start_info` structure. `entry.S`
//! builds identity-mapped page tables for the first 4 GiB, enters long mode
//! and calls [`pvh_main`], which turns the start info into a [`BootInfo`].

mod pvh;

core::arch::global_asm!(include_str!("entry.S"), options(att_syntax));
