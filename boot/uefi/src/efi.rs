//! The few UEFI boot services the loader calls, bound by hand (UEFI 2.10,
//! chapters 4, 7, 9, 13): the console, page and pool allocation, the memory
//! map, configuration tables, reading files from the volume the loader was
//! loaded from, and ExitBootServices. Also the pool-backed global allocator,
//! which refuses to allocate once boot services are gone.

use alloc::string::String;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

pub type Handle = *mut c_void;
pub type Status = usize;

const ERROR_BIT: usize = 1 << (usize::BITS - 1);
pub const SUCCESS: Status = 0;
pub const LOAD_ERROR: Status = ERROR_BIT | 1;
const BUFFER_TOO_SMALL: Status = ERROR_BIT | 5;

#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Guid(pub u32, pub u16, pub u16, pub [u8; 8]);

#[cfg(target_arch = "x86_64")]
pub const ACPI_20_TABLE: Guid = Guid(0x8868_e871, 0xe4f1, 0x11d3, [0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81]);
#[cfg(target_arch = "x86_64")]
pub const ACPI_10_TABLE: Guid = Guid(0xeb9d_2d30, 0x2d88, 0x11d3, [0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d]);
#[cfg(target_arch = "aarch64")]
pub const DEVICE_TREE: Guid = Guid(0xb1b6_21d5, 0xf19c, 0x41a5, [0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0]);
const LOADED_IMAGE: Guid = Guid(0x5b1b_31a1, 0x9562, 0x11d2, [0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b]);
const SIMPLE_FILE_SYSTEM: Guid = Guid(0x964e_5b22, 0x6459, 0x11d2, [0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b]);
const FILE_INFO: Guid = Guid(0x0957_6e92, 0x6d3f, 0x11d2, [0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b]);

#[repr(C)]
struct TableHeader {
    signature: u64,
    revision: u32,
    header_size: u32,
    crc32: u32,
    reserved: u32,
}

#[repr(C)]
pub struct SystemTable {
    hdr: TableHeader,
    firmware_vendor: *const u16,
    firmware_revision: u32,
    console_in_handle: Handle,
    con_in: *mut c_void,
    console_out_handle: Handle,
    con_out: *mut TextOutput,
    standard_error_handle: Handle,
    std_err: *mut TextOutput,
    runtime_services: *mut c_void,
    boot_services: *mut BootServices,
    number_of_table_entries: usize,
    configuration_table: *const ConfigurationTable,
}

#[repr(C)]
struct TextOutput {
    reset: usize,
    output_string: unsafe extern "efiapi" fn(*mut TextOutput, *const u16) -> Status,
}

#[repr(C)]
struct ConfigurationTable {
    vendor_guid: Guid,
    vendor_table: *mut c_void,
}

#[repr(C)]
struct BootServices {
    hdr: TableHeader,
    raise_tpl: usize,
    restore_tpl: usize,
    allocate_pages: unsafe extern "efiapi" fn(u32, u32, usize, *mut u64) -> Status,
    free_pages: unsafe extern "efiapi" fn(u64, usize) -> Status,
    get_memory_map: unsafe extern "efiapi" fn(*mut usize, *mut u8, *mut usize, *mut usize, *mut u32) -> Status,
    allocate_pool: unsafe extern "efiapi" fn(u32, usize, *mut *mut u8) -> Status,
    free_pool: unsafe extern "efiapi" fn(*mut u8) -> Status,
    // CreateEvent .. CheckEvent, then Install/Reinstall/UninstallProtocolInterface.
    events_and_protocols: [usize; 9],
    handle_protocol: unsafe extern "efiapi" fn(Handle, *const Guid, *mut *mut c_void) -> Status,
    // Reserved, RegisterProtocolNotify, LocateHandle, LocateDevicePath,
    // InstallConfigurationTable, LoadImage, StartImage, Exit, UnloadImage.
    more: [usize; 9],
    exit_boot_services: unsafe extern "efiapi" fn(Handle, usize) -> Status,
}

#[repr(C)]
struct LoadedImage {
    revision: u32,
    parent_handle: Handle,
    system_table: *mut SystemTable,
    device_handle: Handle,
}

#[repr(C)]
struct SimpleFileSystem {
    revision: u64,
    open_volume: unsafe extern "efiapi" fn(*mut SimpleFileSystem, *mut *mut FileProtocol) -> Status,
}

