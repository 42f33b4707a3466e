//! A simulated disk for tests (of this crate and of its users): writes since
//! the last completed flush are kept aside, and [`SimDisk::power_cut`] lands
//! a random subset of their sectors, as a real disk with a volatile cache
//! may. It can also fail chosen requests and play a full device.
//!
//! Deterministic: everything random comes from a seed.

use alloc::vec;
use alloc::vec::Vec;

use crate::{BlockDevice, IoError, SECTOR};

/// SplitMix64: a tiny, good-enough deterministic generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Requests a [`SimDisk`] served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub sectors_read: u64,
    pub sectors_written: u64,
    /// Requests that failed by injection or because the disk was full.
    pub failed: u64,
}

/// A disk in memory with a volatile write cache.
#[derive(Clone)]
pub struct SimDisk {
    /// What reads see: every write applied.
    current: Vec<u8>,
    /// What survives a power cut for sure.
    durable: Vec<u8>,
    /// Writes since the last completed flush, in issue order.
    unflushed: Vec<(u64, Vec<u8>)>,
    fail_write: Option<u64>,
    fail_flush: Option<u64>,
    fail_read: Option<u64>,
    full: bool,
    /// Chance (percent) that each sector of a failed write lands.
    failed_write_lands: u64,
    rng: Rng,
    stats: SimStats,
}

const S: usize = SECTOR;

impl SimDisk {
    /// A zeroed disk of `sectors` sectors.
    pub fn new(sectors: u64) -> SimDisk {
        SimDisk::from_image(vec![0; sectors as usize * S])
    }

    /// A disk holding `image` (a whole number of sectors), all of it durable.
    pub fn from_image(image: Vec<u8>) -> SimDisk {
        assert_eq!(image.len() % S, 0, "a disk image is whole sectors");
        SimDisk {
            durable: image.clone(),
            current: image,
            unflushed: Vec::new(),
            fail_write: None,
            fail_flush: None,
            fail_read: None,
            full: false,
            failed_write_lands: 50,
            rng: Rng::new(0x5EED),
            stats: SimStats::default(),
        }
    }

    /// What reads see now.
    pub fn image(&self) -> &[u8] {
        &self.current
    }

    /// What is certain to survive a power cut now.
    pub fn durable_image(&self) -> &[u8] {
        &self.durable
    }

