/* Stage 2: loaded by the MBR to 0x8000, entered at `stage2_start` in real
 * mode with the boot drive in DL. It
 *
 * 1. turns on the A20 line and asks the BIOS for the E820 memory map;
 * 2. reads the command line and the kernel ELF from the disk (their first
 *    LBA and length are in the parameter block below, written by
 *    `xtask/src/diskimage/bios.rs`), through a bounce buffer below 1 MiB,
 *    copied higher in "unreal mode";
 * 3. copies the ELF's PT_LOAD segments to their physical addresses, zeroes
 *    their bss, finds the PVH entry point (the Xen ELF note) and the ACPI
 *    RSDP, and fills in a PVH `hvm_start_info`;
 * 4. enters the kernel's PVH entry in 32-bit protected mode, paging off,
 *    flat segments, EBX = the start info: as QEMU's `-kernel` does.
 *
 * Low memory while it runs (all of it below 1 MiB, which the kernel keeps
 * for itself, so nothing here is overwritten before it has been read):
 *   0x01000  hvm_start_info             0x05000-0x07BFF  stack
 *   0x02000  command line (4 KiB + NUL) 0x07C00  MBR
 *   0x04000  memory map (128 entries)   0x08000  stage 2 (at most 32 KiB)
 *   0x10000  disk bounce buffer (32 KiB)
 * The kernel file itself is read to the first MiB boundary above the
 * highest segment and copied down from there. */

.set START_INFO, 0x1000
.set CMDLINE, 0x2000
.set CMDLINE_MAX, 4096
.set MEMMAP, 0x4000
.set MEMMAP_MAX, 128
.set BOUNCE_SEG, 0x1000
.set BOUNCE, 0x10000
.set CHUNK_BYTES, 0x8000
.set PT_LOAD, 1
.set PT_NOTE, 4
.set PHDR_SIZE, 56

.pushsection .stage2, "ax"
.code16

/* The parameter block: the first bytes of stage 2, found by the installer
 * through the magic. Layout version 2; all numbers little-endian. LBAs
 * count sectors of the boot drive's size: 512 bytes on a disk, 2048 on a
 * CD booted through El Torito (the ISO writer sets the shift to 11). */
.global stage2_params
stage2_params:
    .ascii "APPLBIOS"           /* 0: magic (the MBR checks it too) */
    .long 2                     /* 8: layout version */
sector_shift:   .long 9         /* 12: log2 of the LBAs' sector size (9 to 12) */
kernel_lba:     .quad 0         /* 16: the kernel ELF's first LBA */
kernel_bytes:   .quad 0         /* 24: and its length in bytes */
cmdline_lba:    .quad 0         /* 32: the command line's first LBA */
cmdline_bytes:  .quad 0         /* 40: and its length (at most 4096) */

.global stage2_start
stage2_start:
    cld
    movb %dl, boot_drive
    call serial_init
    movw $msg_loading, %si
    call print

    call adopt_drive_sectors
    /* The bounce buffer holds this many sectors of the drive's size. */
    movb sector_shift, %cl
    movl $CHUNK_BYTES, %eax
    shrl %cl, %eax
    movl %eax, chunk_sectors

    /* Clear the start info, command line and memory map area. */
    xorl %eax, %eax
    movw $START_INFO, %di
    movw $(MEMMAP + MEMMAP_MAX * 24 - START_INFO) / 4, %cx
    rep stosl

    call enable_a20
    call read_e820
    call find_mem_end
    call read_cmdline
    call load_kernel_file
    call find_pvh_entry
    call find_rsdp
    call copy_segments

    /* The PVH start info (Xen's hvm_start_info, version 1). */
    movl $0x336ec578, START_INFO         /* magic */
    movl $1, START_INFO + 4              /* version: has a memory map */
    movl $CMDLINE, START_INFO + 24       /* cmdline_paddr */
    movl $MEMMAP, START_INFO + 40        /* memmap_paddr */
    movzwl mem_entries, %eax
    movl %eax, START_INFO + 48           /* memmap_entries */

    movw $msg_ok, %si
    call print

/* Into 32-bit protected mode: load the GDT, set CR0.PE, and far-jump to a
 * 32-bit code segment, which reloads CS. Paging stays off. */
enter_pvh:
    cli
    lgdtl gdt_pointer
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    ljmp $0x08, $protected_mode

