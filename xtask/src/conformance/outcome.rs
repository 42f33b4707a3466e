//! What a run of the suite's test helper printed, the skip and
//! known-failure lists, and the side-by-side table.

use crate::Result;
use qemu_tests::Arch;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// One unit's run.
pub struct UnitRun {
    pub unit: String,
    pub passed: Vec<String>,
    pub failed: Vec<String>,
    /// Why the unit stopped early (an exception in the test client).
    pub exception: Option<String>,
    /// Stopped by the conformance runner (timeout or a dead appliance).
    pub hung: bool,
    /// The appliance did not answer PING afterwards.
    pub died: bool,
    pub seconds: f64,
}

impl UnitRun {
    /// Reads the test helper's output: `[ok]: NAME (N ms)`, `[err]: NAME
    /// in FILE`, `[exception]: ...` lines (colours removed).
    pub fn parse(unit: &str, output: &str, hung: bool, elapsed: Duration) -> UnitRun {
        let mut run = UnitRun {
            unit: unit.to_string(),
            passed: Vec::new(),
            failed: Vec::new(),
            exception: None,
            hung,
            died: false,
            seconds: elapsed.as_secs_f64(),
        };
        for line in output.lines().map(strip_colours) {
            if let Some(rest) = line.strip_prefix("[ok]: ") {
                let name = match rest.rfind(" (") {
                    Some(i) if rest.ends_with(" ms)") => &rest[..i],
                    _ => rest,
                };
                run.passed.push(name.to_string());
            } else if let Some(rest) = line.strip_prefix("[err]: ") {
                let name = rest.rfind(" in tests/").map_or(rest, |i| &rest[..i]);
                run.failed.push(name.to_string());
            } else if let Some(rest) = line.strip_prefix("[exception]: ") {
                run.exception.get_or_insert_with(|| rest.to_string());
            } else if line.starts_with("[TIMEOUT]") {
                run.exception.get_or_insert_with(|| format!("a test timed out ({} s)", super::TEST_TIMEOUT_SECONDS));
            }
        }
        run
    }
}

fn strip_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-letter
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A list of tests by unit, each with a reason: `unit/x | test name | why`
/// a line; `#` starts a comment.
pub struct Listed {
    entries: Vec<(String, String, String)>,
}

impl Listed {
    pub fn read(path: &Path) -> Result<Listed> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.splitn(3, " | ").map(str::trim).collect();
            match parts.as_slice() {
                [unit, test, why] if unit.starts_with("unit/") && !test.is_empty() && !why.is_empty() => {
                    entries.push((unit.to_string(), test.to_string(), why.to_string()))
                }
                _ => {
                    return Err(format!(
                        "{}:{}: expected `unit/NAME | test name | reason`, got {line:?}",
                        path.display(),
                        n + 1
                    ));
                }
            }
        }
        Ok(Listed { entries })
    }

    pub fn tests_of<'a>(&'a self, unit: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries.iter().filter(move |(u, _, _)| u == unit).map(|(_, t, _)| t.as_str())
    }

    fn contains(&self, unit: &str, test: &str) -> bool {
        self.tests_of(unit).any(|t| t == test)
    }

    /// Entries whose reason starts with `flaky:` (they fail only sometimes;
    /// passing does not take them off the list).
    fn steady_tests_of<'a>(&'a self, unit: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(u, _, why)| u == unit && !why.starts_with("flaky:"))
            .map(|(_, t, _)| t.as_str())
    }
}

/// The printed table, the failure details, and whether the run failed.
pub struct Table {
    pub text: String,
    pub details: String,
    pub failed: bool,
}

