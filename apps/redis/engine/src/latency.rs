//! How long things take: the clock the app supplies ([`Clock`]), the
//! per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM)
//! and the latency monitor's event series (LATENCY LATEST / HISTORY /
//! GRAPH / DOCTOR), as Redis 7.0 keeps them.
//!
//! The engine has no clock of its own: without one set, every duration is
//! 0 (the slow log then only takes commands when its threshold is 0).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::commands::{CommandSpec, flags};
use crate::introspect::StatSlot;
use crate::server::Server;
use crate::slowlog::SlowLog;

/// A monotonic clock in microseconds (the app's `Instant`).
pub type Clock = fn() -> u64;

// ----- latency histograms ------------------------------------------------
//
// Redis records each call's duration (whole microseconds) in nanoseconds,
// clamped to 1 ns..1 s, into an HDR histogram with 2 significant digits;
// the layout below is the one `hdr_init(1, 1000000000, 2)` makes, so
// percentiles and the LATENCY HISTOGRAM buckets come out as Redis's.

const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 1_000_000_000;
/// log2 of the lowest trackable value's power of two (1 ns units).
const UNIT_MAGNITUDE: u32 = 0;
/// Half the sub-buckets of a bucket (2^7 = 128 of 256).
const SUB_HALF_MAGNITUDE: u32 = 7;
const SUB_HALF_COUNT: usize = 1 << SUB_HALF_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = ((SUB_HALF_COUNT as u64 * 2) - 1) << UNIT_MAGNITUDE;
/// Buckets needed to reach `HIGHEST_NS` (256 << 22 is the first power
/// of two above it).
const BUCKETS: usize = 23;
const COUNTS_LEN: usize = (BUCKETS + 1) * SUB_HALF_COUNT;

/// One command's latency distribution.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
}

impl core::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Histogram({} calls)", self.total)
    }
}

fn bucket_of(v: u64) -> (u32, u64) {
    let pow2ceiling = 64 - (v | SUB_BUCKET_MASK).leading_zeros();
    let bucket = pow2ceiling - UNIT_MAGNITUDE - (SUB_HALF_MAGNITUDE + 1);
    (bucket, v >> (bucket + UNIT_MAGNITUDE))
}

fn index_of(v: u64) -> usize {
    let (bucket, sub) = bucket_of(v);
    ((bucket as usize + 1) << SUB_HALF_MAGNITUDE) + sub as usize - SUB_HALF_COUNT
}

fn value_at(index: usize) -> u64 {
    let mut bucket = (index >> SUB_HALF_MAGNITUDE) as i64 - 1;
    let mut sub = (index & (SUB_HALF_COUNT - 1)) + SUB_HALF_COUNT;
    if bucket < 0 {
        sub -= SUB_HALF_COUNT;
        bucket = 0;
    }
    (sub as u64) << (bucket as u32 + UNIT_MAGNITUDE)
}

/// The highest value recorded in the same count as `v`.
fn highest_equivalent(v: u64) -> u64 {
    let (bucket, sub) = bucket_of(v);
    let lowest = sub << (bucket + UNIT_MAGNITUDE);
    let adjusted = if sub as usize >= 2 * SUB_HALF_COUNT { bucket + 1 } else { bucket };
    lowest + (1u64 << (UNIT_MAGNITUDE + adjusted)) - 1
}

impl Histogram {
    /// Heap bytes of one histogram's counts.
    pub const HEAP_BYTES: usize = crate::mem::array::<u64>(COUNTS_LEN);

    /// An empty histogram; `None` when the allocator refuses its counts.
    pub fn try_new() -> Option<Histogram> {
        let mut counts = Vec::new();
        counts.try_reserve_exact(COUNTS_LEN).ok()?;
        counts.resize(COUNTS_LEN, 0);
        Some(Histogram { counts: counts.into_boxed_slice(), total: 0 })
    }

