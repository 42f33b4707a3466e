//! What the block drivers ([`crate::blk`], [`crate::nvme`]) hand back: both
//! take requests in 512-byte sectors and report each when it finishes.

use alloc::vec::Vec;

/// Bytes per sector, the unit of every request.
pub const SECTOR: usize = 512;

/// What a request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
    Flush,
    /// virtio-blk's identity request (NVMe has IDENTIFY at bring-up).
    GetId,
}

/// A finished request.
pub struct Completion {
    pub token: u16,
    pub op: Op,
    /// The device reported success.
    pub ok: bool,
    /// Sectors read (for [`Op::Read`], [`Op::GetId`]), or the written
    /// buffer handed back (for reuse).
    pub data: Vec<u8>,
}