/// Compares each unit's appliance run with real Redis's.
pub fn table(arch: Arch, real: &[UnitRun], appliance: &[UnitRun], skips: &Listed, known: &Listed) -> Table {
    let mut text = String::new();
    let mut details = String::new();
    let mut failed = false;
    let _ = writeln!(text, "\nconformance on {arch}: tests passed, Redis's TCL suite in external-server mode");
    let _ = writeln!(
        text,
        "  {:<22} {:>10} {:>10} {:>8} {:>6} {:>11}  note",
        "unit", "real Redis", "appliance", "skipped", "known", "unexpected"
    );
    let (mut total_real, mut total_app) = (0, 0);
    for (r, a) in real.iter().zip(appliance) {
        let app: BTreeSet<&str> = super::names(&a.passed);
        let skipped = skips.tests_of(&a.unit).count();
        let mut known_failing = 0;
        let mut unexpected = Vec::new();
        for test in r.passed.iter().filter(|t| !app.contains(t.as_str())) {
            if skips.contains(&a.unit, test) {
                continue;
            }
            if known.contains(&a.unit, test) {
                known_failing += 1;
            } else {
                unexpected.push(test.as_str());
            }
        }
        let now_passing: Vec<&str> = known.steady_tests_of(&a.unit).filter(|t| app.contains(t)).collect();
        let mut note = Vec::new();
        if a.died {
            note.push("appliance died".to_string());
        }
        if a.hung {
            note.push("stopped".to_string());
        }
        if let Some(e) = &a.exception {
            note.push(format!("aborted: {}", e.chars().take(60).collect::<String>()));
        }
        if !now_passing.is_empty() {
            note.push(format!("{} known failures now pass", now_passing.len()));
        }
        let _ = writeln!(
            text,
            "  {:<22} {:>10} {:>10} {:>8} {:>6} {:>11}  {}",
            a.unit.trim_start_matches("unit/"),
            r.passed.len(),
            a.passed.len(),
            skipped,
            known_failing,
            unexpected.len(),
            note.join("; ")
        );
        total_real += r.passed.len();
        total_app += a.passed.len();
        if !unexpected.is_empty() || !now_passing.is_empty() || a.died {
            failed = true;
        }
        for t in &unexpected {
            let _ = writeln!(details, "{arch} {} FAILS (passes against real Redis): {t}", a.unit);
        }
        for t in &now_passing {
            let _ = writeln!(details, "{arch} {} PASSES, remove it from known-failures.txt: {t}", a.unit);
        }
        if a.died {
            let _ = writeln!(details, "{arch} {} took the appliance down", a.unit);
        }
    }
    let _ = writeln!(text, "  {:<22} {:>10} {:>10}", "total", total_real, total_app);
    Table { text, details, failed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_test_helpers_output() {
        let out = "\u{1b}[0;32;49mok\u{1b}[0m";
        let text = format!(
            "[{out}]: INCR against non existing key (1 ms)\n[err]: LCS basic in tests/unit/type/string.tcl\n\
             *** [err]: LCS basic in tests/unit/type/string.tcl\n[exception]: Executing test client: ERR unknown\n\
             [ignore]: x: Tag: needs:debug denied\n"
        );
        let timed_out = UnitRun::parse(
            "unit/type/list",
            "[ok]: a (1 ms)\n[TIMEOUT]: clients state report follows.\n",
            false,
            Duration::ZERO,
        );
        assert_eq!(timed_out.exception.as_deref(), Some("a test timed out (240 s)"));
        let run = UnitRun::parse("unit/type/string", &text, false, Duration::from_secs(1));
        assert_eq!(run.passed, ["INCR against non existing key"]);
        assert_eq!(run.failed, ["LCS basic"]);
        assert_eq!(run.exception.as_deref(), Some("Executing test client: ERR unknown"));
    }

    #[test]
    fn compares_with_real_redis_through_the_lists() {
        let dir = std::env::temp_dir().join(format!("conformance-lists-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let skip = dir.join("skip.txt");
        std::fs::write(&skip, "# comment\nunit/multi | MULTI and script timeout | needs Lua\n").unwrap();
        let known = dir.join("known.txt");
        std::fs::write(
            &known,
            "unit/multi | B | open work\nunit/multi | C | open work\nunit/multi | D | flaky: races\n",
        )
        .unwrap();
        let (skips, known) = (Listed::read(&skip).unwrap(), Listed::read(&known).unwrap());
        let run = |passed: &[&str]| UnitRun {
            unit: "unit/multi".into(),
            passed: passed.iter().map(|s| s.to_string()).collect(),
            failed: Vec::new(),
            exception: None,
            hung: false,
            died: false,
            seconds: 0.0,
        };
        let real = [run(&["A", "B", "C", "D", "MULTI and script timeout"])];
        // B is a known failure; A and C pass: C must leave the list (D is
        // flaky: passing or not, it stays).
        let t = table(Arch::X86_64, &real, &[run(&["A", "C", "D"])], &skips, &known);
        assert!(!t.details.contains(": D"), "{}", t.details);
        assert!(t.failed);
        assert!(t.details.contains("PASSES, remove it from known-failures.txt: C"), "{}", t.details);
        // Only B failing, as listed: the run passes.
        let t =
            table(Arch::X86_64, &real, &[run(&["A", "C", "D"])], &skips, &Listed::read(&known_only_b(&dir)).unwrap());
        assert!(!t.failed, "{}{}", t.text, t.details);
        // A failing is unexpected.
        let t = table(Arch::X86_64, &real, &[run(&["C", "D"])], &skips, &Listed::read(&known_only_b(&dir)).unwrap());
        assert!(t.failed);
        assert!(t.details.contains("FAILS (passes against real Redis): A"), "{}", t.details);
        assert!(Listed::read(&dir.join("missing")).is_err());
        std::fs::write(&skip, "unit/multi | no reason\n").unwrap();
        assert!(Listed::read(&skip).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn known_only_b(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("known-b.txt");
        std::fs::write(&path, "unit/multi | B | open work\n").unwrap();
        path
    }
}