    /// Overwrites bytes at `offset`, durably and behind the back of whoever
    /// uses the disk (damage, or a foreign tool).
    pub fn corrupt(&mut self, offset: usize, bytes: &[u8]) {
        self.current[offset..offset + bytes.len()].copy_from_slice(bytes);
        self.durable[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// The disk as it comes back after losing power now: each sector of each
    /// write since the last completed flush has landed or not (chance chosen
    /// per cut from the seed), overlapping ones in a random order. Injected
    /// failures are cleared; full mode stays.
    pub fn power_cut(mut self, seed: u64) -> SimDisk {
        let mut rng = Rng::new(seed);
        let percent = [5, 50, 95, 0][rng.below(4) as usize];
        let percent = if percent == 0 { rng.below(101) } else { percent };
        let mut landed = Vec::new();
        for (w, (_, data)) in self.unflushed.iter().enumerate() {
            for s in 0..data.len() / S {
                if rng.percent(percent) {
                    landed.push((w, s));
                }
            }
        }
        for i in (1..landed.len()).rev() {
            landed.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for (w, s) in landed {
            let (sector, data) = &self.unflushed[w];
            let at = (*sector as usize + s) * S;
            self.durable[at..at + S].copy_from_slice(&data[s * S..(s + 1) * S]);
        }
        for (sector, data) in core::mem::take(&mut self.unflushed) {
            let at = sector as usize * S;
            self.current[at..at + data.len()].copy_from_slice(&self.durable[at..at + data.len()]);
        }
        self.clear_failures();
        self.rng = Rng::new(seed ^ 0xC0FF_EE00);
        self
    }

    /// The write after the next `n` ones fails (and lands a random part of
    /// its sectors, as a failing write may).
    pub fn fail_write_after(&mut self, n: u64) {
        self.fail_write = Some(n);
    }

    /// Chance (percent, 50 by default) that each sector of a failed write lands.
    pub fn set_failed_write_landing(&mut self, percent: u64) {
        self.failed_write_lands = percent;
    }

    /// The flush after the next `n` ones fails (the writes it covers stay unflushed).
    pub fn fail_flush_after(&mut self, n: u64) {
        self.fail_flush = Some(n);
    }

    /// The read after the next `n` ones fails.
    pub fn fail_read_after(&mut self, n: u64) {
        self.fail_read = Some(n);
    }

    pub fn clear_failures(&mut self) {
        self.fail_write = None;
        self.fail_flush = None;
        self.fail_read = None;
    }

    /// While full, every write fails with `NoSpace` and changes nothing.
    pub fn set_full(&mut self, full: bool) {
        self.full = full;
    }

    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Writes issued since the last completed flush.
    pub fn unflushed_writes(&self) -> usize {
        self.unflushed.len()
    }

    fn range(&self, sector: u64, len: usize) -> Result<core::ops::Range<usize>, IoError> {
        assert!(len.is_multiple_of(S), "requests are whole sectors");
        let start = (sector as usize).checked_mul(S).ok_or(IoError::OutOfRange)?;
        let end = start.checked_add(len).ok_or(IoError::OutOfRange)?;
        if end > self.current.len() {
            return Err(IoError::OutOfRange);
        }
        Ok(start..end)
    }
}

/// Counts a request down to an injected failure; true when it fires.
fn fires(counter: &mut Option<u64>) -> bool {
    match counter {
        Some(0) => {
            *counter = None;
            true
        }
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    }
}

impl BlockDevice for SimDisk {
    fn sector_count(&self) -> u64 {
        (self.current.len() / S) as u64
    }

    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let r = self.range(sector, buf.len())?;
        if fires(&mut self.fail_read) {
            self.stats.failed += 1;
            return Err(IoError::Device);
        }
        self.stats.reads += 1;
        self.stats.sectors_read += (buf.len() / S) as u64;
        buf.copy_from_slice(&self.current[r]);
        Ok(())
    }

    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), IoError> {
        let r = self.range(sector, buf.len())?;
        if self.full {
            self.stats.failed += 1;
            return Err(IoError::NoSpace);
        }
        if fires(&mut self.fail_write) {
            self.stats.failed += 1;
            for s in 0..buf.len() / S {
                if self.rng.percent(self.failed_write_lands) {
                    let data = buf[s * S..(s + 1) * S].to_vec();
                    self.current[r.start + s * S..r.start + (s + 1) * S].copy_from_slice(&data);
                    self.unflushed.push((sector + s as u64, data));
                }
            }
            return Err(IoError::Device);
        }
        self.stats.writes += 1;
        self.stats.sectors_written += (buf.len() / S) as u64;
        self.current[r].copy_from_slice(buf);
        self.unflushed.push((sector, buf.to_vec()));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IoError> {
        if fires(&mut self.fail_flush) {
            self.stats.failed += 1;
            return Err(IoError::Device);
        }
        self.stats.flushes += 1;
        for (sector, data) in core::mem::take(&mut self.unflushed) {
            let at = sector as usize * S;
            self.durable[at..at + data.len()].copy_from_slice(&data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushed_writes_survive_and_unflushed_ones_may_not() {
        let mut d = SimDisk::new(64);
        d.write(0, &[1; 1024]).unwrap();
        d.flush().unwrap();
        d.write(1, &[2; 1024]).unwrap();
        d.write(2, &[3; 512]).unwrap();
        let mut buf = [0; 1536];
        d.read(0, &mut buf).unwrap();
        assert_eq!(&buf[..512], &[1; 512]);
        assert_eq!(&buf[512..1024], &[2; 512]);
        assert_eq!(&buf[1024..], &[3; 512]);
        let mut outcomes = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let mut cut = d.clone().power_cut(seed);
            cut.read(0, &mut buf).unwrap();
            assert_eq!(&buf[..512], &[1; 512], "flushed data survives");
            assert!([1, 2].contains(&buf[512]));
            assert!(buf[512..1024].iter().all(|&b| b == buf[512]), "sectors are atomic");
            assert!([0, 2, 3].contains(&buf[1024]));
            outcomes.insert((buf[512], buf[1024]));
            assert_eq!(cut.image(), cut.durable_image());
            assert_eq!(cut.unflushed_writes(), 0);
        }
        // Every combination shows up, including the older write winning the overlap.
        assert_eq!(outcomes.len(), 6, "{outcomes:?}");
    }

    #[test]
    fn injected_failures_and_full_mode() {
        let mut d = SimDisk::new(16);
        d.fail_write_after(1);
        d.write(0, &[1; 512]).unwrap();
        assert_eq!(d.write(1, &[1; 512]), Err(IoError::Device));
        d.write(2, &[1; 512]).unwrap();
        d.fail_flush_after(0);
        assert_eq!(d.flush(), Err(IoError::Device));
        assert!(d.unflushed_writes() >= 2);
        d.flush().unwrap();
        assert_eq!(d.durable_image()[0], 1);
        d.set_full(true);
        assert_eq!(d.write(3, &[1; 512]), Err(IoError::NoSpace));
        assert_eq!(d.image()[3 * 512], 0);
        d.fail_read_after(0);
        assert_eq!(d.read(0, &mut [0; 512]), Err(IoError::Device));
        assert_eq!(d.read(16, &mut [0; 512]), Err(IoError::OutOfRange));
        assert_eq!(d.stats().failed, 4);
    }
}
