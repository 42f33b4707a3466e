//! Seeds for the pseudo-random generators apps keep (Redis's RANDOMKEY,
//! eviction sampling). Not for cryptography: the entropy is the boot-time
//! jitter of the monotonic clock and the wall clock.

use core::sync::atomic::{AtomicU64, Ordering};

static CALLS: AtomicU64 = AtomicU64::new(0);

/// SplitMix64's finaliser: spreads every input bit over the output.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A new 64-bit seed; successive calls differ.
pub fn seed() -> u64 {
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let wall = crate::time::unix_time().as_nanos() as u64;
    mix(crate::arch::monotonic_nanos() ^ wall.rotate_left(32) ^ mix(call.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn mixing_separates_neighbouring_inputs() {
        let (a, b) = (super::mix(1), super::mix(2));
        assert_ne!(a, b);
        assert!((a ^ b).count_ones() > 16, "one flipped input bit changes many output bits");
    }
}
