//! The runtime: worker threads that run tasks, a blocking pool, and the handle to reach them.
//!
//! `Runtime` owns the threads; dropping it (or [`Runtime::shutdown_timeout`]) stops the workers,
//! drops every unfinished task's future, and joins the threads. [`Handle`] is the shared, cloneable
//! side used to spawn from anywhere.

mod blocking;
mod builder;
pub(crate) mod context;
mod handle;
mod metrics;
mod park;
mod shared;

use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use magpie_scheduler::Pool;

pub use builder::Builder;
pub use handle::{Handle, TryCurrentError};
pub use metrics::RuntimeMetrics;
pub(crate) use shared::Shared;

use crate::task::raw::{self, Notified};
use crate::task::JoinHandle;

/// A multi-threaded, work-stealing runtime, like an asyncio event loop spread over every core.
///
/// ```
/// let rt = magpie::runtime::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let handle = magpie::spawn(async { 40 + 2 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    handle: Handle,
    pool: Option<Pool<Notified>>,
}

impl Runtime {
    /// A runtime with default settings (one worker per core); see [`Builder`] for others.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `future` to completion on the calling thread, while the workers run the tasks it
    /// spawns; like asyncio's `loop.run_until_complete`.
    ///
    /// # Panics
    /// When called from inside a runtime (a worker thread, or another `block_on`): `.await` the
    /// future there instead, or use [`spawn_blocking`](crate::task::spawn_blocking). Panics of
    /// `future` itself propagate to the caller.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _entered = context::enter_block_on();
        let _current = context::set_current(&self.handle);
        park::run(future)
    }

    /// Spawns `future` onto the runtime from outside it.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts down, waiting at most `timeout` for workers busy in a poll and for running blocking
    /// jobs; those still running after it are left to finish on their own (detached). Every task
    /// that has not finished has its future dropped.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        let Some(mut pool) = self.pool.take() else {
            return;
        };
        // One deadline for both waits, so `shutdown_timeout(t)` takes about `t` at most.
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let remaining =
            || deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        // 1. Stop the workers; queued runs are dropped. A dropped run of a task that was never
        //    polled, which is on no list, puts it on the list for step 3 (`Notified::drop`).
        pool.shutdown(remaining());
        // 2. Stop the blocking pool; jobs that never started are dropped the same way.
        self.handle.shared.blocking.shutdown(remaining());
        // 3. Close the task list and drop every unfinished future: the idle tasks, which only their
        //    wakers could reach. No lock is held while futures drop, so a `Drop` that wakes or
        //    spawns cannot deadlock (tokio #2046). A poll still running on a detached worker that
        //    returns `Pending` later finds the list closed and drops its future itself.
        for ptr in self.handle.shared.owned.close_and_drain() {
            // SAFETY: the drain handed us the list's reference to each task.
            unsafe { raw::shut_down(ptr) };
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

/// Runs `future` to completion on a fresh default runtime, then shuts it down: asyncio's `run`.
///
/// ```
/// let n = magpie::block_on(async { magpie::spawn(async { 21 * 2 }).await.unwrap() });
/// assert_eq!(n, 42);
/// ```
///
/// # Panics
/// Inside a runtime, like [`Runtime::block_on`]; if the runtime cannot start its threads.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    if context::is_entered() {
        // Refuse before starting any thread; the message names the fix.
        drop(context::enter_block_on());
    }
    let runtime = Runtime::new().expect("magpie::block_on: could not start the runtime's threads");
    runtime.block_on(future)
}
