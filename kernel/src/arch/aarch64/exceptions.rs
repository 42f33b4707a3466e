//! Exceptions: the EL1 vector table (VBAR_EL1), handlers that report faults
//! and power off, the IRQ path, and idling until an interrupt.
//!
//! - Synchronous exceptions (aborts, undefined instructions, ...) are fatal,
//!   except the semihosting `hlt` that `power_off` tries when QEMU has
//!   semihosting off: that one is skipped. Their handler always runs on its
//!   own stack, so a kernel stack overflow (a fault with SP in the guard page)
//!   is reported instead of faulting again forever.
//! - IRQs are taken only inside [`wait_for_interrupt`], on the kernel stack:
//!   the entry code saves every register the Rust handler may clobber
//!   (x0-x18, x29, x30 and all of q0-q31, FPSR, FPCR).
//! - Everything else (FIQ, SError, exceptions from EL0) is unexpected and fatal.

use core::arch::{asm, global_asm};
use core::ptr::addr_of;

/// Size of the stack synchronous exceptions are handled on.
const EXCEPTION_STACK_SIZE: usize = 32 * 1024;

#[repr(C, align(16))]
struct ExceptionStack([u8; EXCEPTION_STACK_SIZE]);

static mut EXCEPTION_STACK: ExceptionStack = ExceptionStack([0; EXCEPTION_STACK_SIZE]);

/// The registers saved by the synchronous/unexpected exception entry (the
/// layout the assembly below writes).
#[repr(C)]
pub struct ExceptionFrame {
    x: [u64; 31],
    /// SP at the time of the exception.
    sp: u64,
    /// ELR_EL1: the instruction that faulted (or the one after an `svc`).
    elr: u64,
    spsr: u64,
    /// ESR_EL1: exception syndrome (class and details).
    esr: u64,
    /// FAR_EL1: the faulting address, for aborts.
    far: u64,
}

const _: () = assert!(core::mem::size_of::<ExceptionFrame>() == 288);

