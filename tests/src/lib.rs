//! QEMU-booted integration tests (placeholder).
