/* PVH entry stub: 32-bit protected mode -> 64-bit long mode. */

/* The ELF note that tells the loader where to enter (type 18 = PHYS32_ENTRY). */
.pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                 /* name size: "Xen\0" */
    .long 4                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start
    .balign 4
.popsection

.pushsection .text.boot, "ax"
.code32
.global pvh_start
pvh_start:
    cli
    cld
    /* Keep the start-info pointer; the Rust half receives it in edi. */
    movl %ebx, %esi

    /* Read the time-stamp counter first thing, for boot-time reporting. */
    rdtsc
    movl %eax, (boot_entry_tsc)
    movl %edx, (boot_entry_tsc + 4)

    /* Identity-map 0..4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..4] -> 4 PDs. */
    movl $boot_pdpt, %eax
    orl $0x3, %eax                      /* present | writable */
    movl %eax, (boot_pml4)

    movl $boot_pd, %eax
    orl $0x3, %eax
    movl $boot_pdpt, %edi
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 1b

    movl $boot_pd, %edi
    movl $0x83, %eax                    /* present | writable | 2 MiB page */
    xorl %edx, %edx                     /* high half of the entry (addresses >= 4 GiB) */
    movl $2048, %ecx
2:  movl %eax, (%edi)
    movl %edx, 4(%edi)
    addl $0x200000, %eax
    adcl $0, %edx
    addl $8, %edi
    loop 2b

    /* CR4.PAE, then CR3, then EFER.LME|NXE, then CR0.PG|WP. */
    movl %cr4, %eax
    orl $(1 << 5), %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $((1 << 8) | (1 << 11)), %eax
    wrmsr
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16) | 1), %eax
    movl %eax, %cr0

    /* Load a GDT with a 64-bit code segment and far-jump into it. */
    lgdt (boot_gdt_pointer)
    ljmp $0x08, $long_mode_entry

.code64
long_mode_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs

    movabsq $__boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl %esi, %edi                     /* first argument: start-info address */
    call pvh_main
3:  hlt
    jmp 3b
.popsection

.pushsection .rodata.boot, "a"
.balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code, ring 0 */
    .quad 0x00cf92000000ffff            /* 0x10: data, ring 0 */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt
.popsection

.pushsection .bss.boot, "aw", @nobits
.balign 4096
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4096 * 4
.global boot_entry_tsc
boot_entry_tsc: .skip 8
.popsection