.code32
protected_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $0x7c00, %esp
    movl $START_INFO, %ebx
    movl pvh_entry, %eax
    jmp *%eax
.code16

/* "Unreal mode": in protected mode, load DS/ES/FS/GS from a flat 4 GiB
 * data descriptor, then go back to real mode without reloading them. The
 * CPU keeps the 4 GiB limits it cached, so real-mode code can reach all
 * memory through 32-bit offsets (the assembler adds the 0x67 prefix),
 * while the BIOS can still be called. A BIOS call (or an interrupt
 * handler) may reload the segment registers with 64 KiB limits, so this is
 * redone after each call and leaves interrupts off; `disk_read` turns them
 * back on for the BIOS. Keeps all registers. */
enter_unreal:
    pushal
    cli
    lgdtl gdt_pointer
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    jmp 1f                      /* leave the real-mode prefetch behind */
1:  movw $0x10, %bx
    movw %bx, %ds
    movw %bx, %es
    movw %bx, %fs
    movw %bx, %gs
    andb $0xfe, %al
    movl %eax, %cr0
    jmp 2f
2:  xorw %bx, %bx
    movw %bx, %ds
    movw %bx, %es
    movw %bx, %fs
    movw %bx, %gs
    popal
    ret

/* The A20 line: on the first PCs, addresses wrapped at 1 MiB, and later
 * ones kept gate 20 of the address bus off at boot for compatibility.
 * With it off, 0xFFFF:0x0510 (0x100500) is 0x0000:0x0500. Ask the BIOS
 * (INT 15h AX=2401h), then try "fast A20" (bit 1 of system port 0x92;
 * bit 0 would reset the machine); fail if the wrap is still there. */
enable_a20:
    call a20_off
    jnc 1f
    movw $0x2401, %ax
    int $0x15
    call a20_off
    jnc 1f
    inb $0x92, %al
    orb $0x02, %al
    andb $0xfe, %al
    outb %al, $0x92
    call a20_off
    jnc 1f
    movw $msg_a20, %si
    jmp fail
1:  ret

/* CF set if the A20 line is off (writing 0x100500 changes 0x000500). */
a20_off:
    pushw %ds
    pushw %es
    xorw %ax, %ax
    movw %ax, %ds
    notw %ax
    movw %ax, %es
    movb 0x0500, %bl
    movb %es:0x0510, %bh
    movb $0x00, 0x0500
    movb $0xff, %es:0x0510
    movb 0x0500, %cl
    movb %bh, %es:0x0510
    movb %bl, 0x0500
    popw %es
    popw %ds
    cmpb $0xff, %cl
    stc
    je 1f
    clc
1:  ret

/* INT 15h EAX=E820h, "query system address map": one entry per call (base,
 * length, type, and with ACPI 3.0 an attribute word), EBX carrying the
 * continuation, until EBX is 0 or CF is set. The entries land where the
 * PVH memory map goes, whose layout is the same (addr, size, type,
 * reserved). Empty entries and ones the attribute word says to ignore
 * are dropped. */
read_e820:
    xorl %ebx, %ebx
    movw $MEMMAP, %di
1:  movl $0xe820, %eax
    movl $0x534d4150, %edx      /* "SMAP" */
    movl $24, %ecx
    movl $1, 20(%di)            /* a 20-byte answer leaves "valid" set */
    int $0x15
    jc 3f                       /* past the last entry (some BIOSes) */
    cmpl $0x534d4150, %eax
    jne 4f
    movl 8(%di), %eax
    orl 12(%di), %eax
    jz 2f
    testb $1, 20(%di)
    jz 2f
    movl $0, 20(%di)            /* the PVH entry's reserved field */
    addw $24, %di
    incw mem_entries
    cmpw $MEMMAP_MAX, mem_entries
    je 3f
2:  testl %ebx, %ebx
    jnz 1b
3:  cmpw $0, mem_entries
    je 4f
    ret
4:  movw $msg_e820, %si
    jmp fail

/* mem_end = the end of the usable RAM region holding 1 MiB (capped below
 * 4 GiB): the kernel and the copy of its file must fit below it. */
find_mem_end:
    movw $MEMMAP, %si
    movw mem_entries, %cx
