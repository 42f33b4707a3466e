//! The interrupt controller: an Arm GICv2 or GICv3, as the device tree says.
//!
//! [`init`] enables the virtual timer's interrupt (a per-CPU PPI); device
//! interrupts (SPIs) are configured, routed to this CPU, enabled and disabled
//! through [`configure_spi`] and [`set_spi_enabled`] (for `irq`). The IRQ
//! path acknowledges an interrupt, handles it and signals its end (EOI).
//! - GICv2: distributor and CPU interface are memory-mapped.
//! - GICv3: distributor and this CPU's redistributor are memory-mapped; the
//!   CPU interface is the `ICC_*_EL1` system registers.

use super::devicetree::{Gic, GicVersion};
use core::arch::asm;
use spin::Once;

// Distributor registers (both versions).
const GICD_CTLR: usize = 0x000;
const GICD_TYPER: usize = 0x004;
const GICD_IGROUPR: usize = 0x080;
const GICD_ISENABLER: usize = 0x100;
const GICD_ICENABLER: usize = 0x180;
const GICD_IPRIORITYR: usize = 0x400;
/// GICv2: target CPU interfaces, one byte per interrupt.
const GICD_ITARGETSR: usize = 0x800;
const GICD_ICFGR: usize = 0xC00;
/// GICv3 (affinity routing): target affinity, 8 bytes per SPI.
const GICD_IROUTER: usize = 0x6000;
// GICv2 CPU interface registers.
const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;
const GICC_BPR: usize = 0x008;
const GICC_IAR: usize = 0x00C;
const GICC_EOIR: usize = 0x010;
// GICv3 redistributor registers (RD_base frame, then SGI_base = RD_base + 64 KiB).
const GICR_TYPER: usize = 0x0008;
const GICR_WAKER: usize = 0x0014;
const GICR_SGI_BASE: usize = 0x1_0000;
const GICR_IGROUPR0: usize = 0x0080;
const GICR_ISENABLER0: usize = 0x0100;
const GICR_IPRIORITYR: usize = 0x0400;
const GICD_CTLR_RWP: u32 = 1 << 31;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
const TYPER_VLPIS: u64 = 1 << 1;
const TYPER_LAST: u64 = 1 << 4;

/// Priority given to the interrupts we enable (lower = more urgent).
const PRIORITY: u8 = 0x80;
/// INTIDs 1020-1023 are special: "no interrupt pending" (spurious).
const SPURIOUS: u32 = 1020;

/// The controller in use: its version and the registers the IRQ path uses,
/// (v2) the CPU interface or (v3) this CPU's redistributor.
#[derive(Clone, Copy)]
struct Controller {
    version: GicVersion,
    distributor: usize,
    cpu: usize,
}

static CONTROLLER: Once<Controller> = Once::new();

fn read32(addr: usize) -> u32 {
    // SAFETY: only called with register addresses inside the GIC ranges from
    // the device tree, which `device_windows` maps as device memory.
    unsafe { (addr as *const u32).read_volatile() }
}

fn write32(addr: usize, value: u32) {
    // SAFETY: as in `read32`.
    unsafe { (addr as *mut u32).write_volatile(value) }
}

fn write8(addr: usize, value: u8) {
    // SAFETY: as in `read32`; the priority registers are byte-accessible.
    unsafe { (addr as *mut u8).write_volatile(value) }
}

fn read8(addr: usize) -> u8 {
    // SAFETY: as in `write8`.
    unsafe { (addr as *const u8).read_volatile() }
}

fn read64(addr: usize) -> u64 {
    // SAFETY: as in `read32`.
    unsafe { (addr as *const u64).read_volatile() }
}

fn write64(addr: usize, value: u64) {
    // SAFETY: as in `read32`; GICD_IROUTER<n> are 64-bit registers.
    unsafe { (addr as *mut u64).write_volatile(value) }
}

/// This CPU's affinity (MPIDR_EL1's Aff3..Aff0).
fn mpidr() -> u64 {
    let mpidr: u64;
    // SAFETY: reads this CPU's affinity; no side effects.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    mpidr
}

/// Sets the interrupt controller up with the PPI `intid` enabled.
pub fn init(gic: &Gic, intid: u32) {
    let distributor = gic.distributor.0 as usize;
    let controller = match gic.version {
        GicVersion::V2 => {
            let cpu = gic.cpu.0 as usize;
            init_v2(distributor, cpu, intid);
            Controller { version: GicVersion::V2, distributor, cpu }
        }
        GicVersion::V3 => {
            let redistributor = find_redistributor(gic.cpu.0 as usize, gic.cpu.1 as usize)
                .expect("GICv3: no redistributor for this CPU");
            init_v3(distributor, redistributor, intid);
            Controller { version: GicVersion::V3, distributor, cpu: redistributor }
        }
    };
    CONTROLLER.call_once(|| controller);
    log::debug!(
        "interrupts: GICv{} distributor {:#x}, {} {:#x}, timer INTID {intid}",
        if gic.version == GicVersion::V2 { 2 } else { 3 },
        distributor,
        if gic.version == GicVersion::V2 { "CPU interface" } else { "redistributor" },
        controller.cpu
    );
}