// The vector table: 16 entries of 0x80 bytes, 2 KiB aligned. Each group of
// four is (synchronous, IRQ, FIQ, SError), for: the current EL using SP_EL0,
// the current EL using SP_ELx (where the kernel runs), a lower EL in AArch64,
// and a lower EL in AArch32.
//
// The fatal path needs free registers to switch stacks; it parks x0 and x1
// in TPIDR_EL1 and TPIDRRO_EL0 (no code here uses them) and passes the
// vector number of unexpected exceptions in TPIDR_EL0.
global_asm!(
    r#"
.macro ENTER_ON_EXCEPTION_STACK
    msr     tpidr_el1, x0
    msr     tpidrro_el0, x1
    /* Already on the exception stack (a fault while handling one)? Then keep
       going down it; otherwise start at its top. */
    mov     x0, sp
    adrp    x1, {stack}
    add     x1, x1, :lo12:{stack}
    cmp     x0, x1
    b.lo    1f
    add     x1, x1, #{stack_pages}, lsl #12
    cmp     x0, x1
    b.lo    2f
    b       3f
1:  add     x1, x1, #{stack_pages}, lsl #12
3:  mov     sp, x1
2:  sub     sp, sp, #288
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    stp     x30, x0, [sp, #240]        /* x0 = the interrupted SP */
    mrs     x0, tpidr_el1
    mrs     x1, tpidrro_el0
    stp     x0, x1, [sp, #0]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x0, x1, [sp, #256]
    mrs     x0, esr_el1
    mrs     x1, far_el1
    stp     x0, x1, [sp, #272]
.endm

.macro LEAVE_EXCEPTION_STACK
    ldp     x0, x1, [sp, #256]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    /* x0, x1 and SP last, through the scratch registers. */
    ldp     x0, x1, [sp, #0]
    msr     tpidr_el1, x0
    msr     tpidrro_el0, x1
    ldr     x0, [sp, #248]
    mov     sp, x0
    mrs     x0, tpidr_el1
    mrs     x1, tpidrro_el0
    eret
.endm

/* An entry for an exception the kernel never expects: record which one. */
.macro UNEXPECTED number
    .balign 0x80
    msr     tpidr_el1, x0
    mov     x0, #\number
    msr     tpidr_el0, x0
    mrs     x0, tpidr_el1
    b       unexpected_entry
.endm

.pushsection .text.vectors, "ax"
.balign 2048
.global exception_vectors
exception_vectors:
    UNEXPECTED 0                    /* current EL, SP_EL0 */
    UNEXPECTED 1
    UNEXPECTED 2
    UNEXPECTED 3
    .balign 0x80                    /* current EL, SP_ELx: synchronous */
    b       sync_entry
    .balign 0x80                    /* current EL, SP_ELx: IRQ */
    b       irq_entry
    UNEXPECTED 6                    /* FIQ */
    UNEXPECTED 7                    /* SError */
    UNEXPECTED 8                    /* lower EL, AArch64 */
    UNEXPECTED 9
    UNEXPECTED 10
    UNEXPECTED 11
    UNEXPECTED 12                   /* lower EL, AArch32 */
    UNEXPECTED 13
    UNEXPECTED 14
    UNEXPECTED 15

sync_entry:
    ENTER_ON_EXCEPTION_STACK
    mov     x0, sp
    bl      {sync_handler}
    LEAVE_EXCEPTION_STACK

unexpected_entry:
    ENTER_ON_EXCEPTION_STACK
    mov     x0, sp
    mrs     x1, tpidr_el0
    bl      {unexpected_handler}
    b       .

/* IRQ: on the interrupted (kernel) stack. Frame: x0-x18, x29, x30, ELR,
   SPSR, FPSR, FPCR (208 bytes with padding), then q0-q31 (512 bytes). */
irq_entry:
    sub     sp, sp, #720
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    mrs     x0, elr_el1
    stp     x30, x0, [sp, #160]
    mrs     x0, spsr_el1
    mrs     x1, fpsr
    stp     x0, x1, [sp, #176]
    mrs     x0, fpcr
    str     x0, [sp, #192]
    add     x0, sp, #208
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]

    bl      {irq_handler}

    add     x0, sp, #208
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    ldr     x0, [sp, #192]
    msr     fpcr, x0
    ldp     x0, x1, [sp, #176]
    msr     spsr_el1, x0
    msr     fpsr, x1
    ldp     x30, x0, [sp, #160]
    msr     elr_el1, x0
    ldp     x18, x29, [sp, #144]
    ldp     x16, x17, [sp, #128]
    ldp     x14, x15, [sp, #112]
    ldp     x12, x13, [sp, #96]
    ldp     x10, x11, [sp, #80]
    ldp     x8, x9, [sp, #64]
    ldp     x6, x7, [sp, #48]
    ldp     x4, x5, [sp, #32]
    ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #720
    eret
.popsection
"#,
    stack = sym EXCEPTION_STACK,
    stack_pages = const EXCEPTION_STACK_SIZE / 4096,
    sync_handler = sym sync_exception,
    unexpected_handler = sym unexpected_exception,
    irq_handler = sym irq_exception,
);

unsafe extern "C" {
    static exception_vectors: u8;
}

/// Installs the exception vectors.
pub fn init_cpu() {
    // SAFETY: `exception_vectors` is the 2 KiB-aligned table above, whose
    // entries save what they clobber; only its address is taken.
    unsafe {
        asm!("msr vbar_el1, {}", "isb", in(reg) addr_of!(exception_vectors), options(nostack));
    }
}

/// Waits for an interrupt and handles it, with IRQs masked before and after.
/// `wfi` wakes up on a pending IRQ even while IRQs are masked, so one that
/// became pending before `wfi` is not missed; unmasking for two instructions
/// then lets the CPU take it.
pub fn wait_for_interrupt() {
    // SAFETY: IRQs are unmasked only at the one point where the IRQ entry
    // code (which saves all clobbered state) may run.
    unsafe { asm!("wfi", "msr daifclr, #2", "isb", "msr daifset, #2", options(nostack)) };
}

/// The Rust IRQ handler: acknowledge, handle (the timer here, device
/// interrupts by their registered handlers), end of interrupt.
extern "C" fn irq_exception() {
    while let Some((iar, intid)) = super::gic::acknowledge() {
        if intid == super::devicetree::get().virtual_timer_intid {
            // One-shot: turn the timer off so that it does not fire again;
            // `set_timer` arms it for the next deadline.
            super::timer::disable();
        } else if !super::irq::dispatch(intid) {
            log::warn!("unexpected interrupt {intid}");
        }
        super::gic::end_of_interrupt(iar);
    }
}

// Exception classes (ESR_EL1.EC).
const EC_UNKNOWN: u64 = 0x00;
const EC_INSTRUCTION_ABORT_LOWER: u64 = 0x20;
const EC_INSTRUCTION_ABORT: u64 = 0x21;
const EC_PC_ALIGNMENT: u64 = 0x22;
const EC_DATA_ABORT_LOWER: u64 = 0x24;
const EC_DATA_ABORT: u64 = 0x25;
const EC_SP_ALIGNMENT: u64 = 0x26;
const EC_BRK: u64 = 0x3C;

unsafe extern "C" {
    static __boot_stack_guard: u8;
    static __boot_stack_bottom: u8;
}

/// The Rust handler for synchronous exceptions at EL1.
extern "C" fn sync_exception(frame: &mut ExceptionFrame) {
    let class = frame.esr >> 26;
    // `power_off` tries semihosting first; with semihosting off, QEMU treats
    // its `hlt` as undefined. Skip it: `power_off` then falls back to PSCI.
    // Returning is safe because the `hlt` is the first instruction of a
    // function, where the caller-saved registers hold nothing live.
    if class == EC_UNKNOWN && frame.elr == super::power::semihosting_hlt_address() {
        frame.elr += 4;
        return;
    }
    report(frame)
}

/// Panics with a description of the exception in `frame`.
fn report(frame: &ExceptionFrame) -> ! {
    let (esr, class, iss) = (frame.esr, frame.esr >> 26, frame.esr & 0x1FF_FFFF);
    let what = match class {
        EC_UNKNOWN => "undefined instruction",
        0x01 => "trapped WFI/WFE",
        0x07 => "trapped FP/SIMD access",
        0x0E => "illegal execution state",
        0x15 => "SVC instruction",
        0x18 => "trapped system register access",
        EC_INSTRUCTION_ABORT | EC_INSTRUCTION_ABORT_LOWER => "instruction abort (page fault)",
        EC_PC_ALIGNMENT => "PC alignment fault",
        EC_DATA_ABORT | EC_DATA_ABORT_LOWER => "data abort (page fault)",
        EC_SP_ALIGNMENT => "SP alignment fault",
        0x2C => "floating-point exception",
        0x2F => "SError",
        0x30..=0x35 => "debug exception",
        EC_BRK => "BRK instruction (a Rust abort or trap)",
        _ => "synchronous exception",
    };
    let is_abort =
        matches!(class, EC_INSTRUCTION_ABORT | EC_INSTRUCTION_ABORT_LOWER | EC_DATA_ABORT | EC_DATA_ABORT_LOWER);
    if !is_abort {
        let detail = if class == EC_BRK { iss & 0xFFFF } else { iss };
        panic!(
            "CPU exception: {what} at instruction {:#x}, stack {:#x}, ESR {esr:#x} (class {class:#x}, detail {detail:#x})",
            frame.elr, frame.sp
        );
    }

    let access = if class == EC_INSTRUCTION_ABORT || class == EC_INSTRUCTION_ABORT_LOWER {
        "executing"
    } else if iss & (1 << 6) != 0 {
        "writing" // WnR
    } else {
        "reading"
    };
    // The fault status code (DFSC/IFSC): for the first four kinds of fault,
    // its low two bits are the translation table level.
    let status = iss & 0x3F;
    let why = match status {
        0x00..=0x03 => "address size fault",
        0x04..=0x07 => "not mapped: translation fault",
        0x08..=0x0B => "access flag fault",
        0x0C..=0x0F => "not allowed: permission fault",
        0x10 => "synchronous external abort",
        0x21 => "alignment fault",
        0x30 => "TLB conflict",
        _ => "abort",
    };
    let level = TableLevel((status < 0x10).then_some(status & 0b11));
    // ISS.FnV: FAR_EL1 does not hold the address.
    let address = FaultAddress((iss & (1 << 10) == 0).then_some(frame.far));

    // Linker-script symbols: only their addresses are used.
    let (guard, guard_end) = (addr_of!(__boot_stack_guard) as u64, addr_of!(__boot_stack_bottom) as u64);
    let in_guard = |a: u64| (guard..guard_end).contains(&a);
    let what = if in_guard(frame.far) || in_guard(frame.sp) {
        "kernel stack overflow (page fault in the stack guard page)"
    } else {
        what
    };
    panic!(
        "CPU exception: {what} at instruction {:#x}, stack {:#x}, {access} {address} ({why}{level}), ESR {esr:#x}",
        frame.elr, frame.sp
    )
}

/// "address 0x10", or "unknown address" when FAR_EL1 is not valid.
struct FaultAddress(Option<u64>);

impl core::fmt::Display for FaultAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self.0 {
            Some(a) => write!(f, "address {a:#x}"),
            None => f.write_str("unknown address"),
        }
    }
}

/// ", level 3" for faults found at a translation table level.
struct TableLevel(Option<u64>);

impl core::fmt::Display for TableLevel {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self.0 {
            Some(level) => write!(f, ", level {level}"),
            None => Ok(()),
        }
    }
}

/// The Rust handler for exceptions the kernel never expects (`vector` is
/// the vector-table entry: 0-15).
extern "C" fn unexpected_exception(frame: &ExceptionFrame, vector: u64) -> ! {
    const FROM: [&str; 4] = ["EL1 with SP_EL0", "EL1", "EL0 (AArch64)", "EL0 (AArch32)"];
    const KIND: [&str; 4] = ["synchronous exception", "IRQ", "FIQ", "SError"];
    let (from, kind) = (FROM[(vector / 4) as usize % 4], KIND[(vector % 4) as usize]);
    panic!(
        "CPU exception: unexpected {kind} from {from} at instruction {:#x}, stack {:#x}, ESR {:#x}, FAR {:#x}",
        frame.elr, frame.sp, frame.esr, frame.far
    )
}
