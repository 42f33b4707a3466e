/* MBR boot code: the BIOS loads LBA 0 to 0x7C00 and jumps to it in 16-bit
 * real mode, with the boot drive's number in DL. This code must fit in
 * 440 bytes (bios.ld checks): the rest of the sector is the partition table.
 *
 * It loads stage 2 (`__stage2_sectors` sectors from LBA 34, the BIOS boot
 * partition) to 0x8000 and jumps to it with DL still holding the drive.
 * The same code starts a CD: El Torito loads it from the ISO as a
 * no-emulation boot image, and the ISO writer points its read at stage 2
 * there.
 * On a failure it prints a short message through the BIOS and halts. */

.pushsection .mbr, "ax"
.code16
.global mbr_start
mbr_start:
    /* Interrupts off while the stack is set up; a flat real-mode world:
     * every segment 0, the stack growing down from just below us. */
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    /* Some BIOSes enter at 07C0:0000 instead of 0000:7C00: a far jump
     * makes CS 0, so that our absolute addresses hold. */
    ljmp $0, $mbr_flat
mbr_flat:
    sti
    cld
    movb %dl, mbr_drive

    /* INT 13h AH=41h: are the "extended" (LBA, packet-based) disk calls
     * there? They answer with BX=0xAA55, and CX bit 0 set when the
     * packet-based read (AH=42h) is supported. */
    movb $0x41, %ah
    movw $0x55aa, %bx
    int $0x13
    jc mbr_no_ext
    cmpw $0xaa55, %bx
    jne mbr_no_ext
    testb $1, %cl
    jz mbr_no_ext

    /* INT 13h AH=42h: read the sectors the disk address packet names. */
    movw $mbr_dap, %si
    movb mbr_drive, %dl
    movb $0x42, %ah
    int $0x13
    jc mbr_read_error

    /* Stage 2 begins with its magic ("APPLBIOS"): anything else means the
     * BIOS boot partition holds something that is not ours. */
    cmpl $0x4c505041, stage2_params
    jne mbr_no_stage2
    cmpl $0x534f4942, stage2_params + 4
    jne mbr_no_stage2
    movb mbr_drive, %dl
    ljmp $0, $stage2_start

mbr_no_ext:
    movw $mbr_msg_ext, %si
    jmp mbr_fail
mbr_read_error:
    movw $mbr_msg_read, %si
    jmp mbr_fail
mbr_no_stage2:
    movw $mbr_msg_stage2, %si
/* Prints the NUL-terminated message at SI with INT 10h AH=0Eh (teletype
 * output: one character, cursor advanced) and on COM1 (port 0x3F8, as the
 * BIOS set it up), then halts for good. */
mbr_fail:
    lodsb
    testb %al, %al
    jz mbr_halt
    pushw %ax
    movb $0x0e, %ah
    movw $0x0007, %bx
    int $0x10
    /* Wait (boundedly) until the UART's transmit register is empty: bit 5
     * of its line status register (port 0x3FD). */
    movw $0x3fd, %dx
    xorw %cx, %cx
1:  inb %dx, %al
    testb $0x20, %al
    loopz 1b
    popw %ax
    movw $0x3f8, %dx
    outb %al, %dx
    jmp mbr_fail
mbr_halt:
    cli
    hlt
    jmp mbr_halt

mbr_drive:
    .byte 0

mbr_msg_ext:    .asciz "MBR: no INT 13h extensions\r\n"
mbr_msg_read:   .asciz "MBR: disk read error\r\n"
mbr_msg_stage2: .asciz "MBR: no stage 2 at LBA 34\r\n"

/* The disk address packet of the stage 2 read, in the last 16 bytes of
 * the boot code: the ISO writer (`xtask/src/diskimage/iso.rs`) rewrites
 * its count and LBA in the copy El Torito boots, where stage 2 lies in
 * 2048-byte CD sectors after this sector. */
.org 440 - 16
mbr_dap:
    .byte 0x10                  /* packet size */
    .byte 0
    .word __stage2_sectors      /* sectors to read (linker-computed) */
    .word 0x8000, 0             /* buffer, offset:segment */
    .quad 34                    /* first LBA: the BIOS boot partition */
.popsection
