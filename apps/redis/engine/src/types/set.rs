//! Set value: members with stable slots (for SSCAN, O(1) random member)
//! and a running count of non-integer members to report "intset".

use crate::bytemap::{ByteMap, ReserveError};

/// Redis 7.0 default set-max-intset-entries.
pub const MAX_INTSET_ENTRIES: usize = 512;

pub struct Set {
    map: ByteMap<()>,
    non_int: usize,
    /// Sticky "hashtable" encoding.
    big: bool,
}

fn is_int(m: &[u8]) -> bool {
    m.len() <= 20 && crate::util::parse_i64(m).is_some()
}

impl Set {
    pub fn new(seed: u64) -> Set {
        Set { map: ByteMap::new(seed), non_int: 0, big: false }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Heap bytes: members and map bookkeeping.
    pub fn mem(&self) -> usize {
        self.map.overhead_bytes()
    }
    pub fn encoding(&self) -> &'static str {
        if self.big { "hashtable" } else { "intset" }
    }
    /// Bytes [`try_reserve`](Self::try_reserve) would add; see [`ByteMap::growth_bytes`].
    pub fn growth_bytes(&self, additional: usize) -> usize {
        self.map.growth_bytes(additional)
    }
    /// Makes room for `additional` more members; see [`ByteMap::try_reserve`].
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        self.map.try_reserve(additional)
    }
    pub fn contains(&self, m: &[u8]) -> bool {
        self.map.contains_key(m)
    }
    /// Adds a member; true when it was new.
    pub fn add(&mut self, m: &[u8]) -> bool {
        if self.map.contains_key(m) {
            return false;
        }
        if !is_int(m) {
            self.non_int += 1;
        }
        if self.non_int > 0 || self.map.len() >= MAX_INTSET_ENTRIES {
            self.big = true;
        }
        self.map.insert_new(m.into(), ());
        true
    }
    pub fn remove(&mut self, m: &[u8]) -> bool {
        if self.map.remove(m).is_some() {
            if !is_int(m) {
                self.non_int -= 1;
            }
            true
        } else {
            false
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.map.keys()
    }

    /// Members in reply order: numerically sorted while the set is an
    /// "intset" (like Redis), insertion-ish order otherwise.
    pub fn members(&self) -> alloc::vec::Vec<&[u8]> {
        let mut v: alloc::vec::Vec<&[u8]> = self.map.keys().collect();
        if !self.big {
            sort_as_intset(&mut v);
        }
        v
    }
    pub fn map(&self) -> &ByteMap<()> {
        &self.map
    }
}

/// Sorts members numerically when all of them are integers and there are
/// at most `MAX_INTSET_ENTRIES` (the order Redis's intset encoding gives).
pub fn sort_as_intset(members: &mut [&[u8]]) {
    if members.len() > MAX_INTSET_ENTRIES {
        return;
    }
    let mut keyed: alloc::vec::Vec<(i64, &[u8])> = alloc::vec::Vec::with_capacity(members.len());
    for m in members.iter() {
        match crate::util::parse_i64(m) {
            Some(n) if m.len() <= 20 => keyed.push((n, m)),
            _ => return,
        }
    }
    keyed.sort_unstable_by_key(|(n, _)| *n);
    for (slot, (_, m)) in members.iter_mut().zip(keyed) {
        *slot = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_order() {
        let mut s = Set::new(1);
        for m in [&b"3"[..], b"1", b"-2", b"10"] {
            s.add(m);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.members(), alloc::vec![&b"-2"[..], b"1", b"3", b"10"]);
        s.add(b"x");
        assert_eq!(s.encoding(), "hashtable");
    }
}
