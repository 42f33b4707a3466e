//! Stream value: entries in ID order, kept as Redis keeps them, in blocks
//! (Redis's listpack nodes) held in a B-tree keyed by each block's master
//! ID (the ID of the first entry put in it). XADD appends to the last
//! block, O(1) amortized; a range seeks its first block in O(log n) and
//! then walks; `~` trimming drops whole blocks. A deleted entry stays in
//! its block flagged (a tombstone, as in Redis's listpacks) until the
//! block empties, so blocks fill, trim and persist exactly like Redis's
//! nodes (see [`crate::rdb::stream`], which writes each block as the
//! listpack Redis would hold). Consumer groups live in [`group`].
//!
//! Memory: every entry's items and every block are charged to a running
//! total; groups keep their own (see [`Group::mem`]).

pub mod group;
pub mod ordmap;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::mem;
pub use group::{Consumer, Group, Nack};
pub use ordmap::OrdMap;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }
    pub fn is_zero(&self) -> bool {
        *self == StreamId::MIN
    }
    /// The next ID (Redis's `streamIncrID`); `None` past the last.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }
    /// The previous ID (Redis's `streamDecrID`); `None` before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }
    /// The 16-byte big-endian form Redis uses as radix-tree key.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }
    pub fn from_be_bytes(b: [u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry: its ID and alternating field, value items.
pub struct Entry {
    pub id: StreamId,
    pub deleted: bool,
    /// Whether its fields are the block's master fields (Redis's
    /// SAMEFIELDS flag: only the values are stored in the listpack).
    pub same_fields: bool,
    pub items: Box<[Box<[u8]>]>,
}

impl Entry {
    fn mem(&self) -> usize {
        mem::array::<Box<[u8]>>(self.items.len()) + self.items.iter().map(|i| mem::block(i.len())).sum::<usize>()
    }
    /// The (field, value) pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.items.chunks_exact(2).map(|p| (&*p[0], &*p[1]))
    }
}

/// A block of entries: Redis's listpack node.
pub struct Block {
    /// The fields of the first entry put in the block.
    pub master_fields: Box<[Box<[u8]>]>,
    pub entries: Vec<Entry>,
    /// Entries not deleted.
    pub live: usize,
    /// Listpack bytes of the entries (the master part is computed).
    entries_lp_bytes: usize,
}

impl Block {
    pub fn deleted(&self) -> usize {
        self.entries.len() - self.live
    }
    /// The size of the listpack Redis would hold for this block.
    pub fn lp_bytes(&self) -> usize {
        let master = lp::int_size(self.live as i64)
            + lp::int_size(self.deleted() as i64)
            + lp::int_size(self.master_fields.len() as i64)
            + self.master_fields.iter().map(|f| lp::str_size(f)).sum::<usize>()
            + lp::int_size(0);
        6 + master + self.entries_lp_bytes + 1
    }
    fn overhead(&self) -> usize {
        mem::array::<Entry>(self.entries.capacity())
            + mem::array::<Box<[u8]>>(self.master_fields.len())
            + self.master_fields.iter().map(|f| mem::block(f.len())).sum::<usize>()
    }
}

/// Listpack element sizes (Redis's `listpack.c` encodings), for node sizes.
pub mod lp {
    use crate::util::parse_i64;

    /// Bytes of the back-length of an element of `len` bytes.
    pub fn backlen_size(len: usize) -> usize {
        match len {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        }
    }
    /// Encoded bytes (without back-length) of an integer element.
    pub fn int_encoded(v: i64) -> usize {
        if (0..=127).contains(&v) {
            1
        } else if (-4096..=4095).contains(&v) {
            2
        } else if (-32768..=32767).contains(&v) {
            3
        } else if (-8388608..=8388607).contains(&v) {
            4
        } else if (-2147483648..=2147483647).contains(&v) {
            5
        } else {
            9
        }
    }
    pub fn int_size(v: i64) -> usize {
        let e = int_encoded(v);
        e + backlen_size(e)
    }
    /// A string element (stored as an integer when it is one).
    pub fn str_size(s: &[u8]) -> usize {
        if let Some(v) = parse_i64(s) {
            return int_size(v);
        }
        let e = match s.len() {
            0..=63 => 1 + s.len(),
            64..=4095 => 2 + s.len(),
            _ => 5 + s.len(),
        };
        e + backlen_size(e)
    }
}

/// Node limits (the `stream-node-max-bytes` / `-entries` settings).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl NodeLimits {
    pub const DEFAULT: NodeLimits = NodeLimits { max_bytes: 4096, max_entries: 100 };
}