1:  cmpl $1, 16(%si)            /* usable RAM */
    jne 2f
    cmpl $0, 4(%si)
    jne 2f
    cmpl $0x100000, (%si)
    ja 2f
    movl (%si), %eax
    addl 8(%si), %eax
    jc 3f
    cmpl $0, 12(%si)
    jne 3f
    cmpl $0x100000, %eax
    jbe 2f
    movl %eax, mem_end
    ret
2:  addw $24, %si
    loop 1b
    movw $msg_memory, %si
    jmp fail
3:  movl $0xfffff000, mem_end
    ret

/* The command line: at most 4096 bytes to CMDLINE, then a NUL. */
read_cmdline:
    cmpl $0, cmdline_bytes + 4
    jne 2f
    movl cmdline_bytes, %eax
    cmpl $CMDLINE_MAX, %eax
    ja 2f
    call to_sectors
    testl %eax, %eax
    jz 1f
    movw %ax, dap_count
    movw $CMDLINE, dap_offset
    movw $0, dap_segment
    movl cmdline_lba, %eax
    movl %eax, dap_lba
    movl cmdline_lba + 4, %eax
    movl %eax, dap_lba + 4
    call disk_read
1:  movw cmdline_bytes, %bx
    movb $0, CMDLINE(%bx)
    ret
2:  movw $msg_cmdline, %si
    jmp fail

/* The kernel ELF: first its headers (to learn where its segments go),
 * then the whole file, to `staging`: the first MiB boundary above its
 * highest segment, so that copying the segments down never overwrites
 * what is still to be copied. */
load_kernel_file:
    cmpl $0, kernel_bytes + 4
    jne 9f
    movl kernel_bytes, %eax
    cmpl $64, %eax
    jb 9f
    cmpl $CHUNK_BYTES, %eax
    jbe 1f
    movl $CHUNK_BYTES, %eax
1:  movl %eax, header_bytes
    movl $BOUNCE, %edi
    call read_kernel
    call check_elf

    movl max_end, %eax
    addl $0xfffff, %eax
    jc 8f
    andl $0xfff00000, %eax
    movl %eax, staging
    movl kernel_bytes, %eax
    call to_sectors
    movb sector_shift, %cl
    shll %cl, %eax
    addl staging, %eax
    jc 8f
    cmpl mem_end, %eax
    ja 8f
    movl staging, %edi
    movl kernel_bytes, %eax
    call read_kernel
    ret
8:  movw $msg_memory, %si
    jmp fail
9:  movw $msg_elf, %si
    jmp fail

/* Reads the first EAX bytes (whole sectors) of the kernel file to the
 * linear address EDI: INT 13h reads `chunk_sectors` at a time into the
 * bounce buffer, each copied up in unreal mode. */
read_kernel:
    call to_sectors
    movl %eax, sectors_left
    movl kernel_lba, %eax
    movl %eax, dap_lba
    movl kernel_lba + 4, %eax
    movl %eax, dap_lba + 4
    movw $0, dap_offset
    movw $BOUNCE_SEG, dap_segment
    movl %edi, copy_to
1:  movl sectors_left, %eax
    testl %eax, %eax
    jz 3f
    cmpl chunk_sectors, %eax
    jbe 2f
    movl chunk_sectors, %eax
2:  movw %ax, dap_count
    call disk_read
    call enter_unreal
    movzwl dap_count, %eax
    call sectors_to_dwords
    movl %eax, %ecx
    movl copy_to, %edi
    movl $BOUNCE, %esi
    rep movsl (%esi), %es:(%edi)
    movl %edi, copy_to
    movzwl dap_count, %eax
    addl %eax, dap_lba
    adcl $0, dap_lba + 4
    subl %eax, sectors_left
    jmp 1b
3:  ret

/* The parameter block counts sectors of 2^sector_shift bytes; the drive
 * reads sectors of its own size, which INT 13h AH=48h (extended drive
 * parameters: the word at +0x18 of its result) tells. The same ISO image
 * is a CD (2048-byte sectors) booted by El Torito and, written to a USB
 * stick, a disk of 512-byte sectors: larger units convert to the drive's
 * by shifting the LBAs. A drive with larger sectors than the parameter
 * block's cannot be read by them: that fails. Without an answer, the
 * drive's sectors are taken to be 512 bytes. */
