//! Tasks: spawning, joining, cancelling, yielding, and blocking work.
//!
//! A task is one heap allocation (`raw`) whose lifecycle and reference count share one atomic
//! word (`state`); wakers are reference counts on that word (`waker`). The runtime keeps every
//! unfinished task in a sharded list (`list`) so that shutdown can drop them all.

mod builder;
mod error;
mod id;
mod join;
mod join_set;
mod join_waker;
pub(crate) mod list;
#[cfg(all(test, loom))]
mod loom_models;
pub(crate) mod raw;
pub(crate) mod state;
mod waker;
mod yield_now;

use std::future::Future;
use std::panic::Location;

pub use builder::Builder;
pub use error::JoinError;
pub use id::Id;
pub use join::JoinHandle;
pub use join_set::JoinSet;
pub use yield_now::yield_now;

use crate::runtime::Handle;

/// Spawns a task on the current runtime, like asyncio's `create_task`; it starts running at once,
/// on any worker, whether or not the handle is awaited.
///
/// ```
/// # magpie::block_on(async {
/// let handle = magpie::spawn(async { "hello" });
/// assert_eq!(handle.await.unwrap(), "hello");
/// # });
/// ```
///
/// # Panics
/// Outside a magpie runtime (no `block_on`, worker or blocking thread of one is running this code);
/// use [`Runtime::spawn`](crate::runtime::Runtime::spawn) or [`Handle::spawn`] there.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // The closure would hide the caller from `#[track_caller]`: capture the location here.
    let location = Location::caller();
    Handle::with_current(|handle| handle.shared.spawn(future, None, location))
}

/// Runs a blocking closure (file I/O, CPU-heavy work) on the runtime's pool of blocking threads, so
/// that it never stalls the workers that run async tasks. The pool grows on demand up to
/// [`Builder::max_blocking_threads`](crate::runtime::Builder::max_blocking_threads) threads; idle
/// ones exit after a keep-alive.
///
/// ```
/// # magpie::block_on(async {
/// let sum = magpie::task::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
/// assert_eq!(sum, 5050);
/// # });
/// ```
///
/// # Panics
/// Outside a magpie runtime, like [`spawn`].
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let location = Location::caller();
    Handle::with_current(|handle| handle.shared.spawn_blocking(f, handle, location))
}