    /// Records a call that took `us` microseconds.
    pub fn record_us(&mut self, us: u64) {
        let ns = us.saturating_mul(1000).clamp(LOWEST_NS, HIGHEST_NS);
        self.counts[index_of(ns)] += 1;
        self.total += 1;
    }

    /// Calls recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value (ns) at percentile `p` (0..=100), as
    /// `hdr_value_at_percentile` reports it.
    pub fn value_at_percentile(&self, p: f64) -> u64 {
        let wanted = ((p.min(100.0) / 100.0 * self.total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                let v = value_at(i);
                return if p == 0.0 { v } else { highest_equivalent(v) };
            }
        }
        0
    }

    /// The cumulative distribution LATENCY HISTOGRAM shows: for reporting
    /// levels 1024 ns, 2048 ns..., (the level's bucket top in µs, calls up
    /// to it), each where the count grew (Redis's log iteration, base 2).
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut points = Vec::new();
        let mut level = 1024u64;
        let mut index = 0usize;
        let mut cumulative = self.counts[0];
        let mut last = 0;
        while last < self.total && index < COUNTS_LEN {
            let floor = value_at(index_of(level.min(HIGHEST_NS * 2)));
            while value_at(index) < floor && index + 1 < COUNTS_LEN {
                index += 1;
                cumulative += self.counts[index];
            }
            if cumulative > last {
                points.push((highest_equivalent(value_at(index)) / 1000, cumulative));
                last = cumulative;
            }
            if index + 1 >= COUNTS_LEN {
                break;
            }
            level *= 2;
        }
        points
    }
}

// ----- latency monitor ---------------------------------------------------

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
const SERIES_LEN: usize = 160;

/// One event's recent spikes: at most one sample per second (the worst),
/// the last [`SERIES_LEN`] seconds that had one, and the all-time worst.
#[derive(Clone)]
pub struct Series {
    /// (unix seconds, ms); time 0 marks an unused slot.
    samples: Box<[(u32, u32); SERIES_LEN]>,
    next: usize,
    pub max: u32,
}

impl Series {
    /// The samples, oldest first.
    pub fn history(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..SERIES_LEN).map(|j| self.samples[(self.next + j) % SERIES_LEN]).filter(|s| s.0 != 0)
    }

    /// The latest sample.
    pub fn latest(&self) -> (u32, u32) {
        self.samples[(self.next + SERIES_LEN - 1) % SERIES_LEN]
    }
}

/// The events that crossed `latency-monitor-threshold`, by name, in the
/// order they first happened.
#[derive(Default, Clone)]
pub struct LatencyMonitor {
    pub events: Vec<(&'static str, Series)>,
}

impl LatencyMonitor {
    /// Notes that `event` took `ms` at unix second `now` (Redis's
    /// `latencyAddSample`; the caller checked the threshold).
    pub fn add(&mut self, event: &'static str, ms: u64, now: u64) {
        let ms = u32::try_from(ms).unwrap_or(u32::MAX);
        let now = u32::try_from(now).unwrap_or(u32::MAX);
        let i = match self.events.iter().position(|(e, _)| *e == event) {
            Some(i) => i,
            None => {
                if self.events.try_reserve(1).is_err() {
                    return;
                }
                let series = Series { samples: Box::new([(0, 0); SERIES_LEN]), next: 0, max: 0 };
                self.events.push((event, series));
                self.events.len() - 1
            }
        };
        let ts = &mut self.events[i].1;
        ts.max = ts.max.max(ms);
        let prev = (ts.next + SERIES_LEN - 1) % SERIES_LEN;
        if ts.samples[prev].0 == now {
            ts.samples[prev].1 = ts.samples[prev].1.max(ms);
            return;
        }
        ts.samples[ts.next] = (now, ms);
        ts.next = (ts.next + 1) % SERIES_LEN;
    }

    pub fn get(&self, event: &[u8]) -> Option<(&'static str, &Series)> {
        self.events.iter().find(|(e, _)| e.as_bytes() == event).map(|(e, s)| (*e, s))
    }

