//! A small command-line parser: `--name value` options, flags, and the words
//! after `--`. Unknown options are reported instead of ignored.

pub struct Args {
    words: Vec<String>,
    rest: Vec<String>,
    /// Whether the command line had a `--` at all (even with nothing after it).
    separated: bool,
}

impl Args {
    pub fn from_env() -> Args {
        let mut words: Vec<String> = std::env::args().skip(1).collect();
        let separated = words.iter().any(|w| w == "--");
        let rest = match words.iter().position(|w| w == "--") {
            Some(i) => {
                let rest = words[i + 1..].to_vec();
                words.truncate(i);
                rest
            }
            None => Vec::new(),
        };
        Args { words, rest, separated }
    }

    /// The subcommand (the first word).
    pub fn command(&mut self) -> Option<String> {
        if self.words.is_empty() { None } else { Some(self.words.remove(0)) }
    }

    /// The value of `--name VALUE` or `--name=VALUE`.
    pub fn value(&mut self, name: &str) -> crate::Result<Option<String>> {
        let prefix = format!("{name}=");
        if let Some(i) = self.words.iter().position(|w| w.starts_with(&prefix)) {
            return Ok(Some(self.words.remove(i)[prefix.len()..].to_string()));
        }
        match self.words.iter().position(|w| w == name) {
            None => Ok(None),
            Some(i) if i + 1 < self.words.len() => {
                self.words.remove(i);
                Ok(Some(self.words.remove(i)))
            }
            Some(_) => Err(format!("{name} needs a value")),
        }
    }

    pub fn flag(&mut self, name: &str) -> bool {
        match self.words.iter().position(|w| w == name) {
            Some(i) => {
                self.words.remove(i);
                true
            }
            None => false,
        }
    }

    /// Takes the first word if it is `word` (a sub-subcommand such as `image config`).
    pub fn subcommand(&mut self, word: &str) -> bool {
        if self.words.first().is_some_and(|w| w == word) {
            self.words.remove(0);
            true
        } else {
            false
        }
    }

    /// The next positional word (call after taking the options).
    pub fn positional(&mut self) -> Option<String> {
        let i = self.words.iter().position(|w| !w.starts_with("--"))?;
        Some(self.words.remove(i))
    }

    /// The words after `--`.
    pub fn rest(&mut self) -> Vec<String> {
        std::mem::take(&mut self.rest)
    }

    /// Whether there was a `--` (`image config PATH --` clears the command line).
    pub fn separated(&self) -> bool {
        self.separated
    }

    /// Fails on anything not consumed.
    pub fn finish(&self) -> crate::Result<()> {
        match self.words.first() {
            None => Ok(()),
            Some(w) => Err(format!("unexpected argument '{w}' (see `cargo xtask help`)")),
        }
    }
}