#[repr(C)]
struct FileProtocol {
    revision: u64,
    open: unsafe extern "efiapi" fn(*mut FileProtocol, *mut *mut FileProtocol, *const u16, u64, u64) -> Status,
    close: unsafe extern "efiapi" fn(*mut FileProtocol) -> Status,
    delete: usize,
    read: unsafe extern "efiapi" fn(*mut FileProtocol, *mut usize, *mut u8) -> Status,
    write: usize,
    get_position: usize,
    set_position: usize,
    get_info: unsafe extern "efiapi" fn(*mut FileProtocol, *const Guid, *mut usize, *mut u8) -> Status,
}

/// UEFI memory types (EFI_MEMORY_TYPE).
#[cfg(target_arch = "x86_64")]
pub const LOADER_CODE: u32 = 1;
pub const LOADER_DATA: u32 = 2;

const ALLOCATE_MAX_ADDRESS: u32 = 1;
const ALLOCATE_ADDRESS: u32 = 2;
pub const PAGE: u64 = 4096;

static SYSTEM_TABLE: AtomicPtr<SystemTable> = AtomicPtr::new(core::ptr::null_mut());
static EXITED: AtomicBool = AtomicBool::new(false);

/// Keeps the system table for the functions below; call first.
pub fn init(system_table: *mut SystemTable) {
    SYSTEM_TABLE.store(system_table, Ordering::Relaxed);
}

fn system_table() -> Option<&'static SystemTable> {
    if EXITED.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: the firmware's system table, valid until ExitBootServices
    // (after which EXITED is set and this returns None).
    unsafe { SYSTEM_TABLE.load(Ordering::Relaxed).as_ref() }
}

fn boot_services() -> &'static BootServices {
    let st = system_table().expect("boot services are gone");
    // SAFETY: valid while boot services are (checked above).
    unsafe { &*st.boot_services }
}

/// Writes `text` on the firmware's console (UCS-2, `\n` as CR LF).
pub fn print(text: &str) {
    let Some(st) = system_table() else { return };
    let mut buf = [0u16; 128];
    let mut n = 0;
    let flush = |buf: &mut [u16; 128], n: &mut usize| {
        buf[*n] = 0;
        // SAFETY: ConOut is valid while boot services are; the string is
        // NUL-terminated.
        unsafe { ((*st.con_out).output_string)(st.con_out, buf.as_ptr()) };
        *n = 0;
    };
    for c in text.chars() {
        if c == '\n' {
            buf[n] = u16::from(b'\r');
            n += 1;
        }
        let mut units = [0u16; 2];
        for &unit in c.encode_utf16(&mut units).iter() {
            buf[n] = unit;
            n += 1;
        }
        if n >= buf.len() - 4 {
            flush(&mut buf, &mut n);
        }
    }
    flush(&mut buf, &mut n);
}

/// The console as a `core::fmt::Write` (no allocation).
pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        print(s);
        Ok(())
    }
}

/// The configuration table with `guid` (ACPI RSDP, device tree), if any.
pub fn configuration_table(guid: Guid) -> Option<u64> {
    let st = system_table()?;
    // SAFETY: the firmware's array of `number_of_table_entries` entries.
    let tables = unsafe { core::slice::from_raw_parts(st.configuration_table, st.number_of_table_entries) };
    tables.iter().find(|t| t.vendor_guid == guid).map(|t| t.vendor_table as u64)
}

/// `pages` pages of `memory_type` at exactly `address`.
pub fn allocate_at(address: u64, pages: usize, memory_type: u32) -> Result<(), Status> {
    let mut addr = address;
    // SAFETY: a boot service call with valid pointers.
    let status = unsafe { (boot_services().allocate_pages)(ALLOCATE_ADDRESS, memory_type, pages, &mut addr) };
    if status == SUCCESS { Ok(()) } else { Err(status) }
}

/// `pages` pages of `memory_type` anywhere below `max` (inclusive).
pub fn allocate_below(max: u64, pages: usize, memory_type: u32) -> Result<u64, Status> {
    let mut addr = max;
    // SAFETY: a boot service call with valid pointers.
    let status = unsafe { (boot_services().allocate_pages)(ALLOCATE_MAX_ADDRESS, memory_type, pages, &mut addr) };
    if status == SUCCESS { Ok(addr) } else { Err(status) }
}

