//! The kernel command line, parsed once at boot (before the heap exists):
//! `key=value` pairs and bare flags for the kernel, then every word after a
//! standalone `--` for the application.

use heapless::Vec;
use spin::Once;

const MAX_PARAMS: usize = 64;
const MAX_APP_ARGS: usize = 128;

/// The parsed command line.
pub struct CommandLine {
    raw: &'static str,
    kernel: Vec<(&'static str, &'static str), MAX_PARAMS>,
    app: Vec<&'static str, MAX_APP_ARGS>,
}

static COMMAND_LINE: Once<CommandLine> = Once::new();

/// Parses the boot command line; later calls return the same result.
pub(crate) fn init(raw: &'static str) -> &'static CommandLine {
    COMMAND_LINE.call_once(|| CommandLine::parse(raw))
}

impl CommandLine {
    /// The command line parsed at boot.
    pub fn get_global() -> &'static CommandLine {
        COMMAND_LINE.get().expect("command line is parsed during boot")
    }

    fn parse(raw: &'static str) -> CommandLine {
        let mut line = CommandLine { raw, kernel: Vec::new(), app: Vec::new() };
        let mut words = raw.split_ascii_whitespace();
        for word in words.by_ref() {
            if word == "--" {
                break;
            }
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            if line.kernel.push((key, value)).is_err() {
                log::warn!("command line: more than {MAX_PARAMS} kernel parameters, ignoring {word}");
            }
        }
        for word in words {
            if line.app.push(word).is_err() {
                log::warn!("command line: more than {MAX_APP_ARGS} app arguments, ignoring {word}");
            }
        }
        line
    }

    /// The whole command line as the loader passed it.
    pub fn raw(&self) -> &'static str {
        self.raw
    }

    /// The value of kernel parameter `key` (`""` for a bare flag); the last
    /// occurrence wins, as on Linux.
    pub fn get(&self, key: &str) -> Option<&'static str> {
        self.kernel.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// All kernel parameters, in order.
    pub fn kernel_params(&self) -> &[(&'static str, &'static str)] {
        &self.kernel
    }

    /// The application's arguments (the words after `--`).
    pub fn app_args(&self) -> &[&'static str] {
        &self.app
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_kernel_parameters_from_app_arguments() {
        let line = CommandLine::parse("loglevel=debug quiet ip=10.0.0.2/24 -- --port 6379 --maxmemory 64mb");
        assert_eq!(line.get("loglevel"), Some("debug"));
        assert_eq!(line.get("quiet"), Some(""), "a bare flag has an empty value");
        assert_eq!(line.get("ip"), Some("10.0.0.2/24"));
        assert_eq!(line.get("port"), None, "app arguments are not kernel parameters");
        assert_eq!(line.app_args(), ["--port", "6379", "--maxmemory", "64mb"]);
    }

    #[test]
    fn last_occurrence_wins_and_extra_separators_belong_to_the_app() {
        let line = CommandLine::parse("loglevel=info loglevel=warn -- a -- b");
        assert_eq!(line.get("loglevel"), Some("warn"));
        assert_eq!(line.app_args(), ["a", "--", "b"]);
    }

    #[test]
    fn empty_and_whitespace_lines() {
        let line = CommandLine::parse("   ");
        assert!(line.kernel_params().is_empty() && line.app_args().is_empty());
        let line = CommandLine::parse("--");
        assert!(line.kernel_params().is_empty() && line.app_args().is_empty());
    }

    #[test]
    fn values_may_contain_equals_signs() {
        let line = CommandLine::parse("key=a=b");
        assert_eq!(line.get("key"), Some("a=b"));
    }
}
