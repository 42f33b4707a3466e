//! Fuzz target: arbitrary bytes, split at arbitrary points, fed to a
//! server with two clients; also exercises ticks and partial writes.
//!
//! Input format: a sequence of records `[control, payload...]`.
//! control bit 0 selects the client, bits 1..=6 give the payload length
//! (0..=63), bit 7 means "advance the clock and tick" before feeding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_engine::{Config, Server, Time};

fuzz_target!(|data: &[u8]| {
    let mut cfg = Config::default();
    cfg.output_pause_threshold = 4096;
    cfg.maxmemory = 1024 * 1024;
    let mut now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1 };
    let mut server = Server::new(cfg, 0x5eed);
    let clients = [
        server.connect("127.0.0.1:1", now).expect("first client"),
        server.connect("127.0.0.1:2", now).expect("second client"),
    ];
    let mut pos = 0;
    while pos < data.len() {
        let control = data[pos];
        pos += 1;
        let id = clients[usize::from(control & 1)];
        let len = usize::from((control >> 1) & 0x3f);
        let end = (pos + len).min(data.len());
        if control & 0x80 != 0 {
            now = now.plus_ms(u64::from(control & 0x7f) * 37);
            server.tick(now);
        }
        server.feed(id, &data[pos..end], now);
        pos = end;
        // Write back part of the output, like a slow socket.
        for c in clients {
            let n = server.output(c).len();
            server.consume_output(c, n / 2 + 1);
        }
        let _ = server.clients_with_output().count();
        let _ = server.next_deadline();
    }
    server.tick(now.plus_ms(60_000));
    let _ = server.used_memory();
});
