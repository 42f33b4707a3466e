//! Segments and exceptions: a GDT with a TSS (so the double-fault handler
//! runs on its own stack, which lets a kernel stack overflow be reported),
//! and an IDT whose handlers print what went wrong and power off.

use core::ptr::addr_of;
use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::interrupts;
use x86_64::instructions::tables::load_tss;
use x86_64::registers::control::Cr2;
use x86_64::registers::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::idt::{InterruptDescriptorTable, InterruptStackFrame, PageFaultErrorCode};
use x86_64::structures::tss::TaskStateSegment;

const DOUBLE_FAULT_IST: u16 = 0;
const FAULT_STACK_SIZE: usize = 16 * 1024;

/// The stack the double-fault handler switches to.
#[repr(align(16))]
struct FaultStack(#[allow(dead_code)] [u8; FAULT_STACK_SIZE]);
static mut FAULT_STACK: FaultStack = FaultStack([0; FAULT_STACK_SIZE]);

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable, [SegmentSelector; 3])> = Once::new();
static IDT: Once<InterruptDescriptorTable> = Once::new();

/// Interrupt vectors used by the kernel.
pub const TIMER_VECTOR: u8 = 0x20;
pub const SPURIOUS_VECTOR: u8 = 0xFF;

pub fn init_cpu() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        let top = addr_of!(FAULT_STACK) as u64 + FAULT_STACK_SIZE as u64;
        tss.interrupt_stack_table[DOUBLE_FAULT_IST as usize] = VirtAddr::new(top);
        tss
    });
    let (gdt, [code, data, tss_selector]) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss_selector = gdt.append(Descriptor::tss_segment(tss));
        (gdt, [code, data, tss_selector])
    });
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded, with matching types.
    unsafe {
        CS::set_reg(*code);
        DS::set_reg(*data);
        ES::set_reg(*data);
        SS::set_reg(*data);
        load_tss(*tss_selector);
    }

    let idt = IDT.call_once(|| {
        let mut idt = InterruptDescriptorTable::new();
        idt.divide_error.set_handler_fn(divide_error);
        idt.invalid_opcode.set_handler_fn(invalid_opcode);
        idt.general_protection_fault.set_handler_fn(general_protection);
        idt.stack_segment_fault.set_handler_fn(stack_segment);
        idt.page_fault.set_handler_fn(page_fault);
        // SAFETY: the IST index names the fault stack set up in the TSS above.
        unsafe {
            idt.double_fault.set_handler_fn(double_fault).set_stack_index(DOUBLE_FAULT_IST);
        }
        idt[TIMER_VECTOR].set_handler_fn(super::apic::timer_interrupt);
        idt[SPURIOUS_VECTOR].set_handler_fn(spurious_interrupt);
        super::irq::install(&mut idt);
        idt
    });
    idt.load();
}

/// Enables interrupts, halts until one arrives, and disables them again.
/// `sti` takes effect after the next instruction, so no interrupt can slip in
/// between it and `hlt` and leave the CPU sleeping past a wake-up.
pub fn wait_for_interrupt() {
    interrupts::enable_and_hlt();
    interrupts::disable();
}

fn fatal(what: &str, frame: &InterruptStackFrame, detail: core::fmt::Arguments) -> ! {
    panic!(
        "CPU exception: {what} at instruction {:#x}, stack {:#x}{detail}",
        frame.instruction_pointer.as_u64(),
        frame.stack_pointer.as_u64()
    )
}

extern "x86-interrupt" fn divide_error(frame: InterruptStackFrame) {
    fatal("divide error", &frame, format_args!(""))
}

extern "x86-interrupt" fn invalid_opcode(frame: InterruptStackFrame) {
    fatal("invalid opcode", &frame, format_args!(""))
}

extern "x86-interrupt" fn general_protection(frame: InterruptStackFrame, code: u64) {
    fatal("general protection fault", &frame, format_args!(", error code {code:#x}"))
}

extern "x86-interrupt" fn stack_segment(frame: InterruptStackFrame, code: u64) {
    fatal("stack-segment fault", &frame, format_args!(", error code {code:#x}"))
}

extern "x86-interrupt" fn page_fault(frame: InterruptStackFrame, code: PageFaultErrorCode) {
    let address = Cr2::read_raw();
    let access = if code.contains(PageFaultErrorCode::INSTRUCTION_FETCH) {
        "executing"
    } else if code.contains(PageFaultErrorCode::CAUSED_BY_WRITE) {
        "writing"
    } else {
        "reading"
    };
    let why = if code.contains(PageFaultErrorCode::PROTECTION_VIOLATION) { "not allowed" } else { "not mapped" };
    fatal("page fault", &frame, format_args!(", {access} address {address:#x} ({why}), error code {:#x}", code.bits()))
}

extern "x86-interrupt" fn double_fault(frame: InterruptStackFrame, _code: u64) -> ! {
    fatal("double fault (kernel stack overflow?)", &frame, format_args!(""))
}

extern "x86-interrupt" fn spurious_interrupt(_frame: InterruptStackFrame) {}
