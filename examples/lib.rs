//! Shared helpers for the magpie examples.
//!
//! [`fanout`] holds the logic of `examples/fanout.rs` (the million-fetch demo): the job itself, its
//! latency models, statistics, report and command line. Keeping it in the library lets
//! `tests/fanout_smoke.rs` call it directly and lets `magpie-benches` reuse the runtime-independent
//! parts for the tokio and smol runs.
#![deny(missing_docs)]

#[path = "fanout/mod.rs"]
pub mod fanout;