adopt_drive_sectors:
    movl sector_shift, %eax
    cmpl $9, %eax
    jb 8f
    cmpl $12, %eax
    ja 8f
    movw $EDD_PARAMS_BYTES, edd_params
    movw $0, edd_params + 0x18
    movw $edd_params, %si
    movb boot_drive, %dl
    movb $0x48, %ah
    sti
    int $0x13
    movb $9, %cl
    jc 1f
    bsfw edd_params + 0x18, %ax     /* log2 of a power of two */
    jz 1f
    cmpw $9, %ax
    jb 1f
    cmpw $12, %ax
    ja 9f
    movb %al, %cl
1:  movb sector_shift, %ch
    cmpb %ch, %cl
    je 3f
    ja 9f
    movb %cl, sector_shift
    subb %cl, %ch
    movb %ch, %cl
    movw $kernel_lba, %bx
    call shift_lba
    movw $cmdline_lba, %bx
    call shift_lba
3:  ret
8:  movw $msg_params, %si
    jmp fail
9:  movw $msg_sectors, %si
    jmp fail

/* The 64-bit LBA at BX, shifted left by CL (below 32). */
shift_lba:
    movl (%bx), %eax
    movl 4(%bx), %edx
    shldl %cl, %eax, %edx
    shll %cl, %eax
    movl %eax, (%bx)
    movl %edx, 4(%bx)
    ret

/* EAX bytes to whole sectors of the drive's size, rounded up. */
to_sectors:
    pushl %ecx
    pushl %edx
    movb sector_shift, %cl
    movl $1, %edx
    shll %cl, %edx
    decl %edx
    addl %edx, %eax
    shrl %cl, %eax
    popl %edx
    popl %ecx
    ret

/* EAX sectors to the 32-bit words they hold. */
sectors_to_dwords:
    pushl %ecx
    movb sector_shift, %cl
    subb $2, %cl
    shll %cl, %eax
    popl %ecx
    ret

/* INT 13h AH=42h, extended read of the packet at `dap`; on an error the
 * disk system is reset (AH=00h) and the read tried again, three times. */
disk_read:
    movb $3, retries
1:  sti
    movw $dap, %si
    movb boot_drive, %dl
    movb $0x42, %ah
    int $0x13
    jnc 2f
    xorb %ah, %ah
    movb boot_drive, %dl
    int $0x13
    decb retries
    jnz 1b
    movw $msg_read, %si
    jmp fail
2:  ret

/* Checks the ELF header in the bounce buffer (64-bit, little-endian,
 * x86_64, program headers within the first chunk) and each PT_LOAD
 * segment (below 4 GiB, above the first MiB, inside the file); sets
 * phoff, phnum and max_end (the end of the highest segment). */
check_elf:
    call enter_unreal
    movl $BOUNCE, %esi
    cmpl $0x464c457f, (%esi)    /* "\x7fELF" */
    jne 9f
    cmpw $0x0102, 4(%esi)       /* ELFCLASS64, ELFDATA2LSB */
    jne 9f
    cmpw $62, 18(%esi)          /* EM_X86_64 */
    jne 9f
    cmpw $PHDR_SIZE, 54(%esi)
    jne 9f
    cmpl $0, 36(%esi)
    jne 9f
    movzwl 56(%esi), %ecx
    testl %ecx, %ecx
    jz 9f
    movl %ecx, phnum
    movl 32(%esi), %eax
    movl %eax, phoff
    imull $PHDR_SIZE, %ecx, %edx
    addl %eax, %edx
    jc 9f
    cmpl header_bytes, %edx
    ja 9f
    addl %eax, %esi
    movl $0, max_end
1:  cmpl $PT_LOAD, (%esi)
    jne 2f
    movl 12(%esi), %eax         /* high halves of offset, paddr, sizes */
    orl 28(%esi), %eax
    orl 36(%esi), %eax
    orl 44(%esi), %eax
    jnz 9f
    movl 32(%esi), %eax         /* p_filesz <= p_memsz */
    cmpl 40(%esi), %eax
    ja 9f
    addl 8(%esi), %eax          /* p_offset + p_filesz inside the file */
    jc 9f
    cmpl kernel_bytes, %eax
    ja 9f
    cmpl $0x100000, 24(%esi)    /* the first MiB is the loader's */
    jb 9f
    movl 24(%esi), %eax
    addl 40(%esi), %eax
    jc 9f
    cmpl max_end, %eax
    jbe 2f
    movl %eax, max_end
