//! The three Rust runtimes under comparison, each behind [`crate::spawner::BenchRuntime`].
//!
//! All are built with the same number of worker threads (default: one per core): magpie with its
//! builder, tokio's multi-thread runtime, and smol as an `async-executor` run by one thread per worker
//! with `async-io` timers (how `smol` itself is meant to be scaled).

pub mod magpie;
pub mod smol;
pub mod tokio;

/// Names of the Rust runtimes, in the order the comparison lists them.
pub const RUST_RUNTIMES: [&str; 3] = ["magpie", "tokio", "smol"];