fn init_v2(distributor: usize, cpu: usize, intid: u32) {
    // Distributor: off while configuring; give the interrupt a priority and
    // enable it (PPI registers are banked per CPU); then forward group 0 and
    // group 1 interrupts to the CPU interfaces.
    write32(distributor + GICD_CTLR, 0);
    write8(distributor + GICD_IPRIORITYR + intid as usize, PRIORITY);
    write32(distributor + GICD_ISENABLER + 4 * (intid as usize / 32), 1 << (intid % 32));
    write32(distributor + GICD_CTLR, 0b11);
    // CPU interface: let every priority through, no preemption grouping,
    // signal both groups as IRQ.
    write32(cpu + GICC_PMR, 0xFF);
    write32(cpu + GICC_BPR, 0);
    write32(cpu + GICC_CTLR, 0b11);
}

/// Walks the redistributor region for the frame whose affinity matches this
/// CPU's MPIDR_EL1.
fn find_redistributor(base: usize, size: usize) -> Option<usize> {
    let mpidr = mpidr();
    // GICR_TYPER[63:32] holds Aff3.Aff2.Aff1.Aff0.
    let affinity = ((mpidr >> 32) & 0xFF) << 24 | (mpidr & 0xFF_FFFF);
    let mut frame = base;
    while frame < base + size {
        let typer = read64(frame + GICR_TYPER);
        if typer >> 32 == affinity {
            return Some(frame);
        }
        if typer & TYPER_LAST != 0 {
            break;
        }
        // Two 64 KiB frames per CPU (RD + SGI), two more with virtual LPIs.
        frame += if typer & TYPER_VLPIS != 0 { 0x4_0000 } else { 0x2_0000 };
    }
    None
}

fn wait_for_distributor(distributor: usize) {
    // GICD_CTLR.RWP: a register write is still taking effect.
    while read32(distributor + GICD_CTLR) & GICD_CTLR_RWP != 0 {
        core::hint::spin_loop();
    }
}

fn init_v3(distributor: usize, redistributor: usize, intid: u32) {
    // Distributor: affinity routing (ARE) on, group 1 forwarding on. The same
    // bit values work with one security state (bit 0 = Grp0, bit 1 = Grp1)
    // and from the non-secure side of two (bit 0 = Grp1NS, bit 1 = Grp1A).
    write32(distributor + GICD_CTLR, 0);
    wait_for_distributor(distributor);
    write32(distributor + GICD_CTLR, (1 << 4) | 0b11);
    wait_for_distributor(distributor);

    // Redistributor: wake it up (it starts with the CPU marked asleep).
    let waker = redistributor + GICR_WAKER;
    write32(waker, read32(waker) & !WAKER_PROCESSOR_SLEEP);
    while read32(waker) & WAKER_CHILDREN_ASLEEP != 0 {
        core::hint::spin_loop();
    }
    // The PPI: group 1 (group 0 would be signalled as FIQ), a priority, enabled.
    let sgi = redistributor + GICR_SGI_BASE;
    write32(sgi + GICR_IGROUPR0, read32(sgi + GICR_IGROUPR0) | 1 << intid);
    write8(sgi + GICR_IPRIORITYR + intid as usize, PRIORITY);
    write32(sgi + GICR_ISENABLER0, 1 << intid);

    // SAFETY: programs this CPU's GIC CPU interface through its system
    // registers (named by encoding: ICC_SRE_EL1, ICC_PMR_EL1, ICC_BPR1_EL1,
    // ICC_CTLR_EL1, ICC_IGRPEN1_EL1). Interrupts stay masked in PSTATE.
    unsafe {
        asm!(
            // ICC_SRE_EL1.SRE: use the system-register interface.
            "mrs {tmp}, s3_0_c12_c12_5",
            "orr {tmp}, {tmp}, #1",
            "msr s3_0_c12_c12_5, {tmp}",
            "isb",
            // Let every priority through, no preemption grouping, EOI also
            // deactivates (EOImode 0), group 1 interrupts enabled.
            "mov {tmp}, #0xff",
            "msr s3_0_c4_c6_0, {tmp}",
            "msr s3_0_c12_c12_3, xzr",
            "msr s3_0_c12_c12_4, xzr",
            "mov {tmp}, #1",
            "msr s3_0_c12_c12_7, {tmp}",
            "isb",
            tmp = out(reg) _,
            options(nomem, nostack),
        );
    }
}