    /// Forgets `event` (every event with `None`); how many were forgotten.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match event {
            None => self.events.clear(),
            Some(name) => self.events.retain(|(e, _)| e.as_bytes() != name),
        }
        before - self.events.len()
    }
}

// ----- timing commands --------------------------------------------------

/// The clocks, the latency monitor's events and the slow log.
#[derive(Default)]
pub struct Watch {
    clock: Option<Clock>,
    /// Unix time in microseconds, for TIME.
    wall_clock: Option<Clock>,
    pub monitor: LatencyMonitor,
    pub slowlog: SlowLog,
}

impl Watch {
    /// Now, in monotonic microseconds (0 without a clock).
    #[inline]
    pub fn now_us(&self) -> u64 {
        self.clock.map_or(0, |clock| clock())
    }
}

/// What is left to record of a command that blocked: Redis counts its
/// time, latency and slow log entry once it is served or times out.
pub struct BlockedCall {
    slot: Option<StatSlot>,
    /// Microseconds its first run took.
    duration_us: u64,
    /// Its slow log arguments (empty when the slow log is off).
    args: Vec<Vec<u8>>,
}

impl Server {
    /// Sets the clock commands are timed with (monotonic microseconds).
    pub fn set_clock(&mut self, clock: Clock) {
        self.watch.clock = Some(clock);
    }

    /// Sets the wall clock TIME reads (Unix microseconds), as Redis reads
    /// the time of day afresh for it; without one, TIME answers the
    /// command's cached millisecond time.
    pub fn set_wall_clock(&mut self, clock: Clock) {
        self.watch.wall_clock = Some(clock);
    }

    /// Unix time in microseconds, for TIME.
    pub(crate) fn unix_us(&self) -> u64 {
        self.watch.wall_clock.map_or(self.now.unix_ms.saturating_mul(1000), |clock| clock())
    }

    /// Monotonic microseconds now (0 without a clock).
    #[inline]
    pub(crate) fn now_us(&self) -> u64 {
        self.watch.now_us()
    }

    /// Notes that `event` took `ms` when that reaches
    /// `latency-monitor-threshold` (Redis's `latencyAddSampleIfNeeded`).
    #[inline]
    pub(crate) fn latency_sample(&mut self, event: &'static str, ms: u64) {
        let threshold = self.cfg.stats.latency_monitor_threshold;
        if threshold > 0 && ms >= threshold {
            self.watch.monitor.add(event, ms, self.now.unix_ms / 1000);
        }
    }

    /// Whether a command that took `us` goes to the slow log.
    #[inline]
    fn slow(&self, us: u64) -> bool {
        let t = self.cfg.stats.slowlog_log_slower_than;
        t >= 0 && us >= t as u64
    }

    /// What is recorded once a command ran for `duration_us`: its latency
    /// sample (`command`, or `fast-command` for a fast one), and its slow
    /// log entry (EXEC is not logged, its commands are). A command that
    /// blocked is recorded when it is served ([`Self::finish_blocked_call`]).
    ///
    /// Handlers move arguments they store (values of SET, LPUSH...) out of
    /// `argv` rather than copy them, unless something needs them after the
    /// command: propagation, or a slow log taking every command (threshold
    /// 0). Above 0, the few slow commands that moved arguments show those
    /// (`moved`) as `(moved)`: copying every argument of every command in
    /// case it turns out slow would cost an allocation per command.
    pub(crate) fn record_call(
        &mut self,
        cid: u64,
        spec: &CommandSpec,
        argv: &[Vec<u8>],
        moved: u64,
        slot: Option<StatSlot>,
        duration_us: u64,
    ) {
        let event = if spec.flags & flags::FAST != 0 { "fast-command" } else { "command" };
        self.latency_sample(event, duration_us / 1000);
        if spec.flags & flags::BLOCKING != 0
            && let Some(c) = self.clients.get_mut(&cid)
            && c.blocked.is_some()
        {
            let args = if self.cfg.stats.slowlog_log_slower_than >= 0 {
                slowlog_args(spec.name, argv, moved)
            } else {
                Vec::new()
            };
            c.blocked_call = Some(Box::new(BlockedCall { slot, duration_us, args }));
            return;
        }
        self.count_duration(slot, duration_us);
        if self.slow(duration_us) && spec.name != "exec" {
            let args = slowlog_args(spec.name, argv, moved);
            self.push_slowlog(cid, args, duration_us);
        }
    }