2:  addl $PHDR_SIZE, %esi
    decl %ecx
    jnz 1b
    cmpl $0, max_end
    je 9f
    ret
9:  movw $msg_elf, %si
    jmp fail

/* The PVH entry point: the Xen ELF note of type 18
 * (XEN_ELFNOTE_PHYS32_ENTRY) in a PT_NOTE segment; each note is
 * (namesz, descsz, type, name, desc), name and desc padded to 4 bytes. */
find_pvh_entry:
    call enter_unreal
    movl staging, %esi
    addl phoff, %esi
    movl phnum, %ecx
1:  cmpl $PT_NOTE, (%esi)
    jne 5f
    movl 8(%esi), %ebx          /* the notes: offset..offset + filesz */
    movl 32(%esi), %edx
    addl %ebx, %edx
    jc 5f
    cmpl kernel_bytes, %edx
    ja 5f
    addl staging, %ebx
    addl staging, %edx
2:  leal 12(%ebx), %eax         /* a whole note header left? */
    cmpl %edx, %eax
    ja 5f
    movl (%ebx), %eax           /* namesz, padded */
    addl $3, %eax
    jc 5f
    andl $0xfffffffc, %eax
    leal 12(%ebx, %eax), %eax   /* the descriptor */
    movl 4(%ebx), %edi          /* descsz, padded */
    addl $3, %edi
    jc 5f
    andl $0xfffffffc, %edi
    cmpl $18, 8(%ebx)
    jne 3f
    cmpl $4, (%ebx)
    jne 3f
    cmpl $0x006e6558, 12(%ebx)  /* "Xen\0" */
    jne 3f
    cmpl $4, 4(%ebx)
    jb 3f
    leal 4(%eax), %edi
    cmpl %edx, %edi
    ja 5f
    movl (%eax), %eax
    movl %eax, pvh_entry
    ret
3:  addl %edi, %eax             /* the next note */
    jc 5f
    movl %eax, %ebx
    jmp 2b
5:  addl $PHDR_SIZE, %esi
    decl %ecx
    jnz 1b
    movw $msg_entry, %si
    jmp fail

/* The ACPI RSDP: "RSD PTR " on a 16-byte boundary, its first 20 bytes
 * summing to 0, in the first KiB of the Extended BIOS Data Area (its
 * segment is at 0x40E) or in the BIOS area 0xE0000-0xFFFFF. Left 0 if
 * there is none (the kernel then scans the BIOS area itself). */
find_rsdp:
    call enter_unreal
    movzwl 0x040e, %esi
    shll $4, %esi
    jz 1f
    movl $1024 / 16, %ecx
    call scan_rsdp
    jnc 2f
1:  movl $0xe0000, %esi
    movl $0x20000 / 16, %ecx
    call scan_rsdp
    jc 3f
2:  movl %esi, START_INFO + 32  /* rsdp_paddr */
3:  ret

/* Scans ECX 16-byte steps from ESI; CF clear and ESI = the RSDP if found. */
scan_rsdp:
1:  cmpl $0x20445352, (%esi)    /* "RSD " */
    jne 3f
    cmpl $0x20525450, 4(%esi)   /* "PTR " */
    jne 3f
    xorb %al, %al
    xorl %edx, %edx
2:  addb (%esi, %edx), %al
    incl %edx
    cmpl $20, %edx
    jb 2b
    testb %al, %al
    jnz 3f
    clc
    ret
3:  addl $16, %esi
    decl %ecx
    jnz 1b
    stc
    ret

/* Copies each PT_LOAD segment from the file's copy to its physical
 * address and zeroes the rest of its memory size (its bss). The copy
 * sits above every segment, so nothing is overwritten before it is read. */
copy_segments:
    call enter_unreal
    movl staging, %ebx
    addl phoff, %ebx
    movl phnum, %edx
1:  cmpl $PT_LOAD, (%ebx)
    jne 2f
    movl staging, %esi
    addl 8(%ebx), %esi
    movl 24(%ebx), %edi
    movl 32(%ebx), %ecx
    shrl $2, %ecx
    rep movsl (%esi), %es:(%edi)
    movl 32(%ebx), %ecx
    andl $3, %ecx
    rep movsb (%esi), %es:(%edi)
    movl 40(%ebx), %ecx
    subl 32(%ebx), %ecx
    xorl %eax, %eax
    rep stosb %al, %es:(%edi)
