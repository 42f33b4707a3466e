//! Value types stored in the keyspace and their memory/encoding reports.

pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::bytemap::ReserveError;
use crate::mem;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// A collection value type (list, hash, set, sorted set): how to make an
/// empty one and how to find it inside a [`Value`]. Lets commands share one
/// type check and one get-or-create path.
pub trait Container: Sized {
    fn new_empty(seed: u64) -> Self;
    fn into_value(self) -> Value;
    fn of(value: &Value) -> Option<&Self>;
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    /// Whether `member` (a field, member; never for lists) is present.
    fn has(&self, member: &[u8]) -> bool;
    /// Bytes the collection's arrays would grow by to take `additional`
    /// new elements (0 when they fit): what `try_reserve` allocates.
    fn growth_bytes(&self, additional: usize) -> usize;
    /// Makes room for `additional` new elements; `Err` when the allocator
    /// refuses (the collection is unchanged apart from capacity).
    fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError>;
}

macro_rules! container {
    ($type:ty, $variant:ident, $seed:ident => $new:expr, $this:ident, $m:ident => $has:expr) => {
        impl Container for $type {
            fn new_empty($seed: u64) -> Self {
                $new
            }
            fn into_value(self) -> Value {
                Value::$variant(Box::new(self))
            }
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(x) => Some(&**x),
                    _ => None,
                }
            }
            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(x) => Some(&mut **x),
                    _ => None,
                }
            }
            fn has(&self, $m: &[u8]) -> bool {
                let $this = self;
                $has
            }
            fn growth_bytes(&self, additional: usize) -> usize {
                <$type>::growth_bytes(self, additional)
            }
            fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
                <$type>::try_reserve(self, additional)
            }
        }
    };
}

container!(List, List, _seed => List::new(), _l, _m => false);
container!(Hash, Hash, seed => Hash::new(seed), h, m => h.contains(m));
container!(Set, Set, seed => Set::new(seed), s, m => s.contains(m));
container!(ZSet, ZSet, seed => ZSet::new(seed), z, m => z.score(m).is_some());
container!(Stream, Stream, _seed => Stream::new(), _s, _m => false);

/// A keyspace value.
///
/// The collection variants are boxed: every keyspace slot holds a `Value`
/// inline, so the enum must stay as small as a string (24 bytes on 64-bit)
/// rather than as large as a sorted set (~216 bytes). See the size test in
/// `db.rs`.
pub enum Value {
    Str(Vec<u8>),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

impl Value {
    /// The TYPE name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// Heap bytes the value owns, as heap blocks (see [`crate::mem`]); O(1):
    /// containers keep running totals. The value itself lives inline in its
    /// keyspace slot; boxed collections also pay for their box.
    pub fn mem(&self) -> usize {
        match self {
            Value::Str(s) => mem::block(s.capacity()),
            Value::List(l) => l.mem() + mem::boxed::<List>(),
            Value::Hash(h) => h.mem() + mem::boxed::<Hash>(),
            Value::Set(s) => s.mem() + mem::boxed::<Set>(),
            Value::ZSet(z) => z.mem() + mem::boxed::<ZSet>(),
            Value::Stream(x) => x.mem() + mem::boxed::<Stream>(),
        }
    }

    /// OBJECT ENCODING name, following Redis 7.0's conversion thresholds.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && crate::util::parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::List(_) => "quicklist",
            Value::Hash(h) => {
                if h.is_big() {
                    "hashtable"
                } else {
                    "listpack"
                }
            }
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => {
                if z.is_big() {
                    "skiplist"
                } else {
                    "listpack"
                }
            }
            Value::Stream(_) => "stream",
        }
    }

    /// Number of elements (1 for strings), used by lazy-free decisions and INFO.
    pub fn len(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(x) => x.len(),
        }
    }

    /// Whether it is an empty container (deleted as such). A stream is
    /// never: an empty stream is a value of its own (XADD MAXLEN 0,
    /// XGROUP CREATE MKSTREAM), as in Redis.
    pub fn is_empty(&self) -> bool {
        !matches!(self, Value::Stream(_)) && self.len() == 0
    }
}

impl Value {
    /// Heap bytes a [`deep_clone`](Self::deep_clone) takes (at most): a
    /// string's copy is exact, containers' are charged what they hold.
    pub fn clone_mem(&self) -> usize {
        match self {
            Value::Str(s) => mem::block(s.len()),
            v => v.mem(),
        }
    }

    /// A deep copy (COPY command); containers get fresh hash seeds. The
    /// large allocations (the string, the containers' arrays) are made
    /// fallibly: `Err` when the allocator refuses one.
    pub fn deep_clone(&self, seed: u64) -> Result<Value, ReserveError> {
        Ok(match self {
            Value::Str(s) => {
                let mut n = Vec::new();
                n.try_reserve_exact(s.len()).map_err(|_| ReserveError)?;
                n.extend_from_slice(s);
                Value::Str(n)
            }
            Value::List(l) => {
                let mut n = List::new();
                n.try_reserve(l.len())?;
                for e in l.iter() {
                    n.push_back(e.clone());
                }
                Value::List(Box::new(n))
            }
            Value::Hash(h) => {
                let mut n = Hash::new(seed);
                n.try_reserve(h.len())?;
                for (f, v) in h.iter() {
                    n.set(f, v.clone());
                }
                Value::Hash(Box::new(n))
            }
            Value::Set(s) => {
                let mut n = Set::new(seed);
                n.try_reserve(s.len())?;
                for m in s.iter() {
                    n.add(m);
                }
                Value::Set(Box::new(n))
            }
            Value::ZSet(z) => {
                let mut n = ZSet::new(seed);
                n.try_reserve(z.len())?;
                for (score, m) in z.iter() {
                    n.set(m, score);
                }
                Value::ZSet(Box::new(n))
            }
            Value::Stream(x) => Value::Stream(Box::new(x.deep_clone())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// `growth_bytes` predicts what `try_reserve` adds to the accounted
    /// memory (exactly, except the hash table's trailing control group,
    /// which the prediction takes at its widest), for every collection and
    /// size, after removals too.
    fn check<T: Container>(t: &mut T, value: impl Fn(&T) -> usize, what: &str) {
        for additional in [1usize, 2, 7, 100, 1000] {
            let predicted = t.growth_bytes(additional);
            let before = value(t);
            t.try_reserve(additional).unwrap();
            let actual = value(t) - before;
            assert!(actual <= predicted && predicted - actual <= 16, "{what} +{additional}: {predicted} vs {actual}");
        }
    }

    #[test]
    fn growth_prediction_matches_reservation() {
        for n in [0usize, 1, 5, 64, 1000, 5000] {
            let mut l = List::new();
            let mut h = Hash::new(1);
            let mut s = Set::new(2);
            let mut z = ZSet::new(3);
            for i in 0..n {
                let m = format!("m{i}");
                l.push_back(m.clone().into_bytes());
                h.set(m.as_bytes(), b"v".to_vec());
                s.add(m.as_bytes());
                z.set(m.as_bytes(), i as f64);
            }
            for i in (0..n).step_by(3) {
                let m = format!("m{i}");
                l.pop_front();
                h.remove(m.as_bytes());
                s.remove(m.as_bytes());
                z.remove(m.as_bytes());
            }
            check(&mut l, List::mem, &format!("list {n}"));
            check(&mut h, Hash::mem, &format!("hash {n}"));
            check(&mut s, Set::mem, &format!("set {n}"));
            check(&mut z, ZSet::mem, &format!("zset {n}"));
        }
    }
}
