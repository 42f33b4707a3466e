//! Fuzz target: arbitrary bytes, split at arbitrary points, fed to a
//! server with two clients; also exercises ticks, partial writes and
//! reconnections, and checks the invariants of `redis_engine::fuzzing`
//! (well-formed replies, memory accounting, the bound of `maxmemory`'s
//! ceiling).
//!
//! Input format: a sequence of records `[control, payload...]`.
//! control bit 0 selects the client, bits 1..=6 give the payload length
//! (0..=63), bit 7 means "advance the clock by `(control & 0x7f) * 37` ms
//! and tick" before feeding.
//!
//! The heap is counted as the appliance's allocator would hand it out
//! (`redis_engine::mem::block`), and a single allocation larger than
//! [`MALLOC_LIMIT`] aborts (libFuzzer's `-malloc_limit_mb` needs a
//! sanitizer's malloc hooks; this works without one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_engine::fuzzing;
use redis_engine::mem::block;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest single allocation allowed: 16 MiB, ten times the heap of
/// the appliance this server models (`maxmemory` 1 MiB is 5/8 of a
/// 1.6 MiB heap). From an input of a few KiB, anything larger is a
/// runaway: an untrusted length allocated up front, or a reply amplified
/// past any output limit. `cargo xtask fuzz` passes the same figure as
/// `-malloc_limit_mb`.
const MALLOC_LIMIT: usize = 16 << 20;

struct Counting;

/// Live heap bytes, as the appliance's size classes round them.
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn check_size(size: usize) {
    if size > MALLOC_LIMIT {
        // No formatting machinery here: this runs inside the allocator.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"==two_clients== ERROR: allocation larger than the 16 MiB malloc limit\n",
        );
        std::process::abort();
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the wrapper only
// counts sizes and aborts on oversized requests.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check_size(layout.size());
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(block(layout.size()), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check_size(layout.size());
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(block(layout.size()), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(block(layout.size()), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check_size(new_size);
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(block(layout.size()), Ordering::Relaxed);
            LIVE.fetch_add(block(new_size), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = fuzzing::two_clients(data, Some(&live)) {
        panic!("invariant violated: {violation}");
    }
});
