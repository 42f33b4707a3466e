//! Streams in RDB: Redis 7.0's `RDB_TYPE_STREAM_LISTPACKS_2` (19), written
//! and read, and the older `RDB_TYPE_STREAM_LISTPACKS` (15, Redis 5 to
//! 6.2) and Redis 7.2's `RDB_TYPE_STREAM_LISTPACKS_3` (21) read.
//!
//! ```text
//! length: blocks, then per block: string (master ID, 16 bytes big-endian),
//!         string (listpack: live count, deleted count, master field count,
//!         master fields, 0; then per entry: flags, ms delta, seq delta,
//!         [field count, fields and values | values when flags has
//!         SAMEFIELDS], element count)
//! length, last-id ms, seq; (19+) first-id ms, seq, max-deleted ms, seq,
//! entries-added; groups: count, then per group: name, last-id ms, seq,
//! (19+) entries-read; PEL: count, (16-byte ID, 8-byte LE delivery ms,
//! length delivery count)*; consumers: count, (name, 8-byte LE seen ms,
//! (21) 8-byte LE active ms, PEL: count, 16-byte IDs)*
//! ```

use alloc::vec::Vec;

use super::LoadError::Corrupt;
use super::encodings;
use super::*;
use crate::types::Stream;
use crate::types::stream::{Entry, Group, OrdMap, StreamId, flags_of};

pub(crate) const TYPE_STREAM_LISTPACKS: u8 = 15;
pub(crate) const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub(crate) const TYPE_STREAM_LISTPACKS_3: u8 = 21;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

/// A listpack being built (Redis's `listpack.c` encodings).
struct Listpack {
    buf: Vec<u8>,
    count: usize,
}

