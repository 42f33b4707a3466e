/* arm64 Linux `Image` entry: header, exception level, MMU, stack, BSS.
 *
 * Booting protocol (Documentation/arch/arm64/booting.rst): the loader copies
 * the image to a 2 MiB-aligned RAM base + text_offset and jumps to its first
 * byte at EL2 or EL1 with the MMU off, interrupts masked and x0 = physical
 * address of the device tree blob. No braces in this file: it goes through
 * global_asm!, which would read them as operands. */

/* Early block descriptors (level 1, 1 GiB each): valid block, access flag set. */
.set DEVICE_BLOCK, (1 << 54) | (1 << 53) | (1 << 10) | (1 << 2) | 1  /* UXN, PXN, AF, AttrIndx 1 (device) */
.set NORMAL_BLOCK, (1 << 10) | (3 << 8) | 1                           /* AF, inner shareable, AttrIndx 0 (normal) */

.pushsection .text.boot, "ax"
.global _start
_start:
    /* The 64-byte Image header. */
    b       primary_entry           /* code0: jump over the header */
    .long   0                       /* code1 */
    .quad   0x200000                /* text_offset: load 2 MiB above the RAM base */
    .quad   __image_size            /* image_size: memory the image needs, BSS and stack included */
    .quad   0b0010                  /* flags: little-endian, 4 KiB pages, base near the start of RAM
                                       (bit 3 stays 0: the image is linked at one fixed address) */
    .quad   0                       /* res2 */
    .quad   0                       /* res3 */
    .quad   0                       /* res4 */
    .byte   0x41, 0x52, 0x4d, 0x64  /* magic "ARM\x64" */
    .long   0                       /* res5 (PE header offset: none) */

primary_entry:
    /* Keep the device-tree pointer in a register nothing below touches. */
    mov     x19, x0

    /* Which exception level did the loader leave us in? (CurrentEL[3:2]) */
    mrs     x9, CurrentEL
    ubfx    x9, x9, #2, #2
    cmp     x9, #2
    b.eq    from_el2

    /* EL1: read the virtual counter for BootInfo::entry_ticks. */
    isb
    mrs     x20, cntvct_el0
    b       el1_start

from_el2:
    /* EL2: the virtual counter is the physical one minus CNTVOFF_EL2, which
     * is set to 0 below, so read the physical counter now. */
    isb
    mrs     x20, cntpct_el0

    /* HCR_EL2.RW: EL1 runs in AArch64 state; nothing else is trapped to EL2. */
    mov     x9, #(1 << 31)
    msr     hcr_el2, x9
    /* CNTHCTL_EL2.EL1PCTEN|EL1PCEN: EL1 may use the physical counter and timer. */
    mov     x9, #3
    msr     cnthctl_el2, x9
    /* Virtual time = physical time. */
    msr     cntvoff_el2, xzr
    /* CPTR_EL2: do not trap FP/SIMD (TFP = 0), only the RES1 bits set. */
    mov     x9, #0x33ff
    msr     cptr_el2, x9
    /* GICv3 system-register interface (ID_AA64PFR0_EL1.GIC != 0): let EL1
     * use it (ICC_SRE_EL2.SRE|Enable) and keep the virtual interface off. */
    mrs     x9, id_aa64pfr0_el1
    ubfx    x9, x9, #24, #4
    cbz     x9, 1f
    mrs     x9, s3_4_c12_c9_5       /* ICC_SRE_EL2 */
    orr     x9, x9, #1              /* SRE */
    orr     x9, x9, #8              /* Enable: EL1 may use ICC_SRE_EL1 */
    msr     s3_4_c12_c9_5, x9
    isb
    msr     s3_4_c12_c11_0, xzr     /* ICH_HCR_EL2 */
1:
    /* Return to EL1h (SP_EL1) with D, A, I and F masked. */
    mov     x9, #0x3c5
    msr     spsr_el2, x9
    adr     x9, el1_start
    msr     elr_el2, x9
    eret