/// A file open for reading on the volume this loader was loaded from.
pub struct File {
    handle: *mut FileProtocol,
    path: String,
    size: usize,
}

fn failure(what: &str, path: &str, status: Status) -> String {
    alloc::format!("{what} {path}: EFI status {:#x}", status & !ERROR_BIT)
}

impl File {
    /// Opens `path` (like `\APPLIANCE\KERNEL`) for reading.
    pub fn open(image: Handle, path: &str) -> Result<File, String> {
        let bs = boot_services();
        let mut name: Vec<u16> = path.encode_utf16().collect();
        name.push(0);
        // SAFETY: boot service calls with valid pointers; each protocol
        // pointer the firmware returns is used only while boot services run.
        unsafe {
            let mut loaded: *mut c_void = core::ptr::null_mut();
            let status = (bs.handle_protocol)(image, &LOADED_IMAGE, &mut loaded);
            if status != SUCCESS {
                return Err(failure("no LoadedImage protocol to find", path, status));
            }
            let device = (*(loaded as *mut LoadedImage)).device_handle;
            let mut fs: *mut c_void = core::ptr::null_mut();
            let status = (bs.handle_protocol)(device, &SIMPLE_FILE_SYSTEM, &mut fs);
            if status != SUCCESS {
                return Err(failure("the boot volume has no file system to read", path, status));
            }
            let fs = fs as *mut SimpleFileSystem;
            let mut root: *mut FileProtocol = core::ptr::null_mut();
            let status = ((*fs).open_volume)(fs, &mut root);
            if status != SUCCESS {
                return Err(failure("cannot open the boot volume to read", path, status));
            }
            let mut handle: *mut FileProtocol = core::ptr::null_mut();
            let status = ((*root).open)(root, &mut handle, name.as_ptr(), 1, 0); // EFI_FILE_MODE_READ
            ((*root).close)(root);
            if status != SUCCESS {
                return Err(failure("cannot open", path, status));
            }
            let mut file = File { handle, path: String::from(path), size: 0 };
            // EFI_FILE_INFO: Size (u64), FileSize (u64), ... then the name.
            let mut info = [0u64; 64];
            let mut info_size = core::mem::size_of_val(&info);
            let status = ((*handle).get_info)(handle, &FILE_INFO, &mut info_size, info.as_mut_ptr().cast());
            if status != SUCCESS {
                return Err(failure("cannot get the size of", path, status));
            }
            file.size = info[1] as usize;
            Ok(file)
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Reads the next `len` bytes to `dest`.
    ///
    /// # Safety
    /// `dest` must be valid for `len` bytes of writes.
    pub unsafe fn read_to(&mut self, dest: *mut u8, len: usize) -> Result<(), String> {
        let mut done = 0;
        while done < len {
            let mut chunk = len - done;
            // SAFETY: the file is open; dest + done .. dest + len is writable
            // (the caller's promise).
            let status = unsafe { ((*self.handle).read)(self.handle, &mut chunk, dest.add(done)) };
            if status != SUCCESS || chunk == 0 {
                return Err(failure("cannot read", &self.path, status));
            }
            done += chunk;
        }
        Ok(())
    }

    /// Reads the next `buf.len()` bytes.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<(), String> {
        // SAFETY: the buffer is writable for its length.
        unsafe { self.read_to(buf.as_mut_ptr(), buf.len()) }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if system_table().is_some() {
            // SAFETY: the handle is open (closed only here).
            unsafe { ((*self.handle).close)(self.handle) };
        }
    }
}

/// Reads the whole file at `path` from the volume this loader was loaded from.
pub fn read_file(image: Handle, path: &str) -> Result<Vec<u8>, String> {
    let mut file = File::open(image, path)?;
    let mut data = alloc::vec![0u8; file.size()];
    file.read(&mut data)?;
    Ok(data)
}

/// What holds [start, end) in the memory map, for an error message: the
/// regions that overlap it and are not free (conventional) memory.
pub fn describe(start: u64, end: u64) -> String {
    let mut map = MemoryMap::new();
    if map.refresh().is_err() {
        return String::new();
    }
    let mut text = String::new();
    for d in map.iter().filter(|d| d.kind != 7 && d.start < end && start < d.start + d.pages * PAGE) {
        text.push_str(&alloc::format!(
            "; {:#x}..{:#x} is UEFI memory type {}",
            d.start,
            d.start + d.pages * PAGE,
            d.kind
        ));
    }
    text
}

/// One UEFI memory map entry (EFI_MEMORY_DESCRIPTOR, without its padding).
#[derive(Clone, Copy)]
pub struct Descriptor {
    pub kind: u32,
    pub start: u64,
    pub pages: u64,
}

/// A buffer for the memory map, sized for the current map plus room for
/// the descriptors that allocating it (and a few more allocations) add.
pub struct MemoryMap {
    buf: Vec<u64>,
    size: usize,
    key: usize,
    descriptor_size: usize,
}

impl MemoryMap {
    pub fn new() -> MemoryMap {
        let mut size = 0;
        let (mut key, mut descriptor_size, mut version) = (0, 0, 0);
        // SAFETY: with size 0 the call only reports the size it needs.
        let status = unsafe {
            (boot_services().get_memory_map)(
                &mut size,
                core::ptr::null_mut(),
                &mut key,
                &mut descriptor_size,
                &mut version,
            )
        };
        debug_assert!(status == BUFFER_TOO_SMALL || status == SUCCESS);
        let room = size + 32 * descriptor_size.max(48);
        MemoryMap { buf: alloc::vec![0u64; room / 8 + 1], size: 0, key: 0, descriptor_size }
    }

