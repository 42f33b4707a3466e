//! Redis's LFU access counter, kept in a key's `lru` field while an LFU
//! `maxmemory-policy` is selected: the low 8 bits are a logarithmic access
//! counter, the 16 bits above the minute it last decayed. An access adds
//! one with probability 1 / ((counter - 5) * lfu-log-factor + 1), so 255
//! stands for about a million accesses at the default factor; it loses one
//! step per `lfu-decay-time` minutes without access. OBJECT FREQ reports it
//! and the LFU policies evict the keys with the lowest.

/// The counter of a new key (Redis's `LFU_INIT_VAL`): new keys are not
/// evicted before they had a chance to be used.
pub const INIT: u32 = 5;

/// Minutes of the monotonic clock, on 16 bits (the counter's time field).
pub fn minutes(mono_ms: u64) -> u32 {
    ((mono_ms / 60_000) & 0xffff) as u32
}

/// The field of a key created (or given counter `counter`) at `now_min`.
pub fn field(now_min: u32, counter: u32) -> u32 {
    (now_min << 8) | counter.min(255)
}

/// The counter of `field` after the decay due at `now_min`.
pub fn decayed(field: u32, now_min: u32, decay_minutes: u32) -> u32 {
    let last = (field >> 8) & 0xffff;
    let counter = field & 0xff;
    if decay_minutes == 0 {
        return counter;
    }
    let elapsed = if now_min >= last { now_min - last } else { 0xffff - last + now_min };
    counter.saturating_sub(elapsed / decay_minutes)
}

/// `counter` after one access; `r` is a uniform random number in [0, 1).
pub fn incremented(counter: u32, log_factor: u32, r: f64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(INIT);
    let p = 1.0 / (f64::from(base) * f64::from(log_factor) + 1.0);
    if r < p { counter + 1 } else { counter }
}

/// `field` after an access at `now_min`: decayed, then incremented.
pub fn accessed(field_value: u32, now_min: u32, decay_minutes: u32, log_factor: u32, r: f64) -> u32 {
    let counter = decayed(field_value, now_min, decay_minutes);
    field(now_min, incremented(counter, log_factor, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_grows_logarithmically_and_decays() {
        // Accesses with r just under 1: only the first steps (p = 1) count.
        let mut f = field(10, INIT);
        for _ in 0..100 {
            f = accessed(f, 10, 1, 10, 0.99);
        }
        assert_eq!(f & 0xff, INIT + 1);
        // With r = 0 every access counts, up to 255.
        for _ in 0..300 {
            f = accessed(f, 10, 1, 10, 0.0);
        }
        assert_eq!(f & 0xff, 255);
        assert_eq!(decayed(f, 13, 1), 252);
        assert_eq!(decayed(f, 13, 2), 254);
        assert_eq!(decayed(f, 13, 0), 255);
        assert_eq!(decayed(field(0xfffe, 9), 2, 1), 6); // wrapped: 65535 - 65534 + 2, as Redis counts
        // A simulated million accesses stay within the counter.
        let mut rng = crate::util::Rng::new(7);
        let mut c = INIT;
        for _ in 0..100_000 {
            c = incremented(c, 10, (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64);
        }
        assert!((60..200).contains(&c), "{c}");
    }
}
