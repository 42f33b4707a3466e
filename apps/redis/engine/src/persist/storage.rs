//! The disk as persistence uses it: [`Storage`], what `store::Store` offers
//! over any block device, as an object (the server is not generic over the
//! app's device type), and the snapshot as an RDB byte stream.

use alloc::string::String;
use alloc::vec::Vec;

use store::{BlockDevice, Store, StoreError};

use crate::rdb::{LoadError, Source};

/// Sizes the INFO section reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreSummary {
    pub snapshot_capacity: u64,
}

/// A store on some block device (see the `store` crate for the guarantees).
pub trait Storage {
    fn append(&mut self, record: &[u8]) -> Result<(), StoreError>;
    fn commit(&mut self, durable: bool) -> Result<(), StoreError>;
    fn buffered_bytes(&self) -> usize;
    fn log_bytes(&self) -> u64;
    fn log_capacity(&self) -> u64;
    fn begin_snapshot(&mut self, new_chain: bool) -> Result<(), StoreError>;
    fn write_snapshot(&mut self, bytes: &[u8]) -> Result<(), StoreError>;
    fn finish_snapshot(&mut self) -> Result<(), StoreError>;
    fn abort_snapshot(&mut self);
    fn snapshot_len(&self) -> u64;
    fn read_snapshot(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError>;
    /// Calls `f` with each log record after the snapshot, in order; `f`
    /// returning `Err` stops the replay (the error is the caller's).
    fn replay(&mut self, f: &mut dyn FnMut(&[u8]) -> Result<(), ()>) -> Result<(), String>;
    fn summary(&self) -> StoreSummary;
}

impl<D: BlockDevice> Storage for Store<D> {
    fn append(&mut self, record: &[u8]) -> Result<(), StoreError> {
        Store::append(self, record)
    }
    fn commit(&mut self, durable: bool) -> Result<(), StoreError> {
        Store::commit(self, durable)
    }
    fn buffered_bytes(&self) -> usize {
        Store::buffered_bytes(self)
    }
    fn log_bytes(&self) -> u64 {
        Store::log_bytes(self)
    }
    fn log_capacity(&self) -> u64 {
        Store::log_capacity(self)
    }
    fn begin_snapshot(&mut self, new_chain: bool) -> Result<(), StoreError> {
        Store::begin_snapshot(self, new_chain)
    }
    fn write_snapshot(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        Store::write_snapshot(self, bytes)
    }
    fn finish_snapshot(&mut self) -> Result<(), StoreError> {
        Store::finish_snapshot(self)
    }
    fn abort_snapshot(&mut self) {
        Store::abort_snapshot(self)
    }
    fn snapshot_len(&self) -> u64 {
        Store::snapshot_len(self)
    }
    fn read_snapshot(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError> {
        Store::read_snapshot(self, offset, buf)
    }
    fn replay(&mut self, f: &mut dyn FnMut(&[u8]) -> Result<(), ()>) -> Result<(), String> {
        match Store::replay(self, f) {
            Ok(_) => Ok(()),
            // `f` stopped it: the caller knows why.
            Err(store::ReplayError::App(())) => Ok(()),
            Err(store::ReplayError::Store(e)) => Err(alloc::format!("{e}")),
        }
    }
    fn summary(&self) -> StoreSummary {
        StoreSummary { snapshot_capacity: self.info().snapshot_capacity }
    }
}

/// Bytes read from the disk at a time while loading (few large requests).
const READ_AHEAD: usize = 256 * 1024;

/// The active snapshot as a byte stream for the RDB loader.
pub(crate) struct SnapshotSource<'a> {
    disk: &'a mut dyn Storage,
    /// Where the next disk read starts.
    offset: u64,
    ahead: Vec<u8>,
    pos: usize,
    /// Called at each disk read.
    pub(crate) progress: Option<&'a mut dyn FnMut() -> crate::Time>,
}

impl<'a> SnapshotSource<'a> {
    pub(crate) fn new(disk: &'a mut dyn Storage) -> SnapshotSource<'a> {
        SnapshotSource { disk, offset: 0, ahead: Vec::new(), pos: 0, progress: None }
    }
}

impl Source for SnapshotSource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LoadError> {
        if self.pos == self.ahead.len() {
            if let Some(progress) = self.progress.as_mut() {
                progress();
            }
            self.ahead.resize(READ_AHEAD, 0);
            let n = self
                .disk
                .read_snapshot(self.offset, &mut self.ahead)
                .map_err(|e| LoadError::Io(alloc::format!("{e}")))?;
            self.ahead.truncate(n);
            self.offset += n as u64;
            self.pos = 0;
        }
        let n = buf.len().min(self.ahead.len() - self.pos);
        buf[..n].copy_from_slice(&self.ahead[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
