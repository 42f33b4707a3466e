//! Deliberate failures, selected with `selftest=NAME` on the kernel command
//! line, so the integration tests can check that each is reported clearly.

pub(crate) fn run(name: &str) {
    log::warn!("selftest: triggering '{name}'");
    match name {
        "panic" => panic!("selftest: deliberate panic"),
        "pagefault" => {
            let value = crate::memory::read_null_page();
            log::error!("selftest: reading the null page returned {value} instead of faulting");
        }
        "stackoverflow" => {
            let depth = recurse(0);
            log::error!("selftest: recursion returned at depth {depth} instead of faulting");
        }
        "oom" => {
            // More than any heap here: the allocation fails and Rust's
            // allocation-error path panics, naming the size.
            let size = core::hint::black_box(1usize << 40);
            let block = alloc::vec![0u8; size];
            log::error!("selftest: allocating {size} bytes succeeded ({} bytes)", block.len());
        }
        other => log::error!("selftest: unknown test '{other}' (panic|pagefault|stackoverflow|oom)"),
    }
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    // black_box keeps the frame (and the recursion) from being optimised away.
    let frame = core::hint::black_box([depth; 64]);
    recurse(frame[0] + 1) + frame[63]
}
