//! Memory accounting against a counting allocator: for every value type and
//! a few dataset shapes, the bytes the engine accounts for (what eviction
//! looks at) must be within 10% of the heap bytes the dataset really holds.
//!
//! The allocator model is the appliance's heap (`kernel/src/memory/heap.rs`):
//! blocks up to 2 KiB come from size classes (16, 32, 48, ... 2048 bytes,
//! no header), larger ones from `linked_list_allocator`, which rounds a
//! request up to a multiple of 8 (at least 16) and keeps no header either.
//! Every allocation is charged that block size. Free-list caching and
//! fragmentation are not modelled.
//!
//! This binary holds a single `#[test]` so no other test thread allocates
//! while live bytes are measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use redis_engine::{Config, Server, Time};

const CLASS_SIZES: [usize; 24] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792,
    2048,
];

/// The block the appliance's heap hands out for a request of `size` bytes.
fn block(size: usize) -> usize {
    match CLASS_SIZES.iter().find(|&&c| c >= size.max(1)) {
        Some(&c) => c,
        None => size.div_ceil(8) * 8,
    }
}

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counter only
// observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(block(layout.size()), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
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

const NOW: Time = Time { unix_ms: 1_700_000_000_000, mono_ms: 1_000 };

/// Runs one command through the engine (no connection, so no client buffers).
fn run(s: &mut Server, args: &[&[u8]]) {
    let reply = s.replay(0, args, NOW);
    assert!(
        !reply.starts_with(b"-"),
        "{:?}: {}",
        args.first().map(|a| String::from_utf8_lossy(a)),
        String::from_utf8_lossy(&reply)
    );
}

/// Sends `key member...` style commands in batches of `batch` arguments.
fn batched(s: &mut Server, cmd: &[u8], key: &[u8], items: &[Vec<u8>], per_item: usize) {
    for chunk in items.chunks(100 * per_item) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend(chunk.iter().map(|x| x.as_slice()));
        run(s, &args);
    }
}

fn small(i: usize) -> Vec<u8> {
    format!("m:{i}").into_bytes()
}

/// Builds one dataset into `s`.
type Build = fn(&mut Server, usize);

fn strings_small(s: &mut Server, n: usize) {
    for i in 0..n {
        run(s, &[b"SET", format!("key:{i}").as_bytes(), format!("value-{i}").as_bytes()]);
    }
}

fn strings_large(s: &mut Server, n: usize) {
    let v = vec![b'x'; 10_000];
    for i in 0..n {
        run(s, &[b"SET", format!("big:{i}").as_bytes(), &v]);
    }
}

fn strings_int(s: &mut Server, n: usize) {
    for i in 0..n {
        run(s, &[b"SET", format!("n:{i}").as_bytes(), format!("{}", i * 7919).as_bytes()]);
    }
}

fn strings_appended(s: &mut Server, n: usize) {
    for i in 0..n {
        run(s, &[b"APPEND", format!("a:{}", i % 100).as_bytes(), b"0123456789"]);
    }
}

fn strings_ttl(s: &mut Server, n: usize) {
    for i in 0..n {
        run(s, &[b"SET", format!("t:{i}").as_bytes(), b"v", b"EX", b"1000"]);
    }
}

fn list_small_one(s: &mut Server, n: usize) {
    let items: Vec<Vec<u8>> = (0..n).map(small).collect();
    batched(s, b"RPUSH", b"list", &items, 1);
}

fn list_large_one(s: &mut Server, n: usize) {
    let items: Vec<Vec<u8>> = (0..n).map(|i| vec![(i % 251) as u8; 1000]).collect();
    batched(s, b"RPUSH", b"list", &items, 1);
}

fn list_many(s: &mut Server, n: usize) {
    for k in 0..n / 10 {
        let items: Vec<Vec<u8>> = (0..10).map(small).collect();
        batched(s, b"LPUSH", format!("l:{k}").as_bytes(), &items, 1);
    }
}

fn hash_one(s: &mut Server, n: usize) {
    let items: Vec<Vec<u8>> =
        (0..n).flat_map(|i| [format!("field:{i}").into_bytes(), format!("v{i}").into_bytes()]).collect();
    batched(s, b"HSET", b"hash", &items, 2);
}

fn hash_many(s: &mut Server, n: usize) {
    for k in 0..n / 10 {
        let items: Vec<Vec<u8>> =
            (0..10).flat_map(|i| [format!("f{i}").into_bytes(), format!("v{i}").into_bytes()]).collect();
        batched(s, b"HSET", format!("h:{k}").as_bytes(), &items, 2);
    }
}

fn set_int(s: &mut Server, n: usize) {
    let items: Vec<Vec<u8>> = (0..n).map(|i| format!("{}", i * 3).into_bytes()).collect();
    batched(s, b"SADD", b"set", &items, 1);
}

fn set_str(s: &mut Server, n: usize) {
    let items: Vec<Vec<u8>> = (0..n).map(|i| format!("member:{i}").into_bytes()).collect();
    batched(s, b"SADD", b"set", &items, 1);
}

fn set_many(s: &mut Server, n: usize) {
    for k in 0..n / 10 {
        let items: Vec<Vec<u8>> = (0..10).map(small).collect();
        batched(s, b"SADD", format!("s:{k}").as_bytes(), &items, 1);
    }
}

fn zset_one(s: &mut Server, n: usize) {
    let items: Vec<Vec<u8>> = (0..n).flat_map(|i| [format!("{}", i % 1000).into_bytes(), small(i)]).collect();
    batched(s, b"ZADD", b"zset", &items, 2);
}

