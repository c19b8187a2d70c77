//! `Handle`: a cloneable reference to a runtime, usable from any thread.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use super::context;
use super::metrics::RuntimeMetrics;
use super::shared::Shared;
use crate::task::raw::TaskMeta;
use crate::task::JoinHandle;

/// A handle to a runtime: spawn onto it from any thread, read its metrics. Cheap to clone.
///
/// ```
/// let rt = magpie::runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let from_thread = std::thread::spawn(move || handle.spawn(async { 1 + 1 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(from_thread).unwrap(), 2);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

/// The error of [`Handle::try_current`] outside a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "there is no magpie runtime on this thread: run the code inside Runtime::block_on or \
             #[magpie::main], or spawn through a Handle or Runtime",
        )
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime running the current code.
    ///
    /// # Panics
    /// Outside a runtime (see [`try_current`](Handle::try_current) for the non-panicking form).
    #[track_caller]
    pub fn current() -> Handle {
        Handle::with_current(Handle::clone)
    }

    /// The handle of the runtime running the current code, or an error outside one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|handle| handle.cloned().ok_or(TryCurrentError(())))
    }

    #[track_caller]
    pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> R {
        context::with_current(|handle| match handle {
            Some(handle) => f(handle),
            None => panic!(
                "magpie: no runtime is running on this thread. Call this from inside \
                 Runtime::block_on, magpie::block_on or #[magpie::main] (or a task they spawned), \
                 or spawn from outside with Runtime::spawn / Handle::spawn"
            ),
        })
    }

    /// Spawns `future` on this runtime; callable from any thread, inside or outside the runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None, Location::caller())
    }

    #[track_caller]
    pub(crate) fn spawn_with_meta<F>(
        &self,
        future: F,
        meta: Option<TaskMeta>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, meta, Location::caller())
    }

    /// Runs `f` on this runtime's blocking pool; see [`crate::task::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.spawn_blocking(f, self, Location::caller())
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.shared.metrics()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.scheduler.worker_count())
            .finish_non_exhaustive()
    }
}