2:  addl $PHDR_SIZE, %ebx
    decl %edx
    jnz 1b
    ret

/* COM1 (I/O port 0x3F8), the kernel's console: 115200 baud (divisor 1),
 * 8 data bits, no parity, 1 stop bit, FIFOs on, no interrupts. */
serial_init:
    movw $0x3f9, %dx
    xorb %al, %al
    outb %al, %dx               /* interrupts off */
    movw $0x3fb, %dx
    movb $0x80, %al
    outb %al, %dx               /* DLAB: the next two are the divisor */
    movw $0x3f8, %dx
    movb $1, %al
    outb %al, %dx
    movw $0x3f9, %dx
    xorb %al, %al
    outb %al, %dx
    movw $0x3fb, %dx
    movb $0x03, %al
    outb %al, %dx               /* 8N1, DLAB off */
    movw $0x3fa, %dx
    movb $0xc7, %al
    outb %al, %dx               /* FIFOs on and cleared */
    movw $0x3fc, %dx
    movb $0x03, %al
    outb %al, %dx               /* DTR, RTS */
    ret

/* Prints the NUL-terminated string at SI on the BIOS console and COM1. */
print:
    lodsb
    testb %al, %al
    jz 1f
    call putc
    jmp print
1:  ret

/* One character (AL): INT 10h AH=0Eh (teletype output), then COM1 once
 * its transmit register is empty (bit 5 of the line status register,
 * port 0x3FD; a bounded wait, in case there is no UART at all). */
putc:
    pushal
    pushw %ax
    movb $0x0e, %ah
    movw $0x0007, %bx
    int $0x10
    movw $0x3fd, %dx
    movl $0x100000, %ecx
1:  inb %dx, %al
    testb $0x20, %al
    jnz 2f
    decl %ecx
    jnz 1b
2:  popw %ax
    movw $0x3f8, %dx
    outb %al, %dx
    popal
    ret

/* Prints " failed: ", the message at SI, and halts. */
fail:
    pushw %si
    movw $msg_failed, %si
    call print
    popw %si
    call print
    movw $msg_newline, %si
    call print
1:  cli
    hlt
    jmp 1b

/* The GDT of unreal and protected mode: flat 4 GiB segments. */
.balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff    /* 0x10: data, base 0, limit 4 GiB */
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .long gdt

/* The disk address packet of INT 13h AH=42h. */
.balign 4
dap:
    .byte 0x10                  /* packet size */
    .byte 0
dap_count:   .word 0            /* sectors */
dap_offset:  .word 0            /* buffer offset */
dap_segment: .word 0            /* buffer segment */
dap_lba:     .quad 0            /* first sector */

.balign 4
sectors_left: .long 0
/* INT 13h AH=48h's result (its size first). */
.set EDD_PARAMS_BYTES, 0x1e
edd_params:   .space EDD_PARAMS_BYTES
chunk_sectors: .long 0
copy_to:      .long 0
header_bytes: .long 0
phoff:        .long 0
phnum:        .long 0
max_end:      .long 0
mem_end:      .long 0
staging:      .long 0
pvh_entry:    .long 0
mem_entries:  .word 0
boot_drive:   .byte 0
retries:      .byte 0

msg_loading: .asciz "BIOS loader: loading the kernel from disk..."
msg_ok:      .asciz " ok, entering it\r\n"
msg_failed:  .asciz " failed: "
msg_newline: .asciz "\r\n"
msg_a20:     .asciz "cannot enable the A20 line"
msg_e820:    .asciz "no E820 memory map from the BIOS"
msg_memory:  .asciz "not enough memory below 4 GiB for the kernel"
msg_read:    .asciz "disk read error"
msg_params:  .asciz "bad sector size in the parameter block"
msg_sectors: .asciz "the drive's sectors are larger than the parameter block's"
msg_cmdline: .asciz "the command line is longer than 4096 bytes"
msg_elf:     .asciz "the kernel is not a valid x86_64 ELF file"
msg_entry:   .asciz "the kernel has no PVH entry note"
.popsection