/// What to trim (XADD/XTRIM's MAXLEN and MINID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimTo {
    MaxLen(u64),
    MinId(StreamId),
}

/// Why an XADD failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the last one.
    NotGreater,
    /// The elements exceed what a listpack holds.
    TooLarge,
}

/// Largest total of an entry's items (Redis's STREAM_LISTPACK_MAX_SIZE).
const LISTPACK_MAX_SIZE: usize = 1 << 30;

pub struct Stream {
    blocks: OrdMap<StreamId, Block>,
    len: usize,
    pub last_id: StreamId,
    /// The first live entry's ID (0-0 when empty): Redis's
    /// `recorded-first-entry-id`.
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: OrdMap<Vec<u8>, Group>,
    data_mem: usize,
}

impl Default for Stream {
    fn default() -> Self {
        Stream::new()
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream {
            blocks: OrdMap::new(),
            len: 0,
            last_id: StreamId::MIN,
            first_id: StreamId::MIN,
            max_deleted_id: StreamId::MIN,
            entries_added: 0,
            groups: OrdMap::new(),
            data_mem: 0,
        }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Heap bytes: the block index, entries, blocks and groups, exactly
    /// as allocated (O(groups + consumers): groups keep running totals).
    pub fn mem(&self) -> usize {
        self.blocks.mem()
            + self.data_mem
            + self.groups.mem()
            + self.groups.iter().map(|(n, g)| g.mem() + mem::block(n.capacity())).sum::<usize>()
    }
    /// Entries go into blocks of bounded size: nothing to reserve ahead.
    pub fn growth_bytes(&self, _additional: usize) -> usize {
        0
    }
    pub fn try_reserve(&mut self, _additional: usize) -> Result<(), crate::bytemap::ReserveError> {
        Ok(())
    }
    pub fn blocks(&self) -> impl Iterator<Item = (&StreamId, &Block)> {
        self.blocks.iter()
    }
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// The nodes of the radix tree Redis would hold the blocks' 16-byte
    /// big-endian master IDs in (XINFO's `radix-tree-nodes`): a node per
    /// branch point, per run of single-child positions (compressed), and
    /// per key end. O(blocks x 16).
    pub fn radix_tree_nodes(&self) -> usize {
        fn count(keys: &[[u8; 16]], depth: usize) -> usize {
            if depth == 16 || keys.is_empty() {
                return 1;
            }
            let (first, last) = (keys[0], keys[keys.len() - 1]);
            if first[depth] == last[depth] {
                // One child: a compressed node up to where the keys part.
                let mut end = depth;
                while end < 16 && first[end] == last[end] {
                    end += 1;
                }
                return 1 + count(keys, end);
            }
            let mut total = 1;
            let mut start = 0;
            for i in 1..=keys.len() {
                if i == keys.len() || keys[i][depth] != keys[start][depth] {
                    total += count(&keys[start..i], depth + 1);
                    start = i;
                }
            }
            total
        }
        let keys: Vec<[u8; 16]> = self.blocks.keys().map(|k| k.to_be_bytes()).collect();
        count(&keys, 0)
    }

    /// The ID XADD `*` gives (Redis's `streamNextID`): now, or the last
    /// ID's next when the clock is behind.
    pub fn next_auto_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms { Some(StreamId::new(now_ms, 0)) } else { self.last_id.next() }
    }