/// Why an SPI cannot be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpiError {
    /// No interrupt controller was set up.
    NoController,
    /// Not an SPI this distributor implements (the limit is given).
    OutOfRange(u32),
}

/// Configures SPI `intid` (edge- or level-triggered), gives it a priority,
/// routes it to this CPU, and leaves it disabled ([`set_spi_enabled`]).
pub fn configure_spi(intid: u32, edge: bool) -> Result<(), SpiError> {
    let controller = CONTROLLER.get().ok_or(SpiError::NoController)?;
    let distributor = controller.distributor;
    // GICD_TYPER.ITLinesNumber: 32 * (N + 1) interrupt IDs (at most 1020).
    let limit = (32 * ((read32(distributor + GICD_TYPER) & 0x1F) + 1)).min(SPURIOUS);
    if !(32..limit).contains(&intid) {
        return Err(SpiError::OutOfRange(limit));
    }
    let n = intid as usize;
    set_spi_enabled(intid, false);
    // Two configuration bits per interrupt; the upper one is "edge".
    let icfgr = distributor + GICD_ICFGR + 4 * (n / 16);
    let bit = 1 << (2 * (n % 16) + 1);
    write32(icfgr, if edge { read32(icfgr) | bit } else { read32(icfgr) & !bit });
    write8(distributor + GICD_IPRIORITYR + n, PRIORITY);
    match controller.version {
        GicVersion::V2 => {
            // GICD_ITARGETSR0-7 are banked and read as this CPU's interface
            // bit; a uniprocessor GIC reads zero there (and ignores targets).
            let this_cpu = match read8(distributor + GICD_ITARGETSR) {
                0 => 1,
                mask => mask,
            };
            write8(distributor + GICD_ITARGETSR + n, this_cpu);
        }
        GicVersion::V3 => {
            // Group 1 (signalled as IRQ, as the timer's PPI), routed to this
            // CPU's affinity (Interrupt_Routing_Mode 0: that one CPU).
            let igroupr = distributor + GICD_IGROUPR + 4 * (n / 32);
            write32(igroupr, read32(igroupr) | 1 << (n % 32));
            write64(distributor + GICD_IROUTER + 8 * n, mpidr() & 0xFF_00FF_FFFF);
        }
    }
    Ok(())
}

/// Enables or disables (masks) SPI `intid` at the distributor.
pub fn set_spi_enabled(intid: u32, enabled: bool) {
    let Some(controller) = CONTROLLER.get() else { return };
    let n = intid as usize;
    let register = if enabled { GICD_ISENABLER } else { GICD_ICENABLER };
    write32(controller.distributor + register + 4 * (n / 32), 1 << (n % 32));
    if controller.version == GicVersion::V3 && !enabled {
        // The disable takes effect once GICD_CTLR.RWP clears.
        wait_for_distributor(controller.distributor);
    }
}

/// Acknowledges the highest-priority pending interrupt. Returns the raw
/// acknowledge value (for [`end_of_interrupt`]) and the INTID, or `None`
/// if nothing was pending.
pub fn acknowledge() -> Option<(u32, u32)> {
    let controller = CONTROLLER.get()?;
    let iar = match controller.version {
        GicVersion::V2 => read32(controller.cpu + GICC_IAR),
        GicVersion::V3 => {
            let iar: u64;
            // SAFETY: reads ICC_IAR1_EL1, which acknowledges the interrupt.
            unsafe { asm!("mrs {}, s3_0_c12_c12_0", out(reg) iar, options(nomem, nostack)) };
            iar as u32
        }
    };
    let intid = match controller.version {
        GicVersion::V2 => iar & 0x3FF,
        GicVersion::V3 => iar & 0xFF_FFFF,
    };
    if (SPURIOUS..1024).contains(&intid) { None } else { Some((iar, intid)) }
}

/// Signals the end of the interrupt acknowledged as `iar`.
pub fn end_of_interrupt(iar: u32) {
    let Some(controller) = CONTROLLER.get() else { return };
    match controller.version {
        GicVersion::V2 => write32(controller.cpu + GICC_EOIR, iar),
        // SAFETY: writes ICC_EOIR1_EL1 for the interrupt just acknowledged.
        GicVersion::V3 => unsafe { asm!("msr s3_0_c12_c12_1, {}", in(reg) u64::from(iar), options(nomem, nostack)) },
    }
}
