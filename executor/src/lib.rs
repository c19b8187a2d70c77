//! # magpie
//!
//! An async runtime for asyncio-style Rust: `async fn`, `.await`, `sleep`, gather, timeouts and
//! cancellation, with a million concurrent tasks spread over every core.
//!
//! ## A first program
//!
//! ```
//! use std::time::Duration;
//!
//! async fn fetch_data(url: &str) -> String {
//!     magpie::time::sleep(Duration::from_millis(10)).await; // the "network"
//!     format!("data from {url}")
//! }
//!
//! #[magpie::main]
//! async fn main() {
//!     let data = fetch_data("https://example.com").await;
//!     assert_eq!(data, "data from https://example.com");
//! }
//! # fn _main_is_a_function() { main() }
//! ```
//!
//! ## Spawning (asyncio's `create_task` and `gather`)
//!
//! [`spawn`] starts a task on the runtime's workers and returns a [`JoinHandle`](task::JoinHandle)
//! to await its output; a panicking task comes back as a [`JoinError`](task::JoinError), and
//! [`abort`](task::JoinHandle::abort) cancels one. [`task::JoinSet`] awaits many as they finish,
//! and [`task::spawn_blocking`] runs blocking code on a pool of its own.
//!
//! ```
//! # magpie::block_on(async {
//! let handles: Vec<_> = (0..100).map(|i| magpie::spawn(async move { i * i })).collect();
//! let mut total = 0;
//! for handle in handles {
//!     total += handle.await.unwrap();
//! }
//! assert_eq!(total, 328_350);
//! # });
//! ```
//!
//! ## Time
//!
//! [`time::sleep`], [`time::timeout`] and [`time::interval`] are served by one shared timer thread
//! and work on any executor, or none.
//!
//! ```
//! use std::time::Duration;
//! use magpie::time::{sleep, timeout};
//!
//! # magpie::block_on(async {
//! // asyncio.wait_for(slow(), 0.01) -> TimeoutError
//! let slow = sleep(Duration::from_secs(60));
//! assert!(timeout(Duration::from_millis(10), slow).await.is_err());
//! let fast = async { 7 };
//! assert_eq!(timeout(Duration::from_secs(1), fast).await, Ok(7));
//! # });
//! ```
//!
//! Coming from Python? `docs/asyncio.md` in the repository puts every asyncio idiom beside its
//! magpie form.
//!
//! ## The macros
//!
//! `#[magpie::main]` runs an `async fn main` on a default runtime (`#[magpie::main(worker_threads =
//! 4)]` to choose the worker count); `#[magpie::test]` does the same for tests:
//!
//! ```
//! #[magpie::test(worker_threads = 2)]
//! async fn spawned_tasks_finish() {
//!     assert_eq!(magpie::spawn(async { 2 + 2 }).await.unwrap(), 4);
//! }
//! ```
//!
//! ## The design in five sentences
//!
//! Each task is one heap allocation whose state and reference count share one atomic word; wakers
//! are reference counts on it. One worker thread per core runs tasks from its own
//! `crossbeam_deque` queue, with a "next task" slot for message passing, and steals in batches
//! from a shared injector and from its siblings when it runs dry. Idle workers park, and a new task
//! wakes one only when no other worker is already searching. Sleeping tasks live in a hierarchical
//! timing wheel on one shared timer thread, which queues a whole batch of expired sleepers before
//! waking any worker. See `docs/design.md` in the repository for the states and queues a task
//! passes through and the parking protocol.
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

pub mod runtime;
mod sync;
pub mod task;

/// Timers: `sleep`, `timeout`, `interval`, usable from any executor (re-export of `magpie-timer`).
pub mod time {
    pub use magpie_timer::*;
}

pub use magpie_macros::{main, test};
pub use runtime::block_on;
pub use task::spawn;

/// The README's code, compiled and run by `cargo test` (exists only for doctests).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The asyncio guide's code, compiled and run by `cargo test` (exists only for doctests).
#[cfg(doctest)]
#[doc = include_str!("../../docs/asyncio.md")]
pub struct AsyncioGuideDoctests;
