//! The settings of what the server records about itself and its keys: the
//! slow log (`slowlog-log-slower-than`, `slowlog-max-len`), the latency
//! monitor (`latency-monitor-threshold`), per-command latency tracking
//! (`latency-tracking`, `latency-tracking-info-percentiles`) and the LFU
//! access counter (`lfu-log-factor`, `lfu-decay-time`), with Redis 7.0's
//! defaults, ranges and CONFIG SET error texts. [`crate::config::Config`]
//! holds one [`StatSettings`] and hands these names to it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The parameter names, in the order CONFIG GET lists them.
pub const NAMES: &[&str] = &[
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "latency-monitor-threshold",
    "latency-tracking",
    "latency-tracking-info-percentiles",
    "lfu-log-factor",
    "lfu-decay-time",
];

#[derive(Debug, Clone, PartialEq)]
pub struct StatSettings {
    /// Microseconds a command must take to enter the slow log; -1: never.
    pub slowlog_log_slower_than: i64,
    /// Entries the slow log keeps.
    pub slowlog_max_len: u64,
    /// Milliseconds an event must take for the latency monitor (0: off).
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM).
    pub latency_tracking: bool,
    /// The percentiles INFO latencystats reports.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// How slowly the LFU counter saturates.
    pub lfu_log_factor: u32,
    /// Minutes of idleness per step the LFU counter decays (0: never).
    pub lfu_decay_time: u32,
}

impl Default for StatSettings {
    fn default() -> Self {
        StatSettings {
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: alloc::vec![50.0, 99.0, 99.9],
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        }
    }
}

/// An integer within `min..=max`, worded like Redis's numeric configs.
fn parse_int(value: &str, min: i64, max: i64) -> Result<i64, String> {
    match crate::util::parse_i64(value.as_bytes()) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(format!("argument must be between {min} and {max} inclusive")),
        None => Err(String::from("argument couldn't be parsed into an integer")),
    }
}

/// A percentile as Redis prints it (`%f` with trailing zeros trimmed).
pub fn percentile_text(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_string()
}

impl StatSettings {
    /// Sets parameter `name` (lowercase) from `value`; `None` when the name
    /// is not one of [`NAMES`], else the CONFIG SET reason on error.
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<(), String>> {
        let int = |min, max| parse_int(value, min, max);
        let result = match name {
            "slowlog-log-slower-than" => int(-1, i64::MAX).map(|n| self.slowlog_log_slower_than = n),
            "slowlog-max-len" => int(0, i64::MAX).map(|n| self.slowlog_max_len = n as u64),
            "latency-monitor-threshold" => int(0, i64::MAX).map(|n| self.latency_monitor_threshold = n as u64),
            "lfu-log-factor" => int(0, i64::from(i32::MAX)).map(|n| self.lfu_log_factor = n as u32),
            "lfu-decay-time" => int(0, i64::from(i32::MAX)).map(|n| self.lfu_decay_time = n as u32),
            "latency-tracking" => match value.to_ascii_lowercase().as_str() {
                "yes" | "no" => {
                    self.latency_tracking = value.eq_ignore_ascii_case("yes");
                    Ok(())
                }
                _ => Err(String::from("argument must be 'yes' or 'no'")),
            },
            "latency-tracking-info-percentiles" => self.set_percentiles(value),
            _ => return None,
        };
        Some(result)
    }

    fn set_percentiles(&mut self, value: &str) -> Result<(), String> {
        let mut list = Vec::new();
        for word in value.split_ascii_whitespace() {
            let Some(p) = crate::util::parse_f64(word.as_bytes()).filter(|p| p.is_finite()) else {
                return Err(String::from("Invalid latency-tracking-info-percentiles parameters"));
            };
            if !(0.0..=100.0).contains(&p) {
                return Err(String::from(
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
                ));
            }
            list.push(p);
        }
        self.latency_tracking_info_percentiles = list;
        Ok(())
    }

    /// The CONFIG GET text of parameter `name`; `None` when not one of ours.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "slowlog-log-slower-than" => self.slowlog_log_slower_than.to_string(),
            "slowlog-max-len" => self.slowlog_max_len.to_string(),
            "latency-monitor-threshold" => self.latency_monitor_threshold.to_string(),
            "latency-tracking" => String::from(if self.latency_tracking { "yes" } else { "no" }),
            "latency-tracking-info-percentiles" => {
                self.latency_tracking_info_percentiles.iter().map(|p| percentile_text(*p)).collect::<Vec<_>>().join(" ")
            }
            "lfu-log-factor" => self.lfu_log_factor.to_string(),
            "lfu-decay-time" => self.lfu_decay_time.to_string(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_texts_follow_redis() {
        let mut s = StatSettings::default();
        assert_eq!(s.get("latency-tracking-info-percentiles").as_deref(), Some("50 99 99.9"));
        assert_eq!(
            s.set("slowlog-log-slower-than", "-2"),
            Some(Err(String::from("argument must be between -1 and 9223372036854775807 inclusive")))
        );
        assert_eq!(
            s.set("slowlog-max-len", "x"),
            Some(Err(String::from("argument couldn't be parsed into an integer")))
        );
        assert_eq!(
            s.set("latency-tracking-info-percentiles", "50 101"),
            Some(Err(String::from("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")))
        );
        assert_eq!(s.set("latency-tracking-info-percentiles", ""), Some(Ok(())));
        assert_eq!(s.get("latency-tracking-info-percentiles").as_deref(), Some(""));
        assert_eq!(s.set("nope", "1"), None);
        assert_eq!(s.set("lfu-log-factor", "5"), Some(Ok(())));
        assert_eq!(s.lfu_log_factor, 5);
    }
}