fn zset_many(s: &mut Server, n: usize) {
    for k in 0..n / 10 {
        let items: Vec<Vec<u8>> = (0..10).flat_map(|i| [format!("{i}").into_bytes(), small(i)]).collect();
        batched(s, b"ZADD", format!("z:{k}").as_bytes(), &items, 2);
    }
}

/// Writes that change, shrink and delete what earlier writes made, so the
/// running totals are checked after updates too, not only after inserts.
fn churn(s: &mut Server, n: usize) {
    strings_small(s, n);
    list_small_one(s, n);
    hash_one(s, n);
    set_str(s, n);
    zset_one(s, n);
    let long = vec![b'y'; 300];
    for i in (0..n).step_by(2) {
        let key = format!("key:{i}");
        run(s, &[b"SET", key.as_bytes(), &long]);
        run(s, &[b"EXPIRE", key.as_bytes(), b"1000"]);
        run(s, &[b"HSET", b"hash", format!("field:{i}").as_bytes(), &long]);
        run(s, &[b"ZADD", b"zset", format!("{}", i + 5000).as_bytes(), &small(i)]);
    }
    for i in (0..n).step_by(4) {
        run(s, &[b"DEL", format!("key:{i}").as_bytes()]);
        run(s, &[b"HDEL", b"hash", format!("field:{i}").as_bytes()]);
        run(s, &[b"SREM", b"set", format!("member:{i}").as_bytes()]);
        run(s, &[b"ZREM", b"zset", &small(i)]);
        run(s, &[b"PERSIST", format!("key:{}", i + 2).as_bytes()]);
    }
    run(s, &[b"LPOP", b"list", format!("{}", n / 4).as_bytes()]);
    run(s, &[b"LSET", b"list", b"0", &long]);
    run(s, &[b"LREM", b"list", b"10", &small(n / 2)]);
    run(s, &[b"LTRIM", b"list", b"10", format!("{}", n / 2).as_bytes()]);
    run(s, &[b"COPY", b"zset", b"zset2"]);
    run(s, &[b"SUNIONSTORE", b"set2", b"set", b"set"]);
}

const CASES: &[(&str, Build, &[usize])] = &[
    ("strings, small", strings_small, &[1_000, 100_000]),
    ("strings, 10 KB", strings_large, &[100, 1_000]),
    ("strings, integers", strings_int, &[1_000, 100_000]),
    ("strings, appended", strings_appended, &[1_000, 100_000]),
    ("strings with TTL", strings_ttl, &[1_000, 100_000]),
    ("list, small items", list_small_one, &[1_000, 100_000]),
    ("list, 1 KB items", list_large_one, &[1_000, 10_000]),
    ("lists of 10", list_many, &[1_000, 100_000]),
    ("hash, one key", hash_one, &[1_000, 100_000]),
    ("hashes of 10", hash_many, &[1_000, 100_000]),
    ("set, integers", set_int, &[1_000, 100_000]),
    ("set, strings", set_str, &[1_000, 100_000]),
    ("sets of 10", set_many, &[1_000, 100_000]),
    ("zset, one key", zset_one, &[1_000, 100_000]),
    ("zsets of 10", zset_many, &[1_000, 100_000]),
    ("churn, all types", churn, &[1_000, 20_000]),
    ("stream, one key", stream_one, &[1_000, 100_000]),
    ("stream with a group", stream_group, &[1_000, 50_000]),
];

fn stream_one(s: &mut Server, n: usize) {
    for i in 0..n {
        let id = format!("{}-{}", 1 + i / 7, i % 7);
        run(s, &[b"XADD", b"stream", id.as_bytes(), b"field", &small(i), b"other", b"v"]);
    }
}

/// Entries, a group that read them all, half acknowledged, some claimed
/// by another consumer, some deleted.
fn stream_group(s: &mut Server, n: usize) {
    stream_one(s, n);
    run(s, &[b"XGROUP", b"CREATE", b"stream", b"g", b"0"]);
    run(s, &[b"XREADGROUP", b"GROUP", b"g", b"alice", b"STREAMS", b"stream", b">"]);
    for i in (0..n).step_by(2) {
        let id = format!("{}-{}", 1 + i / 7, i % 7);
        run(s, &[b"XACK", b"stream", b"g", id.as_bytes()]);
    }
    for i in (1..n).step_by(6) {
        let id = format!("{}-{}", 1 + i / 7, i % 7);
        run(s, &[b"XCLAIM", b"stream", b"g", b"bob", b"0", id.as_bytes()]);
        run(s, &[b"XDEL", b"stream", id.as_bytes()]);
    }
}

#[test]
fn accounted_memory_is_within_ten_percent_of_the_heap() {
    let mut failures = Vec::new();
    for &(name, build, sizes) in CASES {
        for &n in sizes {
            // Without the per-command latency histograms (server
            // overhead allocated at a command's first call, not dataset).
            let mut config = Config::default();
            config.stats.latency_tracking = false;
            let mut s = Server::new(config, 7);
            run(&mut s, &[b"PING"]); // creates the internal replay client
            let (heap0, acc0) = (live(), s.dataset_memory());
            build(&mut s, n);
            let heap = live() - heap0;
            let accounted = s.dataset_memory() - acc0;
            let ratio = accounted as f64 / heap as f64;
            println!("{name:<20} n={n:<7} heap {heap:>10} accounted {accounted:>10} ratio {ratio:.3}");
            if !(0.9..=1.1).contains(&ratio) {
                failures.push(format!("{name} n={n}: ratio {ratio:.3}"));
            }
            drop(s);
        }
    }
    assert!(failures.is_empty(), "accounting off by more than 10%: {failures:#?}");
}
