//! Running the host toolchain's cargo (the one that runs this xtask), and
//! adding up what its test runs report.

use crate::Result;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Runs the cargo that runs this xtask (the host toolchain).
pub fn run(args: &[&str]) -> Result<()> {
    run_with(args, &[])
}

pub fn run_with(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(qemu_tests::repo_root())
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed", args.join(" "))) }
}

/// Test counts, summed over `cargo test`'s "test result:" lines.
#[derive(Default, Debug, PartialEq)]
pub struct TestCounts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl TestCounts {
    pub fn add(&mut self, other: TestCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// Reads `test result: ok. 16 passed; 0 failed; 1 ignored; ...`.
    fn parse(line: &str) -> Option<TestCounts> {
        let rest = line.strip_prefix("test result: ")?;
        let mut counts = TestCounts::default();
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else { continue };
            let Ok(n) = number.parse::<u64>() else { continue };
            match label {
                "passed" => counts.passed = n,
                "failed" => counts.failed = n,
                "ignored" => counts.ignored = n,
                _ => {}
            }
        }
        Some(counts)
    }
}

/// Runs `cargo` with the given test arguments, passing its output through,
/// and returns the summed counts.
pub fn test(args: &[&str], env: &[(&str, &str)]) -> Result<TestCounts> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(qemu_tests::repo_root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    let mut totals = TestCounts::default();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines().map_while(|l| l.ok()) {
        println!("{line}");
        if let Some(counts) = TestCounts::parse(&line) {
            totals.add(counts);
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for cargo: {e}"))?;
    if status.success() && totals.failed == 0 {
        Ok(totals)
    } else {
        Err(format!("`cargo {}` failed: {} passed, {} failed", args.join(" "), totals.passed, totals.failed))
    }
}

#[cfg(test)]
mod tests {
    use super::TestCounts;

    #[test]
    fn reads_cargo_test_result_lines() {
        let line = "test result: ok. 16 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s";
        assert_eq!(TestCounts::parse(line), Some(TestCounts { passed: 16, failed: 2, ignored: 1 }));
        assert_eq!(TestCounts::parse("running 3 tests"), None);
    }
}