    /// Reads the current map into the buffer (no allocation).
    pub fn refresh(&mut self) -> Result<(), Status> {
        let mut size = self.buf.len() * 8;
        let mut version = 0;
        // SAFETY: the buffer is `size` bytes and 8-byte aligned.
        let status = unsafe {
            (boot_services().get_memory_map)(
                &mut size,
                self.buf.as_mut_ptr().cast(),
                &mut self.key,
                &mut self.descriptor_size,
                &mut version,
            )
        };
        if status != SUCCESS {
            return Err(status);
        }
        self.size = size;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.size / self.descriptor_size.max(1)
    }

    pub fn get(&self, i: usize) -> Descriptor {
        // SAFETY: `i < len()` descriptors of `descriptor_size` bytes lie in
        // the buffer; EFI_MEMORY_DESCRIPTOR: Type u32, pad, PhysicalStart
        // u64, VirtualStart u64, NumberOfPages u64, Attribute u64.
        unsafe {
            let p = self.buf.as_ptr().cast::<u8>().add(i * self.descriptor_size);
            Descriptor {
                kind: p.cast::<u32>().read_unaligned(),
                start: p.add(8).cast::<u64>().read_unaligned(),
                pages: p.add(24).cast::<u64>().read_unaligned(),
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Descriptor> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Leaves the firmware's boot services: takes the final memory map (into
/// `map`, without allocating) and hands the machine over. Nothing that
/// needs the firmware (the console, the allocator) works afterwards.
pub fn exit_boot_services(image: Handle, map: &mut MemoryMap) -> Result<(), Status> {
    let bs = boot_services();
    let mut last = LOAD_ERROR;
    // The key changes if anything allocated since the map was read (a timer
    // event can): read it again and retry, as the specification says.
    for _ in 0..4 {
        map.refresh()?;
        // SAFETY: the key is from the map just read.
        last = unsafe { (bs.exit_boot_services)(image, map.key) };
        if last == SUCCESS {
            EXITED.store(true, Ordering::Relaxed);
            return Ok(());
        }
    }
    Err(last)
}

/// The global allocator: UEFI pool memory (8-byte aligned) while boot
/// services run.
pub struct PoolAllocator;

// SAFETY: allocations come from the firmware's pool, are 8-byte aligned
// (larger alignments are refused), and are never handed out twice.
unsafe impl GlobalAlloc for PoolAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 8 || system_table().is_none() {
            return core::ptr::null_mut();
        }
        let mut p = core::ptr::null_mut();
        // SAFETY: a boot service call with a valid out pointer.
        let status = unsafe { (boot_services().allocate_pool)(LOADER_DATA, layout.size(), &mut p) };
        if status == SUCCESS { p } else { core::ptr::null_mut() }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        if system_table().is_some() {
            // SAFETY: `ptr` came from AllocatePool above.
            unsafe { (boot_services().free_pool)(ptr) };
        }
    }
}
