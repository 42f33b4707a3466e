//! Glob-style pattern matching, a port of Redis's `stringmatchlen`
//! (used by KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET).

/// Returns true when `string` matches `pattern`.
pub fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn lower(c: u8, nocase: bool) -> u8 {
    if nocase { c.to_ascii_lowercase() } else { c }
}

fn match_impl(mut pattern: &[u8], mut string: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns, like Redis.
    if nesting > 1000 {
        return false;
    }
    while let Some(&p0) = pattern.first() {
        // Like Redis, the loop runs while both pattern and string remain.
        if string.is_empty() {
            break;
        }
        match p0 {
            b'*' => {
                while pattern.len() > 1 && pattern[1] == b'*' {
                    pattern = &pattern[1..];
                }
                if pattern.len() == 1 {
                    return true; // match everything
                }
                while !string.is_empty() {
                    if match_impl(&pattern[1..], string, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    string = &string[1..];
                }
                // No match for the rest of the pattern with any suffix:
                // a longer string can't match either.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                string = &string[1..];
            }
            b'[' => {
                pattern = &pattern[1..];
                let not = pattern.first() == Some(&b'^');
                if not {
                    pattern = &pattern[1..];
                }
                let mut matched = false;
                let s0 = string[0];
                loop {
                    match pattern.first() {
                        Some(&b'\\') if pattern.len() >= 2 => {
                            pattern = &pattern[1..];
                            if pattern[0] == s0 {
                                matched = true;
                            }
                        }
                        Some(&b']') => break,
                        None => {
                            // Malformed: treat the end as the closing bracket.
                            break;
                        }
                        Some(&c) if pattern.len() >= 3 && pattern[1] == b'-' => {
                            let mut start = c;
                            let mut end = pattern[2];
                            let ch = s0;
                            if start > end {
                                core::mem::swap(&mut start, &mut end);
                            }
                            let (start, end, ch) = if nocase {
                                (start.to_ascii_lowercase(), end.to_ascii_lowercase(), ch.to_ascii_lowercase())
                            } else {
                                (start, end, ch)
                            };
                            pattern = &pattern[2..];
                            if ch >= start && ch <= end {
                                matched = true;
                            }
                        }
                        Some(&c) => {
                            if lower(c, nocase) == lower(s0, nocase) {
                                matched = true;
                            }
                        }
                    }
                    if pattern.is_empty() {
                        break;
                    }
                    pattern = &pattern[1..];
                }
                // Redis leaves `pattern` pointing at ']' (or the end); the
                // common advance below moves past it.
                let matched = if not { !matched } else { matched };
                if !matched {
                    return false;
                }
                string = &string[1..];
                if pattern.is_empty() {
                    // Pattern ended inside the bracket: Redis steps back so the
                    // final advance is a no-op.
                    continue;
                }
            }
            b'\\' if pattern.len() >= 2 => {
                pattern = &pattern[1..];
                if lower(pattern[0], nocase) != lower(string[0], nocase) {
                    return false;
                }
                string = &string[1..];
            }
            c => {
                if lower(c, nocase) != lower(string[0], nocase) {
                    return false;
                }
                string = &string[1..];
            }
        }
        pattern = &pattern[1..];
        if string.is_empty() {
            while pattern.first() == Some(&b'*') {
                pattern = &pattern[1..];
            }
            break;
        }
    }
    pattern.is_empty() && string.is_empty()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn basics() {
        assert!(matches(b"*", b"anything", false));
        // Redis quirk: "*" does not match the empty string in stringmatchlen
        // (callers special-case a lone "*").
        assert!(!matches(b"*", b"", false));
        assert!(matches(b"a*", b"a", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(!matches(b"h?llo", b"hllo", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[ae]llo", b"hillo", false));
        assert!(matches(b"h[^e]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(!matches(b"h[a-b]llo", b"hcllo", false));
        assert!(matches(b"h[b-a]llo", b"hallo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hallo", false));
        assert!(matches(b"a*b*c", b"axxbyyc", false));
        assert!(!matches(b"a*b*c", b"axxbyy", false));
        assert!(matches(b"HELLO", b"hello", true));
        assert!(matches(b"foo[", b"foo", false) || !matches(b"foo[", b"foo", false));
        assert!(matches(b"user:*", b"user:1", false));
        assert!(!matches(b"user:*", b"use", false));
        assert!(matches(b"*max*", b"maxmemory", false));
        assert!(matches(b"a[\\]]b", b"a]b", false));
    }

    #[test]
    fn pathological_is_bounded() {
        let pat = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = [b'a'; 64];
        assert!(!matches(pat, &s, false));
    }
}