    /// Appends an entry with `items` (field, value, ...) at `id` (already
    /// checked against the last ID by the caller, or checked here).
    pub fn append(&mut self, id: StreamId, items: Vec<Vec<u8>>, limits: NodeLimits) -> Result<(), AddError> {
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        let total: usize = items.iter().map(|i| i.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let items: Box<[Box<[u8]>]> = items.into_iter().map(Vec::into_boxed_slice).collect();
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes
        };
        let full = match self.blocks.last_key_value() {
            None => true,
            Some((_, b)) => {
                b.lp_bytes() + total >= max_bytes || (limits.max_entries > 0 && b.entries.len() >= limits.max_entries)
            }
        };
        if full {
            let master_fields: Box<[Box<[u8]>]> = items.iter().step_by(2).cloned().collect();
            let block = Block { master_fields, entries: Vec::new(), live: 0, entries_lp_bytes: 0 };
            self.data_mem += block.overhead();
            self.blocks.insert(id, block);
        }
        let master_id = *self.blocks.last_key_value().expect("a block was just ensured").0;
        let block = self.blocks.get_mut(&master_id).expect("last block");
        let same_fields = block.master_fields.len() * 2 == items.len()
            && block.master_fields.iter().zip(items.iter().step_by(2)).all(|(a, b)| a == b);
        let mut lp_bytes = lp::int_size(if same_fields { 2 } else { 0 })
            + lp::int_size(id.ms.wrapping_sub(master_id.ms) as i64)
            + lp::int_size(id.seq.wrapping_sub(master_id.seq) as i64);
        let nfields = items.len() / 2;
        let mut lp_count = nfields + 3;
        if !same_fields {
            lp_bytes += lp::int_size(nfields as i64);
            lp_count += nfields + 1;
        }
        for (i, item) in items.iter().enumerate() {
            if i % 2 == 1 || !same_fields {
                lp_bytes += lp::str_size(item);
            }
        }
        lp_bytes += lp::int_size(lp_count as i64);
        let before = block.overhead();
        let entry = Entry { id, deleted: false, same_fields, items };
        let entry_mem = entry.mem();
        block.entries.push(entry);
        block.live += 1;
        block.entries_lp_bytes += lp_bytes;
        self.data_mem = self.data_mem + block.overhead() + entry_mem - before;
        self.len += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.len == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    /// The block holding `id`, if any.
    fn block_of(&self, id: StreamId) -> Option<(&StreamId, &Block)> {
        self.blocks.floor(&id)
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<&Entry> {
        let (_, b) = self.block_of(id)?;
        let i = b.entries.binary_search_by(|e| e.id.cmp(&id)).ok()?;
        Some(&b.entries[i]).filter(|e| !e.deleted)
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// Live entries with `start <= id <= end`, in order (or reversed);
    /// O(log n) to the first, then each in turn.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Box<dyn Iterator<Item = &Entry> + '_> {
        if start > end {
            return Box::new(core::iter::empty());
        }
        let first_key = self.block_of(start).map(|(k, _)| *k).unwrap_or(start);
        if rev {
            Box::new(
                self.blocks
                    .iter_rev_from(&end)
                    .flat_map(|(_, b)| b.entries.iter().rev())
                    .skip_while(move |e| e.id > end)
                    .take_while(move |e| e.id >= start)
                    .filter(|e| !e.deleted),
            )
        } else {
            Box::new(
                self.blocks
                    .iter_from(&first_key)
                    .take_while(move |(k, _)| **k <= end)
                    .flat_map(|(_, b)| b.entries.iter())
                    .skip_while(move |e| e.id < start)
                    .take_while(move |e| e.id <= end)
                    .filter(|e| !e.deleted),
            )
        }
    }

    /// The last live entry's ID (Redis's `streamLastValidID`).
    pub fn last_live_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true).next().map(|e| e.id)
    }

