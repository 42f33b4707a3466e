//! Errors, with messages a user can act on.

use core::fmt;

use crate::superblock::{FORMAT_VERSION, MIN_DISK_BYTES, SUPERBLOCK_SECTORS};

/// What a block device reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoError {
    /// The device failed the request.
    Device,
    /// The request reaches past the end of the device.
    OutOfRange,
    /// The device is full (e.g. thin-provisioned storage on the host ran out).
    NoSpace,
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoError::Device => "the data disk reported an I/O error",
            IoError::OutOfRange => "a request reached past the end of the data disk",
            IoError::NoSpace => {
                "the data disk is out of space (the host's storage behind it is full): free space there"
            }
        })
    }
}

/// Errors of a [`Store`](crate::Store) that is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    Io(IoError),
    /// `format`: the disk is smaller than 4 MiB.
    TooSmall {
        sectors: u64,
    },
    /// The log chain (from the active snapshot on) would not fit the log region.
    LogFull,
    /// The snapshot being written does not fit a snapshot slot.
    SnapshotFull,
    NoSnapshotInProgress,
    SnapshotInProgress,
    /// The active snapshot's bytes do not match the checksum its superblock records.
    SnapshotCorrupt {
        slot: u8,
        len: u64,
        expected: u32,
        found: u32,
    },
    /// A buffer could not be allocated.
    OutOfMemory,
    /// Something on the disk contradicts the layout.
    Corrupt(&'static str),
}

impl From<IoError> for StoreError {
    fn from(e: IoError) -> Self {
        StoreError::Io(e)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(e) => write!(f, "{e}"),
            StoreError::TooSmall { sectors } => write!(
                f,
                "the data disk is too small ({} KiB): it needs at least {} MiB",
                sectors / 2,
                MIN_DISK_BYTES >> 20
            ),
            StoreError::LogFull => f.write_str(
                "the data disk's log is full: rewrite the snapshot (BGREWRITEAOF or BGSAVE) to free it, \
                 or use a larger disk",
            ),
            StoreError::SnapshotFull => {
                f.write_str("the snapshot does not fit a snapshot slot of the data disk: use a larger disk")
            }
            StoreError::NoSnapshotInProgress => f.write_str("no snapshot is being written"),
            StoreError::SnapshotInProgress => f.write_str("a snapshot is already being written"),
            StoreError::SnapshotCorrupt { slot, len, expected, found } => write!(
                f,
                "the active snapshot (slot {slot}, {len} bytes) is damaged: its checksum is {found:#010x}, \
                 the superblock records {expected:#010x}; restore the data disk from a backup"
            ),
            StoreError::OutOfMemory => f.write_str("out of memory for a data disk buffer"),
            StoreError::Corrupt(what) => write!(f, "the data disk is damaged: {what}"),
        }
    }
}

/// Why `open` refused a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenErrorKind {
    Io(IoError),
    TooSmall {
        sectors: u64,
    },
    /// The first 1 MiB (or the whole disk) is all zeros: a blank disk to format.
    Blank,
    /// No superblock of ours; a partition table ("MBR", "GPT").
    PartitionTable(&'static str),
    /// No superblock of ours; a filesystem or other known signature, named
    /// with its article ("an XFS filesystem", "Linux swap space").
    Filesystem(&'static str),
    /// No superblock of ours and nothing recognisable.
    UnknownData,
    /// Our magic, another format version.
    UnsupportedVersion(u32),
    /// Our magic in the superblock sectors, but no copy passes its checksum.
    BothSuperblocksCorrupt,
    /// The newest superblock passes its checksum but its contents are impossible.
    BadSuperblock(&'static str),
    /// The disk is smaller than it was when formatted.
    Shrunk {
        formatted: u64,
        now: u64,
    },
    /// A buffer for reading the log could not be allocated.
    OutOfMemory,
}

impl fmt::Display for OpenErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = SUPERBLOCK_SECTORS;
        match self {
            OpenErrorKind::Io(e) => write!(f, "could not read the data disk: {e}"),
            OpenErrorKind::TooSmall { sectors } => write!(
                f,
                "the disk is too small to be a data disk ({} KiB; at least {} MiB)",
                sectors / 2,
                MIN_DISK_BYTES >> 20
            ),
            OpenErrorKind::Blank => {
                f.write_str("the disk is blank (its first 1 MiB is all zeros): it has not been formatted yet")
            }
            OpenErrorKind::PartitionTable(kind) => {
                let article = if kind.starts_with(['A', 'E', 'F', 'H', 'I', 'L', 'M', 'N', 'O', 'R', 'S', 'X']) {
                    "an"
                } else {
                    "a"
                };
                write!(
                    f,
                    "the disk holds {article} {kind} partition table, not a data disk: refusing to touch it \
                     (format it explicitly to reuse it)"
                )
            }
            OpenErrorKind::Filesystem(what) => write!(
                f,
                "the disk holds {what}, not a data disk: refusing to touch it (format it explicitly to reuse it)"
            ),
            OpenErrorKind::UnknownData => write!(
                f,
                "the disk holds data but no data-disk superblock (sectors {a} and {b}): refusing to touch it \
                 (format it explicitly to reuse it)"
            ),
            OpenErrorKind::UnsupportedVersion(v) => write!(
                f,
                "the disk is a data disk of format version {v}, but this build reads version {FORMAT_VERSION}: \
                 use a matching build"
            ),
            OpenErrorKind::BothSuperblocksCorrupt => write!(
                f,
                "both superblocks of the data disk (sectors {a} and {b}) fail their checksum: \
                 the disk is damaged; restore it from a backup"
            ),
            OpenErrorKind::BadSuperblock(what) => {
                write!(f, "the data disk's superblock is inconsistent ({what}): the disk is damaged")
            }
            OpenErrorKind::Shrunk { formatted, now } => write!(
                f,
                "the data disk has {now} sectors but was formatted with {formatted}: it shrank; \
                 give it back its size"
            ),
            OpenErrorKind::OutOfMemory => f.write_str("out of memory while reading the data disk's log"),
        }
    }
}

/// `open` refused the disk; the device comes back.
pub struct OpenError<D> {
    pub kind: OpenErrorKind,
    pub device: D,
}

impl<D> fmt::Debug for OpenError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenError").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl<D> fmt::Display for OpenError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// `replay` stopped on an error of the disk or of the caller's function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError<E> {
    Store(StoreError),
    App(E),
}

impl<E> From<StoreError> for ReplayError<E> {
    fn from(e: StoreError) -> Self {
        ReplayError::Store(e)
    }
}

impl<E: fmt::Display> fmt::Display for ReplayError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Store(e) => write!(f, "reading the log: {e}"),
            ReplayError::App(e) => write!(f, "replaying the log: {e}"),
        }
    }
}
