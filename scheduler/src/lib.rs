//! magpie's worker pool: one thread per core, each with a local FIFO queue, a shared injector for work
//! from outside, work stealing between idle workers and a parking protocol that loses no wakeup.
//!
//! The pool is generic over what it runs ([`Runnable`]); it knows nothing about futures. The executor
//! (crate `magpie`) implements `Runnable` for its task handle and calls [`Shared::schedule`] and
//! friends from its wakers.
//!
//! Layout (one concept per file):
//! - `pool.rs`: [`Pool`], starting, stopping and joining the worker threads.
//! - `shared.rs`: [`Shared`], the scheduling entry points and the shutdown race.
//! - `worker.rs`: a worker's context, where it looks for work, the current-worker thread-local.
//! - `idle.rs`: the parking protocol (searching/sleeping counters) and why no wakeup is lost.
//! - `batch.rs`: [`begin_remote_batch`] / [`end_remote_batch`], deferred wake-ups for batch producers.
//! - `metrics.rs`: per-worker counters and [`SchedulerMetrics`].
//! - `config.rs`: [`Config`].
//! - `sync/`: the primitives, swapped for loom-visible ones under `cfg(loom)`.
//!
//! See `README.md` beside `Cargo.toml` for the parking protocol and the counters in prose.
//!
//! # Example
//! ```
//! use magpie_scheduler::{Config, Pool, Runnable};
//! use std::sync::mpsc;
//!
//! struct Job(Box<dyn FnOnce() + Send>);
//! impl Runnable for Job {
//!     fn run(self) {
//!         (self.0)()
//!     }
//! }
//!
//! let mut pool: Pool<Job> = Pool::start(Config { worker_threads: 2, ..Config::default() })?;
//! let (sender, receiver) = mpsc::channel();
//! for i in 0..10 {
//!     let sender = sender.clone();
//!     pool.shared().schedule(Job(Box::new(move || sender.send(i).unwrap())));
//! }
//! let mut seen: Vec<i32> = receiver.iter().take(10).collect();
//! seen.sort();
//! assert_eq!(seen, (0..10).collect::<Vec<_>>());
//! pool.shutdown(None);
//! assert!(pool.shared().is_shutdown());
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]

mod batch;
mod config;
mod idle;
mod metrics;
mod pool;
mod shared;
mod sync;
mod worker;

pub use batch::{begin_remote_batch, end_remote_batch};
pub use config::Config;
pub use metrics::{SchedulerMetrics, WorkerMetrics};
pub use pool::Pool;
pub use shared::Shared;
pub use worker::{INJECTOR_INTERVAL, MAX_INJECTOR_BATCH, MAX_NEXT_RUNS};

/// What the pool runs. The executor implements it for its task handle (a pointer-sized, `Send` type).
pub trait Runnable: Send + 'static {
    /// Runs the work item once. It may re-schedule itself (through `Shared::schedule*`) while running.
    fn run(self);
}
