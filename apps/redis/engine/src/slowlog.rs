//! The slow log: the latest commands that took at least
//! `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` of them, each with its arguments as Redis keeps them
//! (at most 32, each at most 128 bytes, secrets redacted), the client's
//! address and name.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Arguments kept per entry (Redis's `SLOWLOG_ENTRY_MAX_ARGC`).
const MAX_ARGS: usize = 32;
/// Bytes kept per argument (`SLOWLOG_ENTRY_MAX_STRING`).
const MAX_ARG_BYTES: usize = 128;

pub struct Entry {
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: u64,
    pub duration_us: u64,
    pub argv: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

#[derive(Default)]
pub struct SlowLog {
    /// Newest first.
    pub entries: VecDeque<Entry>,
    next_id: u64,
}

/// The arguments an entry keeps of `argv`: the first 31 and a note of how
/// many more when there are over 32; long ones cut with a note of the
/// bytes left out; those `redact(i)` marks as `(redacted)`.
pub fn entry_args(argv: &[Vec<u8>], redact: impl Fn(usize) -> bool) -> Vec<Vec<u8>> {
    let kept = argv.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, arg) in argv.iter().take(kept).enumerate() {
        if kept < argv.len() && i == kept - 1 {
            out.push(format!("... ({} more arguments)", argv.len() - kept + 1).into_bytes());
        } else if redact(i) {
            out.push(b"(redacted)".to_vec());
        } else if arg.len() > MAX_ARG_BYTES {
            let mut a = arg[..MAX_ARG_BYTES].to_vec();
            a.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes());
            out.push(a);
        } else {
            out.push(arg.clone());
        }
    }
    out
}

impl SlowLog {
    /// Adds an entry (newest) and trims the log to `max_len`.
    pub fn push(&mut self, mut entry: Entry, max_len: u64) {
        entry.id = self.next_id;
        self.next_id += 1;
        if max_len > 0 && self.entries.try_reserve(1).is_ok() {
            self.entries.push_front(entry);
        }
        self.trim(max_len);
    }

    /// Drops the oldest entries beyond `max_len`.
    pub fn trim(&mut self, max_len: u64) {
        let max = usize::try_from(max_len).unwrap_or(usize::MAX);
        self.entries.truncate(max);
    }

    pub fn reset(&mut self) {
        self.entries = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&[u8]]) -> Vec<Vec<u8>> {
        v.iter().map(|a| a.to_vec()).collect()
    }

    #[test]
    fn arguments_are_cut_like_redis() {
        let many: Vec<Vec<u8>> = (0..34).map(|i| format!("{i}").into_bytes()).collect();
        let kept = entry_args(&many, |_| false);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[31], b"... (3 more arguments)");
        assert_eq!(kept[30], b"30");
        let long = [b'A'; 129];
        let kept = entry_args(&args(&[b"set", b"k", &long]), |_| false);
        let mut want = [b'A'; 128].to_vec();
        want.extend_from_slice(b"... (1 more bytes)");
        assert_eq!(kept[2], want);
        assert_eq!(entry_args(&args(&[b"auth", b"pw"]), |i| i == 1)[1], b"(redacted)");
        // Exactly 32 arguments are all kept.
        assert_eq!(entry_args(&many[..32], |_| false)[31], b"31");
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut log = SlowLog::default();
        for i in 0..5 {
            let e = Entry { id: 0, time: i, duration_us: 0, argv: Vec::new(), peer: String::new(), name: Vec::new() };
            log.push(e, 3);
        }
        assert_eq!(log.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 3, 2]);
        log.push(Entry { id: 0, time: 0, duration_us: 0, argv: Vec::new(), peer: String::new(), name: Vec::new() }, 0);
        assert!(log.entries.is_empty());
    }
}