    fn first_live_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX, false).next().map(|e| e.id).unwrap_or(StreamId::MIN)
    }

    /// Deletes a live entry (XDEL); true when it was there. Updates the
    /// first ID and the maximal deleted ID like Redis's XDEL.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&key, _)) = self.block_of(id) else { return false };
        let Some(block) = self.blocks.get_mut(&key) else { return false };
        let Ok(i) = block.entries.binary_search_by(|e| e.id.cmp(&id)) else { return false };
        if block.entries[i].deleted {
            return false;
        }
        block.entries[i].deleted = true;
        block.live -= 1;
        if block.live == 0 {
            let b = self.blocks.remove(&key).expect("block");
            self.data_mem -= b.overhead() + b.entries.iter().map(Entry::mem).sum::<usize>();
        }
        self.len -= 1;
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        if self.len == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.first_live_id();
        }
        true
    }

    /// Trims (Redis's `streamTrim`): whole blocks from the head while the
    /// rule allows; then, unless `approx`, entries within the next block.
    /// `limit` (0: none) caps the entries removed. Returns how many were.
    pub fn trim(&mut self, to: TrimTo, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let TrimTo::MaxLen(max) = to
                && self.len as u64 <= max
            {
                break;
            }
            let Some((&key, block)) = self.blocks.first_key_value() else { break };
            let entries = block.live as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match to {
                TrimTo::MaxLen(max) => self.len as u64 - entries >= max,
                TrimTo::MinId(min) => block.entries.last().is_some_and(|e| e.id < min),
            };
            if remove_node {
                let b = self.blocks.remove(&key).expect("block");
                self.data_mem -= b.overhead() + b.entries.iter().map(Entry::mem).sum::<usize>();
                self.len -= b.live;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let block = self.blocks.get_mut(&key).expect("block");
            let mut removed = 0usize;
            for e in block.entries.iter_mut() {
                let stop = match to {
                    TrimTo::MaxLen(max) => (self.len - removed) as u64 <= max,
                    TrimTo::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.deleted {
                    e.deleted = true;
                    removed += 1;
                }
            }
            block.live -= removed;
            self.len -= removed;
            deleted += removed as u64;
            break;
        }
        if self.len == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_live_id();
        }
        deleted
    }

    /// The first entry's ID, tombstones included unless `skip_tombstones`
    /// (Redis's `streamGetEdgeID(s, 1, skip)`: the maximal ID when there
    /// is none). XADD/XTRIM propagate a `~` MINID trim as `= <this>`.
    pub fn first_edge_id(&self, skip_tombstones: bool) -> StreamId {
        self.blocks
            .values()
            .flat_map(|b| b.entries.iter())
            .find(|e| !skip_tombstones || !e.deleted)
            .map(|e| e.id)
            .unwrap_or(StreamId::MAX)
    }

    /// Whether a deleted entry may lie in `[start, end]` (Redis's
    /// `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.len == 0 || self.max_deleted_id.is_zero() || self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// How many entries were added up to `id` (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`); `None` when unknown.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.len == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.len as u64);
            } else if id == self.first_id {
                return Some(self.entries_added - self.len as u64 + 1);
            }
        }
        None
    }

    /// A group's lag (Redis's `streamReplyWithCGLag`); `None` when unknown.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read >= 0 && !self.range_has_tombstones(g.last_id, StreamId::MAX) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        self.estimate_entries_read(g.last_id).map(|r| self.entries_added as i64 - r as i64)
    }

    /// Adds a block as loaded from RDB (entries and tombstones as saved);
    /// the caller sets the metadata afterwards.
    pub fn push_loaded_block(&mut self, master_id: StreamId, master_fields: Vec<Vec<u8>>, entries: Vec<Entry>) {
        let master_fields: Box<[Box<[u8]>]> = master_fields.into_iter().map(Vec::into_boxed_slice).collect();
        let mut block = Block { master_fields, entries: Vec::new(), live: 0, entries_lp_bytes: 0 };
        for e in entries {
            let nfields = e.items.len() / 2;
            let mut bytes = lp::int_size(flags_of(&e))
                + lp::int_size(e.id.ms.wrapping_sub(master_id.ms) as i64)
                + lp::int_size(e.id.seq.wrapping_sub(master_id.seq) as i64);
            let mut lp_count = nfields + 3;
            if !e.same_fields {
                bytes += lp::int_size(nfields as i64);
                lp_count += nfields + 1;
            }
            for (i, item) in e.items.iter().enumerate() {
                if i % 2 == 1 || !e.same_fields {
                    bytes += lp::str_size(item);
                }
            }
            bytes += lp::int_size(lp_count as i64);
            block.entries_lp_bytes += bytes;
            if !e.deleted {
                block.live += 1;
            }
            self.data_mem += e.mem();
            block.entries.push(e);
        }
        self.len += block.live;
        self.data_mem += block.overhead();
        self.blocks.insert(master_id, block);
    }

    /// Loaded metadata fix-up: the length counted from the blocks.
    pub fn counted_len(&self) -> usize {
        self.len
    }

    /// A deep copy (COPY).
    pub fn deep_clone(&self) -> Stream {
        let mut n = Stream::new();
        for (k, b) in self.blocks.iter() {
            let entries = b
                .entries
                .iter()
                .map(|e| Entry { id: e.id, deleted: e.deleted, same_fields: e.same_fields, items: e.items.clone() })
                .collect();
            n.push_loaded_block(*k, b.master_fields.iter().map(|f| f.to_vec()).collect(), entries);
        }
        n.last_id = self.last_id;
        n.first_id = self.first_id;
        n.max_deleted_id = self.max_deleted_id;
        n.entries_added = self.entries_added;
        n.groups = self.groups.clone();
        n
    }
}

/// The listpack flags of an entry (1 deleted, 2 same fields).
pub fn flags_of(e: &Entry) -> i64 {
    i64::from(e.deleted) | if e.same_fields { 2 } else { 0 }
}
