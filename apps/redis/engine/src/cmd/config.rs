//! CONFIG: GET (names, aliases, patterns, hidden parameters), SET (several
//! parameters at once, all or nothing), RESETSTAT, REWRITE and HELP, with
//! Redis 7.0's replies and error texts.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{sub_arity_error, text, unknown_subcommand};
use crate::config::{Config, all_names, canonical_name, is_hidden};
use crate::server::{Ctx, Server};

pub fn config(s: &mut Server, c: &mut Ctx) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"get" if c.argc() >= 3 => config_get(s, c),
        b"set" if c.argc() >= 4 => config_set(s, c),
        b"resetstat" if c.argc() == 2 => {
            // The CPU time the app reports is not a statistic to reset.
            let cpu = s.stats.cpu;
            s.stats = Default::default();
            s.stats.cpu = cpu;
            c.out.ok();
        }
        b"rewrite" if c.argc() == 2 => c.out.err("ERR The server is running without a config file"),
        b"help" if c.argc() == 2 => {
            let lines: &[&[u8]] = &[
                b"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"GET <pattern>",
                b"    Return parameters matching the glob-like <pattern> and their values.",
                b"SET <directive> <value>",
                b"    Set the configuration <directive> to <value>.",
                b"RESETSTAT",
                b"    Reset statistics reported by the INFO command.",
                b"REWRITE",
                b"    Rewrite the configuration file.",
                b"HELP",
                b"    Print this help.",
            ];
            c.out.help(lines);
        }
        b"get" | b"set" | b"resetstat" | b"rewrite" | b"help" => sub_arity_error(c),
        _ => unknown_subcommand(c),
    }
}

/// CONFIG GET like Redis 7.0's `configGetCommand`: a name without glob
/// characters is looked up exactly (any case, aliases and hidden
/// parameters too) and reported as asked; a pattern matches every name and
/// alias except hidden ones. A parameter already reported (under its own
/// name) is not reported again.
fn config_get(s: &mut Server, c: &mut Ctx) {
    // (name as reported, parameter)
    let mut matches: Vec<(String, &'static str)> = Vec::new();
    let has = |m: &[(String, &str)], key: &str| m.iter().any(|(k, _)| k.eq_ignore_ascii_case(key));
    for i in 2..c.argc() {
        let arg = c.arg(i);
        if !arg.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            let name = text(arg);
            if has(&matches, &name) {
                continue;
            }
            if let Some(param) = canonical_name(&name) {
                matches.push((name, param));
            }
            continue;
        }
        for name in all_names() {
            let Some(param) = canonical_name(name) else { continue };
            if is_hidden(param) || has(&matches, param) {
                continue;
            }
            if crate::glob::matches(arg, name.as_bytes(), true) {
                matches.push((String::from(name), param));
            }
        }
    }
    c.out.map(matches.len());
    for (name, param) in matches {
        c.out.bulk(name.as_bytes());
        c.out.bulk(s.cfg.get(param).unwrap_or_default().as_bytes());
    }
}

/// CONFIG SET like Redis 7.0's `configSetCommand`: every name is checked
/// first (unknown, immutable, given twice), then all values are set on a
/// copy, which replaces the configuration only if every one was valid.
fn config_set(s: &mut Server, c: &mut Ctx) {
    if !c.argc().is_multiple_of(2) {
        c.syntax_error();
        return;
    }
    let mut params: Vec<&'static str> = Vec::new();
    for i in (2..c.argc()).step_by(2) {
        let given = text(c.arg(i));
        let Some(param) = canonical_name(&given) else {
            c.out.err(&format!("ERR Unknown option or number of arguments for CONFIG SET - '{given}'"));
            return;
        };
        let problem = if Config::is_immutable(param) {
            Some("can't set immutable config")
        } else if params.contains(&param) {
            Some("duplicate parameter")
        } else {
            None
        };
        if let Some(problem) = problem {
            c.out.err(&format!("ERR CONFIG SET failed (possibly related to argument '{given}') - {problem}"));
            return;
        }
        params.push(param);
    }
    let mut new_cfg: Config = s.cfg.clone();
    for (n, param) in params.iter().enumerate() {
        let value = text(c.arg(3 + 2 * n));
        if let Err(e) = new_cfg.set(param, &value) {
            c.out.err(&format!("ERR CONFIG SET failed (possibly related to argument '{param}') - {e}"));
            return;
        }
    }
    // Redis's apply step: what the engine cannot change at run time fails
    // here (only when the value really changes), after every value parsed.
    for param in &params {
        if let Some(e) = Config::runtime_change_error(param)
            && new_cfg.get(param) != s.cfg.get(param)
        {
            c.out.err(&format!("ERR CONFIG SET failed (possibly related to argument '{param}') - {e}"));
            return;
        }
    }
    s.set_config(new_cfg);
    c.out.ok();
    if s.cfg.maxmemory > 0 {
        s.evict_if_needed();
    }
}
