//! Hash value: field -> value map with stable slots (for HSCAN) and a
//! running memory total.

use alloc::vec::Vec;

use crate::bytemap::{ByteMap, ReserveError};
use crate::mem;

/// Redis 7.0 defaults: hash-max-listpack-entries / -value.
pub const MAX_LISTPACK_ENTRIES: usize = 512;
pub const MAX_LISTPACK_VALUE: usize = 64;

pub struct Hash {
    map: ByteMap<Vec<u8>>,
    /// Heap bytes of the values' buffers.
    val_bytes: usize,
    /// Sticky "hashtable" encoding, like Redis (never converts back).
    big: bool,
}

impl Hash {
    pub fn new(seed: u64) -> Hash {
        Hash { map: ByteMap::new(seed), val_bytes: 0, big: false }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn is_big(&self) -> bool {
        self.big
    }
    /// Heap bytes: fields and map bookkeeping plus the values' buffers.
    pub fn mem(&self) -> usize {
        self.map.overhead_bytes() + self.val_bytes
    }
    /// Bytes [`try_reserve`](Self::try_reserve) would add; see [`ByteMap::growth_bytes`].
    pub fn growth_bytes(&self, additional: usize) -> usize {
        self.map.growth_bytes(additional)
    }
    /// Makes room for `additional` more fields; see [`ByteMap::try_reserve`].
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        self.map.try_reserve(additional)
    }
    pub fn get(&self, field: &[u8]) -> Option<&Vec<u8>> {
        self.map.get(field)
    }
    pub fn contains(&self, field: &[u8]) -> bool {
        self.map.contains_key(field)
    }
    /// Sets a field; true when it was new.
    pub fn set(&mut self, field: &[u8], val: Vec<u8>) -> bool {
        if field.len() > MAX_LISTPACK_VALUE || val.len() > MAX_LISTPACK_VALUE {
            self.big = true;
        }
        self.val_bytes += mem::block(val.capacity());
        let new = match self.map.insert(field, val) {
            Some(old) => {
                self.val_bytes -= mem::block(old.capacity());
                false
            }
            None => true,
        };
        // Like Redis: converted once the listpack would hold more entries
        // than the limit (overwriting a field of a full listpack does not).
        if self.map.len() > MAX_LISTPACK_ENTRIES {
            self.big = true;
        }
        new
    }
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.map.remove(field) {
            Some(old) => {
                self.val_bytes -= mem::block(old.capacity());
                true
            }
            None => false,
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Vec<u8>)> {
        self.map.iter()
    }
    pub fn map(&self) -> &ByteMap<Vec<u8>> {
        &self.map
    }
}
