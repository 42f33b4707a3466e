//! Integration tests that drive `Server` through RESP bytes, one module
//! per command family.
#![allow(clippy::field_reassign_with_default)]

mod harness;

mod bitfield;
mod bitmaps;
mod blocking;
mod blocking_mpop;
mod client_limits;
mod connection;
mod dump;
mod expire_evict;
mod fuzz_found;
mod fuzz_inputs;
mod fuzz_seeds;
mod geo;
mod hashes;
mod hyperloglog;
mod introspection;
mod keys;
mod keyspace_growth;
mod lists;
mod long_double;
mod migrate;
mod multi;
mod notify;
mod parser_props;
mod persist_disk;
mod persistence;
mod pubsub;
mod pubsub_shard;
mod rdb_file;
mod rdb_legacy;
mod rdb_load;
mod rdb_props;
mod rdb_snapshot;
mod rdb_util;
mod sets;
mod slowlog_latency;
mod sort;
mod stream_props;
mod streams;
mod strings;
mod tracking;
mod value_growth;
mod zsets;
