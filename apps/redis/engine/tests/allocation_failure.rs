//! When the allocator refuses a client's buffer growth (input, arguments,
//! replies), that client is closed and the server keeps serving: an
//! allocation failure on the client path must not abort the machine.
//!
//! The global allocator of this test binary refuses, on the current thread
//! only, any allocation above a threshold the test sets.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use redis_engine::{ClientId, Config, Server, Time};

struct FailingAbove;

thread_local! {
    static FAIL_ABOVE: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn refused(size: usize) -> bool {
    FAIL_ABOVE.try_with(|limit| size > limit.get()).unwrap_or(false)
}

// SAFETY: forwards to `System`, or returns null (allowed: it reports an
// allocation failure) without touching memory.
unsafe impl GlobalAlloc for FailingAbove {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) { std::ptr::null_mut() } else { unsafe { System.alloc(layout) } }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) { std::ptr::null_mut() } else { unsafe { System.alloc_zeroed(layout) } }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refused(new_size) { std::ptr::null_mut() } else { unsafe { System.realloc(ptr, layout, new_size) } }
    }
}

#[global_allocator]
static ALLOCATOR: FailingAbove = FailingAbove;

/// Runs `f` while allocations above `limit` bytes fail on this thread.
fn with_failing_above<R>(limit: usize, f: impl FnOnce() -> R) -> R {
    FAIL_ABOVE.with(|l| l.set(limit));
    let r = f();
    FAIL_ABOVE.with(|l| l.set(usize::MAX));
    r
}

fn enc(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

const NOW: Time = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
const MB: usize = 1024 * 1024;

fn server() -> Server {
    Server::new(Config { output_pause_threshold: usize::MAX, ..Config::default() }, 1)
}

fn reply(s: &mut Server, c: ClientId, cmd: &[&[u8]]) -> Vec<u8> {
    s.feed(c, &enc(cmd), NOW);
    let out = s.output(c).to_vec();
    s.consume_output(c, out.len());
    out
}

fn still_serving(s: &mut Server) {
    let c = s.connect("127.0.0.1:2", NOW).unwrap();
    assert_eq!(reply(s, c, &[b"PING"]), b"+PONG\r\n");
}

#[test]
fn a_refused_argument_closes_only_that_client() {
    let mut s = server();
    let c = s.connect("127.0.0.1:1", NOW).unwrap();
    let request = enc(&[b"SET", b"k", &vec![b'v'; 4 * MB]]);
    with_failing_above(MB, || {
        for piece in request.chunks(64 * 1024) {
            s.feed(c, piece, NOW);
        }
    });
    assert!(s.should_close(c));
    assert_eq!(s.output(c), b"");
    still_serving(&mut s);
}

#[test]
fn a_refused_reply_closes_only_that_client() {
    let mut s = server();
    let c = s.connect("127.0.0.1:1", NOW).unwrap();
    assert_eq!(reply(&mut s, c, &[b"SET", b"k", &vec![b'v'; 3 * MB]]), b"+OK\r\n");
    with_failing_above(2 * MB, || s.feed(c, &enc(&[b"GET", b"k"]), NOW));
    assert!(s.should_close(c));
    assert_eq!(s.output(c), b"");
    still_serving(&mut s);
}

#[test]
fn refused_input_buffering_closes_only_that_client() {
    let mut s = server();
    let c = s.connect("127.0.0.1:1", NOW).unwrap();
    assert_eq!(reply(&mut s, c, &[b"BLPOP", b"list", b"0"]), b"");
    let pipeline = enc(&[b"PING"]).repeat(10_000);
    with_failing_above(MB, || {
        for _ in 0..20 {
            s.feed(c, &pipeline, NOW);
        }
    });
    assert!(s.should_close(c));
    still_serving(&mut s);
}
