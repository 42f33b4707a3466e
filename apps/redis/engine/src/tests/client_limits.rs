//! Client-side memory safety: commands refused inside MULTI, the query
//! buffer limit, bounded replies, client memory accounting and eviction,
//! input back-pressure, the maxmemory ceilings and protected mode.

#[allow(unused_imports)]
use std::{format, prelude::rust_2024::*, vec};

use super::harness::*;
use crate::script;

#[test]
fn no_multi_commands_abort_the_transaction() {
    let mut h = H::new();
    let c = h.client();
    script!(h, c,
        ["MULTI"] => "+OK\r\n",
        ["SET", "a", "1"] => "+QUEUED\r\n",
        ["SHUTDOWN"] => "-ERR Command not allowed inside a transaction\r\n",
        ["SAVE"] => "-ERR Command not allowed inside a transaction\r\n",
        ["EXEC"] => "-EXECABORT Transaction discarded because of previous errors.\r\n",
        ["GET", "a"] => "$-1\r\n",
    );
    assert!(!h.s.shutdown_requested());
    assert!(!h.s.should_close(c));
    // Outside MULTI, SAVE still works and COMMAND INFO shows the flag.
    assert_eq!(h.cmd(c, &["SAVE"]), "+OK\r\n");
    let info = h.cmd(c, &["COMMAND", "INFO", "shutdown"]);
    assert!(info.contains("+no_multi\r\n"), "{info}");
    let info = h.cmd(c, &["COMMAND", "INFO", "bgsave"]);
    assert!(!info.contains("no_multi"), "{info}");
}