    /// A blocked command was served (or timed out) in `reply_us`: its
    /// time, latency and slow log entry are recorded now.
    pub(crate) fn finish_blocked_call(&mut self, cid: u64, reply_us: u64) {
        let Some(call) = self.clients.get_mut(&cid).and_then(|c| c.blocked_call.take()) else { return };
        let total = call.duration_us + reply_us;
        self.count_duration(call.slot, total);
        if self.slow(total) {
            self.push_slowlog(cid, call.args, total);
        }
        self.latency_sample("command-unblocking", reply_us / 1000);
    }

    fn push_slowlog(&mut self, cid: u64, argv: Vec<Vec<u8>>, duration_us: u64) {
        let Some(c) = self.clients.get(&cid) else { return };
        let entry = crate::slowlog::Entry {
            id: 0,
            time: self.now.unix_ms / 1000,
            duration_us,
            argv,
            peer: c.peer.clone(),
            name: c.name.clone().unwrap_or_default(),
        };
        self.watch.slowlog.push(entry, self.cfg.stats.slowlog_max_len);
    }
}

/// `argv` as the slow log keeps it (cut, secrets redacted, arguments the
/// handler moved out marked).
fn slowlog_args(name: &str, argv: &[Vec<u8>], moved: u64) -> Vec<Vec<u8>> {
    let mut args = crate::slowlog::entry_args(argv, |i| crate::introspect::redacted(name, argv, i));
    for (i, a) in args.iter_mut().enumerate().take(63) {
        if moved & (1 << i) != 0 {
            *a = b"(moved)".to_vec();
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_layout_is_hdr_2_digits_1us_to_1s() {
        assert!(index_of(HIGHEST_NS) < COUNTS_LEN);
        // 1 µs falls in the 1000..1003 ns count, 113 µs in 112640..113151
        // (Redis reports p50=1.003, p50=113.151).
        assert_eq!(value_at(index_of(1000)), 1000);
        assert_eq!(highest_equivalent(1000), 1003);
        assert_eq!(highest_equivalent(113_000), 113_151);
        assert_eq!(highest_equivalent(3000), 3007);
        let mut h = Histogram::try_new().unwrap();
        for us in [1, 10, 100, 1000, 10_000] {
            h.record_us(us);
        }
        h.record_us(5_000_000); // clamped to 1 s
        assert_eq!(h.total(), 6);
        for (p, us) in [(10.0, 1), (50.0, 100), (60.0, 1000), (100.0, 1_000_000)] {
            let v = h.value_at_percentile(p) as f64 / 1000.0;
            assert!((v - us as f64).abs() <= us as f64 * 0.03, "p{p}: {v} vs {us}");
        }
        let cdf = h.cumulative_usec();
        assert_eq!(cdf.first(), Some(&(1, 1)));
        assert_eq!(cdf.last().map(|p| p.1), Some(6));
        assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{cdf:?}");
    }

    #[test]
    fn monitor_keeps_the_worst_sample_per_second() {
        let mut m = LatencyMonitor::default();
        m.add("command", 5, 100);
        m.add("command", 9, 100);
        m.add("command", 3, 101);
        let (_, s) = m.get(b"command").unwrap();
        assert_eq!(s.history().collect::<Vec<_>>(), [(100, 9), (101, 3)]);
        assert_eq!((s.latest(), s.max), ((101, 3), 9));
        for t in 0..200 {
            m.add("command", 1, 1000 + t);
        }
        assert_eq!(m.get(b"command").unwrap().1.history().count(), SERIES_LEN);
        assert_eq!(m.reset(Some(b"nope")), 0);
        assert_eq!(m.reset(None), 1);
    }
}