el1_start:
    /* Mask all exceptions and use SP_EL1 (the loader should have already). */
    msr     daifset, #0xf
    msr     spsel, #1

    /* CPACR_EL1.FPEN = 0b11: FP/SIMD instructions do not trap. Rust code for
     * aarch64-unknown-none uses the NEON registers. */
    mov     x9, #(3 << 20)
    msr     cpacr_el1, x9

    /* MAIR_EL1: attribute 0 = normal memory, write-back read/write-allocate
     * (0xFF); attribute 1 = device nGnRE (0x04). */
    mov     x9, #0x04ff
    msr     mair_el1, x9

    /* TCR_EL1: T0SZ = 16 (48-bit addresses, walks start at level 0), 4 KiB
     * granule, table walks write-back cacheable and inner shareable, EPD1 = 1
     * (no TTBR1 walks; T1SZ/TG1 set to sane values anyway). */
    movz    x9, #0x3510
    movk    x9, #0x8090, lsl #16
    /* IPS = the CPU's physical address size (ID_AA64MMFR0_EL1.PARange),
     * capped at 48 bits, which is all 4 KiB pages without LPA2 can address. */
    mrs     x10, id_aa64mmfr0_el1
    and     x10, x10, #0xf
    mov     x11, #5
    cmp     x10, x11
    csel    x10, x10, x11, ls
    bfi     x9, x10, #32, #3
    msr     tcr_el1, x9

    /* TTBR0_EL1: the early identity map below (1 GiB blocks). */
    adrp    x9, boot_l0
    msr     ttbr0_el1, x9
    isb
    /* Throw away any translations and instructions cached before now. */
    tlbi    vmalle1
    ic      iallu
    dsb     nsh
    isb

    /* SCTLR_EL1: the RES1 bits of ARMv8.0 (0x30D00800) plus M (MMU), C (data
     * cache) and I (instruction cache). Alignment checks stay off. */
    movz    x9, #0x1805
    movk    x9, #0x30d0, lsl #16
    msr     sctlr_el1, x9
    isb

    /* The boot stack (the linker script puts a guard page below it). */
    adrp    x9, __boot_stack_top
    add     x9, x9, :lo12:__boot_stack_top
    mov     sp, x9

    /* Zero .bss, 16 bytes at a time (the linker script aligns both ends). */
    adrp    x9, __bss_start
    add     x9, x9, :lo12:__bss_start
    adrp    x10, __bss_end
    add     x10, x10, :lo12:__bss_end
2:  cmp     x9, x10
    b.hs    3f
    stp     xzr, xzr, [x9], #16
    b       2b
3:
    /* image_main(dtb, entry_ticks), with a zeroed frame record so that stack
     * walks stop here. */
    mov     x0, x19
    mov     x1, x20
    mov     x29, xzr
    mov     x30, xzr
    bl      image_main
4:  wfe
    b       4b
.popsection

/* The early page tables: an identity map of the first 8 GiB of physical
 * addresses, enough for the kernel to start up before it builds its own.
 * Static, so they live in read-only data and need no code to fill them. */
.pushsection .rodata.boot, "a"
.balign 4096
boot_l0:
    .quad   boot_l1 + 3             /* level 0 entry 0 (512 GiB) -> level-1 table */
    .fill   511, 8, 0
boot_l1:
    .quad   DEVICE_BLOCK            /* 0-1 GiB: devices (GIC, UART, ...) on QEMU virt */
    .quad   (1 << 30) | NORMAL_BLOCK  /* 1-8 GiB: RAM (starts at 1 GiB on virt) */
    .quad   (2 << 30) | NORMAL_BLOCK
    .quad   (3 << 30) | NORMAL_BLOCK
    .quad   (4 << 30) | NORMAL_BLOCK
    .quad   (5 << 30) | NORMAL_BLOCK
    .quad   (6 << 30) | NORMAL_BLOCK
    .quad   (7 << 30) | NORMAL_BLOCK
    .fill   504, 8, 0
.popsection