impl Listpack {
    fn new() -> Listpack {
        let mut buf = Vec::new();
        buf.extend_from_slice(&[0; 6]);
        Listpack { buf, count: 0 }
    }
    fn backlen(&mut self, l: usize) {
        let l = l as u64;
        if l <= 127 {
            self.buf.push(l as u8);
        } else if l < 16383 {
            self.buf.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]);
        } else if l < 2097151 {
            self.buf.extend_from_slice(&[(l >> 14) as u8, ((l >> 7) & 127) as u8 | 128, (l & 127) as u8 | 128]);
        } else if l < 268435455 {
            self.buf.extend_from_slice(&[
                (l >> 21) as u8,
                ((l >> 14) & 127) as u8 | 128,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]);
        } else {
            self.buf.extend_from_slice(&[
                (l >> 28) as u8,
                ((l >> 21) & 127) as u8 | 128,
                ((l >> 14) & 127) as u8 | 128,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]);
        }
    }
    fn int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            self.buf.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xf1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xf2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (-2147483648..=2147483647).contains(&v) {
            self.buf.push(0xf3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xf4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = self.buf.len() - start;
        self.backlen(l);
        self.count += 1;
    }
    fn string(&mut self, s: &[u8]) {
        if let Some(v) = crate::util::parse_i64(s) {
            return self.int(v);
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.extend_from_slice(&[0xe0 | (n >> 8) as u8, n as u8]);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        self.backlen(l);
        self.count += 1;
    }
    fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// The listpack Redis holds for a block.
fn block_listpack(master_id: StreamId, b: &crate::types::stream::Block) -> Vec<u8> {
    let mut lp = Listpack::new();
    lp.int(b.live as i64);
    lp.int(b.deleted() as i64);
    lp.int(b.master_fields.len() as i64);
    for f in b.master_fields.iter() {
        lp.string(f);
    }
    lp.int(0);
    for e in &b.entries {
        let nfields = e.items.len() / 2;
        lp.int(flags_of(e));
        lp.int(e.id.ms.wrapping_sub(master_id.ms) as i64);
        lp.int(e.id.seq.wrapping_sub(master_id.seq) as i64);
        if !e.same_fields {
            lp.int(nfields as i64);
        }
        for (i, item) in e.items.iter().enumerate() {
            if i % 2 == 1 || !e.same_fields {
                lp.string(item);
            }
        }
        let lp_count = nfields + 3 + if e.same_fields { 0 } else { nfields + 1 };
        lp.int(lp_count as i64);
    }
    lp.finish()
}

fn put_id(out: &mut impl Sink, id: StreamId) {
    put_len(out, id.ms as usize);
    put_len(out, id.seq as usize);
}

/// The body of a stream value (type 19).
pub(crate) fn put_stream(out: &mut impl Sink, s: &Stream) {
    put_len(out, s.block_count());
    for (id, b) in s.blocks() {
        put_str(out, &id.to_be_bytes());
        put_str(out, &block_listpack(*id, b));
    }
    put_len(out, s.len());
    put_id(out, s.last_id);
    put_id(out, s.first_id);
    put_id(out, s.max_deleted_id);
    put_len(out, s.entries_added as usize);
    put_len(out, s.groups.len());
    for (name, g) in s.groups.iter() {
        put_str(out, name);
        put_id(out, g.last_id);
        put_len(out, g.entries_read as u64 as usize);
        put_len(out, g.pel().len());
        for (id, n) in g.pel().iter() {
            out.put(&id.to_be_bytes());
            out.put(&n.delivery_time.to_le_bytes());
            put_len(out, n.delivery_count as usize);
        }
        put_len(out, g.consumers().len());
        for (cname, c) in g.consumers().iter() {
            put_str(out, cname);
            out.put(&c.seen_time.to_le_bytes());
            put_len(out, c.pel.len());
            for id in c.pel.keys() {
                out.put(&id.to_be_bytes());
            }
        }
    }
}

fn read_id<I: Input + ?Sized>(r: &mut I) -> Result<StreamId, LoadError> {
    Ok(StreamId::new(read_len(r)?, read_len(r)?))
}

fn raw_id<I: Input + ?Sized>(r: &mut I) -> Result<StreamId, LoadError> {
    Ok(StreamId::from_be_bytes(read_array(r)?))
}

fn int_of(e: &[u8]) -> Result<i64, LoadError> {
    crate::util::parse_i64(e).ok_or(Corrupt("stream listpack integer"))
}

/// Decodes one block's listpack into its master fields and entries.
fn read_block(master_id: StreamId, lp: &[u8], budget: &mut usize) -> Result<(Vec<Vec<u8>>, Vec<Entry>), LoadError> {
    let mut elems: Vec<Vec<u8>> = Vec::new();
    encodings::listpack(lp, budget, &mut |e| {
        elems.try_reserve(1).map_err(|_| LoadError::OutOfMemory)?;
        elems.push(e);
        Ok(())
    })?;
    let mut it = elems.into_iter();
    let mut next = || it.next().ok_or(Corrupt("stream listpack (truncated)"));
    let live = int_of(&next()?)?;
    let deleted = int_of(&next()?)?;
    let nmaster = usize::try_from(int_of(&next()?)?).map_err(|_| Corrupt("stream master fields"))?;
    let mut master = Vec::new();
    for _ in 0..nmaster {
        master.push(next()?);
    }
    if int_of(&next()?)? != 0 {
        return Err(Corrupt("stream master entry terminator"));
    }
    let mut entries = Vec::new();
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    while let Ok(flags) = next() {
        let flags = int_of(&flags)?;
        let ms = master_id.ms.wrapping_add(int_of(&next()?)? as u64);
        let seq = master_id.seq.wrapping_add(int_of(&next()?)? as u64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        let mut items = Vec::new();
        if same {
            for f in &master {
                items.push(f.clone().into_boxed_slice());
                items.push(next()?.into_boxed_slice());
            }
        } else {
            let n = usize::try_from(int_of(&next()?)?).map_err(|_| Corrupt("stream entry fields"))?;
            for _ in 0..n * 2 {
                items.push(next()?.into_boxed_slice());
            }
        }
        let _lp_count = next()?;
        let deleted_flag = flags & FLAG_DELETED != 0;
        if deleted_flag {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        let id = StreamId::new(ms, seq);
        if entries.last().is_some_and(|e: &Entry| e.id >= id) || id < master_id {
            return Err(Corrupt("stream entry IDs out of order"));
        }
        entries.push(Entry { id, deleted: deleted_flag, same_fields: same, items: items.into_boxed_slice() });
    }
    if seen_live != live || seen_deleted != deleted || entries.is_empty() {
        return Err(Corrupt("stream listpack counts"));
    }
    Ok((master, entries))
}

/// Reads a stream body of type `kind` (15, 19 or 21).
pub(crate) fn read_stream<I: Input + ?Sized>(r: &mut I, kind: u8, budget: &mut usize) -> Result<Stream, LoadError> {
    let mut s = Stream::new();
    let blocks = read_len(r)?;
    let mut last_key: Option<StreamId> = None;
    for _ in 0..blocks {
        let key = read_string(r, budget)?;
        let key: [u8; 16] = key.try_into().map_err(|_| Corrupt("stream node key"))?;
        let master_id = StreamId::from_be_bytes(key);
        if last_key.is_some_and(|k| k >= master_id) {
            return Err(Corrupt("stream node keys out of order"));
        }
        last_key = Some(master_id);
        let lp = read_string(r, budget)?;
        let (master, entries) = read_block(master_id, &lp, budget)?;
        charge(budget, entries.len() * ELEMENT_COST)?;
        if entries.iter().all(|e| e.deleted) {
            return Err(Corrupt("stream node without live entries"));
        }
        s.push_loaded_block(master_id, master, entries);
    }
    let length = read_len(r)?;
    if length != s.counted_len() as u64 {
        return Err(Corrupt("stream length"));
    }
    s.last_id = read_id(r)?;
    if kind >= TYPE_STREAM_LISTPACKS_2 {
        s.first_id = read_id(r)?;
        s.max_deleted_id = read_id(r)?;
        s.entries_added = read_len(r)?;
    } else {
        s.entries_added = length;
        s.first_id = s.first_edge_id(true);
    }
    if s.last_live_id().is_some_and(|id| id > s.last_id) {
        return Err(Corrupt("stream last ID"));
    }
    let groups = read_len(r)?;
    for _ in 0..groups {
        let name = read_string(r, budget)?;
        let last_id = read_id(r)?;
        let entries_read = if kind >= TYPE_STREAM_LISTPACKS_2 {
            read_len(r)? as i64
        } else {
            s.estimate_entries_read(last_id).map_or(-1, |n| n as i64)
        };
        let mut g = Group::new(last_id, entries_read);
        let pel = read_len(r)?;
        for _ in 0..pel {
            let id = raw_id(r)?;
            let time = u64::from_le_bytes(read_array(r)?);
            let count = read_len(r)?;
            charge(budget, ELEMENT_COST)?;
            if !g.load_nack(id, time, count) {
                return Err(Corrupt("stream PEL (duplicate ID)"));
            }
        }
        let consumers = read_len(r)?;
        for _ in 0..consumers {
            let cname = read_string(r, budget)?;
            let seen = u64::from_le_bytes(read_array(r)?);
            if kind >= TYPE_STREAM_LISTPACKS_3 {
                let _active: [u8; 8] = read_array(r)?;
            }
            let n = read_len(r)?;
            let mut ids = OrdMap::new();
            for _ in 0..n {
                charge(budget, ELEMENT_COST)?;
                if ids.insert(raw_id(r)?, ()).is_some() {
                    return Err(Corrupt("stream consumer PEL (duplicate ID)"));
                }
            }
            if g.consumer(&cname).is_some() || !g.load_consumer(cname, seen, ids) {
                return Err(Corrupt("stream consumer"));
            }
        }
        if !g.pel_owned() {
            return Err(Corrupt("stream PEL entry without consumer"));
        }
        if s.groups.insert(name, g).is_some() {
            return Err(Corrupt("stream group (duplicate name)"));
        }
    }
    Ok(s)
}
