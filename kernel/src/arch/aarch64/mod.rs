//! aarch64 (being written).
